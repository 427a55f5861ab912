#!/usr/bin/python3
"""Compares trace_light64's chroma.csv with trace_light64_torch.py's torch.csv, step by step.

    /usr/bin/python3 tools/trace_classifier_training/compare.py DIR [--every 10]

Prints a table every `every` steps and the largest relative loss difference, and writes
DIR/compare.png (loss and grey-bin fraction of both). Beside the two runs it scores the best
prediction that ignores the input: one distribution q for every pixel, the minimiser of the
objective over all the trace's batches. Its loss on each batch ("uninformed") is what a network
that has learnt only the colour statistics scores; its argmax is the mode such a network predicts.
"""
import argparse
import csv
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_light64_torch import Trace  # noqa: E402


def read(path):
    with open(path) as f:
        return {int(r["step"]): r for r in csv.DictReader(f)}


def uninformed(folder, steps):
    """The best input-independent prediction over the trace's first `steps` batches, and its loss
    on each batch. For a constant q the cross-entropy is -sum_q c_q log q_q with c the batch's
    mean of pixel weight x target, and the distribution term is |q - prior|."""
    trace = Trace(os.path.join(folder, "trace.bin"))
    per_batch = []
    for _ in range(steps):
        _, _, target, weight = trace.step()
        per_batch.append((weight * target).mean((0, 2, 3)).double())
    c = torch.stack(per_batch)
    prior = torch.tensor(trace.prior)
    z = torch.log(c.mean(0) + 1e-12).requires_grad_()
    optimiser = torch.optim.Adam([z], lr=0.05)

    def losses(z):
        return ((1 - trace.alpha) * -(c * torch.log_softmax(z, 0)).sum(1)
                + trace.alpha * torch.linalg.vector_norm(torch.softmax(z, 0) - prior))

    for _ in range(2000):
        optimiser.zero_grad()
        losses(z).mean().backward()
        optimiser.step()
    with torch.no_grad():
        q = torch.softmax(z, 0)
        return losses(z).numpy(), q.numpy(), trace.grey


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    chroma = read(os.path.join(args.folder, "chroma.csv"))
    theirs = read(os.path.join(args.folder, "torch.csv"))
    steps = sorted(set(chroma) & set(theirs))
    base, q, grey = uninformed(args.folder, len(steps))

    def col(rows, name):
        return np.array([float(rows[s][name]) for s in steps])

    loss_c, loss_t = col(chroma, "loss"), col(theirs, "loss")
    grey_c, grey_t = col(chroma, "grey_fraction"), col(theirs, "grey_fraction")
    bins_c, bins_t = col(chroma, "distinct_bins"), col(theirs, "distinct_bins")
    relative = np.abs(loss_c - loss_t) / np.abs(loss_t)

    print("%5s %10s %10s %9s %10s | %7s %7s | %5s %5s | %6s" % ("step", "loss C", "loss torch", "rel diff",
                                                                 "uninformed", "grey C", "grey T", "bins C",
                                                                 "bins T", "target grey"))
    for i, s in enumerate(steps):
        if s % args.every == 0 or s == steps[-1]:
            print("%5d %10.6f %10.6f %9.2e %10.6f | %7.3f %7.3f | %5d %5d | %6.3f"
                  % (s, loss_c[i], loss_t[i], relative[i], base[i], grey_c[i], grey_t[i], bins_c[i], bins_t[i],
                     float(chroma[s]["target_grey_fraction"])))
    worst = int(np.argmax(relative))
    print("step 0 relative loss difference: %.2e" % relative[0])
    print("largest relative loss difference: %.2e at step %d" % (relative[worst], steps[worst]))
    window = min(10, len(steps))
    for name, v in (("Chroma", loss_c - base), ("PyTorch", loss_t - base)):
        print("%s loss above the uninformed prediction's, mean of the first and last %d steps: %.4f, %.4f"
              % (name, window, v[:window].mean(), v[-window:].mean()))
    order = np.argsort(-q)
    print("uninformed prediction: argmax bin %d (grey is %d), q = %s for its top 5 bins %s"
          % (order[0], grey, np.round(q[order[:5]], 4).tolist(), order[:5].tolist()))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    top.plot(steps, loss_c, label="Chroma")
    top.plot(steps, loss_t, label="PyTorch", linestyle="--")
    top.plot(steps, base, label="uninformed prediction", color="grey", linewidth=0.8)
    top.set_ylabel("loss")
    top.legend()
    bottom.plot(steps, grey_c, label="Chroma")
    bottom.plot(steps, grey_t, label="PyTorch", linestyle="--")
    bottom.plot(steps, col(chroma, "target_grey_fraction"), label="targets", color="grey", linewidth=0.8)
    bottom.set_ylabel("fraction of pixels whose argmax is the grey bin")
    bottom.set_xlabel("step")
    bottom.legend()
    figure.tight_layout()
    figure.savefig(os.path.join(args.folder, "compare.png"), dpi=100)
    print("wrote " + os.path.join(args.folder, "compare.png"))


if __name__ == "__main__":
    main()
