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

**Layout.** ``codes`` (code systems, extensions, identifiers, small readers), ``reading``
(files into one index of resources; delivery-level remarks), ``links`` (EG / EJ, offer →
establishment), ``fields`` (what one resource says), ``tables`` (the canonical rows); this
module assembles them in ``load_fhir``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.io.loaders.fhir.codes import (
    _MAX_LISTED,
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
    FILE_SUFFIXES,
    FINESS_SYSTEMS,
    ID_NAT_STRUCT_SYSTEMS,
    ID_NAT_STRUCT_TYPE,
    INSTALLED,
    KEPT_TYPES,
    NO_AGE_LIMIT,
    OFFER_IDENTIFIER_TYPE,
    OI_SYSTEMS,
    PHONE_CHANNELS,
    PLACES,
    READ_EXTENSIONS,
    SYSTEMS,
)
from analysis.io.loaders.fhir.fields import (
    _age_range,
    _Ages,
    _derivation,
    _installed,
    _LocationCapacity,
)
from analysis.io.loaders.fhir.links import _link_offer, _Organisations
from analysis.io.loaders.fhir.reading import (
    _check_delivery,
    _file_bytes,
    _read_file,
    _Resources,
    _unread_extensions,
    list_bundle_files,
    list_fhir_files,
)
from analysis.io.loaders.fhir.tables import _establishments, _offer_rows, _shared_locations, _Tables
from analysis.io.loaders.result import LoadResult, Notes, file_source, text_frame
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.schema import LOADER_REJECT_COLUMN, SOURCE_COLUMN, TABLES

__all__ = [
    "FORMAT",
    "SYSTEMS",
    "FINESS_SYSTEMS",
    "ID_NAT_STRUCT_SYSTEMS",
    "ID_NAT_STRUCT_TYPE",
    "OI_SYSTEMS",
    "OFFER_IDENTIFIER_TYPE",
    "EXT_PATIENT_TYPE",
    "EXT_CONTACT",
    "EXT_CONTACT_TELECOM",
    "EXT_CHANNEL",
    "EXT_CAPACITY",
    "EXT_COMMUNE",
    "EXT_GEOLOCATION",
    "CAPACITY_NATURES",
    "CAPACITY_STATUSES",
    "CAPACITY_TEMPORALITIES",
    "INSTALLED",
    "CURRENT",
    "BEDS",
    "PLACES",
    "READ_EXTENSIONS",
    "PHONE_CHANNELS",
    "EMAIL_CHANNELS",
    "AGE_UNITS",
    "NO_AGE_LIMIT",
    "KEPT_TYPES",
    "FILE_SUFFIXES",
    "list_bundle_files",
    "list_fhir_files",
    "load_fhir",
]

FORMAT = "fhir"


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
