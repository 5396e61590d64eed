"""Writes docs/notebook.ipynb (the seed notebook's question, answered with optiscape from
Python) and executes it in place, outputs saved. Run from the repository's root in an
environment with optiscape, matplotlib, nbformat, nbclient and ipykernel installed:

    python crates/optiscape-py/make_notebook.py
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

md = nbformat.v4.new_markdown_cell
code = nbformat.v4.new_code_cell

cells = [
    md(
        "# How well do optimization algorithms fight local optima?\n\n"
        "The question of the notebook optiscape grew from, *Visualize optimization*, answered "
        "with optiscape's Python package. That notebook animated five runs (SGD, Momentum, "
        "AdaGrad, fine-tuning AdaGrad and AdaDelta) from one start point on one bumpy surface. "
        "Here the same five runs are traced (the same numbers, computed by optiscape's "
        "Rust core), then raced from a thousand start points, and mapped: which start points "
        "lead each method to the global minimum?"
    ),
    code(
        "import numpy as np\n"
        "import matplotlib.pyplot as plt\n"
        "import optiscape as o\n\n"
        "seed = o.Surface('seed')   # the notebook's surface, constants exactly as it wrote them\n"
        "print(seed, '| start', seed.default_start, '| global minimum', seed.global_minimum['value'])\n"
        "print(next(s['formula'] for s in o.surfaces() if s['id'] == 'seed'))"
    ),
    md(
        "## The five runs\n\n"
        "The presets `seed:sgd`, `seed:momentum`, `seed:adagrad`, `seed:adagrad-finetune` and "
        "`seed:adadelta` are the notebook's own updates with its own settings (300 steps each, "
        "from its start point). `optiscape.trace` returns one row per step: x, y, loss."
    ),
    code(
        "presets = ['seed:sgd', 'seed:momentum', 'seed:adagrad', 'seed:adagrad-finetune', 'seed:adadelta']\n"
        "paths = {m: o.trace(seed, m, steps=300) for m in presets}\n"
        "for m, p in paths.items():\n"
        "    print(f'{m:<24} ends at ({p[-1, 0]:7.3f}, {p[-1, 1]:7.3f})  loss {p[-1, 2]:8.4f}')"
    ),
    code(
        "X, Y, Z = seed.grid(300)\n"
        "fig, ax = plt.subplots(figsize=(8, 7))\n"
        "cs = ax.contourf(X, Y, Z, levels=40, cmap='coolwarm')\n"
        "ax.contour(X, Y, Z, levels=40, colors='k', linewidths=0.3, alpha=0.4)\n"
        "fig.colorbar(cs, ax=ax, label='loss')\n"
        "for m, p in paths.items():\n"
        "    ax.plot(p[:, 0], p[:, 1], lw=2, label=m)\n"
        "    ax.plot(p[-1, 0], p[-1, 1], 'o', ms=7, mec='k')\n"
        "sx, sy = seed.default_start\n"
        "ax.plot(sx, sy, 'k*', ms=14, label='start')\n"
        "g = np.array(seed.global_minimum['points'])\n"
        "ax.plot(g[:, 0], g[:, 1], 'wX', ms=12, mec='k', ls='', label='global minima')\n"
        "ax.set_title(\"The notebook's five runs on its surface\"); ax.legend(loc='upper right', fontsize=8)\n"
        "plt.show()"
    ),
    code(
        "fig, ax = plt.subplots(figsize=(8, 4))\n"
        "for m, p in paths.items():\n"
        "    ax.plot(p[:, 2], label=m)\n"
        "ax.axhline(seed.global_minimum['value'], color='k', ls=':', label='global minimum')\n"
        "ax.set_xlabel('step'); ax.set_ylabel('loss'); ax.legend(fontsize=8); ax.set_title('Loss per step')\n"
        "plt.show()"
    ),
    md(
        "One start point is one anecdote. Whether a method *fights* local optima is a question "
        "about many start points."
    ),
    md(
        "## A race from a thousand start points\n\n"
        "`optiscape.race` starts every method from the same 1000 random points of the domain and "
        "counts how many end within the surface's tolerance of the global minimum, with a Wilson "
        "95% interval, and the expected number of updates to get there with restarts (ERT, with "
        "a bootstrap interval). It returns what `optiscape race --format json` prints."
    ),
    code(
        "race = o.race(seed, presets + ['adam', 'rmsprop'], starts=1000, steps=300)\n"
        "print(f\"{'method':<24}{'success':>9}  {'95% interval':>15}  {'ERT':>10}  {'median loss':>11}\")\n"
        "for r in sorted(race['methods'], key=lambda r: -r['success_rate']):\n"
        "    ert = 'none reached' if r['ert'] is None else f\"{r['ert']:.0f}\"\n"
        "    print(f\"{r['method']:<24}{r['success_rate']:9.1%}  {r['success_rate_low']:6.1%} - {r['success_rate_high']:6.1%}  {ert:>10}  {r['median_loss']:11.4f}\")"
    ),
    code(
        "rows = sorted(race['methods'], key=lambda r: r['success_rate'])\n"
        "fig, ax = plt.subplots(figsize=(8, 4))\n"
        "y = np.arange(len(rows))\n"
        "rate = np.array([r['success_rate'] for r in rows])\n"
        "err = np.array([[r['success_rate'] - r['success_rate_low'] for r in rows],\n"
        "                [r['success_rate_high'] - r['success_rate'] for r in rows]])\n"
        "ax.barh(y, rate, xerr=err, color='tab:blue', capsize=3)\n"
        "ax.set_yticks(y, [r['method'] for r in rows]); ax.set_xlabel('share of runs ending at the global minimum')\n"
        "ax.set_title('1000 random starts, 300 updates each (95% Wilson intervals)')\n"
        "plt.show()"
    ),
    md(
        "## Where each start leads: basin maps\n\n"
        "`optiscape.basins` runs one method from the centre of every cell of a grid and labels "
        "each start by the minimum it ends in. `to_image()` is the picture `optiscape basins "
        "--out` writes: starts that end at a global minimum are gold, every other minimum has "
        "a colour of its own, grey marks runs still moving after the last update and black "
        "runs that diverged. The white star is the notebook's start point."
    ),
    code(
        "fig, axes = plt.subplots(1, 3, figsize=(15, 5))\n"
        "for ax, m in zip(axes, ['seed:sgd', 'seed:momentum', 'seed:adadelta']):\n"
        "    b = o.basins(seed, m, resolution=256, steps=300)\n"
        "    ax.imshow(b.to_image(), extent=seed.extent)\n"
        "    ax.set_title(f'{m}: {b.global_fraction:.1%} reach the global minimum\\n{len(b.minima)} minima found', fontsize=10)\n"
        "    ax.plot(*seed.default_start, 'w*', ms=12, mec='k')\n"
        "plt.tight_layout(); plt.show()"
    ),
    code(
        "b = o.basins(seed, 'seed:momentum', resolution=256)\n"
        "print(b)\n"
        "print('labels', b.labels.shape, b.labels.dtype, '| ends', b.ends.shape)\n"
        "for m in b.minima[:5]:\n"
        "    print(f\"  minimum at ({m['x']:.3f}, {m['y']:.3f}) loss {m['loss']:.4f}: {m['area_fraction']:.1%} of the starts{' (global)' if m['global'] else ''}\")"
    ),
    md(
        "## The answer\n\n"
        "From the notebook's one start point, SGD, Momentum and AdaGrad all climb into the "
        "valley of the global minimum at (3.9, 15.7) but, after 300 steps, are still short of "
        "it (losses -1.53 to -1.62 against -1.715, outside the surface's tolerance); fine-tuning "
        "AdaGrad and AdaDelta stop on the way, in local minima. One run shows little more than "
        "that.\n\n"
        "From a thousand random starts the answer is sharper and humbler: no method ends at the "
        "global minimum in more than about one run in fifteen. The notebook's fine-tuning "
        "AdaGrad does best (6.4%, Wilson interval 5.0-8.1%), RMSprop and AdaDelta follow, and "
        "SGD and Momentum sit near 1% with overlapping intervals: with the notebook's settings, "
        "momentum does not fight this surface's local optima better than plain SGD. The basin "
        "maps show why: the five global minima lie on the line y = 15.7, their basins are small "
        "gold patches there, and where a run starts decides which minimum it ends in; momentum "
        "mostly frays the basins' edges.\n\n"
        "A fair comparison also tunes each method and looks at whole runtime distributions "
        "rather than one budget: `optiscape.tune` and `optiscape.ecdf` (see `docs/guide.md`, "
        "*A fair answer*)."
    ),
]

nb = nbformat.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/notebook.ipynb")
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(out.parent)}}).execute()
nbformat.write(nb, out)
print(f"wrote {out}")
