"""Codes, extensions and identifiers of the ROR FHIR profiles, and the small helpers that
read them from a resource (codings, extension values, references, FINESS numbers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Code systems, matched by any of these fragments in ``system`` (TRE and JDV spellings).
#: Kept here so a new URL spelling needs one line, not a code change elsewhere.
SYSTEMS: dict[str, tuple[str, ...]] = {
    "type_offre": ("TRE_R244", "TRE-R244", "JDV_J238", "JDV-J238"),
    "champ": ("TRE_R227", "TRE-R227", "JDV_J20-", "JDV-J20-"),
    "mode_prise_en_charge": ("TRE_R213", "TRE-R213", "JDV_J19-", "JDV-J19-"),
    "activite": ("TRE_R211", "TRE-R211", "JDV_J17-", "JDV-J17-"),
    "categorie_eg": ("TRE_R66", "TRE-R66", "JDV_J55", "JDV-J55"),
    "agregat_statut": ("TRE_R69", "TRE-R69", "JDV_J200", "JDV-J200"),
    "commune": ("TRE_R13", "TRE-R13", "JDV_J124", "JDV-J124", "JDV_J230", "JDV-J230"),
    "canal": ("TRE_R200", "TRE-R200", "JDV_J225", "JDV-J225"),
}
FINESS_SYSTEMS = ("finess.esante.gouv.fr",)
#: National structure identifier (idNatStruct): TRE_G07 type 40 or this OID system.
ID_NAT_STRUCT_SYSTEMS = ("1.2.250.1.71.4.2.2",)
ID_NAT_STRUCT_TYPE = "40"
OI_SYSTEMS = ("oi.esante.gouv.fr",)
#: identifiantOffre: identifier type TRE_R355 35 (the guide's HealthcareService example).
OFFER_IDENTIFIER_TYPE = "35"

#: Extensions, matched on the end of their URL (the ROR base changed between IG versions).
EXT_PATIENT_TYPE = "ror-healthcareservice-patient-type"
EXT_CONTACT = "ror-healthcareservice-contact"
EXT_CONTACT_TELECOM = "ror-healthcareservice-contact-telecom"
EXT_CHANNEL = "ror-telecom-communication-channel"
EXT_CAPACITY = ("ror-location-supported-capacity", "ror-supported-capacity")
EXT_COMMUNE = "ror-commune-cog"
EXT_GEOLOCATION = "/geolocation"

#: Capacity codes (DOMAIN.md §2.4): nature J187, status J188 / TRE_R330, temporality J189.
CAPACITY_NATURES = {"01": "lit", "02": "place", "03": "logement"}
CAPACITY_STATUSES = {f"{i:02d}" for i in range(1, 10)}
CAPACITY_TEMPORALITIES = {f"{i:02d}" for i in range(1, 6)}
INSTALLED, CURRENT = "01", "01"
BEDS, PLACES = "01", "02"

#: Extensions the loader reads, by the last segment of their URL, with the sub-extensions it
#: reads in each. Any other extension found in a resource is counted in the report.
READ_EXTENSIONS: dict[str, frozenset[str]] = {
    EXT_PATIENT_TYPE: frozenset({"ageRange"}),
    EXT_CONTACT: frozenset({"name", "telecom", EXT_CONTACT_TELECOM}),
    EXT_CONTACT_TELECOM: frozenset({"telecomAddress", EXT_CHANNEL}),
    "ror-location-supported-capacity": frozenset(
        {"capacityType", "capacityStatus", "temporalityCapacity", "nbCapacity",
         "capacityUpdateDate", "temporaryAssignement", "genderCapacityAvailable"}
    ),
    "ror-supported-capacity": frozenset(
        {"capacityType", "capacityStatus", "temporalityCapacity", "nbCapacity",
         "capacityUpdateDate", "temporaryAssignement", "genderCapacityAvailable"}
    ),
    EXT_COMMUNE: frozenset(),
    "geolocation": frozenset({"latitude", "longitude"}),
}  # fmt: skip
#: Contact channels (TRE_R200 CanalCommunication, JDV_J225): phones and e-mails.
PHONE_CHANNELS = frozenset({"1", "2", "8"})  # mobile, fixe, téléphone d'alerte
EMAIL_CHANNELS = frozenset({"3", "9"})  # courrier électronique, mail d'alerte
#: Age units of ``ageRange`` (TRE_R247 UcumUniteMesure, JDV_J37) → years per unit.
AGE_UNITS: dict[str, float] = {"a": 1.0, "mo": 1 / 12, "wk": 7 / 365.25, "d": 1 / 365.25}
#: An upper age at or above this many years means « pas de limite » (the guide writes 150).
NO_AGE_LIMIT = 150.0

#: Resource types the loader uses; every other type is counted in the report.
KEPT_TYPES = ("Organization", "HealthcareService", "Location")
FILE_SUFFIXES = (".json", ".ndjson", ".jsonl")

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




def _org_phone(org: Mapping[str, Any]) -> str | None:
    """The EG's phone: ``telecom``, else a ``contact.telecom`` (the guide's EG example)."""
    phone = _telecom(org, "phone")
    if phone:
        return phone
    for contact in _dicts(org.get("contact")):
        phone = _telecom(contact, "phone")
        if phone:
            return phone
    return None


def _reference_finess(reference: Any) -> str | None:
    """The FINESS number of a logical reference (``{"identifier": {system: FINESS, …}}``)."""
    if not isinstance(reference, Mapping):
        return None
    ident = reference.get("identifier")
    return _finess({"identifier": [ident]}) if isinstance(ident, Mapping) else None


def _identifier(org: Mapping[str, Any], systems: Sequence[str], type_code: str) -> str | None:
    """The value of ``org``'s first identifier whose system contains one of ``systems`` or
    whose TRE_G07 type is ``type_code``, or None."""
    for ident in _dicts(org.get("identifier")):
        system = str(ident.get("system") or "").lower()
        typed = [
            c.get("code")
            for c in _codings(ident.get("type"))
            if "TRE_G07" in str(c.get("system") or "").upper().replace("-", "_")
        ]
        if any(s in system for s in systems) or type_code in typed:
            value = str(ident.get("value") or "").strip()
            if value:
                return value
    return None


def _finess(org: Mapping[str, Any]) -> str | None:
    """The FINESS number of an organisation (TRE_G07 type « 1 »), or None."""
    return _identifier(org, FINESS_SYSTEMS, "1")


def _id_nat_struct(org: Mapping[str, Any]) -> str | None:
    """The EG's national structure identifier (idNatStruct), or None."""
    return _identifier(org, ID_NAT_STRUCT_SYSTEMS, ID_NAT_STRUCT_TYPE)


def _is_oi(org: Mapping[str, Any]) -> bool:
    return any(
        any(s in str(i.get("system") or "").lower() for s in OI_SYSTEMS)
        for i in _dicts(org.get("identifier"))
    )
