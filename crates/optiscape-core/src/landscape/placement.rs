//! Instances of a surface: its picture turned about the centre of its domain and shifted,
//! `f_inst(p) = f(c + R(-θ) (p - c - s))`, with the gradient by the chain rule
//! (`∇f_inst(p) = R(θ) ∇f(q)`) and the global minima moved with it (`m' = c + s + R(θ) (m - c)`).
//! `--rotate DEG` sets θ by hand (no shift); `--instance N` draws θ and s from N, keeping the
//! global minima inside the domain (instance 0 is the surface as defined).

use super::{Dual, LaneEval};
use crate::lanes::{Real, V2};
use crate::optim::rng::Rng;
use glam::DVec2;
use serde::{Deserialize, Serialize};

/// How a surface is placed on its domain: a rotation about the domain's centre, then a shift.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Placement {
    /// The instance θ and s were drawn from; 0 when they were set by hand (or not at all).
    pub instance: u64,
    /// Degrees, counter-clockwise.
    pub rotate: f64,
    /// Added after the rotation, in the domain's units.
    pub shift: DVec2,
}

/// How far (a fraction of the domain's width and height) a drawn instance keeps the moved
/// global minima from the domain's edges.
pub const INSTANCE_MARGIN: f64 = 0.05;

/// How many rotations an instance draws at most before it gives up on keeping the minima
/// inside (then it is the surface as defined; it never happens on the built-in surfaces).
const INSTANCE_TRIES: usize = 256;

impl Placement {
    /// The surface as defined.
    pub const IDENTITY: Placement = Placement {
        instance: 0,
        rotate: 0.0,
        shift: DVec2::ZERO,
    };

    /// A rotation by `degrees` (any finite number; 0 is the surface as defined).
    pub fn rotation(degrees: f64) -> Result<Self, String> {
        if !degrees.is_finite() {
            return Err(format!(
                "a rotation must be a finite number of degrees (got {degrees})"
            ));
        }
        Ok(Self {
            instance: 0,
            rotate: degrees,
            shift: DVec2::ZERO,
        })
    }

    pub fn is_identity(&self) -> bool {
        self.rotate.rem_euclid(360.0) == 0.0 && self.shift == DVec2::ZERO
    }

    /// `(cos θ, sin θ)`, exact for multiples of 90 degrees.
    pub fn cos_sin(&self) -> (f64, f64) {
        let d = self.rotate.rem_euclid(360.0);
        match d {
            0.0 => (1.0, 0.0),
            90.0 => (0.0, 1.0),
            180.0 => (-1.0, 0.0),
            270.0 => (0.0, -1.0),
            _ => {
                let (s, c) = d.to_radians().sin_cos();
                (c, s)
            }
        }
    }

    /// The point of the surface as defined that `p` shows: `c + R(-θ) (p - c - s)`.
    pub fn to_source(&self, center: DVec2, p: DVec2) -> DVec2 {
        let (cos, sin) = self.cos_sin();
        // The same operations, in the same order, as the lanes' `Placed::source`.
        let d = p - (center + self.shift);
        DVec2::new(
            center.x + (cos * d.x + sin * d.y),
            center.y + (cos * d.y - sin * d.x),
        )
    }

    /// Where the point `q` of the surface as defined is shown: `c + s + R(θ) (q - c)`.
    pub fn from_source(&self, center: DVec2, q: DVec2) -> DVec2 {
        let (cos, sin) = self.cos_sin();
        let d = q - center;
        center + self.shift + DVec2::new(cos * d.x - sin * d.y, sin * d.x + cos * d.y)
    }

