"""The planner's OQOS files: targets, zoning and applications; the store's setting.

Three files a planner already has, as CSV (UTF-8 or Windows-1252; ``;``, ``,`` or tab) or
Excel (first sheet holding the columns; title lines above the header are skipped). Headers
are matched without regard to case, accents, spaces or punctuation, through the small mapping
``HEADERS`` (French wordings accepted: « Zone d'implantation », « Borne basse »…); extra
columns are ignored. Lines are numbered as in a spreadsheet (header = line 1 of the table).
Format and examples: ``docs/oqos.md``; columns: ``schema.PLANNING_FILES``.

- **targets** (``cibles``): ``zone``, ``mention`` (code ME050 or label), ``forme`` (optional:
  HC, HJ or ``toutes``; empty = toutes), ``min``, ``max`` (whole numbers ≥ 0; an empty bound
  means none; min ≤ max). One line per zone × mention × forme.
- **zoning** (``zonage``): ``commune_insee`` → ``zone`` with an optional ``libelle_zone``
  (the code when absent). Without a file, the zoning is the départements of the region
  (:func:`zoning_setup`; said wherever it is used). Codes of former communes are read as
  their current commune; communes of other regions are ignored (counted in the notes).
- **applications** (``demandes``, optional): ``mention``, ``finess_eg`` and/or
  ``commune_insee`` (a new site has no FINESS yet), optional ``demande_id``, ``forme`` (HC,
  HJ or empty), ``date_depot``, ``date_decision`` (AAAA-MM-JJ or JJ/MM/AAAA; empty decision:
  still pending). The snapshot tables hold no application (the ``autorisations`` table only
  holds decisions), hence this file.

A file that cannot be used raises :class:`~analysis.errors.InputError` (one French line: the
file, the line, the column, the reason, and how many other problems follow).

**Store setting.** ``STORE/oqos/`` holds one file of each kind and ``reglage.json`` (original
name, date, checksum, ``fictif`` for the demo's illustrative files), like the population
setting (``analysis.populations``): the app and ``smr oqos`` use them when no file is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from analysis.geo import geography as geo
from analysis.io.files import read_input, write_atomic
from analysis.io.loaders.canonical import decode_text, read_delimited
from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.model.errors import InputError, StoreError
from analysis.model.text import fold_key as fold

#: The target forme that takes every forme.
ALL_FORMES = nom.ALL_FORMES

TARGET_SCHEMA: dict[str, pl.DataType] = {
    "zone": pl.String(),
    "mention": pl.String(),
    "forme": pl.String(),
    "min": pl.Int64(),
    "max": pl.Int64(),
}
ZONING_SCHEMA: dict[str, pl.DataType] = {
    "commune_insee": pl.String(),
    "zone": pl.String(),
    "libelle_zone": pl.String(),
}
APPLICATION_SCHEMA: dict[str, pl.DataType] = {
    "demande_id": pl.String(),
    "finess_eg": pl.String(),
    "commune_insee": pl.String(),
    "mention": pl.String(),
    "forme": pl.String(),
    "date_depot": pl.Date(),
    "date_decision": pl.Date(),
}


def default_zoning(communes: pl.DataFrame, names: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The default zoning: one zone per département of ``communes`` (``geo.load_communes``),
    labelled with its name from ``names`` (code → name) when known."""
    names = dict(names or {})
    return (
        communes.select(
            "commune_insee",
            pl.col("departement").alias("zone"),
        )
        .with_columns(
            pl.col("zone").replace_strict(names, default=pl.col("zone")).alias("libelle_zone")
        )
        .cast(ZONING_SCHEMA)
        .sort("commune_insee")
    )


TARGETS, ZONING, APPLICATIONS = "cibles", "zonage", "demandes"
KINDS: dict[str, str] = {
    TARGETS: "objectifs (cibles)",
    ZONING: "zonage",
    APPLICATIONS: "demandes d'autorisation",
}
#: Folder of a store holding its OQOS files and ``reglage.json``.
STORE_DIR = "oqos"
SETTING_FILE = "reglage.json"
#: Sub-folder of ``STORE/oqos/`` keeping the zones' outlines drawn from a zoning (derived
#: data, safe to delete: recomputed when absent); the newest ``SHAPES_KEPT`` files are kept.
SHAPES_DIR = "contours"
SHAPES_KEPT = 8
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
MAX_BYTES = 50 * 1024 * 1024

