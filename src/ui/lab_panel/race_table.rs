//! The race's table and histogram, and the small helpers the lab's tables share.

use super::*;

/// A wide table scrolls sideways inside the panel instead of widening it (the 3D view keeps the
/// width the user gave it).
pub(super) fn wide<R>(ui: &mut egui::Ui, id: &str, table: impl FnOnce(&mut egui::Ui) -> R) -> R {
    egui::ScrollArea::horizontal()
        .id_salt(id)
        .auto_shrink([false, true])
        .show(ui, table)
        .inner
}

/// The race's table: ERTs in updates, or in evaluations when the race was run on the one cost
/// scale (`evals`).
pub(super) fn race_results(
    ui: &mut egui::Ui,
    race: &RaceResult,
    roster: &Roster,
    target: Target,
    evals: bool,
) {
    wide(ui, "race-results-scroll", |ui| {
        race_grid(ui, race, roster, target, evals)
    });
}

/// An escape rate for the panel: a percentage, or "–" when no start had anything to escape.
fn escape_text(e: &Escape) -> String {
    e.rate
        .map(|r| format!("{:.1}%", 100.0 * r))
        .unwrap_or_else(|| "–".into())
}

pub(super) fn race_grid(
    ui: &mut egui::Ui,
    race: &RaceResult,
    roster: &Roster,
    target: Target,
    evals: bool,
) {
    let rows = &race.rows;
    // The minimum the race counted against (an estimate its runs beat is lowered).
    let target = optiscape_core::lab::race_target(target, rows);
    egui::Grid::new("race-results")
        .striped(true)
        .show(ui, |ui| {
            let ert_head = if evals { "ERT evals" } else { "ERT" };
            for h in [
                "method",
                "success",
                ert_head,
                "escape",
                "median loss",
                "div.",
                "no grad",
                "s",
            ] {
                let label = ui.label(RichText::new(h).strong());
                if h == "no grad" {
                    label.on_hover_text(
                        "runs stopped where the gradient is not finite (the loss is): not a minimum, not a divergence",
                    );
                } else if h == "escape" {
                    label.on_hover_text(
                        "escape rate: of the runs that start in the basin of a local (not global) minimum under plain gradient flow, the share that ended lower than that minimum (docs/guide.md, \"The suite\")",
                    );
                }
            }
            ui.end_row();
            for (r, esc) in rows.iter().zip(&race.escapes) {
                let color = color_of(roster, &r.method);
                ui.colored_label(color, &r.method);
                ui.label(format!("{:.1}%", 100.0 * r.success_rate))
                    .on_hover_text(format!(
                        "95% interval {:.1}-{:.1}% (Wilson); reached at some update: {:.1}%",
                        100.0 * r.success_rate_low,
                        100.0 * r.success_rate_high,
                        100.0 * r.reached_rate
                    ));
                if evals {
                    ui.label(ert_text(r.ert_evals)).on_hover_text(ert_hover_in(
                        r.ert_evals_low,
                        r.ert_evals_high,
                        "evaluations",
                    ));
                } else {
                    ui.label(ert_text(r.ert))
                        .on_hover_text(ert_hover(r.ert_low, r.ert_high));
                }
                let hover = match (esc.low, esc.high) {
                    (Some(lo), Some(hi)) => format!(
                        "{} of {} runs from a local minimum's basin ended lower than it; 95% interval {:.1}-{:.1}% (Wilson)",
                        esc.escaped,
                        esc.escapable,
                        100.0 * lo,
                        100.0 * hi
                    ),
                    _ => "no start lies in a local minimum's basin: nothing to escape".into(),
                };
                ui.label(escape_text(esc)).on_hover_text(hover);
                ui.label(crate::ui::fmt_value(r.median_loss.unwrap_or(f64::NAN)));
                ui.label(r.diverged.to_string());
                ui.label(r.bad_gradient.to_string());
                ui.label(format!("{:.2}", r.seconds));
                ui.end_row();
            }
        });
    ui.label(
        RichText::new(format!(
            "chance baseline: {:.1}% of the starts already flow to the global minimum",
            100.0 * race.baseline
        ))
        .small(),
    )
    .on_hover_text("the share of the starts whose plain gradient flow settles in the global minimum: what descent alone reaches; the escape rate counts the others");
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
pub(super) fn color_of(roster: &Roster, method: &str) -> Color32 {
    roster
        .get(method)
        .map(|m| crate::ui::color32(m.color))
        .unwrap_or(Color32::WHITE)
}

/// An ERT for the panel: whole updates, or "none" when no run reached the minimum.
pub(super) fn ert_text(ert: Option<f64>) -> String {
    ert.map(|e| format!("{e:.0}"))
        .unwrap_or_else(|| "none".into())
}

pub(super) fn ert_hover(lo: Option<f64>, hi: Option<f64>) -> String {
    ert_hover_in(lo, hi, "updates")
}

/// The ERT's hover text, the ERT counted in `unit` (updates or evaluations).
pub(super) fn ert_hover_in(lo: Option<f64>, hi: Option<f64>, unit: &str) -> String {
    let end = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "∞".into());
    format!(
        "expected {unit} to reach the global minimum with restarts; 95% bootstrap interval [{}, {}]",
        end(lo),
        end(hi)
    )
}
