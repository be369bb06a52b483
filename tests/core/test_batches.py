"""core.training.batches: endless shuffled batches whose order a resumed run can continue exactly."""

from __future__ import annotations

import itertools

import torch

from medsynth.core.runtime import DistributedContext
from medsynth.core.training import batches, step_seed


class Numbers(torch.utils.data.Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor(i)


def single() -> DistributedContext:
    return DistributedContext(rank=0, world_size=1, local_rank=0, backend=None)


def take(it, k: int) -> list[list[int]]:
    return [b.tolist() for b in itertools.islice(it, k)]


def test_every_epoch_is_a_fresh_permutation_of_the_whole_set():
    got = take(batches(Numbers(10), 5, single(), seed=3), 6)  # 3 epochs of 2 batches
    epochs = [sorted(got[i] + got[i + 1]) for i in (0, 2, 4)]
    assert all(e == list(range(10)) for e in epochs)
    assert got[0] + got[1] != got[2] + got[3]  # reshuffled
    assert take(batches(Numbers(10), 5, single(), seed=3), 6) == got  # a function of the seed
    assert take(batches(Numbers(10), 5, single(), seed=4), 2) != got[:2]


def test_skip_continues_exactly_where_an_uninterrupted_iterator_was():
    full = take(batches(Numbers(11), 3, single(), seed=0), 12)  # 3 full batches per epoch, the last 2 rows dropped
    for skip in (0, 1, 3, 4, 7):
        assert take(batches(Numbers(11), 3, single(), seed=0, skip=skip), 12 - skip) == full[skip:]


def test_partial_last_batch_and_resume_without_drop_last():
    full = take(batches(Numbers(11), 3, single(), seed=0, drop_last=False), 8)  # 3 + 3 + 3 + 2 per epoch
    assert [len(b) for b in full[:4]] == [3, 3, 3, 2] and sorted(sum(full[:4], [])) == list(range(11))
    assert take(batches(Numbers(11), 3, single(), seed=0, drop_last=False, skip=5), 3) == full[5:]


def test_too_few_items_for_the_ranks_is_a_named_error():
    import pytest

    from medsynth.core.errors import DataValidationError

    ctx = DistributedContext(rank=1, world_size=2, local_rank=1, backend="gloo")
    with pytest.raises(DataValidationError, match="1 training item.* for 2 processes"):
        next(batches(Numbers(1), 4, ctx))


def test_ranks_get_disjoint_shards():
    ranks = [DistributedContext(rank=r, world_size=2, local_rank=r, backend="gloo") for r in (0, 1)]
    a, b = (take(batches(Numbers(8), 4, ctx, seed=1), 1)[0] for ctx in ranks)
    assert sorted(a + b) == list(range(8))


def test_step_seed_differs_by_rank_and_step():
    seeds = {step_seed(0, r, s) for r in range(4) for s in range(1000)}
    assert len(seeds) == 4000
    assert step_seed(0, 0, 5) == step_seed(0, 0, 5)
