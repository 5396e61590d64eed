//! Drawing the still parts of the scene once and reusing them: the mechanism `record` and the
//! sandbox share.
//!
//! Everything but the balls, their trails and arrows (the surface, basin map, contours,
//! wireframe, axes and minimum markers) is the same from frame to frame while the camera rests.
//! On a software renderer those parts are most of a frame's cost. So the scene is split in two
//! render layers, [`STILL_LAYER`] and [`MOVING_LAYER`] (gizmos too: the still ones are drawn
//! through [`StillGizmos`]), and a 3D camera carries a [`Backdrop`] saying what to do with its
//! frame:
//!
//! - [`Backdrop::Keep`]: the camera sees only the still layer; after its main pass the color and
//!   depth are copied aside (the *backdrop*).
//! - [`Backdrop::Use`]: the camera sees only the moving layer; its frame starts from a copy of
//!   the kept color and depth, and the moving parts are drawn over it, depth-tested against the
//!   surface so a ball behind a hill stays hidden.
//! - [`Backdrop::Off`]: the frame is cleared and everything is drawn.
//!
//! A camera with a `Backdrop` never clears by itself (its `ClearColorConfig::None` and depth
//! `Load`, see [`backdrop_camera`]); the frame is cleared or started from the backdrop here, in
//! Bevy's `Core3d` schedule before the main pass.
//!
//! `record` keeps the backdrop with its one camera (a frame of still parts before recording);
//! the sandbox has a second camera that draws the still parts into the backdrop in the same
//! frame in which the window's camera uses it ([`super::still_cache`]). The pictures are the same
//! as drawing everything, but where a half-transparent contour line passes in front of a ball
//! (it is drawn before the ball instead of after).

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{Camera3dDepthLoadOp, ClearColorConfig};
use bevy::core_pipeline::Core3dSystems;
use bevy::core_pipeline::schedule::Core3d;
use bevy::prelude::*;
use bevy::render::RenderApp;
use bevy::render::camera::ExtractedCamera;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::render_resource::{
    Extent3d, LoadOp, Operations, Origin3d, PipelineCache, RenderPassColorAttachment,
    RenderPassDepthStencilAttachment, RenderPassDescriptor, StoreOp, Texture, TextureDescriptor,
    TextureDimension, TextureUsages,
};
use bevy::render::renderer::{RenderContext, RenderDevice, ViewQuery};
use bevy::render::view::{ViewDepthTexture, ViewTarget};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The render layer of the surface, basin map, contours, wireframe, axes and minimum markers.
pub const STILL_LAYER: usize = 0;
/// The render layer of the balls, their trails and arrows.
pub const MOVING_LAYER: usize = 1;

/// Which parts of the scene a camera sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parts {
    All,
    Still,
    Moving,
}

impl Parts {
    pub fn layers(self) -> RenderLayers {
        match self {
            Parts::All => RenderLayers::from_layers(&[STILL_LAYER, MOVING_LAYER]),
            Parts::Still => RenderLayers::layer(STILL_LAYER),
            Parts::Moving => RenderLayers::layer(MOVING_LAYER),
        }
    }
}

/// Gizmos of the still layer (axes, minimum markers); the default group draws the moving ones.
#[derive(Default, Reflect, GizmoConfigGroup)]
pub struct StillGizmos;

/// What a camera's frame does with the backdrop.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq, Reflect, ExtractComponent)]
#[reflect(Component)]
pub enum Backdrop {
    /// Not used: the frame is cleared and every part is drawn.
    #[default]
    Off,
    /// This frame shows only the still parts: keep its color and depth afterwards.
    Keep,
    /// Start from the kept backdrop; only the moving parts are drawn.
    Use,
}

impl Backdrop {
    /// The parts a camera with this backdrop draws.
    pub fn parts(self) -> Parts {
        match self {
            Backdrop::Off => Parts::All,
            Backdrop::Keep => Parts::Still,
            Backdrop::Use => Parts::Moving,
        }
    }
}

/// The texture usages the color and depth textures of a camera with a [`Backdrop`] need.
pub const COPY_USAGES: TextureUsages = TextureUsages::COPY_SRC.union(TextureUsages::COPY_DST);

/// The usages of a main texture that can be copied (the backdrop, the render scale), the same
/// for every camera of the window, so that they can share their main texture.
pub fn copy_usages() -> bevy::camera::CameraMainTextureUsages {
    bevy::camera::CameraMainTextureUsages(
        bevy::camera::CameraMainTextureUsages::default().0 | COPY_USAGES,
    )
}

