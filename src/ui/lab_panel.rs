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
use optiscape_core::lab::ecdf::{EcdfCurve, coco_targets, ecdf_paced};
use optiscape_core::lab::phase::{PhaseAxis, PhaseCell, phase_paced, rate_color};
use optiscape_core::lab::sweep::{SweepPoint, grid, sweep_paced};
use optiscape_core::lab::tune::{TuneRow, TuneSetup, set_value, total_runs, tune_paced};
use optiscape_core::lab::{Precision, Progress, RaceRow, Target, race_paced, uniform_starts};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::Optimizer;
use std::sync::Arc;
use std::sync::atomic::Ordering;
#[cfg(not(target_arch = "wasm32"))]
use std::thread::JoinHandle;

/// What a lab job runs on, kept with its result: a result is shown with the setup it was
/// computed for, never with whatever is selected when it finishes.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSetup {
    pub surface: Surface,
    /// The method (basins, sweep) or the methods (race).
    pub methods: Vec<String>,
    pub steps: u64,
    pub seed: u64,
    /// Random starts (race, sweep per value), or cells per side (basins).
    pub size: usize,
    pub target: Target,
}

impl JobSetup {
    /// What a job started now runs on: the current surface and its success target, the
    /// lab's updates and the sandbox's seed.
    fn now(
        surface: &Surface,
        methods: &[Optimizer],
        lab: &LabState,
        seed: u64,
        size: usize,
    ) -> Self {
        Self {
            surface: surface.clone(),
            methods: methods.iter().map(|m| m.id.clone()).collect(),
            steps: lab.steps,
            seed,
            size,
            target: Target::of(surface),
        }
    }

    /// One line: surface, method(s), size, updates and seed.
    fn describe(&self, size: &str) -> String {
        format!(
            "{} · {} · {} {size} · {} updates · seed {}",
            self.surface.spec(),
            self.methods.join(", "),
            self.size,
            self.steps,
            self.seed
        )
    }
}

/// A lab computation that runs while the sandbox goes on: on the desktop on a thread of its
/// own (the batches inside on every core); on the web page, which has no threads, a slice of
/// runs at a time in every frame ([`Job::advance`]), the page drawing in between. Both run the
/// same `async` experiment of `optiscape_core::lab` (see `lab::pace`) and report progress and
/// take Cancel the same way.
pub struct Job<T> {
    runner: Runner<T>,
    progress: Arc<Progress>,
    total: usize,
    /// What it is computing, for the progress line.
    what: String,
    setup: JobSetup,
}

/// The experiment's future, as the web page keeps it.
#[cfg(target_arch = "wasm32")]
type Work<T> = std::pin::Pin<Box<dyn Future<Output = Option<T>> + Send>>;

#[cfg(not(target_arch = "wasm32"))]
struct Runner<T>(Option<JoinHandle<Option<T>>>);

#[cfg(target_arch = "wasm32")]
struct Runner<T> {
    work: std::sync::Mutex<Option<Work<T>>>,
    out: Option<Option<T>>,
}

/// Time a frame gives a job on the web page.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
const FRAME_BUDGET: std::time::Duration = std::time::Duration::from_millis(12);

/// A slice takes about this long on the web page (several slices fit in a frame's budget, and
/// the last one overshoots it by little).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
const SLICE_TIME: std::time::Duration = std::time::Duration::from_millis(3);

/// The number of runs for the next slice, from the runs the last one made and the time it took.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn next_slice(runs: usize, took: std::time::Duration, current: usize) -> usize {
    if runs == 0 {
        return current.max(1);
    }
    let per_run = took.as_secs_f64() / runs as f64;
    let want = if per_run > 0.0 {
        (SLICE_TIME.as_secs_f64() / per_run) as usize
    } else {
        current.saturating_mul(2)
    };
    // At most double at a time (a slice that was quick by chance does not make the next huge).
    want.clamp(1, current.saturating_mul(2).max(2))
}

