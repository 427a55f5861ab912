#!/usr/bin/python3
"""Writes the colour reference fixtures tests/fixtures/color_*.bin (float64, fixed seeds).

Run with Debian's interpreter, which has numpy and scikit-image:
    /usr/bin/python3 tests/reference/color_fixtures.py
Rerunning gives the same files. The format is make_fixtures.py's (read by tests/support/fixture.hpp);
the writer is repeated here so that this script needs numpy only, not torch.

References:
  - sRGB <-> CIELAB under D65: skimage.color.rgb2lab / lab2rgb, the conversion Zhang et al.'s
    reference code uses;
  - the ab cells of step 10 that the 16.7 million 8-bit sRGB colours reach, through rgb2lab;
  - decoding of distributions over Zhang's 313 bins and the rebalancing weights of their prior,
    written out in numpy from the formulas of the paper.
"""
import os
import struct
import sys
import warnings

import numpy as np
import skimage
from skimage.color import lab2rgb, rgb2lab

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures"))
ZHANG = os.path.join(OUT, "zhang")


def write_fixture(name, tensors):
    """Little-endian: b'CHROMAFX', u32 count, then per tensor u32 name length, name,
    u32 rank, i64 dims, f64 values."""
    path = os.path.join(OUT, name + ".bin")
    with open(path, "wb") as f:
        f.write(b"CHROMAFX")
        f.write(struct.pack("<I", len(tensors)))
        for key in sorted(tensors):
            t = np.ascontiguousarray(np.asarray(tensors[key], dtype="<f8"))
            encoded = key.encode()
            f.write(struct.pack("<I", len(encoded)))
            f.write(encoded)
            f.write(struct.pack("<I", t.ndim))
            f.write(struct.pack("<%dq" % t.ndim, *t.shape))
            f.write(t.tobytes())
    return path


def cube_corners_and_greys():
    """The eight corners of the RGB cube and a ramp of greys: the extremes a conversion must get right."""
    corners = np.array([[r, g, b] for r in (0, 1) for g in (0, 1) for b in (0, 1)], dtype=np.float64)
    greys = np.repeat(np.linspace(0, 1, 11)[:, None], 3, axis=1)
    return np.concatenate([corners, greys])


def srgb_to_lab(rng):
    rgb = np.concatenate([cube_corners_and_greys(), rng.random((2000, 3))])
    rgb8 = np.concatenate([[[0, 0, 0], [255, 255, 255], [1, 2, 3], [10, 11, 12]], rng.integers(0, 256, (500, 3))])
    write_fixture("color_srgb_to_lab", {
        "rgb": rgb,
        "lab": rgb2lab(rgb[None])[0],
        "rgb8": rgb8,
        "lab_of_rgb8": rgb2lab(rgb8.astype(np.uint8)[None])[0],
    })


def lab_to_srgb(rng):
    # Whole L*a*b* box, most of it outside the sRGB gamut, so clipping is exercised too.
    lab = np.stack([rng.uniform(0, 100, 2000), rng.uniform(-110, 110, 2000), rng.uniform(-110, 110, 2000)], axis=1)
    # And colours inside the gamut, reached from sRGB.
    inside = rgb2lab(rng.random((500, 3))[None])[0]
    lab = np.concatenate([lab, inside])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Z < 0" for the far corners of the box
        rgb = lab2rgb(lab[None])[0]
    write_fixture("color_lab_to_srgb", {"lab": lab, "rgb": rgb})


def gamut_cells(step=10):
    """Centres (a, b) of the ab cells of `step` reached by every 8-bit sRGB colour."""
    seen = set()
    values = np.arange(256, dtype=np.uint8)
    for r in values:
        g, b = np.meshgrid(values, values, indexing="ij")
        rgb = np.stack([np.full_like(g, r), g, b], axis=-1)
        ab = rgb2lab(rgb)[..., 1:].reshape(-1, 2)
        cells = np.floor(ab / step + 0.5).astype(np.int64)
        seen.update(map(tuple, np.unique(cells, axis=0)))
    centres = np.array(sorted(seen), dtype=np.float64) * step
    write_fixture("color_gamut_cells_step10", {"centres": centres})


def decoding(rng):
    bins = np.load(os.path.join(ZHANG, "pts_in_hull.npy")).astype(np.float64)
    count = 40
    logits = rng.normal(0, 3, (count, len(bins)))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p[rng.random(p.shape) < 0.3] = 0.0  # bins of probability zero
    p /= p.sum(axis=1, keepdims=True)

    def annealed(t):
        out = np.zeros((count, 2))
        for i in range(count):
            nz = p[i] > 0
            z = np.zeros(len(bins))
            z[nz] = np.exp(np.log(p[i, nz]) / t)
            z /= z.sum()
            out[i] = z @ bins
        return out

    def top_k(k):
        out = np.zeros((count, 2))
        for i in range(count):
            top = np.argsort(-p[i], kind="stable")[:k]
            w = p[i, top] / p[i, top].sum()
            out[i] = w @ bins[top]
        return out

    write_fixture("color_decoding", {
        "probabilities": p,
        "annealed_0.38": annealed(0.38),
        "mean": p @ bins,
        "mode": bins[np.argmax(p, axis=1)],
        "top_2": top_k(2),
        "top_5": top_k(5),
    })


def rebalancing():
    prior = np.load(os.path.join(ZHANG, "prior_probs.npy"))
    out = {}
    for lam in (0.5, 0.0, 1.0):
        w = 1.0 / ((1 - lam) * prior + lam / len(prior))
        out["weights_%g" % lam] = w / np.sum(prior * w)
    write_fixture("color_rebalancing", out)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2016)
    srgb_to_lab(rng)
    lab_to_srgb(rng)
    decoding(rng)
    rebalancing()
    gamut_cells()
    print("colour fixtures written to %s (scikit-image %s, numpy %s)" % (OUT, skimage.__version__, np.__version__),
          file=sys.stderr)


if __name__ == "__main__":
    main()
