//! The sandbox's command-line options, checked and turned into the plain settings the sandbox
//! takes ([`SandboxSettings`]): a bad surface, scenario or screenshot folder is one line and
//! exit status 2 before any window opens.

use super::{CliError, LinkArgs, Output, SandboxArgs};
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
            if let Some(state) = &args.state {
                check_folder_of(state).map_err(|e| CliError(format!("--state: {e}")))?;
            }
            Some(ScreenshotSettings {
                path: path.clone(),
                frames: args.frames.max(1),
                orbit: args.orbit,
                state: args.state.clone(),
            })
        }
        None => None,
    };
    let surface = args.surface.build()?;
    if args.networks.is_some() && surface.as_ref().and_then(|s| s.as_net()).is_none() {
        return Err(CliError(
            "--networks trains networks on a network slice: add --surface net:DATASET".into(),
        ));
    }
    let mut nothing_asked = args.scenario.is_none()
        && args.link.is_none()
        && args.surface.surface.is_none()
        && args.starts.is_none();
    // A link is clicked rather than typed: a damaged one opens the notebook's scene and says
    // why (on stderr and in the window) instead of refusing to start.
    let mut message = None;
    let from_link = match args.link.as_deref().map(optiscape_core::link::decode) {
        Some(Ok(sc)) => Some(sc),
        Some(Err(e)) => {
            let m = format!("could not open the link: {e}; the notebook's scene opened instead");
            eprintln!("optiscape: note: {m}");
            message = Some(m);
            nothing_asked = true;
            None
        }
        None => None,
    };
    let from_link_opened = from_link.is_some();
    let mut scenario = match (&args.scenario, from_link, nothing_asked) {
        (Some(name), _, _) => Some(load_scenario(name)?),
        (None, Some(sc), _) => Some(sc),
        (None, None, true) => Some(Scenario::load_or_builtin("notebook")?),
        (None, None, false) => None,
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
        // A link's scenario has no name of its own: the menu says where it came from.
        None if from_link_opened => Some("from a link".to_string()),
        None => None,
    };
    Ok(SandboxSettings {
        scenario,
        surface,
        seed: args.seed.unwrap_or(optiscape_core::setup::DEFAULT_SEED),
        starts: args.starts,
        networks: args.networks,
        opened,
        screenshot,
        message,
        redraw_all: args.redraw_all,
    })
}

/// `optiscape link`: a scenario's link, or (`--ron`) a link's scenario file.
pub fn link_command(args: &LinkArgs) -> Result<Output, CliError> {
    let stdout = if args.ron {
        let sc = optiscape_core::link::decode(&args.input)?;
        sc.to_ron()?
    } else {
        let sc = load_scenario(&args.input)?;
        optiscape_core::link::encode(&sc)? + "\n"
    };
    Ok(Output {
        stdout,
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings_of(args: &[&str]) -> Result<SandboxSettings, CliError> {
        let cli = super::super::Cli::try_parse_from(
            std::iter::once("optiscape").chain(args.iter().copied()),
        )
        .map_err(|e| CliError(e.to_string()))?;
        settings(&cli.sandbox)
    }

    #[test]
    fn a_link_opens_its_scenario() {
        let sc = Scenario::load_or_builtin("four-minima").unwrap();
        let link = optiscape_core::link::encode(&sc).unwrap();
        for text in [
            link.clone(),
            format!("#{link}"),
            format!("https://example.org/x/#{link}"),
        ] {
            let s = settings_of(&["--link", &text]).unwrap();
            assert_eq!(s.scenario.as_ref(), Some(&sc));
            assert_eq!(s.message, None);
            assert_eq!(s.opened.as_deref(), Some("from a link"));
        }
    }

    #[test]
    fn a_damaged_link_opens_the_notebook_with_a_message() {
        for text in ["", "#s1.AAAA", "https://example.org/", "s1.!!"] {
            let s = settings_of(&["--link", text]).unwrap();
            assert_eq!(
                s.scenario,
                Some(Scenario::load_or_builtin("notebook").unwrap()),
                "{text:?}"
            );
            assert_eq!(s.opened.as_deref(), Some("notebook"));
            let m = s.message.unwrap();
            assert!(m.starts_with("could not open the link: "), "{m}");
        }
        // --link goes alone: with a scenario or a surface it is refused by the parser.
        assert!(settings_of(&["--link", "s1.x", "--scenario", "notebook"]).is_err());
        assert!(settings_of(&["--link", "s1.x", "--surface", "seed"]).is_err());
    }
}
