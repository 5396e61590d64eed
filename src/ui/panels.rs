//! The egui panels: controls on the left; leaderboard, loss plot and inspector on the right;
//! the hover readout, the help window and ball labels over the 3D view.

use super::{Hover, UiState};
use crate::lab::RunStatus;
use crate::landscape::{Domain, Surface, catalog as surfaces};
use crate::optim::{ParamMut, StateValue};
use crate::sim::{
    Ball, BallOptimizer, BallRun, Roster, SimCommand, SimRng, SimSettings, SimSurface, Target,
    Trail,
};
use crate::view::colormap::Colormap;
use crate::view::{DisplaySettings, Selected};
use bevy::camera::Viewport;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, egui};
use egui::{Color32, LayerId, RichText, UiBuilder};
use egui_plot::{Legend, Line, Plot, PlotPoints};

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

pub(super) fn color32(c: Color) -> Color32 {
    let [r, g, b] = c.to_srgba().to_u8_array_no_alpha();
    Color32::from_rgb(r, g, b)
}

/// The panels' remaining parameters (a system takes at most 16).
#[derive(bevy::ecs::system::SystemParam)]
pub(super) struct PanelExtras<'w, 's> {
    time: Res<'w, Time<Real>>,
    shots: MessageWriter<'w, super::TakeScreenshot>,
    /// The surface the domain and formula fields were last filled from.
    seen: Local<'s, Option<Surface>>,
    scenario_ui: ResMut<'w, super::ScenarioUi>,
    loaded_setup: Res<'w, crate::sim::LoadedSetup>,
    loads: MessageWriter<'w, super::LoadScenario>,
    saves: MessageWriter<'w, super::SaveScenario>,
    world: Res<'w, crate::view::surface_mesh::WorldMap>,
    recording: Res<'w, super::SandboxRecording>,
    start_recording: MessageWriter<'w, super::StartRecording>,
    stop_recording: MessageWriter<'w, super::StopRecording>,
}

type BallData<'a> = (Entity, &'a Ball, &'a BallRun, &'a Trail, &'a BallOptimizer);

#[allow(clippy::too_many_arguments)]
pub(super) fn draw_panels(
    mut contexts: EguiContexts,
    mut ui_state: ResMut<UiState>,
    mut roster: ResMut<Roster>,
    mut display: ResMut<DisplaySettings>,
    mut selected: ResMut<Selected>,
    surface: Res<SimSurface>,
    settings: Res<SimSettings>,
    hover: Res<Hover>,
    balls: Query<BallData>,
    mut writer: MessageWriter<SimCommand>,
    mut camera: Single<&mut Camera, With<Camera3d>>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut lab: ResMut<super::LabState>,
    mut overlay: ResMut<crate::view::BasinOverlay>,
    rng: Res<crate::sim::SimRng>,
    mut extra: PanelExtras,
) -> Result {
    // The domain fields follow the surface, however it changed (picker, command line, ...).
    if extra.seen.as_ref() != Some(&surface.0) {
        let d = surface.0.domain;
        ui_state.domain = [d.x0, d.x1, d.y0, d.y1];
        ui_state.region = ui_state.domain;
        ui_state.domain_error = None;
        // The formula field shows a newly arrived formula (command line, scenario); a parameter
        // change keeps whatever is being typed.
        let before = extra
            .seen
            .as_ref()
            .and_then(|s| s.as_formula())
            .map(|f| f.source());
        if let Some(f) = surface.0.as_formula()
            && before != Some(f.source())
        {
            ui_state.formula = f.source().to_string();
        }
        *extra.seen = Some(surface.0.clone());
    }
    let ctx = contexts.ctx_mut()?.clone();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "optiscape-root".into(),
        UiBuilder::new()
            .layer_id(LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let mut out: Vec<SimCommand> = Vec::new();
    let mut shot = false;
    let mut rec = RecordRequest::None;
    let mut load: Vec<String> = Vec::new();
    let mut save: Option<std::path::PathBuf> = None;
    let left = egui::Panel::left("controls")
        .resizable(true)
        .default_size(265.0)
        .show_inside(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.heading("optiscape");
                ui.label(
                    RichText::new("How do optimizers fight local optima? Press H for help.")
                        .small(),
                );
                ui.separator();
                super::scenario_panel::scenario_section(
                    ui,
                    &mut extra.scenario_ui,
                    extra.loaded_setup.edited,
                    &mut load,
                    &mut save,
                );
                run_section(
                    ui,
                    &mut ui_state,
                    &settings,
                    &balls,
                    &mut out,
                    &mut shot,
                    (extra.recording.progress(), &mut rec),
                );
                spawn_section(ui, &mut ui_state, &surface.0, &mut out);
                surface_section(
                    ui,
                    &mut ui_state,
                    &surface.0,
                    extra.world.nonfinite,
                    &mut display,
                    &mut out,
                );
                methods_section(ui, &mut roster, &mut out);
            });
        })
        .response
        .rect
        .width();
    let right = egui::Panel::right("results")
        .resizable(true)
        .default_size(330.0)
        .show_inside(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                leaderboard(ui, &surface.0, &roster, &balls);
                ui.separator();
                super::lab_panel::lab_section(
                    ui,
                    &mut lab,
                    &mut overlay,
                    &surface.0,
                    &roster,
                    &rng,
                );
                ui.separator();
                loss_plot(ui, &mut ui_state, &surface.0, &roster, &balls);
                ui.separator();
                inspector(ui, &mut selected, &surface.0, &balls);
            });
        })
        .response
        .rect
        .width();
    hover_readout(&ctx, &hover, &surface.0, left);
    toast(&ctx, &mut ui_state.toast, extra.time.elapsed_secs_f64());
    help_window(&ctx, &mut ui_state.show_help);
    for name in load {
        extra.loads.write(super::LoadScenario(name));
    }
    if let Some(path) = save {
        extra.saves.write(super::SaveScenario(path));
    }
    for c in out {
        writer.write(c);
    }
    if shot {
        extra.shots.write(super::TakeScreenshot);
    }
    match rec {
        RecordRequest::Start(frames) => {
            extra
                .start_recording
                .write(super::StartRecording { frames });
        }
        RecordRequest::Stop => {
            extra.stop_recording.write(super::StopRecording);
        }
        RecordRequest::None => {}
    }
    // The 3D view fills the space between the panels.
    let scale = window.scale_factor();
    let (l, r) = ((left * scale) as u32, (right * scale) as u32);
    let (w, h) = (window.physical_width(), window.physical_height());
    if w > l + r + 16 && h > 16 {
        camera.viewport = Some(Viewport {
            physical_position: UVec2::new(l, 0),
            physical_size: UVec2::new(w - l - r, h),
            ..default()
        });
    }
    Ok(())
}

