"""Category lists released under DP, and text found in number columns.

A category column's list is a thresholded noisy histogram (:func:`thresholded_release`) whose public keys (flag
spellings, common words, one-letter codes: counted whatever the data, no delta) are post-processed by
their vocabulary (:func:`_words_kept`, :func:`_flag_keys_released`, :func:`_flag_pair_released`,
:func:`_group_released`); a family of columns whose names differ only in their numbers shares one list
(:func:`release_family_lists`). A number column's location histogram counts its text cells on the flag pairs of
:data:`TEXT_PAIRS` (:func:`_text_buckets`), so a yes/no column the noise typed numbers, or text answers beside a small
code, are seen by the same measurement (:func:`_flag_text`, :func:`_text_beside_code`). Used by
:func:`medsynth.tabular.domain.resolve_domain`.
"""


from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from medsynth.io.schema import zero_padded
from medsynth.privacy.locate import (
    FLAG_PARTNER_SIGMAS,
    Location,
)
from medsynth.privacy.mechanisms import (
    PRESENCE_SIGMAS,
    category_threshold,
    dp_category_counts,
    gaussian_sigma,
    noisy_counts,
)
from medsynth.tabular.schema import (
    ColumnSchema,
    category_key,
    category_keys,
)
from medsynth.tabular.structure import (
    CATEGORY_GROUPS,
    CATEGORY_KEYS,
    FLAG_KEYS,
    FLAG_WORDS,
    LETTER_KEYS,
    LETTER_PAIRS,
    STRUCTURE_ACCESS,
    flag_partner,
    flag_vocabulary,
    name_families,
)


