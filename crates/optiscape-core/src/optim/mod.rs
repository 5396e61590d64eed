//! How one step is taken: update rules (hyperparameters + state + one pure update), the
//! gradient transforms that compose in front of them, and the catalog of methods and presets.
//! Plain Rust, no Bevy types: the sandbox's balls and the lab's batches run this same code.

mod adam;
mod adaptive;
mod colors;
pub mod params;
mod powers;
pub mod rng;
pub mod search;
mod sgd;
pub mod transforms;
mod vector;

pub use adam::{AdaBelief, Adam, Adamax, Lion, Nadam, Radam};
pub use adaptive::{Adadelta, Adagrad, Rmsprop, SeedAdagrad};
pub use colors::method_color;
pub use params::{Choice, Param, ParamKind, ParamMut, ParamSpec};
pub use rng::Rng;
pub use search::{Goal, Oracle, Search, SearchMethod, Watch};
pub use sgd::{Langevin, MomentumSgd, NotebookMomentum, Sgd};
pub use vector::VectorState;

use crate::lanes::{Real, V2};
use glam::DVec2;
use serde::{Deserialize, Serialize};

/// One update rule: hyperparameters (plain fields, PyTorch's names), state, and one update.
pub trait UpdateRule {
    /// Takes the (already transformed) gradient at `pos` and returns the displacement
    /// `theta_new - theta`. `pos` is needed for weight decay; `rng` only by noisy rules.
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2;
    /// Forgets all state (as if no step had been taken); keeps the hyperparameters.
    fn reset(&mut self);
    /// The hyperparameters, as named, described and mutable values.
    fn params(&mut self) -> Vec<Param<'_>>;
    /// The state, named as torch names it, for the inspector.
    fn state(&self) -> Vec<(&'static str, StateValue)>;
}

/// An update rule written once for any lane type ([`crate::lanes::Real`]): `f64` for a ball
/// or `trace` (its [`UpdateRule::step`] calls `update`), four or eight runs side by side for the
/// lab's lockstep batches. Runs of a batch start together, so what depends only on the step
/// number (bias corrections, decayed learning rates) is computed once per step for all lanes.
pub trait LaneRule: Clone + Send + Sync + 'static {
    /// Per-run state, one field per torch state tensor.
    type State<R: Real>: Copy + Send + Sync;
    /// What all runs share at one step.
    type Shared: Copy + Send + Sync;
    /// The state before the first step.
    fn fresh<R: Real>(&self) -> Self::State<R>;
    /// The shared values for update number `t` (from 1); `prev` is update `t - 1`'s, when the
    /// caller has it (schedules that are products, like NAdam's or a cooling temperature, run
    /// on from it in the same order of operations as a single run; without it they start over).
    fn shared(&self, t: u64, prev: Option<Self::Shared>) -> Self::Shared;
    /// One update of every lane: returns the displacement. `rng` holds one random source per
    /// lane (only noisy rules draw from it).
    fn update<R: Real>(
        &self,
        k: Self::Shared,
        state: &mut Self::State<R>,
        pos: V2<R>,
        grad: V2<R>,
        rng: &mut [Rng],
    ) -> V2<R>;
}

/// Something done with a rule that has a [`LaneRule`] form ([`Rule::visit_lanes`]).
pub trait LaneVisitor {
    type Out;
    fn visit<U: LaneRule + Sync>(self, rule: &U) -> Self::Out;
}

/// One entry of a rule's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StateValue {
    Vec(DVec2),
    Scalar(f64),
    Count(u64),
    /// A word or phrase (e.g. the last move of a simplex).
    Text(&'static str),
}

/// Every update rule, with its hyperparameters and state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    Sgd(Sgd),
    HeavyBall(MomentumSgd),
    Nesterov(MomentumSgd),
    Adagrad(Adagrad),
    Adadelta(Adadelta),
    Rmsprop(Rmsprop),
    Adam(Adam),
    Adamw(Adam),
    Amsgrad(Adam),
    Adamax(Adamax),
    Nadam(Nadam),
    Radam(Radam),
    Lion(Lion),
    Adabelief(AdaBelief),
    Langevin(Langevin),
    Momentum(NotebookMomentum),
    SeedAdagrad(SeedAdagrad),
}

