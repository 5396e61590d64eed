"""PyTorch doing what `optiscape train` does: K networks of the default size (2-16-16-1, tanh,
Glorot uniform) trained full-batch with Adam for N updates on the same 200 training points
(BCE with logits), all K at once, in two batched forms:

  stacked  the K networks' parameters stacked on a leading axis, the forward pass as batched
           matmuls (torch.baddbmm), one backward of the summed losses (each network's gradient
           is its own), one torch.optim.Adam over the stacked tensors (elementwise, so K Adams)
  vmap     torch.func.vmap of torch.func.grad of one network's loss over the stacked
           parameters, the same Adam

    python benches/scripts/torch_train.py --form stacked --starts 1000 --steps 1000 --dtype float32

prints the seconds (wall) of the training loop and the mean final loss. The data are
optiscape's own (`optiscape train --data-csv FILE` writes them; --data FILE reads them).
"""
import argparse
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--form", choices=["stacked", "vmap"], default="stacked")
    ap.add_argument("--starts", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--data", help="x1,x2,label CSV (default: moons drawn with NumPy)")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dt = getattr(torch, a.dtype)
    if a.data:
        d = np.loadtxt(a.data, delimiter=",", skiprows=1)
    else:
        rng = np.random.default_rng(0)
        t = np.linspace(0, np.pi, 100)
        d = np.concatenate([
            np.stack([np.cos(t), np.sin(t), np.zeros(100)], 1),
            np.stack([1 - np.cos(t), 0.5 - np.sin(t), np.ones(100)], 1),
        ])
        d[:, :2] += 0.2 * rng.standard_normal((200, 2))
    x = torch.tensor(d[:, :2], dtype=dt)
    y = torch.tensor(d[:, 2], dtype=dt)
    k = a.starts
    g = torch.Generator().manual_seed(0)
    sizes = [2, 16, 16, 1]
    params = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        bound = (6.0 / (i + o)) ** 0.5
        w = (torch.rand((k, o, i), generator=g, dtype=dt) * 2 - 1) * bound
        b = torch.zeros((k, o), dtype=dt)
        params += [w.requires_grad_(), b.requires_grad_()]
    opt = torch.optim.Adam(params, lr=1e-3)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    if a.form == "stacked":
        xb = x.unsqueeze(0).expand(k, -1, -1)  # (k, n, 2)

        def loss_all():
            h = xb
            for li in range(3):
                w, b = params[2 * li], params[2 * li + 1]
                h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
                if li < 2:
                    h = torch.tanh(h)
            z = h.squeeze(-1)  # (k, n)
            return bce(z, y.expand(k, -1), reduction="none").mean(1)

        t0 = time.perf_counter()
        for _ in range(a.steps):
            opt.zero_grad(set_to_none=False)
            losses = loss_all()
            losses.sum().backward()
            opt.step()
        secs = time.perf_counter() - t0
        final = loss_all().detach()
    else:
        from torch.func import grad, vmap

        def loss_one(w1, b1, w2, b2, w3, b3):
            h = torch.tanh(x @ w1.T + b1)
            h = torch.tanh(h @ w2.T + b2)
            z = (h @ w3.T + b3).squeeze(-1)
            return bce(z, y)

        g_all = vmap(grad(loss_one, argnums=(0, 1, 2, 3, 4, 5)))
        t0 = time.perf_counter()
        for _ in range(a.steps):
            with torch.no_grad():
                grads = g_all(*[p.detach() for p in params])
            for p, gr in zip(params, grads):
                p.grad = gr
            opt.step()
        secs = time.perf_counter() - t0
        with torch.no_grad():
            final = vmap(loss_one)(*params)
    print(f"{a.form} {a.dtype} starts={k} steps={a.steps} threads={torch.get_num_threads()}: "
          f"{secs:.2f} s, mean final loss {final.mean().item():.6f}")


if __name__ == "__main__":
    main()
