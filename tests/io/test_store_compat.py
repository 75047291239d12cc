"""Snapshots written before the ROR quality columns and the FINESS reference table stay
readable with the same schema version: absent optional columns are null, the absent table is
empty, checksums still verify; a table listed in the manifest but missing is still corrupt."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from analysis.checks.campaign import history
from analysis.checks.quality import population, requirements
from analysis.io import store
from analysis.model import schema
from analysis.model.errors import StoreError
from tests.helpers import small_snapshot

DAY = "2024-03-01"
#: Columns added by the ROR quality issue (schema version unchanged).
ADDED = {
    "etablissements": ("id_nat_struct", "date_fermeture", "type_fermeture"),
    "unites": (
        "champ_activite", "activite_operationnelle", "date_maj_contacts", "date_fermeture",
        "type_fermeture",
    ),
}  # fmt: skip


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _make_old(store_path: Path) -> Path:
    """Write the small snapshot, then strip it back to the layout before the issue."""
    store.write_snapshot(store_path, DAY, small_snapshot())
    folder = store_path / DAY
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name, added in ADDED.items():
        file = folder / f"{name}.parquet"
        pl.read_parquet(file).drop(added).write_parquet(file, **store.PARQUET_OPTIONS)
        manifest["tables"][name]["sha256"] = _sha(file)
    (folder / "finess_etablissements.parquet").unlink()
    del manifest["tables"]["finess_etablissements"]
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False), encoding="utf-8"
    )
    return folder


def test_old_snapshot_reads_with_nulls_and_an_empty_reference(tmp_path):
    folder = _make_old(tmp_path)
    assert schema.SCHEMA_VERSION == 1
    assert "id_nat_struct" not in pl.read_parquet_schema(folder / "etablissements.parquet")
    assert store.verify_snapshot(folder) == []
    snap = store.read_snapshot(tmp_path, DAY, verify=True)
    for name, added in ADDED.items():
        frame = snap.tables[name]
        assert frame.schema == pl.Schema(schema.TABLES[name].polars_schema)
        assert all(frame[c].null_count() == frame.height for c in added)
    reference = snap.tables["finess_etablissements"]
    assert reference.height == 0
    assert reference.schema == pl.Schema(schema.TABLES["finess_etablissements"].polars_schema)
    assert store.read_table(tmp_path, DAY, "finess_etablissements", ["finess_eg"]).height == 0
    assert store.scan_table(tmp_path, "finess_etablissements").collect().height == 0
    units = store.scan_table(tmp_path, "unites", ["uo_id", "champ_activite"]).collect()
    assert units.height == 4 and units["champ_activite"].null_count() == 4
    # the analyses still run: FINESS requirements are skipped, the others evaluated
    day = dt.date.fromisoformat(DAY)
    tables = population.read_quality_tables(tmp_path, day)
    assert set(requirements.skipped(tables)) == {"EX1.2", "EX2", "ST2", "CO4"}
    results = requirements.evaluate(tables, day)
    st3 = results.filter(pl.col("exigence") == "ST3")
    assert set(st3["statut"]) == {requirements.NON_APPLICABLE}  # no identifier in an old extract
    assert history.evaluate_snapshot(tmp_path, day).height > 0


def test_a_listed_table_that_is_missing_is_still_corruption(tmp_path):
    store.write_snapshot(tmp_path, DAY, small_snapshot())
    folder = tmp_path / DAY
    (folder / "finess_etablissements.parquet").unlink()
    problems = store.verify_snapshot(folder)
    assert problems == ["finess_etablissements.parquet : fichier absent."]
    with pytest.raises(StoreError, match="finess_etablissements"):
        store.read_snapshot(tmp_path, DAY)
    # and an original table (not added later) missing from both is corruption too
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["tables"]["offres"]
    (folder / "offres.parquet").unlink()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert "offres.parquet : absent du manifeste." in store.verify_snapshot(folder)


def test_new_snapshots_carry_the_reference_table(tmp_path):
    tables = small_snapshot()
    tables["finess_etablissements"] = schema.conform(
        pl.DataFrame(
            {"finess_eg": ["750000011"], "categorie": ["101"], "nb_autorisations_smr": [2]}
        ),
        "finess_etablissements",
    )
    folder = store.write_snapshot(tmp_path, DAY, tables)
    manifest = store.read_manifest(folder)
    assert manifest["tables"]["finess_etablissements"]["conserves"] == 1
    assert (
        store.read_snapshot(tmp_path, DAY, verify=True)
        .tables["finess_etablissements"]
        .equals(tables["finess_etablissements"])
    )