/// What the Run section asks of the GIF recorder.
enum RecordRequest {
    None,
    Start(u32),
    Stop,
}

fn run_section(
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

fn spawn_section(
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
                ui.add(egui::DragValue::new(&mut state.starts).range(1..=5000));
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
            if ui
                .button(format!("Restart from {} random start points", state.starts))
                .on_hover_text("N: the same points for every enabled method")
                .clicked()
            {
                let region = state.use_region.then(|| {
                    let r = state.region;
                    Domain::new(r[0], r[1], r[2], r[3])
                });
                out.push(SimCommand::SetSeed(state.seed));
                out.push(SimCommand::Restart {
                    k: state.starts,
                    region,
                });
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
    let parsed = crate::landscape::Formula::parse(&state.formula);
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
            out.push(SimCommand::SetSurface(s));
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
            crate::landscape::formula::function_names()
                .collect::<Vec<_>>()
                .join(" ")
        ))
        .small()
        .weak(),
    );
}

fn surface_section(
    ui: &mut egui::Ui,
    state: &mut UiState,
    surface: &Surface,
    nonfinite: f64,
    display: &mut DisplaySettings,
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
                    out.push(SimCommand::SetSurface(s));
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
            let min = surface.global_minimum();
            ui.label(format!(
                "global minimum {:.6}{} at {} point{}",
                min.value,
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
                        out.push(SimCommand::SetSurface(s));
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
                            out.push(SimCommand::SetSurface(s));
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
                    out.push(SimCommand::SetSurface(s));
                }
            });
            if let Some(e) = &state.domain_error {
                ui.colored_label(Color32::LIGHT_RED, e);
            }
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
                });
        });
}

fn methods_section(ui: &mut egui::Ui, roster: &mut Roster, out: &mut Vec<SimCommand>) {
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
fn param_widget(ui: &mut egui::Ui, p: crate::optim::Param<'_>) -> bool {
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
                let r = ui.add(egui::DragValue::new(v).range(1..=1000));
                ui.label(spec.name);
                r
            })
            .inner
        }
    };
    r.on_hover_text(format!("{} ({})", spec.doc, spec.range_text()))
        .changed()
}

