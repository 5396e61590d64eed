"""Every function of the package against the command line's output: exact in f64."""

import csv
import io
import math
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import optiscape as o

FORMULA = "formula:1.5*sin(x)*cos(y) + 0.1*(x^2 + y^2)"


def rows(text: str):
    return list(csv.DictReader(io.StringIO(text)))


def rust_float(v: float) -> str:
    """A float as Rust's `{}` writes it (no trailing `.0`)."""
    t = repr(float(v))
    return t[:-2] if t.endswith(".0") else t


def drop_seconds(doc):
    doc = dict(doc)
    doc["methods"] = [{k: v for k, v in m.items() if k != "seconds"} for m in doc["methods"]]
    return doc


# --- catalogs ----------------------------------------------------------------------------------


def test_catalogs_list_what_the_command_line_lists(cli):
    text = cli.out("list")
    ss, ms = o.surfaces(), o.methods()
    assert len(ss) == 13 and len(ms) == 30
    for s in ss:
        assert f"  {s['id']:<16} {s['name']}" in text
        assert f"f(x, y) = {s['formula']}" in text
        for p in s["params"]:
            assert f"parameter {p['name']} = {rust_float(p['default'])}" in text
        assert len(s["domain"]) == 4 and s["tol"] > 0
        assert s["global_minimum"]["points"]
    for m in ms:
        assert f"  {m['id']:<22} {m['label']} ({m['reference']})" in text
        names = [p["name"] for p in m["params"]]
        search = {"nelder-mead", "bfgs", "basin-hopping", "annealing", "cma-es",
                  "differential-evolution", "random-search", "multistart"}
        assert "lr" in names or m["id"].startswith("seed:") or "rho" in names or m["id"] in search
        for p in m["params"]:
            assert p["kind"] in ("number", "pair", "flag", "count", "choice")
            assert p["range"]
            if p["kind"] == "choice":
                assert p["range"].startswith("one of ") and p["default"] in p["range"]
    adam = next(m for m in ms if m["id"] == "adam")
    assert next(p for p in adam["params"] if p["name"] == "betas")["default"] == [0.9, 0.999]


# --- surfaces ----------------------------------------------------------------------------------


def test_heights_and_gradients_broadcast_over_any_shape():
    s = o.Surface("rastrigin")
    assert s.height(0.0, 0.0) == 0.0
    assert isinstance(s.height(1, 2), float)
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    z = s.height(x, 0.5)
    assert z.shape == (3, 4) and z.dtype == np.float64
    gx, gy = s.gradient(x, np.full((1, 4), 0.5))
    assert gx.shape == gy.shape == (3, 4) and gx.dtype == np.float64
    # Each element equals the scalar call.
    assert z[1, 2] == s.height(float(x[1, 2]), 0.5)
    assert (gx[2, 3], gy[2, 3]) == s.gradient(float(x[2, 3]), 0.5)
    # Exact gradients agree with central differences.
    h = 1e-6
    fd = (s.height(x + h, 0.5) - s.height(x - h, 0.5)) / (2 * h)
    np.testing.assert_allclose(gx, fd, rtol=1e-6, atol=1e-5)
    # Non-contiguous input and integer dtypes are taken as they are.
    big = np.arange(20.0).reshape(4, 5)[:, ::2]
    assert s.height(big, big.T[: big.shape[1], : big.shape[0]].T).shape == big.shape
    assert s.height(np.array([1, 2]), np.array([0, 0])).dtype == np.float64


def test_surfaces_take_domain_parameters_and_placement():
    s = o.Surface(FORMULA, domain=(-5, 5, -5, 5))
    assert s.spec == FORMULA and s.domain == (-5.0, 5.0, -5.0, 5.0)
    assert s.height(1.0, 2.0) == pytest.approx(1.5 * math.sin(1) * math.cos(2) + 0.1 * 5)
    r = o.Surface("rastrigin", a=5)
    assert r.params["a"] == 5
    x, y = 0.3, -1.2
    expected = 2 * 5 + x * x - 5 * math.cos(2 * math.pi * x) + y * y - 5 * math.cos(2 * math.pi * y)
    assert r.height(x, y) == pytest.approx(expected, abs=1e-12)
    turned = o.Surface("rastrigin", rotate=90)
    assert turned.rotate == 90
    assert turned.height(1.0, 0.3) == pytest.approx(o.Surface("rastrigin").height(0.3, -1.0), abs=1e-12)
    inst = o.Surface("himmelblau", instance=2)
    assert inst.instance == 2
    gm = inst.global_minimum
    assert inst.height(*gm["points"][0]) == pytest.approx(gm["value"], abs=1e-9)