impl<T: Send + 'static> Job<T> {
    fn spawn<F>(
        what: String,
        total: usize,
        setup: JobSetup,
        work: impl FnOnce(Arc<Progress>) -> F + Send + 'static,
    ) -> Self
    where
        F: Future<Output = Option<T>> + Send + 'static,
    {
        let progress = Arc::new(Progress::default());
        let p = progress.clone();
        #[cfg(not(target_arch = "wasm32"))]
        let runner = Runner(Some(std::thread::spawn(move || {
            optiscape_core::lab::pace::block_on(work(p))
        })));
        #[cfg(target_arch = "wasm32")]
        let runner = {
            progress.slice.store(16, Ordering::Relaxed);
            let work: Work<T> = Box::pin(work(p));
            Runner {
                work: std::sync::Mutex::new(Some(work)),
                out: None,
            }
        };
        Self {
            runner,
            progress,
            total,
            what,
            setup,
        }
    }

    fn fraction(&self) -> f32 {
        self.progress.done.load(Ordering::Relaxed) as f32 / self.total.max(1) as f32
    }

    fn cancel(&self) {
        self.progress.cancel.store(true, Ordering::Relaxed);
    }

    /// Gives the job this frame's time: nothing to do with threads; on the web page, slices of
    /// runs for about [`FRAME_BUDGET`], the slice size adapted to what a slice took.
    fn advance(&mut self) {
        #[cfg(target_arch = "wasm32")]
        {
            use bevy::platform::time::Instant;
            use std::task::{Context, Poll, Waker};
            if self.runner.out.is_some() {
                return;
            }
            let Ok(mut slot) = self.runner.work.lock() else {
                return;
            };
            let Some(work) = slot.as_mut() else {
                return;
            };
            let mut cx = Context::from_waker(Waker::noop());
            let t0 = Instant::now();
            loop {
                let before = self.progress.done.load(Ordering::Relaxed);
                let t = Instant::now();
                let polled = work.as_mut().poll(&mut cx);
                let runs = self.progress.done.load(Ordering::Relaxed) - before;
                let slice = self.progress.slice.load(Ordering::Relaxed);
                self.progress
                    .slice
                    .store(next_slice(runs, t.elapsed(), slice), Ordering::Relaxed);
                if let Poll::Ready(out) = polled {
                    *slot = None;
                    self.runner.out = Some(out);
                    return;
                }
                if t0.elapsed() >= FRAME_BUDGET {
                    return;
                }
            }
        }
    }

    /// Whether the result is ready (or the job ended without one).
    fn is_finished(&self) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        return self.runner.0.as_ref().is_some_and(|h| h.is_finished());
        #[cfg(target_arch = "wasm32")]
        return self.runner.out.is_some();
    }

    /// Advances the job ([`Job::advance`]) and returns the result once it has finished (`None`
    /// inside when cancelled or failed).
    fn take_finished(&mut self) -> Option<Option<T>> {
        self.advance();
        if !self.is_finished() {
            return None;
        }
        #[cfg(not(target_arch = "wasm32"))]
        return Some(self.runner.0.take()?.join().ok().flatten());
        #[cfg(target_arch = "wasm32")]
        return self.runner.out.take();
    }
}

