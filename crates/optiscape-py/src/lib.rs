//! `optiscape._optiscape`: the lab of `optiscape-core` for Python. The Python package
//! (`python/optiscape`) gives it its Pythonic shape; here every argument arrives as the text the
//! command line would take (so it is checked, and refused, by the same `optiscape_core::setup`
//! functions with the same messages, raised as `ValueError`), every computation runs with the
//! GIL released on a worker thread while the calling thread checks for Ctrl-C, and documents
//! come from `optiscape_core::lab::report`, the command line's own.

use glam::DVec2;
use numpy::{PyArray1, PyReadonlyArray1};
use optiscape_core::lab::{self, Precision, Progress, RunEnd, RunStatus, Target, report};
use optiscape_core::landscape::{Domain, Surface as CoreSurface};
use optiscape_core::optim::Optimizer;
use optiscape_core::setup;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

fn err(e: String) -> PyErr {
    PyValueError::new_err(e)
}

fn json_text(v: &serde_json::Value) -> PyResult<String> {
    serde_json::to_string(v)
        .map_err(|e| PyRuntimeError::new_err(format!("could not write JSON: {e}")))
}

/// Runs `work` on a worker thread with the GIL released; every 50 ms the calling thread takes
/// the GIL back to check for signals. On Ctrl-C (or any signal handler raising) the work is
/// cancelled through `progress`, joined, and the handler's exception (`KeyboardInterrupt`)
/// raised.
fn interruptible<T: Send>(
    py: Python<'_>,
    progress: &Progress,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    std::thread::scope(|scope| {
        let (tx, rx) = channel::<()>();
        let job = scope.spawn(move || {
            let out = work();
            let _ = tx.send(());
            out
        });
        let mut rx = rx;
        loop {
            let (back, waited) = py.detach(move || {
                let w = rx.recv_timeout(Duration::from_millis(50));
                (rx, w)
            });
            rx = back;
            match waited {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if let Err(e) = py.check_signals() {
                progress.cancel.store(true, Ordering::Relaxed);
                let _ = py.detach(|| job.join());
                return Err(e);
            }
        }
        py.detach(|| job.join())
            .map_err(|_| PyRuntimeError::new_err("the computation stopped unexpectedly"))
    })
}

/// What was cancelled comes back as `None` from the core: only a signal cancels here.
fn finished<T>(v: Option<T>) -> PyResult<T> {
    v.ok_or_else(|| PyRuntimeError::new_err("cancelled"))
}

/// A surface: a built-in id or `formula:...`, with domain, parameters and placement applied in
/// the command line's order.
#[pyclass(module = "optiscape._optiscape", name = "Surface", frozen)]
struct Surface {
    inner: CoreSurface,
}

#[pymethods]
impl Surface {
    #[new]
    #[pyo3(signature = (spec, domain=None, params=Vec::new(), rotate=None, instance=None))]
    fn new(
        spec: &str,
        domain: Option<&str>,
        params: Vec<String>,
        rotate: Option<&str>,
        instance: Option<&str>,
    ) -> PyResult<Self> {
        let mut inner = setup::build_surface(spec, domain, &params).map_err(err)?;
        setup::apply_placement(&mut inner, rotate, instance).map_err(err)?;
        Ok(Self { inner })
    }

    /// Heights at the points `(x[i], y[i])` (contiguous 1-d float64 arrays of equal length).
    fn height<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        y: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (x, y) = (slice(&x)?, slice(&y)?);
        let s = &self.inner;
        let out: Vec<f64> = py.detach(|| {
            x.iter()
                .zip(y)
                .map(|(&a, &b)| s.height(DVec2::new(a, b)))
                .collect()
        });
        Ok(PyArray1::from_vec(py, out))
    }

    /// Gradients at the points, as one array `[gx0, gy0, gx1, gy1, ...]`.
    fn gradient<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        y: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (x, y) = (slice(&x)?, slice(&y)?);
        let s = &self.inner;
        let out: Vec<f64> = py.detach(|| {
            x.iter()
                .zip(y)
                .flat_map(|(&a, &b)| {
                    let g = s.gradient(DVec2::new(a, b));
                    [g.x, g.y]
                })
                .collect()
        });
        Ok(PyArray1::from_vec(py, out))
    }

    /// A network slice's plane and data: `(center, d1, d2, train_x (flat x1, x2, ...),
    /// train_y, layer sizes)`; an error for any other surface.
    #[allow(clippy::type_complexity)]
    fn net_plane<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Vec<usize>,
        String,
    )> {
        let n = self.inner.as_net().ok_or_else(|| {
            PyValueError::new_err("this surface is not a network slice (net:...)")
        })?;
        let sl = n.slice();
        let x: Vec<f64> = sl.data.train.x.iter().flat_map(|p| [p[0], p[1]]).collect();
        Ok((
            PyArray1::from_slice(py, &sl.center),
            PyArray1::from_slice(py, &sl.d1),
            PyArray1::from_slice(py, &sl.d2),
            PyArray1::from_vec(py, x),
            PyArray1::from_slice(py, &sl.data.train.y),
            sl.spec.net.sizes.clone(),
            sl.spec.net.activation.name().to_string(),
        ))
    }

    /// A network slice's loss on an `n x n` grid over its domain, row-major from the `y0` row
    /// (every core, four points at a time).
    fn net_grid<'py>(&self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let net = self.inner.as_net().ok_or_else(|| {
            PyValueError::new_err("this surface is not a network slice (net:...)")
        })?;
        if !(2..=4096).contains(&n) {
            return Err(PyValueError::new_err(format!(
                "n must be between 2 and 4096 (got {n})"
            )));
        }
        let v = py.detach(|| net.slice().loss_grid(n));
        Ok(PyArray1::from_vec(py, v))
    }

    /// The surface as the command line writes it (`rastrigin`, `formula:...`).
    #[getter]
    fn spec(&self) -> String {
        self.inner.spec()
    }

    #[getter]
    fn id(&self) -> &'static str {
        self.inner.id()
    }

    #[getter]
    fn domain(&self) -> (f64, f64, f64, f64) {
        let d = self.inner.domain;
        (d.x0, d.x1, d.y0, d.y1)
    }

    #[getter]
    fn default_start(&self) -> (f64, f64) {
        let p = self.inner.default_start();
        (p.x, p.y)
    }

    #[getter]
    fn tol(&self) -> f64 {
        self.inner.tol()
    }

    /// `(value, [(x, y), ...], estimated)`.
    #[getter]
    fn global_minimum(&self) -> (f64, Vec<(f64, f64)>, bool) {
        let m = self.inner.global_minimum();
        let points = m.points.iter().map(|p| (p.x, p.y)).collect();
        (m.value, points, m.estimated)
    }

    /// `[(name, value), ...]`.
    #[getter]
    fn params(&self) -> Vec<(String, f64)> {
        self.inner
            .params()
            .into_iter()
            .map(|(p, v)| (p.name.to_string(), v))
            .collect()
    }

    /// `(degrees, instance)`: the rotation and the instance number (0: as defined).
    #[getter]
    fn placement(&self) -> (f64, u64) {
        let p = &self.inner.placement;
        (p.rotate, p.instance)
    }
}

