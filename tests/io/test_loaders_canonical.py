"""Reading canonical source files: encodings, separators, quoting, broken files."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

import polars as pl
import pytest

from analysis.io.loaders import RawTable, read_source_dir, read_table_file
from analysis.model.errors import InputError

HEADER = ["finess_eg", "raison_sociale", "commune_insee"]


def _write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def _rows(table: RawTable) -> list[tuple[str | None, ...]]:
    return table.frame.rows()


# --- encodings and separators --------------------------------------------------------------


def test_utf8_semicolon(tmp_path: Path) -> None:
    text = (
        "finess_eg;raison_sociale;commune_insee\n"
        "750000011;Hôpital Sainte-Périne;75056\n"
        "920000025;Clinique, du Parc;92012\n"
    )
    path = _write(tmp_path, "etablissements.csv", text)
    table = read_table_file(path, "etablissements")
    assert table.encoding == "utf-8"
    assert table.separator == ";"
    assert table.rows == 2
    assert table.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert table.frame.columns == HEADER
    assert _rows(table) == [
        ("750000011", "Hôpital Sainte-Périne", "75056"),
        ("920000025", "Clinique, du Parc", "92012"),
    ]
    assert all(dtype == pl.String for dtype in table.frame.schema.values())


def test_utf8_bom_comma(tmp_path: Path) -> None:
    text = "finess_eg,raison_sociale,commune_insee\r\n750000011,Hôpital Sainte-Périne,75056\r\n"
    path = _write(tmp_path, "etablissements.csv", text, encoding="utf-8-sig")
    table = read_table_file(path, "etablissements")
    assert table.encoding == "utf-8-sig"
    assert table.separator == ","
    assert table.frame.columns == HEADER  # no BOM glued to the first name, no stray \r
    assert _rows(table) == [("750000011", "Hôpital Sainte-Périne", "75056")]


def test_windows_1252_tab(tmp_path: Path) -> None:
    text = (
        "finess_eg\traison_sociale\tcommune_insee\n"
        "750000011\tHôpital Sainte-Périne\t75056\n"
        "940000039\tCentre du Cœur; rééducation\t94028\n"
    )
    path = _write(tmp_path, "etablissements.tsv", text, encoding="cp1252")
    table = read_table_file(path, "etablissements")
    assert table.encoding == "windows-1252"
    assert table.separator == "\t"
    assert _rows(table) == [
        ("750000011", "Hôpital Sainte-Périne", "75056"),
        ("940000039", "Centre du Cœur; rééducation", "94028"),
    ]


def test_quoted_line_break_and_doubled_quotes(tmp_path: Path) -> None:
    text = (
        "finess_eg;raison_sociale;commune_insee\n"
        '750000011;"Centre ""Les Tilleuls""\nbâtiment B; 2e étage";75056\n'
        "920000025;Clinique;92012\n"
    )
    table = read_table_file(_write(tmp_path, "etablissements.csv", text), "etablissements")
    assert table.separator == ";"
    assert _rows(table) == [
        ("750000011", 'Centre "Les Tilleuls"\nbâtiment B; 2e étage', "75056"),
        ("920000025", "Clinique", "92012"),
    ]


def test_values_survive_as_text(tmp_path: Path) -> None:
    # Leading zeros, spaces and odd values must reach validation unchanged.
    text = (
        "finess_eg;raison_sociale;commune_insee;telephone_hors_schema;latitude\n"
        "010000123;Centre de l'Ain;01053;0474000000;46,2\n"
        "2A0000014; Centre d'Ajaccio ;2A004;;4.19e1\n"
    )
    table = read_table_file(_write(tmp_path, "etablissements.csv", text), "etablissements")
    assert _rows(table) == [
        ("010000123", "Centre de l'Ain", "01053", "0474000000", "46,2"),
        ("2A0000014", " Centre d'Ajaccio ", "2A004", None, "4.19e1"),
    ]
    assert table.unknown_columns == ("telephone_hors_schema",)


def test_header_names_are_stripped_and_order_kept(tmp_path: Path) -> None:
    text = " finess_eg ;raison_sociale  ; commune_insee\n" + "".join(
        f"75{i:07d};Centre {i};75056\n" for i in range(5, 0, -1)
    )
    table = read_table_file(_write(tmp_path, "etablissements.csv", text), "etablissements")
    assert table.frame.columns == HEADER
    assert table.frame.get_column("raison_sociale").to_list() == [
        "Centre 5",
        "Centre 4",
        "Centre 3",
        "Centre 2",
        "Centre 1",
    ]


def test_header_only_is_zero_rows(tmp_path: Path) -> None:
    table = read_table_file(
        _write(tmp_path, "etablissements.csv", "finess_eg;raison_sociale;commune_insee\n"),
        "etablissements",
    )
    assert table.rows == 0
    assert table.frame.columns == HEADER


def test_blank_lines_and_empty_separator_rows_are_skipped(tmp_path: Path) -> None:
    text = (
        "finess_eg;raison_sociale;commune_insee\n750000011;A;75056\n\n920000025;B;92012\n;;\n;;\n"
    )
    table = read_table_file(_write(tmp_path, "etablissements.csv", text), "etablissements")
    assert _rows(table) == [("750000011", "A", "75056"), ("920000025", "B", "92012")]
    assert table.blank_rows == 3


def test_single_column_file(tmp_path: Path) -> None:
    table = read_table_file(
        _write(tmp_path, "vt_guichets.txt", "guichet_id\nG-75\nG-94\n"), "vt_guichets"
    )
    assert _rows(table) == [("G-75",), ("G-94",)]


def test_parquet_is_cast_to_text(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "vt_id": ["VT-1"],
            "finess_eg": ["750000011"],
            "synchronise_ror": [True],
            "age_min": [18],
            "habilitation_fin": [dt.date(2026, 12, 31)],
            "date_synchronisation": [dt.datetime(2024, 2, 28, 23, 0, 5)],
        }
    )
    path = tmp_path / "vt_unites.parquet"
    frame.write_parquet(path)
    table = read_table_file(path, "vt_unites")
    assert table.encoding is None and table.separator is None
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert _rows(table) == [
        ("VT-1", "750000011", "true", "18", "2026-12-31", "2024-02-28T23:00:05")
    ]


# --- broken files -------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n  \n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, "etablissements.csv", content)
    with pytest.raises(InputError, match="vide") as info:
        read_table_file(path, "etablissements")
    assert "etablissements.csv" in str(info.value)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (random.Random(0).randbytes(4096), "texte"),
        (b"PK\x03\x04" + bytes(200), "Excel"),
        (b"finess_eg\n" + bytes(range(1, 9)) * 50, "texte"),
        (b"finess_eg;raison_sociale\n\x81\x8d\x8f;\x90\x9d\n", "ni UTF-8 ni Windows-1252"),
    ],
)
def test_binary_junk(tmp_path: Path, content: bytes, words: str) -> None:
    path = _write(tmp_path, "etablissements.csv", content)
    with pytest.raises(InputError, match=words) as info:
        read_table_file(path, "etablissements")
    assert "etablissements.csv" in str(info.value)


def test_truncated_inside_quotes(tmp_path: Path) -> None:
    text = (
        "finess_eg;raison_sociale;commune_insee\n"
        "750000011;Centre;75056\n"
        '920000025;"Clinique des\n'
        "Bords de Seine;92012\n"
    )
    path = _write(tmp_path, "etablissements.csv", text)
    with pytest.raises(InputError, match="guillemet non fermé.*ligne 3") as info:
        read_table_file(path, "etablissements")
    assert "etablissements.csv" in str(info.value)


def test_duplicated_columns(tmp_path: Path) -> None:
    text = "finess_eg;raison_sociale;commune_insee; finess_eg\n750000011;A;75056;750000011\n"
    path = _write(tmp_path, "etablissements.csv", text)
    with pytest.raises(InputError, match="colonnes en double.*finess_eg") as info:
        read_table_file(path, "etablissements")
    assert "etablissements.csv" in str(info.value)


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    text = "FINESS_EG;nom\n750000011;A\n"
    path = _write(tmp_path, "etablissements.csv", text)
    with pytest.raises(InputError) as info:
        read_table_file(path, "etablissements")
    message = str(info.value)
    assert "etablissements.csv" in message
    assert "finess_eg" in message and "FINESS_EG" in message  # hint at the near match
    assert "raison_sociale" in message and "commune_insee" in message


def test_wrong_number_of_fields_names_the_line(tmp_path: Path) -> None:
    text = (
        "finess_eg;raison_sociale;commune_insee\n"
        '750000011;"Centre\nsur deux lignes";75056\n'  # lines 2–3
        "920000025;Clinique;92012;en trop\n"  # line 4
        "940000039;Créteil\n"  # line 5
    )
    path = _write(tmp_path, "etablissements.csv", text)
    with pytest.raises(InputError) as info:
        read_table_file(path, "etablissements")
    message = str(info.value)
    assert "etablissements.csv" in message
    assert "ligne 4 (4 champs)" in message and "ligne 5 (2 champs)" in message


def test_nameless_column_with_values(tmp_path: Path) -> None:
    text = "finess_eg;;commune_insee;raison_sociale\n750000011;x;75056;A\n"
    with pytest.raises(InputError, match="colonne n° 2"):
        read_table_file(_write(tmp_path, "etablissements.csv", text), "etablissements")


def test_trailing_separator_column_is_dropped(tmp_path: Path) -> None:
    text = "finess_eg;raison_sociale;commune_insee;\n750000011;A;75056;\n"
    table = read_table_file(_write(tmp_path, "etablissements.csv", text), "etablissements")
    assert table.frame.columns == HEADER


def test_broken_parquet(tmp_path: Path) -> None:
    path = _write(tmp_path, "unites.parquet", b"PAR1 this is not really parquet")
    with pytest.raises(InputError, match="Parquet") as info:
        read_table_file(path, "unites")
    assert "unites.parquet" in str(info.value)


# --- source folders -----------------------------------------------------------------------


def test_source_dir_reads_recognised_files_in_table_order(tmp_path: Path) -> None:
    _write(tmp_path, "Unites.CSV", "uo_id;finess_eg;nom\nUO-1;750000011;SMR\n")
    _write(tmp_path, "etablissements.txt", "finess_eg\traison_sociale\tcommune_insee\n")
    _write(tmp_path, "notes.csv", "anything\n")
    _write(tmp_path, "LISEZMOI.md", "# rien\n")
    tables = read_source_dir(tmp_path)
    assert list(tables) == ["etablissements", "unites"]
    assert tables["unites"].rows == 1
    assert tables["etablissements"].separator == "\t"
    assert tables["unites"].source()["file"] == "Unites.CSV"


def test_source_dir_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="dossier introuvable") as info:
        read_source_dir(tmp_path / "absent")
    assert "absent" in str(info.value)


def test_source_dir_without_table_files(tmp_path: Path) -> None:
    _write(tmp_path, "notes.csv", "a;b\n")
    with pytest.raises(InputError, match="aucun fichier de table reconnu"):
        read_source_dir(tmp_path)


def test_source_dir_two_files_for_one_table(tmp_path: Path) -> None:
    _write(tmp_path, "offres.csv", "uo_id;mention;forme\n")
    _write(tmp_path, "offres.tsv", "uo_id\tmention\tforme\n")
    with pytest.raises(InputError, match="plusieurs fichiers pour la table offres"):
        read_source_dir(tmp_path)


def test_utf16_with_bom(tmp_path: Path) -> None:
    # Excel's « Texte Unicode » export: UTF-16 with a BOM, tab-separated.
    text = "finess_eg\traison_sociale\tcommune_insee\r\n750000011\tHôpital Sainte-Périne\t75056\r\n"
    path = _write(tmp_path, "etablissements.txt", text, encoding="utf-16")
    table = read_table_file(path, "etablissements")
    assert (table.encoding, table.separator) == ("utf-16", "\t")
    assert _rows(table) == [("750000011", "Hôpital Sainte-Périne", "75056")]


def test_file_without_header_does_not_echo_its_values(tmp_path: Path) -> None:
    text = "750000011;Dr Jean Dupont;jean.dupont@example.fr;jean.dupont@example.fr\n"
    path = _write(tmp_path, "etablissements.csv", text)
    with pytest.raises(InputError, match="colonnes obligatoires absentes") as info:
        read_table_file(path, "etablissements")
    assert "Dupont" not in str(info.value)
