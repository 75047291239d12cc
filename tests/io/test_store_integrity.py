"""Store integrity: interrupted writes, killed imports, concurrent writers, corruption, links.

A write interrupted at any point must leave the store readable with no partial snapshot
(leftover ``.tmp-*`` folders are ignored and cleaned later) and must never lose the snapshot
it was replacing; two processes importing two dates must not corrupt each other; a corrupted
file is detected by its checksum and the other snapshots stay usable.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from analysis.io import store
from analysis.model.errors import StoreError
from tests.helpers import small_snapshot, write_source_dir

pytestmark = pytest.mark.slow  # kills imports in subprocesses at every write step

ROOT = Path(__file__).resolve().parents[2]
OLD, NEW = "2024-03-01", "2024-04-01"


class Interrupted(Exception):
    """The fault injected into a write."""


def _state(root: Path) -> dict[str, int | None]:
    """Listed snapshot → its manifest's ``extra.version`` (after checking every checksum)."""
    out = {}
    for day in store.list_snapshots(root):
        snap = store.read_snapshot(root, day, verify=True)  # raises on a partial snapshot
        out[day.isoformat()] = snap.manifest["extra"].get("version")
        assert snap.tables["offres"].height == small_snapshot()["offres"].height
    return out


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(store.TMP_PREFIX))


@pytest.mark.parametrize("replace", [False, True], ids=["new", "replace"])
@pytest.mark.parametrize("step", store.WRITE_STEPS)
def test_a_write_interrupted_at_any_step_leaves_no_partial_snapshot(
    tmp_path, monkeypatch, step, replace
):
    store.write_snapshot(tmp_path, OLD, small_snapshot(), extra={"version": 1})
    day = OLD if replace else NEW

    def fail(where: str) -> None:
        if where == step:
            raise Interrupted(where)

    monkeypatch.setattr(store, "_checkpoint", fail)
    reached = True
    try:
        store.write_snapshot(tmp_path, day, small_snapshot(), replace=replace,
                             extra={"version": 2})
        reached = False  # a step the path does not take (none today: all are called)
    except Interrupted:
        pass
    assert reached, f"step {step} never reached"
    state = _state(tmp_path)
    # before the rename nothing changed; after it, the new snapshot is whole
    done = store.WRITE_STEPS.index(step) >= store.WRITE_STEPS.index("renamed")
    if replace:
        assert state == {OLD: 2 if done else 1}
    else:
        assert state == ({OLD: 1, NEW: 2} if done else {OLD: 1})
    # leftovers are invisible, and the next cleanup (or write) removes them
    monkeypatch.setattr(store, "_checkpoint", lambda where: None)
    store.cleanup_temporary(tmp_path)
    assert _leftovers(tmp_path) == []
    assert _state(tmp_path) == state


def test_old_copy_left_by_a_writer_killed_between_its_renames_is_put_back(tmp_path):
    store.write_snapshot(tmp_path, OLD, small_snapshot(), extra={"version": 1})
    # the state a SIGKILL between « final → old » and « tmp → final » leaves behind
    os.rename(tmp_path / OLD, tmp_path / f"{store.OLD_PREFIX}{OLD}-0123456789ab")
    (tmp_path / f"{store.TMP_PREFIX}{OLD}-fedcba987654").mkdir()
    assert store.list_snapshots(tmp_path) == []
    store.cleanup_temporary(tmp_path)
    assert _state(tmp_path) == {OLD: 1}
    assert _leftovers(tmp_path) == []
    # the same happens at the start of the next write
    os.rename(tmp_path / OLD, tmp_path / f"{store.OLD_PREFIX}{OLD}-0123456789ab")
    store.write_snapshot(tmp_path, NEW, small_snapshot(), extra={"version": 2})
    assert _state(tmp_path) == {OLD: 1, NEW: 2}


# --- processes killed with SIGKILL --------------------------------------------------------

_KILL_AT_STEP = textwrap.dedent(
    """
    import os, signal, sys
    from analysis import cli
    from analysis.io import store

    step = sys.argv[1]

    def die(where):
        if where == step:
            os.kill(os.getpid(), signal.SIGKILL)

    store._checkpoint = die
    sys.exit(cli.main(sys.argv[2:]))
    """
)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return write_source_dir(small_snapshot(), tmp_path_factory.mktemp("source"))


