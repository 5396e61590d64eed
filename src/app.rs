//! The sandbox application: the window, the plugins, what it opens with, and the screenshot
//! mode.

use crate::sim::{Ball, BallRun, SimCommand, SimPlugin, SimSettings};
use crate::ui::UiPlugin;
use crate::view::ViewPlugin;
use crate::view::render_plugins::add_render_plugins;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::time::TimeUpdateStrategy;
use bevy_egui::EguiPlugin;
use bevy_panorbit_camera::PanOrbitCameraPlugin;
use optiscape_core::landscape::Surface;
use optiscape_core::scenario::Scenario;
use std::path::PathBuf;

/// Everything visual on top of the headless simulation.
pub struct SandboxPlugin;

impl Plugin for SandboxPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            EguiPlugin::default(),
            PanOrbitCameraPlugin,
            ViewPlugin,
            crate::view::still_cache::StillCachePlugin,
            UiPlugin,
        ));
    }
}

/// What the sandbox opens with; the command line builds it (`cli::sandbox`).
#[derive(Clone, Debug, Default)]
pub struct SandboxSettings {
    /// Loaded first, with its own seed.
    pub scenario: Option<Scenario>,
    /// Then this surface, if given.
    pub surface: Option<Surface>,
    /// The seed when no scenario is loaded.
    pub seed: u64,
    /// Then K random start points, if given.
    pub starts: Option<u32>,
    /// Or K networks per method in training (on a network slice).
    pub networks: Option<u32>,
    /// The scenario menu's name for what opened (a shipped scenario).
    pub opened: Option<String>,
    /// Render, save a screenshot and exit.
    pub screenshot: Option<ScreenshotSettings>,
    /// Shown when the window opens (why a link could not be opened).
    pub message: Option<String>,
    /// Draw everything in every frame at full resolution (`--redraw-all`): the frame-time aids
    /// of the Display section start off.
    pub redraw_all: bool,
}

/// `--screenshot PATH --frames N`.
#[derive(Clone, Debug)]
pub struct ScreenshotSettings {
    pub path: PathBuf,
    /// Frames rendered before the screenshot (at least 1).
    pub frames: u32,
    /// Turn the camera around the surface until then.
    pub orbit: bool,
    /// Also write the balls' state ([`sandbox_state`]) to this file then.
    pub state: Option<PathBuf>,
}

/// Where and when to take the screenshot in `--screenshot` mode.
#[derive(Resource, Clone, Debug)]
struct ScreenshotPlan {
    path: PathBuf,
    frames: u32,
    orbit: bool,
    state: Option<PathBuf>,
    taken: bool,
}

