//! Significance across methods and problems: the two-sided Mann–Whitney U test (with COCO's
//! rule for runs that did not reach the target), Holm's adjustment of many p-values, and
//! Friedman's test of average ranks over problems. Each is computed as SciPy computes it
//! (`scipy.stats.mannwhitneyu`, `scipy.stats.friedmanchisquare`) and checked against it to
//! 1e-10 (`crates/optiscape-py/tests/test_significance.py`); the formulas are in
//! `docs/methods.md`, "Significance".

/// Average ranks (1-based; tied values share the mean of their ranks), and the size of every
/// group of tied values (a group of one included), in the order of the sorted values.
/// `None` when a value is NaN (no order).
pub fn average_ranks(values: &[f64]) -> Option<(Vec<f64>, Vec<usize>)> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        // -0.0 and 0.0 are one value (`==`, not `total_cmp`).
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j, averaged.
        let rank = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        ties.push(j - i);
        i = j;
    }
    Some((ranks, ties))
}

/// A Mann–Whitney U test of two samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample: the number of pairs (x, y) with x > y, ties counting one half
    /// (SciPy's `statistic`).
    pub u: f64,
    /// The two-sided p-value.
    pub p: f64,
    /// Whether the p-value is from U's exact distribution (both samples of more than 8 values,
    /// or ties: the normal approximation with tie and continuity corrections).
    pub exact: bool,
}

/// The two-sided Mann–Whitney U test of `x` against `y`, as `scipy.stats.mannwhitneyu(x, y)`
/// computes it by default (`method="auto"`, `use_continuity=True`): the exact distribution of U
/// when one sample has at most 8 values and no value is tied, otherwise the normal
/// approximation with the tie correction and the continuity correction. `None` when a sample
/// is empty or holds a NaN.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let (ranks, ties) = average_ranks(&all)?;
    let r1: f64 = ranks[..n1].iter().sum();
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u1 = r1 - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let u = u1.max(u2);
    let tied = ties.iter().any(|&t| t > 1);
    let exact = (n1 <= 8 || n2 <= 8) && !tied;
    let p = if exact {
        // P(U >= u) = P(U <= n1 n2 - u) by symmetry (u >= n1 n2 / 2).
        let k = (f1 * f2 - u).round() as usize;
        exact_u_cdf(n1.min(n2), n1.max(n2), k)
    } else {
        let n = f1 + f2;
        let tie_term: f64 = ties
            .iter()
            .map(|&t| {
                let t = t as f64;
                t * t * t - t
            })
            .sum();
        let s = (f1 * f2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
        let z = (u - f1 * f2 / 2.0 - 0.5) / s;
        normal_sf(z)
    };
    Some(MannWhitney {
        u: u1,
        p: (2.0 * p).clamp(0.0, 1.0),
        exact,
    })
}

/// `P(U <= k)` under the null hypothesis for samples of `m <= n` values without ties: the
/// coefficients of the Gaussian binomial `[m + n choose m]` in `q` (the number of orderings
/// with each U), over their sum `C(m + n, m)`.
fn exact_u_cdf(m: usize, n: usize, k: usize) -> f64 {
    let top = m * n;
    let k = k.min(top);
    // prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), truncated at degree k.
    let mut c = vec![0.0f64; k + 1];
    c[0] = 1.0;
    for i in 1..=m {
        let up = n + i;
        for d in (up..=k).rev() {
            c[d] -= c[d - up];
        }
        for d in i..=k {
            c[d] += c[d - i];
        }
    }
    let total = binomial(m + n, m);
    c.iter().sum::<f64>() / total
}

/// `C(n, k)` in floating point.
fn binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    let mut b = 1.0;
    for i in 0..k {
        b = b * (n - i) as f64 / (i + 1) as f64;
    }
    b.round()
}

/// Holm's step-down adjustment of `p` (in the order given): the i-th smallest p-value times
/// `m - i + 1`, made monotone (each adjusted value at least the one before it in sorted order)
/// and at most 1. A family's errors are then bounded at the level the adjusted values are
/// compared with, whatever the dependence between the tests.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (i, &k) in order.iter().enumerate() {
        let adjusted = ((m - i) as f64 * p[k]).min(1.0);
        running = running.max(adjusted);
        out[k] = running;
    }
    out
}

/// Friedman's test of `k` treatments over `n` blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct Friedman {
    /// The chi-square statistic, corrected for ties (SciPy's `statistic`).
    pub statistic: f64,
    /// Its p-value from the chi-square distribution with `k - 1` degrees of freedom.
    pub p: f64,
    /// Each treatment's rank averaged over the blocks (1 = best: the lowest value).
    pub mean_ranks: Vec<f64>,
}

