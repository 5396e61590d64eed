//! Named hyperparameters: one description (`ParamSpec`) per name, and mutable views of the
//! values, so the CLI's `--set`, the sandbox's widgets and `list` all work from the same table.

/// What kind of value a hyperparameter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Num,
    /// Two numbers, written `a,b` (PyTorch's `betas`).
    Pair,
    Flag,
    /// A whole number of at least 1.
    Count,
    /// One of a few names (e.g. CMA-ES's `restarts`: none, ipop, bipop).
    Choice,
}

/// A value that is one of its spec's `choices`, by index.
pub trait Choice: std::fmt::Debug {
    fn index(&self) -> usize;
    fn set_index(&mut self, i: usize);
}

/// A hyperparameter's name, meaning, valid range and the range its slider offers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub doc: &'static str,
    pub kind: ParamKind,
    /// Valid values are `min..max`, each end open or closed as `min_open`/`max_open` say.
    pub min: f64,
    pub max: f64,
    pub min_open: bool,
    pub max_open: bool,
    /// The range a slider offers (a subset of the valid range).
    pub slider: (f64, f64),
    /// Whether a slider should be logarithmic.
    pub log: bool,
    /// The names a `Choice` takes, in order.
    pub choices: &'static [&'static str],
}

impl ParamSpec {
    const fn base(name: &'static str, doc: &'static str, kind: ParamKind) -> Self {
        Self {
            name,
            doc,
            kind,
            min: 0.0,
            max: f64::INFINITY,
            min_open: false,
            max_open: true,
            slider: (0.0, 1.0),
            log: false,
            choices: &[],
        }
    }

    /// A positive number (`> 0`) with a logarithmic slider over `lo..=hi`.
    pub const fn positive_log(name: &'static str, doc: &'static str, lo: f64, hi: f64) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Num);
        s.min_open = true;
        s.slider = (lo, hi);
        s.log = true;
        s
    }

    /// A non-negative number (`>= 0`) with a linear slider over `0..=hi`.
    pub const fn non_negative(name: &'static str, doc: &'static str, hi: f64) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Num);
        s.slider = (0.0, hi);
        s
    }

    /// A number in `[0, 1)`: momentum factors and decay rates.
    pub const fn fraction(name: &'static str, doc: &'static str) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Num);
        s.max = 1.0;
        s.slider = (0.0, 0.999);
        s
    }

    /// A number in `(0, 1]`: multiplicative decay factors.
    pub const fn factor(name: &'static str, doc: &'static str) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Num);
        s.min_open = true;
        s.max = 1.0;
        s.max_open = false;
        s.slider = (0.9, 1.0);
        s
    }

    /// Two numbers, each in `[0, 1)`.
    pub const fn betas(doc: &'static str) -> Self {
        let mut s = Self::base("betas", doc, ParamKind::Pair);
        s.max = 1.0;
        s.slider = (0.0, 0.9999);
        s
    }

    /// One of `choices`, by name.
    pub const fn choice(
        name: &'static str,
        doc: &'static str,
        choices: &'static [&'static str],
    ) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Choice);
        s.choices = choices;
        s
    }

    pub const fn flag(name: &'static str, doc: &'static str) -> Self {
        Self::base(name, doc, ParamKind::Flag)
    }

    /// Two numbers, each in `[lo, hi)`.
    pub const fn pair_in(name: &'static str, doc: &'static str, lo: f64, hi: f64) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Pair);
        s.min = lo;
        s.max = hi;
        s.slider = (lo, hi);
        s
    }

    /// A number between `lo` and `hi`, each end open or closed as given, with a linear slider.
    pub const fn between(
        name: &'static str,
        doc: &'static str,
        (lo, lo_open): (f64, bool),
        (hi, hi_open): (f64, bool),
    ) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Num);
        s.min = lo;
        s.min_open = lo_open;
        s.max = hi;
        s.max_open = hi_open;
        s.slider = (lo, hi);
        s
    }

    /// A probability: a number in `[0, 1]`.
    pub const fn unit(name: &'static str, doc: &'static str) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Num);
        s.max = 1.0;
        s.max_open = false;
        s.slider = (0.0, 1.0);
        s
    }

    /// A whole number of at least `min`.
    pub const fn count_from(name: &'static str, doc: &'static str, min: f64, hi: f64) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Count);
        s.min = min;
        s.slider = (min, hi);
        s
    }

    /// A whole number in `min..=max` (a population size: the largest one a run allocates).
    pub const fn count_in(
        name: &'static str,
        doc: &'static str,
        min: f64,
        max: f64,
        hi: f64,
    ) -> Self {
        let mut s = Self::count_from(name, doc, min, hi);
        s.max = max;
        s.max_open = false;
        s
    }

    pub const fn count(name: &'static str, doc: &'static str, hi: f64) -> Self {
        let mut s = Self::base(name, doc, ParamKind::Count);
        s.min = 1.0;
        s.slider = (1.0, hi);
        s
    }

    /// Checks one number against the valid range.
    pub fn check(&self, v: f64) -> Result<(), String> {
        let low_ok = if self.min_open {
            v > self.min
        } else {
            v >= self.min
        };
        let high_ok = if self.max_open {
            v < self.max
        } else {
            v <= self.max
        };
        if v.is_finite() && low_ok && high_ok {
            Ok(())
        } else {
            Err(format!(
                "{} must be {} (got {})",
                self.name,
                self.range_text(),
                crate::setup::fmt_num(v)
            ))
        }
    }

    /// The valid range in words, e.g. `> 0` or `in [0, 1)`.
    pub fn range_text(&self) -> String {
        match self.kind {
            ParamKind::Flag => "true or false".into(),
            ParamKind::Choice => format!("one of {}", self.choices.join(", ")),
            ParamKind::Count if self.max.is_finite() => {
                format!("a whole number in [{}, {}]", self.min, self.max)
            }
            ParamKind::Count => format!("a whole number >= {}", self.min),
            _ if self.max == f64::INFINITY => {
                if self.min_open {
                    format!("> {}", self.min)
                } else {
                    format!(">= {}", self.min)
                }
            }
            _ => format!(
                "in {}{}, {}{}",
                if self.min_open { '(' } else { '[' },
                self.min,
                self.max,
                if self.max_open { ')' } else { ']' }
            ),
        }
    }
}

