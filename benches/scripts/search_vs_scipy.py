#!/usr/bin/env python3
"""The methods built for local optima against their references (docs/benchmarks.md, "Methods
that ask for evaluations"): SciPy's differential_evolution, dual_annealing and basinhopping, and
pycma's fmin2 (with IPOP or BIPOP restarts), each looped over the same number of uniform starts
with the same evaluation budget as `optiscape race --budget-unit evals`, whole script against
whole command.

For each reference run the objective is plain NumPy (the surface's formula), counted by a
wrapper that stops the run when the budget is spent; a run succeeds when a value within the
surface's tolerance of its global minimum is evaluated inside the domain within the budget, and
its evaluations to success are counted up to that value. A gradient (asked with its value)
costs n + 1 = 3 evaluations, what optiscape's one cost scale charges and what a finite-difference
gradient would cost; the local minimizer of basin hopping and dual annealing is BFGS with the
gradient, as optiscape's (passed through `minimizer_kwargs`).

Usage:
  python3 benches/scripts/search_vs_scipy.py --optiscape target/release/optiscape \\
      [--surfaces rastrigin,himmelblau] [--methods de,annealing,basinhopping,cma-ipop] \\
      [--starts 1000] [--budget 2000] [--json out.json] [--save-reference FILE] [--jobs J]
Prints a markdown table: success rate with its 99% Wilson interval, median evaluations to
success and wall seconds of the reference and of optiscape, and the time ratio (time it with
the default --jobs 1: the references run one start after another, as optiscape's figure is
taken on the same machine).

`--save-reference FILE` writes every reference run's evaluations to success (null where it
failed), with the versions of SciPy, pycma and NumPy: `benches/data/search_reference.json`,
which the Python package's tests (test_search_stats.py) compare optiscape's 1,000 runs with,
after re-running the first starts of each reference live to check the file is what SciPy and
pycma give.
"""
import argparse
import json
import math
import subprocess
import time

import numpy as np

def rastrigin_grad(p):
    return np.array([2 * p[0] + 20 * math.pi * math.sin(2 * math.pi * p[0]), 2 * p[1] + 20 * math.pi * math.sin(2 * math.pi * p[1])])


def himmelblau_grad(p):
    a = p[0] ** 2 + p[1] - 11
    b = p[0] + p[1] ** 2 - 7
    return np.array([4 * p[0] * a + 2 * b, 2 * a + 4 * p[1] * b])


SURFACES = {
    # id: (f, gradient, domain, minimum) -- the domain as `optiscape list` states it; the
    # success tolerance is read from `optiscape race --format json`
    "rastrigin": (
        lambda p: 20.0 + p[0] ** 2 - 10 * math.cos(2 * math.pi * p[0]) + p[1] ** 2 - 10 * math.cos(2 * math.pi * p[1]),
        rastrigin_grad,
        (-5.12, 5.12, -5.12, 5.12),
        0.0,
    ),
    "himmelblau": (
        lambda p: (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2,
        himmelblau_grad,
        (-5.0, 5.0, -5.0, 5.0),
        0.0,
    ),
}

GRAD_COST = 3  # a gradient with its value, in evaluations (n + 1 in 2D)

# optiscape id and settings for each reference
OURS = {
    "de": ("differential-evolution", []),
    "annealing": ("annealing", []),
    "basinhopping": ("basin-hopping", []),
    "cma-ipop": ("cma-es", ["--set", "restarts=ipop"]),
    "cma-bipop": ("cma-es", ["--set", "restarts=bipop"]),
}


class Spent(Exception):
    pass


class Counted:
    """The objective, counting evaluations on the one cost scale (a value 1; a gradient, asked
    with its value, GRAD_COST - 1 more); raises Spent at the first evaluation the budget cannot
    pay for, as `optiscape race --budget-unit evals` stops."""

    def __init__(self, f, g, domain, target, budget):
        self.f, self.g, self.domain, self.target, self.budget = f, g, domain, target, budget
        self.n = 0
        self.first = None

    def grad(self, x):
        if self.n + GRAD_COST - 1 > self.budget:
            raise Spent()
        self.n += GRAD_COST - 1
        return self.g(x)

    def __call__(self, x):
        if self.n + 1 > self.budget:
            raise Spent()
        self.n += 1
        v = float(self.f(x))
        x0, x1, y0, y1 = self.domain
        inside = x0 <= x[0] <= x1 and y0 <= x[1] <= y1
        if self.first is None and inside and v - SURFACES_MIN[0] <= self.target:
            self.first = self.n
        return v


SURFACES_MIN = [0.0]


def run_reference(method, f, g, domain, x0, budget, tol, seed):
    import scipy.optimize as so

    c = Counted(f, g, domain, tol, budget)
    bounds = [(domain[0], domain[1]), (domain[2], domain[3])]
    rng = np.random.default_rng(seed)
    width = domain[1] - domain[0]
    try:
        if method == "de":
            so.differential_evolution(c, bounds, x0=x0, rng=rng, maxiter=10**6, tol=0.01)
        elif method == "annealing":
            # optiscape's local search: BFGS with the gradient, at most 100 iterations (a
            # result outside the bounds is refused by SciPy's wrapper, as by optiscape).
            local = {"method": "BFGS", "jac": c.grad, "options": {"maxiter": 100}}
            so.dual_annealing(c, bounds, x0=x0, rng=rng, maxiter=10**6, maxfun=10**9, minimizer_kwargs=local)
        elif method == "basinhopping":
            # optiscape's local minimizer: BFGS with the gradient (SciPy's default BFGS would
            # take finite differences, whose precision loss fails many quenches).
            so.basinhopping(c, x0, niter=10**6, rng=rng, minimizer_kwargs={"method": "BFGS", "jac": c.grad})
        elif method.startswith("cma"):
            import cma

            opts = {"maxfevals": 10**9, "verbose": -9, "seed": int(seed) + 1}
            cma.fmin2(c, list(x0), 0.2 * width, opts, restarts=50, incpopsize=2, bipop=method == "cma-bipop")
    except Spent:
        pass
    return c.first


def reference_firsts(method, surface, starts, budget, tol, seed, first=0):
    """Each reference run's evaluations to success (None where it failed within the budget),
    for starts[i] with its seed `seed * 100003 + first + i` -- the same seeds whichever
    subset of the starts is run."""
    f, g, domain, fmin = SURFACES[surface]
    SURFACES_MIN[0] = fmin
    return [run_reference(method, f, g, domain, x0, budget, tol, seed * 100003 + first + i) for i, x0 in enumerate(starts)]


def uniform_starts(surface, n, seed):
    """The reference's starts: uniform over the domain, from NumPy's default_rng(seed)."""
    domain = SURFACES[surface][2]
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(domain[0], domain[1], n), rng.uniform(domain[2], domain[3], n)])


