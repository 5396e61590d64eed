//! optiscape-core: the math and the lab of optiscape, with no game engine in it. The Bevy
//! program (`optiscape`) and the Python package are built on top of this crate.
//!
//! Layers, each depending only on the ones below it (see `docs/architecture.md`):
//! - [`lab`], [`scenario`], [`link`], [`setup`]: runs of many starts (trace, race, basins,
//!   sweep and their statistics); scenario files and links; building a surface, a method or a
//!   start region from what a user typed;
//! - [`landscape`], [`optim`]: pure math, what is optimized and how one step is taken;
//! - [`lanes`]: arithmetic written once for one number or several side by side.

pub mod lab;
// The test matrix shared with `tests/` names the crate by its public paths (see `lab::batch`).
#[cfg(test)]
extern crate self as optiscape_core;
pub mod landscape;
pub mod lanes;
pub mod link;
pub mod net;
pub mod optim;
pub mod scenario;
pub mod setup;
pub mod special;
