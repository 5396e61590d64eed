//! The methods the sandbox offers: every rule and preset of the core, each with an enable
//! switch, a color and the hyperparameters new balls get.

use bevy::prelude::*;
use optiscape_core::optim::{NOTEBOOK_PRESETS, Optimizer, catalog};

/// One method of the roster.
#[derive(Clone, Debug)]
pub struct MethodEntry {
    pub id: &'static str,
    pub label: &'static str,
    pub enabled: bool,
    pub color: Color,
    /// Hyperparameters for new balls of this method (its state is never used).
    pub template: Optimizer,
}

/// Every method of the core's catalog; the notebook's five runs enabled at start.
#[derive(Resource, Clone, Debug)]
pub struct Roster(pub Vec<MethodEntry>);

impl Default for Roster {
    fn default() -> Self {
        Self(
            catalog()
                .iter()
                .enumerate()
                .map(|(i, m)| MethodEntry {
                    id: m.id,
                    label: m.label,
                    enabled: NOTEBOOK_PRESETS.contains(&m.id),
                    color: method_color(m.id, i),
                    template: (m.build)(),
                })
                .collect(),
        )
    }
}

impl Roster {
    pub fn get(&self, id: &str) -> Option<&MethodEntry> {
        self.0.iter().find(|m| m.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut MethodEntry> {
        self.0.iter_mut().find(|m| m.id == id)
    }

    pub fn enabled(&self) -> impl Iterator<Item = &MethodEntry> {
        self.0.iter().filter(|m| m.enabled)
    }
}

/// A distinct, saturated color per method: the notebook's five get five well-separated hues;
/// the rest take evenly spaced hues.
pub fn method_color(id: &str, index: usize) -> Color {
    let [r, g, b] = optiscape_core::optim::method_color(id, index);
    Color::srgb(r, g, b)
}
