"""Read ROR FHIR R4 Bundles (one file, or a folder of search pages) into the canonical tables.

The ROR's national API returns ``searchset`` Bundles of the ANS ROR profiles (DOMAIN.md §2):
``Organization`` (EJ, EG with its FINESS number, OI), ``HealthcareService`` (the offer) and
``Location`` (where it takes place, with capacities). This module maps them to:

- ``etablissements``: one row per EG (an Organization with a FINESS number that belongs to an
  EJ or carries an establishment category); address, geolocation extension, category, status
  from the EJ's legal-status aggregate, commune from its Locations' ``ror-commune-cog``;
- ``unites``: one row per SMR HealthcareService (identifiantOffre, EG reached through
  ``providedBy`` and ``partOf``, patient age range, contacts);
- ``offres``: the offer's mention (type d'offre 100–112, or the §2.6 derivation when it is
  missing, its origin recorded in ``origine_mention``), its form (``careMode`` → forme) and
  the capacity of its Locations: installed beds = capacityType 01 + status 01 + temporality
  01, places = 02 + 01 + 01, after de-duplicating records with the same key.

Codes are matched on the code itself whatever the system spelling (TRE or JDV URL, trailing
slash) and both ``valueCode`` and ``valueCodeableConcept`` are accepted. Codes the loader does
not know are reported as warnings; rows it cannot complete are handed to validation with
their reason, so nothing disappears silently. No network: ``link.next`` is not followed.

For the ROR quality requirements (``analysis.quality``) the loader also reads the EG's
national structure identifier (``identifier`` of type TRE_G07 40 or system
``urn:oid:1.2.250.1.71.4.2.2``), the offer's champ d'activité (``type``, TRE_R227), its
activités opérationnelles (``specialty`` codes of TRE_R211, comma-separated when several)
and its closure: the latest ``notAvailable.during.start`` is ``date_fermeture``, typed ``PRO``
when a reopening date (``during.end``) is given, left untyped otherwise [inferred: the
typeFermeture codes of JDV_J185 were not read].

Not read: PractitionerRole, opening hours (``availableTime``), the EG's closure (not in the
profiles we read), the last update of the offer's contacts (FHIR contacts are extensions of
the HealthcareService, without their own ``meta.lastUpdated``: ``date_maj_contacts`` stays
empty and RE1.2 uses the offer's date alone), territorial divisions, sensitive-unit flags,
reception types and other characteristics than ``careMode``, the unit's MSS e-mail;
capacities other than installed and current (available, forecast…); OI and EJ are used to
link offers to their EG but not stored; ``contained`` resources. Offers outside SMR are
counted, not loaded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import nomenclature
from analysis.errors import InputError
from analysis.loaders.canonical import decode_json
from analysis.loaders.result import LoadResult, Notes, file_source, text_frame
from analysis.schema import LOADER_REJECT_COLUMN, SOURCE_COLUMN, TABLES

FORMAT = "fhir"

#: Code systems, matched by any of these fragments in ``system`` (TRE and JDV spellings).
#: Kept here so a new URL spelling needs one line, not a code change elsewhere.
SYSTEMS: dict[str, tuple[str, ...]] = {
    "type_offre": ("TRE_R244", "TRE-R244", "JDV_J238", "JDV-J238"),
    "champ": ("TRE_R227", "TRE-R227", "JDV_J20-", "JDV-J20-"),
    "mode_prise_en_charge": ("TRE_R213", "TRE-R213", "JDV_J19-", "JDV-J19-"),
    "activite": ("TRE_R211", "TRE-R211", "JDV_J17-", "JDV-J17-"),
    "categorie_eg": ("TRE_R66", "TRE-R66", "JDV_J55", "JDV-J55"),
    "agregat_statut": ("TRE_R69", "TRE-R69", "JDV_J200", "JDV-J200"),
    "commune": ("TRE_R13", "TRE-R13", "JDV_J124", "JDV-J124"),
}
FINESS_SYSTEMS = ("finess.esante.gouv.fr",)
#: National structure identifier (idNatStruct): TRE_G07 type 40 or this OID system.
ID_NAT_STRUCT_SYSTEMS = ("1.2.250.1.71.4.2.2",)
ID_NAT_STRUCT_TYPE = "40"
OI_SYSTEMS = ("oi.esante.gouv.fr",)

#: Extensions, matched on the end of their URL (the ROR base changed between IG versions).
EXT_PATIENT_TYPE = "ror-healthcareservice-patient-type"
EXT_CONTACT = "ror-healthcareservice-contact"
EXT_CAPACITY = ("ror-location-supported-capacity", "ror-supported-capacity")
EXT_COMMUNE = "ror-commune-cog"
EXT_GEOLOCATION = "/geolocation"

#: Capacity codes (DOMAIN.md §2.4): nature J187, status J188 / TRE_R330, temporality J189.
CAPACITY_NATURES = {"01": "lit", "02": "place", "03": "logement"}
CAPACITY_STATUSES = {f"{i:02d}" for i in range(1, 10)}
CAPACITY_TEMPORALITIES = {f"{i:02d}" for i in range(1, 6)}
INSTALLED, CURRENT = "01", "01"
BEDS, PLACES = "01", "02"

_MAX_LISTED = 10
_MAX_DEPTH = 12  # partOf chain length before we call it a loop


# --- small FHIR helpers ---------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in _list(value) if isinstance(v, Mapping)]


def _system_matches(system: Any, kind: str) -> bool:
    text = str(system or "").upper()
    return any(fragment.upper() in text for fragment in SYSTEMS[kind])


def _codings(concepts: Any) -> list[Mapping[str, Any]]:
    """Every coding of a CodeableConcept or a list of them."""
    out: list[Mapping[str, Any]] = []
    for concept in _dicts(concepts):
        out.extend(_dicts(concept.get("coding")))
    return out


def _codes(concepts: Any, kind: str, loose: bool = False) -> list[str]:
    """Codes of ``concepts`` whose system is of ``kind``; with ``loose``, codes without a system
    count too (the IG examples do not always carry one)."""
    out = []
    for coding in _codings(concepts):
        code = coding.get("code")
        if code is None:
            continue
        system = coding.get("system")
        if _system_matches(system, kind) or (loose and not system):
            out.append(str(code).strip())
    return list(dict.fromkeys(out))


def _extensions(resource: Mapping[str, Any], suffixes: str | tuple[str, ...]) -> list[Mapping]:
    ends = (suffixes,) if isinstance(suffixes, str) else suffixes
    return [e for e in _dicts(resource.get("extension")) if str(e.get("url", "")).endswith(ends)]


def _sub(extension: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for e in _dicts(extension.get("extension")):
        if str(e.get("url", "")).rsplit("/", 1)[-1] == name:
            return e
    return None


def _value_code(extension: Mapping[str, Any] | None) -> str | None:
    """The code of an extension's value: valueCode, valueCoding or valueCodeableConcept."""
    if extension is None:
        return None
    if extension.get("valueCode") is not None:
        return str(extension["valueCode"]).strip()
    coding = extension.get("valueCoding")
    if isinstance(coding, Mapping) and coding.get("code") is not None:
        return str(coding["code"]).strip()
    for c in _codings(extension.get("valueCodeableConcept")):
        if c.get("code") is not None:
            return str(c["code"]).strip()
    return None


