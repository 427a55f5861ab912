#!/usr/bin/python3
"""PyTorch twins of the seed models in include/chroma/models/ and their fixtures
(tests/fixtures/model_*.bin), read by tests/models/*.cpp.

Run with Debian's interpreter, which has python3-torch:  /usr/bin/python3 tests/reference/model_fixtures.py

No weight files are written: every parameter and BatchNorm statistic is filled on both sides by
the formula of fill_formula() (tests/models/formula_weights.hpp is its C++ twin), so a fixture
holds only an input, the outputs, and for ECCV16 the official state_dict's names and shapes.
Outputs are computed in float64.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_fixture  # noqa: E402


# ---------------------------------------------------------------------------------------------
# The shared formula
# ---------------------------------------------------------------------------------------------

def formula_tensor(name, shape, k):
    """Tensor k (in sorted-name order) of a state_dict: t = sin(0.7 i + 1.3 k) over flat index i,
    scaled by the tensor's kind so that activations keep their size through deep nets."""
    count = math.prod(shape)
    i = torch.arange(count, dtype=torch.float64)
    t = torch.sin(0.7 * i + 1.3 * k)
    if name.endswith("running_var"):
        v = 1.0 + 0.5 * t * t
    elif name.endswith("running_mean"):
        v = 0.1 * t
    elif name.endswith("bias"):
        v = 0.1 * t
    elif len(shape) == 1:  # a BatchNorm scale
        v = 1.0 + 0.2 * t
    else:  # a conv weight: amplitude 1 / sqrt(fan_in) keeps activations near their size
        fan = shape[1] * shape[2] * shape[3]
        v = 1.0 / math.sqrt(fan) * t
    return v.reshape(shape)


def fill_formula(module):
    state = module.state_dict()
    names = sorted(n for n in state if not n.endswith("num_batches_tracked"))
    with torch.no_grad():
        for k, name in enumerate(names):
            state[name].copy_(formula_tensor(name, tuple(state[name].shape), k))
    return module


def test_input(shape, offset=0.0, scale=1.0):
    """A smooth deterministic input: offset + scale * sin(0.37 i) cos(0.11 i)."""
    i = torch.arange(math.prod(shape), dtype=torch.float64)
    return (offset + scale * torch.sin(0.37 * i) * torch.cos(0.11 * i)).reshape(shape)


# ---------------------------------------------------------------------------------------------
# Seed 000: ColorNet (after pranavavva/image-colorizer model3raw.py and model4.py)
# ---------------------------------------------------------------------------------------------

def conv_block(widths, last_stride=1, batch_norm=True, dilation=1):
    layers = []
    for j, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        stride = last_stride if j == len(widths) - 2 else 1
        layers += [nn.Conv2d(a, b, 3, stride=stride, padding=dilation, dilation=dilation), nn.ReLU()]
    if batch_norm:
        layers.append(nn.BatchNorm2d(widths[-1]))
    return layers


class ColorNetAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.model1 = nn.Sequential(*conv_block([1, 64, 64]))
        self.model2 = nn.Sequential(*conv_block([64, 128, 128]))
        self.model3 = nn.Sequential(*conv_block([128, 256, 256, 256]))
        self.model4 = nn.Sequential(*conv_block([256, 512, 512, 512]))
        self.model5 = nn.Sequential(*conv_block([512, 512, 512, 512]))
        self.model6 = nn.Sequential(*conv_block([512, 512, 512, 512]))
        self.model7 = nn.Sequential(*conv_block([512, 512, 512, 512]))
        self.model8 = nn.Sequential(*conv_block([512, 256, 256]))
        self.model9 = nn.Sequential(*conv_block([256, 128]))
        self.model10 = nn.Sequential(nn.Conv2d(128, 128, 3, padding=1), nn.LeakyReLU(0.2))
        self.model_out = nn.Sequential(nn.Conv2d(128, 2, 1), nn.Tanh())

    def forward(self, x):
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")
        x = self.model1(x)
        x = self.model2(x[:, :, ::2, ::2])
        x = self.model3(x[:, :, ::2, ::2])
        x = self.model4(x[:, :, ::2, ::2])
        x = self.model7(self.model6(self.model5(x)))
        x = self.model10(up(self.model9(up(self.model8(up(x))))))
        return self.model_out(x)


class ColorNetUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.model1 = nn.Sequential(*conv_block([1, 64, 64]))
        self.model2 = nn.Sequential(*conv_block([64, 128, 128], last_stride=2))
        self.model3 = nn.Sequential(*conv_block([128, 256, 256, 256], last_stride=2))
        self.model4 = nn.Sequential(*conv_block([256, 512, 512, 512], last_stride=2))
        self.model5 = nn.Sequential(*conv_block([512, 512, 512, 512]))
        self.model6 = nn.Sequential(*conv_block([512, 512, 512, 512]))
        self.model7 = nn.Sequential(*conv_block([512, 512, 512, 512]))
        self.model8 = nn.Sequential(nn.Upsample(scale_factor=2), *conv_block([512, 256, 256]))
        self.model9 = nn.Sequential(nn.Upsample(scale_factor=2), *conv_block([256, 128]))
        self.model10 = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(128, 64, 3, padding=1), nn.LeakyReLU(0.2))
        self.skip3_8 = nn.Sequential(nn.Conv2d(256, 256, 1), nn.BatchNorm2d(256))
        self.skip2_9 = nn.Sequential(nn.Conv2d(128, 128, 1), nn.BatchNorm2d(128))
        self.skip1_10 = nn.Sequential(nn.Conv2d(64, 64, 1), nn.BatchNorm2d(64))
        self.model_out = nn.Sequential(nn.Conv2d(64, 2, 1), nn.Tanh())

    def forward(self, x):
        out1 = self.model1(x)
        out2 = self.model2(out1)
        out3 = self.model3(out2)
        out7 = self.model7(self.model6(self.model5(self.model4(out3))))
        out8 = F.relu(self.model8(out7) + self.skip3_8(out3))
        out9 = F.relu(self.model9(out8) + self.skip2_9(out2))
        out10 = F.relu(self.model10(out9) + self.skip1_10(out1))
        return self.model_out(out10)


# ---------------------------------------------------------------------------------------------
# Seed 001: ECCV16, the structure of richzhang/colorization colorizers/eccv16.py
# ---------------------------------------------------------------------------------------------

def zhang_bin_centres():
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include", "chroma", "color",
                          "zhang_bins.hpp")
    text = open(header).read()
    body = text[text.index("zhang_bin_centres{{") + len("zhang_bin_centres{{"):]
    body = body[:body.index("}};")]
    pairs = [p.strip(" {},\n") for p in body.split("}")]
    centres = [tuple(int(v) for v in p.split(",")) for p in pairs if p]
    assert len(centres) == 313
    return torch.tensor(centres, dtype=torch.float64)


class Eccv16(nn.Module):
    def __init__(self, caffe=False):
        super().__init__()
        self.caffe = caffe
        self.model1 = nn.Sequential(*conv_block([1, 64, 64], last_stride=2))
        self.model2 = nn.Sequential(*conv_block([64, 128, 128], last_stride=2))
        self.model3 = nn.Sequential(*conv_block([128, 256, 256, 256], last_stride=2))
        self.model4 = nn.Sequential(*conv_block([256, 512, 512, 512]))
        self.model5 = nn.Sequential(*conv_block([512, 512, 512, 512], dilation=2))
        self.model6 = nn.Sequential(*conv_block([512, 512, 512, 512], dilation=2))
        self.model7 = nn.Sequential(*conv_block([512, 512, 512, 512]))
        self.model8 = nn.Sequential(nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1), nn.ReLU(),
                                    *conv_block([256, 256, 256], batch_norm=False), nn.Conv2d(256, 313, 1))
        self.softmax = nn.Softmax(dim=1)
        self.model_out = nn.Conv2d(313, 2, 1, bias=False)
        self.upsample4 = nn.Upsample(scale_factor=4, mode="bilinear")

    def logits(self, input_l):
        x = (input_l - 50.0) / 100.0
        for block in (self.model1, self.model2, self.model3, self.model4, self.model5, self.model6,
                      self.model7, self.model8):
            x = block(x)
        return x

    def head(self, logits):
        if self.caffe:
            logits = logits * 2.606
        return self.upsample4(self.model_out(self.softmax(logits))) * 110.0

    def forward(self, input_l):
        return self.head(self.logits(input_l))


