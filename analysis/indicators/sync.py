"""ROR ↔ ViaTrajectoire synchronisation: status per unit, field differences, counts.

ViaTrajectoire (VT) units point to their ROR unit through ``vt_unites.uo_id``. The ROR
pushes its changes to VT once a day (at 18:00 by default, ``sync_time``, the hour the
campaign guide gives), so a ROR change made after the last scheduled sync cannot be in VT
yet: it is *pending*, not a drift.

Status of each unit (one row per VT unit, plus one per ROR unit that no VT unit links to),
first matching case first:

- ``absent_ror``: VT unit with no ``uo_id``, or an ``uo_id`` that is not a ROR unit;
- ``desynchronise``: synchronisation switched off in VT (``synchronise_ror`` false);
- ``en_attente``: the ROR unit changed (``date_maj``) after the most recent scheduled sync
  at or before the snapshot moment, so VT could not have the change yet;
- ``desynchronise`` (« synchronisation en retard »): the ROR unit changed before that sync
  but VT's own ``date_synchronisation`` for the unit is older than the change, so the sync
  that should have carried it did not reach the unit — whatever the compared fields say
  (a change in a field that is not compared is caught this way);
- ``desynchronise``: a compared field differs although the ROR change is older than the
  last scheduled sync;
- ``en_attente``: only establishment fields differ and the ROR establishment changed after
  the last scheduled sync;
- ``synchronise``: linked, sync on, nothing pending, every compared field equal;
- ``absent_vt``: ROR unit that no VT unit links to.

A snapshot dated D is extracted during day D, before that day's sync: the most recent
sync it can reflect is D-1 at 18:00, and every ROR change made after it (late on D-1 or on
D itself) is pending. Pass an exact ``datetime`` instead of a date to set the moment.

Compared fields: the unit's (name, phone, ages, FINESS EG, the unit head's name, phone and
e-mail) and, when the VT export carries them (``vt_unites.etablissement_*``), the
establishment fields VT shows (name, address, switchboard phone), compared with the ROR
establishment of the linked ROR unit. A field that is empty for every VT unit of the
snapshot is taken as not extracted from ViaTrajectoire and is not compared (otherwise every
unit would differ on it). A ``date_synchronisation`` at exactly 00:00 is read as a date
without time: the sync of that day at ``sync_time``. A unit without ``date_synchronisation``
is not judged late (the date is unknown, not old).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.model import schema, syntax
from analysis.model.insee import departement_expr, finess_departement_expr
from analysis.model.progress import Progress

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
    ror: str  # column in ``unites`` (or ``etablissements`` for an establishment field)
    vt: str  # column in ``vt_unites``
    kind: str  # "text", "phone", "email" or "value"
    label: str
    level: str = "unite"  # "unite" or "etablissement" (the ROR table the value comes from)


UNIT_LEVEL, EG_LEVEL = "unite", "etablissement"

#: Fields the ROR sends to VT and that the extract may hold on both sides.
COMPARED_FIELDS: tuple[Field, ...] = (
    Field("nom", "nom", "nom", "text", "Nom de l'unité"),
    Field("telephone", "telephone", "telephone", "phone", "Téléphone"),
    Field("age_min", "age_min", "age_min", "value", "Âge minimum"),
    Field("age_max", "age_max", "age_max", "value", "Âge maximum"),
    Field("finess_eg", "finess_eg", "finess_eg", "value", "FINESS EG"),
    Field("responsable_nom", "responsable_nom", "responsable_nom", "text",
          "Responsable de l'unité"),
    Field("responsable_telephone", "responsable_telephone", "responsable_telephone", "phone",
          "Téléphone du responsable"),
    Field("responsable_email", "responsable_email", "responsable_email", "email",
          "E-mail du responsable"),
    Field("etablissement_nom", "raison_sociale", "etablissement_nom", "text",
          "Nom de l'établissement", EG_LEVEL),
    Field("etablissement_adresse", "adresse", "etablissement_adresse", "text",
          "Adresse de l'établissement", EG_LEVEL),
    Field("etablissement_telephone", "telephone", "etablissement_telephone", "phone",
          "Téléphone de l'établissement", EG_LEVEL),
)
UNIT_FIELDS: tuple[Field, ...] = tuple(f for f in COMPARED_FIELDS if f.level == UNIT_LEVEL)
EG_FIELDS: tuple[Field, ...] = tuple(f for f in COMPARED_FIELDS if f.level == EG_LEVEL)

#: Columns read from each table (the progress history reads nothing else).
COLUMNS: dict[str, tuple[str, ...]] = {
    "unites": tuple(
        dict.fromkeys(("uo_id", "finess_eg", "nom", "date_maj", *(f.ror for f in UNIT_FIELDS)))
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
    "etablissements": tuple(
        dict.fromkeys(("finess_eg", "date_maj", *(f.ror for f in EG_FIELDS)))
    ),
}



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
                finess_departement_expr("finess_eg"),
            ).alias("departement")
        )
    )


def _norm(expr: pl.Expr, kind: str) -> pl.Expr:
    """Comparable form: names ignore case and repeated spaces, phones their spelling,
    e-mails case and surrounding spaces."""
    if kind == "text":
        return expr.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase()
    if kind == "phone":
        return syntax.phone_key(expr)
    if kind == "email":
        return expr.str.strip_chars().str.to_lowercase()
    return expr


def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String)


def _completed(frame: pl.LazyFrame, table: str, names: Sequence[str]) -> pl.LazyFrame:
    """``frame`` with the listed canonical columns of ``table`` it lacks added as nulls (a
    frame read before an optional column existed, or read with only some columns)."""
    present = set(frame.collect_schema().names())
    types = schema.TABLES[table].polars_schema
    missing = [pl.lit(None, types[c]).alias(c) for c in dict.fromkeys(names) if c not in present]
    return frame.with_columns(missing) if missing else frame


def vt_sync_moment(sync_time: dt.time = DEFAULT_SYNC_TIME) -> pl.Expr:
    """VT's ``date_synchronisation`` as a moment: a value at exactly 00:00 is a date without
    time, read as that day's sync at ``sync_time``."""
    col = pl.col("date_synchronisation")
    offset = dt.datetime.combine(dt.date.min, sync_time) - dt.datetime.min
    return (
        pl.when(col.dt.time() == pl.lit(dt.time(0, 0)))
        .then(col + pl.lit(offset, pl.Duration("us")))
        .otherwise(col)
    )


