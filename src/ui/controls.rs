//! The left panel's sections: Run, Start points, Surface (with the formula editor), Methods.

use super::UiState;
use super::panels::{BallData, RecordRequest};
use crate::sim::{Roster, SimCommand, SimRng, SimSettings, SimSurface};
use crate::view::backdrop::Backdrop;
use crate::view::colormap::Colormap;
use crate::view::still_cache::{Aid, RenderAids, RenderSettings};
use crate::view::{DisplaySettings, RenderAdapter};
use bevy::prelude::*;
use bevy_egui::egui;
use egui::{Color32, RichText};
use optiscape_core::lab::RunStatus;
use optiscape_core::landscape::{Domain, Surface, catalog as surfaces};
use optiscape_core::optim::ParamMut;

const SPEED_RANGE: std::ops::RangeInclusive<f64> = 1.0..=1000.0;

pub(super) fn init_ui_state(mut ui: ResMut<UiState>, surface: Res<SimSurface>) {
    let d = surface.0.domain;
    ui.domain = [d.x0, d.x1, d.y0, d.y1];
    ui.region = ui.domain;
}

/// The frame budget, speed and seed fields follow the simulation whenever it changes them
/// (a loaded scenario, the command line), and only then, so typing in them is not undone.
pub(super) fn follow_sim_settings(
    mut ui: ResMut<UiState>,
    settings: Res<SimSettings>,
    rng: Res<SimRng>,
    mut last: Local<Option<(u64, f64, u64)>>,
) {
    let now = (settings.frames, settings.speed, rng.seed);
    if *last != Some(now) {
        (ui.frames, ui.speed, ui.seed) = now;
        *last = Some(now);
    }
}

pub(super) fn run_section(
    ui: &mut egui::Ui,
    state: &mut UiState,
    settings: &SimSettings,
    balls: &Query<BallData>,
    out: &mut Vec<SimCommand>,
    screenshot: &mut bool,
    (recording, request): (Option<(u32, u32)>, &mut RecordRequest),
) {
    egui::CollapsingHeader::new("Run")
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let label = if settings.playing { "Pause" } else { "Play" };
                if ui.button(label).on_hover_text("Space").clicked() {
                    out.push(SimCommand::TogglePlay);
                }
                if ui
                    .button("Step")
                    .on_hover_text("Right arrow or .")
                    .clicked()
                {
                    out.push(SimCommand::StepOnce);
                }
                if ui
                    .button("Reset")
                    .on_hover_text("R: every ball back to its start")
                    .clicked()
                {
                    out.push(SimCommand::Reset);
                }
                if ui
                    .button("Continue")
                    .on_hover_text("C: N more frames")
                    .clicked()
                {
                    out.push(SimCommand::Continue);
                }
            });
            let frame = balls.iter().map(|b| b.1.frames).max().unwrap_or(0);
            let running = balls
                .iter()
                .filter(|b| b.2.0.status == RunStatus::Running)
                .count();
            ui.label(format!(
                "frame {frame} of {} · {} balls, {running} running",
                settings.frames,
                balls.iter().count()
            ));
            let speed = ui.add(
                egui::Slider::new(&mut state.speed, SPEED_RANGE)
                    .logarithmic(true)
                    .text("frames/s"),
            );
            if speed.changed() {
                out.push(SimCommand::SetSpeed(state.speed));
            }
            ui.horizontal(|ui| {
                ui.label("Frames N");
                let r = ui.add(egui::DragValue::new(&mut state.frames).range(1..=1_000_000));
                if r.changed() {
                    out.push(SimCommand::SetFrames(state.frames));
                }
                if ui
                    .small_button("Screenshot")
                    .on_hover_text("F12: save the window as a PNG in the working directory")
                    .clicked()
                {
                    *screenshot = true;
                }
            });
            ui.horizontal(|ui| match recording {
                Some((done, total)) => {
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                            .desired_width(150.0)
                            .text(format!("recording {done}/{total}")),
                    );
                    if ui.small_button("Stop").clicked() {
                        *request = RecordRequest::Stop;
                    }
                }
                None => {
                    ui.label("Record");
                    ui.add(egui::DragValue::new(&mut state.record_frames).range(1..=3000));
                    if ui
                        .small_button("frames to GIF")
                        .on_hover_text(
                            "the next frames of the 3D view, one simulation frame each, as optiscape-<time>.gif in the working directory",
                        )
                        .clicked()
                    {
                        *request = RecordRequest::Start(state.record_frames);
                    }
                }
            });
        });
}