fn leaderboard(ui: &mut egui::Ui, surface: &Surface, roster: &Roster, balls: &Query<BallData>) {
    let target = Target::of(surface);
    ui.heading("Leaderboard");
    ui.label(
        RichText::new(format!(
            "at min: loss within {} of the global minimum {:.5}",
            target.tol, target.value
        ))
        .small(),
    );
    egui::Grid::new("leaderboard")
        .striped(true)
        .spacing([10.0, 3.0])
        .show(ui, |ui| {
            for h in ["method", "balls", "at min", "best", "mean", "div.", "steps"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            let mut rows: Vec<(f64, Vec<String>, Color32)> = Vec::new();
            for entry in &roster.0 {
                let mine: Vec<BallData> = balls.iter().filter(|b| b.1.method == entry.id).collect();
                if mine.is_empty() {
                    continue;
                }
                let n = mine.len();
                // Diverged balls count in their own column only (a ball far outside the domain can
                // show a loss below the domain's minimum).
                let alive = || mine.iter().filter(|b| b.2.0.status != RunStatus::Diverged);
                let losses: Vec<f64> = alive()
                    .map(|b| b.2.0.loss)
                    .filter(|l| l.is_finite())
                    .collect();
                let at_min = alive().filter(|b| target.reached(b.2.0.loss)).count();
                let diverged = mine
                    .iter()
                    .filter(|b| b.2.0.status == RunStatus::Diverged)
                    .count();
                let best = losses.iter().copied().fold(f64::INFINITY, f64::min);
                let mean = if losses.is_empty() {
                    f64::NAN
                } else {
                    losses.iter().sum::<f64>() / losses.len() as f64
                };
                let mut reached: Vec<u64> = mine.iter().filter_map(|b| b.1.reached).collect();
                reached.sort_unstable();
                let med = if reached.is_empty() {
                    "–".to_string()
                } else {
                    reached[reached.len() / 2].to_string()
                };
                let share = at_min as f64 / n as f64;
                rows.push((
                    share,
                    vec![
                        entry.label.to_string(),
                        n.to_string(),
                        format!("{:.0}%", 100.0 * share),
                        fmt_loss(best),
                        fmt_loss(mean),
                        diverged.to_string(),
                        med,
                    ],
                    color32(entry.color),
                ));
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

fn fmt_loss(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e5) {
        format!("{v:.2e}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

fn loss_plot(
    ui: &mut egui::Ui,
    state: &mut UiState,
    surface: &Surface,
    roster: &Roster,
    balls: &Query<BallData>,
) {
    ui.horizontal(|ui| {
        ui.heading("Loss");
        ui.checkbox(&mut state.log_plot, "log gap to min");
        ui.checkbox(&mut state.mean_plot, "mean per method");
    });
    let min = surface.global_minimum().value;
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
    Plot::new("loss-plot")
        .height(200.0)
        .legend(Legend::default())
        .x_axis_label("update")
        .y_axis_label(if log { "log10(loss - min)" } else { "loss" })
        .show(ui, |plot| {
            for entry in roster.0.iter().filter(|e| e.enabled) {
                let mine: Vec<_> = balls.iter().filter(|b| b.1.method == entry.id).collect();
                if mine.is_empty() {
                    continue;
                }
                let color = color32(entry.color);
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

fn inspector(
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
    let (_, ball, run, _, opt) = b;
    let r = &run.0;
    egui::Grid::new("inspector").show(ui, |ui| {
        let mut row = |k: &str, v: String| {
            ui.label(k);
            ui.label(v);
            ui.end_row();
        };
        row("method", ball.method.clone());
        row("status", format!("{:?}", r.status).to_lowercase());
        row("frame", format!("{} of {}", ball.frames, ball.limit));
        row("updates", r.steps.to_string());
        row("position", format!("({:.6}, {:.6})", r.pos.x, r.pos.y));
        row("loss", format!("{:.8}", r.loss));
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
            };
            row(name, text);
        }
    });
}

fn hover_readout(ctx: &egui::Context, hover: &Hover, surface: &Surface, left: f32) {
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
                            "x {:.4}   y {:.4}   loss {:.6}",
                            p.x,
                            p.y,
                            surface.height(p)
                        ))
                        .monospace(),
                    )
                    .wrap_mode(egui::TextWrapMode::Extend),
                );
            });
        });
}

fn toast(ctx: &egui::Context, toast: &mut Option<(String, f64)>, now: f64) {
    if toast.as_ref().is_some_and(|(_, until)| now > *until) {
        *toast = None;
    }
    let Some((text, _)) = toast.as_ref() else {
        return;
    };
    egui::Area::new("toast".into())
        .anchor(egui::Align2::CENTER_BOTTOM, egui::vec2(0.0, -48.0))
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.label(RichText::new(text).strong());
            });
        });
}