def _value_number(extension: Mapping[str, Any] | None) -> float | None:
    if extension is None:
        return None
    for key in (
        "valueInteger",
        "valueUnsignedInt",
        "valuePositiveInt",
        "valueDecimal",
        "valueString",
    ):
        if key in extension:
            try:
                return float(str(extension[key]).replace(",", "."))
            except ValueError:
                return None
    return None


def _quantity(value: Any) -> float | None:
    if isinstance(value, Mapping) and value.get("value") is not None:
        try:
            return float(value["value"])
        except (TypeError, ValueError):
            return None
    return None


def _fmt(number: float | None) -> str | None:
    if number is None:
        return None
    return str(int(number)) if float(number).is_integer() else str(number)


def _key(reference: Any) -> str | None:
    """``Type/id`` of a reference (relative, absolute URL or ``_history`` form)."""
    if not isinstance(reference, Mapping):
        return None
    ref = str(reference.get("reference") or "").strip()
    if not ref:
        return None
    if "/_history/" in ref:
        ref = ref.split("/_history/")[0]
    parts = ref.rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else ref


def _telecom(resource: Mapping[str, Any], system: str) -> str | None:
    for point in _dicts(resource.get("telecom")):
        if point.get("system") == system and point.get("value"):
            return str(point["value"]).strip()
    return None


