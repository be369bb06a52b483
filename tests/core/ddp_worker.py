"""Run by test_distributed.py under torchrun: joins the group, trains a step with DDP, rank 0 writes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from medsynth.core.training import TrainConfig, TrainSession


def main(out: str) -> None:
    session = TrainSession(TrainConfig(max_steps=2, device="cpu", checkpoint_every=1, log_every=1), out)
    ctx = session.dist
    net = session.wrap(torch.nn.Linear(4, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    torch.manual_seed(100 + ctx.rank)  # different data on each rank
    for step in session.steps():
        x = torch.randn(8, 4)
        loss = net(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        session.log(step, {"loss": loss.item()})
        session.maybe_checkpoint(step, {"net": net})
    total = torch.tensor([float(ctx.rank + 1)])
    dist.all_reduce(total)
    w = net.module.weight.detach().clone()
    gathered = [torch.zeros_like(w) for _ in range(ctx.world_size)]
    dist.all_gather(gathered, w)
    Path(out, f"rank{ctx.rank}.json").write_text(
        json.dumps(
            {
                "rank": ctx.rank,
                "world": ctx.world_size,
                "backend": ctx.backend,
                "sum": total.item(),
                "weights_equal": all(torch.equal(gathered[0], g) for g in gathered),
                "is_main": session.is_main,
            }
        )
    )
    session.close()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
