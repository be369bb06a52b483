"""SDV's HMASynthesizer (hierarchical modelling of parent/child tables) behind medsynth's multi-table
interface. Non-private: every output is labelled NOT differentially private.

The dataset schema becomes SDV ``Metadata`` (key columns ``id``, numbers ``numerical``, dates
``datetime`` with their format, categories ``categorical``; primary keys and relationships from the
relations). After sampling, medsynth regenerates every key (1, 2, ... per table; foreign keys from the
sampled parents), so referential integrity holds whatever SDV generated.

Saving: SDV models are saved with SDV's own ``save`` (a cloudpickle) as ``sdv_model.pkl``, with its
SHA-256 in ``meta.json``; a file whose hash does not match is refused. Load only model folders you made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.core.errors import ConfigError, RunDirectoryError
from medsynth.core.files import fingerprint_file
from medsynth.io.dataset import DatasetSchema
from medsynth.privacy.noise import Generators
from medsynth.tabular.base import global_seed
from medsynth.tabular.domain import complete_from_data
from medsynth.tabular.multi_base import MultiTableSynthesizer, primary_parent, regenerate_keys
from medsynth.tabular.multi_features import parent_index


class HMAConfig(ConfigModel):
    """SDV HMASynthesizer settings.

    Attributes:
        default_distribution: marginal distribution of numeric columns in the per-table copulas (beta,
            norm, truncnorm, uniform, gamma, gaussian_kde).
        locales: Faker locales SDV uses for generated text (unused for keys, which medsynth regenerates).
    """

    default_distribution: str = "norm"
    locales: list[str] = Field(default_factory=lambda: ["en_US"])


def sdv_metadata(schema: DatasetSchema) -> Any:
    """SDV ``Metadata`` of a medsynth dataset schema."""
    from sdv.metadata import Metadata

    tables: dict[str, Any] = {}
    for name, tab in schema.tables.items():
        keys = set(schema.key_columns(name))
        cols: dict[str, Any] = {}
        for c in tab.columns:
            if c.type == "identifier" or c.name in keys:
                cols[c.name] = {"sdtype": "id"}
            elif c.type == "datetime":
                cols[c.name] = {"sdtype": "datetime", "datetime_format": c.format or "%Y-%m-%d"}
            elif c.type in ("continuous", "integer"):
                cols[c.name] = {"sdtype": "numerical"}
            else:
                cols[c.name] = {"sdtype": "categorical"}
        tables[name] = {"columns": cols}
        if tab.primary_key:
            tables[name]["primary_key"] = tab.primary_key
    rels = [{"parent_table_name": r.parent, "child_table_name": r.child, "parent_primary_key": r.parent_column,
             "child_foreign_key": r.column} for r in schema.relations]
    return Metadata.load_from_dict({"tables": tables, "relationships": rels})


class HMA(MultiTableSynthesizer):
    """SDV HMASynthesizer (non-private): each table a Gaussian copula, children's parameters modelled as
    extra columns of their parent."""

    name: ClassVar[str] = "hma"
    private: ClassVar[bool] = False
    Config: ClassVar[type[ConfigModel]] = HMAConfig
    config: HMAConfig

    def _fit_checked(self, tables: dict[str, pd.DataFrame], schema: DatasetSchema, gens: Generators) -> None:
        from sdv.multi_table import HMASynthesizer

        from medsynth.tabular.sdv_models import _quiet_sdv_home

        _quiet_sdv_home()
        resolved = {t: tab.model_copy(update={"columns": complete_from_data(tab.table_schema(), tables[t]).columns})
                    for t, tab in schema.tables.items()}
        self.schema = DatasetSchema(tables=resolved, relations=schema.relations)
        for t in schema.tables:
            primary_parent(self.schema, t)  # the keys are rebuilt along one chain of parents
        from sdv.errors import SynthesizerInputError

        try:  # SDV's community HMA refuses some schemas (e.g. centers -> patients -> infections: depth above 2)
            self.model = HMASynthesizer(sdv_metadata(schema), locales=list(self.config.locales), verbose=False)
            for t in schema.tables:
                self.model.set_table_parameters(t, {"default_distribution": self.config.default_distribution})
            with global_seed(int(gens.init.integers(0, 2**31 - 1))):
                self.model.fit({t: df[[c.name for c in schema.tables[t].columns]] for t, df in tables.items()})
        except SynthesizerInputError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(
                f"SDV's HMASynthesizer cannot model this dataset ({len(schema.tables)} tables, relations "
                f"{[r.label for r in schema.relations]}): {first} Use --model dp-mst, which takes any tree of tables, "
                "or fit fewer tables (e.g. leave the top table out so that the patients are the root)") from exc
        self.ledger.record("fit of SDV HMASynthesizer on every table", "none (non-private)", columns=list(tables))  # type: ignore[union-attr]

    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
        schema = self.schema
        root = schema.roots[0]  # type: ignore[union-attr]
        seed = int(rng.integers(0, 2**31 - 1))
        if n == 0:
            return {t: pd.DataFrame({c.name: pd.Series(dtype=object) for c in tab.columns}) for t, tab in schema.tables.items()}  # type: ignore[union-attr]
        with global_seed(seed):
            self.model.reset_sampling()
            out = self.model.sample(n, main_table_name=root)
        out = {t: out[t][[c.name for c in schema.tables[t].columns]].reset_index(drop=True) for t in schema.order()}  # type: ignore[union-attr]
        prows: dict[str, np.ndarray] = {}
        for t in schema.order():  # type: ignore[union-attr]
            p = primary_parent(schema, t)  # type: ignore[arg-type]
            if p is None:
                continue
            rel = next(r for r in schema.parents_of(t) if r.parent == p)  # type: ignore[union-attr]
            idx = parent_index(out[t][rel.column], out[p][rel.parent_column])
            keep = idx >= 0  # SDV keeps children of sampled parents; anything else is dropped
            out[t] = out[t][keep].reset_index(drop=True)
            prows[t] = idx[keep]
        self._order_children(out, prows)
        self._relation_fields(out, prows)
        regenerate_keys(out, schema, prows)  # type: ignore[arg-type]
        return out

    def _relation_fields(self, out: dict[str, pd.DataFrame], prows: dict[str, np.ndarray]) -> None:
        """What each relation says of a parent's rows, written on SDV's sampled rows (in place, after they are put in
        time order): its ``constant`` columns take the first row's value, its ``copied`` ones the parent's, its
        ``advancing`` ones the parent's anchor plus the rate times the time, and a ``chained`` end the next row's start.
        SDV draws each row alone: a data scientist's bladder intervals were chained in 1.5% of the rows (real all), and
        muscatine's ages fell between the surveys."""
        from medsynth.tabular.multi_sampling import _copy_next_times, held_per_parent

        schema = self.schema
        for t in schema.order():  # type: ignore[union-attr]
            p = primary_parent(schema, t)  # type: ignore[arg-type]
            if p is None or t not in prows or out[t].empty:
                continue
            rel = next(r for r in schema.parents_of(t) if r.parent == p)  # type: ignore[union-attr]
            df, prow, tab = out[t], prows[t], schema.tables[t].table_schema()  # type: ignore[union-attr]
            held_per_parent(df, prow, out[p], rel, tab, {c for con in tab.constraints for c in con.columns})
            if rel.order_by and rel.chained and {rel.order_by, rel.chained} <= set(df.columns):
                _copy_next_times(df, prow, rel.order_by, rel.chained, tab)

    def _order_children(self, out: dict[str, pd.DataFrame], prows: dict[str, np.ndarray]) -> None:
        """Each parent's rows in the order of the relation's ``order_by`` (its ``sequence`` renumbered to match), in
        place. SDV samples a parent's children independently, so on pbcseq 88% of the patients had their visit days
        out of order (nafld's labs 97%) although the real data keep them sorted."""
        from medsynth.io.dataset_infer import _times

        schema = self.schema
        moved: dict[str, np.ndarray] = {}  # table -> new position of each old row
        for t in schema.order():  # type: ignore[union-attr]
            p = primary_parent(schema, t)  # type: ignore[arg-type]
            if p is None or t not in prows:
                continue
            if p in moved:
                prows[t] = moved[p][prows[t]]
            rel = next(r for r in schema.parents_of(t) if r.parent == p)  # type: ignore[union-attr]
            df = out[t]
            if not rel.order_by or rel.order_by not in df.columns or df.empty:
                continue
            times = _times(df, schema.tables[t].column(rel.order_by))  # type: ignore[union-attr,arg-type]
            order = np.lexsort((np.nan_to_num(times, nan=np.inf), prows[t]))
            out[t] = df.iloc[order].reset_index(drop=True)
            prows[t] = prows[t][order]
            inv = np.empty(len(order), dtype=np.int64)
            inv[order] = np.arange(len(order))
            moved[t] = inv
            if rel.sequence and rel.sequence in df.columns:
                col = schema.tables[t].column(rel.sequence)  # type: ignore[union-attr]
                low = col.min if col.min is not None else min((float(c) for c in col.categories or [1]), default=1.0)
                start = np.r_[0, np.flatnonzero(np.diff(prows[t])) + 1]
                rank = np.arange(len(order)) - np.repeat(start, np.diff(np.r_[start, len(order)]))
                out[t][rel.sequence] = rank + (0 if float(low) == 0 else 1)

    def _save_state(self, folder: Path) -> dict[str, Any]:
        path = folder / "sdv_model.pkl"
        self.model.save(str(path))
        return {"sdv_model.pkl": {"format": "SDV save (cloudpickle): load only files you created", "sha256": fingerprint_file(path)}}

    def _load_state(self, folder: Path) -> None:
        path = folder / "sdv_model.pkl"
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        expected = (meta.get("files", {}).get("sdv_model.pkl") or {}).get("sha256")
        if not path.is_file() or expected is None or fingerprint_file(path) != expected:
            raise RunDirectoryError(f"'{path}' is missing or does not match the SHA-256 recorded in meta.json; refusing to "
                                    "unpickle it (SDV models are pickles: load only model folders you created)")
        from sdv.utils import load_synthesizer

        from medsynth.tabular.sdv_models import _quiet_sdv_home

        _quiet_sdv_home()
        self.model = load_synthesizer(str(path))


__all__ = ["HMA", "HMAConfig", "sdv_metadata"]
