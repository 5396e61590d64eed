//! The lab inside the sandbox: a basin map, a race, a learning-rate sweep, runtime
//! distributions (ECDFs), tuning and a phase map for the current surface, each computed on a
//! background thread (the UI stays responsive, a progress bar shows, it can be cancelled) with
//! the very same functions as the command line.

use crate::sim::{Roster, SimCommand, SimRng, SimSurface};
use crate::view::BasinOverlay;
use bevy::asset::RenderAssetUsages;
use bevy::image::{Image, ImageSampler};
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy_egui::egui;
use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};
use optiscape_core::lab::basins::{BasinMap, basins_paced, image as basin_image};
use optiscape_core::lab::ecdf::{EcdfCurve, ecdf_paced, targets};
use optiscape_core::lab::flow::{self, Escape};
use optiscape_core::lab::phase::{PhaseAxis, PhaseCell, phase_paced, rate_color};
use optiscape_core::lab::sweep::{SweepPoint, grid, sweep_paced};
use optiscape_core::lab::tune::{TuneRow, TuneSetup, set_value, total_runs, tune_paced};
use optiscape_core::lab::{
    GRAD_COST, Precision, Progress, RaceRow, Target, race_budgeted_paced, uniform_starts,
};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::Optimizer;
use std::sync::Arc;
use std::sync::atomic::Ordering;
#[cfg(not(target_arch = "wasm32"))]
use std::thread::JoinHandle;

mod charts;
mod fair;
mod job;
mod phase;
mod race_table;

use charts::*;
use fair::*;
pub use job::{Job, JobSetup};
use phase::*;
use race_table::*;

/// What the lab section holds: settings, running jobs and the latest results.
#[derive(Resource)]
pub struct LabState {
    pub method: String,
    pub resolution: usize,
    /// Each run's budget: updates, or evaluations on the one cost scale when `evals`.
    pub steps: u64,
    /// Whether `steps` counts evaluations (a function value 1, a gradient with its value
    /// [`GRAD_COST`]): every method then gets the same budget on one scale.
    pub evals: bool,
    pub race_starts: usize,
    pub sweep_lo: f64,
    pub sweep_hi: f64,
    pub sweep_points: usize,
    pub sweep_starts: usize,
    /// Settings tried per method by "Tune".
    pub tune_budget: usize,
    /// The phase map's vertical parameter (the horizontal one is the learning rate), ranges and
    /// cells per side.
    pub phase_y: String,
    /// The method `phase_y` was chosen for (another method gets its own default).
    pub phase_for: String,
    pub phase_x_range: (f64, f64),
    pub phase_y_range: (f64, f64),
    pub phase_points: usize,
    basin_job: Option<Job<BasinMap>>,
    race_job: Option<Job<RaceResult>>,
    sweep_job: Option<Job<Vec<SweepPoint>>>,
    ecdf_job: Option<Job<Vec<EcdfCurve>>>,
    tune_job: Option<Job<Vec<TuneRow>>>,
    phase_job: Option<Job<PhaseResult>>,
    /// The latest results, with what they were computed on.
    pub basin: Option<(JobSetup, BasinMap)>,
    pub race: Option<(JobSetup, RaceResult)>,
    pub sweep: Option<(JobSetup, Vec<SweepPoint>)>,
    pub ecdf: Option<(JobSetup, Vec<EcdfCurve>)>,
    pub tune: Option<(JobSetup, Vec<TuneRow>)>,
    pub phase: Option<(JobSetup, PhaseResult)>,
    pub message: Option<String>,
}

