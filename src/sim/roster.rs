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
    match id {
        "seed:sgd" => Color::srgb(0.95, 0.90, 0.15),
        "seed:momentum" => Color::srgb(0.10, 0.85, 0.30),
        "seed:adagrad" => Color::srgb(1.00, 0.45, 0.05),
        "seed:adagrad-finetune" => Color::srgb(0.85, 0.20, 0.90),
        "seed:adadelta" => Color::srgb(0.05, 0.85, 0.95),
        // The rules: a hand-picked palette, so that the usual rivals (SGD, heavy ball, Adam,
        // RMSprop, Langevin...) never share a hue.
        "sgd" => Color::srgb_u8(0xe8, 0x50, 0x4a),
        "heavy-ball" => Color::srgb_u8(0x4c, 0xc9, 0x70),
        "nesterov" => Color::srgb_u8(0xb7, 0x7b, 0xf0),
        "adagrad" => Color::srgb_u8(0xf2, 0xd0, 0x4b),
        "adadelta" => Color::srgb_u8(0x47, 0xc6, 0xd6),
        "rmsprop" => Color::srgb_u8(0xf0, 0x8a, 0x3c),
        "adam" => Color::srgb_u8(0x4f, 0x8f, 0xf7),
        "adamw" => Color::srgb_u8(0x9f, 0xc0, 0xff),
        "amsgrad" => Color::srgb_u8(0x2e, 0x4f, 0xb0),
        "adamax" => Color::srgb_u8(0xff, 0x7f, 0xc8),
        "nadam" => Color::srgb_u8(0xa8, 0xe0, 0x5a),
        "radam" => Color::srgb_u8(0xd9, 0xa0, 0x66),
        "lion" => Color::srgb_u8(0xf5, 0xf5, 0xf5),
        "adabelief" => Color::srgb_u8(0x7f, 0xe0, 0xc0),
        "langevin" => Color::srgb_u8(0xc0, 0x4f, 0xa0),
        "momentum" => Color::srgb_u8(0x2e, 0x9e, 0x5b),
        "seed-adagrad" => Color::srgb_u8(0xc8, 0x96, 0x1e),
        _ => Color::hsl((index as f32 * 137.508) % 360.0, 0.85, 0.55),
    }
}
