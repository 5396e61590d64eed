//! Recording: the sandbox's scene (the same `SimPlugin` and `ViewPlugin`) rendered offscreen,
//! one simulation frame per picture, and written as a looping GIF, an H.264 MP4 (through
//! `ffmpeg`) or a folder of numbered PNGs. No window and no X server: any Vulkan or GL adapter,
//! the software one included.
//!
//! Pictures are read straight from the camera's render texture, and with a still camera the
//! still parts of the scene are rendered once and reused ([`frames`]). Before the first frame
//! the simulation is held still and frames are rendered until two in a row are the same (every
//! pipeline compiled), so the first recorded frame is complete.

mod frames;

use crate::scenario::Scenario;
use crate::sim::{Roster, SimCommand, SimPlugin, SimSettings};
use crate::view::{ScenePartsShown, ViewPlugin};
use bevy::app::ScheduleRunnerPlugin;
use bevy::camera::RenderTarget;
use bevy::camera::{
    Camera3dDepthLoadOp, CameraMainTextureUsages, CameraOutputMode, ClearColorConfig,
};
use bevy::ecs::schedule::{Schedules, SingleThreadedExecutor};
use bevy::prelude::*;
use bevy::render::render_resource::{TextureFormat, TextureUsages};
use bevy::time::TimeUpdateStrategy;
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;
use frames::{Backdrop, FrameCapture, FramesPlugin, Picture, Pictures};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the frames go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sink {
    /// A looping GIF.
    Gif(PathBuf),
    /// H.264 in MP4, encoded by `ffmpeg` from raw frames on its stdin.
    Mp4(PathBuf),
    /// `frame-00000.png`, `frame-00001.png`, ... in this folder.
    Pngs(PathBuf),
}

impl Sink {
    /// `.gif`, `.mp4`, or anything else: a folder of PNGs.
    pub fn for_path(path: &Path) -> Self {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("gif") => Sink::Gif(path.to_path_buf()),
            Some("mp4") => Sink::Mp4(path.to_path_buf()),
            _ => Sink::Pngs(path.to_path_buf()),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Sink::Gif(p) | Sink::Mp4(p) | Sink::Pngs(p) => p,
        }
    }
}

/// Camera motion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CameraMode {
    /// The scenario's camera (or the sandbox's framing of the surface).
    Preset,
    /// The same, turning slowly around the focus (one turn per 20 s of video).
    Orbit,
}

/// Everything a recording needs.
#[derive(Clone, Debug)]
pub struct RecordPlan {
    pub scenario: Scenario,
    pub frames: u32,
    pub fps: u32,
    pub size: (u32, u32),
    pub camera: CameraMode,
    pub sink: Sink,
    /// Shown top left over the picture.
    pub title: String,
    /// Write progress to stderr.
    pub progress: bool,
    /// Draw every part of the scene in every frame, instead of drawing the still parts once
    /// (with a still camera) and reusing them. Slower; the pictures are the same but for where
    /// a contour line passes in front of a ball.
    pub redraw_all: bool,
}

impl RecordPlan {
    /// Whether the still parts are drawn once and reused (see [`frames`]).
    fn reuses_backdrop(&self) -> bool {
        self.camera == CameraMode::Preset && !self.redraw_all
    }
}

/// What a finished recording measured.
#[derive(Clone, Debug)]
pub struct RecordStats {
    pub frames: u32,
    /// Wall time from the first recorded frame to the last written one.
    pub seconds: f64,
    /// Frames rendered before recording (pipeline compilation).
    pub warm_up_frames: u32,
}

