//! Scenarios in the sandbox: the menu of shipped scenarios, a path field with Load and Save,
//! and a recently used list (kept in the user's config folder). Loading a bad file shows the
//! message and changes nothing; saving writes the whole current setup.

use super::UiState;
use crate::sim::{Roster, SimCommand, SimRng, SimSettings, SimSurface, StartPoints};
use crate::view::DisplaySettings;
use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, RichText};
use bevy_panorbit_camera::PanOrbitCamera;
use optiscape_core::scenario::{Scenario, builtin};
use std::path::{Path, PathBuf};

/// Most entries in the recently used list.
const RECENT_MAX: usize = 8;

/// What the scenario section holds between frames.
#[derive(Resource, Clone, Debug, Default)]
pub struct ScenarioUi {
    /// The path field.
    pub path: String,
    /// The last load or save error (shown under the field until the next attempt).
    pub error: Option<String>,
    /// Recently loaded or saved files, newest first.
    pub recent: Vec<String>,
    /// The shipped scenario last chosen from the menu (for the menu's label).
    pub current: Option<String>,
}

/// Load a scenario: a file path or a shipped scenario's name.
#[derive(Message, Clone, Debug)]
pub struct LoadScenario(pub String);

/// Save the current setup to this file.
#[derive(Message, Clone, Debug)]
pub struct SaveScenario(pub PathBuf);

/// Where the recently used list lives: `$XDG_CONFIG_HOME/optiscape/recent-scenarios` (or under
/// `~/.config`); `None` when neither is set.
fn recent_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("optiscape").join("recent-scenarios"))
}

pub(super) fn read_recent(mut state: ResMut<ScenarioUi>) {
    if let Some(text) = recent_file().and_then(|p| std::fs::read_to_string(p).ok()) {
        state.recent = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(RECENT_MAX)
            .map(String::from)
            .collect();
    }
}

fn remember(state: &mut ScenarioUi, path: &str) {
    let abs = std::fs::canonicalize(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string());
    state.recent.retain(|r| *r != abs);
    state.recent.insert(0, abs);
    state.recent.truncate(RECENT_MAX);
    // The list is a convenience: failing to write it is not worth bothering the user.
    if let Some(file) = recent_file() {
        let write = file
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| std::fs::write(&file, state.recent.join("\n") + "\n"));
        if let Err(e) = write {
            warn!("could not write {}: {e}", file.display());
        }
    }
}

/// The "Scenario" section of the left panel.
pub(super) fn scenario_section(
    ui: &mut egui::Ui,
    state: &mut ScenarioUi,
    edited: bool,
    load: &mut Vec<String>,
    save: &mut Option<PathBuf>,
) {
    egui::CollapsingHeader::new("Scenario")
        .default_open(true)
        .show(ui, |ui| {
            let label = match state.current.as_deref() {
                Some(name) if edited => format!("{name} (edited)"),
                Some(name) => name.to_string(),
                None => "choose a scenario...".to_string(),
            };
            egui::ComboBox::from_id_salt("scenario-menu")
                .selected_text(label)
                .width(ui.available_width() - 8.0)
                .height(480.0)
                .show_ui(ui, |ui| {
                    for b in builtin() {
                        let r = ui.add(egui::Button::selectable(
                            state.current.as_deref() == Some(b.name),
                            RichText::new(b.name).strong(),
                        ));
                        ui.label(RichText::new(b.description()).small().weak());
                        if r.clicked() {
                            load.push(b.name.to_string());
                        }
                    }
                });
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut state.path)
                        .hint_text("file.ron")
                        .desired_width(ui.available_width() - 92.0),
                );
                let has_path = !state.path.trim().is_empty();
                if ui
                    .add_enabled(has_path, egui::Button::new("Load"))
                    .on_hover_text("load the scenario in this file (or a shipped one by name)")
                    .clicked()
                {
                    load.push(state.path.trim().to_string());
                }
                if ui
                    .add_enabled(has_path, egui::Button::new("Save"))
                    .on_hover_text("save the whole setup to this file (.ron)")
                    .clicked()
                {
                    *save = Some(PathBuf::from(state.path.trim()));
                }
            });
            if let Some(e) = &state.error {
                ui.colored_label(Color32::LIGHT_RED, RichText::new(e).small());
            }
            if !state.recent.is_empty() {
                ui.label(RichText::new("recent").small().weak());
                for r in state.recent.clone() {
                    let name = Path::new(&r)
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_else(|| r.clone());
                    if ui
                        .add(egui::Button::new(RichText::new(name).small()).frame(false))
                        .on_hover_text(&r)
                        .clicked()
                    {
                        state.path = r.clone();
                        load.push(r);
                    }
                }
            }
        });
}

/// Carries out load requests: parse first, and only a valid scenario reaches the simulation.
pub(super) fn load_scenarios(
    mut requests: MessageReader<LoadScenario>,
    mut state: ResMut<ScenarioUi>,
    mut ui: ResMut<UiState>,
    mut writer: MessageWriter<SimCommand>,
    time: Res<Time<Real>>,
) {
    for LoadScenario(name) in requests.read() {
        match Scenario::load_or_builtin(name) {
            Ok(sc) => {
                let shipped = builtin().iter().any(|b| b.name == name) && !Path::new(name).exists();
                if shipped {
                    state.current = Some(name.clone());
                } else {
                    state.current = None;
                    remember(&mut state, name);
                }
                state.error = None;
                ui.toast = Some((format!("Loaded {name}"), time.elapsed_secs_f64() + 3.0));
                writer.write(SimCommand::LoadScenario(Box::new(sc)));
            }
            Err(e) => {
                warn!("{e}");
                ui.toast = Some((
                    "Could not load the scenario (see the message)".into(),
                    time.elapsed_secs_f64() + 3.0,
                ));
                state.error = Some(e);
            }
        }
    }
}

/// The simulation's resources a saved scenario is made of.
#[derive(bevy::ecs::system::SystemParam)]
pub(super) struct SimState<'w> {
    surface: Res<'w, SimSurface>,
    settings: Res<'w, SimSettings>,
    rng: Res<'w, SimRng>,
    starts: Res<'w, StartPoints>,
    roster: Res<'w, Roster>,
}

/// Carries out save requests with the whole current setup.
pub(super) fn save_scenarios(
    mut requests: MessageReader<SaveScenario>,
    mut state: ResMut<ScenarioUi>,
    mut ui: ResMut<UiState>,
    sim: SimState,
    display: Res<DisplaySettings>,
    camera: Query<&PanOrbitCamera>,
    time: Res<Time<Real>>,
) {
    for SaveScenario(path) in requests.read() {
        let mut path = path.clone();
        if path.extension().is_none() {
            path.set_extension("ron");
        }
        let mut sc = crate::sim::scenario_of(
            &sim.surface,
            &sim.settings,
            &sim.rng,
            &sim.starts,
            &sim.roster,
        );
        sc.display = display.to_spec();
        sc.camera = camera.iter().next().map(crate::view::camera_spec);
        sc.description = format!("saved from the sandbox ({})", sim.surface.0.display_name());
        let shown = path.display().to_string();
        match sc.save(&path) {
            Ok(()) => {
                state.error = None;
                state.path = shown.clone();
                remember(&mut state, &shown);
                ui.toast = Some((format!("Saved {shown}"), time.elapsed_secs_f64() + 3.0));
            }
            Err(e) => {
                ui.toast = Some((
                    format!("Could not save {shown}"),
                    time.elapsed_secs_f64() + 3.0,
                ));
                state.error = Some(e);
            }
        }
    }
}
