//! One network trained an update at a time, for the sandbox: its update rule chosen at run time
//! (an [`Optimizer`]), the rule's lane form fixed inside, the loop [`Fitting`] that `train` and
//! the slices run. A live run's numbers are those of `train` for the same rule, first
//! parameters and seed, update for update.

/// The most runs per method the sandbox trains at once.
pub const MAX_NET_RUNS: usize = 32;
/// The most updates a network ball makes per frame.
pub const MAX_UPDATES_PER_FRAME: u64 = 200;
/// Updates per frame when none are asked for.
pub const DEFAULT_UPDATES_PER_FRAME: u64 = 10;

use super::data::Dataset;
use super::fit::{FitOptions, FitRun, Fitting};
use super::mlp::Mlp;
use crate::optim::{LaneRule, LaneVisitor, Optimizer};
use std::any::Any;

/// Whether `opt` can train a network: an update rule, without the sandbox's 2D gradient
/// transforms. The error names the method and why (without a prefix).
pub fn trainable(opt: &Optimizer) -> Result<(), String> {
    if opt.is_search() {
        return Err(format!(
            "'{}' asks for evaluations; networks are trained by update rules (race it on a slice, net:DATASET, instead)",
            opt.id
        ));
    }
    if opt.clip != 0.0 || opt.noise != 0.0 {
        return Err(format!(
            "'{}': clip and noise act on a 2D gradient; they are not used in training",
            opt.id
        ));
    }
    Ok(())
}

/// What a live run reports after each update.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LiveState {
    /// Updates made.
    pub updates: u64,
    /// The training loss at the current parameters (the penalty included).
    pub loss: f64,
    pub grad_norm: f64,
    /// Still training (not diverged, below its updates).
    pub going: bool,
    /// The update at which it diverged, if it did.
    pub diverged_at: Option<u64>,
}

trait Live: Send + Sync {
    fn advance(&mut self, net: &Mlp, data: &Dataset, updates: u64) -> LiveState;
    fn state(&self) -> LiveState;
    fn params(&self) -> Vec<f64>;
    fn run(&self) -> &FitRun;
    fn evaluate(&mut self, net: &Mlp, data: &Dataset) -> (f64, f64, f64);
    fn retune(&mut self, opt: &Optimizer) -> bool;
}

struct One<U: LaneRule> {
    rule: U,
    fit: Fitting<f64, U>,
    going: bool,
}

impl<U: LaneRule> Live for One<U> {
    fn advance(&mut self, net: &Mlp, data: &Dataset, updates: u64) -> LiveState {
        for _ in 0..updates {
            if !self.going {
                break;
            }
            self.fit.update(&self.rule);
            self.going = self.fit.observe(net, data);
        }
        self.state()
    }

    fn state(&self) -> LiveState {
        let run = self.fit.run(0);
        LiveState {
            updates: self.fit.updates(),
            loss: self.fit.loss(0),
            grad_norm: self.fit.grad_norm(0),
            going: self.going,
            diverged_at: run.diverged_at,
        }
    }

    fn params(&self) -> Vec<f64> {
        self.fit.params(0)
    }

    fn run(&self) -> &FitRun {
        self.fit.run(0)
    }

    fn evaluate(&mut self, net: &Mlp, data: &Dataset) -> (f64, f64, f64) {
        self.fit.evaluate(net, data)
    }

    fn retune(&mut self, opt: &Optimizer) -> bool {
        struct Take<'a, U>(&'a mut U);
        impl<U: LaneRule> LaneVisitor for Take<'_, U> {
            type Out = bool;
            fn visit<V: LaneRule + Sync>(self, rule: &V) -> bool {
                match (rule as &dyn Any).downcast_ref::<U>() {
                    Some(r) => {
                        *self.0 = r.clone();
                        true
                    }
                    None => false,
                }
            }
        }
        opt.rule.visit_lanes(Take(&mut self.rule))
    }
}

/// One network in training (f64), stepped by the caller.
pub struct LiveFit(Box<dyn Live>);

impl std::fmt::Debug for LiveFit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveFit").field(&self.0.state()).finish()
    }
}

