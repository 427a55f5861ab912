#!/usr/bin/python3
"""Writes the reference fixtures for the losses and metrics: tests/fixtures/loss_*.bin from
PyTorch and tests/fixtures/metrics_*.bin from scikit-image and NumPy (float64, fixed seeds).

Run with Debian's interpreter, which has python3-torch, -numpy and -skimage:
    /usr/bin/python3 tests/reference/loss_fixtures.py
Rerunning gives the same files. The format is make_fixtures.py's (tests/support/fixture.hpp reads
it): every tensor is stored with its own rank, and [N, C, H, W] images keep that layout.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from skimage.color import deltaE_ciede2000
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import OUT, write_fixture  # noqa: E402


def value_and_grad(fn, *inputs):
    """fn(*inputs) and its gradient w.r.t. each input, computed by autograd."""
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    value = fn(*leaves)
    grads = torch.autograd.grad(value, leaves)
    return value.detach(), [g.detach() for g in grads]


def regression():
    torch.manual_seed(10)
    prediction = torch.randn(2, 2, 3, 4) * 2
    target = torch.randn(2, 2, 3, 4) * 2
    target[0, 0, 0, :2] = prediction[0, 0, 0, :2]  # equal values: L1's gradient is 0 there
    tensors = {"prediction": prediction, "target": target}
    n = prediction.shape[0]
    losses = {
        "half_sum_mean": lambda p, t: 0.5 * ((p - t) ** 2).sum() / n,
        "half_sum_sum": lambda p, t: 0.5 * ((p - t) ** 2).sum(),
        "mse": F.mse_loss,
        "l1": F.l1_loss,
        "smooth_l1": F.smooth_l1_loss,
        "smooth_l1_beta0.5": lambda p, t: F.smooth_l1_loss(p, t, beta=0.5),
        "smooth_l1_beta3": lambda p, t: F.smooth_l1_loss(p, t, beta=3.0),
        # beta = 0 is L1Loss (PyTorch's documentation says so); F.l1_loss gives the gradient 0
        # where prediction = target, which F.smooth_l1_loss(beta=0)'s backward makes -1.
        "smooth_l1_beta0": F.l1_loss,
    }
    for name, fn in losses.items():
        value, (grad, _) = value_and_grad(fn, prediction, target)
        tensors[name + ".value"] = value
        tensors[name + ".grad"] = grad
    write_fixture("loss_regression", tensors)


def rebalanced_cross_entropy(logits, target, weights):
    """Zhang's rebalanced loss: v = w[argmax target] per pixel, mean over N*H*W pixels."""
    v = weights[target.argmax(dim=1)]
    return (v * -(target * F.log_softmax(logits, dim=1)).sum(dim=1)).mean()


def classification():
    torch.manual_seed(11)
    q = 5
    logits = torch.randn(2, q, 3, 4) * 3
    target = torch.softmax(torch.randn(2, q, 3, 4) * 2, dim=1)
    weights = torch.rand(q) + 0.5
    tensors = {"logits": logits, "target": target, "weights": weights}

    value, (grad, _) = value_and_grad(lambda z, t: F.cross_entropy(z, t), logits, target)
    tensors["ce.value"], tensors["ce.grad"] = value, grad
    value, (grad, _) = value_and_grad(lambda z, t: rebalanced_cross_entropy(z, t, weights), logits, target)
    tensors["rebalanced.value"], tensors["rebalanced.grad"] = value, grad

    # Hard (one-hot) targets: PyTorch's class-weighted sum over pixels / N*H*W is the same loss.
    classes = torch.randint(0, q, (2, 3, 4))
    one_hot = F.one_hot(classes, q).permute(0, 3, 1, 2).to(torch.float64)
    value, (grad,) = value_and_grad(
        lambda z: F.cross_entropy(z, classes, weight=weights, reduction="sum") / classes.numel(), logits)
    tensors["hard_target"], tensors["hard.value"], tensors["hard.grad"] = one_hot, value, grad

    # Large logits: the fused softmax must neither overflow nor lose the value.
    large = logits * 200
    value, (grad, _) = value_and_grad(lambda z, t: F.cross_entropy(z, t), large, target)
    tensors["large_logits"], tensors["large.value"], tensors["large.grad"] = large, value, grad
    write_fixture("loss_cross_entropy", tensors)


