"""Attacks on what a DP fit releases. Each scores canaries from a release alone (higher = "the canary
was in the table"), or, for the replay attack, decides between two neighbouring tables.

- ``replay`` (every model): the attacker reads the published ``--seed``, refits the mechanism on both
  candidate tables with every DP noise generator seeded from it, and checks which replay the release
  matches exactly, field by field over every released file. It wins outright against noise that can be
  regenerated from the seed, and against any released value that depends deterministically on the data
  (an exact row count, a table hash, a raw minimum). Against secure noise the replays match neither.
- ``marginals`` (DP-MST, white-box): the noisy 1-way counts stored in the model folder, read at the
  canary's cells, minus the counts the attacker knows (the rest of the table, and half of every other
  canary sharing a cell in a one-run audit). With the published noise scale this is the optimal test
  for the 1-way Gaussian measurements (a third of the budget).
- ``elbo`` (DP-TVAE, white-box): the released VAE's own loss (reconstruction + KL, encoder mean) on the
  canary; one-run audits subtract a reference VAE's loss fitted by the attacker on the rest of the table.
- ``samples`` (every model, black-box): kernel density of released samples at the canary (Gower
  distance over the schema's columns); one-run audits subtract the density of a reference fit's samples.
- ``gradients`` (DP-SGD models, white-box transcript): gradient canaries
  (:mod:`medsynth.privacy.dpsgd_audit`), one parameter coordinate each, observed in every step's noisy
  gradient; the score is the likelihood ratio of "in" (Poisson-sampled at the stated rate, plus the
  stated noise) against "out" (noise alone). Unlike the others it needs an audit-only hook in the fit,
  which marks the run insecure: it audits the DP-SGD mechanism that a release is a function of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from medsynth.core.errors import ConfigError
from medsynth.privacy.audit.release import Release, same_value

if TYPE_CHECKING:  # pragma: no cover
    from medsynth.tabular.schema import TableSchema

#: What each attack looks at, for the result's "attack" field.
ATTACKS: dict[str, str] = {
    "replay": "replay with the published seed: refit both neighbouring tables with noise seeded from the release's "
              "--seed and match every released value exactly (white-box, all files)",
    "marginals": "noisy 1-way marginals in the dp-mst model folder at the canary's cells, minus the known counts "
                 "(white-box)",
    "elbo": "the released VAE's loss (reconstruction + KL) on the canary (white-box weights)",
    "samples": "density of released synthetic samples around the canary (black-box, Gower distance)",
    "gradients": "gradient canaries (one parameter coordinate each, clipped norm C) observed in every step's noisy "
                 "DP-SGD gradient: likelihood ratio with the stated noise multiplier and sample rate (white-box "
                 "transcript, audit-only hook)",
}
#: The attacks run by default for each model (replay first: it needs the most fits per decision).
DEFAULT_ATTACKS: dict[str, tuple[str, ...]] = {
    "dp-mst": ("replay", "marginals"),
    "dp-tvae": ("replay", "elbo", "gradients"),
    "dp-ctgan": ("replay", "samples", "gradients"),
}
#: Attacks that need particular models.
_MODEL_ONLY: dict[str, tuple[str, ...]] = {"marginals": ("dp-mst",), "elbo": ("dp-tvae",),
                                            "gradients": ("dp-tvae", "dp-ctgan")}


def check_attacks(model: str, attacks: tuple[str, ...]) -> None:
    """Raise ConfigError for unknown attacks or an attack that does not apply to ``model``."""
    bad = [a for a in attacks if a not in ATTACKS]
    if bad:
        raise ConfigError(f"unknown attack(s) {bad}; choose from {sorted(ATTACKS)}")
    wrong = [a for a in attacks if model not in _MODEL_ONLY.get(a, (model,))]
    if wrong:
        only = sorted({m for a in wrong for m in _MODEL_ONLY[a]})
        raise ConfigError(f"attack(s) {wrong} apply only to {only}, not '{model}'")
    if not attacks:
        raise ConfigError("choose at least one attack")


# -- replay -----------------------------------------------------------------------------------------------
def replay_vote(release: Release, replay_d: Release, replay_d_prime: Release) -> int:
    """+1 when the release matches the replay on D' (and not D) on more fields than the other way round,
    -1 for the opposite, 0 when no field tells them apart. Only fields on which the replays differ count."""
    rel, a, b = release.fields, replay_d.fields, replay_d_prime.fields
    score = 0
    for key in set(a) | set(b):
        va, vb = a.get(key), b.get(key)
        if same_value(va, vb):
            continue
        v = rel.get(key)
        score += int(same_value(v, vb)) - int(same_value(v, va))
    return int(np.sign(score))


# -- marginals (dp-mst) -----------------------------------------------------------------------------------
def _fine_cells(release: Release, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    model = release.model
    fine_codes = getattr(model, "_fine_codes", None)
    if fine_codes is None:
        raise ConfigError("the marginals attack needs a dp-mst release (its fine 1-way grid)")
    return fine_codes(model.codec.encode(rows))


def _noisy_one_way(release: Release) -> dict[str, np.ndarray]:
    path = release.file(f"model/{getattr(release.model, 'arrays_file', 'mst_arrays.npz')}")  # dp-mst: mst_arrays.npz
    if not path.is_file():
        raise ConfigError(f"the dp-mst release has no {path.name}: the marginals attack cannot read its noisy marginals")
    with np.load(path, allow_pickle=False) as z:
        out = {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("fine_w/")}
    if not out:
        raise ConfigError("the dp-mst release stores no noisy 1-way marginals (fine_w/*): the attack needs updating")
    return out


def marginal_scores(release: Release, canaries: pd.DataFrame, base: pd.DataFrame, *, others: bool) -> np.ndarray:
    """Per canary: the weighted sum over columns of (released noisy 1-way count at its fine cell - known count).

    Each column's term is divided by its variance given what the attacker knows: the published noise
    variance sigma^2, plus 1/4 per other canary sharing the cell in a one-run audit (each is in with
    probability 1/2), so crowded cells (a two-valued column) weigh little. This is the likelihood-ratio
    statistic for the 1-way Gaussian measurements.

    Args:
        canaries: the canaries to score (all of a one-run audit's, or the one of a distinguishing test).
        base: the table without canaries (known to the attacker, as DP assumes).
        others: account for the other canaries (one-run: each is in with probability 1/2).
    """
    noisy = _noisy_one_way(release)
    cells = _fine_cells(release, canaries)
    known = _fine_cells(release, base)
    sigma2 = _noise_variance(release, noisy, known)
    score = np.zeros(len(canaries))
    for col, w in noisy.items():
        c = cells[col]
        expected = np.bincount(known[col], minlength=w.size)[: w.size][c].astype(float)
        var = np.full(c.size, sigma2)
        if others:
            sharing = np.bincount(c, minlength=w.size)[c] - 1
            expected = expected + 0.5 * sharing
            var = var + 0.25 * sharing
        score += (w[c] - expected) / var
    return score


def _noise_variance(release: Release, noisy: dict[str, np.ndarray], known: dict[str, np.ndarray]) -> float:
    """The 1-way measurements' noise variance: as the release states it, else estimated from the cells whose
    noisy count was not clipped at zero (their residual from the known counts)."""
    from medsynth.privacy.audit.release import noise_parameter

    try:
        return noise_parameter(release) ** 2
    except ConfigError:
        res = [w[w > 0] - np.bincount(known[c], minlength=w.size)[: w.size][w > 0] for c, w in noisy.items()]
        flat = np.concatenate(res) if res else np.zeros(0)
        return float(np.mean(flat**2)) if flat.size else 1.0


# -- elbo (dp-tvae) ---------------------------------------------------------------------------------------
def elbo_scores(release: Release, canaries: pd.DataFrame) -> np.ndarray:
    """Per canary: minus the released VAE's loss (encoder mean as the code; no sampling)."""
    import torch

    from medsynth.tabular.dp_tvae import VAELoss

    model = release.model
    net = getattr(model, "model", None)
    if net is None or not hasattr(net, "encoder"):
        raise ConfigError("the elbo attack needs a dp-tvae release (encoder and decoder weights)")
    x = torch.as_tensor(model.layout.encode(model.codec.encode(canaries)), dtype=torch.float32)
    k = model.config.latent_dim
    crit = VAELoss(model.layout, k, model.config.loss_factor, model.config.min_sigma)
    crit.reduction = "none"
    with torch.no_grad():
        h = net.encoder(x)
        mu, logvar = h[:, :k], h[:, k:].clamp(-10, 10)
        loss = crit(torch.cat([net.decoder(mu), mu, logvar], dim=1), x)
    return -loss.numpy().astype(float)


# -- samples (any model) ----------------------------------------------------------------------------------
def _gower_matrix(df: pd.DataFrame, schema: TableSchema, lows: dict[str, tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(numbers scaled to [0, 1] with NaN as -1, category keys as codes) over the schema's modelled columns."""
    from medsynth.privacy.audit.canaries import _numbers
    from medsynth.tabular.schema import DISCRETE_TYPES, category_key

    nums, cats = [], []
    for col in schema.modelled:
        if col.type in DISCRETE_TYPES:
            keys = df[col.name].map(lambda v: "<missing>" if pd.isna(v) else category_key(v))
            cats.append(keys.map(hash).to_numpy(dtype=np.int64))
        else:
            lo, hi = lows[col.name]
            x = (_numbers(col, df[col.name]) - lo) / max(hi - lo, 1e-12)
            nums.append(np.where(np.isnan(x), -1.0, np.clip(x, 0.0, 1.0)))
    n = len(df)
    return (np.stack(nums, axis=1) if nums else np.zeros((n, 0)), np.stack(cats, axis=1) if cats else np.zeros((n, 0), np.int64))


def sample_density(release: Release, canaries: pd.DataFrame, schema: TableSchema, base: pd.DataFrame, *,
                   n_samples: int = 2000, bandwidth: float = 0.05) -> np.ndarray:
    """Per canary: log kernel density of ``n_samples`` released samples (public sampling seed 0) at the canary."""
    from medsynth.privacy.audit.canaries import _domain
    from medsynth.tabular.schema import NUMERIC_TYPES

    syn = release.model.sample(n_samples, seed=0)
    lows = {c.name: _domain(c, base[c.name]) for c in schema.modelled if c.type in NUMERIC_TYPES}
    sn, sc = _gower_matrix(syn, schema, lows)
    cn, cc = _gower_matrix(canaries, schema, lows)
    d = max(sn.shape[1] + sc.shape[1], 1)
    out = np.empty(len(canaries))
    for start in range(0, len(canaries), 64):
        sl = slice(start, start + 64)
        dist = np.abs(cn[sl, None, :] - sn[None, :, :]).sum(axis=2) + (cc[sl, None, :] != sc[None, :, :]).sum(axis=2)
        out[sl] = np.log(np.mean(np.exp(-(dist / d) / bandwidth), axis=1) + 1e-300)
    return out


# -- gradients (DP-SGD models) -----------------------------------------------------------------------------
def stated_dpsgd(release: Release) -> tuple[float, float]:
    """The release's own statement of its DP-SGD noise multiplier and sample rate (model/meta.json)."""
    f = release.fields
    sigma, rate = f.get("model/meta.json:dpsgd.noise_multiplier"), f.get("model/meta.json:dpsgd.sample_rate")
    if not isinstance(sigma, (int, float)) or not isinstance(rate, (int, float)):
        raise ConfigError("the release states no DP-SGD noise multiplier and sample rate (model/meta.json dpsgd); "
                          "the gradients attack applies to DP-SGD models")
    return float(sigma), float(rate)


def gradient_scores(observations: np.ndarray, noise_multiplier: float, sample_rate: float) -> np.ndarray:
    """Per canary: the log-likelihood ratio of its observations under "in" against "out".

    Each step's observation (units of the clipping norm) is ``b + sigma * z`` with ``b ~ Bernoulli(q)``
    when the canary is in and ``b = 0`` when it is out, so the step's ratio is
    ``log(1 - q + q * exp((o - 1/2) / sigma^2))``, summed over the steps (the Neyman-Pearson test
    between the two per-canary hypotheses, given the stated sigma and q).

    Args:
        observations: (steps, canaries) array.
        noise_multiplier: the stated sigma (floored at 1e-3).
        sample_rate: the stated Poisson rate q in (0, 1].
    """
    o = np.asarray(observations, float)
    if o.ndim != 2:
        raise ConfigError(f"observations must be a (steps, canaries) array, got shape {o.shape}")
    q = min(max(float(sample_rate), 1e-12), 1.0)
    s2 = max(float(noise_multiplier), 1e-3) ** 2
    if q >= 1.0:
        return ((o - 0.5) / s2).sum(axis=0)
    return np.logaddexp(np.log1p(-q), np.log(q) + (o - 0.5) / s2).sum(axis=0)


def score(attack: str, release: Release, canaries: pd.DataFrame, *, base: pd.DataFrame, schema: TableSchema,
          one_run: bool, reference: Release | None = None, options: dict[str, Any] | None = None) -> np.ndarray:
    """Scores of ``canaries`` under one statistical attack (higher = more likely in the table).

    Args:
        one_run: canaries were each included with probability 1/2 in one fit (interference is subtracted).
        reference: a release fitted by the attacker on ``base`` alone, for attacks calibrated against it.
    """
    options = options or {}
    if attack == "marginals":
        return marginal_scores(release, canaries, base, others=one_run)
    if attack == "elbo":
        s = elbo_scores(release, canaries)
        return s - elbo_scores(reference, canaries) if reference is not None else s
    if attack == "samples":
        s = sample_density(release, canaries, schema, base, **options)
        return s - sample_density(reference, canaries, schema, base, **options) if reference is not None else s
    raise ConfigError(f"'{attack}' is not a scoring attack")


#: Scoring attacks that compare against a reference fit in one-run audits.
NEEDS_REFERENCE = {"elbo", "samples"}

__all__ = ["ATTACKS", "DEFAULT_ATTACKS", "NEEDS_REFERENCE", "check_attacks", "elbo_scores", "gradient_scores",
           "marginal_scores", "replay_vote", "sample_density", "score", "stated_dpsgd"]
