//! How `record` gets its pictures out of the renderer.
//!
//! After the UI pass, the camera's render texture is copied into a reusable buffer and mapped;
//! the bytes go to the recorder tagged with their frame number. Bevy's `Screenshot` instead
//! allocates a texture and a buffer per picture and adds a second full-frame blit, which a
//! software renderer pays for on every pixel.
//!
//! With a still camera the recorder also reuses the still parts of the scene: the sandbox's
//! mechanism, [`crate::view::backdrop`] (a frame of still parts is kept, and each recorded frame
//! starts from it and draws only the moving parts).

use bevy::core_pipeline::schedule::Core3d;
use bevy::core_pipeline::upscaling::upscaling;
use bevy::prelude::*;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::render_resource::{
    Buffer, BufferDescriptor, BufferUsages, Extent3d, MapMode, PipelineCache, TexelCopyBufferInfo,
    TexelCopyBufferLayout, TextureFormat,
};
use bevy::render::renderer::{RenderContext, RenderDevice, ViewQuery};
use bevy::render::view::ViewTarget;
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::ui_render::ui_pass;
use std::sync::{Arc, Mutex};

/// A picture read back from the renderer.
#[derive(Debug)]
pub struct Picture {
    /// The recorded frame it shows (`None`: a warm-up or backdrop picture).
    pub tag: Option<u32>,
    /// RGBA, row after row (empty: a texture format the encoders do not take).
    pub pixels: Vec<u8>,
    /// Rendered with no pipeline still compiling (so nothing was left out for that reason).
    pub complete: bool,
    /// Why the picture could not be read back (the recording then fails with this line).
    pub error: Option<String>,
}

/// Where finished pictures are put (shared with the recorder in the main world).
#[derive(Resource, Clone, Default)]
pub struct Pictures(Arc<Mutex<Vec<Picture>>>);

impl Pictures {
    fn push(&self, picture: Picture) {
        if let Ok(mut v) = self.0.lock() {
            v.push(picture);
        }
    }

    /// Everything that arrived since the last call.
    pub fn take(&self) -> Vec<Picture> {
        match self.0.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(_) => Vec::new(),
        }
    }
}

/// On the recording camera: what to do with this frame.
#[derive(Component, Clone, Copy, Debug, Default, Reflect, ExtractComponent)]
#[reflect(Component)]
pub struct FrameCapture {
    /// Read this frame back, with this tag.
    pub take: Option<Option<u32>>,
}

pub struct FramesPlugin {
    pub pictures: Pictures,
}

impl Plugin for FramesPlugin {
    fn build(&self, app: &mut App) {
        app.register_type::<FrameCapture>()
            .add_plugins(ExtractComponentPlugin::<FrameCapture>::default());
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            return;
        };
        render_app
            .insert_resource(self.pictures.clone())
            .init_resource::<Readbacks>()
            .add_systems(Core3d, read_frame.after(ui_pass).before(upscaling))
            .add_systems(Render, map_frames.in_set(RenderSystems::Cleanup));
    }
}

/// Read-back buffers: free ones, and this frame's copies waiting to be mapped.
#[derive(Resource, Default)]
struct Readbacks {
    free: Arc<Mutex<Vec<Buffer>>>,
    copied: Vec<Copied>,
}

struct Copied {
    tag: Option<u32>,
    complete: bool,
    buffer: Buffer,
    width: u32,
    height: u32,
    padded_row: u32,
    format: TextureFormat,
}