# ---------------------------------------------------------------------------------------------
# Seed 003: the light classifier (widths as read in light_classifier.hpp)
# ---------------------------------------------------------------------------------------------

def up_block(a, b, convs=1):
    layers = [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1), nn.ReLU()]
    for _ in range(convs):
        layers += [nn.Conv2d(b, b, 3, padding=1), nn.ReLU()]
    return layers + [nn.BatchNorm2d(b)]


class LightClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.model1 = nn.Sequential(*conv_block([1, 32, 32], last_stride=2))
        self.model2 = nn.Sequential(*conv_block([32, 64, 64], last_stride=2))
        self.model3 = nn.Sequential(*conv_block([64, 128, 128, 128], last_stride=2))
        self.model4 = nn.Sequential(*conv_block([128, 256, 256, 256]))
        self.model5 = nn.Sequential(*conv_block([256, 256, 256, 256], dilation=2))
        self.model6 = nn.Sequential(*conv_block([256, 256, 256, 256]))
        self.model7 = nn.Sequential(*up_block(256, 128, convs=2))
        self.model8 = nn.Sequential(*up_block(128, 64))
        self.model9 = nn.Sequential(*up_block(64, 64))
        self.model_out = nn.Conv2d(64, 313, 1)

    def forward(self, x):
        for i in range(1, 10):
            x = getattr(self, "model%d" % i)(x)
        return self.model_out(x)


# ---------------------------------------------------------------------------------------------
# Seed 002: ResNet-18 encoder (torchvision's names) + Melas-Kyriazi's decoder
# ---------------------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, written out (torchvision is not installed here)."""

    def __init__(self, a, b, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(a, b, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(b)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(b, b, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(b)
        self.downsample = None
        if stride != 1 or a != b:
            self.downsample = nn.Sequential(nn.Conv2d(a, b, 1, stride=stride, bias=False), nn.BatchNorm2d(b))

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNetAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        # list(resnet18().children())[:6], with conv1 on one input channel
        self.midlevel_resnet = nn.Sequential(
            nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
            nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64)),
            nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128)))
        self.upsample = nn.Sequential(
            nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(64, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 2, 3, padding=1), nn.Upsample(scale_factor=2))

    def forward(self, x):
        return self.upsample(self.midlevel_resnet(x))


# ---------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# SIGGRAPH17 user-guided colourisation: the structure of richzhang/colorization
# colorizers/siggraph17.py (its generator's forward; model_class, which the forward never uses,
# is left out so the sorted names, and so the formula's k, match Chroma's)
# ---------------------------------------------------------------------------------------------

def relu_blocks(widths, dilation=1, open_with_relu=False, batch_norm=True):
    layers = [nn.ReLU()] if open_with_relu else []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Conv2d(a, b, 3, padding=dilation, dilation=dilation), nn.ReLU()]
    if batch_norm:
        layers.append(nn.BatchNorm2d(widths[-1]))
    return nn.Sequential(*layers)


class Siggraph17(nn.Module):
    def __init__(self):
        super().__init__()
        self.model1 = relu_blocks([4, 64, 64])
        self.model2 = relu_blocks([64, 128, 128])
        self.model3 = relu_blocks([128, 256, 256, 256])
        self.model4 = relu_blocks([256, 512, 512, 512])
        self.model5 = relu_blocks([512, 512, 512, 512], dilation=2)
        self.model6 = relu_blocks([512, 512, 512, 512], dilation=2)
        self.model7 = relu_blocks([512, 512, 512, 512])
        self.model8up = nn.Sequential(nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1))
        self.model3short8 = nn.Sequential(nn.Conv2d(256, 256, 3, padding=1))
        self.model8 = relu_blocks([256, 256, 256], open_with_relu=True)
        self.model9up = nn.Sequential(nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1))
        self.model2short9 = nn.Sequential(nn.Conv2d(128, 128, 3, padding=1))
        self.model9 = relu_blocks([128, 128], open_with_relu=True)
        self.model10up = nn.Sequential(nn.ConvTranspose2d(128, 128, 4, stride=2, padding=1))
        self.model1short10 = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1))
        self.model10 = nn.Sequential(nn.ReLU(), nn.Conv2d(128, 128, 3, padding=1), nn.LeakyReLU(0.2))
        self.model_out = nn.Sequential(nn.Conv2d(128, 2, 1), nn.Tanh())

    def forward(self, x):
        conv1_2 = self.model1(x)
        conv2_2 = self.model2(conv1_2[:, :, ::2, ::2])
        conv3_3 = self.model3(conv2_2[:, :, ::2, ::2])
        conv7_3 = self.model7(self.model6(self.model5(self.model4(conv3_3[:, :, ::2, ::2]))))
        conv8_3 = self.model8(self.model8up(conv7_3) + self.model3short8(conv3_3))
        conv9_3 = self.model9(self.model9up(conv8_3) + self.model2short9(conv2_2))
        conv10_2 = self.model10(self.model10up(conv9_3) + self.model1short10(conv1_2))
        return self.model_out(conv10_2)


