#!/usr/bin/python3
"""Writes tests/fixtures/transforms_resize.bin: resizing references for data/transforms.hpp
(float64, fixed seed).

Run with Debian's interpreter, which has python3-torch:
    /usr/bin/python3 tests/reference/transform_fixtures.py
Rerunning gives the same file. The format is make_fixtures.py's (read by tests/support/fixture.hpp).

References, for a random [1, 3, 5, 7] input (N, C, H, W):
  - bilinear.HxW: F.interpolate(mode='bilinear', align_corners=False, antialias=False), growing,
    shrinking and mixed;
  - area.HxW for integer factors: F.interpolate(mode='area') (adaptive average pooling, which is
    the exact area average only when the factor is an integer);
  - area.HxW for any factor: the exact area average computed independently of the formula in
    transforms.hpp, by repeating every input pixel (nearest, by the output size) and averaging
    blocks of the input size, which integrates the piecewise-constant image over each output cell.
"""
import os
import struct

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures"))


def write_fixture(name, tensors):
    """Little-endian: b'CHROMAFX', u32 count, then per tensor u32 name length, name,
    u32 rank, i64 dims, f64 values."""
    path = os.path.join(OUT, name + ".bin")
    with open(path, "wb") as f:
        f.write(b"CHROMAFX")
        f.write(struct.pack("<I", len(tensors)))
        for key in sorted(tensors):
            t = torch.as_tensor(tensors[key]).detach().to(torch.float64).contiguous()
            encoded = key.encode()
            f.write(struct.pack("<I", len(encoded)))
            f.write(encoded)
            f.write(struct.pack("<I", t.dim()))
            f.write(struct.pack("<%dq" % t.dim(), *t.shape))
            f.write(t.numpy().astype("<f8").tobytes())
    return path


def exact_area(x, height, width):
    """Area average by integration: each input pixel repeated out-size times, blocks of in-size averaged."""
    in_h, in_w = x.shape[-2:]
    fine = x.repeat_interleave(height, dim=-2).repeat_interleave(width, dim=-1)
    return F.avg_pool2d(fine, kernel_size=(in_h, in_w), stride=(in_h, in_w))


torch.manual_seed(0)
image = torch.rand(1, 3, 5, 7, dtype=torch.float64)
tensors = {"input": image}
for h, w in [(9, 11), (3, 4), (2, 3), (10, 3), (4, 6)]:
    tensors["bilinear.%dx%d" % (h, w)] = F.interpolate(image, size=(h, w), mode="bilinear", align_corners=False)
for h, w in [(3, 4), (2, 3), (4, 6), (1, 1)]:
    tensors["area.%dx%d" % (h, w)] = exact_area(image, h, w)
# Where the factor is an integer the exact area equals PyTorch's 'area' mode; check that the
# independent reference agrees with it before writing.
square = torch.rand(1, 2, 8, 6, dtype=torch.float64)
tensors["square_input"] = square
tensors["square_area.4x3"] = F.interpolate(square, size=(4, 3), mode="area")
assert torch.allclose(tensors["square_area.4x3"], exact_area(square, 4, 3))
print(write_fixture("transforms_resize", tensors))
