#!/usr/bin/python3
"""Replays trace_light64's steps with PyTorch: the twin of models::LightClassifier from
tests/reference/model_fixtures.py, the same initial weights, the same batches and targets,
torch.optim.Adam with the same settings and the same objective, in float32 on one thread.

    /usr/bin/python3 tools/trace_classifier_training/trace_light64_torch.py DIR [--steps N]

DIR is trace_light64's --out folder; writes DIR/torch.csv with chroma.csv's columns. Before the
steps it checks, independently of Chroma's code, that the targets are Zhang's soft encoding of
the recorded ab and the weights are the rebalancing weights of the recorded prior, and it
compares Chroma's initial weights with PyTorch's default initialisation (by standard
deviation). After the steps it compares the weights with Chroma's final.safetensors when that
file comes from the same number of steps.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
from model_fixtures import LightClassifier  # noqa: E402

SAFETENSORS_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """name -> tensor, from the format's u64 header length, JSON header and raw data."""
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=SAFETENSORS_DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


class Trace:
    """trace.bin: the recipe's constants, then one record per step (see trace_light64.cpp)."""

    def __init__(self, path):
        self.file = open(path, "rb")
        if self.file.read(8) != b"CHROMATR":
            raise ValueError(path + " is not a trace_light64 file")
        (self.steps, self.batch, self.height, self.width, self.bins, self.grey,
         self.slots) = struct.unpack("<7i", self.file.read(28))
        q = self.bins
        self.centres = np.frombuffer(self.file.read(8 * q), dtype="<f4").reshape(q, 2)
        self.prior = np.frombuffer(self.file.read(8 * q), dtype="<f8")
        self.class_weights = np.frombuffer(self.file.read(8 * q), dtype="<f8")
        (self.lam, self.alpha, self.lr, self.beta1, self.beta2,
         self.eps) = struct.unpack("<6d", self.file.read(48))

    def step(self):
        """input [N,1,H,W], ab [N,2,H,W], dense target [N,Q,H,W], pixel weights [N,1,H,W]."""
        n, h, w, k = self.batch, self.height, self.width, self.slots
        pixels = n * h * w

        def take(dtype, count):
            return np.frombuffer(self.file.read(np.dtype(dtype).itemsize * count), dtype=dtype)

        x = take("<f4", pixels).reshape(n, 1, h, w)
        ab = take("<f4", 2 * pixels).reshape(n, 2, h, w)
        index = take("<i2", pixels * k).reshape(pixels, k).astype(np.int64)
        value = take("<f4", pixels * k).reshape(pixels, k)
        weight = take("<f4", pixels).reshape(n, 1, h, w)
        target = np.zeros((pixels, self.bins), dtype=np.float32)
        rows = np.repeat(np.arange(pixels), k).reshape(pixels, k)
        used = index >= 0
        target[rows[used], index[used]] = value[used]
        target = target.reshape(n, h, w, self.bins).transpose(0, 3, 1, 2)
        return (torch.from_numpy(x.copy()), ab, torch.from_numpy(np.ascontiguousarray(target)),
                torch.from_numpy(weight.copy()))


def check_targets(trace, ab, target, weight, sigma=5.0, neighbours=5):
    """Largest differences from the soft encoding and rebalancing weights computed here."""
    a = ab[:, 0].reshape(-1).astype(np.float64)
    b = ab[:, 1].reshape(-1).astype(np.float64)
    c = trace.centres.astype(np.float64)
    d2 = (a[:, None] - c[None, :, 0]) ** 2 + (b[:, None] - c[None, :, 1]) ** 2
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :neighbours]
    near_d2 = np.take_along_axis(d2, nearest, 1)
    g = np.exp(-(near_d2 - near_d2[:, :1]) / (2 * sigma * sigma))
    expected = np.zeros_like(d2)
    np.put_along_axis(expected, nearest, g / g.sum(1, keepdims=True), 1)
    n, _, h, w = ab.shape
    got = target.numpy().transpose(0, 2, 3, 1).reshape(n * h * w, -1)
    p = trace.prior / trace.prior.sum()
    wq = 1.0 / ((1 - trace.lam) * p + trace.lam / trace.bins)
    wq /= (p * wq).sum()
    pixel_weight = wq[np.argmax(got, axis=1)]  # first maximum, as Chroma
    return (np.abs(got - expected).max(), np.abs(wq - trace.class_weights).max() / wq.max(),
            np.abs(pixel_weight - weight.numpy().reshape(-1)).max() / wq.max())


def objective(logits, target, weight, prior, alpha):
    """alpha L_dt + (1 - alpha) L_cl as loss/classification_objective.hpp: the cross-entropy
    weighted per pixel and averaged over pixels (not divided by the weights' sum), and the
    Euclidean distance of the batch's mean softmax from the prior."""
    cross_entropy = (weight[:, 0] * -(target * F.log_softmax(logits, 1)).sum(1)).mean()
    distribution = torch.linalg.vector_norm(F.softmax(logits, 1).mean((0, 2, 3)) - prior)
    return alpha * distribution + (1 - alpha) * cross_entropy, cross_entropy, distribution


