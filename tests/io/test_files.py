"""The atomic write and the listing of input files (analysis/io/files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.io.files import folder_files, input_files, partial_path, read_input, write_atomic
from analysis.io.loaders.mapped import list_data_files
from analysis.model.errors import InputError


def _names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_write_atomic_writes_bytes_and_text_and_replaces(tmp_path):
    target = tmp_path / "out.csv"
    assert write_atomic(target, b"a;b\n") == target
    assert target.read_bytes() == b"a;b\n"
    write_atomic(target, "é\n")
    assert target.read_bytes() == "é\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    target = tmp_path / "scenario.yaml"
    target.write_text("ancien\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):  # fails once the partial file is open
        write_atomic(target, "nouveau \ud800")
    assert target.read_text(encoding="utf-8") == "ancien\n"
    assert not partial_path(target).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.yaml"]


def test_an_interrupted_rename_keeps_the_old_file_and_leaves_no_partial(tmp_path, monkeypatch):
    target = tmp_path / "rapport.xlsx"
    target.write_bytes(b"old")

    def interrupted(self, other):
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rapport.xlsx"]


def test_write_atomic_into_a_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "absent" / "out.csv", b"x")
    assert not (tmp_path / "absent").exists()


def test_partial_file_is_hidden_beside_the_target(tmp_path):
    assert partial_path(tmp_path / "a.csv") == tmp_path / ".a.csv.partial"


@pytest.fixture
def folder(tmp_path):
    base = tmp_path / "export"
    base.mkdir()
    for name in ("b.csv", "a.CSV", "notes.txt", ".cache.csv", ".a.csv.partial", "~$classeur.csv"):
        (base / name).write_text("x\n", encoding="utf-8")
    (base / "sous-dossier.csv").mkdir()
    return base


def test_folder_files_skip_hidden_temporary_and_folders_sorted(folder):
    csv = folder_files(folder, lambda p: p.suffix.lower() == ".csv")
    assert _names(csv) == ["a.CSV", "b.csv"]
    assert folder_files(folder / "absent", lambda p: True) == []


def test_input_files_take_given_files_as_they_are_and_list_folders(folder):
    given = folder / "notes.txt"
    files = input_files([given, folder], lambda p: p.suffix.lower() == ".csv", "rien")
    assert _names(files) == ["notes.txt", "a.CSV", "b.csv"]


def test_input_files_refuse_missing_paths_and_empty_folders(folder, tmp_path):
    with pytest.raises(InputError, match="introuvable"):
        input_files(tmp_path / "absent.csv", lambda p: True, "rien")
    with pytest.raises(InputError, match="aucun fichier JSON"):
        input_files(folder, lambda p: p.suffix == ".json", "aucun fichier JSON.")


def test_an_import_folder_ignores_office_lock_files(tmp_path):
    (tmp_path / "export.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "~$export.xlsx").write_bytes(b"lock")
    (tmp_path / ".~lock.export.csv#").write_bytes(b"lock")
    assert _names(list_data_files(tmp_path)) == ["export.csv"]


def test_read_input_gives_the_bytes_and_refuses_in_french(tmp_path):
    good = tmp_path / "a.csv"
    good.write_bytes(b"x;y\n1;2\n")
    assert read_input(good) == b"x;y\n1;2\n"
    assert read_input(str(good), max_bytes=8) == b"x;y\n1;2\n"  # exactly at the limit (8 bytes)
    with pytest.raises(InputError, match=r"fichier trop volumineux \(plus de 0 Mo\)") as err:
        read_input(good, max_bytes=7)
    assert err.value.path == good
    big = tmp_path / "big.csv"
    big.write_bytes(b"0" * (2 * 2**20 + 1))
    with pytest.raises(InputError, match=r"fichier trop volumineux \(plus de 2 Mo\)\."):
        read_input(big, max_bytes=2 * 2**20)
    with pytest.raises(InputError, match=r"fichier introuvable\."):
        read_input(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="fichier introuvable"):  # a folder is not a file
        read_input(tmp_path)
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    assert read_input(empty) == b""  # the caller says what an empty file lacks


def test_read_input_reports_an_unreadable_file(tmp_path, monkeypatch):
    target = tmp_path / "a.csv"
    target.write_bytes(b"x\n")

    def refuse(self):
        raise PermissionError(13, "Permission non accordée")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(InputError, match=r"lecture impossible \(Permission non accordée\)\."):
        read_input(target)
