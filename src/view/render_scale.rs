//! Rendering the 3D view at a lower resolution (while the camera moves, on a software renderer).
//!
//! A camera with [`RenderScale`] below 1 renders its main pass into a corner of its viewport
//! that much smaller on each side (Bevy's `MainPassResolutionOverride`); right after the main
//! pass that corner is stretched back over the whole viewport (Bevy's blit pipeline, nearest
//! sampling), so everything after it (post-processing, the window, screenshots) sees a full
//! picture. At one half, a quarter of the pixels are shaded. The override is set only once the
//! stretching pipeline is ready, so no frame shows the small corner alone.

use bevy::camera::MainPassResolutionOverride;
use bevy::core_pipeline::Core3dSystems;
use bevy::core_pipeline::blit::{BlitPipeline, BlitPipelineKey};
use bevy::core_pipeline::schedule::Core3d;
use bevy::prelude::*;
use bevy::render::camera::ExtractedCamera;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::render_resource::{
    CachedRenderPipelineId, Extent3d, LoadOp, Operations, Origin3d, PipelineCache,
    RenderPassColorAttachment, RenderPassDescriptor, SpecializedRenderPipelines, StoreOp, Texture,
    TextureAspect, TextureDescriptor, TextureDimension, TextureUsages, TextureViewDescriptor,
};
use bevy::render::renderer::{RenderContext, RenderDevice, ViewQuery};
use bevy::render::view::{ExtractedView, ViewTarget, prepare_view_targets};
use bevy::render::{Render, RenderApp, RenderSystems};

/// The fraction of the viewport's width and height the 3D view is rendered at (1: full).
#[derive(Component, Clone, Copy, Debug, PartialEq, Reflect, ExtractComponent)]
#[reflect(Component)]
pub struct RenderScale(pub f32);

impl Default for RenderScale {
    fn default() -> Self {
        RenderScale(1.0)
    }
}

/// The size a viewport of `full` pixels is rendered at with `scale` (at least 1 x 1, at most
/// `full`).
pub fn scaled_size(full: UVec2, scale: f32) -> UVec2 {
    let s = if scale.is_finite() {
        scale.clamp(0.05, 1.0)
    } else {
        1.0
    };
    let side = |n: u32| (((n as f32) * s).round() as u32).clamp(1, n.max(1));
    UVec2::new(side(full.x), side(full.y))
}

pub struct RenderScalePlugin;

impl Plugin for RenderScalePlugin {
    fn build(&self, app: &mut App) {
        app.register_type::<RenderScale>()
            .add_plugins(ExtractComponentPlugin::<RenderScale>::default());
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            return;
        };
        render_app
            .init_resource::<Scratch>()
            .add_systems(
                Render,
                set_resolution
                    .in_set(RenderSystems::PrepareViews)
                    .after(prepare_view_targets),
            )
            .add_systems(
                Core3d,
                stretch
                    .after(Core3dSystems::MainPass)
                    .before(Core3dSystems::EarlyPostProcess)
                    .after(super::backdrop::keep_backdrop),
            );
    }
}

/// The stretching pipeline of a view.
#[derive(Component)]
struct StretchPipeline(CachedRenderPipelineId);

/// Where the small picture is copied before it is stretched (a pass cannot read the texture it
/// draws to).
#[derive(Resource, Default)]
struct Scratch(Option<Texture>);

/// Prepares the stretching pipeline of every scaled camera, and gives the main pass its smaller
/// size once that pipeline is ready.
#[allow(clippy::type_complexity)]
fn set_resolution(
    mut commands: Commands,
    views: Query<(
        Entity,
        &ViewTarget,
        &ExtractedView,
        Option<&ExtractedCamera>,
        Option<&RenderScale>,
    )>,
    mut specialized: ResMut<SpecializedRenderPipelines<BlitPipeline>>,
    blit: Res<BlitPipeline>,
    cache: Res<PipelineCache>,
) {
    for (entity, target, view, camera, scale) in &views {
        let Some(scale) = scale else {
            continue;
        };
        let id = specialized.specialize(
            &cache,
            &blit,
            BlitPipelineKey {
                target_format: target.main_texture_format(),
                blend_state: None,
                samples: 1,
                source_space: None,
            },
        );
        let full = camera
            .and_then(|c| c.viewport.as_ref().map(|v| v.physical_size))
            .unwrap_or(view.viewport.zw());
        let small = scaled_size(full, scale.0);
        let ready = cache.get_render_pipeline(id).is_some();
        let mut e = commands.entity(entity);
        e.insert(StretchPipeline(id));
        if ready && small != full && target.sampled_main_texture().is_none() {
            e.insert(MainPassResolutionOverride(small));
        } else {
            e.remove::<MainPassResolutionOverride>();
        }
    }
}