#: Canonical column → accepted headers, folded (lower case, no accents, ``_`` for spaces and
#: punctuation); the first one found wins.
HEADERS: dict[str, tuple[str, ...]] = {
    "zone": (
        "zone", "code_zone", "zone_d_implantation", "zone_implantation", "code_zone_implantation",
        "zone_de_planification", "territoire", "code_territoire", "territoire_de_sante",
    ),
    "libelle_zone": (
        "libelle_zone", "nom_zone", "libelle_de_la_zone", "nom_de_la_zone", "zone_libelle",
        "libelle_territoire", "nom_territoire", "libelle",
    ),
    "commune_insee": (
        "commune_insee", "code_commune", "code_insee", "codgeo", "depcom", "insee",
        "code_commune_insee", "com",
    ),
    "mention": ("mention", "code_mention", "mention_smr", "libelle_mention"),
    "forme": (
        "forme", "forme_activite", "forme_d_activite", "forme_de_prise_en_charge",
        "modalite_de_prise_en_charge",
    ),
    "min": (
        "min", "minimum", "borne_basse", "borne_min", "borne_minimale", "nb_min",
        "implantations_min", "nombre_minimum", "oqos_min", "cible_min",
    ),
    "max": (
        "max", "maximum", "borne_haute", "borne_max", "borne_maximale", "nb_max",
        "implantations_max", "nombre_maximum", "oqos_max", "cible_max",
    ),
    "finess_eg": (
        "finess_eg", "finess", "numero_finess", "finess_et", "finess_geographique",
        "n_finess", "no_finess",
    ),
    "demande_id": ("demande_id", "n_de_demande", "numero_demande", "numero_de_demande",
                   "n_demande", "no_demande", "id_demande", "reference", "numero_dossier"),
    "date_depot": ("date_depot", "date_de_depot", "depot", "date_reception",
                   "date_de_reception"),
    "date_decision": ("date_decision", "date_de_decision", "decision_le"),
}

#: Columns of each file (``schema.PLANNING_FILES``): (required, optional).
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    kind: (
        tuple(c.name for c in table.columns if c.required),
        tuple(c.name for c in table.columns if not c.required),
    )
    for kind, table in schema.PLANNING_FILES.items()
}

#: Forme wordings accepted in a target or application, folded → target forme.
_FORMES: dict[str, str] = {
    "hc": "HC", "hospitalisation_complete": "HC", "complete": "HC", "01": "HC", "1": "HC",
    "hj": "HJ", "htp": "HJ", "hospitalisation_de_jour": "HJ", "temps_partiel": "HJ",
    "hospitalisation_a_temps_partiel": "HJ", "hospitalisation_partielle": "HJ", "02": "HJ",
    "03": "HJ", "2": "HJ", "3": "HJ",
    "toutes": ALL_FORMES, "tous": ALL_FORMES, "toutes_formes": ALL_FORMES,
    "toute_forme": ALL_FORMES, "ensemble": ALL_FORMES,
}  # fmt: skip


def _short(value: object, limit: int = 40) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Table:
    """A file's rows as text under canonical column names, with their spreadsheet lines."""

    frame: pl.DataFrame  # canonical columns found + ``_line``
    found: dict[str, str]  # canonical → header as written


def _bytes_of(data: str | Path | bytes, name: str | None) -> tuple[bytes, str, object]:
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise InputError("fichier trop volumineux (plus de 50 Mo)", name or "fichier envoyé")
        return data, name or "fichier envoyé", name or "fichier envoyé"
    path = Path(data)
    return read_input(path, max_bytes=MAX_BYTES), name or path.name, path


def _match(headers: list[str], kind: str) -> dict[str, int]:
    """Canonical column → index of its header, for the columns of ``kind`` present."""
    folded = [fold(h) for h in headers]
    required, optional = COLUMNS[kind]
    out: dict[str, int] = {}
    for col in (*required, *optional):
        for alias in HEADERS[col]:
            if alias in folded and folded.index(alias) not in out.values():
                out[col] = folded.index(alias)
                break
    return out


