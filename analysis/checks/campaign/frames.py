"""The frames the campaign rules read: one per level, with the columns derived from other
tables (mentions, ViaTrajectoire links, guichets, accounts, sync status, FINESS name), and
the columns to read from each table so that nothing else is read.

Levels and their entities: ``etablissement`` (one row of ``etablissements``), ``unite``
(one ROR unit of ``unites``), ``unite_vt`` (one ViaTrajectoire unit of ``vt_unites``).
With ``snapshot_col`` the tables hold several snapshots stacked, told apart by that
``Date`` column: every join, unique and window stays within a snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from analysis.checks import engine
from analysis.checks.campaign.rules import LEVEL_SOURCE, RULES, CampaignParams
from analysis.checks.engine import Check
from analysis.indicators import sync
from analysis.io.history import has_duplicates
from analysis.model import nomenclature as nom
from analysis.model import schema

#: Columns a level frame derives from other tables, and what they need.
_DERIVED: dict[str, dict[str, tuple[str, ...]]] = {
    "mentions": {"offres": ("uo_id", "mention")},
    "dans_vt": {"vt_unites": ("uo_id",)},
    "statut_sync": dict(sync.COLUMNS),  # unites, vt_unites and the establishment fields
    "motif_sync": {},
    "ecarts": {},
    "g_connu": {"vt_guichets": ("guichet_id",)},
    "g_responsable_nom": {"vt_guichets": ("guichet_id", "responsable_nom")},
    "g_telephone": {"vt_guichets": ("guichet_id", "telephone")},
    "g_email": {"vt_guichets": ("guichet_id", "email")},
}
_DERIVED["motif_sync"] = _DERIVED["ecarts"] = _DERIVED["statut_sync"]
_ACCOUNTS = ("outil", "role", "finess_eg", "date_fin_validite")
for _p in ("ror", "vt"):
    for _suffix in ("comptes", "valides", "fin", "connu"):
        _DERIVED[f"{_p}_{_suffix}"] = {"habilitations": _ACCOUNTS}
_DERIVED["adm_fin"] = _DERIVED["adm_valide"] = _DERIVED["adm_connu"] = {
    "habilitations": ("outil", "role", "vt_id", "date_fin_validite"),
    "vt_unites": ("habilitation_fin",),
}
_DERIVED["finess_raison_sociale"] = {"finess_etablissements": ("finess_eg", "raison_sociale")}
_DERIVED["mentions_decrites"] = {"offres": ("uo_id", "mention"), "unites": ("uo_id", "finess_eg")}
_DERIVED["mentions_autorisees"] = {
    "autorisations": ("finess_eg", "regime", "mention", "forme", "date_fin")
}

_INFO_COLUMNS = ("finess_eg", "raison_sociale", "commune_insee", "statut")


def columns_needed(
    params: CampaignParams | None = None, rules: Sequence[Check] = RULES
) -> dict[str, list[str]]:
    """Columns to read from each table to evaluate ``rules`` (nothing else is read)."""
    params = params or CampaignParams()
    wanted: dict[str, set[str]] = {"etablissements": set(_INFO_COLUMNS)}
    chosen = engine.active(rules, params)
    for level, names in engine.referenced_columns(chosen, params).items():
        table, key, label = LEVEL_SOURCE[level]
        own = set(schema.TABLES[table].names)
        bucket = wanted.setdefault(table, set())
        bucket.update({key, label, "finess_eg"} | (names & own))
        for name in names - own:
            for other, cols in _DERIVED.get(name, {}).items():
                wanted.setdefault(other, set()).update(cols)
    return {t: [c for c in schema.TABLES[t].names if c in cols] for t, cols in wanted.items()}


def table_of(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame], name: str, snapshot_col: str | None = None
) -> pl.LazyFrame:
    """Table ``name`` of ``tables`` as a lazy frame; an empty one of the canonical schema
    (with the ``snapshot_col`` date column) when the snapshot lacks it."""
    frame = tables.get(name)
    if frame is not None:
        return frame.lazy()
    empty = schema.empty(name).lazy()
    if snapshot_col:
        return empty.select(pl.lit(None, pl.Date).alias(snapshot_col), pl.all())
    return empty


def _as_of_day(as_of: dt.date | dt.datetime | None, snapshot_col: str | None) -> pl.Expr:
    """The snapshot day as an expression (each row's own with stacked snapshots)."""
    if snapshot_col:
        return pl.col(snapshot_col)
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    return pl.lit(as_of, pl.Date)


def _snapshot_flags(
    frame: pl.LazyFrame, keys: list[str], flags: Sequence[pl.Expr]
) -> pl.LazyFrame:
    """One row per snapshot (a single row without ``keys``) of boolean ``flags``."""
    if keys:
        return frame.group_by(keys).agg(flags)
    return frame.select(flags)


def _join_flags(lf: pl.LazyFrame, flags: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    names = [c for c in flags.collect_schema().names() if c not in keys]
    joined = lf.join(flags, on=keys, how="left") if keys else lf.join(flags, how="cross")
    return joined.with_columns(pl.col(names).fill_null(False))


def _with_habilitations(
    lf: pl.LazyFrame,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    names: set[str],
    as_of: dt.date | dt.datetime | None,
    keys: list[str],
    snapshot_col: str | None,
) -> pl.LazyFrame:
    """Accounts of the campaign roles per establishment (``ror_*``, ``vt_*``: accounts,
    valid ones at the snapshot date, latest end, whether the snapshot lists that tool's
    accounts at all) or the admissions lead's habilitation per VT unit (``adm_*``).

    Valid: no end date, or an end on or after the snapshot day. The admissions lead's end is
    the later of ``vt_unites.habilitation_fin`` and the ``habilitations`` rows of role
    responsable_admissions on the unit.
    """
    day = _as_of_day(as_of, snapshot_col)
    hab = table_of(tables, "habilitations", snapshot_col)
    if snapshot_col is None:
        hab = hab.with_columns(day.alias("_day"))
        day = pl.col("_day")
    end = pl.col("date_fin_validite")
    valid = end.is_null() | (end >= day)
    for tool in ("ROR", "VT"):
        p = tool.lower()
        if not names & {f"{p}_comptes", f"{p}_valides", f"{p}_fin", f"{p}_connu"}:
            continue
        mine = (pl.col("outil") == tool) & pl.col("role").is_in(list(nom.ROLES_CAMPAGNE[tool]))
        per_eg = (
            hab.filter(mine)
            .group_by([*keys, "finess_eg"])
            .agg(
                pl.len().cast(pl.Int64).alias(f"{p}_comptes"),
                valid.sum().cast(pl.Int64).alias(f"{p}_valides"),
                end.max().alias(f"{p}_fin"),
            )
        )
        lf = lf.join(per_eg, on=[*keys, "finess_eg"], how="left").with_columns(
            pl.col(f"{p}_comptes", f"{p}_valides").fill_null(0)
        )
        known = _snapshot_flags(hab, keys, [(pl.col("outil") == tool).any().alias(f"{p}_connu")])
        lf = _join_flags(lf, known, keys)
    if names & {"adm_fin", "adm_valide", "adm_connu"}:
        admissions = pl.col("role") == nom.ROLE_ADMISSIONS
        per_unit = (
            hab.filter((pl.col("outil") == "VT") & admissions & pl.col("vt_id").is_not_null())
            .group_by([*keys, "vt_id"])
            .agg(end.max().alias("_adm_table"))
        )
        lf = lf.join(per_unit, on=[*keys, "vt_id"], how="left").with_columns(
            pl.max_horizontal("habilitation_fin", "_adm_table").alias("adm_fin")
        )
        lf = lf.with_columns(
            (pl.col("adm_fin") >= _as_of_day(as_of, snapshot_col)).fill_null(False)
            .alias("adm_valide")
        )
        # Evaluated only where the snapshot gives some admissions habilitation at all.
        known = _snapshot_flags(
            lf, keys, [pl.col("adm_fin").is_not_null().any().alias("adm_connu")]
        )
        lf = _join_flags(lf, known, keys)
    return lf


def _sorted_lists(
    frame: pl.LazyFrame, keys: list[str], value: str, name: str
) -> pl.LazyFrame:
    """Per ``keys``: the distinct non-null ``value`` of the group as a sorted list ``name``,
    as ``pl.col(value).drop_nulls().unique().sort()`` gives it per group, built from the
    distinct rows sorted once (the order within a group follows the frame's) instead of a
    unique and a sort per group. A group whose values are all null has no row here (the
    callers' left joins fill an empty list)."""
    return (
        frame.drop_nulls(value)
        .unique()
        .sort(value)
        .group_by(keys)
        .agg(pl.col(value).alias(name))
    )


def _with_offer_mentions(
    lf: pl.LazyFrame,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime | None,
    keys: list[str],
    snapshot_col: str | None,
) -> pl.LazyFrame:
    """Per establishment: ``mentions_decrites`` (mentions of its ROR offers) and
    ``mentions_autorisees`` (mentions of its SMR decisions in force at the snapshot date,
    ``date_fin`` null or on/after it, HAD form 05 excluded)."""
    described = _sorted_lists(
        table_of(tables, "offres", snapshot_col)
        .select(*keys, "uo_id", "mention")
        .join(
            table_of(tables, "unites", snapshot_col).select(*keys, "uo_id", "finess_eg"),
            on=[*keys, "uo_id"],
            how="inner",
        )
        .select(*keys, "finess_eg", "mention"),
        [*keys, "finess_eg"], "mention", "mentions_decrites",
    )
    auth = table_of(tables, "autorisations", snapshot_col)
    day = _as_of_day(as_of, snapshot_col)
    if snapshot_col is None:
        auth = auth.with_columns(day.alias("_day"))
        day = pl.col("_day")
    in_force = (
        (pl.col("regime") == "SMR")
        & pl.col("mention").is_not_null()
        & (pl.col("forme").is_null() | (pl.col("forme") != nom.HAD_FORME_AUTORISATION))
        & (pl.col("date_fin").is_null() | (pl.col("date_fin") >= day))
    )
    authorised = _sorted_lists(
        auth.filter(in_force).select(*keys, "finess_eg", "mention"),
        [*keys, "finess_eg"], "mention", "mentions_autorisees",
    )
    empty = pl.lit([], pl.List(pl.String))
    return (
        lf.join(described, on=[*keys, "finess_eg"], how="left")
        .join(authorised, on=[*keys, "finess_eg"], how="left")
        .with_columns(
            pl.col("mentions_decrites").fill_null(empty),
            pl.col("mentions_autorisees").fill_null(empty),
        )
    )


def level_frame(
    level: str,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    names: set[str],
    as_of: dt.date | dt.datetime | None,
    params: CampaignParams,
    snapshot_col: str | None = None,
) -> pl.LazyFrame:
    """The entities of ``level`` with the derived columns their rules use (per snapshot when
    ``snapshot_col`` names the column of stacked snapshots, see ``evaluate_lazy``)."""
    table, key, label = LEVEL_SOURCE[level]
    keys = [snapshot_col] if snapshot_col else []
    # a history only counts: the first row of a key is kept either way, its order is not
    lf = table_of(tables, table, snapshot_col)
    if not keys or has_duplicates(lf, [*keys, key]):
        lf = lf.unique([*keys, key], keep="first", maintain_order=not keys)
    if "mentions" in names:
        mentions = _sorted_lists(
            table_of(tables, "offres", snapshot_col).select(*keys, "uo_id", "mention"),
            [*keys, "uo_id"], "mention", "mentions",
        )
        lf = lf.join(mentions, on=[*keys, "uo_id"], how="left").with_columns(
            pl.col("mentions").fill_null(pl.lit([], pl.List(pl.String)))
        )
    if "dans_vt" in names:
        linked = (
            table_of(tables, "vt_unites", snapshot_col)
            .select(*keys, pl.col("uo_id").str.strip_chars())
            .drop_nulls()
            .unique()
            .with_columns(pl.lit(True).alias("dans_vt"))
        )
        lf = lf.join(linked, on=[*keys, "uo_id"], how="left").with_columns(
            pl.col("dans_vt").fill_null(False)
        )
    if names & {"g_connu", "g_responsable_nom", "g_telephone", "g_email"}:
        guichets = (
            table_of(tables, "vt_guichets", snapshot_col)
            .select(
                *keys,
                "guichet_id",
                pl.col("responsable_nom").alias("g_responsable_nom"),
                pl.col("telephone").alias("g_telephone"),
                pl.col("email").alias("g_email"),
                pl.lit(True).alias("g_connu"),
            )
            .unique([*keys, "guichet_id"], keep="first")
        )
        lf = lf.join(guichets, on=[*keys, "guichet_id"], how="left").with_columns(
            pl.col("g_connu").fill_null(False)
        )
    accounts = {f"{p}_{x}" for p in ("ror", "vt") for x in ("comptes", "valides", "fin", "connu")}
    if names & (accounts | {"adm_fin", "adm_valide", "adm_connu"}):
        lf = _with_habilitations(lf, tables, names, as_of, keys, snapshot_col)
    if "finess_raison_sociale" in names:
        reference = (
            table_of(tables, "finess_etablissements", snapshot_col)
            .select(*keys, "finess_eg", pl.col("raison_sociale").alias("finess_raison_sociale"))
            .filter(pl.col("finess_raison_sociale").is_not_null())
            .unique([*keys, "finess_eg"], keep="first")
        )
        lf = lf.join(reference, on=[*keys, "finess_eg"], how="left")
    if names & {"mentions_decrites", "mentions_autorisees"}:
        lf = _with_offer_mentions(lf, tables, as_of, keys, snapshot_col)
    if names & {"statut_sync", "motif_sync", "ecarts"}:
        status = (
            sync.unit_status_lazy(
                table_of(tables, "unites", snapshot_col),
                table_of(tables, "vt_unites", snapshot_col),
                as_of,
                params.sync_time,
                snapshot_col,
                etablissements=table_of(tables, "etablissements", snapshot_col),
                ror_only=False,  # the VT units' rows only (they have a vt_id)
            )
            .filter(pl.col("vt_id").is_not_null())
            .select(
                *keys,
                "vt_id",
                pl.col("statut").alias("statut_sync"),
                pl.col("motif").alias("motif_sync"),
                "ecarts",
            )
            .unique([*keys, "vt_id"], keep="first")
        )
        lf = lf.join(status, on=[*keys, "vt_id"], how="left")
    return lf.with_columns(pl.col(key).alias("entite"), pl.col(label).alias("nom_entite"))