/// A mutable view of one hyperparameter's value.
#[derive(Debug)]
pub enum ParamMut<'a> {
    Num(&'a mut f64),
    Pair(&'a mut [f64; 2]),
    Flag(&'a mut bool),
    Count(&'a mut u32),
    Choice(&'a mut dyn Choice),
}

/// A hyperparameter: its description and a view of its value.
#[derive(Debug)]
pub struct Param<'a> {
    pub spec: &'static ParamSpec,
    pub value: ParamMut<'a>,
}

impl<'a> Param<'a> {
    pub fn num(spec: &'static ParamSpec, v: &'a mut f64) -> Self {
        Self {
            spec,
            value: ParamMut::Num(v),
        }
    }

    pub fn pair(spec: &'static ParamSpec, v: &'a mut [f64; 2]) -> Self {
        Self {
            spec,
            value: ParamMut::Pair(v),
        }
    }

    pub fn flag(spec: &'static ParamSpec, v: &'a mut bool) -> Self {
        Self {
            spec,
            value: ParamMut::Flag(v),
        }
    }

    pub fn choice(spec: &'static ParamSpec, v: &'a mut dyn Choice) -> Self {
        Self {
            spec,
            value: ParamMut::Choice(v),
        }
    }

    pub fn count(spec: &'static ParamSpec, v: &'a mut u32) -> Self {
        Self {
            spec,
            value: ParamMut::Count(v),
        }
    }

    /// The value as text, in the form `set` accepts.
    pub fn text(&self) -> String {
        match &self.value {
            ParamMut::Num(v) => format!("{v:?}"),
            ParamMut::Pair(v) => format!("{:?},{:?}", v[0], v[1]),
            ParamMut::Flag(v) => v.to_string(),
            ParamMut::Count(v) => v.to_string(),
            ParamMut::Choice(v) => self
                .spec
                .choices
                .get(v.index())
                .copied()
                .unwrap_or("")
                .to_string(),
        }
    }

    /// Parses `text`, checks it against the spec and stores it; on error nothing changes.
    pub fn set_text(&mut self, text: &str) -> Result<(), String> {
        let name = self.spec.name;
        let num = |t: &str| -> Result<f64, String> {
            t.trim()
                .parse::<f64>()
                .map_err(|_| format!("{name} expects a number, got '{}'", t.trim()))
        };
        match &mut self.value {
            ParamMut::Num(v) => {
                let x = num(text)?;
                self.spec.check(x)?;
                **v = x;
            }
            ParamMut::Pair(v) => {
                let parts: Vec<&str> = text.split(',').collect();
                if parts.len() != 2 {
                    return Err(format!(
                        "{name} expects two numbers like 0.9,0.999, got '{text}'"
                    ));
                }
                let (a, b) = (num(parts[0])?, num(parts[1])?);
                self.spec.check(a)?;
                self.spec.check(b)?;
                **v = [a, b];
            }
            ParamMut::Flag(v) => {
                **v = match text.trim() {
                    "true" | "1" | "yes" | "on" => true,
                    "false" | "0" | "no" | "off" => false,
                    other => return Err(format!("{name} expects true or false, got '{other}'")),
                };
            }
            ParamMut::Choice(v) => {
                let t = text.trim();
                let i = self
                    .spec
                    .choices
                    .iter()
                    .position(|c| *c == t)
                    .ok_or_else(|| {
                        format!(
                            "{name} expects one of {}, got '{t}'",
                            self.spec.choices.join(", ")
                        )
                    })?;
                v.set_index(i);
            }
            ParamMut::Count(v) => {
                let min = self.spec.min.max(1.0);
                let range = if self.spec.max.is_finite() {
                    format!("in [{min}, {}]", self.spec.max)
                } else {
                    format!(">= {min}")
                };
                let n: u32 = text.trim().parse().map_err(|_| {
                    format!(
                        "{name} expects a whole number {range}, got '{}'",
                        text.trim()
                    )
                })?;
                if f64::from(n) < min || f64::from(n) > self.spec.max {
                    return Err(format!("{name} must be a whole number {range} (got {n})"));
                }
                **v = n;
            }
        }
        Ok(())
    }

    /// Copies the value of `other` (same spec) into this parameter.
    pub fn copy_from(&mut self, other: &Param<'_>) {
        match (&mut self.value, &other.value) {
            (ParamMut::Num(a), ParamMut::Num(b)) => **a = **b,
            (ParamMut::Pair(a), ParamMut::Pair(b)) => **a = **b,
            (ParamMut::Flag(a), ParamMut::Flag(b)) => **a = **b,
            (ParamMut::Count(a), ParamMut::Count(b)) => **a = **b,
            (ParamMut::Choice(a), ParamMut::Choice(b)) => a.set_index(b.index()),
            _ => {}
        }
    }
}

/// Named specs shared by several rules (PyTorch's names and meanings).
pub mod common {
    use super::ParamSpec;

    pub static LR: ParamSpec = ParamSpec::positive_log("lr", "learning rate", 1e-5, 10.0);
    pub static WEIGHT_DECAY: ParamSpec =
        ParamSpec::non_negative("weight_decay", "L2 penalty (added to the gradient)", 1.0);
    pub static DECOUPLED_WEIGHT_DECAY: ParamSpec = ParamSpec::non_negative(
        "weight_decay",
        "decoupled weight decay (applied to the parameter)",
        1.0,
    );
    pub static MOMENTUM: ParamSpec = ParamSpec::fraction("momentum", "momentum factor");
    pub static EPS: ParamSpec = ParamSpec::positive_log(
        "eps",
        "term added to the denominator for numerical stability",
        1e-16,
        1.0,
    );
    pub static BETAS: ParamSpec =
        ParamSpec::betas("coefficients of the running averages of the gradient and of its square");
}