fn help_window(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Help — controls")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
        .show(ctx, |ui| {
            egui::Grid::new("help").striped(true).show(ui, |ui| {
                for (k, v) in [
                    ("Space", "play / pause"),
                    ("Right arrow or .", "step once (one frame)"),
                    ("R", "reset every ball to its start"),
                    ("C", "continue: N more frames"),
                    ("N", "restart from K random start points"),
                    ("B", "back to the default (notebook) start"),
                    ("Delete", "clear all balls"),
                    ("H or F1", "this help"),
                    ("F12", "screenshot to a PNG in the working directory"),
                    ("Esc", "close help, deselect"),
                    (
                        "Left click on the surface",
                        "drop a ball of every enabled method",
                    ),
                    ("Left click on a ball", "inspect it"),
                    ("Left drag", "orbit the camera"),
                    ("Right drag", "pan"),
                    ("Wheel", "zoom"),
                ] {
                    ui.label(RichText::new(k).strong());
                    ui.label(v);
                    ui.end_row();
                }
            });
            ui.separator();
            ui.label(
                "Scenario (top left): open a shipped setup, or load and save your own .ron \
                 file. Surface > Your formula...: type f(x, y); Enter applies it. Run > Record: \
                 the next N frames of the 3D view as a GIF.",
            );
        });
}

/// Over the 3D view: the axes' tick values (with the domain frame) and method labels next to
/// the balls (when enabled).
pub(super) fn draw_labels(
    mut contexts: EguiContexts,
    display: Res<DisplaySettings>,
    camera: Single<(&Camera, &GlobalTransform), With<Camera3d>>,
    balls: Query<(&Ball, &GlobalTransform)>,
    roster: Res<Roster>,
    surface: Res<SimSurface>,
    map: Res<crate::view::surface_mesh::WorldMap>,
) -> Result {
    if !display.labels && !display.axes {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let painter = ctx.layer_painter(LayerId::new(egui::Order::Background, "labels".into()));
    let (cam, cam_t) = *camera;
    // Window coordinates (Bevy adds the viewport's position itself).
    let view = cam.logical_viewport_rect();
    let screen = |w: Vec3| {
        cam.world_to_viewport(cam_t, w)
            .ok()
            .filter(|p| view.is_none_or(|r| r.contains(*p)))
            .map(|p| egui::pos2(p.x, p.y))
    };
    if display.axes {
        let d = surface.0.domain;
        let grey = Color32::from_rgb(205, 205, 215);
        let font = egui::FontId::proportional(11.0);
        let text = |v: f64| {
            let t = format!("{v:.3}");
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        for x in crate::view::ticks(d.x0, d.x1) {
            let w = map.to_world(glam::DVec2::new(x, d.y0), map.lo) + Vec3::Z * 0.3;
            if let Some(p) = screen(w) {
                painter.text(p, egui::Align2::CENTER_CENTER, text(x), font.clone(), grey);
            }
        }
        for y in crate::view::ticks(d.y0, d.y1) {
            let w = map.to_world(glam::DVec2::new(d.x0, y), map.lo) - Vec3::X * 0.35;
            if let Some(p) = screen(w) {
                painter.text(p, egui::Align2::CENTER_CENTER, text(y), font.clone(), grey);
            }
        }
        let mid_x = map.to_world(glam::DVec2::new(d.center().x, d.y0), map.lo) + Vec3::Z * 0.7;
        if let Some(p) = screen(mid_x) {
            painter.text(p, egui::Align2::CENTER_CENTER, "x", font.clone(), grey);
        }
        let mid_y = map.to_world(glam::DVec2::new(d.x0, d.center().y), map.lo) - Vec3::X * 0.8;
        if let Some(p) = screen(mid_y) {
            painter.text(p, egui::Align2::CENTER_CENTER, "y", font.clone(), grey);
        }
    }
    if display.labels {
        for (ball, t) in balls.iter().take(500) {
            if let Some(p) = screen(t.translation()) {
                let label = roster.get(&ball.method).map(|m| m.label).unwrap_or("?");
                painter.text(
                    p + egui::vec2(8.0, -8.0),
                    egui::Align2::LEFT_BOTTOM,
                    label,
                    egui::FontId::proportional(12.0),
                    color32(ball.color),
                );
            }
        }
    }
    Ok(())
}