/// Sets a 3D camera up for the backdrop: it never clears by itself (the frame is cleared or
/// started from the backdrop before the main pass), and its color and depth textures can be
/// copied. Returns the component of the color texture's usages to insert with it.
pub fn backdrop_camera(
    camera: &mut Camera,
    camera3d: &mut Camera3d,
) -> bevy::camera::CameraMainTextureUsages {
    camera.clear_color = ClearColorConfig::None;
    camera3d.depth_load_op = Camera3dDepthLoadOp::Load;
    camera3d.depth_texture_usages =
        (TextureUsages::from(camera3d.depth_texture_usages) | COPY_USAGES).into();
    copy_usages()
}

/// What the render world says about the backdrops it kept (shared with the main world).
#[derive(Resource, Reflect, Clone, Default)]
#[reflect(Resource)]
pub struct BackdropReport(#[reflect(ignore)] Arc<ReportInner>);

#[derive(Default)]
struct ReportInner {
    /// Backdrops kept so far.
    kept: AtomicU64,
    /// The last one was kept while a pipeline was still compiling (something may be missing).
    incomplete: AtomicBool,
}

impl BackdropReport {
    /// How many backdrops have been kept.
    pub fn kept(&self) -> u64 {
        self.0.kept.load(Ordering::Relaxed)
    }

    /// Whether the last kept backdrop may lack something (a pipeline was still compiling).
    pub fn last_incomplete(&self) -> bool {
        self.0.incomplete.load(Ordering::Relaxed)
    }
}

/// The render layers, the gizmo groups and the render-world systems of the backdrop.
pub struct BackdropPlugin;

impl Plugin for BackdropPlugin {
    fn build(&self, app: &mut App) {
        let report = BackdropReport::default();
        app.register_type::<Backdrop>()
            .register_type::<BackdropReport>()
            .init_gizmo_group::<StillGizmos>()
            .insert_resource(report.clone())
            .add_plugins(ExtractComponentPlugin::<Backdrop>::default())
            .add_systems(Startup, gizmo_layers);
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            return;
        };
        render_app
            .insert_resource(report)
            .init_resource::<Kept>()
            .init_resource::<Blank>()
            .add_systems(
                Core3d,
                (
                    start_frame
                        .after(Core3dSystems::Prepass)
                        .before(Core3dSystems::MainPass),
                    keep_backdrop
                        .after(Core3dSystems::MainPass)
                        .before(Core3dSystems::EarlyPostProcess),
                ),
            );
    }
}

/// Gizmos go to the layer of what they show.
fn gizmo_layers(mut store: ResMut<GizmoConfigStore>) {
    store
        .config_mut::<DefaultGizmoConfigGroup>()
        .0
        .render_layers = Parts::Moving.layers();
    store.config_mut::<StillGizmos>().0.render_layers = Parts::Still.layers();
}

/// The kept backdrop: the still parts' color and depth.
#[derive(Resource, Default)]
pub(super) struct Kept {
    color: Option<Texture>,
    depth: Option<Texture>,
}

/// Copies a color and a depth texture, whole, into two of the same size and format.
fn copy_both(ctx: &mut RenderContext, from: (&Texture, &Texture), to: (&Texture, &Texture)) {
    let encoder = ctx.command_encoder();
    for (src, dst) in [(from.0, to.0), (from.1, to.1)] {
        encoder.copy_texture_to_texture(src.as_image_copy(), dst.as_image_copy(), src.size());
    }
}

/// A texture like `like`, for keeping its content (or, drawn to once, a blank one).
fn kept_like(device: &RenderDevice, like: &Texture, label: &'static str) -> Texture {
    device.create_texture(&TextureDescriptor {
        label: Some(label),
        size: like.size(),
        mip_level_count: 1,
        sample_count: like.sample_count(),
        dimension: TextureDimension::D2,
        format: like.format(),
        usage: TextureUsages::COPY_SRC | TextureUsages::COPY_DST | TextureUsages::RENDER_ATTACHMENT,
        view_formats: &[],
    })
}

/// A texture of the clear color (and that color), copied into a frame's viewport to clear only
/// the viewport.
#[derive(Resource, Default)]
pub(super) struct Blank(Option<(Texture, LinearRgba)>);

