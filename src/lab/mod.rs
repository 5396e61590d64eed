//! Runs of the update rules on a surface, headless: one shared `step_once` (the sandbox's balls
//! call it too) and `trace`, the full trajectory of one start. The batch runners (races, basin
//! maps, sweeps) build on the same step.

mod run;
mod trace;

pub use run::{RunState, RunStatus, step_once};
pub use trace::{Trace, TracePoint, trace};
