#!/usr/bin/env python3
"""Independent float64 re-computation of the notebook's five runs (visualize-optimization).

Plain Python, no dependencies: the surface, its gradient and the five update rules are written
out again from the notebook's Theano code (cells 169-200), so that `crates/optiscape-core/tests/rules.rs` can check
optiscape's `seed:*` presets against numbers it did not compute itself.

Differences from the notebook, all deliberate: float64 instead of float32, and the clip by norm
leaves a zero gradient unchanged (the notebook would divide 0 by 0).

Usage: python3 docs/notebook_reference.py   (prints the end point after 300 updates, and for
AdaDelta also after the notebook's 2990 updates: 299 frames x 10)
"""
import math

ALPHA = 0.7
PHI = 2 * 3.14 * 0.5
C = 5 * 3.14
START = (0.6 * 3.14, 1.9 * 3.14)


def f(x, y):
    return (2 + ALPHA - 2 * math.cos(x) * math.cos(y) - 3
            + abs(x - C) * abs(y - C) * 0.1 - ALPHA * math.cos(PHI - 2 * x))


def sign(v):
    return (v > 0) - (v < 0)


def grad(x, y):
    # d/dx and d/dy of f; at the kinks of |.| the subgradient sign(0) = 0.
    gx = (2 * math.sin(x) * math.cos(y) + 0.1 * sign(x - C) * abs(y - C)
          - 2 * ALPHA * math.sin(PHI - 2 * x))
    gy = 2 * math.cos(x) * math.sin(y) + 0.1 * abs(x - C) * sign(y - C)
    return gx, gy


def clip(g, max_norm=5.0):
    n = math.sqrt(g[0] ** 2 + g[1] ** 2)
    if n == 0:
        return g
    s = min(max_norm, n) / n
    return (g[0] * s, g[1] * s)


def sgd(steps, lr=0.2):
    x, y = START
    for _ in range(steps):
        gx, gy = grad(x, y)
        x, y = x - lr * gx, y - lr * gy
    return x, y


def momentum(steps, lr=0.2, mom=0.2):
    # Theano applies both updates at once: the parameter uses the old velocity.
    x, y = START
    vx = vy = 0.0
    for _ in range(steps):
        gx, gy = grad(x, y)
        x, y = x - lr * vx, y - lr * vy
        vx, vy = mom * vx + (1 - mom) * gx, mom * vy + (1 - mom) * gy
    return x, y


def adagrad(steps, lr, reg, eps=1e-6):
    x, y = START
    sx = sy = 1.0  # "Fix for AdaGrad, init gsum to 1"
    for _ in range(steps):
        gx, gy = clip(grad(x, y))
        sx = sx + gx ** 2 - reg * sx
        sy = sy + gy ** 2 - reg * sy
        x = x - lr * (gx / math.sqrt(sx + eps))
        y = y - lr * (gy / math.sqrt(sy + eps))
    return x, y


def adadelta(steps, rho=0.5, eps=1e-6):
    x, y = START
    g2 = [0.0, 0.0]
    d2 = [0.0, 0.0]
    p = [x, y]
    for _ in range(steps):
        g = clip(grad(p[0], p[1]))
        for i in range(2):
            g2[i] = rho * g2[i] + (1 - rho) * g[i] ** 2
            d = -math.sqrt((d2[i] + eps) / (g2[i] + eps)) * g[i]
            d2[i] = rho * d2[i] + (1 - rho) * d ** 2
            p[i] = p[i] + d
    return p[0], p[1]


if __name__ == "__main__":
    rows = [
        ("seed:sgd", sgd(300)),
        ("seed:momentum", momentum(300)),
        ("seed:adagrad", adagrad(300, lr=0.5, reg=0.1)),
        ("seed:adagrad-finetune", adagrad(300, lr=0.3, reg=0.0)),
        ("seed:adadelta", adadelta(300)),
        ("seed:adadelta x2990", adadelta(2990)),
    ]
    for name, (x, y) in rows:
        print(f"{name:24s} x={x!r:24s} y={y!r:24s} loss={f(x, y)!r}")
