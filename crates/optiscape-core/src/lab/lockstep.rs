//! The lockstep engine: runs of one update rule in groups of four or eight lanes
//! (structure-of-arrays, [`crate::lanes`]), many groups at a time, allocating nothing per step.
//!
//! Its code is in two parts, each compiled once per lane type: the rule's part (every group's
//! landing and update: [`LaneJob::block`], once per rule) and the surface's part (every group's
//! evaluation: [`eval_pass`], once per surface), which the rule's part calls once per step
//! through [`GroupEval`]. About 30 instances per copy where one function for each rule x
//! surface pair made about 400 (the core's build time; docs/benchmarks.md, "Building").
//!
//! Each part has up to three copies, chosen at run time by what the CPU has ([`LaneCopy`]):
//! one compiled for AVX-512 (F, DQ, VL, BW: eight f64 lanes on compiled surfaces, one 512-bit
//! register each), one for AVX2 (four f64 or eight f32 lanes; formulas and f32 take it under
//! AVX-512 too) and the baseline of the target (any x86_64 CPU; the only one elsewhere, e.g. on
//! the web page). Every copy computes the same numbers: each lane operation is the scalar IEEE
//! operation, so in f64 each lane equals the run through the general engine bit for bit
//! (`tests/matrix`, over every copy the CPU has). `OPTISCAPE_LANES` chooses a lower copy (or
//! the general engine) for a process: see [`LaneCopy::chosen`].

use super::batch::{Anytime, Precision, Progress, RunEnd, Target, run_seed};
use super::run::RunStatus;
use crate::landscape::{Domain, Dual, LaneEval, LaneSurfaceVisitor, Surface};
use crate::lanes::{F32x8, F64x4, F64x8, Mask, Real, V2};
use crate::optim::transforms::{add_noise_lanes, clip_by_norm_lanes};
use crate::optim::{LaneRule, LaneVisitor, Rng};
use glam::DVec2;
use rayon::prelude::*;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{Ordering, compiler_fence};

/// Which code runs a batch: the general engine (each run on its own, in f64), or a copy of the
/// lockstep engine compiled for the target's baseline, for AVX2, or for AVX-512 (ordered from
/// the least the CPU must have to the most).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LaneCopy {
    General,
    Baseline,
    Avx2,
    Avx512,
}

impl LaneCopy {
    /// Every value, in order.
    pub const ALL: [LaneCopy; 4] = [
        LaneCopy::General,
        LaneCopy::Baseline,
        LaneCopy::Avx2,
        LaneCopy::Avx512,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LaneCopy::General => "general",
            LaneCopy::Baseline => "baseline",
            LaneCopy::Avx2 => "avx2",
            LaneCopy::Avx512 => "avx512",
        }
    }

    /// The value named `name` (as [`Self::name`] prints it).
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The best copy this CPU runs: AVX-512 when it has AVX, AVX2 and AVX-512 F, DQ, VL and BW;
    /// AVX2 when it has AVX and AVX2; the baseline otherwise and on other architectures.
    pub fn detected() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if !(has!("avx") && has!("avx2")) {
                LaneCopy::Baseline
            } else if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx512bw") {
                LaneCopy::Avx512
            } else {
                LaneCopy::Avx2
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            LaneCopy::Baseline
        }
    }

    /// The copy this process uses: the best the CPU runs, or at most the one the environment
    /// variable `OPTISCAPE_LANES` names (`general`, `baseline`, `avx2`, `avx512`; a copy above
    /// what the CPU runs gives the best it runs). Read once. An unknown name is ignored here; the
    /// command line refuses it ([`lanes_env_error`]).
    pub fn chosen() -> Self {
        static CHOSEN: OnceLock<LaneCopy> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let asked = std::env::var("OPTISCAPE_LANES").ok();
            let cap = asked
                .as_deref()
                .and_then(Self::by_name)
                .unwrap_or(LaneCopy::Avx512);
            Self::detected().min(cap)
        })
    }
}

/// The one line to refuse `OPTISCAPE_LANES` with when it names no copy (`None`: unset or a
/// known name).
pub fn lanes_env_error() -> Option<String> {
    let v = std::env::var("OPTISCAPE_LANES").ok()?;
    if v.is_empty() || LaneCopy::by_name(&v).is_some() {
        return None;
    }
    Some(format!(
        "OPTISCAPE_LANES={v:?} names no engine: use general, baseline, avx2 or avx512 (or leave \
         it unset for the best this CPU runs)"
    ))
}

