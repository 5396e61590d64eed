//! What is optimized: 2D surfaces with exact heights and gradients, their domains and their
//! global minima. Plain Rust, no Bevy types: the sandbox and the lab share these.

mod classic;
pub mod formula;
mod minimum;
pub mod net;
mod placement;
mod seed;

use glam::DVec2;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use crate::lanes::{Real, V2};
pub use formula::{Dual, Formula, FormulaError};
pub use minimum::{MinimumEstimate, estimate_global_minimum};
pub use net::{NetLanes, NetSlice};
pub use placement::{INSTANCE_MARGIN, Placed, Placement};

/// An axis-aligned rectangle of the plane: `x0..=x1` by `y0..=y1`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Domain {
    pub const fn new(x0: f64, x1: f64, y0: f64, y1: f64) -> Self {
        Self { x0, x1, y0, y1 }
    }

    /// A square `lo..=hi` on both axes.
    pub const fn square(lo: f64, hi: f64) -> Self {
        Self::new(lo, hi, lo, hi)
    }

    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }

    /// The larger side: the scale used for "far outside" and "has stopped moving".
    pub fn extent(&self) -> f64 {
        self.width().max(self.height())
    }

    pub fn center(&self) -> DVec2 {
        DVec2::new(0.5 * (self.x0 + self.x1), 0.5 * (self.y0 + self.y1))
    }

    pub fn contains(&self, p: DVec2) -> bool {
        p.x >= self.x0 && p.x <= self.x1 && p.y >= self.y0 && p.y <= self.y1
    }

    /// Whether `p` is farther outside the domain than the domain's own width (or height): the
    /// point where a run is declared diverged.
    pub fn far_outside(&self, p: DVec2) -> bool {
        let (w, h) = (self.width(), self.height());
        p.x < self.x0 - w || p.x > self.x1 + w || p.y < self.y0 - h || p.y > self.y1 + h
    }

    /// A well-formed domain has finite bounds and positive width and height.
    pub fn validate(&self) -> Result<(), String> {
        let all = [self.x0, self.x1, self.y0, self.y1];
        if all.iter().any(|v| !v.is_finite()) {
            return Err("domain bounds must be finite numbers".into());
        }
        if self.x1 <= self.x0 || self.y1 <= self.y0 {
            return Err(format!(
                "domain must have x0 < x1 and y0 < y1 (got x {}..{}, y {}..{})",
                self.x0, self.x1, self.y0, self.y1
            ));
        }
        Ok(())
    }

    /// Where random start points are drawn: `region` if given, else the whole domain. A region
    /// must be well-formed and lie inside the domain (the command line's `--region`, a
    /// scenario's `starts.region` and the sandbox's sub-rectangle all go through here).
    pub fn start_region(&self, region: Option<Domain>) -> Result<Domain, String> {
        let Some(r) = region else {
            return Ok(*self);
        };
        r.validate()?;
        if r.x0 < self.x0 || r.x1 > self.x1 || r.y0 < self.y0 || r.y1 > self.y1 {
            return Err(format!(
                "x {}..{}, y {}..{} must lie inside the domain {self}",
                short(r.x0),
                short(r.x1),
                short(r.y0),
                short(r.y1),
            ));
        }
        Ok(r)
    }

    /// Maps the unit square onto the domain: `(0,0)` is `(x0,y0)`, `(1,1)` is `(x1,y1)`.
    pub fn lerp(&self, u: f64, v: f64) -> DVec2 {
        DVec2::new(self.x0 + u * self.width(), self.y0 + v * self.height())
    }
}

/// `[x0, x1] x [y0, y1]`, each bound with at most 6 decimals (a domain of `10 * 3.14` reads
/// 31.4, not 31.400000000000002).
impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}, {}] x [{}, {}]",
            short(self.x0),
            short(self.x1),
            short(self.y0),
            short(self.y1)
        )
    }
}

/// A number for messages: at most 6 decimals, no trailing zeros (tiny or huge ones in
/// scientific notation).
fn short(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e9).contains(&v.abs()) {
        return format!("{v:e}");
    }
    let t = format!("{v:.6}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" { "0".into() } else { t.to_string() }
}

/// The lowest value of a surface over its domain and every point where it is reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalMinimum {
    pub value: f64,
    pub points: Vec<DVec2>,
    /// True when the value was found numerically for a domain other than the one the catalog
    /// states it for (e.g. a user-chosen domain that excludes the known minima).
    pub estimated: bool,
}

