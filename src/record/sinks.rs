//! Where a recording's frames go: a GIF, an MP4 through `ffmpeg`, or a folder of PNGs; the
//! encoder thread that writes them in order.

use crate::gif_writer::GifWriter;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

/// Where the frames go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sink {
    /// A looping GIF.
    Gif(PathBuf),
    /// H.264 in MP4, encoded by `ffmpeg` from raw frames on its stdin.
    Mp4(PathBuf),
    /// `frame-00000.png`, `frame-00001.png`, ... in this folder.
    Pngs(PathBuf),
}

impl Sink {
    /// `.gif`, `.mp4`, or anything else: a folder of PNGs.
    pub fn for_path(path: &Path) -> Self {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("gif") => Sink::Gif(path.to_path_buf()),
            Some("mp4") => Sink::Mp4(path.to_path_buf()),
            _ => Sink::Pngs(path.to_path_buf()),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Sink::Gif(p) | Sink::Mp4(p) | Sink::Pngs(p) => p,
        }
    }
}

/// Whether `ffmpeg` can be run.
pub fn ffmpeg_available() -> bool {
    std::process::Command::new(ffmpeg_program())
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `ffmpeg`, or the program named by `OPTISCAPE_FFMPEG` (for tests).
fn ffmpeg_program() -> String {
    std::env::var("OPTISCAPE_FFMPEG").unwrap_or_else(|_| "ffmpeg".into())
}

/// A frame's pixels, RGBA, row by row.
pub(super) type Pixels = Vec<u8>;

/// Writes frames in order as they come; returns when the channel closes.
pub(super) fn encoder(
    sink: Sink,
    (w, h): (u32, u32),
    fps: u32,
    frames: Receiver<Pixels>,
) -> Result<u32, String> {
    let shown = sink.path().display().to_string();
    let mut count = 0u32;
    match sink {
        Sink::Gif(path) => {
            let mut gif = GifWriter::create(&path, w, h, fps as f64)?;
            for px in frames {
                gif.push(&px)?;
                count += 1;
            }
            gif.finish()?;
        }
        Sink::Mp4(path) => {
            let mut child = std::process::Command::new(ffmpeg_program())
                .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo"])
                .args(["-pix_fmt", "rgba", "-s", &format!("{w}x{h}")])
                .args(["-r", &fps.to_string(), "-i", "-"])
                .args([
                    "-c:v",
                    "libx264",
                    // The rendering is fast enough that a slow preset would be the bottleneck;
                    // these clips are mostly a still backdrop, which every preset packs well.
                    "-preset",
                    "veryfast",
                    "-pix_fmt",
                    "yuv420p",
                    "-movflags",
                    "+faststart",
                ])
                .arg(&path)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("{shown}: could not start ffmpeg: {e}"))?;
            let mut stdin = child
                .stdin
                .take()
                .ok_or_else(|| format!("{shown}: ffmpeg has no stdin"))?;
            let mut broken = None;
            for px in frames {
                if let Err(e) = stdin.write_all(&px) {
                    broken = Some(e);
                    break;
                }
                count += 1;
            }
            drop(stdin);
            let out = child
                .wait_with_output()
                .map_err(|e| format!("{shown}: ffmpeg: {e}"))?;
            if !out.status.success() || broken.is_some() {
                let why = String::from_utf8_lossy(&out.stderr);
                return Err(format!(
                    "{shown}: ffmpeg failed ({}): {}",
                    out.status,
                    why.lines().last().unwrap_or("no message")
                ));
            }
        }
        Sink::Pngs(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{shown}: {e}"))?;
            for px in frames {
                let img = image::RgbaImage::from_raw(w, h, px)
                    .ok_or_else(|| format!("{shown}: a frame had the wrong size"))?;
                let file = dir.join(format!("frame-{count:05}.png"));
                image::DynamicImage::ImageRgba8(img)
                    .to_rgb8()
                    .save(&file)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                count += 1;
            }
        }
    }
    Ok(count)
}