@pytest.mark.parametrize(
    "step", [s for s in store.WRITE_STEPS if s.startswith(("written:", "old_", "renamed",
                                                          "manifest", "locked"))]
)
def test_sigkill_at_each_step_of_a_replacing_import(tmp_path, source, step):
    store.write_snapshot(tmp_path, OLD, small_snapshot(), extra={"version": 1})
    before = _state(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _KILL_AT_STEP, step, "import", str(source), "--store",
         str(tmp_path), "--date", OLD, "--replace"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    listed = store.list_snapshots(tmp_path)
    for day in listed:  # whatever is listed is whole
        store.read_snapshot(tmp_path, day, verify=True)
    store.cleanup_temporary(tmp_path)  # the next writer's first move
    after = _state(tmp_path)
    assert list(after) == list(before)  # never lost
    assert _leftovers(tmp_path) == []


def test_imports_killed_at_random_moments(tmp_path, source):
    """``smr import`` killed with SIGKILL at random times, again and again, in one store."""
    rng = random.Random(20240301)
    argv = [sys.executable, "-m", "analysis.cli", "import", str(source), "--store", str(tmp_path)]
    started = time.monotonic()
    done = subprocess.run([*argv, "--date", "2024-01-01"], cwd=ROOT, capture_output=True,
                          timeout=120)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    kills = 0
    for i in range(6):
        day = f"2024-02-{i + 1:02d}"
        extra = ["--date", day] if i % 2 else ["--date", "2024-01-01", "--replace"]
        proc = subprocess.Popen([*argv, *extra], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 0.9) * duration)
        proc.send_signal(signal.SIGKILL)
        kills += proc.wait(timeout=60) == -signal.SIGKILL
        listed = store.list_snapshots(tmp_path)
        for day_listed in listed:
            store.read_snapshot(tmp_path, day_listed, verify=True)
        store.cleanup_temporary(tmp_path)
        assert dt.date(2024, 1, 1) in store.list_snapshots(tmp_path)  # never lost
        assert _leftovers(tmp_path) == []
    assert kills >= 1  # at least one import died mid-way (others may have finished)


def test_two_processes_importing_two_dates_at_once(tmp_path, source):
    argv = [sys.executable, "-m", "analysis.cli", "import", str(source), "--store", str(tmp_path)]
    procs = [
        subprocess.Popen([*argv, "--date", day], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for day in (OLD, NEW)
    ]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0, 0], results
    assert [d.isoformat() for d in store.list_snapshots(tmp_path)] == [OLD, NEW]
    for day in (OLD, NEW):
        assert store.verify_snapshot(tmp_path / day) == []
        snap = store.read_snapshot(tmp_path, day, verify=True)
        assert snap.manifest["date"] == day
    assert _leftovers(tmp_path) == []


