#!/usr/bin/python3
"""Every CPU benchmark against PyTorch in one run; writes benchmarks/RESULTS.md.

    /usr/bin/python3 benchmarks/run_all.py [--threads 2] [--rounds 3] [--output benchmarks/RESULTS.md]

It builds build-bench (Release, -O3 -march=native for the benchmark programs) and then, for
--rounds rounds, alternating which library goes first:
  - the machine's fp32 peaks: FMA in registers (model_bench fma_peak), GEMM 2048^3 with Eigen
    (model_bench gemm), OpenBLAS (numpy's float32 matmul, when numpy's BLAS is OpenBLAS) and
    torch.mm;
  - the convolution shapes of conv_bench (compare_pytorch.py), forward and forward+backward;
  - the model workloads of model_bench beside their twins in torch_workloads.py, each library in
    a process of its own so that its peak resident memory is its own.
Every figure is the median of the rounds (each round's value is itself the median of a run's
timed iterations), with the minimum and maximum over the rounds. PyTorch runs as it comes (glibc's
default malloc) unless --torch-malloc keep.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import compare_pytorch as conv  # noqa: E402

REPO = HERE.parent
BUILD = REPO / "build-bench"
TORCH_WORKLOADS = HERE / "torch_workloads.py"

MODEL_WORKLOADS = [
    # name, label, min iterations, min seconds
    ("unet_train", "ColorNet U-Net training step, 64x64, batch 16", 3, 2.0),
    ("light64_train", "light 64x64 classifier training step, batch 32", 3, 2.0),
    ("photo_unet_train", "PhotoUNet training step, 64x64, batch 16", 3, 2.0),
    ("eccv16_b1", "ECCV16 inference, 256x256, batch 1 (latency)", 5, 2.0),
    ("eccv16_b8", "ECCV16 inference, 256x256, batch 8 (throughput)", 2, 1.0),
]


def build() -> None:
    if not (BUILD / "CMakeCache.txt").exists():
        subprocess.run(["cmake", "-S", str(REPO), "-B", str(BUILD), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                        "-DCHROMA_BUILD_BENCHMARKS=ON", "-DCHROMA_BUILD_TESTS=OFF", "-DCHROMA_BUILD_EXAMPLES=OFF",
                        "-DCHROMA_CUDA=OFF"], check=True)
    subprocess.run(["cmake", "--build", str(BUILD), "--target", "conv_bench", "model_bench"], check=True)


def run_json(command: list[str], env: dict[str, str]) -> dict:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def per_second(record: dict) -> float:
    """Work per second (images/s or FLOP/s) from the median iteration time."""
    return record["work"] / statistics.median(record["times"])


def numpy_blas_gemm() -> list[str]:
    """A command timing numpy's float32 2048^3 matmul and naming the BLAS libraries numpy loaded."""
    code = f"""
import json, time, numpy as np
a = np.random.rand(2048, 2048).astype(np.float32); b = np.random.rand(2048, 2048).astype(np.float32)
for _ in range(2): a @ b
times = []
while sum(times) < 2.0 or len(times) < 5:
    t = time.perf_counter(); a @ b; times.append(time.perf_counter() - t)
import os; blas = [os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if 'blas' in l.split()[-1].lower()]
print(json.dumps({{"work": 2.0 * 2048 ** 3, "times": times, "blas": sorted(set(blas))}}))
"""
    return [sys.executable, "-c", code]


