"""SSR → SMR transition, the mapping of SSR authorisations to SMR mentions.

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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from analysis.io.files import read_input
from analysis.io.loaders.canonical import decode_text, read_delimited
from analysis.model import nomenclature as nom
from analysis.model.errors import InputError

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
        raw = read_input(path)
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
