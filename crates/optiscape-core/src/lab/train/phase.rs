//! Phase maps of real training: one method trained over a grid of two of its hyperparameters
//! (learning rate x momentum, beta1 x beta2, ...), every cell from the study's same
//! initializations. The grid is a `train` study whose rows are the cells, so each cell's
//! numbers are a [`TrainRow`]'s, computed by [`row_of`](super::row_of) against one target
//! for the whole map (the given one, or the lowest training loss any cell's run found plus
//! the tolerance).

use super::{TrainRow, TrainSetup, TrainStudy, study_of};
use crate::lab::batch::Progress;
use crate::lab::phase::{PhaseAxis, PhaseCell, axes};
use crate::lab::tune::{get_value, set_value};
use crate::optim::Optimizer;

/// The default grid of a training phase map (`--grid`): 8 x 8 cells, each a full study row.
pub const TRAIN_GRID: &str = "8x8";

/// A finished training phase map.
#[derive(Clone, Debug)]
pub struct TrainPhase {
    /// The method's id.
    pub method: String,
    pub x: PhaseAxis,
    pub y: PhaseAxis,
    /// The cells' values of x and y, `x` varying fastest (row `j` is `y.values()[j]`), as the
    /// method holds them (a whole-number axis rounded).
    pub values: Vec<(f64, f64)>,
    /// The study whose rows are the cells, in the same order.
    pub study: TrainStudy,
}

/// A training phase map's options as the command line (`train --y --x --grid --log-x
/// --log-y`) and the Python package give them.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainPhaseSpec {
    /// `NAME=LO..HI` across; `None`: [`DEFAULT_X`](crate::lab::phase::DEFAULT_X), geometric.
    pub x: Option<String>,
    /// `NAME=LO..HI` up.
    pub y: String,
    /// `PxQ`; `None`: [`TRAIN_GRID`].
    pub grid: Option<String>,
    #[serde(default)]
    pub log_x: bool,
    #[serde(default)]
    pub log_y: bool,
}

impl TrainPhaseSpec {
    /// The one method the map trains (of `opts`, the study's) and its two axes, checked.
    pub fn axes(&self, opts: &[Optimizer]) -> Result<(Optimizer, PhaseAxis, PhaseAxis), String> {
        let opt = match opts {
            [one] => one,
            _ => {
                let ids: Vec<&str> = opts.iter().map(|o| o.id.as_str()).collect();
                return Err(format!(
                    "train --y runs one method; --methods gives {} ({})",
                    opts.len(),
                    ids.join(",")
                ));
            }
        };
        let (x, y) = axes(
            opt,
            self.x.as_deref(),
            &self.y,
            "--grid",
            self.grid.as_deref().unwrap_or(TRAIN_GRID),
            self.log_x,
            self.log_y,
        )?;
        Ok((opt.clone(), x, y))
    }
}

/// A cell's value in its name: four significant digits (the exact value is the row's
/// `x_value`, `y_value` and `params`).
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let t = format!("{v:.3e}");
    let back: f64 = t.parse().unwrap_or(v);
    crate::setup::fmt_num(back)
}

/// The cell's name as a study row: `x=VALUE y=VALUE`, each to four significant digits.
fn cell_name(x: &str, xv: f64, y: &str, yv: f64) -> String {
    format!("{x}={} {y}={}", short(xv), short(yv))
}

/// Trains `opt` (checked by [`TrainSetup::check_method`]) at every cell of the `x` by `y`
/// grid. A phase map does not tune (`tune_budget` must be 1); `progress` counts runs.
pub fn train_phase(
    setup: TrainSetup,
    opt: &Optimizer,
    x: &PhaseAxis,
    y: &PhaseAxis,
    progress: &Progress,
) -> Result<TrainPhase, String> {
    if setup.tune_budget > 1 {
        return Err(
            "a phase map is its own tuning: leave out --tune-budget (or give 1) with --y".into(),
        );
    }
    if x.name == y.name {
        return Err(format!("--x and --y name the same parameter '{}'", x.name));
    }
    TrainSetup::check_method(opt)?;
    let mut entries = Vec::with_capacity(x.points * y.points);
    let mut values = Vec::with_capacity(x.points * y.points);
    for &yv in &y.values() {
        for &xv in &x.values() {
            let mut o = opt.clone();
            set_value(&mut o, &y.name, yv)?;
            set_value(&mut o, &x.name, xv)?;
            let (xv, yv) = (
                get_value(&o, &x.name).unwrap_or(xv),
                get_value(&o, &y.name).unwrap_or(yv),
            );
            entries.push((cell_name(&x.name, xv, &y.name, yv), o));
            values.push((xv, yv));
        }
    }
    let study = study_of(setup, entries, Vec::new(), progress);
    Ok(TrainPhase {
        method: opt.id.clone(),
        x: x.clone(),
        y: y.clone(),
        values,
        study,
    })
}