pub(super) fn spawn_section(
    ui: &mut egui::Ui,
    state: &mut UiState,
    surface: &Surface,
    out: &mut Vec<SimCommand>,
) {
    egui::CollapsingHeader::new("Start points")
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label("K");
                ui.add(egui::DragValue::new(&mut state.starts).range(1..=100_000));
                ui.label("seed");
                if ui
                    .add(egui::DragValue::new(&mut state.seed))
                    .on_hover_text("the random source of start points and noise")
                    .changed()
                {
                    out.push(SimCommand::SetSeed(state.seed));
                }
            });
            ui.checkbox(&mut state.use_region, "only inside a sub-rectangle");
            if state.use_region {
                domain_fields(ui, &mut state.region, surface.domain);
            }
            let restart = restart_commands(state, surface.domain);
            if let Err(e) = &restart {
                ui.colored_label(egui::Color32::from_rgb(230, 120, 100), e);
            }
            let button =
                egui::Button::new(format!("Restart from {} random start points", state.starts));
            if ui
                .add_enabled(restart.is_ok(), button)
                .on_hover_text("N: the same points for every enabled method")
                .clicked()
                && let Ok(cmds) = restart
            {
                out.extend(cmds);
            }
            ui.horizontal(|ui| {
                if ui
                    .button("Reset to the default start")
                    .on_hover_text("B: the notebook's start on the seed surface")
                    .clicked()
                {
                    out.push(SimCommand::ResetToDefaultStart);
                }
                if ui.button("Clear all").on_hover_text("Delete").clicked() {
                    out.push(SimCommand::Clear);
                }
            });
            ui.label(
                RichText::new("Click the surface to drop a ball of every enabled method.").small(),
            );
        });
}

/// The surface's instance: a rotation slider (degrees, applied when let go) and an instance
/// number (a rotation and shift drawn from it that keep the global minimum inside; 0 is the
/// surface as defined), as `--rotate` and `--instance` on the command line.
fn instance_fields(
    ui: &mut egui::Ui,
    state: &mut UiState,
    surface: &Surface,
    out: &mut Vec<SimCommand>,
) {
    let pl = surface.placement;
    ui.horizontal(|ui| {
        let id = ui.make_persistent_id("surface-rotate");
        let current = if pl.instance == 0 { pl.rotate } else { 0.0 };
        let mut deg = ui.data(|d| d.get_temp::<f64>(id)).unwrap_or(current);
        let r = ui
            .add(
                egui::Slider::new(&mut deg, -180.0..=180.0)
                    .suffix("°")
                    .text("rotate"),
            )
            .on_hover_text(
                "turn the surface's picture counter-clockwise about the domain's centre \
                 (applies when you let go); axis-aligned valleys favour per-coordinate methods",
            );
        if r.dragged() {
            ui.data_mut(|d| d.insert_temp(id, deg));
        } else {
            ui.data_mut(|d| d.remove::<f64>(id));
        }
        if (r.drag_stopped() || (r.changed() && !r.dragged())) && deg != current {
            let mut s = surface.clone();
            if s.set_rotation(deg).is_ok() {
                apply_surface(state, s, out);
            }
        }
    });
    ui.horizontal(|ui| {
        let mut n = pl.instance;
        let r = ui
            .add(
                egui::DragValue::new(&mut n)
                    .range(0..=9999)
                    .prefix("instance "),
            )
            .on_hover_text(
                "a rotation and shift drawn from this number that keep the global minimum \
                 inside the domain; 0 is the surface as defined",
            );
        if r.changed() && n != pl.instance {
            let mut s = surface.clone();
            s.set_instance(n);
            apply_surface(state, s, out);
        }
        if !pl.is_identity() && ui.button("As defined").clicked() {
            apply_surface(state, surface.unplaced(), out);
        }
    });
    if !pl.is_identity() {
        ui.label(
            RichText::new(format!(
                "turned {:.1}°, shifted ({:.3}, {:.3})",
                pl.rotate, pl.shift.x, pl.shift.y
            ))
            .small(),
        );
    }
}

