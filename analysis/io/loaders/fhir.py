"""Read ROR FHIR R4 data, however it is delivered, into the canonical tables.

**Delivery.** The national ROR API answers searches with Bundles, and its bulk extraction
(``$export``) writes NDJSON files, one resource per line and one file per resource type,
sometimes gzip-compressed. ``load_fhir`` takes any mix of them: a Bundle file (``searchset``,
``collection``, ``batch-response``/``transaction-response`` whose entries may themselves be
search Bundles), a folder of search pages, an ``.ndjson`` file, a folder of ``$export`` output
(``.ndjson``, ``.ndjson.gz``, ``.json.gz``; the ``$export`` status manifest is recognised and
its announced counts compared with what was read). Every resource of every file is indexed by
``Type/id`` first (a resource repeated across pages keeps its latest ``meta.lastUpdated``);
links are made afterwards, and rows come out in ``Type/id`` order, so the same content gives
the same tables whatever the files and their order.

**Tables.** Resources of the ANS ROR profiles (DOMAIN.md §2): ``Organization`` (EJ, EG with its
FINESS number, OI), ``HealthcareService`` (the offer) and ``Location`` (where it takes place,
with capacities) become:

- ``etablissements``: one row per EG: an Organization with a FINESS number that carries an
  establishment category (TRE_R66) or belongs to an EJ; a lone Organization with a FINESS
  number, no category, no ``partOf`` and no EG below it that offers point at is taken for the
  EG, with a warning. Address, phone (``telecom`` or ``contact.telecom``), geolocation
  extension, category, legal status from the EJ's aggregate, commune from its own or its
  Locations' ``ror-commune-cog`` (TRE_R13-Commune / CommuneOM). When no Organization is in
  the files but an offer names its FINESS number (``providedBy.identifier``, the Location's
  ``managingOrganization.identifier`` or a FINESS identifier of the Location), the row is
  built from the Locations (commune, position, address) and the reference's ``display``;
  without a display its name is « Établissement FINESS … », with a warning;
- ``unites``: one row per SMR HealthcareService: identifiantOffre (the identifier typed
  TRE_R355 35, else the first), EG reached through
  ``providedBy`` (reference, then ``partOf`` up to the EG; or identifier), else through its
  Locations (``managingOrganization`` reference or identifier, FINESS identifiers); patient
  age range (``ageRange`` with its TRE_R247 / UCUM unit: ``a`` years, ``mo`` months, ``wk``
  weeks, ``d`` days, converted to whole years; a high bound of 150 years or more, or none,
  means « pas de limite » and leaves ``age_max`` empty); unit phone and responsable from
  ``ror-healthcareservice-contact`` (name, and telecoms written as the guide's
  ``ror-healthcareservice-contact-telecom`` with ``telecomAddress`` and its TRE_R200 channel,
  or as ``ContactPoint``), or ``telecom``; champ d'activité, activités opérationnelles,
  closure (latest ``notAvailable.during``: ``PRO`` when a reopening date is given);
- ``offres``: the offer's mention (type d'offre 100–112, or the §2.6 derivation when it is
  missing, its origin recorded in ``origine_mention``), its form (``careMode`` → forme) and
  the capacity of its Locations: installed beds = capacityType 01 + status 01 + temporality
  01, places = 02 + 01 + 01, after de-duplicating records with the same key.

Codes are matched on the code itself whatever the system spelling (TRE or JDV URL, trailing
slash); ``valueCode``, ``valueCoding`` and ``valueCodeableConcept`` are all accepted.

**Reported, not silent.** Codes the loader does not know, extensions it does not read
(counted per URL and resource type: ``extension_non_lue``, also in the manifest), resource
types it does not use, unreadable NDJSON lines, error responses inside a batch, missing
search pages, offers outside SMR: warnings in the import report. Rows it cannot complete are
handed to validation with their reason, naming the search parameter that would bring the
missing resource (``_include=HealthcareService:organization``, ``…:location``).

**Refused** (``InputError`` naming the file): unreadable JSON or gzip, a file that is neither
a Bundle, an NDJSON file nor an ``$export`` manifest (an OperationOutcome's diagnostics are
quoted), files without any ROR resource. ``link.next`` is not followed (no network).

**Not read**: PractitionerRole, opening hours (``availableTime``), the EG's closure, the last
update of the offer's contacts (``date_maj_contacts`` stays empty), territorial divisions,
sensitive-unit flags, characteristics other than ``careMode``, capacities other than
installed and current, ``contained`` resources; OI and EJ link offers to their EG and are
not stored. The national structure identifier (idNatStruct, TRE_G07 40 or
``urn:oid:1.2.250.1.71.4.2.2``) is read for the ROR quality requirements.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.io.files import input_files
from analysis.io.loaders.canonical import decode_json, decode_text
from analysis.io.loaders.result import LoadResult, Notes, file_source, text_frame
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.schema import LOADER_REJECT_COLUMN, SOURCE_COLUMN, TABLES

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


# --- reading the files ----------------------------------------------------------------------


@dataclass
class _Resources:
    """Every resource of every file, indexed by ``Type/id`` before anything is linked."""

    by_key: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    full_urls: dict[str, str] = field(default_factory=dict)
    matches: set[str] = field(default_factory=set)
    totals: list[int] = field(default_factory=list)
    duplicates: int = 0
    other_types: Counter[str] = field(default_factory=Counter)
    outcomes: list[str] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)
    announced: Counter[str] = field(default_factory=Counter)
    read_by_type: Counter[str] = field(default_factory=Counter)

    def of_type(self, kind: str) -> list[tuple[str, Mapping[str, Any]]]:
        """Resources of one type in ``Type/id`` order (the same whatever the file order)."""
        return sorted(
            ((k, r) for k, r in self.by_key.items() if r.get("resourceType") == kind),
            key=lambda item: item[0],
        )

    def get(self, reference: Any) -> tuple[str | None, Mapping[str, Any] | None]:
        """The resource a reference points to (by ``Type/id`` or by ``fullUrl``)."""
        if isinstance(reference, Mapping):
            raw = str(reference.get("reference") or "")
            if raw in self.full_urls:
                key = self.full_urls[raw]
                return key, self.by_key.get(key)
        key = _key(reference)
        return key, self.by_key.get(key) if key else None

    def add(self, resource: Mapping[str, Any], where: str, full_url: Any = None) -> None:
        """Index one resource (the latest ``meta.lastUpdated`` wins over a repeat)."""
        kind = str(resource.get("resourceType") or "")
        if kind == "OperationOutcome":
            self.outcomes.append(f"{where} : {_outcome_text(resource)}")
            return
        if kind not in KEPT_TYPES or not resource.get("id"):
            self.other_types[kind or "(sans type)"] += 1
            return
        key = f"{kind}/{resource['id']}"
        self.read_by_type[kind] += 1
        if key in self.by_key:
            self.duplicates += 1
            old = str((self.by_key[key].get("meta") or {}).get("lastUpdated") or "")
            new = str((resource.get("meta") or {}).get("lastUpdated") or "")
            if new < old:
                return
        self.by_key[key] = resource
        self.where[key] = f"{where} › {key}"
        if full_url:
            self.full_urls[str(full_url)] = key


def _outcome_text(resource: Mapping[str, Any]) -> str:
    texts = [
        str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code") or "")
        for i in _dicts(resource.get("issue"))
    ]
    return " ; ".join(t for t in texts if t)[:300] or "sans détail"


def _add_bundle(doc: Mapping[str, Any], where: str, into: _Resources, path: Path) -> int:
    """Index a Bundle's resources (nested Bundles of a batch response too); entries read."""
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        raise InputError("Bundle invalide : « entry » n'est pas une liste.", path)
    if isinstance(doc.get("total"), int):
        into.totals.append(doc["total"])
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            continue
        here = f"{where} › entrée {position}"
        response = entry.get("response")
        status = str(response.get("status") or "") if isinstance(response, Mapping) else ""
        resource = entry.get("resource")
        if status and not status.strip().startswith("2"):
            outcome = response.get("outcome") if isinstance(response, Mapping) else None
            detail = _outcome_text(outcome or resource or {}) if (outcome or resource) else ""
            into.outcomes.append(f"{here} : statut {status}" + (f", {detail}" if detail else ""))
            continue
        if not isinstance(resource, Mapping):
            continue
        if resource.get("resourceType") == "Bundle":
            _add_bundle(resource, here, into, path)
            continue
        into.add(resource, here, entry.get("fullUrl"))
        mode = (entry.get("search") or {}).get("mode")
        if mode == "match" and resource.get("id"):
            into.matches.add(f"{resource.get('resourceType')}/{resource['id']}")
    return len(entries)


