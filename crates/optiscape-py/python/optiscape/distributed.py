"""Studies too big for one process, on a Dask cluster.

A study is a grid of cells (surface x instance x method x hyperparameters); each cell is a race
of one method from ``starts`` random starts. ``sweep(client, grid(...))`` splits every cell's
runs into shards by run index, runs the shards on the cluster's workers, puts each cell's runs
back in index order and computes its row with the same function as ``optiscape.race``. Every
run's start and noise depend only on the seed and the run's index, so the result equals the
single-process result exactly, however the runs were split and wherever they ran.

On one machine::

    from dask.distributed import Client, LocalCluster
    import optiscape.distributed as od

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        rows = od.sweep(client, od.grid(["rastrigin", "ackley"], ["adam", "sgd"],
                                        params={"lr": [0.01, 0.05]}, instances=[0, 1, 2]))

On a cluster: install this package (the same version) on every worker, start a scheduler and
workers (``dask scheduler``; ``dask worker tcp://HOST:8786 --nthreads 1`` on each machine, or
dask-jobqueue / dask-kubernetes), and pass ``Client("tcp://HOST:8786")``. optiscape runs each
shard on all the cores of its worker, so one thread per worker process is the right setting.
``client=None`` runs the same shards in this process.
"""

from __future__ import annotations

import itertools
import time
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import _optiscape, _count, _num, _region, _setting, _suite_spec, _tol

__all__ = ["grid", "sweep", "run_shard", "suite"]

#: The runs in one shard by default: enough work to hide the scheduler's overhead.
SHARD_RUNS = 20_000


def grid(
    surfaces: Iterable[Union[str, Mapping[str, Any]]],
    methods: Iterable[str],
    params: Optional[Mapping[str, Sequence[Any]]] = None,
    instances: Optional[Iterable[int]] = None,
    rotations: Optional[Iterable[float]] = None,
) -> List[dict]:
    """Every combination of surface, placement, method and hyperparameter values, as cells.

    ``surfaces``: ids, formulas, or dicts of ``optiscape.Surface``'s arguments (``{"surface":
    "formula:...", "domain": (-5, 5, -5, 5), "a": 5}``). ``params`` maps a hyperparameter name to
    the values to try (every method of the study must have it). ``instances`` or ``rotations``
    multiply the grid by placements (not both; default: as defined).
    """
    if instances is not None and rotations is not None:
        raise ValueError("give instances or rotations, not both")
    placements: List[dict] = [{}]
    if instances is not None:
        placements = [{"instance": int(i)} for i in instances]
    elif rotations is not None:
        placements = [{"rotate": float(r)} for r in rotations]
    names = list((params or {}).keys())
    values = [list(v) for v in (params or {}).values()]
    cells = []
    for s, placement, m, combo in itertools.product(
        list(surfaces), placements, list(methods), itertools.product(*values)
    ):
        spec = {"surface": s} if isinstance(s, str) else dict(s)
        if "surface" not in spec:
            raise ValueError(f"a surface dict needs 'surface' (an id or formula): {s!r}")
        spec.update(placement)
        cells.append({**spec, "method": m, "params": dict(zip(names, combo))})
    return cells


def _surface_of(cell: Mapping[str, Any]):
    from . import Surface

    args = {k: v for k, v in cell.items() if k not in ("method", "params")}
    return Surface(args.pop("surface"), **args)


def _settings(cell: Mapping[str, Any]) -> list:
    return [_setting(k, v) for k, v in cell.get("params", {}).items()]


def run_shard(
    cell: Mapping[str, Any],
    first: int,
    count: int,
    starts: int,
    steps: int,
    seed: int,
    region: Optional[Sequence[float]] = None,
    tol: Optional[float] = None,
    precision: str = "f64",
    minimum: Optional[float] = None,
) -> dict:
    """Runs ``first .. first + count`` of a cell's ``starts`` runs: a dict of arrays (``x0, y0,
    x, y, loss, updates, first_success`` (-1: never), ``diverged``, ``bad_gradient``,
    ``lowest`` (the lowest loss inside the domain)), plus ``first`` and the shard's
    ``seconds``. ``minimum`` is an estimated minimum lowered by the cell's runs (see
    :func:`sweep`)."""
    s = _surface_of(cell)
    t0 = time.perf_counter()
    cols = _optiscape.run_shard(
        s._s,
        cell["method"],
        _settings(cell),
        _count(starts),
        _region(region),
        int(first),
        int(count),
        _count(steps),
        _count(seed),
        _tol(tol),
        precision,
        None if minimum is None else float(minimum),
    )
    names = _COLUMNS
    out = dict(zip(names, cols))
    out["first"] = int(first)
    out["seconds"] = time.perf_counter() - t0
    return out


_COLUMNS = (
    "x0",
    "y0",
    "x",
    "y",
    "loss",
    "updates",
    "first_success",
    "diverged",
    "bad_gradient",
    "lowest",
)


def _lowered(cell, shards, tol) -> Optional[float]:
    """The value the cell's runs lower its estimated minimum to (``None``: it stands), as
    ``optiscape.race`` decides it."""
    lowest = min((float(np.min(r["lowest"])) for r in shards if len(r["lowest"])), default=np.inf)
    return _optiscape.lowered_minimum(_surface_of(cell)._s, _tol(tol), lowest)