def _has_required(headers: list[str], kind: str) -> bool:
    found = _match(headers, kind)
    return all(c in found for c in COLUMNS[kind][0])


def _excel_rows(raw: bytes, source: object, kind: str) -> tuple[list[str], list[list[str]], int]:
    try:
        sheets = pl.read_excel(raw, sheet_id=0, has_header=False, infer_schema_length=0,
                               raise_if_empty=False)
    except Exception:  # noqa: BLE001 - any engine error means the same to the planner
        raise InputError("classeur Excel illisible ou corrompu", source) from None
    for frame in sheets.values():
        rows = [["" if v is None else str(v).strip() for v in r]
                for r in frame.cast(pl.String).iter_rows()]
        for i, row in enumerate(rows[:30]):
            if _has_required(row, kind):
                return row, rows[i + 1 :], i + 1
    raise _missing_columns([], kind, source)


def _text_rows(raw: bytes, name: str, source: object, kind: str
               ) -> tuple[list[str], list[list[str]], int]:
    text, _ = decode_text(raw, Path(name))
    skip = 0
    for i, line in enumerate(text.splitlines()[:30]):
        cells = [c.strip().strip('"') for c in re.split(r"[;,\t]", line)]
        if _has_required(cells, kind):
            skip = i
            break
    table = read_delimited(raw, Path(str(source)), skip_lines=skip).frame
    rows = [["" if v is None else str(v).strip() for v in r] for r in table.iter_rows()]
    return list(table.columns), rows, skip + 1


def _missing_columns(headers: list[str], kind: str, source: object) -> InputError:
    required, optional = COLUMNS[kind]
    found = _match(headers, kind)
    missing = [c for c in required if c not in found]
    wanted = "; ".join(
        f"{c} (ou {', '.join(HEADERS[c][1:4])})" for c in (missing or required)
    )
    listed = ", ".join(_short(h) for h in headers) or "aucune"
    return InputError(
        f"colonne(s) manquante(s) pour un fichier de {KINDS[kind]} : {wanted} ; colonnes lues : "
        f"{listed} (voir docs/oqos.md)",
        source,
    )


def _read(data: str | Path | bytes, name: str | None, kind: str) -> tuple[_Table, object]:
    raw, name, source = _bytes_of(data, name)
    if not raw.strip():
        raise InputError("fichier vide", source)
    if Path(name).suffix.lower() in EXCEL_SUFFIXES:
        headers, rows, header_line = _excel_rows(raw, source, kind)
    else:
        headers, rows, header_line = _text_rows(raw, name, source, kind)
    found = _match(headers, kind)
    if not all(c in found for c in COLUMNS[kind][0]):
        raise _missing_columns(headers, kind, source)
    width = len(headers)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = list(range(header_line + 1, header_line + 1 + len(rows)))
    keep = [i for i, r in enumerate(rows) if any(v for v in r)]
    frame = pl.DataFrame(
        {"_line": [lines[i] for i in keep]}
        | {col: [rows[i][idx] for i in keep] for col, idx in found.items()},
        schema={"_line": pl.Int64} | {col: pl.String for col in found},
    )
    if frame.height == 0:
        raise InputError("aucune ligne de données après l'en-tête", source)
    return _Table(frame, {c: headers[i] for c, i in found.items()}), source


class _Problems:
    """French messages of the problems found, in line order; raised as one line."""

    def __init__(self, source: object) -> None:
        self.source = source
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, column: str | None, reason: str) -> None:
        where = f"ligne {line}" + (f", colonne {column}" if column else "")
        self.items.append((line, f"{where} : {reason}"))

    def raise_if_any(self) -> None:
        if self.items:
            self.items.sort()
            more = f" (et {len(self.items) - 1} autre(s) erreur(s))" if len(self.items) > 1 else ""
            raise InputError(self.items[0][1] + more, self.source)


def _header(table: _Table, col: str) -> str:
    return table.found.get(col, col)