def _read_ndjson(text: str, path: Path, into: _Resources) -> int:
    """Index the resources of an NDJSON file (one per line); unreadable lines are reported."""
    count = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except json.JSONDecodeError as exc:
            into.bad_lines.append(f"{path.name} ligne {number} ({exc.msg})")
            continue
        if not isinstance(resource, Mapping) or "resourceType" not in resource:
            into.bad_lines.append(f"{path.name} ligne {number} (pas une ressource FHIR)")
            continue
        count += 1
        if resource.get("resourceType") == "Bundle":
            _add_bundle(resource, f"{path.name} › ligne {number}", into, path)
        else:
            into.add(resource, f"{path.name} › ligne {number}")
    return count


def _is_export_manifest(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "resourceType" not in doc and "output" in doc and (
        "transactionTime" in doc or "request" in doc
    )


def _file_bytes(path: Path) -> tuple[bytes, bytes]:
    """(raw bytes, content) of a file, the content gunzipped when the file is
    gzip-compressed (by name or by content)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"lecture impossible ({exc.strerror}).", path) from None
    if path.suffix.lower() == ".gz" or raw[:2] == b"\x1f\x8b":
        try:
            return raw, gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise InputError("archive gzip illisible ou tronquée.", path) from None
    return raw, raw


def _stem_suffix(path: Path) -> str:
    """The suffix that says the content (``.ndjson`` for ``Location.ndjson.gz``)."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return Path(name).suffix


def _read_file(path: Path, data: bytes, into: _Resources) -> dict[str, Any]:
    """Index one file's resources; what it held, for the manifest."""
    if _stem_suffix(path) in (".ndjson", ".jsonl"):
        text, _ = decode_text(data, path)
        return {"forme": "ndjson", "ressources": _read_ndjson(text, path, into)}
    try:
        doc = decode_json(data, path)
    except InputError as error:
        text, _ = decode_text(data, path)
        lines = [line for line in text.split("\n") if line.strip()]
        if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines):
            # NDJSON saved with a .json name: one resource per line.
            return {"forme": "ndjson", "ressources": _read_ndjson(text, path, into)}
        raise error
    if _is_export_manifest(doc):
        for item in _dicts(doc.get("output")):
            if isinstance(item.get("count"), int) and item.get("type"):
                into.announced[str(item["type"])] += item["count"]
        return {"forme": "manifeste $export", "fichiers_annonces": len(_list(doc.get("output")))}
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
        if kind in KEPT_TYPES:  # a single resource saved on its own
            into.add(doc, path.name)
            return {"forme": "ressource", "ressources": 1}
        raise InputError(f"ressource FHIR « {kind} » : un Bundle est attendu.", path)
    entries = _add_bundle(doc, path.name, into, path)
    return {"forme": "bundle", "entrees": entries, "type": doc.get("type")}


