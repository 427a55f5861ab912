#!/usr/bin/python3
"""Writes the fuzzers' seed corpora into fuzz/corpus/: small, valid examples of each format,
which libFuzzer then mutates. Run from the repository root with Debian's python3 (numpy and
PIL), after building the chroma program (its `pack` command writes the packed-dataset seed):

    /usr/bin/python3 fuzz/make_corpus.py [build/apps/chroma/chroma]
"""
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(kind, name, data):
    os.makedirs(os.path.join(ROOT, kind), exist_ok=True)
    with open(os.path.join(ROOT, kind, name), "wb") as f:
        f.write(data)


def image_bytes(array, fmt, **options):
    out = io.BytesIO()
    Image.fromarray(array).save(out, fmt, **options)
    return out.getvalue()


def images():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)
    write("image", "rgb.png", image_bytes(rgb, "PNG"))
    write("image", "rgba.png", image_bytes(np.dstack([rgb, rgb[:, :, :1]]), "PNG"))
    write("image", "grey16.png", image_bytes(rng.integers(0, 65536, (6, 5)).astype(np.uint16), "PNG"))
    write("image", "rgb.jpg", image_bytes(rgb, "JPEG", quality=80))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    write("image", "exif6.jpg", image_bytes(rgb, "JPEG", quality=80, exif=exif.tobytes()))
    write("image", "rgb.bmp", image_bytes(rgb, "BMP"))
    write("image", "rgb.tga", image_bytes(rgb, "TGA"))
    write("image", "palette.gif", image_bytes(rgb[:, :, 0], "GIF"))


def safetensors_bytes(tensors, metadata):
    header, blob = {}, b""
    for name, array in tensors.items():
        data = array.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blob


def safetensors():
    write("safetensors", "two_tensors.safetensors",
          safetensors_bytes({"0.weight": np.arange(24.0).reshape(2, 3, 2, 2), "0.bias": np.ones(2)}, {"format": "pt"}))
    with open(os.path.join(ROOT, "..", "..", "tests", "fixtures", "dtypes.safetensors"), "rb") as f:
        write("safetensors", "dtypes.safetensors", f.read())
    metadata = {"architecture": "photo-unet", "native_size": "72", "chroma_gain": "1.25",
                "decoding": "annealed:0.38,rebalance:0.5"}
    write("model_file", "photo_unet_metadata.safetensors", safetensors_bytes({"0.weight": np.zeros((32, 1, 3, 3))}, metadata))
    write("model_file", "classifier_metadata.safetensors",
          safetensors_bytes({"1.bias": np.zeros(128)}, dict(metadata, architecture="resnet-unet-classifier")))


def checkpoint_payload():
    def entry(kind, name, body):
        return struct.pack("<BI", kind, len(name)) + name.encode() + body
    payload = entry(2, "epoch", struct.pack("<q", 3))
    payload += entry(3, "learning_rate", struct.pack("<d", 1e-3))
    text = b"resnet-unet-classifier"
    payload += entry(4, "architecture", struct.pack("<Q", len(text)) + text)
    payload += entry(0, "model.0.weight", struct.pack("<Bqq", 2, 2, 3) + np.arange(6, dtype="<f4").tobytes())
    return 4, payload


def checkpoints():
    count, payload = checkpoint_payload()
    # Odd first byte: the harness frames the rest (count, then payload) with a valid header.
    write("checkpoint", "framed", b"\x01" + struct.pack("<I", count) + payload)
    whole = b"CHROMACK" + struct.pack("<IIQI", 1, count, len(payload), zlib.crc32(payload)) + payload
    write("checkpoint", "whole", b"\x00" + whole)


def json_texts():
    write("json", "header", json.dumps({"a": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]},
                                        "__metadata__": {"k": "v"}}).encode())
    write("json", "hints", b'{"hints": [{"x": 10, "y": 20, "rgb": [255, 0, 0], "radius": 3}], "e": -1.5e3}')
    write("json", "escapes", b'["\\u00e9\\n", true, false, null, 0.5]')


def packed(chroma):
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "tiny.pack")
        samples = os.path.join(ROOT, "..", "..", "samples")
        subprocess.run([chroma, "pack", samples, "-o", out, "--size", "8", "--fit", "crop"], check=True,
                       stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            write("packed", "five_8px.pack", f.read())


if __name__ == "__main__":
    images()
    safetensors()
    checkpoints()
    json_texts()
    packed(sys.argv[1] if len(sys.argv) > 1 else "build/apps/chroma/chroma")
