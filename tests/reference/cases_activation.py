"""Element-wise activation fixtures."""
import torch.nn as nn


def cases(layer_case):
    layer_case("relu", nn.ReLU(), (2, 3, 4, 5))
    layer_case("leaky_relu_default", nn.LeakyReLU(), (2, 3, 4, 5))
    layer_case("leaky_relu_0.2", nn.LeakyReLU(0.2), (2, 3, 4, 5))
    layer_case("tanh", nn.Tanh(), (2, 3, 4, 5), input_scale=2.0)
    layer_case("sigmoid", nn.Sigmoid(), (2, 3, 4, 5), input_scale=4.0)
