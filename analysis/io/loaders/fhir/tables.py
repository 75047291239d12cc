"""The canonical rows built from the linked resources: ``etablissements`` (with or without
their Organization), ``unites`` and ``offres``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.io.loaders.fhir.codes import (
    BEDS,
    OFFER_IDENTIFIER_TYPE,
    PLACES,
    _codes,
    _codings,
    _dicts,
    _finess,
    _fmt,
    _id_nat_struct,
    _list,
    _org_phone,
)
from analysis.io.loaders.fhir.fields import (
    _Ages,
    _care_modes,
    _closure,
    _commune,
    _contacts,
    _geolocation,
    _LocationCapacity,
    _statut,
    _whole_years,
)
from analysis.io.loaders.fhir.links import (
    _LOCATION_SEARCH,
    _ORGANIZATION_SEARCH,
    _Link,
    _Organisations,
)
from analysis.io.loaders.fhir.reading import _Resources
from analysis.io.loaders.result import Notes
from analysis.model import nomenclature
from analysis.model.schema import LOADER_REJECT_COLUMN, SOURCE_COLUMN

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