/// Whether `ffmpeg` can be run.
pub fn ffmpeg_available() -> bool {
    std::process::Command::new(ffmpeg_program())
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `ffmpeg`, or the program named by `OPTISCAPE_FFMPEG` (for tests).
fn ffmpeg_program() -> String {
    std::env::var("OPTISCAPE_FFMPEG").unwrap_or_else(|_| "ffmpeg".into())
}

/// Checks what can be checked before any rendering: the output's folder, ffmpeg for `.mp4`.
pub fn check_plan(plan: &RecordPlan) -> Result<(), String> {
    let (w, h) = plan.size;
    if !(16..=4096).contains(&w) || !(16..=4096).contains(&h) {
        return Err(format!(
            "--size must be 16..=4096 on each side (got {w}x{h})"
        ));
    }
    if matches!(plan.sink, Sink::Mp4(_)) && (w % 2 == 1 || h % 2 == 1) {
        return Err(format!(
            "--size for .mp4 needs even width and height (H.264 4:2:0; got {w}x{h})"
        ));
    }
    if !(1..=100_000).contains(&plan.frames) {
        return Err(format!("--frames must be 1..=100000 (got {})", plan.frames));
    }
    if !(1..=120).contains(&plan.fps) {
        return Err(format!("--fps must be 1..=120 (got {})", plan.fps));
    }
    let path = plan.sink.path();
    let parent = match &plan.sink {
        Sink::Pngs(dir) => dir.parent(),
        _ => path.parent(),
    };
    if let Some(d) = parent.filter(|d| !d.as_os_str().is_empty())
        && !d.is_dir()
    {
        return Err(format!(
            "cannot write {}: the folder {} does not exist",
            path.display(),
            d.display()
        ));
    }
    if matches!(plan.sink, Sink::Mp4(_)) && !ffmpeg_available() {
        return Err(format!(
            "writing {} needs ffmpeg on PATH (e.g. `apt-get install ffmpeg`); or record to a .gif or a folder of PNGs",
            path.display()
        ));
    }
    Ok(())
}

/// A frame's pixels, RGBA, row by row.
type Pixels = Vec<u8>;

/// Writes frames in order as they come; returns when the channel closes.
fn encoder(
    sink: Sink,
    (w, h): (u32, u32),
    fps: u32,
    frames: Receiver<Pixels>,
) -> Result<u32, String> {
    let shown = sink.path().display().to_string();
    let mut count = 0u32;
    match sink {
        Sink::Gif(path) => {
            let mut gif = GifWriter::create(&path, w, h, fps as f64)?;
            for px in frames {
                gif.push(&px)?;
                count += 1;
            }
            gif.finish()?;
        }
        Sink::Mp4(path) => {
            let mut child = std::process::Command::new(ffmpeg_program())
                .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo"])
                .args(["-pix_fmt", "rgba", "-s", &format!("{w}x{h}")])
                .args(["-r", &fps.to_string(), "-i", "-"])
                .args([
                    "-c:v",
                    "libx264",
                    // The rendering is fast enough that a slow preset would be the bottleneck;
                    // these clips are mostly a still backdrop, which every preset packs well.
                    "-preset",
                    "veryfast",
                    "-pix_fmt",
                    "yuv420p",
                    "-movflags",
                    "+faststart",
                ])
                .arg(&path)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("{shown}: could not start ffmpeg: {e}"))?;
            let mut stdin = child
                .stdin
                .take()
                .ok_or_else(|| format!("{shown}: ffmpeg has no stdin"))?;
            let mut broken = None;
            for px in frames {
                if let Err(e) = stdin.write_all(&px) {
                    broken = Some(e);
                    break;
                }
                count += 1;
            }
            drop(stdin);
            let out = child
                .wait_with_output()
                .map_err(|e| format!("{shown}: ffmpeg: {e}"))?;
            if !out.status.success() || broken.is_some() {
                let why = String::from_utf8_lossy(&out.stderr);
                return Err(format!(
                    "{shown}: ffmpeg failed ({}): {}",
                    out.status,
                    why.lines().last().unwrap_or("no message")
                ));
            }
        }
        Sink::Pngs(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{shown}: {e}"))?;
            for px in frames {
                let img = image::RgbaImage::from_raw(w, h, px)
                    .ok_or_else(|| format!("{shown}: a frame had the wrong size"))?;
                let file = dir.join(format!("frame-{count:05}.png"));
                image::DynamicImage::ImageRgba8(img)
                    .to_rgb8()
                    .save(&file)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                count += 1;
            }
        }
    }
    Ok(count)
}

/// Colors NeuQuant learns; the rest of the 255 are kept for colors it represents badly.
const LEARNED: usize = 240;

/// A GIF palette: NeuQuant's colors learned from the first frame, plus up to
/// `255 - LEARNED` exact colors of that frame that the learned ones miss by most (weighted by
/// how many pixels have them): small, saturated things such as balls and the legend's method
/// colors, which NeuQuant's sampling can skip.
struct Palette {
    quant: color_quant::NeuQuant,
    /// RGB triples: the learned colors, then the exact ones.
    rgb: Vec<[u8; 3]>,
}