/// What the lab section holds: settings, running jobs and the latest results.
#[derive(Resource)]
pub struct LabState {
    pub method: String,
    pub resolution: usize,
    pub steps: u64,
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
    race_job: Option<Job<Vec<RaceRow>>>,
    sweep_job: Option<Job<Vec<SweepPoint>>>,
    ecdf_job: Option<Job<Vec<EcdfCurve>>>,
    tune_job: Option<Job<Vec<TuneRow>>>,
    phase_job: Option<Job<PhaseResult>>,
    /// The latest results, with what they were computed on.
    pub basin: Option<(JobSetup, BasinMap)>,
    pub race: Option<(JobSetup, Vec<RaceRow>)>,
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
                ui.label("updates");
                ui.add(egui::DragValue::new(&mut lab.steps).range(1..=100_000));
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
                    let (s, o, r, n, seed) =
                        ((*surface).clone(), template.clone(), lab.resolution, lab.steps, rng.seed);
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
                ui.label(format!(
                    "{}: {:.1}% of the domain reaches a global minimum; {:.1}% diverges; {:.1}% still moving; {} minima",
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
                    RichText::new("gold: global minima · colors: other basins · grey: still moving · black: diverged")
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
                    let (s, k, n, seed) = ((*surface).clone(), lab.race_starts, lab.steps, rng.seed);
                    let total = k * enabled.len();
                    let setup = JobSetup::now(surface, &enabled, lab, seed, k);
                    lab.race_job = Some(Job::spawn(format!("{total} runs"), total, setup, move |p| async move {
                        let starts = uniform_starts(s.domain, k, seed);
                        let f64 = Precision::F64;
                        race_paced(&s, &enabled, &starts, n, seed, target, f64, &p).await
                    }));
                }
            });
            progress_row(ui, &lab.race_job);
            if let Some((setup, rows)) = &lab.race {
                setup_caption(ui, setup, "starts", surface);
                race_results(ui, rows, roster, setup.target);
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
                    let (s, o, n, seed) = ((*surface).clone(), template.clone(), lab.steps, rng.seed);
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

fn race_results(ui: &mut egui::Ui, rows: &[RaceRow], roster: &Roster, target: Target) {
    egui::Grid::new("race-results")
        .striped(true)
        .show(ui, |ui| {
            for h in ["method", "success", "ERT", "median loss", "div.", "s"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for r in rows {
                let color = color_of(roster, &r.method);
                ui.colored_label(color, &r.method);
                ui.label(format!("{:.1}%", 100.0 * r.success_rate))
                    .on_hover_text(format!(
                        "95% interval {:.1}-{:.1}% (Wilson); reached at some update: {:.1}%",
                        100.0 * r.success_rate_low,
                        100.0 * r.success_rate_high,
                        100.0 * r.reached_rate
                    ));
                ui.label(ert_text(r.ert))
                    .on_hover_text(ert_hover(r.ert_low, r.ert_high));
                ui.label(super::fmt_value(r.median_loss.unwrap_or(f64::NAN)));
                ui.label(r.diverged.to_string());
                ui.label(format!("{:.2}", r.seconds));
                ui.end_row();
            }
        });
    // Histogram of final losses (gap to the minimum, log10), one series per method.
    let gaps: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            r.final_losses
                .iter()
                .filter(|l| l.is_finite())
                .map(|l| (l - target.value).max(1e-16).log10())
                .filter(|g| g.is_finite())
                .collect()
        })
        .collect();
    let lo = gaps.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let hi = gaps
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) {
        return;
    }
    let bins = 24;
    let width = ((hi - lo) / bins as f64).max(1e-9);
    Plot::new("race-histogram")
        .height(150.0)
        .legend(Legend::default())
        .x_axis_label("log10(final loss - minimum)")
        .y_axis_label("runs")
        .show(ui, |plot| {
            for (r, g) in rows.iter().zip(&gaps) {
                let mut counts = vec![0usize; bins];
                for v in g {
                    let b = (((v - lo) / width) as usize).min(bins - 1);
                    counts[b] += 1;
                }
                let color = color_of(roster, &r.method);
                let bars: Vec<Bar> = counts
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Bar::new(lo + (i as f64 + 0.5) * width, *c as f64).width(width))
                    .collect();
                plot.bar_chart(
                    BarChart::new(r.method.clone(), bars).color(color.gamma_multiply(0.6)),
                );
            }
        });
}

/// A method's color in the roster (white for one it does not list).
fn color_of(roster: &Roster, method: &str) -> Color32 {
    roster
        .get(method)
        .map(|m| super::color32(m.color))
        .unwrap_or(Color32::WHITE)
}

/// An ERT for the panel: whole updates, or "none" when no run reached the minimum.
fn ert_text(ert: Option<f64>) -> String {
    ert.map(|e| format!("{e:.0}"))
        .unwrap_or_else(|| "none".into())
}

fn ert_hover(lo: Option<f64>, hi: Option<f64>) -> String {
    let end = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "∞".into());
    format!(
        "expected updates to reach the global minimum with restarts; 95% bootstrap interval [{}, {}]",
        end(lo),
        end(hi)
    )
}

