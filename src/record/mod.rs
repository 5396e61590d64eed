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
mod phases;
mod scene;
mod sinks;

pub use sinks::{Sink, ffmpeg_available};

use crate::sim::{SimCommand, SimPlugin, SimSettings};
use crate::view::ViewPlugin;
use crate::view::backdrop::Backdrop;
use bevy::app::ScheduleRunnerPlugin;
use bevy::camera::visibility::RenderLayers;
use bevy::ecs::schedule::{Schedules, SingleThreadedExecutor};
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::time::TimeUpdateStrategy;
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;
use frames::{FrameCapture, FramesPlugin, Picture, Pictures};
use optiscape_core::scenario::Scenario;
use phases::{Phase, Settle, Settling};
use scene::FrameCounter;
use sinks::{Pixels, encoder};
use std::collections::BTreeMap;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    // A folder of PNGs is created, but not its parent.
    optiscape_core::setup::check_folder_of(path)?;
    if matches!(plan.sink, Sink::Mp4(_)) && !ffmpeg_available() {
        return Err(format!(
            "writing {} needs ffmpeg on PATH (e.g. `apt-get install ffmpeg`); or record to a .gif or a folder of PNGs",
            path.display()
        ));
    }
    Ok(())
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
    /// Frames asked for but not yet handed to the encoder, at most (see `in_flight_for`).
    max_in_flight: u32,
    /// The camera at frame 0: yaw, pitch, radius, focus.
    camera: (f32, f32, f32, Vec3),
}

/// How long the last pictures may take to come back before the recording fails.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Frames in flight for pictures of this size: about 256 MB of them (2 to 16), besides the
/// encoder's queue of 8.
fn in_flight_for((w, h): (u32, u32)) -> u32 {
    let bytes = u64::from(w) * u64::from(h) * 4;
    (256_000_000 / bytes.max(1)).clamp(2, 16) as u32
}

/// Renders `plan` and writes it. Blocks until done.
pub fn record(plan: RecordPlan) -> Result<RecordStats, String> {
    check_plan(&plan)?;
    let surface = plan.scenario.surface()?;
    let error = Arc::new(Mutex::new(None));
    let stats = Arc::new(Mutex::new(None));
    let mut app = App::new();
    crate::view::render_plugins::add_render_plugins(
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
    let size = plan.size;
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
        max_in_flight: in_flight_for(size),
        camera,
    })
    .add_systems(PostStartup, move |mut writer: MessageWriter<SimCommand>| {
        writer.write(SimCommand::LoadScenario(Box::new(scenario.clone())));
    })
    .add_systems(PostStartup, (scene::aim_at_image, scene::overlay))
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

/// Runs the warm-up, keeps the backdrop, asks for one picture per frame, hands pictures to the
/// encoder in order, moves the camera, and ends the app.
#[allow(clippy::too_many_arguments)]
fn drive(
    mut rec: ResMut<Recorder>,
    pictures: Res<Pictures>,
    mut settings: ResMut<SimSettings>,
    mut cameras: Query<(
        &mut Transform,
        &mut FrameCapture,
        &mut Backdrop,
        &mut RenderLayers,
    )>,
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
    if let Some(e) = untagged.iter().chain(&tagged).find_map(|p| p.error.clone()) {
        fail(&mut rec, &mut exit, e);
        return;
    }
    if let Phase::Draining { since, sent } = rec.phase {
        if rec.sent > sent {
            rec.phase = Phase::Draining {
                since: Instant::now(),
                sent: rec.sent,
            };
        } else if since.elapsed() > DRAIN_TIMEOUT {
            let msg = format!(
                "the renderer did not return frames {}..{} within {} s",
                rec.sent,
                total,
                DRAIN_TIMEOUT.as_secs()
            );
            fail(&mut rec, &mut exit, msg);
            return;
        }
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
        Phase::Draining { .. } => None,
    };
    match rec.phase {
        Phase::Recording { next } if next - rec.sent >= rec.max_in_flight => {
            // The encoder (or the read-back) is behind: no picture this update, and the
            // simulation waits, so no frame is lost and memory stays bounded.
            settings.playing = false;
        }
        Phase::Recording { next } => {
            // One picture per update; the simulation advances one frame between them.
            if reuse {
                backdrop = Backdrop::Use;
            }
            for mut text in &mut counter {
                text.0 = format!("frame {next}");
            }
            take = Some(Some(next));
            if next + 1 >= total {
                settings.playing = false;
                rec.phase = Phase::Draining {
                    since: Instant::now(),
                    sent: rec.sent,
                };
            } else {
                settings.playing = true;
                rec.phase = Phase::Recording { next: next + 1 };
            }
        }
        Phase::WarmUp(_) | Phase::Backdrop(_) | Phase::Draining { .. } => {}
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
    for (mut t, mut capture, mut kept, mut layers) in &mut cameras {
        if let Some(view) = view {
            t.set_if_neq(view);
        }
        *capture = FrameCapture { take };
        kept.set_if_neq(backdrop);
        let shown = backdrop.parts().layers();
        if *layers != shown {
            *layers = shown;
        }
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
    use super::in_flight_for;

    #[test]
    fn frames_in_flight_stay_within_about_256_mb() {
        assert_eq!(in_flight_for((800, 600)), 16);
        assert_eq!(in_flight_for((4096, 4096)), 3);
        assert_eq!(in_flight_for((16, 16)), 16);
        for size in [(800, 600), (1920, 1080), (4096, 4096)] {
            let bytes = u64::from(size.0 * size.1 * 4) * u64::from(in_flight_for(size));
            assert!(bytes <= 256_000_000, "{size:?}");
        }
    }
}