def _is_fhir_file(path: Path) -> bool:
    return _stem_suffix(path) in FILE_SUFFIXES


def list_fhir_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The FHIR files of ``source``: a folder's ``.json``/``.ndjson`` files, gzip-compressed or
    not (sorted by name), or the files given."""
    return input_files(
        source,
        _is_fhir_file,
        "aucun fichier .json ou .ndjson (Bundle FHIR, export $export) dans ce dossier.",
    )


#: Former name, kept for callers of the first version.
list_bundle_files = list_fhir_files



# --- organisations and links ----------------------------------------------------------------


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


_ORGANIZATION_SEARCH = (
    "_include=HealthcareService:organization et _include:iterate=Organization:partof"
)
_LOCATION_SEARCH = "_include=HealthcareService:location"


@dataclass
class _Organisations:
    """Which Organizations are EG, which are EJ, and the EG of any organisation."""

    resources: _Resources
    eg: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    ej: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    lone: set[str] = field(default_factory=set)  # EG by position only (no category, no EJ)
    _finess_index: dict[str, str] | None = None

    @classmethod
    def classify(cls, resources: _Resources) -> _Organisations:
        """EG: a FINESS Organization with a category or under an EJ; a lone FINESS
        Organization (no category, no ``partOf``, no FINESS Organization below it) that an
        offer or a Location points at, directly or through OIs; EJ otherwise."""
        orgs = cls(resources)
        has_finess_child: set[str] = set()
        for _key, org in resources.of_type("Organization"):
            parent_key, _ = resources.get(org.get("partOf"))
            if parent_key and not _is_oi(org) and _finess(org):
                has_finess_child.add(parent_key)
        pointed = orgs._pointed_at()
        for key, org in resources.of_type("Organization"):
            if _is_oi(org) or _finess(org) is None:
                continue
            _, parent = resources.get(org.get("partOf"))
            has_category = bool(_codes(org.get("type"), "categorie_eg"))
            if has_category or (org.get("partOf") and (parent is None or _finess(parent))):
                orgs.eg[key] = org
            elif not org.get("partOf") and key not in has_finess_child and key in pointed:
                orgs.eg[key] = org
                orgs.lone.add(key)
            else:
                orgs.ej[key] = org
        return orgs

    def _pointed_at(self) -> set[str]:
        """Organizations reached from an offer's ``providedBy`` or a Location's
        ``managingOrganization`` (reference, following ``partOf`` through OIs, or FINESS
        identifier)."""
        starts = [s.get("providedBy") for _, s in self.resources.of_type("HealthcareService")]
        starts += [
            loc.get("managingOrganization") for _, loc in self.resources.of_type("Location")
        ]
        out: set[str] = set()
        named = {_reference_finess(ref) for ref in starts} - {None}
        for key, org in self.resources.of_type("Organization"):
            if (_finess(org) or "") in named:
                out.add(key)
        for ref in starts:
            key, org = self.resources.get(ref)
            for _ in range(_MAX_DEPTH):
                if key is None or org is None or key in out:
                    break
                out.add(key)
                if not _is_oi(org):
                    break
                key, org = self.resources.get(org.get("partOf"))
        return out

    def eg_of(self, reference: Any) -> tuple[str | None, str | None]:
        """(EG key, None) for an organisation reference, or (None, French reason)."""
        key, org = self.resources.get(reference)
        if key is None:
            return None, "aucune organisation de rattachement (providedBy vide)"
        seen = set()
        while True:
            if org is None:
                return None, (
                    f"organisation {key} absente des fichiers (ajouter {_ORGANIZATION_SEARCH} "
                    "à la recherche)"
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

    def by_finess(self, finess: str) -> str | None:
        """The EG Organization carrying this FINESS number, if one is in the files."""
        if self._finess_index is None:
            self._finess_index = {}
            for key, org in sorted(self.eg.items()):
                self._finess_index.setdefault((_finess(org) or "").upper(), key)
        return self._finess_index.get(finess.upper())


@dataclass(frozen=True)
class _Link:
    """How an offer reaches its establishment: an EG Organization of the files (``eg``) or
    only its FINESS number (``finess``, the Organization being absent), and by which path."""

    eg: str | None = None
    finess: str | None = None
    via: str = ""
    display: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.eg is not None or self.finess is not None


def _location_finess(location: Mapping[str, Any]) -> str | None:
    """A FINESS number among the Location's own identifiers (FINESS system or TRE_G07 1)."""
    return _finess(location)


