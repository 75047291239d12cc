"""ROR ↔ ViaTrajectoire synchronisation: status per unit, field differences, counts.

ViaTrajectoire (VT) units point to their ROR unit through ``vt_unites.uo_id``. The ROR
pushes its changes to VT once a day (at 18:00 by default, ``sync_time``), so a ROR change
made after the last scheduled sync cannot be in VT yet: it is *pending*, not a drift.

Status of each unit (one row per VT unit, plus one per ROR unit that no VT unit links to):

- ``absent_ror``: VT unit with no ``uo_id``, or an ``uo_id`` that is not a ROR unit;
- ``desynchronise``: synchronisation switched off in VT (``synchronise_ror`` false), or a
  compared field (name, phone, ages, FINESS) differs although the ROR change is older than
  the last scheduled sync;
- ``en_attente``: the ROR unit changed (``date_maj``) after the most recent scheduled sync
  at or before the snapshot moment, so VT could not have the change yet;
- ``synchronise``: linked, sync on, nothing pending, every compared field equal;
- ``absent_vt``: ROR unit that no VT unit links to.

A snapshot dated D is extracted during day D, before that day's sync: the most recent
sync it can reflect is D-1 at 18:00, and every ROR change made after it (late on D-1 or on
D itself) is pending. Pass an exact ``datetime`` instead of a date to set the moment.

A field that is empty for every VT unit of the snapshot is taken as not extracted from
ViaTrajectoire and is not compared (otherwise every unit would differ on it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis import schema, syntax
from analysis.progress import Progress, step

DEFAULT_SYNC_TIME = dt.time(18, 0)

SYNCHRONISE = "synchronise"
EN_ATTENTE = "en_attente"
DESYNCHRONISE = "desynchronise"
ABSENT_VT = "absent_vt"
ABSENT_ROR = "absent_ror"
STATUSES: tuple[str, ...] = (SYNCHRONISE, EN_ATTENTE, DESYNCHRONISE, ABSENT_VT, ABSENT_ROR)
STATUS_LABELS: dict[str, str] = {
    SYNCHRONISE: "Synchronisée",
    EN_ATTENTE: "En attente de synchronisation",
    DESYNCHRONISE: "Désynchronisée",
    ABSENT_VT: "Absente de ViaTrajectoire",
    ABSENT_ROR: "Non rattachée au ROR",
}

#: Short labels for narrow places (metrics, legends).
STATUS_SHORT_LABELS: dict[str, str] = {
    SYNCHRONISE: "Synchronisées",
    EN_ATTENTE: "En attente",
    DESYNCHRONISE: "Désynchronisées",
    ABSENT_VT: "Absentes de VT",
    ABSENT_ROR: "Non rattachées au ROR",
}


@dataclass(frozen=True)
class Field:
    """A field compared between a ROR unit and its VT unit, with its normalisation."""

    champ: str  # name shown in the differences table
    ror: str  # column in ``unites``
    vt: str  # column in ``vt_unites``
    kind: str  # "text", "phone" or "value"
    label: str


#: Fields the ROR sends to VT and that the extract holds on both sides.
COMPARED_FIELDS: tuple[Field, ...] = (
    Field("nom", "nom", "nom", "text", "Nom de l'unité"),
    Field("telephone", "telephone", "telephone", "phone", "Téléphone"),
    Field("age_min", "age_min", "age_min", "value", "Âge minimum"),
    Field("age_max", "age_max", "age_max", "value", "Âge maximum"),
    Field("finess_eg", "finess_eg", "finess_eg", "value", "FINESS EG"),
)

#: Columns read from each table (the progress history reads nothing else).
COLUMNS: dict[str, tuple[str, ...]] = {
    "unites": tuple(
        dict.fromkeys(("uo_id", "finess_eg", "nom", "date_maj", *(f.ror for f in COMPARED_FIELDS)))
    ),
    "vt_unites": tuple(
        dict.fromkeys(
            (
                "vt_id",
                "uo_id",
                "finess_eg",
                "nom",
                "synchronise_ror",
                "date_synchronisation",
                *(f.vt for f in COMPARED_FIELDS),
            )
        )
    ),
}

_OVERSEAS_FINESS = {"9A": "971", "9B": "972", "9C": "973", "9D": "974", "9E": "975", "9F": "976"}


def snapshot_moment(when: dt.date | dt.datetime) -> dt.datetime:
    """The moment of an extract: a datetime as given, a date as the start of that day
    (the extract of day D comes before D's sync, see the module docstring)."""
    if isinstance(when, dt.datetime):
        return when
    return dt.datetime.combine(when, dt.time(0, 0))


def last_sync(when: dt.date | dt.datetime, sync_time: dt.time = DEFAULT_SYNC_TIME) -> dt.datetime:
    """The most recent scheduled daily sync at or before the snapshot moment."""
    moment = snapshot_moment(when)
    same_day = dt.datetime.combine(moment.date(), sync_time)
    return same_day if same_day <= moment else same_day - dt.timedelta(days=1)


def last_sync_expr(day: pl.Expr, sync_time: dt.time = DEFAULT_SYNC_TIME) -> pl.Expr:
    """``last_sync`` of a column of snapshot dates (each read as the start of its day)."""
    offset = dt.datetime.combine(dt.date.min, sync_time) - dt.datetime.combine(
        dt.date.min, dt.time(0, 0)
    )
    if sync_time != dt.time(0, 0):
        offset -= dt.timedelta(days=1)
    return day.cast(schema.DATETIME_T) + pl.lit(offset, pl.Duration("us"))


def departement_expr(commune_insee: str = "commune_insee", finess: str = "finess_eg") -> pl.Expr:
    """Département of an establishment: from its commune (97x/98x on 3 characters), else
    from the first characters of its FINESS number (9A → 971…)."""
    com = pl.col(commune_insee)
    from_commune = (
        pl.when(com.str.slice(0, 2).is_in(["97", "98"]))
        .then(com.str.slice(0, 3))
        .otherwise(com.str.slice(0, 2))
    )
    head = pl.col(finess).str.slice(0, 2)
    from_finess = head.replace(_OVERSEAS_FINESS)
    return pl.coalesce(from_commune, from_finess)


def establishments_info(
    etablissements: pl.DataFrame | pl.LazyFrame,
    legal_status: str = "statut",
    snapshot_col: str | None = None,
) -> pl.LazyFrame:
    """One row per establishment: ``finess_eg``, ``raison_sociale``, ``departement`` and the
    legal status (public / privé…) under the name ``legal_status``.

    Used to label and group unit-level results by département and legal status. With
    ``snapshot_col`` (tables of several snapshots stacked), one row per snapshot and
    establishment, the snapshot column first.
    """
    keys = [snapshot_col] if snapshot_col else []
    return (
        etablissements.lazy()
        .select(
            *keys,
            "finess_eg",
            "raison_sociale",
            departement_expr().alias("departement"),
            pl.col("statut").alias(legal_status),
        )
        .unique([*keys, "finess_eg"], keep="first")
    )


def with_establishment(
    frame: pl.LazyFrame,
    etablissements: pl.DataFrame | pl.LazyFrame | None,
    legal_status: str = "statut_etablissement",
    snapshot_col: str | None = None,
) -> pl.LazyFrame:
    """``frame`` (with ``finess_eg``) plus ``raison_sociale``, ``departement`` and the legal
    status of its establishment (column ``legal_status``).

    Rows whose establishment is not in the table keep the département read from their
    FINESS number, so they still count somewhere. With ``snapshot_col``, both tables hold
    several snapshots and rows are matched within their snapshot.
    """
    if etablissements is None:
        etablissements = schema.empty("etablissements")
    info = establishments_info(etablissements, legal_status, snapshot_col)
    keys = [snapshot_col] if snapshot_col else []
    added = ["raison_sociale", "departement", legal_status]
    present = frame.collect_schema().names()
    return (
        frame.drop([c for c in added if c in present])
        .join(info, on=[*keys, "finess_eg"], how="left")
        .with_columns(
            pl.coalesce(
                pl.col("departement"),
                pl.col("finess_eg").str.slice(0, 2).replace(_OVERSEAS_FINESS),
            ).alias("departement")
        )
    )


def _norm(expr: pl.Expr, kind: str) -> pl.Expr:
    """Comparable form: names ignore case and repeated spaces, phones their spelling."""
    if kind == "text":
        return expr.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase()
    if kind == "phone":
        return syntax.phone_key(expr)
    return expr


def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String)