/// Estimated minima of built-in surfaces on domains that exclude their stated minima, by kind
/// and domain: the estimate (a 257 x 257 grid and 16 local searches) is made once per setup,
/// not on every call (the sandbox asks several times per frame). The few most recent are kept.
static BUILTIN_MINIMA: Mutex<Vec<(SurfaceKind, Domain, Placement, GlobalMinimum)>> =
    Mutex::new(Vec::new());

/// How many recent estimates `BUILTIN_MINIMA` keeps.
const BUILTIN_MINIMA_KEPT: usize = 16;

thread_local! {
    /// Estimates made on this thread (for the test that the cache works).
    static ESTIMATES_MADE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn builtin_estimate(surface: &Surface) -> GlobalMinimum {
    let lock = || match BUILTIN_MINIMA.lock() {
        Ok(c) => c,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some((_, _, _, m)) = lock()
        .iter()
        .find(|(k, d, p, _)| *k == surface.kind && *d == surface.domain && *p == surface.placement)
    {
        return m.clone();
    }
    ESTIMATES_MADE.with(|n| n.set(n.get() + 1));
    let est = estimate_global_minimum(|p| surface.height(p), surface.domain, 257);
    let m = GlobalMinimum {
        value: est.value,
        points: est.points,
        estimated: true,
    };
    let mut cache = lock();
    if cache.len() >= BUILTIN_MINIMA_KEPT {
        cache.remove(0);
    }
    cache.push((
        surface.kind.clone(),
        surface.domain,
        surface.placement,
        m.clone(),
    ));
    m
}

/// The kinds of surface optiscape ships, with their parameters, and typed formulas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SurfaceKind {
    /// The notebook's surface, exactly as it wrote it (3.14, not pi).
    Seed,
    Rastrigin {
        a: f64,
    },
    Ackley,
    Himmelblau,
    Rosenbrock {
        a: f64,
        b: f64,
    },
    Beale,
    SixHumpCamel,
    StyblinskiTang,
    Levi13,
    GoldsteinPrice,
    Saddle,
    Plateau {
        sigma: f64,
    },
    Bowl,
    /// A typed `f(x, y)` with its parameter values.
    Formula(FormulaSurface),
    /// A trained network's loss on a plane (`net:DATASET[,key=value...]`).
    Net(NetSlice),
}

/// One surface parameter, for menus, `list` and the sandbox's sliders.
#[derive(Clone, Debug)]
pub struct SurfaceParam {
    pub name: Cow<'static, str>,
    pub doc: Cow<'static, str>,
    pub min: f64,
    pub max: f64,
}

/// A catalog entry: everything about a built-in surface that does not depend on its parameters.
#[derive(Clone, Debug)]
pub struct SurfaceInfo {
    /// The name used on the command line and in files.
    pub id: &'static str,
    pub display_name: &'static str,
    /// The formula, in plain text.
    pub formula: &'static str,
    /// One line: what this surface tests.
    pub note: &'static str,
    pub default_kind: SurfaceKind,
    pub default_domain: Domain,
    pub default_start: DVec2,
    pub params: &'static [SurfaceParam],
    /// Default success tolerance: a run succeeds when its loss is within this of the global
    /// minimum value.
    pub tol: f64,
}

/// A surface: a kind with its parameters, on a domain, placed there as defined or as an
/// instance (turned and shifted, see [`Placement`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Surface {
    pub kind: SurfaceKind,
    pub domain: Domain,
    #[serde(default, skip_serializing_if = "Placement::is_identity")]
    pub placement: Placement,
}

impl Default for Surface {
    /// The notebook's surface.
    fn default() -> Self {
        Self::seed()
    }
}

impl Surface {
    /// The built-in surface with this id, its default parameters and domain.
    pub fn by_id(id: &str) -> Option<Self> {
        catalog().iter().find(|s| s.id == id).map(Self::of)
    }

    /// A catalog entry's surface: its default parameters and domain, as defined.
    pub fn of(info: &SurfaceInfo) -> Self {
        Self {
            kind: info.default_kind.clone(),
            domain: info.default_domain,
            placement: Placement::IDENTITY,
        }
    }

    /// A typed surface `f(x, y)` on `domain` (default `[-5, 5]^2`), its parameters at 1.
    pub fn formula(source: &str, domain: Option<Domain>) -> Result<Self, FormulaError> {
        let f = Formula::parse(source)?;
        let values = vec![1.0; f.param_names().len()];
        Ok(Self {
            kind: SurfaceKind::Formula(FormulaSurface::new(f, values)),
            domain: domain.unwrap_or(FORMULA_INFO.default_domain),
            placement: Placement::IDENTITY,
        })
    }