fn slice<'a>(a: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err("expected a contiguous array"))
}

/// A method with `NAME=VALUE` settings applied in order.
fn method(id: &str, sets: &[String]) -> PyResult<Optimizer> {
    let mut opt = setup::parse_method(id).map_err(err)?;
    setup::apply_settings(&mut opt, sets).map_err(err)?;
    Ok(opt)
}

/// Methods with `METHOD.NAME=VALUE` settings (as `race --set` takes them).
fn methods(ids: &[String], sets: &[String], what: &str) -> PyResult<Vec<Optimizer>> {
    let mut opts: Vec<Optimizer> = Vec::new();
    for id in ids {
        let o = setup::parse_method(id.trim()).map_err(err)?;
        if opts.iter().any(|p| p.id == o.id) {
            return Err(err(format!("methods lists '{}' twice", o.id)));
        }
        opts.push(o);
    }
    if opts.is_empty() {
        return Err(err("give at least one method".into()));
    }
    for s in sets {
        let (m, k, v) = setup::split_method_setting(s).map_err(err)?;
        let Some(opt) = opts.iter_mut().find(|o| o.id == m) else {
            return Err(err(format!("--set {s}: method '{m}' is not in the {what}")));
        };
        opt.set(k, v).map_err(err)?;
    }
    Ok(opts)
}

/// Steps, seed, target and precision of a lab call.
struct Common {
    steps: u64,
    seed: u64,
    target: Target,
    precision: Precision,
}

fn common(
    surface: &CoreSurface,
    steps: &str,
    seed: &str,
    tol: Option<&str>,
    precision: &str,
) -> PyResult<Common> {
    let target = setup::parse_target(surface, tol).map_err(err)?;
    let precision = setup::parse_precision(precision).map_err(err)?;
    setup::check_precision(&target, precision).map_err(err)?;
    Ok(Common {
        steps: setup::parse_steps(steps).map_err(err)?,
        seed: setup::parse_count("--seed", seed, 0).map_err(err)?,
        target,
        precision,
    })
}

/// `budget_unit` and `grad_cost` (the command line's `--budget-unit`, `--grad-cost`): whether
/// `steps` counts evaluations, and the price of a gradient with its value.
fn cost_scale(budget_unit: &str, grad_cost: &str) -> PyResult<(bool, u64)> {
    let gc = setup::parse_count("grad_cost", grad_cost, 1).map_err(err)?;
    match budget_unit {
        "updates" => Ok((false, gc)),
        "evals" => Ok((true, gc)),
        other => Err(err(format!(
            "budget_unit must be 'updates' or 'evals' (got '{other}')"
        ))),
    }
}

/// `steps_unit` and `grad_cost` in a JSON document (as the command line writes them).
fn cost_keys(doc: &mut serde_json::Value, evals: bool, gc: u64) {
    doc["steps_unit"] = serde_json::json!(if evals { "evals" } else { "updates" });
    doc["grad_cost"] = serde_json::json!(gc);
}

/// Each method with the steps it runs: `steps` updates, or with `evals`, `steps` evaluations
/// on the one cost scale (an update rule runs `steps / grad_cost` updates).
fn budgeted(opts: &[Optimizer], steps: u64, evals: bool, gc: u64) -> Vec<(Optimizer, u64)> {
    opts.iter()
        .map(|o| {
            if evals {
                o.with_eval_budget(steps, gc)
            } else {
                (o.clone(), steps)
            }
        })
        .collect()
}

fn region(surface: &CoreSurface, text: Option<&str>) -> PyResult<Domain> {
    setup::parse_region("--region", text, surface.domain).map_err(err)
}

/// `optiscape list`'s surfaces, as JSON.
#[pyfunction]
fn surface_catalog() -> PyResult<String> {
    json_text(&report::surface_catalog())
}

/// `optiscape list`'s methods, as JSON.
#[pyfunction]
fn method_catalog() -> PyResult<String> {
    json_text(&report::method_catalog())
}

