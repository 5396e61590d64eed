//! Scenario files: a whole setup (surface, display, methods with their hyperparameters and
//! colors, start points, step count, speed, seed and camera) as a RON file with a `version`.
//! Plain Rust: the sandbox, the lab commands and the recorder read the same struct.
//!
//! Loading is strict: unknown fields are refused, and every message names the file, the line
//! and column (for syntax and type errors) or the field (for values out of range).

use crate::landscape::{Domain, Surface};
use crate::optim::Optimizer;
use glam::DVec2;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The file format version this build reads and writes.
pub const VERSION: u32 = 1;

/// Largest scenario file read, in bytes.
pub const MAX_FILE: usize = 1 << 20;

/// The colormap names a scenario may use (the sandbox's `Colormap`s).
pub const COLORMAPS: [&str; 3] = ["coolwarm", "viridis", "terrain"];

/// A whole setup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Must be `1`.
    pub version: u32,
    /// A one-line description, shown in the scenario menu.
    #[serde(default)]
    pub description: String,
    pub surface: SurfaceSpec,
    #[serde(default)]
    pub display: DisplaySpec,
    /// The methods in play (the enabled ones get balls).
    pub methods: Vec<MethodSpec>,
    #[serde(default)]
    pub starts: StartSpec,
    /// Frames each ball runs (the notebook's N).
    #[serde(default = "default_steps")]
    pub steps: u64,
    /// Frames per second, 1..=1000.
    #[serde(default = "default_speed")]
    pub speed: f64,
    /// Seed of random start points and noise.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The camera; absent: framed on the surface's view.
    #[serde(default)]
    pub camera: Option<CameraSpec>,
    /// On a network slice: the balls are networks in training (absent: points on the slice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<NetworksSpec>,
}

/// Networks in training on a scenario's network slice: `runs` initializations per enabled
/// method that can train one (run `i` of the scenario's seed, as `optiscape train --seed`
/// numbers them), each making `updates_per_frame` full-batch updates per frame. `starts` is
/// then not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworksSpec {
    /// 1..=[`crate::net::MAX_NET_RUNS`].
    pub runs: usize,
    /// 1..=[`crate::net::MAX_UPDATES_PER_FRAME`].
    #[serde(default = "default_updates_per_frame")]
    pub updates_per_frame: u64,
}

fn default_updates_per_frame() -> u64 {
    crate::net::DEFAULT_UPDATES_PER_FRAME
}

fn default_steps() -> u64 {
    crate::setup::DEFAULT_STEPS
}

fn default_speed() -> f64 {
    30.0
}

fn default_seed() -> u64 {
    crate::setup::DEFAULT_SEED
}

fn yes() -> bool {
    true
}

/// A built-in surface (`name`) or a typed one (`formula`), with parameters and domain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurfaceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, f64>,
    /// Absent: the surface's default domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    /// Degrees the surface's picture is turned counter-clockwise about the domain's centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate: Option<f64>,
    /// An instance: a rotation and shift drawn from this number (0: as defined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<u64>,
}

/// What the sandbox's Display section holds. Its defaults are the sandbox's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisplaySpec {
    pub colormap: String,
    pub resolution: u32,
    pub exaggeration: f32,
    pub contours: bool,
    pub contour_levels: u32,
    pub wireframe: bool,
    pub trails: bool,
    pub gradient_arrows: bool,
    pub update_arrows: bool,
    pub labels: bool,
    pub axes: bool,
}

impl Default for DisplaySpec {
    fn default() -> Self {
        Self {
            colormap: "coolwarm".into(),
            resolution: 160,
            exaggeration: 1.0,
            contours: true,
            contour_levels: 18,
            wireframe: false,
            trails: true,
            gradient_arrows: false,
            update_arrows: false,
            labels: false,
            axes: true,
        }
    }
}

/// A hyperparameter value as written in a file: `0.05`, `true`, or a pair `(0.9, 0.999)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Flag(bool),
    Num(f64),
    Pair(f64, f64),
    /// A choice by name (e.g. `restarts: "ipop"`).
    Name(String),
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ParamValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a number, true or false, a name in quotes, or a pair like (0.9, 0.999)",
                )
            }
            fn visit_str<E>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue::Name(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue::Flag(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<ParamValue, E> {
                Ok(ParamValue::Num(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue::Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue::Num(v as f64))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<ParamValue, A::Error> {
                use serde::de::Error;
                let x: f64 = a
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let y: f64 = a
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                if a.next_element::<f64>()?.is_some() {
                    return Err(A::Error::invalid_length(3, &self));
                }
                Ok(ParamValue::Pair(x, y))
            }
        }
        d.deserialize_any(V)
    }
}

impl ParamValue {
    /// The text `Optimizer::set` reads (shortest round-trip form of each number).
    pub fn text(&self) -> String {
        fn num(v: f64) -> String {
            if v == v.trunc() && v.abs() < 1e15 {
                format!("{}", v as i64)
            } else {
                format!("{v:?}")
            }
        }
        match self {
            ParamValue::Flag(b) => b.to_string(),
            ParamValue::Num(v) => num(*v),
            ParamValue::Pair(a, b) => format!("{},{}", num(*a), num(*b)),
            ParamValue::Name(n) => n.clone(),
        }
    }
}

/// A method in play: its id, whether it is enabled, its color and hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodSpec {
    pub id: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `#rrggbb`; absent: the method's own color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Only the ones that differ from the method's defaults need to be given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, ParamValue>,
}