    /// A network's loss on a plane (`net:` and what follows it), on the slice's domain.
    pub fn net(text: &str) -> Result<Self, String> {
        let slice = NetSlice::parse(text)?;
        Ok(Self {
            domain: slice.slice().domain(),
            kind: SurfaceKind::Net(slice),
            placement: Placement::IDENTITY,
        })
    }

    /// A surface from its command-line spelling: a catalog id, `formula:f(x, y)`, or
    /// `net:DATASET[,key=value...]`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        if let Some(src) = spec.strip_prefix("formula:") {
            return Self::formula(src, None).map_err(|e| format!("formula: {e}"));
        }
        if let Some(text) = spec.strip_prefix("net:") {
            return Self::net(text);
        }
        Self::by_id(spec).ok_or_else(|| {
            let ids: Vec<&str> = catalog().iter().map(|s| s.id).collect();
            format!(
                "unknown surface '{spec}' (known: {}, formula:f(x, y), or net:DATASET)",
                ids.join(", ")
            )
        })
    }

    /// The command-line spelling of this surface (see [`Surface::parse`]).
    pub fn spec(&self) -> String {
        match &self.kind {
            SurfaceKind::Formula(f) => format!("formula:{}", f.source()),
            SurfaceKind::Net(n) => format!("net:{}", n.text()),
            k => k.id().to_string(),
        }
    }

    /// The typed formula, when this is one.
    pub fn as_formula(&self) -> Option<&FormulaSurface> {
        match &self.kind {
            SurfaceKind::Formula(f) => Some(f),
            _ => None,
        }
    }

    /// The notebook's surface.
    pub fn seed() -> Self {
        Self::by_id("seed").expect("the catalog lists the seed surface")
    }

    /// The network slice, when this is one.
    pub fn as_net(&self) -> Option<&NetSlice> {
        match &self.kind {
            SurfaceKind::Net(n) => Some(n),
            _ => None,
        }
    }

    pub fn info(&self) -> &'static SurfaceInfo {
        match self.kind {
            SurfaceKind::Formula(_) => return &FORMULA_INFO,
            SurfaceKind::Net(_) => return &NET_INFO,
            _ => {}
        }
        let id = self.kind.id();
        catalog()
            .iter()
            .find(|s| s.id == id)
            .expect("every kind is in the catalog")
    }

    pub fn id(&self) -> &'static str {
        self.kind.id()
    }

    pub fn display_name(&self) -> &'static str {
        self.info().display_name
    }

    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// The region the camera frames by default (the notebook's view for `seed`).
    pub fn view(&self) -> Domain {
        match self.kind {
            SurfaceKind::Seed if self.domain == self.info().default_domain => seed::VIEW,
            _ => self.domain,
        }
    }

    /// The default start point, moved inside the domain if the domain was changed.
    pub fn default_start(&self) -> DVec2 {
        if let SurfaceKind::Formula(_) | SurfaceKind::Net(_) = self.kind {
            return self.domain.lerp(0.8, 0.8);
        }
        let p = self.info().default_start;
        let d = self.domain;
        if d.contains(p) { p } else { d.center() }
    }

    /// The default success tolerance on loss.
    pub fn tol(&self) -> f64 {
        self.info().tol
    }

    /// The height at `p` (the value part of [`Self::height_and_gradient`], bit for bit).
    #[inline]
    pub fn height(&self, p: DVec2) -> f64 {
        match &self.kind {
            SurfaceKind::Formula(f) if self.placement.is_identity() => f.height(p),
            SurfaceKind::Formula(f) => f.height(self.placement.to_source(self.domain.center(), p)),
            SurfaceKind::Net(n) if self.placement.is_identity() => n.height(p),
            SurfaceKind::Net(n) => n.height(self.placement.to_source(self.domain.center(), p)),
            _ => self.height_and_gradient(p).0,
        }
    }

    /// `(height(p), gradient(p))` in one evaluation: the surface's [`LaneEval`] on one f64
    /// value, the same code the lab's lockstep batches run on many.
    #[inline]
    pub fn height_and_gradient(&self, p: DVec2) -> (f64, DVec2) {
        struct At(DVec2);
        impl LaneSurfaceVisitor for At {
            type Out = (f64, DVec2);
            #[inline(always)]
            fn visit<S: LaneEval>(self, surface: S) -> (f64, DVec2) {
                let (h, g) = surface.eval(V2::from(self.0));
                (h, g.into())
            }
        }
        self.visit_lanes(At(p))
    }

    /// The exact gradient (analytic or by automatic differentiation; at kinks the subgradient
    /// with `sign(0) = 0`).
    #[inline]
    pub fn gradient(&self, p: DVec2) -> DVec2 {
        self.height_and_gradient(p).1
    }

    /// Calls `v` with this surface as its own [`LaneEval`] type (every surface has one).
    #[inline]
    pub fn visit_lanes<V: LaneSurfaceVisitor>(&self, v: V) -> V::Out {
        let (pl, c) = (&self.placement, self.domain.center());
        match &self.kind {
            SurfaceKind::Seed => v.visit(Placed::new(SeedLanes {}, pl, c)),
            SurfaceKind::Rastrigin { a } => v.visit(Placed::new(RastriginLanes { a: *a }, pl, c)),
            SurfaceKind::Ackley => v.visit(Placed::new(AckleyLanes {}, pl, c)),
            SurfaceKind::Himmelblau => v.visit(Placed::new(HimmelblauLanes {}, pl, c)),
            SurfaceKind::Rosenbrock { a, b } => {
                v.visit(Placed::new(RosenbrockLanes { a: *a, b: *b }, pl, c))
            }
            SurfaceKind::Beale => v.visit(Placed::new(BealeLanes {}, pl, c)),
            SurfaceKind::SixHumpCamel => v.visit(Placed::new(SixHumpCamelLanes {}, pl, c)),
            SurfaceKind::StyblinskiTang => v.visit(Placed::new(StyblinskiTangLanes {}, pl, c)),
            SurfaceKind::Levi13 => v.visit(Placed::new(Levi13Lanes {}, pl, c)),
            SurfaceKind::GoldsteinPrice => v.visit(Placed::new(GoldsteinPriceLanes {}, pl, c)),
            SurfaceKind::Saddle => v.visit(Placed::new(SaddleLanes {}, pl, c)),
            SurfaceKind::Plateau { sigma } => {
                v.visit(Placed::new(PlateauLanes { sigma: *sigma }, pl, c))
            }
            SurfaceKind::Bowl => v.visit(Placed::new(BowlLanes {}, pl, c)),
            SurfaceKind::Formula(f) => v.visit(Placed::new(
                FormulaLanes {
                    formula: f.formula(),
                    params: f.values(),
                },
                pl,
                c,
            )),
            SurfaceKind::Net(n) => v.visit(Placed::new(NetLanes { slice: n.slice() }, pl, c)),
        }
    }

    /// The global minimum on this surface's domain. For the catalog's domain (or any domain that
    /// still holds the stated minima) the stated literature values; otherwise a numerical
    /// estimate, marked as such.
    pub fn global_minimum(&self) -> GlobalMinimum {
        if !self.placement.is_identity() {
            return self.placed_minimum();
        }
        if let SurfaceKind::Formula(f) = &self.kind {
            return f.global_minimum(self.domain);
        }
        if let SurfaceKind::Net(n) = &self.kind {
            return n.global_minimum(self.domain);
        }
        let (value, points) = self.kind.stated_minimum();
        let inside: Vec<DVec2> = points
            .iter()
            .copied()
            .filter(|p| self.domain.contains(*p))
            .collect();
        if inside.len() == points.len() {
            return GlobalMinimum {
                value,
                points,
                estimated: false,
            };
        }
        builtin_estimate(self)
    }

    /// The global minimum of an instance: a built-in surface's stated minima moved with it
    /// (exact) when at least one stays inside the domain and nothing lower is found on the
    /// domain (a turn brings points from outside the domain as defined into view); otherwise,
    /// and for formulas, the numerical estimate.
    fn placed_minimum(&self) -> GlobalMinimum {
        let est = builtin_estimate(self);
        if let SurfaceKind::Formula(_) | SurfaceKind::Net(_) = &self.kind {
            return est;
        }
        let (value, points) = self.kind.stated_minimum();
        let c = self.domain.center();
        let moved: Vec<DVec2> = points
            .iter()
            .map(|m| self.placement.from_source(c, *m))
            .filter(|p| self.domain.contains(*p))
            .collect();
        if !moved.is_empty() && est.value >= value - 1e-9 * (1.0 + value.abs()) {
            GlobalMinimum {
                value,
                points: moved,
                estimated: false,
            }
        } else {
            est
        }
    }

    /// This surface as defined (without rotation or shift).
    pub fn unplaced(&self) -> Surface {
        Surface {
            placement: Placement::IDENTITY,
            ..self.clone()
        }
    }

    /// Turns the surface's picture `degrees` counter-clockwise about the domain's centre (no
    /// shift; replaces any instance).
    pub fn set_rotation(&mut self, degrees: f64) -> Result<(), String> {
        self.placement = Placement::rotation(degrees)?;
        Ok(())
    }

    /// Places the surface as instance `n` (0: as defined), drawn for its current domain and
    /// parameters (see [`Placement::instance`]).
    pub fn set_instance(&mut self, n: u64) {
        let minima = self.unplaced().global_minimum().points;
        self.placement = Placement::instance(n, &minima, self.domain);
    }

    /// Draws the instance again after the domain or a parameter changed (a rotation set by
    /// hand stays as it is).
    pub fn replace_instance(&mut self) {
        if self.placement.instance != 0 {
            self.set_instance(self.placement.instance);
        }
    }

    /// Whether the surface has a finite value anywhere on its domain (on the grid the minimum
    /// is searched on). A surface without one cannot be optimized or drawn.
    pub fn has_finite_values(&self) -> bool {
        self.global_minimum().value.is_finite()
    }

    /// The named parameters of this surface and their current values.
    pub fn params(&self) -> Vec<(SurfaceParam, f64)> {
        if let SurfaceKind::Formula(f) = &self.kind {
            return f.params();
        }
        let info = self.info();
        info.params
            .iter()
            .map(|p| (p.clone(), self.kind.param(&p.name).unwrap_or(f64::NAN)))
            .collect()
    }

    /// Sets a surface parameter by name, checking its range.
    pub fn set_param(&mut self, name: &str, value: f64) -> Result<(), String> {
        if let SurfaceKind::Formula(f) = &mut self.kind {
            return f.set_param(name, value);
        }
        let info = self.info();
        let Some(spec) = info.params.iter().find(|p| p.name == name) else {
            let names: Vec<&str> = info.params.iter().map(|p| p.name.as_ref()).collect();
            return Err(if names.is_empty() {
                format!("surface '{}' has no parameters", info.id)
            } else {
                format!(
                    "surface '{}' has no parameter '{name}' (it has: {})",
                    info.id,
                    names.join(", ")
                )
            });
        };
        if !value.is_finite() || value < spec.min || value > spec.max {
            return Err(format!(
                "surface parameter {name} must be between {} and {} (got {})",
                spec.min,
                spec.max,
                crate::setup::fmt_num(value)
            ));
        }
        self.kind.set_param(name, value);
        Ok(())
    }
}