def _human_name(name: Any) -> str | None:
    for n in _dicts(name):
        if n.get("text"):
            return str(n["text"]).strip()
        parts = [*(str(g) for g in _list(n.get("given"))), str(n.get("family") or "")]
        text = " ".join(p for p in parts if p).strip()
        if text:
            return text
    return None


# --- reading the files ----------------------------------------------------------------------


@dataclass
class _Resources:
    by_key: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    full_urls: dict[str, str] = field(default_factory=dict)
    matches: set[str] = field(default_factory=set)
    totals: list[int] = field(default_factory=list)
    duplicates: int = 0
    other_types: Counter[str] = field(default_factory=Counter)

    def of_type(self, kind: str) -> list[tuple[str, Mapping[str, Any]]]:
        return [(k, r) for k, r in self.by_key.items() if r.get("resourceType") == kind]

    def get(self, reference: Any) -> tuple[str | None, Mapping[str, Any] | None]:
        """The resource a reference points to (by ``Type/id`` or by ``fullUrl``)."""
        if isinstance(reference, Mapping):
            raw = str(reference.get("reference") or "")
            if raw in self.full_urls:
                key = self.full_urls[raw]
                return key, self.by_key.get(key)
        key = _key(reference)
        return key, self.by_key.get(key) if key else None


_KEPT_TYPES = ("Organization", "HealthcareService", "Location")


def _outcome_text(resource: Mapping[str, Any]) -> str:
    texts = [
        str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code") or "")
        for i in _dicts(resource.get("issue"))
    ]
    return " ; ".join(t for t in texts if t)[:300] or "sans détail"


def _read_bundle(path: Path, data: bytes, into: _Resources) -> dict[str, Any]:
    doc = decode_json(data, path)
    if not isinstance(doc, Mapping) or "resourceType" not in doc:
        raise InputError("ce n'est pas une ressource FHIR (« resourceType » absent).", path)
    kind = doc.get("resourceType")
    if kind == "OperationOutcome":
        raise InputError(
            f"le fichier est une réponse d'erreur du serveur FHIR (OperationOutcome) : "
            f"{_outcome_text(doc)}.",
            path,
        )
    if kind != "Bundle":
        raise InputError(f"ressource FHIR « {kind} » : un Bundle est attendu.", path)
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        raise InputError("Bundle invalide : « entry » n'est pas une liste.", path)
    if isinstance(doc.get("total"), int):
        into.totals.append(doc["total"])
    kept = 0
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            continue
        resource = entry.get("resource")
        if not isinstance(resource, Mapping):
            continue
        kind = str(resource.get("resourceType") or "")
        if kind not in _KEPT_TYPES or not resource.get("id"):
            into.other_types[kind or "(sans type)"] += 1
            continue
        key = f"{kind}/{resource['id']}"
        if key in into.by_key:
            into.duplicates += 1
            old = str((into.by_key[key].get("meta") or {}).get("lastUpdated") or "")
            new = str((resource.get("meta") or {}).get("lastUpdated") or "")
            if new < old:
                continue
        into.by_key[key] = resource
        into.where[key] = f"{path.name} › entrée {position} › {key}"
        if entry.get("fullUrl"):
            into.full_urls[str(entry["fullUrl"])] = key
        if (entry.get("search") or {}).get("mode") == "match" and kind == "HealthcareService":
            into.matches.add(key)
        kept += 1
    return {"entrees": len(entries), "ressources": kept, "type": doc.get("type")}


def list_bundle_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The Bundle files of ``source``: a folder's ``.json`` files (sorted), or the files given."""
    items = [source] if isinstance(source, str | Path) else list(source)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            inside = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".json"
            )
            if not inside:
                raise InputError("aucun fichier .json (Bundle FHIR) dans ce dossier.", path)
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError("fichier ou dossier introuvable.", path)
    return files


# --- organisations --------------------------------------------------------------------------


def _finess(org: Mapping[str, Any]) -> str | None:
    for ident in _dicts(org.get("identifier")):
        system = str(ident.get("system") or "").lower()
        typed = [
            c.get("code")
            for c in _codings(ident.get("type"))
            if "TRE_G07" in str(c.get("system") or "").upper().replace("-", "_")
        ]
        if any(s in system for s in FINESS_SYSTEMS) or "1" in typed:
            value = str(ident.get("value") or "").strip()
            if value:
                return value
    return None


