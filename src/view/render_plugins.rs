//! Adding Bevy's rendering plugins, shared by the sandbox's window and the offscreen recorder.

use bevy::prelude::*;
use std::sync::{Arc, Mutex};

/// Adds Bevy's default plugins (or a variant of them). Bevy panics when it finds no graphics
/// adapter or no display; those two become an error saying what to do, not a backtrace. Any
/// other panic is a bug and goes on as a panic, with its message and where it happened.
pub fn add_render_plugins<M>(
    app: &mut App,
    plugins: impl bevy::app::Plugins<M>,
) -> Result<(), String> {
    keep_freed_memory();
    // The panic's message and place, kept instead of printed until we know what it is.
    let seen = Arc::new(Mutex::new(String::new()));
    let hook = std::panic::take_hook();
    let keep = seen.clone();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut s) = keep.lock() {
            *s = info.to_string();
        }
    }));
    let added = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        app.add_plugins(plugins);
    }));
    std::panic::set_hook(hook);
    let Err(payload) = added else {
        return Ok(());
    };
    let why = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    match no_adapter_or_display(&why) {
        Some(message) => Err(message),
        None => {
            if let Ok(s) = seen.lock() {
                eprintln!("{s}");
            }
            std::panic::resume_unwind(payload)
        }
    }
}

/// A software renderer allocates and frees large buffers in every frame (vertex outputs, bins:
/// tens of megabytes with a thousand balls). By default glibc hands freed memory back to the
/// system at once and the next frame faults it in again, page by page, which was a fifth of a
/// frame with a thousand balls. Freed memory is kept for reuse instead (the process's resident
/// size stays at its peak rather than shrinking between frames).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before the renderer's threads
    // start, with valid parameter numbers and values.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// The message for the two failures a machine (not optiscape) causes while rendering starts:
/// no display for a window, no graphics adapter. `None` for anything else.
pub fn no_adapter_or_display(panic_message: &str) -> Option<String> {
    let why = panic_message.lines().next().unwrap_or("").trim();
    if why.contains("Failed to build event loop") || why.contains("DISPLAY") {
        Some(format!(
            "cannot open a window ({why}); the sandbox needs a display (X11 or Wayland): on a \
             machine without one, use `xvfb-run optiscape ...`, or `optiscape record` which \
             needs no window"
        ))
    } else if why.contains("Unable to find a GPU") || why.contains("no suitable adapter") {
        Some(format!(
            "no usable graphics adapter ({why}); rendering needs a Vulkan or GL driver: without \
             a GPU, Mesa's software one works (Debian/Ubuntu: apt-get install \
             mesa-vulkan-drivers)"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_adapter_or_display_becomes_an_error_message() {
        let gpu = "Unable to find a GPU! Make sure you have installed required drivers!";
        assert!(no_adapter_or_display(gpu).is_some_and(|m| m.contains("mesa-vulkan-drivers")));
        let display = "Failed to build event loop: Os(... neither WAYLAND_DISPLAY nor \
                       WAYLAND_SOCKET nor DISPLAY is set.)";
        assert!(no_adapter_or_display(display).is_some_and(|m| m.contains("xvfb-run")));
        assert_eq!(
            no_adapter_or_display("index out of bounds: the len is 3"),
            None
        );
    }

    /// A plugin with a bug.
    struct Broken;

    impl Plugin for Broken {
        fn build(&self, _: &mut App) {
            panic!("a bug in a plugin");
        }
    }

    #[test]
    fn any_other_panic_goes_on() {
        let mut app = App::new();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            add_render_plugins(&mut app, Broken)
        }));
        let payload = outcome.expect_err("the panic propagates");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"a bug in a plugin"));
    }
}