/// Asks for a new surface, unless it has no finite value on its domain (then says so under the
/// surface, as the command line refuses it). An instance is drawn again for a changed domain or
/// parameter.
fn apply_surface(state: &mut UiState, mut surface: Surface, out: &mut Vec<SimCommand>) {
    surface.replace_instance();
    match optiscape_core::setup::check_finite_somewhere(&surface) {
        Ok(()) => {
            state.surface_error = None;
            out.push(SimCommand::SetSurface(surface));
        }
        Err(e) => state.surface_error = Some(e),
    }
}

/// What "Restart from K random start points" asks for, the button and the N key alike: the
/// seed field's seed, then K points over the sub-rectangle (when ticked) or the whole domain.
/// `Err` says why the sub-rectangle cannot be used.
pub(super) fn restart_commands(state: &UiState, domain: Domain) -> Result<[SimCommand; 2], String> {
    let region = state.use_region.then(|| {
        let r = state.region;
        Domain::new(r[0], r[1], r[2], r[3])
    });
    domain
        .start_region(region)
        .map_err(|e| format!("sub-rectangle: {e}"))?;
    Ok([
        SimCommand::SetSeed(state.seed),
        SimCommand::Restart {
            k: state.starts,
            region,
        },
    ])
}

fn domain_fields(ui: &mut egui::Ui, v: &mut [f64; 4], d: Domain) {
    let speed = d.extent() / 200.0;
    egui::Grid::new(ui.next_auto_id()).show(ui, |ui| {
        ui.label("x");
        ui.add(egui::DragValue::new(&mut v[0]).speed(speed));
        ui.add(egui::DragValue::new(&mut v[1]).speed(speed));
        ui.end_row();
        ui.label("y");
        ui.add(egui::DragValue::new(&mut v[2]).speed(speed));
        ui.add(egui::DragValue::new(&mut v[3]).speed(speed));
        ui.end_row();
    });
}

/// The formula field: live validation on every edit, applied with Enter or the button; a
/// formula that does not parse shows where, and the surface stays the last valid one.
fn formula_field(
    ui: &mut egui::Ui,
    state: &mut UiState,
    surface: &Surface,
    out: &mut Vec<SimCommand>,
) {
    let current = surface.as_formula().map(|f| f.source()).unwrap_or("");
    ui.label("f(x, y) =");
    let edit = ui.add(
        egui::TextEdit::multiline(&mut state.formula)
            .desired_rows(2)
            .desired_width(f32::INFINITY)
            .code_editor()
            // One line, wrapped: Enter applies instead of starting a new line.
            .return_key(None)
            .hint_text("e.g. x^2 + a*sin(3*y)"),
    );
    let parsed = optiscape_core::landscape::Formula::parse(&state.formula);
    state.formula_error = parsed.as_ref().err().map(|e| {
        // A caret under the column, for short single-line formulas.
        let caret = if state.formula.len() < 60 && !state.formula.contains('\n') {
            format!(
                "\n{}\n{}^",
                state.formula,
                " ".repeat(e.column.saturating_sub(1))
            )
        } else {
            String::new()
        };
        format!("{e}{caret}")
    });
    let changed = parsed.is_ok() && state.formula.trim() != current;
    let enter = edit.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.horizontal(|ui| {
        let apply = ui
            .add_enabled(changed, egui::Button::new("Apply formula"))
            .on_hover_text("or Enter in the field");
        if (apply.clicked() || (enter && changed))
            && let Ok(mut s) = Surface::formula(&state.formula, Some(surface.domain))
        {
            // Parameters that keep their names keep their values.
            for (p, v) in surface.params() {
                let _ = s.set_param(&p.name, v);
            }
            apply_surface(state, s, out);
        }
        if ui
            .add_enabled(state.formula.trim() != current, egui::Button::new("Revert"))
            .clicked()
        {
            state.formula = current.to_string();
        }
    });
    match &state.formula_error {
        Some(e) => {
            ui.colored_label(Color32::LIGHT_RED, RichText::new(e).monospace());
            ui.label(RichText::new("the surface stays the last valid formula").small());
        }
        None if changed => {
            ui.label(
                RichText::new("valid; not applied yet")
                    .small()
                    .color(Color32::YELLOW),
            );
        }
        None => {}
    }
    ui.label(
        RichText::new(format!(
            "x, y, numbers, + - * / ^, pi, e, and {}; other names are parameters (sliders below)",
            optiscape_core::landscape::formula::function_names()
                .collect::<Vec<_>>()
                .join(" ")
        ))
        .small()
        .weak(),
    );
}