impl SurfaceKind {
    pub fn id(&self) -> &'static str {
        match self {
            SurfaceKind::Seed => "seed",
            SurfaceKind::Rastrigin { .. } => "rastrigin",
            SurfaceKind::Ackley => "ackley",
            SurfaceKind::Himmelblau => "himmelblau",
            SurfaceKind::Rosenbrock { .. } => "rosenbrock",
            SurfaceKind::Beale => "beale",
            SurfaceKind::SixHumpCamel => "six-hump-camel",
            SurfaceKind::StyblinskiTang => "styblinski-tang",
            SurfaceKind::Levi13 => "levi13",
            SurfaceKind::GoldsteinPrice => "goldstein-price",
            SurfaceKind::Saddle => "saddle",
            SurfaceKind::Plateau { .. } => "plateau",
            SurfaceKind::Bowl => "bowl",
            SurfaceKind::Formula(_) => "formula",
            SurfaceKind::Net(_) => "net",
        }
    }

    fn param(&self, name: &str) -> Option<f64> {
        match (self, name) {
            (SurfaceKind::Rastrigin { a }, "a") => Some(*a),
            (SurfaceKind::Rosenbrock { a, .. }, "a") => Some(*a),
            (SurfaceKind::Rosenbrock { b, .. }, "b") => Some(*b),
            (SurfaceKind::Plateau { sigma }, "sigma") => Some(*sigma),
            _ => None,
        }
    }

    fn set_param(&mut self, name: &str, value: f64) {
        match (self, name) {
            (SurfaceKind::Rastrigin { a }, "a") => *a = value,
            (SurfaceKind::Rosenbrock { a, .. }, "a") => *a = value,
            (SurfaceKind::Rosenbrock { b, .. }, "b") => *b = value,
            (SurfaceKind::Plateau { sigma }, "sigma") => *sigma = value,
            _ => {}
        }
    }

    /// The literature (or, for `seed`, the numerically proven) global minimum over the catalog's
    /// default domain.
    fn stated_minimum(&self) -> (f64, Vec<DVec2>) {
        match self {
            SurfaceKind::Seed => (seed::MIN_VALUE, seed::MIN_POINTS.to_vec()),
            SurfaceKind::Rosenbrock { a, .. } => (0.0, vec![DVec2::new(*a, a * a)]),
            _ => classic::stated_minimum(self.id()),
        }
    }
}

