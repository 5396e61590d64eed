#!/usr/bin/env python3
"""Reference workload for the lab's speed targets, in JAX + optax.

A basin map: an R x R grid of start points (cell centres) over a surface's domain, each run for
N steps of an optax optimizer, all vectorized with jax.vmap and compiled with jit. Prints the
compile+run time, the warm time (the figure to compare against), ball-steps per second, and the
share of starts that end within `tol` of the global minimum value.

Surfaces: rastrigin (default), ackley, rosenbrock, himmelblau, or any formula in x and y written
with jnp names (sin, cos, exp, sqrt, abs, ...; ^ is accepted for **), e.g.
  --surface 'formula:1.5*sin(x)*cos(y) + 0.1*(x^2 + y^2)' --domain=-5,5,-5,5 --minimum -1.0
Methods: any optax optimizer that takes a learning rate as its first argument (adam, sgd, rmsprop,
adagrad, adamax, nadam, radam, amsgrad, lion, adabelief, ...).

Setup (once):  python3 -m venv /tmp/jaxref && /tmp/jaxref/bin/pip install -r benches/scripts/requirements.txt
Run:           /tmp/jaxref/bin/python benches/scripts/jax_basins.py --resolution 512 --steps 300 --precision f64
"""
import argparse
import time

parser = argparse.ArgumentParser()
parser.add_argument("--surface", default="rastrigin")
parser.add_argument("--domain", default=None, help="x0,x1,y0,y1 (default: the surface's own)")
parser.add_argument("--minimum", type=float, default=None, help="global minimum value (formulas)")
parser.add_argument("--method", default="adam")
parser.add_argument("--resolution", type=int, default=512)
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--lr", type=float, default=0.05)
parser.add_argument("--precision", choices=["f32", "f64"], default="f64")
parser.add_argument("--tol", type=float, default=1e-3)
args = parser.parse_args()

import jax  # noqa: E402

if args.precision == "f64":
    jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

dtype = np.float64 if args.precision == "f64" else np.float32


def rastrigin(x, y):
    return 20 + x**2 - 10 * jnp.cos(2 * jnp.pi * x) + y**2 - 10 * jnp.cos(2 * jnp.pi * y)


def ackley(x, y):
    r = jnp.sqrt(0.5 * (x**2 + y**2))
    c = 0.5 * (jnp.cos(2 * jnp.pi * x) + jnp.cos(2 * jnp.pi * y))
    return -20 * jnp.exp(-0.2 * r) - jnp.exp(c) + jnp.e + 20


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


BUILT_IN = {  # function, domain, global minimum value
    "rastrigin": (rastrigin, (-5.12, 5.12, -5.12, 5.12), 0.0),
    "ackley": (ackley, (-5.0, 5.0, -5.0, 5.0), 0.0),
    "rosenbrock": (rosenbrock, (-2.0, 2.0, -1.0, 3.0), 0.0),
    "himmelblau": (himmelblau, (-5.0, 5.0, -5.0, 5.0), 0.0),
}

if args.surface.startswith("formula:"):
    text = args.surface[len("formula:"):].replace("^", "**")
    names = {k: getattr(jnp, k) for k in dir(jnp) if not k.startswith("_")}
    names.update(pi=jnp.pi, e=jnp.e, ln=jnp.log, __builtins__={})
    surface = eval("lambda x, y: " + text, names)  # noqa: S307 (a benchmark)
    domain, minimum = (-5.0, 5.0, -5.0, 5.0), args.minimum
else:
    surface, domain, minimum = BUILT_IN[args.surface]
if args.domain:
    domain = tuple(float(v) for v in args.domain.split(","))
if args.minimum is not None:
    minimum = args.minimum


def loss(p):
    return surface(p[..., 0], p[..., 1])


r = args.resolution
x0, x1, y0, y1 = domain
hx, hy = (x1 - x0) / r / 2, (y1 - y0) / r / 2
xs, ys = np.meshgrid(np.linspace(x0 + hx, x1 - hx, r), np.linspace(y0 + hy, y1 - hy, r))
starts = jnp.asarray(np.stack([xs.ravel(), ys.ravel()], -1).astype(dtype))

optimizer = getattr(optax, args.method)(args.lr)
grad = jax.vmap(jax.grad(loss))


@jax.jit
def run(points):
    state = optimizer.init(points)

    def body(_, carry):
        points, state = carry
        updates, state = optimizer.update(grad(points), state, points)
        return optax.apply_updates(points, updates), state

    points, _ = jax.lax.fori_loop(0, args.steps, body, (points, state))
    return points


t = time.perf_counter()
run(starts).block_until_ready()
first = time.perf_counter() - t
t = time.perf_counter()
ends = run(starts).block_until_ready()
warm = time.perf_counter() - t
success = float((jnp.abs(loss(ends) - minimum) <= args.tol).mean()) if minimum is not None else float("nan")
print(
    f"jax+optax {args.method} {args.precision} on {args.surface}: {r}x{r} starts x {args.steps} steps: "
    f"compile+run {first:.3f} s, warm {warm:.3f} s, "
    f"{r * r * args.steps / warm / 1e6:.1f} M ball-steps/s, success {success:.4f}"
)