def test_trace_loss_is_the_surface_height(cli):
    s = o.Surface("ackley", instance=3)
    t = o.trace(s, "adam", steps=50)
    np.testing.assert_array_equal(t[:, 2], s.height(t[:, 0], t[:, 1]))


# --- the lab against the command line ---------------------------------------------------------


def cli_trace(cli, *args):
    r = rows(cli.out("trace", "--format", "csv", *args))
    return np.array([[float(x["x"]), float(x["y"]), float(x["loss"])] for x in r])


@pytest.mark.parametrize(
    "surface, method, kwargs, args",
    [
        ("seed", "seed:adadelta", {}, []),
        ("seed", "seed:momentum", {"steps": 400}, ["--steps", "400"]),
        ("rastrigin", "adam", {"lr": 0.05, "betas": (0.8, 0.99), "start": (2.5, -1.25)},
         ["--set", "lr=0.05", "--set", "betas=0.8,0.99", "--start", "2.5,-1.25"]),
        ("ackley", "langevin", {"seed": 7, "steps": 200}, ["--seed", "7", "--steps", "200"]),
        ("rosenbrock", "nadam", {"noise": 0.1, "seed": 3, "clip": 1.0},
         ["--set", "noise=0.1", "--seed", "3", "--set", "clip=1.0"]),
        (FORMULA, "rmsprop", {"momentum": 0.9}, ["--set", "momentum=0.9"]),
    ],
)
def test_trace_equals_the_command_line_bit_for_bit(cli, surface, method, kwargs, args):
    t = o.trace(surface, method, **kwargs)
    steps = kwargs.get("steps", 300)
    assert t.shape == (steps + 1, 3) and t.dtype == np.float64
    ref = cli_trace(cli, "--surface", surface, "--methods", method, *args)
    np.testing.assert_array_equal(t, ref)


def test_trace_of_an_instance_equals_the_command_line(cli):
    t = o.trace(o.Surface("rastrigin", instance=4), "lion", steps=120)
    ref = cli_trace(cli, "--surface", "rastrigin", "--instance", "4", "--methods", "lion", "--steps", "120")
    np.testing.assert_array_equal(t, ref)


def test_a_diverging_trace_stops_and_warns(cli):
    with pytest.warns(RuntimeWarning, match="diverged"):
        t = o.trace("rosenbrock", "sgd", lr=5.0, steps=300)
    assert len(t) < 301
    ref = cli_trace(cli, "--surface", "rosenbrock", "--methods", "sgd", "--set", "lr=5", "--steps", "300")
    np.testing.assert_array_equal(t, ref)


def test_race_is_the_command_lines_json(cli):
    got = o.race("rastrigin", ["adam", "sgd", "langevin"], starts=300, steps=200, seed=5,
                 params={"adam": {"lr": 0.05}, "langevin": {"lr": 0.02}})
    ref = cli.json("race", "--surface", "rastrigin", "--methods", "adam,sgd,langevin", "--starts", "300",
                   "--steps", "200", "--seed", "5", "--set", "adam.lr=0.05", "--set", "langevin.lr=0.02",
                   "--format", "json")
    assert drop_seconds(got) == drop_seconds(ref)
    assert [m["method"] for m in got["methods"]] == ["adam", "sgd", "langevin"]


