"""Safetensors fixtures written from PyTorch tensors (see tests/io/test_safetensors.cpp).

The file format is simple enough to write here directly (u64 header length, JSON header, raw
little-endian data), so the check does not depend on the safetensors package."""
import json
import os
import struct

import torch

from make_fixtures import OUT, write_fixture
from cases_composition import composed_net

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32"}


def write_safetensors(name, tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for key, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[key] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                       "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)


def cases(layer_case):
    torch.manual_seed(0)
    net = composed_net()  # float32, as PyTorch models are shared
    write_safetensors("composed_net_state", net.state_dict(),
                      {"format": "pt", "source": "tests/reference/cases_safetensors.py"})
    x = torch.randn(2, 2, 8, 6)
    with torch.no_grad():
        write_fixture("composed_net_state", {"input": x, "output": net.double()(x.double())})
    values = torch.tensor([0.0, -1.5, 65504.0, 6.1e-05, 3.0e-07, 0.333251953125])
    write_safetensors("dtypes", {
        "f16": values.to(torch.float16),
        "bf16": values.to(torch.bfloat16),
        "f64": values.to(torch.float64),
        "i64": torch.tensor([0, -3, 7, 1 << 40, 5, 6], dtype=torch.int64),
        "i32": torch.tensor([0, -3, 7, 9, 5, 6], dtype=torch.int32),
        "exact16": values.to(torch.float16).float(),
        "exactbf16": values.to(torch.bfloat16).float(),
    })
