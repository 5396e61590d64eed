//! The lab inside the sandbox: a basin map, a race and a learning-rate sweep for the current
//! surface, each computed on a background thread (the UI stays responsive, a progress bar
//! shows, it can be cancelled) with the very same batch runners as the command line.

use crate::sim::{Roster, SimRng, SimSurface};
use crate::view::BasinOverlay;
use bevy::asset::RenderAssetUsages;
use bevy::image::{Image, ImageSampler};
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy_egui::egui;
use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};
use optiscape_core::lab::basins::{BasinMap, basins_with, image as basin_image};
use optiscape_core::lab::sweep::{SweepPoint, grid, sweep};
use optiscape_core::lab::{Precision, Progress, RaceRow, Target, race_with, uniform_starts};
use optiscape_core::landscape::Surface;
use optiscape_core::optim::Optimizer;
use std::sync::Arc;
use std::sync::atomic::Ordering;
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

/// A computation on a background thread.
pub struct Job<T> {
    handle: Option<JoinHandle<Option<T>>>,
    progress: Arc<Progress>,
    total: usize,
    /// What it is computing, for the progress line.
    what: String,
    setup: JobSetup,
}

impl<T: Send + 'static> Job<T> {
    fn spawn(
        what: String,
        total: usize,
        setup: JobSetup,
        work: impl FnOnce(&Progress) -> Option<T> + Send + 'static,
    ) -> Self {
        let progress = Arc::new(Progress::default());
        let p = progress.clone();
        Self {
            handle: Some(std::thread::spawn(move || work(&p))),
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

    /// The result, once the thread has finished (`None` inside when cancelled or failed).
    fn take_finished(&mut self) -> Option<Option<T>> {
        if self.handle.as_ref().is_some_and(|h| h.is_finished()) {
            let h = self.handle.take()?;
            Some(h.join().ok().flatten())
        } else {
            None
        }
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
    basin_job: Option<Job<BasinMap>>,
    race_job: Option<Job<Vec<RaceRow>>>,
    sweep_job: Option<Job<Vec<SweepPoint>>>,
    /// The latest results, with what they were computed on.
    pub basin: Option<(JobSetup, BasinMap)>,
    pub race: Option<(JobSetup, Vec<RaceRow>)>,
    pub sweep: Option<(JobSetup, Vec<SweepPoint>)>,
    pub message: Option<String>,
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
            basin_job: None,
            race_job: None,
            sweep_job: None,
            basin: None,
            race: None,
            sweep: None,
            message: None,
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
    if let Some(job) = lab.race_job.as_mut()
        && let Some(result) = job.take_finished()
    {
        let setup = job.setup.clone();
        lab.race_job = None;
        match result {
            Some(rows) => lab.race = Some((setup, rows)),
            None => lab.message = Some("race cancelled".into()),
        }
    }
    if let Some(job) = lab.sweep_job.as_mut()
        && let Some(result) = job.take_finished()
    {
        let setup = job.setup.clone();
        lab.sweep_job = None;
        match result {
            Some(rows) => lab.sweep = Some((setup, rows)),
            None => lab.message = Some("sweep cancelled".into()),
        }
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
    roster: &Roster,
    rng: &SimRng,
) {
    egui::CollapsingHeader::new("Lab: basins, race, sweep")
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
                        move |p| basins_with(&s, &o, r, n, seed, target, Precision::F64, p),
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
                    lab.race_job = Some(Job::spawn(format!("{total} runs"), total, setup, move |p| {
                        let starts = uniform_starts(s.domain, k, seed);
                        race_with(&s, &enabled, &starts, n, seed, target, Precision::F64, p)
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
                        move |p| {
                            let starts = uniform_starts(s.domain, k, seed);
                            let mut rows = Vec::new();
                            for v in values {
                                if p.cancelled() {
                                    return None;
                                }
                                rows.extend(sweep(&s, &o, "lr", &[v], &starts, n, seed, target, Precision::F64).ok()?);
                                p.done.fetch_add(k, Ordering::Relaxed);
                            }
                            Some(rows)
                        },
                    ));
                }
            });
            progress_row(ui, &lab.sweep_job);
            if let Some((setup, rows)) = &lab.sweep {
                setup_caption(ui, setup, "starts per value", surface);
                sweep_chart(ui, &setup.methods.join(", "), rows);
            }
            if let Some(m) = &lab.message {
                ui.colored_label(Color32::LIGHT_YELLOW, m);
            }
        });
}

fn race_results(ui: &mut egui::Ui, rows: &[RaceRow], roster: &Roster, target: Target) {
    egui::Grid::new("race-results")
        .striped(true)
        .show(ui, |ui| {
            for h in ["method", "success", "median loss", "div.", "s"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for r in rows {
                let color = roster
                    .get(&r.method)
                    .map(|m| super::color32(m.color))
                    .unwrap_or(Color32::WHITE);
                ui.colored_label(color, &r.method);
                ui.label(format!("{:.1}%", 100.0 * r.success_rate));
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
                let color = roster
                    .get(&r.method)
                    .map(|m| super::color32(m.color))
                    .unwrap_or(Color32::WHITE);
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
        let job = Job::spawn("test".into(), 16, setup, move |p| {
            basins_with(&s, &opt, 4, 20, 0, target, Precision::F64, p)
        });
        while !job.handle.as_ref().is_some_and(|h| h.is_finished()) {
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
