//! SciPy's Wolfe line searches, as `scipy.optimize._linesearch` writes them: `line_search_wolfe1`
//! (MINPACK's `dcsrch` and `dcstep`, Moré & Thuente 1994, in SciPy's Python translation) and
//! the fallback `line_search_wolfe2` (Nocedal & Wright, Algorithms 3.5 and 3.6, with SciPy's
//! cubic and quadratic interpolation in `_zoom`). The order of every operation follows SciPy's,
//! so BFGS's iterates equal SciPy's.

/// A function along a line: `phi(a) = f(x + a p)`, `derphi(a) = ∇f(x + a p) · p`.
pub trait Line {
    fn phi(&mut self, a: f64) -> f64;
    fn derphi(&mut self, a: f64) -> f64;
}

/// What a line search found: the step, the value there, and the value at 0.
pub struct Found {
    pub stp: Option<f64>,
    pub phi: f64,
    pub phi0: f64,
    /// Whether `derphi` was taken at the step (so the caller has the gradient there).
    pub has_gradient: bool,
}

/// `scalar_search_wolfe1` (strong Wolfe conditions by MINPACK's `dcsrch`).
#[allow(clippy::too_many_arguments)]
pub fn wolfe1(
    line: &mut impl Line,
    phi0: f64,
    old_phi0: f64,
    derphi0: f64,
    c1: f64,
    c2: f64,
    amax: f64,
    amin: f64,
    xtol: f64,
) -> Found {
    let mut alpha1 = if derphi0 != 0.0 {
        let a = f64::min(1.0, 1.01 * 2.0 * (phi0 - old_phi0) / derphi0);
        if a < 0.0 { 1.0 } else { a }
    } else {
        1.0
    };
    // NaN from `min(1.0, nan)`: Python's min keeps its first argument when the comparison fails.
    if alpha1.is_nan() {
        alpha1 = 1.0;
    }
    let mut s = Dcsrch {
        ftol: c1,
        gtol: c2,
        xtol,
        stpmin: amin,
        stpmax: amax,
        ..Dcsrch::default()
    };
    let mut phi1 = phi0;
    let mut derphi1 = derphi0;
    let mut task = Task::Start;
    let mut stp_out = None;
    for _ in 0..100 {
        let (stp, t) = s.iterate(alpha1, phi1, derphi1, task);
        task = t;
        if !stp.is_finite() {
            return Found {
                stp: None,
                phi: phi1,
                phi0,
                has_gradient: false,
            };
        }
        if task == Task::Fg {
            alpha1 = stp;
            phi1 = line.phi(stp);
            derphi1 = line.derphi(stp);
        } else {
            stp_out = Some(stp);
            break;
        }
    }
    let ok = task == Task::Convergence;
    Found {
        stp: if ok { stp_out } else { None },
        phi: phi1,
        phi0,
        has_gradient: ok,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Task {
    Start,
    Fg,
    Convergence,
    Warning,
    Error,
}

#[derive(Default)]
struct Dcsrch {
    ftol: f64,
    gtol: f64,
    xtol: f64,
    stpmin: f64,
    stpmax: f64,
    brackt: bool,
    stage: u8,
    ginit: f64,
    gtest: f64,
    gx: f64,
    gy: f64,
    finit: f64,
    fx: f64,
    fy: f64,
    stx: f64,
    sty: f64,
    stmin: f64,
    stmax: f64,
    width: f64,
    width1: f64,
}

impl Dcsrch {
    fn iterate(&mut self, mut stp: f64, f: f64, g: f64, task: Task) -> (f64, Task) {
        const P5: f64 = 0.5;
        const P66: f64 = 0.66;
        const XTRAPL: f64 = 1.1;
        const XTRAPU: f64 = 4.0;
        if task == Task::Start {
            if stp < self.stpmin
                || stp > self.stpmax
                || g >= 0.0
                || self.ftol < 0.0
                || self.gtol < 0.0
                || self.xtol < 0.0
                || self.stpmin < 0.0
                || self.stpmax < self.stpmin
            {
                return (stp, Task::Error);
            }
            self.brackt = false;
            self.stage = 1;
            self.finit = f;
            self.ginit = g;
            self.gtest = self.ftol * self.ginit;
            self.width = self.stpmax - self.stpmin;
            self.width1 = self.width / P5;
            self.stx = 0.0;
            self.fx = self.finit;
            self.gx = self.ginit;
            self.sty = 0.0;
            self.fy = self.finit;
            self.gy = self.ginit;
            self.stmin = 0.0;
            self.stmax = stp + XTRAPU * stp;
            return (stp, Task::Fg);
        }
        let ftest = self.finit + stp * self.gtest;
        if self.stage == 1 && f <= ftest && g >= 0.0 {
            self.stage = 2;
        }
        let mut out = None;
        if self.brackt && (stp <= self.stmin || stp >= self.stmax) {
            out = Some(Task::Warning);
        }
        if self.brackt && self.stmax - self.stmin <= self.xtol * self.stmax {
            out = Some(Task::Warning);
        }
        if stp == self.stpmax && f <= ftest && g <= self.gtest {
            out = Some(Task::Warning);
        }
        if stp == self.stpmin && (f > ftest || g >= self.gtest) {
            out = Some(Task::Warning);
        }
        if f <= ftest && g.abs() <= self.gtol * -self.ginit {
            out = Some(Task::Convergence);
        }
        if let Some(t) = out {
            return (stp, t);
        }
        if self.stage == 1 && f <= self.fx && f > ftest {
            let fm = f - stp * self.gtest;
            let mut fxm = self.fx - self.stx * self.gtest;
            let mut fym = self.fy - self.sty * self.gtest;
            let gm = g - self.gtest;
            let mut gxm = self.gx - self.gtest;
            let mut gym = self.gy - self.gtest;
            let mut st = Step {
                stx: self.stx,
                fx: fxm,
                dx: gxm,
                sty: self.sty,
                fy: fym,
                dy: gym,
                brackt: self.brackt,
            };
            stp = st.dcstep(stp, fm, gm, self.stmin, self.stmax);
            (self.stx, fxm, gxm, self.sty, fym, gym, self.brackt) =
                (st.stx, st.fx, st.dx, st.sty, st.fy, st.dy, st.brackt);
            self.fx = fxm + self.stx * self.gtest;
            self.fy = fym + self.sty * self.gtest;
            self.gx = gxm + self.gtest;
            self.gy = gym + self.gtest;
        } else {
            let mut st = Step {
                stx: self.stx,
                fx: self.fx,
                dx: self.gx,
                sty: self.sty,
                fy: self.fy,
                dy: self.gy,
                brackt: self.brackt,
            };
            stp = st.dcstep(stp, f, g, self.stmin, self.stmax);
            (
                self.stx,
                self.fx,
                self.gx,
                self.sty,
                self.fy,
                self.gy,
                self.brackt,
            ) = (st.stx, st.fx, st.dx, st.sty, st.fy, st.dy, st.brackt);
        }
        if self.brackt {
            if (self.sty - self.stx).abs() >= P66 * self.width1 {
                stp = self.stx + P5 * (self.sty - self.stx);
            }
            self.width1 = self.width;
            self.width = (self.sty - self.stx).abs();
        }
        if self.brackt {
            self.stmin = self.stx.min(self.sty);
            self.stmax = self.stx.max(self.sty);
        } else {
            self.stmin = stp + XTRAPL * (stp - self.stx);
            self.stmax = stp + XTRAPU * (stp - self.stx);
        }
        stp = np_clip(stp, self.stpmin, self.stpmax);
        if self.brackt
            && (stp <= self.stmin
                || stp >= self.stmax
                || self.stmax - self.stmin <= self.xtol * self.stmax)
        {
            stp = self.stx;
        }
        (stp, Task::Fg)
    }
}

/// `np.clip` of a scalar: `min(max(x, lo), hi)`, NaN kept.
fn np_clip(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let y = if x < lo { lo } else { x };
    if y > hi { hi } else { y }
}

/// `np.sign`: -1, 0 or 1 (NaN for NaN).
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

/// Python's `max` of several floats: the first of the largest by `>` (NaN never wins over a
/// first argument).
fn py_max(v: &[f64]) -> f64 {
    let mut m = v[0];
    for &x in &v[1..] {
        if x > m {
            m = x;
        }
    }
    m
}

/// The interval state `dcstep` updates.
struct Step {
    stx: f64,
    fx: f64,
    dx: f64,
    sty: f64,
    fy: f64,
    dy: f64,
    brackt: bool,
}

impl Step {
    /// MINPACK's `dcstep`: the next trial step from a cubic or quadratic model; updates the
    /// interval of uncertainty.
    fn dcstep(&mut self, stp: f64, fp: f64, dp: f64, stpmin: f64, stpmax: f64) -> f64 {
        let (stx, fx, dx, sty, fy, dy) = (self.stx, self.fx, self.dx, self.sty, self.fy, self.dy);
        let sgnd = sign(dp) * sign(dx);
        let stpf;
        if fp > fx {
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            let s = py_max(&[theta.abs(), dx.abs(), dp.abs()]);
            let mut gamma = s * ((theta / s).powi(2) - (dx / s) * (dp / s)).sqrt();
            if stp < stx {
                gamma *= -1.0;
            }
            let p = (gamma - dx) + theta;
            let q = ((gamma - dx) + gamma) + dp;
            let r = p / q;
            let stpc = stx + r * (stp - stx);
            let stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
            stpf = if (stpc - stx).abs() <= (stpq - stx).abs() {
                stpc
            } else {
                stpc + (stpq - stpc) / 2.0
            };
            self.brackt = true;
        } else if sgnd < 0.0 {
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            let s = py_max(&[theta.abs(), dx.abs(), dp.abs()]);
            let mut gamma = s * ((theta / s).powi(2) - (dx / s) * (dp / s)).sqrt();
            if stp > stx {
                gamma *= -1.0;
            }
            let p = (gamma - dp) + theta;
            let q = ((gamma - dp) + gamma) + dx;
            let r = p / q;
            let stpc = stp + r * (stx - stp);
            let stpq = stp + (dp / (dp - dx)) * (stx - stp);
            stpf = if (stpc - stp).abs() > (stpq - stp).abs() {
                stpc
            } else {
                stpq
            };
            self.brackt = true;
        } else if dp.abs() < dx.abs() {
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            let s = py_max(&[theta.abs(), dx.abs(), dp.abs()]);
            let inner = (theta / s).powi(2) - (dx / s) * (dp / s);
            let mut gamma = s * py_max(&[0.0, inner]).sqrt();
            if stp > stx {
                gamma = -gamma;
            }
            let p = (gamma - dp) + theta;
            let q = (gamma + (dx - dp)) + gamma;
            let r = p / q;
            let stpc = if r < 0.0 && gamma != 0.0 {
                stp + r * (stx - stp)
            } else if stp > stx {
                stpmax
            } else {
                stpmin
            };
            let stpq = stp + (dp / (dp - dx)) * (stx - stp);
            if self.brackt {
                let mut v = if (stpc - stp).abs() < (stpq - stp).abs() {
                    stpc
                } else {
                    stpq
                };
                v = if stp > stx {
                    py_min2(stp + 0.66 * (sty - stp), v)
                } else {
                    py_max(&[stp + 0.66 * (sty - stp), v])
                };
                stpf = v;
            } else {
                let v = if (stpc - stp).abs() > (stpq - stp).abs() {
                    stpc
                } else {
                    stpq
                };
                stpf = np_clip(v, stpmin, stpmax);
            }
        } else if self.brackt {
            let theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
            let s = py_max(&[theta.abs(), dy.abs(), dp.abs()]);
            let mut gamma = s * ((theta / s).powi(2) - (dy / s) * (dp / s)).sqrt();
            if stp > sty {
                gamma = -gamma;
            }
            let p = (gamma - dp) + theta;
            let q = ((gamma - dp) + gamma) + dy;
            let r = p / q;
            stpf = stp + r * (sty - stp);
        } else if stp > stx {
            stpf = stpmax;
        } else {
            stpf = stpmin;
        }
        if fp > fx {
            self.sty = stp;
            self.fy = fp;
            self.dy = dp;
        } else {
            if sgnd < 0.0 {
                self.sty = stx;
                self.fy = fx;
                self.dy = dx;
            }
            self.stx = stp;
            self.fx = fp;
            self.dx = dp;
        }
        stpf
    }
}

/// Python's `min(a, b)`: `b` when `b < a`, else `a`.
fn py_min2(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// `scalar_search_wolfe2` with SciPy's defaults for BFGS's fallback (`c1`, `c2`, `amax` as
/// given, `maxiter` 10, no extra condition). `Found::has_gradient` is SciPy's `derphi_star` not
/// being `None`.
pub fn wolfe2(
    line: &mut impl Line,
    phi0: f64,
    old_phi0: f64,
    derphi0: f64,
    c1: f64,
    c2: f64,
    amax: f64,
) -> Found {
    let mut alpha0 = 0.0;
    let mut alpha1 = if derphi0 != 0.0 {
        py_min2(1.0, 1.01 * 2.0 * (phi0 - old_phi0) / derphi0)
    } else {
        1.0
    };
    if alpha1 < 0.0 {
        alpha1 = 1.0;
    }
    alpha1 = py_min2(alpha1, amax);
    let mut phi_a1 = line.phi(alpha1);
    let mut phi_a0 = phi0;
    let mut derphi_a0 = derphi0;
    let fail = |phi0: f64| Found {
        stp: None,
        phi: phi0,
        phi0,
        has_gradient: false,
    };
    for i in 0..10 {
        if alpha1 == 0.0 || alpha0 > amax {
            return fail(phi0);
        }
        let not_first = i > 0;
        if (phi_a1 > phi0 + c1 * alpha1 * derphi0) || ((phi_a1 >= phi_a0) && not_first) {
            return zoom(
                line, alpha0, alpha1, phi_a0, phi_a1, derphi_a0, phi0, derphi0, c1, c2,
            );
        }
        let derphi_a1 = line.derphi(alpha1);
        if derphi_a1.abs() <= -c2 * derphi0 {
            return Found {
                stp: Some(alpha1),
                phi: phi_a1,
                phi0,
                has_gradient: true,
            };
        }
        if derphi_a1 >= 0.0 {
            return zoom(
                line, alpha1, alpha0, phi_a1, phi_a0, derphi_a1, phi0, derphi0, c1, c2,
            );
        }
        let alpha2 = py_min2(2.0 * alpha1, amax);
        alpha0 = alpha1;
        alpha1 = alpha2;
        phi_a0 = phi_a1;
        phi_a1 = line.phi(alpha1);
        derphi_a0 = derphi_a1;
    }
    // Not converged: SciPy returns the last step without a gradient.
    Found {
        stp: Some(alpha1),
        phi: phi_a1,
        phi0,
        has_gradient: false,
    }
}

/// `_cubicmin`: the minimizer of the cubic through `(a, fa)` with slope `fpa`, `(b, fb)` and
/// `(c, fc)`; `None` where SciPy's floating-point checks raise.
fn cubicmin(a: f64, fa: f64, fpa: f64, b: f64, fb: f64, c: f64, fc: f64) -> Option<f64> {
    let cc = fpa;
    let db = b - a;
    let dc = c - a;
    let denom = (db * dc).powi(2) * (db - dc);
    let d00 = dc.powi(2);
    let d01 = -db.powi(2);
    let d10 = -dc.powi(3);
    let d11 = db.powi(3);
    let v0 = fb - fa - cc * db;
    let v1 = fc - fa - cc * dc;
    let mut aa = d00 * v0 + d01 * v1;
    let mut bb = d10 * v0 + d11 * v1;
    if denom == 0.0 {
        return None;
    }
    aa /= denom;
    bb /= denom;
    let radical = bb * bb - 3.0 * aa * cc;
    let xmin = a + (-bb + radical.sqrt()) / (3.0 * aa);
    let all = [denom, d00, d01, d10, d11, aa, bb, radical, xmin];
    all.iter().all(|v| v.is_finite()).then_some(xmin)
}

/// `_quadmin`: the minimizer of the parabola through `(a, fa)` with slope `fpa` and `(b, fb)`.
fn quadmin(a: f64, fa: f64, fpa: f64, b: f64, fb: f64) -> Option<f64> {
    let d = fa;
    let c = fpa;
    let db = b - a * 1.0;
    let den = db * db;
    if den == 0.0 {
        return None;
    }
    let bb = (fb - d - c * db) / den;
    if bb == 0.0 {
        return None;
    }
    let xmin = a - c / (2.0 * bb);
    [bb, xmin].iter().all(|v| v.is_finite()).then_some(xmin)
}

/// `_zoom` (Nocedal & Wright, Algorithm 3.6) with SciPy's interpolation checks.
#[allow(clippy::too_many_arguments)]
fn zoom(
    line: &mut impl Line,
    mut a_lo: f64,
    mut a_hi: f64,
    mut phi_lo: f64,
    mut phi_hi: f64,
    mut derphi_lo: f64,
    phi0: f64,
    derphi0: f64,
    c1: f64,
    c2: f64,
) -> Found {
    let delta1 = 0.2;
    let delta2 = 0.1;
    let mut phi_rec = phi0;
    let mut a_rec = 0.0;
    let mut i = 0;
    loop {
        let dalpha = a_hi - a_lo;
        let (a, b) = if dalpha < 0.0 {
            (a_hi, a_lo)
        } else {
            (a_lo, a_hi)
        };
        let mut a_j = None;
        let mut cchk = 0.0;
        if i > 0 {
            cchk = delta1 * dalpha;
            a_j = cubicmin(a_lo, phi_lo, derphi_lo, a_hi, phi_hi, a_rec, phi_rec);
        }
        let cubic_bad = match a_j {
            None => true,
            Some(v) => v > b - cchk || v < a + cchk,
        };
        let a_j = if i == 0 || cubic_bad {
            let qchk = delta2 * dalpha;
            match quadmin(a_lo, phi_lo, derphi_lo, a_hi, phi_hi) {
                Some(v) if !(v > b - qchk || v < a + qchk) => v,
                _ => a_lo + 0.5 * dalpha,
            }
        } else {
            a_j.unwrap_or(a_lo + 0.5 * dalpha)
        };
        let phi_aj = line.phi(a_j);
        if (phi_aj > phi0 + c1 * a_j * derphi0) || (phi_aj >= phi_lo) {
            phi_rec = phi_hi;
            a_rec = a_hi;
            a_hi = a_j;
            phi_hi = phi_aj;
        } else {
            let derphi_aj = line.derphi(a_j);
            if derphi_aj.abs() <= -c2 * derphi0 {
                return Found {
                    stp: Some(a_j),
                    phi: phi_aj,
                    phi0,
                    has_gradient: true,
                };
            }
            if derphi_aj * (a_hi - a_lo) >= 0.0 {
                phi_rec = phi_hi;
                a_rec = a_hi;
                a_hi = a_lo;
                phi_hi = phi_lo;
            } else {
                phi_rec = phi_lo;
                a_rec = a_lo;
            }
            a_lo = a_j;
            phi_lo = phi_aj;
            derphi_lo = derphi_aj;
        }
        i += 1;
        if i > 10 {
            return Found {
                stp: None,
                phi: phi0,
                phi0,
                has_gradient: false,
            };
        }
    }
}
