"""Progress on long work: callbacks handed into the analysis functions, a bar on the terminal
only when standard error is one (nothing in pipes, logs or these tests' captures)."""

from __future__ import annotations

import io

import pytest

from analysis import cli
from analysis.checks.campaign import history
from analysis.demo import regional
from analysis.indicators import sync
from analysis.io import importing, validate
from analysis.model import progress
from analysis.model.schema import TABLES
from analysis.present import report
from tests.helpers import small_snapshot, write_source_dir

pytestmark = pytest.mark.slow  # builds demo stores and runs commands


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _recorder() -> tuple[list[tuple[int, int, str]], progress.Progress]:
    calls: list[tuple[int, int, str]] = []
    return calls, lambda done, total, label="": calls.append((done, total, label))


@pytest.fixture(scope="module")
def three_day_store(tmp_path_factory):
    """The small snapshot imported at three dates."""
    root = tmp_path_factory.mktemp("progress")
    source = write_source_dir(small_snapshot(), root / "source")
    for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
        importing.import_source(source, root / "store", day)
    return root / "store"


def test_no_terminal_no_bar_nothing_written():
    stream = io.StringIO()
    with progress.terminal("Import", stream) as bar:
        assert bar is None
    assert stream.getvalue() == ""


def test_a_terminal_gets_a_french_bar_erased_at_the_end():
    stream = _Terminal()
    with progress.terminal("Démonstration", stream) as bar:
        assert bar is not None
        bar(1, 4, "2023-03-01")
        bar(4, 4, "2023-04-01")
    text = stream.getvalue()
    assert "Démonstration (2023-03-01)" in text and " 25 % " in text and "1/4" in text
    assert "Démonstration (2023-04-01) 100 % " in text and "4/4" in text
    assert text.endswith("\r")  # the line is blanked: the command's own output follows clean


def test_validation_reports_each_table():
    calls, record = _recorder()
    validate.validate_tables(small_snapshot(), progress=record)
    assert [(d, t) for d, t, _ in calls] == [(i, 8) for i in range(1, 9)]
    assert len(TABLES) == 8
    assert [label for *_, label in calls] == [f"contrôle {name}" for name in TABLES]


def test_the_demo_reports_each_of_its_eleven_snapshots(tmp_path):
    calls, record = _recorder()
    dates = regional.build_demo(tmp_path / "demo", progress=record)
    assert [(d, t) for d, t, _ in calls] == [(i, 11) for i in range(1, 12)]
    assert [label for *_, label in calls] == [d.isoformat() for d in dates]


def test_histories_report_each_batch(three_day_store):
    calls, record = _recorder()
    history.progress_history(three_day_store, batch=2, progress=record)
    assert calls == [(2, 3, "2024-03-02"), (3, 3, "2024-03-03")]
    calls, record = _recorder()
    sync.status_history(three_day_store, batch=2, progress=record)
    assert calls == [(2, 3, "2024-03-02"), (3, 3, "2024-03-03")]


def test_the_report_reports_its_five_parts(three_day_store):
    calls, record = _recorder()
    report.build_report(three_day_store, progress=record)
    assert [(d, t) for d, t, _ in calls] == [(i, 5) for i in range(1, 6)]


def test_an_import_reports_its_tables(tmp_path):
    calls, record = _recorder()
    source = write_source_dir(small_snapshot(), tmp_path / "source")
    importing.preview(source, progress=record)
    assert calls[-1] == (8, 8, "contrôle habilitations")
    calls.clear()
    importing.import_source(source, tmp_path / "store", "2024-03-01", progress=record)
    assert calls[-1][:2] == (8, 8)


def test_commands_in_a_pipe_write_no_bar(capsys, tmp_path, three_day_store):
    """Standard error captured (not a terminal): only the command's own lines, no bar."""
    assert cli.main(["demo", "--out", str(tmp_path / "demo")]) == 0
    assert capsys.readouterr().err == ""
    assert cli.main(["campaign", "--store", str(three_day_store), "--out",
                     str(tmp_path / "c.csv")]) == 0
    assert capsys.readouterr().err == ""
