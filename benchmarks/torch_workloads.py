#!/usr/bin/python3
"""PyTorch twins of model_bench's workloads: the same architectures (the definitions the parity
tests check Chroma against, tests/reference/model_fixtures.py), shapes, batches, losses and
optimiser, in float32 with torch.set_num_threads equal to Chroma's thread count.

Usage: torch_workloads.py WORKLOAD [--threads N] [--min-time SECONDS] [--min-iterations N]
Prints the same JSON line as model_bench. Also: --flops WORKLOAD prints the forward pass's
convolution FLOPs of a model workload (2 * multiply-adds, counted by forward hooks).
"""
import argparse
import json
import os
import sys
import time


def peak_rss_kb():
    """VmHWM: getrusage's ru_maxrss would carry a parent's peak over execve."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


RSS_START = peak_rss_kb()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import model_fixtures  # noqa: E402

RSS_RUNTIME = peak_rss_kb()  # after importing torch: its libraries and runtime

BINS = 313


def soft_target(shape, generator):
    t = torch.rand(shape, generator=generator)
    return t / t.sum(dim=1, keepdim=True)


def training_step(model, x, target, loss_fn):
    model.train()
    adam = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        adam.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), target)
        loss.backward()
        adam.step()

    return step


class PhotoUNet(torch.nn.Module):
    """Chroma's models::PhotoUNet (include/chroma/models/photo_unet.hpp), layer for layer."""

    @staticmethod
    def down(cin, cout, dilation=1):
        nn = torch.nn
        return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, 1, dilation, dilation), nn.ReLU())

    class Level(torch.nn.Module):
        """relu(BN(convT(inner(x))) + conv1x1(x)): the U-Net merge at one scale."""

        def __init__(self, channels, inner, inner_channels):
            super().__init__()
            nn = torch.nn
            self.path = nn.Sequential(inner, nn.ConvTranspose2d(inner_channels, channels, 4, 2, 1), nn.BatchNorm2d(channels))
            self.skip = nn.Conv2d(channels, channels, 1)

        def forward(self, x):
            return F.relu(self.path(x) + self.skip(x))

    def __init__(self):
        super().__init__()
        nn = torch.nn
        third = nn.Sequential(self.down(64, 128), self.Level(128, self.down(128, 256, 2), 256))
        second = nn.Sequential(self.down(32, 64), self.Level(64, third, 128))
        self.net = nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(),
                                 self.Level(32, second, 64), nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(),
                                 nn.Conv2d(32, 2, 1), nn.Tanh())

    def forward(self, x):
        return self.net(x)


def make_workload(name):
    """(model or None, input, iteration function, images per iteration)."""
    g = torch.Generator().manual_seed(1)
    if name == "unet_train":
        model = model_fixtures.ColorNetUNet()
        x = torch.rand(16, 1, 64, 64, generator=g) * 2 - 1
        target = torch.rand(16, 2, 64, 64, generator=g) * 2 - 1
        # Seed 000's half sum of squared errors, averaged over the batch's images.
        loss = lambda y, t: 0.5 * ((y - t) ** 2).sum() / y.shape[0]  # noqa: E731
        return model, x, training_step(model, x, target, loss), 16
    if name == "light64_train":
        model = model_fixtures.LightClassifier()
        x = torch.rand(32, 1, 64, 64, generator=g) * 2 - 1
        target = soft_target((32, BINS, 64, 64), g)
        # Multinomial cross-entropy against soft targets, a mean over pixels.
        loss = lambda z, t: -(t * F.log_softmax(z, dim=1)).sum(dim=1).mean()  # noqa: E731
        return model, x, training_step(model, x, target, loss), 32
    if name == "photo_unet_train":
        model = PhotoUNet()
        x = torch.rand(16, 1, 64, 64, generator=g) * 2 - 1
        target = torch.rand(16, 2, 64, 64, generator=g) - 0.5
        return model, x, training_step(model, x, target, F.l1_loss), 16
    if name in ("eccv16_b1", "eccv16_b8"):
        batch = 1 if name == "eccv16_b1" else 8
        model = model_fixtures.Eccv16().eval()
        x = torch.rand(batch, 1, 256, 256, generator=g) * 100

        def infer():
            with torch.no_grad():
                model(x)

        return model, x, infer, batch
    if name == "gemm":
        a = torch.rand(2048, 2048, generator=g)
        b = torch.rand(2048, 2048, generator=g)
        c = torch.empty(2048, 2048)
        return None, None, lambda: torch.mm(a, b, out=c), None
    raise SystemExit(f"unknown workload {name!r} (unet_train, light64_train, photo_unet_train, eccv16_b1, eccv16_b8, gemm)")


def forward_flops(model, x):
    total = [0]

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total[0] += 2 * output.numel() * module.in_channels // module.groups * k
        elif isinstance(module, torch.nn.ConvTranspose2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total[0] += 2 * inputs[0].numel() * module.out_channels * k

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-time", type=float, default=2.0)
    parser.add_argument("--min-iterations", type=int, default=3)
    parser.add_argument("--flops", action="store_true", help="print the forward convolution FLOPs and exit")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model, x, iteration, images = make_workload(args.workload)
    if args.flops:
        print(json.dumps({"workload": args.workload, "forward_flops": forward_flops(model, x) if model else 0,
                          "batch": images}))
        return
    iteration()  # untimed, as model_bench's first
    times = []
    while sum(times) < args.min_time or len(times) < args.min_iterations:
        start = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - start)
    work, unit = (images, "images") if images else (2.0 * 2048 ** 3, "flop")
    print(json.dumps({"workload": args.workload, "threads": torch.get_num_threads(), "work": work, "unit": unit,
                      "times": times, "rss_start_kb": RSS_START, "rss_runtime_kb": RSS_RUNTIME, "rss_peak_kb": peak_rss_kb()}))


if __name__ == "__main__":
    main()
