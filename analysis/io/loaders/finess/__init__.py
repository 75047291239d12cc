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

**Layout.** ``places`` (communes, départements, the filter, coordinates), ``extraction`` (the
CSV extraction file and the reference rows), ``activities`` (the JSON activity flow); this
module assembles them in ``load_finess``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from analysis.io.files import input_files, read_input
from analysis.io.loaders.canonical import decode_text
from analysis.io.loaders.finess.activities import (
    _Activities,
    _activity_code_notes,
    _filter_activities,
    _finish_activities,
    _read_activities,
    _smr_counts,
)
from analysis.io.loaders.finess.extraction import (
    _MAX_LISTED,
    GEO_FIELDS,
    STRUCTURE_FIELDS,
    _establishment_rows,
    _Establishments,
    _extraction_notes,
    _parse_lines,
    _reference_frame,
)
from analysis.io.loaders.finess.places import (
    COM_COMMUNES,
    COMMUNES_RENUMBERED,
    METROPOLE_CRS,
    OVERSEAS_CRS,
    OVERSEAS_DEPARTEMENTS,
    SOURCE_CRS,
    UTM_DATUMS,
    FinessFilter,
    _departement_of_finess,
    crs_from_source,
    departement_code,
    insee_commune,
    make_filter,
    to_wgs84,
)
from analysis.io.loaders.result import LoadResult, Notes, file_source, text_frame
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.schema import LOADER_REJECT_COLUMN, SOURCE_COLUMN, TABLES

__all__ = [
    "FORMAT",
    "STRUCTURE_FIELDS",
    "GEO_FIELDS",
    "OVERSEAS_DEPARTEMENTS",
    "COMMUNES_RENUMBERED",
    "COM_COMMUNES",
    "METROPOLE_CRS",
    "OVERSEAS_CRS",
    "SOURCE_CRS",
    "UTM_DATUMS",
    "insee_commune",
    "departement_code",
    "FinessFilter",
    "make_filter",
    "to_wgs84",
    "crs_from_source",
    "list_finess_files",
    "load_finess",
]

FORMAT = "finess"


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
        data = read_input(path)
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
