//! The small, seeded, portable random source behind gradient noise and Langevin dynamics.
//! SplitMix64 (Steele, Lea & Flood 2014) for bits, Box-Muller for Gaussians: the same seed gives
//! the same numbers on every platform and in every version of optiscape.

use crate::lanes::{Real, V2};
use glam::DVec2;
use serde::{Deserialize, Serialize};
use std::f64::consts::TAU;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Two independent standard normal numbers (Box-Muller).
    pub fn normal2(&mut self) -> DVec2 {
        let u1 = 1.0 - self.uniform(); // in (0, 1]: ln is finite
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (TAU * u2).sin_cos();
        DVec2::new(r * c, r * s)
    }
}

/// A seed for item `index` of something seeded `seed` (a run of a batch, a network of a
/// group): independent of the order items are made in.
pub fn mix(seed: u64, index: u64) -> u64 {
    Rng::new(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next_u64()
}

/// Two standard normal numbers per lane, lane `i` drawn from `rngs[i]` by [`Rng::normal2`]
/// (in f64, then rounded to the lanes' precision): a lane of a batch draws exactly the numbers
/// its run draws alone.
#[inline]
pub fn normal2_lanes<R: Real>(rngs: &mut [Rng]) -> V2<R> {
    let mut xs = [0.0f64; 8];
    let mut ys = [0.0f64; 8];
    for (i, r) in rngs.iter_mut().enumerate().take(R::LANES.min(8)) {
        let n = r.normal2();
        xs[i] = n.x;
        ys[i] = n.y;
    }
    V2::new(R::from_fn(|i| xs[i]), R::from_fn(|i| ys[i]))
}