def _sorted_categories(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _flag_keys_released(released: list[str], noisy_of: dict[str, float], sigma: float,
                        threshold: float = math.inf) -> tuple[list[str], bool]:
    """Post-processing of a category release whose flag spellings were public keys (counted whatever the data): a
    flag word released beside other categories stays only with its partner above the noise, or above ``threshold``
    (the one other categories pass: 'F' of a sex column stays), so 'FALSE' from noise alone does not join a sex
    column; where every released value is a flag word, a kept one brings its partner when that stands
    ``FLAG_PARTNER_SIGMAS`` above zero, and only the spelling of the largest count stays (no 'false' beside No/Yes).
    Reads only noisy counts and the public vocabulary. Returns the keys and whether a partner joined."""
    def partner_key(k: str) -> str | None:
        p = flag_partner(_canonical(k))
        return None if p is None else category_key(p)

    def strong(k: str | None) -> bool:
        return k is not None and noisy_of.get(k, 0.0) > FLAG_PARTNER_SIGMAS * sigma

    others = [k for k in released if k not in FLAG_KEYS]
    public = [k for k in released if k in FLAG_KEYS
              and (not others or strong(partner_key(k)) or noisy_of.get(k, 0.0) > threshold)]
    if not others and public:  # one spelling: that of the largest count ('false' from noise never joins No/Yes)
        top = flag_vocabulary(_canonical(max(public, key=lambda k: noisy_of.get(k, 0.0))))
        public = [k for k in public if flag_vocabulary(_canonical(k)) == top]
    partners = [pk for k in public if not others and (pk := partner_key(k)) is not None and pk not in public
                and strong(pk)]  # only where every released value is a flag word
    return others + public + list(dict.fromkeys(partners)), bool(partners)


#: False-positive rates of the tests that release public keys (values named before any data, no delta), per column:
#: a flag spelling alone; a flag pair (both values of one spelling) on its two noisy counts together, where neither
#: value passed alone; a common word alone; a group of words on their noisy counts together; a one-letter code.
#: Together (union bound) a value that no row holds is released in at most ~1.2% of columns: the review of a first
#: version (1% + 1% + 0.5% x 3) found one in 3-5% of columns of rare codes (FEMALE/MALE in a column of 100 codes).
FLAG_FALSE_RATE = 0.005


PAIR_FALSE_RATE = 0.003


WORD_FALSE_RATE = 0.0015


GROUP_FALSE_RATE = 0.001


LETTER_FALSE_RATE = 0.0015


#: Every (value, partner) pair of :data:`FLAG_KEYS` in one spelling ('no'/'yes', 'No'/'Yes', ..., '0'/'1').
FLAG_PAIRS: tuple[tuple[str, str], ...] = tuple(dict.fromkeys(
    [*((f(a), f(b)) for a, b in FLAG_WORDS for f in (str, str.capitalize, str.upper)), ("0", "1")]))


#: The flag pairs written as words: the text buckets of a number column's location histogram (then one for any
#: other text).
TEXT_PAIRS = tuple(pr for pr in FLAG_PAIRS if set(pr) != {"0", "1"} and not any("_" in k for k in pr))  # (not 0_no/1_yes:
# a bucket more spreads the noise of a number column's text over one more cell, for a spelling no number column holds)


def _group_by_sum(groups: tuple[tuple[str, ...], ...], rate: float, noisy_of: dict[str, float],
                  sigma: float) -> tuple[str, ...] | None:
    """The group of public keys whose noisy counts sum highest, when that sum (noise ``sqrt(k) sigma``) clears the
    threshold corrected for the number of groups (false-positive rate ``rate``), else None. Post-processing of
    noisy counts of public keys (each released already) and a public vocabulary."""
    z = math.sqrt(2) * float(special.erfinv(1 - 2 * rate / len(groups)))
    score, best = max(((sum(noisy_of.get(k, 0.0) for k in g) / math.sqrt(len(g)), g) for g in groups),
                      key=lambda t: t[0])
    return best if score > z * sigma else None


def _flag_pair_released(noisy_of: dict[str, float], sigma: float, scale: float = 1.0) -> list[str]:
    """Where no value of a category release cleared its threshold: the flag pair released on its two noisy counts
    together (:func:`_group_by_sum`), most frequent first, or []. A yes/no column of 302 rows split 130/132 at noise
    39 released neither half (3.3 sigma each against 3.26) about half the time; their sum stands 4.8 deviations of
    its noise above zero."""
    best = _group_by_sum(FLAG_PAIRS, PAIR_FALSE_RATE * scale, noisy_of, sigma)
    return [] if best is None else sorted(best, key=lambda k: -noisy_of.get(k, 0.0))


#: The flags' false-positive rates (a flag key alone, a flag pair on its sum) hold per column up to this many category
#: columns in a table, and are shared beyond (each scaled by this over the columns): a sparse number column the noise
#: typed categorical got TRUE/FALSE or y/n from noise alone in 1.3% of releases (quinidine's conc, a data scientist's
#: folder), so a wide table of such columns had one in a few fits. Words and letters keep their rates: scaled too,
#: 20 x/z columns of 300 rows at epsilon 0.3 lost their second letter and the fit released nothing usable.
PUBLIC_KEY_COLUMNS = 10


#: A word of a group of three or more released on the group's sum stands this many noise deviations above zero.
GROUP_MEMBER_SIGMAS = 2.0


#: Every public key of a category release.
PUBLIC_KEYS = frozenset(FLAG_KEYS) | frozenset(CATEGORY_KEYS) | frozenset(LETTER_KEYS)


#: The public keys of a category release beyond the flags, with their false-positive rates.
PUBLIC_GROUPS: tuple[tuple[tuple[str, ...], float], ...] = ((CATEGORY_KEYS, WORD_FALSE_RATE),
                                                            (LETTER_KEYS, LETTER_FALSE_RATE))


#: A word (public, counted whatever the data) of another group than every value released beside it that stands this sure
#: out (the union bound's threshold over every word and letter at this false rate) stays only as sure: its group's own
#: rate (0.15% over 114 words) lets noise through in about 1 column of 600, and beside an established value nothing
#: struck it out again: flchain's F/M took 'divorced', 'HIGH' or 'Never' in 3 of 3,000 draws (about 1.5% of the
#: synthetic rows each, 4.4 noise deviations). A word of a sure value's own group keeps its group's rate (for every
#: word, a rare 'asian' beside white/black was kept half as often, a reviewer found), so a noise letter beside F/M
#: ('W', 'P': 3 of 3,000) still may join; a hand-written list's values are never struck.
SURE_FALSE_RATE = 1e-4


SURE_WORD_SIGMAS = math.sqrt(2) * float(special.erfinv(1 - 2 * SURE_FALSE_RATE / (len(CATEGORY_KEYS) + len(LETTER_KEYS))))


def unsure_kinds(entries: list[Any]) -> list[str]:
    """The columns whose kind (numbers or text) a DP fit's type decisions among ``entries`` (ledger entries) took on the
    noise's word (numbers minus the rest within 3 deviations of zero: :func:`~medsynth.tabular.structure.decide_structure`)."""
    return [c for e in entries if e.access.endswith(STRUCTURE_ACCESS) for c in (e.details or {}).get("unsure_kind") or []]


def unsure_whole(entries: list[Any], table: str | None = None) -> list[str]:
    """The number columns whose whole-or-not count a DP fit's type decisions among ``entries`` could not decide
    (``undecided_numbers``: modelled as continuous unless their DP range made them whole); ``table``: a folder's table's
    only (its entries' accesses begin ``table 'NAME':``)."""
    return [c for e in entries if e.access.endswith(STRUCTURE_ACCESS)
            and (table is None or e.access.startswith(f"table '{table}':")) for c in (e.details or {}).get("undecided_numbers") or []]


def _word_group(k: str) -> tuple[str, ...] | None:
    if k in LETTER_KEYS:
        return LETTER_KEYS
    return next((g for g in CATEGORY_GROUPS if k in g), None)


def _words_kept(released: list[str], noisy_of: dict[str, float], threshold: float) -> list[str]:
    """Post-processing of a category release with public words and letters (:data:`PUBLIC_GROUPS`): a word
    released alone from its group beside other released values (flags, values read from the data, another group)
    stays only above ``threshold`` (the one values read from the data pass), so a noise-only 'F' does not join a
    yes/no column; where only words were released, the group of the largest noisy total stays whole."""
    words = [k for k in released if _word_group(k) is not None]
    if not words:
        return released
    others = [k for k in released if k not in words]
    by_group: dict[tuple[str, ...], list[str]] = {}
    for k in words:
        by_group.setdefault(_word_group(k), []).append(k)  # type: ignore[arg-type]
    home = None if others else max(by_group, key=lambda g: sum(noisy_of.get(k, 0.0) for k in by_group[g]))
    keep = {k for g, ks in by_group.items() for k in ks
            if g == home or len(ks) >= 2 or noisy_of.get(k, 0.0) > threshold}
    return [k for k in released if k in others or k in keep]


def _group_released(released: list[str], noisy_of: dict[str, float], sigma: float, scale: float = 1.0, *,
                    sex: bool = False) -> list[str]:
    """Post-processing of a category release with the public words of :data:`CATEGORY_GROUPS`. Where nothing was
    released, the group (one spelling) whose noisy counts sum to more than the union-corrected threshold of that sum
    (noise ``sqrt(k) sigma``) is: both words of a pair, or the words of a larger group standing
    ``GROUP_MEMBER_SIGMAS`` above zero (at least its largest). Where the one released value is a word of a pair, the
    other word joins when it stands ``FLAG_PARTNER_SIGMAS`` above zero ('female' released alone brings 'male'; 'f'
    brings 'm' in a column named like a sex, ``sex``); a
    larger group is not filled (an absent race word passed 1 sigma in 30% of columns). Reads only noisy counts of
    public keys and the vocabulary."""
    if released:
        pairs = [g for g in CATEGORY_GROUPS if len(g) == 2] + (list(LETTER_PAIRS) if sex else [])
        pair = [g for g in pairs if len(released) == 1 and released[0] in g]
        if not pair:
            return released
        other = next(k for k in pair[0] if k not in released)
        return released + [other] if noisy_of.get(other, 0.0) > FLAG_PARTNER_SIGMAS * sigma else released
    best = _group_by_sum(CATEGORY_GROUPS, GROUP_FALSE_RATE * scale, noisy_of, sigma)
    if best is None:
        return []
    ranked = sorted(best, key=lambda k: -noisy_of.get(k, 0.0))
    if len(best) == 2:
        return ranked
    return [k for i, k in enumerate(ranked) if i == 0 or noisy_of.get(k, 0.0) > GROUP_MEMBER_SIGMAS * sigma]


#: Share of each family member's budget spent on the family's pooled category list; the rest counts the member's
#: own values on that list (its 1-way marginal and missing bucket). The list's noise, per member, is
#: ``1 / sqrt(FAMILY_LIST_SHARE * k)`` of what the member's whole share buys alone: a gain from 4 members up.
FAMILY_LIST_SHARE = 0.5


def category_families(cols: list[ColumnSchema]) -> dict[str, list[str]]:
    """The families of category columns among ``cols`` (:func:`~medsynth.tabular.structure.name_families`)."""
    return name_families(cols, ("categorical",))


def number_families(cols: list[ColumnSchema]) -> dict[str, list[str]]:
    """The families of number columns, integer or continuous, among ``cols``
    (:func:`~medsynth.privacy.locate.locate_by_family`)."""
    return name_families(cols, ("integer", "continuous"))


@dataclass(frozen=True)
class FamilyList:
    """The category list DP released for a family of columns (:func:`release_family_lists`).

    Attributes:
        stem: the family's name stem.
        size: how many columns it pools.
        keys: the released category keys (most frequent first), maybe none.
        sigma: the noise of the pooled counts.
        missing: whether the pooled noisy count of missing values stands ``PRESENCE_SIGMAS`` above zero (then
            every member whose own noisy count of them is positive keeps a missing state; that count is its rate).
    """

    stem: str
    size: int
    keys: tuple[str, ...]
    sigma: float
    missing: bool = False


def hand_written(col: ColumnSchema) -> set[str] | None:
    """The keys of a category list written by hand (not read from the data: ``categories`` not in
    ``read_from_data``), which may filter a DP release; None for none or one read from the data (which would tell
    which values the table holds)."""
    if col.categories and "categories" not in col.read_from_data:
        return {category_key(c) for c in col.categories}
    return None


def thresholded_release(keys: np.ndarray, n_missing: int, rho: float, delta: float, rng: np.random.Generator, *,
                        sensitivity: float = 1.0, allowed: set[str] | None = None, rate_scale: float = 1.0,
                        sex: bool = False, unsure: bool = False) -> tuple[list[str], dict[str, float], float, bool, bool]:
    """A category release (:func:`~medsynth.privacy.mechanisms.dp_category_counts`, flag spellings and common words
    public keys) and its post-processing of public words and flags (:func:`_words_kept`, :func:`_flag_keys_released`,
    :func:`_flag_pair_released`, :func:`_group_released`); ``allowed`` (a list written by hand) filters the values read
    from the data first. One column (``sensitivity`` 1) or a family's pooled histogram (``sensitivity`` k). ``unsure``:
    the noise decided the column's kind (numbers or text), so its public keys (words, letters or flag spellings, counted
    whatever the data; not 0 and 1, a number column's values too) stay only where together they stand
    ``SURE_WORD_SIGMAS`` deviations of their sum out:
    smartpill's Age (95 rows) was written 'T' in every row, cytomegalovirus's CD34.dose 'Treatment' or 'yes', in 2-3 of
    16-22 fits.

    Returns:
        (released keys, noisy counts by key, noisy missing count, whether a flag partner joined, whether a flag pair
        or word group was released on its counts together).
    """
    sigma = gaussian_sigma(rho, sensitivity)
    released, noisy_of, noisy_missing = dp_category_counts(keys, n_missing, rho, delta, rng, sensitivity=sensitivity,
                                                           public_keys=FLAG_KEYS, public_rate=FLAG_FALSE_RATE * rate_scale,
                                                           public_groups=PUBLIC_GROUPS)
    if allowed is not None:  # a public key is released or not on its noisy count alone
        released = [k for k in released if k in allowed or k in PUBLIC_KEYS]
    threshold = category_threshold(sigma, delta, sensitivity)
    sure = max(threshold, SURE_WORD_SIGMAS * sigma)
    homes = {_word_group(k) for k in released if noisy_of.get(k, 0.0) > sure}  # (None: a value read from the data)
    if homes:  # a faint word of another group than every sure value's (flag words: _flag_keys_released)
        released = [k for k in released if k in FLAG_KEYS or k not in PUBLIC_KEYS or noisy_of.get(k, 0.0) > sure
                    or _word_group(k) in homes or (allowed is not None and k in allowed)]
    released = _words_kept(released, noisy_of, threshold)
    released, with_partner = _flag_keys_released(released, noisy_of, sigma, threshold)
    paired = False
    if not released:
        released = _flag_pair_released(noisy_of, sigma, rate_scale)
        paired = bool(released)
    grown = _group_released(released, noisy_of, sigma, sex=sex)
    public = [k for k in grown if k in PUBLIC_KEYS and k not in ("0", "1")]
    if unsure and public and sum(noisy_of.get(k, 0.0) for k in public) <= sure * math.sqrt(len(public)):
        # (the public keys together: a sex column's female/male, each near the threshold, stand out as a pair; the
        # keys 0 and 1 are a number column's values too, so a 0/1 column whose kind the noise decided keeps them at their
        # flag threshold: cytomegalovirus's agvhd, cgvhd, donor.cmv)
        grown = [k for k in grown if k not in public]
        released = [k for k in released if k in grown]
        # (what the notes say of a flag's partner or a pair released together holds for what is kept: a reviewer)
        with_partner = with_partner and any(k in FLAG_KEYS for k in grown)
        paired = paired and bool(grown)
    return grown, noisy_of, noisy_missing, with_partner, paired or len(grown) > len(released)


def release_family_lists(df: pd.DataFrame, families: dict[str, list[str]], rho_of: dict[str, float], delta: float,
                         rng: np.random.Generator) -> dict[str, FamilyList]:
    """One thresholded noisy histogram per family over the values of all its ``k`` columns together (flag spellings
    and common words public keys, as for one column), at ``rho_of[stem]``: a row adds up to ``k`` counts, so the
    histogram's L2 sensitivity is ``k`` (noise ``k / sqrt(2 rho)``), a value held by one row clears the threshold
    ``k + sigma z(1 - delta)`` with probability at most ``delta`` and one row holds at most ``k`` such values: the
    family's delta is ``k * delta``, as for its ``k`` columns released one by one. Signal grows ``k`` times, noise
    ``k / sqrt(k)``: a value common to the family stands ``sqrt(k)`` times higher above the noise at the family's
    summed budget. The same post-processing as one column's release (flags, word groups). Returns each member
    column's :class:`FamilyList`."""
    out: dict[str, FamilyList] = {}
    for stem, names in families.items():
        k = len(names)
        rho = rho_of[stem]
        sigma = gaussian_sigma(rho, k)  # (thresholded_release's)
        keys = np.concatenate([category_keys(df[n].dropna()).to_numpy(dtype=str) for n in names])
        n_missing = int(sum(int(df[n].isna().sum()) for n in names))
        released, _, noisy_missing, _, _ = thresholded_release(keys, n_missing, rho, delta, rng, sensitivity=float(k))
        got = FamilyList(stem, k, tuple(released), sigma, bool(noisy_missing > PRESENCE_SIGMAS * sigma))
        out.update({n: got for n in names})
    return out


def family_counts(s: pd.Series, keys: list[str], sigma: float,
                  rng: np.random.Generator) -> tuple[dict[str, float], float]:
    """Noisy counts (noise ``sigma``, one row one bucket: sensitivity 1) of a column's values on a released list of
    keys and of its missing values; values off the list are not counted. Returns (noisy count by key, noisy missing)."""
    seen, n = np.unique(category_keys(s.dropna()).to_numpy(dtype=str), return_counts=True)
    by_key = dict(zip(seen.tolist(), n.tolist()))
    counts = np.array([float(by_key.get(k, 0)) for k in keys] + [float(s.isna().sum())])
    noisy = noisy_counts(counts, sigma, rng)
    return dict(zip(keys, noisy[:-1].tolist())), float(noisy[-1])


def _text_buckets(s: pd.Series, numbers: np.ndarray) -> np.ndarray:
    """Counts of a column's cells that are no numbers, on a public partition: one bucket per flag pair of
    :data:`TEXT_PAIRS`, then the rest (private; measured by :func:`~medsynth.privacy.locate.locate`)."""
    is_text = np.isnan(numbers) & s.notna().to_numpy()
    keys = category_keys(s[is_text]).to_numpy(dtype=str) if is_text.any() else np.zeros(0, dtype=str)
    counts = np.array([float(np.isin(keys, pr).sum()) for pr in TEXT_PAIRS] + [0.0])
    counts[-1] = keys.size - counts[:-1].sum()
    return counts


def _flag_text(loc: Location) -> int | None:
    """The index (in :data:`TEXT_PAIRS`) of the flag whose text bucket is the largest of those standing above the
    noise in a number column's location histogram, or None (no text found, or the largest is other text)."""
    found = loc.text_found()
    if found.size == 0:
        return None
    i = int(found[np.argmax(loc.text_noisy[found])])
    return i if i < len(TEXT_PAIRS) else None


#: A small code's text (:func:`_text_beside_code`) makes it a category list where it holds at least this share of the
#: column's values (numbers and text, noisy counts) and stands this many noise deviations above zero.
TEXT_CODE_SHARE = 0.05


TEXT_CODE_SIGMAS = 3.0


def _text_beside_code(loc: Location) -> bool:
    """Whether a number column located as a small code holds text beside its keys: the noisy count of its text cells
    (:meth:`~medsynth.privacy.locate.Location.text_as_missing`) clears ``TEXT_CODE_SIGMAS`` deviations and
    ``TEXT_CODE_SHARE`` of the keys' and the text's counts (post-processing of stage 1)."""
    text, k = loc.text_as_missing()
    if k == 0 or not text > TEXT_CODE_SIGMAS * loc.sigma * math.sqrt(1.0 + k):
        return False
    keys = float(np.maximum(loc.key_counts(), 0.0).sum())
    return text >= TEXT_CODE_SHARE * (text + keys)


def other_rows(rows: float, rows_sigma: float, counts: list[float], noisy_missing: float,
               sigma: float) -> tuple[float, float] | None:
    """The rows of a column's unreleased categories, estimated from DP outputs alone (post-processing): the noisy
    row count less the released categories' noisy counts and the noisy count of missing values, with its noise
    scale; None unless it stands ``PRESENCE_SIGMAS`` deviations above zero. The released counts passed a threshold,
    so they lean high and the estimate low: "(other)" appears only where DP is sure of it."""
    rest = rows - float(np.sum(counts)) - noisy_missing
    sd = math.sqrt(rows_sigma**2 + sigma**2 * (len(counts) + 1))
    return (rest, sd) if rest > PRESENCE_SIGMAS * sd else None


def canonical_categories(keys: list[str]) -> list[Any]:
    """Released category keys in their canonical spellings, sorted; where one is a code with a leading zero, all stay
    text (codes '0101' and '1205', never '0101' beside the number 1205)."""
    if any(zero_padded(k) for k in keys):
        return sorted(keys)
    return _sorted_categories([_canonical(k) for k in keys])


def _canonical(key: str) -> Any:
    """A released category in its canonical spelling (a number when the key is one, a code with a leading zero as
    written), never a row's own."""
    if zero_padded(key):
        return key
    try:
        f = float(key)
    except ValueError:
        return key
    if not math.isfinite(f):
        return key
    return int(f) if f.is_integer() else f