def _link_offer(
    service: Mapping[str, Any], resources: _Resources, orgs: _Organisations
) -> _Link:
    """The offer's establishment: ``providedBy`` (reference, then identifier), else its
    Locations (``managingOrganization`` reference or identifier, FINESS identifiers)."""
    provided = service.get("providedBy")
    display = provided.get("display") if isinstance(provided, Mapping) else None
    reason = None
    if isinstance(provided, Mapping) and provided.get("reference"):
        eg, reason = orgs.eg_of(provided)
        if eg:
            return _Link(eg=eg, via="providedBy")
    finess = _reference_finess(provided)
    if finess:
        found = orgs.by_finess(finess)
        return _Link(eg=found, finess=None if found else finess, via="providedBy.identifier",
                     display=display)  # fmt: skip
    locations = []
    for ref in _list(service.get("location")):
        _, loc = resources.get(ref)
        if loc is not None:
            locations.append(loc)
    for loc in locations:
        managing = loc.get("managingOrganization")
        if isinstance(managing, Mapping) and managing.get("reference"):
            eg, _ = orgs.eg_of(managing)
            if eg:
                return _Link(eg=eg, via="location.managingOrganization")
        for number, via in (
            (_reference_finess(managing), "location.managingOrganization.identifier"),
            (_location_finess(loc), "location.identifier"),
        ):
            if number:
                found = orgs.by_finess(number)
                shown = managing.get("display") if isinstance(managing, Mapping) else None
                return _Link(eg=found, finess=None if found else number, via=via,
                             display=shown or display)  # fmt: skip
    if reason is None:
        reason = "aucune organisation de rattachement (providedBy vide)"
    if not locations:
        reason += f" ; aucune Location de l'offre dans les fichiers (ajouter {_LOCATION_SEARCH})"
    else:
        reason += " ; ses Locations ne désignent aucun établissement (managingOrganization, "
        reason += "identifiant FINESS)"
    return _Link(reason=reason)



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