/// `optiscape trace`: rows `x, y, loss, evals, grads` from the start (row 0) to the last step taken (a run
/// that diverges or meets a gradient that is not finite stops there), flat; and the run's
/// status (`done`, `diverged`, `bad_gradient`).
#[pyfunction]
#[pyo3(signature = (surface, method_id, sets, start, steps, seed))]
fn trace<'py>(
    py: Python<'py>,
    surface: &Surface,
    method_id: &str,
    sets: Vec<String>,
    start: Option<&str>,
    steps: &str,
    seed: &str,
) -> PyResult<(Bound<'py, PyArray1<f64>>, &'static str)> {
    let s = &surface.inner;
    let seed = setup::parse_count("--seed", seed, 0).map_err(err)?;
    let mut opt = setup::parse_method(method_id).map_err(err)?.with_seed(seed);
    setup::apply_settings(&mut opt, &sets).map_err(err)?;
    let steps = setup::parse_trace_steps(steps).map_err(err)?;
    let start = setup::parse_start(s, start).map_err(err)?;
    let progress = Progress::default();
    let (rows, status) = interruptible(py, &progress, || {
        let mut rows = Vec::with_capacity(5 * (steps.min(1 << 24) as usize + 1));
        let status = lab::trace_each(s, &opt, start, steps, |p| {
            if p.step % 4096 == 0 && progress.cancelled() {
                return Err(());
            }
            rows.extend([p.x, p.y, p.loss, p.evals as f64, p.grads as f64]);
            Ok(())
        });
        (rows, status)
    })?;
    let status = finished(status.ok())?;
    Ok((PyArray1::from_vec(py, rows), status.name()))
}

/// `optiscape race --format json`, as JSON.
#[pyfunction]
#[pyo3(signature = (surface, method_ids, sets, starts, region_text, steps, seed, tol, precision, budget_unit, grad_cost))]
#[allow(clippy::too_many_arguments)]
fn race(
    py: Python<'_>,
    surface: &Surface,
    method_ids: Vec<String>,
    sets: Vec<String>,
    starts: &str,
    region_text: Option<&str>,
    steps: &str,
    seed: &str,
    tol: Option<&str>,
    precision: &str,
    budget_unit: &str,
    grad_cost: &str,
) -> PyResult<String> {
    let s = &surface.inner;
    let c = common(s, steps, seed, tol, precision)?;
    let (evals, gc) = cost_scale(budget_unit, grad_cost)?;
    let k = setup::parse_starts(starts).map_err(err)? as usize;
    let region = region(s, region_text)?;
    let opts = methods(&method_ids, &sets, "race")?;
    let budgeted = budgeted(&opts, c.steps, evals, gc);
    let starts = lab::uniform_starts(region, k, c.seed);
    let progress = Progress::default();
    // As the command line races: method by method with its budget, the estimated minimum
    // lowered for all when a run of one beats it.
    let race_against = |target| {
        let mut rows = Vec::new();
        for (opt, steps) in &budgeted {
            let mut r = lab::race_with(
                s,
                std::slice::from_ref(opt),
                &starts,
                *steps,
                c.seed,
                target,
                c.precision,
                &progress,
            )?;
            for row in &mut r {
                row.set_grad_cost(gc, c.seed);
                row.ends = Vec::new();
            }
            rows.extend(r);
        }
        Some(rows)
    };
    let rows = interruptible(py, &progress, || {
        let rows = race_against(c.target)?;
        match c.target.lowered_to(lab::lowest_of_rows(&rows)) {
            Some(lowered) => race_against(lowered),
            None => Some(rows),
        }
    })?;
    let rows = finished(rows)?;
    // The minimum the rows were counted against (an estimate their runs beat is lowered).
    let target = lab::race_target(c.target, &rows);
    let mut doc = report::race(s, starts.len(), c.steps, c.seed, target, c.precision, &rows);
    doc["steps_unit"] = if evals { "evals" } else { "updates" }.into();
    json_text(&doc)
}

/// A basin map: the core's map, and its document.
#[pyclass(module = "optiscape._optiscape", name = "BasinMap", frozen)]
struct BasinMap {
    map: lab::basins::BasinMap,
    doc: String,
}

#[pymethods]
impl BasinMap {
    /// End points, flat `[x, y, x, y, ...]` row-major from the domain's `y0` row.
    fn ends<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let v: Vec<f64> = self
            .map
            .ends
            .iter()
            .flat_map(|e| [e.end.x, e.end.y])
            .collect();
        PyArray1::from_vec(py, v)
    }

    /// Final losses, flat.
    fn losses<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let v: Vec<f64> = self.map.ends.iter().map(|e| e.loss).collect();
        PyArray1::from_vec(py, v)
    }

    /// Labels, flat (an index into the minima, -1 diverged, -2 still moving).
    fn labels<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i32>> {
        PyArray1::from_slice(py, &self.map.labels)
    }

    /// `basins --json`, as JSON.
    fn document(&self) -> String {
        self.doc.clone()
    }

    /// The picture `basins --out` writes: `(height, width, rgb bytes)`, at least `min_size`
    /// pixels a side.
    fn image<'py>(&self, py: Python<'py>, min_size: u32) -> (u32, u32, Bound<'py, PyArray1<u8>>) {
        let img = lab::basins::image(&self.map, min_size);
        let (w, h) = img.dimensions();
        (h, w, PyArray1::from_vec(py, img.into_raw()))
    }
}

/// `optiscape basins`.
#[pyfunction]
#[pyo3(signature = (surface, method_id, sets, resolution, steps, seed, tol, precision, budget_unit, grad_cost))]
#[allow(clippy::too_many_arguments)]
fn basins(
    py: Python<'_>,
    surface: &Surface,
    method_id: &str,
    sets: Vec<String>,
    resolution: &str,
    steps: &str,
    seed: &str,
    tol: Option<&str>,
    precision: &str,
    budget_unit: &str,
    grad_cost: &str,
) -> PyResult<BasinMap> {
    let s = &surface.inner;
    let c = common(s, steps, seed, tol, precision)?;
    let r = setup::parse_resolution(resolution).map_err(err)? as usize;
    let (evals, gc) = cost_scale(budget_unit, grad_cost)?;
    let (opt, run_steps) = budgeted(&[method(method_id, &sets)?], c.steps, evals, gc).remove(0);
    let progress = Progress::default();
    let map = interruptible(py, &progress, || {
        lab::basins::basins_with(
            s,
            &opt,
            r,
            run_steps,
            c.seed,
            c.target,
            c.precision,
            &progress,
        )
    })?;
    let map = finished(map)?;
    let mut doc = report::basins(s, &opt.id, c.steps, c.seed, c.target, c.precision, &map);
    cost_keys(&mut doc, evals, gc);
    let doc = json_text(&doc)?;
    Ok(BasinMap { map, doc })
}