/// ECDF, Tune and Phase map: the fair-comparison tools of `docs/guide.md`, for the current
/// surface and the enabled methods (the phase map: the lab's method).
fn fair_sections(
    ui: &mut egui::Ui,
    lab: &mut LabState,
    surface: &Surface,
    roster: &mut Roster,
    rng: &SimRng,
    template: &Optimizer,
    out: &mut Vec<SimCommand>,
) {
    let target = Target::of(surface);
    let enabled: Vec<Optimizer> = roster.enabled().map(|m| m.template.clone()).collect();
    // ECDF.
    ui.separator();
    ui.horizontal(|ui| {
        ui.label(format!("ECDF, K = {}", lab.race_starts));
        if lab.ecdf_job.is_none()
            && ui
                .add_enabled(!enabled.is_empty(), egui::Button::new("Run"))
                .on_hover_text(
                    "runtime distributions of the enabled methods from the race's K starts: the \
                     share of (run, target) pairs reached within each budget of updates",
                )
                .clicked()
        {
            let (s, k, n, seed) = (surface.clone(), lab.race_starts, lab.steps, rng.seed);
            let total = k * enabled.len();
            let setup = JobSetup::now(surface, &enabled, lab, seed, k);
            let methods = enabled.clone();
            lab.ecdf_job = Some(Job::spawn(
                format!("{total} runs"),
                total,
                setup,
                move |p| async move {
                    let starts = uniform_starts(s.domain, k, seed);
                    let t = coco_targets();
                    ecdf_paced(
                        &s,
                        &methods,
                        &starts,
                        n,
                        seed,
                        target,
                        &t,
                        Precision::F64,
                        &p,
                    )
                    .await
                },
            ));
        }
    });
    progress_row(ui, &lab.ecdf_job);
    if let Some((setup, curves)) = &lab.ecdf {
        setup_caption(ui, setup, "starts", surface);
        ecdf_chart(ui, curves, roster);
    }
    // Tuning.
    ui.separator();
    ui.horizontal(|ui| {
        ui.label("Tune, settings");
        ui.add(egui::DragValue::new(&mut lab.tune_budget).range(1..=256));
        if lab.tune_job.is_none()
            && ui
                .add_enabled(!enabled.is_empty(), egui::Button::new("Run"))
                .on_hover_text(
                    "search each enabled method's learning rate (and momentum or beta1) on K \
                     starts, then compare tuned and default settings on K fresh starts",
                )
                .clicked()
        {
            let ts = TuneSetup {
                region: surface.domain,
                starts: lab.race_starts,
                steps: lab.steps,
                budget: lab.tune_budget,
                seed: rng.seed,
                target,
                precision: Precision::F64,
            };
            let total = total_runs(&enabled, ts.budget, ts.starts);
            let setup = JobSetup::now(surface, &enabled, lab, rng.seed, ts.starts);
            let (s, methods) = (surface.clone(), enabled.clone());
            lab.tune_job = Some(Job::spawn(
                format!("{total} runs"),
                total,
                setup,
                move |p| async move { tune_paced(&s, &methods, &ts, &p).await.ok().flatten() },
            ));
        }
    });
    progress_row(ui, &lab.tune_job);
    if let Some((setup, rows)) = &lab.tune {
        setup_caption(ui, setup, "starts", surface);
        egui::Grid::new("tune-results")
            .striped(true)
            .show(ui, |ui| {
                for h in ["method", "tuned", "success", "ERT", "default ERT"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for r in rows {
                    let color = color_of(roster, &r.method);
                    ui.colored_label(color, &r.method);
                    let params: Vec<String> = r
                        .params
                        .iter()
                        .map(|(k, v)| format!("{k} {}", super::fmt_value(*v)))
                        .collect();
                    ui.label(params.join(", "));
                    ui.label(format!("{:.1}%", 100.0 * r.success_rate))
                        .on_hover_text(format!(
                            "default: {:.1}% (both on held-out starts)",
                            100.0 * r.default_success_rate
                        ));
                    ui.label(ert_text(r.ert))
                        .on_hover_text(ert_hover(r.ert_low, r.ert_high));
                    ui.label(ert_text(r.default_ert))
                        .on_hover_text(ert_hover(r.default_ert_low, r.default_ert_high));
                    ui.end_row();
                }
            });
        if ui
            .button("Apply tuned settings")
            .on_hover_text("set these values on the methods and their balls")
            .clicked()
        {
            let rows = rows.clone();
            for r in &rows {
                if let Some(entry) = roster.get_mut(&r.method) {
                    for (k, v) in &r.params {
                        let _ = set_value(&mut entry.template, k, *v);
                    }
                    out.push(SimCommand::ApplyHyperparameters {
                        method: r.method.clone(),
                    });
                }
            }
            lab.message = Some(format!("tuned settings applied to {} methods", rows.len()));
        }
    }
    // Phase map.
    ui.separator();
    phase_section(ui, lab, surface, roster, rng, template, out);
}

/// The phase map of the lab's method: lr (log scale) x another numeric hyperparameter.
fn phase_section(
    ui: &mut egui::Ui,
    lab: &mut LabState,
    surface: &Surface,
    roster: &mut Roster,
    rng: &SimRng,
    template: &Optimizer,
    out: &mut Vec<SimCommand>,
) {
    let target = Target::of(surface);
    let mut probe = template.clone();
    let mut names: Vec<String> = probe
        .params()
        .iter()
        .filter(|p| p.spec.kind == optiscape_core::optim::ParamKind::Num && p.spec.name != "lr")
        .map(|p| p.spec.name.to_string())
        .collect();
    if probe.params().iter().any(|p| p.spec.name == "betas") {
        names.splice(0..0, ["beta1".to_string(), "beta2".to_string()]);
    }
    // The values a parameter's axis spans by default: its slider's range (0..0.99 for the
    // two betas).
    let default_range = |name: &str| -> (f64, f64) {
        let mut probe = template.clone();
        let params = probe.params();
        match params.iter().find(|p| p.spec.name == name) {
            Some(p) => p.spec.slider,
            None => (0.0, 0.99),
        }
    };
    if lab.phase_for != template.id || !names.contains(&lab.phase_y) {
        lab.phase_for = template.id.clone();
        // Momentum-like parameters first: the map the guide talks about.
        let preferred = ["momentum", "beta1"]
            .into_iter()
            .find(|n| names.iter().any(|m| m == n))
            .map(str::to_string)
            .or_else(|| names.first().cloned());
        if let Some(y) = preferred {
            lab.phase_y_range = default_range(&y);
            lab.phase_y = y;
        }
    }
    ui.horizontal(|ui| {
        ui.label("Phase map: lr x");
        let before = lab.phase_y.clone();
        egui::ComboBox::from_id_salt("phase-y")
            .selected_text(lab.phase_y.clone())
            .show_ui(ui, |ui| {
                for n in &names {
                    ui.selectable_value(&mut lab.phase_y, n.clone(), n);
                }
            });
        if lab.phase_y != before {
            lab.phase_y_range = default_range(&lab.phase_y);
        }
        ui.add(egui::DragValue::new(&mut lab.phase_points).range(2..=64))
            .on_hover_text("cells per side");
    });
    ui.horizontal(|ui| {
        ui.label("lr");
        ui.add(
            egui::DragValue::new(&mut lab.phase_x_range.0)
                .range(1e-6..=10.0)
                .speed(1e-4),
        );
        ui.label("..");
        ui.add(
            egui::DragValue::new(&mut lab.phase_x_range.1)
                .range(1e-6..=10.0)
                .speed(1e-3),
        );
        ui.label(lab.phase_y.clone());
        ui.add(
            egui::DragValue::new(&mut lab.phase_y_range.0)
                .range(0.0..=1e3)
                .speed(1e-3),
        );
        ui.label("..");
        ui.add(
            egui::DragValue::new(&mut lab.phase_y_range.1)
                .range(0.0..=1e3)
                .speed(1e-3),
        );
    });
    let axes = (|| {
        let (xr, yr, n) = (lab.phase_x_range, lab.phase_y_range, lab.phase_points);
        let x = PhaseAxis::parse(
            "lr",
            template,
            &format!("lr={:?}..{:?}", xr.0, xr.1),
            n,
            true,
        )?;
        let y = PhaseAxis::parse(
            &lab.phase_y,
            template,
            &format!("{}={:?}..{:?}", lab.phase_y, yr.0, yr.1),
            n,
            false,
        )?;
        Ok::<_, String>((x, y))
    })();
    ui.horizontal(|ui| {
        ui.label(format!("K = {} per cell", lab.sweep_starts));
        match &axes {
            Ok((x, y)) if !names.is_empty() => {
                if lab.phase_job.is_none() && ui.button("Run").clicked() {
                    let (x, y) = (x.clone(), y.clone());
                    let (s, o, k, n, seed) = (
                        surface.clone(),
                        template.clone(),
                        lab.sweep_starts,
                        lab.steps,
                        rng.seed,
                    );
                    let total = x.points * y.points * k;
                    let setup = JobSetup::now(surface, std::slice::from_ref(&o), lab, seed, k);
                    lab.phase_job = Some(Job::spawn(
                        format!("{total} runs"),
                        total,
                        setup,
                        move |p| async move {
                            let starts = uniform_starts(s.domain, k, seed);
                            let f64 = Precision::F64;
                            let cells =
                                phase_paced(&s, &o, &x, &y, &starts, n, seed, target, f64, &p)
                                    .await
                                    .ok()
                                    .flatten()?;
                            Some(PhaseResult { x, y, cells })
                        },
                    ));
                }
            }
            Ok(_) => {
                ui.label(RichText::new("this method has no second parameter").small());
            }
            Err(e) => {
                ui.colored_label(Color32::LIGHT_RED, RichText::new(e).small());
            }
        }
    });
    progress_row(ui, &lab.phase_job);
    let Some((setup, map)) = &lab.phase else {
        return;
    };
    setup_caption(ui, setup, "starts per cell", surface);
    let picked = phase_plot(ui, map);
    if let Some(cell) = picked {
        let method = setup.methods.first().cloned().unwrap_or_default();
        if let Some(entry) = roster.get_mut(&method) {
            let ok = set_value(&mut entry.template, &map.x.name, cell.x_value)
                .and_then(|_| set_value(&mut entry.template, &map.y.name, cell.y_value));
            lab.message = Some(match ok {
                Ok(()) => {
                    out.push(SimCommand::ApplyHyperparameters {
                        method: method.clone(),
                    });
                    format!(
                        "{method}: {} = {}, {} = {} applied",
                        map.x.name,
                        super::fmt_value(cell.x_value),
                        map.y.name,
                        super::fmt_value(cell.y_value)
                    )
                }
                Err(e) => e,
            });
        }
    }
}

/// The phase map as colored cells (success rate, 0 to the map's highest rate), lr on a log
/// axis; hovering shows a cell's values, a click returns the cell to apply.
fn phase_plot(ui: &mut egui::Ui, map: &PhaseResult) -> Option<PhaseCell> {
    use egui_plot::{PlotPoint, Polygon};
    let (nx, ny) = (map.x.points, map.y.points);
    let xs = map.x.values();
    let ys = map.y.values();
    let tx = |v: f64| if map.x.log { v.log10() } else { v };
    let ty = |v: f64| if map.y.log { v.log10() } else { v };
    // Cell edges halfway between values (in the axis's own scale).
    let edges = |vals: Vec<f64>| -> Vec<f64> {
        let n = vals.len();
        if n == 1 {
            return vec![vals[0] - 0.5, vals[0] + 0.5];
        }
        let mut e = vec![vals[0] - 0.5 * (vals[1] - vals[0])];
        for i in 0..n - 1 {
            e.push(0.5 * (vals[i] + vals[i + 1]));
        }
        e.push(vals[n - 1] + 0.5 * (vals[n - 1] - vals[n - 2]));
        e
    };
    let ex = edges(xs.iter().map(|v| tx(*v)).collect());
    let ey = edges(ys.iter().map(|v| ty(*v)).collect());
    let vmax = map
        .cells
        .iter()
        .map(|c| c.success_rate)
        .fold(0.0, f64::max)
        .max(1e-12);
    let mut hovered: Option<PhaseCell> = None;
    let response = Plot::new("phase-map")
        .height(220.0)
        .x_axis_label(if map.x.log {
            format!("log10({})", map.x.name)
        } else {
            map.x.name.clone()
        })
        .y_axis_label(map.y.name.clone())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot| {
            for (k, c) in map.cells.iter().enumerate() {
                let (i, j) = (k % nx, k / nx);
                if j >= ny {
                    break;
                }
                let [r, g, b] = rate_color(c.success_rate / vmax);
                let color = Color32::from_rgb(r, g, b);
                let pts = vec![
                    [ex[i], ey[j]],
                    [ex[i + 1], ey[j]],
                    [ex[i + 1], ey[j + 1]],
                    [ex[i], ey[j + 1]],
                ];
                plot.polygon(
                    Polygon::new("", PlotPoints::from(pts))
                        .fill_color(color)
                        .stroke(egui::Stroke::NONE)
                        .allow_hover(false),
                );
            }
            if let Some(PlotPoint { x, y }) = plot.pointer_coordinate() {
                let i = ex.partition_point(|e| *e <= x);
                let j = ey.partition_point(|e| *e <= y);
                if (1..=nx).contains(&i) && (1..=ny).contains(&j) {
                    hovered = map.cells.get((j - 1) * nx + (i - 1)).copied();
                }
            }
        });
    let clicked = response.response.clicked();
    match hovered {
        Some(c) => {
            ui.label(
                RichText::new(format!(
                    "{} {} · {} {} · success {:.1}% · ERT {} — click to apply",
                    map.x.name,
                    super::fmt_value(c.x_value),
                    map.y.name,
                    super::fmt_value(c.y_value),
                    100.0 * c.success_rate,
                    ert_text(c.ert)
                ))
                .small(),
            );
        }
        None => {
            ui.label(
                RichText::new(format!(
                    "success rate: dark 0% to yellow {:.1}% (the best cell); hover a cell for its values",
                    100.0 * vmax
                ))
                .small(),
            );
        }
    }
    if clicked { hovered } else { None }
}

