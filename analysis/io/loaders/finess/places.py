"""Where a FINESS establishment is: INSEE commune and département codes rebuilt from the
FINESS fields, the filter by region, département and category, and coordinates converted
to WGS84 in the system the file names (or its département's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from analysis.model.errors import InputError
from analysis.model.insee import FINESS_OVERSEAS

#: Overseas FINESS département codes → the 3-digit INSEE département they stand for. The
#: INSEE commune code is then ``97``/``98`` + the 3-digit commune field (9C + 302 → 97302).
OVERSEAS_DEPARTEMENTS: dict[str, str] = FINESS_OVERSEAS
#: FINESS still files Saint-Barthélemy and Saint-Martin under Guadeloupe (``9A`` + commune
#: ``123`` / ``127``: the codes 97123 / 97127 they had before 2007). Since they became
#: collectivités d'outre-mer their official codes are 97701 and 97801 (INSEE COG).
COMMUNES_RENUMBERED: dict[tuple[str, str], str] = {("9A", "123"): "97701", ("9A", "127"): "97801"}
#: Communes of the collectivités d'outre-mer that FINESS may list (INSEE COG; they belong to
#: no region of the reference geography, so a code outside this list is flagged).
COM_COMMUNES: dict[str, frozenset[str]] = {
    "975": frozenset({"97501", "97502"}),  # Miquelon-Langlade, Saint-Pierre
    "977": frozenset({"97701"}),  # Saint-Barthélemy
    "978": frozenset({"97801"}),  # Saint-Martin
    "986": frozenset({"98611", "98612", "98613"}),  # Alo, Sigave, Uvea
}

#: Projection of metropolitan FINESS coordinates (verified: parsers convert 2154 → 4326, and
#: 2026 files name it: ``EPSG:2154 RGF93 / Lambert-93 (Métropole)``).
METROPOLE_CRS = "EPSG:2154"
#: Projection by INSEE département, used only when ``sourcecoordet`` does not name one. The
#: 2026 files name EPSG:5490 for the Antilles and « WGS84/UTM zone 21N » for
#: Saint-Pierre-et-Miquelon; Guyane, La Réunion and Mayotte are our choice of the current
#: French datum of their UTM zone [unverified]: pass ``crs_by_departement`` to change them.
OVERSEAS_CRS: dict[str, str] = {
    "971": "EPSG:5490",  # RGAF09 / UTM zone 20N
    "972": "EPSG:5490",
    "977": "EPSG:5490",
    "978": "EPSG:5490",
    "973": "EPSG:2972",  # RGFG95 / UTM zone 22N
    "974": "EPSG:2975",  # RGR92 / UTM zone 40S
    "976": "EPSG:4471",  # RGM04 / UTM zone 38S
    "975": "EPSG:32621",  # WGS 84 / UTM zone 21N
}
#: ``sourcecoordet`` words that name a projection outright (older files).
SOURCE_CRS = {"LAMBERT_93": METROPOLE_CRS, "LAMBERT93": METROPOLE_CRS, "LAMBERT-93": METROPOLE_CRS}
#: UTM zones named by a datum label (``RGAF09/UTM Zone 20N``): (datum, zone, hemisphere) → CRS.
#: WGS 84 zones are 326zz (north) and 327zz (south) for any zone.
UTM_DATUMS: dict[tuple[str, int, str], str] = {
    ("RGAF09", 20, "N"): "EPSG:5490",
    ("RRAF91", 20, "N"): "EPSG:4559",
    ("RGFG95", 22, "N"): "EPSG:2972",
    ("RGR92", 40, "S"): "EPSG:2975",
    ("RGM04", 38, "S"): "EPSG:4471",
    ("RGSPM06", 21, "N"): "EPSG:4467",
}


def insee_commune(departement: str | None, commune: str | None) -> str | None:
    """INSEE commune code from FINESS ``departement`` and 3-digit ``commune`` fields; else None.

    Metropolitan: département (2 characters, ``2A``/``2B`` for Corsica, a lost leading zero
    restored) + commune; overseas: ``97``/``98`` + commune (``9C`` + ``302`` → ``97302``);
    Saint-Barthélemy and Saint-Martin get their current codes (``9A`` + ``123`` → ``97701``).
    """
    dep = (departement or "").strip().upper()
    com = (commune or "").strip()
    if com.isdigit() and len(com) < 3:
        com = com.zfill(3)
    if not (com.isdigit() and len(com) == 3):
        return None
    if (dep, com) in COMMUNES_RENUMBERED:
        return COMMUNES_RENUMBERED[(dep, com)]
    if dep in OVERSEAS_DEPARTEMENTS:
        return OVERSEAS_DEPARTEMENTS[dep][:2] + com
    if dep.isdigit() and 1 <= len(dep) <= 2 and dep != "0" and dep != "00":
        return dep.zfill(2) + com
    if dep in ("2A", "2B"):
        return dep + com
    return None


def departement_code(value: str) -> str:
    """INSEE département code of a user's or a file's code: ``9C``→``973``, ``1``→``01``."""
    text = value.strip().upper()
    if text in OVERSEAS_DEPARTEMENTS:
        return OVERSEAS_DEPARTEMENTS[text]
    if text.isdigit() and len(text) == 1:
        return text.zfill(2)
    return text


def _departement_of_finess(finess: str | None) -> str | None:
    if not finess or len(finess) < 2:
        return None
    return departement_code(finess[:2])


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinessFilter:
    """Which establishments to keep: a region (INSEE code), départements, categories."""

    region: str | None = None
    departements: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.region or self.departements or self.categories)

    def describe(self) -> str:
        """The filter in French, for notes and the manifest."""
        parts = []
        if self.region:
            parts.append(f"région {self.region}")
        if self.departements:
            parts.append(f"départements {', '.join(self.departements)}")
        if self.categories:
            parts.append(f"catégories {', '.join(self.categories)}")
        return " ; ".join(parts) or "aucun"

    def departement_set(self) -> set[str] | None:
        """Départements allowed (None: all). Region and départements combine as an intersection."""
        allowed: set[str] | None = None
        if self.region:
            from analysis.geo import geography

            try:
                allowed = set(geography.region_departements(self.region))
            except Exception as exc:
                raise InputError(f"filtre FINESS : {exc}") from None
        if self.departements:
            chosen = {departement_code(d) for d in self.departements}
            allowed = chosen if allowed is None else allowed & chosen
        return allowed


def _split_codes(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values or ():
        out.extend(v.strip() for v in str(value).replace(";", ",").split(",") if v.strip())
    return tuple(dict.fromkeys(out))


def make_filter(
    region: str | None = None,
    departements: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
) -> FinessFilter:
    """A ``FinessFilter`` from user input (lists or comma-separated text, blanks ignored)."""
    reg = (region or "").strip() or None
    if reg and reg.isdigit():
        reg = reg.zfill(2)
    return FinessFilter(reg, _split_codes(departements), _split_codes(categories))


# --- coordinates ---------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _transformer(crs: str) -> Any:
    import pyproj

    return pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def to_wgs84(x: Sequence[float], y: Sequence[float], crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees, WGS84) of projected points ``x``/``y`` in metres."""
    try:
        lon, lat = _transformer(crs).transform(np.asarray(x, float), np.asarray(y, float))
    except Exception as exc:  # pyproj.exceptions.CRSError and friends
        raise InputError(f"projection « {crs} » inconnue de pyproj ({exc}).") from None
    return np.asarray(lon), np.asarray(lat)


