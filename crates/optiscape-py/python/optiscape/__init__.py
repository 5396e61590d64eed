"""optiscape from Python: how well do optimization algorithms fight local optima?

The lab of the ``optiscape`` command line as functions on NumPy arrays, with the same numbers
(the same Rust code computes them): ``trace`` one run, ``race`` methods from many starts,
``basins`` maps, ``sweep``, ``tune``, ``ecdf`` and ``phase``. Surfaces are built-in ids
(``surfaces()``) or typed formulas (``"formula:x^2 + 3*y^2"``); methods are ids of update rules
and the seed notebook's presets (``methods()``), hyperparameters as keyword arguments.

Bad input raises ``ValueError`` with the command line's own message. Long calls release the GIL
and stop on Ctrl-C (``KeyboardInterrupt``). Studies larger than one machine:
``optiscape.distributed``.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _optiscape

__all__ = [
    "Surface",
    "BasinMap",
    "surfaces",
    "methods",
    "trace",
    "race",
    "basins",
    "sweep",
    "tune",
    "ecdf",
    "phase",
    "suite",
    "train",
    "train_phase",
    "__version__",
]

__version__: str = _optiscape.__version__

SurfaceLike = Union["Surface", str]
Region = Optional[Sequence[float]]


# --- arguments as the command line's text (checked by the same Rust functions) -------------


def _num(v: Any) -> str:
    """A number as text that parses back to the same float (``repr`` round-trips)."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def _count(v: Any) -> str:
    """A whole number as text (anything else goes through as text and is refused there)."""
    if isinstance(v, (bool, np.bool_)):
        return repr(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def _numbers(v: Sequence[float]) -> str:
    return ",".join(_num(x) for x in v)


def _setting(name: str, v: Any) -> str:
    if isinstance(v, (tuple, list, np.ndarray)):
        return f"{name}={_numbers(v)}"
    return f"{name}={_num(v)}"


def _settings(hyperparameters: Mapping[str, Any]) -> list:
    return [_setting(k, v) for k, v in hyperparameters.items()]


def _method_settings(params: Optional[Mapping[str, Mapping[str, Any]]]) -> list:
    out = []
    for method, values in (params or {}).items():
        if not isinstance(values, Mapping):
            raise ValueError(
                f"params maps a method to its hyperparameters, e.g. {{'adam': {{'lr': 0.05}}}}; "
                f"got {values!r} for '{method}'"
            )
        out.extend(f"{method}.{_setting(k, v)}" for k, v in values.items())
    return out


def _method_list(methods: Union[str, Iterable[str]]) -> list:
    if isinstance(methods, str):
        if methods.strip() == "all":
            return [m["id"] for m in globals()["methods"]()]
        return [m.strip() for m in methods.split(",")]
    return [str(m) for m in methods]


def _region(region: Region) -> Optional[str]:
    return None if region is None else _numbers(region)


def _tol(tol: Optional[float]) -> Optional[str]:
    return None if tol is None else _num(tol)


def _surface(surface: SurfaceLike) -> "Surface":
    if isinstance(surface, Surface):
        return surface
    if isinstance(surface, str):
        return Surface(surface)
    raise TypeError(f"expected a Surface or a surface id/formula, got {type(surface).__name__}")


# --- what exists -----------------------------------------------------------------------------


def surfaces() -> list:
    """The built-in surfaces, as ``optiscape list`` shows them.

    Each is a dict: ``id``, ``name``, ``formula``, ``note`` (what it tests), ``domain``
    ``[x0, x1, y0, y1]``, ``start``, ``tol`` (success tolerance), ``global_minimum``
    (``value`` and ``points``) and ``params`` (``name``, ``default``, ``doc``, ``min``, ``max``).
    """
    return json.loads(_optiscape.surface_catalog())


def methods() -> list:
    """The update rules and the notebook's presets, as ``optiscape list`` shows them.

    Each is a dict: ``id``, ``label``, ``reference`` (where the rule is defined), ``note`` and
    ``params``: ``name``, ``kind`` (number, pair, flag, count), ``default``, ``doc``, ``range``
    (as text), ``min``/``max`` (``None`` when unbounded) and whether those ends are open.
    """
    return json.loads(_optiscape.method_catalog())


class Surface:
    """A surface to optimize on.

    ``Surface("rastrigin")``, ``Surface("formula:1.5*sin(x)*cos(y) + 0.1*(x^2 + y^2)",
    domain=(-5, 5, -5, 5))``, ``Surface("ackley", rotate=30)``, ``Surface("rastrigin",
    instance=3)``; keyword arguments set the surface's parameters (``Surface("rastrigin",
    a=5)``). ``rotate`` (degrees) and ``instance`` (a drawn turn and shift, 0 = as defined) are
    exclusive, as on the command line.
    """

    def __init__(
        self,
        name_or_formula: str,
        domain: Optional[Sequence[float]] = None,
        rotate: Optional[float] = None,
        instance: Optional[int] = None,
        **params: float,
    ) -> None:
        if not isinstance(name_or_formula, str):
            raise TypeError("a surface is named by its id or 'formula:...'")
        self._s = _optiscape.Surface(
            name_or_formula,
            domain=None if domain is None else _numbers(domain),
            params=[f"{k}={_num(v)}" for k, v in params.items()],
            rotate=None if rotate is None else _num(rotate),
            instance=None if instance is None else _count(instance),
        )

    def _points(self, x: Any, y: Any):
        xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return xa.shape, np.ascontiguousarray(xa).ravel(), np.ascontiguousarray(ya).ravel()

    def height(self, x: Any, y: Any) -> Any:
        """f(x, y) at every point; ``x`` and ``y`` broadcast like NumPy arrays (a float for two
        numbers). Outside the domain the formula is evaluated all the same."""
        shape, xf, yf = self._points(x, y)
        z = self._s.height(xf, yf).reshape(shape)
        return float(z) if z.ndim == 0 else z

    def __call__(self, x: Any, y: Any) -> Any:
        return self.height(x, y)

    def gradient(self, x: Any, y: Any) -> Tuple[Any, Any]:
        """The exact gradient ``(df/dx, df/dy)`` at every point, each shaped like the broadcast
        inputs."""
        shape, xf, yf = self._points(x, y)
        g = self._s.gradient(xf, yf).reshape(shape + (2,))
        gx, gy = g[..., 0], g[..., 1]
        if gx.ndim == 0:
            return float(gx), float(gy)
        return gx, gy

    def net_plane(self) -> dict:
        """A network slice's plane (``Surface("net:moons")``): ``center`` (the trained minimum
        theta*, or the first of three), the directions ``d1`` and ``d2`` (each as long as the
        parameter vector, in PyTorch's ``nn.Linear`` order: each layer's weight row by row, then
        its bias), the training data ``x`` (n, 2) and ``y``, the layer ``sizes`` and the
        ``activation``. The surface's height at ``(a, b)`` is the network's loss at
        ``center + a d1 + b d2``."""
        c, d1, d2, x, y, sizes, act = self._s.net_plane()
        return {"center": c, "d1": d1, "d2": d2, "x": x.reshape(-1, 2), "y": y,
                "sizes": list(sizes), "activation": act}

    def net_grid(self, n: int = 256) -> Any:
        """A network slice's loss on an ``n`` x ``n`` grid over its domain, shape (n, n): row
        ``j`` at ``y0 + j (y1 - y0) / (n - 1)``, column ``i`` likewise in x (on every core)."""
        return self._s.net_grid(int(n)).reshape(int(n), int(n))

    @property
    def spec(self) -> str:
        """The surface as the command line names it."""
        return self._s.spec

    @property
    def id(self) -> str:
        return self._s.id

    @property
    def domain(self) -> Tuple[float, float, float, float]:
        """``(x0, x1, y0, y1)``."""
        return self._s.domain

    @property
    def extent(self) -> Tuple[float, float, float, float]:
        """The domain as matplotlib's ``imshow(extent=...)`` takes it (with ``origin="lower"``)."""
        return self._s.domain

    @property
    def default_start(self) -> Tuple[float, float]:
        return self._s.default_start

    @property
    def tol(self) -> float:
        """Default success tolerance on loss above the global minimum."""
        return self._s.tol

    @property
    def global_minimum(self) -> dict:
        """``{"value", "points", "estimated"}`` (estimated: found numerically, e.g. on a domain
        that excludes the stated minima)."""
        value, points, estimated = self._s.global_minimum
        return {"value": value, "points": points, "estimated": estimated}

    @property
    def params(self) -> dict:
        return dict(self._s.params)

    @property
    def rotate(self) -> float:
        return self._s.placement[0]

    @property
    def instance(self) -> int:
        return self._s.placement[1]

    def grid(self, n: int = 200) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X, Y, Z`` on an ``n x n`` grid over the domain (for ``contour``)."""
        x0, x1, y0, y1 = self.domain
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self.height(X, Y)

    def __repr__(self) -> str:
        return f"Surface({self.spec!r}, domain={self.domain!r})"


# --- the lab ----------------------------------------------------------------------------------


def trace(
    surface: SurfaceLike,
    method: str,
    start: Optional[Sequence[float]] = None,
    steps: int = 300,
    seed: int = 0,
    evaluations: bool = False,
    **hyperparameters: Any,
) -> np.ndarray:
    """One run: a float64 array of shape ``(steps + 1, 3)``, rows ``x, y, loss``, row 0 the
    start (default: the surface's). Equal to ``optiscape trace`` bit for bit. A run that
    diverges, or meets a gradient that is not finite, stops there (fewer rows, and a
    ``RuntimeWarning``); a method that asks for evaluations (``nelder-mead``, ``bfgs``, ...)
    gives one row per iteration and stops when its own stopping test holds.
    ``evaluations=True`` adds two columns: the function values and the gradients the method
    has asked for so far (``trace``'s ``evals,grads``)."""
    s = _surface(surface)
    rows, status = _optiscape.trace(
        s._s,
        method,
        _settings(hyperparameters),
        None if start is None else _numbers(start),
        _count(steps),
        _count(seed),
    )
    out = rows.reshape(-1, 5)
    if not evaluations:
        out = np.ascontiguousarray(out[:, :3])
    if status == "diverged":
        warnings.warn(
            f"the run diverged at update {len(out) - 1} (position or loss not finite, or far "
            "outside the domain); the trace stops there",
            RuntimeWarning,
            stacklevel=2,
        )
    elif status == "bad_gradient":
        warnings.warn(
            f"the gradient is not finite at update {len(out) - 1} (the loss is): the surface "
            "gives no direction there; the trace stops (status bad_gradient)",
            RuntimeWarning,
            stacklevel=2,
        )
    return out


def race(
    surface: SurfaceLike,
    methods: Union[str, Iterable[str]],
    starts: int = 1000,
    steps: int = 300,
    seed: int = 0,
    params: Optional[Mapping[str, Mapping[str, Any]]] = None,
    region: Region = None,
    *,
    tol: Optional[float] = None,
    precision: str = "f64",
    budget_unit: str = "updates",
    grad_cost: int = 3,
) -> dict:
    """Races ``methods`` (ids, a comma-separated string, or ``"all"``) from the same
    ``starts`` random start points in ``region`` (default: the domain). Returns the dict
    ``optiscape race --format json`` prints: the setup and, per method, ``success_rate`` with
    its Wilson 95% interval, ``reached_rate``, ``ert`` with its bootstrap interval, losses,
    ``median_updates_to_success``, ``diverged``, ``bad_gradient`` and ``seconds``; ``target``
    says the minimum counted against and whether it was ``estimated`` (and ``lowered`` by a
    run that went below the estimate). ``params`` maps a method to its
    hyperparameters (``{"adam": {"lr": 0.05}}``); ``tol`` overrides the success tolerance.
    ``budget_unit="evals"`` makes ``steps`` a budget of evaluations for every method on the one
    cost scale, a gradient with its value costing ``grad_cost`` (``--budget-unit``,
    ``--grad-cost``; ``steps_unit`` in the result says which)."""
    s = _surface(surface)
    text = _optiscape.race(
        s._s,
        _method_list(methods),
        _method_settings(params),
        _count(starts),
        _region(region),
        _count(steps),
        _count(seed),
        _tol(tol),
        precision,
        budget_unit,
        _count(grad_cost),
    )
    return json.loads(text)


class BasinMap:
    """Where each start of a grid ends.

    ``ends`` (R x R x 2, end points), ``losses`` (R x R), ``labels`` (R x R: the index of the
    minimum in ``minima`` each start reached, -1 diverged, -2 still moving, -3 stopped where the
    gradient is not finite), ``minima`` (dicts: ``x``, ``y``, ``loss``, ``area_fraction``,
    ``global``, lowest loss first), ``global_fraction``, ``diverged_fraction``,
    ``unsettled_fraction``, ``bad_gradient_fraction``. Row 0 is the domain's
    bottom edge (``imshow(..., origin="lower", extent=surface.extent)``).
    """

    def __init__(self, native: Any, surface: "Surface") -> None:
        self._m = native
        self.document: dict = json.loads(native.document())
        r = self.document["resolution"]
        self.resolution: int = r
        self.surface = surface
        self.ends: np.ndarray = native.ends().reshape(r, r, 2)
        self.losses: np.ndarray = native.losses().reshape(r, r)
        self.labels: np.ndarray = native.labels().reshape(r, r)
        self.minima: list = self.document["minima"]
        self.global_fraction: float = self.document["global_fraction"]
        self.diverged_fraction: float = self.document["diverged_fraction"]
        self.unsettled_fraction: float = self.document["unsettled_fraction"]
        self.bad_gradient_fraction: float = self.document["bad_gradient_fraction"]

    def to_image(self, min_size: int = 512) -> np.ndarray:
        """The picture ``optiscape basins --out`` writes (global minima in one colour, others
        by basin, diverged and still-moving set apart) as an RGB uint8 array, top row = the
        domain's top edge (show it with plain ``imshow``)."""
        h, w, data = self._m.image(int(min_size))
        return data.reshape(h, w, 3)

    def __repr__(self) -> str:
        return (
            f"BasinMap({self.document['method']} on {self.document['surface']}, "
            f"{self.resolution}x{self.resolution}: global {self.global_fraction:.1%}, "
            f"{len(self.minima)} minima)"
        )


def basins(
    surface: SurfaceLike,
    method: str,
    resolution: int = 128,
    steps: int = 300,
    *,
    seed: int = 0,
    tol: Optional[float] = None,
    precision: str = "f64",
    budget_unit: str = "updates",
    grad_cost: int = 3,
    **hyperparameters: Any,
) -> BasinMap:
    """A basin-of-attraction map: one run from the centre of every cell of a ``resolution x
    resolution`` grid over the domain (``optiscape basins``). ``budget_unit="evals"`` makes
    ``steps`` a budget of evaluations on the one cost scale, a gradient with its value costing
    ``grad_cost``."""
    s = _surface(surface)
    native = _optiscape.basins(
        s._s,
        method,
        _settings(hyperparameters),
        _count(resolution),
        _count(steps),
        _count(seed),
        _tol(tol),
        precision,
        budget_unit,
        _count(grad_cost),
    )
    return BasinMap(native, s)


def sweep(
    surface: SurfaceLike,
    method: str,
    param: str = "lr",
    range: Tuple[float, float] = (1e-4, 1.0),
    points: int = 13,
    starts: int = 1000,
    steps: int = 300,
    seed: int = 0,
    *,
    tol: Optional[float] = None,
    precision: str = "f64",
    budget_unit: str = "updates",
    grad_cost: int = 3,
    **hyperparameters: Any,
) -> dict:
    """Success against one hyperparameter (``optiscape sweep``): ``points`` values of
    ``param`` over ``range`` (log-spaced where the parameter is; whole numbers for a
    population size), each raced from the same ``starts`` random starts, for ``steps``
    updates or, with ``budget_unit="evals"``, ``steps`` evaluations. Returns ``{"param", "values", "success_rate", "median_loss"
    (NaN where every run diverged), "diverged"}`` (arrays)."""
    s = _surface(surface)
    lo, hi = range
    values, rate, median, diverged = _optiscape.sweep(
        s._s,
        method,
        _settings(hyperparameters),
        param,
        f"{_num(lo)}..{_num(hi)}",
        _count(points),
        _count(starts),
        _count(steps),
        _count(seed),
        _tol(tol),
        precision,
        budget_unit,
        _count(grad_cost),
    )
    return {
        "param": param,
        "values": np.asarray(values),
        "success_rate": np.asarray(rate),
        "median_loss": np.asarray(median),
        "diverged": np.asarray(diverged, dtype=np.int64),
    }


def tune(
    surface: SurfaceLike,
    methods: Union[str, Iterable[str]],
    starts: int = 1000,
    steps: int = 300,
    seed: int = 0,
    trials: int = 32,
    params: Optional[Mapping[str, Mapping[str, Any]]] = None,
    region: Region = None,
    *,
    tol: Optional[float] = None,
    precision: str = "f64",
    budget_unit: str = "updates",
    grad_cost: int = 3,
) -> dict:
    """Tunes each method's learning rate (and momentum or beta1; a method that asks for
    evaluations its scale) by successive halving on ``starts`` tuning starts, then compares
    tuned and default settings on as many held-out starts (``optiscape tune --format json``);
    ``trials`` settings are tried per method. ``budget_unit="evals"``: ``steps`` evaluations for
    every method, ranked and reported on that scale (``--budget-unit evals``)."""
    s = _surface(surface)
    text = _optiscape.tune(
        s._s,
        _method_list(methods),
        _method_settings(params),
        _count(starts),
        _region(region),
        _count(trials),
        _count(steps),
        _count(seed),
        _tol(tol),
        precision,
        budget_unit,
        _count(grad_cost),
    )
    return json.loads(text)


def ecdf(
    surface: SurfaceLike,
    methods: Union[str, Iterable[str]],
    starts: int = 1000,
    steps: int = 300,
    seed: int = 0,
    params: Optional[Mapping[str, Mapping[str, Any]]] = None,
    region: Region = None,
    *,
    tol: Optional[float] = None,
    precision: str = "f64",
    budget_unit: str = "updates",
    grad_cost: int = 3,
) -> dict:
    """Runtime distributions (``optiscape ecdf``): per method, the share of (run, target) pairs
    reached within each number of updates, over 51 targets of precision (the lowest loss found
    inside the domain minus the minimum) from the starts' median precision down ten decades
    (COCO's five per decade, scaled to the surface). Returns ``{"updates", "targets", "fractions": {method: array}}``
    (``fractions[m][b]`` within ``updates[b]`` updates; the same numbers as ``--csv``). With
    ``budget_unit="evals"`` every method is given ``steps`` evaluations on the one cost scale
    (a gradient with its value costing ``grad_cost``) and the budgets count evaluations: the
    key is then ``"evals"`` (``ecdf --budget-unit evals``)."""
    s = _surface(surface)
    budgets, targets, curves = _optiscape.ecdf(
        s._s,
        _method_list(methods),
        _method_settings(params),
        _count(starts),
        _region(region),
        _count(steps),
        _count(seed),
        _tol(tol),
        precision,
        budget_unit,
        _count(grad_cost),
    )
    return {
        "evals" if budget_unit == "evals" else "updates": np.asarray(budgets, dtype=np.int64),
        "targets": np.asarray(targets),
        "fractions": {m: np.asarray(f) for m, f in curves},
    }


def _axis(v: Union[str, Tuple[str, float, float]]) -> str:
    if isinstance(v, str):
        return v
    name, lo, hi = v
    return f"{name}={_num(lo)}..{_num(hi)}"


def phase(
    surface: SurfaceLike,
    method: str,
    x: Union[str, Tuple[str, float, float], None] = None,
    y: Union[str, Tuple[str, float, float], None] = None,
    points: Tuple[int, int] = (16, 16),
    log_x: bool = False,
    log_y: bool = False,
    starts: int = 1000,
    region: Region = None,
    steps: int = 300,
    seed: int = 0,
    *,
    tol: Optional[float] = None,
    precision: str = "f64",
    budget_unit: str = "updates",
    grad_cost: int = 3,
    **hyperparameters: Any,
) -> dict:
    """A phase map (``optiscape phase``): success over a grid of two hyperparameters, each
    ``"NAME=LO..HI"`` or ``(name, lo, hi)`` (``x`` absent: ``"lr=1e-3..1"``, geometric). Returns ``{"x", "x_values", "y", "y_values",
    "success_rate", "ert"}``; the two maps are ``(len(y_values), len(x_values))`` arrays (row
    ``j`` is ``y_values[j]``; ERT NaN where no run reached the target). With
    ``budget_unit="evals"`` ``steps`` counts evaluations and the ERTs are in evaluations."""
    if y is None:
        raise ValueError("phase needs y, the second hyperparameter (e.g. y='momentum=0..0.99')")
    s = _surface(surface)
    p, q = points
    xn, xv, yn, yv, rate, ert = _optiscape.phase(
        s._s,
        method,
        _settings(hyperparameters),
        None if x is None else _axis(x),
        _axis(y),
        f"{_count(p)}x{_count(q)}",
        bool(log_x),
        bool(log_y),
        _count(starts),
        _region(region),
        _count(steps),
        _count(seed),
        _tol(tol),
        precision,
        budget_unit,
        _count(grad_cost),
    )
    shape = (len(yv), len(xv))
    return {
        "x": xn,
        "x_values": np.asarray(xv),
        "y": yn,
        "y_values": np.asarray(yv),
        "success_rate": np.asarray(rate).reshape(shape),
        "ert": np.asarray(ert).reshape(shape),
    }


# --- the suite -----------------------------------------------------------------------------


def train(
    data: str = "moons",
    methods: Union[str, Iterable[str], None] = None,
    starts: int = 100,
    steps: int = 1000,
    seed: int = 0,
    layers: Union[str, Sequence[int], None] = None,
    activation: str = "tanh",
    loss: str = "cross-entropy",
    weight_decay: float = 0.0,
    init: str = "glorot",
    precision: str = "f64",
    target: Optional[float] = None,
    tol: float = 0.01,
    gtol: float = 1e-3,
    points: Optional[int] = None,
    test_points: Optional[int] = None,
    noise: Optional[float] = None,
    data_seed: Optional[int] = None,
    test_every: Optional[int] = None,
    params: Optional[Mapping[str, Mapping[str, Any]]] = None,
    weights: bool = False,
    tune_budget: int = 1,
) -> dict:
    """``optiscape train``: whole networks (an MLP, default 2-16-16-1 tanh) trained full-batch
    from ``starts`` seeded initializations per method (update rules; default the common ones).
    Returns the command line's ``--format json`` document (``methods``: one row per method with
    success against the training-loss target and its Wilson interval, ERT with its bootstrap
    interval, the worse-minimum and still-descending rates, losses and accuracies; ``ecdf``;
    ``target``, ``lowest``...) with NumPy arrays added: per run, shape (methods, starts),
    ``final_loss``, ``best_loss`` (the lowest training loss the run found), ``grad_norm``, ``train_accuracy``, ``test_loss``,
    ``test_accuracy``, ``updates``, ``first_success`` (NaN: never) and ``fate`` (strings); with
    ``weights``, ``initial`` and ``final`` of shape (methods, starts, parameters) in PyTorch's
    ``nn.Linear`` order; and the data, ``train_x`` (n, 2), ``train_y``, ``test_x``, ``test_y``.
    ``data``: a built-in dataset or a ``.csv`` file of ``x1,x2,label``. ``params``: settings,
    ``{"adam": {"lr": 0.01}}``. ``tune_budget`` above 1 tunes each method first (``--tune-budget``):
    ``methods`` then holds ``ID tuned`` before ``ID`` for each, the arrays one row per entry, and
    ``tuning`` what each search tried. docs/guide.md, "Real networks", defines every number."""
    spec = _train_spec(data, methods, starts, steps, seed, layers, activation, loss, weight_decay,
                       init, precision, target, tol, gtol, points, test_points, noise, data_seed,
                       test_every, params, tune_budget)
    doc, fates, arrays = _optiscape.train(json.dumps(spec), bool(weights))
    out = json.loads(doc)
    m, k = len(out["methods"]), out["starts"]
    for name, a in arrays:
        if name in ("initial", "final"):
            out[name] = a.reshape(m, k, -1)
        elif name in ("train_x", "test_x"):
            out[name] = a.reshape(-1, 2)
        elif name in ("train_y", "test_y"):
            out[name] = a
        else:
            out[name] = a.reshape(m, k)
    out["fate"] = np.array(fates, dtype=object).reshape(m, k)
    return out


def _train_spec(data, methods, starts, steps, seed, layers, activation, loss, weight_decay, init,
                precision, target, tol, gtol, points, test_points, noise, data_seed, test_every,
                params, tune_budget) -> dict:
    """``train``'s options as the command line's text (checked by the same Rust function)."""
    if layers is not None and not isinstance(layers, str):
        layers = "-".join(str(int(v)) for v in layers)
    spec = {
        "data": str(data),
        "methods": None if methods is None else (
            "all" if isinstance(methods, str) and methods.strip() == "all"
            else ",".join(_method_list(methods))),
        "sets": _method_settings(params),
        "starts": _count(starts),
        "steps": _count(steps),
        "seed": _count(seed),
        "layers": layers,
        "activation": str(activation),
        "loss": str(loss),
        "weight_decay": _num(weight_decay),
        "init": str(init),
        "precision": str(precision),
        "target": None if target is None else _num(target),
        "tol": _num(tol),
        "gtol": _num(gtol),
        "points": None if points is None else _count(points),
        "test_points": None if test_points is None else _count(test_points),
        "noise": None if noise is None else _num(noise),
        "data_seed": None if data_seed is None else _count(data_seed),
        "test_every": None if test_every is None else _count(test_every),
        "tune_budget": _count(tune_budget),
    }
    return spec


def train_phase(
    method: str,
    y: Union[str, Tuple[str, float, float]],
    x: Union[str, Tuple[str, float, float], None] = None,
    grid: Tuple[int, int] = (8, 8),
    log_x: bool = False,
    log_y: bool = False,
    *,
    data: str = "moons",
    starts: int = 100,
    steps: int = 1000,
    seed: int = 0,
    layers: Union[str, Sequence[int], None] = None,
    activation: str = "tanh",
    loss: str = "cross-entropy",
    weight_decay: float = 0.0,
    init: str = "glorot",
    precision: str = "f64",
    target: Optional[float] = None,
    tol: float = 0.01,
    gtol: float = 1e-3,
    points: Optional[int] = None,
    test_points: Optional[int] = None,
    noise: Optional[float] = None,
    data_seed: Optional[int] = None,
    test_every: Optional[int] = None,
    **hyperparameters: Any,
) -> dict:
    """A phase map of real training (``optiscape train --y``): ``method`` trained at every
    cell of a grid of two of its hyperparameters, ``x`` across (default ``"lr=1e-3..1"``,
    geometric) and ``y`` up, each ``"NAME=LO..HI"`` or ``(name, lo, hi)``; ``grid`` is
    ``(P, Q)`` cells; ``hyperparameters`` fix the method's other values. Every cell trains the
    same ``starts`` initializations, against one target for the whole map. Returns the command
    line's ``--format json`` document (``cells``: one row per cell, ``x`` fastest, with
    ``x_value`` and ``y_value``) with NumPy arrays added: ``x_values``, ``y_values``;
    ``success_rate``, ``ert`` (NaN: no run reached the target), ``worse_minimum_rate`` and
    ``median_final_loss`` of shape (Q, P) (row ``j`` is ``y_values[j]``); per run, shape
    (Q, P, starts), ``final_loss``, ``best_loss``, ``grad_norm``, ``train_accuracy``,
    ``test_loss``, ``test_accuracy``, ``updates``, ``first_success`` and ``fate``; and the
    data. docs/guide.md, "Phase maps of training"."""
    p, q = grid
    spec = _train_spec(data, str(method), starts, steps, seed, layers, activation, loss,
                       weight_decay, init, precision, target, tol, gtol, points, test_points,
                       noise, data_seed, test_every,
                       {str(method): hyperparameters} if hyperparameters else None, 1)
    phase = {
        "x": None if x is None else _axis(x),
        "y": _axis(y),
        "grid": f"{_count(p)}x{_count(q)}",
        "log_x": bool(log_x),
        "log_y": bool(log_y),
    }
    doc, fates, arrays = _optiscape.train_phase(json.dumps(spec), json.dumps(phase))
    out = json.loads(doc)
    cells, k = out["cells"], out["starts"]
    Q = len({c["y_value"] for c in cells})
    P = len(cells) // Q
    out["x_values"] = np.array([c["x_value"] for c in cells[:P]])
    out["y_values"] = np.array([c["y_value"] for c in cells[::P]])

    def grid_of(key):
        return np.array([np.nan if c[key] is None else c[key] for c in cells],
                        dtype=float).reshape(Q, P)

    for key in ("success_rate", "ert", "worse_minimum_rate", "median_final_loss"):
        out[key] = grid_of(key)
    for name, a in arrays:
        if name in ("train_x", "test_x"):
            out[name] = a.reshape(-1, 2)
        elif name in ("train_y", "test_y"):
            out[name] = a
        else:
            out[name] = a.reshape(Q, P, k)
    out["fate"] = np.array(fates, dtype=object).reshape(Q, P, k)
    return out


def _suite_spec(
    methods: Union[str, Iterable[str], None],
    surfaces: Union[str, Iterable[str]],
    instances: Optional[int],
    starts: Optional[int],
    budget: int,
    budget_unit: str,
    grad_cost: int,
    tune_budget: Optional[int],
    tune_instances: int,
    seed: int,
    quick: bool,
    params: Optional[Mapping[str, Mapping[str, Any]]],
) -> str:
    """The suite's options as the command line's text (checked by the same Rust function)."""

    def listed(v):
        if v is None or isinstance(v, str):
            return v
        return ",".join(str(x) for x in v)

    spec = {
        "methods": listed(methods),
        "sets": _method_settings(params),
        "surfaces": listed(surfaces),
        "instances": None if instances is None else _count(instances),
        "tune_instances": _count(tune_instances),
        "starts": None if starts is None else _count(starts),
        "budget": _count(budget),
        "budget_unit": str(budget_unit),
        "grad_cost": _count(grad_cost),
        "tune_budget": None if tune_budget is None else _count(tune_budget),
        "seed": _count(seed),
        "quick": bool(quick),
    }
    return json.dumps(spec)


def suite(
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
    """``optiscape suite``: every method on every problem (surface x instance), tuned on other
    instances, with its statistics. Returns the document the command line writes as
    ``results.json``'s ``results``: ``entries`` (each method with its default and, where it has
    something to tune, its tuned settings), ``problems`` (per problem: target, chance baseline and
    one row per entry: success with Wilson interval, ERT in updates and evaluations with
    bootstrap intervals, relative ERT, escape rate with Wilson interval, rank), ``comparisons``
    (Mann-Whitney U with Holm's adjustment), ``win_matrix``, ``friedman``, ``summaries`` (per
    entry: mean rank, aggregated ECDF and its area with a bootstrap interval, pooled escape
    rate, performance ratios and data profile costs) and ``budgets``. The same numbers as the
    command line with the same options (defaults: ``methods`` the command line's, 5 instances,
    1000 starts, 8 settings tuned; ``quick``: 2, 100 and 4). ``params``: settings of the
    defaults, ``{"adam": {"lr": 0.05}}``. docs/guide.md, "The suite", defines every number.
    """
    spec = _suite_spec(
        methods, surfaces, instances, starts, budget, budget_unit, grad_cost, tune_budget,
        tune_instances, seed, quick, params,
    )
    return json.loads(_optiscape.suite(spec))
