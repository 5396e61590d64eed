//! optiscape, the program: the interactive sandbox, offscreen recording and the command line,
//! on top of `optiscape-core` (the math and the lab, no Bevy).
//!
//! Layers, each depending only on the ones below it (see `docs/architecture.md`):
//! - [`cli`]: the command line; builds the settings the layers below take;
//! - [`app`], [`record`]: the sandbox window ([`app::SandboxPlugin`]); offscreen recording;
//! - [`ui`], [`view`]: egui panels and input; rendering (mesh, balls, overlays, camera);
//! - [`sim`]: Bevy ECS without rendering: balls on a fixed timestep ([`sim::SimPlugin`]);
//! - [`gif_writer`]: the GIF writer (no Bevy), used by `ui` and `record`;
//! - `browser` (the web page only): the page's address, local storage, downloads and opened
//!   files (no Bevy), used by `cli`, `app` and `ui`;
//! - `optiscape_core`: surfaces, update rules, the lab, scenario files.

pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod browser;
pub mod cli;
pub mod gif_writer;
pub mod record;
pub mod sim;
pub mod ui;
pub mod view;
