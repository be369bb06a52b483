"""Fitting a model the way a user does, and reading back what the user would release.

Every fit of an audit goes through :func:`medsynth.tabular.run.fit_run` (the code path of
``medsynth tabular fit``) into a fresh run directory; the *release* is that directory without
``private/`` (the release boundary of DESIGN.md section 4). Attacks see only the release: its files,
the model loaded from it, and samples drawn from that model.

Broken variants (for the audit's self-test; never for data that leaves a hospital):

- ``"seed"``: every DP noise generator is made deterministic from the published ``--seed``
  (:func:`medsynth.privacy.noise.insecure_noise_for_audit`), so a replay with that seed regenerates
  the noise.
- ``"noise"``: all DP noise 10x smaller than the claim pays for. The fit is given the budget whose
  calibrated noise is a tenth of the claimed one (Gaussian mechanisms: rho x 100, which also makes
  the exponential mechanism's epsilon 10x larger; DP-SGD: the epsilon of a tenth of the noise
  multiplier), while the audit keeps comparing against the claimed epsilon.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml

from medsynth.core.errors import ConfigError
from medsynth.privacy.noise import insecure_noise_for_audit

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from medsynth.tabular.base import TabularSynthesizer
    from medsynth.tabular.schema import TableSchema

Broken = Literal["seed", "noise"]
#: What each broken variant is, in the words the result carries.
BROKEN_VARIANTS: dict[str, str] = {
    "seed": "BROKEN on purpose: DP noise regenerable from the published --seed",
    "noise": "BROKEN on purpose: all DP noise 10x smaller than the claimed epsilon pays for",
}
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Keys that differ between two identical fits for reasons other than the data (clocks, versions).
_NOT_DATA = ("seconds", "created", "finished", "resumed_at", "started", "versions")


@dataclass
class ModelSpec:
    """What the audit fits: a registered DP model, its settings, the claim, and any deliberate break.

    Attributes:
        name: registry name ("dp-mst", "dp-tvae", "dp-ctgan").
        params: the model's hyperparameters (as for ``--set``).
        schema: the table's schema (public domains make the audit's canaries well defined).
        epsilon: the claimed epsilon.
        delta: the claimed delta.
        broken: ``None`` for the model as released, or a deliberately broken variant.
        fit_epsilon: the epsilon the fit is given (the claim, except for ``broken="noise"``).
        noise_scale: the fit's noise relative to the claim's (1.0, or about 0.1 for ``broken="noise"``).
        claim_delta: the delta the fits claim where ``delta`` is not below 1/n for the audited table (they take a
            lower level, :func:`~medsynth.privacy.ledger.delta_level`); the attacks test that claim.
    """

    name: str
    params: dict[str, Any]
    schema: TableSchema
    epsilon: float
    delta: float
    broken: Broken | None = None
    fit_epsilon: float = 0.0
    noise_scale: float = 1.0
    notes: list[str] = field(default_factory=list)
    claim_delta: float | None = None

    @property
    def tested_delta(self) -> float:
        """The delta the attacks test: the fits' claim (a lowered level where they take one), else ``delta``."""
        return self.claim_delta if self.claim_delta is not None else self.delta

    def __post_init__(self) -> None:
        if not self.fit_epsilon:
            self.fit_epsilon = self.epsilon

    def config(self, seed: int, epsilon: float | None = None) -> Any:
        """The :class:`~medsynth.tabular.config.TabularConfig` of one fit (``--seed seed``, the fit's epsilon)."""
        from medsynth.tabular.config import PrivacyConfig, TabularConfig

        return TabularConfig(model=self.name, privacy=PrivacyConfig(epsilon=epsilon or self.fit_epsilon, delta=self.delta),
                             params=dict(self.params), seed=seed, device="cpu")


def fit_release(spec: ModelSpec, table: pd.DataFrame, seed: int, folder: Path, *, replay: bool = False,
                epsilon: float | None = None) -> Release:
    """Fit ``spec`` on ``table`` with ``--seed seed`` as ``medsynth tabular fit`` does; return the release.

    Args:
        replay: fit as an attacker replaying the mechanism with the published seed: every DP noise
            generator is seeded from ``seed`` (what a broken "seed" variant does; a correct model
            draws from OS entropy and the replay cannot reproduce it).
        epsilon: the epsilon to fit with (default: ``spec.fit_epsilon``).
    """
    from medsynth.tabular.run import fit_run

    insecure = replay or spec.broken == "seed"
    with insecure_noise_for_audit(seed) if insecure else contextlib.nullcontext():
        fit_run(table, Path(folder) / "run", spec.config(seed, epsilon), schema=spec.schema, force=True,
                command="medsynth audit dp")
    return Release(Path(folder) / "run")


