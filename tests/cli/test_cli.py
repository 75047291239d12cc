"""The ``smr`` command: demo, validate, import, snapshots, with their exit codes."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from analysis import cli
from analysis.io import importing, store
from analysis.model.schema import TABLES
from tests.helpers import small_snapshot, write_source_dir


@pytest.fixture
def source(tmp_path):
    return write_source_dir(small_snapshot(), tmp_path / "source")


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_and_page_imports_store_the_same_snapshot(capsys, source, tmp_path):
    """``smr import`` and the page's two steps (preview, then save) are one path: same files,
    same manifest apart from its creation time."""
    code, _, _ = _run(capsys, "import", source, "--store", tmp_path / "cli", "--date", "2024-03-01")
    assert code == cli.EXIT_OK
    page = importing.save(importing.preview(source), tmp_path / "page", "2024-03-01")
    by_cli = tmp_path / "cli" / "2024-03-01"
    for name in [*TABLES, "rejected", "warnings"]:
        assert (by_cli / f"{name}.parquet").read_bytes() == (page / f"{name}.parquet").read_bytes()
    m1, m2 = store.read_manifest(by_cli), store.read_manifest(page)
    m1.pop("created_at"), m2.pop("created_at")
    assert m1 == m2 and m1["extra"] == {} and "format" not in m1["sources"][0]


def test_import_then_list_then_refuse_then_replace(capsys, source, tmp_path):
    st = tmp_path / "store"
    code, out, err = _run(capsys, "import", source, "--store", st, "--date", "2024-03-01")
    assert code == 0, err
    assert "etablissements" in out and "Instantané écrit" in out
    snap = store.read_snapshot(st, "2024-03-01")
    expected = small_snapshot()
    for name, frame in expected.items():
        assert snap.tables[name].height == frame.height, name

    code, out, _ = _run(capsys, "snapshots", "--store", st)
    assert code == 0 and "2024-03-01" in out

    code, _, err = _run(capsys, "import", source, "--store", st, "--date", "2024-03-01")
    assert code == cli.EXIT_STORE
    assert err == (f"smr : L'instantané du 2024-03-01 existe déjà dans {st} ; relancez avec "
                   "--replace pour le remplacer.\n")

    code, _, err = _run(capsys, "import", source, "--store", st, "--date", "2024-03-01",
                        "--replace")
    assert code == 0, err


def test_import_with_a_rejected_row_exits_1_and_keeps_the_rest(capsys, tmp_path):
    tables = small_snapshot()
    bad = tables["offres"].head(1).with_columns(pl.lit("ME999").alias("mention"))
    tables["offres"] = pl.concat([tables["offres"], bad])
    src = write_source_dir(tables, tmp_path / "src")
    st = tmp_path / "store"
    code, out, _ = _run(capsys, "import", src, "--store", st, "--date", "2024-03-02")
    assert code == cli.EXIT_REJECTED
    assert "ME999" in out
    # validating the stored snapshot later still says rows were rejected at import
    code, out, _ = _run(capsys, "validate", st / "2024-03-02")
    assert code == cli.EXIT_REJECTED
    assert "ME999" in out
    m = store.read_manifest(st / "2024-03-02")
    counts = m["tables"]["offres"]
    assert counts["lus"] == small_snapshot()["offres"].height + 1
    assert counts["rejetes"] == 1
    assert counts["lus"] == counts["conserves"] + counts["rejetes"]
    rejected = pl.read_parquet(st / "2024-03-02" / "rejected.parquet")
    assert rejected["value"].to_list() == ["ME999"]


def test_validate_source_and_snapshot(capsys, source, tmp_path):
    code, out, _ = _run(capsys, "validate", source)
    assert code == 0
    st = tmp_path / "store"
    importing.import_source(source, st, "2024-03-01")
    code, out, _ = _run(capsys, "validate", st / "2024-03-01", "--report", tmp_path / "r.csv")
    assert code == 0
    assert (tmp_path / "r.csv").exists()


def test_validate_detects_a_corrupted_snapshot(capsys, source, tmp_path):
    st = tmp_path / "store"
    importing.import_source(source, st, "2024-03-01")
    target = st / "2024-03-01" / "unites.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    code, out, err = _run(capsys, "validate", st / "2024-03-01")
    assert code == cli.EXIT_STORE, (out, err)
    assert "unites.parquet" in out + err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["validate", "/nonexistent/folder"], "introuvable"),
        (["import", "/nonexistent", "--store", "/tmp/x", "--date", "2024-13-01"], "date"),
        (["frobnicate"], "ligne de commande"),
        (["import", "x"], "ligne de commande"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(capsys, argv, expected):
    code, _, err = _run(capsys, *argv)
    assert code == cli.EXIT_INPUT
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_binary_source_file_is_a_clear_error(capsys, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "etablissements.csv").write_bytes(bytes(range(256)) * 20)
    code, _, err = _run(capsys, "validate", src)
    assert code == cli.EXIT_INPUT
    assert "etablissements.csv" in err and "Traceback" not in err


@pytest.mark.slow
def test_demo_command_writes_a_store(capsys, tmp_path):
    code, out, err = _run(capsys, "demo", "--out", tmp_path / "demo")
    assert code == 0, err
    dates = store.list_snapshots(tmp_path / "demo")
    assert len(dates) >= 10
    assert f"{len(dates)} instantanés" in out
    code, _, err = _run(capsys, "demo", "--out", tmp_path / "demo")
    assert code == cli.EXIT_STORE  # never replaced unless asked


@pytest.mark.slow
def test_console_script_runs_without_traceback(tmp_path):
    """The installed ``smr`` entry point: exit code and one readable line."""
    proc = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "validate", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == cli.EXIT_INPUT
    assert proc.stderr.startswith("smr : ") and "Traceback" not in proc.stderr


def test_the_report_names_the_root_cause_first_with_its_cascade(capsys, tmp_path):
    """Establishment 750000011 (small snapshot, line 2 of etablissements.csv) without its
    name: 7 rows rejected with it (2 units, 3 offers, 2 authorisations), 1 VT unit and its 2
    habilitations (tests.helpers.small_habilitations) warned, counted under it rather than
    listed before it."""
    tables = small_snapshot()
    tables["etablissements"] = tables["etablissements"].with_columns(
        pl.when(pl.col("finess_eg") == "750000011").then(None)
        .otherwise(pl.col("raison_sociale")).alias("raison_sociale")
    )
    src = write_source_dir(tables, tmp_path / "src")
    code, out, _ = _run(capsys, "validate", src, "--report", tmp_path / "r.csv")
    assert code == cli.EXIT_REJECTED
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Rejets"))
    assert lines[start] == (
        "Rejets : 1 ligne(s) rejetée(s) pour une cause propre, 7 autre(s) rejetée(s) en "
        "conséquence."
    )
    assert lines[start + 1] == (
        "[rejet] etablissements.csv, ligne 2, raison_sociale : valeur obligatoire manquante"
    )
    assert lines[start + 2] == (
        "    → 7 lignes rejetées en conséquence et 3 avertissements en conséquence "
        "(unites 2, offres 3, autorisations 2, vt_unites 1, habilitations 2)"
    )
    assert "reference_introuvable" not in out and "unites.csv" not in out
    header = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    written = pl.read_csv(tmp_path / "r.csv", separator=";" if ";" in header else ",",
                          infer_schema=False)
    assert written.row(0, named=True)["ligne"] == "2"
    # 7 rejected rows, the VT unit (two warnings) and its two accounts
    assert written["cause"].to_list()[1:] == ["etablissements, ligne 2"] * 11


def _commands_on(st, out) -> dict[str, list[str]]:
    return {
        "snapshots": ["snapshots", "--store", st],
        "campaign": ["campaign", "--store", st, "--out", out],
        "coverage": ["coverage", "--store", st, "--out", out],
        "sync": ["sync", "--store", st, "--out", out],
        "todo": ["todo", "--store", st, "--out", out.with_suffix(".xlsx")],
        "transition": ["transition", "--store", st, "--out", out],
        "report": ["report", "--store", st, "--out", out.with_suffix(".html")],
        "qualite": ["qualite", "--store", st, "--out", out],
    }


@pytest.mark.parametrize(
    "name", ["snapshots", "campaign", "coverage", "sync", "todo", "transition", "report", "qualite"]
)
def test_a_missing_snapshot_is_worded_one_way(capsys, tmp_path, source, name):
    empty = tmp_path / "vide"
    empty.mkdir()
    code, _, err = _run(capsys, *_commands_on(empty, tmp_path / "o.csv")[name])
    assert code == cli.EXIT_STORE
    assert err == f"smr : Aucun instantané dans {empty}.\n"
    if name in ("snapshots", "campaign"):  # the two without --snapshot
        return
    st = tmp_path / "store"
    importing.import_source(source, st, "2024-03-01")
    argv = [*_commands_on(st, tmp_path / "o.csv")[name], "--snapshot", "2020-01-01"]
    code, _, err = _run(capsys, *argv)
    assert code == cli.EXIT_STORE
    assert err == f"smr : Aucun instantané du 2020-01-01 dans {st}.\n"


def test_the_demo_refuses_to_overwrite_and_names_replace(capsys, tmp_path):
    out = tmp_path / "demo"
    (out / "2023-03-15").mkdir(parents=True)
    code, _, err = _run(capsys, "demo", "--out", out)
    assert code == cli.EXIT_STORE
    assert err == (f"smr : L'instantané du 2023-03-15 existe déjà dans {out} ; relancez avec "
                   "--replace pour le remplacer.\n")
