//! "Record the next N frames" in the sandbox: while recording, time advances by exactly one
//! simulation frame per rendered frame (as in `optiscape record`), each frame's 3D view is
//! captured, and a background thread crops and encodes the GIF, so the UI keeps drawing (on the
//! web page, without threads, the frame encodes the pictures as they arrive, and the GIF is
//! downloaded). A toast names the file when it is written.

use super::UiState;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::time::TimeUpdateStrategy;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Sender, channel};
#[cfg(not(target_arch = "wasm32"))]
use std::thread::JoinHandle;

/// Start recording `frames` frames.
#[derive(Message, Clone, Copy, Debug)]
pub struct StartRecording {
    pub frames: u32,
}

/// Stop early (what was captured so far is written).
#[derive(Message, Clone, Copy, Debug)]
pub struct StopRecording;

/// A captured window and the part of it to keep (physical pixels: x, y, width, height).
type Shot = (Image, [u32; 4]);

/// The recording in progress, if any.
#[derive(Resource, Default)]
pub struct SandboxRecording {
    active: Option<Active>,
}

struct Active {
    path: PathBuf,
    total: u32,
    asked: u32,
    tx: Option<Sender<Shot>>,
    encoder: Encoder,
    /// Pictures handed to the encoder (shared with the screenshot observers).
    captured: Arc<AtomicU32>,
    /// Pictures the encoder has written (shared with it).
    encoded: Arc<AtomicU32>,
}

/// Where the pictures are encoded: a thread of its own on the desktop; on the web page (no
/// threads), in the frame as they arrive.
#[cfg(not(target_arch = "wasm32"))]
type Encoder = Option<JoinHandle<Result<u32, String>>>;
// (In a mutex only because resources are shared between threads elsewhere: the page has one.)
#[cfg(target_arch = "wasm32")]
type Encoder = std::sync::Mutex<PageEncoder>;
#[cfg(target_arch = "wasm32")]
struct PageEncoder {
    rx: std::sync::mpsc::Receiver<Shot>,
    clip: Option<Clip<Vec<u8>>>,
    failed: Option<String>,
}

/// Full-window pictures asked for but not yet written, at most: when the encoder is behind, the
/// simulation waits (time is held) instead of pictures piling up in memory.
const MAX_IN_FLIGHT: u32 = 4;

/// What the recorder does this frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// Ask for this frame's picture; the simulation advances one frame.
    Capture,
    /// The encoder is `MAX_IN_FLIGHT` pictures behind: no picture, and time stands still.
    Hold,
    /// Every picture asked for: wait for them and finish.
    Drain,
}

fn next_action(asked: u32, total: u32, encoded: u32) -> Next {
    if asked >= total {
        Next::Drain
    } else if asked.saturating_sub(encoded) >= MAX_IN_FLIGHT {
        Next::Hold
    } else {
        Next::Capture
    }
}

impl SandboxRecording {
    /// `(frames captured, frames asked for)` while recording.
    pub fn progress(&self) -> Option<(u32, u32)> {
        self.active
            .as_ref()
            .map(|a| (a.captured.load(Ordering::Relaxed), a.total))
    }
}

/// A free `optiscape-<unix seconds>.gif` in the working directory.
fn next_gif_path() -> PathBuf {
    let png = super::screenshot::next_screenshot_path();
    let mut p = png.with_extension("gif");
    let mut n = 1;
    while p.exists() {
        p = PathBuf::from(format!("{}-{n}.gif", png.with_extension("").display()));
        n += 1;
    }
    p
}

/// A clip being encoded: crops each picture to the 3D view, halves it when it is wider than
/// 720 pixels, and writes the GIF at the simulation's frame rate. On the desktop it runs on a
/// thread of its own and writes a file; on the web page it encodes the pictures as they arrive,
/// in the frame, into bytes the page then downloads.
struct Clip<W: std::io::Write> {
    /// Opens the output at the first picture (no picture, no file).
    open: Option<Box<dyn FnOnce() -> Result<W, String> + Send + Sync>>,
    shown: String,
    fps: f64,
    gif: Option<crate::gif_writer::GifWriter<W>>,
    size: (u32, u32),
    count: u32,
}