class Release:
    """What a fit releases: exactly the files of its run's ``release_manifest.json`` (what
    ``medsynth tabular export`` copies; read in place, since export rightly refuses audit-seeded runs).

    Attributes:
        folder: the run directory.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @cached_property
    def files(self) -> list[str]:
        """The released files, relative to the run (the manifest itself included)."""
        from medsynth.core.rundir import RELEASE_MANIFEST

        manifest = self.folder / RELEASE_MANIFEST
        if not manifest.is_file():
            raise ConfigError(f"'{self.folder}' has no {RELEASE_MANIFEST}: the audit needs a sealed tabular run")
        return [*json.loads(manifest.read_text(encoding="utf-8"))["files"], RELEASE_MANIFEST]

    @cached_property
    def model(self) -> TabularSynthesizer:
        """The released model, loaded as a user would."""
        from medsynth.tabular.base import TabularSynthesizer

        return TabularSynthesizer.load(self.folder / "model")

    @cached_property
    def fields(self) -> dict[str, Any]:
        """Every released value, flattened to ``"file:key.path" -> value`` (arrays as numpy)."""
        out: dict[str, Any] = {}
        for rel in sorted(self.files):
            _read_fields(self.folder / rel, rel, out)
        return {k: v for k, v in out.items() if not any(word in k.rsplit(":", 1)[-1] for word in _NOT_DATA)}

    @property
    def published_seed(self) -> int | None:
        """The ``--seed`` the release states (its config), as an attacker reads it."""
        for key in ("model/config.yaml:seed", "config.yaml:seed"):
            v = self.fields.get(key)
            if isinstance(v, int):
                return v
        return None

    def file(self, relative: str) -> Path:
        """The path of a released file (ConfigError when the manifest does not list it)."""
        if relative not in self.files:
            raise ConfigError(f"'{relative}' is not part of the release (not in its manifest)")
        return self.folder / relative

    def remove(self) -> None:
        """Delete the fit's folder (releases are read once, then dropped)."""
        shutil.rmtree(self.folder.parent if self.folder.name == "run" else self.folder, ignore_errors=True)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if not prefix.endswith(":") else f"{prefix}{k}", v, out)
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, (dict, list, tuple)) for v in value):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, out)
    elif isinstance(value, (list, tuple)):
        out[prefix] = np.asarray(value, dtype=object) if value else ()
    else:
        out[prefix] = value


def _read_fields(path: Path, name: str, out: dict[str, Any]) -> None:
    suffix = path.suffix.lower()
    if suffix == ".json":
        _flatten(f"{name}:", json.loads(path.read_text(encoding="utf-8")), out)
    elif suffix == ".jsonl":
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                _flatten(f"{name}:[{i}]", json.loads(line), out)
    elif suffix in (".yaml", ".yml"):
        _flatten(f"{name}:", yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER), out)
    elif suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            for k in z.files:
                out[f"{name}:{k}"] = z[k]
    elif suffix == ".pt":
        import torch

        _flatten(f"{name}:", _tensors_to_numpy(torch.load(path, map_location="cpu", weights_only=True)), out)
    else:
        out[f"{name}:bytes"] = path.read_bytes()


def _tensors_to_numpy(obj: Any) -> Any:
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy()
    if isinstance(obj, dict):
        return {str(k): _tensors_to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_tensors_to_numpy(v) for v in obj]
    return obj


def same_value(a: Any, b: Any) -> bool:
    """Exact equality of two released values (arrays element-wise, NaN equal to NaN)."""
    if a is None or b is None:
        return a is b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


