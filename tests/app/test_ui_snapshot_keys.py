"""Cache keys of the pages (``ui.common.manifest_time`` / ``store_stamp``) and the region a
snapshot is analysed for (``analysis.io.store.manifest_region``), on hand-made folders."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from analysis.io.store import manifest_region
from ui.common import manifest_time, store_stamp


def _snapshot(store: Path, day: str, mtime: float) -> None:
    folder = store / day
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    os.utime(folder / "manifest.json", (mtime, mtime))


def test_store_stamp_lists_snapshots_with_manifest_times(tmp_path: Path) -> None:
    _snapshot(tmp_path, "2023-05-01", 1_000.0)
    _snapshot(tmp_path, "2023-04-01", 2_000.0)
    (tmp_path / "2023-06-01").mkdir()  # no manifest: not a snapshot
    (tmp_path / "notes").mkdir()
    assert store_stamp(tmp_path) == (("2023-04-01", 2_000.0), ("2023-05-01", 1_000.0))
    assert store_stamp(tmp_path, [dt.date(2023, 5, 1)]) == (("2023-05-01", 1_000.0),)
    assert manifest_time(tmp_path, dt.date(2023, 4, 1)) == 2_000.0
    assert manifest_time(tmp_path, "2023-05-01") == 1_000.0
    assert manifest_time(tmp_path, dt.date(2023, 6, 1)) == 0.0  # absent: 0, no error


def test_store_stamp_changes_when_a_snapshot_is_rewritten(tmp_path: Path) -> None:
    _snapshot(tmp_path, "2023-05-01", 1_000.0)
    before = store_stamp(tmp_path)
    os.utime(tmp_path / "2023-05-01" / "manifest.json", (1_500.0, 1_500.0))
    assert store_stamp(tmp_path) != before


def test_manifest_region() -> None:
    assert manifest_region({"extra": {"region": "84"}}) == "84"
    assert manifest_region({"extra": {"region": "84"}}, "53") == "53"  # --region wins
    assert manifest_region({"extra": {"region": 28}}) == "28"
    assert manifest_region({}) == "11"
    assert manifest_region({"extra": None}) == "11"
    assert manifest_region({"extra": {"region": ""}}) == "11"
