#!/usr/bin/python3
"""Chroma's convolutions side by side with PyTorch's, on the same shapes and thread count.

For every shape of conv_bench and both passes (forward; forward + backward with gradients of the
input, the weight and the bias), the script alternates a run of Chroma's benchmark binary with a
timing of the equivalent torch.nn.Conv2d / ConvTranspose2d in this process, several rounds, and
prints a Markdown table of the medians (with min and max) in GFLOP/s.

Run it with the Python that has torch (on Debian: /usr/bin/python3):

    /usr/bin/python3 benchmarks/compare_pytorch.py [--threads 2] [--output results.md] [BINARY]

Without BINARY it builds build-bench/benchmarks/conv_bench (Release, benchmarks on) first.

PyTorch allocates its outputs and gradients afresh on every call; large blocks come from mmap and
go back to the system when freed, so each call pays a page fault per 4 KiB, which on some
machines (virtual machines especially) costs more than the convolution. Chroma keeps its buffers
from one call to the next. To compare the kernels rather than the allocators, the script by
default runs itself under glibc settings that keep freed memory in the process
(MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_ large); --torch-malloc default measures PyTorch as
it comes.
FLOP counts are those of conv_bench: 2*N*Cout*Hout*Wout*Cin*K*K for a forward pass, three times
that for forward + backward, and for a transposed convolution those of its equivalent convolution.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BUILD_DIR = REPO / "build-bench"
DEFAULT_BINARY = DEFAULT_BUILD_DIR / "benchmarks" / "conv_bench"


@dataclass(frozen=True)
class ConvShape:
    name: str  # conv_bench's benchmark name, without the pass
    label: str  # what the table shows
    transposed: bool
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    batch: int
    height: int
    width: int

    def forward_flops(self) -> float:
        """2*N*Cout*Hout*Wout*Cin*K*K of the convolution (or of the equivalent convolution)."""
        if self.transposed:
            # The equivalent convolution maps this layer's output back to its input.
            conv_in, conv_out = self.out_channels, self.in_channels
            out_h, out_w = self.height, self.width
        else:
            conv_in, conv_out = self.in_channels, self.out_channels
            span = self.dilation * (self.kernel - 1) + 1
            out_h = (self.height + 2 * self.padding - span) // self.stride + 1
            out_w = (self.width + 2 * self.padding - span) // self.stride + 1
        return 2.0 * self.batch * conv_out * out_h * out_w * conv_in * self.kernel * self.kernel


SHAPES = [
    ConvShape("conv3x3_c32-32_64x64_n16", "Conv2d 3x3 32->32, 64x64, N=16, pad 1",
              False, 32, 32, 3, 1, 1, 1, 16, 64, 64),
    ConvShape("conv3x3_c64-64_64x64_n16", "Conv2d 3x3 64->64, 64x64, N=16, pad 1",
              False, 64, 64, 3, 1, 1, 1, 16, 64, 64),
    ConvShape("conv3x3_c256-256_16x16_n16", "Conv2d 3x3 256->256, 16x16, N=16, pad 1",
              False, 256, 256, 3, 1, 1, 1, 16, 16, 16),
    ConvShape("conv3x3_d2_c512-512_32x32_n1", "Conv2d 3x3 dil 2 512->512, 32x32, N=1, pad 2",
              False, 512, 512, 3, 1, 2, 2, 1, 32, 32),
    ConvShape("convT4x4_s2_c512-256_32x32_n1", "ConvTranspose2d 4x4 s2 p1 512->256, 32x32->64x64, N=1",
              True, 512, 256, 4, 2, 1, 1, 1, 32, 32),
    ConvShape("conv1x1_c256-313_64x64_n8", "Conv2d 1x1 256->313, 64x64, N=8",
              False, 256, 313, 1, 1, 0, 1, 8, 64, 64),
]
PASSES = ["forward", "forward_backward"]
PASS_LABEL = {"forward": "forward", "forward_backward": "forward+backward"}

# glibc malloc settings under which freed memory stays in the process (see the module docstring).
KEEP_PAGES_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}
REEXEC_MARKER = "CHROMA_COMPARE_KEEP_PAGES"


# ---------------------------------------------------------------------------------------------
# Chroma


def build_binary(build_dir: Path) -> Path:
    if not (build_dir / "CMakeCache.txt").exists():
        subprocess.run(["cmake", "-S", str(REPO), "-B", str(build_dir), "-G", "Ninja",
                        "-DCMAKE_BUILD_TYPE=Release", "-DCHROMA_BUILD_BENCHMARKS=ON",
                        "-DCHROMA_BUILD_TESTS=OFF", "-DCHROMA_BUILD_EXAMPLES=OFF"], check=True)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", "conv_bench"], check=True)
    return build_dir / "benchmarks" / "conv_bench"


def chroma_env() -> dict[str, str]:
    """The environment the script was started with (without the malloc settings it added)."""
    env = dict(os.environ)
    if env.pop(REEXEC_MARKER, None):
        for key in KEEP_PAGES_ENV:
            env.pop(key, None)
    return env


def check_names(binary: Path) -> None:
    listed = subprocess.run([str(binary), "--benchmark_list_tests=true"], check=True,
                            capture_output=True, text=True).stdout.split()
    for shape in SHAPES:
        for which in PASSES:
            if not any(name.startswith(f"{shape.name}/{which}/") for name in listed):
                sys.exit(f"{binary} has no benchmark {shape.name}/{which}; is it out of date?")


def chroma_gflops(binary: Path, shape: ConvShape, which: str, threads: int, min_time: float) -> float:
    command = [str(binary), f"--threads={threads}",
               f"--benchmark_filter=^{shape.name}/{which}/",  # names hold no regex metacharacters
               f"--benchmark_min_time={min_time}", "--benchmark_format=json"]
    result = subprocess.run(command, check=True, capture_output=True, text=True, env=chroma_env())
    if not result.stdout.strip():
        sys.exit(f"no output from {' '.join(command)}:\n{result.stdout}{result.stderr}")
    runs = [b for b in json.loads(result.stdout)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if len(runs) != 1:
        sys.exit(f"expected one result from {' '.join(command)}, got {len(runs)}")
    return runs[0]["flops"] / 1e9


# ---------------------------------------------------------------------------------------------
# PyTorch


class TorchCase:
    def __init__(self, torch, shape: ConvShape, seed: int = 0):
        torch.manual_seed(seed)
        module_type = torch.nn.ConvTranspose2d if shape.transposed else torch.nn.Conv2d
        self.torch = torch
        self.module = module_type(shape.in_channels, shape.out_channels, shape.kernel, stride=shape.stride,
                                  padding=shape.padding, dilation=shape.dilation, bias=True).float()
        self.x = torch.rand(shape.batch, shape.in_channels, shape.height, shape.width) * 2 - 1
        with torch.no_grad():
            out_shape = self.module(self.x).shape
        self.dy = torch.rand(out_shape) * 2 - 1
        self.x_grad = self.x.clone().requires_grad_(True)

    def forward(self) -> None:
        with self.torch.no_grad():
            self.module(self.x)

    def forward_backward(self) -> None:
        # Gradients of the input, the weight and the bias, as Chroma computes them. The parameter
        # gradients accumulate (as Chroma's do); the input gradient is fresh each time.
        self.x_grad.grad = None
        self.module(self.x_grad).backward(self.dy)


def torch_gflops(case: TorchCase, shape: ConvShape, which: str, min_time: float) -> float:
    step = getattr(case, which)
    step()  # warm-up, untimed
    step()
    iterations = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < min_time or iterations < 2:
        step()
        iterations += 1
        elapsed = time.perf_counter() - start
    flops = shape.forward_flops() * (1 if which == "forward" else 3)
    return flops * iterations / elapsed / 1e9


# ---------------------------------------------------------------------------------------------
# Report


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", nargs="?", type=Path,
                        help=f"conv_bench to run (default: build and run {DEFAULT_BINARY.relative_to(REPO)})")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("CHROMA_THREADS", "2")),
                        help="threads for both libraries (default: CHROMA_THREADS, else 2)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating Chroma/PyTorch rounds (default 7)")
    parser.add_argument("--min-time", type=float, default=0.5,
                        help="seconds each single measurement runs for at least (default 0.5)")
    parser.add_argument("--filter", default="", help="only shapes whose conv_bench name matches this regex")
    parser.add_argument("--no-build", action="store_true", help="do not build the default binary first")
    parser.add_argument("--torch-malloc", choices=["keep", "default"], default="keep",
                        help="keep: run PyTorch with freed memory kept in the process (default); "
                             "default: glibc's own settings")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    if args.threads < 1 or args.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")

    if args.torch_malloc == "keep" and not os.environ.get(REEXEC_MARKER):
        # glibc reads these when the process starts: start again with them set.
        if any(key in os.environ for key in KEEP_PAGES_ENV):
            sys.exit(f"--torch-malloc keep sets {', '.join(KEEP_PAGES_ENV)}; unset them or use --torch-malloc default")
        env = dict(os.environ, **KEEP_PAGES_ENV, **{REEXEC_MARKER: "1"})
        os.execve(sys.executable, [sys.executable, *sys.argv], env)

    try:
        import torch
    except ImportError:
        sys.exit(f"{sys.executable} cannot import torch; run this script with the Python that has it "
                 "(on Debian: /usr/bin/python3 with python3-torch)")

    binary = args.binary
    if binary is None:
        binary = DEFAULT_BINARY if args.no_build else build_binary(DEFAULT_BUILD_DIR)
    if not binary.exists():
        sys.exit(f"no conv_bench at {binary}")
    check_names(binary)

    torch.set_num_threads(args.threads)
    shapes = [s for s in SHAPES if re.search(args.filter, s.name)]
    cases = {s.name: TorchCase(torch, s) for s in shapes}
    results = {(s.name, p): {"chroma": [], "torch": []} for s in shapes for p in PASSES}

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()[0]
    for round_index in range(args.rounds):
        for shape in shapes:
            for which in PASSES:
                cell = results[(shape.name, which)]
                order = ["chroma", "torch"] if round_index % 2 == 0 else ["torch", "chroma"]
                for library in order:
                    if library == "chroma":
                        value = chroma_gflops(binary, shape, which, args.threads, args.min_time)
                    else:
                        value = torch_gflops(cases[shape.name], shape, which, args.min_time)
                    cell[library].append(value)
        print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    minutes = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() / 60
    load_after = os.getloadavg()[0]

    header = (f"{started:%Y-%m-%d %H:%M} UTC; {cpu_model()} ({os.cpu_count()} logical CPUs); "
              f"{args.threads} thread{'s' if args.threads != 1 else ''} for both; PyTorch {torch.__version__} "
              f"({'freed memory kept in the process' if args.torch_malloc == 'keep' else 'default glibc malloc'}); "
              f"median (min-max) of {args.rounds} alternating rounds of >= {args.min_time:g} s each; "
              f"run took {minutes:.1f} min; 1-minute load average {load_before:.2f} before, {load_after:.2f} after")
    lines = [header, "",
             "| Shape | Pass | Chroma GFLOP/s | PyTorch GFLOP/s | Chroma/PyTorch |",
             "|---|---|---:|---:|---:|"]
    for shape in shapes:
        for which in PASSES:
            cell = results[(shape.name, which)]
            ratio = statistics.median(cell["chroma"]) / statistics.median(cell["torch"])
            lines.append(f"| {shape.label} | {PASS_LABEL[which]} | {summary(cell['chroma'])} | "
                         f"{summary(cell['torch'])} | {ratio:.2f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.output:
        args.output.write_text(table)


if __name__ == "__main__":
    main()
