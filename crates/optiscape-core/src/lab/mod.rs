//! Runs of the update rules on a surface, headless: one shared `step_once` (the sandbox's balls
//! call it too), `trace` (one start), and the batch runners over thousands of starts on every
//! core: `race`, `basins`, `sweep`.

pub mod basins;
mod batch;
mod glyphs;
mod race;
mod run;
pub mod stats;
pub mod sweep;
mod trace;

pub use batch::{
    Precision, Progress, RunEnd, Target, random_points, run_batch, run_batch_scalar,
    run_batch_with, run_seed, uniform_starts,
};
pub use race::{RaceRow, race, race_with};
pub use run::{RunState, RunStatus, step_once};
pub use stats::{Outcome, Summary, median, summarize};
pub use trace::{Trace, TracePoint, trace, trace_each};
