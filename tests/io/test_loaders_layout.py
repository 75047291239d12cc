"""The vectorised layout proof (``loaders.layout.fast_structure``) against the exact line-by-line
check of ``loaders.canonical``: wherever the fast path answers, it answers what the exact path
answers; on a broken file it never answers (the exact path then names the lines)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from analysis.io.loaders import canonical
from analysis.io.loaders.layout import fast_structure
from analysis.model.errors import InputError

PATH = Path("t.csv")


def _exact(text: str, sep: str) -> tuple | str:
    """The exact path's answer, or its error message."""
    try:
        return canonical._exact_structure(text, sep, PATH)
    except InputError as exc:
        return str(exc)


# Well-formed texts the fast path must prove, with the answer worked out by hand:
# (text, separator, header, data records, blank records).
PROVED = [
    ("a;b\n1;2\n3;4\n", ";", ["a", "b"], 2, 0),
    ("a;b\r\n1;2\r\n3;4", ";", ["a", "b"], 2, 0),  # CRLF, no final line end
    ("\n\na,b\n1,2\n\n3,4\n\n", ",", ["a", "b"], 2, 2),  # blank lines before the header too
    ("a,b\n , \n1,2\n,\n", ",", ["a", "b"], 1, 2),  # separators and spaces only: blank
    ('a,b\n"x, y",2\n"say ""hi""",3\n', ",", ["a", "b"], 2, 0),  # quotes holding separators
    ('"a;1";b\n"";""\n" ";2\n', ";", ["a;1", "b"], 1, 1),  # quoted empty fields: blank
    ('a,b\n"""",1\n', ",", ["a", "b"], 1, 0),  # a lone quote as the value
    ("a\tb\nx\t\n", "\t", ["a", "b"], 1, 0),
    ("a,b\n\u00a0,\u2003\n\x1c,\x1f\n1,2\n", ",", ["a", "b"], 1, 2),  # Unicode white space
    ("a,b,\n1,2,\n", ",", ["a", "b", ""], 1, 0),  # trailing separator: a nameless column
    ("solo\nx\n\ny\n", ",", ["solo"], 2, 1),
    ('h,i\n"é, ü",€\n', ",", ["h", "i"], 1, 0),
]


@pytest.mark.parametrize(("text", "sep", "header", "records", "blanks"), PROVED)
def test_fast_path_proves_well_formed_text(text, sep, header, records, blanks) -> None:
    assert fast_structure(text, sep) == (header, records, blanks)
    assert fast_structure(text, sep, text.encode("utf-8")) == (header, records, blanks)
    assert _exact(text, sep) == (header, records, blanks)


# Texts the fast path must leave to the exact path (broken, or beyond what it proves).
DEFERRED = [
    "a;b\n1;2;3\n4\n",  # ragged lines
    "a;b\n1\n",
    'a;b\n"open;1\n',  # quote never closed
    'a;b\n"x"y;1\n',  # text after a closing quote
    'a;b\nx"y;1\n',  # a quote inside an unquoted field
    'a;b\n "x";1\n',  # space before an opening quote
    'a;b\n"line\nbreak";1\n',  # a quoted line break (well formed, read by the CSV module)
    "a;b\r1;2\n",  # a lone carriage return inside the text
    "a;b\n1;\x002\n",  # NUL byte
    "",  # nothing at all
    "\n \n;\n",  # blank lines only
]


@pytest.mark.parametrize("text", DEFERRED)
def test_fast_path_defers_what_it_cannot_prove(text: str) -> None:
    assert fast_structure(text, ";") is None


def test_ragged_lines_keep_the_exact_message(tmp_path: Path) -> None:
    path = tmp_path / "etablissements.csv"
    path.write_text("finess_eg;raison_sociale;commune_insee\n" + "750000001;A;75101\n" * 3
                    + "750000002;B\n750000003;C;75101;x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"2 ligne\(s\) .* \(3\) : ligne 5 \(2 champs\), "
                       r"ligne 6 \(4 champs\)\."):
        canonical.read_table_file(path, "etablissements")


def test_line_past_the_field_limit_is_deferred() -> None:
    big = "x" * (canonical.csv.field_size_limit() + 1)
    assert fast_structure(f"a,b\n{big},1\n", ",") is None