impl Palette {
    fn learn(rgba: &[u8]) -> Self {
        // Learned as opaque whatever the alpha (GIF colors have none; window captures can
        // carry any), so lookups with alpha 255 match.
        let opaque: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        let quant = color_quant::NeuQuant::new(10, LEARNED, &opaque);
        let mut rgb: Vec<[u8; 3]> = quant
            .color_map_rgb()
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        let mut counts: std::collections::HashMap<[u8; 3], u32> = Default::default();
        for p in rgba.chunks_exact(4) {
            *counts.entry([p[0], p[1], p[2]]).or_default() += 1;
        }
        let mut missed: Vec<(u64, [u8; 3])> = counts
            .into_iter()
            .filter_map(|(c, n)| {
                let k = quant.index_of(&[c[0], c[1], c[2], 255]);
                let e = distance(c, rgb[k]);
                // Off by more than about 10 levels per channel.
                (e > 300).then_some((n as u64 * e as u64, c))
            })
            .collect();
        missed.sort_unstable_by(|a, b| b.cmp(a));
        for (_, c) in missed {
            if rgb.len() >= 255 {
                break;
            }
            // Not next to an exact color already kept.
            if rgb[LEARNED..].iter().all(|k| distance(*k, c) > 300) {
                rgb.push(c);
            }
        }
        Self { quant, rgb }
    }

    /// The index of the nearest palette color.
    fn index_of(&self, p: &[u8]) -> u8 {
        let c = [p[0], p[1], p[2]];
        let mut best = self.quant.index_of(&[c[0], c[1], c[2], 255]);
        let mut d = distance(c, self.rgb[best]);
        for (j, k) in self.rgb.iter().enumerate().skip(LEARNED) {
            let e = distance(c, *k);
            if e < d {
                (best, d) = (j, e);
            }
        }
        best as u8
    }

    /// 256 RGB entries (the last ones, including the transparent index, unused).
    fn bytes(&self) -> Vec<u8> {
        let mut b: Vec<u8> = self.rgb.iter().flatten().copied().collect();
        b.resize(256 * 3, 0);
        b
    }
}

/// Squared distance between two colors.
fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    (0..3)
        .map(|i| (a[i] as i32 - b[i] as i32).pow(2) as u32)
        .sum()
}

/// The palette index that means "unchanged" (the palette has at most 255 colors, 0..=254).
const TRANSPARENT: u8 = 255;

/// A looping GIF written frame by frame: one 255-color palette (`Palette`: learned from the
/// first frame, which already shows the surface and every ball) for the whole clip, no
/// dithering, and after the first frame only the rectangle that changed. With a still camera
/// that is a few balls and trails per frame, so clips stay small.
///
/// Each distinct color is looked up in the palette once (a table over all 2^24 colors), and a
/// pixel whose color did not change since the last frame keeps its index without a lookup.
pub struct GifWriter {
    /// The file until the first frame (whose palette becomes the GIF's global one).
    file: Option<std::io::BufWriter<std::fs::File>>,
    enc: Option<gif::Encoder<std::io::BufWriter<std::fs::File>>>,
    shown: String,
    size: (u16, u16),
    delay: u16,
    palette: Option<Palette>,
    /// Palette index of each RGB color seen so far (`TRANSPARENT`: not looked up yet).
    lookup: Vec<u8>,
    /// The last frame, RGBA.
    last_rgba: Vec<u8>,
    /// The picture so far, as palette indices.
    last: Vec<u8>,
    /// A buffer for a frame's changed pixels: (pixel, new palette index).
    changes: Vec<(usize, u8)>,
}

impl GifWriter {
    pub fn create(path: &Path, w: u32, h: u32, fps: f64) -> Result<Self, String> {
        let shown = path.display().to_string();
        let size = (
            u16::try_from(w).map_err(|_| format!("{shown}: too wide for a GIF"))?,
            u16::try_from(h).map_err(|_| format!("{shown}: too tall for a GIF"))?,
        );
        let file = std::fs::File::create(path).map_err(|e| format!("{shown}: {e}"))?;
        Ok(Self {
            file: Some(std::io::BufWriter::new(file)),
            enc: None,
            shown,
            size,
            // GIF delays are in hundredths of a second.
            delay: (100.0 / fps.max(0.1)).round().clamp(2.0, 6000.0) as u16,
            palette: None,
            lookup: Vec::new(),
            last_rgba: Vec::new(),
            last: Vec::new(),
            changes: Vec::new(),
        })
    }

