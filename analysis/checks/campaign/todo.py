"""The to-do lists of the campaign as frames: points to treat per establishment, with their
help text, prerequisites first, advice apart, and the region's support block (the files are
written by ``analysis.present.todo_lists``).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis.checks.campaign.checklist import (
    CONSEILLE,
    INVALIDE,
    LEVELS,
    MANQUANT,
    OBLIGATOIRE,
    OK,
    RULES,
    Rule,
    rules_frame,
)
from analysis.model import privacy
from analysis.model.errors import InputError
from analysis.model.syntax import blank

# ----------------------------------------------------------------------------- to-do

#: Rules without which an establishment cannot do the campaign at all (no account or
#: habilitation): those establishments are chased first.
PREREQUISITES: tuple[str, ...] = ("eg_compte_ror", "eg_compte_vt")

#: Columns of a to-do list as sent to establishments, with their French headers (new ones
#: are appended, so the first eleven keep their place).
TODO_HEADERS: dict[str, str] = {
    "finess_eg": "FINESS EG",
    "raison_sociale": "Établissement",
    "departement": "Département",
    "niveau": "Niveau",
    "entite": "Identifiant",
    "nom_entite": "Nom",
    "libelle": "Point à vérifier",
    "resultat": "État",
    "motif": "Constat",
    "valeur": "Valeur actuelle",
    "aide": "Action attendue",
    "severite": "Type de point",
    "bloque": "Campagne bloquée (compte ou habilitation)",
}
#: The support column every to-do list carries (``settings.support_text``).
SUPPORT_HEADER = "Support"
TODO_PER = ("etablissement", "departement")
SEVERITY_TODO_LABELS: dict[str, str] = {
    OBLIGATOIRE: "Obligatoire",
    CONSEILLE: "Conseillé (facultatif, non compté)",
}


def blocked_establishments(results: pl.DataFrame) -> pl.DataFrame:
    """Establishments that cannot do the campaign at all: a prerequisite (``PREREQUISITES``:
    ROR account, ViaTrajectoire habilitation) not ok. One row each: ``finess_eg``,
    ``raison_sociale``, ``departement``, then per prerequisite its result and reason
    (``<rule>`` and ``<rule>_motif``; null where the rule was not evaluated), sorted by
    département and FINESS. Empty when the snapshot lists no accounts."""
    keys = ["finess_eg", "raison_sociale", "departement"]
    pre = results.filter(pl.col("regle").is_in(list(PREREQUISITES)))
    blocked = pre.filter(pl.col("resultat") != OK).select("finess_eg").unique()
    out = pl.DataFrame(schema={**{k: pl.String for k in keys}})
    if blocked.height:
        wide = pre.join(blocked, on="finess_eg", how="semi").pivot(
            on="regle", index=keys, values=["resultat", "motif"]
        )
        out = wide
    cols = []
    for rule in PREREQUISITES:
        for what, name in (("resultat", rule), ("motif", f"{rule}_motif")):
            source = f"{what}_{rule}"
            cols.append(
                (pl.col(source) if source in out.columns else pl.lit(None, pl.String)).alias(name)
            )
    return out.select(*keys, *cols).sort("departement", "finess_eg", nulls_last=True)


def todo_items(
    results: pl.DataFrame, finess: str | None = None, rules: Sequence[Rule] = RULES
) -> pl.DataFrame:
    """The items left to do (``manquant`` or ``invalide``) with each rule's label and help.

    *Conseillé* items are listed as advice (``severite``). Establishments that cannot do
    the campaign (``blocked_establishments``: ``bloque`` « oui ») come first, then by
    département and FINESS. Columns: ``TODO_HEADERS`` keys, ``regle`` and ``personnel``
    (the value is personal data). ``finess`` keeps one establishment; an unknown one raises
    ``InputError``.
    """
    if finess is not None:
        finess = finess.strip().upper()
        if finess not in set(results["finess_eg"].to_list()):
            raise InputError(f"établissement FINESS {finess} absent de cet instantané")
        results = results.filter(pl.col("finess_eg") == finess)
    meta = rules_frame(rules).with_columns(
        pl.Series("personnel", [r.personal for r in rules], dtype=pl.Boolean)
    )
    blocked = set(blocked_establishments(results)["finess_eg"].to_list())
    levels = {lvl: i for i, lvl in enumerate(LEVELS)}
    return (
        results.filter(pl.col("resultat") != OK)
        .drop("severite", strict=False)
        .join(meta.drop("niveau"), on="regle", how="inner")
        .with_columns(
            pl.col("niveau").replace_strict(levels, return_dtype=pl.Int32).alias("_l"),
            pl.col("finess_eg").is_in(sorted(blocked)).alias("_b"),
        )
        .sort(
            "_b", "departement", "finess_eg", "_l", "entite", "ordre",
            descending=[True, False, False, False, False, False], nulls_last=True,
        )
        .with_columns(
            pl.col("niveau").replace_strict(LEVELS, return_dtype=pl.String),
            pl.col("severite").replace_strict(SEVERITY_TODO_LABELS, return_dtype=pl.String),
            pl.when(pl.col("_b")).then(pl.lit("oui")).otherwise(pl.lit("non")).alias("bloque"),
        )
        .select(*TODO_HEADERS, "regle", "personnel")
    )


def todo_frame(
    items: pl.DataFrame, show_contacts: bool = False, region: str | None = None
) -> pl.DataFrame:
    """``todo_items`` ready to send: French headers, personal values masked unless asked,
    and the « Support » column (the region's support channels and the sentence to quote,
    ``settings.support_text``) on every row."""
    from analysis.model import settings

    value = pl.col("valeur")
    if not show_contacts:
        value = (
            pl.when(pl.col("personnel") & ~blank(value)).then(pl.lit(privacy.MASK)).otherwise(value)
        )
    return items.with_columns(value.alias("valeur")).select(
        *[pl.col(c).alias(h) for c, h in TODO_HEADERS.items()],
        pl.lit(settings.support_text(region), pl.String).alias(SUPPORT_HEADER),
    )


def support_sheet(region: str | None) -> pl.DataFrame:
    """The « Support » sheet of a to-do workbook: one line per channel of the region's
    support and the sentence to quote (or the line saying none is configured)."""
    from analysis.model import settings

    return pl.DataFrame({"Support": settings.support_lines(region)}, schema={"Support": pl.String})


def todo_sheets(
    results: pl.DataFrame,
    per: str = "etablissement",
    finess: str | None = None,
    show_contacts: bool = False,
    rules: Sequence[Rule] = RULES,
    region: str | None = None,
) -> dict[str, pl.DataFrame]:
    """Sheets of a to-do workbook: one per establishment (``per="etablissement"``) or per
    département, each listing its items; a « Synthèse » sheet comes first when there are
    several (establishments that cannot do the campaign first), and a « Support » sheet
    last (the support of ``region``). An establishment asked by ``finess`` gets its sheet
    even when nothing is left.
    """
    if per not in TODO_PER:
        raise InputError(f"découpage inconnu « {per} » ; choix possibles : {', '.join(TODO_PER)}")
    items = todo_items(results, finess, rules)
    frame = todo_frame(items, show_contacts, region)
    sheets: dict[str, pl.DataFrame] = {}
    if per == "etablissement":
        if finess is not None and items.height == 0:
            row = results.filter(pl.col("finess_eg") == finess.strip().upper()).row(0, named=True)
            title = f"{row['finess_eg']} {row['raison_sociale'] or ''}".strip()
            return {title: frame, "Support": support_sheet(region)}
        groups = items.select("finess_eg", "raison_sociale").unique(maintain_order=True)
        for fin, name in groups.iter_rows():
            sheets[f"{fin} {name or ''}".strip()] = frame.filter(pl.col("FINESS EG") == fin)
    else:
        for (dep,) in items.select("departement").unique(maintain_order=True).iter_rows():
            title = f"Département {dep}" if dep is not None else "Département inconnu"
            sheets[title] = frame.filter(pl.col("Département").eq_missing(dep))
        if not sheets:
            sheets["Aucun point"] = frame
    if len(sheets) > 1:
        counted = items.with_columns(
            pl.when(pl.col("severite") == SEVERITY_TODO_LABELS[OBLIGATOIRE])
            .then(pl.col("resultat"))
            .otherwise(pl.lit("conseil"))
            .alias("resultat")
        )
        keys = ["finess_eg", "raison_sociale", "departement", "bloque"]
        summary = (
            counted.group_by(keys)
            .agg(
                (pl.col("resultat") != "conseil").sum().cast(pl.Int64).alias("total"),
                (pl.col("resultat") == MANQUANT).sum().cast(pl.Int64).alias("manquants"),
                (pl.col("resultat") == INVALIDE).sum().cast(pl.Int64).alias("invalides"),
                (pl.col("resultat") == "conseil").sum().cast(pl.Int64).alias("conseils"),
            )
            .sort(
                "bloque", "departement", "finess_eg", descending=[True, False, False],
                nulls_last=True,
            )
            .select(
                pl.col("finess_eg").alias("FINESS EG"),
                pl.col("raison_sociale").alias("Établissement"),
                pl.col("departement").alias("Département"),
                pl.col("total").alias("Points à traiter"),
                pl.col("manquants").alias("dont manquants"),
                pl.col("invalides").alias("dont invalides"),
                pl.col("conseils").alias("Conseils (facultatifs)"),
                pl.col("bloque").alias(TODO_HEADERS["bloque"]),
            )
        )
        sheets = {"Synthèse": summary, **sheets}
    sheets["Support"] = support_sheet(region)
    return sheets
