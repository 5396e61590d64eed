//! The sandbox's window layout: controls on the left ([`super::controls`]), results on the right
//! (leaderboard and loss plot in [`super::results`], the lab, the inspector), the 3D view
//! between them, and what floats over it ([`super::overlays`]). Panels read components and
//! resources; what they ask of the simulation travels as `SimCommand`s.

use super::{Hover, UiState, controls, inspector, overlays, results};
use crate::sim::{
    Ball, BallOptimizer, BallRun, NetBall, Roster, SimCommand, SimSettings, SimSurface, Trail,
};
use crate::view::{DisplaySettings, Selected};
use bevy::camera::Viewport;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, egui};
use egui::{LayerId, RichText, UiBuilder};
use optiscape_core::landscape::Surface;

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
    copy_links: MessageWriter<'w, super::CopyLink>,
    world: Res<'w, crate::view::surface_mesh::WorldMap>,
    recording: Res<'w, super::SandboxRecording>,
    aids: Res<'w, crate::view::still_cache::RenderAids>,
    render_settings: ResMut<'w, crate::view::still_cache::RenderSettings>,
    adapter: Res<'w, crate::view::RenderAdapter>,
    pace: Local<'s, PanelPace>,
    start_recording: MessageWriter<'w, super::StartRecording>,
    stop_recording: MessageWriter<'w, super::StopRecording>,
    net_runs: Res<'w, crate::sim::NetRuns>,
    boundary: Local<'s, super::network::Boundary>,
}

