//! Adding Bevy's rendering plugins, shared by the sandbox's window and the offscreen recorder.

use bevy::prelude::*;

/// Adds Bevy's default plugins (or a variant of them). Bevy panics when it finds no graphics
/// adapter or no display; that becomes an error saying what to do, not a backtrace.
pub fn add_render_plugins<M>(
    app: &mut App,
    plugins: impl bevy::app::Plugins<M>,
) -> Result<(), String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let added = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        app.add_plugins(plugins);
    }));
    std::panic::set_hook(hook);
    added.map_err(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let why = why.lines().next().unwrap_or("").trim();
        if why.contains("event loop") || why.contains("DISPLAY") {
            format!(
                "cannot open a window ({why}); the sandbox needs a display (X11 or Wayland): on \
                 a machine without one, use `xvfb-run optiscape ...`, or `optiscape record` \
                 which needs no window"
            )
        } else {
            format!(
                "no usable graphics adapter ({why}); rendering needs a Vulkan or GL driver: \
                 without a GPU, Mesa's software one works (Debian/Ubuntu: apt-get install \
                 mesa-vulkan-drivers)"
            )
        }
    })
}
