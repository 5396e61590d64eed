//! A progress bar on stderr for the long commands: runs done of the total, the rate and the
//! time left (indicatif). Hidden when stderr is not a terminal, so pipes and logs stay clean.

use super::CliError;
use optiscape_core::lab::Progress;

/// Set when the user pressed Ctrl-C (`optiscape suite` listens for it): the work under way
/// is cancelled.
pub(crate) static INTERRUPTED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Runs `work` (which counts its finished runs in `state`) while a bar shows `label`, the runs
/// done of `total`, their rate and the estimated time left.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn with_progress<T: Send>(
    label: &str,
    total: u64,
    state: &Progress,
    work: impl FnOnce() -> T + Send,
) -> Result<T, CliError> {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::sync::atomic::Ordering;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {human_pos}/{human_len} runs, {per_sec}, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_string());
    let out = std::thread::scope(|scope| {
        let job = scope.spawn(work);
        while !job.is_finished() {
            if INTERRUPTED.load(Ordering::Relaxed) {
                state.cancel.store(true, Ordering::Relaxed);
            }
            bar.set_position(state.done.load(Ordering::Relaxed) as u64);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        job.join()
    })
    .map_err(|_| CliError(format!("the {label} stopped unexpectedly")));
    bar.finish_and_clear();
    out
}

/// The web page runs no lab command from a command line: the work, without a bar.
#[cfg(target_arch = "wasm32")]
pub(crate) fn with_progress<T: Send>(
    _label: &str,
    _total: u64,
    _state: &Progress,
    work: impl FnOnce() -> T + Send,
) -> Result<T, CliError> {
    Ok(work())
}
