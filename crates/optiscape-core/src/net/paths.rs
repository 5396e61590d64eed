//! Training paths seen on a plane. A network's parameters live in hundreds of dimensions; a
//! plane shows two. [`project`] puts a point on a given plane (a slice's) by least squares and
//! says how much of it the plane misses; [`pca_plane`] finds the plane that shows most of a
//! path, as Li et al. 2018 (§7) do: the first two principal directions of the path's points
//! taken from its last one.

/// A point of parameter space seen from a plane `center + a d1 + b d2`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Projection {
    /// The least-squares coordinates: `(a, b)` minimizing `|theta - center - a d1 - b d2|`.
    pub a: f64,
    pub b: f64,
    /// The distance left, `|theta - center - a d1 - b d2|`, as a share of `|theta - center|`
    /// (0: on the plane; 1: at right angles to it; 0 when `theta` is the center).
    pub off: f64,
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// `theta` projected on the plane through `center` along `d1`, `d2` (not necessarily
/// orthogonal or of unit length; the normal equations of the 2 x 2 least-squares problem).
pub fn project(center: &[f64], d1: &[f64], d2: &[f64], theta: &[f64]) -> Projection {
    let r: Vec<f64> = theta.iter().zip(center).map(|(t, c)| t - c).collect();
    let (g11, g12, g22) = (dot(d1, d1), dot(d1, d2), dot(d2, d2));
    let (r1, r2) = (dot(d1, &r), dot(d2, &r));
    let det = g11 * g22 - g12 * g12;
    let (a, b) = if det > 1e-300 * g11.max(g22).max(1.0) {
        ((g22 * r1 - g12 * r2) / det, (g11 * r2 - g12 * r1) / det)
    } else if g11 > 0.0 {
        (r1 / g11, 0.0)
    } else {
        (0.0, 0.0)
    };
    let norm = dot(&r, &r).sqrt();
    let left: f64 = r
        .iter()
        .zip(d1.iter().zip(d2))
        .map(|(x, (u, v))| {
            let e = x - a * u - b * v;
            e * e
        })
        .sum::<f64>()
        .sqrt();
    Projection {
        a,
        b,
        off: if norm > 0.0 {
            (left / norm).min(1.0)
        } else {
            0.0
        },
    }
}

/// The plane of a path's first two principal directions.
#[derive(Clone, Debug, PartialEq)]
pub struct PcaPlane {
    /// Unit directions, orthogonal; each one's entry of largest magnitude is positive (as
    /// scikit-learn's `PCA` signs its components).
    pub d1: Vec<f64>,
    pub d2: Vec<f64>,
    /// The share of the path's variance along each (scikit-learn's
    /// `explained_variance_ratio_`).
    pub explained: [f64; 2],
    /// Each point's coordinates, `((theta_i - theta_last) . d1, (theta_i - theta_last) . d2)`:
    /// the last point is at the origin.
    pub coords: Vec<(f64, f64)>,
}