impl<W: std::io::Write> Clip<W> {
    fn new(
        shown: String,
        fps: f64,
        open: impl FnOnce() -> Result<W, String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            open: Some(Box::new(open)),
            shown,
            fps,
            gif: None,
            size: (0, 0),
            count: 0,
        }
    }

    fn push(&mut self, (image, [x, y, w, h]): Shot) -> Result<(), String> {
        let shown = &self.shown;
        let rgba = image
            .try_into_dynamic()
            .map_err(|e| format!("{shown}: {e}"))?
            .to_rgba8();
        let (iw, ih) = rgba.dimensions();
        let (x, y) = (x.min(iw.saturating_sub(1)), y.min(ih.saturating_sub(1)));
        let (w, h) = (w.min(iw - x).max(1), h.min(ih - y).max(1));
        let mut view = image::imageops::crop_imm(&rgba, x, y, w, h).to_image();
        if w > 720 {
            view =
                image::imageops::resize(&view, w / 2, h / 2, image::imageops::FilterType::Triangle);
        }
        if self.gif.is_none() {
            self.size = view.dimensions();
            let open = self
                .open
                .take()
                .ok_or_else(|| format!("{shown}: already closed"))?;
            let (w, h) = self.size;
            self.gif = Some(crate::gif_writer::GifWriter::new(
                open()?,
                shown.clone(),
                w,
                h,
                self.fps,
            )?);
        }
        // The window may have been resized: every frame takes the first frame's size.
        if view.dimensions() != self.size {
            view = image::imageops::resize(
                &view,
                self.size.0,
                self.size.1,
                image::imageops::FilterType::Triangle,
            );
        }
        if let Some(g) = self.gif.as_mut() {
            g.push(view.as_raw())?;
        }
        self.count += 1;
        Ok(())
    }

    /// The frames written and the output (`None` when no picture came).
    fn finish(self) -> Result<(u32, Option<W>), String> {
        match self.gif {
            Some(g) => Ok((self.count, Some(g.finish_into()?))),
            None => Ok((0, None)),
        }
    }
}

/// The desktop's encoder thread: a GIF file from the pictures as they come.
#[cfg(not(target_arch = "wasm32"))]
fn encode(
    path: PathBuf,
    fps: f64,
    shots: std::sync::mpsc::Receiver<Shot>,
    encoded: Arc<AtomicU32>,
) -> Result<u32, String> {
    let shown = path.display().to_string();
    let file_shown = shown.clone();
    let mut clip = Clip::new(shown, fps, move || {
        std::fs::File::create(&path)
            .map(std::io::BufWriter::new)
            .map_err(|e| format!("{file_shown}: {e}"))
    });
    for shot in shots {
        clip.push(shot)?;
        encoded.fetch_add(1, Ordering::Relaxed);
    }
    clip.finish().map(|(n, _)| n)
}

