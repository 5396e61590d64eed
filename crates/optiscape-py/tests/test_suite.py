"""`optiscape suite`'s numbers recomputed from its ``runs.csv`` with SciPy (and its ``ioh/`` export
read by ``iohinspector``) and from their published
definitions (docs/guide.md, "The suite"): the Mann-Whitney p-values (``scipy.stats.mannwhitneyu``)
to 1e-10, Holm's adjustment (Holm 1979), Friedman's statistic
(``scipy.stats.friedmanchisquare``), the ERTs, the performance (Dolan & More 2002) and data
(More & Wild 2009) profiles, and the escape rate from each run's start basin and end."""

import csv
import json
from collections import defaultdict

import numpy as np
import pytest
from scipy import stats


@pytest.fixture(scope="module")
def folder(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("suite") / "report"
    cli.out(
        "suite", "--methods", "sgd,adam,lion,cma-es,nelder-mead,random-search",
        "--surfaces", "himmelblau,rastrigin,six-hump-camel,styblinski-tang",
        "--instances", "2", "--starts", "60", "--budget", "900", "--tune-budget", "4",
        "--seed", "3", "--out", str(out),
    )
    return out


@pytest.fixture(scope="module")
def report(folder):
    out = folder
    doc = json.loads((out / "results.json").read_text())
    runs = defaultdict(lambda: defaultdict(list))
    with open(out / "runs.csv", newline="") as f:
        for row in csv.DictReader(f):
            runs[row["problem"]][row["method"]].append(row)
    return doc, runs


GRAD_COST = 3


def _cost(r):
    # A function value 1, a gradient with its value GRAD_COST (docs/guide.md, "one cost scale").
    return int(r["evals"]) + int(r["grads"]) * (GRAD_COST - 1)


def _ert(rows):
    spent, hits = 0, 0
    for r in rows:
        if r["first_success_evals"]:
            spent += int(r["first_success_evals"])
            hits += 1
        else:
            spent += _cost(r)
    return spent / hits if hits else None


def _coco(rows_a, rows_b):
    """COCO's order: a run that reached the target beats one that did not; two that did compare by
    runtime, two that did not by the precision of the lowest loss they found."""

    def key(r):
        if r["first_success_evals"]:
            return (0, float(r["first_success_evals"]))
        return (1, max(float(r["lowest"]) - float(r["minimum"]), 0.0))

    keys = sorted(set(map(key, rows_a + rows_b)))
    number = {k: i + 1 for i, k in enumerate(keys)}
    return [number[key(r)] for r in rows_a], [number[key(r)] for r in rows_b]


def test_erts_and_relative_erts_follow_from_the_runs(report):
    doc, runs = report
    for p in doc["results"]["problems"]:
        erts = {row["entry"]: _ert(runs[p["problem"]][row["entry"]]) for row in p["rows"]}
        best = min(v for v in erts.values() if v is not None)
        for row in p["rows"]:
            want = erts[row["entry"]]
            assert (row["ert_evals"] is None) == (want is None)
            if want is not None:
                assert row["ert_evals"] == pytest.approx(want, rel=1e-12)
                assert row["relative_ert"] == pytest.approx(want / best, rel=1e-12)


def test_mann_whitney_and_holm_equal_scipy(report):
    doc, runs = report
    comps = doc["results"]["comparisons"]
    assert len(comps) > 100
    for c in comps:
        x, y = _coco(runs[c["problem"]][c["a"]], runs[c["problem"]][c["b"]])
        if len(set(x + y)) == 1:
            assert c["p"] == 1.0
            continue
        want = stats.mannwhitneyu(x, y)
        assert abs(c["p"] - want.pvalue) < 1e-10, c
        assert c["u"] == pytest.approx(want.statistic, abs=1e-9)
    # Holm (1979): the i-th smallest of m p-values times (m - i + 1), made non-decreasing, at most 1.
    p = np.array([c["p"] for c in comps])
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for i, k in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[k]))
        adj[k] = running
    got = np.array([c["p_holm"] for c in comps])
    assert np.max(np.abs(got - adj)) < 1e-12
    for c in comps:
        assert (c["better"] is not None) == (c["p_holm"] < doc["results"]["alpha"])


def test_friedman_equals_scipy(report):
    doc, _ = report
    res = doc["results"]
    entries = [e["label"] for e in res["entries"]]
    blocks = []
    for p in res["problems"]:
        keys = [
            (0, r["ert_evals"]) if r["ert_evals"] is not None else (1, r["median_precision"])
            for r in p["rows"]
        ]
        number = {k: i for i, k in enumerate(sorted(set(keys)))}
        blocks.append([number[k] for k in keys])
    cols = np.array(blocks).T
    want = stats.friedmanchisquare(*cols)
    assert res["friedman"]["statistic"] == pytest.approx(want.statistic, rel=1e-10)
    assert abs(res["friedman"]["p"] - want.pvalue) < 1e-10
    ranks = np.mean([stats.rankdata(b) for b in blocks], axis=0)
    for s, r in zip(res["summaries"], ranks):
        assert s["mean_rank"] == pytest.approx(r, rel=1e-12)
    assert len(entries) == len(res["summaries"])


