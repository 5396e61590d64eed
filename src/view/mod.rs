//! Everything drawn in 3D: the surface mesh (rebuilt when the surface or a display setting
//! changes), ball spheres, trails, arrows, minimum markers, axes, lights and the orbit camera.

pub mod backdrop;
pub mod colormap;
pub mod material;
pub mod render_plugins;
pub mod render_scale;
pub mod still_cache;
pub mod surface_mesh;

use crate::sim::{
    Ball, BallOptimizer, BallRun, NetBall, SimCommand, SimSurface, SimSystems, Trail,
};
use bevy::prelude::*;
use bevy_panorbit_camera::PanOrbitCamera;
use colormap::Colormap;
use material::{SceneMaterial, SceneMaterialPlugin};
use optiscape_core::lab::RunStatus;
use optiscape_core::scenario::{CameraSpec, DisplaySpec};
use std::collections::HashMap;
use surface_mesh::{MeshOptions, WorldMap};

/// Display settings (what the "Display" section of the panel edits).
#[derive(Resource, Reflect, Clone, Debug, PartialEq)]
#[reflect(Resource)]
pub struct DisplaySettings {
    pub colormap: Colormap,
    /// Grid samples per side, 32..=1024.
    pub resolution: u32,
    /// Vertical exaggeration, 0.1..=5.
    pub exaggeration: f32,
    pub contours: bool,
    pub contour_levels: u32,
    pub wireframe: bool,
    pub trails: bool,
    pub gradient_arrows: bool,
    pub update_arrows: bool,
    pub labels: bool,
    pub axes: bool,
}

impl Default for DisplaySettings {
    /// The scenario format's defaults (one source for both).
    fn default() -> Self {
        Self::from_spec(&DisplaySpec::default())
    }
}

impl DisplaySettings {
    /// From a scenario's display section (an unknown colormap name keeps coolwarm; scenarios
    /// are validated before they get here).
    pub fn from_spec(d: &DisplaySpec) -> Self {
        Self {
            colormap: Colormap::from_name(&d.colormap).unwrap_or_default(),
            resolution: d.resolution.clamp(32, 1024),
            exaggeration: d.exaggeration.clamp(0.1, 5.0),
            contours: d.contours,
            contour_levels: d.contour_levels.clamp(1, 100),
            wireframe: d.wireframe,
            trails: d.trails,
            gradient_arrows: d.gradient_arrows,
            update_arrows: d.update_arrows,
            labels: d.labels,
            axes: d.axes,
        }
    }

    /// For a scenario file.
    pub fn to_spec(&self) -> DisplaySpec {
        DisplaySpec {
            colormap: self.colormap.name().to_string(),
            resolution: self.resolution,
            exaggeration: self.exaggeration,
            contours: self.contours,
            contour_levels: self.contour_levels,
            wireframe: self.wireframe,
            trails: self.trails,
            gradient_arrows: self.gradient_arrows,
            update_arrows: self.update_arrows,
            labels: self.labels,
            axes: self.axes,
        }
    }

    fn mesh_options(&self) -> MeshOptions {
        MeshOptions {
            resolution: self.resolution,
            exaggeration: self.exaggeration,
            colormap: self.colormap,
            contours: self.contours,
            contour_levels: self.contour_levels,
            wireframe: self.wireframe,
        }
    }
}

/// The surface entity (the target of picking).
#[derive(Component, Reflect, Default)]
#[reflect(Component)]
pub struct SurfaceMesh;

#[derive(Component, Reflect, Default)]
#[reflect(Component)]
struct ContourLines;

#[derive(Component, Reflect, Default)]
#[reflect(Component)]
struct Wireframe;

/// A basin map draped over the surface (computed by the lab section of the UI).
#[derive(Resource, Reflect, Clone, Debug)]
#[reflect(Resource)]
pub struct BasinOverlay {
    pub image: Option<Handle<Image>>,
    pub visible: bool,
    /// Opacity of the map over the surface's colormap.
    pub alpha: f32,
}

impl Default for BasinOverlay {
    fn default() -> Self {
        Self {
            image: None,
            visible: true,
            alpha: 0.75,
        }
    }
}

/// The surface's geometry without vertex colors (which would tint the basin map).
#[derive(Resource, Default)]
struct OverlayMeshHandle(Handle<Mesh>);

/// The entity that shows the basin map over the surface.
#[derive(Component, Reflect, Default)]
#[reflect(Component)]
struct OverlayMesh;