def outputs(module, x, training_too=True, warmup=0):
    """Eval-mode output, and a training-mode output (batch statistics) for BatchNorm nets.
    `warmup` training forwards first move the running statistics toward the batch's: without
    them a deep residual net in evaluation mode grows its activations a thousandfold and float
    rounding, not the code, decides the comparison."""
    module = fill_formula(module.double())
    tensors = {"input": x, "warmup": torch.tensor(float(warmup))}
    with torch.no_grad():
        module.train()
        for _ in range(warmup):
            module(x)
        module.eval()
        tensors["output"] = module(x)
        if training_too:
            module.train()
            tensors["output_train"] = module(x)
    y = tensors["output"]
    print("  output %s: mean |y| %.4g, max |y| %.4g, std %.4g" % (tuple(y.shape), y.abs().mean(), y.abs().max(),
                                                                y.std()), file=sys.stderr)
    return module, tensors


def main():
    torch.set_num_threads(2)
    torch.set_default_dtype(torch.float64)

    print("model_colornet", file=sys.stderr)
    _, tensors = outputs(ColorNetAutoencoder(), test_input((2, 1, 32, 48), 0.0, 0.5))
    unet, unet_tensors = outputs(ColorNetUNet(), test_input((2, 1, 32, 48), 0.0, 0.5))
    tensors.update({"unet_" + k: v for k, v in unet_tensors.items()})
    tensors["count.autoencoder"] = torch.tensor(float(sum(p.numel() for p in ColorNetAutoencoder().parameters())))
    tensors["count.unet"] = torch.tensor(float(sum(p.numel() for p in unet.parameters())))
    write_fixture("model_colornet", tensors)

    print("model_eccv16", file=sys.stderr)
    x = test_input((2, 1, 32, 24), 50.0, 45.0)  # L in [5, 95]
    eccv, tensors = outputs(Eccv16(), x, training_too=False)
    with torch.no_grad():
        eccv.caffe = True
        tensors["output_caffe"] = eccv(x)
        tensors["logits"] = eccv.logits(x)
    for name, value in eccv.state_dict().items():
        tensors["shape." + name] = torch.tensor([float(d) for d in value.shape])
    write_fixture("model_eccv16", tensors)

    print("model_siggraph17", file=sys.stderr)
    # (L - 50) / 100, hint ab / 110 and a hint mask of a few points, as the generator sees them.
    x = test_input((2, 4, 16, 24), 0.0, 0.5)
    x[:, 3] = 0.0
    x[:, 3, 5, 7] = 1.0
    x[1, 3, 12, 3] = 1.0
    sig, tensors = outputs(Siggraph17(), x)
    state = dict(sig.state_dict())
    state["model_class.0.weight"] = torch.zeros(529, 256, 1, 1)  # in the released state_dict only
    state["model_class.0.bias"] = torch.zeros(529)
    for name, value in state.items():
        tensors["shape." + name] = torch.tensor([float(d) for d in value.shape])
    tensors["count"] = torch.tensor(float(sum(p.numel() for p in sig.parameters())))
    write_fixture("model_siggraph17", tensors)

    print("model_light", file=sys.stderr)
    _, tensors = outputs(LightClassifier(), test_input((1, 1, 16, 16), 0.0, 0.5), training_too=False)
    write_fixture("model_light", tensors)

    print("model_resnet", file=sys.stderr)
    _, tensors = outputs(ResNetAutoencoder(), test_input((2, 1, 64, 48), 0.0, 0.5), warmup=20)
    write_fixture("model_resnet", tensors)


if __name__ == "__main__":
    main()