/// `optiscape sweep`: `(values, success_rate, median_loss (NaN for none), diverged)`.
#[pyfunction]
#[pyo3(signature = (surface, method_id, sets, param, range, points, starts, steps, seed, tol, precision, budget_unit, grad_cost))]
#[allow(clippy::too_many_arguments)]
#[allow(clippy::type_complexity)]
fn sweep(
    py: Python<'_>,
    surface: &Surface,
    method_id: &str,
    sets: Vec<String>,
    param: &str,
    range: &str,
    points: &str,
    starts: &str,
    steps: &str,
    seed: &str,
    tol: Option<&str>,
    precision: &str,
    budget_unit: &str,
    grad_cost: &str,
) -> PyResult<(Vec<f64>, Vec<f64>, Vec<f64>, Vec<usize>)> {
    let s = &surface.inner;
    let c = common(s, steps, seed, tol, precision)?;
    let (evals, gc) = cost_scale(budget_unit, grad_cost)?;
    let (opt, run_steps) = budgeted(&[method(method_id, &sets)?], c.steps, evals, gc).remove(0);
    let (lo, hi) = lab::sweep::parse_range(range).map_err(err)?;
    // As the command line: out of range is refused, never clamped.
    let points = setup::parse_count_in("points", points, 1, 1000).map_err(err)? as usize;
    let k = setup::parse_count_in("--starts", starts, 1, 1_000_000).map_err(err)? as usize;
    let spec = lab::sweep::sweep_param(&opt, param, lo, hi).map_err(err)?;
    let values = lab::sweep::values(spec, lo, hi, points, spec.log).map_err(err)?;
    let starts = lab::uniform_starts(s.domain, k, c.seed);
    let progress = Progress::default();
    let rows = interruptible(py, &progress, || {
        lab::sweep::sweep(
            s,
            &opt,
            param,
            &values,
            &starts,
            run_steps,
            c.seed,
            c.target,
            c.precision,
            &progress,
        )
    })?;
    let rows = rows.map_err(|e| {
        if progress.cancelled() {
            PyRuntimeError::new_err("cancelled")
        } else {
            err(e)
        }
    })?;
    Ok((
        rows.iter().map(|r| r.value).collect(),
        rows.iter().map(|r| r.success_rate).collect(),
        rows.iter()
            .map(|r| r.median_loss.unwrap_or(f64::NAN))
            .collect(),
        rows.iter().map(|r| r.diverged).collect(),
    ))
}

/// `optiscape tune --format json`, as JSON.
#[pyfunction]
#[pyo3(signature = (surface, method_ids, sets, starts, region_text, budget, steps, seed, tol, precision, budget_unit, grad_cost))]
#[allow(clippy::too_many_arguments)]
fn tune(
    py: Python<'_>,
    surface: &Surface,
    method_ids: Vec<String>,
    sets: Vec<String>,
    starts: &str,
    region_text: Option<&str>,
    budget: &str,
    steps: &str,
    seed: &str,
    tol: Option<&str>,
    precision: &str,
    budget_unit: &str,
    grad_cost: &str,
) -> PyResult<String> {
    let s = &surface.inner;
    let c = common(s, steps, seed, tol, precision)?;
    let (evals, gc) = cost_scale(budget_unit, grad_cost)?;
    let k = setup::parse_starts(starts).map_err(err)? as usize;
    let region = region(s, region_text)?;
    let opts = methods(&method_ids, &sets, "tuning")?;
    let budget = setup::parse_budget(budget).map_err(err)? as usize;
    let ts = lab::tune::TuneSetup {
        region,
        starts: k,
        steps: c.steps,
        budget,
        seed: c.seed,
        target: c.target,
        precision: c.precision,
        grad_cost: gc,
        evals: evals.then_some(c.steps),
    };
    let progress = Progress::default();
    // As the command line tunes (with `evals`, each method given `steps` evaluations).
    let rows = interruptible(py, &progress, || lab::tune::tune(s, &opts, &ts, &progress))?;
    let rows = finished(rows.map_err(err)?)?;
    let mut doc = report::tune(s, &ts, &rows);
    doc["steps_unit"] = if evals { "evals" } else { "updates" }.into();
    json_text(&doc)
}

/// `optiscape ecdf`: `(budgets, targets, [(method, fractions)])`.
#[pyfunction]
#[pyo3(signature = (surface, method_ids, sets, starts, region_text, steps, seed, tol, precision, budget_unit, grad_cost))]
#[allow(clippy::too_many_arguments)]
#[allow(clippy::type_complexity)]
fn ecdf(
    py: Python<'_>,
    surface: &Surface,
    method_ids: Vec<String>,
    sets: Vec<String>,
    starts: &str,
    region_text: Option<&str>,
    steps: &str,
    seed: &str,
    tol: Option<&str>,
    precision: &str,
    budget_unit: &str,
    grad_cost: &str,
) -> PyResult<(Vec<u64>, Vec<f64>, Vec<(String, Vec<f64>)>)> {
    let s = &surface.inner;
    let c = common(s, steps, seed, tol, precision)?;
    let (evals, gc) = cost_scale(budget_unit, grad_cost)?;
    let k = setup::parse_starts(starts).map_err(err)? as usize;
    let region = region(s, region_text)?;
    let opts = methods(&method_ids, &sets, "comparison")?;
    let starts = lab::uniform_starts(region, k, c.seed);
    let targets = lab::ecdf::targets(s, c.target, &starts);
    let progress = Progress::default();
    let curves = interruptible(py, &progress, || {
        if evals {
            lab::ecdf::ecdf_in_evals(
                s,
                &opts,
                &starts,
                lab::ecdf::EvalScale {
                    evals: c.steps,
                    grad_cost: gc,
                },
                c.seed,
                c.target,
                &targets,
                c.precision,
                &progress,
            )
        } else {
            lab::ecdf::ecdf(
                s,
                &opts,
                &starts,
                c.steps,
                c.seed,
                c.target,
                &targets,
                c.precision,
                &progress,
            )
        }
    })?;
    let curves = finished(curves)?;
    let budgets = curves
        .first()
        .map(|c| c.budgets.clone())
        .unwrap_or_else(|| lab::ecdf::budgets(c.steps));
    Ok((
        budgets,
        targets,
        curves
            .into_iter()
            .map(|c| (c.method, c.fractions))
            .collect(),
    ))
}