# --- extensions the loader does not read ----------------------------------------------------


def _extension_census(node: Any, counter: Counter[str], parent: str | None = None) -> None:
    """Count, per URL, every extension in ``node`` that the loader does not read: absolute
    URLs outside ``READ_EXTENSIONS``, and sub-extensions a read extension does not use
    (``url#name`` for relative names)."""
    if isinstance(node, list):
        for item in node:
            _extension_census(item, counter)
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key in ("extension", "modifierExtension"):
            for ext in _dicts(value):
                _count_extension(ext, counter, parent)
        elif key not in ("contained",) and isinstance(value, list | Mapping):
            _extension_census(value, counter)


def _count_extension(ext: Mapping[str, Any], counter: Counter[str], parent: str | None) -> None:
    url = str(ext.get("url") or "(sans url)")
    name = url.rsplit("/", 1)[-1]
    if parent is not None:
        if name not in READ_EXTENSIONS.get(parent, frozenset()):
            counter[url if "/" in url else f"{parent}#{url}"] += 1
            return
    elif name not in READ_EXTENSIONS or "/" not in url:
        counter[url] += 1
        return
    for sub in _dicts(ext.get("extension")):
        _count_extension(sub, counter, name if name in READ_EXTENSIONS else parent)


_TABLE_OF_TYPE = {"Organization": "etablissements", "HealthcareService": "unites",
                  "Location": "offres"}  # fmt: skip


def _unread_extensions(resources: _Resources, notes: Notes) -> dict[str, int]:
    """Report every extension not read, per resource type and URL; return URL → count."""
    total: Counter[str] = Counter()
    for kind, table in _TABLE_OF_TYPE.items():
        counter: Counter[str] = Counter()
        for _key, resource in resources.of_type(kind):
            _extension_census(resource, counter)
        for url, count in sorted(counter.items()):
            origin = (
                "extension du guide ROR non utilisée par l'atelier"
                if "/ig/fhir/ror" in url or url.startswith("ror-")
                else "extension non définie par le guide ROR"
            )
            notes.add(
                table,
                "extension_non_lue",
                f"{origin} : {url} ({count} occurrence(s) sur {kind})",
                value=url,
            )
        total.update(counter)
    return dict(sorted(total.items()))



# --- tables ---------------------------------------------------------------------------------


@dataclass
class _Tables:
    etablissements: list[dict[str, Any]] = field(default_factory=list)
    unites: list[dict[str, Any]] = field(default_factory=list)
    offres: list[dict[str, Any]] = field(default_factory=list)


def _address_fields(resource: Mapping[str, Any]) -> tuple[str | None, str | None]:
    address = next(iter(_dicts(resource.get("address"))), {})
    line = " ".join(str(x) for x in _list(address.get("line")) if x) or None
    return line, address.get("postalCode")


def _position(location: Mapping[str, Any]) -> tuple[str, str] | None:
    pos = location.get("position")
    if isinstance(pos, Mapping) and pos.get("latitude") is not None:
        try:
            return _fmt(float(pos["latitude"])), _fmt(float(pos["longitude"]))  # type: ignore[return-value]
        except (TypeError, ValueError):
            return None
    return None


@dataclass
class _Places:
    """The Locations seen for one establishment: communes, positions, addresses."""

    communes: Counter[str] = field(default_factory=Counter)
    positions: list[tuple[str, str]] = field(default_factory=list)
    addresses: list[tuple[str | None, str | None]] = field(default_factory=list)

    def add(self, location: Mapping[str, Any]) -> None:
        code = _commune(location)
        if code:
            self.communes[code] += 1
        pos = _position(location)
        if pos:
            self.positions.append(pos)
        line, postal = _address_fields(location)
        if line or postal:
            self.addresses.append((line, postal))