    /// The placement of instance `n` for a surface whose global minima (as defined) are
    /// `minima`, on `domain`'s `center` with the given `width` and `height`: θ uniform in
    /// [0, 360), then s uniform among the shifts that keep every moved minimum at least
    /// [`INSTANCE_MARGIN`] inside the domain, limited to a quarter of the domain each way where
    /// that leaves any choice. Deterministic for `n`.
    pub fn instance(n: u64, minima: &[DVec2], domain: super::Domain) -> Self {
        if n == 0 {
            return Self::IDENTITY;
        }
        let mut rng = Rng::new(n ^ 0x0D1C_E5CA_7E00_0000);
        let center = domain.center();
        let (mx, my) = (
            INSTANCE_MARGIN * domain.width(),
            INSTANCE_MARGIN * domain.height(),
        );
        for _ in 0..INSTANCE_TRIES {
            let rotate = (rng.uniform() * 360.0 * 1e6).round() / 1e6;
            let turned = Self {
                instance: n,
                rotate,
                shift: DVec2::ZERO,
            };
            let moved: Vec<DVec2> = minima
                .iter()
                .map(|m| turned.from_source(center, *m))
                .collect();
            let lo = |f: fn(&DVec2) -> f64| moved.iter().map(f).fold(f64::INFINITY, f64::min);
            let hi = |f: fn(&DVec2) -> f64| moved.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
            // s.x in [x0 + mx - min x, x1 - mx - max x], the same for y.
            let sx = (domain.x0 + mx - lo(|p| p.x), domain.x1 - mx - hi(|p| p.x));
            let sy = (domain.y0 + my - lo(|p| p.y), domain.y1 - my - hi(|p| p.y));
            if !(sx.0 <= sx.1 && sy.0 <= sy.1) {
                continue;
            }
            let pick = |(a, b): (f64, f64), half: f64, u: f64| {
                let (na, nb) = (a.max(-half), b.min(half));
                let (a, b) = if na <= nb { (na, nb) } else { (a, b) };
                a + u * (b - a)
            };
            let (u, v) = (rng.uniform(), rng.uniform());
            let shift = DVec2::new(
                pick(sx, 0.25 * domain.width(), u),
                pick(sy, 0.25 * domain.height(), v),
            );
            // Rounded to 6 decimals of the domain (files and messages show them so), and
            // checked again after rounding.
            let round = |v: f64, scale: f64| {
                let q = scale * 1e-6;
                (v / q).round() * q
            };
            let shift = DVec2::new(
                round(shift.x, domain.width()),
                round(shift.y, domain.height()),
            );
            let placed = Self {
                instance: n,
                rotate,
                shift,
            };
            if minima
                .iter()
                .all(|m| domain.contains(placed.from_source(center, *m)))
            {
                return placed;
            }
        }
        Self::IDENTITY
    }
}

/// A surface's [`LaneEval`] under a placement: the point transformed before, the gradient
/// rotated after. `on` is false for the surface as defined, which is then evaluated untouched
/// (bit for bit the surface's own numbers).
#[derive(Clone, Copy, Debug)]
pub struct Placed<S> {
    pub inner: S,
    on: bool,
    center: DVec2,
    shift: DVec2,
    cos: f64,
    sin: f64,
}

impl<S: LaneEval> Placed<S> {
    #[inline(always)]
    pub fn new(inner: S, placement: &Placement, center: DVec2) -> Self {
        let (cos, sin) = placement.cos_sin();
        Self {
            inner,
            on: !placement.is_identity(),
            center,
            shift: placement.shift,
            cos,
            sin,
        }
    }

    #[inline(always)]
    fn source<R: Real>(&self, p: V2<R>) -> V2<R> {
        let c = R::splat;
        let dx = p.x - c(self.center.x + self.shift.x);
        let dy = p.y - c(self.center.y + self.shift.y);
        V2::new(
            c(self.center.x) + (c(self.cos) * dx + c(self.sin) * dy),
            c(self.center.y) + (c(self.cos) * dy - c(self.sin) * dx),
        )
    }

    #[inline(always)]
    fn turn_gradient<R: Real>(&self, g: V2<R>) -> V2<R> {
        let c = R::splat;
        V2::new(
            c(self.cos) * g.x - c(self.sin) * g.y,
            c(self.sin) * g.x + c(self.cos) * g.y,
        )
    }
}

impl<S: LaneEval> LaneEval for Placed<S> {
    const BLOCKWISE: bool = S::BLOCKWISE;

    #[inline(always)]
    fn eval<R: Real>(self, p: V2<R>) -> (R, V2<R>) {
        // One inlined copy of the surface, whichever the placement (selects, not branches
        // around two copies: the lab compiles this for every rule and surface).
        let q = if self.on { self.source(p) } else { p };
        let (h, g) = self.inner.eval(q);
        (h, if self.on { self.turn_gradient(g) } else { g })
    }

    #[inline(always)]
    fn eval_block<R: Real>(self, ps: &[V2<R>], out: &mut [(R, V2<R>)], scratch: &mut Vec<Dual<R>>) {
        // One inlined copy of the surface's block evaluation, as in `eval`.
        const CHUNK: usize = 32;
        for (pc, oc) in ps.chunks(CHUNK).zip(out.chunks_mut(CHUNK)) {
            let mut q = [V2::new(R::splat(0.0), R::splat(0.0)); CHUNK];
            for (qi, p) in q.iter_mut().zip(pc) {
                *qi = if self.on { self.source(*p) } else { *p };
            }
            self.inner.eval_block(&q[..pc.len()], oc, scratch);
            if self.on {
                for o in oc.iter_mut() {
                    o.1 = self.turn_gradient(o.1);
                }
            }
        }
    }
}