/// `optiscape phase`: `(x name, x values, y name, y values, success rates, erts (NaN for
/// none))`, cells with x varying fastest.
#[pyfunction]
#[pyo3(signature = (surface, method_id, sets, x, y, points, log_x, log_y, starts, region_text, steps, seed, tol, precision, budget_unit, grad_cost))]
#[allow(clippy::too_many_arguments)]
#[allow(clippy::type_complexity)]
fn phase(
    py: Python<'_>,
    surface: &Surface,
    method_id: &str,
    sets: Vec<String>,
    x: Option<&str>,
    y: &str,
    points: &str,
    log_x: bool,
    log_y: bool,
    starts: &str,
    region_text: Option<&str>,
    steps: &str,
    seed: &str,
    tol: Option<&str>,
    precision: &str,
    budget_unit: &str,
    grad_cost: &str,
) -> PyResult<(String, Vec<f64>, String, Vec<f64>, Vec<f64>, Vec<f64>)> {
    let s = &surface.inner;
    let c = common(s, steps, seed, tol, precision)?;
    let (evals, gc) = cost_scale(budget_unit, grad_cost)?;
    let (opt, run_steps) = budgeted(&[method(method_id, &sets)?], c.steps, evals, gc).remove(0);
    let (xa, ya) = lab::phase::axes(&opt, x, y, "--points", points, log_x, log_y).map_err(err)?;
    let k = setup::parse_starts(starts).map_err(err)? as usize;
    let region = region(s, region_text)?;
    let starts = lab::uniform_starts(region, k, c.seed);
    let progress = Progress::default();
    let cells = interruptible(py, &progress, || {
        lab::phase::phase(
            s,
            &opt,
            &xa,
            &ya,
            &starts,
            run_steps,
            c.seed,
            c.target,
            c.precision,
            evals.then_some(gc),
            &progress,
        )
    })?;
    let cells = finished(cells.map_err(err)?)?;
    Ok((
        xa.name.clone(),
        xa.values(),
        ya.name.clone(),
        ya.values(),
        cells.iter().map(|c| c.success_rate).collect(),
        cells.iter().map(|c| c.ert.unwrap_or(f64::NAN)).collect(),
    ))
}

/// Runs `first..first + count` of a race's runs of one method (the starts of a race with
/// `starts` runs): `(x0, y0, x, y, loss, updates, first_success (-1: none), diverged)`, each a
/// flat array, equal bit for bit to the same runs of the whole race.
#[pyfunction]
#[pyo3(signature = (surface, method_id, sets, starts, region_text, first, count, steps, seed, tol, precision, minimum=None))]
#[allow(clippy::too_many_arguments)]
#[allow(clippy::type_complexity)]
fn run_shard<'py>(
    py: Python<'py>,
    surface: &Surface,
    method_id: &str,
    sets: Vec<String>,
    starts: &str,
    region_text: Option<&str>,
    first: usize,
    count: usize,
    steps: &str,
    seed: &str,
    tol: Option<&str>,
    precision: &str,
    minimum: Option<f64>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let s = &surface.inner;
    let mut c = common(s, steps, seed, tol, precision)?;
    c.target = lowered(c.target, minimum)?;
    let k = setup::parse_starts(starts).map_err(err)? as usize;
    let region = region(s, region_text)?;
    let opt = method(method_id, &sets)?;
    if first > k || count > k - first {
        return Err(err(format!(
            "runs {first}..{} are not among the {k} runs",
            first.saturating_add(count)
        )));
    }
    let all = lab::uniform_starts(region, k, c.seed);
    let part = &all[first..first + count];
    let progress = Progress::default();
    let ends = interruptible(py, &progress, || {
        lab::run_shard(
            s,
            &opt,
            part,
            first,
            c.steps,
            c.seed,
            c.target,
            c.precision,
            &progress,
        )
    })?;
    let ends = finished(ends)?;
    let col = |f: &dyn Fn(&RunEnd) -> f64| -> Bound<'py, PyAny> {
        PyArray1::from_vec(py, ends.iter().map(f).collect()).into_any()
    };
    Ok(vec![
        col(&|e| e.start.x),
        col(&|e| e.start.y),
        col(&|e| e.end.x),
        col(&|e| e.end.y),
        col(&|e| e.loss),
        PyArray1::from_vec(py, ends.iter().map(|e| e.steps).collect()).into_any(),
        PyArray1::from_vec(
            py,
            ends.iter()
                .map(|e| e.first_success.map_or(-1, |v| v as i64))
                .collect(),
        )
        .into_any(),
        PyArray1::from_vec(
            py,
            ends.iter()
                .map(|e| e.status == RunStatus::Diverged)
                .collect(),
        )
        .into_any(),
        PyArray1::from_vec(
            py,
            ends.iter()
                .map(|e| e.status == RunStatus::BadGradient)
                .collect(),
        )
        .into_any(),
        col(&|e| e.lowest),
    ])
}