/// What the Display section's "Performance" fields show and edit.
pub(super) struct Performance<'a> {
    pub settings: &'a mut RenderSettings,
    pub adapter: &'a RenderAdapter,
    pub aids: &'a RenderAids,
}

pub(super) fn surface_section(
    ui: &mut egui::Ui,
    state: &mut UiState,
    surface: &Surface,
    nonfinite: f64,
    display: &mut DisplaySettings,
    perf: Performance<'_>,
    out: &mut Vec<SimCommand>,
) {
    egui::CollapsingHeader::new("Surface")
        .default_open(true)
        .show(ui, |ui| {
            let mut chosen = surface.id();
            egui::ComboBox::from_id_salt("surface")
                .selected_text(surface.display_name())
                .show_ui(ui, |ui| {
                    for info in surfaces() {
                        ui.selectable_value(&mut chosen, info.id, info.display_name)
                            .on_hover_text(info.note);
                    }
                    ui.selectable_value(&mut chosen, "formula", "Your formula...")
                        .on_hover_text("type f(x, y) below");
                });
            if chosen != surface.id() {
                let next = if chosen == "formula" {
                    Surface::formula(&state.formula, None)
                        .or_else(|_| Surface::formula(super::EXAMPLE_FORMULA, None))
                        .ok()
                } else {
                    Surface::by_id(chosen)
                };
                if let Some(s) = next {
                    state.domain = [s.domain.x0, s.domain.x1, s.domain.y0, s.domain.y1];
                    state.region = state.domain;
                    apply_surface(state, s, out);
                }
            }
            if surface.as_formula().is_some() {
                formula_field(ui, state, surface, out);
                if nonfinite > 0.0 {
                    ui.colored_label(
                        Color32::from_rgb(230, 90, 200),
                        format!(
                            "f is not finite on {:.1}% of the domain (magenta, flat at the top); balls there are diverged",
                            100.0 * nonfinite
                        ),
                    );
                }
            } else {
                let info = surface.info();
                ui.label(RichText::new(info.note).italics());
                ui.label(
                    RichText::new(format!("f = {}", info.formula))
                        .small()
                        .monospace(),
                );
            }
            if let Some(e) = &state.surface_error {
                ui.colored_label(Color32::LIGHT_RED, e);
            }
            let min = surface.global_minimum();
            ui.label(format!(
                "global minimum {}{} at {} point{}",
                super::fmt_value(min.value),
                if min.estimated {
                    " (numerical estimate)"
                } else {
                    ""
                },
                min.points.len(),
                if min.points.len() == 1 { "" } else { "s" }
            ));
            for (p, v) in surface.params() {
                // The slider's value lives in egui's memory while dragging; the surface (and the
                // balls on it) changes once, when the drag ends.
                let id = ui.make_persistent_id(("surface-param", &p.name));
                let mut x = ui.data(|d| d.get_temp::<f64>(id)).unwrap_or(v);
                // A formula's parameters may take any value; the slider spans a useful range
                // around the current one (type a value to go beyond it).
                let range = if surface.as_formula().is_some() {
                    let r = 10f64.max(2.0 * v.abs());
                    -r..=r
                } else {
                    p.min..=p.max
                };
                let r = ui
                    .add(egui::Slider::new(&mut x, range).text(p.name.as_ref()))
                    .on_hover_text(format!("{} (applies when you let go)", p.doc));
                if r.dragged() {
                    ui.data_mut(|d| d.insert_temp(id, x));
                } else {
                    ui.data_mut(|d| d.remove::<f64>(id));
                }
                if (r.drag_stopped() || (r.changed() && !r.dragged())) && x != v {
                    let mut s = surface.clone();
                    if s.set_param(&p.name, x).is_ok() {
                        apply_surface(state, s, out);
                    }
                }
            }
            ui.label("Domain");
            domain_fields(ui, &mut state.domain, surface.domain);
            ui.horizontal(|ui| {
                if ui.button("Apply domain").clicked() {
                    let v = state.domain;
                    let d = Domain::new(v[0], v[1], v[2], v[3]);
                    match d.validate() {
                        Ok(()) => {
                            state.domain_error = None;
                            let mut s = surface.clone();
                            s.domain = d;
                            apply_surface(state, s, out);
                        }
                        Err(e) => state.domain_error = Some(e),
                    }
                }
                if ui.button("Default domain").clicked() {
                    let d = surface.info().default_domain;
                    state.domain = [d.x0, d.x1, d.y0, d.y1];
                    state.domain_error = None;
                    let mut s = surface.clone();
                    s.domain = d;
                    apply_surface(state, s, out);
                }
            });
            if let Some(e) = &state.domain_error {
                ui.colored_label(Color32::LIGHT_RED, e);
            }
            instance_fields(ui, state, surface, out);
            egui::CollapsingHeader::new("Display")
                .default_open(false)
                .show(ui, |ui| {
                    egui::ComboBox::from_label("colormap")
                        .selected_text(display.colormap.name())
                        .show_ui(ui, |ui| {
                            for c in Colormap::ALL {
                                ui.selectable_value(&mut display.colormap, c, c.name());
                            }
                        });
                    ui.add(
                        egui::Slider::new(&mut display.resolution, 32..=1024)
                            .logarithmic(true)
                            .text("resolution"),
                    );
                    ui.add(
                        egui::Slider::new(&mut display.exaggeration, 0.1..=5.0)
                            .logarithmic(true)
                            .text("vertical exaggeration"),
                    );
                    ui.horizontal(|ui| {
                        ui.checkbox(&mut display.contours, "contours");
                        ui.add_enabled(
                            display.contours,
                            egui::DragValue::new(&mut display.contour_levels).range(1..=100),
                        );
                    });
                    ui.checkbox(&mut display.wireframe, "wireframe");
                    ui.checkbox(&mut display.axes, "domain frame and axes");
                    ui.checkbox(&mut display.trails, "trails");
                    ui.checkbox(&mut display.gradient_arrows, "gradient arrows (downhill)");
                    ui.checkbox(&mut display.update_arrows, "update arrows");
                    ui.checkbox(&mut display.labels, "labels");
                    performance_fields(ui, perf);
                });
        });
}

