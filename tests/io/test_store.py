"""Snapshot store: round trip, manifest, atomic writes, replacement, determinism, checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis.io import importing, store
from analysis.model.errors import InputError, StoreError
from analysis.model.schema import REJECTED_SCHEMA, REPORT_SCHEMA, SCHEMA_VERSION, TABLES
from tests.helpers import small_snapshot, write_source_dir

DAY = dt.date(2024, 3, 1)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(root: Path, day: dt.date | str = DAY, **kwargs) -> Path:
    return store.write_snapshot(root, day, small_snapshot(), **kwargs)


def _listing(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


# --- round trip and manifest ---------------------------------------------------------------


def test_round_trip_and_manifest(tmp_path: Path) -> None:
    path = _write(tmp_path, extra={"demo": True, "region": "11"})
    assert path == tmp_path / "2024-03-01"
    assert _listing(path) == sorted(
        [f"{t}.parquet" for t in TABLES] + ["rejected.parquet", "warnings.parquet", "manifest.json"]
    )
    snap = store.read_snapshot(tmp_path)
    assert snap.date == DAY and snap.path == path
    for table, frame in small_snapshot().items():
        assert_frame_equal(snap.tables[table], frame)

    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["date"] == "2024-03-01"
    assert manifest["extra"] == {"demo": True, "region": "11"}
    assert manifest["tables"]["unites"] == {
        "file": "unites.parquet",
        "lus": 4,
        "conserves": 4,
        "rejetes": 0,
        "avertissements": 0,
        "sha256": _sha(path / "unites.parquet"),
    }
    assert manifest["rejected"]["sha256"] == _sha(path / "rejected.parquet")
    assert manifest == store.read_manifest(path) == snap.manifest
    assert store.verify_snapshot(path) == []


def test_absent_tables_are_written_empty(tmp_path: Path) -> None:
    tables = {"etablissements": small_snapshot()["etablissements"]}
    path = store.write_snapshot(tmp_path, DAY, tables)
    offres = store.read_table(tmp_path, DAY, "offres")
    assert offres.height == 0
    assert offres.schema == pl.Schema(TABLES["offres"].polars_schema)
    assert pl.read_parquet(path / "rejected.parquet").schema == pl.Schema(REJECTED_SCHEMA)
    assert pl.read_parquet(path / "warnings.parquet").schema == pl.Schema(REPORT_SCHEMA)


def test_counts_come_from_rejected_and_warnings(tmp_path: Path) -> None:
    rejected = pl.DataFrame(
        {
            "table": ["unites", "unites", "offres"],
            "row": [5, 5, 9],  # two reasons for the same unit row: one rejected row
            "column": ["finess_eg", "nom", "lits"],
            "value": ["x", None, "-1"],
            "rule": ["finess_format", "valeur_manquante", "nombre_invalide"],
            "reason": ["r1", "r2", "r3"],
            "severity": ["rejet"] * 3,
            "donnees": ["{}"] * 3,
        }
    )
    warnings = pl.DataFrame(
        {
            "table": ["unites", "unites"],
            "row": [1, 2],
            "column": ["telephone", "date_maj"],
            "value": ["123", "x"],
            "rule": ["telephone_invalide", "date_invalide"],
            "reason": ["r", "r"],
            "severity": ["avertissement", "avertissement"],
        }
    )
    path = _write(tmp_path, rejected=rejected, warnings=warnings)
    tables = store.read_manifest(path)["tables"]
    assert (tables["unites"]["lus"], tables["unites"]["rejetes"]) == (5, 1)
    assert tables["unites"]["avertissements"] == 2
    assert (tables["offres"]["lus"], tables["offres"]["conserves"]) == (7, 6)
    assert_frame_equal(store.read_table(tmp_path, DAY, "rejected"), rejected)
    assert_frame_equal(store.read_table(tmp_path, DAY, "warnings"), warnings)


def test_values_that_do_not_fit_the_schema_are_refused(tmp_path: Path) -> None:
    tables = small_snapshot()
    tables["offres"] = tables["offres"].with_columns(pl.lit("beaucoup").alias("lits"))
    with pytest.raises(StoreError, match="lits"):
        store.write_snapshot(tmp_path, DAY, tables)
    assert store.list_snapshots(tmp_path) == []


# --- dates and listing ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["2024-02-30", "2024-3-1", "../2024-03-01", "latest", ""])
def test_invalid_dates_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(StoreError, match="AAAA-MM-JJ"):
        _write(tmp_path, bad)
    assert not any(tmp_path.iterdir())


def test_dates_as_text_date_or_datetime(tmp_path: Path) -> None:
    assert store.snapshot_date("2024-02-29") == dt.date(2024, 2, 29)
    assert store.snapshot_date(dt.datetime(2024, 2, 29, 23, 59)) == dt.date(2024, 2, 29)
    assert _write(tmp_path, "2024-02-29").name == "2024-02-29"


def test_listing_ignores_temporary_and_foreign_folders(tmp_path: Path) -> None:
    _write(tmp_path, "2024-03-01")
    _write(tmp_path, "2023-12-31")
    for name in (".tmp-2024-04-01-abc", "2024-13-01", "notes", "2024-05-01"):
        (tmp_path / name).mkdir()
    for name in (".tmp-2024-04-01-abc", "2024-13-01", "notes"):
        (tmp_path / name / "manifest.json").write_text("{}")
    # 2024-05-01 has no manifest: an interrupted copy, not a snapshot
    assert store.list_snapshots(tmp_path) == [dt.date(2023, 12, 31), dt.date(2024, 3, 1)]
    assert store.latest_snapshot(tmp_path) == dt.date(2024, 3, 1)
    assert store.list_snapshots(tmp_path / "absent") == []
    assert store.latest_snapshot(tmp_path / "absent") is None


def test_reading_missing_snapshots(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="Aucun instantané"):
        store.read_snapshot(tmp_path)
    _write(tmp_path)
    with pytest.raises(StoreError, match="2024-03-02"):
        store.read_snapshot(tmp_path, "2024-03-02")
    with pytest.raises(StoreError, match="inconnue"):
        store.read_snapshot(tmp_path, tables=["patients"])


def test_read_table_columns_and_scan_over_snapshots(tmp_path: Path) -> None:
    _write(tmp_path, "2024-03-01")
    tables = small_snapshot()
    tables["offres"] = tables["offres"].head(2)
    store.write_snapshot(tmp_path, "2024-04-01", tables)

    lits = store.read_table(tmp_path, "2024-04-01", "offres", columns=["uo_id", "lits"])
    assert lits.rows() == [("UO-75-01", 30), ("UO-75-01", None)]

    history = store.scan_table(tmp_path, "offres", columns=["uo_id", "lits"]).collect()
    assert history.columns == ["date_snapshot", "uo_id", "lits"]
    per_date = history.group_by("date_snapshot").agg(pl.col("lits").sum()).sort("date_snapshot")
    assert per_date.rows() == [(dt.date(2024, 3, 1), 107), (dt.date(2024, 4, 1), 30)]

    empty = store.scan_table(tmp_path / "absent", "offres").collect()
    assert empty.height == 0 and empty.columns[0] == "date_snapshot"


def test_older_snapshot_without_a_new_column_reads_as_null(tmp_path: Path) -> None:
    path = _write(tmp_path)
    file = path / "etablissements.parquet"
    pl.read_parquet(file).drop("surnom").write_parquet(file)
    frame = store.read_table(tmp_path, DAY, "etablissements")
    assert frame.get_column("surnom").null_count() == 3
    assert frame.columns == TABLES["etablissements"].names


# --- atomicity and replacement --------------------------------------------------------------


def test_failed_write_leaves_the_store_unchanged(tmp_path: Path, monkeypatch) -> None:
    _write(tmp_path, "2024-02-01")
    before = _listing(tmp_path)
    real = store._write_parquet
    calls = []

    def failing(frame: pl.DataFrame, path: Path) -> str:
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError("disque plein (simulé)")
        return real(frame, path)

    monkeypatch.setattr(store, "_write_parquet", failing)
    with pytest.raises(OSError, match="simulé"):
        _write(tmp_path, "2024-03-01")
    assert len(calls) == 3
    assert _listing(tmp_path) == before == ["2024-02-01"]  # no date folder, no .tmp-* left
    assert store.list_snapshots(tmp_path) == [dt.date(2024, 2, 1)]


def test_existing_snapshot_is_not_replaced_unless_asked(tmp_path: Path) -> None:
    _write(tmp_path, extra={"version": 1})
    with pytest.raises(StoreError, match="existe déjà"):
        _write(tmp_path, extra={"version": 2})
    assert store.read_manifest(tmp_path / "2024-03-01")["extra"] == {"version": 1}

    tables = small_snapshot()
    tables["offres"] = tables["offres"].head(1)
    store.write_snapshot(tmp_path, DAY, tables, replace=True, extra={"version": 2})
    assert store.read_manifest(tmp_path / "2024-03-01")["extra"] == {"version": 2}
    assert store.read_table(tmp_path, DAY, "offres").height == 1
    assert _listing(tmp_path) == ["2024-03-01"]  # the old copy was removed


def test_failed_replacement_keeps_the_old_snapshot(tmp_path: Path, monkeypatch) -> None:
    _write(tmp_path, extra={"version": 1})

    def failing(frame: pl.DataFrame, path: Path) -> str:
        raise OSError("panne simulée")

    monkeypatch.setattr(store, "_write_parquet", failing)
    with pytest.raises(OSError):
        _write(tmp_path, replace=True, extra={"version": 2})
    assert _listing(tmp_path) == ["2024-03-01"]
    assert store.read_manifest(tmp_path / "2024-03-01")["extra"] == {"version": 1}
    assert store.verify_snapshot(tmp_path / "2024-03-01") == []


def test_cleanup_removes_leftovers_unless_a_writer_holds_the_lock(tmp_path: Path) -> None:
    import fcntl

    _write(tmp_path)
    dead, busy = tmp_path / ".tmp-2024-01-01-dead", tmp_path / ".tmp-2024-01-02-busy"
    for folder in (dead, busy):
        folder.mkdir()
        (folder / "etablissements.parquet").write_bytes(b"partial")
    # a live writer holds the store lock: its temporary folder must survive
    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert store.cleanup_temporary(tmp_path) == []
        assert _listing(tmp_path) == [".tmp-2024-01-01-dead", ".tmp-2024-01-02-busy", "2024-03-01"]
    finally:
        os.close(fd)
    # no writer: whatever is left belongs to a dead one (an age limit still applies if asked)
    an_hour_ago = time.time() - 3600
    os.utime(dead, (an_hour_ago, an_hour_ago))
    assert store.cleanup_temporary(tmp_path, older_than_s=60) == [dead]
    assert store.cleanup_temporary(tmp_path) == [busy]
    assert _listing(tmp_path) == ["2024-03-01"]


# --- checksums and determinism -------------------------------------------------------------


def test_corruption_is_detected(tmp_path: Path) -> None:
    path = _write(tmp_path)
    file = path / "unites.parquet"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    problems = store.verify_snapshot(path)
    assert len(problems) == 1 and problems[0].startswith("unites.parquet")
    with pytest.raises(StoreError, match="unites.parquet"):
        store.read_snapshot(tmp_path, verify=True)

    (path / "offres.parquet").unlink()
    assert any(p.startswith("offres.parquet : fichier absent") for p in store.verify_snapshot(path))


def test_import_twice_gives_identical_files(tmp_path: Path) -> None:
    source = write_source_dir(small_snapshot(), tmp_path / "export", separator=";")
    first = importing.import_source(source, tmp_path / "store", "2024-03-01")
    second = importing.import_source(source, tmp_path / "other", "2024-03-01")
    for name in [*TABLES, "rejected", "warnings"]:
        a, b = first.path / f"{name}.parquet", second.path / f"{name}.parquet"
        assert a.read_bytes() == b.read_bytes(), name
    m1, m2 = store.read_manifest(first.path), store.read_manifest(second.path)
    assert m1["tables"] == m2["tables"] and m1["sources"] == m2["sources"]


# --- import ---------------------------------------------------------------------------------


def test_import_source_keeps_good_rows_and_stores_the_rest(tmp_path: Path) -> None:
    export = tmp_path / "export"
    write_source_dir(small_snapshot(), export, separator=",", encoding="cp1252")
    with (export / "offres.csv").open("a", encoding="cp1252") as fh:
        fh.write('UO-75-01,ME050,HS,"12,5",,\n')  # row 7: half a bed
        fh.write("UO-94-01,ME061,HJ,,4,\n")  # row 8: fine
    with (export / "unites.csv").open("a", encoding="cp1252") as fh:
        fields = ["UO-75-09", "750000011", "SMR de nuit", "SMR", "", "", "123456789"]
        fields += [""] * (len(TABLES["unites"].names) - len(fields))
        fh.write(",".join(fields) + "\n")  # row 5: lost zero

    result = importing.import_source(export, tmp_path / "store", "2024-03-01", extra={"demo": False})
    assert result.counts["offres"] == {"lus": 8, "conserves": 7, "rejetes": 1, "avertissements": 0}
    assert result.counts["unites"] == {"lus": 5, "conserves": 5, "rejetes": 0, "avertissements": 1}
    assert result.rejected_rows == 1

    rejected = store.read_table(tmp_path / "store", "2024-03-01", "rejected")
    assert rejected.select("table", "row", "column", "value", "rule").rows() == [
        ("offres", 7, "lits", "12,5", "nombre_invalide")
    ]
    assert json.loads(rejected.item(0, "donnees"))["forme"] == "HS"
    warnings = store.read_table(tmp_path / "store", "2024-03-01", "warnings")
    assert warnings.select("row", "column", "rule").rows() == [
        (5, "telephone", "telephone_zero_perdu")
    ]
    manifest = store.read_manifest(result.path)
    sources = {s["table"]: s for s in manifest["sources"]}
    assert sources["etablissements"]["encoding"] == "windows-1252"
    assert sources["offres"]["separator"] == ","
    assert sources["offres"]["rows"] == 8
    assert sources["offres"]["sha256"] == _sha(export / "offres.csv")
    assert manifest["tables"]["offres"]["lus"] == 8
    assert manifest["extra"] == {"demo": False}


def test_import_refuses_an_existing_date_before_reading(tmp_path: Path) -> None:
    _write(tmp_path)
    with pytest.raises(StoreError, match="existe déjà"):
        importing.import_source(tmp_path / "nowhere", tmp_path, DAY)
    with pytest.raises(InputError, match="dossier introuvable"):
        importing.import_source(tmp_path / "nowhere", tmp_path, DAY, replace=True)
    assert store.verify_snapshot(tmp_path / "2024-03-01") == []