/// Where the balls start.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum StartSpec {
    /// The surface's default start (the notebook's start on `seed`).
    #[default]
    Default,
    /// These points, one ball per enabled method at each.
    Points(Vec<(f64, f64)>),
    /// `k` points drawn uniformly over `region` (or the domain) from the scenario's seed.
    Random {
        k: usize,
        #[serde(default)]
        region: Option<Domain>,
    },
}

/// The orbit camera: angles in radians, distance and focus in world units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSpec {
    pub yaw: f32,
    pub pitch: f32,
    pub radius: f32,
    pub focus: (f32, f32, f32),
}

/// A method of a scenario, built: its optimizer and color (`None`: the method's own).
#[derive(Clone, Debug)]
pub struct BuiltMethod {
    pub optimizer: Optimizer,
    pub enabled: bool,
    pub color: Option<[f32; 3]>,
}

impl Scenario {
    /// Parses RON text; `origin` names the file in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self, String> {
        if text.len() > MAX_FILE {
            return Err(format!(
                "{origin}: the file is too large ({} bytes; the limit is {MAX_FILE})",
                text.len()
            ));
        }
        let options = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let scenario: Scenario = options.from_str(text).map_err(|e| {
            format!(
                "{origin}:{}:{}: {}",
                e.span.start.line, e.span.start.col, e.code
            )
        })?;
        scenario.validate().map_err(|e| format!("{origin}: {e}"))?;
        Ok(scenario)
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
        if meta.len() > MAX_FILE as u64 {
            return Err(format!(
                "{shown}: the file is too large ({} bytes; the limit is {MAX_FILE})",
                meta.len()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
        Self::parse(&text, &shown)
    }

    /// A file path, or the name of a shipped scenario (`notebook`, `saddle`, ...).
    pub fn load_or_builtin(name: &str) -> Result<Self, String> {
        let path = Path::new(name);
        if !path.exists() {
            if let Some(b) = builtin().iter().find(|b| b.name == name) {
                return Self::parse(b.text, b.name);
            }
            let names: Vec<&str> = builtin().iter().map(|b| b.name).collect();
            return Err(format!(
                "{name}: no such file, and no shipped scenario of that name (shipped: {})",
                names.join(", ")
            ));
        }
        Self::load(path)
    }

    /// The RON text of this scenario.
    pub fn to_ron(&self) -> Result<String, String> {
        let pretty = ron::ser::PrettyConfig::default()
            .struct_names(false)
            .extensions(ron::extensions::Extensions::IMPLICIT_SOME);
        ron::ser::to_string_pretty(self, pretty).map_err(|e| e.to_string())
    }

    /// Writes the file (whole, through a temporary file, so a failed save leaves the old one).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let shown = path.display().to_string();
        let text = self.to_ron().map_err(|e| format!("{shown}: {e}"))?;
        let tmp = path.with_extension("ron.tmp");
        std::fs::write(&tmp, text).map_err(|e| format!("{shown}: {e}"))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("{shown}: {e}")
        })
    }

    /// Checks every value; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.version != VERSION {
            return Err(format!(
                "version {} is not supported (this optiscape reads version {VERSION})",
                self.version
            ));
        }
        let surface = self.surface()?;
        crate::setup::check_finite_somewhere(&surface).map_err(|e| format!("surface: {e}"))?;
        let d = &self.display;
        if !COLORMAPS.contains(&d.colormap.as_str()) {
            return Err(format!(
                "display.colormap: unknown colormap '{}' (known: {})",
                d.colormap,
                COLORMAPS.join(", ")
            ));
        }
        if !(32..=1024).contains(&d.resolution) {
            return Err(format!(
                "display.resolution must be 32..=1024 (got {})",
                d.resolution
            ));
        }
        if !(0.1..=5.0).contains(&d.exaggeration) {
            return Err(format!(
                "display.exaggeration must be 0.1..=5 (got {})",
                d.exaggeration
            ));
        }
        if !(1..=100).contains(&d.contour_levels) {
            return Err(format!(
                "display.contour_levels must be 1..=100 (got {})",
                d.contour_levels
            ));
        }
        self.methods()?;
        if let Some(n) = &self.networks {
            if surface.as_net().is_none() {
                return Err(
                    "networks: networks are trained on a network slice (surface.name: \"net:DATASET\")"
                        .into(),
                );
            }
            if !surface.placement.is_identity() {
                return Err(
                    "networks: networks are trained on the slice as built (no rotate or instance)"
                        .into(),
                );
            }
            if !(1..=crate::net::MAX_NET_RUNS).contains(&n.runs) {
                return Err(format!(
                    "networks.runs must be 1..={} (got {})",
                    crate::net::MAX_NET_RUNS,
                    n.runs
                ));
            }
            if !(1..=crate::net::MAX_UPDATES_PER_FRAME).contains(&n.updates_per_frame) {
                return Err(format!(
                    "networks.updates_per_frame must be 1..={} (got {})",
                    crate::net::MAX_UPDATES_PER_FRAME,
                    n.updates_per_frame
                ));
            }
        }
        match &self.starts {
            StartSpec::Default => {}
            StartSpec::Points(points) => {
                if points.len() > 100_000 {
                    return Err("starts: at most 100000 points".into());
                }
                for (i, &(x, y)) in points.iter().enumerate() {
                    if !surface.domain.contains(DVec2::new(x, y)) {
                        return Err(format!(
                            "starts: point {} ({x}, {y}) is outside the domain",
                            i + 1
                        ));
                    }
                }
            }
            StartSpec::Random { k, region } => {
                if !(1..=100_000).contains(k) {
                    return Err(format!("starts: k must be 1..=100000 (got {k})"));
                }
                surface
                    .domain
                    .start_region(*region)
                    .map_err(|e| format!("starts.region: {e}"))?;
            }
        }
        if !(1..=10_000_000).contains(&self.steps) {
            return Err(format!("steps must be 1..=10000000 (got {})", self.steps));
        }
        if !(1.0..=1000.0).contains(&self.speed) {
            return Err(format!("speed must be 1..=1000 (got {})", self.speed));
        }
        if let Some(c) = &self.camera {
            let all = [c.yaw, c.pitch, c.radius, c.focus.0, c.focus.1, c.focus.2];
            if all.iter().any(|v| !v.is_finite()) || c.radius <= 0.0 {
                return Err("camera: values must be finite and radius positive".into());
            }
        }
        Ok(())
    }

    /// The surface, with its parameters and domain.
    pub fn surface(&self) -> Result<Surface, String> {
        let s = &self.surface;
        let mut surface = match (&s.name, &s.formula) {
            (Some(name), None) => Surface::parse(name).map_err(|e| format!("surface.name: {e}"))?,
            (None, Some(f)) => {
                Surface::formula(f, None).map_err(|e| format!("surface.formula: {e}"))?
            }
            _ => return Err("surface: give exactly one of name or formula".into()),
        };
        if let Some(d) = s.domain {
            d.validate().map_err(|e| format!("surface.domain: {e}"))?;
            surface.domain = d;
        }
        for (name, v) in &s.params {
            surface
                .set_param(name, *v)
                .map_err(|e| format!("surface.params: {e}"))?;
        }
        match (s.rotate, s.instance) {
            (Some(_), Some(_)) => return Err("surface: give rotate or instance, not both".into()),
            (Some(deg), None) => surface
                .set_rotation(deg)
                .map_err(|e| format!("surface.rotate: {e}"))?,
            (None, Some(n)) => surface.set_instance(n),
            (None, None) => {}
        }
        Ok(surface)
    }

    /// The methods, built with their hyperparameters.
    pub fn methods(&self) -> Result<Vec<BuiltMethod>, String> {
        let mut out = Vec::with_capacity(self.methods.len());
        for (i, m) in self.methods.iter().enumerate() {
            let at = format!("methods[{i}] ({})", m.id);
            if self.methods[..i].iter().any(|o| o.id == m.id) {
                return Err(format!("{at}: listed twice"));
            }
            let mut optimizer = Optimizer::by_id(&m.id).ok_or_else(|| {
                let ids: Vec<&str> = crate::optim::catalog().iter().map(|c| c.id).collect();
                format!("{at}: unknown method (known: {})", ids.join(", "))
            })?;
            for (name, v) in &m.params {
                optimizer
                    .set(name, &v.text())
                    .map_err(|e| format!("{at}: {e}"))?;
            }
            let color = match &m.color {
                Some(c) => Some(parse_color(c).map_err(|e| format!("{at}.color: {e}"))?),
                None => None,
            };
            out.push(BuiltMethod {
                optimizer,
                enabled: m.enabled,
                color,
            });
        }
        Ok(out)
    }

    /// The method entry for an optimizer: every hyperparameter that differs from the method's
    /// defaults.
    pub fn method_spec(
        optimizer: &Optimizer,
        enabled: bool,
        color: Option<[f32; 3]>,
    ) -> MethodSpec {
        let mut params = BTreeMap::new();
        let mut opt = optimizer.clone();
        if let Some(mut default) = Optimizer::by_id(&opt.id) {
            let defaults: Vec<String> = default.params().iter().map(|p| p.text()).collect();
            for (p, d) in opt.params().iter().zip(defaults) {
                use crate::optim::ParamMut;
                if p.text() == d {
                    continue;
                }
                let v = match &p.value {
                    ParamMut::Num(v) => ParamValue::Num(**v),
                    ParamMut::Pair(v) => ParamValue::Pair(v[0], v[1]),
                    ParamMut::Flag(v) => ParamValue::Flag(**v),
                    ParamMut::Count(v) => ParamValue::Num(f64::from(**v)),
                    ParamMut::Choice(_) => ParamValue::Name(p.text()),
                };
                params.insert(p.spec.name.to_string(), v);
            }
        }
        MethodSpec {
            id: optimizer.id.clone(),
            enabled,
            color: color.map(format_color),
            params,
        }
    }

    /// The surface part of a scenario for `surface`.
    pub fn surface_spec(surface: &Surface) -> SurfaceSpec {
        let default_domain = match surface.as_formula() {
            Some(_) => None,
            None => Some(surface.info().default_domain),
        };
        SurfaceSpec {
            // A built-in surface's id, or a network slice's whole spelling (`net:moons,...`).
            name: surface.as_formula().is_none().then(|| surface.spec()),
            formula: surface.as_formula().map(|f| f.source().to_string()),
            params: surface
                .params()
                .into_iter()
                .map(|(p, v)| (p.name.to_string(), v))
                .collect(),
            domain: (Some(surface.domain) != default_domain).then_some(surface.domain),
            rotate: (surface.placement.instance == 0 && !surface.placement.is_identity())
                .then_some(surface.placement.rotate),
            instance: (surface.placement.instance != 0).then_some(surface.placement.instance),
        }
    }
}

