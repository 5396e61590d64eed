//! The sandbox's command-line options, checked and turned into the plain settings the sandbox
//! takes ([`SandboxSettings`]): a bad surface, scenario or screenshot folder is one line and
//! exit status 2 before any window opens.

use super::{CliError, SandboxArgs};
use crate::app::{SandboxSettings, ScreenshotSettings};
use optiscape_core::scenario::{Scenario, builtin};
use optiscape_core::setup::{check_folder_of, load_scenario};

/// The settings for `args`. With none of `--scenario`, `--surface` or `--starts`, the sandbox
/// opens on the notebook's scenario (loaded as such, so the scenario menu can tell when it is
/// edited).
pub fn settings(args: &SandboxArgs) -> Result<SandboxSettings, CliError> {
    let screenshot = match &args.screenshot {
        Some(path) => {
            check_folder_of(path).map_err(|e| CliError(format!("--screenshot: {e}")))?;
            Some(ScreenshotSettings {
                path: path.clone(),
                frames: args.frames.max(1),
            })
        }
        None => None,
    };
    let surface = args.surface.build()?;
    let nothing_asked =
        args.scenario.is_none() && args.surface.surface.is_none() && args.starts.is_none();
    let mut scenario = match (&args.scenario, nothing_asked) {
        (Some(name), _) => Some(load_scenario(name)?),
        (None, true) => Some(Scenario::load_or_builtin("notebook")?),
        (None, false) => None,
    };
    if let (Some(sc), Some(seed)) = (&mut scenario, args.seed) {
        sc.seed = seed;
    }
    // The scenario menu names what opened: a shipped scenario (not a file of the same name).
    let opened = match &args.scenario {
        Some(name) => (!std::path::Path::new(name).exists()
            && builtin().iter().any(|b| b.name == name))
        .then(|| name.clone()),
        None if nothing_asked => Some("notebook".to_string()),
        None => None,
    };
    Ok(SandboxSettings {
        scenario,
        surface,
        seed: args.seed.unwrap_or(1),
        starts: args.starts,
        opened,
        screenshot,
    })
}