/// Every built-in surface, in menu order.
pub fn catalog() -> &'static [SurfaceInfo] {
    &CATALOG
}

static CATALOG: [SurfaceInfo; 13] = [
    seed::INFO,
    classic::RASTRIGIN,
    classic::ACKLEY,
    classic::HIMMELBLAU,
    classic::ROSENBROCK,
    classic::BEALE,
    classic::SIX_HUMP_CAMEL,
    classic::STYBLINSKI_TANG,
    classic::LEVI13,
    classic::GOLDSTEIN_PRICE,
    classic::SADDLE,
    classic::PLATEAU,
    classic::BOWL,
];

/// What `info()` says of a typed formula (formulas are not in `catalog()`; `default_kind` is
/// never used for them).
static FORMULA_INFO: SurfaceInfo = SurfaceInfo {
    id: "formula",
    display_name: "Your formula",
    formula: "f(x, y) as typed",
    note: "a typed surface; its global minimum is a numerical estimate",
    default_kind: SurfaceKind::Bowl,
    default_domain: Domain::square(-5.0, 5.0),
    default_start: DVec2::new(3.0, 3.0),
    params: &[],
    tol: 1e-3,
};

/// What `info()` says of a network slice (not in `catalog()`; `default_kind` is never used).
static NET_INFO: SurfaceInfo = SurfaceInfo {
    id: "net",
    display_name: "Network slice",
    formula: "L(theta* + a d1 + b d2): a trained network's loss on a plane",
    note: "a network's loss on a plane through a trained minimum (Li et al. 2018); its global minimum is a numerical estimate",
    default_kind: SurfaceKind::Bowl,
    default_domain: Domain::square(-1.0, 1.0),
    default_start: DVec2::new(0.6, 0.6),
    params: &[],
    tol: 1e-3,
};

