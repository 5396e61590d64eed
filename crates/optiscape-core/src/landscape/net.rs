//! A network's loss on a plane as a surface (`net:DATASET[,key=value...]`): the slice of
//! [`crate::net::slice`], shared and cheap to clone, with its numerically estimated minimum.

use super::{Domain, GlobalMinimum, LaneEval};
use crate::lanes::{Real, V2};
use crate::net::slice::{Slice, SliceSpec};
use glam::DVec2;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// The slices built most recently (see [`NetSlice::build`]).
static BUILT: Mutex<Vec<NetSlice>> = Mutex::new(Vec::new());
/// How many [`BUILT`] keeps.
const BUILT_KEPT: usize = 8;

/// A slice of a trained network's loss. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct NetSlice(Arc<NetInner>);

#[derive(Debug)]
struct NetInner {
    slice: Slice,
    minimum: Mutex<Option<(Domain, GlobalMinimum)>>,
    /// Heights asked for before, by the point's bits: the sandbox draws every trail point and
    /// plots its loss each frame, cheap on a formula and a whole network's pass here.
    heights: Mutex<std::collections::HashMap<(u64, u64), f64>>,
}

/// The most heights a slice remembers (then it forgets them all and starts again).
const HEIGHTS_KEPT: usize = 1 << 18;

impl NetSlice {
    /// Builds the slice `text` names (what follows `net:`): trains its minima.
    pub fn parse(text: &str) -> Result<Self, String> {
        let spec = SliceSpec::parse(text)?;
        Self::build(&spec)
    }

    /// The slice `spec` describes: built once (its minima trained), then shared by every
    /// later request for the same spec among the last few (a surface read back from a file, a
    /// link or the sandbox's state is the same slice, not a second training).
    pub fn build(spec: &SliceSpec) -> Result<Self, String> {
        let lock = || match BUILT.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(n) = lock().iter().find(|n| n.0.slice.spec == *spec) {
            return Ok(n.clone());
        }
        let slice = Slice::build(spec)?;
        let n = Self(Arc::new(NetInner {
            slice,
            minimum: Mutex::new(None),
            heights: Mutex::new(std::collections::HashMap::new()),
        }));
        let mut cache = lock();
        if cache.len() >= BUILT_KEPT {
            cache.remove(0);
        }
        cache.push(n.clone());
        Ok(n)
    }

    pub fn slice(&self) -> &Slice {
        &self.0.slice
    }

    /// The text after `net:`.
    pub fn text(&self) -> String {
        self.0.slice.spec.text()
    }

    /// The loss at `p` (without the gradient's work; remembered, see [`NetInner::heights`]).
    pub fn height(&self, p: DVec2) -> f64 {
        let key = (p.x.to_bits(), p.y.to_bits());
        let lock = || match self.0.heights.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(v) = lock().get(&key) {
            return *v;
        }
        let v = self.compute_height(p);
        let mut memo = lock();
        if memo.len() >= HEIGHTS_KEPT {
            memo.clear();
        }
        memo.insert(key, v);
        v
    }

    fn compute_height(&self, p: DVec2) -> f64 {
        let s = &self.0.slice;
        let theta = s.params_at(p.x, p.y);
        let mut scratch = crate::net::mlp::Scratch::<f64>::new(&s.spec.net);
        crate::net::mlp::loss_grad(
            &s.spec.net,
            &s.layers,
            &s.data.train,
            s.data.labels,
            &theta,
            None,
            &mut scratch,
        )
    }

    /// The numerical estimate over `domain` (a 65 x 65 grid and 16 compass searches), cached
    /// for the last domain asked.
    pub(super) fn global_minimum(&self, domain: Domain) -> GlobalMinimum {
        super::cached_estimate(&self.0.minimum, domain, 65, |p| self.height(p))
    }
}

impl PartialEq for NetSlice {
    fn eq(&self, other: &Self) -> bool {
        self.0.slice.spec == other.0.slice.spec
    }
}

/// How a slice is written in files: its text.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetSpecText {
    spec: String,
}

impl Serialize for NetSlice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        NetSpecText { spec: self.text() }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for NetSlice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = NetSpecText::deserialize(d)?;
        NetSlice::parse(&t.spec).map_err(serde::de::Error::custom)
    }
}

/// A slice's [`LaneEval`]: each lane a point of the plane, a whole network evaluated there.
#[derive(Clone, Copy, Debug)]
pub struct NetLanes<'a> {
    pub slice: &'a Slice,
}

impl LaneEval for NetLanes<'_> {
    #[inline(always)]
    fn eval<R: Real>(self, p: V2<R>) -> (R, V2<R>) {
        self.slice.eval(p)
    }
}
