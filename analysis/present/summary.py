"""Headline figures of one snapshot, for the home page and the command line."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from analysis.model import nomenclature


def headline(tables: Mapping[str, pl.DataFrame], manifest: Mapping | None = None) -> dict:
    """Counts of establishments, units, beds, places and rows rejected in a snapshot.

    Beds and places are summed over ``offres``; ``etablissements_smr`` counts the
    establishments with at least one offer (an establishment row alone offers nothing).
    """
    etabs = tables["etablissements"]
    unites = tables["unites"]
    offres = tables["offres"]
    with_offer = (
        offres.join(unites.select("uo_id", "finess_eg"), on="uo_id", how="inner")
        .get_column("finess_eg")
        .n_unique()
    )
    rejected = 0
    warnings = 0
    if manifest:
        for counts in manifest.get("tables", {}).values():
            rejected += int(counts.get("rejetes", 0))
            warnings += int(counts.get("avertissements", 0))
    return {
        "etablissements": etabs.height,
        "etablissements_smr": with_offer,
        "unites": unites.height,
        "lits": int(offres.get_column("lits").fill_null(0).sum()),
        "places": int(offres.get_column("places").fill_null(0).sum()),
        "mentions": offres.get_column("mention").n_unique(),
        "rejetes": rejected,
        "avertissements": warnings,
    }


def capacity_by_mention(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Per mention: establishments, units, beds and places, in the nomenclature's order.

    Every mention appears, with zeros where the snapshot has no offer, so a missing
    mention is visible rather than absent.
    """
    offres = tables["offres"].join(
        tables["unites"].select("uo_id", "finess_eg"), on="uo_id", how="left"
    )
    agg = offres.group_by("mention").agg(
        pl.col("finess_eg").n_unique().alias("etablissements"),
        pl.col("uo_id").n_unique().alias("unites"),
        pl.col("lits").fill_null(0).sum().cast(pl.Int64).alias("lits"),
        pl.col("places").fill_null(0).sum().cast(pl.Int64).alias("places"),
    )
    ref = pl.DataFrame(
        {
            "ordre": list(range(len(nomenclature.MENTIONS))),
            "mention": [m.code for m in nomenclature.MENTIONS],
            "libelle": [m.libelle for m in nomenclature.MENTIONS],
            "court": [m.court for m in nomenclature.MENTIONS],
        }
    )
    return (
        ref.join(agg, on="mention", how="left")
        .with_columns(
            pl.col("etablissements", "unites", "lits", "places").fill_null(0).cast(pl.Int64)
        )
        .sort("ordre")
        .drop("ordre")
    )
