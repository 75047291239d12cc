"""``smr qualite`` end to end on the demo store: the table written, the FINESS file given
instead of the snapshot's, the ViaTrajectoire report, exit codes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from analysis import cli
from analysis.checks.quality import requirements
from analysis.io import store
from analysis.present.export import csv_bytes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_VT = ROOT / "docs" / "exemple_synchro_vt.csv"


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


def test_table_per_requirement_and_departement(capsys, demo_store, tmp_path):
    out = tmp_path / "qualite.csv"
    code, text, err = _run(capsys, "qualite", "--store", demo_store, "--out", out)
    assert code == 0, err
    table = _read(out)
    assert table.columns == [
        "exigence",
        "libelle",
        "departement",
        "perimetre",
        "conformes",
        "ecarts",
        "non_applicables",
        "taux",
    ]
    day = store.latest_snapshot(demo_store)
    tables = store.read_snapshot(demo_store, day).tables
    params = requirements.QualityParams(departements=requirements.region_departements("11"))
    expected = requirements.summary(requirements.evaluate(tables, day, params))
    whole = table.filter(pl.col("departement") == "ensemble")
    assert whole["exigence"].to_list() == [r.id for r in requirements.REQUIREMENTS]
    assert (
        whole["ecarts"].cast(pl.Int64).to_list()
        == expected.filter(pl.col("departement") == "ensemble")["ecarts"].to_list()
    )
    # every département of the region appears, and the parts add up to the whole
    parts = table.filter(pl.col("departement") != "ensemble").with_columns(
        pl.col("perimetre", "ecarts").cast(pl.Int64)
    )
    assert set(parts["departement"]) == set(requirements.region_departements("11"))
    sums = parts.group_by("exigence").agg(pl.col("perimetre").sum(), pl.col("ecarts").sum())
    for code_, perimetre, ecarts in sums.iter_rows():
        row = whole.filter(pl.col("exigence") == code_).row(0, named=True)
        assert (int(row["perimetre"]), int(row["ecarts"])) == (perimetre, ecarts)
    assert "CP4" in text and "Tableau écrit" in text


def test_finess_file_vt_report_and_excel(capsys, demo_store, tmp_path):
    day = store.latest_snapshot(demo_store)
    reference = store.read_table(demo_store, day, "finess_etablissements")
    # the FINESS file given instead: every category turned into 365 → more CO4 écarts
    changed = reference.with_columns(pl.lit("365").alias("categorie"))
    path = tmp_path / "finess_etablissements.csv"
    path.write_bytes(csv_bytes(changed, flavour="donnees"))
    out = tmp_path / "qualite.xlsx"
    code, text, err = _run(
        capsys,
        "qualite",
        "--store",
        demo_store,
        "--finess",
        path,
        "--vt-report",
        EXAMPLE_VT,
        "--out",
        out,
    )
    assert code == 0, err
    assert f"Référentiel FINESS : {reference.height} établissements lus." in text
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["exigences", "ecarts"]
    rows = list(book["exigences"].iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    whole = {r[0]: dict(zip(header, r, strict=True)) for r in data if r[2] == "ensemble"}
    etabs = store.read_table(demo_store, day, "etablissements")
    not_365 = etabs.filter(
        (pl.col("categorie") != "365")
        & (pl.col("date_fermeture").is_null() | (pl.col("type_fermeture") == "PRO"))
    ).height
    assert whole["CO4"]["ecarts"] >= not_365
    assert whole["SYNCHRO-VT"]["perimetre"] > 0
    assert 0 < whole["SYNCHRO-VT"]["taux"] < 1
    ecarts = list(book["ecarts"].iter_rows(values_only=True))
    assert ecarts[0][:3] == ("exigence", "libelle", "departement")
    assert {r[0] for r in ecarts[1:]} >= {"EX1.2", "CO4", "CP4"}


def test_snapshot_without_finess_reference_and_errors(capsys, demo_store, tmp_path):
    code, text, _ = _run(
        capsys,
        "qualite",
        "--store",
        demo_store,
        "--snapshot",
        "2023-03-01",
        "--out",
        tmp_path / "q.parquet",
    )
    assert code == 0
    table = pl.read_parquet(tmp_path / "q.parquet")
    assert table.filter(pl.col("exigence") == "LOC-AUTORISATION")["perimetre"].sum() == 0
    code, _, err = _run(
        capsys,
        "qualite",
        "--store",
        demo_store,
        "--snapshot",
        "2022-01-01",
        "--out",
        tmp_path / "q.csv",
    )
    assert code == cli.EXIT_STORE and "2022-01-01" in err
    code, _, err = _run(capsys, "qualite", "--store", demo_store, "--out", tmp_path / "q.txt")
    assert code == cli.EXIT_INPUT and ".txt" in err
    bad = tmp_path / "vt.csv"
    bad.write_text("Numero;Etat\n1;2\n", encoding="utf-8")
    code, _, err = _run(
        capsys, "qualite", "--store", demo_store, "--vt-report", bad, "--out", tmp_path / "q.csv"
    )
    assert code == cli.EXIT_INPUT and "vt.csv" in err and err.count("\n") == 1


@pytest.mark.parametrize("missing", ["--store", "--out"])
def test_usage(capsys, tmp_path, missing):
    argv = ["qualite", "--store", str(tmp_path), "--out", str(tmp_path / "q.csv")]
    i = argv.index(missing)
    del argv[i : i + 2]
    code, _, err = _run(capsys, *argv)
    assert code == cli.EXIT_INPUT and "ligne de commande invalide" in err


def test_national_reading_by_default_and_the_workbench_reading(capsys, demo_store, tmp_path):
    """Same documented columns either way; the default follows the national views, and
    ``--lecture-atelier`` gives what ``QualityParams.with_former_readings`` computes."""
    day = store.latest_snapshot(demo_store)
    tables = store.read_snapshot(demo_store, day).tables
    params = requirements.QualityParams(departements=requirements.region_departements("11"))
    outputs = {}
    for flag, expected_params, line in (
        ((), params, "lecture des vues nationales"),
        (("--lecture-atelier",), params.with_former_readings(), "lectures de l'atelier"),
    ):
        out = tmp_path / f"q{len(flag)}.csv"
        code, text, err = _run(capsys, "qualite", "--store", demo_store, *flag, "--out", out)
        assert code == 0, err
        assert line in text
        table = _read(out)
        assert table.columns == [
            "exigence", "libelle", "departement", "perimetre", "conformes", "ecarts",
            "non_applicables", "taux",
        ]  # fmt: skip
        expected = requirements.summary(requirements.evaluate(tables, day, expected_params)).filter(
            pl.col("departement") == "ensemble"
        )
        whole = table.filter(pl.col("departement") == "ensemble")
        assert whole["perimetre"].cast(pl.Int64).to_list() == expected["perimetre"].to_list()
        assert whole["ecarts"].cast(pl.Int64).to_list() == expected["ecarts"].to_list()
        outputs[flag] = whole
    # every demo authorisation has an end date and a forme, as FINESS gives them: the two
    # readings agree on the SMR perimeter (the switches themselves: tests/checks/test_quality.py)
    national, former = outputs[()], outputs[("--lecture-atelier",)]
    perimeter = {
        name: dict(zip(t["exigence"], t["perimetre"].cast(pl.Int64), strict=True))
        for name, t in (("national", national), ("former", former))
    }
    assert perimeter["national"]["CP4"] == perimeter["former"]["CP4"] > 150
    assert perimeter["national"]["EX1.2"] == perimeter["former"]["EX1.2"]
