"""Read FINESS open data: the etalab extraction CSV (establishments) and the JSON activity flow.

The extraction file (``etalab-cs1100507-stock-AAAAMMJJ-HHMM.csv``, DOMAIN.md §4.1) has a
metadata first line (``finess;etalab;…``), then ``structureet`` lines (32 fields) and
``geolocalisation`` lines joined on ``nofinesset``; ``;``-separated, Windows-1252 in older
files and UTF-8 in recent ones (detected, never assumed). Variations seen in real files are
handled: the 2016 layout whose ``geolocalisation`` lines carry the coordinate source split
over extra fields; quoted fields with doubled quotes; SIRET numbers mangled into scientific
notation and phone numbers that lost their leading zero (kept as text, flagged).

Coordinates are projected and converted to WGS84 with pyproj in the system the line itself
names in ``sourcecoordet`` (``crs_from_source``): an EPSG code (2026 files:
``1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)``, ``…,EPSG:5490 RGAF09/UTM
Zone 20N``), a Lambert-93 word (2016 and 2020 files: ``…;LAMBERT_93``) or a UTM label
(``WGS84/UTM zone 21N (St-Pierre-et-Miquelon)``). Only when it names none is the system
guessed from the département (``OVERSEAS_CRS``, Lambert-93 in metropolitan France; an
overseas guess is noted), and a line naming another system than its département's is noted.
Communes are the current INSEE codes: Saint-Barthélemy and Saint-Martin, still filed as
Guadeloupe ``9A`` + ``123`` / ``127``, become 97701 / 97801 (so ``--departement 977`` keeps
them and ``--region 01`` does not); other communes of collectivités d'outre-mer are checked
against their COG list (``COM_COMMUNES``). The result is the ``etablissements`` table; an
optional filter keeps one region, some départements or some categories.

The newer JSON flow « Activités » (§4.2: ``pmej[] → ege[] → activitesExercees[]``) gives the
``autorisations`` table, read through the table of its natures
(``nomenclature.NATURES_ACTIVITE``, from the published schema v1.0.1: where each nature keeps
its activity, modality, form and mention codes; ``AMSR``/``ASMR`` and ``ASR``/``ASRC``
spellings): old SSR activities 50–59 (AASA, ASR, AMF natures) as ``regime = SSR`` rows, AMM
activities carrying an SMR mention as ``regime = SMR`` rows; an exercised activity takes the
ARHGOS number of the authorised activity it names. The report counts, per nature and code,
the activities read as SSR, as SMR and ignored (``activites_par_code``, also in the
manifest), and says when an AMM nature is present without any SMR mention recognised.

The extraction also gives the ``finess_etablissements`` reference table used by the ROR
quality requirements (``analysis.checks.quality``): FINESS EJ, category, opening date (``dateouv``)
of every establishment kept, and, when the activity flow is read too, its number of SMR
authorisations in force (``nb_autorisations_smr``: activities 50–59 or SMR mentions outside
the HAD form, ending on or after 2021-05-01, ``nomenclature.is_smr_authorisation``), counted
over every establishment of the flow. The public extraction lists establishments in activity
and carries neither closing date, closure type nor caducité [inferred]: those columns stay
empty, so every establishment listed with an opening date counts as open.

A line or activity that cannot be read is handed to validation as a rejected row with its
reason (``schema.LOADER_REJECT_COLUMN``); the rest of the file still loads.

Not read: the new JSON « structures » flow and ``structureej`` (legal entity) files, so the
legal status comes only from the ``libsph`` label (public / ESPIC, else unknown); fields
without a canonical column (fax, SIRET — only flagged when mangled —, APE, tariff mode, dates
of opening and authorisation, UAI); in the activity flow, capacities, events, commitments,
intervention zones, the decision date (``date_decision`` stays empty) and activities
authorised to a legal entity without an establishment exercising them (counted in a note).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analysis.io.files import input_files
from analysis.io.loaders.canonical import decode_json, decode_text
from analysis.io.loaders.result import LoadResult, Notes, file_source, text_frame
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.insee import FINESS_OVERSEAS, departement_of_commune
from analysis.model.schema import LOADER_REJECT_COLUMN, SOURCE_COLUMN, TABLES

FORMAT = "finess"

#: Fields of a ``structureet`` line, in file order (DOMAIN.md §4.1).
STRUCTURE_FIELDS = (
    "structureet", "nofinesset", "nofinessej", "rs", "rslongue", "complrs", "compldistrib",
    "numvoie", "typvoie", "voie", "compvoie", "lieuditbp", "commune", "departement",
    "libdepartement", "ligneacheminement", "telephone", "telecopie", "categetab",
    "libcategetab", "categagretab", "libcategagretab", "siret", "codeape", "codemft", "libmft",
    "codesph", "libsph", "dateouv", "dateautor", "datemaj", "numuai",
)  # fmt: skip
GEO_FIELDS = ("geolocalisation", "nofinesset", "coordxet", "coordyet", "sourcecoordet", "datemaj")

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

#: New-regime forms (TRE_R406) → old TRE_R276 forms where the meaning is the same (§1.6).
_FORMES_R406 = {"F04": "01", "F03": "03"}
_MODALITES_R405 = {"M01": "09"}

_SCIENTIFIC = re.compile(r"^\d+(?:[.,]\d+)?E[+-]?\d+$", re.IGNORECASE)
_POSTAL = re.compile(r"^\s*(\d{4,5})\b")
_MAX_LISTED = 10


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if np.isfinite(value) else None


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


# --- the extraction file -------------------------------------------------------------------


@dataclass
class _Geo:
    x: float | None
    y: float | None
    source: str | None
    line: int


@dataclass
class _Parsed:
    structures: list[tuple[int, list[str]]] = field(default_factory=list)
    bad: list[tuple[int, str, str | None]] = field(default_factory=list)  # line, reason, finess
    geo: dict[str, _Geo] = field(default_factory=dict)
    geo_duplicates: int = 0
    geo_bad: list[int] = field(default_factory=list)
    other_types: Counter[str] = field(default_factory=Counter)
    metadata: str | None = None


def _fields(line: str) -> list[str]:
    """The ``;``-separated fields of one line, quotes and doubled quotes honoured."""
    if '"' not in line:
        return line.split(";")
    return next(csv.reader([line], delimiter=";", strict=True))


def _parse_lines(text: str, path: Path) -> _Parsed:
    parsed = _Parsed()
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputError("fichier vide.", path)
    head = lines[first].strip().lower()
    if head.startswith("finess;"):
        parsed.metadata = lines[first].strip()
        start = first + 1
    elif head.startswith(("structureet;", "geolocalisation;")):
        start = first
    else:
        raise InputError(
            "ce n'est pas un fichier d'extraction FINESS : la première ligne devrait commencer "
            "par « finess;etalab » (ligne de métadonnées) ou « structureet; ».",
            path,
        )
    for index in range(start, len(lines)):
        line = lines[index].rstrip("\r")
        number = index + 1
        if not line.strip():
            continue
        kind = line.split(";", 1)[0].strip().strip('"').lower()
        try:
            fields = _fields(line)
        except csv.Error:
            if kind == "structureet":
                finess = _clean(line.split(";")[1]) if line.count(";") else None
                parsed.bad.append((number, "guillemets mal placés", finess))
            elif kind == "geolocalisation":
                parsed.geo_bad.append(number)
            else:
                parsed.other_types[kind or "(vide)"] += 1
            continue
        if kind == "structureet":
            if len(fields) == len(STRUCTURE_FIELDS):
                parsed.structures.append((number, fields))
            else:
                finess = _clean(fields[1]) if len(fields) > 1 else None
                parsed.bad.append(
                    (number, f"{len(fields)} champs au lieu de {len(STRUCTURE_FIELDS)}", finess)
                )
        elif kind == "geolocalisation":
            if len(fields) < 5 or not _clean(fields[1]):
                parsed.geo_bad.append(number)
                continue
            # 2016 files split sourcecoordet over extra fields: x, y stay fields 3 and 4.
            finess = fields[1].strip()
            source = ";".join(fields[4:-1]) if len(fields) > 5 else fields[4]
            if finess in parsed.geo:
                parsed.geo_duplicates += 1
            parsed.geo[finess] = _Geo(
                _number(fields[2]), _number(fields[3]), _clean(source), number
            )
        else:
            parsed.other_types[kind or "(vide)"] += 1
    return parsed


def _address(rec: Mapping[str, str | None]) -> str | None:
    street = " ".join(v for k in ("numvoie", "compvoie", "typvoie", "voie") if (v := rec.get(k)))
    parts = [p for p in (street, rec.get("lieuditbp")) if p]
    return ", ".join(parts) or None


def _postal_code(acheminement: str | None) -> str | None:
    match = _POSTAL.match(acheminement or "")
    return match.group(1) if match else None


@dataclass
class _Establishments:
    rows: list[dict[str, Any]]
    row_notes: list[tuple[int, str, str, str, str | None]]  # row, rule, reason, column, value
    all_finess: set[str]
    kept_finess: set[str]
    filtered_out: int


def _establishment_rows(
    parsed: _Parsed,
    path: Path,
    selection: FinessFilter,
    overseas_crs: Mapping[str, str],
    notes: Notes,
) -> _Establishments:
    allowed = selection.departement_set()
    categories = set(selection.categories)
    rows: list[dict[str, Any]] = []
    row_notes: list[tuple[int, str, str, str, str | None]] = []
    all_finess: set[str] = set()
    filtered_out = 0
    renumbered: Counter[str] = Counter()
    for number, fields in parsed.structures:
        rec = {name: _clean(v) for name, v in zip(STRUCTURE_FIELDS, fields, strict=True)}
        finess = rec["nofinesset"]
        if finess:
            all_finess.add(finess.upper())
        insee = insee_commune(rec["departement"], rec["commune"])
        dep = departement_of_commune(insee) if insee else _departement_of_finess(finess)
        if allowed is not None and dep not in allowed:
            filtered_out += 1
            continue
        if categories and rec["categetab"] not in categories:
            filtered_out += 1
            continue
        long_name, short = rec["rslongue"], rec["rs"]
        row = {
            "finess_eg": finess,
            "finess_ej": rec["nofinessej"],
            "raison_sociale": long_name or short,
            "surnom": short if long_name and short and short != long_name else None,
            "adresse": _address(rec),
            "code_postal": _postal_code(rec["ligneacheminement"]),
            "commune_insee": insee,
            "categorie": rec["categetab"],
            "statut": nomenclature.statut_from_legal_status(label=rec["libsph"]),
            "telephone": rec["telephone"],
            "date_maj": rec["datemaj"],
            SOURCE_COLUMN: f"{path.name}, ligne {number}",
            "_dep": dep,
            "_date_ouverture": rec["dateouv"],
        }
        position = len(rows) + 1
        if insee is None:
            row[LOADER_REJECT_COLUMN] = (
                f"commune INSEE introuvable : département « {rec['departement'] or ''} » et "
                f"commune « {rec['commune'] or ''} » ne forment pas un code (ligne {number})"
            )
        elif insee in COMMUNES_RENUMBERED.values():
            renumbered[insee] += 1
        elif dep in COM_COMMUNES and insee not in COM_COMMUNES[dep]:
            row_notes.append(
                (
                    position,
                    "commune_hors_cog",
                    f"commune {insee} inconnue du COG de la collectivité {dep} "
                    f"({', '.join(sorted(COM_COMMUNES[dep]))}) : à vérifier",
                    "commune_insee",
                    insee,
                )
            )
        siret = rec["siret"]
        if siret and _SCIENTIFIC.match(siret):
            row_notes.append(
                (
                    position,
                    "siret_notation_scientifique",
                    "SIRET altéré par un tableur (notation scientifique) : chiffres perdus, valeur "
                    "conservée telle quelle",
                    "siret",
                    siret,
                )
            )
        geo = parsed.geo.get((finess or "").strip())
        if geo is not None:
            row["_x"], row["_y"], row["_crs_source"] = geo.x, geo.y, geo.source
            if geo.x is None or geo.y is None:
                row_notes.append(
                    (
                        position,
                        "coordonnees_illisibles",
                        f"coordonnées FINESS illisibles (ligne {geo.line}) : position inconnue",
                        "latitude",
                        None,
                    )
                )
        rows.append(row)
    _convert_coordinates(rows, overseas_crs, notes, row_notes)
    for insee, count in sorted(renumbered.items()):
        old = next(f"97{c}" for (_, c), code in COMMUNES_RENUMBERED.items() if code == insee)
        notes.add(
            "etablissements",
            "commune_renumerotee",
            f"{path.name} : {count} établissement(s) de la commune FINESS {old} (ancien code "
            f"en Guadeloupe) lu(s) avec le code actuel {insee}",
            column="commune_insee",
            value=insee,
        )
    kept = {r["finess_eg"].upper() for r in rows if r["finess_eg"]}
    return _Establishments(rows, row_notes, all_finess, kept, filtered_out)


def _convert_coordinates(
    rows: list[dict[str, Any]],
    overseas_crs: Mapping[str, str],
    notes: Notes,
    row_notes: list[tuple[int, str, str, str, str | None]],
) -> None:
    """Fill latitude/longitude of the rows that have projected x/y, one pyproj call per CRS:
    the system ``sourcecoordet`` names, else the one of the département (noted overseas);
    a row whose named system differs from its département's is noted."""
    groups: dict[str, list[int]] = {}
    guessed: Counter[str] = Counter()
    for i, row in enumerate(rows):
        if row.get("_x") is None or row.get("_y") is None:
            continue
        crs, named, expected = _crs_for(row.get("_crs_source"), row.get("_dep"), overseas_crs)
        if named is None and expected != METROPOLE_CRS:
            guessed[expected] += 1
        elif named is not None and named != expected:
            row_notes.append(
                (
                    i + 1,
                    "projection_differente",
                    f"sourcecoordet nomme {named}, le département {row.get('_dep')} laisserait "
                    f"attendre {expected} : coordonnées lues en {named}",
                    "latitude",
                    row.get("_crs_source"),
                )
            )
        groups.setdefault(crs, []).append(i)
    for crs, indexes in groups.items():
        try:
            lon, lat = to_wgs84(
                [rows[i]["_x"] for i in indexes], [rows[i]["_y"] for i in indexes], crs
            )
        except InputError:
            for i in indexes:
                row_notes.append(
                    (i + 1, "projection_inconnue", f"système de coordonnées {crs} inconnu de "
                     "pyproj : position non calculée", "latitude", rows[i].get("_crs_source"))
                )  # fmt: skip
            continue
        for i, lo, la in zip(indexes, lon, lat, strict=True):
            if np.isfinite(lo) and np.isfinite(la):
                rows[i]["latitude"] = f"{la:.7f}"
                rows[i]["longitude"] = f"{lo:.7f}"
    for crs, count in sorted(guessed.items()):
        notes.add(
            "etablissements",
            "projection_non_verifiee",
            f"{count} établissement(s) d'outre-mer dont sourcecoordet ne nomme pas le système "
            f"de coordonnées : lues en {crs}, système déduit du département (non vérifié)",
        )


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