def _first_per_key(frame: pl.LazyFrame, columns: list[str], stacked: bool) -> pl.LazyFrame:
    """The first row of each ``columns`` key; stacked snapshots are checked first and left
    as they are when no key repeats (a ``unique`` of whole rows is then an identity)."""
    if stacked:
        from analysis.io.history import has_duplicates  # keep this module light

        if not has_duplicates(frame, columns):
            return frame
    return frame.unique(columns, keep="first")


def _pairs(
    unites: pl.LazyFrame,
    vt: pl.LazyFrame,
    snapshot_col: str | None = None,
    etablissements: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """VT units joined to their ROR unit (and its establishment when ``etablissements`` is
    given), with the per-field difference flags (within each snapshot when ``snapshot_col``
    names the column of stacked snapshots). Establishment fields are compared only with
    ``etablissements``."""
    keys = [snapshot_col] if snapshot_col else []
    unites = _completed(unites, "unites", COLUMNS["unites"])
    vt = _completed(vt, "vt_unites", COLUMNS["vt_unites"])
    ror = unites.select(
        *keys,
        pl.col("uo_id"),
        *[pl.col(f.ror).alias(f"ror_{f.champ}") for f in UNIT_FIELDS],
        pl.col("date_maj").alias("date_maj_ror"),
        pl.lit(True).alias("_in_ror"),
    )
    ror = _first_per_key(ror, [*keys, "uo_id"], bool(keys))
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
    eg_types = schema.TABLES["etablissements"].polars_schema
    if etablissements is not None:
        egs = (
            _completed(etablissements, "etablissements", COLUMNS["etablissements"])
            .select(
                *keys,
                pl.col("finess_eg").alias("ror_finess_eg"),
                *[pl.col(f.ror).alias(f"ror_{f.champ}") for f in EG_FIELDS],
                pl.col("date_maj").alias("date_maj_eg"),
            )
        )
        egs = _first_per_key(egs, [*keys, "ror_finess_eg"], bool(keys))
        joined = joined.join(egs, on=[*keys, "ror_finess_eg"], how="left")
    else:
        joined = joined.with_columns(
            *[pl.lit(None, eg_types[f.ror]).alias(f"ror_{f.champ}") for f in EG_FIELDS],
            pl.lit(None, schema.DATETIME_T).alias("date_maj_eg"),
        )

    def comparable(f: Field) -> bool:  # the ROR side is given
        return f.level == UNIT_LEVEL or etablissements is not None

    def extracted(f: Field) -> pl.Expr:  # the field is filled for some VT unit
        if not comparable(f):
            return pl.lit(False)
        return pl.col(f"vt_{f.champ}").is_not_null().any()

    def differs(f: Field, extracted_flag: pl.Expr) -> pl.Expr:
        return (
            _norm(pl.col(f"ror_{f.champ}"), f.kind).ne_missing(
                _norm(pl.col(f"vt_{f.champ}"), f.kind)
            )
            & extracted_flag  # field extracted from VT
        ).alias(f"diff_{f.champ}")

    if not keys:
        return joined.with_columns(
            [differs(f, extracted(f)) for f in COMPARED_FIELDS]
        ).with_columns(pl.col("_in_ror").fill_null(False))
    # Stacked snapshots (a history): the fields extracted are found once per snapshot; most
    # pairs are identical as written, and equal values stay equal once normalised, so only
    # the pairs that differ somewhere are normalised.
    found = vts.group_by(keys).agg(  # the joins above keep each VT unit once
        [extracted(f).alias(f"_x_{f.champ}") for f in COMPARED_FIELDS]
    )
    # Read by both halves below: materialised once, as the optimiser does not share it (the
    # halves project different columns) and would build the joins above twice.
    flagged = joined.join(found, on=keys, how="left").collect().lazy()
    same = pl.all_horizontal(
        [
            pl.col(f"ror_{f.champ}").eq_missing(pl.col(f"vt_{f.champ}")) | ~pl.col(f"_x_{f.champ}")
            for f in COMPARED_FIELDS
        ]
    )  # a field not extracted from VT is never a difference
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


def _differing_fields(
    fields: Sequence[Field] = COMPARED_FIELDS, counted: pl.Expr | None = None
) -> pl.Expr:
    """Names of the differing ``fields`` of a pair, comma-separated (empty when none);
    with ``counted``, establishment fields only where it holds."""

    def flag(f: Field) -> pl.Expr:
        diff = pl.col(f"diff_{f.champ}")
        return diff & counted if counted is not None and f.level == EG_LEVEL else diff

    return pl.concat_str(
        [pl.when(flag(f)).then(pl.lit(f.champ)) for f in fields],
        separator=", ",
        ignore_nulls=True,
    )


def _any_difference(
    fields: Sequence[Field] = COMPARED_FIELDS, counted: pl.Expr | None = None
) -> pl.Expr:
    """Some of ``fields`` differs (as ``_differing_fields`` != "", without building text)."""
    flags = [
        pl.col(f"diff_{f.champ}") & counted
        if counted is not None and f.level == EG_LEVEL
        else pl.col(f"diff_{f.champ}")
        for f in fields
    ]
    return pl.any_horizontal(flags) if flags else pl.lit(False)


def _fmt_moment(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%d/%m/%Y %H:%M")


def _late_sync(sync_time: dt.time = DEFAULT_SYNC_TIME) -> pl.Expr:
    """The ROR unit changed at or before the last scheduled sync, and VT's sync date for the
    unit is older than that change (null when a date is missing)."""
    changed = pl.col("date_maj_ror")
    return (changed <= pl.col("derniere_synchro")) & (vt_sync_moment(sync_time) < changed)


def _late_is_the_reason(sync_time: dt.time = DEFAULT_SYNC_TIME) -> pl.Expr:
    """The late sync is what makes the unit *désynchronisée* (no earlier case applies)."""
    return (
        pl.col("_in_ror").fill_null(False)
        & ~pl.col("synchronise_ror").eq(False).fill_null(False)
        & ~(pl.col("date_maj_ror") > pl.col("derniere_synchro")).fill_null(False)
        & _late_sync(sync_time).fill_null(False)
    )


def _status_exprs(sync_time: dt.time = DEFAULT_SYNC_TIME) -> tuple[pl.Expr, pl.Expr]:
    """Status and French reason of a VT unit from the joined pair (priority order of the
    module docstring)."""
    last = pl.col("derniere_synchro")
    pending = pl.col("date_maj_ror") > last
    late = _late_sync(sync_time)
    eg_pending = (pl.col("date_maj_eg") > last).fill_null(False)
    counted = _differing_fields(counted=~eg_pending)  # establishment changes not yet synced
    any_counted = _any_difference(counted=~eg_pending)
    any_waiting = _any_difference(EG_FIELDS, counted=eg_pending)  # are not differences yet
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
                _fmt_moment(pl.col("date_maj_ror")),
                _fmt_moment(last),
            ),
        ),
        (
            late.fill_null(False),
            DESYNCHRONISE,
            pl.format(
                "synchronisation en retard : modifiée dans le ROR le {}, dernière "
                "synchronisation ViaTrajectoire le {} (la synchronisation du {} aurait dû "
                "la reporter)",
                _fmt_moment(pl.col("date_maj_ror")),
                _fmt_moment(pl.col("date_synchronisation")),
                _fmt_moment(last),
            ),
        ),
        (
            any_counted,
            DESYNCHRONISE,
            pl.lit("valeurs différentes : ") + counted,
        ),
        (
            any_waiting,
            EN_ATTENTE,
            pl.format(
                "établissement modifié dans le ROR le {} après la synchronisation du {}",
                _fmt_moment(pl.col("date_maj_eg")),
                _fmt_moment(last),
            ),
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


def _lazy_or_none(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame], name: str
) -> pl.LazyFrame | None:
    frame = tables.get(name)
    return None if frame is None else frame.lazy()


