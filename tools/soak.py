#!/usr/bin/python3
"""Soak test of `chroma colorize`: one run over a folder of mixed files, valid and broken, whose
outcome is known file by file. Checks that exactly the valid ones are colourised (each result
readable, at the input's upright size), exactly the broken ones are reported and skipped, and that
the run ends with status 1 (some failed), not with a crash or a sanitizer's report. Build chroma
with -fsanitize=address,undefined to make it a memory soak: leaks are reported at exit.

    /usr/bin/python3 tools/soak.py build-asan/apps/chroma/chroma [--files 2000] [--keep DIR]

Needs Debian's python3 (numpy, PIL). Prints the counts, the time and the slowest file kinds.
"""
import argparse
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np
from PIL import Image

MAX_PIXELS = 1_000_000  # passed to colorize, so a huge header is refused before decoding


def encoded(array, fmt, **options):
    out = io.BytesIO()
    Image.fromarray(array).save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_16bit_rgb(array16):
    """A 16-bit RGB PNG written by hand (PIL writes 16-bit grey only)."""
    h, w, _ = array16.shape
    rows = b"".join(b"\x00" + array16[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b"")


def huge_header_png(side):
    """A PNG whose header claims side x side pixels, with no pixel data behind it."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def exif_jpeg(rgb, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encoded(rgb, "JPEG", quality=85, exif=exif.tobytes())


# Each kind: (extension, valid, make(rng, width, height) -> bytes, upright size from (w, h)).
def kinds():
    same = lambda w, h: (w, h)
    turned = lambda w, h: (h, w)

    def rgb(rng, w, h):
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)

    return {
        "rgb_jpeg": (".jpg", True, lambda r, w, h: encoded(rgb(r, w, h), "JPEG", quality=85), same),
        "grey_jpeg": (".jpg", True, lambda r, w, h: encoded(rgb(r, w, h)[:, :, 0], "JPEG"), same),
        "progressive_jpeg": (".jpg", True, lambda r, w, h: encoded(rgb(r, w, h), "JPEG", progressive=True), same),
        "rotated_jpeg": (".jpg", True, lambda r, w, h: exif_jpeg(rgb(r, w, h), 6), turned),
        "mirrored_jpeg": (".jpg", True, lambda r, w, h: exif_jpeg(rgb(r, w, h), 2), same),
        "rgb_png": (".png", True, lambda r, w, h: encoded(rgb(r, w, h), "PNG"), same),
        "rgba_png": (".png", True, lambda r, w, h: encoded(np.dstack([rgb(r, w, h), rgb(r, w, h)[:, :, :1]]), "PNG"), same),
        "grey_alpha_png": (".png", True, lambda r, w, h: grey_alpha_png(rgb(r, w, h)), same),
        "grey16_png": (".png", True,
                       lambda r, w, h: encoded(r.integers(0, 65536, (h, w)).astype(np.uint16), "PNG"), same),
        "rgb16_png": (".png", True, lambda r, w, h: png_16bit_rgb(r.integers(0, 65536, (h, w, 3))), same),
        "bmp": (".bmp", True, lambda r, w, h: encoded(rgb(r, w, h), "BMP"), same),
        "gif": (".gif", True, lambda r, w, h: encoded(rgb(r, w, h)[:, :, 0], "GIF"), same),
        "tga": (".tga", True, lambda r, w, h: encoded(rgb(r, w, h), "TGA"), same),
        "empty": (".png", False, lambda r, w, h: b"", None),
        "truncated_jpeg": (".jpg", False,
                           lambda r, w, h: (lambda b: b[: len(b) // 2])(encoded(rgb(r, w, h), "JPEG")), None),
        "header_only_jpeg": (".jpg", False, lambda r, w, h: encoded(rgb(r, w, h), "JPEG")[:20], None),
        "truncated_png": (".png", False, lambda r, w, h: (lambda b: b[: len(b) // 2])(encoded(rgb(r, w, h), "PNG")), None),
        "huge_header_png": (".png", False, lambda r, w, h: huge_header_png(40000 + w), None),
        "text_as_png": (".png", False, lambda r, w, h: b"not an image, only text\n" * (w // 8 + 1), None),
        "random_bytes_jpeg": (".jpg", False, lambda r, w, h: bytes(r.integers(0, 256, w * h, dtype=np.uint8)), None),
    }


def grey_alpha_png(rgb):
    image = Image.merge("LA", [Image.fromarray(rgb[:, :, 0].copy()), Image.fromarray(rgb[:, :, 1].copy())])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_folder(folder, count, seed=1):
    """Writes `count` files cycling through the kinds; returns {name: (kind, valid, upright size)}."""
    rng = np.random.default_rng(seed)
    table = kinds()
    names = sorted(table)
    expected = {}
    for i in range(count):
        kind = names[i % len(names)]
        extension, valid, make, upright = table[kind]
        w, h = int(rng.integers(8, 65)), int(rng.integers(8, 65))
        name = f"{i:05d}_{kind}{extension}"
        with open(os.path.join(folder, name), "wb") as f:
            f.write(make(rng, w, h))
        expected[name] = (kind, valid, upright(w, h) if valid else None)
    return expected


def result_name(name):
    stem, extension = os.path.splitext(name)
    return stem + (".jpg" if extension == ".jpg" else ".png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chroma", help="the chroma program (an ASan build makes this a memory soak)")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--keep", help="write the files and results here and keep them")
    args = parser.parse_args()

    root = args.keep or tempfile.mkdtemp(prefix="chroma-soak-")
    inputs, outputs = os.path.join(root, "inputs"), os.path.join(root, "results")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(inputs)
    expected = make_folder(inputs, args.files)
    valid = {n for n, (_, ok, _) in expected.items() if ok}
    broken = set(expected) - valid

    env = dict(os.environ)
    # Sanitizer reports get their own exit statuses, so they cannot pass for "some photos failed" (1).
    env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=86:" + env.get("ASAN_OPTIONS", "")
    env["UBSAN_OPTIONS"] = "halt_on_error=1:exitcode=87:print_stacktrace=1:" + env.get("UBSAN_OPTIONS", "")
    started = time.monotonic()
    # The model sees each photo at 32 px: the soak is of reading and writing, not of the network.
    run = subprocess.run([args.chroma, "colorize", inputs, "-o", outputs, "--quiet", "--max-pixels", str(MAX_PIXELS),
                          "--size", "32"],
                         capture_output=True, text=True, env=env)
    seconds = time.monotonic() - started

    problems = []
    if run.returncode != 1:
        problems.append(f"exit status {run.returncode}, expected 1 (some photos failed)")
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        if marker in run.stderr:
            problems.append(f"sanitizer report ({marker}) in the output")
    summary = f"colourised {len(valid)} of {len(expected)} images"
    if summary not in run.stdout:
        problems.append(f"expected '{summary}' in the output")
    skipped = {os.path.basename(line.split("'")[1]) for line in run.stdout.splitlines()
               if line.startswith("  ") and "'" in line}
    if skipped != broken:
        problems.append(f"skipped files differ: {len(skipped - broken)} valid ones skipped "
                        f"(e.g. {sorted(skipped - broken)[:3]}), {len(broken - skipped)} broken ones not reported "
                        f"(e.g. {sorted(broken - skipped)[:3]})")
    results = set(os.listdir(outputs)) if os.path.isdir(outputs) else set()
    wanted = {result_name(n) for n in valid}
    if results != wanted:
        problems.append(f"results differ: {len(wanted - results)} missing, {len(results - wanted)} unexpected")
    for name in sorted(valid):
        path = os.path.join(outputs, result_name(name))
        if not os.path.exists(path):
            continue
        with Image.open(path) as image:
            if image.size != expected[name][2]:
                problems.append(f"{name}: result is {image.size}, the upright input {expected[name][2]}")

    print(f"soak: {len(expected)} files ({len(valid)} valid, {len(broken)} broken, {len(kinds())} kinds) "
          f"in {seconds:.1f} s; colourised {len(results)}, reported and skipped {len(skipped)}; "
          f"exit status {run.returncode}")
    if problems:
        print("soak FAILED:\n  " + "\n  ".join(problems[:20]))
        print(run.stderr[-4000:], file=sys.stderr)
        return 1
    print("soak passed: every valid file colourised at its upright size, every broken one reported, "
          "no sanitizer report")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
