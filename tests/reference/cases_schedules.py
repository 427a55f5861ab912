"""Learning-rate schedule fixtures from torch.optim.lr_scheduler (see tests/optim/test_schedules.cpp)."""
import torch

from make_fixtures import write_fixture

EPOCHS = 40
# A validation loss that improves, stalls, improves a little (less than the threshold), stalls.
METRIC = [1.0 - 0.05 * e for e in range(8)] + [0.65] * 14 + [0.64999] * 4 + [0.5] + [0.6] * 13


def rates(make_scheduler, metric=None):
    p = torch.nn.Parameter(torch.zeros(1))
    optimiser = torch.optim.SGD([p], lr=0.1)
    scheduler = make_scheduler(optimiser)
    out = []
    for epoch in range(EPOCHS):
        out.append(optimiser.param_groups[0]["lr"])
        optimiser.step()
        if metric is None:
            scheduler.step()
        else:
            scheduler.step(metric[epoch])
    return torch.tensor(out)


def cases(layer_case):
    s = torch.optim.lr_scheduler
    write_fixture("schedules", {
        "step": rates(lambda o: s.StepLR(o, step_size=7, gamma=0.5)),
        "cosine": rates(lambda o: s.CosineAnnealingLR(o, T_max=30, eta_min=1e-3)),
        "plateau": rates(lambda o: s.ReduceLROnPlateau(o, factor=0.2, patience=3), METRIC),
        "plateau_cooldown": rates(lambda o: s.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=2, min_lr=0.01),
                                  METRIC),
        "metric": torch.tensor(METRIC),
    })
