//! The right panel's results: the leaderboard (statistics from `optiscape_core::lab::summarize`,
//! the same function as `race`) and the loss plot.

use super::panels::BallData;
use super::{UiState, color32, fmt_value};
use crate::sim::{NetBall, Roster, Trail};
use bevy::prelude::*;
use bevy_egui::egui;
use egui::{Color32, RichText};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints};
use optiscape_core::lab::{Outcome, RunStatus, Target, summarize};
use optiscape_core::landscape::Surface;

pub(super) fn leaderboard(
    ui: &mut egui::Ui,
    surface: &Surface,
    roster: &Roster,
    balls: &Query<BallData>,
) {
    let target = Target::of(surface);
    let networks = balls.iter().any(|b| b.5.is_some());
    ui.heading("Leaderboard");
    let rule = if networks {
        format!(
            "at min: a network's real training loss at most {} above the slice's minimum {:.5} ({}), wherever it projects",
            target.tol,
            target.value,
            target.minimum_kind()
        )
    } else {
        format!(
            "at min: inside the domain, loss at most {} above the global minimum {:.5} ({})",
            target.tol,
            target.value,
            target.minimum_kind()
        )
    };
    ui.label(RichText::new(rule).small());
    egui::Grid::new("leaderboard")
        .striped(true)
        .spacing([10.0, 3.0])
        .show(ui, |ui| {
            // Balls stopped by a gradient that is not finite get their own column, shown when
            // there are any (the panel keeps its width otherwise).
            let any_bad = balls
                .iter()
                .any(|b| b.2.0.status == RunStatus::BadGradient);
            let headers = ["method", "balls", "at min", "best", "mean", "div.", "no grad", "steps"];
            for h in headers.into_iter().filter(|h| any_bad || *h != "no grad") {
                let label = ui.label(RichText::new(h).strong());
                if h == "no grad" {
                    label.on_hover_text(
                        "balls stopped where the gradient is not finite (the loss is): not a minimum, not a divergence",
                    );
                }
            }
            ui.end_row();
            let mut rows: Vec<(f64, Vec<String>, Color32)> = Vec::new();
            for entry in &roster.0 {
                let mine: Vec<BallData> = balls.iter().filter(|b| b.1.method == entry.id).collect();
                if mine.is_empty() {
                    continue;
                }
                // Diverged balls count in their own column only (a ball far outside the domain
                // can show a loss below the domain's minimum): `summarize`, as `race` does.
                let stats = summarize(
                    mine.iter().map(|b| Outcome {
                        // A network's success is its loss, not where it projects.
                        at: if b.5.is_some() {
                            target.domain.center()
                        } else {
                            b.2.0.pos
                        },
                        loss: b.2.0.loss,
                        diverged: b.2.0.status == RunStatus::Diverged,
                        bad_gradient: b.2.0.status == RunStatus::BadGradient,
                        first_success: b.1.reached,
                    }),
                    target,
                );
                let fmt = |v: Option<f64>| fmt_value(v.unwrap_or(f64::NAN));
                let mut cells = vec![
                    entry.label.to_string(),
                    stats.runs.to_string(),
                    format!("{:.0}%", 100.0 * stats.success_rate),
                    fmt(stats.best_loss),
                    fmt(stats.mean_loss),
                    stats.diverged.to_string(),
                ];
                if any_bad {
                    cells.push(stats.bad_gradient.to_string());
                }
                cells.push(
                    stats
                        .median_steps_to_success
                        .map(|v| format!("{v}"))
                        .unwrap_or_else(|| "–".into()),
                );
                rows.push((stats.success_rate, cells, color32(entry.color)));
            }
            rows.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (_, cells, color) in rows {
                for (i, c) in cells.into_iter().enumerate() {
                    if i == 0 {
                        ui.colored_label(color, c);
                    } else {
                        ui.label(c);
                    }
                }
                ui.end_row();
            }
        });
}