/// The range a formula parameter may take (its slider shows a narrower one).
pub const FORMULA_PARAM_RANGE: (f64, f64) = (-1e6, 1e6);

/// A typed surface: the compiled formula, its parameter values, and its numerically estimated
/// global minimum (computed once per domain). Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct FormulaSurface(Arc<FormulaInner>);

#[derive(Debug)]
struct FormulaInner {
    formula: Formula,
    values: Vec<f64>,
    minimum: Mutex<Option<(Domain, GlobalMinimum)>>,
}

impl FormulaSurface {
    pub fn new(formula: Formula, values: Vec<f64>) -> Self {
        Self(Arc::new(FormulaInner {
            formula,
            values,
            minimum: Mutex::new(None),
        }))
    }

    pub fn formula(&self) -> &Formula {
        &self.0.formula
    }

    pub fn source(&self) -> &str {
        self.0.formula.source()
    }

    pub fn values(&self) -> &[f64] {
        &self.0.values
    }

    #[inline]
    pub fn height(&self, p: DVec2) -> f64 {
        self.0.formula.value(p, &self.0.values)
    }

    #[inline]
    pub fn height_and_gradient(&self, p: DVec2) -> (f64, DVec2) {
        self.0.formula.value_and_gradient(p, &self.0.values)
    }

    fn params(&self) -> Vec<(SurfaceParam, f64)> {
        let (min, max) = FORMULA_PARAM_RANGE;
        self.0
            .formula
            .param_names()
            .iter()
            .zip(&self.0.values)
            .map(|(name, v)| {
                let p = SurfaceParam {
                    name: Cow::Owned(name.clone()),
                    doc: Cow::Borrowed("a parameter of your formula"),
                    min,
                    max,
                };
                (p, *v)
            })
            .collect()
    }

    fn set_param(&mut self, name: &str, value: f64) -> Result<(), String> {
        let names = self.0.formula.param_names();
        let Some(i) = names.iter().position(|n| n == name) else {
            return Err(if names.is_empty() {
                "this formula has no parameters".to_string()
            } else {
                format!(
                    "this formula has no parameter '{name}' (it has: {})",
                    names.join(", ")
                )
            });
        };
        let (min, max) = FORMULA_PARAM_RANGE;
        if !value.is_finite() || !(min..=max).contains(&value) {
            return Err(format!(
                "parameter {name} must be a finite number between {min} and {max} (got {})",
                crate::setup::fmt_num(value)
            ));
        }
        let mut values = self.0.values.clone();
        values[i] = value;
        *self = Self::new(self.0.formula.clone(), values);
        Ok(())
    }