    /// Appends one RGBA frame of the writer's size.
    pub fn push(&mut self, rgba: &[u8]) -> Result<(), String> {
        let (w, h) = (self.size.0 as usize, self.size.1 as usize);
        if rgba.len() != w * h * 4 {
            return Err(format!("{}: a frame had the wrong size", self.shown));
        }
        let palette = self.palette.get_or_insert_with(|| Palette::learn(rgba));
        if self.lookup.is_empty() {
            self.lookup = vec![TRANSPARENT; 1 << 24];
        }
        let lookup = &mut self.lookup;
        let mut index_of = |p: &[u8]| {
            let rgb = usize::from(p[0]) | usize::from(p[1]) << 8 | usize::from(p[2]) << 16;
            let mut k = lookup[rgb];
            if k == TRANSPARENT {
                k = palette.index_of(p);
                lookup[rgb] = k;
            }
            k
        };
        let mut frame = if self.last.is_empty() {
            // The first frame: every pixel.
            self.last = rgba.chunks_exact(4).map(&mut index_of).collect();
            self.last_rgba = rgba.to_vec();
            gif::Frame::from_indexed_pixels(self.size.0, self.size.1, self.last.clone(), None)
        } else {
            // Later frames: the pixels whose palette index changed, inside their bounding box.
            // Most rows are byte for byte the last frame's (a still camera): one comparison
            // each.
            let mut changes = std::mem::take(&mut self.changes);
            changes.clear();
            let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
            let rows = rgba
                .chunks_exact(w * 4)
                .zip(self.last_rgba.chunks_exact_mut(w * 4));
            for (y, (row, last_row)) in rows.enumerate() {
                if row == last_row {
                    continue;
                }
                for (x, (p, q)) in row
                    .chunks_exact(4)
                    .zip(last_row.chunks_exact(4))
                    .enumerate()
                {
                    if p == q {
                        continue;
                    }
                    let i = y * w + x;
                    let k = index_of(p);
                    if k != self.last[i] {
                        changes.push((i, k));
                        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y);
                    }
                }
                last_row.copy_from_slice(row);
            }
            if changes.is_empty() {
                // Nothing changed: one transparent pixel.
                (x0, y0, x1, y1) = (0, 0, 0, 0);
            }
            // Inside the box, unchanged pixels are transparent: long runs of one index, which
            // LZW packs into almost nothing.
            let (fw, fh) = (x1 - x0 + 1, y1 - y0 + 1);
            let mut sub = vec![TRANSPARENT; fw * fh];
            for &(i, k) in &changes {
                let (x, y) = (i % w, i / w);
                sub[(y - y0) * fw + (x - x0)] = k;
                self.last[i] = k;
            }
            self.changes = changes;
            let mut f =
                gif::Frame::from_indexed_pixels(fw as u16, fh as u16, sub, Some(TRANSPARENT));
            f.left = x0 as u16;
            f.top = y0 as u16;
            f
        };
        frame.delay = self.delay;
        frame.dispose = gif::DisposalMethod::Keep;
        let shown = &self.shown;
        if let Some(file) = self.file.take() {
            let mut enc = gif::Encoder::new(file, self.size.0, self.size.1, &palette.bytes())
                .map_err(|e| format!("{shown}: {e}"))?;
            enc.set_repeat(gif::Repeat::Infinite)
                .map_err(|e| format!("{shown}: {e}"))?;
            self.enc = Some(enc);
        }
        self.enc
            .as_mut()
            .ok_or_else(|| format!("{shown}: the GIF was already finished"))?
            .write_frame(&frame)
            .map_err(|e| format!("{shown}: {e}"))?;
        Ok(())
    }

    /// Writes the trailer and flushes the file.
    pub fn finish(self) -> Result<(), String> {
        let shown = self.shown;
        let enc = match (self.enc, self.file) {
            (Some(enc), _) => enc,
            // No frame came: a valid, empty GIF.
            (None, Some(file)) => gif::Encoder::new(file, self.size.0, self.size.1, &[])
                .map_err(|e| format!("{shown}: {e}"))?,
            (None, None) => return Err(format!("{shown}: the GIF was already finished")),
        };
        let mut w = enc.into_inner().map_err(|e| format!("{shown}: {e}"))?;
        w.flush().map_err(|e| format!("{shown}: {e}"))
    }
}

/// Rendering the same scene over and over until it has settled: two pictures in a row equal,
/// rendered with every pipeline compiled, and not blank.
#[derive(Debug, Default)]
struct Settling {
    in_flight: bool,
    last: Option<Pixels>,
    frames: u32,
}

impl Settling {
    /// Takes this update's untagged pictures: settled (after at least `min_frames` updates),
    /// or whether to ask for another picture (one at a time, or every frame with
    /// `every_frame`), or given up after 2000 updates.
    fn step(&mut self, got: Vec<Picture>, min_frames: u32, every_frame: bool) -> Settle {
        self.frames += 1;
        let mut settled = false;
        for p in got {
            self.in_flight = false;
            let distinct = p
                .pixels
                .chunks_exact(4)
                .step_by(97)
                .map(|c| [c[0], c[1], c[2]])
                .collect::<std::collections::HashSet<_>>()
                .len();
            if self.frames > min_frames
                && p.complete
                && distinct > 20
                && self.last.as_ref() == Some(&p.pixels)
            {
                settled = true;
            }
            self.last = Some(p.pixels);
        }
        if settled {
            return Settle::Done;
        }
        if self.frames > 2000 {
            return Settle::TimedOut;
        }
        let ask = every_frame || !self.in_flight;
        self.in_flight |= ask;
        Settle::Waiting { ask }
    }
}