def _id_nat_struct(org: Mapping[str, Any]) -> str | None:
    """The EG's national structure identifier (idNatStruct), or None."""
    for ident in _dicts(org.get("identifier")):
        system = str(ident.get("system") or "").lower()
        typed = [
            c.get("code")
            for c in _codings(ident.get("type"))
            if "TRE_G07" in str(c.get("system") or "").upper().replace("-", "_")
        ]
        if any(s in system for s in ID_NAT_STRUCT_SYSTEMS) or ID_NAT_STRUCT_TYPE in typed:
            value = str(ident.get("value") or "").strip()
            if value:
                return value
    return None


def _is_oi(org: Mapping[str, Any]) -> bool:
    return any(
        any(s in str(i.get("system") or "").lower() for s in OI_SYSTEMS)
        for i in _dicts(org.get("identifier"))
    )


@dataclass
class _Organisations:
    """Which Organizations are EG, which are EJ, and the EG of any organisation."""

    resources: _Resources
    eg: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    ej: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def classify(cls, resources: _Resources) -> _Organisations:
        orgs = cls(resources)
        for key, org in resources.of_type("Organization"):
            if _is_oi(org) or _finess(org) is None:
                continue
            parent_key, parent = resources.get(org.get("partOf"))
            has_category = bool(_codes(org.get("type"), "categorie_eg"))
            if has_category or (org.get("partOf") and (parent is None or _finess(parent))):
                orgs.eg[key] = org
            else:
                orgs.ej[key] = org
        return orgs

    def eg_of(self, reference: Any) -> tuple[str | None, str | None]:
        """(EG key, None) for an organisation reference, or (None, French reason)."""
        key, org = self.resources.get(reference)
        if key is None:
            return None, "aucune organisation de rattachement (providedBy vide)"
        seen = set()
        while True:
            if org is None:
                return None, (
                    f"organisation {key} absente des fichiers (ajouter "
                    "_include=HealthcareService:organization et "
                    "_include:iterate=Organization:partof à la recherche)"
                )
            if key in self.eg:
                return key, None
            if key in self.ej:
                return None, f"rattachée directement à l'entité juridique {key}, sans EG"
            seen.add(key)
            parent = org.get("partOf")
            if parent is None or len(seen) > _MAX_DEPTH:
                return None, f"aucune entité géographique (FINESS) au-dessus de {key}"
            key, org = self.resources.get(parent)
            if key is None or key in seen:
                return None, f"chaîne partOf interrompue ou circulaire au-dessus de {key}"


