//! Colormaps for heights: piecewise-linear through anchor colors taken from matplotlib's
//! `coolwarm` (Moreland's diverging map), `viridis` and `terrain`.

use bevy::prelude::*;

#[derive(Reflect, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Colormap {
    #[default]
    Coolwarm,
    Viridis,
    Terrain,
}

impl Colormap {
    pub const ALL: [Colormap; 3] = [Colormap::Coolwarm, Colormap::Viridis, Colormap::Terrain];

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Colormap::Coolwarm => "coolwarm",
            Colormap::Viridis => "viridis",
            Colormap::Terrain => "terrain",
        }
    }

    fn anchors(self) -> &'static [[f32; 3]] {
        match self {
            Colormap::Coolwarm => &[
                [0.230, 0.299, 0.754],
                [0.552, 0.690, 0.996],
                [0.865, 0.865, 0.865],
                [0.958, 0.603, 0.482],
                [0.706, 0.016, 0.150],
            ],
            Colormap::Viridis => &[
                [0.267, 0.005, 0.329],
                [0.229, 0.322, 0.546],
                [0.128, 0.567, 0.551],
                [0.369, 0.789, 0.383],
                [0.993, 0.906, 0.144],
            ],
            Colormap::Terrain => &[
                [0.200, 0.200, 0.600],
                [0.000, 0.600, 1.000],
                [0.000, 0.800, 0.400],
                [1.000, 1.000, 0.600],
                [0.500, 0.360, 0.330],
                [1.000, 1.000, 1.000],
            ],
        }
    }

    /// The sRGB color at `t` in `[0, 1]` (clamped; NaN maps to the low end).
    pub fn srgb(self, t: f32) -> [f32; 3] {
        let a = self.anchors();
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let x = t * (a.len() - 1) as f32;
        let i = (x.floor() as usize).min(a.len() - 2);
        let f = x - i as f32;
        [0, 1, 2].map(|c| a[i][c] + (a[i + 1][c] - a[i][c]) * f)
    }

    /// The linear RGBA color at `t`, as vertex colors want it.
    pub fn linear(self, t: f32) -> [f32; 4] {
        let [r, g, b] = self.srgb(t);
        Color::srgb(r, g, b).to_linear().to_f32_array()
    }
}
