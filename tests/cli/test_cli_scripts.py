"""The launch scripts and what the README says about them: notebooks in JupyterLab from an
extra pinned in constraints.txt, port and store of the app."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[_name(name)] = version.strip()
    return pins


def test_every_dependency_and_extra_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted.extend(extra)
    pins = _pins()
    assert [r for r in wanted if _name(r) not in pins] == []
    notebooks = project["optional-dependencies"]["notebooks"]
    assert {_name(r) for r in notebooks} >= {"jupyterlab", "ipykernel"}
    assert "tqdm" in {_name(r) for r in project["dependencies"]}


def test_run_notebooks_installs_the_extra_and_starts_jupyterlab_offline():
    script = (ROOT / "scripts" / "run_notebooks.sh").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh notebooks" in script
    assert re.search(r"jupyter lab --ServerApp\.root_dir=notebooks", script)
    for offline in ("--LabApp.news_url=None", "NeverCheckForUpdate",
                    "--LabApp.extension_manager=readonly"):
        assert offline in script
    assert script.rstrip().endswith('"$@"')  # --port, --no-browser… reach jupyter lab
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert 'test | notebooks) extra="[$1]"' in setup


def test_setup_refuses_an_unknown_option_before_installing_anything(tmp_path):
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh"), "tout"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "option inconnue « tout »" in proc.stderr


def test_run_app_passes_its_arguments_to_streamlit():
    script = (ROOT / "scripts" / "run_app.sh").read_text(encoding="utf-8")
    assert re.search(r'streamlit run app\.py .*"\$@"', script)


def test_readme_gives_the_three_commands_the_port_and_the_store():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = readme.split("## La commande `smr`")[0]
    for line in ("bash scripts/run_app.sh", "bash scripts/run_tests.sh",
                 "bash scripts/run_notebooks.sh", "pip install -e .[notebooks]",
                 "bash scripts/run_app.sh --server.port 8502",
                 "SMR_STORE=/chemin/vers/magasin bash scripts/run_app.sh"):
        assert line in commands, line
