"""The etalab extraction file: its ``structureet`` and ``geolocalisation`` lines, the
``etablissements`` rows they give (coordinates converted), the ``finess_etablissements``
reference rows and the file-level remarks.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analysis.io.loaders.finess.places import (
    COM_COMMUNES,
    COMMUNES_RENUMBERED,
    METROPOLE_CRS,
    FinessFilter,
    _crs_for,
    _departement_of_finess,
    insee_commune,
    to_wgs84,
)
from analysis.io.loaders.result import Notes, text_frame
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.insee import departement_of_commune
from analysis.model.schema import LOADER_REJECT_COLUMN, SOURCE_COLUMN, TABLES

#: Fields of a ``structureet`` line, in file order (DOMAIN.md §4.1).
STRUCTURE_FIELDS = (
    "structureet", "nofinesset", "nofinessej", "rs", "rslongue", "complrs", "compldistrib",
    "numvoie", "typvoie", "voie", "compvoie", "lieuditbp", "commune", "departement",
    "libdepartement", "ligneacheminement", "telephone", "telecopie", "categetab",
    "libcategetab", "categagretab", "libcategagretab", "siret", "codeape", "codemft", "libmft",
    "codesph", "libsph", "dateouv", "dateautor", "datemaj", "numuai",
)  # fmt: skip
GEO_FIELDS = ("geolocalisation", "nofinesset", "coordxet", "coordyet", "sourcecoordet", "datemaj")


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