/// Display > Performance: the frame-time readout and the software renderer's aids.
fn performance_fields(ui: &mut egui::Ui, perf: Performance<'_>) {
    let Performance {
        settings,
        adapter,
        aids,
    } = perf;
    ui.separator();
    ui.label(RichText::new("Performance").strong());
    ui.checkbox(&mut settings.show_frame_time, "frame time (fps and ms)");
    let software = adapter.software.unwrap_or(false);
    let aid = |ui: &mut egui::Ui, value: &mut Aid, label: &str, tip: &str| {
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt(label)
                .width(60.0)
                .selected_text(value.label())
                .show_ui(ui, |ui| {
                    for a in Aid::ALL {
                        ui.selectable_value(value, a, a.label());
                    }
                });
            let now = if value.active(software) { "on" } else { "off" };
            ui.label(label).on_hover_text(tip);
            ui.label(RichText::new(format!("({now})")).small().weak());
        });
    };
    aid(
        ui,
        &mut settings.reuse_still,
        "reuse still parts",
        "While the camera rests, draw the surface, contours and markers once and then only the \
         balls, trails and arrows. Auto: on with a software renderer.",
    );
    aid(
        ui,
        &mut settings.half_while_moving,
        "half resolution while moving",
        "While the camera moves, draw the 3D view at half its width and height. Auto: on with a \
         software renderer.",
    );
    let kind = match adapter.software {
        Some(true) => "software renderer",
        Some(false) => "GPU",
        None => "starting",
    };
    let state = match (aids.backdrop, aids.scaled) {
        (_, true) => "this frame: half resolution",
        (Some(Backdrop::Use), _) => "this frame: still parts reused",
        _ => "this frame: everything drawn",
    };
    ui.label(
        RichText::new(format!("{} ({kind}); {state}", adapter.name))
            .small()
            .weak(),
    );
}