    /// The numerical estimate over `domain`, cached for the last domain asked.
    fn global_minimum(&self, domain: Domain) -> GlobalMinimum {
        cached_estimate(&self.0.minimum, domain, 257, |p| self.height(p))
    }
}

/// The numerical estimate of `f`'s minimum over `domain` on an `n x n` grid
/// ([`estimate_global_minimum`]), kept in `cache` for the last domain asked (a typed formula's,
/// a network slice's).
fn cached_estimate(
    cache: &Mutex<Option<(Domain, GlobalMinimum)>>,
    domain: Domain,
    n: usize,
    f: impl Fn(DVec2) -> f64 + Sync,
) -> GlobalMinimum {
    let mut cache = match cache.lock() {
        Ok(c) => c,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some((d, m)) = cache.as_ref()
        && *d == domain
    {
        return m.clone();
    }
    let est = estimate_global_minimum(f, domain, n);
    let m = GlobalMinimum {
        value: est.value,
        points: est.points,
        estimated: true,
    };
    *cache = Some((domain, m.clone()));
    m
}

impl PartialEq for FormulaSurface {
    fn eq(&self, other: &Self) -> bool {
        self.0.formula.source() == other.0.formula.source() && self.0.values == other.0.values
    }
}

/// How a formula is written in files: its text and its parameter values by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormulaSpec {
    pub source: String,
    #[serde(default)]
    pub params: Vec<(String, f64)>,
}

impl Serialize for FormulaSurface {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FormulaSpec::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for FormulaSurface {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spec = FormulaSpec::deserialize(d)?;
        FormulaSurface::try_from(spec).map_err(serde::de::Error::custom)
    }
}

impl From<&FormulaSurface> for FormulaSpec {
    fn from(f: &FormulaSurface) -> Self {
        Self {
            source: f.source().to_string(),
            params: f
                .formula()
                .param_names()
                .iter()
                .cloned()
                .zip(f.values().iter().copied())
                .collect(),
        }
    }
}

impl TryFrom<FormulaSpec> for FormulaSurface {
    type Error = String;

    fn try_from(spec: FormulaSpec) -> Result<Self, String> {
        let formula = Formula::parse(&spec.source).map_err(|e| format!("formula {e}"))?;
        let values = vec![1.0; formula.param_names().len()];
        let mut f = FormulaSurface::new(formula, values);
        for (name, v) in &spec.params {
            f.set_param(name, *v)?;
        }
        Ok(f)
    }
}

/// A surface's height and gradient written once for any lane type ([`Real`]): `f64` for a
/// ball and `trace`, four or eight runs side by side for the lab's lockstep batches. One type
/// per surface, so that a batch's loop is compiled for it alone.
pub trait LaneEval: Copy + Send + Sync {
    /// Whether the lab should evaluate a whole block of lane groups at once with
    /// [`Self::eval_block`] (an interpreted formula: one dispatch per instruction for the block)
    /// rather than each group right after its update (compiled surfaces: better overlap).
    const BLOCKWISE: bool = false;

    /// Height and gradient at `p`, lane by lane.
    fn eval<R: Real>(self, p: V2<R>) -> (R, V2<R>);

    /// [`Self::eval`] of many values (`out[i]` for `ps[i]`), bit for bit the same. `scratch`
    /// is working memory the caller keeps between calls (typed formulas interpret their program
    /// once for the whole block).
    #[inline(always)]
    fn eval_block<R: Real>(
        self,
        ps: &[V2<R>],
        out: &mut [(R, V2<R>)],
        _scratch: &mut Vec<Dual<R>>,
    ) {
        for (o, p) in out.iter_mut().zip(ps) {
            *o = self.eval(*p);
        }
    }
}

/// Something done with a [`LaneEval`] ([`Surface::visit_lanes`]).
pub trait LaneSurfaceVisitor {
    type Out;
    fn visit<S: LaneEval>(self, surface: S) -> Self::Out;
}

