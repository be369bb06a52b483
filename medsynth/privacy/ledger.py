"""The privacy ledger: every access to the real data, its mechanism and its cost, composed once.

Every fit writes ``privacy_ledger.json``. For a differentially private fit each entry is one access
to the data (a noisy count, domain estimates, marginals, DP-SGD training) with its cost as a Rényi-DP
curve: a Gaussian-type mechanism of zero-concentrated DP ``rho`` costs ``rho * alpha`` at every order
``alpha``; DP-SGD (Poisson-subsampled Gaussian) costs opacus' RDP curve of its noise multiplier,
sampling rate and steps. Curves add up under composition (that is what RDP and zCDP are for), and the
total is converted to (epsilon, delta) **once**, at the end, with the conversion of Balle et al. (2020)
over a dense grid of orders (and, for a ledger of zCDP entries only, the exact zCDP conversion of
Canonne, Kamath and Steinke (2020)). Mechanisms that are only approximately DP in a way RDP does not
capture (the stability threshold of a released category list) add their delta on top.

Adding epsilons of separately converted entries, as the ledger did before, is valid but loose;
composing first is both tighter and the one honest total. :meth:`PrivacyLedger.record` refuses an
entry that would take the composed total past the target, so a fit can never spend more than asked.

The ledger also names what the guarantee is about: the unit of privacy (a row of the table, or a
patient with all their rows), the neighbouring relation (add/remove one unit: the relation that
opacus' accountant and the histogram sensitivities assume; the number of units is then private, so
models use a noisy count), the bound on each unit's contribution, the assumptions declared public,
and where the noise comes from. Non-private fits write the same file with ``"private": false``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medsynth.core.errors import PrivacyBudgetError
from medsynth.core.files import write_json

#: Slack for floating-point round-off when comparing totals with targets.
_TOL = 1e-9
LEDGER_FILE = "privacy_ledger.json"
#: Rényi orders of the conversion: dense near 1 (large epsilons), up to 256 (small ones); ~40 ms per
#: DP-SGD curve (opacus' fractional-order series is the slow part).
ORDERS = np.unique(np.concatenate([1 + np.geomspace(0.01, 1, 20), np.arange(2.1, 12, 0.2), np.arange(12, 64),
                                   np.arange(64, 257, 8)]).astype(float))
RANDOMNESS = ("DP noise (mechanism noise, Poisson sampling masks, DP-SGD noise) is drawn from generators seeded with "
              "128 bits of operating-system entropy that are never stored or logged (numpy PCG64, torch's CPU/CUDA "
              "generators); the user's seed drives initialisation and post-fit sampling only. These generators are "
              "not cryptographically secure and floating-point noise is not hardened against precision attacks "
              "(Mironov 2012), as in opacus without secure_mode.")


@dataclass
class LedgerEntry:
    """One access to the real data.

    Attributes:
        access: what was computed (e.g. "ranges of columns read from the data").
        mechanism: how (e.g. "Gaussian mechanism (zCDP)", "DP-SGD (opacus, ghost clipping)").
        rho: zCDP cost (``None`` for DP-SGD or non-private entries).
        delta: extra delta on top of the RDP curve (e.g. a released category list's threshold).
        sgd: DP-SGD parameters ``{"noise_multiplier", "sample_rate", "steps"}`` (its RDP curve).
        epsilon: this entry's epsilon on its own at the ledger's delta (informational: the total is
            composed from the curves, not from these).
        columns: the columns it touched.
        details: mechanism parameters (sigma, thresholds, ...).
    """

    access: str
    mechanism: str
    rho: float | None = None
    delta: float | None = None
    sgd: dict[str, float] | None = None
    epsilon: float | None = None
    columns: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def sgd_rdp(noise_multiplier: float, sample_rate: float, steps: int, orders: np.ndarray = ORDERS) -> np.ndarray:
    """RDP curve of ``steps`` Poisson-subsampled Gaussian steps (opacus' analysis)."""
    if steps <= 0:
        return np.zeros_like(orders, dtype=float)
    from opacus.accountants.analysis.rdp import compute_rdp

    return np.asarray(compute_rdp(q=float(sample_rate), noise_multiplier=float(noise_multiplier), steps=int(steps),
                                  orders=[float(a) for a in orders]), dtype=float)


def rdp_to_epsilon(rdp: np.ndarray, delta: float, orders: np.ndarray = ORDERS) -> float:
    """(epsilon, delta) from an RDP curve (Balle et al. 2020, Thm 21; opacus' conversion)."""
    if delta <= 0:
        return math.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        eps = rdp - (math.log(delta) + np.log(orders)) / (orders - 1) + np.log((orders - 1) / orders)
    eps = eps[np.isfinite(eps)]
    return float(max(eps.min(), 0.0)) if eps.size else math.inf


class PrivacyLedger:
    """Records accesses and keeps their composition within the target.

    Args:
        private: whether the fit claims differential privacy.
        target_epsilon: the budget's epsilon (``None`` for non-private fits).
        target_delta: the budget's delta.
        unit: the unit of privacy (e.g. "one row of the table").
        neighbouring: the neighbouring relation the guarantee is stated for.
        contribution_bound: how much one unit may contribute (e.g. "1 row").
    """

    def __init__(self, *, private: bool, target_epsilon: float | None = None, target_delta: float | None = None,
                 unit: str = "one row of the table", neighbouring: str = "add/remove one unit",
                 contribution_bound: str = "1 row per unit") -> None:
        if private:
            if target_epsilon is None or not (target_epsilon > 0) or not math.isfinite(target_epsilon):
                raise PrivacyBudgetError(f"target epsilon {target_epsilon!r} must be a positive finite number")
            if target_delta is None or not (0 < target_delta < 1):
                raise PrivacyBudgetError(f"target delta {target_delta!r} must be in (0, 1)")
        self.private = private
        self.target_epsilon = target_epsilon if private else None
        self.target_delta = target_delta if private else None
        self.unit, self.neighbouring, self.contribution_bound = unit, neighbouring, contribution_bound
        self.public_assumptions: list[str] = []
        self.notes: list[str] = []
        self.reserved_delta = 0.0
        self.level_delta = 0.0
        self.asked_delta: float | None = None  # the delta asked, where a lower level was taken (lower_delta)
        self.entries: list[LedgerEntry] = []
        #: entries of earlier DP runs written to the same run directory and overwritten (``--force``): not this fit's
        #: spend, kept so that the data's whole spend composes across attempts (:func:`~medsynth.tabular.run._note_earlier`)
        self.earlier_entries: list[LedgerEntry] = []
        self.created = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.status = "complete"

    # -- budget ---------------------------------------------------------------------------------
    def reserve_delta(self, delta: float) -> None:
        """Set aside ``delta`` of the target for mechanisms with an extra delta (category thresholds).

        The RDP total is converted at the remaining delta, so reserve before budgeting rho.
        """
        if not self.private:
            return
        if not 0 <= delta < self.target_delta:  # type: ignore[operator]
            raise PrivacyBudgetError(f"cannot reserve delta {delta:g} of the target {self.target_delta:g}")
        self.reserved_delta = float(delta)

    def lower_delta(self, used: float, claim: float, note: str) -> None:
        """Take a lower delta level, chosen from the noisy row count (:func:`delta_level`), before any budget but the
        count's is planned: the run is converted at ``used`` (less the thresholds' share, which keeps its proportion) and
        ``claim - used`` covers the other levels the count could have chosen for a table of this size; the target becomes
        ``claim``. The count's rho was planned at the old target: :meth:`take_delta_level` refuses a level whose budget
        it would take more than ``LEVEL_COUNT_SHARE`` of."""
        if not self.private:
            return
        if not 0 < used <= claim <= self.target_delta:  # type: ignore[operator]
            raise PrivacyBudgetError(f"cannot lower delta {self.target_delta:g} to {claim:g} (converted at {used:g})")
        share = self.reserved_delta / float(self.target_delta)  # type: ignore[arg-type]
        self.asked_delta = self.asked_delta or float(self.target_delta)  # type: ignore[arg-type]
        self.target_delta, self.level_delta, self.reserved_delta = float(claim), float(claim - used), share * float(used)
        for e in self.entries:  # each entry's own epsilon, at the new conversion delta
            if e.rho or e.sgd:
                e.epsilon = _epsilon([e], self.conversion_delta)
        self.notes.append(note)

    def take_delta_level(self, rows_noisy: float, sigma: float, *, unit: str = "rows") -> float | None:
        """Delta must be below 1/n: a table the noisy count of its units (``rows_noisy``, noise ``sigma``) shows too
        large for the target delta takes a lower level (:func:`delta_level`, :meth:`lower_delta`) instead of a refusal,
        with a note. Returns the delta the run now claims, or None when the target stands as it was.

        Raises:
            PrivacyBudgetError: where no level can be chosen (see :func:`delta_level`).
        """
        if not self.private:
            return None
        asked = float(self.target_delta)  # type: ignore[arg-type]
        level = delta_level(asked, rows_noisy, sigma, unit=unit)
        if level is None:
            return None
        from medsynth.privacy.mechanisms import cdp_rho

        used, claim, lowest = level
        # every level the window reaches must leave the models their budget after the count (planned at the asked delta)
        need = self.rho_spent / cdp_rho(float(self.target_epsilon), lowest * (1 - self.reserved_delta / asked))  # type: ignore[arg-type]
        if need > LEVEL_COUNT_SHARE:
            raise PrivacyBudgetError(
                f"delta {asked:g} must be below 1/n, n = {unit} (about {rows_noisy:.0f}); a lower level ({used:g}) leaves "
                f"too little budget after the count, which was planned at {asked:g} ({need:.0%} of it): pass a delta "
                f"below 1/n yourself, e.g. --delta {used:g}")
        note = (f"delta {claim:.3g} instead of the {asked:g} asked: the noisy count of {unit} (about {rows_noisy:.0f}) "
                f"shows a table too large for {asked:g} (delta must be below 1/n); the level was chosen from that DP "
                "count (converted at " f"{used:g}; {claim - used:.2g} covers the other levels a table of this size may get, "
                "and a count 7 deviations off). The guarantee is for tables of about this size; for every table the run "
                f"is ({self.target_epsilon:g}, {asked:g})-DP. To choose the level yourself, pass a --delta below 1/n (e.g. "
                f"--delta {used:g})")
        self.lower_delta(used, claim, note)
        return claim

    def level_sentence(self) -> list[str]:
        """A model card's line on a delta level taken below the one asked (:meth:`take_delta_level`), if any."""
        if not (self.private and self.asked_delta):
            return []
        return [f"- Delta {self.target_delta:.3g} was chosen from the noisy row count, below the {self.asked_delta:g} asked, "
                f"for a table too large for it: it holds for tables of about this size; for every table the run is "
                f"({self.target_epsilon:g}, {self.asked_delta:g})-DP."]

    @property
    def conversion_delta(self) -> float:
        """The delta at which the composed RDP curve is converted (target minus the reserved parts)."""
        return float(self.target_delta) - self.reserved_delta - self.level_delta  # type: ignore[arg-type]

    @property
    def rho_budget(self) -> float:
        """The total zCDP budget that converts to the target at :attr:`conversion_delta`."""
        from medsynth.privacy.mechanisms import cdp_rho

        return cdp_rho(float(self.target_epsilon), self.conversion_delta)  # type: ignore[arg-type]

    @property
    def rho_spent(self) -> float:
        """The zCDP cost of the entries recorded so far (DP-SGD entries excluded)."""
        return float(sum(e.rho or 0.0 for e in self.entries))

    def rho_remaining(self) -> float:
        """zCDP budget left (only meaningful while no DP-SGD entry has been recorded)."""
        if any(e.sgd for e in self.entries):
            raise PrivacyBudgetError("the ledger holds DP-SGD entries; their cost is not a zCDP rho")
        return max(self.rho_budget - self.rho_spent, 0.0)

    def curve(self, extra: list[LedgerEntry] | None = None) -> np.ndarray:
        """The composed RDP curve of the entries (plus ``extra``) over :data:`ORDERS`."""
        return _curve_of([*self.entries, *(extra or [])])

    def epsilon_of(self, extra: list[LedgerEntry] | None = None) -> float:
        """The composed epsilon (at :attr:`conversion_delta`) of the entries plus ``extra``."""
        return _epsilon([*self.entries, *(extra or [])], self.conversion_delta)

    # -- totals ---------------------------------------------------------------------------------
    @property
    def total_epsilon(self) -> float:
        """The composed epsilon of every entry (infinite for a non-private ledger)."""
        return self.epsilon_of() if self.private else float("inf")

    @property
    def total_delta(self) -> float:
        """Delta of the claim: the conversion delta plus every entry's extra delta (<= target)."""
        if not self.private:
            return 1.0
        if not any(e.rho or e.sgd for e in self.entries):
            return float(sum(e.delta or 0.0 for e in self.entries))
        return self.conversion_delta + float(sum(e.delta or 0.0 for e in self.entries)) + self.level_delta

    def remaining(self) -> tuple[float, float]:
        """(epsilon, delta) not yet spent, as a rough guide (budget by :meth:`rho_remaining` instead)."""
        if not self.private:
            return float("inf"), 1.0
        return (max(self.target_epsilon - self.total_epsilon, 0.0),  # type: ignore[operator]
                max(self.reserved_delta - sum(e.delta or 0.0 for e in self.entries), 0.0))

    # -- recording -------------------------------------------------------------------------------
    def record(
        self,
        access: str,
        mechanism: str,
        *,
        rho: float | None = None,
        delta: float | None = None,
        sgd: dict[str, float] | None = None,
        columns: list[str] | None = None,
        **details: Any,
    ) -> LedgerEntry:
        """Add an access. In a private ledger it must carry a cost (``rho`` and/or ``sgd``, or ``delta``).

        Raises:
            PrivacyBudgetError: when the entry would take the composed total past the target.
        """
        entry = LedgerEntry(access=access, mechanism=mechanism, columns=list(columns or []), details=details)
        if self.private:
            if rho is None and sgd is None and not delta:
                raise PrivacyBudgetError(f"ledger entry '{access}' of a private fit needs a cost (rho, sgd or delta)")
            if (rho is not None and rho < 0) or (delta is not None and delta < 0):
                raise PrivacyBudgetError(f"ledger entry '{access}': rho {rho} and delta {delta} must be non-negative")
            entry.rho, entry.delta, entry.sgd = rho, delta, dict(sgd) if sgd else None
            extra_delta = sum(e.delta or 0.0 for e in self.entries) + (delta or 0.0)
            if extra_delta > self.reserved_delta * (1 + _TOL) + 1e-300:
                raise PrivacyBudgetError(
                    f"'{access}' needs delta {delta:g} beyond the {self.reserved_delta:g} reserved for thresholds")
            eps_after = self.epsilon_of([entry])
            if eps_after > self.target_epsilon * (1 + _TOL) + _TOL:  # type: ignore[operator]
                raise PrivacyBudgetError(
                    f"'{access}' would take the composed epsilon to {eps_after:.4g}, past the target "
                    f"{self.target_epsilon:g} (delta {self.target_delta:g})")
            entry.epsilon = _epsilon([entry], self.conversion_delta)
        self.entries.append(entry)
        return entry

    def mark_if_audited(self) -> bool:
        """Mark a DP fit starting now as insecure when an audit-only hook is active (seeded noise, canaries).

        Reads :func:`medsynth.privacy.noise.insecure_audit_reasons` and writes them into ``status``
        (``"insecure: ..."``) and a note; ``medsynth tabular export`` refuses such a run. Returns whether
        it marked the ledger (never outside an audit).
        """
        from medsynth.privacy.noise import insecure_audit_reasons, noise_is_overridden

        insecure = insecure_audit_reasons()
        if not self.private or not insecure:
            return False
        self.status = "insecure: " + "; ".join(insecure)
        if noise_is_overridden():
            self.notes.append("INSECURE: this fit ran inside insecure_noise_for_audit (noise regenerable from a seed); "
                              "it exists to test the audit and must never be released")
        else:
            self.notes.append(f"INSECURE: this fit ran under audit-only hooks ({'; '.join(insecure)}); it exists to test "
                              "the audit and must never be released")
        return True

    def assume_public(self, what: str) -> None:
        """State an assumption the guarantee rests on (e.g. a column's declared bounds)."""
        if what not in self.public_assumptions:
            self.public_assumptions.append(what)

    # -- files -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The ledger as ``privacy_ledger.json`` holds it."""
        return {
            "private": self.private,
            "status": self.status,
            "composition": ("RDP/zCDP curves of all entries added, converted to (epsilon, delta) once "
                            "(Balle et al. 2020; exact zCDP conversion when every entry is zCDP)") if self.private else None,
            "target_epsilon": self.target_epsilon,
            "target_delta": self.target_delta,
            "total_epsilon": self.total_epsilon if self.private else None,
            "total_delta": self.total_delta if self.private else None,
            "total_rho": self.rho_spent if self.private else None,
            "reserved_delta": self.reserved_delta if self.private else None,
            "delta_level_part": self.level_delta if self.private else None,
            "asked_delta": self.asked_delta if self.private else None,
            "unit_of_privacy": self.unit,
            "neighbouring_relation": self.neighbouring,
            "contribution_bound": self.contribution_bound,
            "public_assumptions": list(self.public_assumptions),
            "randomness": RANDOMNESS if self.private else None,
            "notes": list(self.notes),
            "created": self.created,
            "entries": [asdict(e) for e in self.entries],
            **({"earlier_runs_entries": [asdict(e) for e in self.earlier_entries]} if self.earlier_entries else {}),
        }

    def save(self, path: str | Path) -> Path:
        """Atomically write the ledger (a folder gets ``privacy_ledger.json``)."""
        p = Path(path)
        if p.is_dir() or p.suffix == "":
            p = p / LEDGER_FILE
        write_json(p, _finite(self.to_dict()))
        return p

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrivacyLedger:
        """A ledger from :meth:`to_dict`'s output."""
        led = cls(private=bool(data["private"]), target_epsilon=data.get("target_epsilon"),
                  target_delta=data.get("target_delta"),
                  unit=data.get("unit_of_privacy", "one row of the table"),
                  neighbouring=data.get("neighbouring_relation", "add/remove one unit"),
                  contribution_bound=data.get("contribution_bound", "1 row per unit"))
        led.created = data.get("created", led.created)
        led.status = data.get("status", "complete")
        led.public_assumptions = list(data.get("public_assumptions") or [])
        led.notes = list(data.get("notes") or [])
        fields = set(LedgerEntry.__dataclass_fields__)
        led.entries = [LedgerEntry(**{k: v for k, v in e.items() if k in fields}) for e in data.get("entries", [])]
        led.earlier_entries = [LedgerEntry(**{k: v for k, v in e.items() if k in fields})
                               for e in data.get("earlier_runs_entries", [])]
        led.reserved_delta = float(data.get("reserved_delta") or 0.0)
        led.level_delta = float(data.get("delta_level_part") or 0.0)
        led.asked_delta = data.get("asked_delta")
        return led

    @classmethod
    def load(cls, path: str | Path) -> PrivacyLedger:
        """Read a ``privacy_ledger.json`` (or the one in folder ``path``)."""
        p = Path(path)
        if p.is_dir():
            p = p / LEDGER_FILE
        return cls.from_dict(json.loads(p.read_text(encoding="utf-8")))


#: Half-width, in deviations of the noisy row count, of the sizes a table may have given its count: a count further off
#: has probability ``_TAIL`` (2 Phi(-7)), which every lowered claim adds; :func:`delta_level` sums the levels of every count
#: within twice this of the one observed.
LEVEL_WINDOW = 7.0
_TAIL = 2.6e-12
#: A table too large for its delta is converted at the power of ten at or below this share of 1/n ...
LEVEL_MARGIN = 0.5
#: ... and the claim must stay below this share of 1/n for every size the count allows.
LEVEL_CLAIM_MAX = 0.6
#: A lower level is refused when the row count (planned at the asked delta) would take more than this share of its budget.
LEVEL_COUNT_SHARE = 0.1


def delta_level(delta: float, rows_noisy: float, sigma: float, *, unit: str = "rows") -> tuple[float, float, float] | None:
    """The delta a DP fit takes when ``delta`` is not below 1/n for its table (n: the noisy row count plus 3 deviations),
    instead of refusing: ``(used, claim, lowest)``, the delta the run is converted at, the delta it claims and the lowest
    level its window reaches; None when ``delta`` is below 1/n.

    A table too large for ``delta`` is converted at the power of ten at or below ``LEVEL_MARGIN`` / n (``used``). The level
    is chosen from the noisy count, so a table of n rows may get any level that a count within ``LEVEL_WINDOW`` deviations
    of n chooses; each level's run is (epsilon, level)-DP, so the table's guarantee is the sum of those levels' deltas plus
    the chance of a count further off. A run claims the sum of the levels of every count within ``2 * LEVEL_WINDOW``
    deviations of the one observed (which holds every size that count allows), plus that chance: for a large table about
    0.56 / n. No count that keeps ``delta`` lies within that window (such a run is refused), and a run that keeps ``delta``
    claims it for every table: every branch spends at most what ``delta`` allows, so the whole mechanism is
    (epsilon, delta)-DP. A lowered claim is a guarantee for tables of about the observed size.

    Raises:
        PrivacyBudgetError: for a table too large for ``delta`` whose window reaches sizes that keep it (a count within
            about 14 deviations above 1/delta rows), sizes near zero, or sizes for which the claim would not stay below
            ``LEVEL_CLAIM_MAX`` / n; the message names a delta to pass.
    """
    def kept(n: float) -> bool:
        return delta < 1.0 / max(n + 3 * sigma, 1e-300)

    def power(n: float) -> int:
        return math.floor(math.log10(LEVEL_MARGIN / max(n + 3 * sigma, 1e-300)))

    if kept(rows_noisy):
        return None
    lo, hi = rows_noisy - 2 * LEVEL_WINDOW * sigma, rows_noisy + 2 * LEVEL_WINDOW * sigma

    def refuse(why: str) -> PrivacyBudgetError:
        return PrivacyBudgetError(
            f"delta {delta:g} must be below 1/n, n = {unit} (a larger delta allows leaking whole records), and the "
            f"noisy count of {unit} (about {rows_noisy:.0f}) is too {why} for the fit to choose a lower delta itself; "
            f"use e.g. --delta {10.0 ** power(hi):g}")

    if lo <= 10 * sigma:
        raise refuse("small")
    if kept(lo):
        raise refuse("close to 1/delta")
    claim = float(sum(10.0 ** k for k in range(power(hi), power(lo) + 1))) + _TAIL
    if claim * (rows_noisy + LEVEL_WINDOW * sigma) > LEVEL_CLAIM_MAX:
        raise refuse("small")
    return 10.0 ** power(rows_noisy), claim, 10.0 ** power(hi)


def delta_text(delta: float) -> str:
    """A delta in three significant digits, rounded up: a claim is never printed below what it is (two digits had
    printed 1.05e-06 as 1e-06)."""
    if not (delta > 0) or not math.isfinite(delta):
        return format(delta, "g")
    unit = 10.0 ** (math.floor(math.log10(delta)) - 2)
    return format(math.ceil(delta / unit * (1 - 1e-12)) * unit, ".3g")


def _curve_of(entries: list[LedgerEntry]) -> np.ndarray:
    total = np.zeros_like(ORDERS, dtype=float)
    for e in entries:
        if e.rho:
            total = total + e.rho * ORDERS
        if e.sgd:
            total = total + sgd_rdp(e.sgd["noise_multiplier"], e.sgd["sample_rate"], int(e.sgd["steps"]))
    return total


def _epsilon(entries: list[LedgerEntry], delta: float) -> float:
    if not any(e.rho or e.sgd for e in entries):
        return 0.0
    eps = rdp_to_epsilon(_curve_of(entries), delta)
    if not any(e.sgd for e in entries):  # pure zCDP: the exact conversion is at least as tight
        from medsynth.privacy.mechanisms import cdp_epsilon

        eps = min(eps, cdp_epsilon(sum(e.rho or 0.0 for e in entries), delta))
    return eps


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by None so the JSON stays strict."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


__all__ = ["LEDGER_FILE", "LEVEL_COUNT_SHARE", "LEVEL_WINDOW", "ORDERS", "LedgerEntry", "PrivacyLedger", "delta_level", "delta_text", "rdp_to_epsilon", "sgd_rdp"]
