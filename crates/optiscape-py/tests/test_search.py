"""The methods that ask for evaluations against their references: from the same start,
``nelder-mead`` and ``bfgs`` give SciPy's iterates (``minimize(..., callback=...)``) to 1e-9,
with the same evaluation counts, on rastrigin, himmelblau, rosenbrock and the notebook's
surface."""

import numpy as np
import pytest
from scipy.optimize import minimize

import optiscape as osc

SURFACES = ["rastrigin", "himmelblau", "rosenbrock", "seed"]


def starts(surface: "osc.Surface", k: int = 6):
    """The surface's default start and k - 1 seeded uniform points of its domain."""
    x0, x1, y0, y1 = surface.domain
    rng = np.random.default_rng(7)
    pts = [tuple(surface.default_start)]
    pts += [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(k - 1)]
    return pts


def scipy_iterates(surface: "osc.Surface", method: str, x0):
    """SciPy's iterates as its callback sees them, each with the number of function values
    and gradients computed so far; and SciPy's result."""
    calls = {"f": 0, "g": 0}

    def f(p):
        calls["f"] += 1
        return surface.height(p[0], p[1])

    def g(p):
        calls["g"] += 1
        return np.array(surface.gradient(p[0], p[1]))

    rows = []

    def cb(intermediate_result):
        x = intermediate_result.x
        rows.append((x[0], x[1], intermediate_result.fun, calls["f"], calls["g"]))

    jac = g if method == "BFGS" else None
    res = minimize(f, np.array(x0, dtype=float), method=method, jac=jac, callback=cb)
    return np.array(rows), res, calls


def ours(surface, method, start, steps):
    return osc.trace(surface, method, start=start, steps=steps, evaluations=True)


@pytest.mark.parametrize("name", SURFACES)
def test_nelder_mead_equals_scipy(name):
    s = osc.Surface(name)
    for x0 in starts(s):
        ref, res, calls = scipy_iterates(s, "Nelder-Mead", x0)
        got = ours(s, "nelder-mead", x0, len(ref) + 5)
        n = min(len(ref), len(got) - 1)
        assert n > 5, (name, x0)
        np.testing.assert_allclose(got[1 : n + 1, :3], ref[:n, :3], rtol=1e-9, atol=1e-9)
        # The evaluations asked for, iteration by iteration: the same as SciPy's.
        np.testing.assert_array_equal(got[1 : n + 1, 3], ref[:n, 3])
        assert np.all(got[:, 4] == 0), "Nelder-Mead asks for no gradient"
        if res.status == 0:
            # SciPy stopped by its xatol/fatol test: so does ours, on the same iteration.
            assert len(got) - 1 == len(ref), (name, x0, len(got), len(ref))
            assert got[-1, 3] == res.nfev


@pytest.mark.parametrize("name", SURFACES)
def test_bfgs_equals_scipy(name):
    s = osc.Surface(name)
    for x0 in starts(s):
        ref, res, calls = scipy_iterates(s, "BFGS", x0)
        got = ours(s, "bfgs", x0, len(ref) + 5)
        n = len(ref)
        assert n >= 1, (name, x0)
        np.testing.assert_allclose(got[1 : n + 1, :3], ref[:, :3], rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(got[1 : n + 1, 3:], ref[:, 3:])
        # Where SciPy stopped, ours stopped; a failed line search is one more row (the search's
        # evaluations, no move), SciPy's warnflag 2.
        extra = 1 if res.status == 2 else 0
        assert len(got) - 1 == n + extra, (name, x0, res.status, len(got), n)
        assert got[-1, 3] == res.nfev and got[-1, 4] == res.njev, (name, x0)
        np.testing.assert_allclose(got[-1, :2], res.x, rtol=1e-9, atol=1e-9)


def test_search_methods_take_budgets_and_report_counts():
    s = osc.Surface("rastrigin")
    for m in ["basin-hopping", "differential-evolution", "random-search", "multistart"]:
        t = osc.trace(s, m, start=(2.0, 2.0), steps=20, evaluations=True)
        assert t.shape[1] == 5 and len(t) >= 2, m
        assert np.all(np.diff(t[:, 3]) >= 0), m
        # Equal seeds, equal runs; another seed, another run.
        t2 = osc.trace(s, m, start=(2.0, 2.0), steps=20, evaluations=True)
        np.testing.assert_array_equal(t, t2)
        t3 = osc.trace(s, m, start=(2.0, 2.0), steps=20, seed=1, evaluations=True)
        assert not np.array_equal(t, t3), m