# --- public entry point --------------------------------------------------------------------


def _is_activity_file(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def list_finess_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """Input files of a FINESS import: a folder's .csv / .txt / .json files, or the files given."""
    return input_files(
        source,
        lambda p: p.suffix.lower() in (".csv", ".txt", ".json"),
        "aucun fichier FINESS (.csv, .txt ou .json).",
    )


def _add_row_notes(
    notes: Notes, table: str, row_notes: list[tuple[int, str, str, str, str | None]]
) -> None:
    for row, rule, reason, column, value in row_notes:
        notes.add(table, rule, reason, row=row, column=column, value=value)


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


def load_finess(
    source: str | Path | Sequence[str | Path],
    region: str | None = None,
    departements: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    crs_by_departement: Mapping[str, str] | None = None,
    natures: Sequence[nomenclature.NatureActivite] = nomenclature.NATURES_ACTIVITE,
) -> LoadResult:
    """FINESS open data as raw ``etablissements`` (and ``autorisations``) tables with notes.

    ``source`` is the extraction CSV, the JSON activity flow, both, or a folder holding them.
    ``region`` (INSEE code), ``departements`` and ``categories`` (``categetab`` codes) restrict
    the establishments kept (and the authorisations of those establishments); the number left
    out is noted. ``crs_by_departement`` overrides the overseas projections used when a line
    does not name its coordinate system (``OVERSEAS_CRS``); ``natures`` is the table of the
    activity flow's natures (``nomenclature.NATURES_ACTIVITE``). Raises ``InputError`` naming
    the file when a file cannot be read at all.
    """
    selection = make_filter(region, departements, categories)
    overseas = {**OVERSEAS_CRS, **(crs_by_departement or {})}
    files = list_finess_files(source)
    notes = Notes()
    sources: list[dict[str, Any]] = []
    tables: dict[str, pl.DataFrame] = {}
    extra: dict[str, Any] = {"format": FORMAT, "filtre": selection.describe()}
    establishment_rows: list[dict[str, Any]] = []
    establishment_notes: list[tuple[int, str, str, str, str | None]] = []
    establishments: _Establishments | None = None
    activities = _Activities([], [])
    metadata: list[str] = []

    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"lecture impossible ({exc.strerror}).", path) from None
        if not data.strip():
            raise InputError("fichier vide.", path)
        if _is_activity_file(path):
            part = _read_activities(path, data, natures)
            activities.rows.extend(part.rows)
            activities.other += part.other
            activities.ej_only.extend(part.ej_only)
            activities.versions.extend(part.versions)
            for label, outcomes in part.by_code.items():
                activities.by_code.setdefault(label, Counter()).update(outcomes)
            sources.append(
                file_source(path, data, FORMAT, contenu="activites", activites=len(part.rows))
            )
            continue
        text, encoding = decode_text(data, path)
        parsed = _parse_lines(text, path)
        if not parsed.structures and not parsed.bad:
            raise InputError(
                "aucune ligne « structureet » : fichier d'extraction incomplet ?", path
            )
        if parsed.metadata:
            metadata.append(parsed.metadata)
        part_est = _establishment_rows(parsed, path, selection, overseas, notes)
        offset = len(establishment_rows)
        establishment_rows.extend(part_est.rows)
        establishment_notes.extend((r + offset, *rest) for r, *rest in part_est.row_notes)
        allowed = selection.departement_set()
        for number, reason, finess in parsed.bad:
            if allowed is not None and _departement_of_finess(finess) not in allowed:
                part_est.filtered_out += 1
                continue
            establishment_rows.append(
                {
                    "finess_eg": finess,
                    SOURCE_COLUMN: f"{path.name}, ligne {number}",
                    LOADER_REJECT_COLUMN: f"ligne structureet illisible : {reason} (ligne {number})",
                }
            )
        if establishments is None:
            establishments = part_est
        else:
            establishments.all_finess |= part_est.all_finess
            establishments.kept_finess |= part_est.kept_finess
            establishments.filtered_out += part_est.filtered_out
        _extraction_notes(parsed, part_est, path, selection, notes)
        sources.append(
            file_source(
                path,
                data,
                FORMAT,
                contenu="extraction",
                encoding=encoding,
                structures=len(parsed.structures),
                geolocalisations=len(parsed.geo),
                metadonnees=parsed.metadata,
            )
        )

    if establishment_rows:
        columns = [*TABLES["etablissements"].names, SOURCE_COLUMN, LOADER_REJECT_COLUMN]
        tables["etablissements"] = text_frame(establishment_rows, columns)
        _add_row_notes(notes, "etablissements", establishment_notes)
    elif establishments is not None:
        tables["etablissements"] = text_frame([], TABLES["etablissements"].names)
    has_flow = any(_is_activity_file(p) for p in files)
    if establishments is not None:
        counts = _smr_counts(activities.rows) if has_flow else None
        tables["finess_etablissements"] = _reference_frame(establishment_rows, counts)

    if any(_is_activity_file(p) for p in files):
        _filter_activities(activities, selection, establishments, notes)
        _finish_activities(activities)
        columns = [*TABLES["autorisations"].names, SOURCE_COLUMN, LOADER_REJECT_COLUMN]
        tables["autorisations"] = text_frame(activities.rows, columns)
        _add_row_notes(notes, "autorisations", activities.row_notes)
        if activities.other:
            notes.add(
                "autorisations",
                "activite_hors_smr",
                f"{activities.other} activité(s) ni SSR (50–59) ni SMR (mention ME…) ignorée(s)",
            )
        extra["activites_par_code"] = _activity_code_notes(activities, natures, notes)
        if activities.versions:
            extra["flux_activites_version"] = sorted(set(activities.versions))
        if activities.ej_only:
            listed = ", ".join(activities.ej_only[:_MAX_LISTED])
            notes.add(
                "autorisations",
                "autorisation_sans_eg",
                f"{len(activities.ej_only)} autorisation(s) SSR/SMR de l'entité juridique sans "
                f"établissement géographique qui l'exerce, non importée(s) : {listed}",
            )
    if metadata:
        extra["metadonnees"] = metadata
    return LoadResult(FORMAT, tables, notes.frame(), sources, extra)


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