/// `#rrggbb` (or `#rgb`) to linear-free sRGB components in 0..=1.
pub fn parse_color(text: &str) -> Result<[f32; 3], String> {
    let hex = text.trim().strip_prefix('#').unwrap_or(text.trim());
    let expanded: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_string(),
        _ => return Err(format!("expected #rrggbb, got '{text}'")),
    };
    let mut out = [0.0f32; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let byte = expanded
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("expected #rrggbb, got '{text}'"))?;
        *o = f32::from(byte) / 255.0;
    }
    Ok(out)
}

/// sRGB components in 0..=1 to `#rrggbb`.
pub fn format_color(c: [f32; 3]) -> String {
    let b = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    format!("#{:02x}{:02x}{:02x}", b(c[0]), b(c[1]), b(c[2]))
}

impl Builtin {
    /// The scenario's one-line description (parsed once, for menus).
    pub fn description(&self) -> &'static str {
        static DESCRIPTIONS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let all = DESCRIPTIONS.get_or_init(|| {
            BUILTIN
                .iter()
                .map(|b| {
                    Scenario::parse(b.text, b.name)
                        .map(|s| s.description)
                        .unwrap_or_default()
                })
                .collect()
        });
        BUILTIN
            .iter()
            .position(|b| b.name == self.name)
            .and_then(|i| all.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// A scenario shipped in `assets/scenarios/` (compiled in, so it works from any folder).
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub text: &'static str,
}

/// The shipped scenarios, in menu order (the notebook first: it is the opening scene).
pub fn builtin() -> &'static [Builtin] {
    &BUILTIN
}

static BUILTIN: [Builtin; 7] = [
    Builtin {
        name: "notebook",
        text: include_str!("../../../assets/scenarios/notebook.ron"),
    },
    Builtin {
        name: "saddle",
        text: include_str!("../../../assets/scenarios/saddle.ron"),
    },
    Builtin {
        name: "long-valley",
        text: include_str!("../../../assets/scenarios/long-valley.ron"),
    },
    Builtin {
        name: "egg-crate",
        text: include_str!("../../../assets/scenarios/egg-crate.ron"),
    },
    Builtin {
        name: "four-minima",
        text: include_str!("../../../assets/scenarios/four-minima.ron"),
    },
    Builtin {
        name: "narrow-well",
        text: include_str!("../../../assets/scenarios/narrow-well.ron"),
    },
    Builtin {
        name: "formula-ripples",
        text: include_str!("../../../assets/scenarios/formula-ripples.ron"),
    },
];
