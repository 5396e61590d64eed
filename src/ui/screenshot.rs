//! Screenshots from the sandbox: F12 or the button saves the window to a PNG in the working
//! directory (the web page downloads it), and a toast names the file (or says what went wrong).

use super::UiState;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use std::path::PathBuf;

/// Ask for a screenshot (from the button or F12).
#[derive(Message, Clone, Debug, Default)]
pub struct TakeScreenshot;

/// Writes a captured frame to a PNG (without the alpha channel, as Bevy's `save_to_disk`).
pub fn save_png(image: &Image, path: &std::path::Path) -> Result<(), String> {
    std::fs::write(path, png_bytes(image)?).map_err(|e| e.to_string())
}

/// A captured frame as PNG bytes (without the alpha channel).
pub fn png_bytes(image: &Image) -> Result<Vec<u8>, String> {
    let rgb = image
        .clone()
        .try_into_dynamic()
        .map_err(|e| e.to_string())?
        .to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    rgb.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// A free file name `optiscape-<unix seconds>[-n].png` in the working directory.
pub fn next_screenshot_path() -> PathBuf {
    #[cfg(not(target_arch = "wasm32"))]
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    #[cfg(target_arch = "wasm32")]
    let secs = (crate::browser::now_ms() / 1000.0) as u64;
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
            #[cfg(not(target_arch = "wasm32"))]
            let text = match save_png(&captured.image, &path) {
                Ok(()) => format!("Saved {}", path.display()),
                Err(e) => format!("Could not save {}: {e}", path.display()),
            };
            // The web page downloads it.
            #[cfg(target_arch = "wasm32")]
            let text = match png_bytes(&captured.image).and_then(|bytes| {
                crate::browser::download(&path.display().to_string(), "image/png", &bytes)
            }) {
                Ok(()) => format!("Downloaded {}", path.display()),
                Err(e) => format!("Could not save {}: {e}", path.display()),
            };
            info!("{text}");
            ui.toast = Some((text, time.elapsed_secs_f64() + 4.0));
        },
    );
}
