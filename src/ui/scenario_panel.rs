//! Scenarios in the sandbox: the menu of shipped scenarios, a path field with Load and Save,
//! "Copy link" (the whole setup as a link, `optiscape_core::link`), and a recently used list
//! (kept in the user's config folder). The field loads a file, a shipped scenario or a link.
//! Loading a bad file or link shows the message and changes nothing; saving writes the whole
//! current setup.
//!
//! On the web page there is no file system: Save downloads the `.ron`, "Open file…" (or a file
//! dropped on the page) loads one, and the recent list keeps each scenario's text in the page's
//! local storage.

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
    /// The last link made by "Copy link" (shown, selectable, under the buttons).
    pub link: Option<String>,
}

/// Load a scenario: a file path or a shipped scenario's name.
#[derive(Message, Clone, Debug)]
pub struct LoadScenario(pub String);

/// Save the current setup to this file.
#[derive(Message, Clone, Debug)]
pub struct SaveScenario(pub PathBuf);

/// Make the current setup's link and copy it to the clipboard.
#[derive(Message, Clone, Copy, Debug)]
pub struct CopyLink;

/// Whether the text in the path field is a link rather than a file or a shipped name.
fn is_link(text: &str) -> bool {
    let t = text.trim();
    t.starts_with(optiscape_core::link::PREFIX)
        || t.contains(&format!("#{}", optiscape_core::link::PREFIX))
}

/// Where the recently used list lives: `$XDG_CONFIG_HOME/optiscape/recent-scenarios` (or under
/// `~/.config`); `None` when neither is set.
#[cfg(not(target_arch = "wasm32"))]
fn recent_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("optiscape").join("recent-scenarios"))
}

/// The web page's recent list and each entry's scenario text, in local storage.
#[cfg(target_arch = "wasm32")]
const RECENT_KEY: &str = "optiscape.recent";
#[cfg(target_arch = "wasm32")]
fn stored_key(name: &str) -> String {
    format!("optiscape.scenario.{name}")
}

pub(super) fn read_recent(mut state: ResMut<ScenarioUi>) {
    #[cfg(not(target_arch = "wasm32"))]
    let text = recent_file().and_then(|p| std::fs::read_to_string(p).ok());
    #[cfg(target_arch = "wasm32")]
    let text = crate::browser::storage_get(RECENT_KEY);
    if let Some(text) = text {
        state.recent = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(RECENT_MAX)
            .map(String::from)
            .collect();
    }
}

/// Puts `name` first in the recent list (on the web page with the scenario's `text`, which the
/// list loads again).
#[cfg(target_arch = "wasm32")]
fn remember(state: &mut ScenarioUi, name: &str, text: &str) {
    state.recent.retain(|r| r != name);
    state.recent.insert(0, name.to_string());
    state.recent.truncate(RECENT_MAX);
    let kept = crate::browser::storage_set(&stored_key(name), text)
        .and_then(|_| crate::browser::storage_set(RECENT_KEY, &(state.recent.join("\n") + "\n")));
    if let Err(e) = kept {
        warn!("could not keep the recent list: {e}");
    }
}

