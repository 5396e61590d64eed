//! optiscape: watch and measure how optimization algorithms fight local optima.
//!
//! Layers, each depending only on those above it (see `docs/architecture.md`):
//! - [`landscape`], [`optim`]: pure math, what is optimized and how one step is taken;
//! - [`lanes`]: arithmetic written once for one number or several side by side;
//! - [`lab`]: runs of many starts, headless;
//! - [`sim`]: Bevy ECS without rendering: balls on a fixed timestep ([`sim::SimPlugin`]);
//! - [`view`], [`ui`]: rendering, egui panels and input ([`SandboxPlugin`]);
//! - [`cli`]: the command line.

pub mod app;
pub mod cli;
pub mod lab;
pub mod landscape;
pub mod lanes;
pub mod optim;
pub mod record;
pub mod scenario;
pub mod sim;
pub mod ui;
pub mod view;

pub use app::{SandboxPlugin, run_sandbox};
