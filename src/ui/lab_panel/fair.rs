//! ECDF and Tune: the fair-comparison tools for the current surface and the enabled methods.

use super::*;
use optiscape_core::lab::ecdf::EvalScale;

/// ECDF, Tune and Phase map: the fair-comparison tools of `docs/guide.md`, for the current
/// surface and the enabled methods (the phase map: the lab's method).
pub(super) fn fair_sections(
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
                     share of (run, target) pairs reached within each budget (of updates, or of \
                     evaluations when the lab's budget counts them)",
                )
                .clicked()
        {
            let (s, k, n, seed) = (surface.clone(), lab.race_starts, lab.steps, rng.seed);
            let total = k * enabled.len();
            let setup = JobSetup::now(surface, &enabled, lab, seed, k);
            let methods = enabled.clone();
            let scale = lab.evals.then_some(EvalScale {
                evals: n,
                grad_cost: optiscape_core::lab::GRAD_COST,
            });
            lab.ecdf_job = Some(Job::spawn(
                format!("{total} runs"),
                total,
                setup,
                move |p| async move {
                    let starts = uniform_starts(s.domain, k, seed);
                    let t = targets(&s, target, &starts);
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
                        scale,
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
                grad_cost: optiscape_core::lab::GRAD_COST,
                evals: lab.evals.then_some(lab.steps),
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
        wide(ui, "tune-results-scroll", |ui| {
            egui::Grid::new("tune-results")
                .striped(true)
                .show(ui, |ui| {
                    let heads = if setup.evals {
                        [
                            "method",
                            "tuned",
                            "success",
                            "ERT evals",
                            "default ERT evals",
                        ]
                    } else {
                        ["method", "tuned", "success", "ERT", "default ERT"]
                    };
                    for h in heads {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for r in rows {
                        let color = color_of(roster, &r.method);
                        ui.colored_label(color, &r.method);
                        let params: Vec<String> = r
                            .params
                            .iter()
                            .map(|(k, v)| format!("{k} {}", crate::ui::fmt_value(*v)))
                            .collect();
                        ui.label(params.join(", "));
                        ui.label(format!("{:.1}%", 100.0 * r.success_rate))
                            .on_hover_text(format!(
                                "default: {:.1}% (both on held-out starts)",
                                100.0 * r.default_success_rate
                            ));
                        if setup.evals {
                            let (t, d) = (&r.held_out, &r.default_held_out);
                            ui.label(ert_text(t.ert_evals)).on_hover_text(ert_hover_in(
                                t.ert_evals_low,
                                t.ert_evals_high,
                                "evaluations",
                            ));
                            ui.label(ert_text(d.ert_evals)).on_hover_text(ert_hover_in(
                                d.ert_evals_low,
                                d.ert_evals_high,
                                "evaluations",
                            ));
                        } else {
                            ui.label(ert_text(r.ert))
                                .on_hover_text(ert_hover(r.ert_low, r.ert_high));
                            ui.label(ert_text(r.default_ert))
                                .on_hover_text(ert_hover(r.default_ert_low, r.default_ert_high));
                        }
                        ui.end_row();
                    }
                })
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