impl LiveFit {
    /// A run of `opt`'s rule from `init`, its noise seeded by `seed`, for at most `steps`
    /// updates, with its loss at `init` already observed.
    pub fn new(
        opt: &Optimizer,
        net: &Mlp,
        data: &Dataset,
        init: Vec<f64>,
        seed: u64,
        steps: u64,
    ) -> Result<Self, String> {
        trainable(opt)?;
        if init.len() != net.params() {
            return Err(format!(
                "{} parameters given for a network of {}",
                init.len(),
                net.params()
            ));
        }
        struct Make<'a> {
            net: &'a Mlp,
            data: &'a Dataset,
            init: Vec<f64>,
            seed: u64,
            steps: u64,
        }
        impl LaneVisitor for Make<'_> {
            type Out = Box<dyn Live>;
            fn visit<U: LaneRule + Sync>(self, rule: &U) -> Box<dyn Live> {
                let opts = FitOptions {
                    steps: self.steps,
                    keep_weights: false,
                    path_every: 0,
                };
                let mut fit =
                    Fitting::<f64, U>::new(self.net, rule, &[self.init], &[self.seed], opts);
                let going = fit.observe(self.net, self.data);
                Box::new(One {
                    rule: rule.clone(),
                    fit,
                    going,
                })
            }
        }
        Ok(Self(opt.rule.visit_lanes(Make {
            net,
            data,
            init,
            seed,
            steps,
        })))
    }

    /// Up to `updates` more updates (fewer when the run stops); the state after them.
    pub fn advance(&mut self, net: &Mlp, data: &Dataset, updates: u64) -> LiveState {
        self.0.advance(net, data, updates)
    }

    pub fn state(&self) -> LiveState {
        self.0.state()
    }

    /// The current parameters (`nn.Linear` order).
    pub fn params(&self) -> Vec<f64> {
        self.0.params()
    }

    /// The run's record so far: its trail of falls of the lowest loss, the update it diverged.
    pub fn run(&self) -> &FitRun {
        self.0.run()
    }

    /// Takes `opt`'s hyperparameters from the next update on (the rule's state is kept, as
    /// torch keeps it when a `param_group`'s values change). False, and nothing changed, when
    /// `opt` is another rule.
    pub fn retune(&mut self, opt: &Optimizer) -> bool {
        self.0.retune(opt)
    }

    /// Training accuracy, test loss and test accuracy at the current parameters.
    pub fn evaluate(&mut self, net: &Mlp, data: &Dataset) -> (f64, f64, f64) {
        self.0.evaluate(net, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::train::TrainSpec;
    use crate::net::fit_group;
    use crate::optim::{Adam, Optimizer};
    use std::sync::atomic::AtomicBool;

    #[test]
    fn a_live_run_is_the_training_loop_update_for_update() {
        let spec = TrainSpec {
            data: Some("moons".into()),
            starts: Some("1".into()),
            steps: Some("60".into()),
            ..Default::default()
        };
        let (setup, _) = spec.setup().unwrap();
        let init = setup.init_of(0);
        let mut adam = Adam::new(false, false);
        adam.lr = 0.02;
        let opts = FitOptions {
            steps: 60,
            keep_weights: true,
            path_every: 0,
        };
        let never = AtomicBool::new(false);
        let whole = fit_group::<f64, Adam>(
            &setup.net,
            &setup.data,
            &adam,
            std::slice::from_ref(&init),
            &[7],
            opts,
            &never,
        );
        let mut opt = Optimizer::by_id("adam").unwrap();
        crate::setup::apply_settings(&mut opt, &["lr=0.02".to_string()]).unwrap();
        let mut live = LiveFit::new(&opt, &setup.net, &setup.data, init, 7, 60).unwrap();
        let mut s = live.state();
        while s.going {
            s = live.advance(&setup.net, &setup.data, 7);
        }
        assert_eq!(s.updates, 60);
        assert_eq!(live.params(), whole[0].weights);
        assert_eq!(live.run().trail, whole[0].trail);
        assert_eq!(s.loss, whole[0].final_loss);
        let (_, test_loss, test_acc) = live.evaluate(&setup.net, &setup.data);
        assert_eq!(
            (test_loss, test_acc),
            (whole[0].test_loss, whole[0].test_accuracy)
        );
    }

    #[test]
    fn search_methods_and_gradient_transforms_are_refused() {
        let spec = TrainSpec::default();
        let (setup, _) = spec.setup().unwrap();
        let init = setup.init_of(0);
        let cma = Optimizer::by_id("cma-es").unwrap();
        let e = LiveFit::new(&cma, &setup.net, &setup.data, init.clone(), 0, 10).unwrap_err();
        assert!(e.contains("asks for evaluations"), "{e}");
        let mut sgd = Optimizer::by_id("sgd").unwrap();
        sgd.clip = 1.0;
        let e = LiveFit::new(&sgd, &setup.net, &setup.data, init, 0, 10).unwrap_err();
        assert!(e.contains("clip and noise"), "{e}");
    }

    #[test]
    fn a_diverging_live_run_stops_and_says_when() {
        let (setup, _) = TrainSpec::default().setup().unwrap();
        let mut opt = Optimizer::by_id("sgd").unwrap();
        crate::setup::apply_settings(&mut opt, &["lr=1e6".to_string()]).unwrap();
        let mut live =
            LiveFit::new(&opt, &setup.net, &setup.data, setup.init_of(0), 0, 500).unwrap();
        let s = live.advance(&setup.net, &setup.data, 500);
        assert!(!s.going);
        assert!(s.diverged_at.is_some() && s.updates < 500, "{s:?}");
        // It does not move once stopped, and takes no other rule.
        assert!(!live.retune(&Optimizer::by_id("adam").unwrap()));
        let mut slower = opt.clone();
        crate::setup::apply_settings(&mut slower, &["lr=0.5".to_string()]).unwrap();
        assert!(live.retune(&slower));
        assert_eq!(live.advance(&setup.net, &setup.data, 5).updates, s.updates);
    }
}
