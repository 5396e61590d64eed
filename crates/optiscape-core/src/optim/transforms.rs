//! Gradient transforms that compose in front of any update rule, in this order: clip by norm,
//! then Gaussian noise (the optax way: a chain of transforms, then the rule).

use super::rng::{Rng, normal2_lanes};
use crate::lanes::{Real, V2};
use glam::DVec2;

/// Clips `g` to Euclidean norm `max_norm`, exactly as the notebook does:
/// `g * min(max_norm, |g|) / |g|`. A zero or non-finite norm leaves `g` unchanged (the
/// notebook's formula would divide 0 by 0 there). `max_norm <= 0` means off.
#[inline]
pub fn clip_by_norm(g: DVec2, max_norm: f64) -> DVec2 {
    clip_by_norm_lanes(V2::from(g), max_norm).into()
}

/// [`clip_by_norm`] for any lane type.
#[inline(always)]
pub fn clip_by_norm_lanes<R: Real>(g: V2<R>, max_norm: f64) -> V2<R> {
    if max_norm <= 0.0 {
        return g;
    }
    let norm = (g.x * g.x + g.y * g.y).sqrt();
    let keep = norm.eq(R::splat(0.0)) | !norm.is_finite();
    let clipped = g.scale(R::splat(max_norm).min(norm) / norm);
    V2::select(keep, g, clipped)
}

/// Adds independent Gaussian noise of standard deviation `std` to each component. `std <= 0`
/// means off (and draws nothing from the random source).
#[inline]
pub fn add_noise(g: DVec2, std: f64, rng: &mut Rng) -> DVec2 {
    add_noise_lanes(V2::from(g), std, std::slice::from_mut(rng)).into()
}

/// [`add_noise`] for any lane type, lane `i` drawing from `rngs[i]`.
#[inline(always)]
pub fn add_noise_lanes<R: Real>(g: V2<R>, std: f64, rngs: &mut [Rng]) -> V2<R> {
    if std <= 0.0 {
        return g;
    }
    g + normal2_lanes::<R>(rngs).scale(R::splat(std))
}