enum Settle {
    Done,
    Waiting { ask: bool },
    TimedOut,
}

#[derive(Debug)]
enum Phase {
    /// Rendering with the simulation held still until the picture settles (every pipeline
    /// compiled), so the first recorded frame is complete.
    WarmUp(Settling),
    /// A still camera: rendering the still parts alone until they settle; the last one is
    /// kept as the backdrop.
    Backdrop(Settling),
    /// Frame `next` is captured this update.
    Recording { next: u32 },
    /// Every frame asked for; waiting for the last pictures.
    Draining,
}

#[derive(Resource)]
struct Recorder {
    plan: RecordPlan,
    target: Handle<Image>,
    phase: Phase,
    /// Captured but not yet sent (pictures can come back out of order).
    pending: BTreeMap<u32, Pixels>,
    sent: u32,
    out: Option<SyncSender<Pixels>>,
    started: Option<Instant>,
    /// Set when something fails; the app exits and `record` returns it.
    error: Arc<Mutex<Option<String>>>,
    stats: Arc<Mutex<Option<RecordStats>>>,
    warm_up_frames: u32,
    /// The camera at frame 0: yaw, pitch, radius, focus.
    camera: (f32, f32, f32, Vec3),
}

/// The frame counter text.
#[derive(Component)]
struct FrameCounter;

/// Renders `plan` and writes it. Blocks until done.
pub fn record(plan: RecordPlan) -> Result<RecordStats, String> {
    check_plan(&plan)?;
    let surface = plan.scenario.surface()?;
    let error = Arc::new(Mutex::new(None));
    let stats = Arc::new(Mutex::new(None));
    let mut app = App::new();
    crate::app::add_render_plugins(
        &mut app,
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .disable::<WinitPlugin>(),
    )?;
    app.add_plugins(ScheduleRunnerPlugin::run_loop(Duration::ZERO))
        .add_plugins((SimPlugin, ViewPlugin));
    let speed = plan.scenario.speed.clamp(1.0, 1000.0);
    app.insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
        1.0 / speed,
    )));
    // The output file is created only once rendering can start.
    let (tx, rx) = sync_channel::<Pixels>(8);
    let enc = {
        let (sink, size, fps) = (plan.sink.clone(), plan.size, plan.fps);
        std::thread::spawn(move || encoder(sink, size, fps, rx))
    };
    // The camera's framing: the scenario's, or the sandbox's for the surface.
    let camera = match &plan.scenario.camera {
        Some(c) => (
            c.yaw,
            c.pitch,
            c.radius,
            Vec3::new(c.focus.0, c.focus.1, c.focus.2),
        ),
        None => {
            let (focus, radius) = crate::view::camera_frame(&surface);
            (0.35, 0.95, radius, focus)
        }
    };
    let target = {
        let mut images = app.world_mut().resource_mut::<Assets<Image>>();
        let image = Image::new_target_texture(
            plan.size.0,
            plan.size.1,
            TextureFormat::Rgba8UnormSrgb,
            None,
        );
        images.add(image)
    };
    let scenario = plan.scenario.clone();
    let pictures = Pictures::default();
    app.add_plugins(FramesPlugin {
        pictures: pictures.clone(),
    })
    .insert_resource(pictures)
    .insert_resource(Recorder {
        plan,
        target,
        phase: Phase::WarmUp(Settling::default()),
        pending: BTreeMap::new(),
        sent: 0,
        out: Some(tx),
        started: None,
        error: error.clone(),
        stats: stats.clone(),
        warm_up_frames: 0,
        camera,
    })
    .add_systems(PostStartup, move |mut writer: MessageWriter<SimCommand>| {
        writer.write(SimCommand::LoadScenario(Box::new(scenario.clone())));
    })
    .add_systems(PostStartup, (aim_at_image, overlay))
    .add_systems(
        Update,
        drive
            .after(crate::sim::SimSystems::Commands)
            .before(crate::view::ViewSystems::Build),
    );
    // Every schedule runs its systems one after another. The simulation and the renderer still
    // run side by side (Bevy's pipelined rendering); what goes is the cost of waking worker
    // threads for each of hundreds of small systems, which on two cores shared with the
    // software rasterizer was a fifth of a frame.
    let one_at_a_time = |world: &mut World| {
        if let Some(mut schedules) = world.get_resource_mut::<Schedules>() {
            for (_, schedule) in schedules.iter_mut() {
                schedule.set_executor(SingleThreadedExecutor::new());
            }
        }
    };
    one_at_a_time(app.world_mut());
    one_at_a_time(app.sub_app_mut(bevy::render::RenderApp).world_mut());
    app.run();
    // The app has exited: the recorder (and its sender) is gone with it.
    drop(app);
    let written = enc
        .join()
        .map_err(|_| "the encoder thread panicked".to_string())?;
    if let Some(e) = error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e);
    }
    written?;
    stats
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .ok_or_else(|| "the recording ended before its last frame".to_string())
}