/// The ball currently shown in the inspector.
#[derive(Resource, Reflect, Default, Clone, Copy)]
#[reflect(Resource)]
pub struct Selected(pub Option<Entity>);

/// The camera of the 3D view (the window's in the sandbox, the image's in `record`).
#[derive(Component, Reflect, Default)]
#[reflect(Component)]
pub struct MainCamera;

fn visible(on: bool) -> Visibility {
    if on {
        Visibility::Inherited
    } else {
        Visibility::Hidden
    }
}

/// World radius of a ball.
pub const BALL_RADIUS: f32 = 0.11;

#[derive(Resource, Default)]
struct BallAssets {
    /// The sphere of a ball: `fine` (320 triangles) up to [`FINE_BALLS`] balls, `coarse` (80)
    /// beyond.
    fine: Handle<Mesh>,
    coarse: Handle<Mesh>,
    materials: HashMap<[u8; 3], Handle<SceneMaterial>>,
}

/// Up to this many balls, each is a sphere of 320 triangles; beyond, of 80. A ball covers a few
/// dozen pixels at the usual zoom, where both look round; but a software renderer shades small
/// triangles at a cost per triangle, and a thousand fine spheres were a tenth of a frame.
pub const FINE_BALLS: usize = 100;

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum ViewSystems {
    /// Rebuild the surface mesh and give new balls their sphere.
    Build,
    /// Place balls and draw overlays from the simulation's state.
    Sync,
}

pub struct ViewPlugin;

impl Plugin for ViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            SceneMaterialPlugin,
            backdrop::BackdropPlugin,
            render_scale::RenderScalePlugin,
        ))
        .init_resource::<RenderAdapter>()
        .register_type::<RenderAdapter>()
        .init_resource::<DisplaySettings>()
        .init_resource::<WorldMap>()
        .init_resource::<Selected>()
        .init_resource::<BasinOverlay>()
        .init_resource::<OverlayMeshHandle>()
        .init_resource::<BallAssets>()
        .register_type::<MainCamera>()
        .insert_resource(ClearColor(Color::srgb(0.11, 0.12, 0.14)))
        .configure_sets(
            Update,
            (ViewSystems::Build, ViewSystems::Sync)
                .chain()
                .after(SimSystems::Commands),
        )
        .add_systems(Startup, setup_scene)
        .add_systems(
            Update,
            (rebuild_surface, update_overlay, dress_new_balls)
                .chain()
                .in_set(ViewSystems::Build),
        )
        .add_systems(
            Update,
            (place_balls, draw_overlays).in_set(ViewSystems::Sync),
        )
        .add_systems(Update, software_renderer_settings)
        .add_systems(
            Update,
            (reframe_on_new_surface, apply_scenario_view)
                .chain()
                .after(SimSystems::Commands)
                .before(ViewSystems::Build),
        );
    }
}