/// ECDF curves in the methods' colors: the share of (run, target) pairs against log10 of the
/// budget.
fn ecdf_chart(ui: &mut egui::Ui, curves: &[EcdfCurve], roster: &Roster) {
    Plot::new("ecdf-chart")
        .height(170.0)
        .legend(Legend::default())
        .x_axis_label("log10(updates)")
        .y_axis_label("pairs reached")
        .include_y(0.0)
        .include_y(1.0)
        .show(ui, |plot| {
            for c in curves {
                let color = color_of(roster, &c.method);
                // A step function: the fraction holds until the next budget.
                let mut pts: Vec<[f64; 2]> = Vec::new();
                for (k, (b, f)) in c.budgets.iter().zip(&c.fractions).enumerate() {
                    let x = (*b as f64).log10();
                    if k > 0 {
                        pts.push([x, c.fractions[k - 1]]);
                    }
                    pts.push([x, *f]);
                }
                plot.line(Line::new(c.method.clone(), PlotPoints::from(pts)).color(color));
            }
        });
}

fn sweep_chart(ui: &mut egui::Ui, method: &str, rows: &[SweepPoint]) {
    Plot::new("sweep-chart")
        .height(150.0)
        .legend(Legend::default())
        .x_axis_label("log10(lr)")
        .y_axis_label("success rate")
        .include_y(0.0)
        .include_y(1.0)
        .show(ui, |plot| {
            let pts: Vec<[f64; 2]> = rows
                .iter()
                .map(|r| [r.value.log10(), r.success_rate])
                .collect();
            plot.line(Line::new(
                format!("{method} success rate"),
                PlotPoints::from(pts),
            ));
        });
}

#[cfg(test)]
mod tests {
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
