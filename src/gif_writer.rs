//! A looping GIF written frame by frame, for `optiscape record` and the sandbox's "Record GIF":
//! one palette for the whole clip and only the changed rectangle after the first frame. Plain
//! Rust (the `gif` and `color_quant` crates), no Bevy.

use std::io::Write;
use std::path::Path;

/// Colors NeuQuant learns; the rest of the 255 are kept for colors it represents badly.
const LEARNED: usize = 240;

/// A GIF palette: NeuQuant's colors learned from the first frame, plus up to
/// `255 - LEARNED` exact colors of that frame that the learned ones miss by most (weighted by
/// how many pixels have them): small, saturated things such as balls and the legend's method
/// colors, which NeuQuant's sampling can skip.
struct Palette {
    quant: color_quant::NeuQuant,
    /// RGB triples: the learned colors, then the exact ones.
    rgb: Vec<[u8; 3]>,
}

impl Palette {
    fn learn(rgba: &[u8]) -> Self {
        // Learned as opaque whatever the alpha (GIF colors have none; window captures can
        // carry any), so lookups with alpha 255 match.
        let opaque: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        let quant = color_quant::NeuQuant::new(10, LEARNED, &opaque);
        let mut rgb: Vec<[u8; 3]> = quant
            .color_map_rgb()
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        let mut counts: std::collections::HashMap<[u8; 3], u32> = Default::default();
        for p in rgba.chunks_exact(4) {
            *counts.entry([p[0], p[1], p[2]]).or_default() += 1;
        }
        let mut missed: Vec<(u64, [u8; 3])> = counts
            .into_iter()
            .filter_map(|(c, n)| {
                let k = quant.index_of(&[c[0], c[1], c[2], 255]);
                let e = distance(c, rgb[k]);
                // Off by more than about 10 levels per channel.
                (e > 300).then_some((n as u64 * e as u64, c))
            })
            .collect();
        missed.sort_unstable_by(|a, b| b.cmp(a));
        for (_, c) in missed {
            if rgb.len() >= 255 {
                break;
            }
            // Not next to an exact color already kept.
            if rgb[LEARNED..].iter().all(|k| distance(*k, c) > 300) {
                rgb.push(c);
            }
        }
        Self { quant, rgb }
    }

    /// The index of the nearest palette color.
    fn index_of(&self, p: &[u8]) -> u8 {
        let c = [p[0], p[1], p[2]];
        let mut best = self.quant.index_of(&[c[0], c[1], c[2], 255]);
        let mut d = distance(c, self.rgb[best]);
        for (j, k) in self.rgb.iter().enumerate().skip(LEARNED) {
            let e = distance(c, *k);
            if e < d {
                (best, d) = (j, e);
            }
        }
        best as u8
    }

    /// 256 RGB entries (the last ones, including the transparent index, unused).
    fn bytes(&self) -> Vec<u8> {
        let mut b: Vec<u8> = self.rgb.iter().flatten().copied().collect();
        b.resize(256 * 3, 0);
        b
    }
}

/// Squared distance between two colors.
fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    (0..3)
        .map(|i| (a[i] as i32 - b[i] as i32).pow(2) as u32)
        .sum()
}

/// The palette index that means "unchanged" (the palette has at most 255 colors, 0..=254).
const TRANSPARENT: u8 = 255;

/// A looping GIF written frame by frame: one 255-color palette (`Palette`: learned from the
/// first frame, which already shows the surface and every ball) for the whole clip, no
/// dithering, and after the first frame only the rectangle that changed. With a still camera
/// that is a few balls and trails per frame, so clips stay small.
///
/// Each distinct color is looked up in the palette once (a table over all 2^24 colors), and a
/// pixel whose color did not change since the last frame keeps its index without a lookup.
///
/// It writes to a file ([`GifWriter::create`]) or to any writer, such as the bytes the web page
/// downloads ([`GifWriter::new`]).
pub struct GifWriter<W: Write = std::io::BufWriter<std::fs::File>> {
    /// The output until the first frame (whose palette becomes the GIF's global one).
    file: Option<W>,
    enc: Option<gif::Encoder<W>>,
    shown: String,
    size: (u16, u16),
    delay: u16,
    palette: Option<Palette>,
    /// Palette index of each RGB color seen so far (`TRANSPARENT`: not looked up yet).
    lookup: Vec<u8>,
    /// The last frame, RGBA.
    last_rgba: Vec<u8>,
    /// The picture so far, as palette indices.
    last: Vec<u8>,
    /// A buffer for a frame's changed pixels: (pixel, new palette index).
    changes: Vec<(usize, u8)>,
}