macro_rules! each_rule {
    ($value:expr, $r:ident => $body:expr) => {
        match $value {
            Rule::Sgd($r) => $body,
            Rule::HeavyBall($r) | Rule::Nesterov($r) => $body,
            Rule::Adagrad($r) => $body,
            Rule::Adadelta($r) => $body,
            Rule::Rmsprop($r) => $body,
            Rule::Adam($r) | Rule::Adamw($r) | Rule::Amsgrad($r) => $body,
            Rule::Adamax($r) => $body,
            Rule::Nadam($r) => $body,
            Rule::Radam($r) => $body,
            Rule::Lion($r) => $body,
            Rule::Adabelief($r) => $body,
            Rule::Langevin($r) => $body,
            Rule::Momentum($r) => $body,
            Rule::SeedAdagrad($r) => $body,
        }
    };
}

impl Rule {
    /// The rule with this name and its documented defaults.
    pub fn by_name(name: &str) -> Option<Self> {
        Some(match name {
            "sgd" => Rule::Sgd(Sgd::default()),
            "heavy-ball" => Rule::HeavyBall(MomentumSgd::new(false)),
            "nesterov" => Rule::Nesterov(MomentumSgd::new(true)),
            "adagrad" => Rule::Adagrad(Adagrad::default()),
            "adadelta" => Rule::Adadelta(Adadelta::default()),
            "rmsprop" => Rule::Rmsprop(Rmsprop::default()),
            "adam" => Rule::Adam(Adam::new(false, false)),
            "adamw" => Rule::Adamw(Adam::new(false, true)),
            "amsgrad" => Rule::Amsgrad(Adam::new(true, false)),
            "adamax" => Rule::Adamax(Adamax::default()),
            "nadam" => Rule::Nadam(Nadam::default()),
            "radam" => Rule::Radam(Radam::default()),
            "lion" => Rule::Lion(Lion::default()),
            "adabelief" => Rule::Adabelief(AdaBelief::default()),
            "langevin" => Rule::Langevin(Langevin::default()),
            "momentum" => Rule::Momentum(NotebookMomentum::default()),
            "seed-adagrad" => Rule::SeedAdagrad(SeedAdagrad::default()),
            _ => return None,
        })
    }

    /// The rule's name, as `by_name` takes it.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Sgd(_) => "sgd",
            Rule::HeavyBall(_) => "heavy-ball",
            Rule::Nesterov(_) => "nesterov",
            Rule::Adagrad(_) => "adagrad",
            Rule::Adadelta(_) => "adadelta",
            Rule::Rmsprop(_) => "rmsprop",
            Rule::Adam(_) => "adam",
            Rule::Adamw(_) => "adamw",
            Rule::Amsgrad(_) => "amsgrad",
            Rule::Adamax(_) => "adamax",
            Rule::Nadam(_) => "nadam",
            Rule::Radam(_) => "radam",
            Rule::Lion(_) => "lion",
            Rule::Adabelief(_) => "adabelief",
            Rule::Langevin(_) => "langevin",
            Rule::Momentum(_) => "momentum",
            Rule::SeedAdagrad(_) => "seed-adagrad",
        }
    }
}

impl Rule {
    /// Calls `v` with this rule's [`LaneRule`] form (every rule has one).
    pub fn visit_lanes<V: LaneVisitor>(&self, v: V) -> V::Out {
        each_rule!(self, r => v.visit(r))
    }
}

impl UpdateRule for Rule {
    #[inline]
    fn step(&mut self, pos: DVec2, grad: DVec2, rng: &mut Rng) -> DVec2 {
        each_rule!(self, r => r.step(pos, grad, rng))
    }

    fn reset(&mut self) {
        each_rule!(self, r => r.reset())
    }

    fn params(&mut self) -> Vec<Param<'_>> {
        each_rule!(self, r => r.params())
    }

    fn state(&self) -> Vec<(&'static str, StateValue)> {
        each_rule!(self, r => r.state())
    }
}

static CLIP: ParamSpec = ParamSpec::non_negative(
    "clip",
    "clip the gradient to this Euclidean norm before the rule sees it (0 = off)",
    20.0,
);
static NOISE: ParamSpec = ParamSpec::non_negative(
    "noise",
    "standard deviation of Gaussian noise added to the gradient after clipping (0 = off)",
    5.0,
);
static STEPS_PER_FRAME: ParamSpec = ParamSpec::count(
    "steps_per_frame",
    "updates per animation frame (the notebook ran AdaDelta 10 times per frame)",
    50.0,
);