def _reference_frame(
    establishment_rows: list[dict[str, Any]], counts: Mapping[str, int] | None
) -> pl.DataFrame:
    """The ``finess_etablissements`` rows of the establishments read (unreadable lines are
    reported once, in ``etablissements``). ``counts`` is None without the activity flow:
    the number of SMR authorisations is then unknown (empty), not zero."""
    rows = []
    for row in establishment_rows:
        if row.get(LOADER_REJECT_COLUMN) or not row.get("finess_eg"):
            continue
        eg = row["finess_eg"].strip().upper()
        rows.append(
            {
                **{k: row.get(k) for k in ("finess_eg", "finess_ej", "raison_sociale",
                                           "commune_insee", "categorie")},
                "date_ouverture": row.get("_date_ouverture"),
                "nb_autorisations_smr": None if counts is None else str(counts.get(eg, 0)),
                SOURCE_COLUMN: row.get(SOURCE_COLUMN),
            }
        )
    columns = [*TABLES["finess_etablissements"].names, SOURCE_COLUMN]
    return text_frame(rows, columns)


def _extraction_notes(
    parsed: _Parsed,
    est: _Establishments,
    path: Path,
    selection: FinessFilter,
    notes: Notes,
) -> None:
    """File-level remarks: metadata line, filter, geolocation join, unknown line types."""
    if parsed.metadata is None:
        notes.add(
            "etablissements",
            "metadonnees_absentes",
            f"{path.name} : pas de ligne de métadonnées « finess;etalab… » en tête",
        )
    if est.filtered_out:
        notes.add(
            "etablissements",
            "hors_filtre",
            f"{path.name} : {est.filtered_out} établissement(s) hors du filtre "
            f"({selection.describe()}) non importé(s)",
        )
    without = sum(1 for r in est.rows if r.get("_x") is None and "_crs_source" not in r)
    if without:
        notes.add(
            "etablissements",
            "sans_geolocalisation",
            f"{path.name} : {without} établissement(s) sans ligne geolocalisation",
        )
    orphans = [f for f in parsed.geo if f.upper() not in est.all_finess]
    if orphans:
        notes.add(
            "etablissements",
            "geolocalisation_orpheline",
            f"{path.name} : {len(orphans)} ligne(s) geolocalisation sans structureet "
            "correspondante, ignorée(s)",
        )
    if parsed.geo_duplicates:
        notes.add(
            "etablissements",
            "geolocalisation_en_double",
            f"{path.name} : {parsed.geo_duplicates} établissement(s) géolocalisé(s) deux "
            "fois ; la dernière ligne est retenue",
        )
    if parsed.geo_bad:
        lines = ", ".join(str(n) for n in parsed.geo_bad[:_MAX_LISTED])
        notes.add(
            "etablissements",
            "geolocalisation_illisible",
            f"{path.name} : {len(parsed.geo_bad)} ligne(s) geolocalisation illisible(s) "
            f"(lignes {lines})",
        )
    if parsed.other_types:
        kinds = ", ".join(f"{k} ({n})" for k, n in parsed.other_types.most_common())
        notes.add(
            "etablissements",
            "type_de_ligne_inconnu",
            f"{path.name} : lignes d'un autre type ignorées : {kinds}",
        )
