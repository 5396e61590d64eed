//! The inspector (one ball's state, every number of its rule) and the hover readout under the
//! pointer.

use super::panels::BallData;
use super::{Hover, fmt_value};
use crate::view::Selected;
use bevy::prelude::*;
use bevy_egui::egui;
use egui::RichText;
use optiscape_core::landscape::Surface;
use optiscape_core::optim::StateValue;

pub(super) fn inspector(
    ui: &mut egui::Ui,
    selected: &mut Selected,
    surface: &Surface,
    balls: &Query<BallData>,
) {
    ui.heading("Inspector");
    let Some(b) = selected.0.and_then(|e| balls.get(e).ok()) else {
        selected.0 = None;
        ui.label("Click a ball to inspect it.");
        return;
    };
    let (_, ball, run, _, opt, network) = b;
    let r = &run.0;
    egui::Grid::new("inspector").show(ui, |ui| {
        let mut row = |k: &str, v: String| {
            ui.label(k);
            let r = ui.label(v);
            ui.end_row();
            r
        };
        row("method", ball.method.clone());
        row("status", r.status.name().to_string());
        row("frame", format!("{} of {}", ball.frames, ball.limit));
        row("updates", r.steps.to_string());
        if let Some(nb) = network {
            row("network", format!("run {} of seed {}", nb.run, nb.seed));
            row("updates per frame", nb.updates_per_frame.to_string());
            row(
                "on the plane",
                format!("({:.4}, {:.4}), projected", r.pos.x, r.pos.y),
            );
            row("off the plane", format!("{:.1}% of its distance", 100.0 * nb.off))
                .on_hover_text("how much of the way from the slice's centre to this network the plane does not show");
            row("train loss", fmt_value(r.loss));
            row("test loss", fmt_value(nb.test_loss));
            row(
                "accuracy",
                format!(
                    "train {:.3}, test {:.3}",
                    nb.train_accuracy, nb.test_accuracy
                ),
            );
            if let Some(fit) = &nb.fit {
                row("|gradient|", format!("{:.3e}", fit.state().grad_norm));
            }
            return;
        }
        row("position", format!("({:.6}, {:.6})", r.pos.x, r.pos.y));
        row("loss", fmt_value(r.loss));
        let g = if r.pos.is_finite() {
            surface.gradient(r.pos)
        } else {
            r.last_grad
        };
        row("|gradient|", format!("{:.3e}", g.length()));
        row("last step", format!("{:.3e}", r.last_step.length()));
        row(
            "start",
            format!("({:.4}, {:.4})", ball.start.x, ball.start.y),
        );
        for (name, v) in opt.0.state() {
            let text = match v {
                StateValue::Vec(d) => format!("({:.4e}, {:.4e})", d.x, d.y),
                StateValue::Scalar(x) => format!("{x:.6e}"),
                StateValue::Count(n) => n.to_string(),
                StateValue::Text(t) => t.to_string(),
            };
            row(name, text);
        }
    });
}

pub(super) fn hover_readout(ctx: &egui::Context, hover: &Hover, surface: &Surface, left: f32) {
    let Some(p) = hover.0 else {
        return;
    };
    egui::Area::new("hover".into())
        .fixed_pos(egui::pos2(left + 12.0, ctx.viewport_rect().bottom() - 34.0))
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.add(
                    egui::Label::new(
                        RichText::new(format!(
                            "x {:.4}   y {:.4}   loss {}",
                            p.x,
                            p.y,
                            fmt_value(surface.height(p))
                        ))
                        .monospace(),
                    )
                    .wrap_mode(egui::TextWrapMode::Extend),
                );
            });
        });
}
