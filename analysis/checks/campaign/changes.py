"""What changed between two evaluations of the checklist: fixed, newly missing, modified,
new or removed entities (``CHANGE_LABELS``).
"""

from __future__ import annotations

import polars as pl

from analysis.checks.campaign.checklist import LEVELS, OK

# ------------------------------------------------------------------------------ diffs

CORRIGE = "corrige"
NOUVEAU_MANQUE = "nouveau_manque"
MODIFIE = "modifie"
NOUVELLE_ENTITE = "nouvelle_entite"
ENTITE_SUPPRIMEE = "entite_supprimee"
CHANGE_LABELS: dict[str, str] = {
    CORRIGE: "Corrigé",
    NOUVEAU_MANQUE: "Nouveau manque",
    MODIFIE: "Toujours à faire (motif changé)",
    NOUVELLE_ENTITE: "Nouvelle entité",
    ENTITE_SUPPRIMEE: "Entité disparue",
}


def changes_between(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """What changed between two evaluations (``evaluate`` results of two snapshots).

    One row per (entity, rule) whose result changed — ``corrige`` (now ok),
    ``nouveau_manque`` (was ok, now missing or invalid), ``modifie`` (missing ↔ invalid) —
    and one row per entity that appeared (``nouvelle_entite``) or disappeared
    (``entite_supprimee``), with ``regle`` null and ``a_faire`` its items not ok.
    Columns: ``finess_eg``, ``raison_sociale``, ``departement``, ``niveau``, ``entite``,
    ``nom_entite``, ``regle``, ``avant``, ``apres``, ``changement``, ``a_faire``.
    A rule evaluated on only one side (e.g. a rule added since) is not a change.
    """
    key = ["niveau", "entite", "regle"]
    label = ["finess_eg", "raison_sociale", "departement", "nom_entite"]
    a = before.select(*key, *label, pl.col("resultat").alias("avant"))
    b = after.select(*key, *label, pl.col("resultat").alias("apres"))
    both = (
        a.join(b, on=key, how="inner", suffix="_b")
        .filter(pl.col("avant") != pl.col("apres"))
        .select(
            *[pl.coalesce(pl.col(f"{c}_b"), pl.col(c)).alias(c) for c in label],
            "niveau",
            "entite",
            "regle",
            "avant",
            "apres",
            pl.when(pl.col("apres") == OK)
            .then(pl.lit(CORRIGE))
            .when(pl.col("avant") == OK)
            .then(pl.lit(NOUVEAU_MANQUE))
            .otherwise(pl.lit(MODIFIE))
            .alias("changement"),
            pl.lit(None, pl.Int64).alias("a_faire"),
        )
    )

    def entities(frame: pl.DataFrame, other: pl.DataFrame, change: str) -> pl.DataFrame:
        ents = frame.group_by("niveau", "entite").agg(
            *[pl.col(c).first() for c in label],
            (pl.col("resultat") != OK).sum().cast(pl.Int64).alias("a_faire"),
        )
        return ents.join(
            other.select("niveau", "entite").unique(), on=["niveau", "entite"], how="anti"
        ).select(
            *label,
            "niveau",
            "entite",
            pl.lit(None, pl.String).alias("regle"),
            pl.lit(None, pl.String).alias("avant"),
            pl.lit(None, pl.String).alias("apres"),
            pl.lit(change).alias("changement"),
            "a_faire",
        )

    out = pl.concat(
        [both, entities(after, before, NOUVELLE_ENTITE), entities(before, after, ENTITE_SUPPRIMEE)],
        how="vertical_relaxed",
    )
    levels = {lvl: i for i, lvl in enumerate(LEVELS)}
    return (
        out.with_columns(pl.col("niveau").replace_strict(levels, return_dtype=pl.Int32).alias("_l"))
        .sort("finess_eg", "_l", "entite", "regle", nulls_last=True)
        .drop("_l")
        .select(
            "finess_eg",
            "raison_sociale",
            "departement",
            "niveau",
            "entite",
            "nom_entite",
            "regle",
            "avant",
            "apres",
            "changement",
            "a_faire",
        )
    )


def changes_by_establishment(changes: pl.DataFrame) -> pl.DataFrame:
    """Per establishment, how many items were fixed, newly missing, and entities added or
    removed: ``finess_eg``, ``raison_sociale``, ``departement`` and one count per change."""
    keys = ["finess_eg", "raison_sociale", "departement"]
    return (
        changes.group_by(keys)
        .agg([(pl.col("changement") == c).sum().cast(pl.Int64).alias(c) for c in CHANGE_LABELS])
        .sort(["corrige", "finess_eg"], descending=[True, False])
    )