_EPSG = re.compile(r"EPSG\s*[:=]?\s*(\d{4,5})", re.IGNORECASE)
_UTM = re.compile(r"UTM[\s_-]*(?:ZONE[\s_-]*)?(\d{1,2})\s*([NS])\b", re.IGNORECASE)


def crs_from_source(source: str | None) -> str | None:
    """The coordinate system a ``sourcecoordet`` names, or None when it names none.

    Reads an EPSG code (``…,EPSG:2154 RGF93 / Lambert-93 (Métropole)``), a Lambert-93 word
    (``…;LAMBERT_93``) or a UTM label (``WGS84/UTM zone 21N``, ``RGAF09/UTM Zone 20N``;
    ``UTM_DATUMS``). A UTM zone with an unknown datum gives None (the département decides).
    """
    text = (source or "").upper()
    if not text:
        return None
    match = _EPSG.search(text)
    if match:
        return f"EPSG:{int(match.group(1))}"
    compact = text.replace(" ", "")
    for word, crs in SOURCE_CRS.items():
        if word in compact:
            return crs
    utm = _UTM.search(text)
    if utm:
        zone, hemisphere = int(utm.group(1)), utm.group(2).upper()
        flat = re.sub(r"[\s_-]", "", text)
        if "WGS84" in flat:
            return f"EPSG:{(32600 if hemisphere == 'N' else 32700) + zone}"
        for (datum, z, h), crs in UTM_DATUMS.items():
            if datum in flat and (z, h) == (zone, hemisphere):
                return crs
    return None


def _crs_for(
    source: str | None, departement: str | None, overseas: Mapping[str, str]
) -> tuple[str, str | None, str]:
    """(CRS used, CRS named by the file or None, CRS expected for the département)."""
    expected = overseas.get(departement or "", METROPOLE_CRS)
    named = crs_from_source(source)
    return (named or expected), named, expected
