//! The lab inside the sandbox: a basin map, a race and a learning-rate sweep for the current
//! surface, each computed on a background thread (the UI stays responsive, a progress bar
//! shows, it can be cancelled) with the very same batch runners as the command line.

use crate::lab::basins::{BasinMap, basins_with, image as basin_image};
use crate::lab::sweep::{SweepPoint, grid, sweep};
use crate::lab::{Precision, Progress, RaceRow, Target, race_with, uniform_starts};
use crate::landscape::Surface;
use crate::optim::Optimizer;
use crate::sim::{Roster, SimRng, SimSurface};
use crate::view::BasinOverlay;
use bevy::asset::RenderAssetUsages;
use bevy::image::{Image, ImageSampler};
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy_egui::egui;
use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

/// A computation on a background thread.
pub struct Job<T> {
    handle: Option<JoinHandle<Option<T>>>,
    progress: Arc<Progress>,
    total: usize,
    /// What it is computing, for the progress line.
    what: String,
}

impl<T: Send + 'static> Job<T> {
    fn spawn(
        what: String,
        total: usize,
        work: impl FnOnce(&Progress) -> Option<T> + Send + 'static,
    ) -> Self {
        let progress = Arc::new(Progress::default());
        let p = progress.clone();
        Self {
            handle: Some(std::thread::spawn(move || work(&p))),
            progress,
            total,
            what,
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
    /// The latest results, with the surface they were computed on.
    pub basin: Option<(Surface, String, BasinMap)>,
    pub race: Option<(Surface, Vec<RaceRow>)>,
    pub sweep: Option<(Surface, String, Vec<SweepPoint>)>,
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
        lab.basin_job = None;
        match result {
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
                let method = lab.method.clone();
                lab.basin = Some((surface.0.clone(), method, map));
            }
            None => lab.message = Some("basin map cancelled".into()),
        }
    }
    if let Some(job) = lab.race_job.as_mut()
        && let Some(result) = job.take_finished()
    {
        lab.race_job = None;
        match result {
            Some(rows) => lab.race = Some((surface.0.clone(), rows)),
            None => lab.message = Some("race cancelled".into()),
        }
    }
    if let Some(job) = lab.sweep_job.as_mut()
        && let Some(result) = job.take_finished()
    {
        lab.sweep_job = None;
        match result {
            Some(rows) => {
                let method = lab.method.clone();
                lab.sweep = Some((surface.0.clone(), method, rows));
            }
            None => lab.message = Some("sweep failed".into()),
        }
    }
    // A map of another surface must not be draped over this one.
    if lab.basin.as_ref().is_some_and(|(s, ..)| *s != surface.0) {
        lab.basin = None;
        overlay.image = None;
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
                    lab.basin_job = Some(Job::spawn(
                        format!("{r} x {r} runs"),
                        r * r,
                        move |p| basins_with(&s, &o, r, n, seed, target, Precision::F64, p),
                    ));
                }
            });
            progress_row(ui, &lab.basin_job);
            if let Some((_, method, map)) = &lab.basin {
                ui.label(format!(
                    "{method}: {:.1}% of the domain reaches a global minimum; {:.1}% diverges; {:.1}% still moving; {} minima",
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
                    lab.race_job = Some(Job::spawn(format!("{total} runs"), total, move |p| {
                        let starts = uniform_starts(s.domain, k, seed);
                        race_with(&s, &enabled, &starts, n, seed, target, Precision::F64, p)
                    }));
                }
            });
            progress_row(ui, &lab.race_job);
            if let Some((_, rows)) = &lab.race {
                race_results(ui, rows, roster, target);
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
                    lab.sweep_job = Some(Job::spawn(
                        format!("{} values", values.len()),
                        values.len() * k,
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
            if let Some((_, method, rows)) = &lab.sweep {
                sweep_chart(ui, method, rows);
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
                    .map(|m| super::panels::color32(m.color))
                    .unwrap_or(Color32::WHITE);
                ui.colored_label(color, &r.method);
                ui.label(format!("{:.1}%", 100.0 * r.success_rate));
                ui.label(
                    r.median_loss
                        .map(|v| format!("{v:.4}"))
                        .unwrap_or("–".into()),
                );
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
                    .map(|m| super::panels::color32(m.color))
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
