"""SSR → SMR transition: authorisations mapped to mentions, gaps with the ROR, what-if scenarios.

**Mapping** (:func:`default_mapping`, :func:`correspondance_ssr`). Each old SSR authorisation
(activity 50–59 of TRE_R274 with its age modality, TRE_R275, and form, TRE_R276) is carried to
the SMR mention(s) it is expected to become. The table is the *proposal* of DOMAIN.md §1.6
(``nomenclature.SSR_TO_SMR``), not an official one, so it is data: a planner may replace it with
a CSV or YAML file (:func:`read_mapping`; format in ``docs/scenarios/README.md``). A rule is
``activite, modalite, mentions``: ``*`` matches any activity or modality, ``mentions`` lists
alternatives separated by ``|`` (one of them, the new decision says which), and several rules
with the same key mean several expected mentions. The most specific key wins: (activity,
modality), then (``*``, modality), then (activity, ``*``), then (``*``, ``*``). A null modality
reads as ``00`` (no modality). Statuses (``MAPPING_STATUSES``):

- ``proposee``: one mention whose label matches the old activity;
- ``a_preciser``: several candidates (56 onco-hématologie → ME062 oncologie *or* ME056
  oncologie et hématologie): flagged, never chosen;
- ``approximation``: pediatric modalities. The old age bands split at 6 years, the new
  mentions at 4: 78 juvénile (6–17 ans) → ME060 enfants et adolescents (4 ans et plus); 77
  enfant (< 6 ans), 79 âges non différenciés and 10 pédiatrique → ME061 jeunes enfants,
  enfants et adolescents. Pediatrics is a modality of its own under SMR, so « locomoteur +
  juvénile » maps to ME060, not to locomoteur. 76 adulte et pédiatrique expects both the adult
  mention and ME061;
- ``hors_smr``: forme 05 (hospitalisation à domicile) is outside SMR (HAD réadaptation is an
  HAD mention), whatever the table says;
- ``sans_correspondance``: no rule matches (only with a user table that leaves a case out).

**Gaps** (:func:`transition_gaps`), per establishment × mention, on the authorisations active
at the snapshot date (``date_fin`` null or on/after it) and outside forme 05:

- ``autorisee_non_decrite``: authorised (an SMR decision, or expected from an active SSR
  authorisation whose mention has no SMR decision yet) but no offer of the mention in the ROR
  (for an ambiguous expectation: none of its candidates);
- ``decrite_non_autorisee``: an offer in the ROR whose mention is neither decided nor
  expected from an SSR authorisation still waiting for its decision;
- ``ssr_sans_decision_smr``: an active SSR authorisation whose expected mention (none of its
  candidates) has no SMR decision at the establishment. Per mention: an establishment whose
  decision granted some mentions still waits for the others, and its old authorisation
  for them stays in force until it ends;
- ``unite_libellee_ssr``: units still named SSR (the word « SSR » or « soins de suite » in
  ``nom``), one row per establishment × mention of their offers; renaming is optional advice
  in the campaign guide;
- ``migration_automatique``: units still typed SSR (``discipline``): the guide says the
  discipline group and the type d'UO will be changed automatically, so this is no
  establishment action but the regional ROR team's to follow (``ROR_TEAM_GAPS``, shown apart);
- ``correspondance_inconnue``: an SSR authorisation the mapping table does not cover.

**Scenarios** (:class:`Scenario`, :func:`parse_scenario`, :func:`apply_scenario`). A named list
of changes, in order: add or remove a mention at an establishment, set the beds / places of a
mention (optionally of one forme), add a new site in a commune with one mention and capacity.
Applying it is a pure function of the canonical tables: it returns modified copies (new units
``SCN-U<n>``, new sites ``SCN<n>``, an SMR decision ``SCN-A<n>`` for each added mention, the
establishment's SMR decisions of a removed mention dropped). :func:`compare_scenario` recomputes
coverage, nearest time and accessibility with ``territories.territory_indicators`` on both
snapshots and returns per-commune and per-territory deltas and the population that gains or
loses an establishment within the threshold (default 30 min, the Carte page's parameters).
File format and examples: ``docs/scenarios/``. With an ``opening`` rule (the snapshot date
and the provisional-closure switch, :mod:`analysis.indicators.opening`), a change on an establishment
that is closed under the rule is refused (it cannot change the open offer), and both sides of
the comparison count only the open offer. The per-commune table has one row per origin:
Paris, Lyon and Marseille arrondissements when the communes frame splits them
(``geo.origins_from``), with ``code_commune`` beside each.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from analysis.indicators import coverage, sync, territories
from analysis.indicators.opening import OpeningRule, closures, open_tables
from analysis.io.loaders.canonical import decode_text, read_delimited
from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.model.errors import InputError, StoreError

# ----------------------------------------------------------------------------- mapping

WILDCARD = "*"
#: Modality read for an authorisation without one (TRE_R275 « 00 Pas de modalité »).
NO_MODALITE = "00"
#: Scenario and mapping files are a few kB: anything larger is refused before parsing.
MAX_FILE_BYTES = 1024 * 1024
#: Separator of alternative mentions in a rule and in the ``mention`` column of the results.
ALTERNATIVE = "|"

MAPPING_STATUSES: dict[str, str] = {
    "proposee": "Correspondance proposée (libellés concordants)",
    "approximation": "Approximation : tranches d'âge pédiatriques passées de 6 à 4 ans",
    "a_preciser": "À préciser : plusieurs mentions possibles, la décision SMR tranche",
    "hors_smr": "Hors SMR : hospitalisation à domicile (forme 05)",
    "sans_correspondance": "Aucune correspondance dans la table",
}
MAPPING_SHORT_LABELS: dict[str, str] = {
    "proposee": "Proposées",
    "approximation": "Approximations",
    "a_preciser": "À préciser",
    "hors_smr": "Hors SMR (HAD)",
    "sans_correspondance": "Sans correspondance",
}
#: Statuses whose authorisations expect an SMR mention.
IN_SCOPE = ("proposee", "approximation", "a_preciser")

MAPPING_SCHEMA: dict[str, pl.DataType] = {
    "activite": pl.String(),
    "modalite": pl.String(),
    "mentions": pl.List(pl.String()),
    "statut": pl.String(),
    "remarque": pl.String(),
}

_PEDIATRIC_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "78",
        "ME060",
        "juvénile (6 à 17 ans) → enfants et adolescents (4 ans et plus) : la mention couvre "
        "aussi les 4–5 ans",
    ),
    (
        "77",
        "ME061",
        "enfant (moins de 6 ans) → jeunes enfants, enfants et adolescents : la mention couvre "
        "aussi les 6–17 ans",
    ),
    ("79", "ME061", "pédiatrie, âges non différenciés → jeunes enfants, enfants et adolescents"),
    ("10", "ME061", "pédiatrique, âges non précisés → jeunes enfants, enfants et adolescents"),
)


def _rule_status(modalite: str, mentions: Sequence[str], given: str | None = None) -> str:
    """Status of a rule: several candidates → à préciser; a pediatric mention for a pediatric
    (or mixed) modality → approximation; else the given status or « proposée »."""
    if not mentions:
        return "sans_correspondance"
    if len(mentions) > 1:
        return "a_preciser"
    pediatric = mentions[0] in nom.PEDIATRIC_MENTIONS
    if given == "approximation" or (
        pediatric and (modalite in nom.PEDIATRIC_MODALITES or modalite in ("76", WILDCARD))
    ):
        return "approximation"
    return given or "proposee"


def _mapping_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=MAPPING_SCHEMA, orient="row")


def default_mapping() -> pl.DataFrame:
    """The proposed SSR → SMR table (DOMAIN.md §1.6) as editable rules.

    Columns activite, modalite (``*`` = any), mentions (list of alternative codes), statut,
    remarque. Built from ``nomenclature.SSR_TO_SMR`` and the pediatric age bands.
    """
    rows = []
    for act, mentions in nom.SSR_TO_SMR.items():
        adult = (
            "oncologie (ME062) ou oncologie et hématologie (ME056) : la décision SMR dit laquelle"
            if len(mentions) > 1
            else ""
        )
        for modalite, codes, text in (
            (WILDCARD, mentions, adult),
            (
                "76",
                mentions,
                "adulte et pédiatrique : part adulte" + (f" ; {adult}" if adult else ""),
            ),
            (
                "76",
                ("ME061",),
                "adulte et pédiatrique : part pédiatrique, âges non différenciés → jeunes "
                "enfants, enfants et adolescents",
            ),
        ):
            rows.append(
                {
                    "activite": act,
                    "modalite": modalite,
                    "mentions": list(codes),
                    "statut": _rule_status(modalite, codes),
                    "remarque": text,
                }
            )
    for modalite, mention, text in _PEDIATRIC_RULES:
        rows.append(
            {
                "activite": WILDCARD,
                "modalite": modalite,
                "mentions": [mention],
                "statut": _rule_status(modalite, (mention,)),
                "remarque": text,
            }
        )
    return _mapping_frame(rows)


def _code2(value: Any) -> str:
    """A two-character code as text (``9`` → ``09``), ``*`` kept, empty → ``*``."""
    text = "" if value is None else str(value).strip()
    if not text:
        return WILDCARD
    return text.zfill(2) if text.isdigit() and len(text) < 2 else text


def _mentions_of(value: Any) -> tuple[list[str], list[str]]:
    """Mention codes of a rule cell (codes, ROR types or labels, ``|`` between alternatives),
    with the parts that are no mention."""
    if value is None:
        return [], []
    parts = value if isinstance(value, list) else str(value).split(ALTERNATIVE)
    codes, bad = [], []
    for part in (str(p).strip() for p in parts):
        if not part:
            continue
        code = nom.find_mention(part)
        if code is None:
            bad.append(part)
        elif code not in codes:
            codes.append(code)
    return codes, bad


def read_mapping(data: str | Path | bytes, name: str | None = None) -> pl.DataFrame:
    """A user SSR → SMR table from a CSV or YAML file (path, or bytes with ``name``).

    CSV: columns ``activite,modalite,mentions`` (optional ``statut``, ``remarque``), separator
    ``,`` ``;`` or tab. YAML: a list of such mappings, or ``{correspondances: [...]}``.
    ``*`` or an empty modality matches any. Raises ``InputError`` (first problem, with its line,
    and how many follow) when the file cannot be used.
    """
    source: object = name if isinstance(data, bytes) else Path(data)
    if isinstance(data, bytes):
        raw = data
    else:
        path = Path(data)
        if not path.is_file():
            raise InputError("fichier introuvable", path)
        raw = path.read_bytes()
    if not raw.strip():
        raise InputError("fichier vide", source)
    if len(raw) > MAX_FILE_BYTES:
        raise InputError("table de correspondance trop volumineuse (plus de 1 Mo)", source)
    suffix = Path(str(name or source)).suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        records = _yaml_records(raw, source)
        first_line = 1
    else:
        frame = read_delimited(raw, Path(str(source))).frame
        frame = frame.rename({c: c.strip().lower() for c in frame.columns})
        missing = [c for c in ("activite", "modalite", "mentions") if c not in frame.columns]
        if missing:
            raise InputError(
                f"colonne(s) manquante(s) : {', '.join(missing)} ; colonnes attendues : "
                "activite, modalite, mentions (statut, remarque facultatives)",
                source,
            )
        records = frame.to_dicts()
        first_line = 2
    if not records:
        raise InputError("table de correspondance vide", source)
    rows, problems = [], []
    for i, rec in enumerate(records):
        where = f"ligne {i + first_line}"
        if not isinstance(rec, Mapping):
            problems.append(f"{where} : une correspondance (activite, modalite, mentions) attendue")
            continue
        act, modalite = _code2(rec.get("activite")), _code2(rec.get("modalite"))
        if act != WILDCARD and act not in nom.ACTIVITES_SSR:
            problems.append(f"{where} : activité SSR inconnue « {act} » (50 à 59 ou *)")
        if modalite != WILDCARD and modalite not in nom.MODALITES_AUTORISATION:
            problems.append(
                f"{where} : modalité inconnue « {modalite} » ; modalités : "
                + ", ".join(nom.MODALITES_AUTORISATION)
                + ", *"
            )
        codes, bad = _mentions_of(rec.get("mentions"))
        if bad:
            problems.append(f"{where} : mention inconnue « {bad[0]} » (codes ME050 à ME062)")
        given = rec.get("statut")
        given = str(given).strip() if given not in (None, "") else None
        if given is not None and given not in IN_SCOPE:
            problems.append(
                f"{where} : statut inconnu « {given} » ; statuts : {', '.join(IN_SCOPE)}"
            )
            given = None
        rows.append(
            {
                "activite": act,
                "modalite": modalite,
                "mentions": codes,
                "statut": _rule_status(modalite, codes, given),
                "remarque": str(rec.get("remarque") or ""),
            }
        )
    if problems:
        more = f" (et {len(problems) - 1} autre(s) erreur(s))" if len(problems) > 1 else ""
        raise InputError(problems[0] + more, source)
    return _mapping_frame(rows)


def _yaml_records(raw: bytes, source: object) -> list[Any]:
    """The list of rules of a YAML (or JSON) mapping file."""
    try:
        loaded = yaml.safe_load(decode_text(raw, Path(str(source)))[0])
    except yaml.YAMLError as exc:
        raise InputError(f"YAML illisible ({str(exc).splitlines()[0]})", source) from None
    if isinstance(loaded, Mapping):
        loaded = loaded.get("correspondances")
    if not isinstance(loaded, list):
        raise InputError(
            "une liste de correspondances (activite, modalite, mentions) est attendue, "
            "éventuellement sous la clé « correspondances »",
            source,
        )
    return loaded


CORRESPONDANCE_SCHEMA: dict[str, pl.DataType] = {
    "autorisation_id": pl.String(),
    "finess_eg": pl.String(),
    "activite": pl.String(),
    "modalite": pl.String(),
    "forme": pl.String(),
    "date_fin": pl.Date(),
    "mentions": pl.List(pl.String()),
    "mention": pl.String(),
    "statut": pl.String(),
    "remarque": pl.String(),
}


def correspondance_ssr(
    autorisations: pl.DataFrame, mapping: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Expected SMR mention(s) of each SSR authorisation: one row per authorisation × slot.

    Columns autorisation_id, finess_eg, activite, modalite, forme, date_fin, mentions (list of
    alternative codes), mention (one code, or the alternatives joined by ``|``; null outside
    SMR), statut (see ``MAPPING_STATUSES``), remarque. An authorisation with modality 76 has two
    slots (adult and pediatric); forme 05 is ``hors_smr``. ``mapping``: rules as from
    :func:`default_mapping` (the default) or :func:`read_mapping`.
    """
    rules = default_mapping() if mapping is None else mapping
    index: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rule in rules.iter_rows(named=True):
        index.setdefault((rule["activite"], rule["modalite"]), []).append(rule)
    rows = []
    ssr = autorisations.filter(pl.col("regime") == "SSR").sort("autorisation_id")
    for auth in ssr.iter_rows(named=True):
        base = {k: auth[k] for k in ("autorisation_id", "finess_eg", "activite", "modalite")}
        base |= {"forme": auth["forme"], "date_fin": auth["date_fin"]}
        act = auth["activite"] or ""
        modalite = auth["modalite"] or NO_MODALITE
        if auth["forme"] == nom.HAD_FORME_AUTORISATION:
            rows.append(
                base
                | {
                    "mentions": [],
                    "mention": None,
                    "statut": "hors_smr",
                    "remarque": "hospitalisation à domicile (forme 05) : hors du champ SMR",
                }
            )
            continue
        matched = next(
            (
                index[key]
                for key in ((act, modalite), (WILDCARD, modalite), (act, WILDCARD))
                + ((WILDCARD, WILDCARD),)
                if key in index
            ),
            [],
        )
        if not matched:
            rows.append(
                base
                | {
                    "mentions": [],
                    "mention": None,
                    "statut": "sans_correspondance",
                    "remarque": f"aucune règle pour l'activité {act or '?'}, modalité {modalite}",
                }
            )
        for rule in matched:
            codes = list(rule["mentions"])
            remark = rule["remarque"] or ""
            if codes and codes[0] in nom.PEDIATRIC_MENTIONS and act not in ("50", ""):
                specialty = nom.ACTIVITES_SSR.get(act, act).split("– ")[-1]
                remark += (" ; " if remark else "") + (
                    f"spécialité « {specialty} » sans mention pédiatrique propre"
                )
            rows.append(
                base
                | {
                    "mentions": codes,
                    "mention": ALTERNATIVE.join(codes) if codes else None,
                    "statut": rule["statut"],
                    "remarque": remark,
                }
            )
    return pl.DataFrame(rows, schema=CORRESPONDANCE_SCHEMA, orient="row")


