"""The JSON activity flow « Activités »: activities read through the table of natures
(``nomenclature.NATURES_ACTIVITE``) into ``autorisations`` rows, their filter, and the
per-code counts of the import report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.io.loaders.canonical import decode_json
from analysis.io.loaders.finess.extraction import _Establishments
from analysis.io.loaders.finess.places import FinessFilter, _departement_of_finess
from analysis.io.loaders.result import Notes
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.schema import LOADER_REJECT_COLUMN, SOURCE_COLUMN

#: New-regime forms (TRE_R406) → old TRE_R276 forms where the meaning is the same (§1.6).
_FORMES_R406 = {"F04": "01", "F03": "03"}
_MODALITES_R405 = {"M01": "09"}


# --- the JSON activity flow ----------------------------------------------------------------


def _first(mapping: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return None


def _typed_block(nature: Mapping[str, Any], code: str | None) -> Mapping[str, Any]:
    """``caracteristiquesSpecifiques.typeActivite<nature>`` (any spelling), or {}."""
    spec = nature.get("caracteristiquesSpecifiques") or {}
    if not isinstance(spec, Mapping):
        return {}
    wanted = f"typeActivite{code}" if code else None
    if wanted and isinstance(spec.get(wanted), Mapping):
        return spec[wanted]
    for key, value in spec.items():
        if key.startswith("typeActivite") and isinstance(value, Mapping):
            return value
    return {}


@dataclass(frozen=True)
class _Classified:
    """One activity of the flow read through the natures table: its codes and its regime."""

    nature: str
    activite: str | None
    modalite: str | None
    forme: str | None
    mention: str | None
    regime: str | None  # "SSR", "SMR" or None (ignored)

    @property
    def label(self) -> str:
        """The per-code key of the import report (« AMF 50 », « AMM 09 ME050 »)."""
        parts = [self.nature, self.activite or "?"]
        if self.mention:
            parts.append(self.mention)
        return " ".join(parts)


def _classify(
    activity: Mapping[str, Any], natures: Sequence[nomenclature.NatureActivite]
) -> _Classified:
    """Codes of one activity and whether it is an SSR or SMR authorisation (natures table)."""
    raw = activity.get("nature")
    nature_block: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    written = _first(nature_block, ("codeNature",))
    nature = nomenclature.nature_activite(written, natures)
    if nature is None:
        return _Classified(written or "?", None, None, None, None, None)
    typed = _typed_block(nature_block, written)

    def code(key: str | None) -> str | None:
        return _first(typed, (key,)) if key else None

    activite, mention = code(nature.activite), code(nature.mention)
    regime = None
    if nature.regime == "SSR" and activite and activite.zfill(2) in nomenclature.ACTIVITES_SSR:
        regime, activite = "SSR", activite.zfill(2)
    elif (
        nature.regime == "SMR"
        and _smr_mention(mention)
        and (not nomenclature.SMR_ACTIVITES_AMM or activite in nomenclature.SMR_ACTIVITES_AMM)
    ):
        regime, mention = "SMR", _smr_mention(mention)
    return _Classified(
        nature.code, activite, code(nature.modalite), code(nature.forme), mention, regime
    )


def _smr_mention(code: str | None) -> str | None:
    if not code:
        return None
    text = code.strip().upper()
    return text if text in nomenclature.MENTION_BY_CODE else None


@dataclass
class _Activities:
    rows: list[dict[str, Any]]
    row_notes: list[tuple[int, str, str, str, str | None]]
    other: int = 0
    ej_only: list[str] = field(default_factory=list)
    by_code: dict[str, Counter[str]] = field(default_factory=dict)  # label → outcome counts
    versions: list[str] = field(default_factory=list)

    def count(self, label: str, outcome: str) -> None:
        self.by_code.setdefault(label, Counter())[outcome] += 1


_ID_KEYS = ("numAutorisationArhgos", "numeroAutorisationArhgos")


def _authorisation_row(
    activity: Mapping[str, Any],
    classified: _Classified,
    finess_eg: str | None,
    where: str,
    arhgos: str | None = None,
) -> dict[str, Any]:
    generic = activity.get("caracteristiquesGeneriques") or {}
    if not isinstance(generic, Mapping):
        generic = {}
    ident = _first(generic, _ID_KEYS) or arhgos or _first(generic, ("identifiantAutorisation",))
    ae_id = _first(generic, ("activiteAeId",))
    forme, modalite = classified.forme, classified.modalite
    return {
        "autorisation_id": ident or (f"AE{ae_id}" if ae_id else None),
        "finess_eg": finess_eg,
        "regime": classified.regime,
        "activite": classified.activite if classified.regime == "SSR" else None,
        "mention": classified.mention if classified.regime == "SMR" else None,
        "modalite": _MODALITES_R405.get((modalite or "").upper(), modalite),
        "forme": _FORMES_R406.get((forme or "").upper(), forme),
        "date_decision": None,
        "date_mise_en_oeuvre": _first(generic, ("dateDebutActiviteAutorisee",)),
        "date_fin": _first(generic, ("dateFinEffectiveActivite", "dateFinActiviteAutorisee")),
        SOURCE_COLUMN: where,
        "_etat": _first(generic, ("etatObjet",)),
        "_ae": ae_id,
    }


def _read_activities(
    path: Path, data: bytes, natures: Sequence[nomenclature.NatureActivite]
) -> _Activities:
    doc = decode_json(data, path)
    if not isinstance(doc, dict) or not isinstance(doc.get("pmej"), list):
        raise InputError(
            "ce n'est pas un flux « Activités » FINESS : la clé « pmej » (liste des entités "
            "juridiques) est absente.",
            path,
        )
    out = _Activities([], [])
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), Mapping) else doc
    if meta.get("schemaVersion"):
        out.versions.append(str(meta["schemaVersion"]))
    for pm in doc["pmej"]:
        if not isinstance(pm, Mapping):
            continue
        ej = _first(pm, ("numFiness", "numeroFiness"))
        authorised: dict[str, Mapping[str, Any]] = {}
        for activity in pm.get("activitesAutorisees") or []:
            generic = activity.get("caracteristiquesGeneriques") if isinstance(
                activity, Mapping
            ) else None
            if isinstance(generic, Mapping) and generic.get("activiteAeId"):
                authorised[str(generic["activiteAeId"])] = generic
        used: set[str] = set()
        for ege in pm.get("ege") or []:
            if not isinstance(ege, Mapping):
                continue
            eg = _first(ege, ("numFinessEge",))
            for activity in ege.get("activitesExercees") or []:
                if not isinstance(activity, Mapping):
                    continue
                generic = activity.get("caracteristiquesGeneriques") or {}
                if not isinstance(generic, Mapping):
                    generic = {}
                ae = _first(generic, ("activiteAeId",))
                classified = _classify(activity, natures)
                out.count(classified.label, classified.regime or "ignoree")
                if classified.regime is None:
                    out.other += 1
                    continue
                # An exercised activity names its authorised activity (identifiantAutorisation
                # = that activity's activiteAeId), which carries the ARHGOS number.
                parent_id = _first(generic, ("identifiantAutorisation",))
                parent = authorised.get(parent_id or "", {})
                used.update(v for v in (parent_id, _first(parent, _ID_KEYS)) if v)
                used.update(v for v in (_first(generic, _ID_KEYS),) if v)
                where = f"{path.name} › EJ {ej} › EG {eg} › activité {ae}"
                out.rows.append(
                    _authorisation_row(activity, classified, eg, where, _first(parent, _ID_KEYS))
                )
        for activity in pm.get("activitesAutorisees") or []:
            if not isinstance(activity, Mapping):
                continue
            classified = _classify(activity, natures)
            if classified.regime is None:
                continue
            generic = activity.get("caracteristiquesGeneriques") or {}
            keys = {
                _first(generic, ("activiteAeId",)),
                _first(generic, _ID_KEYS),
                _first(generic, ("identifiantAutorisation",)),
            } - {None}
            if not keys & used:
                row = _authorisation_row(activity, classified, None, "")
                out.ej_only.append(f"{ej} ({row['autorisation_id']})")
    return out


def _finish_activities(activities: _Activities) -> None:
    """Make authorisation ids unique and note the states that are not « A » (active)."""
    counts = Counter(r["autorisation_id"] for r in activities.rows)
    for position, row in enumerate(activities.rows, start=1):
        if row["autorisation_id"] is None:
            row[LOADER_REJECT_COLUMN] = (
                "activité sans identifiant d'autorisation ni numéro ARHGOS ni activiteAeId"
            )
        elif counts[row["autorisation_id"]] > 1 and row["_ae"]:
            row["autorisation_id"] = f"{row['autorisation_id']}/{row['_ae']}"
        state = row.get("_etat")
        if state and state.upper() != "A":
            activities.row_notes.append(
                (
                    position,
                    "etat_autorisation",
                    f"état de l'activité « {state} » (TRE_R386, sens non vérifié) : autorisation "
                    "peut-être inactive, à vérifier",
                    "autorisation_id",
                    row["autorisation_id"],
                )
            )


def _filter_activities(
    activities: _Activities,
    selection: FinessFilter,
    establishments: _Establishments | None,
    notes: Notes,
) -> None:
    if not selection.active:
        return
    allowed = selection.departement_set()
    kept, dropped = [], 0
    for row in activities.rows:
        eg = (row["finess_eg"] or "").upper()
        if establishments is not None and eg in establishments.all_finess:
            keep = eg in establishments.kept_finess
        else:
            keep = allowed is None or _departement_of_finess(eg) in allowed
        if keep:
            kept.append(row)
        else:
            dropped += 1
    activities.rows = kept
    if dropped:
        notes.add(
            "autorisations",
            "hors_filtre",
            f"{dropped} autorisation(s) d'établissements hors du filtre ({selection.describe()}) "
            "non importée(s)",
        )
    if selection.categories and establishments is None:
        notes.add(
            "autorisations",
            "filtre_categorie",
            "filtre par catégorie non appliqué aux autorisations : joindre le fichier "
            "d'extraction FINESS pour connaître la catégorie des établissements",
        )


_OUTCOMES = {"SSR": "SSR", "SMR": "SMR", "ignoree": "ignorée(s)"}


def _activity_code_notes(
    activities: _Activities, natures: Sequence[nomenclature.NatureActivite], notes: Notes
) -> dict[str, dict[str, int]]:
    """Report, per activity code, how many exercised activities were read as SSR, as SMR or
    ignored; natures that can give neither are summed per nature. Returns the full table."""
    regimes = {n.code: n.regime for n in natures}
    table: dict[str, dict[str, int]] = {}
    per_nature: dict[str, Counter[str]] = {}
    for label, outcomes in sorted(activities.by_code.items()):
        table[label] = {k: outcomes.get(k, 0) for k in _OUTCOMES}
        nature = label.split(" ", 1)[0]
        if regimes.get(nature) is None:
            per_nature.setdefault(nature, Counter())["ignoree"] += sum(outcomes.values())
            per_nature[nature]["codes"] += 1
            continue
        counted = ", ".join(f"{outcomes[k]} {v}" for k, v in _OUTCOMES.items() if outcomes[k])
        notes.add(
            "autorisations",
            "activites_par_code",
            f"nature {label} : {counted}",
            value=label,
        )
    for nature, counts in sorted(per_nature.items()):
        known = nomenclature.nature_activite(nature, natures)
        what = known.libelle if known else "nature inconnue du schéma"
        notes.add(
            "autorisations",
            "activites_par_code",
            f"nature {nature} ({what}) : {counts['ignoree']} ignorée(s), {counts['codes']} "
            "code(s) d'activité",
            value=nature,
        )
    amm = {k: v for k, v in table.items() if k.split(" ", 1)[0] in _smr_natures(natures)}
    if amm and not any(v["SMR"] for v in amm.values()):
        total = sum(sum(v.values()) for v in amm.values())
        notes.add(
            "autorisations",
            "aucune_mention_smr",
            f"aucune mention SMR reconnue parmi {total} activité(s) de nature "
            f"{', '.join(sorted({k.split(' ', 1)[0] for k in amm}))} : codes à vérifier "
            "(table nomenclature.NATURES_ACTIVITE)",
        )
    return table


def _smr_natures(natures: Sequence[nomenclature.NatureActivite]) -> set[str]:
    return {n.code for n in natures if n.regime == "SMR"}


def _smr_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """SMR authorisations in force per FINESS EG (``nomenclature.is_smr_authorisation``)."""
    counts: Counter[str] = Counter()
    for row in rows:
        eg = (row.get("finess_eg") or "").strip().upper()
        if eg and nomenclature.is_smr_authorisation(
            row.get("regime"), row.get("activite"), row.get("mention"), row.get("forme"),
            row.get("date_fin"),
        ):
            counts[eg] += 1
    return dict(counts)
