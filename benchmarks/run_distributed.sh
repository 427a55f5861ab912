#!/usr/bin/env bash
# Data-parallel scaling on this machine: PhotoUNet's training step on a global batch of 16, on
# 1 rank of 1 thread, on 2 ranks of 1 thread each and on 1 rank of 2 threads (the usual way to
# use both cores), in alternating rounds; then the all-reduce
# latency and bandwidth on 2 ranks. Prints each run's JSON lines and the medians' summary.
#
#   benchmarks/run_distributed.sh [BUILD_DIR (default build-bench)] [ROUNDS (default 5)]
#
# Build first: cmake -B build-bench -DCHROMA_BUILD_BENCHMARKS=ON && cmake --build build-bench --target distributed_bench
set -euo pipefail
build=${1:-build-bench}
rounds=${2:-5}
bench=$build/benchmarks/distributed_bench
[[ -x $bench ]] || { echo "no $bench: build the distributed_bench target (needs CHROMA_MPI)" >&2; exit 1; }
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to core)
results=$(mktemp)
for ((round = 1; round <= rounds; ++round)); do
    "${mpi[@]}" -np 1 "$bench" step | tee -a "$results"
    "${mpi[@]}" -np 2 "$bench" step | tee -a "$results"
    OMP_NUM_THREADS=2 mpirun --oversubscribe --bind-to none -np 1 "$bench" step | tee -a "$results"
done
"${mpi[@]}" -np 2 "$bench" allreduce | tee -a "$results"
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
steps = {n: [r for r in rows if r["benchmark"] == "step" and r["ranks"] == n and r["threads_per_rank"] == 1]
         for n in (1, 2)}
threaded = [r for r in rows if r["benchmark"] == "step" and r["ranks"] == 1 and r["threads_per_rank"] == 2]
one = statistics.median(r["images_per_s"] for r in steps[1])
two = statistics.median(r["images_per_s"] for r in steps[2])
averaging = statistics.median(r["averaging_ms"] for r in steps[2])
step_ms = statistics.median(r["step_ms"] for r in steps[2])
print(f"\nPhotoUNet training step, global batch 16, medians of {len(steps[1])} rounds:")
print(f"  1 rank x 1 thread : {one:.2f} images/s, peak {steps[1][0]['peak_rss_kb_largest_rank'] / 1024:.0f} MB")
print(f"  2 ranks x 1 thread: {two:.2f} images/s, peak per rank {steps[2][0]['peak_rss_kb_largest_rank'] / 1024:.0f} MB; "
      f"gradient averaging {averaging:.2f} ms of a {step_ms:.1f} ms step, buffer "
      f"{steps[2][0]['averaging_buffer_kb'] / 1024:.1f} MB")
print(f"  1 rank x 2 threads: {statistics.median(r['images_per_s'] for r in threaded):.2f} images/s")
print(f"  speed-up of 2 ranks {two / one:.2f}x, scaling efficiency {two / one / 2:.0%}")
PY
rm -f "$results"