fn setup_scene(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<SceneMaterial>>,
    mut assets: ResMut<BallAssets>,
    surface: Res<SimSurface>,
) {
    let sphere = |subdivisions: u32| {
        Sphere::new(BALL_RADIUS)
            .mesh()
            .ico(subdivisions)
            .unwrap_or_else(|_| Sphere::new(BALL_RADIUS).mesh().uv(24, 16))
    };
    assets.fine = meshes.add(sphere(2));
    assets.coarse = meshes.add(sphere(1));
    commands.spawn((
        Name::new("Surface"),
        SurfaceMesh,
        Mesh3d::default(),
        // Matte: the colormap lit from the side facing the camera.
        MeshMaterial3d(materials.add(SceneMaterial::lit(Color::WHITE).with_double_sided())),
        Transform::default(),
    ));
    let line = SceneMaterial::flat;
    commands.spawn((
        Name::new("Basin map"),
        OverlayMesh,
        Mesh3d::default(),
        MeshMaterial3d(materials.add(overlay_material(None, 0.75))),
        Transform::from_xyz(0.0, 0.004, 0.0),
        Visibility::Hidden,
    ));
    commands.spawn((
        Name::new("Contours"),
        ContourLines,
        Mesh3d::default(),
        MeshMaterial3d(materials.add(line(Color::srgba(0.05, 0.05, 0.08, 0.55)))),
        Transform::default(),
    ));
    commands.spawn((
        Name::new("Wireframe"),
        Wireframe,
        Mesh3d::default(),
        MeshMaterial3d(materials.add(line(Color::srgba(0.1, 0.1, 0.1, 0.35)))),
        Transform::default(),
        Visibility::Hidden,
    ));
    commands.spawn((
        // It lights both layers: cameras that see only the moving parts light them the same.
        backdrop::Parts::All.layers(),
        DirectionalLight {
            illuminance: 9_000.0,
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(4.0, 10.0, 6.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
    commands.insert_resource(GlobalAmbientLight {
        color: Color::WHITE,
        brightness: 600.0,
        ..default()
    });
    let (focus, radius) = camera_frame(&surface.0);
    commands.spawn((
        Name::new("Camera"),
        MainCamera,
        backdrop::Parts::All.layers(),
        backdrop::copy_usages(),
        Camera3d::default(),
        Transform::from_xyz(0.0, 8.0, 12.0).looking_at(focus, Vec3::Y),
        PanOrbitCamera {
            focus,
            radius: Some(radius),
            yaw: Some(0.35),
            pitch: Some(0.95),
            ..default()
        },
    ));
}

/// The view's part of a loaded scenario: display settings and the camera (framed on the
/// surface when the scenario names none).
fn apply_scenario_view(
    mut messages: MessageReader<SimCommand>,
    mut display: ResMut<DisplaySettings>,
    surface: Res<SimSurface>,
    mut cameras: Query<&mut PanOrbitCamera>,
) {
    for msg in messages.read() {
        let SimCommand::LoadScenario(sc) = msg else {
            continue;
        };
        *display = DisplaySettings::from_spec(&sc.display);
        let (focus, radius, yaw, pitch) = match &sc.camera {
            Some(c) => (
                Vec3::new(c.focus.0, c.focus.1, c.focus.2),
                c.radius,
                c.yaw,
                c.pitch,
            ),
            None => {
                let (f, r) = camera_frame(&surface.0);
                (f, r, 0.35, 0.95)
            }
        };
        for mut cam in &mut cameras {
            // Both the current values (read when the camera initializes, on its first frame)
            // and the targets (followed afterwards).
            cam.focus = focus;
            cam.radius = Some(radius);
            cam.yaw = Some(yaw);
            cam.pitch = Some(pitch);
            cam.target_focus = focus;
            cam.target_radius = radius;
            cam.target_yaw = yaw;
            cam.target_pitch = pitch;
            cam.force_update = true;
        }
    }
}

/// A different surface or domain (the picker, Apply domain) frames the camera on it; a
/// parameter change keeps the camera where the user put it.
fn reframe_on_new_surface(
    surface: Res<SimSurface>,
    mut last: Local<Option<(String, optiscape_core::landscape::Domain)>>,
    mut cameras: Query<&mut PanOrbitCamera>,
) {
    let key = (surface.0.id().to_string(), surface.0.domain);
    let Some(prev) = last.replace(key.clone()) else {
        return;
    };
    if prev == key {
        return;
    }
    let (focus, radius) = camera_frame(&surface.0);
    for mut cam in &mut cameras {
        cam.target_focus = focus;
        cam.target_radius = radius;
    }
}

/// The camera as a scenario stores it.
pub fn camera_spec(cam: &PanOrbitCamera) -> CameraSpec {
    CameraSpec {
        yaw: cam.target_yaw,
        pitch: cam.target_pitch,
        radius: cam.target_radius,
        focus: (cam.target_focus.x, cam.target_focus.y, cam.target_focus.z),
    }
}

/// "Nice" tick values (1, 2 or 5 times a power of ten apart, about five of them) inside
/// `lo..=hi`.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let raw = span / 5.0;
    let pow = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * pow);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// What the graphics adapter is, once the renderer has started.
#[derive(Resource, Reflect, Clone, Debug, Default)]
#[reflect(Resource)]
pub struct RenderAdapter {
    /// It renders in software (llvmpipe, lavapipe, SwiftShader...): `None` until known.
    pub software: Option<bool>,
    /// Its name, for the Display section.
    pub name: String,
}

/// On a software renderer (lavapipe, llvmpipe...) multisampling multiplies the cost of every
/// pixel: turn it off there, once the adapter is known.
fn software_renderer_settings(
    adapter: Option<Res<bevy::render::renderer::RenderAdapterInfo>>,
    mut cameras: Query<&mut Msaa, With<MainCamera>>,
    mut known: ResMut<RenderAdapter>,
) {
    let Some(adapter) = adapter else {
        return;
    };
    if known.software.is_some() {
        return;
    }
    let software = format!("{:?}", adapter.device_type) == "Cpu";
    *known = RenderAdapter {
        software: Some(software),
        name: adapter.name.clone(),
    };
    if software {
        for mut msaa in &mut cameras {
            *msaa = Msaa::Off;
        }
        info!("software renderer ({}): multisampling off", adapter.name);
    }
}

/// The camera's focus and distance framing the surface's view region (the notebook's view
/// for `seed`).
pub fn camera_frame(surface: &optiscape_core::landscape::Surface) -> (Vec3, f32) {
    let d = surface.domain;
    let v = surface.view();
    let scale = surface_mesh::WORLD_SIZE / d.extent();
    let c = v.center();
    let center = d.center();
    let focus = Vec3::new(
        ((c.x - center.x) * scale) as f32,
        0.6,
        (-(c.y - center.y) * scale) as f32,
    );
    // Three view widths away, but no farther than the distance at which the whole (10-unit)
    // surface fills the window.
    let radius = ((v.extent() * scale) as f32 * 3.0).min(18.0);
    (focus, radius)
}

type SurfaceOnly = (With<SurfaceMesh>, Without<ContourLines>, Without<Wireframe>);
type ContoursOnly = (With<ContourLines>, Without<SurfaceMesh>, Without<Wireframe>);
type WireframeOnly = (With<Wireframe>, Without<SurfaceMesh>, Without<ContourLines>);

#[allow(clippy::too_many_arguments)]
fn rebuild_surface(
    surface: Res<SimSurface>,
    display: Res<DisplaySettings>,
    mut map: ResMut<WorldMap>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut surf: Single<(&mut Mesh3d, &mut Visibility), SurfaceOnly>,
    mut contour: Single<(&mut Mesh3d, &mut Visibility), ContoursOnly>,
    mut wire: Single<(&mut Mesh3d, &mut Visibility), WireframeOnly>,
    mut built: Local<Option<(optiscape_core::landscape::Surface, MeshOptions)>>,
    mut overlay_mesh: ResMut<OverlayMeshHandle>,
) {
    let key = (surface.0.clone(), display.mesh_options());
    if built.as_ref() != Some(&key) {
        let built_meshes = surface_mesh::build(&surface.0, &key.1);
        *map = built_meshes.map;
        overlay_mesh.0 = meshes.add(
            built_meshes
                .surface
                .clone()
                .with_removed_attribute(Mesh::ATTRIBUTE_COLOR),
        );
        surf.0.0 = meshes.add(built_meshes.surface);
        if let Some(c) = built_meshes.contours {
            contour.0.0 = meshes.add(c);
        }
        if let Some(w) = built_meshes.wireframe {
            wire.0.0 = meshes.add(w);
        }
        *built = Some(key);
    }
    surf.1.set_if_neq(Visibility::Inherited);
    contour.1.set_if_neq(visible(display.contours));
    wire.1.set_if_neq(visible(display.wireframe));
}

type OverlayParts = (
    &'static mut Mesh3d,
    &'static mut MeshMaterial3d<SceneMaterial>,
    &'static mut Visibility,
);

/// Shows the basin map on a copy of the surface mesh, or hides it.
fn update_overlay(
    overlay: Res<BasinOverlay>,
    overlay_mesh: Res<OverlayMeshHandle>,
    mut layer: Single<OverlayParts, (With<OverlayMesh>, Without<SurfaceMesh>)>,
    mut materials: ResMut<Assets<SceneMaterial>>,
    mut shown: Local<Option<(Handle<Image>, u32)>>,
) {
    let (mesh, material, visibility) = &mut *layer;
    if mesh.0 != overlay_mesh.0 {
        mesh.0 = overlay_mesh.0.clone();
    }
    let show = overlay.visible && overlay.image.is_some();
    visibility.set_if_neq(visible(show));
    let Some(image) = &overlay.image else {
        return;
    };
    let key = (image.clone(), overlay.alpha.to_bits());
    if shown.as_ref() != Some(&key) {
        material.0 = materials.add(overlay_material(Some(image.clone()), overlay.alpha));
        *shown = Some(key);
    }
}

/// The basin map's material: unlit, blended over the surface and pulled in front of it.
fn overlay_material(texture: Option<Handle<Image>>, alpha: f32) -> SceneMaterial {
    SceneMaterial {
        texture,
        alpha_mode: AlphaMode::Blend,
        depth_bias: 50.0,
        ..SceneMaterial::flat(Color::srgba(1.0, 1.0, 1.0, alpha)).with_double_sided()
    }
}

type BallMaterial = MeshMaterial3d<SceneMaterial>;

/// Gives new balls their sphere, and recolors a ball whose method color changed.
fn dress_new_balls(
    mut commands: Commands,
    mut assets: ResMut<BallAssets>,
    mut materials: ResMut<Assets<SceneMaterial>>,
    balls: Query<(Entity, &Ball, Option<&BallMaterial>), Changed<Ball>>,
    mut all: Query<&mut Mesh3d, With<Ball>>,
    mut coarse: Local<bool>,
) {
    // The sphere's detail follows the number of balls (new balls are counted next frame).
    let want_coarse = all.iter().len() > FINE_BALLS;
    let sphere = if want_coarse {
        assets.coarse.clone()
    } else {
        assets.fine.clone()
    };
    if want_coarse != *coarse {
        *coarse = want_coarse;
        for mut m in &mut all {
            m.0 = sphere.clone();
        }
    }
    for (e, ball, current) in &balls {
        let key = ball.color.to_srgba().to_u8_array_no_alpha();
        let mesh = sphere.clone();
        let material = assets
            .materials
            .entry(key)
            .or_insert_with(|| {
                // Glossy and glowing a little, so a ball stands out on any colormap.
                materials.add(
                    SceneMaterial::lit(ball.color)
                        .with_emissive(ball.color.to_linear() * 0.35)
                        .with_highlight(0.5, 24.0),
                )
            })
            .clone();
        match current {
            Some(m) if m.0 == material => {}
            Some(_) => {
                commands.entity(e).insert(MeshMaterial3d(material));
            }
            None => {
                commands.entity(e).insert((
                    Mesh3d(mesh),
                    MeshMaterial3d(material),
                    Visibility::Inherited,
                    backdrop::Parts::Moving.layers(),
                ));
            }
        }
    }
}

fn place_balls(
    surface: Res<SimSurface>,
    map: Res<WorldMap>,
    mut balls: Query<(&BallRun, &Trail, &mut Transform, Has<NetBall>), With<Ball>>,
) {
    let d = surface.0.domain;
    for (run, trail, mut t, network) in &mut balls {
        // A ball outside the domain (on its way to diverging, or diverged) is shown where it
        // was last inside.
        let p = if d.contains(run.0.pos) {
            run.0.pos
        } else {
            trail
                .0
                .iter()
                .rev()
                .find(|p| d.contains(**p))
                .copied()
                .unwrap_or(d.center())
        };
        // A network ball is a whole network: it sits at its real training loss, which the
        // slice's height under it is not (the slice shows only the plane).
        let h = if network && run.0.loss.is_finite() {
            run.0.loss
        } else {
            surface.0.height(p)
        };
        let w = map.to_world(p, h) + Vec3::Y * BALL_RADIUS;
        if t.translation != w {
            t.translation = w;
        }
    }
}

/// What the overlays draw of a ball.
type OverlayBall<'a> = (
    Entity,
    &'a Ball,
    &'a BallRun,
    &'a Trail,
    &'a Transform,
    &'a BallOptimizer,
    Has<NetBall>,
);

fn draw_overlays(
    mut gizmos: Gizmos,
    mut still: Gizmos<backdrop::StillGizmos>,
    surface: Res<SimSurface>,
    map: Res<WorldMap>,
    display: Res<DisplaySettings>,
    selected: Res<Selected>,
    balls: Query<OverlayBall>,
) {
    let s = &surface.0;
    let lift = Vec3::Y * 0.02;
    if display.axes {
        let d = s.domain;
        let corners = [
            (d.x0, d.y0),
            (d.x1, d.y0),
            (d.x1, d.y1),
            (d.x0, d.y1),
            (d.x0, d.y0),
        ]
        .map(|(x, y)| map.to_world(glam::DVec2::new(x, y), map.lo) - Vec3::Y * 0.01);
        still.linestrip(corners, Color::srgba(0.8, 0.8, 0.85, 0.6));
        let tick = Color::srgba(0.8, 0.8, 0.85, 0.8);
        let base = map.lo;
        for x in ticks(d.x0, d.x1) {
            let w = map.to_world(glam::DVec2::new(x, d.y0), base) - Vec3::Y * 0.01;
            still.line(w, w + Vec3::Z * 0.18, tick);
        }
        for y in ticks(d.y0, d.y1) {
            let w = map.to_world(glam::DVec2::new(d.x0, y), base) - Vec3::Y * 0.01;
            still.line(w, w - Vec3::X * 0.18, tick);
        }
    }
    let gold = Color::srgb(1.0, 0.84, 0.0);
    for p in s.global_minimum().points {
        let w = map.to_world(p, s.height(p));
        still.line(w, w + Vec3::Y * 0.8, gold);
        still.circle(
            Isometry3d::new(w + lift, Quat::from_rotation_x(std::f32::consts::FRAC_PI_2)),
            0.18,
            gold,
        );
    }
    for (e, ball, run, trail, t, opt, network) in &balls {
        if network && run.0.pos.is_finite() && s.domain.contains(run.0.pos) {
            // The stem from the slice's height at the projection to the network's real loss.
            let p = run.0.pos;
            let foot = map.to_world(p, s.height(p));
            gizmos.line(foot, t.translation, ball.color.with_alpha(0.7));
        }
        if display.trails && trail.0.len() > 1 {
            draw_trail(
                &mut gizmos,
                s,
                &map,
                trail,
                ball.color.with_alpha(0.9),
                lift,
            );
        }
        let here = t.translation;
        if display.gradient_arrows && run.0.status == RunStatus::Running {
            let g = s.gradient(run.0.pos);
            let dir = Vec3::new(-g.x as f32, 0.0, g.y as f32);
            if dir.length() > 1e-9 {
                let len = (dir.length().ln_1p() * 0.35).min(1.2);
                gizmos.arrow(
                    here,
                    here + dir.normalize() * len,
                    Color::srgb(0.95, 0.95, 0.95),
                );
            }
        }
        if display.update_arrows {
            let d = run.0.last_step;
            let dir = Vec3::new(d.x as f32, 0.0, -d.y as f32) * map.scale as f32;
            if dir.length() > 1e-6 {
                gizmos.arrow(here, here + dir * 3.0, ball.color);
            }
        }
        if let Some(search) = &opt.0.search {
            draw_search(&mut gizmos, s, &map, search, here, ball.color, lift);
        }
        if run.0.status == RunStatus::Diverged {
            let r = BALL_RADIUS * 2.0;
            let red = Color::srgb(1.0, 0.1, 0.1);
            gizmos.line(
                here + Vec3::new(-r, 0.0, -r),
                here + Vec3::new(r, 0.0, r),
                red,
            );
            gizmos.line(
                here + Vec3::new(-r, 0.0, r),
                here + Vec3::new(r, 0.0, -r),
                red,
            );
        }
        if run.0.status == RunStatus::BadGradient {
            // A ring: the ball stopped where the surface gives no direction (not a divergence).
            gizmos.circle(
                Isometry3d::new(here, Quat::from_rotation_x(std::f32::consts::FRAC_PI_2)),
                BALL_RADIUS * 2.0,
                Color::srgb(0.9, 0.2, 0.5),
            );
        }
        if selected.0 == Some(e) {
            gizmos.sphere(
                Isometry3d::from_translation(here),
                BALL_RADIUS * 1.8,
                Color::WHITE,
            );
        }
    }
}

/// What a method that asks for evaluations shows beside its ball: the points of its last
/// iteration (the simplex, the population, the line search's trials, the visits) as small
/// rings; a basin hop as a line to where it jumped and on to the minimum its local search
/// found, in the ball's color when the hop was accepted and grey when it was rejected.
fn draw_search(
    gizmos: &mut Gizmos,
    s: &optiscape_core::landscape::Surface,
    map: &WorldMap,
    search: &optiscape_core::optim::Search,
    here: Vec3,
    color: Color,
    lift: Vec3,
) {
    use optiscape_core::optim::{Search, SearchMethod};
    let at = |p: glam::DVec2| map.to_world(p, s.height(p)) + lift;
    let flat = Quat::from_rotation_x(std::f32::consts::FRAC_PI_2);
    if let Search::BasinHopping(b) = search {
        if let Some((jump, to, accepted)) = b.last_hop()
            && jump.is_finite()
            && to.is_finite()
        {
            let c = if accepted {
                color
            } else {
                Color::srgba(0.6, 0.6, 0.6, 0.8)
            };
            gizmos.line(here, at(jump), c);
            gizmos.line(at(jump), at(to), c);
            gizmos.circle(Isometry3d::new(at(to), flat), BALL_RADIUS * 0.6, c);
        }
        return;
    }
    let ring = color.with_alpha(0.85);
    for p in search.points() {
        if p.is_finite() && s.domain.contains(p) {
            gizmos.circle(Isometry3d::new(at(p), flat), BALL_RADIUS * 0.45, ring);
        }
    }
}

/// World distance below which a trail's next point is left out (about two pixels at the usual
/// zoom): balls that have settled add thousands of points on top of each other, and on a
/// software renderer every tiny segment costs as much as a larger one.
const TRAIL_MIN_STEP: f32 = 0.04;

/// The points of a trail as drawn: inside the domain, in strips broken where it leaves the
/// domain, each point at least [`TRAIL_MIN_STEP`] from the last one drawn (and the last point
/// always), at most about 1500 of them.
pub fn trail_strips(
    surface: &optiscape_core::landscape::Surface,
    map: &WorldMap,
    trail: &std::collections::VecDeque<glam::DVec2>,
    lift: Vec3,
) -> Vec<Vec<Vec3>> {
    let step = (trail.len() / 1500).max(1);
    // The minimum step in the domain's units (measured across the surface, before the height
    // is evaluated: a point left out costs nothing).
    let min_step = f64::from(TRAIL_MIN_STEP) / map.scale.max(f64::MIN_POSITIVE);
    let mut strips = Vec::new();
    let mut strip: Vec<Vec3> = Vec::new();
    let mut drawn: Option<glam::DVec2> = None;
    let last = trail.len().saturating_sub(1);
    for (i, p) in trail.iter().enumerate() {
        if i % step != 0 && i != last {
            continue;
        }
        if !surface.domain.contains(*p) {
            if strip.len() > 1 {
                strips.push(std::mem::take(&mut strip));
            }
            strip.clear();
            drawn = None;
            continue;
        }
        let near = drawn.is_some_and(|q| q.distance(*p) < min_step);
        if near && !(i == last && strip.len() > 1) {
            continue;
        }
        let w = map.to_world(*p, surface.height(*p)) + lift;
        if near {
            // The trail's end, too close to the last point drawn: it takes that point's place.
            if let Some(q) = strip.last_mut() {
                *q = w;
            }
        } else {
            strip.push(w);
        }
        drawn = Some(*p);
    }
    if strip.len() > 1 {
        strips.push(strip);
    }
    strips
}

fn draw_trail(
    gizmos: &mut Gizmos,
    surface: &optiscape_core::landscape::Surface,
    map: &WorldMap,
    trail: &Trail,
    color: Color,
    lift: Vec3,
) {
    for strip in trail_strips(surface, map, &trail.0, lift) {
        gizmos.linestrip(strip, color);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DVec2;
    use optiscape_core::landscape::Surface;
    use std::collections::VecDeque;

    #[test]
    fn trails_leave_out_points_closer_than_a_pixel_and_keep_their_ends() {
        let surface = Surface::seed();
        let map = surface_mesh::build(&surface, &DisplaySettings::default().mesh_options()).map;
        // A ball that moves, then sits still for a thousand frames, then moves a little.
        let mut trail: VecDeque<DVec2> = (0..50)
            .map(|k| DVec2::new(5.0 + 0.1 * k as f64, 5.0))
            .collect();
        trail.extend(std::iter::repeat_n(DVec2::new(9.9, 5.0), 1000));
        trail.push_back(DVec2::new(9.9, 5.0001));
        let strips = trail_strips(&surface, &map, &trail, Vec3::ZERO);
        assert_eq!(strips.len(), 1);
        let s = &strips[0];
        assert!(s.len() <= 52, "{} points drawn", s.len());
        assert!(s.len() >= 10, "the moving part is kept: {} points", s.len());
        let end = *trail.back().unwrap();
        let want = map.to_world(end, surface.height(end));
        assert_eq!(*s.last().unwrap(), want, "the trail ends where the ball is");
        let start = trail[0];
        assert_eq!(s[0], map.to_world(start, surface.height(start)));
        // Leaving the domain breaks the trail in two.
        let mut out = trail.clone();
        out.insert(25, DVec2::new(-100.0, 5.0));
        assert_eq!(trail_strips(&surface, &map, &out, Vec3::ZERO).len(), 2);
    }
}
