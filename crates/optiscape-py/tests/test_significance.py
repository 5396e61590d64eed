"""optiscape's significance tests against SciPy's, to 1e-10 (docs/methods.md, "Significance").

Random samples of many sizes, with and without ties, small (U's exact distribution) and large
(the normal approximation); Holm's adjustment against its published definition (Holm 1979);
Friedman's statistic and p-value against ``scipy.stats.friedmanchisquare``; COCO's order of runs.
"""

import numpy as np
import pytest
from scipy import stats

from optiscape import stats as ostats


def _samples(rng, n, ties):
    if ties:
        return rng.integers(0, max(2, n // 3), size=n).astype(float)
    return rng.normal(size=n)


@pytest.mark.parametrize("ties", [False, True])
def test_mann_whitney_equals_scipy(ties):
    rng = np.random.default_rng(7 + ties)
    sizes = [1, 2, 3, 5, 8, 9, 12, 40, 300, 1000]
    checked = {"exact": 0, "asymptotic": 0}
    for n1 in sizes:
        for n2 in sizes:
            for shift in (0.0, 0.4, 2.0):
                x = _samples(rng, n1, ties) + shift
                y = _samples(rng, n2, ties)
                want = stats.mannwhitneyu(x, y)
                got = ostats.mann_whitney(x, y)
                assert got.statistic == pytest.approx(want.statistic, abs=1e-9)
                assert abs(got.pvalue - want.pvalue) < 1e-10, (n1, n2, shift, got, want)
                checked["exact" if got.exact else "asymptotic"] += 1
    # Both of SciPy's methods were compared (ties force the approximation).
    assert checked["asymptotic"] > 0
    assert checked["exact"] > 0 or ties


def test_holm_is_the_published_step_down():
    rng = np.random.default_rng(3)
    for m in (1, 2, 5, 30, 200):
        p = rng.uniform(0, 0.2, size=m) ** 2
        order = np.argsort(p, kind="stable")
        want = np.empty(m)
        running = 0.0
        for i, k in enumerate(order):
            running = max(running, min(1.0, (m - i) * p[k]))
            want[k] = running
        np.testing.assert_allclose(ostats.holm(p), want, rtol=0, atol=1e-15)
    with pytest.raises(ValueError):
        ostats.holm([0.5, 1.5])


def test_friedman_equals_scipy():
    rng = np.random.default_rng(11)
    for n, k in [(1, 3), (4, 3), (13, 5), (65, 12), (200, 25)]:
        for ties in (False, True):
            blocks = np.array([_samples(rng, k, ties) for _ in range(n)])
            blocks[:, 0] -= 0.3  # a treatment a little better everywhere
            if ties and np.all(blocks == blocks[:, :1]):
                continue
            want = stats.friedmanchisquare(*blocks.T)
            got = ostats.friedman(blocks)
            assert got.statistic == pytest.approx(want.statistic, rel=1e-12, abs=1e-12)
            assert abs(got.pvalue - want.pvalue) < 1e-10, (n, k, ties, got, want)
            ranks = np.mean([stats.rankdata(b) for b in blocks], axis=0)
            np.testing.assert_allclose(got.mean_ranks, ranks, rtol=1e-14)
    with pytest.raises(ValueError):
        ostats.friedman([[1.0, 2.0]])


def test_coco_order_then_mann_whitney():
    """Runs that reached the target beat those that did not; those compare by runtime, the
    others by final precision; the test on that order equals SciPy's on the same order."""
    rng = np.random.default_rng(5)
    a = [(bool(r), float(v)) for r, v in zip(rng.random(300) < 0.6, rng.integers(1, 50, 300))]
    b = [(bool(r), float(v)) for r, v in zip(rng.random(250) < 0.4, rng.integers(1, 50, 250))]
    ka, kb = ostats.coco_keys(a, b)
    # The same order by Python's tuple comparison: (not reached, value).
    every = sorted({(not r, v) for r, v in a + b})
    number = {key: i + 1 for i, key in enumerate(every)}
    np.testing.assert_array_equal(ka, [number[(not r, v)] for r, v in a])
    np.testing.assert_array_equal(kb, [number[(not r, v)] for r, v in b])
    want = stats.mannwhitneyu(ka, kb)
    got = ostats.mann_whitney(ka, kb)
    assert abs(got.pvalue - want.pvalue) < 1e-10
    # Sample a reached the target more often: its runs rank better (lower), U is small.
    assert got.statistic < len(a) * len(b) / 2
