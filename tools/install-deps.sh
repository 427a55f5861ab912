#!/usr/bin/env bash
# Installs, from the Debian archive, what a fresh Debian 12 machine lacks to build, test and
# benchmark Chroma. Idempotent: when every package is already installed it does nothing.
set -euo pipefail

packages=(
    build-essential cmake ninja-build meson pkg-config  # toolchain and build systems
    libeigen3-dev libstb-dev                            # library dependencies
    catch2 libbenchmark-dev                             # tests and benchmarks
    python3 python3-torch python3-numpy python3-skimage # reference fixtures and comparisons
    libopencv-dev                                       # the colour-conversion benchmark
    libopenblas0-pthread  # PyTorch's BLAS in the comparisons: Debian's reference libblas is ~40x slower
    clang libclang-rt-14-dev  # the libFuzzer harnesses in fuzz/
    libopenmpi-dev openmpi-bin  # data-parallel training (include/chroma/distributed/), tested on 2 ranks
)

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages are installed"
    exit 0
fi

as_root=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_options=(-qq -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" install -y \
    --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
