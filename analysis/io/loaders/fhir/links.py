"""Which Organizations are EG or EJ, and how an offer reaches its establishment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.io.loaders.fhir.codes import (
    _MAX_DEPTH,
    _codes,
    _finess,
    _is_oi,
    _list,
    _reference_finess,
)
from analysis.io.loaders.fhir.reading import _Resources

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
