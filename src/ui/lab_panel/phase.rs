//! The phase map: the lab's method over lr (log scale) x another numeric hyperparameter.

use super::*;

/// The phase map of the lab's method: lr (log scale) x another numeric hyperparameter.
pub(super) fn phase_section(
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
                    let (o, n) = lab.budgeted(template);
                    let (s, k, seed) = (surface.clone(), lab.sweep_starts, rng.seed);
                    let cost = lab.evals.then_some(optiscape_core::lab::GRAD_COST);
                    let total = x.points * y.points * k;
                    let setup = JobSetup::now(surface, std::slice::from_ref(&o), lab, seed, k);
                    lab.phase_job = Some(Job::spawn(
                        format!("{total} runs"),
                        total,
                        setup,
                        move |p| async move {
                            let starts = uniform_starts(s.domain, k, seed);
                            let f64 = Precision::F64;
                            let cells = phase_paced(
                                &s, &o, &x, &y, &starts, n, seed, target, f64, cost, &p,
                            )
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
    let picked = phase_plot(ui, map, setup.unit());
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
                        crate::ui::fmt_value(cell.x_value),
                        map.y.name,
                        crate::ui::fmt_value(cell.y_value)
                    )
                }
                Err(e) => e,
            });
        }
    }
}

/// The phase map as colored cells (success rate, 0 to the map's highest rate), lr on a log
/// axis; hovering shows a cell's values, a click returns the cell to apply.
/// The map, hoverable; `unit` is what its ERTs count (updates or evaluations).
pub(super) fn phase_plot(ui: &mut egui::Ui, map: &PhaseResult, unit: &str) -> Option<PhaseCell> {
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
                    "{} {} · {} {} · success {:.1}% · ERT {} {} — click to apply",
                    map.x.name,
                    crate::ui::fmt_value(c.x_value),
                    map.y.name,
                    crate::ui::fmt_value(c.y_value),
                    100.0 * c.success_rate,
                    ert_text(c.ert),
                    unit
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