/// Friedman's test as `scipy.stats.friedmanchisquare(*columns)` computes it: `blocks[b][j]` is
/// treatment `j`'s value on block `b` (lower is better; ties share their average rank). `None`
/// with fewer than 3 treatments (SciPy's minimum), no block, blocks of unequal length, a NaN,
/// or when every block ties every treatment (no statistic).
pub fn friedman(blocks: &[Vec<f64>]) -> Option<Friedman> {
    let n = blocks.len();
    let k = blocks.first()?.len();
    if k < 3 || blocks.iter().any(|b| b.len() != k) {
        return None;
    }
    let mut sums = vec![0.0; k];
    let mut ties = 0.0;
    for b in blocks {
        let (ranks, t) = average_ranks(b)?;
        for (s, r) in sums.iter_mut().zip(&ranks) {
            *s += r;
        }
        ties += t
            .iter()
            .map(|&t| {
                let t = t as f64;
                t * (t * t - 1.0)
            })
            .sum::<f64>();
    }
    let (nf, kf) = (n as f64, k as f64);
    let c = 1.0 - ties / (kf * (kf * kf - 1.0) * nf);
    if c <= 0.0 {
        return None;
    }
    let ssbn: f64 = sums.iter().map(|s| s * s).sum();
    let statistic = (12.0 / (kf * nf * (kf + 1.0)) * ssbn - 3.0 * nf * (kf + 1.0)) / c;
    Some(Friedman {
        statistic,
        p: chi2_sf(statistic, kf - 1.0),
        mean_ranks: sums.iter().map(|s| s / nf).collect(),
    })
}

/// COCO's rule for comparing runs, some of which did not reach the target: a run that reached
/// it is better than one that did not; two that reached it compare by their runtime, two that
/// did not by their final precision (lower is better). Each run is given as `Ok(runtime)` or
/// `Err(final precision)`; the result gives each sample's values in one order-preserving
/// numbering (1, 2, ... over both samples; equal runs get equal numbers), on which the
/// Mann–Whitney test runs.
pub fn coco_keys(a: &[Result<f64, f64>], b: &[Result<f64, f64>]) -> (Vec<f64>, Vec<f64>) {
    let key = |r: &Result<f64, f64>| match *r {
        Ok(t) => (0u8, t),
        Err(p) => (1u8, p),
    };
    let mut all: Vec<(u8, f64)> = a.iter().chain(b).map(key).collect();
    all.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
    all.dedup_by(|x, y| x.0 == y.0 && x.1 == y.1);
    let number = |r: &Result<f64, f64>| {
        let k = key(r);
        let i = all.partition_point(|x| x.0 < k.0 || (x.0 == k.0 && x.1.total_cmp(&k.1).is_lt()));
        (i + 1) as f64
    };
    (
        a.iter().map(number).collect(),
        b.iter().map(number).collect(),
    )
}

/// `P(Z > z)` for a standard normal `Z` (to about 1e-15 relative).
pub fn normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z >= 0.0 {
        0.5 * gamma_q(0.5, z * z / 2.0)
    } else {
        1.0 - 0.5 * gamma_q(0.5, z * z / 2.0)
    }
}

/// `P(X > x)` for a chi-square `X` with `df` degrees of freedom.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    gamma_q(df / 2.0, x / 2.0)
}

/// The regularized upper incomplete gamma function `Q(a, x) = Γ(a, x) / Γ(a)` (`a > 0`,
/// `x >= 0`): its series below `a + 1`, its continued fraction (modified Lentz) above, as in
/// Numerical Recipes' `gammq`, to double precision.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // P(a, x) = e^-x x^a / Γ(a + 1) * sum x^n / ((a+1)...(a+n)).
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        1.0 - sum * log_prefix.exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-17 {
                break;
            }
        }
        log_prefix.exp() * h
    }
}