impl LabState {
    /// The jobs running now: what each computes and the fraction done.
    pub fn running(&self) -> Vec<(String, f32)> {
        fn row<T: Send + 'static>(job: &Option<Job<T>>) -> Option<(String, f32)> {
            job.as_ref().map(|j| (j.what.clone(), j.fraction()))
        }
        [
            row(&self.basin_job),
            row(&self.race_job),
            row(&self.sweep_job),
            row(&self.ecdf_job),
            row(&self.tune_job),
            row(&self.phase_job),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A phase map with its axes.
#[derive(Clone, Debug)]
pub struct PhaseResult {
    pub x: PhaseAxis,
    pub y: PhaseAxis,
    pub cells: Vec<PhaseCell>,
}

impl Default for LabState {
    fn default() -> Self {
        Self {
            method: "seed:sgd".into(),
            resolution: 128,
            steps: 300,
            evals: false,
            race_starts: 500,
            sweep_lo: 1e-3,
            sweep_hi: 1.0,
            sweep_points: 13,
            sweep_starts: 100,
            tune_budget: 16,
            phase_y: "momentum".into(),
            phase_for: String::new(),
            phase_x_range: (1e-3, 0.3),
            phase_y_range: (0.0, 0.99),
            phase_points: 16,
            basin_job: None,
            race_job: None,
            sweep_job: None,
            ecdf_job: None,
            tune_job: None,
            phase_job: None,
            basin: None,
            race: None,
            sweep: None,
            ecdf: None,
            tune: None,
            phase: None,
            message: None,
        }
    }
}

/// A finished job's result with the setup it ran on (the job is then gone); a cancelled one
/// leaves `"<what> cancelled"` in `message`.
fn finished<T: Send + 'static>(
    job: &mut Option<Job<T>>,
    what: &str,
    message: &mut Option<String>,
) -> Option<(JobSetup, T)> {
    let result = job.as_mut()?.take_finished()?;
    let setup = job.take()?.setup;
    match result {
        Some(r) => Some((setup, r)),
        None => {
            *message = Some(format!("{what} cancelled"));
            None
        }
    }
}

/// Collects finished jobs; turns a basin map into the overlay texture.
pub(super) fn poll_jobs(
    mut lab: ResMut<LabState>,
    mut overlay: ResMut<BasinOverlay>,
    mut images: ResMut<Assets<Image>>,
    surface: Res<SimSurface>,
) {
    if let Some(job) = lab.basin_job.as_mut()
        && let Some(result) = job.take_finished()
    {
        let setup = job.setup.clone();
        lab.basin_job = None;
        match result {
            // A map of another surface must not be draped over this one.
            Some(_) if setup.surface != surface.0 => {
                lab.message = Some(format!(
                    "the basin map of {} was discarded: the surface changed while it was computed",
                    setup.surface.spec()
                ));
            }
            Some(map) => {
                let rgb = basin_image(&map, 1);
                let (w, h) = rgb.dimensions();
                let rgba: Vec<u8> = rgb.pixels().flat_map(|p| [p[0], p[1], p[2], 255]).collect();
                let mut img = Image::new(
                    Extent3d {
                        width: w,
                        height: h,
                        depth_or_array_layers: 1,
                    },
                    TextureDimension::D2,
                    rgba,
                    TextureFormat::Rgba8UnormSrgb,
                    RenderAssetUsages::default(),
                );
                img.sampler = ImageSampler::nearest();
                overlay.image = Some(images.add(img));
                overlay.visible = true;
                lab.basin = Some((setup, map));
            }
            None => lab.message = Some("basin map cancelled".into()),
        }
    }
    let lab = &mut *lab;
    if let Some(r) = finished(&mut lab.race_job, "race", &mut lab.message) {
        lab.race = Some(r);
    }
    if let Some(r) = finished(&mut lab.sweep_job, "sweep", &mut lab.message) {
        lab.sweep = Some(r);
    }
    if let Some(r) = finished(&mut lab.ecdf_job, "ECDF", &mut lab.message) {
        lab.ecdf = Some(r);
    }
    if let Some(r) = finished(&mut lab.tune_job, "tuning", &mut lab.message) {
        lab.tune = Some(r);
    }
    if let Some(r) = finished(&mut lab.phase_job, "phase map", &mut lab.message) {
        lab.phase = Some(r);
    }
    // A map of another surface must not stay draped over this one.
    if lab
        .basin
        .as_ref()
        .is_some_and(|(setup, _)| setup.surface != surface.0)
    {
        lab.basin = None;
        overlay.image = None;
    }
}

impl LabState {
    /// `opt` with the lab's budget: `steps` updates, or `steps` evaluations on the one cost
    /// scale (an update rule then runs `steps / GRAD_COST` updates); the steps to run it for.
    pub(super) fn budgeted(&self, opt: &Optimizer) -> (Optimizer, u64) {
        if self.evals {
            opt.with_eval_budget(self.steps, GRAD_COST)
        } else {
            (opt.clone(), self.steps)
        }
    }