def _row(cell, shards, seed, tol, minimum) -> dict:
    import json

    shards = sorted(shards, key=lambda r: r["first"])
    cols = {
        k: np.ascontiguousarray(np.concatenate([r[k] for r in shards]))
        for k in _COLUMNS
    }
    s = _surface_of(cell)
    row = json.loads(
        _optiscape.race_row(
            s._s,
            cell["method"],
            cols["x0"],
            cols["y0"],
            cols["x"],
            cols["y"],
            cols["loss"],
            cols["updates"],
            cols["first_success"],
            cols["diverged"],
            cols["bad_gradient"],
            cols["lowest"],
            _count(seed),
            _tol(tol),
            float(sum(r["seconds"] for r in shards)),
            minimum,
        )
    )
    return {"cell": dict(cell), "surface": s.spec, **row}


def sweep(
    client: Any,
    grid: Iterable[Mapping[str, Any]],
    starts: int = 1000,
    steps: int = 300,
    seed: int = 0,
    *,
    region: Optional[Sequence[float]] = None,
    tol: Optional[float] = None,
    precision: str = "f64",
    shard_runs: int = SHARD_RUNS,
) -> List[dict]:
    """Runs every cell of ``grid`` (see :func:`grid`) as a race of ``starts`` runs, in shards of
    at most ``shard_runs`` runs on ``client``'s workers (a ``dask.distributed.Client``; ``None``:
    here). Returns one dict per cell, in grid order: ``cell`` (the cell), ``surface`` (as the
    command line names it) and ``optiscape.race``'s numbers for the method (``runs``,
    ``success_rate`` and its interval, ``reached_rate``, ``ert`` and its interval, losses,
    ``diverged``; ``seconds`` is the compute time summed over shards). Equal, number for number,
    to ``optiscape.race(surface, [method], starts, steps, seed, params=...)`` for the cell."""
    cells = [dict(c) for c in grid]
    if int(shard_runs) < 1:
        raise ValueError(f"shard_runs must be at least 1 (got {shard_runs})")
    # Check every cell (and the counts) here, with one clear error, before anything is sent.
    for c in cells:
        if "method" not in c or "surface" not in c:
            raise ValueError(f"a cell needs 'surface' and 'method': {c!r}")
        run_shard(c, 0, 0, starts, steps, seed, region, tol, precision)
    n = int(starts) if cells else 0
    jobs = [
        (i, first, min(int(shard_runs), n - first))
        for i in range(len(cells))
        for first in range(0, n, int(shard_runs))
    ]
    args = (n, steps, seed, region, tol, precision)

    def run(jobs, minima):
        if client is None:
            results = [run_shard(cells[i], a, k, *args, minima[i]) for i, a, k in jobs]
        else:
            futures = [
                client.submit(run_shard, cells[i], a, k, *args, minima[i], pure=False)
                for i, a, k in jobs
            ]
            results = client.gather(futures)
        by_cell: List[list] = [[] for _ in cells]
        for (i, _, _), r in zip(jobs, results):
            by_cell[i].append(r)
        return by_cell

    minima: List[Optional[float]] = [None] * len(cells)
    by_cell = run(jobs, minima)
    # A cell whose runs went below its estimated minimum is counted again against the lowered
    # value, as ``optiscape.race`` does (the runs are the same; their successes change).
    minima = [_lowered(c, shards, tol) for c, shards in zip(cells, by_cell)]
    again = [j for j in jobs if minima[j[0]] is not None]
    if again:
        redone = run(again, minima)
        by_cell = [redone[i] if minima[i] is not None else by_cell[i] for i in range(len(cells))]
    return [
        _row(c, shards, seed, tol, m) for c, shards, m in zip(cells, by_cell, minima)
    ]


def _tune_cell(spec: str, method: int, surface: int) -> str:
    return _optiscape.suite_tune_cell(spec, method, surface)


def _problem(spec: str, index: int, tuned: str) -> bytes:
    return _optiscape.suite_problem(spec, index, tuned)


def suite(
    client: Any,
    methods: Union[str, Iterable[str], None] = None,
    surfaces: Union[str, Iterable[str]] = "all",
    instances: Optional[int] = None,
    starts: Optional[int] = None,
    budget: int = 3000,
    budget_unit: str = "evals",
    grad_cost: int = 3,
    tune_budget: Optional[int] = None,
    tune_instances: int = 2,
    seed: int = 0,
    quick: bool = False,
    params: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> dict:
    """:func:`optiscape.suite` sharded over ``client``'s workers (``None``: here): first every
    tuning cell (a method on a surface's tuning instances) as its own task, then every problem
    (a surface instance: the gradient flow of its starts and every method's runs) as its own
    task, then the statistics here. Every cell is a pure function of the options, so the result
    equals ``optiscape.suite(...)`` with the same options, number for number."""
    spec = _suite_spec(
        methods, surfaces, instances, starts, budget, budget_unit, grad_cost, tune_budget,
        tune_instances, seed, quick, params,
    )
    import json

    cells, n_problems, n_methods = _optiscape.suite_plan(spec)

    def run(fn, jobs):
        if client is None:
            return [fn(*job) for job in jobs]
        return client.gather([client.submit(fn, *job, pure=False) for job in jobs])

    tuned_cells = run(_tune_cell, [(spec, m, s) for m, s in cells])
    per_method: dict = {}
    for (m, _), t in zip(cells, tuned_cells):
        per_method.setdefault(m, []).append(json.loads(t))
    tuned = json.dumps([per_method.get(m, []) for m in range(n_methods)])
    problems = run(_problem, [(spec, i, tuned) for i in range(n_problems)])
    return json.loads(_optiscape.suite_analyze(spec, tuned, [bytes(p) for p in problems]))