def test_race_with_region_tolerance_and_f32(cli):
    got = o.race(o.Surface("himmelblau", rotate=30), "nadam,adamax", starts=200, region=(-2, 2, -2, 2),
                 tol=0.5, precision="f32")
    ref = cli.json("race", "--surface", "himmelblau", "--rotate", "30", "--methods", "nadam,adamax",
                   "--starts", "200", "--region=-2,2,-2,2", "--tol", "0.5", "--precision", "f32",
                   "--format", "json")
    assert drop_seconds(got) == drop_seconds(ref)


def test_race_tune_and_ecdf_on_the_one_cost_scale_are_the_command_lines(cli, tmp_path):
    """budget_unit="evals" (and grad_cost) as --budget-unit evals (--grad-cost) gives them."""
    methods = "adam,nelder-mead,differential-evolution"
    got = o.race("rastrigin", methods, starts=80, steps=600, seed=3, budget_unit="evals", grad_cost=5)
    ref = cli.json("race", "--surface", "rastrigin", "--methods", methods, "--starts", "80", "--steps", "600",
                   "--seed", "3", "--budget-unit", "evals", "--grad-cost", "5", "--format", "json")
    assert drop_seconds(got) == drop_seconds(ref)
    assert got["steps_unit"] == "evals" and all(m["grad_cost"] == 5 for m in got["methods"])
    assert got["methods"][0]["mean_evals"] == 600  # 120 updates of 5 each

    got = o.tune("himmelblau", "sgd,annealing", starts=40, steps=600, trials=3, seed=2, budget_unit="evals")
    ref = cli.json("tune", "--surface", "himmelblau", "--methods", "sgd,annealing", "--starts", "40",
                   "--steps", "600", "--trials", "3", "--seed", "2", "--budget-unit", "evals", "--format", "json")
    assert got == ref and got["steps_unit"] == "evals"
    assert all("evals" in c for c in got["held_out"]["ecdf"]["methods"])

    got = o.ecdf("rastrigin", "adam,annealing", starts=60, steps=600, budget_unit="evals")
    path = tmp_path / "e.csv"
    cli.out("ecdf", "--surface", "rastrigin", "--methods", "adam,annealing", "--starts", "60", "--steps", "600",
            "--budget-unit", "evals", "--csv", str(path))
    ref = rows(path.read_text())
    assert "updates" not in got and got["evals"][-1] == 600
    for m in ("adam", "annealing"):
        mine = [r for r in ref if r["method"] == m]
        np.testing.assert_array_equal(got["evals"], [int(r["evals"]) for r in mine])
        np.testing.assert_array_equal(got["fractions"][m], [float(r["fraction"]) for r in mine])
    with pytest.raises(ValueError, match="budget_unit"):
        o.race("rastrigin", "adam", starts=5, budget_unit="flops")
    with pytest.raises(ValueError, match="grad_cost"):
        o.race("rastrigin", "adam", starts=5, budget_unit="evals", grad_cost=0)


def test_basins_equal_the_command_lines_map_csv_and_picture(cli, tmp_path):
    b = o.basins("himmelblau", "momentum", resolution=48, steps=200, lr=0.01)
    assert b.ends.shape == (48, 48, 2) and b.ends.dtype == np.float64
    assert b.labels.shape == (48, 48) and b.labels.dtype == np.int32
    assert b.losses.shape == (48, 48)
    png, csv_path = tmp_path / "map.png", tmp_path / "map.csv"
    doc = cli.json("basins", "--surface", "himmelblau", "--methods", "momentum", "--resolution", "48",
                   "--steps", "200", "--set", "lr=0.01", "--format", "json", "--out", str(png), "--csv", str(csv_path))
    assert b.document == doc
    assert b.minima == doc["minima"] and b.global_fraction == doc["global_fraction"]
    r = rows(csv_path.read_text())
    ends = np.array([[float(x["x"]), float(x["y"])] for x in r]).reshape(48, 48, 2)
    np.testing.assert_array_equal(b.ends, ends)
    np.testing.assert_array_equal(b.labels, np.array([int(x["label"]) for x in r]).reshape(48, 48))
    np.testing.assert_array_equal(b.losses.ravel(), np.array([float(x["loss"]) for x in r]))
    from PIL import Image

    img = b.to_image()
    assert img.dtype == np.uint8 and img.shape[2] == 3 and min(img.shape[:2]) >= 512
    np.testing.assert_array_equal(img, np.asarray(Image.open(png).convert("RGB")))
    # Labels are -1, -2 or an index into the minima.
    assert set(np.unique(b.labels)) <= {-2, -1, *range(len(b.minima))}