def _places(
    resources: _Resources, orgs: _Organisations, links: Mapping[str, _Link]
) -> dict[str, _Places]:
    """Locations per establishment (EG key or ``FINESS:<n>``): those its Organization manages
    and those of the offers linked to it."""
    out: dict[str, _Places] = {}
    seen: set[tuple[str, str]] = set()

    def add(target: str, loc_key: str, loc: Mapping[str, Any]) -> None:
        if (target, loc_key) not in seen:
            seen.add((target, loc_key))
            out.setdefault(target, _Places()).add(loc)

    for loc_key, loc in resources.of_type("Location"):
        eg, _ = orgs.eg_of(loc.get("managingOrganization"))
        if eg is not None:
            add(eg, loc_key, loc)
    for service_key, link in sorted(links.items()):
        target = link.eg or (f"FINESS:{link.finess}" if link.finess else None)
        if target is None:
            continue
        for ref in _list(resources.by_key[service_key].get("location")):
            loc_key, loc = resources.get(ref)
            if loc is not None and loc_key is not None:
                add(target, loc_key, loc)
    return out


def _commune_choice(
    row: dict[str, Any], found: Counter[str], key: str, position: int, notes: Notes
) -> None:
    commune = row["commune_insee"]
    if commune is None:
        row[LOADER_REJECT_COLUMN] = (
            f"commune INSEE inconnue pour {key} : aucune Location de cet EG ne porte "
            f"l'extension ror-commune-cog (ajouter {_LOCATION_SEARCH})"
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


def _establishments(
    orgs: _Organisations,
    resources: _Resources,
    links: Mapping[str, _Link],
    out: _Tables,
    notes: Notes,
) -> None:
    places = _places(resources, orgs, links)
    for key, org in sorted(orgs.eg.items()):
        _, ej = resources.get(org.get("partOf"))
        lat, lon = _geolocation(org)
        seen = places.get(key, _Places())
        if lat is None and len(set(seen.positions)) == 1:
            lat, lon = seen.positions[0]
        line, postal = _address_fields(org)
        commune = _commune(org) or (
            seen.communes.most_common(1)[0][0] if seen.communes else None
        )
        row: dict[str, Any] = {
            "finess_eg": _finess(org),
            "finess_ej": _finess(ej) if ej is not None else None,
            "raison_sociale": org.get("name"),
            "surnom": next((str(a) for a in _list(org.get("alias")) if a), None),
            "adresse": line,
            "code_postal": postal,
            "commune_insee": commune,
            "latitude": lat,
            "longitude": lon,
            "categorie": next(iter(_codes(org.get("type"), "categorie_eg")), None),
            "statut": _statut(ej),
            "telephone": _org_phone(org),
            "date_maj": (org.get("meta") or {}).get("lastUpdated"),
            "id_nat_struct": _id_nat_struct(org),
            SOURCE_COLUMN: resources.where[key],
        }
        position = len(out.etablissements) + 1
        found = Counter() if _commune(org) else seen.communes
        _commune_choice(row, found, key, position, notes)
        if key in orgs.lone:
            notes.add(
                "etablissements",
                "categorie_absente",
                f"{key} : FINESS sans catégorie d'établissement ni entité juridique, désigné "
                "par des offres : pris pour l'entité géographique (catégorie absente)",
                row=position,
                column="categorie",
                value=row["finess_eg"],
            )
        out.etablissements.append(row)
    _establishments_without_organization(links, places, out, notes)


def _establishments_without_organization(
    links: Mapping[str, _Link], places: Mapping[str, _Places], out: _Tables, notes: Notes
) -> None:
    """One row per FINESS number that offers name without its Organization in the files,
    built from their Locations."""
    displays: dict[str, str | None] = {}
    vias: dict[str, set[str]] = {}
    for _key, link in sorted(links.items()):
        if link.eg is None and link.finess:
            displays[link.finess] = displays.get(link.finess) or link.display
            vias.setdefault(link.finess, set()).add(link.via)
    for finess in sorted(displays):
        seen = places.get(f"FINESS:{finess}", _Places())
        addresses = sorted(set(seen.addresses), key=lambda a: (a[0] or "", a[1] or ""))
        line, postal = addresses[0] if len(addresses) == 1 else (None, None)
        lat, lon = seen.positions[0] if len(set(seen.positions)) == 1 else (None, None)
        name = displays[finess]
        row: dict[str, Any] = {
            "finess_eg": finess,
            "raison_sociale": name or f"Établissement FINESS {finess}",
            "adresse": line,
            "code_postal": postal,
            "commune_insee": seen.communes.most_common(1)[0][0] if seen.communes else None,
            "latitude": lat,
            "longitude": lon,
            SOURCE_COLUMN: f"FINESS {finess} ({', '.join(sorted(vias[finess]))})",
        }
        position = len(out.etablissements) + 1
        _commune_choice(row, seen.communes, f"FINESS {finess}", position, notes)
        notes.add(
            "etablissements",
            "organisation_absente",
            f"Organization du FINESS {finess} absente des fichiers : établissement décrit par "
            f"ses Locations{'' if name else ', raison sociale inconnue'} (ajouter "
            f"{_ORGANIZATION_SEARCH} pour sa catégorie, son statut, son adresse)",
            row=position,
            column="raison_sociale",
            value=row["raison_sociale"],
        )
        out.etablissements.append(row)


def _offer_identifier(service: Mapping[str, Any], key: str) -> str:
    """identifiantOffre: the identifier typed TRE_R355 35 (« Identifiant fonctionnel de l'offre
    connu par l'instance ROR »), else the first identifier, else ``Type/id``."""
    values = [i for i in _dicts(service.get("identifier")) if i.get("value")]
    typed = [
        i
        for i in values
        if any(
            str(c.get("code")) == OFFER_IDENTIFIER_TYPE
            and "R355" in str(c.get("system") or "").upper()
            for c in _codings(i.get("type"))
        )
    ]
    chosen = (typed or values or [{"value": key}])[0]
    return str(chosen["value"]).strip()


def _offer_rows(
    key: str,
    service: Mapping[str, Any],
    ages: _Ages,
    derivation: nomenclature.MentionDerivation,
    link: _Link,
    resources: _Resources,
    orgs: _Organisations,
    capacity: dict[str, _LocationCapacity],
    out: _Tables,
    notes: Notes,
) -> None:
    """One ``unites`` row and its ``offres`` row(s) for an SMR HealthcareService."""
    where = resources.where[key]
    ident = _offer_identifier(service, key)
    finess = _finess(orgs.eg[link.eg]) if link.eg else link.finess
    unit: dict[str, Any] = {
        "uo_id": ident,
        "finess_eg": finess,
        "nom": service.get("name"),
        "discipline": "SMR",
        "age_min": _whole_years(ages.low),
        "age_max": _whole_years(ages.high),
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
    if not link.ok:
        unit[LOADER_REJECT_COLUMN] = f"entité géographique introuvable : {link.reason}"
    unit_position = len(out.unites) + 1
    out.unites.append(unit)
    for text in ages.notes:
        notes.add("unites", "age_unite", text, row=unit_position, column="age_min")
    if link.ok and link.via.startswith("location"):
        notes.add(
            "unites",
            "rattachement_par_location",
            f"{key} rattachée à son établissement par sa Location ({link.via}) : providedBy "
            "absent ou sans entité géographique dans les fichiers",
            row=unit_position,
            column="finess_eg",
            value=finess,
        )

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
                f"(ajouter {_LOCATION_SEARCH})",
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


def _check_delivery(resources: _Resources, services: int, notes: Notes) -> None:
    """File-level remarks: missing pages, repeats, unused types, errors, unreadable lines."""
    if resources.totals and len(resources.matches) < max(resources.totals):
        notes.add(
            "offres",
            "pagination_incomplete",
            f"le serveur annonce {max(resources.totals)} résultat(s), les fichiers en "
            f"contiennent {len(resources.matches)} : pages de résultats manquantes ?",
        )
    for kind, count in sorted(resources.announced.items()):
        if resources.read_by_type[kind] < count:
            notes.add(
                "unites",
                "export_incomplet",
                f"le manifeste $export annonce {count} ressource(s) {kind}, les fichiers en "
                f"contiennent {resources.read_by_type[kind]} : fichiers manquants ?",
            )
    if resources.duplicates:
        notes.add(
            "unites",
            "ressources_en_double",
            f"{resources.duplicates} ressource(s) présente(s) dans plusieurs pages : la "
            "version la plus récente (meta.lastUpdated) est retenue",
        )
    if resources.other_types:
        kinds = ", ".join(f"{k} ({n})" for k, n in sorted(resources.other_types.items()))
        notes.add("unites", "ressources_ignorees", f"ressources non utilisées : {kinds}")
    for text in resources.outcomes[:_MAX_LISTED]:
        notes.add("unites", "reponse_erreur", f"réponse d'erreur du serveur : {text}")
    if len(resources.outcomes) > _MAX_LISTED:
        notes.add(
            "unites",
            "reponse_erreur",
            f"… et {len(resources.outcomes) - _MAX_LISTED} autre(s) réponse(s) d'erreur",
        )
    if resources.bad_lines:
        listed = ", ".join(resources.bad_lines[:_MAX_LISTED])
        more = " …" if len(resources.bad_lines) > _MAX_LISTED else ""
        notes.add(
            "unites",
            "ligne_ndjson_illisible",
            f"{len(resources.bad_lines)} ligne(s) NDJSON illisible(s), ressource(s) perdue(s) : "
            f"{listed}{more}",
        )
    if services == 0:
        notes.add("offres", "aucune_offre", "aucune HealthcareService dans les fichiers")


def load_fhir(source: str | Path | Sequence[str | Path]) -> LoadResult:
    """ROR FHIR data as raw ``etablissements``, ``unites`` and ``offres`` tables with notes.

    ``source`` is a file (Bundle, NDJSON, gzip-compressed or not), several, or a folder of
    them (search pages, ``$export`` output). Offers outside SMR (no type d'offre 100–112,
    champ other than 02, no SMR activity) are counted and left out. Raises ``InputError``
    naming the file for unreadable JSON or gzip, a file that is not FHIR (an
    OperationOutcome's diagnostics are quoted) or files without any ROR resource.
    """
    files = list_fhir_files(source)
    resources = _Resources()
    sources = []
    for path in files:
        raw, data = _file_bytes(path)
        if not data.strip():
            raise InputError("fichier vide.", path)
        details = _read_file(path, data, resources)
        sources.append(file_source(path, raw, FORMAT, **details))
    if not resources.by_key:
        names = ", ".join(p.name for p in files[:_MAX_LISTED])
        raise InputError(
            f"aucune ressource Organization, HealthcareService ou Location dans : {names}."
        )

    notes = Notes()
    orgs = _Organisations.classify(resources)
    capacity: dict[str, _LocationCapacity] = {}
    for key, location in resources.of_type("Location"):
        capacity[key] = _installed(key, location)
        for text in capacity[key].notes:
            notes.add("offres", "capacite_remarque", text, value=key)
        for text in capacity[key].unknown:
            notes.add("offres", "code_inconnu", f"code de capacité inconnu : {text}", value=key)

    services = resources.of_type("HealthcareService")
    outside: list[str] = []
    smr: list[tuple[str, Mapping[str, Any], _Ages, nomenclature.MentionDerivation]] = []
    for key, service in services:
        ages = _age_range(service)
        derivation = _derivation(service, ages)
        if derivation.is_smr:
            smr.append((key, service, ages, derivation))
        else:
            outside.append(key)
    links = {key: _link_offer(service, resources, orgs) for key, service, _, _ in smr}

    out = _Tables()
    _establishments(orgs, resources, links, out, notes)
    for key, service, ages, derivation in smr:
        _offer_rows(
            key, service, ages, derivation, links[key], resources, orgs, capacity, out, notes
        )
    if outside:
        listed = ", ".join(outside[:_MAX_LISTED]) + (" …" if len(outside) > _MAX_LISTED else "")
        notes.add(
            "unites",
            "hors_smr",
            f"{len(outside)} offre(s) hors champ SMR non importée(s) : {listed}",
        )
    _shared_locations(out, notes)
    _check_delivery(resources, len(services), notes)
    if orgs.ej and not orgs.eg and not any(link.finess for link in links.values()):
        notes.add(
            "etablissements",
            "aucun_eg",
            "aucune entité géographique : seules des entités juridiques sont présentes",
        )
    unread = _unread_extensions(resources, notes)

    tables = {}
    for name, rows in (
        ("etablissements", out.etablissements),
        ("unites", out.unites),
        ("offres", out.offres),
    ):
        columns = [*TABLES[name].names, SOURCE_COLUMN, LOADER_REJECT_COLUMN]
        tables[name] = text_frame(rows, columns)
    extra = {
        "format": FORMAT,
        "fichiers": len(files),
        "ressources": dict(sorted(resources.read_by_type.items())),
        "extensions_non_lues": unread,
    }
    return LoadResult(FORMAT, tables, notes.frame(), sources, extra)