def _bound(text: str) -> tuple[int | None, bool]:
    """A bound: None when empty; (value, True) when a whole number ≥ 0, else (None, False)."""
    value = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    if value == "" or value in ("-", "—"):
        return None, True
    try:
        number = float(value)
    except ValueError:
        return None, False
    if number < 0 or number != int(number):
        return None, False
    return int(number), True


def _forme(text: str, allow_all: bool = True) -> str | None:
    if not text.strip():
        return ALL_FORMES if allow_all else None
    return _FORMES.get(fold(text)) or _FORMES.get(fold(text.split("(")[-1]))


def _insee(text: str) -> str | None:
    code = text.strip().upper()
    if len(code) == 5 and code.isascii() and code.isdigit():
        return code  # the usual case, as the patterns below would read it
    if re.fullmatch(r"\d+\.0", code):
        code = code[:-2]
    if re.fullmatch(r"\d{4}", code):
        code = code.zfill(5)
    return code if re.fullmatch(r"\d{5}|2[AB]\d{3}", code) else None


def _finess(text: str) -> str | None:
    code = text.strip().upper()
    if re.fullmatch(r"\d{8}", code):
        code = code.zfill(9)
    return code if re.fullmatch(r"[0-9A-Z]{9}", code) else None


def _date(text: str) -> tuple[dt.date | None, bool]:
    value = text.strip()
    if not value:
        return None, True
    for pattern, order in ((r"(\d{4})-(\d{2})-(\d{2})", "ymd"), (r"(\d{2})/(\d{2})/(\d{4})", "dmy")):
        m = re.match(pattern, value)
        if m:
            y, mo, d = (m.group(1), m.group(2), m.group(3)) if order == "ymd" else (
                m.group(3), m.group(2), m.group(1))
            try:
                return dt.date(int(y), int(mo), int(d)), True
            except ValueError:
                return None, False
    if re.fullmatch(r"\d{5}(\.0+)?", value):  # an Excel serial day
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(value))), True
    return None, False


def read_targets(
    data: str | Path | bytes, name: str | None = None, zones: Collection[str] | None = None
) -> pl.DataFrame:
    """The targets file, checked: zone, mention (code), forme (HC, HJ, toutes), min, max.

    ``zones``: the zones of the zoning in use; a target of another zone is refused (naming
    the line). Refused too: an unknown mention or forme, a bound that is not a whole number
    ≥ 0, min > max, a zone × mention × forme given twice. Raises ``InputError``.
    """
    table, source = _read(data, name, TARGETS)
    problems = _Problems(source)
    known = set(zones) if zones is not None else None
    rows, seen = [], {}
    for r in table.frame.iter_rows(named=True):
        line = r["_line"]
        zone = r["zone"].strip()
        if not zone:
            problems.add(line, _header(table, "zone"), "zone vide")
            continue
        if known is not None and zone not in known:
            sample = ", ".join(sorted(known)[:6]) + (" …" if len(known) > 6 else "")
            problems.add(line, _header(table, "zone"),
                         f"zone « {_short(zone)} » absente du zonage (zones : {sample})")
        mention = nom.find_mention(r["mention"])
        if mention is None:
            problems.add(line, _header(table, "mention"),
                         f"mention inconnue « {_short(r['mention'])} » (code ME050… ou libellé)")
        forme = _forme(r.get("forme") or "")
        if forme is None:
            problems.add(line, _header(table, "forme"),
                         f"forme inconnue « {_short(r['forme'])} » (HC, HJ ou toutes)")
        bounds = {}
        for col in ("min", "max"):
            value, ok = _bound(r[col])
            if not ok:
                problems.add(line, _header(table, col),
                             f"« {_short(r[col])} » n'est pas un nombre entier positif ou nul "
                             "(vide : pas de borne)")
            bounds[col] = value
        if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
            problems.add(line, None,
                         f"minimum {bounds['min']} supérieur au maximum {bounds['max']}")
        key = (zone, mention, forme)
        if mention and forme and key in seen:
            problems.add(line, None,
                         f"objectif en double : zone {zone}, mention {mention}, forme {forme} "
                         f"(déjà ligne {seen[key]})")
        seen.setdefault(key, line)
        rows.append({"zone": zone, "mention": mention, "forme": forme} | bounds)
    problems.raise_if_any()
    return pl.DataFrame(rows, schema=TARGET_SCHEMA, orient="row")


