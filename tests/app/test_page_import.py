"""The Import page through Streamlit's AppTest: renders, previews without writing, saves only
on confirmation, never replaces a snapshot unless asked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from analysis.io import store
from tests.helpers import small_snapshot, write_source_dir

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
EXAMPLE = ROOT / "tests" / "data" / "ror-fhir-bundle.json"


def _open(at: AppTest) -> AppTest:
    at.run()
    at.switch_page("app_pages/import.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def test_import_page_renders_on_the_demo_store(app_env) -> None:
    at = _open(AppTest.from_file(APP, default_timeout=60))
    assert [t.value for t in at.title] == ["Import"]
    assert at.radio(key="import_format").options == [
        "Tables canoniques (un fichier par table : etablissements.csv, …)",
        "Export ROR ou ViaTrajectoire (CSV ou Excel) avec une correspondance de colonnes",
        "FINESS open data (extraction etalab CSV, flux JSON « Activités »)",
        "ROR FHIR (Bundle JSON, dossier de pages de résultats, NDJSON de l'extraction $export)",
    ]
    limits = " ".join(c.value for c in at.caption)
    assert "200 Mo par fichier" in limits and "300\u202f000 lignes" in limits
    assert at.info and "lancez l'analyse" in at.info[0].value
    # the page draws the shared sidebar, and imports into the store chosen there
    assert [t.label for t in at.sidebar.text_input] == ["Magasin d'instantanés"]
    assert at.sidebar.text_input[0].value == str(app_env)
    before = store.list_snapshots(app_env)
    at.button(key="import_analyse").click().run()  # nothing chosen: a message, no write
    assert at.main.error and "Choisissez des fichiers" in at.main.error[0].value
    assert store.list_snapshots(app_env) == before


def test_each_format_shows_its_options(app_env) -> None:
    at = _open(AppTest.from_file(APP, default_timeout=60))
    at.radio(key="import_format").set_value("mapped").run()
    assert not at.exception
    choices = at.selectbox(key="import_mapping_choice").options
    assert "ror_export.yaml" in choices and "viatrajectoire_export.yaml" in choices
    at.selectbox(key="import_mapping_choice").set_value("ror_export.yaml").run()
    assert any("offres ← `*ror*.csv`" in c.value for c in at.caption)
    at.radio(key="import_format").set_value("finess").run()
    assert not at.exception
    assert at.selectbox(key="import_finess_region").options[0] == "Toute la France"
    assert at.text_input(key="import_finess_departements").value == ""


def test_preview_then_save_into_an_empty_store(app_env, tmp_path, monkeypatch) -> None:
    target = tmp_path / "magasin"
    target.mkdir()
    monkeypatch.setenv("SMR_STORE", str(target))
    at = _open(AppTest.from_file(APP, default_timeout=60))
    at.radio(key="import_format").set_value("fhir").run()
    at.text_input(key="import_path").input(str(EXAMPLE)).run()
    at.button(key="import_analyse").click().run()
    assert not at.exception, at.exception
    assert not at.main.error, [e.value for e in at.main.error]
    assert (_metric(at, "Lignes lues"), _metric(at, "Lignes rejetées")) == ("8", "0")
    assert any("Aucune ligne rejetée" in s.value for s in at.success)
    assert store.list_snapshots(target) == []  # previewing writes nothing
    assert at.sidebar.error and "Aucun instantané" in at.sidebar.error[0].value
    assert any(c.value == f"Magasin : {target}" for c in at.caption)

    day = dt.date(2025, 6, 2)
    at.date_input(key="import_date").set_value(day).run()
    at.button(key="import_save").click().run()
    assert not at.exception, at.exception
    assert store.list_snapshots(target) == [day]
    assert store.read_snapshot(target, day).tables["offres"].height == 3
    assert any("Instantané enregistré" in s.value for s in at.success)

    # Same date again: refused unless « Remplacer » is ticked, and the message says so.
    at.button(key="import_analyse").click().run()
    assert any(
        w.value == "L'instantané du 02/06/2025 existe déjà dans ce magasin ; cochez « Remplacer "
        "l'instantané existant de cette date » pour le remplacer."
        for w in at.warning
    )
    assert at.button(key="import_save").disabled
    stamp = (target / day.isoformat() / "manifest.json").stat().st_mtime_ns
    at.checkbox(key="import_replace").check().run()
    assert not at.button(key="import_save").disabled
    at.button(key="import_save").click().run()
    assert not at.exception
    assert (target / day.isoformat() / "manifest.json").stat().st_mtime_ns != stamp


def test_rejections_are_listed_with_their_reasons(app_env, tmp_path) -> None:
    broken = EXAMPLE.read_text(encoding="utf-8").replace('"code": "28"', '"code": "31"', 1)
    path = tmp_path / "recherche.json"
    path.write_text(broken, encoding="utf-8")
    at = _open(AppTest.from_file(APP, default_timeout=60))
    at.radio(key="import_format").set_value("fhir").run()
    at.text_input(key="import_path").input(str(path)).run()
    at.button(key="import_analyse").click().run()
    assert not at.exception
    assert _metric(at, "Lignes rejetées") == "1"
    assert any("1 ligne(s) rejetée(s)" in w.value for w in at.warning)
    labels = [e.label for e in at.expander]
    assert any(
        label.startswith("Offres (unité × mention × forme) : 1 rejet(s)") for label in labels
    )


def test_unreadable_input_is_a_message_not_a_crash(app_env, tmp_path) -> None:
    path = tmp_path / "page.json"
    path.write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    at = _open(AppTest.from_file(APP, default_timeout=60))
    at.radio(key="import_format").set_value("fhir").run()
    at.text_input(key="import_path").input(str(path)).run()
    at.button(key="import_analyse").click().run()
    assert not at.exception
    error = at.main.error
    assert error and "JSON illisible" in error[0].value and "page.json" in error[0].value


def _upload_canonical(at: AppTest, folder: Path) -> None:
    files = [(p.name, p.read_bytes(), "text/csv") for p in sorted(folder.glob("*.csv"))]
    at.file_uploader(key="import_files_canonical").set_value(files).run()


def test_causes_of_rejections_come_first_with_their_cascade(app_env, tmp_path) -> None:
    """Small snapshot with establishment 750000011 (line 2 of etablissements.csv) nameless:
    by hand, 7 rows go with it (2 units, 3 offers, 2 authorisations) and 1 VT unit is warned."""
    tables = small_snapshot()
    tables["etablissements"] = tables["etablissements"].with_columns(
        pl.when(pl.col("finess_eg") == "750000011").then(None)
        .otherwise(pl.col("raison_sociale")).alias("raison_sociale")
    )
    folder = write_source_dir(tables, tmp_path / "src")
    at = _open(AppTest.from_file(APP, default_timeout=60))
    _upload_canonical(at, folder)
    at.button(key="import_analyse").click().run()
    assert not at.exception, at.exception
    assert _metric(at, "Lignes rejetées") == "8"
    causes = at.dataframe[1].value  # after the counts per table
    assert list(causes.columns) == [
        "Table", "Ligne", "Origine", "Problème", "Lignes rejetées en conséquence",
        "Avertissements en conséquence", "Détail par table",
    ]
    (row,) = causes.to_dict("records")
    assert row["Ligne"] == 2 and row["Origine"] == "etablissements.csv, ligne 2"
    assert row["Problème"] == "raison_sociale : valeur obligatoire manquante"
    # warned: its VT unit and its two accounts (tests.helpers.small_habilitations)
    assert (row["Lignes rejetées en conséquence"], row["Avertissements en conséquence"]) == (7, 3)
    assert row["Détail par table"] == (
        "unites 2, offres 3, autorisations 2, vt_unites 1, habilitations 2"
    )
    units = next(e for e in at.expander if e.label.startswith("Unités"))
    shown = units.dataframe[0].value
    assert shown["ligne"].tolist() == [2, 3]  # spreadsheet lines of unites rows 1 and 2
    assert shown["cause"].tolist() == ["etablissements, ligne 2"] * 2  # « Conséquence de »


def test_upload_errors_name_the_file_never_the_server_folder(app_env) -> None:
    at = _open(AppTest.from_file(APP, default_timeout=60))
    at.file_uploader(key="import_files_canonical").set_value(
        [("etablissements.csv", b"", "text/csv"), ("unites.csv", b"uo_id\n", "text/csv")]
    ).run()
    at.button(key="import_analyse").click().run()
    assert not at.exception
    (error,) = at.main.error
    assert error.value == (
        "Lecture impossible : etablissements.csv : fichier vide : aucune ligne d'en-tête."
    )
    assert "smr-import-" not in error.value and "donnees" not in error.value
