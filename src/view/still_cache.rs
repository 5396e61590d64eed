//! The sandbox's frames on a software renderer: the still parts drawn once while the camera
//! rests, and a smaller render while it moves.
//!
//! - **Still camera, still parts.** While the camera rests and nothing still has changed (the
//!   surface, the display settings, the basin map, the window's size), the window's camera uses
//!   the backdrop ([`super::backdrop`]) and draws only the balls, trails and arrows. The backdrop
//!   is drawn by a second camera, identical to the window's but seeing only the still layer and
//!   rendering offscreen, in the same frame in which the window's camera first uses it — so no
//!   frame ever lacks the surface. It is drawn again after any change, for a few frames (new
//!   meshes and textures can take a frame to arrive) and until it was drawn with every pipeline
//!   compiled.
//! - **Moving camera, half resolution.** While the camera moves, everything is drawn every
//!   frame; with the render scale on, the 3D view is drawn at half its width and height and
//!   stretched ([`super::render_scale`]). Once the camera rests, frames are full again.
//!
//! Both are automatic on CPU adapters (llvmpipe, lavapipe, SwiftShader...) and off on GPUs,
//! where drawing the surface costs a fraction of a millisecond and copying the backdrop would
//! cost more than it saves; the Display section can force either (see [`RenderSettings`]).

use super::backdrop::{Backdrop, BackdropReport, Parts, backdrop_camera};
use super::render_scale::RenderScale;
use super::{BasinOverlay, DisplaySettings, MainCamera, RenderAdapter};
use crate::sim::SimSurface;
use bevy::camera::visibility::RenderLayers;
use bevy::camera::{Camera3dDepthLoadOp, CameraOutputMode, CameraUpdateSystems, RenderTarget};
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::transform::TransformSystems;
use bevy::window::PrimaryWindow;
use bevy_panorbit_camera::PanOrbitCameraSystemSet;

/// Automatic (by the graphics adapter), or forced on or off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Reflect)]
pub enum Aid {
    /// On with a software renderer, off on a GPU.
    #[default]
    Auto,
    On,
    Off,
}

impl Aid {
    pub const ALL: [Aid; 3] = [Aid::Auto, Aid::On, Aid::Off];

    /// Whether it applies, given whether the adapter renders in software.
    pub fn active(self, software: bool) -> bool {
        match self {
            Aid::Auto => software,
            Aid::On => true,
            Aid::Off => false,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Aid::Auto => "auto",
            Aid::On => "on",
            Aid::Off => "off",
        }
    }
}

/// How the sandbox keeps its frames quick (the Display section's "Performance"). Not part of a
/// scenario: they depend on the machine, not on the experiment.
#[derive(Resource, Reflect, Clone, Debug, PartialEq)]
#[reflect(Resource)]
pub struct RenderSettings {
    /// Draw the still parts once while the camera rests, and reuse them.
    pub reuse_still: Aid,
    /// Render the 3D view at half its width and height while the camera moves.
    pub half_while_moving: Aid,
    /// Show frames per second and milliseconds per frame over the 3D view.
    pub show_frame_time: bool,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            reuse_still: Aid::Auto,
            half_while_moving: Aid::Auto,
            show_frame_time: false,
        }
    }
}

/// What the frame-time aids did in the last frame, for the Display section and the screenshot
/// mode's log.
#[derive(Resource, Reflect, Clone, Debug, Default)]
#[reflect(Resource)]
pub struct RenderAids {
    /// The window's camera: `None` while the still parts are not reused, else what its frame
    /// did with the backdrop.
    pub backdrop: Option<Backdrop>,
    /// The 3D view was drawn at half resolution.
    pub scaled: bool,
    /// Frames in which the still parts were drawn for reuse.
    pub keeps: u64,
    /// Frames in which only the moving parts were drawn over the kept still parts.
    pub reuses: u64,
}

/// The camera that draws the panels over the whole window (the sandbox's egui camera, drawn
/// after the 3D view).
#[derive(Component, Reflect, Default)]
#[reflect(Component)]
pub struct OverlayCamera;

/// The offscreen camera that draws the still parts for reuse.
#[derive(Component, Reflect, Default)]
#[reflect(Component)]
pub struct StillCamera;

pub struct StillCachePlugin;

impl Plugin for StillCachePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<RenderSettings>()
            .init_resource::<RenderAids>()
            .register_type::<RenderSettings>()
            .register_type::<RenderAids>()
            .register_type::<StillCamera>()
            .add_systems(Startup, spawn_still_camera)
            .add_systems(
                PostUpdate,
                cache_still_parts
                    .after(PanOrbitCameraSystemSet)
                    .after(bevy_egui::EguiPostUpdateSet::EndPass)
                    .before(TransformSystems::Propagate)
                    .before(CameraUpdateSystems),
            );
    }
}