/// Runs the sandbox until the window closes (or the screenshot is saved).
pub fn run_sandbox(settings: SandboxSettings) -> AppExit {
    let mut app = App::new();
    let plugins = DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: "optiscape — how optimizers fight local optima".into(),
            resolution: (1280, 720).into(),
            // The web page: its canvas, sized to the page; the browser keeps its own keys
            // (reload, zoom, the developer tools).
            #[cfg(target_arch = "wasm32")]
            canvas: Some("#optiscape".into()),
            #[cfg(target_arch = "wasm32")]
            fit_canvas_to_parent: true,
            #[cfg(target_arch = "wasm32")]
            prevent_default_event_handling: false,
            ..default()
        }),
        ..default()
    });
    if let Err(e) = add_render_plugins(&mut app, plugins) {
        eprintln!("optiscape: error: {e}");
        return AppExit::from_code(2);
    }
    app.add_plugins((SimPlugin, SandboxPlugin));
    #[cfg(target_arch = "wasm32")]
    app.add_systems(Last, publish_page_state);
    let SandboxSettings {
        scenario,
        surface,
        seed,
        starts,
        networks,
        opened,
        screenshot,
        message,
        redraw_all,
    } = settings;
    if redraw_all {
        app.insert_resource(crate::view::still_cache::RenderSettings {
            reuse_still: crate::view::still_cache::Aid::Off,
            half_while_moving: crate::view::still_cache::Aid::Off,
            ..default()
        });
    }
    // After the simulation's own opening scene (written in `Startup`).
    app.add_systems(PostStartup, move |mut writer: MessageWriter<SimCommand>| {
        match scenario.clone() {
            Some(sc) => writer.write(SimCommand::LoadScenario(Box::new(sc))),
            None => writer.write(SimCommand::SetSeed(seed)),
        };
        if let Some(s) = surface.clone() {
            writer.write(SimCommand::SetSurface(s));
        }
        if let Some(k) = starts {
            writer.write(SimCommand::Restart {
                k: k as usize,
                region: None,
            });
        }
        if let Some(k) = networks {
            writer.write(SimCommand::TrainNetworks {
                runs: k as usize,
                updates_per_frame: crate::sim::NetRuns::default().updates_per_frame,
            });
        }
    });
    if let Some(k) = starts {
        // The Start points field shows the count on screen.
        app.add_systems(PostStartup, move |mut ui: ResMut<crate::ui::UiState>| {
            ui.starts = k as usize;
        });
    }
    if message.is_some() {
        // The message itself stays under the Scenario section's field.
        app.add_systems(PostStartup, |mut ui: ResMut<crate::ui::UiState>| {
            ui.toast = Some(("Could not open the link (see Scenario)".into(), 8.0));
        });
    }
    app.insert_resource(crate::ui::ScenarioUi {
        current: opened,
        error: message,
        ..default()
    });
    if let Some(shot) = screenshot {
        // Deterministic: one simulation frame per rendered frame, whatever the renderer's speed.
        let hz = app.world().resource::<SimSettings>().speed;
        app.insert_resource(TimeUpdateStrategy::ManualDuration(
            std::time::Duration::from_secs_f64(1.0 / hz),
        ))
        .insert_resource(ScreenshotPlan {
            path: shot.path,
            frames: shot.frames.max(1),
            orbit: shot.orbit,
            state: shot.state,
            taken: false,
        })
        .add_systems(Update, orbit_camera)
        .add_systems(Last, take_screenshot);
    }
    app.run()
}

/// Radians the camera turns per frame with `--orbit` (a turn in about 10 s at 30 frames/s).
const ORBIT_STEP: f32 = std::f32::consts::TAU / 300.0;

/// `--orbit`: the camera turns around its focus in every frame.
fn orbit_camera(
    plan: Res<ScreenshotPlan>,
    mut cameras: Query<&mut bevy_panorbit_camera::PanOrbitCamera>,
) {
    if !plan.orbit || plan.taken {
        return;
    }
    for mut cam in &mut cameras {
        cam.target_yaw += ORBIT_STEP;
    }
}

/// Frames skipped before frame times are averaged (start-up, pipeline compilation).
const WARM_UP_FRAMES: u32 = 10;