def mention_text(mention: str | None) -> str:
    """French label of a mention code or of alternatives ``ME062|ME056``."""
    if mention is None:
        return "(aucune offre)"
    return " ou ".join(nom.mention_label(c) for c in mention.split(ALTERNATIVE))


# -------------------------------------------------------------------------------- gaps

#: Gap type → (French label, what to do).
GAP_TYPES: dict[str, tuple[str, str]] = {
    "autorisee_non_decrite": (
        "Autorisée mais non décrite dans le ROR",
        "Décrire dans le ROR une offre de cette mention (unité, type d'offre, forme, "
        "capacités) ; si l'activité n'est pas exercée, le signaler à l'ARS.",
    ),
    "decrite_non_autorisee": (
        "Décrite dans le ROR sans autorisation",
        "Vérifier le type d'offre de l'unité dans le ROR et le corriger s'il est erroné ; "
        "sinon vérifier l'autorisation avec l'ARS.",
    ),
    "ssr_sans_decision_smr": (
        "Autorisation SSR sans décision SMR",
        "Instruire la demande d'autorisation SMR pour cette mention ; l'autorisation SSR "
        "reste prorogée jusqu'à la décision.",
    ),
    "unite_libellee_ssr": (
        "Unité encore nommée SSR (renommage conseillé)",
        "Facultatif, conseillé par le guide de la campagne : dans l'attente de la mise à jour "
        "des autorisations, remplacer « SSR » par « SMR » dans le nom de l'unité (fiche UO du "
        "ROR, « Renommer »).",
    ),
    "migration_automatique": (
        "Discipline ou type d'UO encore SSR : migration automatique en attente",
        "Aucune action de l'établissement : le grand groupe de discipline « SSR » et le "
        "« Type d'UO » seront modifiés ultérieurement de façon automatique ; à suivre par "
        "l'équipe régionale du ROR.",
    ),
    "correspondance_inconnue": (
        "Autorisation SSR sans correspondance SMR",
        "Compléter la table de correspondance SSR → SMR pour cette activité et cette modalité.",
    ),
}
#: Short labels of the gap types, for figures and narrow table headers.
GAP_SHORT_LABELS: dict[str, str] = {
    "autorisee_non_decrite": "Autorisées, non décrites",
    "decrite_non_autorisee": "Décrites, non autorisées",
    "ssr_sans_decision_smr": "SSR sans décision SMR",
    "unite_libellee_ssr": "Unités nommées « SSR »",
    "migration_automatique": "Migration automatique en attente",
    "correspondance_inconnue": "Hors table de correspondance",
}
#: Gap types that are the regional ROR team's to follow, not an establishment's action:
#: shown apart from the list sent to establishments.
ROR_TEAM_GAPS: tuple[str, ...] = ("migration_automatique",)
#: A unit is « named SSR » when its name contains one of these (case-insensitive).
SSR_NAME_PATTERN = r"(?i)\bSSR\b|soins de suite"