def test_two_processes_importing_the_same_date(tmp_path, source):
    argv = [sys.executable, "-m", "analysis.cli", "import", str(source), "--store", str(tmp_path),
            "--date", OLD]
    procs = [subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes == [0, 3]  # one writes, the other is refused: never two half-snapshots
    assert store.verify_snapshot(tmp_path / OLD) == []
    assert _leftovers(tmp_path) == []


def test_a_writer_waits_for_the_lock_and_gives_up_clearly(tmp_path, monkeypatch):
    import fcntl

    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        monkeypatch.setattr(store, "LOCK_TIMEOUT_S", 0.3)
        with pytest.raises(StoreError, match="occupé par une autre écriture"):
            store.write_snapshot(tmp_path, OLD, small_snapshot())
    finally:
        os.close(fd)
    assert store.list_snapshots(tmp_path) == [] and _leftovers(tmp_path) == []


# --- corruption and links -----------------------------------------------------------------


def test_a_corrupted_file_is_reported_and_other_snapshots_stay_usable(tmp_path):
    for day in (OLD, NEW):
        store.write_snapshot(tmp_path, day, small_snapshot())
    file = tmp_path / OLD / "etablissements.parquet"
    data = bytearray(file.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 8):
        data[i] ^= 0x5A
    file.write_bytes(bytes(data))
    problems = store.verify_snapshot(tmp_path / OLD)
    assert problems == [
        "etablissements.parquet : somme de contrôle différente du manifeste "
        "(fichier modifié ou corrompu)."
    ]
    with pytest.raises(StoreError, match="corrompu : etablissements.parquet"):
        store.read_snapshot(tmp_path, OLD, verify=True)
    assert store.read_snapshot(tmp_path, NEW, verify=True).tables["etablissements"].height > 0
    assert store.list_snapshots(tmp_path) == [dt.date(2024, 3, 1), dt.date(2024, 4, 1)]

    (tmp_path / NEW / "manifest.json").write_text("{pas du json", encoding="utf-8")
    with pytest.raises(StoreError, match="Manifeste illisible"):
        store.read_snapshot(tmp_path, NEW)


def test_links_never_lead_outside_the_store(tmp_path):
    root, outside = tmp_path / "store", tmp_path / "ailleurs"
    store.write_snapshot(outside, OLD, small_snapshot())
    store.write_snapshot(root, NEW, small_snapshot())
    # a snapshot folder that is a link to another folder is neither listed nor read
    (root / "2024-05-01").symlink_to(outside / OLD, target_is_directory=True)
    assert store.list_snapshots(root) == [dt.date(2024, 4, 1)]
    with pytest.raises(StoreError, match="hors du magasin"):
        store.read_snapshot(root, "2024-05-01")
    # a leftover « temporary » folder that is a link: unlinked, its target untouched
    (root / ".tmp-2024-06-01-abcdef").symlink_to(outside / OLD, target_is_directory=True)
    store.cleanup_temporary(root)
    assert not (root / ".tmp-2024-06-01-abcdef").is_symlink()
    assert store.verify_snapshot(outside / OLD) == []
    # replacing a snapshot that is a link replaces the link, never the folder it points to
    (root / "2024-05-01").unlink()
    (root / "2024-05-01").symlink_to(outside / OLD, target_is_directory=True)
    store.write_snapshot(root, "2024-05-01", small_snapshot(), replace=True)
    assert not (root / "2024-05-01").is_symlink()
    assert store.verify_snapshot(outside / OLD) == []
    assert _leftovers(root) == []


@pytest.mark.parametrize("date", ["..", "../2024-03-01", "/etc", "2024-03-01/..", "2024-3-1",
                                  "2024-02-30", "2024-03-01\x00", "./2024-03-01", " 2024-13-01"])
def test_snapshot_dates_never_name_another_folder(tmp_path, date):
    store.write_snapshot(tmp_path, OLD, small_snapshot())
    with pytest.raises(StoreError, match="Date d'instantané invalide"):
        store.read_snapshot(tmp_path, date)
    with pytest.raises(StoreError, match="Date d'instantané invalide"):
        store.write_snapshot(tmp_path, date, small_snapshot())
    with pytest.raises(StoreError, match="Date d'instantané invalide"):
        store.read_table(tmp_path, date, "offres")


@pytest.mark.parametrize("table", ["../manifest", "/etc/passwd", "etablissements/../x", "."])
def test_table_names_are_checked(tmp_path, table):
    store.write_snapshot(tmp_path, OLD, small_snapshot())
    with pytest.raises(StoreError, match="Table\\(s\\) inconnue\\(s\\)"):
        store.read_table(tmp_path, OLD, table)
    with pytest.raises(StoreError, match="Table\\(s\\) inconnue\\(s\\)"):
        store.scan_table(tmp_path, table)


def test_uploaded_names_stay_in_the_staging_folder(tmp_path):
    from analysis.io import importing

    inside = tmp_path / "staging"
    inside.mkdir()
    outside = tmp_path / "cible.csv"
    (tmp_path / "lien").symlink_to(outside)
    names = ["../cible.csv", "/etc/passwd", "..", "../../lien", "C:\\Windows\\x.csv",
             ".bashrc", "a/../../b.csv", "\x00nul.csv"]
    paths = importing.stage_files([(n, b"x") for n in names], inside)
    assert all(p.parent == inside for p in paths), paths
    assert all(not p.name.startswith(".") for p in paths)
    assert not outside.exists() and len({p.name for p in paths}) == len(names)
    assert sorted(p.name for p in inside.iterdir()) == sorted(p.name for p in paths)


def test_frames_with_wrong_types_are_refused_before_anything_is_written(tmp_path):
    tables = small_snapshot()
    tables["offres"] = tables["offres"].with_columns(pl.lit("beaucoup").alias("lits"))
    with pytest.raises(StoreError, match="lits"):
        store.write_snapshot(tmp_path, OLD, tables)
    assert list(tmp_path.iterdir()) == []