/// After the main pass of a `Keep` frame: copy its color and depth aside.
pub(super) fn keep_backdrop(
    view: ViewQuery<(&Backdrop, &ViewTarget, &ViewDepthTexture)>,
    device: Res<RenderDevice>,
    pipelines: Res<PipelineCache>,
    report: Res<BackdropReport>,
    mut kept: ResMut<Kept>,
    mut ctx: RenderContext,
) {
    let (backdrop, target, depth) = view.into_inner();
    if *backdrop != Backdrop::Keep {
        return;
    }
    let color_src = target.main_texture();
    let fits = |t: &Option<Texture>, like: &Texture| {
        t.as_ref()
            .is_some_and(|t| t.size() == like.size() && t.format() == like.format())
    };
    if !fits(&kept.color, color_src) {
        kept.color = Some(kept_like(&device, color_src, "backdrop_color"));
    }
    if !fits(&kept.depth, &depth.texture) {
        kept.depth = Some(kept_like(&device, &depth.texture, "backdrop_depth"));
    }
    if let (Some(color), Some(kept_depth)) = (&kept.color, &kept.depth) {
        copy_both(&mut ctx, (color_src, &depth.texture), (color, kept_depth));
    }
    let incomplete = pipelines.waiting_pipelines().next().is_some();
    report.0.incomplete.store(incomplete, Ordering::Relaxed);
    report.0.kept.fetch_add(1, Ordering::Relaxed);
}

/// Before the main pass: start from the kept backdrop (a `Use` frame), or clear. Only the
/// camera's viewport is touched: the rest of the texture keeps what was there (in the sandbox,
/// the panels, which are then not drawn again in every frame; see `ui::panels`).
pub(super) fn start_frame(
    view: ViewQuery<(
        &Backdrop,
        &ViewTarget,
        &ViewDepthTexture,
        Option<&ExtractedCamera>,
    )>,
    kept: Res<Kept>,
    clear: Res<ClearColor>,
    device: Res<RenderDevice>,
    mut blank: ResMut<Blank>,
    mut ctx: RenderContext,
) {
    let (backdrop, target, depth, camera) = view.into_inner();
    let color_dst = target.main_texture();
    let size = color_dst.size();
    // The viewport, inside the texture.
    let (origin, extent) = match camera.and_then(|c| c.viewport.as_ref()) {
        Some(v) => {
            let x = v.physical_position.x.min(size.width);
            let y = v.physical_position.y.min(size.height);
            let w = v.physical_size.x.min(size.width - x);
            let h = v.physical_size.y.min(size.height - y);
            (UVec2::new(x, y), UVec2::new(w, h))
        }
        None => (UVec2::ZERO, UVec2::new(size.width, size.height)),
    };
    let fits = |t: &Texture, like: &Texture| t.size() == like.size() && t.format() == like.format();
    let source = match (*backdrop, &kept.color, &kept.depth) {
        (Backdrop::Use, Some(color), Some(kept_depth))
            if fits(color, color_dst) && kept_depth.size() == depth.texture.size() =>
        {
            // Depth is per view and copied whole (a depth texture's copies must be).
            ctx.command_encoder().copy_texture_to_texture(
                kept_depth.as_image_copy(),
                depth.texture.as_image_copy(),
                kept_depth.size(),
            );
            color.clone()
        }
        _ => {
            let cleared = clear.0.to_linear();
            if !blank
                .0
                .as_ref()
                .is_some_and(|(t, c)| fits(t, color_dst) && *c == cleared)
            {
                let t = kept_like(&device, color_dst, "backdrop_blank");
                ctx.command_encoder()
                    .begin_render_pass(&RenderPassDescriptor {
                        label: Some("backdrop_blank"),
                        color_attachments: &[Some(RenderPassColorAttachment {
                            view: &t.create_view(&Default::default()),
                            depth_slice: None,
                            resolve_target: None,
                            ops: Operations {
                                load: LoadOp::Clear(cleared.into()),
                                store: StoreOp::Store,
                            },
                        })],
                        depth_stencil_attachment: None,
                        timestamp_writes: None,
                        occlusion_query_set: None,
                        multiview_mask: None,
                    });
                blank.0 = Some((t, cleared));
            }
            ctx.command_encoder()
                .begin_render_pass(&RenderPassDescriptor {
                    label: Some("backdrop_clear_depth"),
                    color_attachments: &[],
                    depth_stencil_attachment: Some(RenderPassDepthStencilAttachment {
                        view: depth.view(),
                        depth_ops: Some(Operations {
                            load: LoadOp::Clear(0.0),
                            store: StoreOp::Store,
                        }),
                        stencil_ops: None,
                    }),
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                });
            match &blank.0 {
                Some((t, _)) => t.clone(),
                None => return,
            }
        }
    };
    let origin = Origin3d {
        x: origin.x,
        y: origin.y,
        z: 0,
    };
    let mut from = source.as_image_copy();
    from.origin = origin;
    let mut to = color_dst.as_image_copy();
    to.origin = origin;
    ctx.command_encoder().copy_texture_to_texture(
        from,
        to,
        Extent3d {
            width: extent.x,
            height: extent.y,
            depth_or_array_layers: 1,
        },
    );
}