/// Points the sandbox's camera at the offscreen image, and sets it up for reading its pictures
/// back from its render texture and, with a still camera, for the cached backdrop.
fn aim_at_image(
    mut commands: Commands,
    rec: Res<Recorder>,
    mut cameras: Query<(Entity, &mut Camera, &mut Camera3d)>,
) {
    for (cam, mut camera, mut camera3d) in &mut cameras {
        // Pictures are read from the camera's own texture: no blit to the image. The frame is
        // cleared, or started from the backdrop, by `frames`, not by the camera (Bevy renders a
        // camera with its output off only if it does not clear).
        camera.output_mode = CameraOutputMode::Skip;
        camera.clear_color = ClearColorConfig::None;
        camera3d.depth_load_op = Camera3dDepthLoadOp::Load;
        camera3d.depth_texture_usages =
            (TextureUsages::from(camera3d.depth_texture_usages) | frames::COPY_USAGES).into();
        commands.entity(cam).insert((
            RenderTarget::Image(rec.target.clone().into()),
            CameraMainTextureUsages(CameraMainTextureUsages::default().0 | frames::COPY_USAGES),
            FrameCapture::default(),
        ));
    }
}

/// The legend (method names in their colors), the title and the frame counter, drawn by
/// bevy_ui into the same image.
fn overlay(mut commands: Commands, rec: Res<Recorder>, cameras: Query<Entity, With<Camera3d>>) {
    let Some(cam) = cameras.iter().next() else {
        return;
    };
    let scale = (rec.plan.size.1 as f32 / 600.0).clamp(0.5, 3.0);
    let font = |size: f32| TextFont {
        font_size: FontSize::Px(size * scale),
        ..default()
    };
    let defaults = Roster::default();
    let methods: Vec<(String, Color)> = rec
        .plan
        .scenario
        .methods()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.enabled)
        .map(|m| {
            let entry = defaults.get(&m.optimizer.id);
            let color = match m.color {
                Some([r, g, b]) => Color::srgb(r, g, b),
                None => entry.map(|e| e.color).unwrap_or(Color::WHITE),
            };
            let label = entry.map(|e| e.label).unwrap_or(m.optimizer.id.as_str());
            (label.to_string(), color)
        })
        .collect();
    let title = rec.plan.title.clone();
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                left: px(10.0 * scale),
                top: px(10.0 * scale),
                flex_direction: FlexDirection::Column,
                padding: UiRect::all(px(8.0 * scale)),
                row_gap: px(2.0 * scale),
                ..default()
            },
            BackgroundColor(Color::srgba(0.05, 0.06, 0.08, 0.72)),
            UiTargetCamera(cam),
        ))
        .with_children(|p| {
            p.spawn((Text::new(title), font(15.0), TextColor(Color::WHITE)));
            // A color swatch and the name (the default font has no bullet glyph).
            for (label, color) in methods {
                p.spawn(Node {
                    flex_direction: FlexDirection::Row,
                    align_items: AlignItems::Center,
                    column_gap: px(6.0 * scale),
                    ..default()
                })
                .with_children(|row| {
                    row.spawn((
                        Node {
                            width: px(10.0 * scale),
                            height: px(10.0 * scale),
                            ..default()
                        },
                        BackgroundColor(color),
                    ));
                    row.spawn((Text::new(label), font(14.0), TextColor(color)));
                });
            }
        });
    commands.spawn((
        Node {
            position_type: PositionType::Absolute,
            right: px(10.0 * scale),
            bottom: px(8.0 * scale),
            padding: UiRect::axes(px(8.0 * scale), px(4.0 * scale)),
            ..default()
        },
        BackgroundColor(Color::srgba(0.05, 0.06, 0.08, 0.72)),
        UiTargetCamera(cam),
        Text::new("frame 0"),
        font(14.0),
        TextColor(Color::WHITE),
        FrameCounter,
    ));
}