#[allow(clippy::too_many_arguments)]
fn take_screenshot(
    mut commands: Commands,
    aids: Res<crate::view::still_cache::RenderAids>,
    mut plan: ResMut<ScreenshotPlan>,
    mut frame: Local<u32>,
    mut timed: Local<(u32, Option<bevy::platform::time::Instant>)>,
    balls: Query<StateBall>,
    scenario: Res<crate::ui::ScenarioUi>,
    sim: crate::ui::SimState,
    lab: Res<crate::ui::LabState>,
) {
    // Wall-clock time: in this mode `Time` advances by a fixed amount per frame.
    *frame += 1;
    if *frame == WARM_UP_FRAMES {
        timed.1 = Some(bevy::platform::time::Instant::now());
    } else if *frame > WARM_UP_FRAMES {
        timed.0 += 1;
    }
    if plan.taken || *frame < plan.frames {
        return;
    }
    plan.taken = true;
    if let (n @ 1.., Some(t0)) = *timed {
        info!(
            "mean frame time over {n} frames (after {WARM_UP_FRAMES} warm-up frames): {:.1} ms; \
             still parts drawn for reuse in {} frames, reused in {}",
            1000.0 * t0.elapsed().as_secs_f64() / n as f64,
            aids.keeps,
            aids.reuses
        );
    }
    if let Some(state) = &plan.state {
        let json = sandbox_state(&balls, &scenario, &sim, &lab, *frame as u64);
        match std::fs::write(state, json + "\n") {
            Ok(()) => info!("state saved to {}", state.display()),
            Err(e) => {
                error!("could not save the state to {}: {e}", state.display());
                commands.write_message(AppExit::from_code(2));
                return;
            }
        }
    }
    let path = plan.path.clone();
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
            match crate::ui::save_png(&captured.image, &path) {
                Ok(()) => {
                    info!("screenshot saved to {}", path.display());
                    exit.write(AppExit::Success);
                }
                Err(e) => {
                    error!("could not save the screenshot to {}: {e}", path.display());
                    exit.write(AppExit::from_code(2));
                }
            }
        },
    );
}

/// What the state document says of a ball.
type StateBall<'a> = (&'a Ball, &'a BallRun, Option<&'a crate::sim::NetBall>);

/// The sandbox's state as JSON, for comparing the web page with the desktop sandbox: the frame,
/// the surface, the whole setup as the scenario Save would write (`setup`, RON), the scenario
/// menu's name, message and recent list, the lab's running jobs (what, fraction done) and its
/// basin map's summary, and per ball (in spawn order) its method, start, frames, updates,
/// status, position and loss as the hexadecimal bits of the f64s, and its network run (`null`
/// for a ball that is not a network).
pub fn sandbox_state(
    balls: &Query<StateBall>,
    scenario: &crate::ui::ScenarioUi,
    sim: &crate::ui::SimState,
    lab: &crate::ui::LabState,
    frame: u64,
) -> String {
    let setup = crate::ui::current_scenario(sim);
    let bits = |v: f64| format!("{:016x}", v.to_bits());
    let mut list: Vec<_> = balls.iter().collect();
    list.sort_by_key(|(b, ..)| b.serial);
    let balls: Vec<serde_json::Value> = list
        .iter()
        .map(|(b, r, net)| {
            serde_json::json!({
                "network": net.map(|n| n.run),
                "method": b.method,
                "start": [bits(b.start.x), bits(b.start.y)],
                "frames": b.frames,
                "limit": b.limit,
                "steps": r.0.steps,
                "status": format!("{:?}", r.0.status),
                "pos": [bits(r.0.pos.x), bits(r.0.pos.y)],
                "loss": bits(r.0.loss),
            })
        })
        .collect();
    serde_json::json!({
        "frame": frame,
        "surface": setup.surface().map(|s| s.spec()).unwrap_or_default(),
        "setup": setup.to_ron().unwrap_or_else(|e| format!("error: {e}")),
        "scenario": scenario.current,
        "message": scenario.error,
        "recent": scenario.recent,
        "lab": {
            "running": lab.running(),
            "basin": lab.basin.as_ref().map(|(_, map)| map),
            "message": lab.message,
        },
        "balls": balls,
    })
    .to_string()
}

/// The web page: the state its tests read, and the loading screen told when the sandbox
/// draws.
#[cfg(target_arch = "wasm32")]
fn publish_page_state(
    balls: Query<StateBall>,
    scenario: Res<crate::ui::ScenarioUi>,
    sim: crate::ui::SimState,
    lab: Res<crate::ui::LabState>,
    mut frame: Local<u64>,
) {
    *frame += 1;
    if *frame == 3 {
        crate::browser::page_ready();
    }
    // With many balls, a few times a second (the text grows with them).
    if balls.iter().len() <= 256 || (*frame).is_multiple_of(30) {
        crate::browser::publish_state(sandbox_state(&balls, &scenario, &sim, &lab, *frame));
    }
}