@dataclass(frozen=True)
class ZoningFile:
    """A zoning read: ``frame`` (commune_insee, zone, libelle_zone) and what was set aside
    (``notes``: other regions' communes, communes of the region absent)."""

    frame: pl.DataFrame
    notes: tuple[str, ...] = field(default=())


def read_zoning(
    data: str | Path | bytes,
    name: str | None = None,
    communes: pl.DataFrame | None = None,
    former: pl.DataFrame | None = None,
) -> ZoningFile:
    """The zoning file, checked: one zone per commune.

    ``communes``: the region's communes (``geo.load_communes``): codes of other regions are
    set aside (noted), the region's communes the file leaves out are noted. ``former``:
    former communes (``geo.load_former_communes``) read as their current commune. Refused: an
    invalid commune code, an empty zone, a commune in two zones, a zone with two labels.
    """
    table, source = _read(data, name, ZONING)
    problems = _Problems(source)
    moves = {}
    if former is not None and former.height:
        moves = dict(
            former.filter(pl.col("commune_insee") != pl.col("commune_parent"))
            .select("commune_insee", "commune_parent")
            .iter_rows()
        )
    region = set(communes["commune_insee"].to_list()) if communes is not None else None
    rows: list[dict] = []
    zone_of: dict[str, tuple[str, int]] = {}
    label_of: dict[str, tuple[str, int]] = {}
    elsewhere = 0
    for r in table.frame.iter_rows(named=True):
        line = r["_line"]
        code = _insee(r["commune_insee"])
        zone = r["zone"].strip()
        label = (r.get("libelle_zone") or "").strip() or zone
        if code is None:
            problems.add(line, _header(table, "commune_insee"),
                         f"code commune « {_short(r['commune_insee'])} » invalide (5 caractères "
                         "INSEE, ex. 75056)")
            continue
        if not zone:
            problems.add(line, _header(table, "zone"), "zone vide")
            continue
        code = moves.get(code, code)
        if region is not None and code not in region:
            elsewhere += 1
            continue
        if code in zone_of and zone_of[code][0] != zone:
            problems.add(line, _header(table, "zone"),
                         f"commune {code} déjà dans la zone {zone_of[code][0]} "
                         f"(ligne {zone_of[code][1]})")
            continue
        if zone in label_of and label_of[zone][0] != label:
            problems.add(line, _header(table, "libelle_zone"),
                         f"zone {zone} déjà nommée « {_short(label_of[zone][0])} » "
                         f"(ligne {label_of[zone][1]})")
            continue
        zone_of.setdefault(code, (zone, line))
        label_of.setdefault(zone, (label, line))
        rows.append({"commune_insee": code, "zone": zone, "libelle_zone": label})
    problems.raise_if_any()
    if not rows:
        raise InputError("aucune commune de la région dans le fichier de zonage", source)
    frame = pl.DataFrame(rows, schema=ZONING_SCHEMA, orient="row").unique(
        "commune_insee", keep="first", maintain_order=True
    )
    notes = []
    if elsewhere:
        notes.append(f"{elsewhere} ligne(s) de communes hors de la région ignorée(s)")
    if region is not None:
        absent = len(region - set(frame["commune_insee"].to_list()))
        if absent:
            notes.append(f"{absent} commune(s) de la région absente(s) du zonage : leurs "
                         "établissements sont hors zonage")
    return ZoningFile(frame, tuple(notes))


