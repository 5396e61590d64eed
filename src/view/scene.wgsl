// The scene's one shader: the surface, the balls, the contour and wireframe lines and the
// basin map. Lambert lighting from the scene's directional lights and ambient light (the same
// energy units as Bevy's PBR shader: light color x illuminance x exposure, diffuse albedo / pi),
// a Blinn-Phong highlight where a material has one, then the camera's tone mapping. Everything it does not need is left
// out at compile time: software rasterizers run every branch of a shader, so the full PBR
// shader costs its whole length on every pixel, lit or not (see docs/architecture.md).

#import bevy_pbr::forward_io::VertexOutput
#import bevy_pbr::mesh_view_bindings::{view, lights}
#ifdef TONEMAP_IN_SHADER
#import bevy_core_pipeline::tonemapping::tone_mapping
#endif

struct SceneMaterial {
    // Linear RGBA; multiplies the vertex colors and the texture.
    color: vec4<f32>,
    // Linear RGB added after lighting, not scaled by the exposure (as Bevy's emissive with
    // its default exposure weight of 0); a unused.
    emissive: vec4<f32>,
    // x: highlight strength, y: highlight exponent, z, w: unused.
    highlight: vec4<f32>,
};

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> material: SceneMaterial;
#ifdef TEXTURED
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var base_texture: texture_2d<f32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var base_sampler: sampler;
#endif

const INV_PI: f32 = 0.31830988618;

@fragment
fn fragment(in: VertexOutput, @builtin(front_facing) is_front: bool) -> @location(0) vec4<f32> {
    var base = material.color;
#ifdef VERTEX_COLORS
    base = base * in.color;
#endif
#ifdef TEXTURED
    base = base * textureSample(base_texture, base_sampler, in.uv);
#endif
    var rgb = base.rgb;
#ifdef LIT
    var n = normalize(in.world_normal);
    if !is_front {
        n = -n;
    }
#ifdef HIGHLIGHT
    let to_eye = normalize(view.world_position.xyz - in.world_position.xyz);
#endif
    var diffuse = lights.ambient_color.rgb;
    var shine = vec3<f32>(0.0);
    for (var i = 0u; i < lights.n_directional_lights; i = i + 1u) {
        let l = lights.directional_lights[i].direction_to_light;
        let c = lights.directional_lights[i].color.rgb;
        let n_dot_l = max(dot(n, l), 0.0);
        diffuse = diffuse + c * (n_dot_l * INV_PI);
#ifdef HIGHLIGHT
        let h = normalize(l + to_eye);
        shine = shine + c * (n_dot_l * pow(max(dot(n, h), 0.0), material.highlight.y));
#endif
    }
    rgb = (base.rgb * diffuse + shine * (material.highlight.x * INV_PI)) * view.exposure;
#endif
    rgb = rgb + material.emissive.rgb;
    var out = vec4<f32>(rgb, base.a);
#ifdef TONEMAP_IN_SHADER
    out = tone_mapping(out, view.color_grading);
#endif
    return out;
}
