"""The neural models' training loop pieces: the vectorised loss and the batch samplers."""

from __future__ import annotations

import math

import torch
from tabular_helpers import make_schema, make_table

from medsynth.tabular.domain import complete_from_data
from medsynth.tabular.encoding import OneHotLayout, TableCodec
from medsynth.tabular.neural import _poisson_batches, _shuffled_batches, span_log_likelihood
from medsynth.tabular.schema import ColumnSchema


def _loop_log_likelihood(layout, out, x, log_sigma, min_sigma):
    """The reference: one column at a time."""
    ll = torch.zeros(x.shape[0], dtype=out.dtype)
    miss_of = {s.column: s for s in layout.spans if s.kind == "miss"}
    for j, s in enumerate(layout.num_spans):
        mu = torch.tanh(out[:, s.start])
        ls = log_sigma[:, j].clamp(math.log(min_sigma), 0.0)
        term = -0.5 * ((x[:, s.start] - mu) / ls.exp()) ** 2 - ls
        if s.column in miss_of:
            term = term * (1.0 - x[:, miss_of[s.column].start + 1])
        ll = ll + term
    for s in layout.softmax_spans:
        ll = ll + (torch.log_softmax(out[:, s.start : s.start + s.width], dim=1) * x[:, s.start : s.start + s.width]).sum(dim=1)
    return ll


def test_vectorised_log_likelihood_matches_the_column_loop():
    df = make_table(80)
    df["ward"] = (["A", "B", "C"] * 27)[:80]  # a 3-way block beside the 2-way ones
    schema = make_schema()
    schema = schema.model_copy(update={"columns": [*schema.columns, ColumnSchema(name="ward", type="categorical")]})
    codec = TableCodec(complete_from_data(schema, df))
    layout = OneHotLayout(codec)
    assert any(s.kind == "miss" for s in layout.spans) and len({s.width for s in layout.softmax_spans}) > 1
    x = torch.tensor(layout.encode(codec.encode(df)), dtype=torch.float64)
    out = torch.randn(80, layout.dim, dtype=torch.float64, requires_grad=True)
    log_sigma = torch.randn(80, len(layout.num_spans), dtype=torch.float64) * 0.7
    got = span_log_likelihood(layout, out, x, log_sigma, min_sigma=0.1)
    want = _loop_log_likelihood(layout, out, x, log_sigma, 0.1)
    torch.testing.assert_close(got, want)
    g_got = torch.autograd.grad(got.sum(), out)[0]
    g_want = torch.autograd.grad(want.sum(), out)[0]
    torch.testing.assert_close(g_got, g_want)
    assert torch.isfinite(g_got).all()


def test_poisson_batches_include_each_row_independently_at_the_rate():
    data = torch.arange(1000, dtype=torch.float32)[:, None]
    gen = torch.Generator().manual_seed(0)
    it = _poisson_batches(data, 0.05, gen)
    sizes, hits = [], torch.zeros(1000)
    for _ in range(400):
        b = next(it)
        sizes.append(b.shape[0])
        hits[b[:, 0].long()] += 1
    mean = sum(sizes) / len(sizes)
    assert abs(mean - 50) < 3, mean  # E = n q = 50, sd of the mean ~0.35
    assert len(set(sizes)) > 10, "batch sizes must vary (Poisson), not be fixed"
    assert abs(hits.mean().item() - 20) < 1 and hits.std().item() < 7  # each row ~ Binomial(400, 0.05)


def test_shuffled_batches_cover_each_epoch_once():
    data = torch.arange(10, dtype=torch.float32)[:, None]
    it = _shuffled_batches(data, 4, torch.Generator().manual_seed(0))
    epoch = [next(it) for _ in range(3)]
    assert [b.shape[0] for b in epoch] == [4, 4, 2]
    assert sorted(torch.cat(epoch)[:, 0].tolist()) == list(range(10))