/// Runs a phase map makes (for progress bars).
pub fn phase_runs(setup: &TrainSetup, x: &PhaseAxis, y: &PhaseAxis) -> usize {
    x.points * y.points * setup.starts
}

impl TrainPhase {
    /// Each cell's values and row, in grid order.
    pub fn cells(&self) -> impl Iterator<Item = ((f64, f64), &TrainRow)> {
        self.values.iter().copied().zip(&self.study.rows)
    }

    /// The cells as the surfaces' phase maps hold them (success rate and ERT), for
    /// [`crate::lab::phase::heatmap`].
    pub fn phase_cells(&self) -> Vec<PhaseCell> {
        self.cells()
            .map(|((x_value, y_value), r)| PhaseCell {
                x_value,
                y_value,
                success_rate: r.success_rate,
                ert: r.ert,
            })
            .collect()
    }

    /// The best cell: the highest success rate, then the lowest ERT, then the lowest median
    /// final loss (the first in grid order on a tie).
    pub fn best(&self) -> Option<((f64, f64), &TrainRow)> {
        let inf = |v: Option<f64>| v.unwrap_or(f64::INFINITY);
        self.cells().min_by(|(_, a), (_, b)| {
            b.success_rate
                .total_cmp(&a.success_rate)
                .then(inf(a.ert).total_cmp(&inf(b.ert)))
                .then(inf(a.median_final_loss).total_cmp(&inf(b.median_final_loss)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Mlp;

    /// A small network (2-4-1) on moons, weights not kept.
    fn setup(starts: usize, steps: u64) -> TrainSetup {
        TrainSetup {
            net: Mlp {
                sizes: vec![2, 4, 1],
                ..Mlp::default()
            },
            keep_weights: false,
            ..super::super::tests::setup(starts, steps)
        }
    }

    /// Each cell is exactly the study row of its setting: the same runs (same
    /// initializations) as `train --set` at that setting, against the map's one target.
    #[test]
    fn a_cell_is_the_study_row_of_its_setting() {
        let s = setup(6, 60);
        let opt = Optimizer::by_id("heavy-ball").expect("a rule");
        let x = PhaseAxis::parse("--x", &opt, "lr=0.01..0.3", 3, true).expect("x");
        let y = PhaseAxis::parse("--y", &opt, "momentum=0..0.9", 2, false).expect("y");
        let map = train_phase(s.clone(), &opt, &x, &y, &Progress::default()).expect("a map");
        assert_eq!(map.values.len(), 6);
        assert_eq!(map.study.rows.len(), 6);
        assert_eq!(map.values[1], (x.values()[1], 0.0));
        assert_eq!(map.values[3], (0.01, 0.9));
        assert_eq!(map.study.rows[3].method, "lr=0.01 momentum=0.9");
        assert_eq!(map.study.rows[1].method, "lr=0.05477 momentum=0");
        assert_eq!(short(0.031_622_776_601_683_79), "0.03162");
        assert_eq!(short(1e-6), "1e-6");
        assert_eq!(short(0.999), "0.999");
        // Cell 4 (lr = the middle value, momentum 0.9) trained alone.
        let mut o = opt.clone();
        set_value(&mut o, "lr", x.values()[1]).expect("lr");
        set_value(&mut o, "momentum", 0.9).expect("momentum");
        let alone = super::super::study(s.clone(), std::slice::from_ref(&o), &Progress::default());
        assert_eq!(alone.runs[0], map.study.runs[4]);
        // One target for the whole map: the lowest loss of any cell plus the tolerance.
        let lowest = super::super::lowest_loss(map.study.runs.iter().flatten());
        assert_eq!(map.study.target, lowest + 0.01);
        let row = super::super::row_of(
            &map.study.rows[4].method,
            &map.study.runs[4],
            map.study.target,
            &s,
            map.study.rows[4].seconds,
        );
        assert_eq!(row, map.study.rows[4]);
        // The best cell has the highest success rate.
        let (_, best) = map.best().expect("cells");
        assert!(
            map.study
                .rows
                .iter()
                .all(|r| r.success_rate <= best.success_rate)
        );
        let cells = map.phase_cells();
        assert_eq!(cells[4].success_rate, map.study.rows[4].success_rate);
    }

    #[test]
    fn a_map_refuses_tuning_and_one_parameter_twice() {
        let opt = Optimizer::by_id("adam").expect("a rule");
        let x = PhaseAxis::parse("--x", &opt, "lr=0.01..0.1", 2, false).expect("x");
        let mut s = setup(2, 5);
        s.tune_budget = 4;
        let e = train_phase(s, &opt, &x, &x, &Progress::default()).unwrap_err();
        assert!(e.contains("--tune-budget"), "{e}");
        let e = train_phase(setup(2, 5), &opt, &x, &x, &Progress::default()).unwrap_err();
        assert!(e.contains("same parameter"), "{e}");
    }
}
