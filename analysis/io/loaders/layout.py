"""A vectorised proof that delimited text is well formed: one record per line, every record as
wide as the header.

``analysis.io.loaders.canonical`` checks a file's layout line by line in Python so that its
error messages name the exact lines. Most files are well formed, and for them this module
gives the same answer (header, number of data records, number of blank records) from a few
Polars passes over the lines. It only ever *proves* a layout: whenever it is not sure (a line
with a quote it cannot place, a quoted line break, a record of the wrong width, a lone
carriage return, a NUL byte, a line past the CSV field size limit) it returns ``None`` and the
exact path runs, so every message stays the exact path's.
"""

from __future__ import annotations

import csv
import re

import polars as pl

#: A quoted field (doubled quotes inside) as Python's CSV module reads it with ``strict=True``.
_QUOTED = r'"(?:[^"]|"")*"'


def _line_pattern(sep: str) -> str:
    """A line every field of which is either quoted as a whole or holds no quote at all."""
    s = re.escape(sep)
    field = f'(?:{_QUOTED}|[^"{s}]*)'
    return f"^{field}(?:{s}{field})*$"


def _blank_candidates(sep: str) -> str:
    """Lines that may be blank records: nothing but separators, quotes and white space.

    Python's ``str.isspace`` is the Unicode white space class plus the four information
    separators U+001C–U+001F, so this matches every line whose fields are all blank (and a
    few more, which the caller settles one by one).
    """
    return f'^[\\s\\x1c-\\x1f"{re.escape(sep)}]*$'


def _is_blank(record: list[str]) -> bool:
    return not "".join(record).strip()


def fast_structure(
    text: str, sep: str, payload: bytes | None = None
) -> tuple[list[str], int, int] | None:
    """Header, number of data records and number of blank records of ``text`` (line ends
    already normalised to LF or CRLF), or ``None`` when the layout cannot be proved here.

    ``payload``, when given, is ``text`` encoded in UTF-8 (the file's bytes: handed to Polars
    as they are, sparing an encoding). Gives exactly what ``canonical._check_structure`` gives
    on every text it accepts; never raises on bad input (the exact path then reports it).
    """
    # Byte probes of the payload are quicker than character probes of the text.
    probe: str | bytes = text if payload is None else payload

    def has(char: str) -> bool:
        return (char if payload is None else char.encode("ascii")) in probe

    if has("\x00"):
        return None
    whole = (
        pl.Series("line", [text])
        if payload is None
        else pl.Series("line", [payload], dtype=pl.Binary).cast(pl.String)
    )
    lines = whole.str.split("\n").explode(empty_as_null=False)
    if text.endswith("\n"):
        lines = lines.head(lines.len() - 1)
    if lines.len() == 0:
        return None
    if has("\r"):
        lines = lines.str.strip_suffix("\r")
        if lines.str.contains("\r", literal=True).any():
            return None  # a carriage return inside a line: the CSV module reads it as a line end
    if lines.str.len_bytes().max() > csv.field_size_limit():
        return None
    fields = lines.str.count_matches(sep, literal=True) + 1
    if has('"'):
        has_quote = lines.str.contains('"', literal=True)
        where = has_quote.arg_true()
        quoted = lines.gather(where)
        if not quoted.str.contains(_line_pattern(sep)).all():
            return None  # a quote out of place or a quoted line break: the exact path decides
        fields = fields.scatter(
            where, quoted.str.replace_all(_QUOTED, "").str.count_matches(sep, literal=True) + 1
        )
    # The few lines that may be blank are read as the CSV module reads them.
    candidates = lines.str.contains(_blank_candidates(sep))
    blank = candidates
    if candidates.any():
        where = candidates.arg_true()
        verdicts = [
            _is_blank(next(csv.reader([t], delimiter=sep), []))
            for t in lines.gather(where).to_list()
        ]
        blank = candidates.scatter(where, verdicts)
    if blank.all():
        return None
    first = int((~blank).arg_max())  # the header: the first line that is not blank
    header = next(csv.reader([lines[first]], delimiter=sep))
    rest, widths = blank.slice(first + 1), fields.slice(first + 1)
    if ((widths != len(header)) & ~rest).any():
        return None
    blanks = int(rest.sum())
    return header, rest.len() - blanks, blanks
