#!/usr/bin/env python3
"""The lab against JAX + optax, whole commands side by side (docs/benchmarks.md, "Every rule on
every surface").

For every rule and every built-in surface (and the typed formula of the speed issue), times
`optiscape basins` (256 x 256 starts x 300 steps, lr 0.05, f64 unless --precision) as a whole
command, best of --repeat runs; and, where --jax is given, JAX + optax's warm run of the same
workload with benches/scripts/jax_basins.py (surfaces JAX's script lacks are passed as formulas).

Usage:
  python3 benches/scripts/lab_vs_jax.py --optiscape target/release/optiscape \
      [--jax /tmp/jaxref/bin/python --jax-script benches/scripts/jax_basins.py] \
      [--jax-cells all|rastrigin+adam] [--precision f64]
Prints a markdown table: ball-steps per second of optiscape, and the ratio JAX time / optiscape
time where JAX was run.
"""
import argparse
import re
import subprocess
import time

RULES = ["sgd", "heavy-ball", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw",
         "amsgrad", "adamax", "nadam", "radam", "lion", "adabelief", "langevin", "momentum",
         "seed-adagrad"]
# optax's counterpart of each rule (None: no optax optimizer of that name).
OPTAX = {"sgd": "sgd", "adagrad": "adagrad", "adadelta": "adadelta", "rmsprop": "rmsprop",
         "adam": "adam", "adamw": "adamw", "amsgrad": "amsgrad", "adamax": "adamax",
         "nadam": "nadam", "radam": "radam", "lion": "lion", "adabelief": "adabelief",
         "langevin": "noisy_sgd", "seed-adagrad": "adagrad"}
FORMULA = "1.5*sin(x)*cos(y) + 0.1*(x^2 + y^2)"
# surface -> (optiscape arguments, JAX arguments)
SURFACES = {
    "seed": (["--surface", "seed"], ["--surface", "formula:2 + 0.7 - 2*cos(x)*cos(y) - 3 + 0.1*abs(x - 5*3.14)*abs(y - 5*3.14) - 0.7*cos(3.14 - 2*x)", "--domain=0,31.4,0,31.4", "--minimum", "-1.7153550648619604"]),
    "rastrigin": (["--surface", "rastrigin"], ["--surface", "rastrigin"]),
    "ackley": (["--surface", "ackley"], ["--surface", "ackley"]),
    "himmelblau": (["--surface", "himmelblau"], ["--surface", "himmelblau"]),
    "rosenbrock": (["--surface", "rosenbrock"], ["--surface", "rosenbrock"]),
    "beale": (["--surface", "beale"], ["--surface", "formula:(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2", "--domain=-4.5,4.5,-4.5,4.5", "--minimum", "0"]),
    "six-hump-camel": (["--surface", "six-hump-camel"], ["--surface", "formula:(4 - 2.1*x^2 + x^4/3)*x^2 + x*y + (-4 + 4*y^2)*y^2", "--domain=-3,3,-2,2", "--minimum", "-1.031628453489877"]),
    "styblinski-tang": (["--surface", "styblinski-tang"], ["--surface", "formula:((x^4 - 16*x^2 + 5*x) + (y^4 - 16*y^2 + 5*y))/2", "--domain=-5,5,-5,5", "--minimum", "-78.33233140754282"]),
    "levi13": (["--surface", "levi13"], ["--surface", "formula:sin(3*pi*x)^2 + (x-1)^2*(1 + sin(3*pi*y)^2) + (y-1)^2*(1 + sin(2*pi*y)^2)", "--domain=-10,10,-10,10", "--minimum", "0"]),
    "goldstein-price": (["--surface", "goldstein-price"], ["--surface", "formula:(1 + (x+y+1)^2*(19 - 14*x + 3*x^2 - 14*y + 6*x*y + 3*y^2))*(30 + (2*x-3*y)^2*(18 - 32*x + 12*x^2 + 48*y - 36*x*y + 27*y^2))", "--domain=-2,2,-2,2", "--minimum", "3", "--tol", "0.01"]),
    "saddle": (["--surface", "saddle"], ["--surface", "formula:x^2 - y^2", "--domain=-2,2,-2,2", "--minimum", "-4"]),
    "plateau": (["--surface", "plateau"], ["--surface", "formula:1 - exp(-(x^2 + y^2)/2)", "--domain=-6,6,-6,6", "--minimum", "0"]),
    "bowl": (["--surface", "bowl"], ["--surface", "formula:(x^2 + 4*y^2)/2", "--domain=-3,3,-3,3", "--minimum", "0"]),
    "formula": (["--surface", "formula:" + FORMULA, "--domain=-5,5,-5,5"], ["--surface", "formula:" + FORMULA, "--domain=-5,5,-5,5", "--minimum", "-1"]),
}

p = argparse.ArgumentParser()
p.add_argument("--optiscape", required=True)
p.add_argument("--jax")
p.add_argument("--jax-script", default="benches/scripts/jax_basins.py")
p.add_argument("--jax-cells", default="rastrigin+adam", help="all, or rastrigin+adam: every rule on Rastrigin and Adam on every surface")
p.add_argument("--precision", default="f64")
p.add_argument("--resolution", type=int, default=256)
p.add_argument("--steps", type=int, default=300)
p.add_argument("--repeat", type=int, default=3)
args = p.parse_args()
runs = args.resolution ** 2 * args.steps


def optiscape(rule, surface):
    cmd = [args.optiscape, "basins", *SURFACES[surface][0], "--method", rule, "--set", "lr=0.05",
           "--resolution", str(args.resolution), "--steps", str(args.steps), "--precision", args.precision]
    best = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t)
    return best


def jax(rule, surface):
    method = OPTAX.get(rule)
    if not args.jax or method is None:
        return None
    if args.jax_cells != "all" and not (surface == "rastrigin" or rule == "adam"):
        return None
    cmd = [args.jax, args.jax_script, *SURFACES[surface][1], "--method", method, "--lr", "0.05",
           "--resolution", str(args.resolution), "--steps", str(args.steps), "--precision", args.precision]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(re.search(r"warm ([0-9.]+) s", out).group(1))


surfaces = list(SURFACES)
print(f"{args.resolution} x {args.resolution} starts x {args.steps} steps, {args.precision}, lr 0.05; "
      "each cell: optiscape whole command in s (M ball-steps/s) [x JAX's warm time / optiscape's]")
print()
print("| rule | " + " | ".join(surfaces) + " |")
print("| --- |" + " --- |" * len(surfaces))
for rule in RULES:
    cells = []
    for s in surfaces:
        t = optiscape(rule, s)
        j = jax(rule, s)
        cell = f"{t:.2f} ({runs / t / 1e6:.0f})"
        if j is not None:
            cell += f" **{j / t:.1f}x**"
        cells.append(cell)
    print(f"| {rule} | " + " | ".join(cells) + " |", flush=True)