def step0_gradients(initial, x, target, weight, prior, alpha, dtype):
    """The first step's gradients, from a fresh copy of the twin computed in `dtype`."""
    model = LightClassifier().to(dtype)
    model.load_state_dict(initial)
    model.train()
    loss = objective(model(x.to(dtype)), target.to(dtype), weight.to(dtype), prior.to(dtype), alpha)[0]
    loss.backward()
    return {k: p.grad.double() for k, p in model.named_parameters()}


def compare_gradients(folder, initial, x, target, weight, prior, alpha):
    """Chroma's first gradients and PyTorch's in float32, each against PyTorch's in float64:
    the float64 gradient tells rounding from a wrong gradient."""
    path = os.path.join(folder, "gradients0.safetensors")
    if not os.path.exists(path):
        return
    chroma = read_safetensors(path)
    exact = step0_gradients(initial, x, target, weight, prior, alpha, torch.float64)
    single = step0_gradients(initial, x, target, weight, prior, alpha, torch.float32)
    for name, grads in (("Chroma", chroma), ("PyTorch float32", single)):
        errors = {k: ((grads[k].double() - g).norm() / g.norm()).item() for k, g in exact.items()}
        worst = max(errors, key=errors.get)
        print("step 0 gradients, %s against PyTorch float64: relative error median %.2g, largest %.2g (%s)"
              % (name, float(np.median(list(errors.values()))), errors[worst], worst))


def columns(bins):
    return (["step", "loss", "cross_entropy", "distribution", "grey_fraction", "distinct_bins", "top_bin",
             "top_fraction", "target_grey_fraction", "mean_weight", "seconds"] + ["h%d" % q for q in range(bins)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--steps", type=int, default=0, help="0: every step of the trace")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)  # the default initialisation the initial weights are compared with

    trace = Trace(os.path.join(args.folder, "trace.bin"))
    steps = min(args.steps or trace.steps, trace.steps)
    model = LightClassifier()
    default_std = {k: v.float().std().item() for k, v in model.state_dict().items() if v.dim() > 1}
    initial = read_safetensors(os.path.join(args.folder, "initial.safetensors"))
    model.load_state_dict(initial)
    model.train()
    ratios = {k: initial[k].float().std().item() / s for k, s in default_std.items()}
    low, high = min(ratios, key=ratios.get), max(ratios, key=ratios.get)
    print("initial weights' std / PyTorch default's: %.3f (%s) to %.3f (%s)" % (ratios[low], low, ratios[high], high))

    optimiser = torch.optim.Adam(model.parameters(), lr=trace.lr, betas=(trace.beta1, trace.beta2), eps=trace.eps)
    prior = torch.tensor(trace.prior, dtype=torch.float32)
    with open(os.path.join(args.folder, "torch.csv"), "w") as csv:
        csv.write(",".join(columns(trace.bins)) + "\n")
        for step in range(steps):
            x, ab, target, weight = trace.step()
            if step == 0:
                print("step 0 targets against an encoding computed here: soft target %.2g, class weights %.2g, "
                      "pixel weights %.2g (largest differences, weights relative to the largest)"
                      % check_targets(trace, ab, target, weight))
                compare_gradients(args.folder, initial, x, target, weight, prior, trace.alpha)
            start = time.perf_counter()
            logits = model(x)
            loss, cross_entropy, distribution = objective(logits, target, weight, prior, trace.alpha)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            seconds = time.perf_counter() - start

            predicted = logits.detach().argmax(1).reshape(-1)
            histogram = torch.bincount(predicted, minlength=trace.bins).tolist()
            pixels = predicted.numel()
            target_bin = target.argmax(1).reshape(-1)
            top = max(range(trace.bins), key=lambda q: (histogram[q], -q))
            row = ["%d" % step, "%.9g" % loss.item(), "%.9g" % cross_entropy.item(), "%.9g" % distribution.item(),
                   "%.6f" % (histogram[trace.grey] / pixels), "%d" % sum(h > 0 for h in histogram), "%d" % top,
                   "%.6f" % (histogram[top] / pixels), "%.6f" % ((target_bin == trace.grey).float().mean().item()),
                   "%.6f" % weight.double().mean().item(), "%.3f" % seconds] + ["%d" % h for h in histogram]
            csv.write(",".join(row) + "\n")
            csv.flush()
            print("step %d: loss %.6f (CE %.6f, dist %.6f), grey %.3f, %d bins, %.1f s"
                  % (step, loss.item(), cross_entropy.item(), distribution.item(), histogram[trace.grey] / pixels,
                     sum(h > 0 for h in histogram), seconds), flush=True)

    final = os.path.join(args.folder, "final.safetensors")
    if steps == trace.steps and os.path.exists(final):
        # |ours - Chroma's| / |Chroma's| per tensor (norms; a tensor that starts at 0, such as a
        # BatchNorm bias, moves by about lr a step under Adam, so sign flips of tiny gradients
        # show as differences of 2 lr).
        theirs = read_safetensors(final)
        errors = {k: ((v.double() - theirs[k].double()).norm() / theirs[k].double().norm().clamp_min(1e-30)).item()
                  for k, v in model.state_dict().items() if v.is_floating_point()}
        worst = max(errors, key=errors.get)
        print("weights after %d steps against Chroma's: relative difference median %.2g, largest %.2g (%s)"
              % (steps, float(np.median(list(errors.values()))), errors[worst], worst))

if __name__ == "__main__":
    main()
