//! Screenshots from the sandbox: F12 or the button saves the window to a PNG in the working
//! directory, and a toast names the file (or says what went wrong).

use super::UiState;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use std::path::PathBuf;

/// Ask for a screenshot (from the button or F12).
#[derive(Message, Clone, Debug, Default)]
pub struct TakeScreenshot;

/// Writes a captured frame to a PNG (without the alpha channel, as Bevy's `save_to_disk`).
pub fn save_png(image: &Image, path: &std::path::Path) -> Result<(), String> {
    image
        .clone()
        .try_into_dynamic()
        .map_err(|e| e.to_string())
        .and_then(|img| img.to_rgb8().save(path).map_err(|e| e.to_string()))
}

/// A free file name `optiscape-<unix seconds>[-n].png` in the working directory.
pub fn next_screenshot_path() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut path = PathBuf::from(format!("optiscape-{secs}.png"));
    let mut n = 1;
    while path.exists() {
        path = PathBuf::from(format!("optiscape-{secs}-{n}.png"));
        n += 1;
    }
    path
}

pub(super) fn take_screenshots(
    mut commands: Commands,
    mut requests: MessageReader<TakeScreenshot>,
    keys: Res<ButtonInput<KeyCode>>,
) {
    let wanted = requests.read().count() > 0 || keys.just_pressed(KeyCode::F12);
    if !wanted {
        return;
    }
    let path = next_screenshot_path();
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut ui: ResMut<UiState>, time: Res<Time<Real>>| {
            let text = match save_png(&captured.image, &path) {
                Ok(()) => format!("Saved {}", path.display()),
                Err(e) => format!("Could not save {}: {e}", path.display()),
            };
            info!("{text}");
            ui.toast = Some((text, time.elapsed_secs_f64() + 4.0));
        },
    );
}