/// A [`LaneEval`] type for a built-in surface: `$name { fields } => |self, p| body`.
macro_rules! lane_surface {
    ($(#[$doc:meta])* $name:ident { $($field:ident),* } => |$s:ident, $p:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name {
            $(pub $field: f64,)*
        }

        impl LaneEval for $name {
            #[inline(always)]
            fn eval<R: Real>(self, $p: V2<R>) -> (R, V2<R>) {
                let $s = self;
                $body
            }
        }
    };
}

lane_surface!(
    /// The notebook's surface.
    SeedLanes {} => |_s, p| seed::eval(p)
);
lane_surface!(
    /// Rastrigin's function.
    RastriginLanes { a } => |s, p| classic::rastrigin_eval(s.a, p)
);
lane_surface!(
    /// Ackley's function.
    AckleyLanes {} => |_s, p| classic::ackley_eval(p)
);
lane_surface!(
    /// Himmelblau's function.
    HimmelblauLanes {} => |_s, p| classic::himmelblau_eval(p)
);
lane_surface!(
    /// Rosenbrock's function.
    RosenbrockLanes { a, b } => |s, p| classic::rosenbrock_eval(s.a, s.b, p)
);
lane_surface!(
    /// Beale's function.
    BealeLanes {} => |_s, p| classic::beale_eval(p)
);
lane_surface!(
    /// The six-hump camel.
    SixHumpCamelLanes {} => |_s, p| classic::six_hump_camel_eval(p)
);
lane_surface!(
    /// Styblinski-Tang.
    StyblinskiTangLanes {} => |_s, p| classic::styblinski_tang_eval(p)
);
lane_surface!(
    /// Levi N.13.
    Levi13Lanes {} => |_s, p| classic::levi13_eval(p)
);
lane_surface!(
    /// Goldstein-Price.
    GoldsteinPriceLanes {} => |_s, p| classic::goldstein_price_eval(p)
);
lane_surface!(
    /// The saddle.
    SaddleLanes {} => |_s, p| classic::saddle_eval(p)
);
lane_surface!(
    /// The plateau.
    PlateauLanes { sigma } => |s, p| classic::plateau_eval(s.sigma, p)
);
lane_surface!(
    /// The bowl.
    BowlLanes {} => |_s, p| classic::bowl_eval(p)
);

/// A typed formula with its parameter values: the compiled program, interpreted over lanes.
#[derive(Clone, Copy, Debug)]
pub struct FormulaLanes<'a> {
    pub formula: &'a Formula,
    pub params: &'a [f64],
}

impl LaneEval for FormulaLanes<'_> {
    const BLOCKWISE: bool = true;

    #[inline(always)]
    fn eval<R: Real>(self, p: V2<R>) -> (R, V2<R>) {
        self.formula.eval(p, self.params)
    }

    #[inline(always)]
    fn eval_block<R: Real>(self, ps: &[V2<R>], out: &mut [(R, V2<R>)], scratch: &mut Vec<Dual<R>>) {
        self.formula.eval_block(ps, self.params, out, scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_in_minimum_on_a_user_domain_is_estimated_once() {
        let mut s = Surface::by_id("rastrigin").expect("built in");
        // Excludes the minimum at the origin.
        s.domain = Domain::new(1.3, 4.7, -2.9, -0.6);
        let before = ESTIMATES_MADE.with(|n| n.get());
        let first = s.global_minimum();
        assert!(first.estimated);
        for _ in 0..5 {
            assert_eq!(s.clone().global_minimum(), first);
        }
        assert_eq!(ESTIMATES_MADE.with(|n| n.get()) - before, 1);
        // Another domain is another estimate.
        s.domain.x1 = 4.6;
        s.global_minimum();
        assert_eq!(ESTIMATES_MADE.with(|n| n.get()) - before, 2);
    }

    #[test]
    // The notebook's domain is 10 x 3.14, not 10 pi.
    #[allow(clippy::approx_constant)]
    fn domains_read_well_in_messages() {
        assert_eq!(
            Domain::square(0.0, 10.0 * 3.14).to_string(),
            "[0, 31.4] x [0, 31.4]"
        );
        assert_eq!(
            Domain::new(-5.12, 1e-7, -2.5e12, -0.0).to_string(),
            "[-5.12, 1e-7] x [-2.5e12, 0]"
        );
    }

    #[test]
    fn a_formula_without_finite_values_is_recognised() {
        let s = Surface::formula("sqrt(-1 - x^2 - y^2)", None).expect("parses");
        assert!(!s.has_finite_values());
        assert!(
            Surface::formula("sqrt(x)", None)
                .expect("parses")
                .has_finite_values()
        );
        assert!(Surface::seed().has_finite_values());
    }
}