/// The principal directions of the differences `theta_i - theta_last` of a path (centred on
/// their mean, as `sklearn.decomposition.PCA` centres; Li et al.'s `setup_PCA_directions`), by
/// the eigenvectors of the points' Gram matrix (Jacobi rotations). `None` with fewer than three
/// points, points of different lengths, or no spread in two directions.
pub fn pca_plane(path: &[Vec<f64>]) -> Option<PcaPlane> {
    let n = path.len();
    let last = path.last()?;
    let p = last.len();
    if n < 3 || path.iter().any(|t| t.len() != p) || p < 2 {
        return None;
    }
    let diffs: Vec<Vec<f64>> = path
        .iter()
        .map(|t| t.iter().zip(last).map(|(a, b)| a - b).collect())
        .collect();
    let mean: Vec<f64> = (0..p)
        .map(|k| diffs.iter().map(|d| d[k]).sum::<f64>() / n as f64)
        .collect();
    let x: Vec<Vec<f64>> = diffs
        .iter()
        .map(|d| d.iter().zip(&mean).map(|(a, m)| a - m).collect())
        .collect();
    let mut gram: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| dot(&x[i], &x[j])).collect())
        .collect();
    let (values, vectors) = jacobi_eigen(&mut gram);
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    let (i1, i2) = (order[0], order[1]);
    if total.is_nan() || total <= 0.0 || values[i2] <= 1e-12 * values[i1] {
        return None;
    }
    let direction = |i: usize| -> Vec<f64> {
        // Principal direction = X^T u / |X^T u| for the Gram matrix's eigenvector u.
        let mut d = vec![0.0; p];
        for (row, u) in x.iter().zip(&vectors[i]) {
            for (dk, xk) in d.iter_mut().zip(row) {
                *dk += u * xk;
            }
        }
        let norm = dot(&d, &d).sqrt();
        let big = d
            .iter()
            .copied()
            .max_by(|a, b| a.abs().total_cmp(&b.abs()))
            .unwrap_or(1.0);
        let s = if big < 0.0 { -1.0 / norm } else { 1.0 / norm };
        d.iter().map(|v| v * s).collect()
    };
    let (d1, d2) = (direction(i1), direction(i2));
    let coords = diffs.iter().map(|d| (dot(d, &d1), dot(d, &d2))).collect();
    Some(PcaPlane {
        explained: [values[i1] / total, values[i2] / total],
        d1,
        d2,
        coords,
    })
}