def test_sweep_equals_the_command_line(cli):
    got = o.sweep("seed", "adam", param="lr", range=(1e-3, 0.5), points=5, starts=100, steps=150)
    ref = rows(cli.out("sweep", "--format", "csv", "--surface", "seed", "--methods", "adam", "--param", "lr", "--range",
                       "1e-3..0.5", "--points", "5", "--starts", "100", "--steps", "150"))
    np.testing.assert_array_equal(got["values"], [float(r["lr"]) for r in ref])
    np.testing.assert_array_equal(got["success_rate"], [float(r["success_rate"]) for r in ref])
    np.testing.assert_array_equal(got["median_loss"], [float(r["median_loss"] or "nan") for r in ref])
    np.testing.assert_array_equal(got["diverged"], [int(r["diverged"]) for r in ref])


def test_tune_is_the_command_lines_json(cli):
    got = o.tune("rastrigin", ["adam", "sgd"], starts=100, steps=150, trials=6, seed=2)
    ref = cli.json("tune", "--surface", "rastrigin", "--methods", "adam,sgd", "--starts", "100",
                   "--steps", "150", "--trials", "6", "--seed", "2", "--format", "json")
    assert got == ref


def test_ecdf_equals_the_command_lines_csv(cli, tmp_path):
    got = o.ecdf("seed", ["adam", "seed:adadelta"], starts=120, steps=300)
    path = tmp_path / "e.csv"
    cli.out("ecdf", "--surface", "seed", "--methods", "adam,seed:adadelta", "--starts", "120",
            "--steps", "300", "--csv", str(path))
    ref = rows(path.read_text())
    assert len(got["targets"]) == 51
    for m in ("adam", "seed:adadelta"):
        mine = [r for r in ref if r["method"] == m]
        np.testing.assert_array_equal(got["updates"], [int(r["updates"]) for r in mine])
        np.testing.assert_array_equal(got["fractions"][m], [float(r["fraction"]) for r in mine])
        assert np.all(np.diff(got["fractions"][m]) >= 0)


def test_phase_equals_the_command_lines_csv(cli, tmp_path):
    got = o.phase("rastrigin", "momentum", x=("lr", 1e-3, 0.1), y="momentum=0..0.95", points=(4, 3),
                  log_x=True, starts=60, steps=150)
    path = tmp_path / "p.csv"
    cli.out("phase", "--surface", "rastrigin", "--methods", "momentum", "--x", "lr=1e-3..0.1", "--y",
            "momentum=0..0.95", "--points", "4x3", "--log-x", "--starts", "60", "--steps", "150",
            "--csv", str(path))
    ref = rows(path.read_text())
    assert got["success_rate"].shape == (3, 4)
    np.testing.assert_array_equal(got["x_values"], [float(r["x_value"]) for r in ref[:4]])
    np.testing.assert_array_equal(got["y_values"], [float(r["y_value"]) for r in ref[::4]])
    np.testing.assert_array_equal(got["success_rate"].ravel(), [float(r["success_rate"]) for r in ref])
    np.testing.assert_array_equal(got["ert"].ravel(), [float(r["ert"] or "nan") for r in ref])


