"""core.training.EMA: the weight average, with and without its warm-up."""

from __future__ import annotations

import torch

from medsynth.core.training import EMA


def test_warm_up_forgets_the_initial_weights_then_reaches_the_decay():
    net = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(net.weight)
    ema = EMA(net, decay=0.999)
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update(net, step=0)  # decay min(0.999, 1/10): 90% of the way at once
    assert abs(float(ema.shadow.weight) - 0.9) < 1e-6
    for t in range(1, 150):
        ema.update(net, step=t)
    assert float(ema.shadow.weight) > 0.999  # a short run is not stuck near its initial weights
    with torch.no_grad():  # at a large step the decay is capped at 0.999: 0.1% of the way per update
        ema.shadow.weight.zero_()
    ema.update(net, step=20_000)
    assert abs(float(ema.shadow.weight) - 0.001) < 1e-9
    plain = EMA(torch.nn.Linear(1, 1, bias=False).requires_grad_(False), decay=0.999)
    torch.nn.init.zeros_(plain.shadow.weight)
    for _ in range(150):
        plain.update(net)  # no step: the constant decay
    assert abs(float(plain.shadow.weight) - (1 - 0.999**150)) < 1e-5
