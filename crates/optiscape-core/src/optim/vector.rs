//! An update rule on a vector of parameters: the same [`LaneRule`] code that moves a ball,
//! applied to the parameters two at a time (a rule's `V2` holds two coordinates; every rule
//! here treats each coordinate on its own, as torch.optim does for each element of a tensor).
//! Each lane is another vector (another network of a group trained in lockstep).

use super::{LaneRule, Rng};
use crate::lanes::{Real, V2};

/// A rule's state for a vector of parameters, and its step count.
pub struct VectorState<U: LaneRule, R: Real> {
    state: Vec<U::State<R>>,
    shared: Option<U::Shared>,
    t: u64,
}

impl<U: LaneRule, R: Real> VectorState<U, R> {
    /// The state before the first update of `params` parameters.
    pub fn new(rule: &U, params: usize) -> Self {
        Self {
            state: vec![rule.fresh::<R>(); params.div_ceil(2)],
            shared: None,
            t: 0,
        }
    }

    /// Updates made.
    pub fn updates(&self) -> u64 {
        self.t
    }

    /// One update of `theta` (`theta[i]`: parameter `i` of every lane) by the rule, given the
    /// gradient at `theta`. `rngs` holds one random source per lane (only noisy rules draw).
    #[inline(always)]
    pub fn step(&mut self, rule: &U, theta: &mut [R], grad: &[R], rngs: &mut [Rng]) {
        self.t += 1;
        let k = rule.shared(self.t, self.shared);
        self.shared = Some(k);
        let n = theta.len();
        let zero = R::splat(0.0);
        for (i, st) in self.state.iter_mut().enumerate() {
            let (a, b) = (2 * i, 2 * i + 1);
            let (pb, gb) = if b < n {
                (theta[b], grad[b])
            } else {
                (zero, zero)
            };
            let d = rule.update(k, st, V2::new(theta[a], pb), V2::new(grad[a], gb), rngs);
            theta[a] = theta[a] + d.x;
            if b < n {
                theta[b] = pb + d.y;
            }
        }
    }
}
