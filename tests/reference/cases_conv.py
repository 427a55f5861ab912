"""Conv2d and ConvTranspose2d fixtures: every hyper-parameter the layers take."""
import torch.nn as nn


def cases(layer_case):
    layer_case("conv2d_3x3_same", nn.Conv2d(3, 4, 3, padding=1), (2, 3, 7, 6))
    layer_case("conv2d_stride2", nn.Conv2d(2, 5, 3, stride=2, padding=1), (2, 2, 9, 8))
    layer_case("conv2d_dilation2", nn.Conv2d(3, 2, 3, padding=2, dilation=2), (1, 3, 8, 9))
    layer_case("conv2d_1x1_nobias", nn.Conv2d(4, 3, 1, bias=False), (3, 4, 5, 5))
    layer_case("conv2d_5x5_valid", nn.Conv2d(2, 3, 5), (2, 2, 9, 7))
    layer_case("conv_transpose2d_4x4_s2", nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), (2, 4, 5, 6))
    layer_case("conv_transpose2d_3x3_s2_op1", nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
               (2, 3, 4, 5))
    layer_case("conv_transpose2d_1x1", nn.ConvTranspose2d(3, 4, 1), (2, 3, 3, 4))
    layer_case("conv_transpose2d_dilation2", nn.ConvTranspose2d(2, 3, 3, stride=1, padding=1, dilation=2),
               (1, 2, 5, 5))
