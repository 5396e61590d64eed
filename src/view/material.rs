//! The scene's material: one small shader (`scene.wgsl`) for the surface, the balls, the line
//! meshes and the basin map, instead of Bevy's full PBR shader.
//!
//! Why: a software rasterizer (llvmpipe, lavapipe, SwiftShader: what `record` and CI render
//! with when there is no GPU) runs every branch of a shader on every pixel, masked, so the PBR
//! shader costs all of its features (clustered lights, shadow-map filtering, environment maps)
//! even for an unlit material with shadows off; and the surface's small triangles shade each
//! pixel several times over. Lambert lighting from the same lights, in the same energy units,
//! then the camera's tone mapping, looks the same for a matte surface and costs a fraction.

use bevy::asset::embedded_asset;
use bevy::mesh::MeshVertexBufferLayoutRef;
use bevy::pbr::{MaterialPipeline, MaterialPipelineKey};
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, RenderPipelineDescriptor, ShaderType, SpecializedMeshPipelineError,
};
use bevy::shader::ShaderRef;

/// Registers the shader and the material.
pub struct SceneMaterialPlugin;

impl Plugin for SceneMaterialPlugin {
    fn build(&self, app: &mut App) {
        embedded_asset!(app, "scene.wgsl");
        app.add_plugins(MaterialPlugin::<SceneMaterial>::default());
    }
}

/// The uniform block of `scene.wgsl`.
#[derive(Clone, Copy, Debug, Default, PartialEq, ShaderType, Reflect)]
pub struct SceneUniform {
    /// Linear RGBA; multiplies vertex colors and the texture.
    pub color: Vec4,
    /// Linear RGB added after lighting.
    pub emissive: Vec4,
    /// x: highlight strength (Bevy's `reflectance`-like scale), y: exponent.
    pub highlight: Vec4,
}

/// A material drawn with `scene.wgsl`.
#[derive(Asset, AsBindGroup, Reflect, Debug, Clone)]
#[bind_group_data(SceneKey)]
pub struct SceneMaterial {
    #[uniform(0)]
    pub uniform: SceneUniform,
    #[texture(1)]
    #[sampler(2)]
    pub texture: Option<Handle<Image>>,
    /// Lit by the scene's lights; otherwise the color as it is.
    pub lit: bool,
    /// Both faces drawn (and lit from the side facing the camera).
    pub double_sided: bool,
    pub alpha_mode: AlphaMode,
    pub depth_bias: f32,
}

/// What selects a pipeline: the shader's switches (only what a material uses is compiled in,
/// e.g. no highlight on the surface) and the culling.
#[repr(C)]
#[derive(Eq, PartialEq, Hash, Copy, Clone)]
pub struct SceneKey {
    lit: bool,
    highlight: bool,
    textured: bool,
    double_sided: bool,
}

impl From<&SceneMaterial> for SceneKey {
    fn from(m: &SceneMaterial) -> Self {
        Self {
            lit: m.lit,
            highlight: m.uniform.highlight.x > 0.0,
            textured: m.texture.is_some(),
            double_sided: m.double_sided,
        }
    }
}

impl SceneMaterial {
    /// A lit, opaque material colored by the mesh's vertex colors times `color`.
    pub fn lit(color: Color) -> Self {
        Self {
            uniform: SceneUniform {
                color: color.to_linear().to_vec4(),
                emissive: Vec4::ZERO,
                highlight: Vec4::new(0.0, 1.0, 0.0, 0.0),
            },
            texture: None,
            lit: true,
            double_sided: false,
            alpha_mode: AlphaMode::Opaque,
            depth_bias: 0.0,
        }
    }

    /// An unlit material in one color, blended when its alpha is below 1.
    pub fn flat(color: Color) -> Self {
        let alpha = color.alpha();
        Self {
            lit: false,
            alpha_mode: if alpha < 1.0 {
                AlphaMode::Blend
            } else {
                AlphaMode::Opaque
            },
            ..Self::lit(color)
        }
    }

    /// Adds a highlight: `strength` (0..1) and the Blinn-Phong exponent.
    pub fn with_highlight(mut self, strength: f32, exponent: f32) -> Self {
        self.uniform.highlight = Vec4::new(strength, exponent.max(1.0), 0.0, 0.0);
        self
    }

    /// Adds a glow in linear color.
    pub fn with_emissive(mut self, emissive: LinearRgba) -> Self {
        self.uniform.emissive = emissive.to_vec4();
        self
    }

    pub fn with_double_sided(mut self) -> Self {
        self.double_sided = true;
        self
    }
}

impl Material for SceneMaterial {
    fn fragment_shader() -> ShaderRef {
        "embedded://optiscape/view/scene.wgsl".into()
    }

    fn alpha_mode(&self) -> AlphaMode {
        self.alpha_mode
    }

    fn depth_bias(&self) -> f32 {
        self.depth_bias
    }

    fn specialize(
        _pipeline: &MaterialPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        _layout: &MeshVertexBufferLayoutRef,
        key: MaterialPipelineKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        if let Some(fragment) = descriptor.fragment.as_mut() {
            if key.bind_group_data.lit {
                fragment.shader_defs.push("LIT".into());
            }
            if key.bind_group_data.highlight {
                fragment.shader_defs.push("HIGHLIGHT".into());
            }
            if key.bind_group_data.textured {
                fragment.shader_defs.push("TEXTURED".into());
            }
        }
        if key.bind_group_data.double_sided {
            descriptor.primitive.cull_mode = None;
        }
        Ok(())
    }
}
