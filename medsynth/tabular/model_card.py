"""The model card written beside every saved tabular model (``MODEL_CARD.md``).

A privacy officer reads it before signing off a release: what the model is, what the guarantee
covers (epsilon, delta, unit of privacy, neighbouring relation), what was declared public, what was
estimated with DP, every access to the data from the ledger, and what the guarantee does not cover.
It is built only from the model's releasable state (ledger, resolved schema, meta), never from the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medsynth.privacy.ledger import delta_text

if TYPE_CHECKING:  # pragma: no cover
    from medsynth.tabular.base import TabularSynthesizer


def _fmt(x: float | None, spec: str = ".4g") -> str:
    return "-" if x is None else format(x, spec)


def model_card(model: TabularSynthesizer) -> str:
    """Markdown text of the model card."""
    from medsynth.tabular.base import PERSON_UNIT

    led = model.ledger
    schema = model.schema
    lines = [f"# Model card: {model.name}", ""]
    if led is None or schema is None:  # pragma: no cover - save() requires a fitted model
        return "\n".join(lines)
    if model.is_private:
        lines += [
            f"**Differentially private**: ({_fmt(led.total_epsilon)}, {delta_text(led.total_delta)})-DP "
            f"(target epsilon {led.target_epsilon:g}, delta {led.target_delta:g}).", "",
            *led.level_sentence(),
            f"- Unit of privacy: {led.unit}.",
            f"- Neighbouring relation: {led.neighbouring}; contribution bound: {led.contribution_bound}.",
            "- Accounting: every access below is composed as a Rényi-DP/zCDP curve and converted to "
            "(epsilon, delta) once.",
            f"- Noise: {led.to_dict()['randomness']}",
            "",
            "## What may be released",
            "",
            "Everything in this folder derives only from DP outputs and inputs declared public. The data owner's "
            "records of the fit (the input schema as read from the data, the exact row count, timings, the data "
            "fingerprint, training losses) are kept apart under `private/` and must never be released; "
            "`medsynth tabular export RUN --out DIR` copies only the releasable files.",
            "",
        ]
    else:
        lines += ["**NOT differentially private.** This model was fitted without a privacy guarantee: its weights "
                  "and samples may reveal individual rows. Audit it (`medsynth audit tabular`) before sharing "
                  "anything derived from it.", ""]
    public = [c.name for c in schema.modelled if c.public and c.has_domain]
    estimated = [c.name for c in schema.modelled if c.name in set(model.meta.get("private_domain_columns") or [])]
    lines += ["## Columns", "", f"{len(schema.columns)} columns; identifiers are generated, never learned.", ""]
    if model.is_private:
        lines += [f"- Declared public by the user (bounds/categories): {', '.join(public) or 'none'}.",
                  f"- Types, bounds, categories and missingness estimated with DP: {', '.join(estimated) or 'none'}.", ""]
    from medsynth.tabular.rules import RulePlan

    plan = getattr(model, "rule_plan", None)
    plan = plan if isinstance(plan, RulePlan) else None
    if plan is not None and plan.gaps:  # (a data scientist read a gapped humidity's gap range, 0-97, as its range)
        lines += ["- Modelled as a gap from another column (an ordering kept; `schema.yaml`'s min and max of such a "
                  "column are its gap's, b - a, not its own): "
                  + ", ".join(f"{b} from {a}" + (f" (at most {plan.outputs[b]['max']:g})"
                                                 if (plan.outputs.get(b) or {}).get("max") is not None else "")
                              for b, a in plan.gaps) + ".", ""]
    if plan is not None and plan.derived:
        lines += ["- Computed from two others, not modelled: "
                  + ", ".join(f"{c} = {b} - {a}" for c, b, a in plan.derived) + ".", ""]
    if plan is not None and plan.bins:
        lines += ["- Computed from a number's intervals, not modelled: "
                  + ", ".join(f"{c} from {x} (cut at {', '.join(f'{e:g}' for e in plan.outputs[c]['edges'])})"
                              for c, x in plan.bins) + ".", ""]
    if plan is not None and plan.onehots:  # (`schema.yaml` lists the family column, not its members)
        lines += ["- Families of 0/1 columns modelled as one category column (which is set; `schema.yaml` lists it as "
                  "`<stem>#onehot`): " + "; ".join(
                      f"{name}: {', '.join(members)} ({'exactly' if plan.outputs[name]['ones'][0] else 'at most'} one set)"
                      for name, members in plan.onehots) + ".", ""]
    if led.public_assumptions:
        lines += ["## Public assumptions", ""] + [f"- {a}" for a in led.public_assumptions] + [""]
    lines += ["## Accesses to the data (privacy ledger)", "", "| access | mechanism | cost |", "|---|---|---|"]
    for e in led.entries:
        if e.sgd:
            cost = (f"DP-SGD: noise multiplier {e.sgd['noise_multiplier']:.3g}, sampling rate "
                    f"{e.sgd['sample_rate']:.3g}, {int(e.sgd['steps'])} steps")
        elif e.rho is not None:
            cost = f"rho {e.rho:.3g}" + (f" + delta {e.delta:.2g}" if e.delta else "")
        else:
            cost = "none (non-private)"
        lines.append(f"| {e.access} | {e.mechanism} | {cost} |")
    lines += [""]
    if led.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in led.notes] + [""]
    if model.is_private:
        lines += [
            "## What the guarantee does not cover",
            "",
            "- Inputs declared public (above) are trusted as public: if they were read from this data, the "
            "guarantee does not cover them.",
            ("- The unit is the person: one of each person's rows was read (at random), so the synthetic rows are "
             "one row of each synthetic person; how a person's several rows relate (their visits over time) is not "
             "modelled (related tables, patients and their visits, are)." if led.unit.startswith(PERSON_UNIT) else
             "- A person with several rows in the table is protected as several units (group privacy: the "
             "guarantee weakens with the number of rows per person): name the column that identifies a person as "
             "the schema's unit (unit: <column>) to protect the person."),
            "- DP limits what can be learned about one unit; it does not prevent inferences about groups "
            "(statistical facts are what the data are for).",
            "",
        ]
    return "\n".join(lines)


__all__ = ["model_card"]