def _random_text(rng: random.Random) -> str:
    pieces = ["a", "b", "é", " ", ";", ";", ",", '"', '""', "\n", "\n", "\r\n", "\t", "\u00a0"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_fast_path_agrees_with_exact_path_on_random_texts(sep: str) -> None:
    rng = random.Random(20261204)
    answered = 0
    for _ in range(600):
        text = _random_text(rng)
        fast = fast_structure(text, sep)
        if fast is not None:
            answered += 1
            assert fast == _exact(text, sep), repr(text)
    assert answered > 40  # the comparison is not vacuous


@pytest.mark.parametrize(
    "content",
    [
        "finess_eg;raison_sociale;commune_insee\n750000001;\"Clinique ; du parc\";75101\n\n",
        "\ufefffiness_eg,raison_sociale,commune_insee\r\n750000001,\"A \"\"B\"\"\",75101\r\n"
        ",,\r\n750000002,,\r\n",
        "finess_eg;raison_sociale;commune_insee\n750000001;\"\";75101\n750000002;\"x\ny\";2A004\n",
    ],
)
def test_read_table_file_same_with_and_without_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    path = tmp_path / "etablissements.csv"
    path.write_bytes(content.encode("utf-8"))
    fast = canonical.read_table_file(path, "etablissements")
    monkeypatch.setattr(canonical, "fast_structure", lambda *args: None)
    exact = canonical.read_table_file(path, "etablissements")
    assert fast.frame.equals(exact.frame)
    assert fast.source() == exact.source()


def _random_field(rng: random.Random, sep: str) -> str:
    value = "".join(rng.choice(["a", "é", " ", sep, '"', "\n", "1", "\u00a0"])
                    for _ in range(rng.randint(0, 6)))
    if rng.random() < 0.5:
        return '"' + value.replace('"', '""') + '"'  # quoted as a spreadsheet writes it
    return value.replace('"', "").replace(sep, "").replace("\n", "")


def _random_table(rng: random.Random, sep: str) -> str:
    width = rng.randint(1, 4)
    end = rng.choice(["\n", "\r\n"])
    rows = []
    for _ in range(rng.randint(1, 6)):
        n = width if rng.random() < 0.85 else rng.randint(1, 5)  # now and then a ragged row
        rows.append(sep.join(_random_field(rng, sep) for _ in range(n)))
        if rng.random() < 0.15:
            rows.append(rng.choice(["", sep * (width - 1), " "]))  # blank records
    return end.join(rows) + (end if rng.random() < 0.7 else "")


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_fast_path_agrees_with_exact_path_on_random_tables(sep: str) -> None:
    rng = random.Random(4122026)
    answered = 0
    for _ in range(400):
        text = _random_table(rng, sep)
        fast = fast_structure(text, sep)
        payload = fast_structure(text, sep, text.encode("utf-8"))
        assert fast == payload, repr(text)
        if fast is not None:
            answered += 1
            assert fast == _exact(text, sep), repr(text)
    assert answered > 80  # the comparison is not vacuous


@pytest.mark.parametrize(
    "content",
    [
        "finess_eg,raison_sociale,commune_insee\r\n750000001,,75101\r\n750000002,B,\r\n",
        "finess_eg;raison_sociale;commune_insee\n750000001;;75101\n;;\n750000002; ;\n",
        'finess_eg,raison_sociale,commune_insee\n750000001,"",75101\n"",x,""\n',
    ],
)
def test_empty_fields_read_as_null(tmp_path: Path, content: str) -> None:
    """Empty fields, quoted or not, are null; blank records are skipped (the CSV module, a
    second reading, gives the expected rows)."""
    path = tmp_path / "etablissements.csv"
    path.write_bytes(content.encode("utf-8"))
    sep = ";" if ";" in content else ","
    rows = [r for r in canonical.csv.reader(content.splitlines(), delimiter=sep)]
    expected = [
        tuple(v if v != "" else None for v in r) for r in rows[1:] if "".join(r).strip()
    ]
    assert canonical.read_table_file(path, "etablissements").frame.rows() == expected
