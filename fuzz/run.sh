#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) in build-fuzz and runs each for SECONDS
# (default 30) on a copy of its committed corpus, one after another. Prints each harness's
# executions and coverage; a crash, a sanitizer report or a timeout stops the script with the
# input saved under build-fuzz/crashes/ (commit it as a regression test, then fix).
# libFuzzer's random seed is FUZZ_SEED (default 1), so a run repeats every input of a shorter run
# with the same seed from a fresh build-fuzz/corpus: what CI runs for 30 s is a prefix of what a
# longer run here has already passed.
#   fuzz/run.sh [SECONDS] [HARNESS ...]      harnesses: image safetensors checkpoint json packed model_file
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-30}
shift || true
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(image safetensors checkpoint json packed model_file)
jobs=${CHROMA_CI_JOBS:-2}

if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
    cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DCHROMA_NATIVE=OFF \
        -DCHROMA_BUILD_FUZZERS=ON -DCHROMA_BUILD_TESTS=OFF -DCHROMA_BUILD_EXAMPLES=OFF -DCHROMA_BUILD_TOOLS=OFF \
        -DCHROMA_BUILD_BENCHMARKS=OFF -DCHROMA_CUDA=OFF >/dev/null
fi
cmake --build build-fuzz -j "$jobs" --target "${harnesses[@]/#/fuzz_}"

mkdir -p build-fuzz/crashes
printf '%-12s %12s %10s %8s %8s\n' harness executions "exec/s" cov ft
for h in "${harnesses[@]}"; do
    work=build-fuzz/corpus/$h
    mkdir -p "$work"
    log=build-fuzz/fuzz_$h.log
    if ! build-fuzz/fuzz/fuzz_$h -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -seed="${FUZZ_SEED:-1}" \
            -artifact_prefix="build-fuzz/crashes/$h-" "$work" "fuzz/corpus/$h" >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz_$h found a failure: the input is in build-fuzz/crashes/" >&2
        exit 1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
    printf '%-12s %12s %10s %8s %8s\n' "$h" "$runs" "$speed" "$cov" "$ft"
done