def unit_status_lazy(
    unites: pl.LazyFrame,
    vt_unites: pl.LazyFrame,
    as_of: dt.date | dt.datetime | None,
    sync_time: dt.time = DEFAULT_SYNC_TIME,
    snapshot_col: str | None = None,
    etablissements: pl.LazyFrame | None = None,
    ror_only: bool = True,
) -> pl.LazyFrame:
    """Lazy version of ``unit_status`` over the two unit tables (see the module docstring).

    With ``snapshot_col``, the tables hold several snapshots stacked (a ``Date`` column, as
    ``store.scan_table`` gives): each row is compared within its snapshot, the snapshot
    date is ``as_of`` (which is then ignored) and the column is kept first in the result.
    ``etablissements`` (stacked the same way) adds the establishment fields to the
    comparison; without it they are not compared. Without ``ror_only`` the rows of the ROR
    units no VT unit links to (``absent_vt``) are not built: only the VT units' rows.
    """
    keys = [snapshot_col] if snapshot_col else []
    if snapshot_col:
        synced_at = last_sync_expr(pl.col(snapshot_col), sync_time)
    elif as_of is None:
        raise ValueError("unit_status_lazy: as_of or snapshot_col is needed")
    else:
        synced_at = pl.lit(last_sync(as_of, sync_time))
    pairs = _pairs(unites, vt_unites, snapshot_col, etablissements).with_columns(
        synced_at.alias("derniere_synchro")
    )
    status, reason = _status_exprs(sync_time)
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
        _late_is_the_reason(sync_time).alias("synchro_en_retard"),
    )
    if not ror_only:
        return vt_rows
    linked_ids = vt_unites.select(*keys, "uo_id").drop_nulls().unique()
    unlinked = (
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
            pl.lit(False).alias("synchro_en_retard"),
        )
    )
    return pl.concat([vt_rows, unlinked], how="vertical_relaxed")


