#!/usr/bin/python3
"""Fixtures for importing a torchvision resnet18 state_dict (tests/models/test_pretrained_resnet.cpp).

Run with Debian's interpreter:  /usr/bin/python3 tests/reference/pretrained_fixtures.py
torchvision is not installed here, so its resnet18 is written out under its own module names
(model_fixtures.BasicBlock). Random weights and BatchNorm statistics (seeded), stored as F16 to keep
the files small; the reference is computed from exactly the stored values.

Writes:
  resnet18_torchvision.safetensors       conv1 .. layer2 as torchvision names them, with
                                         num_batches_tracked (I64), plus two tensors of layers the
                                         encoder does not use (layer3, fc), which must be ignored
  resnet18_torchvision_old.safetensors   the same without num_batches_tracked (torchvision's
                                         original resnet18 file and state_dicts before PyTorch 0.4.1)
  pretrained_resnet.bin                  input L, and the encoder's output in evaluation mode for
                                         the inputs (L - 50) / 100 and L / 100
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases_safetensors import write_safetensors  # noqa: E402
from make_fixtures import write_fixture  # noqa: E402
from model_fixtures import BasicBlock  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)


class ResNet18Prefix(nn.Module):
    """torchvision.models.resnet18 up to layer2 (its first six children), RGB in."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128))

    def forward_grey(self, lightness, pad_grey):
        """The network on a grey photo (R = G = B = L / 100, normalised as torchvision does).
        Chroma's model pads its own normalised input with 0, which is grey `pad_grey` here, so
        the photo is padded with that grey before normalising and conv1 runs unpadded."""
        grey = F.pad(lightness / 100.0, (3, 3, 3, 3), value=pad_grey)
        x = (grey.repeat(1, 3, 1, 1) - MEAN) / STD
        x = F.conv2d(x, self.conv1.weight, stride=2)
        x = self.maxpool(self.relu(self.bn1(x)))
        return self.layer2(self.layer1(x))


def main():
    torch.manual_seed(2024)
    torch.set_default_dtype(torch.float64)
    net = ResNet18Prefix()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(1234)
        # Round to what the file stores, so that the reference uses the stored values exactly.
        for value in net.state_dict().values():
            if value.is_floating_point():
                value.copy_(value.half().double())
    net.eval()

    state = {k: (v.half() if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    extra = {"layer3.0.bn1.running_mean": torch.zeros(256).half(), "fc.bias": torch.zeros(1000).half()}
    write_safetensors("resnet18_torchvision", {**state, **extra}, {"format": "pt"})
    old = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    write_safetensors("resnet18_torchvision_old", old, {"format": "pt"})

    i = torch.arange(2 * 48 * 64, dtype=torch.float64)
    lightness = (50.0 + 45.0 * torch.sin(0.37 * i) * torch.cos(0.011 * i)).reshape(2, 1, 48, 64)
    with torch.no_grad():
        centred = net.forward_grey(lightness, 0.5)  # (L - 50) / 100 = 0 is L = 50
        unit = net.forward_grey(lightness, 0.0)     # L / 100 = 0 is L = 0
    write_fixture("pretrained_resnet", {"lightness": lightness, "features_centred": centred, "features_unit": unit})
    print("pretrained_resnet fixtures written (torch %s)" % torch.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