/// A method ready to run: an update rule with the gradient transforms in front of it, or a method
/// that asks for evaluations ([`Search`]); the random source for noise (or for the method's own
/// draws), and how many steps make one animation frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Optimizer {
    /// The method's id in the catalog (a rule name or a preset such as `seed:adadelta`).
    pub id: String,
    /// The update rule (for a [`Search`] method it is not used: plain SGD stands in).
    pub rule: Rule,
    /// A method that asks for evaluations instead of an update rule: one step is one of its
    /// iterations ([`Optimizer::iterate`]). Boxed: a search method's state is hundreds of
    /// bytes, and every ball of an update rule would carry it (the sandbox holds 100,000 balls).
    #[serde(default)]
    pub search: Option<Box<Search>>,
    /// A budget in evaluations for a method that asks for them (see [`EvalBudget`]); `None`:
    /// the run's steps are its only limit.
    #[serde(default)]
    pub budget: Option<EvalBudget>,
    /// Max gradient norm; 0 = off.
    pub clip: f64,
    /// Std of the gradient noise; 0 = off.
    pub noise: f64,
    pub steps_per_frame: u32,
    /// Seed of the random source used by `noise` and by noisy rules.
    pub seed: u64,
    rng: Rng,
    started: bool,
}

impl Optimizer {
    pub fn new(id: impl Into<String>, rule: Rule) -> Self {
        Self {
            id: id.into(),
            rule,
            clip: 0.0,
            noise: 0.0,
            steps_per_frame: 1,
            seed: 0,
            rng: Rng::new(0),
            started: false,
            search: None,
            budget: None,
        }
    }

    /// This method with a budget of `evals` evaluations on the one cost scale (a gradient with
    /// its value costing `grad_cost`), and the steps to run it for: an update rule costs
    /// `grad_cost` per update, so it gets `evals / grad_cost` updates and no budget of its own
    /// (its lockstep lanes stay exact); a method that asks for evaluations gets the budget and
    /// up to `evals` iterations (each asks for at least one, until its own stopping test holds).
    pub fn with_eval_budget(&self, evals: u64, grad_cost: u64) -> (Optimizer, u64) {
        let mut o = self.clone();
        if o.is_search() {
            o.budget = Some(EvalBudget { evals, grad_cost });
            (o, evals)
        } else {
            o.budget = None;
            (o, evals / grad_cost.max(1))
        }
    }

    /// Whether a run that has asked for `evals` values and `grads` gradients has spent its
    /// budget (never without one).
    pub fn spent(&self, evals: u64, grads: u64) -> bool {
        self.budget
            .is_some_and(|b| evals + grads * b.grad_cost.saturating_sub(1) >= b.evals)
    }

    /// A method that asks for evaluations, under its catalog id.
    pub fn searching(id: impl Into<String>, search: Search) -> Self {
        Self {
            search: Some(Box::new(search)),
            ..Self::new(id, Rule::Sgd(Sgd::default()))
        }
    }

    /// Whether this is a method that asks for evaluations (it has no lockstep form: the lab runs
    /// it through the general engine).
    pub fn is_search(&self) -> bool {
        self.search.is_some()
    }

    /// One iteration of a [`Search`] method on the surface behind `oracle`; the first call
    /// starts the run at `pos`. Returns `None` for an update rule.
    pub fn iterate(&mut self, pos: DVec2, oracle: &mut Oracle) -> Option<&Search> {
        if !self.started {
            self.reset();
            self.started = true;
            let search = self.search.as_mut()?;
            search.begin(pos, oracle, &mut self.rng);
        }
        let search = self.search.as_mut()?;
        search.iterate(oracle, &mut self.rng);
        Some(&**search)
    }

    /// The catalog's method or preset with this id, with its defaults.
    pub fn by_id(id: &str) -> Option<Self> {
        catalog().iter().find(|m| m.id == id).map(|m| (m.build)())
    }

