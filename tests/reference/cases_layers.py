"""BatchNorm2d, MaxPool2d, Upsample and Softmax fixtures (Dropout's mask cannot follow PyTorch's
generator; tests/nn/test_normalization.cpp checks its statistics instead)."""
import torch
import torch.nn as nn


def batch_norm(channels, seed, **options):
    """A BatchNorm2d whose scale, shift and running statistics are away from their initial
    values, so that every one of them shows in the output."""
    generator = torch.Generator().manual_seed(seed)
    module = nn.BatchNorm2d(channels, **options)
    with torch.no_grad():
        module.weight.copy_(torch.rand(channels, generator=generator) + 0.5)
        module.bias.copy_(torch.randn(channels, generator=generator))
        module.running_mean.copy_(torch.randn(channels, generator=generator))
        module.running_var.copy_(torch.rand(channels, generator=generator) + 0.5)
    return module


def cases(layer_case):
    layer_case("batch_norm2d_train", batch_norm(3, 1), (4, 3, 5, 6), training=True, input_scale=2.0)
    layer_case("batch_norm2d_eval", batch_norm(3, 2), (4, 3, 5, 6), training=False, input_scale=2.0)
    layer_case("batch_norm2d_momentum_eps", batch_norm(4, 3, momentum=0.3, eps=1e-3), (2, 4, 3, 5), training=True)

    layer_case("max_pool2d_2x2", nn.MaxPool2d(2), (2, 3, 7, 8))
    layer_case("max_pool2d_3x3_s2_p1", nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 8))

    for factor in (2, 4):
        for mode in ("nearest", "bilinear"):
            extra = {"align_corners": False} if mode == "bilinear" else {}
            layer_case("upsample_%s_x%d" % (mode, factor), nn.Upsample(scale_factor=factor, mode=mode, **extra),
                       (2, 3, 3, 5))

    layer_case("softmax_channels", nn.Softmax(dim=1), (2, 5, 3, 4), input_scale=3.0)
