//! Runs of the update rules on a surface, headless: one shared `step_once` (the sandbox's balls
//! call it too), `trace` (one start), and the batch runners over thousands of starts on every
//! core: `race`, `basins`, `sweep`.

pub mod basins;
mod batch;
pub mod ecdf;
pub mod flow;
mod glyphs;
mod lockstep;
pub mod pace;
pub mod phase;
mod race;
pub mod report;
mod run;
pub mod significance;
pub mod stats;
pub mod suite;
pub mod sweep;
mod trace;
pub mod train;
pub mod tune;

pub use batch::{
    Anytime, Precision, Progress, RunEnd, Target, check_budgets, random_points, run_batch,
    run_batch_anytime, run_batch_on, run_batch_scalar, run_batch_scalar_anytime, run_batch_with,
    run_seed, run_shard, uniform_starts,
};
pub use lockstep::{Engine, LaneCopy, engine_for, engine_on, engine_summary, lanes_env_error};
pub use race::{
    RaceRow, lowest_of_rows, race, race_budgeted_paced, race_paced, race_target, race_with,
};
pub use run::{GRAD_COST, RunState, RunStatus, cost, step_once, step_once_trail};
pub use stats::{Outcome, Runtime, Summary, ert, ert_interval, median, summarize, wilson};
pub use trace::{Trace, TracePoint, trace, trace_each};