fn spawn_still_camera(mut commands: Commands, mut images: ResMut<Assets<Image>>) {
    let target = images.add(Image::new_target_texture(
        1,
        1,
        TextureFormat::Rgba8UnormSrgb,
        None,
    ));
    let mut camera = Camera {
        order: -1,
        is_active: false,
        output_mode: CameraOutputMode::Skip,
        ..default()
    };
    let mut camera3d = Camera3d::default();
    let usages = backdrop_camera(&mut camera, &mut camera3d);
    commands.spawn((
        Name::new("Still parts camera"),
        StillCamera,
        camera,
        camera3d,
        usages,
        RenderTarget::Image(target.into()),
        Msaa::Off,
        Backdrop::Keep,
        Parts::Still.layers(),
        Transform::default(),
    ));
}

/// Frames the still parts are drawn again after something still changed (a new mesh or texture
/// may reach the renderer a frame later).
const KEEPS_AFTER_CHANGE: u32 = 3;

/// What one frame does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramePlan {
    /// The window's camera (`None`: an ordinary camera, the still parts not reused).
    pub backdrop: Option<Backdrop>,
    /// The still camera draws the backdrop this frame.
    pub keep: bool,
    /// The 3D view at half resolution.
    pub scaled: bool,
}

/// The cache's memory between frames.
#[derive(Debug, Default)]
pub struct CacheState {
    /// Backdrops still to draw before the kept one is trusted.
    keeps_left: u32,
    /// Frames since the backdrop was last drawn.
    since_keep: u32,
}

/// While pipelines compile (start-up: seconds on a software renderer), the backdrop is drawn
/// again every this many frames rather than in every frame: each time costs a whole frame, and
/// what is missing appears a few frames later at most.
const KEEP_EVERY_WHILE_COMPILING: u32 = 4;

impl CacheState {
    /// Decides a frame: `view_moved` (the camera, the viewport or the window changed since the
    /// last frame), `still_changed` (something still changed since the last frame),
    /// `last_incomplete` (the last backdrop was drawn while a pipeline was compiling), and
    /// whether each aid is on.
    pub fn plan(
        &mut self,
        view_moved: bool,
        still_changed: bool,
        last_incomplete: bool,
        reuse: bool,
        half: bool,
    ) -> FramePlan {
        if still_changed {
            self.keeps_left = KEEPS_AFTER_CHANGE;
        }
        if view_moved {
            // Drawn whole; once the camera rests, the backdrop is drawn anew.
            self.keeps_left = self.keeps_left.max(1);
            return FramePlan {
                backdrop: reuse.then_some(Backdrop::Off),
                keep: false,
                scaled: half,
            };
        }
        if !reuse {
            self.keeps_left = 0;
            return FramePlan {
                backdrop: None,
                keep: false,
                scaled: false,
            };
        }
        let keep = self.keeps_left > 0
            || (last_incomplete && self.since_keep + 1 >= KEEP_EVERY_WHILE_COMPILING);
        self.keeps_left = self.keeps_left.saturating_sub(1);
        self.since_keep = if keep { 0 } else { self.since_keep + 1 };
        FramePlan {
            backdrop: Some(Backdrop::Use),
            keep,
            scaled: false,
        }
    }
}

/// Where the window's camera looks from and into what.
#[derive(Clone, Debug, PartialEq)]
struct ViewKey {
    transform: Transform,
    viewport: Option<(UVec2, UVec2)>,
    window: UVec2,
}

/// Everything the still parts are drawn from.
#[derive(Clone, Debug, PartialEq)]
struct StillKey {
    surface: optiscape_core::landscape::Surface,
    display: DisplaySettings,
    overlay: (Option<AssetId<Image>>, bool, u32),
    /// The still parts' images, meshes or materials changed (a basin map redrawn in place, a
    /// mesh arriving).
    assets: u64,
}

/// The last frame's keys and the cache's state.
#[derive(Default)]
struct Seen {
    view: Option<ViewKey>,
    still: Option<StillKey>,
    assets: u64,
    state: CacheState,
    /// Whether the 3D view and the panels shared a texture (as last set up).
    shared: Option<bool>,
}

type MainCameraParts = (
    Entity,
    &'static mut Camera,
    &'static mut Camera3d,
    &'static Transform,
    &'static Projection,
    &'static mut RenderLayers,
    &'static mut Msaa,
    Option<&'static Backdrop>,
    Option<&'static RenderScale>,
);

type OverlayOnly = (
    With<OverlayCamera>,
    Without<MainCamera>,
    Without<StillCamera>,
);

type StillCameraParts = (
    &'static mut Camera,
    &'static mut Transform,
    &'static mut Projection,
    &'static RenderTarget,
);

