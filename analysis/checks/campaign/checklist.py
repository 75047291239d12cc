"""Campaign checklist: the rules of ``rules`` evaluated on a snapshot by the check engine, and
their completion (per rule, per group, per establishment).

Evaluation is the engine's (``analysis.checks.engine``): one lazy plan per level, every rule
of the level an expression of its frame (``frames``). The rule table and the semantics of
each rule are in ``rules``; this module also gives their names to the callers that import
them from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence

import polars as pl

from analysis.checks import engine
from analysis.checks.campaign.frames import columns_needed, level_frame, table_of
from analysis.checks.campaign.rules import (
    AGE_BOUNDS,
    CONSEILLE,
    ETABLISSEMENT,
    INVALID,
    INVALIDE,
    LEVEL_SOURCE,
    LEVELS,
    MANQUANT,
    MISSING,
    OBLIGATOIRE,
    OK,
    PASS,
    RESULTS,
    RULE_BY_ID,
    RULES,
    SEVERITIES,
    SSR_PATTERN,
    UNITE,
    UNITE_VT,
    VOCABULARY,
    YOUNG_CHILD_MENTION,
    CampaignParams,
    Rule,
    rules_frame,
)
from analysis.checks.engine import Check
from analysis.indicators import sync

__all__ = [
    "AGE_BOUNDS",
    "CONSEILLE",
    "ETABLISSEMENT",
    "INVALID",
    "INVALIDE",
    "LEVEL_SOURCE",
    "LEVELS",
    "MANQUANT",
    "MISSING",
    "OBLIGATOIRE",
    "OK",
    "PASS",
    "RESULTS",
    "RESULTS_SCHEMA",
    "RULE_BY_ID",
    "RULES",
    "SEVERITIES",
    "SSR_PATTERN",
    "UNITE",
    "UNITE_VT",
    "VOCABULARY",
    "YOUNG_CHILD_MENTION",
    "CampaignParams",
    "Rule",
    "active_rules",
    "columns_needed",
    "completion_by",
    "completion_by_rule",
    "completion_overall",
    "completion_table",
    "counts_lazy",
    "establishment_ranking",
    "evaluate",
    "evaluate_lazy",
    "rules_frame",
]


def active_rules(params: CampaignParams, rules: Sequence[Check] = RULES) -> list[Check]:
    """The rules that can be evaluated with ``params`` (e.g. *vérifié* needs a start)."""
    return engine.active(rules, params)


# Names the campaign history imports from here (kept while it is rewritten on its own).
_level_frame = level_frame
_table = table_of


def _referenced(rules: Iterable[Check], params: CampaignParams) -> dict[str, set[str]]:
    """Column names each level's rules refer to."""
    return engine.referenced_columns(rules, params)


def _first_failure(rule: Check, params: CampaignParams) -> pl.Expr:
    """Index of the first failing condition of ``rule`` (null when none fails)."""
    return engine.first_case(rule, params)


