//! The data a network is trained on: the classic 2D toy datasets, generated from a seed, or a
//! user's CSV (`x1,x2,label`), each split into a training and a test set.

use crate::optim::Rng;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The built-in datasets, in menu order.
pub const DATASETS: [&str; 5] = ["moons", "circles", "spirals", "xor", "gaussians"];

/// What the labels are: classes (a whole number from 0 per point), or values to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Labels {
    /// `k` classes, labels `0..k`.
    Classes(usize),
    /// Real values (regression, fitted with the squared error).
    Values,
}

/// Points in the plane with their labels: `x[i]` is point `i`, `y[i]` its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    pub x: Vec<[f64; 2]>,
    pub y: Vec<f64>,
}

impl Points {
    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// A training set and a test set of the same kind of points.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `moons`, ..., or `csv`.
    pub name: String,
    pub train: Points,
    pub test: Points,
    pub labels: Labels,
}

/// How a built-in dataset is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    /// One of [`DATASETS`].
    pub name: String,
    /// Training points.
    pub points: usize,
    /// Test points (drawn with the training points, then split off).
    pub test_points: usize,
    /// Standard deviation of the Gaussian noise added to each coordinate.
    pub noise: f64,
    pub seed: u64,
}

impl DataSpec {
    /// A built-in dataset with its defaults: 200 training and 200 test points, noise 0.2,
    /// seed 0.
    pub fn named(name: &str) -> Result<Self, String> {
        if !DATASETS.contains(&name) {
            return Err(format!(
                "unknown dataset '{name}' (known: {})",
                DATASETS.join(", ")
            ));
        }
        Ok(Self {
            name: name.to_string(),
            points: 200,
            test_points: 200,
            noise: 0.2,
            seed: 0,
        })
    }

    /// The largest number of points a dataset may have (training and test together).
    pub const MAX_POINTS: usize = 1_000_000;

    /// Checks the numbers (one line per problem).
    pub fn validate(&self) -> Result<(), String> {
        if !DATASETS.contains(&self.name.as_str()) {
            return Err(format!(
                "unknown dataset '{}' (known: {})",
                self.name,
                DATASETS.join(", ")
            ));
        }
        if self.points < 2 {
            return Err(format!(
                "a dataset needs at least 2 training points (got {})",
                self.points
            ));
        }
        if self.points + self.test_points > Self::MAX_POINTS {
            return Err(format!(
                "a dataset may have at most {} points in all (got {})",
                Self::MAX_POINTS,
                self.points + self.test_points
            ));
        }
        if !self.noise.is_finite() || !(0.0..=10.0).contains(&self.noise) {
            return Err(format!(
                "dataset noise must be between 0 and 10 (got {})",
                crate::setup::fmt_num(self.noise)
            ));
        }
        Ok(())
    }

