//! `optiscape record`: the scenario a clip shows, built from the options, and the notebook's six
//! clips through child processes.

use super::{CliError, ClipFormat, Output, RecordArgs};
use crate::record::CameraMode;
use optiscape_core::scenario::Scenario;
use optiscape_core::setup::{load_scenario, parse_count, parse_method, split_method_setting};

/// The scenario a recording shows: `--scenario` (or the notebook's) with the options applied.
pub fn record_scenario(args: &RecordArgs) -> Result<Scenario, CliError> {
    use optiscape_core::scenario::{MethodSpec, StartSpec};
    let mut sc = match (&args.scenario, args.surface.build()?) {
        (Some(name), _) => load_scenario(name)?,
        (None, Some(surface)) => {
            let mut sc = load_scenario("notebook")?;
            sc.description = String::new();
            sc.surface = Scenario::surface_spec(&surface);
            sc.methods = ["sgd", "heavy-ball", "adam"]
                .iter()
                .map(|id| MethodSpec {
                    id: id.to_string(),
                    enabled: true,
                    color: None,
                    params: Default::default(),
                })
                .collect();
            sc
        }
        (None, None) => load_scenario("notebook")?,
    };
    if let Some(list) = &args.methods {
        let ids: Vec<&str> = list.split(',').map(str::trim).collect();
        for id in &ids {
            parse_method(id)?;
        }
        for m in &mut sc.methods {
            m.enabled = ids.contains(&m.id.as_str());
        }
        for id in ids {
            if !sc.methods.iter().any(|m| m.id == id) {
                sc.methods.push(MethodSpec {
                    id: id.to_string(),
                    enabled: true,
                    color: None,
                    params: Default::default(),
                });
            }
        }
    }
    // `--set [METHOD.]NAME=VALUE`, checked against the method (the method's name may be left
    // out when one method is shown).
    let shown: Vec<String> = sc
        .methods
        .iter()
        .filter(|m| m.enabled)
        .map(|m| m.id.clone())
        .collect();
    for s in &args.set {
        let bare = s.split_once('=').is_some_and(|(lhs, _)| !lhs.contains('.'));
        let qualified;
        let s = match (bare, shown.as_slice()) {
            (true, [only]) => {
                qualified = format!("{only}.{}", s.trim());
                &qualified
            }
            _ => s,
        };
        let (m, k, v) = split_method_setting(s)?;
        let Some(spec) = sc.methods.iter_mut().find(|x| x.id == m) else {
            return Err(CliError(format!(
                "--set {s}: method '{m}' is not in the recording"
            )));
        };
        let mut probe = parse_method(m)?;
        probe.set(k, v).map_err(CliError)?;
        let built = Scenario::method_spec(&probe, true, None);
        spec.params.extend(built.params);
    }
    if let Some(k) = &args.starts {
        let k = parse_count("--starts", k, 1)?;
        if k > 10_000 {
            return Err(CliError(format!(
                "--starts must be at most 10000 (got {k})"
            )));
        }
        sc.starts = StartSpec::Random {
            k: k as usize,
            region: None,
        };
    }
    if let Some(seed) = &args.seed {
        sc.seed = parse_count("--seed", seed, 0)?;
    }
    if let Some(f) = &args.frames {
        sc.steps = parse_count("--frames", f, 1)?;
    }
    sc.validate().map_err(CliError)?;
    if !sc.methods.iter().any(|m| m.enabled) {
        return Err(CliError("the recording has no enabled method".into()));
    }
    Ok(sc)
}

/// `WxH`.
fn parse_size(text: &str) -> Result<(u32, u32), CliError> {
    let bad = || CliError(format!("--size expects WxH (e.g. 800x600), got '{text}'"));
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    Ok((w, h))
}

