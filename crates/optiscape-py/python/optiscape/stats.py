"""Significance tests as optiscape computes them (``optiscape_core::lab::significance``).

The same Rust functions give the command line's numbers; each equals SciPy's to 1e-10
(``tests/test_significance.py``). The definitions are in ``docs/methods.md``, "Significance".
"""

from __future__ import annotations

from typing import NamedTuple, Sequence, Tuple

import numpy as np

from . import _optiscape

__all__ = ["MannWhitney", "Friedman", "mann_whitney", "holm", "friedman", "coco_keys"]


class MannWhitney(NamedTuple):
    """U of the first sample (SciPy's ``statistic``), the two-sided p-value, and whether it is
    from U's exact distribution."""

    statistic: float
    pvalue: float
    exact: bool


class Friedman(NamedTuple):
    """The tie-corrected chi-square statistic, its p-value, and each treatment's mean rank."""

    statistic: float
    pvalue: float
    mean_ranks: np.ndarray


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> MannWhitney:
    """The two-sided Mann–Whitney U test, as ``scipy.stats.mannwhitneyu(x, y)`` by default:
    exact when a sample has at most 8 values and none are tied, otherwise the normal
    approximation with tie and continuity corrections."""
    u, p, exact = _optiscape.mann_whitney(
        [float(v) for v in x], [float(v) for v in y]
    )
    return MannWhitney(u, p, exact)


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of the p-values ``p`` (in their order)."""
    return np.asarray(_optiscape.holm([float(v) for v in p]))


def friedman(blocks: Sequence[Sequence[float]]) -> Friedman:
    """Friedman's test: ``blocks[b][j]`` is treatment ``j``'s value on block ``b`` (lower is
    better), as ``scipy.stats.friedmanchisquare(*np.transpose(blocks))``."""
    stat, p, ranks = _optiscape.friedman([[float(v) for v in b] for b in blocks])
    return Friedman(stat, p, np.asarray(ranks))


def coco_keys(
    a: Sequence[Tuple[bool, float]], b: Sequence[Tuple[bool, float]]
) -> Tuple[np.ndarray, np.ndarray]:
    """COCO's order of runs: each run is ``(reached, value)``, its runtime when it reached the
    target, else its final precision; runs that reached it come first, by runtime, then the
    others by precision. Returns both samples numbered 1, 2, ... in that order (equal runs
    equal), ready for :func:`mann_whitney`."""
    ka, kb = _optiscape.coco_keys(
        [(bool(r), float(v)) for r, v in a], [(bool(r), float(v)) for r, v in b]
    )
    return np.asarray(ka), np.asarray(kb)
