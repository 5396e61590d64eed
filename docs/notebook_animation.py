"""The notebook's SGD animation, ported to Python 3: the baseline for `optiscape record`.

The notebook (Theano + matplotlib) redraws the whole 3D surface for every frame and saves the
animation with matplotlib's FFMpegWriter. This port keeps its drawing code (figure 8x6 inches at
100 dpi = 800x600, `plot_surface` with rstride=cstride=3, `view_init(100, 30)`, one scatter
point per frame) and replaces Theano by NumPy with the same formula and its exact gradient.

    python3 docs/notebook_animation.py /tmp/notebook-sgd.mp4 [frames]

prints the wall time and frames per second of writing the animation.
"""

import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.animation as animation  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

alpha = 0.7
phi_ext = 2 * 3.14 * 0.5


def surface(x, y):
    return (2 + alpha - 2 * np.cos(x) * np.cos(y) - 3
            + (np.abs(x - 5 * 3.14) * np.abs(y - 5 * 3.14)) * 0.1
            - alpha * np.cos(phi_ext - 2 * x))


def gradient(x, y):
    gx = (2 * np.sin(x) * np.cos(y) + 0.1 * np.sign(x - 5 * 3.14) * np.abs(y - 5 * 3.14)
          - 2 * alpha * np.sin(phi_ext - 2 * x))
    gy = 2 * np.cos(x) * np.sin(y) + 0.1 * np.abs(x - 5 * 3.14) * np.sign(y - 5 * 3.14)
    return np.array([gx, gy])


phi = np.linspace(0, 10 * 3.14, 100)
X, Y = np.meshgrid(phi, phi)
Z = surface(X, Y)
position = np.array([0.6 * 3.14, 1.9 * 3.14])
fig = plt.figure(figsize=(8, 6))
ax = None


def print_scene():
    global ax
    fig.clear()
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    plt.axis("off")
    ax.set_xlim(2 * 3.14, 8 * 3.14)
    ax.set_ylim(2 * 3.14, 8 * 3.14)
    ax.plot_surface(X, Y, -Z, linewidth=0, rstride=3, cstride=3, alpha=0.8, cmap="coolwarm")
    ax.view_init(100, 30)
    return []


def print_one(seq):
    global position
    print_scene()
    if seq > 0:
        position = position - 0.2 * gradient(*position)
    x, y = position
    return [ax.scatter([x], [y], [surface(x, y) + 10], s=30, color="grey", marker="o",
                       edgecolor="k")]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/notebook-sgd.mp4"
    frames = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    ani = animation.FuncAnimation(fig, print_one, init_func=print_scene, frames=frames,
                                  blit=True)
    writer = animation.FFMpegWriter(fps=30, extra_args=["-vcodec", "libx264"])
    t0 = time.perf_counter()
    ani.save(out, writer=writer, dpi=100)
    dt = time.perf_counter() - t0
    print(f"{frames} frames in {dt:.1f} s: {frames / dt:.1f} frames/s")


if __name__ == "__main__":
    main()