/// `optiscape record` (one clip, or the notebook's six through child processes).
pub fn record_command(args: &RecordArgs) -> Result<Output, CliError> {
    use std::io::IsTerminal;
    if let Some(dir) = &args.notebook {
        return record_notebook(args, dir);
    }
    let sc = record_scenario(args)?;
    let out = args
        .out
        .clone()
        .ok_or_else(|| CliError("give --out PATH (.gif, .mp4 or a folder)".into()))?;
    // Checked here, with the number as typed (the plan holds them as u32).
    let fps = parse_count("--fps", &args.fps, 1)?;
    if fps > 120 {
        return Err(CliError(format!("--fps must be 1..=120 (got {fps})")));
    }
    if sc.steps > 100_000 {
        return Err(CliError(format!(
            "--frames must be 1..=100000 (got {}{})",
            sc.steps,
            if args.frames.is_some() {
                ""
            } else {
                ", the scenario's step count"
            }
        )));
    }
    let title = {
        let s = sc.surface().map_err(CliError)?;
        match s.as_formula() {
            Some(f) => format!("optiscape - f = {}", f.source()),
            None => format!("optiscape - {}", s.display_name()),
        }
    };
    let plan = crate::record::RecordPlan {
        frames: sc.steps as u32,
        fps: fps as u32,
        size: parse_size(&args.size)?,
        camera: args.camera,
        sink: crate::record::Sink::for_path(&out),
        title,
        progress: std::io::stderr().is_terminal(),
        redraw_all: args.redraw_all,
        scenario: sc,
    };
    crate::record::check_plan(&plan).map_err(CliError)?;
    let stats = crate::record::record(plan).map_err(CliError)?;
    let mut o = Output::default();
    o.notes.push(format!(
        "wrote {} frames to {} in {:.1} s ({:.1} frames/s; {} warm-up frames before)",
        stats.frames,
        out.display(),
        stats.seconds,
        stats.frames as f64 / stats.seconds.max(1e-9),
        stats.warm_up_frames
    ));
    Ok(o)
}

/// The notebook's five animations (one method each, 300 frames at 30 fps, the notebook's view)
/// and the five racing together, each rendered by a child `optiscape record`.
fn record_notebook(args: &RecordArgs, dir: &std::path::Path) -> Result<Output, CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError(format!("cannot create {}: {e}", dir.display())))?;
    let ext = match args.format {
        ClipFormat::Gif => "gif",
        ClipFormat::Mp4 => "mp4",
        ClipFormat::Png => "",
    };
    if args.format == ClipFormat::Mp4 && !crate::record::ffmpeg_available() {
        return Err(CliError(
            "--format mp4 needs ffmpeg on PATH (e.g. `apt-get install ffmpeg`); or use --format gif or png".into(),
        ));
    }
    let exe = std::env::current_exe()
        .map_err(|e| CliError(format!("cannot find the optiscape binary: {e}")))?;
    let clips: [(&str, &str); 6] = [
        ("sgd", "seed:sgd"),
        ("momentum", "seed:momentum"),
        ("adagrad", "seed:adagrad"),
        ("adagrad-finetune", "seed:adagrad-finetune"),
        ("adadelta", "seed:adadelta"),
        (
            "race",
            "seed:sgd,seed:momentum,seed:adagrad,seed:adagrad-finetune,seed:adadelta",
        ),
    ];
    let mut o = Output::default();
    for (name, methods) in clips {
        let path = if ext.is_empty() {
            dir.join(name)
        } else {
            dir.join(format!("{name}.{ext}"))
        };
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["record", "--scenario", "notebook", "--methods", methods])
            .args(["--frames", args.frames.as_deref().unwrap_or("300")])
            .args(["--fps", &args.fps, "--size", &args.size])
            .arg("--out")
            .arg(&path);
        if args.camera == CameraMode::Orbit {
            cmd.args(["--camera", "orbit"]);
        }
        let status = cmd
            .status()
            .map_err(|e| CliError(format!("cannot run {}: {e}", exe.display())))?;
        if !status.success() {
            return Err(CliError(format!(
                "recording {} failed ({status})",
                path.display()
            )));
        }
        o.notes.push(format!("wrote {}", path.display()));
    }
    Ok(o)
}