    /// The same method with another noise seed (for balls that must not share noise).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.rng = Rng::new(seed);
        self
    }

    /// One update: clip, then noise, then the rule. Returns the displacement. The first call
    /// starts from fresh state built from the current hyperparameters.
    #[inline]
    pub fn step(&mut self, pos: DVec2, grad: DVec2) -> DVec2 {
        if !self.started {
            self.reset();
            self.started = true;
        }
        let g = transforms::clip_by_norm(grad, self.clip);
        let g = transforms::add_noise(g, self.noise, &mut self.rng);
        self.rule.step(pos, g, &mut self.rng)
    }

    /// Forgets all state and rewinds the random source; keeps every hyperparameter.
    pub fn reset(&mut self) {
        self.rule.reset();
        if let Some(s) = self.search.as_mut() {
            s.reset();
        }
        self.rng = Rng::new(self.seed);
        self.started = false;
    }

    /// Every hyperparameter: the rule's, then `clip`, `noise` and `steps_per_frame` (a
    /// [`Search`] method's own, then `steps_per_frame`).
    pub fn params(&mut self) -> Vec<Param<'_>> {
        if let Some(s) = self.search.as_mut() {
            let mut v = s.params();
            v.push(Param::count(&STEPS_PER_FRAME, &mut self.steps_per_frame));
            return v;
        }
        let mut v = self.rule.params();
        v.push(Param::num(&CLIP, &mut self.clip));
        v.push(Param::num(&NOISE, &mut self.noise));
        v.push(Param::count(&STEPS_PER_FRAME, &mut self.steps_per_frame));
        v
    }

    /// The rule's state, for the inspector.
    pub fn state(&self) -> Vec<(&'static str, StateValue)> {
        match &self.search {
            Some(s) => s.state(),
            None => self.rule.state(),
        }
    }

    /// Sets one hyperparameter from text (`--set name=value`); on error nothing changes and the
    /// message names the parameter, what it expects, and the valid names.
    ///
    /// `beta1` and `beta2` name the two `betas` one at a time, where the rule has them.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let id = self.id.clone();
        let mut params = self.params();
        let names: Vec<&'static str> = params.iter().map(|p| p.spec.name).collect();
        let component = match name {
            "beta1" => Some(0),
            "beta2" => Some(1),
            _ => None,
        };
        if let Some(i) = component
            && let Some(p) = params.iter_mut().find(|p| p.spec.name == "betas")
        {
            let v: f64 = value
                .trim()
                .parse()
                .map_err(|_| format!("{name} expects a number, got '{}'", value.trim()))?;
            p.spec.check(v).map_err(|e| format!("{name}: {e}"))?;
            if let ParamMut::Pair(pair) = &mut p.value {
                pair[i] = v;
                return Ok(());
            }
        }
        match params.iter_mut().find(|p| p.spec.name == name) {
            Some(p) => p.set_text(value),
            None => {
                let mut known: Vec<&str> = names.clone();
                if names.contains(&"betas") {
                    known.extend(["beta1", "beta2"]);
                }
                Err(format!(
                    "method '{id}' has no parameter '{name}' (it has: {})",
                    known.join(", ")
                ))
            }
        }
    }

    /// The value of one hyperparameter, as text.
    pub fn get(&mut self, name: &str) -> Option<String> {
        self.params()
            .iter()
            .find(|p| p.spec.name == name)
            .map(|p| p.text())
    }

    /// The learning rate, where the rule has one.
    pub fn lr(&mut self) -> Option<f64> {
        self.params()
            .iter()
            .find_map(|p| match (&p.value, p.spec.name) {
                (ParamMut::Num(v), "lr") => Some(**v),
                _ => None,
            })
    }

    /// Copies every hyperparameter of `other` (same rule) into this optimizer, keeping this
    /// one's state: "apply these settings to the balls already running".
    pub fn copy_hyperparameters(&mut self, other: &Optimizer) {
        let mut src = other.clone();
        let src_params = src.params();
        for p in self.params().iter_mut() {
            if let Some(q) = src_params.iter().find(|q| q.spec.name == p.spec.name) {
                p.copy_from(q);
            }
        }
    }
}

impl Default for Optimizer {
    /// Plain SGD with torch's defaults.
    fn default() -> Self {
        Self::new("sgd", Rule::Sgd(Sgd::default()))
    }
}

/// A budget in evaluations on the one cost scale: a function value costs 1, a gradient with its
/// value `grad_cost`. A run stops at the end of the iteration in which it reaches `evals` (at
/// most one iteration over, as SciPy's `maxfun` is checked between evaluations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalBudget {
    pub evals: u64,
    pub grad_cost: u64,
}

/// A catalog entry: a rule with its defaults, or a preset (a rule with chosen settings).
pub struct MethodInfo {
    pub id: &'static str,
    pub label: &'static str,
    /// Where the update rule is defined.
    pub reference: &'static str,
    pub note: &'static str,
    pub build: fn() -> Optimizer,
}