def summary(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    v = [x * scale for x in values]
    return f"{statistics.median(v):.{digits}f} ({min(v):.{digits}f}-{max(v):.{digits}f})"


def machine_lines(threads: int, torch) -> list[str]:
    eigen = "?"
    try:
        text = Path("/usr/include/eigen3/Eigen/src/Core/util/Macros.h").read_text()
        version = [line.split()[-1] for line in text.splitlines()
                   if line.startswith(("#define EIGEN_WORLD_VERSION", "#define EIGEN_MAJOR_VERSION",
                                       "#define EIGEN_MINOR_VERSION"))]
        eigen = ".".join(version)
    except OSError:
        pass
    compiler = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    flags = Path("/proc/cpuinfo").read_text()
    simd = "AVX-512" if " avx512f" in flags else ("AVX2" if " avx2" in flags else "SSE")
    return [
        f"- CPU: {conv.cpu_model()}, {os.cpu_count()} logical CPUs, {simd}; {threads} threads for every library",
        f"- OS: {platform.platform()}; compiler: {compiler} (benchmarks at -O3 -march=native)",
        f"- Chroma's CPU backend: its own packed GEMM kernels ({chroma_kernels()}; Eigen {eigen} for the rest), "
        f"OpenMP; PyTorch {torch.__version__} "
        f"(oneDNN for its convolutions; BLAS: {torch_blas()})",
    ]


def chroma_kernels() -> str:
    wanted = os.environ.get("CHROMA_CPU_KERNELS")
    flags = Path("/proc/cpuinfo").read_text()
    best = "AVX-512" if " avx512f" in flags else ("AVX2" if " avx2" in flags and " fma" in flags else "none: Eigen")
    return f"{best}, capped by CHROMA_CPU_KERNELS={wanted}" if wanted else best


def torch_blas() -> str:
    maps = Path("/proc/self/maps").read_text().splitlines()
    libraries = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})
    return ", ".join(Path(p).resolve().as_posix() for p in libraries) or "none loaded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conv-min-time", type=float, default=0.5)
    parser.add_argument("--only", choices=["peaks", "convs", "models"], action="append",
                        help="run only these parts (repeatable); default all")
    parser.add_argument("--torch-malloc", choices=["default", "keep"], default="default",
                        help="default: PyTorch as it comes; keep: freed memory kept in its processes")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    parts = set(args.only or ["peaks", "convs", "models"])

    if args.torch_malloc == "keep" and not os.environ.get(conv.REEXEC_MARKER):
        env = dict(os.environ, **conv.KEEP_PAGES_ENV, **{conv.REEXEC_MARKER: "1"})
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    import torch

    torch.set_num_threads(args.threads)
    if not args.no_build:
        build()
    model_bench = str(BUILD / "benchmarks" / "model_bench")
    conv_bench = BUILD / "benchmarks" / "conv_bench"
    chroma_env = dict(conv.chroma_env(), OMP_NUM_THREADS=str(args.threads))
    torch_env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    threads = ["--threads", str(args.threads)]

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()[0]
    peaks: dict[str, list[float]] = {"fma": [], "chroma": [], "eigen": [], "openblas": [], "torch_mm": []}
    blas_seen: list[str] = []
    convs = {(s.name, p): {"chroma": [], "torch": []} for s in conv.SHAPES for p in conv.PASSES}
    cases = {s.name: conv.TorchCase(torch, s) for s in conv.SHAPES} if "convs" in parts else {}
    models = {name: {"chroma": [], "torch": []} for name, *_ in MODEL_WORKLOADS}
    flops = {}
    if "models" in parts:
        for name, *_ in MODEL_WORKLOADS:
            flops[name] = run_json([sys.executable, str(TORCH_WORKLOADS), name, "--flops"], torch_env)

    for round_index in range(args.rounds):
        forward_order = round_index % 2 == 0
        if "peaks" in parts:
            peaks["fma"].append(per_second(run_json([model_bench, "fma_peak", *threads, "--min-time", "1"], chroma_env)))
            gemm_commands = [("chroma", [model_bench, "chroma_gemm", *threads]),
                             ("eigen", [model_bench, "gemm", *threads]),
                             ("openblas", numpy_blas_gemm()),
                             ("torch_mm", [sys.executable, str(TORCH_WORKLOADS), "gemm", *threads])]
            for key, command in (gemm_commands if forward_order else gemm_commands[::-1]):
                record = run_json(command, chroma_env if key in ("chroma", "eigen") else torch_env)
                peaks[key].append(per_second(record))
                blas_seen = record.get("blas", blas_seen)
        if "convs" in parts:
            for shape in conv.SHAPES:
                for which in conv.PASSES:
                    cell = convs[(shape.name, which)]
                    for library in (["chroma", "torch"] if forward_order else ["torch", "chroma"]):
                        if library == "chroma":
                            cell[library].append(conv.chroma_gflops(conv_bench, shape, which, args.threads,
                                                                    args.conv_min_time))
                        else:
                            cell[library].append(conv.torch_gflops(cases[shape.name], shape, which, args.conv_min_time))
        if "models" in parts:
            for name, _, iterations, seconds in MODEL_WORKLOADS:
                options = [*threads, "--min-iterations", str(iterations), "--min-time", str(seconds)]
                for library in (["chroma", "torch"] if forward_order else ["torch", "chroma"]):
                    if library == "chroma":
                        record = run_json([model_bench, name, *options], chroma_env)
                    else:
                        record = run_json([sys.executable, str(TORCH_WORKLOADS), name, *options], torch_env)
                    models[name][library].append(record)
        print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    minutes = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() / 60
    load_after = os.getloadavg()[0]

    fma_peak = statistics.median(peaks["fma"]) if peaks["fma"] else None
    out = ["# Benchmark results", "",
           f"Written by `/usr/bin/python3 benchmarks/run_all.py --threads {args.threads} --rounds {args.rounds}` "
           f"on {started:%Y-%m-%d %H:%M} UTC; the run took {minutes:.1f} min; 1-minute load average "
           f"{load_before:.2f} before, {load_after:.2f} after. Figures are medians of the {args.rounds} alternating "
           "rounds with (min-max); each round's figure is the median of one run's timed iterations. "
           f"PyTorch ran with {'freed memory kept in the process' if args.torch_malloc == 'keep' else 'glibc default malloc'}.",
           "", *machine_lines(args.threads, torch), ""]

    if "peaks" in parts:
        out += ["## The machine's fp32 peaks", "", "| What | GFLOP/s | of the FMA peak |", "|---|---:|---:|"]
        names = {"fma": "FMA in registers (model_bench fma_peak)",
                 "chroma": "Chroma's packed GEMM 2048^3 (what its convolutions run on)",
                 "eigen": "Eigen GEMM 2048^3 (the portable fallback)",
                 "openblas": f"numpy matmul 2048^3 ({', '.join(Path(b).name for b in blas_seen) or 'its BLAS'})",
                 "torch_mm": "torch.mm 2048^3"}
        for key, label in names.items():
            if peaks[key]:
                fraction = statistics.median(peaks[key]) / fma_peak if fma_peak else float("nan")
                out.append(f"| {label} | {summary(peaks[key], 1e-9)} | {fraction:.0%} |")
        out.append("")

    if "convs" in parts:
        out += ["## Convolutions (conv_bench against torch.nn.Conv2d / ConvTranspose2d)", "",
                "| Shape | Pass | Chroma GFLOP/s | PyTorch GFLOP/s | Chroma/PyTorch | Chroma, of FMA peak |",
                "|---|---|---:|---:|---:|---:|"]
        for shape in conv.SHAPES:
            for which in conv.PASSES:
                cell = convs[(shape.name, which)]
                chroma_median = statistics.median(cell["chroma"])
                ratio = chroma_median / statistics.median(cell["torch"])
                fraction = f"{chroma_median * 1e9 / fma_peak:.0%}" if fma_peak else "-"
                out.append(f"| {shape.label} | {conv.PASS_LABEL[which]} | {summary(cell['chroma'])} | "
                           f"{summary(cell['torch'])} | {ratio:.2f} | {fraction} |")
        out.append("")

    if "models" in parts:
        out += ["## Models (model_bench against torch_workloads.py)", "",
                "Throughput in images/s (latency in ms for batch 1), model GFLOP/s from the convolutions' FLOPs "
                "(forward; a training step counts three times the forward), and each process's peak resident "
                "memory (VmHWM). PyTorch's includes about "
                f"{statistics.median(r['rss_runtime_kb'] for w in models.values() for r in w['torch']) / 1024:.0f} MB "
                "that importing torch alone takes.", "",
                "| Workload | Chroma | PyTorch | Chroma/PyTorch | Chroma GFLOP/s | PyTorch GFLOP/s | "
                "Chroma peak MB | PyTorch peak MB |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, label, *_ in MODEL_WORKLOADS:
            chroma_rate = [per_second(r) for r in models[name]["chroma"]]
            torch_rate = [per_second(r) for r in models[name]["torch"]]
            per_image = flops[name]["forward_flops"] / flops[name]["batch"] * (3 if name.endswith("_train") else 1)
            ratio = statistics.median(chroma_rate) / statistics.median(torch_rate)
            if name == "eccv16_b1":
                chroma_text = summary([1e3 / r for r in chroma_rate], digits=0) + " ms"
                torch_text = summary([1e3 / r for r in torch_rate], digits=0) + " ms"
            else:
                chroma_text = summary(chroma_rate, digits=2) + " img/s"
                torch_text = summary(torch_rate, digits=2) + " img/s"
            memory = {lib: statistics.median(r["rss_peak_kb"] for r in models[name][lib]) / 1024
                      for lib in ("chroma", "torch")}
            out.append(f"| {label} | {chroma_text} | {torch_text} | {ratio:.2f} | "
                       f"{statistics.median(chroma_rate) * per_image / 1e9:.0f} | "
                       f"{statistics.median(torch_rate) * per_image / 1e9:.0f} | "
                       f"{memory['chroma']:.0f} | {memory['torch']:.0f} |")
        out.append("")
        out.append("Chroma/PyTorch is throughput over throughput (for the latency row: PyTorch's time over Chroma's), "
                   "so above 1 means Chroma is faster.")
        out.append("")

    text = "\n".join(out)
    print(text)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
