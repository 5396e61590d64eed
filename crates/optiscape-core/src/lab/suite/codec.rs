//! Cells as bytes (the suite's cache, and cells computed on other machines): every number as
//! its 8 little-endian bytes, so a decoded cell equals the computed one bit for bit.

use super::analysis::ProblemData;
use super::{Cell, SuiteSetup};
use crate::lab::RunEnd;
use crate::lab::RunStatus;
use glam::DVec2;

const CELL_MAGIC: &[u8; 8] = b"OSCELL03";
const FLOW_MAGIC: &[u8; 8] = b"OSFLOW01";
const PROBLEM_MAGIC: &[u8; 8] = b"OSPROB01";

/// Absent counts (`first_success`, `first_success_counts`) are stored as this.
const NONE: u64 = u64::MAX;

fn status_code(s: RunStatus) -> u64 {
    match s {
        RunStatus::Running => 0,
        RunStatus::Converged => 1,
        RunStatus::Diverged => 2,
        RunStatus::BadGradient => 3,
        RunStatus::Done => 4,
    }
}

fn status_of(c: u64) -> Option<RunStatus> {
    Some(match c {
        0 => RunStatus::Running,
        1 => RunStatus::Converged,
        2 => RunStatus::Diverged,
        3 => RunStatus::BadGradient,
        4 => RunStatus::Done,
        _ => return None,
    })
}

/// The bytes of a cell.
pub fn encode_cell(c: &Cell) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + 8 * c.fractions.len() + 120 * c.ends.len());
    out.extend_from_slice(CELL_MAGIC);
    let mut u = |v: u64| out.extend_from_slice(&v.to_le_bytes());
    u(c.fractions.len() as u64);
    u(c.ends.len() as u64);
    u(c.anytime.len() as u64);
    for f in c.fractions.iter().chain(&c.anytime) {
        u(f.to_bits());
    }
    for e in &c.ends {
        for v in [
            e.start.x,
            e.start.y,
            e.end.x,
            e.end.y,
            e.loss,
            e.lowest,
            e.recent_travel,
        ] {
            u(v.to_bits());
        }
        u(status_code(e.status));
        u(e.steps);
        u(e.first_success.unwrap_or(NONE));
        let (v, g) = e.first_success_counts.unwrap_or((NONE, NONE));
        u(v);
        u(g);
        u(e.evals);
        u(e.grads);
        u(e.success_value.map_or(NONE, f64::to_bits));
    }
    out
}

/// Reads 8-byte words.
struct Words<'a>(&'a [u8]);

impl Words<'_> {
    fn u(&mut self) -> Option<u64> {
        let (head, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*head))
    }
    fn f(&mut self) -> Option<f64> {
        self.u().map(f64::from_bits)
    }
}

fn opt(v: u64) -> Option<u64> {
    (v != NONE).then_some(v)
}

/// A cell from its bytes; `None` when they are not a whole cell.
pub fn decode_cell(bytes: &[u8]) -> Option<Cell> {
    let rest = bytes.strip_prefix(CELL_MAGIC)?;
    let mut w = Words(rest);
    let nf = usize::try_from(w.u()?).ok()?;
    let ne = usize::try_from(w.u()?).ok()?;
    let na = usize::try_from(w.u()?).ok()?;
    if rest.len() != 24 + 8 * (nf + na) + 15 * 8 * ne {
        return None;
    }
    let fractions = (0..nf).map(|_| w.f()).collect::<Option<Vec<_>>>()?;
    let anytime = (0..na).map(|_| w.f()).collect::<Option<Vec<_>>>()?;
    let mut ends = Vec::with_capacity(ne);
    for _ in 0..ne {
        let (sx, sy, ex, ey, loss, lowest, recent_travel) =
            (w.f()?, w.f()?, w.f()?, w.f()?, w.f()?, w.f()?, w.f()?);
        let status = status_of(w.u()?)?;
        let steps = w.u()?;
        let first_success = opt(w.u()?);
        let (v, g) = (w.u()?, w.u()?);
        ends.push(RunEnd {
            start: DVec2::new(sx, sy),
            end: DVec2::new(ex, ey),
            loss,
            status,
            steps,
            first_success,
            lowest,
            recent_travel,
            first_success_counts: opt(v).zip(opt(g)),
            evals: w.u()?,
            grads: w.u()?,
            success_value: opt(w.u()?).map(f64::from_bits),
        });
    }
    Some(Cell {
        ends,
        fractions,
        anytime,
    })
}

/// The bytes of a flow cell.
pub fn encode_flow(values: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 8 * values.len());
    out.extend_from_slice(FLOW_MAGIC);
    out.extend_from_slice(&(values.len() as u64).to_le_bytes());
    for v in values {
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    out
}