/// After the main pass of a scaled view: stretch the small picture over the viewport.
fn stretch(
    view: ViewQuery<(
        &ViewTarget,
        &ExtractedView,
        Option<&ExtractedCamera>,
        &StretchPipeline,
        &MainPassResolutionOverride,
    )>,
    blit: Res<BlitPipeline>,
    pipelines: Res<PipelineCache>,
    device: Res<RenderDevice>,
    mut scratch: ResMut<Scratch>,
    mut ctx: RenderContext,
) {
    let (target, view, camera, pipeline, small) = view.into_inner();
    let Some(pipeline) = pipelines.get_render_pipeline(pipeline.0) else {
        return;
    };
    let (pos, full) = match camera.and_then(|c| c.viewport.as_ref()) {
        Some(v) => (v.physical_position, v.physical_size),
        None => (UVec2::ZERO, view.viewport.zw()),
    };
    let small = small.0.min(full).max(UVec2::ONE);
    let main = target.main_texture();
    let fits = scratch.0.as_ref().is_some_and(|t| {
        t.width() == small.x && t.height() == small.y && t.format() == main.format()
    });
    if !fits {
        scratch.0 = Some(device.create_texture(&TextureDescriptor {
            label: Some("render_scale_scratch"),
            size: Extent3d {
                width: small.x,
                height: small.y,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: TextureDimension::D2,
            format: main.format(),
            usage: TextureUsages::COPY_DST | TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        }));
    }
    let Some(scratch) = scratch.0.as_ref() else {
        return;
    };
    let size = Extent3d {
        width: small.x,
        height: small.y,
        depth_or_array_layers: 1,
    };
    let mut from = main.as_image_copy();
    from.origin = Origin3d {
        x: pos.x,
        y: pos.y,
        z: 0,
    };
    from.aspect = TextureAspect::All;
    ctx.command_encoder()
        .copy_texture_to_texture(from, scratch.as_image_copy(), size);
    let source = scratch.create_view(&TextureViewDescriptor::default());
    let bind_group = blit.create_bind_group(ctx.render_device(), &source, &pipelines);
    let mut pass = ctx
        .command_encoder()
        .begin_render_pass(&RenderPassDescriptor {
            label: Some("render_scale_stretch"),
            color_attachments: &[Some(RenderPassColorAttachment {
                view: target.main_texture_view(),
                depth_slice: None,
                resolve_target: None,
                ops: Operations {
                    load: LoadOp::Load,
                    store: StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
    pass.set_viewport(
        pos.x as f32,
        pos.y as f32,
        full.x as f32,
        full.y as f32,
        0.0,
        1.0,
    );
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, &bind_group, &[]);
    pass.draw(0..3, 0..1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_sizes_stay_inside_the_viewport() {
        assert_eq!(scaled_size(UVec2::new(550, 720), 0.5), UVec2::new(275, 360));
        assert_eq!(scaled_size(UVec2::new(551, 1), 0.5), UVec2::new(276, 1));
        assert_eq!(scaled_size(UVec2::new(100, 80), 1.0), UVec2::new(100, 80));
        assert_eq!(scaled_size(UVec2::new(100, 80), 7.0), UVec2::new(100, 80));
        assert_eq!(
            scaled_size(UVec2::new(100, 80), f32::NAN),
            UVec2::new(100, 80)
        );
        assert_eq!(scaled_size(UVec2::new(3, 3), 0.0), UVec2::new(1, 1));
    }
}