def unit_status(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime,
    sync_time: dt.time = DEFAULT_SYNC_TIME,
) -> pl.DataFrame:
    """Synchronisation status of every unit, one row per VT unit or unlinked ROR unit.

    Columns: ``uo_id`` (ROR unit, null for ``absent_ror``), ``uo_id_vt`` (the link as
    written in VT), ``vt_id``, ``finess_eg``, ``nom_ror``, ``nom_vt``, ``statut`` (one of
    ``STATUSES``), ``motif`` (French), ``ecarts`` (differing fields, comma-separated),
    ``synchronise_ror``, ``date_maj_ror``, ``date_synchronisation``, ``derniere_synchro``,
    ``synchro_en_retard`` (the late VT sync is the reason of *désynchronisée*).
    ``as_of`` is the snapshot date (read as the start of that day, before its sync) or an
    exact moment; ``sync_time`` the daily ROR → VT sync hour (18:00 in the campaign guide).
    Establishment fields are compared when ``tables`` has ``etablissements``. Sorted by
    FINESS, then unit.
    """
    lf = unit_status_lazy(
        _lazy(tables, "unites"),
        _lazy(tables, "vt_unites"),
        as_of,
        sync_time,
        etablissements=_lazy_or_none(tables, "etablissements"),
    )
    return lf.sort("finess_eg", "uo_id", "vt_id", nulls_last=True).collect()


def field_differences(tables: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> pl.DataFrame:
    """Every differing field of every linked pair, as a long table.

    Columns ``uo_id``, ``vt_id``, ``finess_eg``, ``champ``, ``valeur_ror``, ``valeur_vt``
    (values as text). Differences are listed whatever the status, including pending ones,
    so a reader sees what the next sync should bring. Values compare after normalisation
    (case and spaces for names, spelling for phones), so listed values really differ.
    Establishment fields are listed when ``tables`` has ``etablissements``.
    """
    pairs = _pairs(
        _lazy(tables, "unites"),
        _lazy(tables, "vt_unites"),
        etablissements=_lazy_or_none(tables, "etablissements"),
    ).filter(pl.col("_in_ror"))
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
    compare_establishments: bool = True,
) -> pl.LazyFrame:
    """Units per status at each snapshot of stacked tables (``store.scan_table``): the
    snapshot column, ``departement`` when ``by_departement`` (then ``etablissements`` is
    needed), one count column per status, ``total`` and ``taux_synchronise``; the same
    figures as ``status_counts(unit_status(…))`` snapshot by snapshot (same rule, late syncs
    included; establishment fields compared when ``etablissements`` is given, unless
    ``compare_establishments`` is False because VT shows none of them)."""
    status = unit_status_lazy(
        unites,
        vt_unites,
        None,
        sync_time,
        snapshot_col,
        etablissements if compare_establishments else None,
    ).select(snapshot_col, "finess_eg", "statut")
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