pub(super) fn methods_section(ui: &mut egui::Ui, roster: &mut Roster, out: &mut Vec<SimCommand>) {
    egui::CollapsingHeader::new("Methods")
        .default_open(true)
        .show(ui, |ui| {
            ui.label(
                RichText::new(
                    "Edits apply to new balls; \"apply\" updates running ones (settings and color).",
                )
                .small(),
            );
            for entry in roster.0.iter_mut() {
                ui.horizontal(|ui| {
                    let mut on = entry.enabled;
                    if ui.checkbox(&mut on, "").changed() {
                        out.push(SimCommand::SetMethodEnabled {
                            method: entry.id.to_string(),
                            enabled: on,
                        });
                    }
                    let mut rgb = entry.color.to_srgba().to_f32_array_no_alpha();
                    if ui.color_edit_button_rgb(&mut rgb).changed() {
                        entry.color = Color::srgb(rgb[0], rgb[1], rgb[2]);
                    }
                    egui::CollapsingHeader::new(entry.label)
                        .id_salt(entry.id)
                        .show(ui, |ui| {
                            ui.label(RichText::new(entry.id).monospace().small());
                            for p in entry.template.params() {
                                param_widget(ui, p);
                            }
                            if ui.button("apply to existing balls").clicked() {
                                out.push(SimCommand::ApplyHyperparameters {
                                    method: entry.id.to_string(),
                                });
                            }
                        });
                });
            }
        });
}

/// One hyperparameter as a widget; returns whether it changed.
fn param_widget(ui: &mut egui::Ui, p: optiscape_core::optim::Param<'_>) -> bool {
    let spec = p.spec;
    let (lo, hi) = spec.slider;
    let r = match p.value {
        ParamMut::Num(v) => {
            let mut x = *v;
            let r = ui.add(
                egui::Slider::new(&mut x, lo..=hi)
                    .logarithmic(spec.log)
                    .clamping(egui::SliderClamping::Never)
                    .text(spec.name),
            );
            if spec.check(x).is_ok() {
                *v = x;
            }
            r
        }
        ParamMut::Pair(v) => {
            ui.horizontal(|ui| {
                let mut a = *v;
                let r1 = ui.add(egui::DragValue::new(&mut a[0]).range(lo..=hi).speed(0.001));
                let r2 = ui.add(egui::DragValue::new(&mut a[1]).range(lo..=hi).speed(0.0005));
                ui.label(spec.name);
                if spec.check(a[0]).is_ok() && spec.check(a[1]).is_ok() {
                    *v = a;
                }
                r1 | r2
            })
            .inner
        }
        ParamMut::Flag(v) => ui.checkbox(v, spec.name),
        ParamMut::Count(v) => {
            ui.horizontal(|ui| {
                let r = ui.add(egui::DragValue::new(v).range((spec.min as u32).max(1)..=1000));
                ui.label(spec.name);
                r
            })
            .inner
        }
        ParamMut::Choice(v) => {
            let mut i = v.index();
            let r = egui::ComboBox::from_label(spec.name).show_index(
                ui,
                &mut i,
                spec.choices.len(),
                |k| spec.choices.get(k).copied().unwrap_or(""),
            );
            if r.changed() {
                v.set_index(i);
            }
            r
        }
    };
    r.on_hover_text(format!("{} ({})", spec.doc, spec.range_text()))
        .changed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_button_and_the_n_key_send_the_same_restart() {
        let domain = Domain::square(-5.0, 5.0);
        let mut state = UiState {
            starts: 40,
            seed: 9,
            ..Default::default()
        };
        let [seed, restart] = restart_commands(&state, domain).expect("the whole domain");
        assert_eq!(seed, SimCommand::SetSeed(9));
        assert_eq!(
            restart,
            SimCommand::Restart {
                k: 40,
                region: None
            }
        );
        state.use_region = true;
        state.region = [-1.0, 1.0, 0.0, 2.0];
        let [_, restart] = restart_commands(&state, domain).expect("inside");
        let region = Some(Domain::new(-1.0, 1.0, 0.0, 2.0));
        assert_eq!(restart, SimCommand::Restart { k: 40, region });
        state.region = [-9.0, 1.0, 0.0, 2.0];
        let e = restart_commands(&state, domain).unwrap_err();
        assert!(
            e.starts_with("sub-rectangle:") && e.contains("inside the domain"),
            "{e}"
        );
    }
}