#[cfg(not(target_arch = "wasm32"))]
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
    copy_link: &mut bool,
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
                        .hint_text(if cfg!(target_arch = "wasm32") {
                            "name.ron, a shipped name or a link"
                        } else {
                            "file.ron or a link"
                        })
                        .desired_width(ui.available_width() - 92.0),
                );
                let has_path = !state.path.trim().is_empty();
                if ui
                    .add_enabled(has_path, egui::Button::new("Load"))
                    .on_hover_text(
                        "load the scenario in this file, a shipped one by name, or a link",
                    )
                    .clicked()
                {
                    load.push(state.path.trim().to_string());
                }
                if ui
                    .add_enabled(has_path && !is_link(&state.path), egui::Button::new("Save"))
                    .on_hover_text(if cfg!(target_arch = "wasm32") {
                        "download the whole setup as this file (.ron)"
                    } else {
                        "save the whole setup to this file (.ron)"
                    })
                    .clicked()
                {
                    *save = Some(PathBuf::from(state.path.trim()));
                }
            });
            #[cfg(target_arch = "wasm32")]
            if ui
                .button("Open file…")
                .on_hover_text(
                    "load a scenario file (.ron) from this computer; or drop one on the page",
                )
                .clicked()
                && let Err(e) = crate::browser::pick_file(".ron")
            {
                state.error = Some(format!("cannot open a file here: {e}"));
            }
            ui.horizontal(|ui| {
                if ui
                    .button("Copy link")
                    .on_hover_text(
                        "copy the whole setup as a link: paste it after the web page's address \
                         (…/#s1.…), into this field, or to optiscape --link",
                    )
                    .clicked()
                {
                    *copy_link = true;
                }
                if let Some(link) = &state.link {
                    ui.label(
                        RichText::new(format!("{} characters", link.len()))
                            .small()
                            .weak(),
                    );
                }
            });
            if let Some(link) = &mut state.link {
                // Read-only, selectable: the link stays at hand when no clipboard is.
                let mut shown = link.as_str();
                ui.add(
                    egui::TextEdit::singleline(&mut shown)
                        .font(egui::TextStyle::Small)
                        .desired_width(ui.available_width() - 8.0),
                );
            }
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

/// The web page's files: a scenario file opened with the picker or dropped on the page, loaded
/// as if named in the field.
#[cfg(target_arch = "wasm32")]
pub(super) fn open_dropped_files(
    mut state: ResMut<ScenarioUi>,
    mut loads: MessageWriter<LoadScenario>,
) {
    for file in crate::browser::take_opened() {
        match String::from_utf8(file.bytes) {
            Ok(text) => {
                remember(&mut state, &file.name, &text);
                loads.write(LoadScenario(file.name));
            }
            Err(_) => state.error = Some(format!("{}: not a scenario file (not text)", file.name)),
        }
    }
}