/// The target with its minimum lowered to `minimum` (a value a race's runs found below an
/// estimated minimum, as [`lowered_minimum`] gives it), or as it is.
fn lowered(target: lab::Target, minimum: Option<f64>) -> PyResult<lab::Target> {
    match minimum {
        None => Ok(target),
        Some(v) => target
            .lowered_to(v)
            .ok_or_else(|| err(format!("{v} does not lower the minimum {}", target.value))),
    }
}

/// The value a race's runs lower an estimated minimum to, given the lowest loss they found
/// inside the domain (`None`: the minimum stands), as `race` does it.
#[pyfunction]
#[pyo3(signature = (surface, tol, lowest))]
fn lowered_minimum(surface: &Surface, tol: Option<&str>, lowest: f64) -> PyResult<Option<f64>> {
    let target = setup::parse_target(&surface.inner, tol).map_err(err)?;
    Ok(target.lowered_to(lowest).map(|t| t.value))
}

/// The race's row of one method from its runs (all of them, in run order, as `run_shard`
/// returns them), as JSON: the same numbers as `race` (seconds aside: given).
#[pyfunction]
#[pyo3(signature = (surface, method_id, x0, y0, x, y, loss, updates, first_success, diverged, bad_gradient, lowest, seed, tol, seconds, minimum=None))]
#[allow(clippy::too_many_arguments)]
fn race_row(
    surface: &Surface,
    method_id: &str,
    x0: PyReadonlyArray1<'_, f64>,
    y0: PyReadonlyArray1<'_, f64>,
    x: PyReadonlyArray1<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    loss: PyReadonlyArray1<'_, f64>,
    updates: PyReadonlyArray1<'_, u64>,
    first_success: PyReadonlyArray1<'_, i64>,
    diverged: PyReadonlyArray1<'_, bool>,
    bad_gradient: PyReadonlyArray1<'_, bool>,
    lowest: PyReadonlyArray1<'_, f64>,
    seed: &str,
    tol: Option<&str>,
    seconds: f64,
    minimum: Option<f64>,
) -> PyResult<String> {
    let s = &surface.inner;
    let seed = setup::parse_count("--seed", seed, 0).map_err(err)?;
    let target = lowered(setup::parse_target(s, tol).map_err(err)?, minimum)?;
    let id = setup::parse_method(method_id).map_err(err)?.id;
    let cols = [
        slice(&x0)?,
        slice(&y0)?,
        slice(&x)?,
        slice(&y)?,
        slice(&loss)?,
        slice(&lowest)?,
    ];
    let (updates, first_success, diverged, bad_gradient) = (
        updates
            .as_slice()
            .map_err(|_| err("expected a contiguous array".into()))?,
        first_success
            .as_slice()
            .map_err(|_| err("expected a contiguous array".into()))?,
        diverged
            .as_slice()
            .map_err(|_| err("expected a contiguous array".into()))?,
        bad_gradient
            .as_slice()
            .map_err(|_| err("expected a contiguous array".into()))?,
    );
    let n = cols[0].len();
    if cols.iter().any(|c| c.len() != n)
        || updates.len() != n
        || first_success.len() != n
        || diverged.len() != n
        || bad_gradient.len() != n
    {
        return Err(err("the run arrays differ in length".into()));
    }
    let ends: Vec<RunEnd> = (0..n)
        .map(|i| RunEnd {
            start: DVec2::new(cols[0][i], cols[1][i]),
            end: DVec2::new(cols[2][i], cols[3][i]),
            loss: cols[4][i],
            status: if diverged[i] {
                RunStatus::Diverged
            } else if bad_gradient[i] {
                RunStatus::BadGradient
            } else {
                RunStatus::Done
            },
            steps: updates[i],
            first_success: u64::try_from(first_success[i]).ok(),
            first_success_counts: u64::try_from(first_success[i]).ok().map(|u| (u, u)),
            lowest: cols[5][i],
            recent_travel: 0.0,
            evals: updates[i],
            grads: updates[i],
            // Not needed by a race's row.
            success_value: None,
        })
        .collect();
    let mut row = lab::RaceRow::of(&id, ends, target, seed, seconds);
    row.ends = Vec::new();
    serde_json::to_value(&row)
        .map_err(|e| PyRuntimeError::new_err(format!("could not write JSON: {e}")))
        .and_then(|v| json_text(&v))
}

/// The two-sided Mann–Whitney U test (`lab::significance::mann_whitney`): `(u, p, exact)`.
#[pyfunction]
fn mann_whitney(x: Vec<f64>, y: Vec<f64>) -> PyResult<(f64, f64, bool)> {
    lab::significance::mann_whitney(&x, &y)
        .map(|m| (m.u, m.p, m.exact))
        .ok_or_else(|| err("mann_whitney needs two non-empty samples without NaN".to_string()))
}

/// Holm's adjustment (`lab::significance::holm`).
#[pyfunction]
fn holm(p: Vec<f64>) -> PyResult<Vec<f64>> {
    if p.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(err("holm takes p-values in [0, 1]".to_string()));
    }
    Ok(lab::significance::holm(&p))
}

/// Friedman's test (`lab::significance::friedman`): `(statistic, p, mean_ranks)`.
#[pyfunction]
fn friedman(blocks: Vec<Vec<f64>>) -> PyResult<(f64, f64, Vec<f64>)> {
    lab::significance::friedman(&blocks)
        .map(|f| (f.statistic, f.p, f.mean_ranks))
        .ok_or_else(|| {
            err(
                "friedman needs blocks of one length, at least 3 treatments, no NaN, and not \
                 every value tied"
                    .to_string(),
            )
        })
}