    /// The dataset: `points + test_points` points drawn (half of each class, the first class
    /// taking the odd one), shuffled, then split: the first `points` train, the rest test.
    pub fn generate(&self) -> Result<Dataset, String> {
        self.validate()?;
        let n = self.points + self.test_points;
        let mut rng = Rng::new(self.seed ^ 0x00DA_7A5E_7000_0000);
        let (n0, n1) = (n - n / 2, n / 2);
        let mut pts: Vec<([f64; 2], f64)> = Vec::with_capacity(n);
        match self.name.as_str() {
            "moons" => {
                // scikit-learn's make_moons: two half circles, evenly spaced.
                for i in 0..n0 {
                    let t = PI * i as f64 / (n0.max(2) - 1) as f64;
                    pts.push(([t.cos(), t.sin()], 0.0));
                }
                for i in 0..n1 {
                    let t = PI * i as f64 / (n1.max(2) - 1) as f64;
                    pts.push(([1.0 - t.cos(), 0.5 - t.sin()], 1.0));
                }
            }
            "circles" => {
                // scikit-learn's make_circles with factor 0.5: an outer circle (class 0) around
                // an inner one (class 1), evenly spaced.
                for i in 0..n0 {
                    let t = 2.0 * PI * i as f64 / n0 as f64;
                    pts.push(([t.cos(), t.sin()], 0.0));
                }
                for i in 0..n1 {
                    let t = 2.0 * PI * i as f64 / n1.max(1) as f64;
                    pts.push(([0.5 * t.cos(), 0.5 * t.sin()], 1.0));
                }
            }
            "spirals" => {
                // Two interleaved arms, each turning 1.75 times: radius t / (4 pi) at angle t,
                // t from pi / 2 to 4 pi; the second arm is the first turned half a turn.
                for (count, class, sign) in [(n0, 0.0, 1.0), (n1, 1.0, -1.0)] {
                    for i in 0..count {
                        let t = 0.5 * PI + 3.5 * PI * i as f64 / (count.max(2) - 1) as f64;
                        let r = t / (4.0 * PI);
                        pts.push(([sign * r * t.cos(), sign * r * t.sin()], class));
                    }
                }
            }
            "xor" => {
                // Uniform in [-1, 1]^2, labelled by the signs' product (1 where they differ).
                for _ in 0..n {
                    let p = [2.0 * rng.uniform() - 1.0, 2.0 * rng.uniform() - 1.0];
                    let class = if p[0] * p[1] < 0.0 { 1.0 } else { 0.0 };
                    pts.push((p, class));
                }
            }
            "gaussians" => {
                // Two points, (-0.3, -0.3) for class 0 and (0.3, 0.3) for class 1, which the
                // noise spreads into two overlapping Gaussian clouds.
                for _ in 0..n0 {
                    pts.push(([-0.3, -0.3], 0.0));
                }
                for _ in 0..n1 {
                    pts.push(([0.3, 0.3], 1.0));
                }
            }
            _ => unreachable!("validated"),
        }
        for (p, _) in pts.iter_mut() {
            let z = rng.normal2();
            p[0] += self.noise * z.x;
            p[1] += self.noise * z.y;
        }
        // Fisher-Yates, so that the split takes both classes.
        for i in (1..n).rev() {
            let j = (rng.uniform() * (i + 1) as f64) as usize % (i + 1);
            pts.swap(i, j);
        }
        let split = |range: std::ops::Range<usize>| Points {
            x: pts[range.clone()].iter().map(|(p, _)| *p).collect(),
            y: pts[range].iter().map(|(_, c)| *c).collect(),
        };
        Ok(Dataset {
            name: self.name.clone(),
            train: split(0..self.points),
            test: split(self.points..n),
            labels: Labels::Classes(2),
        })
    }
}

impl Dataset {
    /// A user's CSV: one point per line, `x1,x2,label` (a first line that does not start with
    /// a number is a header). With `classes`, labels must be whole numbers from 0 (at least two
    /// different ones); otherwise they are values to fit. Every `test_every`-th point (1-based;
    /// 0: none) is held out as the test set. Errors name the line.
    pub fn from_csv(text: &str, classes: bool, test_every: usize) -> Result<Self, String> {
        let mut all = Points {
            x: Vec::new(),
            y: Vec::new(),
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let first_is_number = fields
                .first()
                .is_some_and(|f| f.parse::<f64>().is_ok() || f.eq_ignore_ascii_case("nan"));
            if i == 0 && !first_is_number {
                continue; // a header
            }
            if fields.len() != 3 {
                return Err(format!(
                    "line {}: expected 3 fields x1,x2,label, got {}",
                    i + 1,
                    fields.len()
                ));
            }
            let mut v = [0.0; 3];
            for (k, f) in fields.iter().enumerate() {
                if f.is_empty() {
                    return Err(format!("line {}: field {} is empty", i + 1, k + 1));
                }
                let x: f64 = f.parse().map_err(|_| {
                    format!("line {}: field {} is not a number: '{f}'", i + 1, k + 1)
                })?;
                if !x.is_finite() {
                    return Err(format!(
                        "line {}: field {} is not a finite number: '{f}'",
                        i + 1,
                        k + 1
                    ));
                }
                v[k] = x;
            }
            if classes && (v[2] < 0.0 || v[2].fract() != 0.0 || v[2] > 1e6) {
                return Err(format!(
                    "line {}: the label {} is not a class (a whole number from 0); for values to fit use the squared error (--loss mse)",
                    i + 1,
                    crate::setup::fmt_num(v[2])
                ));
            }
            all.x.push([v[0], v[1]]);
            all.y.push(v[2]);
        }
        if all.len() < 2 {
            return Err(format!(
                "the CSV has {} points; training needs at least 2",
                all.len()
            ));
        }
        if all.len() > DataSpec::MAX_POINTS {
            return Err(format!(
                "the CSV has {} points; at most {} are allowed",
                all.len(),
                DataSpec::MAX_POINTS
            ));
        }
        let labels = if classes {
            let k = all.y.iter().fold(0.0f64, |a, b| a.max(*b)) as usize + 1;
            let mut seen = vec![false; k];
            for y in &all.y {
                seen[*y as usize] = true;
            }
            if seen.iter().filter(|s| **s).count() < 2 {
                return Err("the CSV's labels name only one class; a classifier needs two".into());
            }
            Labels::Classes(k)
        } else {
            Labels::Values
        };
        let (mut train, mut test) = (
            Points {
                x: Vec::new(),
                y: Vec::new(),
            },
            Points {
                x: Vec::new(),
                y: Vec::new(),
            },
        );
        for (i, (x, y)) in all.x.iter().zip(&all.y).enumerate() {
            let to = if test_every > 0 && (i + 1) % test_every == 0 {
                &mut test
            } else {
                &mut train
            };
            to.x.push(*x);
            to.y.push(*y);
        }
        if train.len() < 2 {
            return Err("fewer than 2 points are left to train on".into());
        }
        Ok(Dataset {
            name: "csv".into(),
            train,
            test,
            labels,
        })
    }