/// Runs the warm-up, keeps the backdrop, asks for one picture per frame, hands pictures to the
/// encoder in order, moves the camera, and ends the app.
#[allow(clippy::too_many_arguments)]
fn drive(
    mut rec: ResMut<Recorder>,
    pictures: Res<Pictures>,
    mut settings: ResMut<SimSettings>,
    mut parts: ResMut<ScenePartsShown>,
    mut cameras: Query<(&mut Transform, &mut FrameCapture)>,
    mut counter: Query<&mut Text, With<FrameCounter>>,
    mut exit: MessageWriter<AppExit>,
) {
    let (untagged, tagged): (Vec<Picture>, Vec<Picture>) =
        pictures.take().into_iter().partition(|p| p.tag.is_none());
    let total = rec.plan.frames;
    let fail = |rec: &mut Recorder, exit: &mut MessageWriter<AppExit>, msg: String| {
        if let Ok(mut e) = rec.error.lock() {
            e.get_or_insert(msg);
        }
        rec.out = None;
        exit.write(AppExit::from_code(2));
    };
    if untagged.iter().chain(&tagged).any(|p| p.pixels.is_empty()) {
        fail(
            &mut rec,
            &mut exit,
            "the renderer's picture format is not 8-bit RGBA; cannot record it".into(),
        );
        return;
    }
    // What this update renders: the capture request and the backdrop's use.
    let mut take = None;
    let mut backdrop = Backdrop::Off;
    let reuse = rec.plan.reuses_backdrop();
    match &mut rec.phase {
        Phase::WarmUp(settling) => {
            // Hold the simulation, render everything until it settles.
            settings.playing = false;
            match settling.step(untagged, 20, false) {
                Settle::Done => {
                    rec.warm_up_frames = settling.frames;
                    rec.started = Some(Instant::now());
                    rec.phase = if reuse {
                        Phase::Backdrop(Settling::default())
                    } else {
                        Phase::Recording { next: 0 }
                    };
                }
                Settle::Waiting { ask } => take = ask.then_some(None),
                Settle::TimedOut => {
                    let msg = "the renderer never produced a stable picture (2000 frames)";
                    fail(&mut rec, &mut exit, msg.into());
                    return;
                }
            }
        }
        Phase::Backdrop(settling) => {
            // The still parts alone, kept after every such frame (see `frames`); the last one
            // is the backdrop.
            settings.playing = false;
            match settling.step(untagged, 1, true) {
                Settle::Done => rec.phase = Phase::Recording { next: 0 },
                Settle::Waiting { ask } => {
                    *parts = ScenePartsShown::Still;
                    backdrop = Backdrop::Keep;
                    take = ask.then_some(None);
                }
                Settle::TimedOut => {
                    let msg = "the renderer never produced a stable backdrop (2000 frames)";
                    fail(&mut rec, &mut exit, msg.into());
                    return;
                }
            }
        }
        _ => {}
    }
    // The camera for this update's picture: frame 0's view during the warm-up and for the
    // backdrop, so both are rendered from where the recording looks.
    let shown_frame = match rec.phase {
        Phase::WarmUp(_) | Phase::Backdrop(_) => Some(0),
        Phase::Recording { next } => Some(next),
        Phase::Draining => None,
    };
    match rec.phase {
        Phase::Recording { next } => {
            // One picture per update; the simulation advances one frame between them.
            if reuse {
                *parts = ScenePartsShown::Moving;
                backdrop = Backdrop::Use;
            }
            for mut text in &mut counter {
                text.0 = format!("frame {next}");
            }
            take = Some(Some(next));
            if next + 1 >= total {
                settings.playing = false;
                rec.phase = Phase::Draining;
            } else {
                settings.playing = true;
                rec.phase = Phase::Recording { next: next + 1 };
            }
        }
        Phase::WarmUp(_) | Phase::Backdrop(_) | Phase::Draining => {}
    }
    let view = shown_frame.map(|frame| {
        let (yaw0, pitch, radius, focus) = rec.camera;
        let yaw = match rec.plan.camera {
            CameraMode::Preset => yaw0,
            CameraMode::Orbit => {
                yaw0 + std::f32::consts::TAU * frame as f32 / (20.0 * rec.plan.fps as f32)
            }
        };
        let rotation = Quat::from_rotation_y(yaw) * Quat::from_rotation_x(-pitch);
        Transform {
            translation: focus + rotation * Vec3::new(0.0, 0.0, radius),
            rotation,
            ..default()
        }
    });
    for (mut t, mut capture) in &mut cameras {
        if let Some(view) = view {
            t.set_if_neq(view);
        }
        *capture = FrameCapture { take, backdrop };
    }
    for p in tagged {
        if let Some(k) = p.tag {
            rec.pending.insert(k, p.pixels);
        }
    }
    loop {
        let k = rec.sent;
        let Some(px) = rec.pending.remove(&k) else {
            break;
        };
        let ok = rec.out.as_ref().is_some_and(|tx| tx.send(px).is_ok());
        if !ok {
            // The encoder stopped (its error is reported by `record`).
            rec.out = None;
            exit.write(AppExit::from_code(2));
            return;
        }
        rec.sent += 1;
        if rec.plan.progress {
            eprint!("\r\x1b[2Krecord: frame {}/{total}", rec.sent);
        }
    }
    if rec.sent >= total && rec.out.is_some() {
        rec.out = None;
        let seconds = rec
            .started
            .map(|t| t.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        if rec.plan.progress {
            eprintln!();
        }
        if let Ok(mut s) = rec.stats.lock() {
            *s = Some(RecordStats {
                frames: total,
                seconds,
                warm_up_frames: rec.warm_up_frames,
            });
        }
        exit.write(AppExit::Success);
    }
}

#[cfg(test)]
mod tests {
    use super::GifWriter;

    /// Decodes a GIF and composites its frames (each drawn over the last, transparent pixels
    /// keeping what was there), as a viewer shows them.
    fn decode(path: &std::path::Path) -> Vec<Vec<u8>> {
        let mut opts = gif::DecodeOptions::new();
        opts.set_color_output(gif::ColorOutput::RGBA);
        let mut dec = opts
            .read_info(std::fs::File::open(path).expect("gif file"))
            .expect("gif header");
        let (w, h) = (dec.width() as usize, dec.height() as usize);
        let mut canvas = vec![0u8; w * h * 4];
        let mut out = Vec::new();
        while let Some(f) = dec.read_next_frame().expect("gif frame") {
            for y in 0..f.height as usize {
                for x in 0..f.width as usize {
                    let s = (y * f.width as usize + x) * 4;
                    if f.buffer[s + 3] == 0 {
                        continue;
                    }
                    let d = ((y + f.top as usize) * w + x + f.left as usize) * 4;
                    canvas[d..d + 4].copy_from_slice(&f.buffer[s..s + 4]);
                }
            }
            out.push(canvas.clone());
        }
        out
    }

    const W: usize = 160;
    const H: usize = 120;

    /// A 160x120 picture: a background of four bands and a 4x4 red square at `(x, y)`.
    fn picture(x: usize, y: usize) -> Vec<u8> {
        let bands = [
            [30, 60, 200],
            [90, 140, 230],
            [220, 220, 225],
            [200, 90, 70],
        ];
        let mut px = Vec::new();
        for j in 0..H {
            for i in 0..W {
                let on = (x..x + 4).contains(&i) && (y..y + 4).contains(&j);
                let [r, g, b] = if on { [250, 20, 30] } else { bands[i / 40] };
                px.extend([r, g, b, 255]);
            }
        }
        px
    }

    #[test]
    fn gif_frames_decode_to_what_was_pushed() {
        let dir = std::env::temp_dir().join(format!("optiscape-gif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("square.gif");
        // Moving, still (nothing changed), moving back over where it was.
        let frames = [
            picture(2, 3),
            picture(20, 10),
            picture(20, 10),
            picture(5, 3),
        ];
        let mut gif = GifWriter::create(&path, W as u32, H as u32, 30.0).unwrap();
        for f in &frames {
            gif.push(f).unwrap();
        }
        assert!(gif.push(&[0; 12]).is_err(), "a frame of the wrong size");
        gif.finish().unwrap();
        let shown = decode(&path);
        assert_eq!(shown.len(), frames.len());
        for (k, (want, got)) in frames.iter().zip(&shown).enumerate() {
            let worst = want
                .iter()
                .zip(got)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            // Five colors: the square's red (16 pixels of 19,200, which NeuQuant alone maps
            // to the nearest band) is kept exactly.
            assert!(worst <= 6, "frame {k}: a channel off by {worst}");
            // The square is where it was drawn, in red.
            let (x, y) = [(2, 3), (20, 10), (20, 10), (5, 3)][k];
            let s = ((y + 1) * W + x + 1) * 4;
            assert!(got[s] > 200 && got[s + 1] < 60, "frame {k}: no square");
        }
        // Where the square was in frame 1 is background again in frame 3.
        let s = ((10 + 1) * W + 20 + 1) * 4;
        assert!(shown[3][s] < 200, "the old square was not erased");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_gif_without_frames_is_still_a_gif() {
        let dir = std::env::temp_dir().join(format!("optiscape-gif0-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("empty.gif");
        GifWriter::create(&path, 16, 16, 10.0)
            .unwrap()
            .finish()
            .unwrap();
        // The header, the screen descriptor and the trailer.
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"GIF89a"), "{bytes:?}");
        assert_eq!(bytes.last(), Some(&b';'));
        std::fs::remove_dir_all(&dir).ok();
    }
}
