"""One rule for what is open at a snapshot date: establishments, units and offers.

Every planning indicator (coverage, access, scenarios, the Carte and Territoires pages, the
regional report, the transition gaps) counts only the offer that is open at the snapshot date,
and this module is the one place that decides it.

**Closures read** (all optional columns; a row without a date is open):

- the establishment's closure in the ROR: ``etablissements.date_fermeture`` and
  ``type_fermeture`` (PRO provisional, DEF definitive);
- the unit's closure in the ROR: ``unites.date_fermeture`` and ``type_fermeture``;
- the establishment's closure in FINESS, where the snapshot holds the FINESS reference table
  (``finess_etablissements.date_fermeture`` and ``type_fermeture``: PRO provisional; DEF, ERR,
  NDI, CHP, EML end the establishment and read as definitive).

**Rule.** A closure counts from its date on: closed on day D means closed in the snapshot of
day D and after (the establishment closed the day before the snapshot is closed, the one that
closes the day after is open). A closure without a type, or with a type other than PRO, is
definitive: a date of closure says the establishment is closed, and only « provisoire » says
it may come back. When the ROR and FINESS both know a closure, the definitive one wins (an
establishment closed for good in either source is not offered any more); the date shown is the
earliest date of the closure type retained.

**What is excluded.** A definitive closure always takes the establishment (or unit) out, with
its units and offers. A provisional closure takes it out by default, since no patient can be
admitted there at the snapshot date; :class:`OpeningRule` ``include_provisional`` keeps it
(page checkbox « Inclure les fermetures provisoires », command option
``--inclure-fermetures-provisoires``). Either way the offer closed provisionally is counted
apart (:func:`provisional_offers`) and shown as « fermés temporairement » beside the totals.

Authorisations follow their establishment; other tables (ViaTrajectoire, FINESS) are returned
unchanged: the campaign,
synchronisation and ROR quality checks follow their own rules (the national quality SQL has its
own reading of closures, kept in ``analysis.checks.quality``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from analysis.model import nomenclature as nom
from analysis.model.memo import same_frames

PROVISIONAL = nom.FERMETURE_PROVISOIRE
DEFINITIVE = nom.FERMETURE_DEFINITIVE
#: ``niveau`` values of :func:`closures`.
ESTABLISHMENT, UNIT = "etablissement", "unite"

CLOSURE_SCHEMA: dict[str, pl.DataType] = {
    "niveau": pl.String(),
    "finess_eg": pl.String(),
    "uo_id": pl.String(),
    "type_fermeture": pl.String(),
    "date_fermeture": pl.Date(),
    "source": pl.String(),
}


@dataclass(frozen=True)
class OpeningRule:
    """The snapshot date and whether provisional closures still count as open.

    ``as_of``: the snapshot date (a closure dated that day or before counts).
    ``include_provisional``: False (default) leaves establishments and units closed
    provisionally (PRO) out of the indicators; True keeps them. Frozen and hashable, so pages
    can cache on it.
    """

    as_of: dt.date
    include_provisional: bool = False

    def describe(self) -> str:
        """A French sentence for captions, method notes and reports."""
        pro = (
            "les fermetures provisoires (PRO) sont incluses"
            if self.include_provisional
            else "les fermetures provisoires (PRO) sont exclues"
        )
        return (
            f"Offre ouverte au {self.as_of:%d/%m/%Y} : fermetures définitives exclues, {pro} "
            "(ROR et, s'il est dans l'instantané, référentiel FINESS)."
        )


def _type(expr: pl.Expr) -> pl.Expr:
    """PRO stays PRO; any other type, or none, is definitive."""
    text = expr.cast(pl.String).str.strip_chars().str.to_uppercase()
    return pl.when(text == PROVISIONAL).then(pl.lit(PROVISIONAL)).otherwise(pl.lit(DEFINITIVE))


def _closed_rows(
    frame: pl.DataFrame | None, keys: list[str], as_of: dt.date, source: str
) -> pl.DataFrame:
    """Rows of ``frame`` closed at ``as_of``: keys, type_fermeture, date_fermeture, source."""
    schema = {k: pl.String() for k in keys} | {
        "type_fermeture": pl.String(),
        "date_fermeture": pl.Date(),
        "source": pl.String(),
    }
    if frame is None or "date_fermeture" not in frame.columns or frame.height == 0:
        return pl.DataFrame(schema=schema)
    kind = frame["type_fermeture"] if "type_fermeture" in frame.columns else None
    df = frame.select(*keys, pl.col("date_fermeture").cast(pl.Date)).with_columns(
        (kind if kind is not None else pl.lit(None, pl.String)).alias("_t")
    )
    return (
        df.filter(pl.col("date_fermeture").is_not_null() & (pl.col("date_fermeture") <= as_of))
        .with_columns(_type(pl.col("_t")).alias("type_fermeture"), pl.lit(source).alias("source"))
        .select(*keys, "type_fermeture", "date_fermeture", "source")
    )


def _merge_sources(closed: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per key: DEF if any source says DEF, else PRO; earliest date of that type;
    sources of that type joined (« ROR et FINESS »)."""
    if closed.height == 0:
        return closed
    rank = pl.when(pl.col("type_fermeture") == DEFINITIVE).then(0).otherwise(1)
    best = closed.with_columns(rank.alias("_r")).group_by(keys).agg(pl.col("_r").min())
    return (
        closed.with_columns(rank.alias("_r"))
        .join(best, on=[*keys, "_r"], how="semi")
        .group_by(keys)
        .agg(
            pl.col("type_fermeture").first(),
            pl.col("date_fermeture").min(),
            pl.col("source").unique().sort().str.join(" et "),
        )
    )