def _counts(frame: pl.LazyFrame | pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Items, ok / manquant / invalide counts, what remains and the ok share, per ``keys``."""
    return engine.counts(frame, keys, VOCABULARY)


# ------------------------------------------------------------------------- evaluation

RESULTS_SCHEMA: dict[str, pl.DataType] = {
    "niveau": pl.String(),
    "regle": pl.String(),
    "finess_eg": pl.String(),
    "raison_sociale": pl.String(),
    "departement": pl.String(),
    "statut": pl.String(),
    "entite": pl.String(),
    "nom_entite": pl.String(),
    "resultat": pl.String(),
    "motif": pl.String(),
    "valeur": pl.String(),
    "severite": pl.String(),
}


def _frames(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime | None,
    params: CampaignParams,
    chosen: Sequence[Check],
    snapshot_col: str | None,
) -> Callable[[str], pl.LazyFrame]:
    """The engine's level → frame function for ``chosen`` rules on ``tables``."""
    referenced = engine.referenced_columns(chosen, params)

    def frame(level: str) -> pl.LazyFrame:
        return level_frame(
            level, tables, referenced.get(level, set()), as_of, params, snapshot_col
        )

    return frame


def evaluate_lazy(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime | None,
    params: CampaignParams | None = None,
    rules: Sequence[Check] = RULES,
    snapshot_col: str | None = None,
) -> pl.LazyFrame:
    """Lazy version of ``evaluate`` (same columns, not sorted).

    With ``snapshot_col`` the tables hold several snapshots stacked, told apart by that
    ``Date`` column (``store.scan_table`` names it ``date_snapshot``): every join, unique
    and window stays within a snapshot, ``as_of`` is each row's snapshot date (the argument
    is ignored) and the column comes first in the result. One lazy plan then evaluates the
    rules of a whole history, with the same results as snapshot by snapshot.
    """
    params = params or CampaignParams()
    chosen = active_rules(params, rules)
    keys = [snapshot_col] if snapshot_col else []
    out_schema = {**dict.fromkeys(keys, pl.Date()), **RESULTS_SCHEMA}
    if not chosen:
        return pl.DataFrame(schema=out_schema).lazy()
    long = engine.evaluate_lazy(
        _frames(tables, as_of, params, chosen, snapshot_col),
        chosen,
        params,
        VOCABULARY,
        LEVELS,
        carry=["finess_eg"],
        keys=keys,
    )
    results = sync.with_establishment(
        long, table_of(tables, "etablissements", snapshot_col), "statut", snapshot_col
    ).with_columns(
        pl.col("regle")
        .replace_strict({r.id: r.severity for r in chosen}, return_dtype=pl.String)
        .alias("severite")
    )
    return results.select(list(out_schema))


def evaluate(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime,
    params: CampaignParams | None = None,
    rules: Sequence[Check] = RULES,
) -> pl.DataFrame:
    """Result of every rule on every entity of a snapshot: one row per (entity, rule).

    ``as_of`` is the snapshot date (or exact moment), used by the synchronisation rule.
    Columns (``RESULTS_SCHEMA``): ``niveau``, ``regle``, ``finess_eg``, ``raison_sociale``,
    ``departement``, ``statut`` (legal status), ``entite`` (FINESS, uo_id or vt_id),
    ``nom_entite``, ``resultat`` (ok / manquant / invalide), ``motif``, ``valeur``.
    Sorted by establishment, level, entity and rule order.
    """
    order = {r.id: i for i, r in enumerate(rules)}
    levels = {lvl: i for i, lvl in enumerate(LEVELS)}
    return (
        evaluate_lazy(tables, as_of, params, rules)
        .with_columns(
            pl.col("regle").replace_strict(order, return_dtype=pl.Int32).alias("_r"),
            pl.col("niveau").replace_strict(levels, return_dtype=pl.Int32).alias("_l"),
        )
        .sort("finess_eg", "_l", "entite", "_r", nulls_last=True)
        .drop("_r", "_l")
        .collect()
    )


def counts_lazy(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime | None,
    params: CampaignParams | None = None,
    rules: Sequence[Check] = RULES,
    snapshot_col: str | None = None,
) -> pl.LazyFrame:
    """Per rule (and snapshot, with ``snapshot_col``): ``regle``, ``conformes``, ``total``,
    ``taux``, as ``_counts(evaluate_lazy(…), ["regle"])`` gives, without building the
    per-entity results (``engine.counts_lazy``). Rules that apply to no entity are left out.
    """
    params = params or CampaignParams()
    chosen = active_rules(params, rules)
    keys = [snapshot_col] if snapshot_col else []
    return engine.counts_lazy(
        _frames(tables, as_of, params, chosen, snapshot_col),
        chosen,
        params,
        VOCABULARY,
        LEVELS,
        keys=keys,
    )


# ------------------------------------------------------------------------- completion


def _obligatory(results: pl.DataFrame) -> pl.DataFrame:
    """The results of *obligatoire* rules: the only ones counted against an establishment
    (results without a ``severite`` column count whole)."""
    if "severite" not in results.columns:
        return results
    return results.filter(pl.col("severite").fill_null(OBLIGATOIRE) == OBLIGATOIRE)


def _advice_left(results: pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Per ``keys``: ``conseils``, the *conseillé* items not ok (advice, not counted)."""
    advice = (
        pl.col("severite") == CONSEILLE if "severite" in results.columns else pl.lit(False)
    )
    return (
        results.lazy()
        .group_by(list(keys))
        .agg(((pl.col("resultat") != OK) & advice).sum().cast(pl.Int64).alias("conseils"))
    )


def completion_by_rule(results: pl.DataFrame, rules: Sequence[Check] = RULES) -> pl.DataFrame:
    """Per rule: ``regle``, ``niveau``, ``libelle``, ``conformes``, ``manquants``,
    ``invalides``, ``reste``, ``total``, ``taux`` (ok share, 0–1) and ``severite``, in rule
    order. *Conseillé* rules are listed with their own rates (they count nowhere else).

    Rules with no entity in scope are left out.
    """
    return (
        _counts(results, ["regle"])
        .join(rules_frame(rules).lazy().drop("aide"), on="regle", how="inner")
        .sort("ordre")
        .select(
            "regle",
            "niveau",
            "libelle",
            "conformes",
            "manquants",
            "invalides",
            "reste",
            "total",
            "taux",
            "severite",
        )
        .collect()
    )


def completion_overall(results: pl.DataFrame) -> dict[str, float | int]:
    """All *obligatoire* items together: ``conformes``, ``manquants``, ``invalides``,
    ``reste``, ``total``, ``taux``; ``conseils`` (*conseillé* items not ok, never counted);
    ``etablissements`` and ``etablissements_complets`` (no obligatoire item left)."""
    counted = _obligatory(results)
    row = (
        _counts(counted, []).collect().row(0, named=True)
        if counted.height
        else {"conformes": 0, "manquants": 0, "invalides": 0, "reste": 0, "total": 0, "taux": None}
    )
    per_eg = (
        results.select("finess_eg")
        .unique()
        .join(_counts(counted, ["finess_eg"]).collect(), on="finess_eg", how="left")
        .with_columns(pl.col("reste").fill_null(0))
    )
    row.pop("ensemble", None)
    row["conseils"] = int(_advice_left(results, []).collect()["conseils"].sum()) if (
        results.height
    ) else 0
    row["etablissements"] = per_eg.height
    row["etablissements_complets"] = int((per_eg["reste"] == 0).sum())
    return row


def completion_by(
    results: pl.DataFrame, by: str | Sequence[str], rules: Sequence[Check] = RULES
) -> pl.DataFrame:
    """Completion per group and rule (long): ``by`` columns, ``regle``, counts, ``taux``.

    ``by`` is any column of the results: ``departement``, ``statut``, ``finess_eg``…
    """
    keys = [by] if isinstance(by, str) else list(by)
    order = {r.id: i for i, r in enumerate(rules)}
    return (
        _counts(results, [*keys, "regle"])
        .with_columns(
            pl.col("regle")
            .replace_strict(order, default=len(order), return_dtype=pl.Int32)
            .alias("_o")
        )
        .sort([*keys, "_o"], nulls_last=True)
        .drop("_o")
        .collect()
    )


def completion_table(results: pl.DataFrame, by: str, rules: Sequence[Check] = RULES) -> pl.DataFrame:
    """Wide completion table per group: ``by`` (with the name and département when ``by`` is
    ``finess_eg``), ``total``, ``conformes``, ``reste``, ``taux`` (*obligatoire* rules), then
    one ok share column per rule, *conseillé* ones included (named by rule id; null where
    the rule has no entity)."""
    keys = ["finess_eg", "raison_sociale", "departement"] if by == "finess_eg" else [by]
    overall = _counts(_obligatory(results), keys).select(
        *keys, "total", "conformes", "reste", "taux"
    )
    per_rule = completion_by(results, keys, rules)
    present = [r.id for r in rules if r.id in set(per_rule["regle"].to_list())]
    if per_rule.height:
        wide = per_rule.pivot(on="regle", index=keys, values="taux").lazy()
        out = overall.join(wide, on=keys, how="left", nulls_equal=True)
    else:
        out = overall
    return (
        out.select(*keys, "total", "conformes", "reste", "taux", *present)
        .sort(keys, nulls_last=True)
        .collect()
    )


def establishment_ranking(results: pl.DataFrame) -> pl.DataFrame:
    """Establishments ranked by what remains to do (most first, then lowest ok share),
    counting *obligatoire* items only.

    Columns: ``rang``, ``finess_eg``, ``raison_sociale``, ``departement``, ``statut``,
    ``total``, ``conformes``, ``manquants``, ``invalides``, ``reste``, ``taux``,
    ``conseils`` (*conseillé* items not ok, advice only).
    """
    keys = ["finess_eg", "raison_sociale", "departement", "statut"]
    return (
        _counts(_obligatory(results), keys)
        .join(_advice_left(results, keys), on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("conseils").fill_null(0))
        .sort(["reste", "taux", "finess_eg"], descending=[True, False, False])
        .with_row_index("rang", offset=1)
        .select(
            "rang", *keys, "total", "conformes", "manquants", "invalides", "reste", "taux",
            "conseils",
        )
        .collect()
    )


