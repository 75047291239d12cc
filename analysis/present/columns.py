"""How each column is shown, in French: header, kind of value, decimals, and the labels of codes.

``spec(column)`` tells how a column is shown: its French header, its kind
(``formats.KINDS``), its decimals, its width in the app and whether it identifies the row (kept
visible). The table ``COLUMNS`` holds the columns of the workbench's outputs; canonical columns
fall back on ``schema`` labels, indicators on their method note, anything else on its type.
Codes get French labels (statuses, gap types, levels…), gathered from the modules that define
them (``code_labels``): this is why the column formats sit in the presentation layer, above
the checks, indicators and transition that name the codes, while the formats of single values
stay in ``analysis.model.formats``.

Spreadsheets get the same figures but not the same text: a « CSV pour Excel » cell carries
no thousands separator (Excel reads « 12174880 » and « 41,9 » as numbers in a French
setting, while a grouped number with a narrow space would stay text), rates as percentages
with « (%) » in the header, values rounded as displayed (``excel_csv_frame``); an Excel
workbook keeps full precision and lets number formats do the rounding (see
``analysis.present.export``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import polars as pl

from analysis.checks.campaign import changes, checklist
from analysis.checks.quality import requirements
from analysis.indicators import coverage, sync
from analysis.model import nomenclature, schema
from analysis.model.formats import (
    BOOLEAN,
    CODE,
    DATE,
    DATETIME,
    DEPARTEMENT_SPECIAL,
    DEPARTEMENTS,
    INTEGER,
    NUMBER,
    NUMERIC_KINDS,
    PERCENT,
    SHARE,
    TEXT,
    Format,
    cell,
    date,
    datetime,
    grouped,
    is_missing,
)
from analysis.present import methods
from analysis.transition import comparison, correspondence, gaps, oqos, scenarios


@functools.cache
def code_labels() -> dict[str, dict[str, str]]:
    """Column → {code: French label}, gathered from the modules that define the codes.

    """

    statut = {
        **nomenclature.CODE_LISTS["statut"],
        **oqos.STATUSES,
        **sync.STATUS_LABELS,
        **requirements.STATUT_LABELS,
        **requirements.PEUPLEMENT_LABELS,
        **correspondence.MAPPING_STATUSES,
        checklist.OK: "Conforme",
        checklist.MANQUANT: "Manquant",
        checklist.INVALIDE: "Invalide",
    }
    niveau = {**checklist.LEVELS, **requirements.LEVELS, **coverage.LEVEL_LABELS}
    return {
        "statut": statut,
        "statut_peuplement": dict(requirements.PEUPLEMENT_LABELS),
        "etat": {checklist.OK: "Conforme", checklist.MANQUANT: "Manquant",
                 checklist.INVALIDE: "Invalide"},
        "avant": {checklist.OK: "Conforme", checklist.MANQUANT: "Manquant",
                  checklist.INVALIDE: "Invalide"},
        "apres": {checklist.OK: "Conforme", checklist.MANQUANT: "Manquant",
                  checklist.INVALIDE: "Invalide"},
        "niveau": niveau,
        "regle": dict(
            zip(checklist.rules_frame()["regle"], checklist.rules_frame()["libelle"], strict=True)
        ),
        "changement": dict(changes.CHANGE_LABELS),
        "ecart": {k: v[0] for k, v in gaps.GAP_TYPES.items()},
        "correspondance": dict(correspondence.MAPPING_STATUSES),
        "evolution": dict(comparison.EVOLUTIONS),
        "action": dict(scenarios.ACTIONS),
        "forme": {f.code: f.libelle for f in nomenclature.FORMES},
        "discipline": dict(nomenclature.CODE_LISTS["discipline"]),
        "regime": {"SSR": "SSR", "SMR": "SMR"},
        "severity": {"rejet": "Rejet", "avertissement": "Avertissement"},
        "severite": dict(checklist.SEVERITIES),
        "compte_ror": {checklist.OK: "Valide", checklist.MANQUANT: "Manquant",
                       checklist.INVALIDE: "Expiré"},
        "compte_vt": {checklist.OK: "Valide", checklist.MANQUANT: "Manquante",
                      checklist.INVALIDE: "Expirée"},
        "statut_avant": dict(oqos.STATUSES),
        "statut_apres": dict(oqos.STATUSES),
    }


@functools.cache
def _count_headers() -> dict[str, str]:
    """Headers of columns named after a code (one column per status, gap type, mention…)."""

    return {
        **{m.code: m.court for m in nomenclature.MENTIONS},
        **sync.STATUS_LABELS,
        **gaps.GAP_SHORT_LABELS,
        **requirements.PEUPLEMENT_LABELS,
        **changes.CHANGE_LABELS,
    }


@functools.cache
def _rule_labels() -> dict[str, str]:

    rules = checklist.rules_frame()
    return dict(zip(rules["regle"], rules["libelle"], strict=True))


def _f(label: str, kind: str = TEXT, decimals: int = 0, width: str | None = None,
       key: bool = False, help: str | None = None) -> Format:
    return Format(label, kind, decimals, width, key, help)


#: The columns of the workbench's outputs (canonical columns fall back on ``schema``).
COLUMNS: dict[str, Format] = {
    # identifiers and names
    "territoire": _f("Code", width="small", key=True),
    "nom": _f("Nom", width="medium", key=True),
    "commune_insee": _f("Commune (INSEE)", width="small", key=True),
    "commune": _f("Commune", width="medium"),
    "departement": _f("Département", CODE, width="medium"),
    "region": _f("Région", width="small"),
    "epci": _f("EPCI (SIREN)", width="small"),
    "epci_nom": _f("EPCI", width="medium"),
    "finess_eg": _f("FINESS EG", width="small", key=True),
    "finess_ej": _f("FINESS EJ", width="small"),
    "finess": _f("FINESS", width="small", key=True),
    "raison_sociale": _f("Établissement", width="medium", key=True),
    "nom_etablissement": _f("Établissement", width="medium"),
    "uo_id": _f("UO (ROR)", width="small"),
    "vt_id": _f("Unité VT", width="small"),
    "nom_ror": _f("Nom (ROR)", width="medium"),
    "nom_vt": _f("Nom (ViaTrajectoire)", width="medium"),
    "nom_entite": _f("Nom", width="medium"),
    "entite": _f("Entité", width="small"),
    "mention": _f("Mention", CODE, width="medium"),
    "mentions": _f("Mentions", CODE, width="medium"),
    "forme": _f("Forme", CODE, width="medium"),
    "libelle": _f("Libellé", width="large"),
    "statut": _f("Statut", CODE, width="medium"),
    "niveau": _f("Niveau", CODE, width="small"),
    "regle": _f("Point de contrôle", CODE, width="large"),
    "severite": _f("Type", CODE, width="small"),
    "compte_ror": _f("Compte ROR", CODE, width="small"),
    "compte_ror_motif": _f("Constat ROR", width="large"),
    "compte_vt": _f("Habilitation VT", CODE, width="small"),
    "compte_vt_motif": _f("Constat ViaTrajectoire", width="large"),
    "exigence": _f("Exigence", width="small", key=True),
    "changement": _f("Changement", CODE, width="medium"),
    "ecart": _f("Écart", CODE, width="large"),
    "libelle_ecart": _f("Écart", width="large"),
    "correspondance": _f("Correspondance", CODE, width="medium"),
    "evolution": _f("Évolution", CODE, width="small"),
    "libelle_evolution": _f("Évolution", width="small"),
    "action": _f("Action", CODE, width="large"),
    "motif": _f("Motif", width="large"),
    "detail": _f("Détail", width="large"),
    "remarque": _f("Remarque", width="large"),
    "denominateur": _f("Dénominateur", width="medium"),
    "trimestre": _f("Trimestre", width="small"),
    # capacities and counts
    "population": _f("Population", INTEGER),
    "etablissements": _f("Établissements", INTEGER),
    "etablissements_complets": _f("Établissements à jour", INTEGER),
    "unites": _f("Unités", INTEGER),
    "lits": _f("Lits", INTEGER),
    "places": _f("Places", INTEGER),
    "capacite": _f("Lits + places", INTEGER),
    "mentions_presentes": _f("Mentions présentes", INTEGER),
    "conformes": _f("Conformes", INTEGER),
    "manquants": _f("Manquants", INTEGER),
    "invalides": _f("Invalides", INTEGER),
    "reste": _f("À traiter", INTEGER),
    "points": _f("Points", INTEGER),
    "total": _f("Total", INTEGER),
    "perimetre": _f("Périmètre", INTEGER),
    "ecarts": _f("Écarts", INTEGER),
    "non_applicables": _f("Non applicables", INTEGER),
    "rang": _f("Rang", INTEGER, width="small"),
    "a_regarder": _f("À regarder", INTEGER),
    "lignes": _f("Lignes", INTEGER),
    "numero": _f("N°", INTEGER, width="small"),
    "perimetre_vt": _f("Établissements suivis", INTEGER),
    "synchronises": _f("Synchronisés", INTEGER),
    "population_au_dela": _f("Population au-delà du seuil", INTEGER),
    "population_seuil": _f("Population dans le seuil", INTEGER),
    "population_sans_acces": _f("Population sans accès", INTEGER),
    "population_gagnant": _f("Gagnent l'accès", INTEGER),
    "population_perdant": _f("Perdent l'accès", INTEGER),
    "population_dans_seuil_base": _f("Population dans le seuil (actuel)", INTEGER),
    "population_dans_seuil_scenario": _f("Population dans le seuil (scénario)", INTEGER),
    "lus": _f("Lues", INTEGER),
    "conserves": _f("Conservées", INTEGER),
    "rejetes": _f("Rejetées", INTEGER),
    "avertissements": _f("Avertissements", INTEGER),
    "row": _f("Ligne", INTEGER, width="small"),
    "ligne": _f("Ligne", INTEGER, width="small"),
    "cause": _f("Conséquence de", width="medium"),
    # indicators
    "taux": _f("Taux", SHARE, 1),
    "taux_synchronise": _f("Taux synchronisé", SHARE, 1),
    "taux_finalise": _f("Taux de finalisation", SHARE, 1),
    "taux_100k": _f("Pour 100 000 hab.", NUMBER, 1),
    "taux_100k_base": _f("Pour 100 000 hab. (actuel)", NUMBER, 1),
    "taux_100k_scenario": _f("Pour 100 000 hab. (scénario)", NUMBER, 1),
    "delta_taux_100k": _f("Écart pour 100 000 hab.", NUMBER, 2),
    "temps_plus_proche": _f("Temps au plus proche (min)", NUMBER, 1),
    "temps_plus_proche_base": _f("Temps actuel (min)", NUMBER, 1),
    "temps_plus_proche_scenario": _f("Temps scénario (min)", NUMBER, 1),
    "delta_temps_plus_proche": _f("Écart de temps (min)", NUMBER, 2),
    "temps_moyen": _f("Temps moyen (min)", NUMBER, 1),
    "distance_plus_proche": _f("Distance au plus proche (km)", NUMBER, 1),
    "minutes": _f("Minutes", NUMBER, 1),
    "km": _f("km à vol d'oiseau", NUMBER, 1),
    "acces": _f("Accessibilité", NUMBER, 1),
    "acces_e2sfca": _f("Accessibilité E2SFCA", NUMBER, 1),
    "acces_2sfca": _f("Accessibilité 2SFCA", NUMBER, 1),
    "acces_e2sfca_base": _f("E2SFCA actuel", NUMBER, 2),
    "acces_e2sfca_scenario": _f("E2SFCA scénario", NUMBER, 2),
    "delta_acces_e2sfca": _f("Écart E2SFCA", NUMBER, 2),
    "mediane_e2sfca": _f("Médiane E2SFCA", NUMBER, 1),
    "part_seuil": _f("Part dans le seuil", PERCENT, 1),
    "part_au_dela": _f("Part au-delà du seuil", PERCENT, 1),
    "pourcentage": _f("Pourcentage", PERCENT, 1),
    "code_commune": _f("Commune", width="small"),
    "millesime_population": _f("Populations légales", width="small"),
    "fermes_temporairement": _f(
        "Fermés temporairement", INTEGER,
        help="Établissements fermés provisoirement à la date de l'instantané (comptés dans les "
        "chiffres seulement si la case « Inclure les fermetures provisoires » est cochée).",
    ),
    "capacite_fermee_temporairement": _f("Lits + places fermés temporairement", INTEGER),
    # OQOS targets (analysis.transition.oqos)
    "zone": _f("Zone", width="small", key=True),
    "libelle_zone": _f("Libellé de la zone", width="medium", key=True),
    "autorisees": _f("Autorisées", INTEGER),
    "decrites": _f("Décrites (ROR)", INTEGER),
    "demandees": _f("Demandes en attente", INTEGER),
    "min": _f("Minimum", INTEGER),
    "max": _f("Maximum", INTEGER),
    "marge": _f("Marge", INTEGER, help="Maximum − autorisées : implantations encore possibles "
                "(négatif : au-delà du maximum ; vide : pas de maximum)."),
    "libelle_marge": _f("Marge", width="large"),
    "autorisees_avant": _f("Autorisées (actuel)", INTEGER),
    "autorisees_apres": _f("Autorisées (scénario)", INTEGER),
    "statut_avant": _f("Statut (actuel)", CODE, width="medium"),
    "statut_apres": _f("Statut (scénario)", CODE, width="medium"),
    "marge_apres": _f("Marge (scénario)", INTEGER),
    "change": _f("Modifié", BOOLEAN, width="small"),
    "autorisee": _f("Autorisée", BOOLEAN, width="small"),
    "decrite": _f("Décrite", BOOLEAN, width="small"),
    "demandee": _f("Demande en attente", BOOLEAN, width="small"),
    "autorisations": _f("Autorisations", width="medium"),
    "demandes": _f("Demandes", width="small"),
    "demande_id": _f("N° de demande", width="small", key=True),
    "date_depot": _f("Date de dépôt", DATE, width="small"),
    "finess_plus_proche": _f("FINESS le plus proche", width="small"),
    "nom_plus_proche": _f("Établissement le plus proche", width="medium"),
    "finess_plus_proche_base": _f("Plus proche (actuel)", width="small"),
    "finess_plus_proche_scenario": _f("Plus proche (scénario)", width="small"),
    # dates
    "date": _f("Date", DATE, width="small"),
    "date_instantane": _f("Instantané", DATE, width="small"),
    "date_maj": _f("Dernière mise à jour", DATETIME, width="small"),
    "date_maj_ror": _f("Mise à jour ROR", DATETIME, width="small"),
    "date_synchronisation": _f("Dernière synchronisation", DATETIME, width="small"),
    # validation reports
    "table": _f("Table", width="small"),
    "source": _f("Origine", width="small"),
    "column": _f("Colonne", width="small"),
    "value": _f("Valeur", width="medium"),
    "rule": _f("Règle", width="small"),
    "reason": _f("Motif", width="large"),
    "severity": _f("Gravité", CODE, width="small"),
}

_PART_MIN = re.compile(r"^part_(\d+(?:_\d+)?)min$")
_POPULATION_MIN = re.compile(r"^population_(\d+(?:_\d+)?)min$")


def _kind_of(dtype: pl.DataType | None) -> tuple[str, int]:
    if dtype is None:
        return TEXT, 0
    if dtype == pl.Boolean:
        return BOOLEAN, 0
    if dtype.is_integer():
        return INTEGER, 0
    if dtype.is_float() or dtype.is_decimal():
        return NUMBER, 1
    if dtype == pl.Date:
        return DATE, 0
    if isinstance(dtype, pl.Datetime):
        return DATETIME, 0
    return TEXT, 0


def _humanised(name: str) -> str:
    """A header for a column nobody described: « raison_sociale » → « Raison sociale »;
    a name that is already French text stays as it is."""
    if name != name.lower() or " " in name or not re.fullmatch(r"[a-zà-ÿ0-9_]+", name):
        return name
    return name.replace("_", " ").capitalize()


def spec(name: str, dtype: pl.DataType | None = None) -> Format:
    """How the column ``name`` (of type ``dtype``) is shown; see ``Format``."""
    if name in COLUMNS:
        f = COLUMNS[name]
        # a date-time column that holds dates, or a count held as float, keeps its kind
        if f.kind == DATETIME and dtype == pl.Date:
            return replace(f, kind=DATE)
        return f
    m = _PART_MIN.match(name)
    if m:
        return _f(f"Part ≤ {m.group(1).replace('_', ',')} min", PERCENT, 1)
    m = _POPULATION_MIN.match(name)
    if m:
        return _f(f"Population ≤ {m.group(1).replace('_', ',')} min", INTEGER)
    if name.startswith("ratio_mediane"):
        suffix = name.removeprefix("ratio_mediane").strip("_").upper()
        return _f("Ratio à la médiane" + (f" ({suffix})" if suffix else ""), NUMBER, 2)
    kind, decimals = _kind_of(dtype)
    if name in _count_headers():
        return _f(_count_headers()[name], kind if kind != TEXT else INTEGER, decimals)
    if name in _rule_labels():
        return _f(_rule_labels()[name], SHARE if kind == NUMBER else kind, 1)
    label = _schema_label(name) or _note_label(name) or _humanised(name)
    if name.startswith("date") and kind == TEXT:
        kind = DATE
    return _f(label, kind, decimals)


@functools.cache
def _schema_labels() -> dict[str, str]:

    out: dict[str, str] = {}
    for table in schema.TABLES.values():
        for c in table.columns:
            if c.label and c.name not in out:
                out[c.name] = c.label
    return out


def _schema_label(name: str) -> str | None:
    return _schema_labels().get(name)


def _note_label(name: str) -> str | None:

    try:
        return methods.note(name).label
    except KeyError:
        return None


def headers(columns: list[str], schema: Mapping[str, pl.DataType] | None = None,
            overrides: Mapping[str, Format] | None = None) -> dict[str, str]:
    """Column → French header, made unique (a repeated header gets its code in brackets)."""
    overrides = overrides or {}
    out: dict[str, str] = {}
    seen: set[str] = set()
    for c in columns:
        f = overrides.get(c) or spec(c, (schema or {}).get(c))
        label = f.label
        if label in seen:
            label = f"{label} ({c})"
        seen.add(label)
        out[c] = label
    return out


def specs(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None) -> dict[str, Format]:
    """``spec`` of every column of ``df``; a date-time column holding only midnights is a
    date column (« time only where it means something »)."""
    overrides = overrides or {}
    out = {}
    for c, t in df.schema.items():
        f = overrides.get(c) or spec(c, t)
        if f.kind == DATETIME and isinstance(t, pl.Datetime):
            times = df.get_column(c).drop_nulls()
            if times.len() == 0 or (times.dt.truncate("1d") == times).all():
                f = replace(f, kind=DATE)
        if f.kind in NUMERIC_KINDS and not t.is_numeric():
            f = replace(f, kind=TEXT)  # a text column with a numeric name stays text
        out[c] = f
    return out


# ------------------------------------------------------------------------------ frames


def _code_expr(name: str, col: pl.Expr) -> pl.Expr:
    """French labels of a code column (unknown codes stay as they are)."""
    text = col.cast(pl.String)
    if name == "departement":
        return text.replace(
            {**{c: f"{n} ({c})" for c, n in DEPARTEMENTS.items()}, **DEPARTEMENT_SPECIAL}
        )
    if name in ("mention", "mentions"):

        short = {m.code: m.court for m in nomenclature.MENTIONS}
        return (
            text.str.split("|")
            .list.eval(pl.element().str.strip_chars().replace(short))
            .list.join(" ou ")
        )
    labels = code_labels().get(name)
    if not labels:
        return text
    return text.replace(labels)


#: Label columns made redundant by the labels given to a code column (one label per mention).
REDUNDANT: dict[str, tuple[str, ...]] = {
    "mention": ("libelle", "libelle_mention", "court"),
    "mentions": ("libelle_mentions",),
    "ecart": ("libelle_ecart",),
    "evolution": ("libelle_evolution",),
    "statut": ("libelle_statut",),
}


def without_redundant(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None,
                      keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """``df`` without the label columns its code columns make redundant (``REDUNDANT``: the
    legal ``libelle`` beside ``mention``…), except those listed in ``keep``."""
    overrides = overrides or {}
    drop = [
        c for code, extras in REDUNDANT.items()
        if code in df.columns and (overrides.get(code) or spec(code)).kind == CODE
        for c in extras if c in df.columns and c not in keep
    ]
    return df.drop(drop) if drop else df


def code_formatters(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None
                    ) -> dict[str, dict[Any, str]]:
    """Code column → {code: French label} for the values present in ``df``."""
    fmts = specs(df, overrides)
    out = {}
    for c, f in fmts.items():
        if f.kind != CODE:
            continue
        values = df.get_column(c).drop_nulls().unique()
        labels = pl.DataFrame({c: values}).select(_code_expr(c, pl.col(c)))[c]
        out[c] = dict(zip(values.to_list(), labels.to_list(), strict=True))
    return out


def labelled(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None,
             keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """``df`` with its codes turned into French labels (mentions, départements, statuses…)
    and booleans into « oui » / « non »; numbers and dates keep their type. Label columns
    made redundant (``REDUNDANT``: the legal ``libelle`` beside ``mention``…) are dropped
    unless listed in ``keep``."""
    df = without_redundant(df, overrides, keep)
    fmts = specs(df, overrides)
    exprs = []
    for c, f in fmts.items():
        if f.kind == CODE:
            exprs.append(_code_expr(c, pl.col(c)).alias(c))
        elif f.kind == BOOLEAN and df.schema[c] == pl.Boolean:
            exprs.append(
                pl.when(pl.col(c)).then(pl.lit("oui")).when(pl.col(c).not_()).then(pl.lit("non"))
                .otherwise(None).alias(c)
            )
    return df.with_columns(exprs) if exprs else df


def _map(series: pl.Series, fn) -> pl.Series:
    return pl.Series(series.name, [fn(v) for v in series.to_list()], dtype=pl.String)


def text_frame(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None,
               header: bool = True) -> pl.DataFrame:
    """``df`` as it reads on a page: labels for codes, every cell formatted as French text
    (« — » when empty), French headers when ``header``."""
    out = labelled(df, overrides)
    fmts = specs(out, overrides)
    cols = [_map(out.get_column(c), functools.partial(cell, f=f)) for c, f in fmts.items()]
    frame = pl.DataFrame(cols) if cols else out
    return frame.rename(headers(out.columns, out.schema, overrides)) if header else frame


def _spreadsheet_number(value: Any, decimals: int) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        return None
    return grouped(value, decimals, "")


def excel_csv_frame(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None
                    ) -> pl.DataFrame:
    """``df`` for « CSV pour Excel »: French headers, labels for codes, numbers rounded as
    displayed with a decimal comma and no thousands separator, rates as percentages (header
    « (%) »), dates ``JJ/MM/AAAA``; empty cells stay empty."""
    out = labelled(df, overrides)
    fmts = specs(out, overrides)
    cols, names = [], {}
    heads = headers(out.columns, out.schema, overrides)
    for c, f in fmts.items():
        s = out.get_column(c)
        name = heads[c]
        if f.kind in (INTEGER, NUMBER):
            d = 0 if f.kind == INTEGER else f.decimals
            s = _map(s, functools.partial(_spreadsheet_number, decimals=d))
        elif f.kind in (SHARE, PERCENT):
            scale = 100 if f.kind == SHARE else 1
            s = _map(s, lambda v, k=scale, d=f.decimals: _spreadsheet_number(
                None if is_missing(v) else v * k, d))
            name = f"{name} (%)"
        elif f.kind == DATE:
            s = _map(s, lambda v: None if is_missing(v) else date(v))
        elif f.kind == DATETIME:
            s = _map(s, lambda v: None if is_missing(v) else datetime(v))
        elif s.dtype != pl.String:
            s = s.cast(pl.String) if not s.dtype.is_nested() else _map(s, str)
        cols.append(s)
        names[c] = name
    frame = pl.DataFrame(cols) if cols else out
    return frame.rename(names)