def optiscape_tol(optiscape, surface):
    """The success tolerance optiscape counts with on this surface."""
    out = subprocess.run([optiscape, "race", "--surface", surface, "--methods", "random-search", "--starts", "1", "--steps", "1", "--format", "json"], capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["target"]["tol"])


def optiscape_race(optiscape, surface, method, starts, budget, seed):
    """optiscape's row for the reference `method` (its id and settings from OURS)."""
    oid, sets = OURS[method]
    cmd = [optiscape, "race", "--surface", surface, "--methods", oid, *sets, "--starts", str(starts),
           "--budget-unit", "evals", "--steps", str(budget), "--seed", str(seed), "--format", "json"]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)["methods"][0]


def _chunk(args):
    return reference_firsts(*args)


def wilson99(k, n):
    z = 2.5758293035489004
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--optiscape", required=True)
    ap.add_argument("--surfaces", default="rastrigin,himmelblau")
    ap.add_argument("--methods", default="de,annealing,basinhopping,cma-ipop")
    ap.add_argument("--starts", type=int, default=1000)
    ap.add_argument("--budget", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1, help="reference runs in this many processes")
    ap.add_argument("--json")
    ap.add_argument("--save-reference")
    a = ap.parse_args()
    out = []
    saved = {}
    print("| surface | method | reference success [99%] | optiscape success | reference median evals | optiscape median evals | reference s | optiscape s | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for sname in a.surfaces.split(","):
        tol = optiscape_tol(a.optiscape, sname)
        starts = uniform_starts(sname, a.starts, a.seed)
        saved[sname] = {"tol": tol, "methods": {}}
        for m in a.methods.split(","):
            t0 = time.perf_counter()
            if a.jobs > 1:
                from concurrent.futures import ProcessPoolExecutor

                cut = np.array_split(np.arange(a.starts), a.jobs)
                with ProcessPoolExecutor(a.jobs) as ex:
                    parts = ex.map(_chunk, [(m, sname, starts[c], a.budget, tol, a.seed, int(c[0])) for c in cut])
                    firsts = [v for p in parts for v in p]
            else:
                firsts = reference_firsts(m, sname, starts, a.budget, tol, a.seed)
            ref_s = time.perf_counter() - t0
            saved[sname]["methods"][m] = firsts
            ok = [v for v in firsts if v is not None]
            ref_rate = len(ok) / a.starts
            lo, hi = wilson99(len(ok), a.starts)
            ref_med = float(np.median(ok)) if ok else None
            t0 = time.perf_counter()
            row = optiscape_race(a.optiscape, sname, m, a.starts, a.budget, a.seed)
            our_s = time.perf_counter() - t0
            our_rate = row["reached_rate"]
            our_med = row["median_evals_to_success"]
            fmt = lambda v: "–" if v is None else f"{v:.0f}"
            print(f"| {sname} | {m} | {ref_rate:.3f} [{lo:.3f}, {hi:.3f}] | {our_rate:.3f} | {fmt(ref_med)} | {fmt(our_med)} | {ref_s:.1f} | {our_s:.2f} | {ref_s / our_s:.0f}x |", flush=True)
            out.append(dict(surface=sname, method=m, reference_rate=ref_rate, reference_low=lo, reference_high=hi,
                            optiscape_rate=our_rate, reference_median=ref_med, optiscape_median=our_med,
                            reference_seconds=ref_s, optiscape_seconds=our_s))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    if a.save_reference:
        import cma
        import scipy

        doc = {
            "about": "evaluations to success of each reference run (null: failed within the budget); "
                     "written by benches/scripts/search_vs_scipy.py --save-reference",
            "versions": {"scipy": scipy.__version__, "cma": cma.__version__, "numpy": np.__version__},
            "starts": a.starts, "budget": a.budget, "seed": a.seed, "grad_cost": GRAD_COST,
            "surfaces": saved,
        }
        with open(a.save_reference, "w") as fh:
            json.dump(doc, fh, separators=(",", ":"))
            fh.write("\n")


if __name__ == "__main__":
    main()
