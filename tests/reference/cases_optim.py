"""Optimiser fixtures: a few steps of torch.optim on fixed gradients (see tests/optim/test_optim.cpp)."""
import torch

from make_fixtures import write_fixture

STEPS = 5


def optimiser_case(name, make_optimiser, lr_for_step=None):
    torch.manual_seed(3)
    weight = torch.randn(2, 3, 1, 1, requires_grad=True)
    bias = torch.randn(2, requires_grad=True)
    tensors = {"param.weight": weight.detach().clone(), "param.bias": bias.detach().clone()}
    optimiser = make_optimiser([weight, bias])
    for step in range(STEPS):
        if lr_for_step is not None:
            for group in optimiser.param_groups:
                group["lr"] = lr_for_step(step)
        weight.grad = torch.randn_like(weight)
        bias.grad = torch.randn_like(bias)
        tensors["grad%d.weight" % step] = weight.grad.clone()
        tensors["grad%d.bias" % step] = bias.grad.clone()
        optimiser.step()
        tensors["value%d.weight" % step] = weight.detach().clone()
        tensors["value%d.bias" % step] = bias.detach().clone()
    write_fixture("optim_" + name, tensors)


def cases(layer_case):
    opt = torch.optim
    optimiser_case("sgd", lambda p: opt.SGD(p, lr=0.1))
    optimiser_case("sgd_momentum", lambda p: opt.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-2))
    optimiser_case("sgd_nesterov", lambda p: opt.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-4))
    optimiser_case("adam", lambda p: opt.Adam(p, lr=1e-2))
    optimiser_case("adam_l2", lambda p: opt.Adam(p, lr=1e-3, betas=(0.9, 0.99), weight_decay=1e-4))
    optimiser_case("adamw", lambda p: opt.AdamW(p, lr=1e-2, weight_decay=0.1))
    # Keras' decay: lr_t = lr / (1 + decay * t), t the number of earlier steps.
    optimiser_case("adam_keras_decay", lambda p: opt.Adam(p, lr=1e-2, betas=(0.9, 0.99)),
                   lr_for_step=lambda t: 1e-2 / (1 + 0.1 * t))