    /// The race of `methods` from `k` random starts, each with the lab's budget.
    fn spawn_race(&mut self, surface: &Surface, methods: &[Optimizer], k: usize, seed: u64) {
        let s = surface.clone();
        let target = Target::of(surface);
        let budgeted: Vec<(Optimizer, u64)> = methods.iter().map(|o| self.budgeted(o)).collect();
        let total = k * methods.len();
        let setup = JobSetup::now(surface, methods, self, seed, k);
        self.race_job = Some(Job::spawn(
            format!("{total} runs"),
            total,
            setup,
            move |p| async move {
                let starts = uniform_starts(s.domain, k, seed);
                let f64 = Precision::F64;
                let rows =
                    race_budgeted_paced(&s, &budgeted, &starts, seed, target, f64, GRAD_COST, &p)
                        .await?;
                // Where plain gradient flow from each start settles: the escape rate's basins.
                let target = optiscape_core::lab::race_target(target, &rows);
                let flows = flow::flow_values(&s, &starts, target.tol);
                Some(RaceResult {
                    escapes: rows
                        .iter()
                        .map(|r| flow::escape_of(target, &flows, &r.ends))
                        .collect(),
                    baseline: flow::chance_baseline(target, &flows),
                    rows,
                })
            },
        ));
    }
}

/// A race in the panel: its rows, each method's escape rate (the same function as the suite's)
/// and the chance baseline of its starts.
#[derive(Clone, Debug)]
pub struct RaceResult {
    pub rows: Vec<RaceRow>,
    pub escapes: Vec<Escape>,
    pub baseline: f64,
}

/// The methods of the one-click race between gradient descent and a method built for local
/// optima: the roster's Adam and CMA-ES (with the settings the user gave them).
pub const GRADIENT_VS_SEARCH: [&str; 2] = ["adam", "cma-es"];

/// The line under a result: what it was computed on, and a warning when that is not the
/// current surface.
fn setup_caption(ui: &mut egui::Ui, setup: &JobSetup, size: &str, current: &Surface) {
    ui.label(RichText::new(setup.describe(size)).small());
    if setup.surface != *current {
        ui.colored_label(
            Color32::LIGHT_YELLOW,
            RichText::new("computed on another surface than the current one").small(),
        );
    }
}

fn progress_row<T: Send + 'static>(ui: &mut egui::Ui, job: &Option<Job<T>>) -> bool {
    let Some(job) = job else {
        return false;
    };
    ui.horizontal(|ui| {
        ui.add(
            egui::ProgressBar::new(job.fraction())
                .desired_width(170.0)
                .text(job.what.clone()),
        );
        if ui.button("Cancel").clicked() {
            job.cancel();
        }
    });
    true
}

