"""Shared fixtures: a demo store built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """The deterministic demo store (default seed), written once for the whole session."""
    from analysis.demo import regional

    path = tmp_path_factory.mktemp("demo_store")
    regional.build_demo(path)
    return path


@pytest.fixture
def app_env(demo_store, monkeypatch) -> Path:
    """Run the app from the repository root with the session's demo store selected."""
    monkeypatch.setenv("SMR_STORE", str(demo_store))
    monkeypatch.chdir(ROOT)
    return demo_store


def pytest_collection_modifyitems(config, items) -> None:
    """Page tests (``tests/app``: AppTest runs a whole page, seconds each) are ``slow``, out of
    the fast lane ``pytest -m "not slow and not browser"``."""
    app = ROOT / "tests" / "app"
    for item in items:
        if app in item.path.parents:
            item.add_marker(pytest.mark.slow)


def pytest_report_header(config) -> str:
    return f"SMR Workbench tests, root {ROOT}, SMR_STORE={os.environ.get('SMR_STORE', '-')}"