/// After the UI pass: copy the finished picture into a read-back buffer.
fn read_frame(
    view: ViewQuery<(&FrameCapture, &ViewTarget)>,
    device: Res<RenderDevice>,
    pipelines: Res<PipelineCache>,
    pictures: Res<Pictures>,
    mut readbacks: ResMut<Readbacks>,
    mut ctx: RenderContext,
) {
    let (capture, target) = view.into_inner();
    let Some(tag) = capture.take else {
        return;
    };
    let complete = pipelines.waiting_pipelines().next().is_none();
    let texture = target.main_texture();
    let Extent3d { width, height, .. } = texture.size();
    let format = texture.format();
    if !matches!(
        format,
        TextureFormat::Rgba8UnormSrgb
            | TextureFormat::Rgba8Unorm
            | TextureFormat::Bgra8UnormSrgb
            | TextureFormat::Bgra8Unorm
    ) {
        // Not a format the encoders take: an empty picture, which the recorder reports.
        pictures.push(Picture {
            tag,
            pixels: Vec::new(),
            complete,
            error: Some(format!(
                "the renderer's picture format ({format:?}) is not 8-bit RGBA; cannot record it"
            )),
        });
        return;
    }
    let padded_row = (width * 4).next_multiple_of(256);
    let size = u64::from(padded_row) * u64::from(height);
    let reused = readbacks.free.lock().ok().and_then(|mut free| {
        let i = free.iter().position(|b| b.size() == size)?;
        Some(free.swap_remove(i))
    });
    let buffer = reused.unwrap_or_else(|| {
        device.create_buffer(&BufferDescriptor {
            label: Some("record_frame_readback"),
            size,
            usage: BufferUsages::COPY_DST | BufferUsages::MAP_READ,
            mapped_at_creation: false,
        })
    });
    ctx.command_encoder().copy_texture_to_buffer(
        texture.as_image_copy(),
        TexelCopyBufferInfo {
            buffer: &buffer,
            layout: TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded_row),
                rows_per_image: None,
            },
        },
        texture.size(),
    );
    readbacks.copied.push(Copied {
        tag,
        complete,
        buffer,
        width,
        height,
        padded_row,
        format,
    });
}

/// After the frame's commands are submitted: map this frame's copies; when a map completes,
/// the rows (RGBA, without padding) go to [`Pictures`] and the buffer back to the free list.
fn map_frames(mut readbacks: ResMut<Readbacks>, pictures: Res<Pictures>) {
    let free = readbacks.free.clone();
    for c in readbacks.copied.drain(..) {
        let (free, pictures) = (free.clone(), pictures.clone());
        let buffer = c.buffer.clone();
        c.buffer.slice(..).map_async(MapMode::Read, move |result| {
            let result = result.map_err(|e| e.to_string()).and_then(|()| {
                // For the test that a failed read-back ends the recording with an error.
                match std::env::var("OPTISCAPE_TEST_FAIL_READBACK") {
                    Ok(n) if c.tag.is_some_and(|t| t.to_string() == n) => {
                        Err("simulated failure".to_string())
                    }
                    _ => Ok(()),
                }
            });
            let error = result.as_ref().err().map(|e| {
                let which = c
                    .tag
                    .map_or("a warm-up picture".into(), |t| format!("frame {t}"));
                format!("reading {which} back from the renderer failed ({e})")
            });
            let pixels = result.ok().map(|()| {
                let mapped = buffer.slice(..).get_mapped_range();
                let row = (c.width * 4) as usize;
                let mut out = Vec::with_capacity(row * c.height as usize);
                for r in mapped.chunks(c.padded_row as usize).take(c.height as usize) {
                    out.extend_from_slice(&r[..row]);
                }
                out
            });
            buffer.unmap();
            if let Ok(mut f) = free.lock() {
                f.push(buffer);
            }
            let Some(mut pixels) = pixels else {
                pictures.push(Picture {
                    tag: c.tag,
                    pixels: Vec::new(),
                    complete: c.complete,
                    error,
                });
                return;
            };
            if matches!(
                c.format,
                TextureFormat::Bgra8UnormSrgb | TextureFormat::Bgra8Unorm
            ) {
                for p in pixels.chunks_exact_mut(4) {
                    p.swap(0, 2);
                }
            }
            pictures.push(Picture {
                tag: c.tag,
                pixels,
                complete: c.complete,
                error: None,
            });
        });
    }
}