def read_applications(data: str | Path | bytes, name: str | None = None) -> pl.DataFrame:
    """The applications file, checked (``APPLICATION_SCHEMA``).

    Each line needs a mention and a FINESS EG or a commune; a line without ``demande_id``
    gets ``L<line>``. Refused: an unknown mention or forme, an invalid FINESS, commune or
    date, a decision dated before the filing, an identifier given twice.
    """
    table, source = _read(data, name, APPLICATIONS)
    problems = _Problems(source)
    rows, seen = [], {}
    for r in table.frame.iter_rows(named=True):
        line = r["_line"]
        mention = nom.find_mention(r["mention"])
        if mention is None:
            problems.add(line, _header(table, "mention"),
                         f"mention inconnue « {_short(r['mention'])} » (code ME050… ou libellé)")
        raw_finess = (r.get("finess_eg") or "").strip()
        raw_commune = (r.get("commune_insee") or "").strip()
        finess = _finess(raw_finess) if raw_finess else None
        commune = _insee(raw_commune) if raw_commune else None
        if raw_finess and finess is None:
            problems.add(line, _header(table, "finess_eg"),
                         f"numéro FINESS « {_short(raw_finess)} » invalide (9 caractères)")
        if raw_commune and commune is None:
            problems.add(line, _header(table, "commune_insee"),
                         f"code commune « {_short(raw_commune)} » invalide")
        if not raw_finess and not raw_commune:
            problems.add(line, None, "ni FINESS ni commune : impossible de placer la demande "
                         "dans une zone")
        forme = _forme(r.get("forme") or "", allow_all=True)
        if forme is None:
            problems.add(line, _header(table, "forme"),
                         f"forme inconnue « {_short(r['forme'])} » (HC, HJ ou vide)")
        dates = {}
        for col in ("date_depot", "date_decision"):
            value, ok = _date(r.get(col) or "")
            if not ok:
                problems.add(line, _header(table, col),
                             f"date « {_short(r[col])} » invalide (AAAA-MM-JJ ou JJ/MM/AAAA)")
            dates[col] = value
        if dates["date_depot"] and dates["date_decision"] and (
            dates["date_decision"] < dates["date_depot"]
        ):
            problems.add(line, None, "décision antérieure au dépôt")
        ident = (r.get("demande_id") or "").strip() or f"L{line}"
        if ident in seen:
            problems.add(line, _header(table, "demande_id"),
                         f"demande {ident} en double (déjà ligne {seen[ident]})")
        seen.setdefault(ident, line)
        rows.append({
            "demande_id": ident, "finess_eg": finess, "commune_insee": commune,
            "mention": mention, "forme": None if forme == ALL_FORMES else forme,
        } | dates)
    problems.raise_if_any()
    return pl.DataFrame(rows, schema=APPLICATION_SCHEMA, orient="row")


# ------------------------------------------------------------------------- store setting


def _store_dir(store: str | Path) -> Path:
    return Path(store) / STORE_DIR


def store_info(store: str | Path) -> dict[str, dict]:
    """The store's OQOS setting: kind → {fichier, nom_origine, enregistre_le, sha256,
    fictif} for the kinds saved ({} when none)."""
    path = _store_dir(store) / SETTING_FILE
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise StoreError(f"réglage des objectifs OQOS illisible : {path}") from None
    return {k: v for k, v in info.items() if k in KINDS and isinstance(v, dict)}


def store_file(store: str | Path, kind: str) -> tuple[bytes, str, dict] | None:
    """The bytes, name and setting of the store's file of ``kind``, or None."""
    info = store_info(store).get(kind)
    if info is None:
        return None
    path = _store_dir(store) / str(info.get("fichier", ""))
    if not path.is_file():
        raise StoreError(f"fichier de {KINDS[kind]} du magasin introuvable : {path}")
    data = path.read_bytes()
    if info.get("sha256") and hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise StoreError(f"fichier de {KINDS[kind]} du magasin modifié ou corrompu : {path}")
    return data, str(info.get("nom_origine") or info["fichier"]), info


