//! The sandbox application: the window, the plugins, and the screenshot mode.

use crate::cli::SandboxArgs;
use crate::sim::{SimCommand, SimPlugin, SimSettings};
use crate::ui::UiPlugin;
use crate::view::ViewPlugin;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::time::TimeUpdateStrategy;
use bevy_egui::EguiPlugin;
use bevy_panorbit_camera::PanOrbitCameraPlugin;
use std::path::PathBuf;

/// Everything visual on top of the headless simulation.
pub struct SandboxPlugin;

impl Plugin for SandboxPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            EguiPlugin::default(),
            PanOrbitCameraPlugin,
            ViewPlugin,
            UiPlugin,
        ));
    }
}

/// Where and when to take the screenshot in `--screenshot` mode.
#[derive(Resource, Clone, Debug)]
struct ScreenshotPlan {
    path: PathBuf,
    frames: u32,
    taken: bool,
}

/// Adds Bevy's default plugins (or a variant of them). Bevy panics when it finds no graphics
/// adapter or no display; that becomes an error saying what to do, not a backtrace.
pub fn add_render_plugins<M>(
    app: &mut App,
    plugins: impl bevy::app::Plugins<M>,
) -> Result<(), String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let added = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        app.add_plugins(plugins);
    }));
    std::panic::set_hook(hook);
    added.map_err(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let why = why.lines().next().unwrap_or("").trim();
        if why.contains("event loop") || why.contains("DISPLAY") {
            format!(
                "cannot open a window ({why}); the sandbox needs a display (X11 or Wayland): on \
                 a machine without one, use `xvfb-run optiscape ...`, or `optiscape record` \
                 which needs no window"
            )
        } else {
            format!(
                "no usable graphics adapter ({why}); rendering needs a Vulkan or GL driver: \
                 without a GPU, Mesa's software one works (Debian/Ubuntu: apt-get install \
                 mesa-vulkan-drivers)"
            )
        }
    })
}

/// Runs the sandbox until the window closes (or the screenshot is saved).
pub fn run_sandbox(args: &SandboxArgs) -> AppExit {
    let mut app = App::new();
    let plugins = DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: "optiscape — how optimizers fight local optima".into(),
            resolution: (1280, 720).into(),
            ..default()
        }),
        ..default()
    });
    if let Err(e) = add_render_plugins(&mut app, plugins) {
        eprintln!("optiscape: error: {e}");
        return AppExit::from_code(2);
    }
    app.add_plugins((SimPlugin, SandboxPlugin));
    let seed = args.seed;
    let starts = args.starts;
    // `main` has checked these already; here a bad one is simply not applied.
    let surface = args.surface.as_deref().and_then(|spec| {
        crate::cli::build_surface(spec, args.domain.as_deref(), &args.surface_param).ok()
    });
    let scenario = args
        .scenario
        .as_deref()
        .and_then(|name| crate::cli::load_scenario(name).ok());
    // With nothing else asked for, the notebook's scenario (the same setup as the opening
    // scene, tested) is loaded as such, so that the scenario menu can tell when it is edited.
    let notebook = (args.scenario.is_none() && args.surface.is_none() && args.starts.is_none())
        .then(|| crate::scenario::Scenario::load_or_builtin("notebook").ok())
        .flatten();
    // After the simulation's own opening scene (written in `Startup`).
    app.add_systems(PostStartup, move |mut writer: MessageWriter<SimCommand>| {
        if let Some(sc) = notebook.clone() {
            writer.write(SimCommand::LoadScenario(Box::new(sc)));
        }
        writer.write(SimCommand::SetSeed(seed));
        if let Some(sc) = scenario.clone() {
            writer.write(SimCommand::LoadScenario(Box::new(sc)));
        }
        if let Some(s) = surface.clone() {
            writer.write(SimCommand::SetSurface(s));
        }
        if let Some(k) = starts {
            writer.write(SimCommand::Restart {
                k: k as usize,
                region: None,
            });
        }
    });
    // The scenario menu names what opened: a shipped scenario, or the notebook's (which is the
    // opening scene) when nothing else was asked for.
    let opened = match &args.scenario {
        Some(name) => (!std::path::Path::new(name).exists()
            && crate::scenario::builtin().iter().any(|b| b.name == name))
        .then(|| name.clone()),
        None if args.surface.is_none() && args.starts.is_none() => Some("notebook".to_string()),
        None => None,
    };
    app.insert_resource(crate::ui::ScenarioUi {
        current: opened,
        ..default()
    });
    if let Some(path) = &args.screenshot {
        // Deterministic: one simulation frame per rendered frame, whatever the renderer's speed.
        let hz = app.world().resource::<SimSettings>().speed;
        app.insert_resource(TimeUpdateStrategy::ManualDuration(
            std::time::Duration::from_secs_f64(1.0 / hz),
        ))
        .insert_resource(ScreenshotPlan {
            path: path.clone(),
            frames: args.frames.max(1),
            taken: false,
        })
        .add_systems(Last, take_screenshot);
    }
    app.run()
}

/// Frames skipped before frame times are averaged (start-up, pipeline compilation).
const WARM_UP_FRAMES: u32 = 10;

fn take_screenshot(
    mut commands: Commands,
    mut plan: ResMut<ScreenshotPlan>,
    mut frame: Local<u32>,
    mut timed: Local<(u32, Option<std::time::Instant>)>,
) {
    // Wall-clock time: in this mode `Time` advances by a fixed amount per frame.
    *frame += 1;
    if *frame == WARM_UP_FRAMES {
        timed.1 = Some(std::time::Instant::now());
    } else if *frame > WARM_UP_FRAMES {
        timed.0 += 1;
    }
    if plan.taken || *frame < plan.frames {
        return;
    }
    plan.taken = true;
    if let (n @ 1.., Some(t0)) = *timed {
        info!(
            "mean frame time over {n} frames (after {WARM_UP_FRAMES} warm-up frames): {:.1} ms",
            1000.0 * t0.elapsed().as_secs_f64() / n as f64
        );
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