/// COCO's comparison keys (`lab::significance::coco_keys`): each run as `(reached, value)`,
/// the runtime when it reached the target, else the final precision.
#[pyfunction]
fn coco_keys(a: Vec<(bool, f64)>, b: Vec<(bool, f64)>) -> (Vec<f64>, Vec<f64>) {
    let side = |v: Vec<(bool, f64)>| -> Vec<Result<f64, f64>> {
        v.into_iter()
            .map(|(ok, x)| if ok { Ok(x) } else { Err(x) })
            .collect()
    };
    lab::significance::coco_keys(&side(a), &side(b))
}

// --- the suite ------------------------------------------------------------------------------

/// The suite's setup from the options Python gives as JSON (`SuiteSpec`'s fields as text).
fn suite_setup(spec: &str) -> PyResult<lab::suite::SuiteSetup> {
    let spec: lab::suite::SuiteSpec = serde_json::from_str(spec)
        .map_err(|e| PyValueError::new_err(format!("suite options: {e}")))?;
    spec.setup().map_err(err)
}

fn tuned_of(setup: &lab::suite::SuiteSetup, tuned: &str) -> PyResult<Vec<lab::suite::Entry>> {
    let tuned: Vec<Vec<lab::suite::Tuned>> = serde_json::from_str(tuned)
        .map_err(|e| PyValueError::new_err(format!("tuned settings: {e}")))?;
    if tuned.len() != setup.methods.len() {
        return Err(PyValueError::new_err("tuned settings: one list per method"));
    }
    lab::suite::entries(setup, &tuned).map_err(err)
}

/// What `train` and `train_phase` return: the JSON document, each run's fate, and the flat
/// per-run arrays by name.
type TrainOut<'py> = (
    String,
    Vec<String>,
    Vec<(String, Bound<'py, PyArray1<f64>>)>,
);

/// `train`'s options as the Python side sends them (JSON of the command line's text).
fn train_spec(spec: &str) -> PyResult<lab::train::TrainSpec> {
    serde_json::from_str(spec).map_err(|e| PyValueError::new_err(format!("train options: {e}")))
}

/// `optiscape train`: its JSON document (as `--format json` prints it), each run's fate, and
/// flat per-run arrays by name (methods x starts, row-major; `initial`/`final`: methods x
/// starts x parameters, with `weights`; the training and test data).
#[pyfunction]
#[pyo3(signature = (spec, weights=false))]
fn train<'py>(py: Python<'py>, spec: &str, weights: bool) -> PyResult<TrainOut<'py>> {
    let spec = train_spec(spec)?;
    let (mut setup, opts) = spec.setup().map_err(err)?;
    setup.keep_weights = weights;
    let progress = Progress::default();
    let st = interruptible(py, &progress, || lab::train::study(setup, &opts, &progress))?;
    if st.cancelled {
        return Err(PyRuntimeError::new_err("cancelled"));
    }
    let doc = json_text(&report::train(&st))?;
    let (fates, arrays) = run_arrays(py, &st, weights);
    Ok((doc, fates, arrays))
}

/// Each run's fate, and flat per-run arrays by name (rows x starts, row-major; `initial` and
/// `final` rows x starts x parameters when the study kept weights; the data).
#[allow(clippy::type_complexity)]
fn run_arrays<'py>(
    py: Python<'py>,
    st: &lab::train::TrainStudy,
    weights: bool,
) -> (Vec<String>, Vec<(String, Bound<'py, PyArray1<f64>>)>) {
    let all = || st.runs.iter().flatten();
    let fates: Vec<String> = all()
        .map(|r| {
            lab::train::Fate::of(r, st.target, st.setup.gtol)
                .name()
                .to_string()
        })
        .collect();
    let mut arrays: Vec<(String, Vec<f64>)> = vec![
        ("final_loss".into(), all().map(|r| r.final_loss).collect()),
        ("best_loss".into(), all().map(|r| r.lowest()).collect()),
        ("grad_norm".into(), all().map(|r| r.grad_norm).collect()),
        (
            "train_accuracy".into(),
            all().map(|r| r.train_accuracy).collect(),
        ),
        ("test_loss".into(), all().map(|r| r.test_loss).collect()),
        (
            "test_accuracy".into(),
            all().map(|r| r.test_accuracy).collect(),
        ),
        ("updates".into(), all().map(|r| r.updates as f64).collect()),
        (
            "first_success".into(),
            all()
                .map(|r| r.first_at_most(st.target).map_or(f64::NAN, |u| u as f64))
                .collect(),
        ),
    ];
    if weights {
        arrays.push((
            "initial".into(),
            all().flat_map(|r| r.initial.iter().copied()).collect(),
        ));
        arrays.push((
            "final".into(),
            all().flat_map(|r| r.weights.iter().copied()).collect(),
        ));
    }
    let d = &st.setup.data;
    arrays.push((
        "train_x".into(),
        d.train.x.iter().flat_map(|p| [p[0], p[1]]).collect(),
    ));
    arrays.push(("train_y".into(), d.train.y.clone()));
    arrays.push((
        "test_x".into(),
        d.test.x.iter().flat_map(|p| [p[0], p[1]]).collect(),
    ));
    arrays.push(("test_y".into(), d.test.y.clone()));
    let arrays = arrays
        .into_iter()
        .map(|(k, v)| (k, PyArray1::from_vec(py, v)))
        .collect();
    (fates, arrays)
}

/// `optiscape train --y`: a phase map of one method, its JSON document (as `--format json`
/// prints it), each run's fate and flat per-run arrays (cells x starts, `x` fastest).
#[pyfunction]
fn train_phase<'py>(py: Python<'py>, spec: &str, phase: &str) -> PyResult<TrainOut<'py>> {
    let spec = train_spec(spec)?;
    let phase: lab::train::phase::TrainPhaseSpec = serde_json::from_str(phase)
        .map_err(|e| PyValueError::new_err(format!("phase options: {e}")))?;
    let (setup, opts) = spec.setup().map_err(err)?;
    let (opt, x, y) = phase.axes(&opts).map_err(err)?;
    let progress = Progress::default();
    let map = interruptible(py, &progress, || {
        lab::train::phase::train_phase(setup, &opt, &x, &y, &progress)
    })?
    .map_err(err)?;
    if map.study.cancelled {
        return Err(PyRuntimeError::new_err("cancelled"));
    }
    let doc = json_text(&report::train_phase(&map))?;
    let (fates, arrays) = run_arrays(py, &map.study, false);
    Ok((doc, fates, arrays))
}