def _pairs(
    unites: pl.LazyFrame, vt: pl.LazyFrame, snapshot_col: str | None = None
) -> pl.LazyFrame:
    """VT units joined to their ROR unit, with the per-field difference flags (within each
    snapshot when ``snapshot_col`` names the column of stacked snapshots)."""
    keys = [snapshot_col] if snapshot_col else []
    ror = unites.select(
        *keys,
        pl.col("uo_id"),
        *[pl.col(f.ror).alias(f"ror_{f.champ}") for f in COMPARED_FIELDS],
        pl.col("date_maj").alias("date_maj_ror"),
        pl.lit(True).alias("_in_ror"),
    ).unique([*keys, "uo_id"], keep="first")
    link = pl.col("uo_id").str.strip_chars()
    vts = vt.select(
        *keys,
        "vt_id",
        pl.when(link != "").then(link).alias("uo_id"),
        pl.col("nom").alias("nom_vt"),
        pl.col("finess_eg").alias("finess_vt"),
        "synchronise_ror",
        "date_synchronisation",
        *[pl.col(f.vt).alias(f"vt_{f.champ}") for f in COMPARED_FIELDS],
    )
    joined = vts.join(ror, on=[*keys, "uo_id"], how="left")

    def extracted(name: str) -> pl.Expr:  # the field is filled for some VT unit
        anywhere = pl.col(name).is_not_null().any()
        return anywhere.over(keys) if keys else anywhere

    def differs(f: Field, extracted_flag: pl.Expr) -> pl.Expr:
        return (
            _norm(pl.col(f"ror_{f.champ}"), f.kind).ne_missing(
                _norm(pl.col(f"vt_{f.champ}"), f.kind)
            )
            & extracted_flag  # field extracted from VT
        ).alias(f"diff_{f.champ}")

    if not keys:
        return joined.with_columns(
            [differs(f, extracted(f"vt_{f.champ}")) for f in COMPARED_FIELDS]
        ).with_columns(pl.col("_in_ror").fill_null(False))
    # Stacked snapshots (a history): most pairs are identical as written, and equal values
    # stay equal once normalised, so only the pairs that differ somewhere are normalised.
    flagged = joined.with_columns(
        [extracted(f"vt_{f.champ}").alias(f"_x_{f.champ}") for f in COMPARED_FIELDS]
    )
    same = pl.all_horizontal(
        [pl.col(f"ror_{f.champ}").eq_missing(pl.col(f"vt_{f.champ}")) for f in COMPARED_FIELDS]
    )
    equal = flagged.filter(same).with_columns(
        [pl.lit(False).alias(f"diff_{f.champ}") for f in COMPARED_FIELDS]
    )
    other = flagged.filter(~same).with_columns(
        [differs(f, pl.col(f"_x_{f.champ}")) for f in COMPARED_FIELDS]
    )
    return (
        pl.concat([equal, other])
        .drop([f"_x_{f.champ}" for f in COMPARED_FIELDS])
        .with_columns(pl.col("_in_ror").fill_null(False))
    )