def test_basins_sweep_and_phase_on_the_one_cost_scale_are_the_command_lines(cli, tmp_path):
    """budget_unit="evals" in basins, sweep and phase, as --budget-unit evals gives them (a
    population size swept over whole numbers)."""
    b = o.basins("himmelblau", "nelder-mead", resolution=16, steps=400, budget_unit="evals")
    doc = cli.json("basins", "--surface", "himmelblau", "--methods", "nelder-mead", "--resolution", "16",
                   "--steps", "400", "--budget-unit", "evals", "--format", "json")
    assert b.document == doc and doc["steps_unit"] == "evals" and doc["grad_cost"] == 3

    got = o.sweep("rastrigin", "cma-es", param="popsize", range=(4, 40), points=4, starts=40, steps=1500,
                  budget_unit="evals", grad_cost=5)
    ref = rows(cli.out("sweep", "--format", "csv", "--surface", "rastrigin", "--methods", "cma-es", "--param",
                       "popsize", "--range", "4..40", "--points", "4", "--starts", "40", "--steps", "1500",
                       "--budget-unit", "evals", "--grad-cost", "5"))
    np.testing.assert_array_equal(got["values"], [4.0, 16.0, 28.0, 40.0])
    np.testing.assert_array_equal(got["values"], [float(r["popsize"]) for r in ref])
    np.testing.assert_array_equal(got["success_rate"], [float(r["success_rate"]) for r in ref])

    got = o.phase("rastrigin", "adam", x=("lr", 0.01, 0.3), y="beta1=0.5..0.9", points=(3, 2), log_x=True,
                  starts=40, steps=900, budget_unit="evals")
    path = tmp_path / "p.csv"
    cli.out("phase", "--surface", "rastrigin", "--methods", "adam", "--x", "lr=0.01..0.3", "--y", "beta1=0.5..0.9",
            "--points", "3x2", "--log-x", "--starts", "40", "--steps", "900", "--budget-unit", "evals",
            "--csv", str(path))
    ref = rows(path.read_text())
    np.testing.assert_array_equal(got["ert"].ravel(), [float(r["ert"] or "nan") for r in ref])
    # Adam given 900 evaluations is Adam given 300 updates; its ERTs are three times theirs.
    upd = o.phase("rastrigin", "adam", x=("lr", 0.01, 0.3), y="beta1=0.5..0.9", points=(3, 2), log_x=True,
                  starts=40, steps=300)
    np.testing.assert_array_equal(got["success_rate"], upd["success_rate"])
    np.testing.assert_array_equal(got["ert"], 3 * upd["ert"])
    with pytest.raises(ValueError, match="points"):
        o.sweep("seed", "adam", points=1001, starts=5)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, args",
    [
        (lambda: o.Surface("nowhere"), ["trace", "--surface", "nowhere", "--methods", "adam"]),
        (lambda: o.trace("seed", "nomethod"), ["trace", "--surface", "seed", "--methods", "nomethod"]),
        (lambda: o.trace("seed", "adam", lrr=0.1), ["trace", "--surface", "seed", "--methods", "adam", "--set", "lrr=0.1"]),
        (lambda: o.trace("seed", "adam", lr=-1), ["trace", "--surface", "seed", "--methods", "adam", "--set", "lr=-1"]),
        (lambda: o.trace("seed", "adam", steps=-3), ["trace", "--surface", "seed", "--methods", "adam", "--steps=-3"]),
        (lambda: o.trace("seed", "adam", start=(float("nan"), 0.0)), ["trace", "--surface", "seed", "--methods", "adam", "--start", "nan,0.0"]),
        (lambda: o.trace("seed", "adam", start=(99.0, 0.0)), ["trace", "--surface", "seed", "--methods", "adam", "--start", "99.0,0.0"]),
        (lambda: o.race("seed", ["adam"], starts=0), ["race", "--surface", "seed", "--methods", "adam", "--starts", "0"]),
        (lambda: o.race("seed", ["adam"], region=(-100, -90, 0, 1)), ["race", "--surface", "seed", "--methods", "adam", "--region=-100,-90,0,1"]),
        (lambda: o.basins("seed", "adam", resolution=5000), ["basins", "--surface", "seed", "--methods", "adam", "--resolution", "5000"]),
        (lambda: o.Surface("formula:x^2 +* y"), ["trace", "--surface", "formula:x^2 +* y", "--methods", "adam"]),
        (lambda: o.Surface("seed", domain=(1, 0, 0, 1)), ["trace", "--surface", "seed", "--domain", "1,0,0,1", "--methods", "adam"]),
        (lambda: o.tune("seed", ["adam"], trials=0), ["tune", "--surface", "seed", "--methods", "adam", "--trials", "0"]),
    ],
)
def test_bad_input_is_a_value_error_with_the_command_lines_message(cli, call, args):
    with pytest.raises(ValueError) as e:
        call()
    assert str(e.value) == cli.error(*args)