/// `optiscape suite` in one process: the results document (its `results.json`'s `results`).
#[pyfunction]
fn suite(py: Python<'_>, spec: &str) -> PyResult<String> {
    let setup = suite_setup(spec)?;
    let progress = Progress::default();
    let (r, _, finished) = interruptible(py, &progress, || {
        lab::suite::run_suite(&setup, &mut lab::suite::NoStore, &progress)
    })?
    .map_err(err)?;
    if finished.problems < finished.of {
        return Err(PyRuntimeError::new_err("cancelled"));
    }
    json_text(&serde_json::to_value(&r).map_err(|e| PyRuntimeError::new_err(e.to_string()))?)
}

/// The tuning cells, `(method, surface)` indices, the number of problems and of methods.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn suite_plan(spec: &str) -> PyResult<(Vec<(usize, usize)>, usize, usize)> {
    let setup = suite_setup(spec)?;
    Ok((
        lab::suite::tuning_cells(&setup),
        lab::suite::problems(&setup).0.len(),
        setup.methods.len(),
    ))
}

/// One tuning cell: its `Tuned` as JSON.
#[pyfunction]
fn suite_tune_cell(py: Python<'_>, spec: &str, method: usize, surface: usize) -> PyResult<String> {
    let setup = suite_setup(spec)?;
    if !lab::suite::tuning_cells(&setup).contains(&(method, surface)) {
        return Err(PyValueError::new_err(format!(
            "({method}, {surface}) is not a tuning cell of this suite"
        )));
    }
    let (_, tuning) = lab::suite::problems(&setup);
    let base = lab::suite::base_key(&setup);
    let progress = Progress::default();
    let t = interruptible(py, &progress, || {
        lab::suite::tune_one(
            &setup,
            (method, surface),
            &tuning,
            &base,
            &mut lab::suite::NoStore,
            &progress,
        )
    })?
    .map_err(err)?;
    let t = finished(t)?;
    serde_json::to_string(&t).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// One problem (by index) with the tuned settings (JSON: per method, the list of its tuning
/// cells' results): its bytes for [`suite_analyze`].
#[pyfunction]
fn suite_problem<'py>(
    py: Python<'py>,
    spec: &str,
    index: usize,
    tuned: &str,
) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
    let setup = suite_setup(spec)?;
    let entries = tuned_of(&setup, tuned)?;
    let (problems, _) = lab::suite::problems(&setup);
    let p = problems
        .get(index)
        .ok_or_else(|| PyValueError::new_err(format!("no problem {index}")))?;
    let base = lab::suite::base_key(&setup);
    let progress = Progress::default();
    let d = interruptible(py, &progress, || {
        lab::suite::run_problem(
            &setup,
            p,
            &entries,
            &base,
            &mut lab::suite::NoStore,
            &progress,
        )
    })?
    .map_err(err)?;
    let d = finished(d)?;
    Ok(pyo3::types::PyBytes::new(
        py,
        &lab::suite::encode_problem(&d),
    ))
}

/// The results document from the tuned settings and every problem's bytes (in problem order).
#[pyfunction]
fn suite_analyze(spec: &str, tuned: &str, problems: Vec<Vec<u8>>) -> PyResult<String> {
    let setup = suite_setup(spec)?;
    let entries = tuned_of(&setup, tuned)?;
    let done = problems
        .iter()
        .map(|b| lab::suite::decode_problem(&setup, b))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| PyValueError::new_err("a problem's bytes are not of this suite"))?;
    let r = lab::suite::analyze(&setup, &entries, &done);
    json_text(&serde_json::to_value(&r).map_err(|e| PyRuntimeError::new_err(e.to_string()))?)
}

#[pymodule]
fn _optiscape(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Surface>()?;
    m.add_class::<BasinMap>()?;
    m.add_function(wrap_pyfunction!(surface_catalog, m)?)?;
    m.add_function(wrap_pyfunction!(method_catalog, m)?)?;
    m.add_function(wrap_pyfunction!(trace, m)?)?;
    m.add_function(wrap_pyfunction!(race, m)?)?;
    m.add_function(wrap_pyfunction!(basins, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(tune, m)?)?;
    m.add_function(wrap_pyfunction!(ecdf, m)?)?;
    m.add_function(wrap_pyfunction!(phase, m)?)?;
    m.add_function(wrap_pyfunction!(run_shard, m)?)?;
    m.add_function(wrap_pyfunction!(race_row, m)?)?;
    m.add_function(wrap_pyfunction!(lowered_minimum, m)?)?;
    m.add_function(wrap_pyfunction!(mann_whitney, m)?)?;
    m.add_function(wrap_pyfunction!(holm, m)?)?;
    m.add_function(wrap_pyfunction!(friedman, m)?)?;
    m.add_function(wrap_pyfunction!(coco_keys, m)?)?;
    m.add_function(wrap_pyfunction!(suite, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(train_phase, m)?)?;
    m.add_function(wrap_pyfunction!(suite_plan, m)?)?;
    m.add_function(wrap_pyfunction!(suite_tune_cell, m)?)?;
    m.add_function(wrap_pyfunction!(suite_problem, m)?)?;
    m.add_function(wrap_pyfunction!(suite_analyze, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