# -- the broken "noise" variant ----------------------------------------------------------------------------
def noise_parameter(release: Release) -> float:
    """The release's own statement of its noise scale: DP-SGD's noise multiplier, or the Gaussian sigma of
    DP-MST's 1-way marginals (what the "noise" variant must make 10x smaller)."""
    f = release.fields
    for key in ("model/meta.json:dpsgd.noise_multiplier", "meta.json:dpsgd.noise_multiplier"):
        if isinstance(f.get(key), (int, float)):
            return float(f[key])
    for key, value in f.items():
        if "privacy_ledger.json:" in key and key.endswith("parts.one_way.sigma") and isinstance(value, (int, float)):
            return float(value)
    raise ConfigError("cannot read the noise scale of this release (no DP-SGD noise multiplier or marginal sigma); "
                      "the 'noise' variant needs one")


def calibrate_broken_noise(spec: ModelSpec, table: pd.DataFrame, folder: Path, *, factor: float = 0.1,
                           max_probes: int = 4) -> None:
    """Set ``spec.fit_epsilon`` so that the fit's DP noise is ``factor`` times the claimed epsilon's.

    DP-MST (zCDP Gaussian and exponential mechanisms): noise scales as 1/sqrt(rho), so the fit gets
    rho / factor^2, checked by a probe fit. DP-SGD models: a probe fit at the claim gives (sigma, sample
    rate, steps); the first guess is the epsilon of DP-SGD alone at ``sigma * factor``; since the ledger
    composes DP-SGD with the fit's other accesses (noisy row count, DP-CTGAN's condition frequencies),
    probe fits then refine it by secant steps on log(noise ratio) against log(epsilon) until the ratio is
    within 5% of ``factor`` (at most ``max_probes`` probes). ``spec.noise_scale`` records the ratio reached.

    Raises:
        ConfigError: the ratio reached is outside [0.8, 1.25] x ``factor``.
    """
    from medsynth.privacy.mechanisms import cdp_epsilon, cdp_rho

    spec.broken = "noise"
    if spec.name == "dp-mst":
        spec.fit_epsilon = cdp_epsilon(cdp_rho(spec.epsilon, spec.delta) / factor**2, spec.delta)
        check = fit_release(spec, table, 0, folder / "probe-broken")
        claim = fit_release(spec, table, 0, folder / "probe-claim", epsilon=spec.epsilon)
        spec.noise_scale = noise_parameter(check) / noise_parameter(claim)
        check.remove()
        claim.remove()
    else:
        from medsynth.privacy.dpsgd import compute_epsilon

        claim = fit_release(spec, table, 0, folder / "probe-claim", epsilon=spec.epsilon)
        dpsgd = claim.model.meta.get("dpsgd") or {}
        claim.remove()
        if not dpsgd:
            raise ConfigError(f"'{spec.name}' recorded no DP-SGD plan; the 'noise' variant supports dp-mst and DP-SGD models")
        sigma = float(dpsgd["noise_multiplier"])
        eps = compute_epsilon(sigma * factor, float(dpsgd["sample_rate"]), int(dpsgd["steps"]), float(dpsgd["delta"]),
                              dpsgd["accountant"])
        points = [(math.log(spec.epsilon), 0.0)]  # (log epsilon, log noise ratio)
        for _ in range(max_probes):
            spec.fit_epsilon = eps
            check = fit_release(spec, table, 0, folder / "probe-broken")
            spec.noise_scale = noise_parameter(check) / sigma
            check.remove()
            if abs(math.log(spec.noise_scale / factor)) <= math.log(1.05):
                break
            points.append((math.log(eps), math.log(spec.noise_scale)))
            (x1, y1), (x2, y2) = points[-2:]
            slope = min((y2 - y1) / (x2 - x1), -0.05) if x2 != x1 else -1.0  # less noise as epsilon grows
            eps = math.exp(x2 + (math.log(factor) - y2) / slope)
    if not 0.8 * factor <= spec.noise_scale <= 1.25 * factor:
        raise ConfigError(f"the 'noise' variant reached a noise ratio of {spec.noise_scale:.3f}, not about {factor}; "
                          "the model's budget split may have changed")
    spec.notes.append(f"fit with epsilon {spec.fit_epsilon:.4g} (noise x{spec.noise_scale:.3f}) while claiming {spec.epsilon:g}")


__all__ = ["BROKEN_VARIANTS", "Broken", "ModelSpec", "Release", "calibrate_broken_noise", "fit_release",
           "noise_parameter", "same_value"]