/// What the still parts are drawn from.
#[derive(bevy::ecs::system::SystemParam)]
struct StillInputs<'w, 's> {
    surface: Res<'w, SimSurface>,
    display: Res<'w, DisplaySettings>,
    overlay: Res<'w, BasinOverlay>,
    images: MessageReader<'w, 's, AssetEvent<Image>>,
    meshes: MessageReader<'w, 's, AssetEvent<Mesh>>,
    materials: MessageReader<'w, 's, AssetEvent<super::material::SceneMaterial>>,
    /// The still parts' meshes and materials (everything drawn but the balls).
    parts: Query<
        'w,
        's,
        (
            &'static Mesh3d,
            &'static MeshMaterial3d<super::material::SceneMaterial>,
        ),
        Without<crate::sim::Ball>,
    >,
}

impl StillInputs<'_, '_> {
    /// Events of the still parts' images, meshes and materials since the last frame (a basin
    /// map redrawn in place, a mesh reaching the renderer). Other assets — egui's font atlas
    /// growing by a glyph, a ball's material — do not change the still parts.
    fn asset_changes(&mut self) -> u64 {
        let overlay = self.overlay.image.as_ref().map(|h| h.id());
        let mut n = self
            .images
            .read()
            .filter(|e| overlay.is_some_and(|id| e.is_modified(id) || e.is_added(id)))
            .count();
        let meshes: Vec<AssetId<Mesh>> = self.parts.iter().map(|(m, _)| m.0.id()).collect();
        n += self
            .meshes
            .read()
            .filter(|e| {
                meshes
                    .iter()
                    .any(|id| e.is_modified(*id) || e.is_added(*id))
            })
            .count();
        let materials: Vec<_> = self.parts.iter().map(|(_, m)| m.0.id()).collect();
        n += self
            .materials
            .read()
            .filter(|e| {
                materials
                    .iter()
                    .any(|id| e.is_modified(*id) || e.is_added(*id))
            })
            .count();
        n as u64
    }
}