def distribution():
    torch.manual_seed(12)
    q = 6
    logits = torch.randn(2, q, 3, 3) * 2
    target = torch.softmax(torch.randn(2, q, 3, 3) * 2, dim=1)
    weights = torch.rand(q) + 0.5
    prior = torch.softmax(torch.randn(q), dim=0)
    tensors = {"logits": logits, "target": target, "weights": weights, "prior": prior}

    def distribution_loss(z):
        return torch.linalg.norm(torch.softmax(z, dim=1).mean(dim=(0, 2, 3)) - prior)

    value, (grad,) = value_and_grad(distribution_loss, logits)
    tensors["dt.value"], tensors["dt.grad"] = value, grad
    alpha = 0.4
    value, (grad,) = value_and_grad(
        lambda z: alpha * distribution_loss(z) + (1 - alpha) * rebalanced_cross_entropy(z, target, weights), logits)
    tensors["objective.value"], tensors["objective.grad"] = value, grad
    write_fixture("loss_distribution", tensors)


def adversarial():
    torch.manual_seed(13)
    real = torch.randn(4, 1, 2, 3) * 2
    fake = torch.randn(4, 1, 2, 3) * 2
    energy_real = torch.rand(4, 1, 1, 1) * 3
    energy_fake = torch.rand(4, 1, 1, 1) * 3
    tensors = {"real": real, "fake": fake, "energy_real": energy_real, "energy_fake": energy_fake}
    ones, zeros = torch.ones_like(real), torch.zeros_like(real)

    def bce(x, label):
        return F.binary_cross_entropy_with_logits(x, torch.full_like(x, label))

    discriminators = {
        "minimax": lambda r, f: bce(r, 1.0) + bce(f, 0.0),
        "lsgan": lambda r, f: 0.5 * F.mse_loss(r, ones) + 0.5 * F.mse_loss(f, zeros),
        "wgan": lambda r, f: f.mean() - r.mean(),
    }
    generators = {
        "minimax": lambda f: torch.log(1 - torch.sigmoid(f)).mean(),
        "nonsaturating": lambda f: bce(f, 1.0),
        "lsgan": lambda f: 0.5 * F.mse_loss(f, ones),
        "wgan": lambda f: -f.mean(),
    }
    for name, fn in discriminators.items():
        value, (grad_real, grad_fake) = value_and_grad(fn, real, fake)
        tensors["d." + name + ".value"] = value
        tensors["d." + name + ".grad_real"], tensors["d." + name + ".grad_fake"] = grad_real, grad_fake
    for name, fn in generators.items():
        value, (grad,) = value_and_grad(fn, fake)
        tensors["g." + name + ".value"], tensors["g." + name + ".grad"] = value, grad

    margin = 1.5
    value, (grad_real, grad_fake) = value_and_grad(
        lambda r, f: r.mean() + torch.relu(margin - f).mean(), energy_real, energy_fake)
    tensors["d.ebgan.value"], tensors["d.ebgan.grad_real"], tensors["d.ebgan.grad_fake"] = value, grad_real, grad_fake
    value, (grad,) = value_and_grad(lambda f: f.mean(), energy_fake)
    tensors["g.ebgan.value"], tensors["g.ebgan.grad"] = value, grad

    # Seed 004's generator objective with the non-saturating term: 0.5 L_adv + 2 L1 + 3 L2.
    prediction = torch.randn(4, 2, 3, 3)
    target = torch.randn(4, 2, 3, 3)
    tensors["prediction"], tensors["target"] = prediction, target
    value, (grad_scores, grad_prediction) = value_and_grad(
        lambda f, p: 0.5 * bce(f, 1.0) + 2.0 * F.l1_loss(p, target) + 3.0 * F.mse_loss(p, target), fake, prediction)
    tensors["objective.value"] = value
    tensors["objective.grad_scores"], tensors["objective.grad_prediction"] = grad_scores, grad_prediction

    # EBGAN's reconstruction energy: per-image MSE, and its backward for a given d(loss)/d(energy).
    image = torch.randn(3, 2, 3, 4)
    reconstruction = torch.randn(3, 2, 3, 4)
    grad_energy = torch.randn(3, 1, 1, 1)
    energy = ((reconstruction - image) ** 2).mean(dim=(1, 2, 3), keepdim=True)
    value, (grad_image, grad_reconstruction) = value_and_grad(
        lambda x, r: (((r - x) ** 2).mean(dim=(1, 2, 3), keepdim=True) * grad_energy).sum(), image, reconstruction)
    tensors.update({"image": image, "reconstruction": reconstruction, "energy": energy, "grad_energy": grad_energy,
                    "energy.grad_image": grad_image, "energy.grad_reconstruction": grad_reconstruction})
    write_fixture("loss_adversarial", tensors)