def test_bad_types_never_crash():
    with pytest.raises(ValueError):
        o.trace("seed", "adam", steps=2.5)
    with pytest.raises(ValueError):
        o.race("seed", ["adam"], params={"adam": 0.1})
    with pytest.raises(ValueError):
        o.phase("seed", "adam")
    with pytest.raises(TypeError):
        o.trace(42, "adam")
    with pytest.raises(ValueError):
        o.race("seed", ["adam", "adam"])
    with pytest.raises(ValueError):
        o.trace("seed", "adam", steps=10**30)
    with pytest.raises(ValueError, match="f64 or f32"):
        o.basins("seed", "adam", precision="f16")


# --- the GIL and Ctrl-C -----------------------------------------------------------------------


def test_long_calls_release_the_gil():
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    t0 = time.perf_counter()
    o.basins("rastrigin", "adam", resolution=256, steps=600)
    elapsed = time.perf_counter() - t0
    stop.set()
    t.join()
    # The other thread ran during the call (held, it would get a tick in only every 5 ms
    # switch interval at best; it gets hundreds).
    assert elapsed > 0.05
    assert len(ticks) > 20, (len(ticks), elapsed)


def test_ctrl_c_interrupts_a_long_call():
    code = textwrap.dedent(
        """
        import sys, time, optiscape
        print("ready", flush=True)
        t0 = time.perf_counter()
        try:
            optiscape.race("rastrigin", ["adam"], starts=1000000, steps=100000)
        except KeyboardInterrupt:
            print(f"interrupted {time.perf_counter() - t0:.2f}", flush=True)
            sys.exit(0)
        print("finished", flush=True)
        """
    )
    # The child starts with SIGINT's default disposition, as under a terminal: a process started
    # in the background by a non-interactive shell inherits SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler at all (so the test would wait forever).
    p = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert p.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    t0 = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0, out
    assert out.startswith("interrupted"), out
    # It stops within the current blocks of runs, not after the whole map.
    assert time.perf_counter() - t0 < 30


def test_the_notebook_is_executed_with_its_outputs_saved():
    import json as _json

    nb = _json.loads((Path(__file__).resolve().parents[3] / "docs" / "notebook.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 6
    for i, c in enumerate(code, 1):
        assert c["execution_count"] == i, f"cell {i} not executed in order"
        assert c["outputs"], f"cell {i} has no output"
        assert not any(o.get("output_type") == "error" for o in c["outputs"]), f"cell {i} failed"
    images = sum("image/png" in o.get("data", {}) for c in code for o in c["outputs"])
    assert images >= 4


def test_a_gradient_that_is_not_finite_stops_a_trace_with_a_warning():
    s = o.Surface("formula:cbrt(x)^2 + y^2", domain=(-1, 1, -1, 1))
    with pytest.warns(RuntimeWarning, match="bad_gradient"):
        rows = o.trace(s, "lion", start=(0.0, 0.5), steps=50)
    assert rows.shape == (1, 3)
    # A 3 x 3 map starts a column of cells on x = 0: a third of the map, never a minimum.
    m = o.basins(s, "lion", resolution=3, steps=20)
    assert abs(m.bad_gradient_fraction - 1 / 3) < 1e-12
    assert (m.labels[:, 1] == -3).all()
    assert all(abs(p["x"]) > 1e-9 for p in m.minima)


def test_ecdf_targets_are_the_command_lines(cli):
    got = o.ecdf("plateau", ["adam"], starts=50, steps=100)
    ref = cli.json("ecdf", "--surface", "plateau", "--methods", "adam", "--starts", "50", "--steps", "100",
                   "--format", "json")
    np.testing.assert_array_equal(got["targets"], ref["targets"])
    assert got["targets"][0] < 10  # scaled to plateau's starts, not COCO's fixed 1e2
