//! The recorder's phases: warm-up until the picture settles, the still backdrop, recording,
//! draining.

use super::frames::Picture;
use super::sinks::Pixels;

/// Rendering the same scene over and over until it has settled: two pictures in a row equal,
/// rendered with every pipeline compiled, and not blank.
#[derive(Debug, Default)]
pub(super) struct Settling {
    in_flight: bool,
    last: Option<Pixels>,
    pub(super) frames: u32,
}

impl Settling {
    /// Takes this update's untagged pictures: settled (after at least `min_frames` updates),
    /// or whether to ask for another picture (one at a time, or every frame with
    /// `every_frame`), or given up after 2000 updates.
    pub(super) fn step(&mut self, got: Vec<Picture>, min_frames: u32, every_frame: bool) -> Settle {
        self.frames += 1;
        let mut settled = false;
        for p in got {
            self.in_flight = false;
            let distinct = p
                .pixels
                .chunks_exact(4)
                .step_by(97)
                .map(|c| [c[0], c[1], c[2]])
                .collect::<std::collections::HashSet<_>>()
                .len();
            if self.frames > min_frames
                && p.complete
                && distinct > 20
                && self.last.as_ref() == Some(&p.pixels)
            {
                settled = true;
            }
            self.last = Some(p.pixels);
        }
        if settled {
            return Settle::Done;
        }
        if self.frames > 2000 {
            return Settle::TimedOut;
        }
        let ask = every_frame || !self.in_flight;
        self.in_flight |= ask;
        Settle::Waiting { ask }
    }
}

pub(super) enum Settle {
    Done,
    Waiting { ask: bool },
    TimedOut,
}

#[derive(Debug)]
pub(super) enum Phase {
    /// Rendering with the simulation held still until the picture settles (every pipeline
    /// compiled), so the first recorded frame is complete.
    WarmUp(Settling),
    /// A still camera: rendering the still parts alone until they settle; the last one is
    /// kept as the backdrop.
    Backdrop(Settling),
    /// Frame `next` is captured this update.
    Recording { next: u32 },
    /// Every frame asked for; waiting for the last pictures (since when, and how many had been
    /// written then: the wait times out without progress).
    Draining {
        since: std::time::Instant,
        sent: u32,
    },
}
