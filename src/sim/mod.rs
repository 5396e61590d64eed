//! The simulation as Bevy ECS, without rendering (runs under `MinimalPlugins`): balls are
//! entities whose optimizer is a component; a fixed-timestep system advances them with the
//! core's `step_once`; the UI and input drive it only through `SimCommand` messages.

mod ball;
mod commands;
pub mod network;
mod roster;

pub use ball::{Ball, BallOptimizer, BallRun, Trail, advance_ball};
pub use commands::SimCommand;
pub use network::{NetBall, NetPoint};
pub use optiscape_core::lab::Target;
pub use roster::{MethodEntry, Roster, method_color};

use bevy::prelude::*;
use glam::DVec2;
use optiscape_core::landscape::{Domain, Surface};
use optiscape_core::optim::Rng;

/// The simulation's system sets, in order: commands are applied, then balls step.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum SimSystems {
    /// `Update`: apply `SimCommand`s.
    Commands,
    /// `FixedUpdate`: advance every running ball by one frame.
    Step,
}

/// The surface every ball runs on.
#[derive(Resource, Reflect, Clone, Default)]
#[reflect(Resource)]
pub struct SimSurface(#[reflect(ignore)] pub Surface);

/// Run settings.
#[derive(Resource, Reflect, Clone, Debug)]
#[reflect(Resource)]
pub struct SimSettings {
    pub playing: bool,
    /// Ticks (animation frames) per second of simulated time, 1..=1000.
    pub speed: f64,
    /// Frames each ball runs before it is done (the notebook's N = 300). A ball whose method
    /// makes several updates per frame (AdaDelta's 10) makes that many per frame.
    pub frames: u64,
    /// Trail points kept per ball (fewer when there are many balls: see `trail_len_for`).
    pub trail_len: usize,
}

/// Trail points kept over all balls together (16 bytes each): 100,000 balls keep 30 each.
pub const TRAIL_BUDGET: usize = 3_000_000;

impl SimSettings {
    /// The trail length per ball for `balls` balls: `trail_len`, cut so that all trails
    /// together stay within `TRAIL_BUDGET` points; every ball keeps at least its current point,
    /// so the bound is `max(TRAIL_BUDGET, balls)` (the sandbox holds at most 100,000 start
    /// points x 22 methods = 2.2 million balls, below the budget).
    pub fn trail_len_for(&self, balls: usize) -> usize {
        self.trail_len.min(TRAIL_BUDGET / balls.max(1)).max(1)
    }
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            playing: true,
            speed: 30.0,
            frames: 300,
            trail_len: 3000,
        }
    }
}

/// The seeded random source behind random start points and per-ball noise seeds: the same seed
/// reproduces a session.
#[derive(Resource, Reflect, Clone, Debug, Default)]
#[reflect(Resource)]
pub struct SimRng {
    pub seed: u64,
    #[reflect(ignore)]
    pub rng: Rng,
}

impl SimRng {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            rng: Rng::new(seed),
        }
    }

    /// `k` points uniform over `region`, continuing the source.
    pub fn points(&mut self, region: Domain, k: usize) -> Vec<DVec2> {
        optiscape_core::lab::random_points(&mut self.rng, region, k)
    }
}

/// Whether the balls are networks in training (`SimCommand::TrainNetworks`), and how many
/// runs per method and updates per frame they were asked with.
#[derive(Resource, Reflect, Clone, Debug, PartialEq)]
#[reflect(Resource)]
pub struct NetRuns {
    pub active: bool,
    pub runs: usize,
    pub updates_per_frame: u64,
}

impl Default for NetRuns {
    fn default() -> Self {
        Self {
            active: false,
            runs: 4,
            updates_per_frame: optiscape_core::net::DEFAULT_UPDATES_PER_FRAME,
        }
    }
}

/// The start points of the current set of balls (the same for every method).
#[derive(Resource, Reflect, Clone, Debug, Default)]
#[reflect(Resource)]
pub struct StartPoints(pub Vec<DVec2>);

/// The simulation's part of a scenario: surface, methods, starts, steps, speed and seed
/// (display and camera are left at their defaults for the view to fill in). Methods are listed
/// when enabled, or when their color or hyperparameters differ from the defaults.
pub fn scenario_of(
    surface: &SimSurface,
    settings: &SimSettings,
    rng: &SimRng,
    starts: &StartPoints,
    roster: &Roster,
    net_runs: &NetRuns,
) -> optiscape_core::scenario::Scenario {
    use optiscape_core::scenario::{NetworksSpec, Scenario, StartSpec, VERSION};
    let defaults = Roster::default();
    let methods = roster
        .0
        .iter()
        .filter_map(|m| {
            let srgb = m.color.to_srgba();
            let own = defaults.get(m.id).map(|d| d.color) == Some(m.color);
            let color = (!own).then_some([srgb.red, srgb.green, srgb.blue]);
            let spec = Scenario::method_spec(&m.template, m.enabled, color);
            (m.enabled || color.is_some() || !spec.params.is_empty()).then_some(spec)
        })
        .collect();
    let s = &surface.0;
    let networks = net_runs.active.then_some(NetworksSpec {
        runs: net_runs.runs,
        updates_per_frame: net_runs.updates_per_frame,
    });
    let starts = if networks.is_some() || (starts.0.len() == 1 && starts.0[0] == s.default_start())
    {
        StartSpec::Default
    } else {
        StartSpec::Points(starts.0.iter().map(|p| (p.x, p.y)).collect())
    };
    Scenario {
        version: VERSION,
        description: String::new(),
        surface: Scenario::surface_spec(s),
        display: Default::default(),
        methods,
        starts,
        steps: settings.frames,
        speed: settings.speed,
        seed: rng.seed,
        camera: None,
        networks,
    }
}

