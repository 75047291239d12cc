"""Read a snapshot's source files laid out as the canonical tables, every value as text.

A source folder holds one file per table, named after it (``etablissements.csv``,
``unites.parquet``, …). CSV-like files (``.csv``, ``.tsv``, ``.txt``) are decoded after
detecting their encoding (UTF-8 with or without BOM, else Windows-1252) and separator
(``;``, ``,`` or tab, sniffed on the first lines with quotes respected). Every column is read
as text so that leading zeros (FINESS, INSEE, phone numbers) and odd values survive until
``analysis.io.validate`` checks and types them. A file that cannot be read at all raises
``InputError`` naming the file and the problem; problems in single rows are not this
module's business.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from analysis.io.files import read_input
from analysis.io.loaders.layout import fast_structure
from analysis.model import formats
from analysis.model.errors import InputError
from analysis.model.schema import TABLES

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet",)
SUFFIXES = TEXT_SUFFIXES + PARQUET_SUFFIXES

#: Candidate separators, in order of preference when the sniffing cannot tell.
SEPARATORS = (";", ",", "\t")
SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
UTF16 = "utf-16"
CP1252 = "windows-1252"

_SNIFF_CHARS = 64 * 1024  # how much text the separator sniffing and binary checks look at
_SNIFF_RECORDS = 20  # data records compared with the header when sniffing
_MAX_LISTED = 5  # bad lines named in an error message

# Control characters that never occur in a text export (tab, CR, LF excluded).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Magic numbers of formats that are often saved with a wrong extension.
_MAGIC = (
    (b"PK\x03\x04", "une archive ZIP ou un classeur Excel (.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "un ancien classeur Excel (.xls)"),
    (b"%PDF", "un document PDF"),
    (b"PAR1", "un fichier Parquet (renommez-le en .parquet)"),
    (b"\x1f\x8b", "une archive gzip"),
)


@dataclass(frozen=True, eq=False)
class RawTable:
    """One source file read as text: the frame (all ``pl.String``) and where it came from.

    ``encoding`` and ``separator`` are ``None`` for Parquet files. ``unknown_columns`` are
    columns that are not part of the canonical table: kept in ``frame`` (validation reports
    them) but not stored. ``blank_rows`` counts empty lines skipped while reading.
    """

    table: str
    frame: pl.DataFrame
    path: Path
    sha256: str
    encoding: str | None
    separator: str | None
    unknown_columns: tuple[str, ...] = ()
    blank_rows: int = 0

    @property
    def rows(self) -> int:
        """Number of data rows read (header and blank lines excluded)."""
        return self.frame.height

    def source(self) -> dict[str, Any]:
        """Description of the source file for a snapshot manifest (file name only, no path)."""
        return {
            "table": self.table,
            "file": self.path.name,
            "sha256": self.sha256,
            "encoding": self.encoding,
            "separator": self.separator,
            "rows": self.rows,
            "blank_rows": self.blank_rows,
            "unknown_columns": list(self.unknown_columns),
        }


def _reject_binary_prefix(data: bytes, path: Path) -> None:
    """Raise when the bytes are obviously not a text export (known magic, NUL bytes)."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"ce n'est pas un fichier texte : il s'agit d'{what}.", path)
    if b"\x00" in data[:_SNIFF_CHARS]:
        raise InputError(
            "ce n'est pas un fichier texte (octets nuls : fichier binaire ou encodage non pris "
            "en charge).",
            path,
        )


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """Decoded text and the encoding detected: BOM first, then strict UTF-8, then Windows-1252.

    UTF-16 is accepted only with its BOM (Excel's « Texte Unicode » export).
    """
    if data.startswith(codecs.BOM_UTF8):
        encoding = UTF8_BOM
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = UTF16
    else:
        _reject_binary_prefix(data, path)
        encoding = UTF8
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != UTF8:
            raise InputError(
                f"le fichier annonce l'encodage {encoding} (BOM) mais ne le respecte pas.", path
            ) from None
        try:
            text = data.decode(CP1252)
        except UnicodeDecodeError:
            raise InputError(
                "contenu illisible : ni UTF-8 ni Windows-1252 (fichier binaire ?).", path
            ) from None
        encoding = CP1252
    sample = text[:_SNIFF_CHARS]
    if len(_CONTROL.findall(sample)) > 2 + len(sample) // 200:
        raise InputError("ce n'est pas un fichier texte (caractères de contrôle).", path)
    return text, encoding