/// Decides, before the cameras are updated for this frame, what each draws.
#[allow(clippy::too_many_arguments)]
fn cache_still_parts(
    mut commands: Commands,
    settings: Res<RenderSettings>,
    adapter: Res<RenderAdapter>,
    report: Res<BackdropReport>,
    mut still_in: StillInputs,
    window: Option<Single<&Window, With<PrimaryWindow>>>,
    mut main: Single<MainCameraParts, (With<MainCamera>, Without<StillCamera>)>,
    mut still: Single<StillCameraParts, (With<StillCamera>, Without<MainCamera>)>,
    mut overlay_cam: Query<&mut Camera, OverlayOnly>,
    mut images: ResMut<Assets<Image>>,
    mut aids: ResMut<RenderAids>,
    mut seen: Local<Seen>,
) {
    let Some(software) = adapter.software else {
        // Not known before the renderer has started: draw as usual.
        return;
    };
    seen.assets += still_in.asset_changes();
    let StillInputs {
        surface,
        display,
        overlay,
        ..
    } = still_in;
    let window_size = window.map(|w| w.physical_size()).unwrap_or(UVec2::ONE);
    let (entity, camera, camera3d, transform, projection, layers, msaa, backdrop, scale) =
        &mut *main;
    let view = ViewKey {
        transform: **transform,
        viewport: camera
            .viewport
            .as_ref()
            .map(|v| (v.physical_position, v.physical_size)),
        window: window_size,
    };
    let key = StillKey {
        surface: surface.0.clone(),
        display: display.clone(),
        overlay: (
            overlay.image.as_ref().map(|h| h.id()),
            overlay.visible,
            overlay.alpha.to_bits(),
        ),
        assets: seen.assets,
    };
    let view_moved = seen.view.as_ref() != Some(&view);
    let still_changed = seen.still.as_ref() != Some(&key);
    seen.view = Some(view);
    seen.still = Some(key);
    let plan = seen.state.plan(
        view_moved,
        still_changed,
        report.last_incomplete(),
        settings.reuse_still.active(software),
        settings.half_while_moving.active(software),
    );
    // The window's camera: an ordinary one, or one that starts from the backdrop.
    match plan.backdrop {
        Some(b) => {
            if backdrop.is_none() {
                // (The copy usages are the main camera's from the start, see `view`.)
                let _ = backdrop_camera(camera, camera3d);
            }
            if *backdrop != Some(&b) {
                commands.entity(*entity).insert(b);
            }
        }
        None => {
            if backdrop.is_some() {
                camera.clear_color = ClearColorConfig::Default;
                camera3d.depth_load_op = Camera3dDepthLoadOp::Clear(0.0);
                commands.entity(*entity).remove::<Backdrop>();
            }
        }
    }
    let shown = plan.backdrop.map_or(Parts::All, Backdrop::parts).layers();
    if **layers != shown {
        **layers = shown;
    }
    let want_scale = if plan.scaled { 0.5 } else { 1.0 };
    if scale.map(|s| s.0) != Some(want_scale) {
        commands.entity(*entity).insert(RenderScale(want_scale));
    }
    // The backdrop and the stretched render are copies between single-sampled textures.
    let aided = plan.backdrop.is_some() || plan.scaled;
    let samples = if aided || software {
        Msaa::Off
    } else {
        Msaa::default()
    };
    if **msaa != samples {
        **msaa = samples;
    }
    // Single-sampled, the 3D view and the panels share one texture (same window, format,
    // usages and sampling): the 3D view is drawn into it, the panels over it, and it reaches the
    // window once, without blending. Multisampled (a GPU), each has its own and the panels'
    // is blended over the 3D view's.
    let shared = samples == Msaa::Off;
    let (view_out, overlay_clear, overlay_out) = if shared {
        (
            CameraOutputMode::Skip,
            ClearColorConfig::None,
            CameraOutputMode::Write {
                blend_state: None,
                clear_color: ClearColorConfig::None,
            },
        )
    } else {
        (
            CameraOutputMode::default(),
            ClearColorConfig::Custom(Color::NONE),
            CameraOutputMode::Write {
                blend_state: Some(bevy::render::render_resource::BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
        )
    };
    if seen.shared != Some(shared) {
        camera.output_mode = view_out;
        for mut cam in &mut overlay_cam {
            cam.clear_color = overlay_clear;
            cam.output_mode = overlay_out;
        }
        seen.shared = Some(shared);
    }
    // The still camera: the same view, drawn only when the backdrop is kept.
    let (still_cam, still_t, still_p, target) = &mut *still;
    still_cam.is_active = plan.keep;
    if plan.keep {
        still_cam.viewport = camera.viewport.clone();
        if **still_t != **transform {
            **still_t = **transform;
        }
        **still_p = (*projection).clone();
        if let RenderTarget::Image(img) = &**target {
            let fits = images.get(&img.handle).is_some_and(|i| {
                i.texture_descriptor.size.width == window_size.x
                    && i.texture_descriptor.size.height == window_size.y
            });
            if !fits {
                let _ = images.insert(
                    &img.handle,
                    Image::new_target_texture(
                        window_size.x.max(1),
                        window_size.y.max(1),
                        TextureFormat::Rgba8UnormSrgb,
                        None,
                    ),
                );
            }
        }
        aids.keeps += 1;
    }
    if plan.backdrop == Some(Backdrop::Use) {
        aids.reuses += 1;
    }
    aids.backdrop = plan.backdrop;
    aids.scaled = plan.scaled;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resting_camera_keeps_once_then_reuses() {
        let mut s = CacheState::default();
        // Moving: everything is drawn, at half resolution.
        let p = s.plan(true, false, false, true, true);
        assert_eq!(
            p,
            FramePlan {
                backdrop: Some(Backdrop::Off),
                keep: false,
                scaled: true
            }
        );
        // It stops: the backdrop is drawn and used in the same frame, then only used.
        let p = s.plan(false, false, false, true, true);
        assert_eq!(
            p,
            FramePlan {
                backdrop: Some(Backdrop::Use),
                keep: true,
                scaled: false
            }
        );
        for _ in 0..5 {
            let p = s.plan(false, false, false, true, true);
            assert_eq!(p.backdrop, Some(Backdrop::Use));
            assert!(!p.keep);
        }
    }

    #[test]
    fn a_still_change_redraws_the_backdrop_for_a_few_frames() {
        let mut s = CacheState::default();
        s.plan(false, false, false, true, false);
        let keeps: Vec<bool> = (0..6)
            .map(|i| s.plan(false, i == 0, false, true, false).keep)
            .collect();
        assert_eq!(keeps, [true, true, true, false, false, false]);
    }

    #[test]
    fn an_incomplete_backdrop_is_drawn_again_every_few_frames() {
        let mut s = CacheState::default();
        assert!(!s.plan(false, false, false, true, false).keep);
        let keeps: Vec<bool> = (0..9)
            .map(|_| s.plan(false, false, true, true, false).keep)
            .collect();
        assert_eq!(
            keeps,
            [false, false, true, false, false, false, true, false, false]
        );
        assert!(!s.plan(false, false, false, true, false).keep);
    }

    #[test]
    fn without_the_aids_every_frame_is_ordinary() {
        let mut s = CacheState::default();
        for moved in [true, false, false, true] {
            let p = s.plan(moved, moved, false, false, false);
            assert_eq!(
                p,
                FramePlan {
                    backdrop: None,
                    keep: false,
                    scaled: false
                }
            );
        }
        // Half resolution alone: only while moving.
        assert!(s.plan(true, false, false, false, true).scaled);
        assert!(!s.plan(false, false, false, false, true).scaled);
    }
}