/// Eigenvalues and eigenvectors (`vectors[i]` belongs to `values[i]`) of a symmetric matrix,
/// by cyclic Jacobi rotations until the off-diagonal part is negligible.
fn jacobi_eigen(a: &mut [Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let scale: f64 = a.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..60 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |j| *j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale || scale == 0.0 {
            break;
        }
        for i in 0..n {
            for j in i + 1..n {
                if a[i][j] == 0.0 {
                    continue;
                }
                let theta = (a[j][j] - a[i][i]) / (2.0 * a[i][j]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (aki, akj) = (row[i], row[j]);
                    row[i] = c * aki - s * akj;
                    row[j] = s * aki + c * akj;
                }
                let (upper, lower) = a.split_at_mut(j);
                for (x, y) in upper[i].iter_mut().zip(lower[0].iter_mut()) {
                    let (aik, ajk) = (*x, *y);
                    *x = c * aik - s * ajk;
                    *y = s * aik + c * ajk;
                }
                for row in v.iter_mut() {
                    let (vi, vj) = (row[i], row[j]);
                    row[i] = c * vi - s * vj;
                    row[j] = s * vi + c * vj;
                }
            }
        }
    }
    let values = (0..n).map(|i| a[i][i]).collect();
    // Columns of v are the eigenvectors.
    let vectors = (0..n).map(|i| (0..n).map(|k| v[k][i]).collect()).collect();
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_on_the_plane_projects_to_its_coordinates() {
        let c = [1.0, 2.0, 3.0, 4.0];
        let d1 = [1.0, 1.0, 0.0, 0.0];
        let d2 = [0.0, 1.0, 2.0, 0.0];
        let theta: Vec<f64> = (0..4).map(|k| c[k] + 0.3 * d1[k] - 1.5 * d2[k]).collect();
        let p = project(&c, &d1, &d2, &theta);
        assert!(
            (p.a - 0.3).abs() < 1e-12 && (p.b + 1.5).abs() < 1e-12,
            "{p:?}"
        );
        assert!(p.off < 1e-12);
        // Straight off the plane: coordinates 0, all of it missed.
        let up: Vec<f64> = (0..4)
            .map(|k| c[k] + if k == 3 { 2.0 } else { 0.0 })
            .collect();
        let q = project(&c, &d1, &d2, &up);
        assert!(q.a.abs() < 1e-12 && q.b.abs() < 1e-12 && (q.off - 1.0).abs() < 1e-12);
        assert_eq!(project(&c, &d1, &d2, &c).off, 0.0);
    }

    #[test]
    fn the_principal_plane_of_a_path_in_a_plane_is_that_plane() {
        // A path in the plane of e1 and e2 (in 5 dimensions), spread more along e1.
        let path: Vec<Vec<f64>> = (0..20)
            .map(|i| {
                let t = i as f64 / 19.0;
                vec![3.0 * t * t, (5.0 * t).sin(), 0.0, 0.0, 0.0]
            })
            .collect();
        let pca = pca_plane(&path).unwrap();
        assert!((pca.explained[0] + pca.explained[1] - 1.0).abs() < 1e-12);
        assert!(pca.explained[0] >= pca.explained[1]);
        for d in [&pca.d1, &pca.d2] {
            assert!((dot(d, d) - 1.0).abs() < 1e-12);
            assert!(d[2..].iter().all(|v| v.abs() < 1e-12));
        }
        assert!(dot(&pca.d1, &pca.d2).abs() < 1e-12);
        // The coordinates are the path exactly (the plane holds it), the last at the origin.
        let last = pca.coords.last().unwrap();
        assert!(last.0.abs() < 1e-15 && last.1.abs() < 1e-15);
        for (t, (a, b)) in path.iter().zip(&pca.coords) {
            let back: Vec<f64> = (0..5)
                .map(|k| path[19][k] + a * pca.d1[k] + b * pca.d2[k])
                .collect();
            for k in 0..5 {
                assert!((back[k] - t[k]).abs() < 1e-12);
            }
        }
        // Too short, or a straight line: no plane.
        assert!(pca_plane(&path[..2]).is_none());
        let line: Vec<Vec<f64>> = (0..5).map(|i| vec![i as f64, 2.0 * i as f64]).collect();
        assert!(pca_plane(&line).is_none());
    }

    #[test]
    fn the_principal_directions_are_the_covariances_top_eigenvectors() {
        // A wandering path in 7 dimensions; the reference: power iteration on the covariance
        // of the centred differences (what PCA diagonalizes), deflated for the second.
        let mut rng = crate::optim::Rng::new(5);
        let mut t = vec![0.0; 7];
        let mut path = Vec::new();
        for i in 0..15 {
            for (k, v) in t.iter_mut().enumerate() {
                *v += rng.normal2().x * (1.0 + k as f64) * 0.1 + 0.05 * (i as f64).sin();
            }
            path.push(t.clone());
        }
        let pca = pca_plane(&path).unwrap();
        let last = path.last().unwrap();
        let diffs: Vec<Vec<f64>> = path
            .iter()
            .map(|p| p.iter().zip(last).map(|(a, b)| a - b).collect())
            .collect();
        let mean: Vec<f64> = (0..7)
            .map(|k| diffs.iter().map(|d| d[k]).sum::<f64>() / 15.0)
            .collect();
        let mut cov = vec![vec![0.0; 7]; 7];
        for d in &diffs {
            for a in 0..7 {
                for b in 0..7 {
                    cov[a][b] += (d[a] - mean[a]) * (d[b] - mean[b]);
                }
            }
        }
        let trace: f64 = (0..7).map(|k| cov[k][k]).sum();
        let top = |m: &Vec<Vec<f64>>| -> (f64, Vec<f64>) {
            let mut v = vec![1.0; 7];
            let mut lambda = 0.0;
            for _ in 0..5000 {
                let w: Vec<f64> = (0..7).map(|a| dot(&m[a], &v)).collect();
                lambda = dot(&w, &w).sqrt();
                v = w.iter().map(|x| x / lambda).collect();
            }
            (lambda, v)
        };
        let (l1, v1) = top(&cov);
        let deflated: Vec<Vec<f64>> = (0..7)
            .map(|a| (0..7).map(|b| cov[a][b] - l1 * v1[a] * v1[b]).collect())
            .collect();
        let (l2, v2) = top(&deflated);
        assert!((dot(&pca.d1, &v1).abs() - 1.0).abs() < 1e-9);
        assert!((dot(&pca.d2, &v2).abs() - 1.0).abs() < 1e-9);
        assert!((pca.explained[0] - l1 / trace).abs() < 1e-12);
        assert!((pca.explained[1] - l2 / trace).abs() < 1e-9);
        // Signed as scikit-learn signs: the largest entry positive.
        for d in [&pca.d1, &pca.d2] {
            let big = d
                .iter()
                .copied()
                .max_by(|a, b| a.abs().total_cmp(&b.abs()))
                .unwrap();
            assert!(big > 0.0);
        }
    }
}