    /// The training set as CSV (`x1,x2,label`, with that header), every number exactly (the
    /// shortest text that reads back to the same f64).
    pub fn train_csv(&self) -> String {
        let mut s = String::from("x1,x2,label\n");
        for (x, y) in self.train.x.iter().zip(&self.train.y) {
            s.push_str(&format!("{:?},{:?},{:?}\n", x[0], x[1], y));
        }
        s
    }

    /// The number of classes (0 for values to fit).
    pub fn classes(&self) -> usize {
        match self.labels {
            Labels::Classes(k) => k,
            Labels::Values => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dataset_is_balanced_split_and_seeded() {
        for name in DATASETS {
            let spec = DataSpec::named(name).expect("built in");
            let d = spec.generate().expect("generates");
            assert_eq!(d.train.len(), 200);
            assert_eq!(d.test.len(), 200);
            let ones = d
                .train
                .y
                .iter()
                .chain(&d.test.y)
                .filter(|y| **y == 1.0)
                .count();
            if name == "xor" {
                // Drawn uniformly: the classes are as balanced as the draw.
                assert!((160..240).contains(&ones), "{name}: {ones}");
            } else {
                assert_eq!(ones, 200, "{name}");
            }
            let ones_train = d.train.y.iter().filter(|y| **y == 1.0).count();
            assert!((60..140).contains(&ones_train), "{name}: {ones_train}");
            assert_eq!(spec.generate().expect("again"), d);
            let other = DataSpec { seed: 1, ..spec }.generate().expect("seed 1");
            assert_ne!(other, d);
        }
    }

    #[test]
    fn a_csv_is_read_or_refused_in_one_line() {
        let d =
            Dataset::from_csv("x1,x2,label\n0,0,0\n1,1,1\n2,2,1\n3,3,0\n", true, 4).expect("reads");
        assert_eq!(d.train.len(), 3);
        assert_eq!(d.test.len(), 1);
        assert_eq!(d.labels, Labels::Classes(2));
        let refuse = |t: &str| Dataset::from_csv(t, true, 0).expect_err(t);
        assert!(refuse("0,0\n").contains("line 1: expected 3 fields"));
        assert!(refuse("0,0,0\n1,,1\n").contains("line 2: field 2 is empty"));
        assert!(refuse("0,0,0\n1,a,1\n").contains("not a number: 'a'"));
        assert!(refuse("0,0,0\n1,nan,1\n").contains("not a finite number"));
        assert!(refuse("0,0,0\n1,inf,1\n").contains("not a finite number"));
        assert!(refuse("0,0,0\n1,1,0.5\n").contains("is not a class"));
        assert!(refuse("0,0,1\n1,1,1\n").contains("only one class"));
        assert!(refuse("x,y,z\n").contains("has 0 points"));
        let fit = Dataset::from_csv("0,0,0.5\n1,1,1.5\n", false, 0).expect("values");
        assert_eq!(fit.labels, Labels::Values);
    }

    #[test]
    fn the_training_csv_reads_back_exactly() {
        let d = DataSpec::named("moons")
            .expect("built in")
            .generate()
            .expect("generates");
        let back = Dataset::from_csv(&d.train_csv(), true, 0).expect("reads");
        assert_eq!(back.train, d.train);
    }
}
