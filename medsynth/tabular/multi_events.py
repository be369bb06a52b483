"""The rules of a patient's rows in a multi-table DP fit, decided under DP (:class:`EventDecisions`).

Beside its time fields (:mod:`medsynth.tabular.multi_decisions`), a folder fit decides afresh the rules the schema does
not declare: the child columns a parent's rows hold one value of (``constant``, or the parent's own: ``copied``), the
value that ends a patient's rows (``terminal``), the parent's yes/no column that says so (``flag``), whether the terminal
rows lie on the end of follow-up (``terminal_at_end``), and the values a patient holds once at most (``once``).
Candidates come from public names (a death, an event) and DP-released values; each decision is a noisy count of the
patients holding or contradicting it, with a support floor, and a note where the noise cannot tell.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.dataset import DatasetTable, Relation, canonical_keys
from medsynth.io.dataset_infer import (
    CONSTANT_COLUMN_SHARE,
    follow_up_named,
)
from medsynth.io.schema import _name_words, category_key
from medsynth.privacy.mechanisms import gaussian_sigma
from medsynth.privacy.noise import Generators
from medsynth.tabular.config import PrivacyConfig

#: Category values whose name says they end a person's rows (public words): a DP fit tests each such value of a child
#: category column (released by the DP category list) for a terminal event, a parent's rows never going on after it.
TERMINAL_WORDS = frozenset({"death", "dead", "died", "deceased", "expired", "censor", "censored", "censoring"})


#: ... of which these say a death: no row of a person follows one (public knowledge), so a value holding one (``death``,
#: ``relapse_or_death``) is kept where the noise cannot tell (:meth:`MultiTableDPMST._decide_terminal`) unless the
#: patients going on after it stand ``TERMINAL_OFF_SIGMAS`` deviations above ``TERMINAL_GO_SHARE`` of its holders: a data
#: scientist's myeloid (517 patients, 253 deaths) needed 349 holders for the support test at epsilon 1, and its
#: synthetic patients died up to four times in every fit.
DEATH_WORDS = frozenset({"death", "dead", "died", "deceased"})


TERMINAL_OFF_SIGMAS = 2.0


#: Words that turn a value's end word around (``no_death``, ``not dead``, ``alive``) or make it another person's
#: (``parent_died``, ``death_in_family``: a reviewer): no candidate.
NOT_WORDS = frozenset({"no", "not", "non", "without", "alive", "free", "survived", "parent", "parents", "family",
                       "spouse", "partner", "husband", "wife", "mother", "father", "sibling", "brother", "sister",
                       "relative", "relatives"})


#: Words that join others in a value's name (``relapse_or_death``): shared, they name nothing.
JOIN_WORDS = frozenset({"or", "and", "of", "the", "in", "at", "to", "by", "with"})


#: Words naming a child's yes/no column whose yes says the patient's event happened on that row (a counting-process
#: table's ``event`` or ``status``, a ``died`` column): its yes value is a terminal candidate, as a value named like an
#: end is. A data scientist's jasa heart folder (intervals with ``event`` 0/1, 1 on a dying patient's last row): no
#: candidate, and 23-48% of synthetic patients died twice at epsilon 10 (real none).
EVENT_COLUMN_WORDS = TERMINAL_WORDS | {"event", "status", "fustat", "outcome", "endpoint", "fail", "failure"}


#: The keys of a yes/no column's yes.
YES_KEYS = frozenset({"1", "True"})


#: Words beside :data:`EVENT_COLUMN_WORDS` that a yes/no column's name may hold and still say a person's own end
#: (``vital_status``).
VITAL_WORDS = frozenset({"vital", "vstatus"})


def event_flag(name: str) -> bool:
    """Whether a yes/no column's name says the person's own event and nothing else: every word of it in
    :data:`EVENT_COLUMN_WORDS` or :data:`VITAL_WORDS` (``event``, ``status``, ``fustat``, ``died``, ``vital_status``;
    not ``hiv_status``, ``smoking_status``: a reviewer saw a random ``hiv_status`` taken as the death flag on the names
    in 3 fits of 5)."""
    words = set(_name_words(name))
    return bool(words) and words <= (EVENT_COLUMN_WORDS | VITAL_WORDS)


def death_named(column: str, value: Any) -> bool:  # noqa: ANN401 - a category value of any type
    """Whether a terminal candidate names a death: its value (``death``, ``relapse_or_death``), or a yes in a column
    named so (``died`` = 1)."""
    if value_words(value) & DEATH_WORDS:
        return True
    words = set(_name_words(column))
    return bool(words & DEATH_WORDS) and not words & NOT_WORDS and category_key(value) in YES_KEYS


def event_value(column: str, value: Any) -> bool:  # noqa: ANN401 - a category value of any type
    """Whether a terminal candidate names a person's event: a death (:func:`death_named`), or a yes in a column named
    for one (:func:`event_flag`: ``event`` = 1)."""
    return death_named(column, value) or (event_flag(column) and category_key(value) in YES_KEYS)


def _names_one(flag: str, value: Any) -> bool:  # noqa: ANN401 - a category value of any type
    """Whether a yes/no column's name and a terminal value's name say the same thing (``death`` and ``death``,
    ``died`` and ``death``, ``relapse_or_death`` and ``relapse_or_death``): a word in common, or both a death word."""
    a, b = value_words(flag) - JOIN_WORDS, value_words(value) - JOIN_WORDS
    return bool(a & b or (a & DEATH_WORDS and b & DEATH_WORDS))


def value_words(value: Any) -> set[str]:  # noqa: ANN401 - a category value of any type
    """The lower-case words of a category value (split at anything not a letter or digit): ``relapse_or_death`` ->
    {relapse, or, death}."""
    return {w for w in re.split(r"[^0-9a-z]+", str(value).strip().lower()) if w}


#: ... kept where the patients holding it stand this many deviations above zero, and those whose rows go on after it
#: are at most this share of them plus half a deviation (a value 29% of its holders go on after is kept in about a
#: quarter of fits at 6 deviations of holders, in 8% at 10; a true terminal value in about 86%).
TERMINAL_SUPPORT_SIGMAS = 6.0


TERMINAL_GO_SHARE = 0.1


#: A parent's yes/no column is the flag of a terminal value (``flag``: a death flag and the death row) under DP where the
#: noisy count of the patients whose flag disagrees with their rows is at most this share of the noisy patients plus
#: this many deviations, with this share of the relation's decision budget (only where the parent has such a column).
FLAG_SHARE = 0.05


FLAG_SIGMAS = 1.0


ONCE_SHARE = 0.05


ONCE_SUPPORT_SIGMAS = 4.0


AT_END_SUPPORT_SIGMAS = 3.0


CONSTANT_SUPPORT_SIGMAS = 10.0


CONSTANT_SHARE = 0.05

#: A child column is held once per parent where at most this share of the patients with two rows or more hold two values
#: of it (the noisy counts; schema infer's share: quinidine's ages, a birthday between visits for 3-6% of the patients,
#: changed between the visits of 96-100% of the synthetic ones at 0.05, epsilon 100 too).
CONSTANT_HELD_SHARE = CONSTANT_COLUMN_SHARE


#: A child column of its parent's column's name is a copy of it unless the noisy count of the patients whose rows differ
#: from the parent's stands this many deviations above ``CONSTANT_SHARE`` of those holding both.
COPY_OFF_SIGMAS = 2.0


#: A decision is made only where the noise of its counts is at most this share of the patients, so that a column half
#: of the patients contradict passes in under 0.1% of fits (at 0.6 x n for the threshold, a 0/1 column was taken as
#: pbcseq's visit number in one of 20 fits and capped every patient at two visits: count TVD 0.83). Otherwise names
#: decide (``named`` in ``_decide_relation``: the time column, a bound named like an end, a start named like one; no
#: ``sequence``; declare them: a follow-up time bounding the visits is public knowledge).
MAX_SIGMA_SHARE = 0.08


def _holding(rows: pd.DataFrame, cands: list[tuple[str, Any]]) -> list[np.ndarray]:
    """For each (column, value) candidate, which rows hold it (keys read once per column by
    :func:`~medsynth.io.dataset.canonical_keys`; a missing value holds none)."""
    keys = {col: canonical_keys(rows[col]).to_numpy(dtype=object) for col in {c for c, _ in cands}}
    return [keys[col] == category_key(value) for col, value in cands]


def _fullest_column(ok: list[tuple[tuple[str, Any], float]]) -> tuple[str, list[Any]]:
    """Of kept (column, value) candidates with their noisy holders, the column whose values most patients hold, and its
    values (post-processing of the noisy counts)."""
    by_col: dict[str, float] = {}
    for (c, _), hh in ok:
        by_col[c] = by_col.get(c, 0.0) + float(hh)
    col = max(by_col, key=lambda c: by_col[c])
    return col, [v for (c, v), _ in ok if c == col]


def _beside_siblings(g: np.ndarray) -> np.ndarray:
    """Whether each child row's parent (``g``) holds two rows or more: where an order, or a value held once per
    parent, can be seen at all."""
    gs = pd.Series(g)
    return gs.map(gs.value_counts()).to_numpy() > 1

class EventDecisions:
    """Decisions of the rules of a patient's rows under DP (see the module docstring); a mixin of
    :class:`~medsynth.tabular.multi_decisions.RelationDecisions`."""

    privacy: PrivacyConfig
    ledger: Any
    is_private: bool  # provided by the synthesizer (a property there)
    config: Any  # the synthesizer's config (max_children, child_numbers)

    def _decide_constant(self, rel: Relation, child: DatasetTable, rows: pd.DataFrame, prow: pd.DataFrame,
                         g: np.ndarray, units: np.ndarray, taken: set[str], rho: float, n_hat: float,
                         gens: Generators, parent_ok: set[str]) -> tuple[list[str], list[str]]:
        """The child columns held once per parent and those copied from the parent's column of the same name, decided
        under DP (``CONSTANT_*``): one noisy count of the patients (root units) with a parent holding two rows or
        more, and one per candidate (every modelled column but keys and the time order: public names) of those whose
        parent's rows hold two values of it; for each candidate the parent holds too (same name, public), one count
        of the patients with a row holding both and one of those whose row differs from its parent's. Sensitivity
        ``sqrt(1 + k + 2m)``. A data scientist's quinidine: the age, weight and smoking a patient's visits repeat
        came out nine values per patient; respiratory's treatment differed from the patient's on half the visits."""
        from medsynth.io.dataset_infer import as_text, varying_groups

        cands = [c.name for c in child.columns if c.name not in taken and not c.omitted and c.name in rows.columns]
        same = [n for n in cands if n in prow.columns and n in parent_ok]  # (the parent's modelled columns, not keys)
        if not cands or rho <= 0:
            return [], []
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(1 + len(cands) + 2 * len(same)))
        if CONSTANT_SUPPORT_SIGMAS * sigma > n_hat:  # (nothing measured: not even every patient could tell)
            # where the noise cannot tell, the names do, as for the time fields: a child column of its parent's
            # column's name holds the parent's value (respiratory's 111 patients at epsilon 10: treat, sex and age
            # repeated on each visit varied within up to every patient)
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: at this budget a noisy count cannot tell which of its columns a parent's rows hold "
                "one value of (a patient's age repeated on each visit): "
                + (f"{same} take the parent's value of the column of their name, on the names alone; the others' are "
                   if same else "each row's is ") + "drawn on their own (nothing measured; declare them, constant: "
                "[COLUMN, ...] or copied: [COLUMN, ...] on the relation)")
            return [], same

        def patients(mask: np.ndarray) -> float:
            return float(len(np.unique(units[mask])))
        multi = _beside_siblings(g)
        support = patients(multi) + float(gens.noise.normal(0.0, sigma))
        bad = [patients(np.isin(g, varying_groups(rows[n], g))) for n in cands]
        noisy = np.asarray(bad) + gens.noise.normal(0.0, sigma, len(cands))
        constant = [n for n, b in zip(cands, noisy, strict=True)
                    if support >= CONSTANT_SUPPORT_SIGMAS * sigma and b <= CONSTANT_HELD_SHARE * support + sigma]
        if support < CONSTANT_SUPPORT_SIGMAS * sigma:  # (measured, and too few patients with two rows stood out:
            # said, as where nothing is measured; ebmt's site, one per patient, came out two values or more for 82% of
            # synthetic patients without a word)
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: at this budget the noisy count of patients with two rows or more stood under "
                f"{CONSTANT_SUPPORT_SIGMAS:g} deviations of its noise, so no column is taken as held once per patient "
                "(a patient's age repeated on each visit): each row's is drawn on its own, but for a column of the "
                "parent's name the names still copy (declare them, constant: [COLUMN, ...] or copied: [COLUMN, ...] on "
                "the relation)")
        copied = []
        for n in same:
            c, p = as_text(rows[n]).to_numpy(), as_text(prow[n]).to_numpy()[g]
            both = pd.notna(c) & pd.notna(p)
            held = patients(both) + float(gens.noise.normal(0.0, sigma))
            off = patients(both & (c != p)) + float(gens.noise.normal(0.0, sigma))
            # the name says a copy: kept unless the counts say otherwise (those differing stand COPY_OFF_SIGMAS
            # above the tolerance); asking the counts to confirm it dropped HELPfull's GROUP in about a third of its
            # fits at epsilon 10, where the names alone (epsilon 1) kept it in every fit (a QA engineer)
            if off <= CONSTANT_SHARE * max(held, 0.0) + COPY_OFF_SIGMAS * sigma:
                copied.append(n)
        self.ledger.record(f"relation {rel.label}: patients whose rows hold two values of each candidate constant "  # type: ignore[union-attr]
                           "column, patients with two rows or more, and for each column of the parent's name the "
                           "patients holding it and those whose rows differ from the parent's (decided under DP)",
                           "Gaussian mechanism (zCDP), one count per candidate column and one of the patients; two "
                           "per column of the parent's name", rho=rho, sigma=sigma, columns=cands,
                           usable=[n for n in constant if n not in copied], copied=copied)
        return [n for n in constant if n not in copied], copied

    def _decide_terminal(self, rel: Relation, rows: pd.DataFrame, g: np.ndarray, units: np.ndarray, t: np.ndarray,
                         cands: list[tuple[str, Any]], rho: float, gens: Generators) -> tuple[str | None, list[Any]]:
        """The terminal event under DP: for each candidate (a child category column's released value named like an
        end), a noisy count of the patients holding it and one of those whose rows go on after it (or hold it twice);
        sensitivity ``sqrt(2k)``. A value is kept where its holders stand ``TERMINAL_SUPPORT_SIGMAS`` deviations above
        zero and those going on are at most ``TERMINAL_GO_SHARE`` of them plus half a deviation (a rare value named
        'expired' that 29% of its holders went on after passed a threshold on all the patients: a reviewer); the column
        whose kept values most patients hold is the terminal one."""
        if rho <= 0:
            return None, []
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(2 * len(cands)))
        last_t = pd.Series(t).groupby(g).transform("max").to_numpy()
        followed = t < last_t - 1e-9
        holders, goers = [], []
        for held in _holding(rows, cands):
            twice = pd.Series(held).groupby(g).transform("sum").to_numpy() > 1
            holders.append(float(len(np.unique(units[held]))))
            goers.append(float(len(np.unique(units[held & (followed | twice)]))))
        h = np.asarray(holders) + gens.noise.normal(0.0, sigma, len(cands))
        go = np.asarray(goers) + gens.noise.normal(0.0, sigma, len(cands))
        ok, by_name = [], []
        for c, hh, gg in zip(cands, h, go, strict=True):
            if hh >= TERMINAL_SUPPORT_SIGMAS * sigma and gg <= TERMINAL_GO_SHARE * hh + 0.5 * sigma:
                ok.append((c, hh))
            elif death_named(*c) and gg <= TERMINAL_GO_SHARE * max(hh, 0.0) + TERMINAL_OFF_SIGMAS * sigma:
                ok.append((c, max(hh, 0.0)))  # (the noise cannot tell: a death ends a person's rows, by its name)
                by_name.append(f"{c[0]}={c[1]}")
        self.ledger.record(f"relation {rel.label}: patients holding each candidate terminal value, and those whose rows go "  # type: ignore[union-attr]
                           "on after it (decided under DP)", "Gaussian mechanism (zCDP), two counts per candidate value",
                           rho=rho, sigma=sigma, columns=sorted({c for c, _ in cands}),
                           candidates=[f"{c}={v}" for c, v in cands], usable=[f"{c}={v}" for (c, v), _ in ok],
                           by_name=by_name)
        if by_name:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: {', '.join(by_name)} ends a patient's rows by its name (a death: no row follows "
                "one); the noise of the counts could not confirm it, nor showed rows after it")
        if not ok:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: no value named like an end ({', '.join(f'{c}={v}' for c, v in cands)}) is kept as "
                "a terminal event (the noisy counts did not show it ends its patients' rows): synthetic patients may "
                "hold it twice or have rows after it; declare it in the relation (terminal, terminal_values) where it "
                "is public knowledge")
            return None, []
        return _fullest_column(ok)

    def _decide_once(self, rel: Relation, rows: pd.DataFrame, g: np.ndarray, units: np.ndarray,
                     cands: list[tuple[str, Any]], rho: float, gens: Generators) -> tuple[str | None, list[Any]]:
        """The values a parent holds once at most under DP: for each candidate (a released value of a column of the
        terminal candidates or named like an event), a noisy count of the patients holding it and one of those holding
        it on two rows; sensitivity ``sqrt(2k)``. Kept where the holders stand ``ONCE_SUPPORT_SIGMAS`` deviations
        above zero and those holding it twice are at most ``ONCE_SHARE`` of them plus one deviation; the column whose
        kept values most patients hold is the one. A data scientist's aidssi at epsilon 10: 15-25% of synthetic
        patients held an event twice (an AIDS diagnosis in 13-16%), real none."""
        if rho <= 0:
            return None, []
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(2 * len(cands)))
        holders, doubles = [], []
        for held in _holding(rows, cands):
            twice = pd.Series(held).groupby(g).transform("sum").to_numpy() > 1
            holders.append(float(len(np.unique(units[held]))))
            doubles.append(float(len(np.unique(units[held & twice]))))
        h = np.asarray(holders) + gens.noise.normal(0.0, sigma, len(cands))
        d = np.asarray(doubles) + gens.noise.normal(0.0, sigma, len(cands))
        ok = [(c, hh) for c, hh, dd in zip(cands, h, d, strict=True)
              if hh >= ONCE_SUPPORT_SIGMAS * sigma and dd <= ONCE_SHARE * hh + sigma]
        self.ledger.record(f"relation {rel.label}: patients holding each candidate value held once, and those holding it "  # type: ignore[union-attr]
                           "on two rows (decided under DP)", "Gaussian mechanism (zCDP), two counts per candidate value",
                           rho=rho, sigma=sigma, columns=sorted({c for c, _ in cands}),
                           candidates=[f"{c}={v}" for c, v in cands], usable=[f"{c}={v}" for (c, v), _ in ok])
        if not ok:
            return None, []
        return _fullest_column(ok)

    def _decide_at_end(self, rel: Relation, rows: pd.DataFrame, parent: pd.DataFrame, g: np.ndarray, units: np.ndarray,
                       t: np.ndarray, terminal: str, values: list[Any], within: str, codec_p: Any, pschema: Any,  # noqa: ANN401
                       rho: float, n_hat: float, gens: Generators) -> bool:
        """Whether the terminal rows lie on their parent's ``within`` time under DP: a noisy count of the patients
        holding a terminal value and one of those whose terminal row is not on it (sensitivity ``sqrt(2)``); kept where
        the holders stand ``AT_END_SUPPORT_SIGMAS`` deviations above zero and the second is at most ``CONSTANT_SHARE``
        of them plus one deviation; where they do not (or the noise is above ``MAX_SIGMA_SHARE`` of the patients), by
        the names: a death value and a bound named like the end of follow-up (:func:`follow_up_named`), unless the
        count off it stands ``TERMINAL_OFF_SIGMAS`` out. A data scientist's myeloid at epsilon 1: every real death on its
        patient's futime (253 of 253), 5 of 118 synthetic ones."""
        if rho <= 0:
            return False
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(2))
        named = bool(follow_up_named(within) and any(death_named(terminal, v) for v in values))
        gate = sigma > MAX_SIGMA_SHARE * n_hat  # (the noise cannot tell: the names decide, a death at the end of follow-up)
        off_note = (f"relation {rel.label}: the terminal rows ({terminal}) are not written on their parent's '{within}' "
                    "({why}): a synthetic patient's last row may fall before the end of their follow-up; declare "
                    "terminal_at_end: true in the relation where a death or the end of follow-up is recorded on that day "
                    "(public knowledge)")
        if gate and not named:
            self.ledger.notes.append(off_note.format(why="at this budget a noisy count cannot tell, and no name says it"))  # type: ignore[union-attr]
            return False
        bound = codec_p.numbers(pschema.column(within), parent[within])[g]
        ended = canonical_keys(rows[terminal]).isin([category_key(v) for v in values]).to_numpy(dtype=bool)
        off = ended & ~(np.abs(t - bound) <= 1e-9)
        h = float(len(np.unique(units[ended]))) + float(gens.noise.normal(0.0, sigma))
        o = float(len(np.unique(units[off]))) + float(gens.noise.normal(0.0, sigma))
        # (measured where the holders stand out of the noise, else by the names unless the count off it stands out:
        # with no floor, noise alone moved every death onto the follow-up in 6 of 10 fits of 200 patients, a reviewer)
        by_name = gate or h < AT_END_SUPPORT_SIGMAS * sigma
        ok = (named and o <= CONSTANT_SHARE * max(h, 0.0) + TERMINAL_OFF_SIGMAS * sigma if by_name
              else o <= CONSTANT_SHARE * max(h, 0.0) + sigma)
        self.ledger.record(f"relation {rel.label}: patients holding a terminal value, and those whose terminal row is "  # type: ignore[union-attr]
                           f"not on their parent's '{within}' (decided under DP)", "Gaussian mechanism (zCDP), two counts",
                           rho=rho, sigma=sigma, columns=[terminal, within], usable=bool(ok), by_name=by_name)
        if by_name and ok:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: at this budget a noisy count cannot tell whether the terminal rows lie on "
                f"'{within}'; they are written there on the names (a death at the end of follow-up; the count off it did "
                "not stand out; declare terminal_at_end in the relation to choose)")
        elif not ok:  # (said whatever schema infer read: a data scientist's aidssi deaths, every one on its patient's
            # futime, came off it in 81-93% of synthetic patients, and only a ledger entry's 'usable: false' said so)
            self.ledger.notes.append(off_note.format(why="the noisy counts did not show them there"))  # type: ignore[union-attr]
        return bool(ok)

    def _decide_flag(self, rel: Relation, rows: pd.DataFrame, parent: pd.DataFrame, g: np.ndarray, units: np.ndarray,
                     terminal: str, values: list[Any], cands: list[str], rho: float, n_hat: float,
                     gens: Generators) -> tuple[str | None, Any]:
        """The parent's flag of a terminal value under DP: for each candidate (a yes/no column of the parent, as
        released) and terminal value, a noisy count of the patients with a parent row whose flag disagrees with its
        holding a row of that value (a missing flag disagrees); sensitivity ``sqrt(k)`` for ``k`` pairs. A pair is
        usable where that count is at most ``FLAG_SHARE`` of the noisy patients plus ``FLAG_SIGMAS`` deviations; the
        fewest disagreements win. A data scientist's myeloid at epsilon 1: 35-230 of 517 synthetic patients flagged
        dead without a death row, or with one and not flagged (real none)."""
        from medsynth.io.dataset import flag_truth
        from medsynth.io.schema import category_key

        pairs = [(c, v) for c in cands for v in values]
        if rho <= 0 or not pairs:
            return None, None
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(pairs)))
        by_name = sigma > MAX_SIGMA_SHARE * n_hat
        if by_name:  # the noise cannot tell (a random 0/1 column was taken at 200 patients in 3-5 of 10 fits, a
            # reviewer): only a flag naming the value's death or sharing its words, or one named for the person's event
            # (fustat) beside a value naming a death or an event column's yes (event = 1), is a candidate, kept unless its
            # count of disagreeing patients stands out
            pairs = [(c, v) for c, v in pairs if _names_one(c, v) or (event_flag(c) and event_value(terminal, v))]
            if not pairs:
                return None, None
            sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(pairs)))
        text = canonical_keys(rows[terminal]).to_numpy()
        off = []
        for c, v in pairs:
            truth, known = flag_truth(parent[c], strict=False) or (np.zeros(0, bool), np.zeros(0, bool))  # (each row
            # judged on its own: one patient changes each pair's count by at most one)
            holds = np.zeros(len(parent), dtype=bool)
            holds[g[text == category_key(v)]] = True
            bad = ~known | (truth != holds)
            off.append(float(len(np.unique(units[bad]))))
        noisy = np.asarray(off) + gens.noise.normal(0.0, sigma, len(pairs))
        limit = FLAG_SHARE * max(n_hat, 0.0) + (TERMINAL_OFF_SIGMAS if by_name else FLAG_SIGMAS) * sigma
        ok = [k for k in range(len(pairs)) if noisy[k] <= limit]
        self.ledger.record(f"relation {rel.label}: patients whose parent's flag disagrees with their rows' terminal "  # type: ignore[union-attr]
                           "value, for each candidate flag (decided under DP)", "Gaussian mechanism (zCDP), one count "
                           "per candidate flag and terminal value", rho=rho, sigma=sigma, columns=sorted({c for c, _ in pairs}),
                           candidates=[f"{c}={v}" for c, v in pairs], usable=[f"{pairs[k][0]}={pairs[k][1]}" for k in ok],
                           by_name=by_name)
        if by_name and ok:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: at this budget a noisy count cannot tell which of the parent's yes/no columns "
                f"says a patient holds a terminal value; {pairs[ok[0]][0]}={pairs[ok[0]][1]} is taken on the names (its "
                "count of disagreeing patients did not stand out; declare flag and flag_value in the relation to choose)")
        if not ok:
            return None, None
        best = min(ok, key=lambda k: noisy[k])
        return pairs[best]