/// The setup as it was right after the last scenario was loaded, and whether it has been
/// changed since (surface, methods and their settings, start points, steps, speed or seed; not
/// the balls' progress). The scenario menu shows "(edited)" then.
#[derive(Resource, Reflect, Default)]
#[reflect(Resource)]
pub struct LoadedSetup {
    #[reflect(ignore)]
    baseline: Option<optiscape_core::scenario::Scenario>,
    pub edited: bool,
}

/// Compares the setup with the loaded one whenever a part of it changed.
fn track_setup_edits(
    surface: Res<SimSurface>,
    settings: Res<SimSettings>,
    rng: Res<SimRng>,
    starts: Res<StartPoints>,
    roster: Res<Roster>,
    net_runs: Res<NetRuns>,
    mut loaded: ResMut<LoadedSetup>,
) {
    let changed = surface.is_changed()
        || settings.is_changed()
        || rng.is_changed()
        || starts.is_changed()
        || roster.is_changed()
        || net_runs.is_changed();
    let Some(baseline) = loaded.baseline.as_ref().filter(|_| changed) else {
        return;
    };
    let edited = *baseline != scenario_of(&surface, &settings, &rng, &starts, &roster, &net_runs);
    if loaded.edited != edited {
        loaded.edited = edited;
    }
}

/// The headless simulation: resources, messages and systems.
pub struct SimPlugin;

impl Plugin for SimPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<SimSurface>()
            .init_resource::<SimSettings>()
            .init_resource::<StartPoints>()
            .init_resource::<Roster>()
            .init_resource::<LoadedSetup>()
            .init_resource::<NetRuns>()
            .register_type::<LoadedSetup>()
            .register_type::<NetRuns>()
            .register_type::<NetBall>()
            .insert_resource(SimRng::new(1))
            .add_message::<SimCommand>()
            .configure_sets(Update, SimSystems::Commands)
            .configure_sets(FixedUpdate, SimSystems::Step)
            .add_systems(Startup, commands::spawn_opening_scene)
            .add_systems(
                Update,
                (commands::apply_commands, sync_fixed_rate, track_setup_edits)
                    .chain()
                    .in_set(SimSystems::Commands),
            )
            .add_systems(
                FixedUpdate,
                (ball::step_balls, network::step_networks)
                    .run_if(|s: Res<SimSettings>| s.playing)
                    .in_set(SimSystems::Step),
            )
            .add_systems(Update, network::retune_networks.after(SimSystems::Commands));
    }
}

/// Keeps the fixed timestep at the speed setting.
fn sync_fixed_rate(settings: Res<SimSettings>, mut time: ResMut<Time<Fixed>>) {
    let hz = settings.speed.clamp(1.0, 1000.0);
    let want = std::time::Duration::from_secs_f64(1.0 / hz);
    if time.timestep() != want {
        time.set_timestep(want);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trail_budget_holds_for_any_number_of_balls() {
        let settings = SimSettings::default();
        for balls in [1, 16, 1000, 100_000, 187_500, 500_000, 2_200_000] {
            let per_ball = settings.trail_len_for(balls);
            assert!(
                per_ball >= 1 && per_ball <= settings.trail_len,
                "{balls}: {per_ball}"
            );
            assert!(
                per_ball * balls <= TRAIL_BUDGET,
                "{balls} balls x {per_ball} points"
            );
        }
        assert_eq!(settings.trail_len_for(1), settings.trail_len);
        assert_eq!(settings.trail_len_for(100_000), 30);
    }

    #[test]
    fn a_trail_holds_what_its_budget_allows() {
        let mut trail = Trail::starting_at(DVec2::ZERO);
        assert_eq!(trail.0.capacity(), 1);
        for i in 0..100 {
            trail.push(DVec2::splat(i as f64), 6);
        }
        assert_eq!(trail.0.len(), 6);
        assert!(trail.0.capacity() <= 8, "{}", trail.0.capacity());
        assert_eq!(trail.0.back(), Some(&DVec2::splat(99.0)));
        // More balls: the budget per ball shrinks, and so does the memory.
        for i in 0..10 {
            trail.push(DVec2::splat(i as f64), 1);
        }
        assert_eq!(trail.0.len(), 1);
        assert!(trail.0.capacity() <= 2, "{}", trail.0.capacity());
    }
}
