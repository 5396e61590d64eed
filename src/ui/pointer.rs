//! The pointer and keyboard: hover readout on the surface, click to drop balls or select one,
//! and the shortcuts.

use super::UiState;
use crate::sim::{Ball, SimCommand, SimSurface};
use crate::view::{Selected, SurfaceMesh, surface_mesh::WorldMap};
use bevy::picking::mesh_picking::ray_cast::{MeshRayCast, MeshRayCastSettings, RayCastVisibility};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::EguiContexts;
use glam::DVec2;

/// The surface point under the cursor, if any.
#[derive(Resource, Reflect, Default, Clone, Copy, Debug)]
#[reflect(Resource)]
pub struct Hover(pub Option<DVec2>);

/// Where the left button went down (to tell a click from an orbit drag).
#[derive(Default)]
pub(super) struct Press(Option<Vec2>);

#[allow(clippy::too_many_arguments)]
pub(super) fn hover_and_click(
    mut contexts: EguiContexts,
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&Camera, &GlobalTransform), With<crate::view::MainCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    surface_entity: Single<Entity, With<SurfaceMesh>>,
    balls: Query<(), With<Ball>>,
    mut ray_cast: MeshRayCast,
    map: Res<WorldMap>,
    surface: Res<SimSurface>,
    mut hover: ResMut<Hover>,
    mut selected: ResMut<Selected>,
    mut press: Local<Press>,
    mut writer: MessageWriter<SimCommand>,
) {
    let over_egui = contexts
        .ctx_mut()
        .map(|c| c.is_pointer_over_egui() || c.egui_is_using_pointer())
        .unwrap_or(false);
    let Some(cursor) = window.cursor_position() else {
        hover.0 = None;
        return;
    };
    if over_egui {
        hover.0 = None;
        if buttons.just_pressed(MouseButton::Left) {
            press.0 = None;
        }
        return;
    }
    let (cam, cam_t) = *camera;
    // Window coordinates: Bevy accounts for the viewport's position itself.
    let Ok(ray) = cam.viewport_to_world(cam_t, cursor) else {
        hover.0 = None;
        return;
    };
    let surf = *surface_entity;
    let filter = |e: Entity| e == surf;
    let settings = MeshRayCastSettings::default()
        .with_filter(&filter)
        .with_visibility(RayCastVisibility::Any);
    hover.0 = ray_cast
        .cast_ray(ray, &settings)
        .first()
        .map(|(_, hit)| map.to_surface(hit.point))
        .filter(|p| surface.0.domain.contains(*p));
    if buttons.just_pressed(MouseButton::Left) {
        press.0 = Some(cursor);
    }
    if buttons.just_released(MouseButton::Left)
        && let Some(start) = press.0.take()
        && start.distance(cursor) < 5.0
    {
        let ball_filter = |e: Entity| balls.contains(e);
        let ball_settings = MeshRayCastSettings::default().with_filter(&ball_filter);
        if let Some((e, _)) = ray_cast.cast_ray(ray, &ball_settings).first() {
            selected.0 = Some(*e);
        } else if let Some(p) = hover.0 {
            writer.write(SimCommand::Drop { at: p });
        }
    }
}

pub(super) fn shortcuts(
    mut contexts: EguiContexts,
    keys: Res<ButtonInput<KeyCode>>,
    mut ui: ResMut<UiState>,
    mut selected: ResMut<Selected>,
    mut writer: MessageWriter<SimCommand>,
    surface: Res<crate::sim::SimSurface>,
    time: Res<Time<Real>>,
) {
    if contexts
        .ctx_mut()
        .map(|c| c.egui_wants_keyboard_input())
        .unwrap_or(false)
    {
        return;
    }
    let pressed = |k| keys.just_pressed(k);
    if pressed(KeyCode::Space) {
        writer.write(SimCommand::TogglePlay);
    }
    if pressed(KeyCode::Period) || pressed(KeyCode::ArrowRight) {
        writer.write(SimCommand::StepOnce);
    }
    if pressed(KeyCode::KeyR) {
        writer.write(SimCommand::Reset);
    }
    if pressed(KeyCode::KeyC) {
        writer.write(SimCommand::Continue);
    }
    if pressed(KeyCode::KeyN) {
        match super::controls::restart_commands(&ui, surface.0.domain) {
            Ok(cmds) => {
                writer.write_batch(cmds);
            }
            Err(e) => ui.toast = Some((e, time.elapsed_secs_f64() + 4.0)),
        }
    }
    if pressed(KeyCode::KeyB) {
        writer.write(SimCommand::ResetToDefaultStart);
    }
    if pressed(KeyCode::Delete) {
        writer.write(SimCommand::Clear);
    }
    if pressed(KeyCode::KeyH) || pressed(KeyCode::F1) {
        ui.show_help = !ui.show_help;
    }
    if pressed(KeyCode::Escape) {
        selected.0 = None;
        ui.show_help = false;
    }
}