/// A flow cell from its bytes.
pub fn decode_flow(bytes: &[u8]) -> Option<Vec<f64>> {
    let rest = bytes.strip_prefix(FLOW_MAGIC)?;
    let mut w = Words(rest);
    let n = usize::try_from(w.u()?).ok()?;
    if rest.len() != 8 + 8 * n {
        return None;
    }
    (0..n).map(|_| w.f()).collect()
}

/// The bytes of a finished problem (what a cluster's worker sends back): its label, the
/// minimum counted against, the targets, starts, flows and every entry's cell.
pub fn encode_problem(d: &ProblemData) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(PROBLEM_MAGIC);
    let u = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&v.to_le_bytes());
    let label = d.problem.label.as_bytes();
    u(&mut out, label.len() as u64);
    out.extend_from_slice(label);
    u(&mut out, d.target.value.to_bits());
    u(&mut out, d.target.lowered as u64);
    for list in [&d.targets, &d.flows] {
        u(&mut out, list.len() as u64);
        for v in list.iter() {
            u(&mut out, v.to_bits());
        }
    }
    u(&mut out, d.starts.len() as u64);
    for p in &d.starts {
        u(&mut out, p.x.to_bits());
        u(&mut out, p.y.to_bits());
    }
    u(&mut out, d.cells.len() as u64);
    for c in &d.cells {
        let bytes = encode_cell(c);
        u(&mut out, bytes.len() as u64);
        out.extend_from_slice(&bytes);
    }
    out
}

/// A finished problem of `setup` from its bytes; `None` when they are not one of its problems.
pub fn decode_problem(setup: &SuiteSetup, bytes: &[u8]) -> Option<ProblemData> {
    let mut w = Words(bytes.strip_prefix(PROBLEM_MAGIC)?);
    let n = usize::try_from(w.u()?).ok()?;
    let label = std::str::from_utf8(w.0.get(..n)?).ok()?.to_string();
    w.0 = &w.0[n..];
    let problem = super::problems(setup)
        .0
        .into_iter()
        .find(|p| p.label == label)?;
    let mut target = crate::lab::Target::of(&problem.surface);
    target.value = w.f()?;
    target.lowered = w.u()? != 0;
    let list = |w: &mut Words| -> Option<Vec<f64>> {
        let n = usize::try_from(w.u()?).ok()?;
        (0..n).map(|_| w.f()).collect()
    };
    let targets = list(&mut w)?;
    let flows = list(&mut w)?;
    let ns = usize::try_from(w.u()?).ok()?;
    let starts = (0..ns)
        .map(|_| Some(DVec2::new(w.f()?, w.f()?)))
        .collect::<Option<Vec<_>>>()?;
    let nc = usize::try_from(w.u()?).ok()?;
    let mut cells = Vec::with_capacity(nc);
    for _ in 0..nc {
        let len = usize::try_from(w.u()?).ok()?;
        cells.push(decode_cell(w.0.get(..len)?)?);
        w.0 = &w.0[len..];
    }
    w.0.is_empty().then_some(ProblemData {
        problem,
        target,
        targets,
        starts,
        flows,
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip_bit_for_bit() {
        let e = RunEnd {
            start: DVec2::new(0.1, -0.0),
            end: DVec2::new(f64::MIN_POSITIVE, 3.0),
            loss: f64::NAN,
            status: RunStatus::BadGradient,
            steps: 7,
            first_success: Some(3),
            lowest: f64::INFINITY,
            recent_travel: 1e-300,
            first_success_counts: Some((3, 3)),
            evals: 7,
            grads: 7,
            success_value: Some(-0.0),
        };
        let e2 = RunEnd {
            first_success: None,
            first_success_counts: None,
            success_value: None,
            status: RunStatus::Done,
            loss: 1.5,
            ..e
        };
        let c = Cell {
            ends: vec![e, e2],
            fractions: vec![0.0, 0.25, 1.0],
            anytime: vec![f64::INFINITY, 1.5, 0.25, 0.0],
        };
        let bytes = encode_cell(&c);
        let d = decode_cell(&bytes).unwrap();
        assert_eq!(d.ends[1], e2);
        assert!(d.ends[0].loss.is_nan() && d.ends[0].status == RunStatus::BadGradient);
        assert_eq!(encode_cell(&d), bytes);
        assert!(decode_cell(&bytes[..bytes.len() - 1]).is_none());
        assert!(decode_flow(&bytes).is_none());
        let f = vec![1.0, f64::NAN, -2.5];
        let g = decode_flow(&encode_flow(&f)).unwrap();
        assert_eq!(encode_flow(&g), encode_flow(&f));
    }
}