/// How a batch runs here: which code ([`LaneCopy`]) with how many lanes, and the precision
/// the arithmetic is actually done in. Every lab output names it (`engine`, `lanes`,
/// `precision`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Engine {
    pub engine: &'static str,
    pub lanes: usize,
    pub precision: Precision,
}

/// The lane types of the lockstep engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LaneType {
    F32x8,
    F64x4,
    F64x8,
}

/// The lane type and copy for a batch of `steps` updates on `surface` in `precision` when the
/// process may use up to `copy`; `None`: the general engine. f32 asked for beyond 2^24 updates
/// (which f32 cannot count) runs in f64, and says so ([`Engine::precision`]).
fn plan(
    surface: &Surface,
    precision: Precision,
    steps: u64,
    copy: LaneCopy,
) -> Option<(LaneType, LaneCopy)> {
    if copy == LaneCopy::General {
        return None;
    }
    // A formula's interpreter keeps dual numbers of every block's lanes: eight-lane ones do not
    // stay in registers (2-4x slower on a Zen 4, no faster on a Sapphire Rapids Xeon:
    // docs/benchmarks.md), so formulas keep four. f32 and formulas take the AVX2 copy under
    // AVX-512: with four-lane or f32 types in code compiled for AVX-512, LLVM joins pairs of
    // groups into 512-bit registers and shuffles them (measured 1.3-3x slower).
    let blockwise = surface.as_formula().is_some();
    let narrow = copy.min(LaneCopy::Avx2);
    Some(match precision {
        Precision::F32 if steps <= 1 << 24 => (LaneType::F32x8, narrow),
        _ if blockwise || copy < LaneCopy::Avx512 => (LaneType::F64x4, narrow),
        _ => (LaneType::F64x8, LaneCopy::Avx512),
    })
}

/// The engine a batch of `steps` updates on `surface` in `precision` takes in this process (see
/// [`Engine`]).
pub fn engine_for(surface: &Surface, precision: Precision, steps: u64) -> Engine {
    engine_on(LaneCopy::chosen(), surface, precision, steps)
}

/// [`engine_for`] with the process's copy taken to be `copy` (at most what the CPU runs).
pub fn engine_on(copy: LaneCopy, surface: &Surface, precision: Precision, steps: u64) -> Engine {
    let copy = copy.min(LaneCopy::detected());
    match plan(surface, precision, steps, copy) {
        None => Engine {
            engine: LaneCopy::General.name(),
            lanes: 1,
            precision: Precision::F64,
        },
        Some((t, c)) => {
            let (lanes, precision) = match t {
                LaneType::F32x8 => (F32x8::LANES, Precision::F32),
                LaneType::F64x4 => (F64x4::LANES, Precision::F64),
                LaneType::F64x8 => (F64x8::LANES, Precision::F64),
            };
            Engine {
                engine: c.name(),
                lanes,
                precision,
            }
        }
    }
}

/// The engine's copies this process uses on this CPU, for `--version`: e.g. `avx512 (f64 x8),
/// avx2 (formulas f64 x4, f32 x8)`; with what the CPU would run when `OPTISCAPE_LANES` chose
/// less.
pub fn engine_summary() -> String {
    let (chosen, best) = (LaneCopy::chosen(), LaneCopy::detected());
    let mut s = match chosen {
        LaneCopy::General => "general (f64, one run at a time)".to_string(),
        LaneCopy::Avx512 => format!(
            "avx512 (f64 x{}), avx2 (formulas f64 x{}, f32 x{})",
            F64x8::LANES,
            F64x4::LANES,
            F32x8::LANES
        ),
        c => format!(
            "{} (f64 x{}, f32 x{})",
            c.name(),
            F64x4::LANES,
            F32x8::LANES
        ),
    };
    if chosen < best {
        s.push_str(&format!(
            "; OPTISCAPE_LANES chose it, this CPU runs {}",
            best.name()
        ));
    }
    s
}