pub(super) fn loss_plot(
    ui: &mut egui::Ui,
    state: &mut UiState,
    surface: &Surface,
    roster: &Roster,
    balls: &Query<BallData>,
) {
    let mut fit = false;
    let networks = balls.iter().any(|b| b.5.is_some());
    ui.horizontal(|ui| {
        ui.heading("Loss");
        let log = if networks {
            "log scale"
        } else {
            "log gap to min"
        };
        ui.checkbox(&mut state.log_plot, log);
        ui.checkbox(&mut state.mean_plot, "mean per method");
        fit = ui
            .small_button("Fit")
            .on_hover_text("Show every curve again (after zooming or dragging the plot)")
            .clicked();
    });
    ui.label(RichText::new("Ctrl + wheel zooms, drag pans, double-click or Fit shows all").small());
    // Networks can train below the slice's minimum (it is the lowest point of a plane): their
    // plot's log scale is of the loss itself.
    let min = if networks {
        0.0
    } else {
        surface.global_minimum().value
    };
    // egui_plot needs finite bounds: non-finite values are left out, and without a finite
    // minimum there is no gap to take the log of.
    let log = state.log_plot && min.is_finite();
    let y = |loss: f64| {
        if log {
            (loss - min).max(1e-16).log10()
        } else {
            loss
        }
    };
    // A network's training and test loss against its updates, at most ~300 points per line.
    let net_series = |nb: &NetBall, test: bool| -> Vec<[f64; 2]> {
        let step = (nb.history.len() / 300).max(1);
        nb.history
            .iter()
            .step_by(step)
            .map(|p| [p.updates as f64, y(if test { p.test } else { p.train })])
            .filter(|p| p[1].is_finite() && p[1].abs() < 1e300)
            .collect()
    };
    // Loss along each trail, downsampled to at most ~300 points per line.
    let series = |trail: &Trail| -> Vec<[f64; 2]> {
        let n = trail.0.len();
        let step = (n / 300).max(1);
        trail
            .0
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(i, p)| [i as f64, y(surface.height(*p))])
            .filter(|p| p[1].is_finite() && p[1].abs() < 1e300)
            .collect()
    };
    // The wheel scrolls the panel, not the plot (zoom is Ctrl + wheel); Fit and a double-click
    // bring every curve back.
    let plot = Plot::new("loss-plot").height(200.0).allow_scroll(false);
    let plot = if fit { plot.reset() } else { plot };
    plot.legend(Legend::default())
        .x_axis_label("update")
        .y_axis_label(match (log, networks) {
            (true, true) => "log10(loss); dashed: test",
            (true, false) => "log10(loss - min)",
            (false, true) => "loss; dashed: test",
            (false, false) => "loss",
        })
        .show(ui, |plot| {
            for entry in roster.0.iter().filter(|e| e.enabled) {
                let mine: Vec<_> = balls.iter().filter(|b| b.1.method == entry.id).collect();
                if mine.is_empty() {
                    continue;
                }
                let color = color32(entry.color);
                if networks {
                    for nb in mine.iter().filter_map(|b| b.5) {
                        plot.line(
                            Line::new(entry.label, PlotPoints::from(net_series(nb, false)))
                                .color(color),
                        );
                        plot.line(
                            Line::new(entry.label, PlotPoints::from(net_series(nb, true)))
                                .color(color.gamma_multiply(0.8))
                                .style(LineStyle::dashed_loose()),
                        );
                    }
                    continue;
                }
                if state.mean_plot || mine.len() > 60 {
                    let len = mine.iter().map(|b| b.3.0.len()).max().unwrap_or(0);
                    let step = (len / 300).max(1);
                    let pts: Vec<[f64; 2]> = (0..len)
                        .step_by(step)
                        .filter_map(|i| {
                            let v: Vec<f64> = mine
                                .iter()
                                .filter_map(|b| b.3.0.get(i))
                                .map(|p| surface.height(*p))
                                .filter(|h| h.is_finite())
                                .collect();
                            (!v.is_empty())
                                .then(|| [i as f64, y(v.iter().sum::<f64>() / v.len() as f64)])
                        })
                        .filter(|p| p[1].is_finite() && p[1].abs() < 1e300)
                        .collect();
                    plot.line(Line::new(entry.label, PlotPoints::from(pts)).color(color));
                } else {
                    for b in mine {
                        plot.line(
                            Line::new(entry.label, PlotPoints::from(series(b.3))).color(color),
                        );
                    }
                }
            }
        });
}