def _differing_fields() -> pl.Expr:
    """Names of the differing fields of a pair, comma-separated (empty when none)."""
    return pl.concat_str(
        [pl.when(pl.col(f"diff_{f.champ}")).then(pl.lit(f.champ)) for f in COMPARED_FIELDS],
        separator=", ",
        ignore_nulls=True,
    )


def _status_exprs() -> tuple[pl.Expr, pl.Expr]:
    """Status and French reason of a VT unit from the joined pair (priority order)."""
    diffs = _differing_fields()
    pending = pl.col("date_maj_ror") > pl.col("derniere_synchro")
    cases: list[tuple[pl.Expr, str, pl.Expr]] = [
        (
            pl.col("uo_id").is_null(),
            ABSENT_ROR,
            pl.lit("unité ViaTrajectoire rattachée à aucune unité du ROR"),
        ),
        (
            ~pl.col("_in_ror"),
            ABSENT_ROR,
            pl.lit("unité ViaTrajectoire rattachée à une unité ROR inexistante"),
        ),
        (
            pl.col("synchronise_ror").eq(False),
            DESYNCHRONISE,
            pl.lit("synchronisation avec le ROR désactivée dans ViaTrajectoire"),
        ),
        (
            pending.fill_null(False),
            EN_ATTENTE,
            pl.format(
                "modifiée dans le ROR le {} après la synchronisation du {}",
                pl.col("date_maj_ror").dt.strftime("%d/%m/%Y %H:%M"),
                pl.col("derniere_synchro").dt.strftime("%d/%m/%Y %H:%M"),
            ),
        ),
        (
            diffs != "",
            DESYNCHRONISE,
            pl.lit("valeurs différentes : ") + diffs,
        ),
    ]
    status = pl.when(cases[0][0]).then(pl.lit(cases[0][1]))
    reason = pl.when(cases[0][0]).then(cases[0][2])
    for cond, st, why in cases[1:]:
        status = status.when(cond).then(pl.lit(st))
        reason = reason.when(cond).then(why)
    return status.otherwise(pl.lit(SYNCHRONISE)), reason.otherwise(pl.lit(None, pl.String))


