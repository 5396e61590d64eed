//! What floats over the 3D view: the toast, the help window, the axes' tick values, the balls'
//! labels and the frame time.

use super::color32;
use crate::sim::{Ball, Roster, SimSurface};
use crate::view::DisplaySettings;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use egui::{Color32, LayerId, RichText};

pub(super) fn toast(ctx: &egui::Context, toast: &mut Option<(String, f64)>, now: f64) {
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

pub(super) fn help_window(ctx: &egui::Context, open: &mut bool) {
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
    camera: Single<(&Camera, &GlobalTransform), With<crate::view::MainCamera>>,
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

/// Frames the frame-time readout averages over.
const FRAME_WINDOW: usize = 30;

/// The last frames' durations (real time, seconds), for the readout.
#[derive(Resource, Reflect, Default, Debug)]
#[reflect(Resource)]
pub struct FrameClock {
    recent: std::collections::VecDeque<f64>,
}

impl FrameClock {
    pub fn push(&mut self, seconds: f64) {
        if !(seconds.is_finite() && seconds > 0.0) {
            return;
        }
        if self.recent.len() == FRAME_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(seconds);
    }

    /// Mean milliseconds per frame and frames per second over the window (`None` before two
    /// frames).
    pub fn reading(&self) -> Option<(f64, f64)> {
        if self.recent.len() < 2 {
            return None;
        }
        let mean = self.recent.iter().sum::<f64>() / self.recent.len() as f64;
        Some((mean * 1000.0, 1.0 / mean))
    }
}

pub(super) fn tick_frame_clock(time: Res<Time<Real>>, mut clock: ResMut<FrameClock>) {
    clock.push(time.delta_secs_f64());
}

/// The frame-time readout in the 3D view's top right corner (Display > frame time).
pub(super) fn frame_time_readout(
    mut contexts: EguiContexts,
    settings: Res<crate::view::still_cache::RenderSettings>,
    aids: Res<crate::view::still_cache::RenderAids>,
    clock: Res<FrameClock>,
    camera: Single<&Camera, With<crate::view::MainCamera>>,
) -> Result {
    if !settings.show_frame_time {
        return Ok(());
    }
    let Some((ms, fps)) = clock.reading() else {
        return Ok(());
    };
    let Some(view) = camera.logical_viewport_rect() else {
        return Ok(());
    };
    let ctx = contexts.ctx_mut()?;
    let mode = match (aids.backdrop, aids.scaled) {
        (_, true) => " · half resolution",
        (Some(crate::view::backdrop::Backdrop::Use), _) => " · still parts reused",
        _ => "",
    };
    egui::Area::new("frame time".into())
        .fixed_pos(egui::pos2(view.max.x - 8.0, view.min.y + 8.0))
        .pivot(egui::Align2::RIGHT_TOP)
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.add(
                    egui::Label::new(
                        RichText::new(format!("{fps:.1} fps · {ms:.1} ms{mode}"))
                            .monospace()
                            .small(),
                    )
                    .wrap_mode(egui::TextWrapMode::Extend),
                );
            });
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::FrameClock;

    #[test]
    fn the_readout_averages_the_last_frames() {
        let mut c = FrameClock::default();
        assert_eq!(c.reading(), None);
        c.push(0.02);
        c.push(f64::NAN);
        c.push(0.0);
        assert_eq!(c.reading(), None);
        c.push(0.04);
        let (ms, fps) = c.reading().unwrap();
        assert!((ms - 30.0).abs() < 1e-9 && (fps - 1.0 / 0.03).abs() < 1e-9);
        for _ in 0..100 {
            c.push(0.01);
        }
        let (ms, fps) = c.reading().unwrap();
        assert!((ms - 10.0).abs() < 1e-9 && (fps - 100.0).abs() < 1e-6);
    }
}
