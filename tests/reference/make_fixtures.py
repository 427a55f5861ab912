#!/usr/bin/python3
"""Writes the PyTorch reference fixtures in tests/fixtures/ (float64, fixed seeds).

Run with Debian's interpreter, which has python3-torch:  /usr/bin/python3 tests/reference/make_fixtures.py
Rerunning gives the same files. Each cases_*.py beside this script contributes cases through
its cases(layer_case) function; tests/support/fixture.hpp reads the format written here.
"""
import glob
import importlib.util
import os
import struct
import sys

import torch

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


def layer_case(name, module, input_shape, training=True, seed=0, input_scale=1.0):
    """Runs `module` forward and backward in float64 on a seeded random input and writes what
    check_against_torch needs: input, output, gradients, parameters before and statistics after."""
    torch.manual_seed(seed)
    module = module.double()
    module.train(training)
    params = {k: v.detach().clone() for k, v in module.state_dict().items()}
    x = (torch.randn(*input_shape) * input_scale).requires_grad_(True)
    y = module(x)
    grad_output = torch.randn_like(y)
    y.backward(grad_output)
    tensors = {
        "input": x,
        "output": y,
        "grad_output": grad_output,
        "grad_input": x.grad,
        "training": torch.tensor(1.0 if training else 0.0),
    }
    for k, v in params.items():
        tensors["param." + k] = v
    for k, v in module.named_parameters():
        tensors["grad." + k] = v.grad
    for k, v in module.named_buffers():
        tensors["after." + k] = v
    write_fixture(name, tensors)


def main():
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.cases(layer_case)
    print("fixtures written to %s (torch %s)" % (OUT, torch.__version__), file=sys.stderr)


if __name__ == "__main__":
    main()