/// Starts, feeds and finishes recordings.
#[allow(clippy::too_many_arguments)]
pub(super) fn drive_recording(
    mut commands: Commands,
    mut starts: MessageReader<StartRecording>,
    mut stops: MessageReader<StopRecording>,
    mut rec: ResMut<SandboxRecording>,
    mut time_strategy: ResMut<TimeUpdateStrategy>,
    settings: Res<crate::sim::SimSettings>,
    camera: Query<&Camera, With<crate::view::MainCamera>>,
    mut ui: ResMut<UiState>,
    time: Res<Time<Real>>,
) {
    let now = time.elapsed_secs_f64();
    if rec.active.is_none()
        && let Some(start) = starts.read().last()
    {
        let path = next_gif_path();
        let (tx, rx) = channel::<Shot>();
        let fps = settings.speed;
        let encoded = Arc::new(AtomicU32::new(0));
        #[cfg(not(target_arch = "wasm32"))]
        let encoder = {
            let (enc_path, written) = (path.clone(), encoded.clone());
            Some(std::thread::spawn(move || {
                encode(enc_path, fps, rx, written)
            }))
        };
        #[cfg(target_arch = "wasm32")]
        let encoder = std::sync::Mutex::new(PageEncoder {
            rx,
            clip: Some(Clip::new(
                path.display().to_string(),
                fps,
                || Ok(Vec::new()),
            )),
            failed: None,
        });
        rec.active = Some(Active {
            path,
            total: start.frames.clamp(1, 3000),
            asked: 0,
            tx: Some(tx),
            encoder,
            captured: Default::default(),
            encoded,
        });
    }
    starts.clear();
    let stop = stops.read().count() > 0;
    let Some(active) = rec.active.as_mut() else {
        return;
    };
    if stop {
        active.total = active.asked;
    }
    // The web page encodes in the frame what has arrived.
    #[cfg(target_arch = "wasm32")]
    if let Ok(enc) = active.encoder.get_mut() {
        while let Ok(shot) = enc.rx.try_recv() {
            let pushed = match (enc.clip.as_mut(), &enc.failed) {
                (Some(clip), None) => clip.push(shot),
                _ => Ok(()),
            };
            if let Err(e) = pushed {
                enc.failed = Some(e);
            }
            active.encoded.fetch_add(1, Ordering::Relaxed);
        }
    }
    let frame = std::time::Duration::from_secs_f64(1.0 / settings.speed.clamp(1.0, 1000.0));
    match next_action(
        active.asked,
        active.total,
        active.encoded.load(Ordering::Relaxed),
    ) {
        Next::Hold => {
            // The picture of this frame is taken once the encoder has caught up; until then
            // the simulation does not move (lockstep: no frame is lost).
            *time_strategy = TimeUpdateStrategy::ManualDuration(std::time::Duration::ZERO);
            return;
        }
        Next::Capture => {
            if let (Some(tx), Ok(cam)) = (active.tx.clone(), camera.single()) {
                // Lockstep: one simulation frame per rendered frame while recording.
                *time_strategy = TimeUpdateStrategy::ManualDuration(frame);
                let crop = match cam.physical_viewport_rect() {
                    Some(r) => [r.min.x, r.min.y, r.width().max(1), r.height().max(1)],
                    None => [0, 0, u32::MAX, u32::MAX],
                };
                let counter = active.captured.clone();
                commands.spawn(Screenshot::primary_window()).observe(
                    move |captured: On<ScreenshotCaptured>| {
                        if tx.send((captured.image.clone(), crop)).is_ok() {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    },
                );
                active.asked += 1;
                return;
            }
        }
        Next::Drain => {}
    }
    // Everything asked for: once every picture has arrived, close the channel and wait for the
    // encoder (without blocking the frame).
    let arrived = active.captured.load(Ordering::Relaxed);
    if arrived >= active.asked || stop {
        active.tx = None;
        *time_strategy = TimeUpdateStrategy::Automatic;
    }
    #[cfg(not(target_arch = "wasm32"))]
    let result = if active.tx.is_none() && active.encoder.as_ref().is_some_and(|h| h.is_finished())
    {
        active.encoder.take().map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("the encoder panicked".into()))
                .map(|n| format!("Saved {} ({n} frames)", active.path.display()))
        })
    } else {
        None
    };
    #[cfg(target_arch = "wasm32")]
    let result = if active.tx.is_none()
        && let Ok(enc) = active.encoder.get_mut()
    {
        let name = active.path.display().to_string();
        match (enc.failed.take(), enc.clip.take()) {
            (Some(e), _) => Some(Err(e)),
            (None, Some(clip)) => Some(clip.finish().and_then(|(n, bytes)| {
                let bytes = bytes.ok_or_else(|| "no frame was captured".to_string())?;
                crate::browser::download(&name, "image/gif", &bytes)?;
                Ok(format!("Downloaded {name} ({n} frames)"))
            })),
            (None, None) => None,
        }
    } else {
        None
    };
    if let Some(result) = result {
        let text = match result {
            Ok(t) => t,
            Err(e) => format!("Could not save the recording: {e}"),
        };
        info!("{text}");
        ui.toast = Some((text, now + 5.0));
        rec.active = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorder_waits_for_the_encoder() {
        assert_eq!(next_action(0, 150, 0), Next::Capture);
        assert_eq!(next_action(3, 150, 0), Next::Capture);
        // Four pictures in flight: hold.
        assert_eq!(next_action(4, 150, 0), Next::Hold);
        assert_eq!(next_action(40, 150, 36), Next::Hold);
        assert_eq!(next_action(40, 150, 37), Next::Capture);
        assert_eq!(next_action(150, 150, 100), Next::Drain);
    }
}