def _geolocation(org: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for address in _dicts(org.get("address")):
        for ext in _extensions(address, EXT_GEOLOCATION):
            lat, lon = _value_number(_sub(ext, "latitude")), _value_number(_sub(ext, "longitude"))
            if lat is not None and lon is not None:
                return _fmt(lat), _fmt(lon)
    return None, None


def _commune(resource: Mapping[str, Any]) -> str | None:
    for ext in _extensions(resource, EXT_COMMUNE):
        code = _value_code(ext)
        if code:
            return code
    for address in _dicts(resource.get("address")):
        for ext in _extensions(address, EXT_COMMUNE):
            code = _value_code(ext)
            if code:
                return code
    return None


def _statut(ej: Mapping[str, Any] | None) -> str | None:
    if ej is None:
        return None
    for coding in _codings(ej.get("type")):
        if _system_matches(coding.get("system"), "agregat_statut"):
            found = nomenclature.statut_from_legal_status(
                str(coding.get("code") or ""), str(coding.get("display") or "")
            )
            if found:
                return found
    return None


# --- capacities -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Capacity:
    nature: str | None
    status: str | None
    temporality: str | None
    assignment: str | None
    gender: str | None
    count: float | None
    updated: str


def _capacities(location: Mapping[str, Any]) -> list[_Capacity]:
    out = []
    for ext in _extensions(location, EXT_CAPACITY):
        updated = _sub(ext, "capacityUpdateDate") or {}
        out.append(
            _Capacity(
                _value_code(_sub(ext, "capacityType")),
                _value_code(_sub(ext, "capacityStatus")),
                _value_code(_sub(ext, "temporalityCapacity")),
                _value_code(_sub(ext, "temporaryAssignement")),
                _value_code(_sub(ext, "genderCapacityAvailable")),
                _value_number(_sub(ext, "nbCapacity")),
                str(updated.get("valueDateTime") or updated.get("valueDate") or ""),
            )
        )
    return out


@dataclass
class _LocationCapacity:
    beds: float | None
    places: float | None
    notes: list[str]
    unknown: list[str]


def _installed(location_key: str, location: Mapping[str, Any]) -> _LocationCapacity:
    """Installed beds and places of a Location after de-duplicating same-key records."""
    records = _capacities(location)
    unknown = []
    for r in records:
        for label, code, known in (
            ("capacityType", r.nature, CAPACITY_NATURES),
            ("capacityStatus", r.status, CAPACITY_STATUSES),
            ("temporalityCapacity", r.temporality, CAPACITY_TEMPORALITIES),
        ):
            if code is not None and code not in known:
                unknown.append(f"{location_key} {label}={code}")
    latest: dict[tuple, _Capacity] = {}
    duplicates = 0
    for r in records:
        key = (r.nature, r.status, r.temporality, r.assignment, r.gender)
        if key in latest:
            duplicates += 1
            if r.updated < latest[key].updated:
                continue
        latest[key] = r
    notes = []
    if duplicates:
        notes.append(
            f"{location_key} : {duplicates} enregistrement(s) de capacité en double (même "
            "nature, statut, temporalité, affectation, genre) : le plus récent est retenu"
        )
    totals: dict[str, float | None] = {BEDS: None, PLACES: None}
    assignments: dict[str, set[str | None]] = {BEDS: set(), PLACES: set()}
    for r in latest.values():
        if r.status == INSTALLED and r.temporality == CURRENT and r.nature in totals:
            if r.count is None:
                notes.append(f"{location_key} : nombre de capacité illisible (nbCapacity)")
                continue
            totals[r.nature] = (totals[r.nature] or 0) + r.count
            assignments[r.nature].add(r.assignment)
    for nature, seen in assignments.items():
        if len(seen) > 1:
            what = "lits" if nature == BEDS else "places"
            notes.append(
                f"{location_key} : {what} installés additionnés sur plusieurs affectations "
                f"temporaires ({', '.join(sorted(str(s) for s in seen))}) : double compte "
                "possible (question ouverte du guide ROR, ticket 382)"
            )
    return _LocationCapacity(totals[BEDS], totals[PLACES], notes, unknown)


# --- offers ---------------------------------------------------------------------------------


def _age_range(service: Mapping[str, Any]) -> tuple[float | None, float | None]:
    for ext in _extensions(service, EXT_PATIENT_TYPE):
        age = _sub(ext, "ageRange")
        if age is not None and isinstance(age.get("valueRange"), Mapping):
            rng = age["valueRange"]
            return _quantity(rng.get("low")), _quantity(rng.get("high"))
    return None, None


def _contacts(service: Mapping[str, Any]) -> dict[str, str | None]:
    """Unit phone and responsable from ``telecom`` and the ROR contact extension."""
    out: dict[str, str | None] = {
        "telephone": _telecom(service, "phone"),
        "responsable_nom": None,
        "responsable_telephone": None,
        "responsable_email": None,
    }
    for ext in _extensions(service, EXT_CONTACT):
        name_ext = _sub(ext, "name")
        name = _human_name(name_ext.get("valueHumanName")) if name_ext else None
        points = []
        for sub in _dicts(ext.get("extension")):
            points.extend(_dicts(sub.get("valueContactPoint")))
            for inner in _dicts(sub.get("extension")):
                points.extend(_dicts(inner.get("valueContactPoint")))
        phone = next((p.get("value") for p in points if p.get("system") == "phone"), None)
        email = next((p.get("value") for p in points if p.get("system") == "email"), None)
        if name and out["responsable_nom"] is None:
            out["responsable_nom"] = name
            out["responsable_telephone"] = phone
            out["responsable_email"] = email
        elif phone and out["telephone"] is None:
            out["telephone"] = str(phone)
    return out


def _closure(service: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(date_fermeture, type_fermeture) of an offer from its latest ``notAvailable`` period:
    ``PRO`` when a reopening date is given, untyped otherwise [inferred]."""
    latest: tuple[str, str | None] | None = None
    for period in _dicts(service.get("notAvailable")):
        during = period.get("during")
        if not isinstance(during, Mapping) or not during.get("start"):
            continue
        start, end = str(during["start"]).strip()[:10], during.get("end")
        if latest is None or start > latest[0]:
            latest = (start, str(end).strip()[:10] if end else None)
    if latest is None:
        return None, None
    return latest[0], "PRO" if latest[1] else None


def _care_modes(service: Mapping[str, Any]) -> list[str]:
    codes = _codes(service.get("characteristic"), "mode_prise_en_charge")
    if not codes:  # no system: take codes that are modes de prise en charge
        codes = [
            str(c.get("code"))
            for c in _codings(service.get("characteristic"))
            if not c.get("system") and str(c.get("code")) in nomenclature.FORME_BY_NOS
        ]
    return codes


@dataclass
class _Tables:
    etablissements: list[dict[str, Any]] = field(default_factory=list)
    unites: list[dict[str, Any]] = field(default_factory=list)
    offres: list[dict[str, Any]] = field(default_factory=list)


def _establishments(
    orgs: _Organisations, resources: _Resources, out: _Tables, notes: Notes
) -> None:
    communes: dict[str, Counter[str]] = {}
    positions: dict[str, list[tuple[str, str]]] = {}
    for _key, location in resources.of_type("Location"):
        eg, _ = orgs.eg_of(location.get("managingOrganization"))
        if eg is None:
            continue
        code = _commune(location)
        if code:
            communes.setdefault(eg, Counter())[code] += 1
        pos = location.get("position")
        if isinstance(pos, Mapping) and pos.get("latitude") is not None:
            positions.setdefault(eg, []).append(
                (_fmt(float(pos["latitude"])), _fmt(float(pos["longitude"])))
            )
    for key, org in orgs.eg.items():
        _, ej = resources.get(org.get("partOf"))
        lat, lon = _geolocation(org)
        if lat is None and len(set(positions.get(key, []))) == 1:
            lat, lon = positions[key][0]
        address = next(iter(_dicts(org.get("address"))), {})
        found = communes.get(key, Counter())
        commune = _commune(org) or (found.most_common(1)[0][0] if found else None)
        row: dict[str, Any] = {
            "finess_eg": _finess(org),
            "finess_ej": _finess(ej) if ej is not None else None,
            "raison_sociale": org.get("name"),
            "surnom": next((str(a) for a in _list(org.get("alias")) if a), None),
            "adresse": " ".join(str(x) for x in _list(address.get("line")) if x) or None,
            "code_postal": address.get("postalCode"),
            "commune_insee": commune,
            "latitude": lat,
            "longitude": lon,
            "categorie": next(iter(_codes(org.get("type"), "categorie_eg")), None),
            "statut": _statut(ej),
            "telephone": _telecom(org, "phone"),
            "date_maj": (org.get("meta") or {}).get("lastUpdated"),
            "id_nat_struct": _id_nat_struct(org),
            SOURCE_COLUMN: resources.where[key],
        }
        position = len(out.etablissements) + 1
        if commune is None:
            row[LOADER_REJECT_COLUMN] = (
                f"commune INSEE inconnue pour {key} : aucune Location de cet EG ne porte "
                "l'extension ror-commune-cog (ajouter _include=HealthcareService:location)"
            )
        elif len(found) > 1:
            notes.add(
                "etablissements",
                "communes_multiples",
                f"Locations de {len(found)} communes différentes ({', '.join(sorted(found))}) : "
                f"la plus fréquente est retenue",
                row=position,
                column="commune_insee",
                value=commune,
            )
        out.etablissements.append(row)


def _offer_rows(
    key: str,
    service: Mapping[str, Any],
    resources: _Resources,
    orgs: _Organisations,
    capacity: dict[str, _LocationCapacity],
    out: _Tables,
    notes: Notes,
) -> None:
    """One ``unites`` row and its ``offres`` row(s) for an SMR HealthcareService."""
    low, high = _age_range(service)
    derivation = nomenclature.derive_mention(
        _codes(service.get("category"), "type_offre", loose=True),
        _codes(service.get("type"), "champ", loose=True),
        _codes(service.get("specialty"), "activite", loose=True),
        low,
        high,
    )
    where = resources.where[key]
    ident = next(
        (str(i["value"]).strip() for i in _dicts(service.get("identifier")) if i.get("value")),
        key,
    )
    eg, reason = orgs.eg_of(service.get("providedBy"))
    unit: dict[str, Any] = {
        "uo_id": ident,
        "finess_eg": _finess(orgs.eg[eg]) if eg else None,
        "nom": service.get("name"),
        "discipline": "SMR",
        "age_min": _fmt(low),
        "age_max": _fmt(high),
        "date_maj": (service.get("meta") or {}).get("lastUpdated"),
        "champ_activite": next(iter(_codes(service.get("type"), "champ", loose=True)), None),
        "activite_operationnelle": ", ".join(
            _codes(service.get("specialty"), "activite", loose=True)
        )
        or None,
        SOURCE_COLUMN: where,
        **_contacts(service),
    }
    unit["date_fermeture"], unit["type_fermeture"] = _closure(service)
    if reason:
        unit[LOADER_REJECT_COLUMN] = f"entité géographique introuvable : {reason}"
    out.unites.append(unit)

    category = _codes(service.get("category"), "type_offre", loose=True)
    unknown_category = [c for c in category if c not in nomenclature.MENTION_BY_TYPE_OFFRE]
    locations = []
    for ref in _list(service.get("location")):
        loc_key, loc = resources.get(ref)
        if loc is None:
            notes.add(
                "offres",
                "location_absente",
                f"{key} : Location {loc_key} absente des fichiers : capacité inconnue "
                "(ajouter _include=HealthcareService:location)",
                value=loc_key,
            )
        else:
            locations.append(loc_key)
    modes = _care_modes(service) or [None]
    for mode in modes:
        known = nomenclature.FORME_BY_NOS.get(mode.zfill(2)) if mode else None
        forme = known.code if known else None
        kind = nomenclature.FORME_BY_CODE[forme].capacite if forme else None
        beds = places = None
        for loc_key in locations:
            cap = capacity[loc_key]
            beds = cap.beds if beds is None else beds + (cap.beds or 0)
            places = cap.places if places is None else places + (cap.places or 0)
        row: dict[str, Any] = {
            "uo_id": ident,
            "mention": derivation.mentions[0] if len(derivation.mentions) == 1 else None,
            "forme": forme or mode,
            "lits": _fmt(beds) if kind == "lits" else None,
            "places": _fmt(places) if kind == "places" else None,
            "origine_mention": derivation.origine,
            SOURCE_COLUMN: where,
            "_locations": tuple(locations),
            "_kind": kind,
        }
        position = len(out.offres) + 1
        if len(derivation.mentions) > 1:
            row[LOADER_REJECT_COLUMN] = (
                f"mention ambiguë : {', '.join(derivation.mentions)} possibles d'après les "
                "activités ; à préciser dans le ROR (type d'offre 100–112)"
            )
        elif mode is None:
            row[LOADER_REJECT_COLUMN] = (
                "mode de prise en charge absent (characteristic careMode, TRE_R213) : forme "
                "inconnue"
            )
        elif forme is None:
            notes.add(
                "offres",
                "code_inconnu",
                f"mode de prise en charge « {mode} » (TRE_R213) sans forme SMR connue",
                row=position,
                column="forme",
                value=mode,
            )
        for text in derivation.notes:
            notes.add(
                "offres",
                "mention_remarque",
                text,
                row=position,
                column="mention",
                value=row["mention"],
            )
        if derivation.origine in ("activite", "defaut") and len(derivation.mentions) == 1:
            tags = (
                f" ; expertise : {', '.join(derivation.expertise)}"
                if (derivation.expertise)
                else ""
            )
            what = (
                "activités opérationnelles"
                if derivation.origine == "activite"
                else ("défaut (aucune activité plus précise)")
            )
            notes.add(
                "offres",
                "mention_deduite",
                f"type d'offre absent : mention déduite ({what}){tags} ; à confirmer par "
                "l'autorisation ARS",
                row=position,
                column="mention",
                value=row["mention"],
            )
        if unknown_category:
            notes.add(
                "offres",
                "code_inconnu",
                f"type d'offre {', '.join(unknown_category)} hors 100–112 (TRE_R244)",
                row=position,
                column="mention",
                value=", ".join(unknown_category),
            )
        if locations and kind and (beds if kind == "lits" else places) is None:
            notes.add(
                "offres",
                "capacite_absente",
                f"aucune capacité installée courante en {kind} (nature "
                f"{BEDS if kind == 'lits' else PLACES}, statut 01, temporalité 01) sur les "
                "Locations de l'offre",
                row=position,
                column=kind,
            )
        out.offres.append(row)


def _shared_locations(out: _Tables, notes: Notes) -> None:
    """Warn when offers of the same capacity kind share a Location (capacity counted twice)."""
    users: dict[tuple[str, str], list[int]] = {}
    for position, row in enumerate(out.offres, start=1):
        for loc in row["_locations"]:
            if row["_kind"]:
                users.setdefault((loc, row["_kind"]), []).append(position)
    for (loc, kind), positions in users.items():
        if len(positions) > 1:
            for position in positions:
                notes.add(
                    "offres",
                    "capacite_partagee",
                    f"{loc} partagée par {len(positions)} offres : ses {kind} sont comptés "
                    "pour chacune",
                    row=position,
                    column=kind,
                    value=loc,
                )


def _check_pages(resources: _Resources, services: int, notes: Notes) -> None:
    if resources.totals and len(resources.matches) < max(resources.totals):
        notes.add(
            "offres",
            "pagination_incomplete",
            f"le serveur annonce {max(resources.totals)} résultat(s), les fichiers en "
            f"contiennent {len(resources.matches)} : pages de résultats manquantes ?",
        )
    if resources.duplicates:
        notes.add(
            "unites",
            "ressources_en_double",
            f"{resources.duplicates} ressource(s) présente(s) dans plusieurs pages : la "
            "version la plus récente (meta.lastUpdated) est retenue",
        )
    if resources.other_types:
        kinds = ", ".join(f"{k} ({n})" for k, n in resources.other_types.most_common())
        notes.add("unites", "ressources_ignorees", f"ressources non utilisées : {kinds}")
    if services == 0:
        notes.add("offres", "aucune_offre", "aucune HealthcareService dans les fichiers")


def load_fhir(source: str | Path | Sequence[str | Path]) -> LoadResult:
    """ROR FHIR Bundles as raw ``etablissements``, ``unites`` and ``offres`` tables with notes.

    ``source`` is a Bundle file, several, or a folder of search pages (``*.json``). Offers
    outside SMR (no type d'offre 100–112, champ other than 02, no SMR activity) are counted
    and left out. Raises ``InputError`` naming the file for unreadable JSON, a file that is
    not a Bundle (an OperationOutcome's diagnostics are quoted) or files without any ROR
    resource.
    """
    files = list_bundle_files(source)
    resources = _Resources()
    sources = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"lecture impossible ({exc.strerror}).", path) from None
        if not data.strip():
            raise InputError("fichier vide.", path)
        details = _read_bundle(path, data, resources)
        sources.append(file_source(path, data, FORMAT, **details))
    if not resources.by_key:
        names = ", ".join(p.name for p in files[:_MAX_LISTED])
        raise InputError(
            f"aucune ressource Organization, HealthcareService ou Location dans : {names}."
        )

    notes = Notes()
    orgs = _Organisations.classify(resources)
    out = _Tables()
    _establishments(orgs, resources, out, notes)
    capacity: dict[str, _LocationCapacity] = {}
    for key, location in resources.of_type("Location"):
        capacity[key] = _installed(key, location)
        for text in capacity[key].notes:
            notes.add("offres", "capacite_remarque", text, value=key)
        for text in capacity[key].unknown:
            notes.add("offres", "code_inconnu", f"code de capacité inconnu : {text}", value=key)

    services = resources.of_type("HealthcareService")
    outside: list[str] = []
    for key, service in services:
        low, high = _age_range(service)
        derivation = nomenclature.derive_mention(
            _codes(service.get("category"), "type_offre", loose=True),
            _codes(service.get("type"), "champ", loose=True),
            _codes(service.get("specialty"), "activite", loose=True),
            low,
            high,
        )
        if not derivation.is_smr:
            outside.append(key)
            continue
        _offer_rows(key, service, resources, orgs, capacity, out, notes)
    if outside:
        listed = ", ".join(outside[:_MAX_LISTED]) + (" …" if len(outside) > _MAX_LISTED else "")
        notes.add(
            "unites",
            "hors_smr",
            f"{len(outside)} offre(s) hors champ SMR non importée(s) : {listed}",
        )
    _shared_locations(out, notes)
    _check_pages(resources, len(services), notes)
    if orgs.ej and not orgs.eg:
        notes.add(
            "etablissements",
            "aucun_eg",
            "aucune entité géographique : seules des entités juridiques sont présentes",
        )

    tables = {}
    for name, rows in (
        ("etablissements", out.etablissements),
        ("unites", out.unites),
        ("offres", out.offres),
    ):
        columns = [*TABLES[name].names, SOURCE_COLUMN, LOADER_REJECT_COLUMN]
        tables[name] = text_frame(rows, columns)
    extra = {"format": FORMAT, "bundles": len(files)}
    return LoadResult(FORMAT, tables, notes.frame(), sources, extra)