def save_store_file(
    store: str | Path,
    kind: str,
    data: bytes,
    name: str,
    *,
    fictif: bool = False,
    saved_at: str | None = None,
) -> Path:
    """Make ``data`` (a file of ``kind``, named ``name``) the store's default for that kind.

    The file is read first (an unusable file raises ``InputError`` and nothing changes);
    written as ``<kind><suffix>`` in ``STORE/oqos/`` through a temporary file renamed at the
    end, then the setting. ``fictif`` marks the demo's illustrative files; ``saved_at`` fixes
    the date written (the demo's files are the same bytes at every build).
    """
    if kind not in KINDS:
        raise ValueError(kind)
    if not Path(store).is_dir():
        raise StoreError(f"magasin introuvable : {store}")
    {TARGETS: read_targets, ZONING: read_zoning, APPLICATIONS: read_applications}[kind](data, name)
    suffix = Path(name).suffix.lower()
    suffix = suffix if suffix in (".csv", ".txt", *EXCEL_SUFFIXES) else ".csv"
    folder = _store_dir(store)
    folder.mkdir(exist_ok=True)
    info = store_info(store)
    old = info.get(kind, {}).get("fichier")
    target = folder / f"{kind}{suffix}"
    write_atomic(target, data)
    info[kind] = {
        "fichier": target.name,
        "nom_origine": Path(name).name,
        "enregistre_le": saved_at or dt.datetime.now().isoformat(timespec="seconds"),
        "sha256": hashlib.sha256(data).hexdigest(),
        "fictif": fictif,
    }
    text = json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    write_atomic(folder / SETTING_FILE, text.encode("utf-8"))
    if old and old != target.name:
        (folder / old).unlink(missing_ok=True)
    return target


def clear_store_file(store: str | Path, kind: str) -> bool:
    """Remove the store's file of ``kind`` from the setting; True if there was one."""
    info = store_info(store)
    entry = info.pop(kind, None)
    if entry is None:
        return False
    folder = _store_dir(store)
    text = json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    write_atomic(folder / SETTING_FILE, text.encode("utf-8"))
    (folder / str(entry.get("fichier", ""))).unlink(missing_ok=True)
    return True


def cached_features(
    store: str | Path, key: Sequence[str], build: Callable[[], str], *, save: bool = True
) -> list[dict]:
    """GeoJSON features kept in ``STORE/oqos/contours/`` under the checksum of ``key`` (what
    they are computed from: zoning, reference geography, region, simplification).

    ``build`` gives the FeatureCollection text when no readable copy is there (the zones'
    dissolve takes seconds nationally); it is then written, atomically, unless ``save`` is
    False (a read-only deployment) or the store cannot be written to. The features returned
    are parsed from the same text either way, so a copy read back equals a fresh one.
    """
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:32]
    folder = _store_dir(store) / SHAPES_DIR
    path = folder / f"{digest}.geojson"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or unreadable: computed again (and rewritten)
    text = build()
    features = json.loads(text)["features"]
    if save and Path(store).is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
            kept = sorted(folder.glob("*.geojson"), key=lambda p: p.stat().st_mtime_ns)
            for old in kept[:-SHAPES_KEPT]:
                old.unlink(missing_ok=True)
        except OSError:
            pass  # a store that cannot be written to: computed again next time
    return features


# --------------------------------------------------------------------------- inputs

FILE, STORE, DEFAULT = "fichier", "magasin", "défaut"


class NoTargetsError(InputError):
    """Neither a targets file given nor one saved for the store."""


@dataclass(frozen=True)
class OqosInputs:
    """The targets, zoning and applications in use, and where each comes from.

    ``origins``: kind → ``fichier`` (given for this run), ``magasin`` (the store's setting)
    or ``défaut`` (zoning: the départements; applications: none). ``names``: kind → file
    name. ``fictif``: the kinds whose store file is the demo's illustration.
    """

    targets: pl.DataFrame
    zoning: pl.DataFrame
    applications: pl.DataFrame | None
    origins: dict[str, str]
    names: dict[str, str]
    fictif: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()

    def zoning_caption(self) -> str:
        """« Zonage : … » for captions, command output and the method note."""
        zones = self.zoning["zone"].n_unique()
        if self.origins[ZONING] == DEFAULT:
            return (f"Zonage : départements de la région ({zones} zones), zonage par défaut "
                    "faute de fichier de zonage.")
        where = "réglage du magasin, " if self.origins[ZONING] == STORE else ""
        fict = " ; zonage fictif de démonstration" if ZONING in self.fictif else ""
        return f"Zonage : {zones} zones ({where}fichier {self.names[ZONING]}{fict})."

    def caption(self) -> str:
        """The three inputs in one French sentence."""
        where = {FILE: "fichier", STORE: "réglage du magasin"}
        targets = (f"Objectifs : {self.targets.height} ({where[self.origins[TARGETS]]} "
                   f"{self.names[TARGETS]}" + (", fictifs" if TARGETS in self.fictif else "")
                   + ").")
        if self.applications is None:
            apps = "Demandes d'autorisation : aucun fichier, colonne « demandées » vide."
        else:
            apps = (f"Demandes d'autorisation : {self.applications.height} "
                    f"({where[self.origins[APPLICATIONS]]} {self.names[APPLICATIONS]}"
                    + (", fictives" if APPLICATIONS in self.fictif else "") + ").")
        return f"{targets} {self.zoning_caption()} {apps}"