GAP_SCHEMA: dict[str, pl.DataType] = {
    "finess_eg": pl.String(),
    "raison_sociale": pl.String(),
    "departement": pl.String(),
    "mention": pl.String(),
    "libelle_mention": pl.String(),
    "ecart": pl.String(),
    "libelle_ecart": pl.String(),
    "action": pl.String(),
    "detail": pl.String(),
    "correspondance": pl.String(),
    "autorisations": pl.String(),
    "unites": pl.String(),
}


def active_authorisations(autorisations: pl.DataFrame, date: dt.date) -> pl.DataFrame:
    """Authorisations in force at ``date``: ``date_fin`` null or on/after the date."""
    return autorisations.filter(pl.col("date_fin").is_null() | (pl.col("date_fin") >= date))


def _joined(col: str) -> pl.Expr:
    return pl.col(col).drop_nulls().unique().sort().str.join(", ")


def _part(frame: pl.DataFrame, ecart: str, **columns: pl.Expr) -> pl.DataFrame:
    """Rows of one gap type: finess_eg, mention, ecart and the given detail columns."""
    exprs = {
        "detail": pl.lit(None, pl.String),
        "correspondance": pl.lit(None, pl.String),
        "autorisations": pl.lit(None, pl.String),
        "unites": pl.lit(None, pl.String),
    } | columns
    return frame.select(
        "finess_eg",
        pl.col("mention").cast(pl.String),
        pl.lit(ecart).alias("ecart"),
        *(e.cast(pl.String).alias(k) for k, e in exprs.items()),
    )


def _units_named_ssr(
    unites: pl.DataFrame, offres: pl.DataFrame, by_discipline: bool = False
) -> pl.DataFrame:
    """Units named SSR (or, with ``by_discipline``, typed SSR: the automatic migration), per
    establishment × mention of their offers (null mention for a unit without offer):
    finess_eg, mention, unites (ids), _units (names for detail)."""
    which = (
        pl.col("discipline") == "SSR"
        if by_discipline
        else pl.col("nom").fill_null("").str.contains(SSR_NAME_PATTERN)
    )
    flagged = unites.filter(which).with_columns(
        pl.concat_str(
            pl.col("nom").fill_null("(sans nom)"),
            pl.lit(" ("),
            pl.col("uo_id"),
            pl.when(pl.col("discipline") == "SSR")
            .then(pl.lit(", discipline SSR"))
            .otherwise(pl.lit("")),
            pl.lit(")"),
        ).alias("_unit")
    )
    return (
        flagged.join(offres.select("uo_id", "mention").unique(), on="uo_id", how="left")
        .group_by("finess_eg", "mention")
        .agg(_joined("uo_id").alias("unites"), _joined("_unit").alias("_units"))
    )