/// A batch for the lockstep engine.
pub(crate) struct LaneJob<'a> {
    pub surface: &'a Surface,
    pub domain: Domain,
    pub clip: f64,
    pub noise: f64,
    pub starts: &'a [DVec2],
    pub steps: u64,
    pub seed: u64,
    pub target: Target,
    pub precision: Precision,
    pub progress: &'a Progress,
    /// Update counts at which each run's best precision so far is kept (ascending).
    pub budgets: &'a [u64],
    /// The run index of `starts[0]` (seeds follow the run's index in the whole batch).
    pub first_index: usize,
    /// The best copy the batch may use (at most what the CPU runs; not `General`).
    pub copy: LaneCopy,
}

impl LaneVisitor for LaneJob<'_> {
    type Out = Anytime;
    fn visit<U: LaneRule + Sync>(self, rule: &U) -> Anytime {
        let copy = self.copy.min(LaneCopy::detected());
        match plan(self.surface, self.precision, self.steps, copy) {
            Some((LaneType::F32x8, LaneCopy::Baseline)) => self.run::<F32x8, U, Baseline>(rule),
            Some((LaneType::F32x8, _)) => self.run::<F32x8, U, Avx2>(rule),
            Some((LaneType::F64x4, LaneCopy::Baseline)) => self.run::<F64x4, U, Baseline>(rule),
            Some((LaneType::F64x4, _)) => self.run::<F64x4, U, Avx2>(rule),
            Some((LaneType::F64x8, _)) => self.run::<F64x8, U, Avx512>(rule),
            // The caller takes the general engine itself.
            None => self.run::<F64x4, U, Baseline>(rule),
        }
    }
}

/// The surface's part of the lockstep engine: height and gradient at every group's position
/// (`out[i]` for `at[i]`), bit for bit [`LaneEval::eval`]. `scratch` is working memory kept
/// between calls (a formula's dual numbers).
pub(crate) trait GroupEval<R: Real>: Sync {
    fn eval(&self, at: &[V2<R>], out: &mut [(R, V2<R>)], scratch: &mut Vec<Dual<R>>);
}

/// A surface's [`GroupEval`] in the copy `C`.
struct SurfacePass<S, C>(S, PhantomData<C>);

impl<R: Real, S: LaneEval, C: Code> GroupEval<R> for SurfacePass<S, C> {
    fn eval(&self, at: &[V2<R>], out: &mut [(R, V2<R>)], scratch: &mut Vec<Dual<R>>) {
        C::eval::<R, S>(self.0, at, out, scratch)
    }
}

/// Calls a function with the surface's [`GroupEval`] in the copy `C` (the surface's own type
/// stays inside: the rule's part is compiled once for every surface).
struct WithPass<'f, R: Real, C> {
    f: &'f mut dyn FnMut(&dyn GroupEval<R>),
    copy: PhantomData<C>,
}

impl<R: Real, C: Code> LaneSurfaceVisitor for WithPass<'_, R, C> {
    type Out = ();
    fn visit<S: LaneEval>(self, surface: S) {
        (self.f)(&SurfacePass::<S, C>(surface, PhantomData))
    }
}

/// The surface's part, for any copy: compiled surfaces evaluate group after group (the CPU
/// overlaps many groups' square roots and divisions), a formula the whole block at once.
#[inline(always)]
fn eval_pass<R: Real, S: LaneEval>(
    surface: S,
    at: &[V2<R>],
    out: &mut [(R, V2<R>)],
    scratch: &mut Vec<Dual<R>>,
) {
    if S::BLOCKWISE {
        surface.eval_block(at, out, scratch);
    } else {
        for (o, p) in out.iter_mut().zip(at) {
            *o = surface.eval(*p);
            // Keeps the compiler from vectorizing this loop across groups (it would transpose
            // lanes in and out of registers: slower than the lanes as they are).
            compiler_fence(Ordering::SeqCst);
        }
    }
}

/// A copy of the engine's code (see [`LaneCopy`]): its two parts compiled for one instruction
/// set.
trait Code: Send + Sync + 'static {
    fn eval<R: Real, S: LaneEval>(
        surface: S,
        at: &[V2<R>],
        out: &mut [(R, V2<R>)],
        scratch: &mut Vec<Dual<R>>,
    );
    #[allow(clippy::too_many_arguments)]
    fn block<R: Real, U: LaneRule>(
        job: &LaneJob,
        rule: &U,
        surface: &dyn GroupEval<R>,
        shared: &[U::Shared],
        first: usize,
        starts: &[DVec2],
        out: &mut [RunEnd],
        best: &mut [f64],
    );
}