/// Every method and preset, in menu order: the rules, the methods that ask for evaluations,
/// then the notebook's five runs.
pub fn catalog() -> &'static [MethodInfo] {
    &CATALOG
}

/// The ids of the notebook's five runs, in the notebook's order.
pub const NOTEBOOK_PRESETS: [&str; 5] = [
    "seed:sgd",
    "seed:momentum",
    "seed:adagrad",
    "seed:adagrad-finetune",
    "seed:adadelta",
];

fn rule(name: &str) -> Optimizer {
    Optimizer::new(
        name,
        Rule::by_name(name).expect("catalog names are rule names"),
    )
}

fn search(name: &str) -> Optimizer {
    Optimizer::searching(
        name,
        Search::by_name(name).expect("catalog names are search names"),
    )
}

fn preset(id: &str, rule_name: &str, settings: &[(&str, &str)]) -> Optimizer {
    let mut o = rule(rule_name);
    o.id = id.to_string();
    for (k, v) in settings {
        o.set(k, v).expect("preset settings are valid");
    }
    o
}

static CATALOG: [MethodInfo; 30] = [
    MethodInfo {
        id: "sgd",
        label: "SGD",
        reference: "torch.optim.SGD",
        note: "plain gradient descent",
        build: || rule("sgd"),
    },
    MethodInfo {
        id: "heavy-ball",
        label: "Heavy ball",
        reference: "torch.optim.SGD(momentum=0.9, dampening=0)",
        note: "Polyak momentum: rolls through small dips",
        build: || rule("heavy-ball"),
    },
    MethodInfo {
        id: "nesterov",
        label: "Nesterov",
        reference: "torch.optim.SGD(momentum=0.9, nesterov=True)",
        note: "momentum with a look-ahead gradient",
        build: || rule("nesterov"),
    },
    MethodInfo {
        id: "adagrad",
        label: "AdaGrad",
        reference: "torch.optim.Adagrad",
        note: "steps shrink with the sum of squared gradients",
        build: || rule("adagrad"),
    },
    MethodInfo {
        id: "adadelta",
        label: "AdaDelta",
        reference: "torch.optim.Adadelta",
        note: "unit-corrected running averages, no learning rate to tune",
        build: || rule("adadelta"),
    },
    MethodInfo {
        id: "rmsprop",
        label: "RMSprop",
        reference: "torch.optim.RMSprop",
        note: "steps scaled by a running RMS of the gradient",
        build: || rule("rmsprop"),
    },
    MethodInfo {
        id: "adam",
        label: "Adam",
        reference: "torch.optim.Adam",
        note: "momentum plus RMS scaling, bias-corrected",
        build: || rule("adam"),
    },
    MethodInfo {
        id: "adamw",
        label: "AdamW",
        reference: "torch.optim.AdamW",
        note: "Adam with decoupled weight decay (pulls toward the origin)",
        build: || rule("adamw"),
    },
    MethodInfo {
        id: "amsgrad",
        label: "AMSGrad",
        reference: "torch.optim.Adam(amsgrad=True)",
        note: "Adam whose second moment never decreases",
        build: || rule("amsgrad"),
    },
    MethodInfo {
        id: "adamax",
        label: "Adamax",
        reference: "torch.optim.Adamax",
        note: "Adam with an infinity-norm second moment",
        build: || rule("adamax"),
    },
    MethodInfo {
        id: "nadam",
        label: "NAdam",
        reference: "torch.optim.NAdam",
        note: "Adam with Nesterov momentum",
        build: || rule("nadam"),
    },
    MethodInfo {
        id: "radam",
        label: "RAdam",
        reference: "torch.optim.RAdam",
        note: "Adam with a rectified warm-up",
        build: || rule("radam"),
    },
    MethodInfo {
        id: "lion",
        label: "Lion",
        reference: "Chen et al. 2023, Algorithm 2; optax.lion",
        note: "sign of an interpolated momentum: fixed-size steps",
        build: || rule("lion"),
    },
    MethodInfo {
        id: "adabelief",
        label: "AdaBelief",
        reference: "Zhuang et al. 2020, Algorithm 2",
        note: "steps scaled by the surprise of the gradient",
        build: || rule("adabelief"),
    },
    MethodInfo {
        id: "langevin",
        label: "Langevin",
        reference: "Welling & Teh 2011 (full-batch)",
        note: "SGD plus cooling Gaussian noise: hops out of local minima",
        build: || rule("langevin"),
    },
    MethodInfo {
        id: "momentum",
        label: "Momentum (notebook)",
        reference: "the notebook's momentum_updates",
        note: "moves with the velocity from before the step",
        build: || rule("momentum"),
    },
    MethodInfo {
        id: "seed-adagrad",
        label: "AdaGrad (notebook)",
        reference: "the notebook's ada_updates(method=\"ADAGRAD\")",
        note: "accumulator from 1, with optional forgetting",
        build: || rule("seed-adagrad"),
    },
    MethodInfo {
        id: "nelder-mead",
        label: "Nelder–Mead",
        reference: "scipy.optimize.minimize(method=\"Nelder-Mead\")",
        note: "a triangle that reflects, expands and shrinks: no gradient",
        build: || search("nelder-mead"),
    },
    MethodInfo {
        id: "bfgs",
        label: "BFGS",
        reference: "scipy.optimize.minimize(method=\"BFGS\")",
        note: "quasi-Newton with a Wolfe line search",
        build: || search("bfgs"),
    },
    MethodInfo {
        id: "basin-hopping",
        label: "Basin hopping",
        reference: "scipy.optimize.basinhopping",
        note: "random hops, each followed by BFGS, kept by Metropolis",
        build: || search("basin-hopping"),
    },
    MethodInfo {
        id: "annealing",
        label: "Dual annealing",
        reference: "scipy.optimize.dual_annealing",
        note: "long-tailed jumps that cool down, with local searches",
        build: || search("annealing"),
    },
    MethodInfo {
        id: "cma-es",
        label: "CMA-ES",
        reference: "Hansen's tutorial (2016) with pycma's constants; IPOP/BIPOP restarts",
        note: "a Gaussian population that learns the landscape's shape",
        build: || search("cma-es"),
    },
    MethodInfo {
        id: "differential-evolution",
        label: "Differential evolution",
        reference: "scipy.optimize.differential_evolution",
        note: "a population mixing differences of its members (best1bin)",
        build: || search("differential-evolution"),
    },
    MethodInfo {
        id: "random-search",
        label: "Random search",
        reference: "uniform samples over the domain, the best kept",
        note: "the baseline: no model at all",
        build: || search("random-search"),
    },
    MethodInfo {
        id: "multistart",
        label: "Multistart BFGS",
        reference: "BFGS (SciPy's) restarted from uniform points",
        note: "the baseline: local search, again and again",
        build: || search("multistart"),
    },
    MethodInfo {
        id: "seed:sgd",
        label: "SGD (nb)",
        reference: "the notebook, cell 181",
        note: "sgd, lr 0.2",
        build: || preset("seed:sgd", "sgd", &[("lr", "0.2")]),
    },
    MethodInfo {
        id: "seed:momentum",
        label: "Momentum (nb)",
        reference: "the notebook, cell 182",
        note: "momentum, lr 0.2, momentum 0.2",
        build: || {
            preset(
                "seed:momentum",
                "momentum",
                &[("lr", "0.2"), ("momentum", "0.2")],
            )
        },
    },
    MethodInfo {
        id: "seed:adagrad",
        label: "AdaGrad (nb)",
        reference: "the notebook, cell 183",
        note: "seed-adagrad, lr 0.5, decay 0.1, clip 5",
        build: || {
            preset(
                "seed:adagrad",
                "seed-adagrad",
                &[("lr", "0.5"), ("decay", "0.1"), ("clip", "5")],
            )
        },
    },
    MethodInfo {
        id: "seed:adagrad-finetune",
        label: "AdaGrad fine-tune (nb)",
        reference: "the notebook, cell 184",
        note: "seed-adagrad, lr 0.3, decay 0, clip 5",
        build: || {
            preset(
                "seed:adagrad-finetune",
                "seed-adagrad",
                &[("lr", "0.3"), ("decay", "0"), ("clip", "5")],
            )
        },
    },
    MethodInfo {
        id: "seed:adadelta",
        label: "AdaDelta (nb)",
        reference: "the notebook, cell 200",
        note: "adadelta, lr 1, rho 0.5, eps 1e-6, clip 5, 10 steps per frame",
        build: || {
            preset(
                "seed:adadelta",
                "adadelta",
                &[
                    ("lr", "1"),
                    ("rho", "0.5"),
                    ("eps", "1e-6"),
                    ("clip", "5"),
                    ("steps_per_frame", "10"),
                ],
            )
        },
    },
];