def test_profiles_follow_their_definitions(report):
    doc, _ = report
    res = doc["results"]
    erts = [[r["ert_evals"] for r in p["rows"]] for p in res["problems"]]
    for k, s in enumerate(res["summaries"]):
        ratios, costs = [], []
        for row in erts:
            solved = [v for v in row if v is not None]
            t = row[k]
            ratios.append(t / min(solved) if t is not None else None)
            costs.append(t / (2 + 1) if t is not None else None)
        key = lambda v: (v is None, v if v is not None else 0.0)
        for got, want in ((s["performance_ratios"], ratios), (s["data_costs"], costs)):
            want = sorted(want, key=key)
            assert [v is None for v in got] == [v is None for v in want]
            assert [v for v in got if v is not None] == pytest.approx(
                [v for v in want if v is not None], rel=1e-12
            )
        # rho(1): the share of problems where this method is (one of) the best.
        assert sum(1 for v in ratios if v == 1.0) == sum(
            1 for v in s["performance_ratios"] if v == 1.0
        )


def test_the_escape_rate_follows_from_start_basins_and_ends(report):
    doc, runs = report
    pooled = defaultdict(lambda: [0, 0])
    some_escaped = False
    for p in doc["results"]["problems"]:
        t = p["target"]
        dom = t["domain"]
        baseline = []
        for row in p["rows"]:
            rows = runs[p["problem"]][row["entry"]]
            escapable = escaped = 0
            for r in rows:
                flow = float(r["flow_minimum"])
                if not (np.isfinite(flow) and flow - t["value"] > t["tol"]):
                    continue
                escapable += 1
                x, y, loss = float(r["x"]), float(r["y"]), float(r["loss"])
                inside = dom["x0"] <= x <= dom["x1"] and dom["y0"] <= y <= dom["y1"]
                if (r["status"] not in ("diverged", "bad_gradient") and np.isfinite(loss)
                        and inside and loss < flow - t["tol"]):
                    escaped += 1
            assert (row["escapable"], row["escaped"]) == (escapable, escaped), (p["problem"], row["entry"])
            if escapable:
                assert row["escape_rate"] == pytest.approx(escaped / escapable, rel=1e-15)
                # Wilson's interval holds the rate.
                assert row["escape_rate_low"] <= row["escape_rate"] <= row["escape_rate_high"]
            pooled[row["entry"]][0] += escaped
            pooled[row["entry"]][1] += escapable
            some_escaped |= escaped > 0
            baseline = [float(r["flow_minimum"]) - t["value"] <= t["tol"] for r in rows]
        assert p["chance_baseline"] == pytest.approx(np.mean(baseline), rel=1e-15)
    assert some_escaped
    for s in doc["results"]["summaries"]:
        e, n = pooled[s["entry"]]
        assert (s["escaped"], s["escapable"]) == (e, n)


def test_iohinspector_loads_the_export_and_its_ert_equals_ours(report, folder):
    """IOHprofiler's format, read by the iohinspector package: every run of every entry on every
    problem, and the ERT computed from what it loaded (the first logged evaluation at or below
    the target, else the run's evaluations) equals ours to 1e-9 relative."""
    import iohinspector as ih
    import polars as pl

    doc, runs = report
    dm = ih.DataManager()
    dm.add_folder(str(folder / "ioh"))
    res = doc["results"]
    entries = [e["label"] for e in res["entries"]]
    assert sorted(set(dm.overview["algorithm_name"].to_list())) == sorted(entries)
    n_runs = sum(len(rows) for problem in runs.values() for rows in problem.values())
    assert len(dm.overview) == n_runs
    data = dm.load(monotonic=False, include_meta_data=True)
    meta = dm.overview
    checked = 0
    for p in res["problems"]:
        threshold = p["target"]["value"] + p["target"]["tol"]
        for row in p["rows"]:
            m = meta.filter(
                (pl.col("algorithm_name") == row["entry"])
                & (pl.col("function_name") == p["surface"])
                & (pl.col("instance") == p["instance"])
            )
            assert len(m) == p["starts"], (p["problem"], row["entry"])
            d = data.filter(pl.col("data_id").is_in(m["data_id"].to_list()))
            hits = (
                d.filter(pl.col("raw_y") - p["target"]["value"] <= p["target"]["tol"])
                .group_by("data_id")
                .agg(pl.col("evaluations").min().alias("hit"))
            )
            hit = dict(zip(hits["data_id"].to_list(), hits["hit"].to_list()))
            spent = sum(hit.get(i, e) for i, e in zip(m["data_id"].to_list(), m["evals"].to_list()))
            ert = spent / len(hit) if hit else None
            assert (ert is None) == (row["ert_evals"] is None), (p["problem"], row["entry"])
            if ert is not None:
                assert ert == pytest.approx(row["ert_evals"], rel=1e-9), (p["problem"], row["entry"])
                checked += 1
            assert threshold > p["target"]["value"]
    assert checked > 20