def _lazy(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], name: str) -> pl.LazyFrame:
    frame = tables.get(name)
    if frame is None:
        return schema.empty(name).lazy()
    return frame.lazy()


def unit_status_lazy(
    unites: pl.LazyFrame,
    vt_unites: pl.LazyFrame,
    as_of: dt.date | dt.datetime | None,
    sync_time: dt.time = DEFAULT_SYNC_TIME,
    snapshot_col: str | None = None,
) -> pl.LazyFrame:
    """Lazy version of ``unit_status`` over the two unit tables (see the module docstring).

    With ``snapshot_col``, the tables hold several snapshots stacked (a ``Date`` column, as
    ``store.scan_table`` gives): each row is compared within its snapshot, the snapshot
    date is ``as_of`` (which is then ignored) and the column is kept first in the result.
    """
    keys = [snapshot_col] if snapshot_col else []
    if snapshot_col:
        synced_at = last_sync_expr(pl.col(snapshot_col), sync_time)
    elif as_of is None:
        raise ValueError("unit_status_lazy: as_of or snapshot_col is needed")
    else:
        synced_at = pl.lit(last_sync(as_of, sync_time))
    pairs = _pairs(unites, vt_unites, snapshot_col).with_columns(
        synced_at.alias("derniere_synchro")
    )
    status, reason = _status_exprs()
    diffs = _differing_fields()
    linked = pl.col("_in_ror")
    vt_rows = pairs.select(
        *keys,
        pl.when(linked).then(pl.col("uo_id")).alias("uo_id"),
        pl.col("uo_id").alias("uo_id_vt"),
        "vt_id",
        pl.coalesce(pl.when(linked).then(pl.col("ror_finess_eg")), pl.col("finess_vt")).alias(
            "finess_eg"
        ),
        pl.when(linked).then(pl.col("ror_nom")).alias("nom_ror"),
        "nom_vt",
        status.alias("statut"),
        reason.alias("motif"),
        pl.when(linked & (diffs != "")).then(diffs).alias("ecarts"),
        "synchronise_ror",
        "date_maj_ror",
        "date_synchronisation",
        "derniere_synchro",
    )
    linked_ids = vt_unites.select(*keys, "uo_id").drop_nulls().unique()
    ror_only = (
        unites.join(linked_ids, on=[*keys, "uo_id"], how="anti")
        .unique([*keys, "uo_id"], keep="first")
        .select(
            *keys,
            "uo_id",
            pl.lit(None, pl.String).alias("uo_id_vt"),
            pl.lit(None, pl.String).alias("vt_id"),
            "finess_eg",
            pl.col("nom").alias("nom_ror"),
            pl.lit(None, pl.String).alias("nom_vt"),
            pl.lit(ABSENT_VT).alias("statut"),
            pl.lit("unité du ROR sans unité ViaTrajectoire rattachée").alias("motif"),
            pl.lit(None, pl.String).alias("ecarts"),
            pl.lit(None, pl.Boolean).alias("synchronise_ror"),
            pl.col("date_maj").alias("date_maj_ror"),
            pl.lit(None, schema.DATETIME_T).alias("date_synchronisation"),
            synced_at.alias("derniere_synchro"),
        )
    )
    return pl.concat([vt_rows, ror_only], how="vertical_relaxed")