pub(super) type BallData<'a> = (
    Entity,
    &'a Ball,
    &'a BallRun,
    &'a Trail,
    &'a BallOptimizer,
    Option<&'a NetBall>,
);

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
    mut camera: Single<&mut Camera, With<crate::view::MainCamera>>,
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
        if let Some(n) = surface.0.as_net() {
            ui_state.net.follow(&n.slice().spec);
        }
        *extra.seen = Some(surface.0.clone());
    }
    let ctx = contexts.ctx_mut()?.clone();
    let now = extra.time.elapsed_secs_f64();
    let size = window.physical_size();
    let pointer = ctx.input(|i| i.pointer.hover_pos());
    let (last_left, last_right) = extra.pace.widths;
    let over_panels = pointer
        .is_some_and(|p| p.x <= last_left || p.x >= ctx.viewport_rect().width() - last_right);
    let interacting = over_panels
        || ctx.egui_is_using_pointer()
        || ctx.input(|i| {
            i.events
                .iter()
                .any(|e| matches!(e, egui::Event::Key { .. } | egui::Event::Text(_)))
        })
        || ctx.memory(|m| m.focused().is_some())
        || egui::Popup::is_any_open(&ctx)
        || ui_state.show_help
        || ui_state.toast.is_some();
    let draw_sides = extra.pace.due(PaceInputs {
        now,
        kept: extra.aids.backdrop.is_some(),
        interacting,
        size,
    });
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
    let mut copy_link = false;
    let on_net = surface.0.as_net().is_some();
    let network = |ui: &mut egui::Ui,
                   ui_state: &mut UiState,
                   roster: &Roster,
                   extra: &mut PanelExtras,
                   out: &mut Vec<SimCommand>| {
        super::network::network_section(
            ui,
            &mut ui_state.net,
            &surface.0,
            roster,
            &extra.net_runs,
            &balls,
            selected.0,
            &mut extra.boundary,
            out,
        );
    };
    let sides = {
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
                        &mut copy_link,
                    );
                    controls::run_section(
                        ui,
                        &mut ui_state,
                        &settings,
                        &balls,
                        &mut out,
                        &mut shot,
                        (extra.recording.progress(), &mut rec),
                    );
                    // On a network slice the Network section comes first.
                    if on_net {
                        network(ui, &mut ui_state, &roster, &mut extra, &mut out);
                    }
                    controls::spawn_section(ui, &mut ui_state, &surface.0, &mut out);
                    controls::surface_section(
                        ui,
                        &mut ui_state,
                        &surface.0,
                        extra.world.nonfinite,
                        &mut display,
                        controls::Performance {
                            settings: &mut extra.render_settings,
                            adapter: &extra.adapter,
                            aids: &extra.aids,
                        },
                        &mut out,
                    );
                    if !on_net {
                        network(ui, &mut ui_state, &roster, &mut extra, &mut out);
                    }
                    controls::methods_section(ui, &mut roster, &mut out);
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
                    results::leaderboard(ui, &surface.0, &roster, &balls);
                    ui.separator();
                    super::lab_panel::lab_section(
                        ui,
                        &mut lab,
                        &mut overlay,
                        &surface.0,
                        &mut roster,
                        &rng,
                        &mut out,
                    );
                    ui.separator();
                    results::loss_plot(ui, &mut ui_state, &surface.0, &roster, &balls);
                    ui.separator();
                    inspector::inspector(ui, &mut selected, &surface.0, &balls);
                });
            })
            .response
            .rect
            .width();
        (left, right)
    };
    let (left, right) = sides;
    extra.pace.widths = (left, right);
    if !draw_sides {
        // Laid out (so that egui knows where every widget is, for the next frame's clicks) but
        // not painted: the window's texture still holds the panels' pixels.
        ctx.graphics_mut(|g| {
            let _ = std::mem::take(g.entry(LayerId::background()));
        });
    }
    inspector::hover_readout(&ctx, &hover, &surface.0, left);
    overlays::toast(&ctx, &mut ui_state.toast, extra.time.elapsed_secs_f64());
    overlays::help_window(&ctx, &mut ui_state.show_help);
    for name in load {
        extra.loads.write(super::LoadScenario(name));
    }
    if let Some(path) = save {
        extra.saves.write(super::SaveScenario(path));
    }
    if copy_link {
        extra.copy_links.write(super::CopyLink);
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

/// How often the side panels refresh when nothing asks for more (seconds).
const PANEL_REFRESH: f64 = 0.1;

/// When the side panels are painted. On a software renderer every pixel costs, and the panels
/// are most of the window: while the 3D view starts from the kept still parts, it touches only
/// its viewport, so the panels' pixels stay in the window's texture from one frame to the next
/// (`view::backdrop`). Then the panels are painted again only when something asks for it — the
/// pointer over them, a key, a text field or a menu open, a message or the help shown, a new
/// window size — and otherwise ten times a second, so their numbers keep up with the run. They
/// are laid out in every frame all the same (egui finds what a click hits in the last frame's
/// layout). Elsewhere (a GPU, or with the aids off) they are painted in every frame.
#[derive(Debug, Default)]
pub(super) struct PanelPace {
    /// When they were last drawn (real time, seconds).
    last: Option<f64>,
    /// Frames in a row the 3D view has kept to its viewport.
    kept_frames: u32,
    size: UVec2,
    /// The panels' widths when last drawn (logical pixels).
    widths: (f32, f32),
}

/// What [`PanelPace::due`] decides from.
pub(super) struct PaceInputs {
    pub now: f64,
    /// The 3D view keeps to its viewport in this frame (the still parts are being reused).
    pub kept: bool,
    pub interacting: bool,
    pub size: UVec2,
}

impl PanelPace {
    /// Whether the side panels are drawn in this frame.
    pub(super) fn due(&mut self, i: PaceInputs) -> bool {
        self.kept_frames = if i.kept { self.kept_frames + 1 } else { 0 };
        let resized = std::mem::replace(&mut self.size, i.size) != i.size;
        // Two frames in a row first, so that the texture that is kept holds the panels.
        let due = self.kept_frames < 3
            || resized
            || i.interacting
            || self
                .last
                .is_none_or(|t| i.now - t >= PANEL_REFRESH || i.now < t);
        if due {
            self.last = Some(i.now);
        }
        due
    }
}

/// What the Run section asks of the GIF recorder.
pub(super) enum RecordRequest {
    None,
    Start(u32),
    Stop,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(pace: &mut PanelPace, now: f64, kept: bool, interacting: bool) -> bool {
        pace.due(PaceInputs {
            now,
            kept,
            interacting,
            size: UVec2::new(1280, 720),
        })
    }

    #[test]
    fn panels_refresh_ten_times_a_second_while_kept() {
        let mut p = PanelPace::default();
        // Not kept between frames: drawn in every frame.
        for k in 0..5 {
            assert!(at(&mut p, k as f64 * 0.01, false, false));
        }
        // Kept: the first two frames still drawn, then every 0.1 s.
        let drawn: Vec<bool> = (0..30)
            .map(|k| at(&mut p, 1.0 + k as f64 * 0.02, true, false))
            .collect();
        assert!(drawn[..2].iter().all(|d| *d));
        assert!(!drawn[2]);
        let later = drawn[2..].iter().filter(|d| **d).count();
        assert!((4..=6).contains(&later), "{drawn:?}");
        // Interaction draws at once, every frame.
        assert!(at(&mut p, 1.601, true, true));
        assert!(at(&mut p, 1.602, true, true));
        // A new window size too.
        assert!(p.due(PaceInputs {
            now: 1.603,
            kept: true,
            interacting: false,
            size: UVec2::new(800, 600),
        }));
        assert!(!at(&mut p, 1.604, true, false) || !at(&mut p, 1.605, true, false));
    }
}