/// The target's baseline (any x86_64 CPU; the only copy on other architectures).
struct Baseline;
/// AVX and AVX2.
struct Avx2;
/// AVX, AVX2 and AVX-512 F, DQ, VL, BW.
struct Avx512;

impl Code for Baseline {
    fn eval<R: Real, S: LaneEval>(
        surface: S,
        at: &[V2<R>],
        out: &mut [(R, V2<R>)],
        scratch: &mut Vec<Dual<R>>,
    ) {
        eval_pass(surface, at, out, scratch)
    }
    fn block<R: Real, U: LaneRule>(
        job: &LaneJob,
        rule: &U,
        surface: &dyn GroupEval<R>,
        shared: &[U::Shared],
        first: usize,
        starts: &[DVec2],
        out: &mut [RunEnd],
        best: &mut [f64],
    ) {
        job.block(rule, surface, shared, first, starts, out, best)
    }
}

/// A copy compiled with `#[target_feature]` on x86_64 (run only where [`LaneCopy::detected`]
/// found the features: `LaneJob::visit` never picks a copy above it); elsewhere the baseline.
macro_rules! feature_copy {
    ($ty:ident, $features:literal, $eval:ident, $block:ident) => {
        impl Code for $ty {
            #[inline(always)]
            fn eval<R: Real, S: LaneEval>(
                surface: S,
                at: &[V2<R>],
                out: &mut [(R, V2<R>)],
                scratch: &mut Vec<Dual<R>>,
            ) {
                // SAFETY: the CPU has the features (see the macro's comment).
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    $eval(surface, at, out, scratch)
                }
                #[cfg(not(target_arch = "x86_64"))]
                eval_pass(surface, at, out, scratch)
            }
            #[inline(always)]
            fn block<R: Real, U: LaneRule>(
                job: &LaneJob,
                rule: &U,
                surface: &dyn GroupEval<R>,
                shared: &[U::Shared],
                first: usize,
                starts: &[DVec2],
                out: &mut [RunEnd],
                best: &mut [f64],
            ) {
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    $block(job, rule, surface, shared, first, starts, out, best)
                }
                #[cfg(not(target_arch = "x86_64"))]
                job.block(rule, surface, shared, first, starts, out, best)
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        fn $eval<R: Real, S: LaneEval>(
            surface: S,
            at: &[V2<R>],
            out: &mut [(R, V2<R>)],
            scratch: &mut Vec<Dual<R>>,
        ) {
            eval_pass(surface, at, out, scratch)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        #[allow(clippy::too_many_arguments)]
        fn $block<R: Real, U: LaneRule>(
            job: &LaneJob,
            rule: &U,
            surface: &dyn GroupEval<R>,
            shared: &[U::Shared],
            first: usize,
            starts: &[DVec2],
            out: &mut [RunEnd],
            best: &mut [f64],
        ) {
            job.block(rule, surface, shared, first, starts, out, best)
        }
    };
}

feature_copy!(Avx2, "avx,avx2", eval_avx2, block_avx2);
feature_copy!(
    Avx512,
    "avx,avx2,avx512f,avx512dq,avx512vl,avx512bw",
    eval_avx512,
    block_avx512
);

/// Steps whose shared values (bias corrections...) are tabulated before a lockstep batch.
const SHARED_TABLE: u64 = 1 << 16;

/// A run's end before the lockstep engine fills it in.
const UNSET: RunEnd = RunEnd {
    start: DVec2::ZERO,
    end: DVec2::ZERO,
    loss: f64::NAN,
    status: RunStatus::Done,
    steps: 0,
    first_success: None,
    first_success_counts: None,
    lowest: f64::INFINITY,
    recent_travel: 0.0,
    evals: 0,
    grads: 0,
    success_value: None,
};

/// Lane groups advanced together, one step at a time: independent work for the CPU to overlap
/// (one group alone is a chain of dependent operations that waits on every square root).
const GROUPS_PER_BLOCK: usize = 32;

/// Most lanes of any lane type.
const MAX_LANES: usize = 8;

/// One lockstep group: `R::LANES` runs.
///
/// Every lane is stepped at every step, finished or not (no branch per lane); a finished
/// lane's own end is kept apart (`end`, `end_loss`, `taken`), written only at the step it
/// finishes, so that the values written back at every step are only those that change: the
/// position, the loss, the gradient and the rule's state.
#[derive(Clone, Copy)]
struct Group<R: Real, St> {
    p: V2<R>,
    /// The position 10% of the steps before the end (see `RunEnd::recent_travel`).
    before: V2<R>,
    alive: R::Mask,
    /// Lanes that ended on a gradient that is not finite at a finite loss (`BadGradient`).
    bad: R::Mask,
    success: R::Mask,
    /// Update count of the first success (-1: none yet).
    first: R,
    /// The loss that first reached the target (see `RunEnd::success_value`).
    first_val: R,
    /// The lowest finite loss inside the domain so far (see `RunEnd::lowest`).
    low: R,
    /// A finished lane's end point, loss and update count (the start's until it finishes).
    end: V2<R>,
    end_loss: R,
    taken: R,
    state: St,
    /// Each lane's random source, seeded as its run's own (`run_seed`).
    rngs: [Rng; MAX_LANES],
}

impl LaneJob<'_> {
    /// The batch in lanes of type `R`, the engine's code in the copy `C`.
    fn run<R: Real, U: LaneRule + Sync, C: Code>(&self, rule: &U) -> Anytime {
        let mut out = None;
        self.surface.visit_lanes(WithPass::<R, C> {
            f: &mut |surface| out = Some(self.run_with::<R, U, C>(rule, surface)),
            copy: PhantomData,
        });
        out.flatten()
    }

    fn run_with<R: Real, U: LaneRule + Sync, C: Code>(
        &self,
        rule: &U,
        surface: &dyn GroupEval<R>,
    ) -> Anytime {
        // What every run shares at each step, computed once, in order (up to a bound on memory).
        let mut shared: Vec<U::Shared> = Vec::new();
        for t in 1..=self.steps.min(SHARED_TABLE) {
            let k = rule.shared(t, shared.last().copied());
            shared.push(k);
        }
        let shared = &shared[..];
        let block = R::LANES * GROUPS_PER_BLOCK;
        // Filled in parallel: the pages of a large result are touched by both cores.
        let mut ends = Vec::new();
        (0..self.starts.len())
            .into_par_iter()
            .map(|_| UNSET)
            .collect_into_vec(&mut ends);
        let nb = self.budgets.len();
        let mut best = vec![0.0; self.starts.len() * nb];
        // With no budgets, `best` is empty: each block gets an empty slice.
        let best_chunks: Vec<&mut [f64]> = if nb == 0 {
            (0..self.starts.len().div_ceil(block))
                .map(|_| <&mut [f64]>::default())
                .collect()
        } else {
            best.chunks_mut(block * nb).collect()
        };
        self.starts
            .par_chunks(block)
            .zip(ends.par_chunks_mut(block))
            .zip(best_chunks.into_par_iter())
            .enumerate()
            .for_each(|(b, ((starts, out), best))| {
                if self.progress.cancelled() {
                    return;
                }
                let first = self.first_index + b * block;
                C::block::<R, U>(self, rule, surface, shared, first, starts, out, best);
                self.progress
                    .done
                    .fetch_add(starts.len(), Ordering::Relaxed);
            });
        (!self.progress.cancelled()).then_some((ends, best))
    }

    /// Up to `GROUPS_PER_BLOCK` groups of `R::LANES` runs in lockstep (`first` is the index of
    /// the first run in the batch): the rule's part of the engine, compiled into each copy
    /// (`Code::block`). Each lane follows `run_batch_scalar`'s run exactly: a lane that
    /// diverges has its last position, loss and step count kept apart (see [`Group`]) while
    /// every lane goes on being stepped.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn block<R: Real, U: LaneRule>(
        &self,
        rule: &U,
        surface: &dyn GroupEval<R>,
        shared: &[U::Shared],
        first: usize,
        starts: &[DVec2],
        out: &mut [RunEnd],
        best_out: &mut [f64],
    ) {
        let c = R::splat;
        // A local copy: its fields are then known not to change, and stay in registers.
        let rule = rule.clone();
        let target = self.target;
        // Success is decided in f64 on the loss as the lanes computed it (widened): the lanes'
        // own test, with a margin for the rounding of f32, only picks the lanes to check.
        let slack = (target.value.abs() + target.tol) * 1e-6;
        let (tv, tol) = (c(target.value), c(target.tol + slack));
        let confirm = |cand: R::Mask, loss: R| -> R::Mask {
            let ok = R::from_fn(|i| {
                let hit = cand.test(i) && loss.lane(i) - target.value <= target.tol;
                if hit { 1.0 } else { 0.0 }
            });
            c(0.5).lt(ok)
        };
        let d = self.domain;
        let (w, h) = (d.width(), d.height());
        let (x_lo, x_hi, y_lo, y_hi) = (c(d.x0 - w), c(d.x1 + w), c(d.y0 - h), c(d.y1 + h));
        let (dx0, dx1, dy0, dy1) = (c(d.x0), c(d.x1), c(d.y0), c(d.y1));
        let (clip, noise) = (self.clip, self.noise);
        let mut scratch = Vec::new();
        let mut at = [V2::splat(0.0); GROUPS_PER_BLOCK];
        let mut evals = [(c(0.0), V2::splat(0.0)); GROUPS_PER_BLOCK];
        let n = starts.len().div_ceil(R::LANES);
        // The starts, evaluated: spare lanes repeat the last start; their results are dropped.
        for (p, starts) in at.iter_mut().zip(starts.chunks(R::LANES)) {
            let last = starts.len() - 1;
            *p = V2::new(
                R::from_fn(|i| starts[i.min(last)].x),
                R::from_fn(|i| starts[i.min(last)].y),
            );
        }
        surface.eval(&at[..n], &mut evals[..n], &mut scratch);
        let mut groups: Vec<Group<R, U::State<R>>> = starts
            .chunks(R::LANES)
            .enumerate()
            .map(|(gi, starts)| {
                let index = |i: usize| first + gi * R::LANES + i.min(starts.len() - 1);
                let rngs = std::array::from_fn(|i| Rng::new(run_seed(self.seed, index(i))));
                let p = at[gi];
                let (loss, grad) = evals[gi];
                let finite = p.x.is_finite() & p.y.is_finite() & loss.is_finite();
                let grad_finite = grad.x.is_finite() & grad.y.is_finite();
                let inside = p.x.ge(dx0) & p.x.le(dx1) & p.y.ge(dy0) & p.y.le(dy1);
                let counted = finite & inside;
                let success = confirm(counted & (loss - tv).le(tol), loss);
                Group {
                    p,
                    before: p,
                    alive: finite & grad_finite,
                    bad: finite & !grad_finite,
                    success,
                    first: R::select(success, c(0.0), c(-1.0)),
                    first_val: R::select(success, loss, c(f64::NAN)),
                    low: R::select(counted, loss, c(f64::INFINITY)),
                    end: p,
                    end_loss: loss,
                    taken: c(0.0),
                    state: rule.fresh::<R>(),
                    rngs,
                }
            })
            .collect();
        let window = (self.steps / 10).max(1);
        let mut k = shared.first().copied();
        let budgets = self.budgets;
        let nb = budgets.len();
        // The lowest loss so far at each budget (ECDFs).
        let mut bests: Vec<R> = vec![c(f64::INFINITY); n * nb];
        let mut next_budget = 0;
        // Where a group has landed after `$done` updates (`g.p`, and the loss and gradient `$e`
        // there, which stay in `evals` until the next evaluation: every lane
        // moves on): a lane that leaves the domain's surroundings or meets a non-finite loss or
        // gradient finishes there, and its end is kept; a lane may reach the target. Both are
        // rare: at most steps, one test of the group's lanes is all they cost. (A macro, not a
        // closure: a closure is its own function, which might be compiled without the target
        // features of the copy it is in.)
        macro_rules! land {
            ($g:expr, $e:expr, $done:expr) => {{
                let g: &mut Group<R, U::State<R>> = $g;
                let done: R = $done;
                let (nl, ngrad): (R, V2<R>) = *$e;
                let np = g.p;
                let alive = g.alive;
                // Not finite, or far outside the domain (`Domain::far_outside`): a NaN
                // coordinate fails every comparison, so it is never "near".
                let near = np.x.ge(x_lo) & np.x.le(x_hi) & np.y.ge(y_lo) & np.y.le(y_hi);
                let finite = nl.is_finite();
                let grad_finite = ngrad.x.is_finite() & ngrad.y.is_finite();
                let inside = np.x.ge(dx0) & np.x.le(dx1) & np.y.ge(dy0) & np.y.le(dy1);
                let counted = alive & finite & inside;
                g.low = R::select(counted, g.low.min(nl), g.low);
                let ending = alive & !(near & finite & grad_finite);
                let candidates = counted & !g.success & (nl - tv).le(tol);
                if (ending | candidates).any() {
                    let newly = confirm(candidates, nl);
                    g.first = R::select(newly, done, g.first);
                    g.first_val = R::select(newly, nl, g.first_val);
                    g.success = g.success | newly;
                    g.bad = g.bad | (ending & near & finite);
                    g.end = V2::select(ending, np, g.end);
                    g.end_loss = R::select(ending, nl, g.end_loss);
                    g.taken = R::select(ending, done, g.taken);
                    g.alive = alive & !ending;
                }
            }};
        }
        // Each step: every group's landing from the step before (none before the first) and its
        // update, in one loop; then the surface evaluated at every group's new position (one
        // call of the surface's pass: compiled surfaces evaluate group after group, so that the
        // CPU overlaps many groups' work; a formula interprets its program once for the block).
        // The last step's landing follows the loop.
        for s in 0..self.steps {
            let ks = match shared.get(s as usize) {
                Some(v) => *v,
                None => rule.shared(s + 1, k),
            };
            k = Some(ks);
            let snapshot = s + window == self.steps;
            let done = c(s as f64);
            for ((g, p), e) in groups.iter_mut().zip(&mut at).zip(&evals) {
                if s > 0 {
                    land!(&mut *g, e, done);
                }
                // The update (clip, noise, the rule), after the lanes that finished are known:
                // `before` is each lane's position 10% of the steps before the end.
                if snapshot {
                    g.before = V2::select(g.alive, g.p, g.before);
                }
                let rngs = &mut g.rngs[..R::LANES.min(MAX_LANES)];
                let grad = clip_by_norm_lanes(e.1, clip);
                let grad = add_noise_lanes(grad, noise, rngs);
                g.p = g.p + rule.update(ks, &mut g.state, g.p, grad, rngs);
                // Finished lanes are evaluated at the origin, harmlessly.
                *p = V2::select(g.alive, g.p, V2::splat(0.0));
            }
            surface.eval(&at[..n], &mut evals[..n], &mut scratch);
            // The best precision after `s` updates is final once they have landed.
            if s > 0 && next_budget < nb && budgets[next_budget] == s {
                for (gi, g) in groups.iter().enumerate() {
                    bests[gi * nb + next_budget] = g.low;
                }
                next_budget += 1;
            }
        }
        if self.steps > 0 {
            let done = c(self.steps as f64);
            for (g, e) in groups.iter_mut().zip(&evals) {
                land!(g, e, done);
            }
            if next_budget < nb && budgets[next_budget] == self.steps {
                for (gi, g) in groups.iter().enumerate() {
                    bests[gi * nb + next_budget] = g.low;
                }
            }
        }
        for ((g, e), out) in groups.iter().zip(&evals).zip(out.chunks_mut(R::LANES)) {
            for (i, o) in out.iter_mut().enumerate() {
                let done = g.alive.test(i);
                let (end, loss, steps) = if done {
                    (g.p.lane(i), e.0.lane(i), self.steps)
                } else {
                    (g.end.lane(i), g.end_loss.lane(i), g.taken.lane(i) as u64)
                };
                let first = g.first.lane(i);
                *o = RunEnd {
                    start: starts[0],
                    end,
                    loss,
                    status: if done {
                        RunStatus::Done
                    } else if g.bad.test(i) {
                        RunStatus::BadGradient
                    } else {
                        RunStatus::Diverged
                    },
                    steps,
                    first_success: (first >= 0.0).then_some(first as u64),
                    first_success_counts: (first >= 0.0).then_some((first as u64, first as u64)),
                    lowest: g.low.lane(i),
                    recent_travel: end.distance(g.before.lane(i)),
                    evals: steps,
                    grads: steps,
                    success_value: (first >= 0.0).then(|| g.first_val.lane(i)),
                };
            }
        }
        for (o, start) in out.iter_mut().zip(starts) {
            o.start = *start;
        }
        for (run, row) in best_out
            .chunks_mut(nb.max(1))
            .enumerate()
            .take(starts.len())
        {
            let (gi, lane) = (run / R::LANES, run % R::LANES);
            for (b, v) in row.iter_mut().enumerate() {
                *v = target.precision(bests[gi * nb + b].lane(lane));
            }
        }
    }
}