Source = tuple[bytes, str] | str | Path | None


def _given(source: Source) -> tuple[bytes, str] | None:
    if source is None:
        return None
    if isinstance(source, tuple):
        return source
    path = Path(source)
    data, name, _ = _bytes_of(path, None)
    return data, name


def region_zoning(region: str, reference_dir: str | Path | None = None) -> pl.DataFrame:
    """The default zoning of ``region``: its départements (named)."""
    deps = geo.load_departements(region, reference_dir)
    names = dict(zip(deps["departement"], deps["nom"], strict=True))
    return default_zoning(geo.load_communes(region, reference_dir), names)


def zoning_setup(
    region: str,
    store: str | Path | None = None,
    zonage: Source = None,
    reference_dir: str | Path | None = None,
) -> tuple[pl.DataFrame, str, str, bool, tuple[str, ...]]:
    """The zoning in use: (frame, origin, name, fictif, notes). The file given, else the
    store's, else the départements of the region."""
    given = _given(zonage)
    origin, fictif = FILE, False
    if given is None and store is not None:
        saved = store_file(store, ZONING)
        if saved is not None:
            given, origin, fictif = saved[:2], STORE, bool(saved[2].get("fictif"))
    if given is None:
        return region_zoning(region, reference_dir), DEFAULT, "", False, ()
    data, name = given
    read = read_zoning(data, name, geo.load_communes(region, reference_dir),
                       geo.load_former_communes(region, reference_dir))
    return read.frame, origin, name, fictif, read.notes


def inputs_for(
    region: str,
    store: str | Path | None = None,
    cibles: Source = None,
    zonage: Source = None,
    demandes: Source = None,
    reference_dir: str | Path | None = None,
) -> OqosInputs:
    """The OQOS inputs of a command or a page: each file given (a path, or bytes and a name),
    else the store's setting; the zoning defaults to the départements, the applications to
    none. Raises ``InputError`` when there are no targets at all."""
    zoning, z_origin, z_name, z_fict, notes = zoning_setup(region, store, zonage, reference_dir)
    origins, names, fictif = {ZONING: z_origin}, {ZONING: z_name}, set()
    if z_fict:
        fictif.add(ZONING)
    frames: dict[str, pl.DataFrame | None] = {}
    zones = set(zoning["zone"].to_list())
    for kind, given in ((TARGETS, _given(cibles)), (APPLICATIONS, _given(demandes))):
        origin = FILE
        if given is None and store is not None:
            saved = store_file(store, kind)
            if saved is not None:
                given, origin = saved[:2], STORE
                if saved[2].get("fictif"):
                    fictif.add(kind)
        if given is None:
            frames[kind] = None
            origins[kind] = DEFAULT
            continue
        data, name = given
        frames[kind] = (read_targets(data, name, zones) if kind == TARGETS
                        else read_applications(data, name))
        origins[kind], names[kind] = origin, name
    if frames[TARGETS] is None:
        raise NoTargetsError(
            "aucun objectif : donner un fichier d'objectifs (--cibles, ou téléversement sur la "
            "page Objectifs) ou en enregistrer un pour le magasin (format : docs/oqos.md)"
        )
    return OqosInputs(frames[TARGETS], zoning, frames[APPLICATIONS], origins, names,
                      frozenset(fictif), notes)
