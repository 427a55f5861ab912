#!/usr/bin/python3
"""Two models (or decodings) scored on the same photos, compared photo by photo.

    tools/compare_per_photo.py A.csv B.csv

A.csv and B.csv come from `chroma evaluate --per-photo` on the same photos. Prints A minus B:
the mean PSNR and CIEDE2000 differences and the difference of colourfulness ratios, each with
its 95% bootstrap interval over the photos, resampled in pairs (the same photo for both), which
is far narrower than either model's own interval because each photo's difficulty is shared.
Needs NumPy (Debian's python3-numpy).
"""
import csv
import sys

import numpy as np


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["file"] for r in rows], {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k != "file"}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    files_a, a = load(sys.argv[1])
    files_b, b = load(sys.argv[2])
    if files_a != files_b:
        sys.exit(f"{sys.argv[1]} and {sys.argv[2]} score different photos; evaluate both on the same --data and --split")
    n = len(files_a)
    rng = np.random.default_rng(20261206)
    resamples = rng.integers(0, n, size=(4000, n))

    def ratio(s, idx):
        return s["colourfulness"][idx].sum(axis=-1) / s["true_colourfulness"][idx].sum(axis=-1)

    figures = {
        "PSNR (dB)": a["psnr_db"] - b["psnr_db"],
        "CIEDE2000": a["ciede2000"] - b["ciede2000"],
    }
    print(f"A - B over {n} photos: mean, then 95% bootstrap interval (paired)")
    for name, d in figures.items():
        low, high = np.percentile(d[resamples].mean(axis=1), [2.5, 97.5])
        print(f"  {name:<28} {d.mean():+.3f}  ({low:+.3f} to {high:+.3f})")
    everything = np.arange(n)
    d = ratio(a, everything) - ratio(b, everything)
    low, high = np.percentile(ratio(a, resamples) - ratio(b, resamples), [2.5, 97.5])
    print(f"  {'colourfulness / truth':<28} {d:+.4f} ({low:+.4f} to {high:+.4f})")


if __name__ == "__main__":
    main()
