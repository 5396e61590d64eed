//! The egui panels (controls, leaderboard, loss plot, inspector, help), keyboard shortcuts, and
//! the pointer on the surface (hover readout, click to drop, click a ball to inspect). Panels
//! read components and resources; what they ask of the simulation travels as `SimCommand`s.

mod controls;
mod inspector;
mod lab_panel;
mod network;
mod overlays;
mod panels;
mod pointer;
mod recording;
mod results;
mod scenario_panel;
mod screenshot;

use bevy::camera::CameraOutputMode;
use bevy::camera::visibility::RenderLayers;
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy_egui::egui::Color32;
use bevy_egui::{EguiGlobalSettings, EguiPrimaryContextPass, PrimaryEguiContext};

pub use lab_panel::LabState;
pub use pointer::Hover;
pub use recording::{SandboxRecording, StartRecording, StopRecording};
pub use scenario_panel::{
    CopyLink, LoadScenario, SaveScenario, ScenarioUi, SimState, current_scenario,
};
pub use screenshot::{TakeScreenshot, save_png};

/// What the formula field holds until the user types their own.
pub const EXAMPLE_FORMULA: &str = "sin(x)*cos(y) + 0.1*(x^2 + y^2)";

/// UI-only state: what the widgets hold between frames.
#[derive(Resource, Reflect, Clone, Debug)]
#[reflect(Resource)]
pub struct UiState {
    pub show_help: bool,
    pub starts: usize,
    pub use_region: bool,
    pub region: [f64; 4],
    pub seed: u64,
    pub frames: u64,
    pub speed: f64,
    pub log_plot: bool,
    pub mean_plot: bool,
    pub domain: [f64; 4],
    pub domain_error: Option<String>,
    /// Why the last surface asked for was refused (no finite value on its domain).
    pub surface_error: Option<String>,
    /// The formula field's text (kept while it does not parse) and its parse error.
    pub formula: String,
    pub formula_error: Option<String>,
    /// Frames for "Record GIF".
    pub record_frames: u32,
    /// A short message and when it disappears (real time, seconds).
    pub toast: Option<(String, f64)>,
    /// The Network section's fields.
    pub net: network::NetFields,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            show_help: false,
            starts: 20,
            use_region: false,
            region: [0.0, 1.0, 0.0, 1.0],
            seed: optiscape_core::setup::DEFAULT_SEED,
            frames: 300,
            speed: 30.0,
            log_plot: true,
            mean_plot: false,
            domain: [0.0; 4],
            domain_error: None,
            surface_error: None,
            formula: EXAMPLE_FORMULA.to_string(),
            formula_error: None,
            record_frames: 150,
            toast: None,
            net: network::NetFields::default(),
        }
    }
}

/// A Bevy color as egui's.
pub(super) fn color32(c: Color) -> Color32 {
    let [r, g, b] = c.to_srgba().to_u8_array_no_alpha();
    Color32::from_rgb(r, g, b)
}

/// A loss, a height or any number shown in the panels: "–" when it is not finite (no value), else
/// with as many digits as its size needs. The leaderboard, the inspector, the hover readout and
/// the surface's minimum all use it.
pub fn fmt_value(v: f64) -> String {
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

/// egui gets a camera of its own drawn over the whole window, so that the 3D camera can use
/// only the space between the panels (bevy_egui's side_panel example).
fn spawn_ui_camera(mut commands: Commands, mut egui_settings: ResMut<EguiGlobalSettings>) {
    egui_settings.auto_create_primary_context = false;
    commands.spawn((
        Name::new("UI camera"),
        PrimaryEguiContext,
        crate::view::still_cache::OverlayCamera,
        // The 3D camera's usages: single-sampled, both can share one texture (see
        // `view::still_cache`).
        crate::view::backdrop::copy_usages(),
        Camera2d,
        RenderLayers::none(),
        // egui draws single-sampled (into the unsampled texture); a multisampled main texture
        // would only be cleared and resolved, every frame, for nothing.
        Msaa::Off,
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
}

pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<UiState>()
            .init_resource::<Hover>()
            .init_resource::<LabState>()
            .init_resource::<ScenarioUi>()
            .init_resource::<SandboxRecording>()
            .add_message::<StartRecording>()
            .add_message::<StopRecording>()
            .add_message::<TakeScreenshot>()
            .add_message::<LoadScenario>()
            .add_message::<SaveScenario>()
            .add_message::<CopyLink>()
            .init_resource::<overlays::FrameClock>()
            .register_type::<overlays::FrameClock>()
            .add_systems(First, overlays::tick_frame_clock)
            .add_systems(
                Startup,
                (
                    controls::init_ui_state,
                    spawn_ui_camera,
                    scenario_panel::read_recent,
                ),
            )
            .add_systems(
                EguiPrimaryContextPass,
                (
                    panels::draw_panels,
                    overlays::draw_labels,
                    overlays::frame_time_readout,
                )
                    .chain(),
            )
            .add_systems(
                Update,
                (
                    pointer::shortcuts,
                    pointer::hover_and_click,
                    scenario_panel::load_scenarios,
                    scenario_panel::save_scenarios,
                    scenario_panel::copy_links,
                )
                    .before(crate::sim::SimSystems::Commands),
            )
            .add_systems(
                Update,
                (
                    lab_panel::poll_jobs.after(crate::sim::SimSystems::Commands),
                    controls::follow_sim_settings.after(crate::sim::SimSystems::Commands),
                    screenshot::take_screenshots,
                    recording::drive_recording,
                ),
            );
        // The web page: files opened with the picker or dropped on the page.
        #[cfg(target_arch = "wasm32")]
        app.add_systems(
            Update,
            scenario_panel::open_dropped_files
                .before(scenario_panel::load_scenarios)
                .before(crate::sim::SimSystems::Commands),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_value;

    #[test]
    fn no_value_is_a_dash_everywhere_in_the_panels() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(fmt_value(v), "–");
        }
        assert_eq!(fmt_value(-1.715_36), "-1.7154");
        assert_eq!(fmt_value(0.0), "0.0000");
        assert_eq!(fmt_value(2.5e-7), "2.50e-7");
        assert_eq!(fmt_value(123.456), "123.5");
    }
}
