//! The sandbox's window layout: controls on the left ([`super::controls`]), results on the right
//! (leaderboard and loss plot in [`super::results`], the lab, the inspector), the 3D view
//! between them, and what floats over it ([`super::overlays`]). Panels read components and
//! resources; what they ask of the simulation travels as `SimCommand`s.

use super::{Hover, UiState, controls, inspector, overlays, results};
use crate::sim::{
    Ball, BallOptimizer, BallRun, Roster, SimCommand, SimSettings, SimSurface, Trail,
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
    start_recording: MessageWriter<'w, super::StartRecording>,
    stop_recording: MessageWriter<'w, super::StopRecording>,
}

pub(super) type BallData<'a> = (Entity, &'a Ball, &'a BallRun, &'a Trail, &'a BallOptimizer);

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
    let mut copy_link = false;
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
                controls::spawn_section(ui, &mut ui_state, &surface.0, &mut out);
                controls::surface_section(
                    ui,
                    &mut ui_state,
                    &surface.0,
                    extra.world.nonfinite,
                    &mut display,
                    &mut out,
                );
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

/// What the Run section asks of the GIF recorder.
pub(super) enum RecordRequest {
    None,
    Start(u32),
    Stop,
}