impl GifWriter {
    /// A GIF written to the file `path`.
    pub fn create(path: &Path, w: u32, h: u32, fps: f64) -> Result<Self, String> {
        let shown = path.display().to_string();
        let file = std::fs::File::create(path).map_err(|e| format!("{shown}: {e}"))?;
        GifWriter::new(std::io::BufWriter::new(file), shown, w, h, fps)
    }
}

impl<W: Write> GifWriter<W> {
    /// A GIF written to `out`; `shown` names it in error messages.
    pub fn new(out: W, shown: String, w: u32, h: u32, fps: f64) -> Result<Self, String> {
        let size = (
            u16::try_from(w).map_err(|_| format!("{shown}: too wide for a GIF"))?,
            u16::try_from(h).map_err(|_| format!("{shown}: too tall for a GIF"))?,
        );
        Ok(Self {
            file: Some(out),
            enc: None,
            shown,
            size,
            // GIF delays are in hundredths of a second.
            delay: (100.0 / fps.max(0.1)).round().clamp(2.0, 6000.0) as u16,
            palette: None,
            lookup: Vec::new(),
            last_rgba: Vec::new(),
            last: Vec::new(),
            changes: Vec::new(),
        })
    }

    /// Appends one RGBA frame of the writer's size.
    pub fn push(&mut self, rgba: &[u8]) -> Result<(), String> {
        let (w, h) = (self.size.0 as usize, self.size.1 as usize);
        if rgba.len() != w * h * 4 {
            return Err(format!("{}: a frame had the wrong size", self.shown));
        }
        let palette = self.palette.get_or_insert_with(|| Palette::learn(rgba));
        if self.lookup.is_empty() {
            self.lookup = vec![TRANSPARENT; 1 << 24];
        }
        let lookup = &mut self.lookup;
        let mut index_of = |p: &[u8]| {
            let rgb = usize::from(p[0]) | usize::from(p[1]) << 8 | usize::from(p[2]) << 16;
            let mut k = lookup[rgb];
            if k == TRANSPARENT {
                k = palette.index_of(p);
                lookup[rgb] = k;
            }
            k
        };
        let mut frame = if self.last.is_empty() {
            // The first frame: every pixel.
            self.last = rgba.chunks_exact(4).map(&mut index_of).collect();
            self.last_rgba = rgba.to_vec();
            gif::Frame::from_indexed_pixels(self.size.0, self.size.1, self.last.clone(), None)
        } else {
            // Later frames: the pixels whose palette index changed, inside their bounding box.
            // Most rows are byte for byte the last frame's (a still camera): one comparison
            // each.
            let mut changes = std::mem::take(&mut self.changes);
            changes.clear();
            let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
            let rows = rgba
                .chunks_exact(w * 4)
                .zip(self.last_rgba.chunks_exact_mut(w * 4));
            for (y, (row, last_row)) in rows.enumerate() {
                if row == last_row {
                    continue;
                }
                for (x, (p, q)) in row
                    .chunks_exact(4)
                    .zip(last_row.chunks_exact(4))
                    .enumerate()
                {
                    if p == q {
                        continue;
                    }
                    let i = y * w + x;
                    let k = index_of(p);
                    if k != self.last[i] {
                        changes.push((i, k));
                        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y);
                    }
                }
                last_row.copy_from_slice(row);
            }
            if changes.is_empty() {
                // Nothing changed: one transparent pixel.
                (x0, y0, x1, y1) = (0, 0, 0, 0);
            }
            // Inside the box, unchanged pixels are transparent: long runs of one index, which
            // LZW packs into almost nothing.
            let (fw, fh) = (x1 - x0 + 1, y1 - y0 + 1);
            let mut sub = vec![TRANSPARENT; fw * fh];
            for &(i, k) in &changes {
                let (x, y) = (i % w, i / w);
                sub[(y - y0) * fw + (x - x0)] = k;
                self.last[i] = k;
            }
            self.changes = changes;
            let mut f =
                gif::Frame::from_indexed_pixels(fw as u16, fh as u16, sub, Some(TRANSPARENT));
            f.left = x0 as u16;
            f.top = y0 as u16;
            f
        };
        frame.delay = self.delay;
        frame.dispose = gif::DisposalMethod::Keep;
        let shown = &self.shown;
        if let Some(file) = self.file.take() {
            let mut enc = gif::Encoder::new(file, self.size.0, self.size.1, &palette.bytes())
                .map_err(|e| format!("{shown}: {e}"))?;
            enc.set_repeat(gif::Repeat::Infinite)
                .map_err(|e| format!("{shown}: {e}"))?;
            self.enc = Some(enc);
        }
        self.enc
            .as_mut()
            .ok_or_else(|| format!("{shown}: the GIF was already finished"))?
            .write_frame(&frame)
            .map_err(|e| format!("{shown}: {e}"))?;
        Ok(())
    }

    /// Writes the trailer and flushes the file.
    /// Writes the GIF's end.
    pub fn finish(self) -> Result<(), String> {
        self.finish_into().map(|_| ())
    }

    /// Writes the GIF's end and returns the writer.
    pub fn finish_into(self) -> Result<W, String> {
        let shown = self.shown;
        let enc = match (self.enc, self.file) {
            (Some(enc), _) => enc,
            // No frame came: a valid, empty GIF.
            (None, Some(file)) => gif::Encoder::new(file, self.size.0, self.size.1, &[])
                .map_err(|e| format!("{shown}: {e}"))?,
            (None, None) => return Err(format!("{shown}: the GIF was already finished")),
        };
        let mut w = enc.into_inner().map_err(|e| format!("{shown}: {e}"))?;
        w.flush().map_err(|e| format!("{shown}: {e}"))?;
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::GifWriter;

    /// Decodes a GIF and composites its frames (each drawn over the last, transparent pixels
    /// keeping what was there), as a viewer shows them.
    fn decode(path: &std::path::Path) -> Vec<Vec<u8>> {
        let mut opts = gif::DecodeOptions::new();
        opts.set_color_output(gif::ColorOutput::RGBA);
        let mut dec = opts
            .read_info(std::fs::File::open(path).expect("gif file"))
            .expect("gif header");
        let (w, h) = (dec.width() as usize, dec.height() as usize);
        let mut canvas = vec![0u8; w * h * 4];
        let mut out = Vec::new();
        while let Some(f) = dec.read_next_frame().expect("gif frame") {
            for y in 0..f.height as usize {
                for x in 0..f.width as usize {
                    let s = (y * f.width as usize + x) * 4;
                    if f.buffer[s + 3] == 0 {
                        continue;
                    }
                    let d = ((y + f.top as usize) * w + x + f.left as usize) * 4;
                    canvas[d..d + 4].copy_from_slice(&f.buffer[s..s + 4]);
                }
            }
            out.push(canvas.clone());
        }
        out
    }

    const W: usize = 160;
    const H: usize = 120;

    /// A 160x120 picture: a background of four bands and a 4x4 red square at `(x, y)`.
    fn picture(x: usize, y: usize) -> Vec<u8> {
        let bands = [
            [30, 60, 200],
            [90, 140, 230],
            [220, 220, 225],
            [200, 90, 70],
        ];
        let mut px = Vec::new();
        for j in 0..H {
            for i in 0..W {
                let on = (x..x + 4).contains(&i) && (y..y + 4).contains(&j);
                let [r, g, b] = if on { [250, 20, 30] } else { bands[i / 40] };
                px.extend([r, g, b, 255]);
            }
        }
        px
    }

    #[test]
    fn gif_frames_decode_to_what_was_pushed() {
        let dir = std::env::temp_dir().join(format!("optiscape-gif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("square.gif");
        // Moving, still (nothing changed), moving back over where it was.
        let frames = [
            picture(2, 3),
            picture(20, 10),
            picture(20, 10),
            picture(5, 3),
        ];
        let mut gif = GifWriter::create(&path, W as u32, H as u32, 30.0).unwrap();
        for f in &frames {
            gif.push(f).unwrap();
        }
        assert!(gif.push(&[0; 12]).is_err(), "a frame of the wrong size");
        gif.finish().unwrap();
        let shown = decode(&path);
        assert_eq!(shown.len(), frames.len());
        for (k, (want, got)) in frames.iter().zip(&shown).enumerate() {
            let worst = want
                .iter()
                .zip(got)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            // Five colors: the square's red (16 pixels of 19,200, which NeuQuant alone maps
            // to the nearest band) is kept exactly.
            assert!(worst <= 6, "frame {k}: a channel off by {worst}");
            // The square is where it was drawn, in red.
            let (x, y) = [(2, 3), (20, 10), (20, 10), (5, 3)][k];
            let s = ((y + 1) * W + x + 1) * 4;
            assert!(got[s] > 200 && got[s + 1] < 60, "frame {k}: no square");
        }
        // Where the square was in frame 1 is background again in frame 3.
        let s = ((10 + 1) * W + 20 + 1) * 4;
        assert!(shown[3][s] < 200, "the old square was not erased");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_gif_without_frames_is_still_a_gif() {
        let dir = std::env::temp_dir().join(format!("optiscape-gif0-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("empty.gif");
        GifWriter::create(&path, 16, 16, 10.0)
            .unwrap()
            .finish()
            .unwrap();
        // The header, the screen descriptor and the trailer.
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"GIF89a"), "{bytes:?}");
        assert_eq!(bytes.last(), Some(&b';'));
        std::fs::remove_dir_all(&dir).ok();
    }
}