/// The scenario `name` stands for: a link, a shipped scenario, or a file (on the web page, one
/// opened before, from local storage).
fn resolve(name: &str) -> Result<Scenario, String> {
    #[cfg(not(target_arch = "wasm32"))]
    let link = is_link(name) && !Path::new(name).exists();
    #[cfg(target_arch = "wasm32")]
    let link = is_link(name);
    if link {
        return optiscape_core::link::decode(name);
    }
    #[cfg(target_arch = "wasm32")]
    if let Some(text) = crate::browser::storage_get(&stored_key(name)) {
        return Scenario::parse(&text, name);
    }
    #[cfg(target_arch = "wasm32")]
    if !builtin().iter().any(|b| b.name == name) {
        return Err(format!(
            "{name}: not a shipped scenario, a link or a file opened here; open files with \
             \"Open file…\" or drop them on the page"
        ));
    }
    Scenario::load_or_builtin(name)
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
        let link = is_link(name) && !Path::new(name).exists();
        match resolve(name) {
            Ok(sc) => {
                #[cfg(not(target_arch = "wasm32"))]
                let shipped = builtin().iter().any(|b| b.name == name) && !Path::new(name).exists();
                #[cfg(target_arch = "wasm32")]
                let shipped = builtin().iter().any(|b| b.name == name)
                    && crate::browser::storage_get(&stored_key(name)).is_none();
                if shipped {
                    state.current = Some(name.clone());
                } else {
                    state.current = None;
                    #[cfg(not(target_arch = "wasm32"))]
                    if !link {
                        remember(&mut state, name);
                    }
                }
                state.error = None;
                let what = if link { "the link" } else { name.as_str() };
                ui.toast = Some((format!("Loaded {what}"), time.elapsed_secs_f64() + 3.0));
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

/// What a saved scenario or a link is made of: the simulation's resources, the display
/// settings and the camera.
#[derive(bevy::ecs::system::SystemParam)]
pub struct SimState<'w, 's> {
    surface: Res<'w, SimSurface>,
    settings: Res<'w, SimSettings>,
    rng: Res<'w, SimRng>,
    starts: Res<'w, StartPoints>,
    roster: Res<'w, Roster>,
    net_runs: Res<'w, crate::sim::NetRuns>,
    display: Res<'w, DisplaySettings>,
    camera: Query<'w, 's, &'static PanOrbitCamera>,
}

/// The whole current setup as a scenario: simulation, display and camera.
pub fn current_scenario(sim: &SimState) -> Scenario {
    let mut sc = crate::sim::scenario_of(
        &sim.surface,
        &sim.settings,
        &sim.rng,
        &sim.starts,
        &sim.roster,
        &sim.net_runs,
    );
    sc.display = sim.display.to_spec();
    sc.camera = sim.camera.iter().next().map(crate::view::camera_spec);
    sc
}

/// Puts `text` on the system clipboard. On the desktop the clipboard object is kept for the
/// process's life (on X11 the copying process serves what it copied); in a browser egui hands
/// the text to the page.
fn copy_to_clipboard(contexts: &mut bevy_egui::EguiContexts, text: &str) -> Result<(), String> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::{Mutex, OnceLock};
        static CLIPBOARD: OnceLock<Mutex<Option<arboard::Clipboard>>> = OnceLock::new();
        let _ = contexts;
        let mut held = CLIPBOARD
            .get_or_init(|| Mutex::new(None))
            .lock()
            .map_err(|_| "the clipboard is busy".to_string())?;
        if held.is_none() {
            *held = Some(arboard::Clipboard::new().map_err(|e| e.to_string())?);
        }
        match held.as_mut() {
            Some(c) => c.set_text(text.to_string()).map_err(|e| e.to_string()),
            None => Err("no clipboard".into()),
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        let ctx = contexts.ctx_mut().map_err(|e| e.to_string())?;
        ctx.copy_text(text.to_string());
        Ok(())
    }
}

/// Carries out "Copy link": the current setup's link, to the clipboard and the field.
pub(super) fn copy_links(
    mut requests: MessageReader<CopyLink>,
    mut state: ResMut<ScenarioUi>,
    mut ui: ResMut<UiState>,
    mut contexts: bevy_egui::EguiContexts,
    sim: SimState,
    time: Res<Time<Real>>,
) {
    if requests.read().count() == 0 {
        return;
    }
    let mut sc = current_scenario(&sim);
    sc.description = format!("shared from the sandbox ({})", sim.surface.0.display_name());
    match optiscape_core::link::encode(&sc) {
        Ok(link) => {
            let copied = copy_to_clipboard(&mut contexts, &link);
            let shown = match &copied {
                Ok(()) => format!("Link copied ({} characters)", link.len()),
                Err(_) => "Link made: select it below to copy it".to_string(),
            };
            ui.toast = Some((shown, time.elapsed_secs_f64() + 4.0));
            state.error = copied
                .err()
                .map(|e| format!("no clipboard here ({e}): select the link and copy it"));
            state.link = Some(link);
        }
        Err(e) => {
            ui.toast = Some((
                "Could not make the link".into(),
                time.elapsed_secs_f64() + 3.0,
            ));
            state.error = Some(e);
        }
    }
}

/// Carries out save requests with the whole current setup.
pub(super) fn save_scenarios(
    mut requests: MessageReader<SaveScenario>,
    mut state: ResMut<ScenarioUi>,
    mut ui: ResMut<UiState>,
    sim: SimState,
    time: Res<Time<Real>>,
) {
    for SaveScenario(path) in requests.read() {
        let mut path = path.clone();
        if path.extension().is_none() {
            path.set_extension("ron");
        }
        let mut sc = current_scenario(&sim);
        sc.description = format!("saved from the sandbox ({})", sim.surface.0.display_name());
        let shown = path.display().to_string();
        #[cfg(not(target_arch = "wasm32"))]
        let saved = sc.save(&path).map(|()| remember(&mut state, &shown));
        // The web page: a download of that name, and the text kept for the recent list.
        #[cfg(target_arch = "wasm32")]
        let saved = sc.to_ron().and_then(|text| {
            crate::browser::download(&shown, "application/octet-stream", text.as_bytes())?;
            remember(&mut state, &shown, &text);
            Ok(())
        });
        match saved {
            Ok(()) => {
                state.error = None;
                state.path = shown.clone();
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