def unit_status(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime,
    sync_time: dt.time = DEFAULT_SYNC_TIME,
) -> pl.DataFrame:
    """Synchronisation status of every unit, one row per VT unit or unlinked ROR unit.

    Columns: ``uo_id`` (ROR unit, null for ``absent_ror``), ``uo_id_vt`` (the link as
    written in VT), ``vt_id``, ``finess_eg``, ``nom_ror``, ``nom_vt``, ``statut`` (one of
    ``STATUSES``), ``motif`` (French), ``ecarts`` (differing fields, comma-separated),
    ``synchronise_ror``, ``date_maj_ror``, ``date_synchronisation``, ``derniere_synchro``.
    ``as_of`` is the snapshot date (read as the start of that day, before its sync) or an
    exact moment; ``sync_time`` the daily ROR → VT sync hour. Sorted by FINESS, then unit.
    """
    lf = unit_status_lazy(_lazy(tables, "unites"), _lazy(tables, "vt_unites"), as_of, sync_time)
    return lf.sort("finess_eg", "uo_id", "vt_id", nulls_last=True).collect()


def field_differences(tables: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> pl.DataFrame:
    """Every differing field of every linked pair, as a long table.

    Columns ``uo_id``, ``vt_id``, ``finess_eg``, ``champ``, ``valeur_ror``, ``valeur_vt``
    (values as text). Differences are listed whatever the status, including pending ones,
    so a reader sees what the next sync should bring. Values compare after normalisation
    (case and spaces for names, spelling for phones), so listed values really differ.
    """
    pairs = _pairs(_lazy(tables, "unites"), _lazy(tables, "vt_unites")).filter(pl.col("_in_ror"))
    parts = [
        pairs.filter(pl.col(f"diff_{f.champ}")).select(
            "uo_id",
            "vt_id",
            pl.col("ror_finess_eg").alias("finess_eg"),
            pl.lit(f.champ).alias("champ"),
            _text(pl.col(f"ror_{f.champ}")).alias("valeur_ror"),
            _text(pl.col(f"vt_{f.champ}")).alias("valeur_vt"),
        )
        for f in COMPARED_FIELDS
    ]
    order = {f.champ: i for i, f in enumerate(COMPARED_FIELDS)}
    return (
        pl.concat(parts)
        .with_columns(pl.col("champ").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
        .sort("finess_eg", "uo_id", "vt_id", "_o")
        .drop("_o")
        .collect()
    )


def status_counts(
    status: pl.DataFrame, etablissements: pl.DataFrame | None = None, by: str = "departement"
) -> pl.DataFrame:
    """Units per status (one column each), total and share synchronised, grouped by ``by``.

    ``by`` is ``departement``, ``statut_etablissement`` (legal status), ``finess_eg`` (then
    the name and département are added) or ``ensemble`` (one row). ``taux_synchronise``
    counts ``en_attente`` as synchronised: the unit is up to date in the ROR and VT will
    follow at the next sync.
    """
    frame = with_establishment(status.lazy(), etablissements)
    keys = (
        []
        if by == "ensemble"
        else (["finess_eg", "raison_sociale", "departement"] if by == "finess_eg" else [by])
    )
    counts = frame.group_by(keys or pl.lit("ensemble").alias("ensemble")).agg(
        [(pl.col("statut") == s).sum().cast(pl.Int64).alias(s) for s in STATUSES]
        + [pl.len().cast(pl.Int64).alias("total")]
    )
    out = counts.with_columns(
        ((pl.col(SYNCHRONISE) + pl.col(EN_ATTENTE)) / pl.col("total")).alias("taux_synchronise")
    )
    sort_keys = keys or ["ensemble"]
    return out.sort(sort_keys, nulls_last=True).collect()


def method_note(sync_time: dt.time = DEFAULT_SYNC_TIME) -> str:
    """French method note of the statuses for a daily sync at ``sync_time``: the text is kept
    with every other note in ``analysis.methods`` (``sync_statuts``)."""
    from analysis import methods  # methods builds its notes from this module's constants

    return methods.sync_status_note(sync_time)


# ------------------------------------------------------------------------- history

HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    **{s: pl.Int64() for s in STATUSES},
    "total": pl.Int64(),
    "taux_synchronise": pl.Float64(),
}


def status_history_lazy(
    unites: pl.LazyFrame,
    vt_unites: pl.LazyFrame,
    etablissements: pl.LazyFrame | None = None,
    sync_time: dt.time = DEFAULT_SYNC_TIME,
    snapshot_col: str = "date_snapshot",
    by_departement: bool = False,
) -> pl.LazyFrame:
    """Units per status at each snapshot of stacked tables (``store.scan_table``): the
    snapshot column, ``departement`` when ``by_departement`` (then ``etablissements`` is
    needed), one count column per status, ``total`` and ``taux_synchronise``; the same
    figures as ``status_counts(unit_status(…))`` snapshot by snapshot."""
    status = unit_status_lazy(unites, vt_unites, None, sync_time, snapshot_col).select(
        snapshot_col, "finess_eg", "statut"
    )
    keys = [snapshot_col]
    if by_departement:
        status = with_establishment(status, etablissements, snapshot_col=snapshot_col)
        keys.append("departement")
    return (
        status.group_by(keys)
        .agg(
            [(pl.col("statut") == s).sum().cast(pl.Int64).alias(s) for s in STATUSES]
            + [pl.len().cast(pl.Int64).alias("total")]
        )
        .with_columns(
            ((pl.col(SYNCHRONISE) + pl.col(EN_ATTENTE)) / pl.col("total")).alias(
                "taux_synchronise"
            )
        )
    )


def status_history(
    store_path: str | Path,
    sync_time: dt.time = DEFAULT_SYNC_TIME,
    dates: Sequence[dt.date] | None = None,
    by_departement: bool = False,
    batch: int = 32,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Synchronisation status counts at every snapshot of the store (or of ``dates``):
    ``date``, ``departement`` (with ``by_departement``), one column per status, ``total``,
    ``taux_synchronise``; sorted by date (then département).

    Read with lazy scans of only the compared columns, ``batch`` snapshots per plan, so
    memory stays that of a few snapshots' unit tables whatever the length of the history.
    ``progress`` (``analysis.progress``) hears of each batch: snapshots done out of all.
    """
    from analysis import store  # store imports the loaders; keep this module light

    chosen = sorted(store.list_snapshots(store_path) if dates is None else dates)
    out_schema = dict(HISTORY_SCHEMA)
    if by_departement:
        out_schema = {"date": pl.Date(), "departement": pl.String(), **{
            k: v for k, v in HISTORY_SCHEMA.items() if k != "date"}}
    if not chosen:
        return pl.DataFrame(schema=out_schema)
    parts = []
    for i in range(0, len(chosen), max(1, batch)):
        part = chosen[i : i + max(1, batch)]
        scan = {
            t: store.scan_table(store_path, t, COLUMNS[t], part) for t in ("unites", "vt_unites")
        }
        etabs = (
            store.scan_table(
                store_path, "etablissements",
                ["finess_eg", "raison_sociale", "commune_insee", "statut"], part,
            )
            if by_departement
            else None
        )
        parts.append(
            status_history_lazy(
                scan["unites"], scan["vt_unites"], etabs, sync_time, by_departement=by_departement
            ).collect()
        )
        step(progress, i + len(part), len(chosen), part[-1].isoformat())
    sort = ["date", "departement"] if by_departement else ["date"]
    return (
        pl.concat(parts)
        .rename({"date_snapshot": "date"})
        .select(list(out_schema))
        .sort(sort, nulls_last=True)
        .cast(out_schema)  # type: ignore[arg-type]
    )
