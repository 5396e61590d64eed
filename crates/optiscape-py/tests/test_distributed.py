"""A study split into shards on a Dask LocalCluster with two worker processes equals the same
study in one process, and each cell equals optiscape.race for it."""

import pytest

import optiscape as o
import optiscape.distributed as od


def without_seconds(row):
    return {k: v for k, v in row.items() if k != "seconds"}


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as c:
            yield c


GRID = od.grid(
    ["rastrigin", {"surface": "formula:1.5*sin(x)*cos(y) + 0.1*(x^2 + y^2)", "domain": (-5, 5, -5, 5)}],
    ["adam", "langevin"],
    params={"lr": [0.01, 0.05]},
    instances=[0, 2],
)


def test_grid_is_every_combination():
    assert len(GRID) == 2 * 2 * 2 * 2
    assert GRID[0] == {"surface": "rastrigin", "instance": 0, "method": "adam", "params": {"lr": 0.01}}
    with pytest.raises(ValueError):
        od.grid(["seed"], ["adam"], instances=[1], rotations=[30])


def test_shards_on_two_workers_equal_one_process_and_race(client):
    assert len(client.scheduler_info()["workers"]) == 2
    far = od.sweep(client, GRID, starts=500, steps=150, seed=4, shard_runs=96)
    here = od.sweep(None, GRID, starts=500, steps=150, seed=4, shard_runs=500)
    assert [without_seconds(r) for r in far] == [without_seconds(r) for r in here]
    # Shards ran on both workers' processes: the counts add up per cell.
    assert all(r["runs"] == 500 for r in far)
    for cell, row in zip(GRID, far):
        args = {k: v for k, v in cell.items() if k not in ("surface", "method", "params")}
        s = o.Surface(cell["surface"], **args)
        ref = o.race(s, [cell["method"]], starts=500, steps=150, seed=4, params={cell["method"]: cell["params"]})
        assert row["surface"] == ref["surface"]
        assert without_seconds(row) | {"cell": None, "surface": None} == {
            **without_seconds(ref["methods"][0]),
            "cell": None,
            "surface": None,
        }


def test_bad_cells_are_refused_before_anything_runs(client):
    with pytest.raises(ValueError, match="unknown method"):
        od.sweep(client, [{"surface": "seed", "method": "nope"}])
    with pytest.raises(ValueError, match="no parameter"):
        od.sweep(client, od.grid(["seed"], ["adam"], params={"momentum": [0.5]}))
    with pytest.raises(ValueError, match="--starts"):
        od.sweep(None, GRID, starts=0)


WELL = {
    "surface": "formula:x^2 + y^2 - exp(-((x - 0.3137)^2 + (y - 0.2171)^2) * 1e6)",
    "domain": (-1, 1, -1, 1),
}


def test_a_lowered_minimum_is_lowered_in_shards_as_in_one_process():
    """A start in a well the minimum's estimate cannot see lowers the minimum: the shards are
    counted again against it, as optiscape.race counts its runs."""
    cells = od.grid([WELL], ["sgd"], params={"lr": [0.01]})
    region = (0.3127, 0.3147, 0.2161, 0.2181)
    rows = od.sweep(None, cells, starts=64, steps=20, seed=1, region=region, shard_runs=16)
    s = o.Surface(WELL["surface"], domain=WELL["domain"])
    ref = o.race(s, ["sgd"], starts=64, steps=20, seed=1, region=region, params={"sgd": {"lr": 0.01}})
    assert ref["target"]["lowered"] is True
    assert without_seconds(rows[0]) | {"cell": None, "surface": None} == {
        **without_seconds(ref["methods"][0]),
        "cell": None,
        "surface": None,
    }


SUITE = dict(
    methods=["sgd", "adam", "cma-es", "nelder-mead"],
    surfaces=["himmelblau", "rastrigin", "bowl"],
    instances=2,
    starts=40,
    budget=600,
    tune_budget=4,
    seed=5,
)


def test_a_suite_on_two_workers_equals_one_process_and_the_command_line(client, cli, tmp_path):
    far = od.suite(client, **SUITE)
    here = o.suite(**SUITE)
    assert far == here
    # Every problem's tasks ran; tuned lines exist for the methods with something to tune.
    assert len(far["problems"]) == 6
    labels = [e["label"] for e in far["entries"]]
    assert labels == ["sgd", "adam", "cma-es", "nelder-mead", "sgd (tuned)", "adam (tuned)", "cma-es (tuned)"]
    out = tmp_path / "report"
    cli.out(
        "suite", "--methods", "sgd,adam,cma-es,nelder-mead", "--surfaces", "himmelblau,rastrigin,bowl",
        "--instances", "2", "--starts", "40", "--budget", "600", "--tune-budget", "4", "--seed", "5",
        "--out", str(out),
    )
    import json

    assert json.loads((out / "results.json").read_text())["results"] == here


def test_suite_options_are_refused_in_one_line():
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        o.suite(methods=["adam", "nope"])
    with pytest.raises(ValueError, match="--instances must be at least 1"):
        od.suite(None, instances=0)
    with pytest.raises(ValueError, match="--budget-unit"):
        o.suite(budget_unit="hours")
