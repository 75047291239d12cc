"""``smr transition`` and ``smr scenario`` end to end: files written, figures, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from analysis import cli
from analysis.geo import geography
from analysis.indicators.opening import OpeningRule
from analysis.io import store
from analysis.transition import comparison, scenarios
from tests.helpers import small_snapshot, write_source_dir

pytestmark = pytest.mark.slow  # commands on the demo store, and as a program

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "scenarios" / "locomoteur_sud_seine_et_marne.json"


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


@pytest.fixture
def small_store(tmp_path, capsys) -> Path:
    """A store holding the small snapshot on 2023-05-15 (one old SSR still running)."""
    st = tmp_path / "store"
    src = write_source_dir(small_snapshot(), tmp_path / "src")
    assert cli.main(["import", str(src), "--store", str(st), "--date", "2023-05-15"]) == 0
    capsys.readouterr()
    return st


def test_transition_writes_the_gap_list(capsys, small_store, tmp_path):
    out = tmp_path / "ecarts.csv"
    code, text, err = _run(capsys, "transition", "--store", small_store, "--out", out)
    assert code == cli.EXIT_OK, err
    gaps = _read(out)
    assert sorted(zip(gaps["ecart"], gaps["mention"], strict=True)) == [
        ("autorisee_non_decrite", "ME061"),
        ("ssr_sans_decision_smr", "ME061"),
    ]
    assert "2 écarts pour 1 établissement(s)" in text
    assert "Autorisation SSR sans décision SMR : 1" in text


def test_transition_with_a_user_mapping(capsys, small_store, tmp_path):
    mapping = tmp_path / "table.csv"
    mapping.write_text("activite,modalite,mentions\n50,*,ME050\n*,10,ME060\n", encoding="utf-8")
    out = tmp_path / "ecarts.xlsx"
    code, text, err = _run(
        capsys, "transition", "--store", small_store, "--mapping", mapping, "--out", out
    )
    assert code == cli.EXIT_OK, err
    gaps = pl.read_excel(out)
    assert gaps.height == 0  # modalité 10 → ME060, which is decided and described
    bad = tmp_path / "bad.csv"
    bad.write_text("activite,modalite,mentions\n50,*,ME099\n", encoding="utf-8")
    code, _, err = _run(
        capsys, "transition", "--store", small_store, "--mapping", bad, "--out", out
    )
    assert code == cli.EXIT_INPUT
    assert "mention inconnue « ME099 »" in err and err.count("\n") == 1


def test_scenario_on_the_demo_store(capsys, demo_store, tmp_path):
    out = tmp_path / "effet.csv"
    code, text, err = _run(
        capsys,
        "scenario",
        EXAMPLE,
        "--store",
        demo_store,
        "--mention",
        "locomoteur",
        "--out",
        out,
    )
    assert code == cli.EXIT_OK, err
    table = _read(out)
    # one row per origin: Paris as its 20 arrondissements, with the commune code beside them
    assert table.height == geography.load_communes("11").height - 1 + 20
    assert set(table.filter(pl.col("code_commune") == "75056")["commune_insee"].to_list()) == {
        f"751{i:02d}" for i in range(1, 21)
    }
    lost = table.filter(pl.col("evolution") == "perd")
    population = int(lost["population"].cast(pl.Float64).sum())
    assert population > 0
    assert f"{population:,}".replace(",", "\u202f") + " le perdent" in text
    assert "0 habitant(s) gagnent" in text
    # the same figures as the analysis function
    snap = store.read_snapshot(demo_store)
    cmp = comparison.compare_scenario(
        snap.tables,
        scenarios.read_scenario(EXAMPLE),
        geography.load_origins("11"),
        "ME051",
        opening=OpeningRule(snap.date),
    )
    assert population == cmp.region["population_perdant"]


def test_scenario_parameters_change_the_answer(capsys, demo_store, tmp_path):
    out = tmp_path / "effet.parquet"
    code, _, err = _run(
        capsys,
        "scenario",
        EXAMPLE,
        "--store",
        demo_store,
        "--mention",
        "ME051",
        "--threshold",
        "15",
        "--speed",
        "30",
        "--detour",
        "1.5",
        "--catchment",
        "45",
        "--out",
        out,
    )
    assert code == cli.EXIT_OK, err
    slow = pl.read_parquet(out)
    code, _, err = _run(
        capsys, "scenario", EXAMPLE, "--store", demo_store, "--mention", "ME051", "--out", out
    )
    default = pl.read_parquet(out)
    ratio = (slow["temps_plus_proche_base"] / default["temps_plus_proche_base"]).drop_nans()
    assert ratio.to_list() == pytest.approx([40 / 30 * 1.5 / 1.3] * ratio.len())


def test_scenario_exit_codes_and_one_line_errors(capsys, demo_store, small_store, tmp_path):
    out = tmp_path / "effet.csv"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "nom: x\nchangements:\n  - {action: ajouter_mention, finess_eg: '1',"
        " mention: ME050, lits: -2}\n",
        encoding="utf-8",
    )
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(
        "nom: x\nchangements:\n  - {action: retirer_mention, finess_eg: "
        "'123456789', mention: ME050}\n",
        encoding="utf-8",
    )
    cases = [
        ([bad, "--store", demo_store, "--mention", "ME050"], cli.EXIT_INPUT, "capacité négative"),
        (
            [unknown, "--store", demo_store, "--mention", "ME050"],
            cli.EXIT_INPUT,
            "FINESS inconnu « 123456789 »",
        ),
        (
            [tmp_path / "absent.yaml", "--store", demo_store, "--mention", "ME050"],
            cli.EXIT_INPUT,
            "fichier de scénario introuvable",
        ),
        (
            [EXAMPLE, "--store", demo_store, "--mention", "ME999"],
            cli.EXIT_INPUT,
            "mention inconnue",
        ),
        (
            [EXAMPLE, "--store", demo_store, "--mention", "ME051", "--threshold", "-5"],
            cli.EXIT_INPUT,
            "seuil invalide",
        ),
        (
            [EXAMPLE, "--store", demo_store, "--mention", "ME051", "--speed", "0"],
            cli.EXIT_INPUT,
            "vitesse invalide",
        ),
        ([EXAMPLE, "--store", tmp_path / "nulle-part", "--mention", "ME051"], cli.EXIT_STORE, ""),
        (
            [EXAMPLE, "--store", demo_store, "--mention", "ME051", "--snapshot", "2001-01-01"],
            cli.EXIT_STORE,
            "2001-01-01",
        ),
        # the example's establishments are not in the small store
        (
            [EXAMPLE, "--store", small_store, "--mention", "ME051"],
            cli.EXIT_INPUT,
            "FINESS inconnu « 770017278 »",
        ),
    ]
    for argv, expected, message in cases:
        code, _, err = _run(capsys, "scenario", *argv, "--out", out)
        assert code == expected, (argv, err)
        assert message in err and err.startswith("smr : ") and err.count("\n") == 1, err
    code, _, err = _run(
        capsys,
        "scenario",
        EXAMPLE,
        "--store",
        demo_store,
        "--mention",
        "ME051",
        "--out",
        tmp_path / "effet.txt",
    )
    assert code == cli.EXIT_INPUT and "format de sortie" in err
    code, _, err = _run(capsys, "scenario", "--store", demo_store, "--out", out)
    assert code == cli.EXIT_INPUT and "ligne de commande invalide" in err


def test_commands_run_as_a_program(demo_store, tmp_path):
    """The installed entry point, in a subprocess: exit codes reach the shell."""
    out = tmp_path / "ecarts.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.cli",
            "transition",
            "--store",
            str(demo_store),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert _read(out).height > 0
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.cli",
            "scenario",
            str(tmp_path / "x.yaml"),
            "--store",
            str(demo_store),
            "--mention",
            "ME051",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
