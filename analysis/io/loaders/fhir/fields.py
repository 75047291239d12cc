"""What one resource says: commune, geolocation, legal status, installed capacities of a
Location, an offer's age range, contacts, closure, care modes and mention derivation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.io.loaders.fhir.codes import (
    AGE_UNITS,
    BEDS,
    CAPACITY_NATURES,
    CAPACITY_STATUSES,
    CAPACITY_TEMPORALITIES,
    CURRENT,
    EMAIL_CHANNELS,
    EXT_CAPACITY,
    EXT_CHANNEL,
    EXT_COMMUNE,
    EXT_CONTACT,
    EXT_CONTACT_TELECOM,
    EXT_GEOLOCATION,
    EXT_PATIENT_TYPE,
    INSTALLED,
    NO_AGE_LIMIT,
    PHONE_CHANNELS,
    PLACES,
    _codes,
    _codings,
    _dicts,
    _extensions,
    _fmt,
    _human_name,
    _quantity,
    _sub,
    _system_matches,
    _telecom,
    _value_code,
    _value_number,
)
from analysis.model import nomenclature

# --- places, status ---------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Ages:
    """Patientèle age bounds in years (None: no bound) and remarks on how they were read."""

    low: float | None = None
    high: float | None = None
    notes: tuple[str, ...] = ()


def _age_in_years(quantity: Any, bound: str) -> tuple[float | None, str | None]:
    """(years, remark) of an ``ageRange`` bound; its unit is a TRE_R247 / UCUM code."""
    value = _quantity(quantity)
    if value is None or not isinstance(quantity, Mapping):
        return None, None
    unit = str(quantity.get("code") or quantity.get("unit") or "a").strip()
    factor = AGE_UNITS.get(unit) or AGE_UNITS.get(unit.lower())
    if factor is None:
        return None, (
            f"unité d'âge « {unit} » inconnue pour {bound} ({_fmt(value)}) : âge non lu "
            f"(unités lues : {', '.join(AGE_UNITS)})"
        )
    years = value * factor
    if factor != 1.0:
        return years, f"{bound} {_fmt(value)} {unit} converti en {years:.2f} an(s)".replace(
            ".", ","
        )
    return years, None


def _age_range(service: Mapping[str, Any]) -> _Ages:
    """The offer's age range in years: 150 years or more, or no high bound, is no limit."""
    for ext in _extensions(service, EXT_PATIENT_TYPE):
        age = _sub(ext, "ageRange")
        if age is None or not isinstance(age.get("valueRange"), Mapping):
            continue
        rng = age["valueRange"]
        low, low_note = _age_in_years(rng.get("low"), "âge minimum")
        high, high_note = _age_in_years(rng.get("high"), "âge maximum")
        if high is not None and high >= NO_AGE_LIMIT:
            high = None
        return _Ages(low, high, tuple(n for n in (low_note, high_note) if n))
    return _Ages()


def _whole_years(years: float | None) -> str | None:
    """Ages are stored in whole years: completed years (a bound of 6 months is 0 year)."""
    if years is None:
        return None
    return str(int(years + 1e-9))


@dataclass(frozen=True)
class _Telecom:
    kind: str | None  # "phone", "email" or None when unknown
    value: str


def _contact_telecoms(contact: Mapping[str, Any]) -> list[_Telecom]:
    """Telecoms of one ``ror-healthcareservice-contact``: the guide's
    ``ror-healthcareservice-contact-telecom`` (``telecomAddress`` + TRE_R200 channel) and
    ``ContactPoint`` values, in order."""
    out: list[_Telecom] = []
    for sub in _dicts(contact.get("extension")):
        name = str(sub.get("url", "")).rsplit("/", 1)[-1]
        if name == EXT_CONTACT_TELECOM:
            address = _sub(sub, "telecomAddress")
            value = None
            if address is not None:
                value = address.get("valueString") or address.get("valueUrl")
            if not value:
                continue
            channel = _value_code(_sub(sub, EXT_CHANNEL))
            kind = (
                "phone"
                if channel in PHONE_CHANNELS
                else "email"
                if channel in EMAIL_CHANNELS
                else None
            )
            if channel is None:  # no channel: the value tells
                kind = "email" if "@" in str(value) else "phone"
            out.append(_Telecom(kind, str(value).strip()))
        for point in _dicts(sub.get("valueContactPoint")):
            if point.get("value"):
                kind = point.get("system") if point.get("system") in ("phone", "email") else None
                out.append(_Telecom(kind, str(point["value"]).strip()))
    return out


def _contacts(service: Mapping[str, Any]) -> dict[str, str | None]:
    """Unit phone and responsable from ``telecom`` and the ROR contact extension: a named
    contact is the responsable; the first phone of an unnamed contact is the unit's."""
    out: dict[str, str | None] = {
        "telephone": _telecom(service, "phone"),
        "responsable_nom": None,
        "responsable_telephone": None,
        "responsable_email": None,
    }
    for ext in _extensions(service, EXT_CONTACT):
        name_ext = _sub(ext, "name")
        name = _human_name(name_ext.get("valueHumanName")) if name_ext else None
        telecoms = _contact_telecoms(ext)
        phone = next((t.value for t in telecoms if t.kind == "phone"), None)
        email = next((t.value for t in telecoms if t.kind == "email"), None)
        if name and out["responsable_nom"] is None:
            out["responsable_nom"] = name
            out["responsable_telephone"] = phone
            out["responsable_email"] = email
        elif not name and phone and out["telephone"] is None:
            out["telephone"] = phone
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


def _derivation(service: Mapping[str, Any], ages: _Ages) -> nomenclature.MentionDerivation:
    return nomenclature.derive_mention(
        _codes(service.get("category"), "type_offre", loose=True),
        _codes(service.get("type"), "champ", loose=True),
        _codes(service.get("specialty"), "activite", loose=True),
        ages.low,
        ages.high,
    )