def _normalise_text(text: str) -> str:
    """Text with a trailing DOS end-of-file mark removed and old Mac line ends turned into LF."""
    text = text.rstrip("\x1a")
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")
    return text


def _text_unchanged(data: bytes) -> bool:
    """True when ``_normalise_text`` leaves the text of ``data`` as it is (no DOS end-of-file
    mark, no old Mac line ends), so that ``data`` still encodes it."""
    return not data.endswith(b"\x1a") and (b"\r" not in data or b"\n" in data)


def _sniff_separator(text: str) -> str:
    """The separator that splits the header and the first records most consistently.

    Each candidate is tried with a quote-aware parser on the first lines; the winner gives the
    header more than one field and the same number of fields on most of the following records.
    A one-column file gets the first candidate (the separator does not matter then).
    """
    sample = text[:_SNIFF_CHARS]
    truncated = len(sample) < len(text)
    if truncated and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    best, best_score = SEPARATORS[0], (False, -1.0, 0)
    for sep in SEPARATORS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=sep)
        try:
            records = [r for r in itertools.islice(reader, 4 * _SNIFF_RECORDS) if r]
        except csv.Error:
            continue
        if truncated and len(records) > 1:
            records = records[:-1]  # the sample may end inside a multi-line record
        if not records:
            continue
        width = len(records[0])
        body = records[1 : 1 + _SNIFF_RECORDS]
        consistent = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (width > 1, consistent, width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _is_blank(record: list[str]) -> bool:
    # every field blank ⇔ their concatenation is blank (one C call instead of one per field)
    return not "".join(record).strip()


def _plain_structure(text: str, sep: str) -> tuple[list[str], int, int, list[tuple[int, int]]] | None:
    """``_check_structure``'s reading of a text without quotes, one record per line (a short
    path: splitting lines instead of running the CSV parser); ``None`` when the text has
    quotes, NUL bytes, lone carriage returns or a line past the CSV field size limit, which
    the CSV parser alone reads right. Also returns the records of the wrong width (line,
    number of fields)."""
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if lines and max(map(len, lines)) > csv.field_size_limit():
        return None
    header: list[str] | None = None
    records = blanks = 0
    bad: list[tuple[int, int]] = []
    width = 0
    for number, line in enumerate(lines, start=1):
        if not line.replace(sep, "").strip():  # every field blank (or an empty line)
            if header is not None:
                blanks += 1
            continue
        if header is None:
            header = line.split(sep)
            width = len(header) - 1
            continue
        if line.count(sep) != width:
            bad.append((number, line.count(sep) + 1))
        else:
            records += 1
    if header is None:
        return None
    return header, records, blanks, bad


def _check_structure(
    text: str, sep: str, path: Path, payload: bytes | None = None
) -> tuple[list[str], int, int]:
    """Header, number of data records and number of blank records, after checking the layout.

    Raises ``InputError`` on a quote left open, badly placed quotes or records whose number of
    fields differs from the header's (naming the lines, counted as in a text editor).
    ``payload``, when given, is ``text`` encoded in UTF-8.
    """
    fast = fast_structure(text, sep, payload)
    if fast is not None:
        return fast
    return _exact_structure(text, sep, path)


def _exact_structure(text: str, sep: str, path: Path) -> tuple[list[str], int, int]:
    """``_check_structure`` line by line (the CSV module, or a split of the lines when the text
    has no quotes): the path that names the faulty lines."""
    plain = _plain_structure(text, sep)
    if plain is not None:
        header, records, blanks, bad = plain
        if bad:
            _raise_bad_widths(bad, header, path)
        return header, records, blanks
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    header: list[str] | None = None
    records = blanks = 0
    bad: list[tuple[int, int]] = []
    last_line = 0
    start = 1
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            if header is None:
                if record and not _is_blank(record):
                    header = record
                continue
            if not record or (len(record) != len(header) and _is_blank(record)):
                blanks += 1
                continue
            if len(record) != len(header):
                bad.append((start, len(record)))
            elif _is_blank(record):
                blanks += 1
            else:
                records += 1
    except csv.Error as exc:
        start = last_line + 1
        message = str(exc)
        if "field larger than field limit" in message:
            limit = formats.integer(csv.field_size_limit())
            raise InputError(
                f"un champ de l'enregistrement commençant à la ligne {start} dépasse {limit} "
                "caractères : guillemet non fermé, séparateur non reconnu ou fichier qui n'est "
                "pas un export tabulaire.",
                path,
            ) from None
        if "unexpected end of data" in message:
            raise InputError(
                f"guillemet non fermé : le champ ouvert à la ligne {start} ne se termine jamais "
                "(fichier tronqué ?).",
                path,
            ) from None
        raise InputError(
            f"guillemets mal placés dans l'enregistrement commençant à la ligne {start}.", path
        ) from None
    if header is None:
        raise InputError("fichier vide : aucune ligne d'en-tête.", path)
    if bad:
        _raise_bad_widths(bad, header, path)
    return header, records, blanks


def _raise_bad_widths(bad: list[tuple[int, int]], header: list[str], path: Path) -> None:
    """Raise ``InputError`` naming the first records whose width differs from the header's."""
    listed = ", ".join(f"ligne {line} ({n} champs)" for line, n in bad[:_MAX_LISTED])
    more = f" et {len(bad) - _MAX_LISTED} autre(s)" if len(bad) > _MAX_LISTED else ""
    raise InputError(
        f"{len(bad)} ligne(s) n'ont pas le nombre de champs de l'en-tête ({len(header)}) : "
        f"{listed}{more}.",
        path,
    )


def _frame_from_records(text: str, sep: str, width: int) -> pl.DataFrame:
    """Slow but exact path: build the frame from Python's CSV parser (used when Polars differs)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows = [r for r in reader if r and not _is_blank(r)][1:]
    names = [f"c{i}" for i in range(width)]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pl.DataFrame(
        {n: pl.Series(n, list(c), dtype=pl.String) for n, c in zip(names, columns, strict=True)}
    )


def _read_delimited(
    text: str, sep: str, width: int, records: int, blanks: int = 1, payload: bytes | None = None
) -> pl.DataFrame:
    """All-text frame of the data records, blank ones removed, empty fields as null.

    ``blanks`` is the number of blank records the layout check found (none: no filter);
    ``payload``, when given, is ``text`` encoded in UTF-8 (the file's own bytes, spared a
    second encoding)."""
    exact = False
    try:
        frame = pl.read_csv(
            text.encode("utf-8") if payload is None else payload,
            separator=sep,
            has_header=True,
            infer_schema=False,
            quote_char='"',
            raise_if_empty=False,
        )
        if frame.width != width:
            raise ValueError("column count differs from the header")
        frame.columns = [f"c{i}" for i in range(width)]
        if blanks:
            blank = pl.all_horizontal(pl.all().str.strip_chars().fill_null("") == "")
            frame = frame.filter(~blank)
        if frame.height != records:
            raise ValueError("record count differs from the CSV parser")
    except Exception:  # Polars disagrees with the checked layout: trust the CSV module
        frame = _frame_from_records(text, sep, width)
        exact = True
    if not exact and '"' not in text:
        return frame  # Polars reads an unquoted empty field as null: no empty text to clear
    # Empty text comes from quoted empty fields ("") or from the CSV module: made null.
    empty = frame.select((pl.all() == "").any()).row(0, named=True)
    cleared = [name for name, found in empty.items() if found]
    return frame.with_columns(pl.col(cleared).replace("", None)) if cleared else frame


def _header_names(header: list[str], frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Frame with the header names (stripped); nameless empty columns dropped, duplicates refused."""
    names = [h.strip() for h in header]
    keep = []
    for i, name in enumerate(names):
        if name:
            keep.append(i)
        elif frame.get_column(frame.columns[i]).drop_nulls().str.strip_chars().ne("").any():
            raise InputError(
                f"la colonne n° {i + 1} n'a pas de nom mais contient des valeurs.", path
            )
    duplicated = sorted({names[i] for i in keep if names.count(names[i]) > 1})
    if duplicated:
        raise InputError(f"colonnes en double dans l'en-tête : {', '.join(duplicated)}.", path)
    frame = frame.select([frame.columns[i] for i in keep])
    frame.columns = [names[i] for i in keep]
    return frame


def _parquet_as_text(data: bytes, path: Path) -> pl.DataFrame:
    """A Parquet file with every column cast to text (dates ISO, datetimes ``YYYY-MM-DDTHH:MM:SS``)."""
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception:
        raise InputError("fichier Parquet illisible ou corrompu.", path) from None
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Datetime:
            exprs.append(pl.col(name).dt.to_string("%Y-%m-%dT%H:%M:%S"))
        elif dtype.is_nested():
            raise InputError(f"la colonne « {name} » a un type imbriqué non pris en charge.", path)
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return frame.select(exprs)


def _check_required(columns: list[str], table: str, path: Path) -> None:
    """Raise when required columns are missing, naming them (and a near match if any).

    Checked before anything else about the header so that a file without a header (first row
    of data taken as names) is reported without echoing its values.
    """
    missing = [c for c in TABLES[table].required if c not in columns]
    if missing:
        lowered = {c.lower(): c for c in columns}
        hints = [
            f"{m} (présente sous le nom « {lowered[m.lower()]} » ?)" if m.lower() in lowered else m
            for m in missing
        ]
        raise InputError(
            f"colonnes obligatoires absentes pour la table {table} : {', '.join(hints)}.", path
        )


def _unknown_columns(columns: list[str], table: str, path: Path) -> tuple[str, ...]:
    """Columns of the file that the canonical table does not have (kept, reported)."""
    known = set(TABLES[table].names)
    unknown = tuple(c for c in columns if c not in known)
    if unknown:
        log.warning("%s : colonnes inconnues ignorées : %s", path.name, ", ".join(unknown))
    return unknown


@dataclass(frozen=True, eq=False)
class DelimitedText:
    """A delimited text file read as text: header names, all-``pl.String`` frame, dialect."""

    frame: pl.DataFrame
    encoding: str
    separator: str
    blank_rows: int


def decode_text(data: bytes, path: Path) -> tuple[str, str]:
    """Text of a file's bytes and the encoding detected (UTF-8 with or without BOM, UTF-16 with
    BOM, else Windows-1252), with line ends normalised.

    Shared by every text loader so that encodings are detected one way. Raises ``InputError``
    naming ``path`` for binary content (known magic numbers, NUL bytes, control characters).
    """
    text, encoding = _decode(data, path)
    return _normalise_text(text), encoding


def decode_json(data: bytes, path: Path) -> Any:
    """The JSON document in a file's bytes, decoded like every text file (``decode_text``).

    Raises ``InputError`` naming ``path`` with the line and column of a syntax error, the
    usual sign of a truncated download.
    """
    text, _ = decode_text(data, path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"JSON illisible (ligne {exc.lineno}, colonne {exc.colno} : {exc.msg}) ; fichier "
            "tronqué ?",
            path,
        ) from None


def read_delimited(
    data: bytes,
    path: Path,
    check_header: Callable[[list[str]], None] | None = None,
    skip_lines: int = 0,
) -> DelimitedText:
    """Read delimited text (``;``, ``,`` or tab sniffed; quotes and line breaks in fields) as text.

    ``check_header`` receives the stripped header names before any value is read (so a file
    without a header is reported without echoing its values); ``skip_lines`` drops that many
    physical lines before the header (a title above an export's header). Raises
    ``InputError`` naming ``path`` when the file cannot be read as a whole.
    """
    text, encoding = decode_text(data, path)
    if skip_lines:
        text = "".join(text.splitlines(keepends=True)[skip_lines:])
    if not text or text.isspace():  # blank (without copying the text)
        raise InputError("fichier vide : aucune ligne d'en-tête.", path)
    sep = _sniff_separator(text)
    unchanged = encoding == UTF8 and not skip_lines and _text_unchanged(data)
    payload = data if unchanged else None
    header, records, blanks = _check_structure(text, sep, path, payload)
    if check_header is not None:
        check_header([h.strip() for h in header])
    frame = _read_delimited(text, sep, len(header), records, blanks, payload=payload)
    frame = _header_names(header, frame, path)
    return DelimitedText(frame, encoding, sep, blanks)


def read_table_file(path: str | Path, table: str) -> RawTable:
    """Read one source file of ``table`` (CSV / TSV / TXT / Parquet) with every value as text.

    Rows keep the file's order; blank lines are skipped. Raises ``InputError`` (French
    message naming the file) when the file cannot be read as a whole.
    """
    path = Path(path)
    if table not in TABLES:
        raise InputError(f"table inconnue « {table} » ; tables possibles : {', '.join(TABLES)}.")
    data = read_input(path)
    sha256 = hashlib.sha256(data).hexdigest()
    if not data or data.isspace():  # blank (no copy of the bytes, unlike strip)
        raise InputError("fichier vide : aucune ligne d'en-tête.", path)

    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = _parquet_as_text(data, path)
        _check_required(frame.columns, table, path)
        unknown = _unknown_columns(frame.columns, table, path)
        return RawTable(table, frame, path, sha256, None, None, unknown)

    text = read_delimited(data, path, lambda header: _check_required(header, table, path))
    unknown = _unknown_columns(text.frame.columns, table, path)
    return RawTable(
        table, text.frame, path, sha256, text.encoding, text.separator, unknown, text.blank_rows
    )


def read_source_dir(path: str | Path) -> dict[str, RawTable]:
    """Read every recognised table file of a source folder, in canonical table order.

    A file is recognised by its name: ``<table>.<csv|tsv|txt|parquet>`` (case ignored). Other
    files are ignored. Raises ``InputError`` when the folder is missing, holds no recognised
    file, or holds two files for the same table.
    """
    folder = Path(path)
    if not folder.exists():
        raise InputError("dossier introuvable.", folder)
    if not folder.is_dir():
        raise InputError("ce n'est pas un dossier.", folder)
    found: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        name = entry.name.lower()
        suffix = next((s for s in SUFFIXES if name.endswith(s)), None)
        if suffix is None or not entry.is_file():
            continue
        stem = name[: -len(suffix)]
        if stem in TABLES:
            found.setdefault(stem, []).append(entry)
    if not found:
        expected = ", ".join(f"{t}.csv" for t in TABLES)
        raise InputError(
            f"aucun fichier de table reconnu ; noms attendus : {expected} "
            "(ou .tsv, .txt, .parquet).",
            folder,
        )
    for table, files in found.items():
        if len(files) > 1:
            names = ", ".join(f.name for f in files)
            raise InputError(f"plusieurs fichiers pour la table {table} : {names}.", folder)
    return {t: read_table_file(found[t][0], t) for t in TABLES if t in found}