#: Fields only some ViaTrajectoire exports carry (the unit head, the establishment's).
_OPTIONAL_FIELDS: tuple[Field, ...] = tuple(
    f for f in COMPARED_FIELDS if f.level == EG_LEVEL or f.champ.startswith("responsable_")
)

#: Establishment columns the history reads: those compared, and those of ``with_establishment``.
_HISTORY_EG_COLUMNS = list(
    dict.fromkeys((*COLUMNS["etablissements"], "raison_sociale", "commune_insee", "statut"))
)


def status_history(
    store_path: str | Path,
    sync_time: dt.time = DEFAULT_SYNC_TIME,
    dates: Sequence[dt.date] | None = None,
    by_departement: bool = False,
    batch: int = 32,
    progress: Progress | None = None,
    skipped: list[dt.date] | None = None,
) -> pl.DataFrame:
    """Synchronisation status counts at every snapshot of the store (or of ``dates``):
    ``date``, ``departement`` (with ``by_departement``), one column per status, ``total``,
    ``taux_synchronise``; sorted by date (then département).

    Read through ``analysis.io.history.over_snapshots`` (checksums verified once per
    snapshot), lazily, only the compared columns, ``batch`` snapshots per plan, so memory
    stays that of a few snapshots' unit tables whatever the length of the history.
    ``progress`` (``analysis.model.progress``) hears of each batch: snapshots done out of
    all. A corrupted snapshot raises ``StoreError``, or is left out and its date appended
    to ``skipped`` when that is a list.
    """
    from analysis.io.history import Batch, over_snapshots  # keep this module light

    out_schema = dict(HISTORY_SCHEMA)
    if by_departement:
        out_schema = {"date": pl.Date(), "departement": pl.String(), **{
            k: v for k, v in HISTORY_SCHEMA.items() if k != "date"}}

    def counts(part: Batch) -> pl.DataFrame:
        frames = {name: frame.lazy() for name, frame in part.collected().items()}
        # The fields only some VT exports carry are compared only when some VT unit of the
        # batch shows them (otherwise they are not compared anyway, see ``_pairs``).
        shown_row = (
            frames["vt_unites"]
            .select([pl.col(f.vt).is_not_null().any().alias(f.champ) for f in _OPTIONAL_FIELDS])
            .collect()
            .row(0, named=True)
        )
        hidden = [f for f in _OPTIONAL_FIELDS if not shown_row[f.champ]]
        skip = {
            "unites": {f.ror for f in hidden if f.level == UNIT_LEVEL},
            "vt_unites": {f.vt for f in hidden},
        }
        scan = {
            t: frames[t].select(
                "date_snapshot", *[c for c in COLUMNS[t] if c not in skip[t]]
            )
            for t in ("unites", "vt_unites")
        }
        shown = any(shown_row[f.champ] for f in EG_FIELDS)
        etabs = frames["etablissements"] if shown or by_departement else None
        return status_history_lazy(
            scan["unites"],
            scan["vt_unites"],
            etabs,
            sync_time,
            by_departement=by_departement,
            compare_establishments=shown,
        ).collect()

    columns = {
        "unites": COLUMNS["unites"],
        "vt_unites": list(dict.fromkeys((*COLUMNS["vt_unites"],
                                         *(f.vt for f in _OPTIONAL_FIELDS)))),
        "etablissements": _HISTORY_EG_COLUMNS,
    }
    parts = over_snapshots(
        store_path, list(columns), columns, counts, dates, batch=batch, progress=progress,
        skipped=skipped,
    )
    if not parts:
        return pl.DataFrame(schema=out_schema)
    sort = ["date", "departement"] if by_departement else ["date"]
    return (
        pl.concat(parts)
        .rename({"date_snapshot": "date"})
        .select(list(out_schema))
        .sort(sort, nulls_last=True)
        .cast(out_schema)  # type: ignore[arg-type]
    )