/// The "Lab" section of the right panel.
pub(super) fn lab_section(
    ui: &mut egui::Ui,
    lab: &mut LabState,
    overlay: &mut BasinOverlay,
    surface: &Surface,
    roster: &mut Roster,
    rng: &SimRng,
    out: &mut Vec<SimCommand>,
) {
    egui::CollapsingHeader::new("Lab: basins, race, sweep, ECDF, tuning, phase map")
        .default_open(false)
        .show(ui, |ui| {
            let target = Target::of(surface);
            ui.horizontal(|ui| {
                egui::ComboBox::from_id_salt("lab-method")
                    .selected_text(
                        roster
                            .get(&lab.method)
                            .map(|m| m.label)
                            .unwrap_or(lab.method.as_str()),
                    )
                    .show_ui(ui, |ui| {
                        for m in &roster.0 {
                            ui.selectable_value(&mut lab.method, m.id.to_string(), m.label);
                        }
                    });
                ui.label("budget");
                ui.add(egui::DragValue::new(&mut lab.steps).range(1..=100_000));
                egui::ComboBox::from_id_salt("lab-budget-unit")
                    .selected_text(if lab.evals { "evaluations" } else { "updates" })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut lab.evals, false, "updates");
                        ui.selectable_value(&mut lab.evals, true, "evaluations");
                    })
                    .response
                    .on_hover_text(format!(
                        "evaluations: every method gets the same budget on one scale, a function value costing 1 and a gradient with its value {GRAD_COST} (an update rule runs budget / {GRAD_COST} updates)"
                    ));
            });
            let template: Option<Optimizer> = roster.get(&lab.method).map(|m| m.template.clone());
            let Some(template) = template else {
                return;
            };
            // Basin map.
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("Basin map");
                ui.add(egui::DragValue::new(&mut lab.resolution).range(8..=1024))
                    .on_hover_text("cells per side");
                if lab.basin_job.is_none() && ui.button("Compute").clicked() {
                    let (o, n) = lab.budgeted(&template);
                    let (s, r, seed) = ((*surface).clone(), lab.resolution, rng.seed);
                    let setup = JobSetup::now(surface, std::slice::from_ref(&o), lab, seed, r);
                    lab.basin_job = Some(Job::spawn(
                        format!("{r} x {r} runs"),
                        r * r,
                        setup,
                        move |p| async move {
                            basins_paced(&s, &o, r, n, seed, target, Precision::F64, &p).await
                        },
                    ));
                }
            });
            progress_row(ui, &lab.basin_job);
            if let Some((setup, map)) = &lab.basin {
                setup_caption(ui, setup, "cells per side", surface);
                let bad = if map.bad_gradient_fraction > 0.0 {
                    format!(
                        "; {:.1}% stops on a gradient that is not finite",
                        100.0 * map.bad_gradient_fraction
                    )
                } else {
                    String::new()
                };
                ui.label(format!(
                    "{}: {:.1}% of the domain reaches a global minimum; {:.1}% diverges; {:.1}% still moving{bad}; {} minima",
                    setup.methods.join(", "),
                    100.0 * map.global_fraction,
                    100.0 * map.diverged_fraction,
                    100.0 * map.unsettled_fraction,
                    map.minima.len()
                ));
                ui.horizontal(|ui| {
                    ui.checkbox(&mut overlay.visible, "drape on the surface");
                    ui.add(egui::Slider::new(&mut overlay.alpha, 0.1..=1.0).text("blend"));
                });
                ui.label(
                    RichText::new("gold: global minima · colors: other basins · grey: still moving · black: diverged · crimson: gradient not finite")
                        .small(),
                );
            }
            // Race.
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("Race, K =");
                ui.add(egui::DragValue::new(&mut lab.race_starts).range(1..=100_000));
                let enabled: Vec<Optimizer> = roster.enabled().map(|m| m.template.clone()).collect();
                if lab.race_job.is_none()
                    && ui
                        .add_enabled(!enabled.is_empty(), egui::Button::new("Run"))
                        .on_hover_text("every enabled method from the same K random starts")
                        .clicked()
                {
                    lab.spawn_race(surface, &enabled, lab.race_starts, rng.seed);
                }
                // Gradient descent against a method built for local optima, in one click: on
                // the one cost scale, whatever the budget's unit was.
                let pair: Vec<Optimizer> = GRADIENT_VS_SEARCH
                    .iter()
                    .filter_map(|id| roster.get(id).map(|m| m.template.clone()))
                    .collect();
                if lab.race_job.is_none()
                    && pair.len() == GRADIENT_VS_SEARCH.len()
                    && ui
                        .button("Adam vs CMA-ES")
                        .on_hover_text(
                            "race Adam against CMA-ES from the same K random starts, each given the budget in evaluations (a gradient with its value costs 3)",
                        )
                        .clicked()
                {
                    lab.evals = true;
                    lab.spawn_race(surface, &pair, lab.race_starts, rng.seed);
                }
            });
            progress_row(ui, &lab.race_job);
            if let Some((setup, race)) = &lab.race {
                setup_caption(ui, setup, "starts", surface);
                race_results(ui, race, roster, setup.target, setup.evals);
            }
            // Sweep.
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("lr sweep");
                ui.add(
                    egui::DragValue::new(&mut lab.sweep_lo)
                        .range(1e-8..=100.0)
                        .speed(0.0001),
                );
                ui.label("..");
                ui.add(
                    egui::DragValue::new(&mut lab.sweep_hi)
                        .range(1e-8..=100.0)
                        .speed(0.01),
                );
            });
            ui.horizontal(|ui| {
                ui.label("points");
                ui.add(egui::DragValue::new(&mut lab.sweep_points).range(2..=100));
                ui.label("K");
                ui.add(egui::DragValue::new(&mut lab.sweep_starts).range(1..=100_000));
                let has_lr = template.clone().lr().is_some();
                if lab.sweep_job.is_none()
                    && ui
                        .add_enabled(has_lr && lab.sweep_lo < lab.sweep_hi, egui::Button::new("Run"))
                        .clicked()
                {
                    let (o, n) = lab.budgeted(&template);
                    let (s, seed) = ((*surface).clone(), rng.seed);
                    let values = grid(lab.sweep_lo, lab.sweep_hi, lab.sweep_points, true);
                    let k = lab.sweep_starts;
                    let setup = JobSetup::now(surface, std::slice::from_ref(&o), lab, seed, k);
                    lab.sweep_job = Some(Job::spawn(
                        format!("{} values", values.len()),
                        values.len() * k,
                        setup,
                        move |p| async move {
                            let starts = uniform_starts(s.domain, k, seed);
                            let (f64, lr) = (Precision::F64, "lr");
                            sweep_paced(&s, &o, lr, &values, &starts, n, seed, target, f64, &p)
                                .await
                                .ok()
                        },
                    ));
                }
            });
            progress_row(ui, &lab.sweep_job);
            if let Some((setup, rows)) = &lab.sweep {
                setup_caption(ui, setup, "starts per value", surface);
                sweep_chart(ui, &setup.methods.join(", "), rows);
            }
            fair_sections(ui, lab, surface, roster, rng, &template, out);
            if let Some(m) = &lab.message {
                ui.colored_label(Color32::LIGHT_YELLOW, m);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::job::next_slice;
    use super::*;
    use bevy::ecs::system::RunSystemOnce;

    /// A finished basin job of a 4 x 4 map on `surface`, with the lab's method changed after
    /// it started.
    fn finished_basin_job(surface: &Surface) -> LabState {
        let opt = Optimizer::by_id("sgd").expect("a method");
        let target = Target::of(surface);
        let setup = JobSetup {
            surface: surface.clone(),
            methods: vec![opt.id.clone()],
            steps: 20,
            seed: 0,
            size: 4,
            target,
            evals: false,
        };
        let s = surface.clone();
        let job = Job::spawn("test".into(), 16, setup, move |p| async move {
            basins_paced(&s, &opt, 4, 20, 0, target, Precision::F64, &p).await
        });
        while !job.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        LabState {
            method: "adam".into(),
            basin_job: Some(job),
            ..Default::default()
        }
    }

    fn poll(lab: LabState, current: Surface) -> World {
        let mut world = World::new();
        world.insert_resource(Assets::<Image>::default());
        world.insert_resource(BasinOverlay::default());
        world.insert_resource(SimSurface(current));
        world.insert_resource(lab);
        world.run_system_once(poll_jobs).expect("runs");
        world
    }

    #[test]
    fn a_slice_takes_about_its_time_and_grows_at_most_twofold() {
        let ms = std::time::Duration::from_millis;
        // 100 runs in 10 ms: 0.1 ms a run, 3 ms a slice.
        assert_eq!(next_slice(100, ms(10), 100), 30);
        // Quick runs: double, not more.
        assert_eq!(next_slice(100, ms(1), 100), 200);
        // No run finished (a slice still in its first run): unchanged; never below one.
        assert_eq!(next_slice(0, ms(50), 8), 8);
        assert_eq!(next_slice(1, ms(500), 8), 1);
    }

    #[test]
    fn finished_jobs_are_collected_once_and_cancelled_ones_say_so() {
        let surface = Surface::by_id("bowl").expect("built in");
        let setup = |n| JobSetup {
            surface: surface.clone(),
            methods: vec!["sgd".into()],
            steps: n,
            seed: 0,
            size: 1,
            target: Target::of(&surface),
            evals: false,
        };
        let wait = |job: &Job<u32>| {
            while !job.is_finished() {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        };
        let mut message = None;
        let mut done = Some(Job::spawn("a".into(), 1, setup(7), |_| async {
            Some(42u32)
        }));
        wait(done.as_ref().expect("spawned"));
        let (s, v) = finished(&mut done, "tuning", &mut message).expect("finished");
        assert_eq!((s.steps, v), (7, 42));
        assert!(done.is_none() && message.is_none());
        assert!(finished(&mut done, "tuning", &mut message).is_none());
        let mut cancelled = Some(Job::spawn("b".into(), 1, setup(3), |p| async move {
            p.cancel.store(true, Ordering::Relaxed);
            None::<u32>
        }));
        wait(cancelled.as_ref().expect("spawned"));
        assert!(finished(&mut cancelled, "phase map", &mut message).is_none());
        assert_eq!(message.as_deref(), Some("phase map cancelled"));
        assert!(cancelled.is_none());
    }

    #[test]
    fn a_basin_map_is_kept_with_the_setup_it_was_computed_on() {
        let rastrigin = Surface::by_id("rastrigin").expect("built in");
        let world = poll(finished_basin_job(&rastrigin), rastrigin.clone());
        let lab = world.resource::<LabState>();
        let (setup, _) = lab.basin.as_ref().expect("a map");
        assert_eq!(setup.surface, rastrigin);
        assert_eq!(
            setup.methods,
            ["sgd"],
            "the job's method, not the one selected now"
        );
        assert!(world.resource::<BasinOverlay>().image.is_some());
    }

    #[test]
    fn a_basin_map_of_another_surface_is_not_draped() {
        let rastrigin = Surface::by_id("rastrigin").expect("built in");
        // The surface changed while the map was computed.
        let world = poll(finished_basin_job(&rastrigin), Surface::seed());
        let lab = world.resource::<LabState>();
        assert!(lab.basin.is_none());
        assert!(world.resource::<BasinOverlay>().image.is_none());
        let message = lab.message.as_deref().unwrap_or("");
        assert!(
            message.contains("rastrigin") && message.contains("discarded"),
            "{message}"
        );
    }
}