@same_frames(maxsize=2)
def closures(tables: Mapping[str, pl.DataFrame], as_of: dt.date) -> pl.DataFrame:
    """Every establishment and unit closed at ``as_of``, whatever the switch.

    Columns: niveau (``etablissement`` or ``unite``), finess_eg, uo_id (null for an
    establishment), type_fermeture (``PRO`` or ``DEF``), date_fermeture, source (``ROR``,
    ``FINESS`` or ``FINESS et ROR``). See the module docstring for the rule.
    """
    etabs = tables.get("etablissements")
    eg = _merge_sources(
        pl.concat(
            [
                _closed_rows(etabs, ["finess_eg"], as_of, "ROR"),
                _closed_rows(tables.get("finess_etablissements"), ["finess_eg"], as_of, "FINESS"),
            ]
        ),
        ["finess_eg"],
    ).with_columns(pl.lit(ESTABLISHMENT).alias("niveau"), pl.lit(None, pl.String).alias("uo_id"))
    units = _closed_rows(tables.get("unites"), ["uo_id", "finess_eg"], as_of, "ROR").with_columns(
        pl.lit(UNIT).alias("niveau")
    )
    if etabs is not None:  # a FINESS-only closure of an establishment absent from the ROR
        eg = eg.join(etabs.select("finess_eg"), on="finess_eg", how="semi")
    out = pl.concat(
        [eg.select(list(CLOSURE_SCHEMA)), units.select(list(CLOSURE_SCHEMA))], how="vertical"
    )
    return out.cast(CLOSURE_SCHEMA).sort("niveau", "finess_eg", "uo_id", nulls_last=False)


def _excluded(found: pl.DataFrame, rule: OpeningRule) -> pl.DataFrame:
    """Closures that take their establishment or unit out under ``rule``."""
    if rule.include_provisional:
        return found.filter(pl.col("type_fermeture") == DEFINITIVE)
    return found


@same_frames(maxsize=2)
def open_tables(
    tables: Mapping[str, pl.DataFrame], rule: OpeningRule
) -> dict[str, pl.DataFrame]:
    """The snapshot restricted to what is open under ``rule``.

    ``etablissements`` loses the establishments closed (definitively, or provisionally unless
    ``rule.include_provisional``), ``unites`` loses their units and the units closed the same
    way, ``offres`` keeps only the offers of the remaining units, ``autorisations`` only those
    of the remaining establishments (a closed establishment has nothing left to describe).
    Every other table is returned as given. Why: every indicator counts the same open offer.
    """
    found = _excluded(closures(tables, rule.as_of), rule)
    gone_eg = found.filter(pl.col("niveau") == ESTABLISHMENT)["finess_eg"].implode()
    gone_uo = found.filter(pl.col("niveau") == UNIT)["uo_id"].implode()
    out = dict(tables)
    out["etablissements"] = tables["etablissements"].filter(~pl.col("finess_eg").is_in(gone_eg))
    units = tables["unites"].filter(
        ~pl.col("finess_eg").is_in(gone_eg) & ~pl.col("uo_id").is_in(gone_uo)
    )
    out["unites"] = units
    out["offres"] = tables["offres"].join(units.select("uo_id"), on="uo_id", how="semi")
    if "autorisations" in tables:
        out["autorisations"] = tables["autorisations"].filter(~pl.col("finess_eg").is_in(gone_eg))
    return out