def transition_gaps(
    tables: Mapping[str, pl.DataFrame],
    date: dt.date,
    mapping: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The list to act on: one row per establishment × mention × gap type (see module doc).

    ``tables``: canonical snapshot frames (etablissements, unites, offres, autorisations).
    ``date``: the snapshot date (authorisations ended before it are ignored). ``mapping``: SSR
    → SMR rules (default :func:`default_mapping`). Columns: finess_eg, raison_sociale,
    departement, mention (code, alternatives ``ME062|ME056``, or null for a unit without
    offer), libelle_mention, ecart, libelle_ecart, action, detail, correspondance (mapping
    status of an expectation from SSR), autorisations, unites (identifiers, comma-separated).
    Why: every gap of the transition on one list, to send or to follow up.
    """
    autorisations = tables.get("autorisations", schema.empty("autorisations"))
    active = active_authorisations(autorisations, date)
    not_had = pl.col("forme").is_null() | (pl.col("forme") != nom.HAD_FORME_AUTORISATION)
    decided = (
        active.filter((pl.col("regime") == "SMR") & pl.col("mention").is_not_null() & not_had)
        .group_by("finess_eg", "mention")
        .agg(_joined("autorisation_id").alias("autorisations"))
    )
    slots = correspondance_ssr(active, mapping)
    rank = {s: i for i, s in enumerate(("a_preciser", "approximation", "proposee"))}
    expected = (
        slots.filter(pl.col("statut").is_in(IN_SCOPE))
        .with_columns(pl.col("statut").replace_strict(rank, return_dtype=pl.Int8).alias("_r"))
        .group_by("finess_eg", "mention")
        .agg(
            pl.col("mentions").first(),
            pl.col("statut").sort_by("_r").first(),
            _joined("autorisation_id").alias("autorisations"),
            _joined("remarque").alias("remarque"),
        )
    )
    candidates = expected.with_columns(pl.col("mentions").alias("_c")).explode(
        "_c", empty_as_null=False
    )
    covered = (
        candidates.join(
            decided, left_on=["finess_eg", "_c"], right_on=["finess_eg", "mention"], how="semi"
        )
        .select("finess_eg", "mention")
        .unique()
    )
    waiting = expected.join(covered, on=["finess_eg", "mention"], how="anti")

    described = (
        tables["offres"]
        .join(tables["unites"].select("uo_id", "finess_eg"), on="uo_id", how="inner")
        .group_by("finess_eg", "mention")
        .agg(_joined("uo_id").alias("unites"))
    )
    authorised = pl.concat(
        [
            decided.select(
                "finess_eg",
                "mention",
                pl.concat_list("mention").alias("mentions"),
                "autorisations",
                pl.lit(None, pl.String).alias("statut"),
                pl.lit("décision SMR").alias("_source"),
            ),
            waiting.select(
                "finess_eg",
                "mention",
                "mentions",
                "autorisations",
                "statut",
                pl.lit("autorisation SSR en attente de décision SMR").alias("_source"),
            ),
        ]
    )
    auth_candidates = authorised.with_columns(pl.col("mentions").alias("_c")).explode(
        "_c", empty_as_null=False
    )
    satisfied = (
        auth_candidates.join(
            described, left_on=["finess_eg", "_c"], right_on=["finess_eg", "mention"], how="semi"
        )
        .select("finess_eg", "mention")
        .unique()
    )
    not_described = authorised.join(satisfied, on=["finess_eg", "mention"], how="anti")
    not_authorised = described.join(
        auth_candidates.select("finess_eg", pl.col("_c").alias("mention")).unique(),
        on=["finess_eg", "mention"],
        how="anti",
    )

    named = _units_named_ssr(tables["unites"], tables["offres"])
    typed = _units_named_ssr(tables["unites"], tables["offres"], by_discipline=True)
    unmapped = (
        slots.filter(pl.col("statut") == "sans_correspondance")
        .group_by("finess_eg")
        .agg(
            _joined("autorisation_id").alias("autorisations"), _joined("remarque").alias("remarque")
        )
        .with_columns(pl.lit(None, pl.String).alias("mention"))
    )

    parts = [
        _part(
            not_described,
            "autorisee_non_decrite",
            detail=pl.concat_str(pl.col("_source"), pl.lit(" : "), pl.col("autorisations")),
            correspondance=pl.col("statut"),
            autorisations=pl.col("autorisations"),
        ),
        _part(
            not_authorised,
            "decrite_non_autorisee",
            detail=pl.lit("offre(s) du ROR sans décision SMR ni autorisation SSR en attente"),
            unites=pl.col("unites"),
        ),
        _part(
            waiting,
            "ssr_sans_decision_smr",
            detail=pl.when(pl.col("remarque") != "")
            .then(
                pl.concat_str(
                    pl.lit("autorisation(s) SSR : "), "autorisations", pl.lit(" ; "), "remarque"
                )
            )
            .otherwise(pl.concat_str(pl.lit("autorisation(s) SSR : "), "autorisations")),
            correspondance=pl.col("statut"),
            autorisations=pl.col("autorisations"),
        ),
        _part(named, "unite_libellee_ssr", detail=pl.col("_units"), unites=pl.col("unites")),
        _part(typed, "migration_automatique", detail=pl.col("_units"), unites=pl.col("unites")),
        _part(
            unmapped,
            "correspondance_inconnue",
            detail=pl.col("remarque"),
            correspondance=pl.lit("sans_correspondance"),
            autorisations=pl.col("autorisations"),
        ),
    ]
    gaps = pl.concat(parts)
    info = (
        sync.establishments_info(tables["etablissements"])
        .select("finess_eg", "raison_sociale", "departement")
        .collect()
    )
    ecart_order = {g: i for i, g in enumerate(GAP_TYPES)}
    mention_order = {m.code: i for i, m in enumerate(nom.MENTIONS)}
    out = (
        gaps.join(info, on="finess_eg", how="left")
        .with_columns(
            pl.col("departement").fill_null(pl.col("finess_eg").str.slice(0, 2)),
            pl.col("mention")
            .map_elements(mention_text, return_dtype=pl.String, skip_nulls=False)
            .alias("libelle_mention"),
            pl.col("ecart")
            .replace_strict({k: v[0] for k, v in GAP_TYPES.items()})
            .alias("libelle_ecart"),
            pl.col("ecart").replace_strict({k: v[1] for k, v in GAP_TYPES.items()}).alias("action"),
            pl.col("ecart").replace_strict(ecart_order, return_dtype=pl.Int32).alias("_e"),
            pl.col("mention")
            .str.split(ALTERNATIVE)
            .list.first()
            .replace_strict(mention_order, default=99, return_dtype=pl.Int32)
            .alias("_m"),
        )
        .sort("departement", "finess_eg", "_e", "_m", nulls_last=True)
    )
    return out.select(list(GAP_SCHEMA)).cast(GAP_SCHEMA)


def filter_gaps(
    gaps: pl.DataFrame,
    ecarts: Sequence[str] | None = None,
    departements: Sequence[str] | None = None,
    mentions: Sequence[str] | None = None,
    text: str | None = None,
) -> pl.DataFrame:
    """The rows of the gap list matching every filter given (empty or None: no filter).

    ``mentions`` keeps a row whose mention, or one of its alternatives, is listed; ``text``
    is searched, case-insensitive, in the FINESS number and the establishment name.
    """
    out = gaps
    if ecarts:
        out = out.filter(pl.col("ecart").is_in(list(ecarts)))
    if departements:
        out = out.filter(pl.col("departement").is_in(list(departements)))
    if mentions:
        out = out.filter(
            pl.col("mention")
            .str.split(ALTERNATIVE)
            .list.set_intersection(list(mentions))
            .list.len()
            > 0
        )
    needle = (text or "").strip().lower()
    if needle:
        out = out.filter(
            pl.col("finess_eg").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("raison_sociale").str.to_lowercase().str.contains(needle, literal=True)
        )
    return out


def status_counts(slots: pl.DataFrame) -> pl.DataFrame:
    """Rows of :func:`correspondance_ssr` per mapping status (every status, 0 when none):
    statut, correspondances."""
    counts = slots.group_by("statut").agg(pl.len().alias("correspondances"))
    return (
        pl.DataFrame({"statut": list(MAPPING_STATUSES)})
        .join(counts, on="statut", how="left")
        .with_columns(pl.col("correspondances").fill_null(0).cast(pl.Int64))
    )


def gap_totals(gaps: pl.DataFrame) -> pl.DataFrame:
    """Per gap type (every type, 0 when none): ecart, libelle_ecart, lignes (rows of the list),
    etablissements (distinct establishments concerned)."""
    counts = gaps.group_by("ecart").agg(
        pl.len().alias("lignes"), pl.col("finess_eg").n_unique().alias("etablissements")
    )
    return (
        pl.DataFrame(
            {"ecart": list(GAP_TYPES), "libelle_ecart": [v[0] for v in GAP_TYPES.values()]}
        )
        .join(counts, on="ecart", how="left")
        .with_columns(pl.col("lignes", "etablissements").fill_null(0).cast(pl.Int64))
    )


def gap_counts_by_departement(
    gaps: pl.DataFrame, departement_names: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Rows of the gap list per département: departement, nom, one column per gap type, total.

    Every département of ``departement_names`` appears (zeros included), plus any other
    département found in the list. Why: where the transition work lies.
    """
    names = dict(departement_names or {})
    deps = sorted(set(names) | set(gaps["departement"].drop_nulls().to_list()))
    wide = pl.DataFrame({"departement": deps}, schema={"departement": pl.String}).with_columns(
        pl.col("departement").replace_strict(names, default=pl.col("departement")).alias("nom")
    )
    for ecart in GAP_TYPES:
        counts = (
            gaps.filter(pl.col("ecart") == ecart).group_by("departement").agg(pl.len().alias(ecart))
        )
        wide = wide.join(counts, on="departement", how="left")
    wide = wide.with_columns(pl.col(list(GAP_TYPES)).fill_null(0).cast(pl.Int64))
    return wide.with_columns(pl.sum_horizontal(list(GAP_TYPES)).alias("total"))


# ---------------------------------------------------------------------------- scenarios

#: Change actions → French label.
ACTIONS: dict[str, str] = {
    "ajouter_mention": "Ajouter une mention à un établissement",
    "retirer_mention": "Retirer une mention à un établissement",
    "modifier_capacite": "Modifier les lits / places d'une mention",
    "nouveau_site": "Nouveau site dans une commune",
}
DEFAULT_FORME = "HC"
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
SCENARIO_DIR = "scenarios"
_FIELDS = (
    "action",
    "finess_eg",
    "commune_insee",
    "nom",
    "mention",
    "forme",
    "lits",
    "places",
    "latitude",
    "longitude",
)
_REQUIRED: dict[str, tuple[str, ...]] = {
    "ajouter_mention": ("finess_eg", "mention"),
    "retirer_mention": ("finess_eg", "mention"),
    "modifier_capacite": ("finess_eg", "mention"),
    "nouveau_site": ("commune_insee", "mention"),
}
_ALLOWED: dict[str, frozenset[str]] = {
    "ajouter_mention": frozenset({"finess_eg", "mention", "forme", "lits", "places"}),
    "retirer_mention": frozenset({"finess_eg", "mention"}),
    "modifier_capacite": frozenset({"finess_eg", "mention", "forme", "lits", "places"}),
    "nouveau_site": frozenset(
        {
            "commune_insee",
            "nom",
            "finess_eg",
            "mention",
            "forme",
            "lits",
            "places",
            "latitude",
            "longitude",
        }
    ),
}


@dataclass(frozen=True)
class Change:
    """One change of a scenario (see ``ACTIONS``). Capacities are beds / places (≥ 0)."""

    action: str
    mention: str
    finess_eg: str | None = None
    commune_insee: str | None = None
    nom: str | None = None
    forme: str | None = None
    lits: int | None = None
    places: int | None = None
    latitude: float | None = None
    longitude: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The change as written in a scenario file (empty fields left out)."""
        return {k: getattr(self, k) for k in _FIELDS if getattr(self, k) is not None}

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """A French sentence for tables and summaries."""
        names = names or {}
        who = names.get(self.finess_eg or "", self.finess_eg or "")
        what = nom.mention_label(self.mention)
        cap = ", ".join(
            f"{v} {k}" for k, v in (("lits", self.lits), ("places", self.places)) if v is not None
        )
        forme = f" en {self.forme}" if self.forme else ""
        if self.action == "ajouter_mention":
            return f"{who} : ajout de la mention {what}{forme} ({cap or 'sans capacité'})"
        if self.action == "retirer_mention":
            return f"{who} : retrait de la mention {what}"
        if self.action == "modifier_capacite":
            return f"{who} : {what}{forme} portée à {cap}"
        place = names.get(self.commune_insee or "", self.commune_insee or "")
        return f"nouveau site à {place} : {what}{forme} ({cap or 'sans capacité'})"


@dataclass(frozen=True)
class Scenario:
    """A named, described list of changes applied in order."""

    nom: str
    description: str = ""
    changements: tuple[Change, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "nom": self.nom,
            "description": self.description,
            "changements": [c.to_dict() for c in self.changements],
        }

    def to_yaml(self) -> str:
        """The scenario as a YAML file (the format of ``docs/scenarios/``)."""
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=100)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @property
    def slug(self) -> str:
        """The name made safe for a file name (``pediatrie_en_grande_couronne``)."""
        return _slug(self.nom)

    @property
    def mentions(self) -> list[str]:
        """Mentions the scenario touches, in order of first appearance."""
        return list(dict.fromkeys(c.mention for c in self.changements))


def _capacity(value: Any, what: str, where: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        problems.append(f"{where} : {what} invalide « {value} » (nombre entier attendu)")
        return None
    text = str(value).strip()
    number = float(text) if re.fullmatch(r"-?\d+(\.0*)?", text) else None
    if number is None:
        problems.append(f"{where} : {what} invalide « {value} » (nombre entier attendu)")
        return None
    if number < 0:
        problems.append(f"{where} : capacité négative ({what} = {int(number)})")
        return None
    return int(number)


def _coordinate(
    value: Any, what: str, low: float, high: float, where: str, problems: list[str]
) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (low <= number <= high):
        problems.append(f"{where} : {what} invalide « {value} » (degrés WGS84 attendus)")
        return None
    return number


def _change(raw: Any, where: str, problems: list[str]) -> Change | None:
    """A change from its file form, with every structural problem added to ``problems``."""
    if not isinstance(raw, Mapping):
        problems.append(f"{where} : un changement (action, finess_eg, mention…) est attendu")
        return None
    action = str(raw.get("action") or "").strip()
    if action not in ACTIONS:
        problems.append(
            f"{where} : action inconnue « {action or '(vide)'} » ; actions : " + ", ".join(ACTIONS)
        )
        return None
    where = f"{where} ({action})"
    before = len(problems)
    unknown = sorted(set(map(str, raw)) - _ALLOWED[action] - {"action"})
    if unknown:
        problems.append(
            f"{where} : champ(s) inattendu(s) {', '.join(unknown)} ; champs possibles : "
            + ", ".join(sorted(_ALLOWED[action]))
        )
    for key in _REQUIRED[action]:
        if raw.get(key) in (None, ""):
            problems.append(f"{where} : champ « {key} » manquant")
    mention = None
    if raw.get("mention") not in (None, ""):
        mention = nom.find_mention(str(raw["mention"]))
        if mention is None:
            problems.append(
                f"{where} : mention inconnue « {raw['mention']} » ; codes : "
                + ", ".join(m.code for m in nom.MENTIONS)
            )
    forme = raw.get("forme")
    if forme not in (None, ""):
        forme = nom.find_forme(str(forme))
        if forme is None:
            problems.append(
                f"{where} : forme inconnue « {raw['forme']} » ; formes : "
                + ", ".join(nom.FORME_BY_CODE)
            )
    else:
        forme = DEFAULT_FORME if action in ("ajouter_mention", "nouveau_site") else None
    lits = _capacity(raw.get("lits"), "lits", where, problems)
    places = _capacity(raw.get("places"), "places", where, problems)
    if action == "modifier_capacite" and raw.get("lits") is None and raw.get("places") is None:
        problems.append(f"{where} : « lits » ou « places » attendu")
    if action in ("ajouter_mention", "nouveau_site"):
        lits, places = lits or 0, places or 0
    lat = _coordinate(raw.get("latitude"), "latitude", -90, 90, where, problems)
    lon = _coordinate(raw.get("longitude"), "longitude", -180, 180, where, problems)
    if (lat is None) != (lon is None) and not problems[before:]:
        problems.append(f"{where} : latitude et longitude vont ensemble")
    finess = str(raw["finess_eg"]).strip() if raw.get("finess_eg") not in (None, "") else None
    commune = raw.get("commune_insee")
    commune = str(commune).strip().zfill(5) if commune not in (None, "") else None
    if len(problems) > before:
        return None
    return Change(
        action=action,
        mention=mention or "",
        finess_eg=finess,
        commune_insee=commune,
        nom=str(raw["nom"]).strip() if raw.get("nom") not in (None, "") else None,
        forme=forme,
        lits=lits,
        places=places,
        latitude=lat,
        longitude=lon,
    )


def _raise(problems: list[str], source: object) -> None:
    """One French line: up to three problems and how many more."""
    if problems:
        shown = " ; ".join(problems[:3])
        more = f" (et {len(problems) - 3} autre(s) erreur(s))" if len(problems) > 3 else ""
        raise InputError(f"scénario invalide : {shown}{more}", source)


def scenario_from_dict(data: Any, source: object = None) -> Scenario:
    """A scenario from its file form (``nom``, ``description``, ``changements``), checked for
    structure, codes and capacities; ``InputError`` listing the problems otherwise."""
    if not isinstance(data, Mapping):
        raise InputError(
            "scénario invalide : un objet avec « nom », « description » et « changements » est "
            "attendu",
            source,
        )
    problems: list[str] = []
    unknown = sorted(set(map(str, data)) - {"nom", "description", "changements", "version"})
    if unknown:
        problems.append(
            f"clé(s) inattendue(s) {', '.join(unknown)} ; clés : nom, description, changements"
        )
    name = str(data.get("nom") or "").strip()
    if not name:
        problems.append("« nom » manquant")
    raw_changes = data.get("changements")
    if raw_changes is None:
        # A YAML file cut before its list reads as a valid mapping: absent or empty
        # « changements » is refused so a truncated file is not taken for "no change".
        problems.append(
            "« changements » absent ou vide (fichier tronqué ?) ; un scénario sans "
            "changement s'écrit « changements: [] »"
        )
        raw_changes = []
    elif not isinstance(raw_changes, list):
        problems.append("« changements » doit être une liste")
        raw_changes = []
    changes = [_change(c, f"changement {i}", problems) for i, c in enumerate(raw_changes, 1)]
    _raise(problems, source)
    return Scenario(
        nom=name,
        description=str(data.get("description") or "").strip(),
        changements=tuple(c for c in changes if c is not None),
    )


def parse_scenario(data: bytes | str, name: str = "scénario") -> Scenario:
    """A scenario from the text of a YAML or JSON file; ``name`` says which in errors."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw.strip():
        raise InputError("scénario invalide : fichier vide", name)
    if len(raw) > MAX_FILE_BYTES:
        raise InputError("scénario invalide : fichier trop volumineux (plus de 1 Mo)", name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("scénario invalide : texte UTF-8 attendu", name) from None
    try:
        if Path(str(name)).suffix.lower() == ".json" or text.lstrip().startswith("{"):
            loaded = json.loads(text)
        else:
            loaded = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        reason = f"JSON illisible ligne {exc.lineno} : {exc.msg}"
        raise InputError(f"scénario invalide : fichier mal formé ({reason})", name) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ligne {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        reason = f"YAML illisible{where} : {problem}"
        raise InputError(f"scénario invalide : fichier mal formé ({reason})", name) from None
    return scenario_from_dict(loaded, name)


def read_scenario(path: str | Path) -> Scenario:
    """A scenario file (``.yaml``, ``.yml`` or ``.json``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("fichier de scénario introuvable", path)
    if path.suffix.lower() not in SCENARIO_SUFFIXES:
        raise InputError(
            f"scénario : extension « {path.suffix} » non reconnue ; extensions : "
            + ", ".join(SCENARIO_SUFFIXES),
            path,
        )
    return parse_scenario(path.read_bytes(), str(path))


def _commune_key(code: str, communes: pl.DataFrame | None = None) -> str:
    """The code a new site takes: an origin's code as given (an arrondissement such as 75113
    when the frame splits Paris), else the commune it maps to (751xx → 75056)."""
    text = code.strip().upper()
    if communes is not None and text in set(communes["commune_insee"].to_list()):
        return text
    return pl.select(coverage.commune_code(pl.lit(text))).item()


def _closed_message(
    tables: Mapping[str, pl.DataFrame], opening: OpeningRule | None
) -> dict[str, str]:
    """FINESS → French reason, for establishments closed under ``opening`` (none without)."""
    if opening is None:
        return {}
    found = closures(tables, opening.as_of).filter(pl.col("niveau") == "etablissement")
    out = {}
    for finess, kind, date in found.select(
        "finess_eg", "type_fermeture", "date_fermeture"
    ).iter_rows():
        if kind == nom.FERMETURE_DEFINITIVE:
            out[finess] = f"fermé définitivement depuis le {date:%d/%m/%Y}"
        elif not opening.include_provisional:
            out[finess] = (
                f"fermé provisoirement depuis le {date:%d/%m/%Y} (ses changements ne comptent que "
                "si les fermetures provisoires sont incluses)"
            )
    return out


def check_scenario(
    scenario: Scenario,
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    source: object = None,
    opening: OpeningRule | None = None,
) -> None:
    """Check a scenario against a snapshot and the region's communes, change by change in
    order (a new site can then receive other changes): unknown FINESS or commune, a change on
    an establishment closed under ``opening``, a mention added twice, or removed / resized
    where it is not offered (open offer only with ``opening``). ``InputError`` otherwise."""
    etabs = set(tables["etablissements"]["finess_eg"].to_list())
    closed = _closed_message(tables, opening)
    offered = set(
        coverage.offers_by_establishment(tables, opening=opening)
        .select("finess_eg", "mention")
        .unique()
        .iter_rows()
    )
    keyed = coverage.with_territory_keys(communes)
    known_communes = set(keyed["commune_insee"].to_list()) | set(keyed["code_commune"].to_list())
    problems: list[str] = []
    for i, c in enumerate(scenario.changements, 1):
        where = f"changement {i} ({c.action})"
        label = nom.mention_label(c.mention)
        if c.action == "nouveau_site":
            if _commune_key(c.commune_insee or "", communes) not in known_communes:
                problems.append(f"{where} : commune inconnue « {c.commune_insee} » dans la région")
            finess = c.finess_eg or _new_site_id(i)
            if finess in etabs:
                problems.append(f"{where} : l'identifiant « {finess} » existe déjà")
            etabs.add(finess)
            offered.add((finess, c.mention))
            continue
        if c.finess_eg not in etabs:
            problems.append(f"{where} : FINESS inconnu « {c.finess_eg} » dans l'instantané")
            continue
        if c.finess_eg in closed:
            problems.append(f"{where} : l'établissement {c.finess_eg} est {closed[c.finess_eg]}")
            continue
        present = (c.finess_eg, c.mention) in offered
        if c.action == "ajouter_mention" and present:
            problems.append(
                f"{where} : {c.finess_eg} offre déjà la mention {label} (action "
                "« modifier_capacite » pour changer sa capacité)"
            )
        elif c.action in ("retirer_mention", "modifier_capacite") and not present:
            problems.append(f"{where} : {c.finess_eg} n'offre pas la mention {label}")
        if c.action == "ajouter_mention":
            offered.add((c.finess_eg, c.mention))
        elif c.action == "retirer_mention":
            offered.discard((c.finess_eg, c.mention))
    _raise(problems, source)


def _new_site_id(index: int) -> str:
    """Identifier of the new site of change ``index`` (9 characters, like a FINESS)."""
    return f"SCN{index:06d}"


_FORME_AUTORISATION = {"HC": "01", "HS": "01", "HJ": "03", "HN": "04"}


def _split(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder; all to the first
    when the weights sum to 0)."""
    if not weights:
        return []
    s = sum(weights)
    if s <= 0:
        return [total] + [0] * (len(weights) - 1)
    shares = [total * w / s for w in weights]
    out = [int(x) for x in shares]
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def apply_scenario(
    tables: Mapping[str, pl.DataFrame],
    scenario: Scenario,
    communes: pl.DataFrame,
    source: object = None,
    opening: OpeningRule | None = None,
) -> dict[str, pl.DataFrame]:
    """The snapshot as the scenario would make it (pure: ``tables`` are not modified); with
    ``opening``, restricted to the offer open under that rule (``opening.open_tables``).

    Checks the scenario first (:func:`check_scenario`, with ``opening``). Per change: ``ajouter_mention`` adds a
    unit ``SCN-U<i>`` with one offer and an SMR decision ``SCN-A<i>``; ``retirer_mention``
    removes the establishment's offers of the mention and its SMR decisions for it;
    ``modifier_capacite`` sets the total beds and/or places of the mention (of one forme if
    given; a new forme goes to the first unit offering the mention), split over the existing
    offers in proportion to their current values (evenly over the offers whose forme counts
    beds, or places, when all are 0); ``nouveau_site`` adds an establishment
    ``SCN<i>`` (or the given identifier) in the commune, at its representative point unless
    coordinates are given, with a unit, an offer and a decision. ``source`` names the
    scenario file in errors.
    """
    check_scenario(scenario, tables, communes, source, opening)
    out = {name: frame for name, frame in tables.items()}
    etabs = out["etablissements"]
    units = out["unites"]
    offres = out["offres"]
    auths = out.get("autorisations", schema.empty("autorisations"))
    names = dict(zip(communes["commune_insee"], communes["nom"], strict=True))

    def frame(table: str, row: dict[str, Any]) -> pl.DataFrame:
        return schema.conform(pl.DataFrame([row]), table)

    def add_offer(i: int, finess: str, c: Change) -> None:
        nonlocal units, offres, auths
        uo = f"SCN-U{i:03d}"
        units = pl.concat(
            [
                units,
                frame(
                    "unites",
                    {
                        "uo_id": uo,
                        "finess_eg": finess,
                        "discipline": "SMR",
                        "nom": f"SMR {nom.mention_label(c.mention, short=True).lower()} (scénario)",
                    },
                ),
            ]
        )
        offres = pl.concat(
            [
                offres,
                frame(
                    "offres",
                    {
                        "uo_id": uo,
                        "mention": c.mention,
                        "forme": c.forme,
                        "lits": c.lits,
                        "places": c.places,
                    },
                ),
            ]
        )
        auths = pl.concat(
            [
                auths,
                frame(
                    "autorisations",
                    {
                        "autorisation_id": f"SCN-A{i:03d}",
                        "finess_eg": finess,
                        "regime": "SMR",
                        "mention": c.mention,
                        "forme": _FORME_AUTORISATION.get(c.forme or "", "00"),
                    },
                ),
            ]
        )

    for i, c in enumerate(scenario.changements, 1):
        if c.action == "nouveau_site":
            finess = c.finess_eg or _new_site_id(i)
            commune = _commune_key(c.commune_insee or "", communes)
            etabs = pl.concat(
                [
                    etabs,
                    frame(
                        "etablissements",
                        {
                            "finess_eg": finess,
                            "raison_sociale": c.nom
                            or f"Nouveau site {nom.mention_label(c.mention)} "
                            f"({names.get(commune, commune)})",
                            "commune_insee": commune,
                            "latitude": c.latitude,
                            "longitude": c.longitude,
                        },
                    ),
                ]
            )
            add_offer(i, finess, c)
            continue
        own_units = units.filter(pl.col("finess_eg") == c.finess_eg)["uo_id"]
        mine = pl.col("uo_id").is_in(own_units.implode()) & (pl.col("mention") == c.mention)
        if c.action == "ajouter_mention":
            add_offer(i, c.finess_eg or "", c)
        elif c.action == "retirer_mention":
            offres = offres.filter(~mine)
            auths = auths.filter(
                ~(
                    (pl.col("finess_eg") == c.finess_eg)
                    & (pl.col("regime") == "SMR")
                    & (pl.col("mention") == c.mention)
                )
            )
        else:
            offres = _set_capacity(offres, mine, c)
    out = out | {
        "etablissements": etabs,
        "unites": units,
        "offres": offres,
        "autorisations": auths,
    }
    return out if opening is None else open_tables(out, opening)


def _set_capacity(offres: pl.DataFrame, mine: pl.Expr, c: Change) -> pl.DataFrame:
    """``offres`` with the establishment's beds / places of the mention set (see apply)."""
    offres = offres.with_row_index("_i")
    matched = offres.filter(mine)
    target = matched if c.forme is None else matched.filter(pl.col("forme") == c.forme)
    if target.height == 0:  # a forme the mention does not have yet: on its first unit
        first = matched.sort("uo_id").row(0, named=True)
        new = schema.conform(
            pl.DataFrame(
                [
                    {
                        "uo_id": first["uo_id"],
                        "mention": c.mention,
                        "forme": c.forme,
                        "lits": c.lits,
                        "places": c.places,
                    }
                ]
            ),
            "offres",
        )
        return pl.concat([offres.drop("_i"), new])
    target = target.sort("uo_id", "forme")
    updates: dict[str, dict[int, int]] = {}
    for column, total in (("lits", c.lits), ("places", c.places)):
        if total is None:
            continue
        current = target[column].fill_null(0).to_list()
        if sum(current) == 0:  # nothing to follow: the rows whose forme counts this column
            current = [
                int(getattr(nom.FORME_BY_CODE.get(f), "capacite", None) == column)
                for f in target["forme"].to_list()
            ]
        updates[column] = dict(zip(target["_i"].to_list(), _split(total, current), strict=True))
    for column, values in updates.items():
        offres = offres.with_columns(
            pl.col("_i")
            .replace_strict(values, default=None, return_dtype=pl.Int32)
            .fill_null(pl.col(column))
            .alias(column)
        )
    return offres.drop("_i")


# --------------------------------------------------------------------- scenario folder


def scenario_dir(store: str | Path) -> Path:
    """The folder of saved scenarios inside a store."""
    return Path(store) / SCENARIO_DIR


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    slug = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    return slug[:60] or "scenario"


def scenario_path(store: str | Path, filename: str) -> Path:
    """Path of a saved scenario file, refusing any name that would leave the store's
    ``scenarios/`` folder (separators, ``..``, links pointing elsewhere)."""
    folder = scenario_dir(store)
    name = str(filename)
    if (
        not name
        or name != Path(name).name
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or Path(name).suffix.lower() not in SCENARIO_SUFFIXES
    ):
        raise InputError(
            f"nom de fichier de scénario refusé « {filename} » : un simple nom se terminant par "
            + ", ".join(SCENARIO_SUFFIXES)
            + " est attendu"
        )
    path = folder / name
    root = Path(store).resolve()
    if not path.resolve().is_relative_to(root / SCENARIO_DIR) or not (
        folder.resolve().is_relative_to(root)
    ):
        raise StoreError(f"le scénario « {filename} » sortirait du magasin {store}")
    return path


def saved_scenarios(store: str | Path) -> list[str]:
    """File names of the scenarios saved in the store (sorted)."""
    folder = scenario_dir(store)
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SCENARIO_SUFFIXES and not p.name.startswith(".")
    )


def load_saved_scenario(store: str | Path, filename: str) -> Scenario:
    """A scenario saved in the store."""
    return read_scenario(scenario_path(store, filename))


def save_scenario(
    store: str | Path, scenario: Scenario, filename: str | None = None, replace: bool = False
) -> Path:
    """Write the scenario as YAML into ``<store>/scenarios/`` (atomic); returns the path.

    The file name defaults to the scenario's name made safe (``pediatrie_77.yaml``); an
    existing file is replaced only when asked.
    """
    if not Path(store).is_dir():
        raise StoreError(f"magasin introuvable : {store}")
    path = scenario_path(store, filename or f"{scenario.slug}.yaml")
    if path.exists() and not replace:
        raise StoreError(f"le scénario {path.name} existe déjà dans le magasin")
    path.parent.mkdir(exist_ok=True)
    text = scenario.to_json() if path.suffix.lower() == ".json" else scenario.to_yaml()
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- comparison

#: Indicators compared, as columns of ``territories.territory_indicators``.
COMPARED: tuple[str, ...] = ("temps_plus_proche", "acces_e2sfca", "taux_100k")
#: Smaller differences between baseline and scenario are rounding noise, shown as 0.
DELTA_TOLERANCE = 1e-9
EVOLUTIONS: dict[str, str] = {
    "gagne": "Gagne un accès",
    "perd": "Perd l'accès",
    "inchange": "Inchangé",
}


@dataclass(frozen=True)
class ScenarioComparison:
    """Baseline against scenario for one mention.

    ``communes``: per origin (commune, or arrondissement of Paris, Lyon, Marseille when the
    communes frame splits them), commune_insee, nom, departement, code_commune, population
    (the mention's denominator), ``<indicator>_base``, ``<indicator>_scenario``, ``delta_<indicator>`` for
    temps_plus_proche (minutes), acces_e2sfca and taux_100k (beds + places per 100,000),
    finess_plus_proche_base / _scenario, dans_seuil_base / _scenario (nearest establishment
    within ``threshold_min``) and evolution (gagne / perd / inchange). ``territoires``: the
    same per département and for the region (niveau, territoire, nom; population-weighted
    means as in ``indicators``), plus population_dans_seuil_base / _scenario,
    population_gagnant, population_perdant.
    """

    mention: str
    threshold_min: float
    communes: pl.DataFrame
    territoires: pl.DataFrame

    @property
    def region(self) -> dict[str, Any]:
        """The region row of ``territoires``."""
        return self.territoires.filter(pl.col("niveau") == "region").row(0, named=True)

    def changed_communes(self) -> pl.DataFrame:
        """Communes where any compared indicator or the access within threshold changed."""
        moved = [
            (pl.col(f"delta_{c}") != 0).fill_null(False)
            | (pl.col(f"{c}_base").is_null() != pl.col(f"{c}_scenario").is_null())
            for c in COMPARED
        ]
        return self.communes.filter(pl.any_horizontal(moved) | (pl.col("evolution") != "inchange"))


def _deltas(
    base: pl.DataFrame, scen: pl.DataFrame, keys: list[str], keep: list[str]
) -> pl.DataFrame:
    joined = base.select(*keys, *keep, *COMPARED).join(
        scen.select(*keys, *COMPARED), on=keys, how="left", suffix="_scenario"
    )
    # differences below DELTA_TOLERANCE are floating-point noise (sums taken in another order)
    delta = {c: pl.col(f"{c}_scenario") - pl.col(f"{c}_base") for c in COMPARED}
    return joined.rename({c: f"{c}_base" for c in COMPARED}).with_columns(
        pl.when(d.abs() < DELTA_TOLERANCE).then(0.0).otherwise(d).alias(f"delta_{c}")
        for c, d in delta.items()
    )


def compare_tables(
    base: Mapping[str, pl.DataFrame],
    scenario: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    mention: str,
    *,
    forme: str | None = None,
    params: territories.AccessParams | None = None,
    costs: pl.DataFrame | None = None,
    population_ages: pl.DataFrame | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    opening: OpeningRule | None = None,
) -> ScenarioComparison:
    """Compare two snapshots (baseline, modified) for one mention; see
    :class:`ScenarioComparison`. ``params``: travel model, catchments and the threshold
    ``beyond_min`` (default 30 min), as on the Carte page. ``opening``: both sides count only
    the offer open under that rule."""
    params = params or territories.AccessParams()
    threshold = params.beyond_min

    def side(tables: Mapping[str, pl.DataFrame], level: str) -> pl.DataFrame:
        return territories.territory_indicators(
            tables,
            communes,
            level,
            mention,
            forme=forme,
            params=params,
            costs=costs,
            population_ages=population_ages,
            names=names,
            opening=opening,
        )

    origin = coverage.ORIGIN_LEVEL
    base_c, scen_c = side(base, origin), side(scenario, origin)
    per_commune = (
        _deltas(base_c, scen_c, ["territoire"], ["nom", "population"])
        .join(
            base_c.select(
                "territoire", pl.col("finess_plus_proche").alias("finess_plus_proche_base")
            ),
            on="territoire",
        )
        .join(
            scen_c.select(
                "territoire", pl.col("finess_plus_proche").alias("finess_plus_proche_scenario")
            ),
            on="territoire",
        )
        .rename({"territoire": "commune_insee"})
        .join(
            coverage.with_territory_keys(communes).select(
                "commune_insee", "departement", "code_commune"
            ),
            on="commune_insee",
            how="left",
        )
    )
    within = {
        side_: pl.col(f"temps_plus_proche_{side_}").is_not_null()
        & (pl.col(f"temps_plus_proche_{side_}") <= threshold)
        for side_ in ("base", "scenario")
    }
    per_commune = per_commune.with_columns(
        within["base"].alias("dans_seuil_base"), within["scenario"].alias("dans_seuil_scenario")
    ).with_columns(
        pl.when(~pl.col("dans_seuil_base") & pl.col("dans_seuil_scenario"))
        .then(pl.lit("gagne"))
        .when(pl.col("dans_seuil_base") & ~pl.col("dans_seuil_scenario"))
        .then(pl.lit("perd"))
        .otherwise(pl.lit("inchange"))
        .alias("evolution")
    )
    order = ["commune_insee", "nom", "departement", "code_commune", "population"]
    per_commune = per_commune.select(
        *order,
        *(f"{c}_{s}" for c in COMPARED for s in ("base", "scenario")),
        *(f"delta_{c}" for c in COMPARED),
        "finess_plus_proche_base",
        "finess_plus_proche_scenario",
        "dans_seuil_base",
        "dans_seuil_scenario",
        "evolution",
    ).sort("commune_insee")

    pop = pl.col("population")
    parts = []
    for level in ("departement", "region"):
        key = coverage.LEVEL_COLUMNS[level]
        keyed = (
            per_commune.join(
                communes.select("commune_insee", pl.col(key).alias("_t")), on="commune_insee"
            )
            if level != "departement"
            else per_commune.with_columns(pl.col("departement").alias("_t"))
        )
        people = (
            keyed.group_by("_t")
            .agg(
                pop.filter(pl.col("dans_seuil_base")).sum().alias("population_dans_seuil_base"),
                pop.filter(pl.col("dans_seuil_scenario"))
                .sum()
                .alias("population_dans_seuil_scenario"),
                pop.filter(pl.col("evolution") == "gagne").sum().alias("population_gagnant"),
                pop.filter(pl.col("evolution") == "perd").sum().alias("population_perdant"),
            )
            .rename({"_t": "territoire"})
        )
        parts.append(
            _deltas(side(base, level), side(scenario, level), ["territoire"], ["nom", "population"])
            .join(people, on="territoire", how="left")
            .with_columns(pl.lit(level).alias("niveau"))
        )
    territoires = pl.concat(parts, how="vertical_relaxed").select(
        "niveau",
        "territoire",
        "nom",
        "population",
        *(f"{c}_{s}" for c in COMPARED for s in ("base", "scenario")),
        *(f"delta_{c}" for c in COMPARED),
        "population_dans_seuil_base",
        "population_dans_seuil_scenario",
        "population_gagnant",
        "population_perdant",
    )
    return ScenarioComparison(mention, threshold, per_commune, territoires)


def compare_scenario(
    tables: Mapping[str, pl.DataFrame],
    scenario: Scenario,
    communes: pl.DataFrame,
    mention: str,
    source: object = None,
    **kwargs: Any,
) -> ScenarioComparison:
    """Apply ``scenario`` to ``tables`` and compare (keyword arguments of
    :func:`compare_tables`; ``source`` names the scenario file in errors). Why: "who gains or
    loses access if this decision is taken"."""
    modified = apply_scenario(tables, scenario, communes, source, kwargs.get("opening"))
    return compare_tables(tables, modified, communes, mention, **kwargs)


def access_changes(comparison: ScenarioComparison) -> pl.DataFrame:
    """Communes that gain or lose an establishment within the threshold, most populated
    first: commune_insee, nom, departement, population, evolution, libelle_evolution,
    temps_plus_proche_base / _scenario, finess_plus_proche_base / _scenario."""
    return (
        comparison.communes.filter(pl.col("evolution") != "inchange")
        .with_columns(pl.col("evolution").replace_strict(EVOLUTIONS).alias("libelle_evolution"))
        .sort(["evolution", "population"], descending=[False, True])
        .select(
            "commune_insee",
            "nom",
            "departement",
            "population",
            "evolution",
            "libelle_evolution",
            "temps_plus_proche_base",
            "temps_plus_proche_scenario",
            "finess_plus_proche_base",
            "finess_plus_proche_scenario",
        )
    )


def touched_sites(
    scenario: Scenario, modified: Mapping[str, pl.DataFrame], communes: pl.DataFrame
) -> pl.DataFrame:
    """Establishments a scenario changes, with their point (``access.site_points``): finess_eg,
    raison_sociale, commune_insee, lat, lon, changement (French sentence)."""
    from analysis.indicators import access

    names = dict(
        zip(
            modified["etablissements"]["finess_eg"],
            modified["etablissements"]["raison_sociale"],
            strict=True,
        )
    )
    names |= dict(zip(communes["commune_insee"], communes["nom"], strict=True))
    rows = []
    for i, c in enumerate(scenario.changements, 1):
        finess = c.finess_eg or (_new_site_id(i) if c.action == "nouveau_site" else None)
        rows.append({"finess_eg": finess, "changement": c.describe(names)})
    what = pl.DataFrame(rows, schema={"finess_eg": pl.String, "changement": pl.String})
    what = what.group_by("finess_eg", maintain_order=True).agg(pl.col("changement").str.join(" ; "))
    points = access.site_points(modified["etablissements"], communes)
    return points.join(what, on="finess_eg", how="inner").select(
        "finess_eg", "raison_sociale", "commune_insee", "lat", "lon", "changement"
    )


def scenario_changes_table(
    scenario: Scenario, tables: Mapping[str, pl.DataFrame], communes: pl.DataFrame
) -> pl.DataFrame:
    """The changes as a table for display: numero, action (label), finess_eg, commune_insee,
    mention, forme, lits, places, description."""
    names = dict(
        zip(
            tables["etablissements"]["finess_eg"],
            tables["etablissements"]["raison_sociale"],
            strict=True,
        )
    )
    names |= dict(zip(communes["commune_insee"], communes["nom"], strict=True))
    rows = [
        {
            "numero": i,
            "action": ACTIONS[c.action],
            "finess_eg": c.finess_eg,
            "commune_insee": c.commune_insee,
            "mention": c.mention,
            "forme": c.forme,
            "lits": c.lits,
            "places": c.places,
            "description": c.describe(names),
        }
        for i, c in enumerate(scenario.changements, 1)
    ]
    schema_ = {
        "numero": pl.Int64,
        "action": pl.String,
        "finess_eg": pl.String,
        "commune_insee": pl.String,
        "mention": pl.String,
        "forme": pl.String,
        "lits": pl.Int64,
        "places": pl.Int64,
        "description": pl.String,
    }
    return pl.DataFrame(rows, schema=schema_, orient="row")


def mapping_for_display(mapping: pl.DataFrame | None = None) -> pl.DataFrame:
    """The mapping rules with labels: activite, libelle_activite, modalite, libelle_modalite,
    mentions (``|``-joined), libelle_mentions, statut, libelle_statut, remarque."""
    rules = default_mapping() if mapping is None else mapping
    return rules.select(
        "activite",
        pl.col("activite")
        .replace_strict({**nom.ACTIVITES_SSR, WILDCARD: "toute activité"}, default=None)
        .alias("libelle_activite"),
        "modalite",
        pl.col("modalite")
        .replace_strict({**nom.MODALITES_AUTORISATION, WILDCARD: "toute modalité"}, default=None)
        .alias("libelle_modalite"),
        pl.col("mentions").list.join(ALTERNATIVE).alias("mentions"),
        pl.col("mentions")
        .list.join(ALTERNATIVE)
        .map_elements(mention_text, return_dtype=pl.String)
        .alias("libelle_mentions"),
        "statut",
        pl.col("statut").replace_strict(MAPPING_STATUSES).alias("libelle_statut"),
        "remarque",
    )
