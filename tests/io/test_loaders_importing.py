"""One import whatever the format (analysis.io.importing) and the ``smr`` options that drive it:
preview without writing, save on confirmation, notes merged into the stored report, upload
staging, masked report downloads, row limit, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from analysis import cli
from analysis.io import importing, store
from analysis.model.errors import InputError, StoreError
from analysis.model.privacy import MASK
from tests.helpers import small_snapshot, write_source_dir

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLE = DATA / "ror-fhir-bundle.json"
ROOT = Path(__file__).resolve().parents[2]
ROR_MAPPING = ROOT / "docs" / "mappings" / "ror_export.yaml"


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# --- preview, save ------------------------------------------------------------------------


def test_preview_writes_nothing_and_save_stores_notes_as_warnings(tmp_path: Path) -> None:
    bundle = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    bundle["entry"][0]["resource"].pop("category")  # hs-1001: mention derived → a note
    source = tmp_path / "b.json"
    source.write_text(json.dumps(bundle), encoding="utf-8")
    st = tmp_path / "store"
    result = importing.preview(source, importing.ImportOptions(format="fhir"))
    assert not st.exists()
    derived = result.report.filter(pl.col("rule") == "mention_deduite")
    assert derived.select("table", "row", "severity", "source").rows() == [
        ("offres", 1, "avertissement", "b.json › entrée 1 › HealthcareService/hs-1001")
    ]
    # 1 derived mention + 2 Location extensions not read (creation date, capacity source)
    assert result.counts["offres"] == {"lus": 3, "conserves": 3, "rejetes": 0,
                                       "avertissements": 3}  # fmt: skip
    path = importing.save(result, st, "2025-06-02")
    manifest = store.read_manifest(path)
    assert manifest["tables"]["offres"]["avertissements"] == 3
    assert manifest["extra"]["format"] == "fhir" and manifest["extra"]["fichiers"] == 1
    assert manifest["extra"]["extensions_non_lues"][
        "ror-location-supported-capacity#capacitySourceType"
    ] == 6
    assert manifest["sources"][0]["file"] == "b.json"
    warnings = store.read_table(st, "2025-06-02", "warnings")
    assert set(warnings["rule"]) == {"mention_deduite", "extension_non_lue"}
    assert warnings["rule"].to_list().count("mention_deduite") == 1
    offres = store.read_table(st, "2025-06-02", "offres").sort("uo_id")
    assert offres["origine_mention"].to_list() == ["activite", "type_offre", "type_offre"]
    with pytest.raises(StoreError, match="existe déjà"):
        importing.save(result, st, "2025-06-02")
    importing.save(result, st, "2025-06-02", replace=True)


def test_rows_in_equal_kept_plus_rejected_in_the_manifest(tmp_path: Path) -> None:
    lines = [
        "finess;etalab;2;x",
        "structureet;750000011;750000003;A;;;;1;R;X;;;116;75;;75016 PARIS;;;109" + ";" * 13,
        "structureet;75000002",  # truncated
    ]
    source = tmp_path / "etalab.csv"
    source.write_text("\n".join(lines), encoding="utf-8")
    result = importing.preview(source, importing.ImportOptions(format="finess"))
    path = importing.save(result, tmp_path / "store", "2024-01-01")
    counts = store.read_manifest(path)["tables"]["etablissements"]
    assert (counts["lus"], counts["conserves"], counts["rejetes"]) == (2, 1, 1)


def test_row_limit(tmp_path: Path) -> None:
    options = importing.ImportOptions(format="fhir", row_limit=5)
    with pytest.raises(InputError, match="8 lignes.*limite 5.*smr import"):
        importing.preview(EXAMPLE, options)


def test_max_rows_setting(monkeypatch) -> None:
    monkeypatch.setenv("SMR_MAX_IMPORT_ROWS", "1234")
    assert importing.max_rows() == 1234
    monkeypatch.setenv("SMR_MAX_IMPORT_ROWS", "beaucoup")
    assert importing.max_rows() == importing.DEFAULT_MAX_ROWS


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (importing.ImportOptions(format="xml"), "format inconnu"),
        (importing.ImportOptions(format="mapped"), "correspondance"),
        (importing.ImportOptions(format="fhir", region="11"), "finess"),
        (importing.ImportOptions(format="fhir", mapping=Path("m.yaml")), "mapped"),
    ],
)
def test_inconsistent_options(options: importing.ImportOptions, words: str) -> None:
    with pytest.raises(InputError, match=words):
        options.check()


# --- uploads --------------------------------------------------------------------------------


def test_stage_files_keeps_plain_unique_names(tmp_path: Path) -> None:
    paths = importing.stage_files(
        [("../../etc/passwd", b"a"), ("C:\\Users\\x\\offres.csv", b"b"), ("offres.csv", b"c"),
         (".cache", b"d"), ("rapport<1>.csv", b"e")],
        tmp_path,
    )  # fmt: skip
    assert [p.name for p in paths] == [
        "passwd", "offres.csv", "offres (2).csv", "cache", "rapport_1_.csv",
    ]  # fmt: skip
    assert all(p.parent == tmp_path for p in paths)
    assert paths[2].read_bytes() == b"c"
    with pytest.raises(InputError, match="aucun fichier"):
        importing.stage_files([], tmp_path)


def test_preview_uploads_each_format_and_removes_the_staging_folder(tmp_path: Path) -> None:
    canonical = write_source_dir(small_snapshot(), tmp_path / "src")
    files = [(p.name, p.read_bytes()) for p in sorted(canonical.iterdir())]
    result = importing.preview_uploads(files, importing.ImportOptions())
    assert result.ok and result.counts["offres"]["lus"] == small_snapshot()["offres"].height
    fhir = importing.preview_uploads(
        [("page.json", EXAMPLE.read_bytes())], importing.ImportOptions(format="fhir")
    )
    assert fhir.counts["offres"]["conserves"] == 3
    ror = (
        "FINESS EG;Raison sociale EG;Commune (code INSEE);Identifiant de l'offre;Nom de l'offre;"
        "Type d'offre;Mode de prise en charge\n750000011;Centre;75056;U1;SMR;102;28\n"
    )
    mapped = importing.preview_uploads(
        [("export_ror.csv", ror.encode("cp1252"))],
        importing.ImportOptions(format="mapped"),
        mapping=("ma_correspondance.yaml", ROR_MAPPING.read_bytes()),
    )
    assert mapped.validation.tables["offres"].select("mention", "forme").rows() == [("ME051", "HC")]
    assert mapped.loaded.extra["fichier_correspondance"] == "ma_correspondance.yaml"
    leftovers = [p for p in Path(importing.tempfile.gettempdir()).glob("smr-import-*")]
    assert leftovers == []


def test_report_download_masks_contact_values(tmp_path: Path) -> None:
    tables = small_snapshot()
    tables["unites"] = tables["unites"].with_columns(
        pl.when(pl.col("uo_id") == "UO-75-01")
        .then(pl.lit("a.leroy@@exemple"))
        .otherwise(pl.col("responsable_email"))
        .alias("responsable_email")
    )
    source = write_source_dir(tables, tmp_path / "src")
    result = importing.preview(source, importing.ImportOptions())
    bad = result.report.filter(pl.col("column") == "responsable_email")
    assert bad["value"].to_list() == ["a.leroy@@exemple"]  # the user's own screen
    download = importing.report_for_download(result)
    assert download.filter(pl.col("column") == "responsable_email")["value"].to_list() == [MASK]
    assert "source" in download.columns


# --- the command line -----------------------------------------------------------------------


def test_cli_import_fhir_then_refuse_then_replace(capsys, tmp_path: Path) -> None:
    st = tmp_path / "store"
    code, out, err = _run(capsys, "import", EXAMPLE, "--store", st, "--date", "2025-06-02",
                          "--format", "fhir")  # fmt: skip
    assert code == cli.EXIT_OK, err
    assert "Instantané écrit" in out and "offres" in out
    assert store.read_snapshot(st, "2025-06-02").tables["offres"].height == 3
    code, _, err = _run(capsys, "import", EXAMPLE, "--store", st, "--date", "2025-06-02",
                        "--format", "fhir")  # fmt: skip
    assert code == cli.EXIT_STORE and "existe déjà" in err and err.count("\n") == 1
    code, _, err = _run(capsys, "import", EXAMPLE, "--store", st, "--date", "2025-06-02",
                        "--format", "fhir", "--replace")  # fmt: skip
    assert code == cli.EXIT_OK, err


def test_cli_validate_finess_with_filters(capsys, tmp_path: Path) -> None:
    lines = [
        "finess;etalab;2;x",
        "structureet;750000011;750000003;A;;;;1;R;X;;;116;75;;75016 PARIS;;;109" + ";" * 13,
        "structureet;010000024;010780054;B;;;;1;R;Y;;;053;01;;01000 BOURG;474454647;;355"
        + ";" * 13,
    ]
    source = tmp_path / "etalab.csv"
    source.write_text("\n".join(lines), encoding="cp1252")
    code, out, err = _run(capsys, "validate", source, "--format", "finess", "--region", "11")
    assert code == cli.EXIT_OK, err
    assert "hors du filtre (région 11)" in out
    code, out, _ = _run(capsys, "validate", source, "--format", "finess",
                        "--departement", "01,75", "--categorie", "355")  # fmt: skip
    assert code == cli.EXIT_OK and "zéro initial" in out  # 474454647, kept and flagged


def test_cli_validate_mapped_with_rejected_rows_exits_1(capsys, tmp_path: Path) -> None:
    ror = (
        "FINESS EG;Raison sociale EG;Commune (code INSEE);Identifiant de l'offre;Nom de l'offre;"
        "Type d'offre;Mode de prise en charge\n750000011;Centre;75056;U1;SMR;999;28\n"
    )
    (tmp_path / "ror.csv").write_text(ror, encoding="utf-8")
    report = tmp_path / "rapport.csv"
    code, out, _ = _run(capsys, "validate", tmp_path / "ror.csv", "--format", "mapped",
                        "--mapping", ROR_MAPPING, "--report", report)  # fmt: skip
    assert code == cli.EXIT_REJECTED
    assert "999" in out and report.is_file()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--format", "mapped"], "correspondance"),
        (["--region", "11"], "finess"),
        (["--format", "xml"], "ligne de commande invalide"),
        (["--format", "mapped", "--mapping", "absente.yaml"], "introuvable"),
    ],
)
def test_cli_bad_options_exit_2(capsys, tmp_path: Path, argv: list[str], words: str) -> None:
    code, _, err = _run(capsys, "import", EXAMPLE, "--store", tmp_path / "s", "--date",
                        "2025-01-01", *argv)  # fmt: skip
    assert code == cli.EXIT_INPUT and words in err and err.count("\n") == 1


def test_cli_existing_snapshot_refused_before_reading(capsys, tmp_path: Path) -> None:
    st = tmp_path / "store"
    shutil.copytree(write_source_dir(small_snapshot(), tmp_path / "src"), tmp_path / "copy")
    assert _run(capsys, "import", tmp_path / "copy", "--store", st, "--date", "2024-01-01")[0] == 0
    code, _, err = _run(capsys, "import", tmp_path / "nowhere.json", "--store", st, "--date",
                        "2024-01-01", "--format", "fhir")  # fmt: skip
    assert code == cli.EXIT_STORE and "existe déjà" in err
