//! The `optiscape` binary where it renders: the sandbox's screenshot, `record`, and the clear
//! error without an adapter or a display.
//!
//! Its own harness (`harness = false`): the checks run one after another and the run closes
//! with `render: N passed, N failed, N skipped`, naming every check (or part of one) that was
//! skipped and why: no display, no graphics adapter, no ffmpeg. With
//! `OPTISCAPE_REQUIRE_RENDER=1` (CI) nothing may be skipped: a skip fails instead.

mod common;

use bevy::color::ColorToPacked;
use std::process::ExitCode;
use std::sync::Mutex;

use common::*;
use std::process::Command;

/// The rendered check: the sandbox renders its opening scene offscreen-free under a real (or
/// virtual) display and saves a screenshot; the picture shows the surface and every ball's
/// color. Without a display it is skipped loudly, unless OPTISCAPE_REQUIRE_RENDER=1 (CI).
fn the_sandbox_renders_the_opening_scene() -> Check {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return skip("no display (run under xvfb-run)");
    }
    let dir = std::env::temp_dir().join(format!("optiscape-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("opening.png");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_optiscape"));
    cmd.args(["--screenshot", path.to_str().unwrap(), "--frames", "150"]);
    let (code, err) = run_bounded(cmd, std::time::Duration::from_secs(600));
    match code {
        None => panic!("the sandbox did not save its screenshot within 10 minutes: {err}"),
        Some(0) => {}
        Some(_) if err.contains("no usable graphics adapter") => {
            return skip(format!("no graphics adapter: {err}"));
        }
        Some(c) => panic!("the sandbox failed (exit {c}): {err}"),
    }
    let img = image::open(&path).expect("a PNG was written").to_rgb8();
    assert_eq!((img.width(), img.height()), (1280, 720));
    // The 3D view lies between the panels.
    let view: Vec<[u8; 3]> = img
        .enumerate_pixels()
        .filter(|(x, _, _)| (290..810).contains(x))
        .map(|(_, _, p)| p.0)
        .collect();
    let distinct: std::collections::HashSet<[u8; 3]> = view.iter().copied().collect();
    assert!(
        distinct.len() > 2000,
        "the view is nearly blank: {} colors",
        distinct.len()
    );
    // The surface: the coolwarm colormap's blue valleys cover a good part of the view.
    let bluish = view
        .iter()
        .filter(|p| p[2] as i32 > p[0] as i32 + 40)
        .count();
    assert!(
        bluish * 10 > view.len(),
        "no surface: {bluish} bluish of {}",
        view.len()
    );
    // Every ball's method color appears (balls and their trails).
    let roster = optiscape::sim::Roster::default();
    for m in roster.enabled() {
        let c = m.color.to_srgba().to_u8_array_no_alpha();
        let near = view
            .iter()
            .filter(|p| {
                (0..3)
                    .map(|i| (p[i] as i32 - c[i] as i32).pow(2))
                    .sum::<i32>()
                    < 45 * 45
            })
            .count();
        assert!(near >= 3, "{}'s color {c:?} is not in the picture", m.id);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The sandbox's frame-time aids on a software renderer (`view::still_cache`). With a still
/// camera the still parts are drawn once and reused: the 3D view equals the full redraw's
/// (`--redraw-all`) but where a contour line crosses a ball or a trail. With the camera
/// orbiting, the 3D view is drawn at half resolution and stretched: the same picture, coarser.
/// (The panels are compared out: with the aids they refresh ten times a second, so their numbers
/// may be a frame or two behind.)
fn the_sandbox_aids_match_the_full_redraw() -> Check {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return skip("no display (run under xvfb-run)");
    }
    let dir = std::env::temp_dir().join(format!("optiscape-aids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shot = |name: &str, extra: &[&str]| -> Result<(image::RgbImage, String, u64), Skipped> {
        let path = dir.join(format!("{name}.png"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_optiscape"));
        cmd.args(["--screenshot", path.to_str().unwrap(), "--frames", "60"])
            .args(extra);
        let (code, err) = run_bounded(cmd, std::time::Duration::from_secs(600));
        match code {
            Some(0) => {}
            Some(_) if err.contains("no usable graphics adapter") => {
                return Err(skip(format!("no graphics adapter: {err}")).unwrap_err());
            }
            other => panic!("the sandbox failed ({other:?}): {err}"),
        }
        let reused = err
            .split("reused in ")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no frame-time line in the log: {err}"));
        let img = image::open(&path).expect("a PNG was written").to_rgb8();
        Ok((img, err, reused))
    };
    let (aided, log, reused) = shot("aided", &[])?;
    let (full, _, full_reused) = shot("full", &["--redraw-all"])?;
    assert_eq!(full_reused, 0, "--redraw-all reuses nothing");
    let software = log.contains("software renderer");
    if software {
        assert!(
            reused >= 30,
            "a still camera on a software renderer reuses the still parts ({reused} frames)"
        );
    }
    // The 3D view: between the panels, above the hover readout.
    let region = |img: &image::RgbImage| -> Vec<[u8; 3]> {
        img.enumerate_pixels()
            .filter(|(x, y, _)| (300..800).contains(x) && *y < 660)
            .map(|(_, _, p)| p.0)
            .collect()
    };
    let (a, b) = (region(&aided), region(&full));
    let differ = a
        .iter()
        .zip(&b)
        .filter(|(p, q)| p.iter().zip(q.iter()).any(|(u, v)| u.abs_diff(*v) > 8))
        .count();
    assert!(
        differ * 500 < a.len(),
        "still camera: {differ} of {} pixels differ from the full redraw",
        a.len()
    );
    // Orbiting: half resolution (on a software renderer), stretched over the same view.
    let (moving, log, reused) = shot("orbit", &["--orbit"])?;
    let (moving_full, _, _) = shot("orbit-full", &["--orbit", "--redraw-all"])?;
    assert_eq!(reused, 0, "a moving camera draws everything: {log}");
    let blocks = |img: &image::RgbImage| -> Vec<[f64; 3]> {
        let mut out = Vec::new();
        for by in (0..640).step_by(8) {
            for bx in (304..800).step_by(8) {
                let mut sum = [0.0; 3];
                for y in by..by + 8 {
                    for x in bx..bx + 8 {
                        let p = img.get_pixel(x, y).0;
                        for c in 0..3 {
                            sum[c] += f64::from(p[c]) / 64.0;
                        }
                    }
                }
                out.push(sum);
            }
        }
        out
    };
    let (m, f) = (blocks(&moving), blocks(&moving_full));
    let far = m
        .iter()
        .zip(&f)
        .filter(|(p, q)| (0..3).any(|c| (p[c] - q[c]).abs() > 40.0))
        .count();
    let mean: f64 = m
        .iter()
        .zip(&f)
        .map(|(p, q)| (0..3).map(|c| (p[c] - q[c]).abs()).sum::<f64>() / 3.0)
        .sum::<f64>()
        / m.len() as f64;
    assert!(
        far * 50 < m.len() && mean < 6.0,
        "orbiting: {far} of {} 8x8 blocks far from the full redraw's, mean difference {mean:.2}",
        m.len()
    );
    if software {
        // Coarser: fewer distinct colors in the stretched picture.
        let distinct = |img: &image::RgbImage| {
            region(img)
                .into_iter()
                .collect::<std::collections::HashSet<_>>()
                .len()
        };
        assert!(
            distinct(&moving) < distinct(&moving_full),
            "the moving camera's picture is drawn at half resolution"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The offscreen recorder: no window and no X server, but a graphics adapter (the software one
/// will do). Same skip rule as the sandbox's rendered check.
fn record_writes_gif_png_frames_and_mp4_offscreen() -> Check {
    let dir = std::env::temp_dir().join(format!("optiscape-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = |extra: &[&str], out: &std::path::Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_optiscape"));
        c.args(["record", "--frames", "6", "--size", "320x240"])
            .args(extra)
            .arg("--out")
            .arg(out)
            // Prove that no display is needed.
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        c.output().unwrap()
    };
    let gif = dir.join("clip.gif");
    let o = record(&[], &gif);
    if !o.status.success() {
        let e = stderr(&o);
        if e.contains("no usable graphics adapter") {
            return skip(format!("no graphics adapter: {e}"));
        }
        panic!("record failed: {e}");
    }
    assert!(stderr(&o).contains("wrote 6 frames"), "{}", stderr(&o));
    // The GIF: 320x240, six frames, looping, not blank.
    let file = std::fs::File::open(&gif).unwrap();
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let mut dec = opts.read_info(file).unwrap();
    assert_eq!((dec.width(), dec.height()), (320, 240));
    let mut frames = 0;
    while let Some(f) = dec.read_next_frame().unwrap() {
        if frames == 0 {
            // The first frame is whole; later ones hold only what changed.
            assert_eq!((f.width, f.height), (320, 240));
            let colors: std::collections::HashSet<&[u8]> = f.buffer.chunks_exact(4).collect();
            assert!(colors.len() > 50, "the first frame is nearly blank");
        }
        assert!(f.delay >= 3, "30 fps is 3 hundredths of a second per frame");
        frames += 1;
    }
    assert_eq!(frames, 6);
    // PNG frames, deterministic: the same scenario and seed give the same pictures.
    let pngs = |name: &str, extra: &[&str]| -> Vec<Vec<u8>> {
        let d = dir.join(name);
        let o = record(extra, &d);
        assert!(o.status.success(), "{}", stderr(&o));
        (0..6)
            .map(|i| {
                let img = image::open(d.join(format!("frame-{i:05}.png")))
                    .unwrap()
                    .to_rgb8();
                assert_eq!((img.width(), img.height()), (320, 240));
                img.into_raw()
            })
            .collect()
    };
    let a = pngs("a", &["--scenario", "egg-crate"]);
    let b = pngs("b", &["--scenario", "egg-crate"]);
    assert!(
        a == b,
        "the same scenario and seed must give the same frames"
    );
    assert!(
        a[0] != a[5],
        "the balls move between the first and the last frame"
    );
    let c = pngs("c", &["--scenario", "egg-crate", "--seed", "8"]);
    assert!(a[5] != c[5], "another seed, other start points");
    // By default the still parts are drawn once and reused; drawing everything in every frame
    // gives the same pictures but where a contour line crosses a trail or a ball.
    let full = pngs("full", &["--scenario", "egg-crate", "--redraw-all"]);
    for (k, (x, y)) in a.iter().zip(&full).enumerate() {
        let differ = x
            .chunks_exact(3)
            .zip(y.chunks_exact(3))
            .filter(|(p, q)| p.iter().zip(q.iter()).any(|(u, v)| u.abs_diff(*v) > 8))
            .count();
        assert!(
            differ * 1000 < x.len() / 3,
            "frame {k}: {differ} pixels differ from the full redraw"
        );
    }
    // MP4 through ffmpeg; without ffmpeg, a clear error and exit 2.
    let mp4 = dir.join("clip.mp4");
    let mut c = Command::new(env!("CARGO_BIN_EXE_optiscape"));
    c.args(["record", "--frames", "2", "--out"])
        .arg(&mp4)
        .env("OPTISCAPE_FFMPEG", "/nonexistent/ffmpeg");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs ffmpeg"), "{}", stderr(&o));
    if optiscape::record::ffmpeg_available() {
        let o = record(&[], &mp4);
        assert!(o.status.success(), "{}", stderr(&o));
        let probe = Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args([
                "-show_entries",
                "stream=width,height,nb_read_frames,codec_name",
            ])
            .args(["-of", "csv=p=0"])
            .arg(&mp4)
            .output()
            .unwrap();
        assert_eq!(stdout(&probe).trim(), "h264,320,240,6");
    } else {
        partly_skipped("the .mp4 part: no ffmpeg on PATH");
    }
    // Bad input: one line, exit 2.
    for (args, want) in [
        (
            vec!["record", "--out", "x.gif", "--size", "big"],
            "--size expects WxH",
        ),
        (
            vec!["record", "--out", "x.mp4", "--size", "321x240"],
            "even width",
        ),
        (
            vec!["record", "--out", "/no/such/dir/x.gif"],
            "does not exist",
        ),
        (
            vec!["record", "--out", "x.gif", "--methods", "nope"],
            "unknown method",
        ),
        (vec!["record", "--out", "x.gif", "--fps", "0"], "--fps"),
        (vec!["record"], "--out"),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn record_notebook_writes_the_six_clips() -> Check {
    let dir = std::env::temp_dir().join(format!("optiscape-nb-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args([
            "record",
            "--frames",
            "2",
            "--size",
            "160x120",
            "--format",
            "png",
            "--notebook",
        ])
        .arg(&dir)
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    if !o.status.success() && stderr(&o).contains("no usable graphics adapter") {
        return skip("no graphics adapter");
    }
    assert!(o.status.success(), "{}", stderr(&o));
    for clip in [
        "sgd",
        "momentum",
        "adagrad",
        "adagrad-finetune",
        "adadelta",
        "race",
    ] {
        for i in 0..2 {
            let f = dir.join(clip).join(format!("frame-{i:05}.png"));
            let img = image::open(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert_eq!((img.width(), img.height()), (160, 120));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Without a graphics adapter (no Vulkan driver found) or without a display, the renderer's
/// panic becomes one clear line and exit 2, and `record` creates no output file.
fn no_adapter_or_no_display_is_a_clear_error() -> Check {
    let dir = std::env::temp_dir().join(format!("optiscape-noad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gif = dir.join("never.gif");
    let o = Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args(["record", "--frames", "2", "--size", "64x48", "--out"])
        .arg(&gif)
        .env("VK_ICD_FILENAMES", dir.join("no-such-driver.json"))
        .env("VK_DRIVER_FILES", dir.join("no-such-driver.json"))
        .env("WGPU_BACKEND", "vulkan")
        .output()
        .unwrap();
    if o.status.success() {
        partly_skipped("the no-adapter part: an adapter was found anyway");
    } else {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("no usable graphics adapter"), "{err}");
        assert!(err.contains("mesa-vulkan-drivers"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!gif.exists(), "an output file was created");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args(["--screenshot"])
        .arg(dir.join("never.png"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot open a window"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn record_reports_numbers_as_typed() -> Check {
    for (args, want) in [
        (
            vec!["record", "--out", "x.gif", "--fps", "5000"],
            "got 5000",
        ),
        (
            vec!["record", "--out", "x.gif", "--frames", "5000000000"],
            "got 5000000000",
        ),
    ] {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    Ok(())
}

/// A frame that cannot be read back from the renderer ends the recording with one line and a
/// non-zero status; it does not wait for that frame forever.
fn a_failed_read_back_is_an_error() -> Check {
    let dir = std::env::temp_dir().join(format!("optiscape-readback-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gif = dir.join("clip.gif");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_optiscape"));
    cmd.args(["record", "--frames", "6", "--size", "160x120", "--out"])
        .arg(&gif)
        .env("OPTISCAPE_TEST_FAIL_READBACK", "2");
    let (code, err) = run_bounded(cmd, std::time::Duration::from_secs(300));
    assert!(
        code.is_some(),
        "record still waits 5 minutes after a failed read-back"
    );
    if err.contains("no usable graphics adapter") {
        return skip(format!("no graphics adapter: {err}"));
    }
    assert_eq!(code, Some(2), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("optiscape: error:"))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(
        line.contains("reading frame 2 back from the renderer failed"),
        "{line}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A check that could not run here, and why.
struct Skipped(String);

type Check = Result<(), Skipped>;

/// A named check.
type Named = (&'static str, fn() -> Check);

/// Networks in training on a slice: the sandbox renders them, the state says which runs the
/// balls are and that they train, and the Network section's decision boundary shows both
/// classes' colors in the left panel.
fn the_sandbox_draws_networks_in_training() -> Check {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return skip("no display (run under xvfb-run)");
    }
    let dir = std::env::temp_dir().join(format!("optiscape-render-net-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (path, state) = (dir.join("net.png"), dir.join("net.json"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_optiscape"));
    cmd.args([
        "--surface",
        "net:xor,points=100,steps=300",
        "--networks",
        "2",
        "--screenshot",
        path.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--frames",
        "40",
    ]);
    let (code, err) = run_bounded(cmd, std::time::Duration::from_secs(600));
    match code {
        None => panic!("the sandbox did not save its screenshot within 10 minutes: {err}"),
        Some(0) => {}
        Some(_) if err.contains("no usable graphics adapter") => {
            return skip(format!("no graphics adapter: {err}"));
        }
        Some(c) => panic!("the sandbox failed (exit {c}): {err}"),
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let balls = doc["balls"].as_array().unwrap();
    // The notebook's roster: SGD and momentum train networks (2 runs each); the presets that
    // clip a 2D gradient do not.
    assert_eq!(balls.len(), 4, "{balls:?}");
    for b in balls {
        assert!(b["network"].is_u64(), "{b}");
        assert!(b["steps"].as_u64().unwrap() >= 10 * 30, "{b}");
    }
    let img = image::open(&path).expect("a PNG was written").to_rgb8();
    let left: Vec<[u8; 3]> = img
        .enumerate_pixels()
        .filter(|(x, _, _)| *x < 260)
        .map(|(_, _, p)| p.0)
        .collect();
    // The lightened class colors of the decision boundary.
    let near = |c: [u8; 3]| {
        left.iter()
            .filter(|p| {
                (0..3)
                    .map(|i| (p[i] as i32 - c[i] as i32).pow(2))
                    .sum::<i32>()
                    < 30 * 30
            })
            .count()
    };
    let (blue, orange) = (near([161, 190, 239]), near([246, 194, 154]));
    assert!(
        blue > 500 && orange > 500,
        "boundary colors: {blue} blue, {orange} orange"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn rendering_required() -> bool {
    std::env::var("OPTISCAPE_REQUIRE_RENDER").as_deref() == Ok("1")
}

/// Skips the check (or fails it, when rendering is required).
fn skip(why: impl Into<String>) -> Check {
    let why = why.into();
    if rendering_required() {
        panic!("rendering is required (OPTISCAPE_REQUIRE_RENDER=1) but {why}");
    }
    Err(Skipped(why))
}

/// Parts of checks that were skipped (the rest of the check ran).
static PARTS_SKIPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn partly_skipped(what: &str) {
    if rendering_required() {
        panic!("rendering is required (OPTISCAPE_REQUIRE_RENDER=1) but skipped {what}");
    }
    PARTS_SKIPPED.lock().unwrap().push(what.to_string());
}

fn main() -> ExitCode {
    let checks: [Named; 8] = [
        (
            "the_sandbox_renders_the_opening_scene",
            the_sandbox_renders_the_opening_scene,
        ),
        (
            "the_sandbox_draws_networks_in_training",
            the_sandbox_draws_networks_in_training,
        ),
        (
            "the_sandbox_aids_match_the_full_redraw",
            the_sandbox_aids_match_the_full_redraw,
        ),
        (
            "record_writes_gif_png_frames_and_mp4_offscreen",
            record_writes_gif_png_frames_and_mp4_offscreen,
        ),
        (
            "record_notebook_writes_the_six_clips",
            record_notebook_writes_the_six_clips,
        ),
        (
            "no_adapter_or_no_display_is_a_clear_error",
            no_adapter_or_no_display_is_a_clear_error,
        ),
        (
            "record_reports_numbers_as_typed",
            record_reports_numbers_as_typed,
        ),
        (
            "a_failed_read_back_is_an_error",
            a_failed_read_back_is_an_error,
        ),
    ];
    // `cargo test NAME` passes NAME: run the checks whose names contain it.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &checks {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let (mut passed, mut failed, mut skipped) = (0, 0, Vec::new());
    for (name, check) in checks {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        match std::panic::catch_unwind(check) {
            Ok(Ok(())) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Ok(Err(Skipped(why))) => {
                println!("test {name} ... skipped: {why}");
                skipped.push(format!("{name}: {why}"));
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    let parts = PARTS_SKIPPED.lock().map(|p| p.clone()).unwrap_or_default();
    for s in skipped.iter().chain(&parts) {
        println!("skipped: {s}");
    }
    println!();
    println!(
        "render: {passed} passed, {failed} failed, {} skipped",
        skipped.len()
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
