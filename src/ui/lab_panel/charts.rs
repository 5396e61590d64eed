//! The ECDF and sweep charts.

use super::*;

/// ECDF curves in the methods' colors: the share of (run, target) pairs against log10 of the
/// budget.
pub(super) fn ecdf_chart(ui: &mut egui::Ui, curves: &[EcdfCurve], roster: &Roster) {
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

pub(super) fn sweep_chart(ui: &mut egui::Ui, method: &str, rows: &[SweepPoint]) {
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