/// `ln Γ(x)` for `x > 0`: exact sums of logarithms for whole and half-whole `x` up to 171 (the
/// degrees of freedom of the tests here), the Lanczos approximation otherwise
/// ([`crate::special::ln_gamma`]).
pub fn ln_gamma(x: f64) -> f64 {
    if x <= 171.0 && (2.0 * x).fract() == 0.0 {
        // Γ(1) = Γ(2) = 1, Γ(1/2) = sqrt(pi), Γ(x + 1) = x Γ(x).
        let (mut v, mut acc) = if x.fract() == 0.0 {
            (1.0, 0.0)
        } else {
            (0.5, 0.5 * std::f64::consts::PI.ln())
        };
        while v < x {
            acc += v.ln();
            v += 1.0;
        }
        return acc;
    }
    crate::special::ln_gamma(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranks with ties as SciPy's `rankdata(..., "average")`.
    #[test]
    fn average_ranks_share_ties() {
        let (r, t) = average_ranks(&[3.0, 1.0, 3.0, 2.0, -0.0, 0.0]).expect("no NaN");
        assert_eq!(r, vec![5.5, 3.0, 5.5, 4.0, 1.5, 1.5]);
        assert_eq!(t, vec![2, 1, 1, 2]);
        assert!(average_ranks(&[1.0, f64::NAN]).is_none());
    }

    /// Small samples take U's exact distribution: x all below y (U = 0) is the most extreme of
    /// C(7, 3) = 35 orderings, two-sided p = 2/35.
    #[test]
    fn exact_p_values_count_orderings() {
        let m = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0, 7.0]).expect("a test");
        assert!(m.exact);
        assert_eq!(m.u, 0.0);
        assert!((m.p - 2.0 / 35.0).abs() < 1e-15, "{}", m.p);
        // Interleaved: U = 6 of 12, the middle: p = 1.
        let m = mann_whitney(&[1.0, 3.0, 5.0], &[2.0, 4.0, 6.0, 0.5]).expect("a test");
        assert_eq!(m.p, 1.0);
        // The counts of each U sum to C(m + n, m).
        assert!((exact_u_cdf(3, 4, 12) - 1.0).abs() < 1e-15);
        assert!((exact_u_cdf(8, 50, 400) - 1.0).abs() < 1e-12);
    }

    /// Large samples take the normal approximation: two identical samples give p = 1, two
    /// disjoint ones a tiny p.
    #[test]
    fn large_samples_take_the_normal_approximation() {
        let x: Vec<f64> = (0..50).map(f64::from).collect();
        let m = mann_whitney(&x, &x).expect("a test");
        assert!(!m.exact);
        assert_eq!(m.p, 1.0);
        let y: Vec<f64> = (100..150).map(f64::from).collect();
        let m = mann_whitney(&x, &y).expect("a test");
        assert!(m.p < 1e-15 && m.p > 0.0, "{}", m.p);
        assert!(mann_whitney(&[], &y).is_none());
    }

    #[test]
    fn holm_multiplies_in_steps_and_stays_monotone() {
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        // Sorted: 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 -> 0.06 (monotone).
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-15, "{adj:?}");
        }
        assert_eq!(holm(&[0.6, 0.9]), vec![1.0, 1.0]);
    }

    /// Friedman on a textbook layout: three treatments, ranked the same in four blocks:
    /// statistic n (k - 1) = 8 and p = e^-4.
    #[test]
    fn friedman_on_a_consistent_ranking() {
        let blocks = vec![vec![1.0, 2.0, 3.0]; 4];
        let f = friedman(&blocks).expect("a test");
        assert!((f.statistic - 8.0).abs() < 1e-12, "{}", f.statistic);
        assert!((f.p - (-4.0f64).exp()).abs() < 1e-15, "{}", f.p);
        assert_eq!(f.mean_ranks, vec![1.0, 2.0, 3.0]);
        assert!(friedman(&[vec![1.0, 2.0]]).is_none());
        assert!(friedman(&[vec![1.0, 1.0, 1.0]]).is_none());
    }

    #[test]
    fn coco_keys_put_successes_first_then_precision() {
        let a = [Ok(10.0), Err(0.5), Ok(3.0)];
        let b = [Err(0.1), Ok(10.0), Err(0.5)];
        let (ka, kb) = coco_keys(&a, &b);
        assert_eq!(ka, vec![2.0, 4.0, 1.0]);
        assert_eq!(kb, vec![3.0, 2.0, 4.0]);
    }

    #[test]
    fn special_functions_against_closed_forms() {
        // Q(1, x) = e^-x; the normal tail at 0 is 1/2; chi-square with 2 df: e^(-x/2).
        for x in [0.1, 1.0, 5.0, 30.0] {
            assert!((gamma_q(1.0, x) / (-x).exp() - 1.0).abs() < 1e-14, "{x}");
            assert!(
                (chi2_sf(x, 2.0) / (-x / 2.0).exp() - 1.0).abs() < 1e-14,
                "{x}"
            );
        }
        assert_eq!(normal_sf(0.0), 0.5);
        // P(Z > 1.959963984540054) = 0.025.
        assert!((normal_sf(1.959_963_984_540_054) - 0.025).abs() < 1e-15);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-15);
        assert!((ln_gamma(3.7) - 4.170_651_783_796_603f64.ln()).abs() < 1e-13);
    }
}