def image_pairs(rng):
    """Pairs of [N, C, H, W] images with values in [0, 255]: random, smooth, gray, fractional."""
    pairs = {}
    x = rng.integers(0, 256, size=(2, 3, 16, 20)).astype(np.float64)
    y = np.clip(np.round(x + rng.normal(0, 25, size=x.shape)), 0, 255)
    pairs["random"] = (x, y)

    h, w = np.meshgrid(np.arange(24), np.arange(32), indexing="ij")
    smooth = np.stack([127 + 100 * np.sin(h / 5.0 + k) * np.cos(w / 7.0 - k) for k in range(3)])[None]
    shifted = np.stack([127 + 90 * np.sin(h / 5.0 + k + 0.3) * np.cos(w / 6.5 - k) for k in range(3)])[None]
    pairs["smooth"] = (np.round(smooth), np.round(shifted))

    gray = rng.integers(0, 256, size=(1, 1, 13, 11)).astype(np.float64)
    pairs["gray"] = (gray, np.clip(gray + rng.normal(0, 10, size=gray.shape), 0, 255))

    fractional = rng.uniform(0, 255, size=(1, 3, 11, 12))
    pairs["fractional"] = (fractional, np.clip(fractional + rng.normal(0, 5, size=fractional.shape), 0, 255))
    return pairs


def metrics():
    rng = np.random.default_rng(14)
    tensors = {}
    for name, (x, y) in image_pairs(rng).items():
        tensors[name + ".prediction"], tensors[name + ".target"] = x, y
        ssim, psnr = [], []
        for n in range(x.shape[0]):
            a, b = np.moveaxis(x[n], 0, -1), np.moveaxis(y[n], 0, -1)  # HWC, as scikit-image takes it
            ssim.append(structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                              data_range=255, channel_axis=-1))
            psnr.append(peak_signal_noise_ratio(b, a, data_range=255))
        tensors[name + ".ssim"], tensors[name + ".psnr"] = np.array(ssim), np.array(psnr)
    write_fixture("metrics_images", tensors)

    # CIEDE2000 on random colours and on close pairs, against scikit-image.
    lab = np.stack([rng.uniform(0, 100, (2, 5, 7)), rng.uniform(-100, 100, (2, 5, 7)),
                    rng.uniform(-100, 100, (2, 5, 7))], axis=1)
    far = np.stack([rng.uniform(0, 100, (2, 5, 7)), rng.uniform(-100, 100, (2, 5, 7)),
                    rng.uniform(-100, 100, (2, 5, 7))], axis=1)
    near = lab + rng.normal(0, 2, lab.shape)
    tensors = {"lab": lab, "far": far, "near": near}
    for name, other in (("far", far), ("near", near)):
        tensors["delta_e." + name] = deltaE_ciede2000(lab, other, channel_axis=1)[:, None]
    write_fixture("metrics_ciede2000", tensors)

    # AuC and the rebalanced AuC, from their definition in NumPy: errors spread over 0..200.
    true_ab = rng.uniform(-100, 100, (2, 2, 6, 9))
    angle = rng.uniform(0, 2 * np.pi, (2, 6, 9))
    radius = rng.uniform(0, 200, (2, 6, 9))
    predicted_ab = true_ab + np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    weights = rng.uniform(0.1, 3, (2, 1, 6, 9))
    errors = np.linalg.norm(predicted_ab - true_ab, axis=1)
    thresholds = np.arange(151)
    curve = np.array([(errors <= t).mean() for t in thresholds])
    weighted_curve = np.array([(weights[:, 0] * (errors <= t)).sum() / weights.sum() for t in thresholds])
    tensors = {"predicted_ab": predicted_ab, "true_ab": true_ab, "weights": weights, "curve": curve,
               "weighted_curve": weighted_curve, "auc": np.trapz(curve, thresholds) / 150,
               "auc_rebalanced": np.trapz(weighted_curve, thresholds) / 150}
    write_fixture("metrics_auc", tensors)

    # Colourfulness (Hasler and Suesstrunk) of random RGB images, in NumPy.
    rgb = rng.uniform(0, 255, (3, 3, 8, 10))
    rg = rgb[:, 0] - rgb[:, 1]
    yb = 0.5 * (rgb[:, 0] + rgb[:, 1]) - rgb[:, 2]
    values = [np.sqrt(rg[n].std() ** 2 + yb[n].std() ** 2) + 0.3 * np.sqrt(rg[n].mean() ** 2 + yb[n].mean() ** 2)
              for n in range(rgb.shape[0])]
    write_fixture("metrics_colourfulness", {"rgb": rgb, "colourfulness": np.array(values)})


def main():
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT, exist_ok=True)
    regression()
    classification()
    distribution()
    adversarial()
    metrics()
    print("loss and metrics fixtures written to %s (torch %s)" % (OUT, torch.__version__), file=sys.stderr)


if __name__ == "__main__":
    main()