def provisional_offers(
    tables: Mapping[str, pl.DataFrame],
    as_of: dt.date,
    mentions: Sequence[str] | None = None,
    forme: str | None = None,
) -> pl.DataFrame:
    """Offers closed provisionally at ``as_of`` (their establishment or unit closed PRO, neither
    closed DEF): finess_eg, uo_id, mention, forme, lits, places (nulls as 0), date_fermeture,
    source, niveau (which closure applies). ``mentions`` / ``forme`` filter as in
    ``coverage.offers_by_establishment`` (``forme`` ``toutes`` or None keeps every forme).
    Why: the « fermés temporairement » figure beside the totals, whether they are counted or not.
    """
    found = closures(tables, as_of)
    definitive = found.filter(pl.col("type_fermeture") == DEFINITIVE)
    pro = found.filter(pl.col("type_fermeture") == PROVISIONAL)
    units = tables["unites"].select("uo_id", "finess_eg")
    units = units.filter(
        ~pl.col("finess_eg").is_in(
            definitive.filter(pl.col("niveau") == ESTABLISHMENT)["finess_eg"].implode()
        )
        & ~pl.col("uo_id").is_in(definitive.filter(pl.col("niveau") == UNIT)["uo_id"].implode())
    )
    by_eg = units.join(
        pro.filter(pl.col("niveau") == ESTABLISHMENT).select(
            "finess_eg", "date_fermeture", "source", "niveau"
        ),
        on="finess_eg",
    )
    by_unit = units.join(
        pro.filter(pl.col("niveau") == UNIT).select("uo_id", "date_fermeture", "source", "niveau"),
        on="uo_id",
    ).select(by_eg.columns)
    closed_units = pl.concat([by_eg, by_unit]).unique("uo_id", keep="first", maintain_order=True)
    offres = tables["offres"].join(closed_units, on="uo_id", how="inner")
    return offer_capacities(offres, mentions, forme, "date_fermeture", "source", "niveau")


def offer_capacities(
    offres: pl.DataFrame, mentions: Sequence[str] | None, forme: str | None, *extra: str
) -> pl.DataFrame:
    """Offers (joined to their ``finess_eg``) of ``mentions`` (None: all) and ``forme``
    (``toutes`` or None: all): finess_eg, uo_id, mention, forme, lits, places (null beds or
    places count as zero), then the ``extra`` columns. The one selection behind the open and
    the provisionally closed capacities."""
    if mentions is not None:
        offres = offres.filter(pl.col("mention").is_in(list(mentions)))
    if forme not in (None, nom.ALL_FORMES):
        offres = offres.filter(pl.col("forme") == forme)
    return offres.select(
        "finess_eg",
        "uo_id",
        "mention",
        "forme",
        pl.col("lits").fill_null(0).cast(pl.Int64),
        pl.col("places").fill_null(0).cast(pl.Int64),
        *extra,
    )


def provisional_summary(offers: pl.DataFrame) -> dict[str, int]:
    """Counts of :func:`provisional_offers`: etablissements, unites, lits, places, capacite."""
    lits = int(offers["lits"].sum()) if offers.height else 0
    places = int(offers["places"].sum()) if offers.height else 0
    return {
        "etablissements": offers["finess_eg"].n_unique() if offers.height else 0,
        "unites": offers["uo_id"].n_unique() if offers.height else 0,
        "lits": lits,
        "places": places,
        "capacite": lits + places,
    }


def provisional_sentence(summary: Mapping[str, int], rule: OpeningRule) -> str | None:
    """« Fermés temporairement : … » for captions and command output; None when there are
    none."""
    n = summary["etablissements"]
    if not n:
        return None
    what = "inclus dans les chiffres" if rule.include_provisional else "exclus des chiffres"
    return (
        f"Fermés temporairement au {rule.as_of:%d/%m/%Y} : {n} établissement(s), "
        f"{summary['unites']} unité(s), {summary['capacite']} lits et places, {what}."
    )
