"""The stochastic methods against their references, statistically (they cannot share SciPy's or
pycma's random streams): over 1,000 uniform starts with 2,000 evaluations each on rastrigin and
himmelblau, optiscape's success rate lies within the reference's 99% Wilson interval and its
median evaluations to success within 15% of the reference's -- SciPy's
``differential_evolution``, ``dual_annealing`` and ``basinhopping``, and pycma's ``fmin2`` with
IPOP and BIPOP restarts, run by ``benches/scripts/search_vs_scipy.py`` (docs/benchmarks.md).

The 10,000 reference runs take about 25 minutes of Python, so their outcomes are stored in
``benches/data/search_reference.json``; the first starts of every reference are run again here,
live, and must give exactly the stored outcomes (every reference run is seeded), so the file is
what SciPy and pycma give on this machine, not a number copied by hand."""

import importlib.util
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "benches" / "data" / "search_reference.json"
LIVE = 25  # reference runs repeated live per surface and method

spec = importlib.util.spec_from_file_location("search_vs_scipy", ROOT / "benches" / "scripts" / "search_vs_scipy.py")
svs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(svs)

REF = json.loads(DATA.read_text())
CASES = [(s, m) for s, d in REF["surfaces"].items() for m in d["methods"]]


def test_the_reference_file_covers_the_issue():
    assert REF["starts"] == 1000 and REF["budget"] == 2000 and REF["grad_cost"] == svs.GRAD_COST
    assert set(REF["surfaces"]) == {"rastrigin", "himmelblau"}
    for d in REF["surfaces"].values():
        assert set(d["methods"]) == {"de", "annealing", "basinhopping", "cma-ipop", "cma-bipop"}
        assert all(len(v) == REF["starts"] for v in d["methods"].values())


@pytest.mark.parametrize("surface,method", CASES)
def test_the_stored_reference_is_what_the_reference_gives(surface, method):
    import scipy

    starts = svs.uniform_starts(surface, REF["starts"], REF["seed"])[:LIVE]
    with warnings.catch_warnings():
        # pycma warns at import that matplotlib is missing (its plots are not used).
        warnings.simplefilter("ignore")
        import cma

        live = svs.reference_firsts(method, surface, starts, REF["budget"], REF["surfaces"][surface]["tol"], REF["seed"])
    stored = REF["surfaces"][surface]["methods"][method][:LIVE]
    assert live == stored, (
        f"{surface}/{method}: SciPy {scipy.__version__} / pycma {cma.__version__} give {live}, "
        f"the file (SciPy {REF['versions']['scipy']}, pycma {REF['versions']['cma']}) {stored}: "
        "regenerate it with benches/scripts/search_vs_scipy.py --save-reference"
    )


@pytest.mark.parametrize("surface,method", CASES)
def test_success_and_median_evaluations_match_the_reference(cli, surface, method):
    firsts = REF["surfaces"][surface]["methods"][method]
    ok = [v for v in firsts if v is not None]
    lo, hi = svs.wilson99(len(ok), len(firsts))
    row = svs.optiscape_race(str(cli.binary), surface, method, REF["starts"], REF["budget"], REF["seed"])
    rate = row["reached_rate"]
    # (Wilson's upper end of 1,000 successes in 1,000 is 1 up to rounding.)
    assert lo - 1e-12 <= rate <= hi + 1e-12, f"{surface}/{method}: optiscape {rate:.3f}, reference [{lo:.3f}, {hi:.3f}]"
    ours, theirs = row["median_evals_to_success"], float(np.median(ok))
    assert ours is not None
    assert math.isclose(ours, theirs, rel_tol=0.15), f"{surface}/{method}: median {ours} vs {theirs}"
