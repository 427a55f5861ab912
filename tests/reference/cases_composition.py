"""A composed network (Sequential, Named, Skip with add and concat merges, Residual) and its
PyTorch twin with the same parameter names; see tests/nn/test_composition.cpp for the Chroma type."""
import torch
import torch.nn as nn


class AddReluSkip(nn.Module):
    """Skip<Sequential<...>, Projection, AddThen<ReLU>>: the inner children sit directly on the
    module (named by index or by their Named name), the projection under its own name."""

    def __init__(self, inner, projection_name, projection):
        super().__init__()
        self.inner_names = [name for name, _ in inner]
        for name, module in inner:
            self.add_module(name, module)
        self.projection_name = projection_name
        self.add_module(projection_name, projection)

    def forward(self, x):
        a = x
        for name in self.inner_names:
            a = getattr(self, name)(a)
        return torch.relu(a + getattr(self, self.projection_name)(x))


class ConcatSkip(nn.Conv2d):
    """Skip<Conv2d<...>, Identity, Concat>: the conv's parameters are the skip's own."""

    def forward(self, x):
        return torch.cat([super().forward(x), x], dim=1)


def composed_net():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.ReLU(),
        AddReluSkip([("0", nn.Conv2d(4, 6, 3, stride=2, padding=1)), ("1", nn.ReLU()),
                     ("2", nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1))],
                    "projection", nn.Conv2d(4, 4, 1)),
        AddReluSkip([("conv1", nn.Conv2d(4, 4, 3, padding=1)), ("relu", nn.ReLU()),
                     ("conv2", nn.Conv2d(4, 4, 3, padding=1))],
                    "downsample", nn.Conv2d(4, 4, 1)),
        ConcatSkip(4, 3, 3, padding=1),
        nn.Conv2d(7, 2, 1),
        nn.Tanh(),
    )


def cases(layer_case):
    layer_case("composed_net", composed_net(), (2, 2, 8, 6))
