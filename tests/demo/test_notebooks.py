"""The analyst notebooks run on the demo store with this virtualenv's Python, and are committed
without outputs.

Each notebook is executed with nbclient (the engine of ``pytest --nbmake notebooks/``) in a
fresh kernel whose interpreter is checked to be the one running the tests: the ``python3``
kernel spec installed with ipykernel in the venv when it resolves there (jupyter_client runs a
spec whose command is ``python`` with ``sys.executable``), otherwise a kernel spec written
here for ``sys.executable``. The kernel gets ``SMR_STORE`` = the session's demo store, so the
notebooks do not rebuild it; they write only to temporary folders.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # runs every notebook in a kernel

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = {
    "01_prise_en_main.ipynb",
    "02_couverture_accessibilite.ipynb",
    "03_suivi_campagne.ipynb",
    "04_ajouter_un_indicateur.ipynb",
}
CELL_TIMEOUT_S = 180
#: The check appended to the executed copy: which interpreter runs the kernel.
PROBE = "import sys\nprint(sys.prefix)"


def _same_path(a: str | Path, b: str | Path) -> bool:
    """Same absolute path, symlinks kept: a venv's ``bin/python`` is a symlink to the base
    interpreter, and resolving it would confuse the two."""
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _resolves_here(argv0: str) -> bool:
    """Whether a kernel command starting with ``argv0`` runs this interpreter."""
    names = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info)}
    exe = sys.executable if argv0 in names else argv0  # jupyter_client's own substitution
    return _same_path(exe, sys.executable)


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory) -> str:
    """``python3`` when it runs this venv's Python, else a kernel spec made for it here."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        if spec.argv and _resolves_here(spec.argv[0]):
            return "python3"
    except NoSuchKernel:
        pass
    base = tmp_path_factory.mktemp("jupyter")
    folder = base / "kernels" / "smr-venv"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "SMR Workbench (venv)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(base), os.environ.get("JUPYTER_PATH", "")) if p
    )
    return "smr-venv"


def test_kernel_command_resolution():
    assert _resolves_here("python")
    assert _resolves_here(sys.executable)
    assert not _resolves_here(str(Path(sys.prefix) / "autre" / "python"))


def test_the_four_notebooks_are_there():
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}, cellule {i} : sorties à effacer"
            assert cell.execution_count is None, f"{path.name}, cellule {i} : numéro d'exécution"
        assert "attachments" not in cell or not cell.attachments, f"{path.name}, cellule {i}"
    # French text for the users, code that imports the shared analysis package
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert any("from analysis." in c.source for c in nb.cells if c.cell_type == "code")


def test_clear_script_removes_outputs(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import clear_notebooks
    finally:
        sys.path.pop(0)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)
    ]
    cell.execution_count = 1
    nb.cells = [nbformat.v4.new_markdown_cell("# Essai"), cell]
    path = tmp_path / "essai.ipynb"
    nbformat.write(nb, path)
    assert clear_notebooks.clear(path) is True
    again = nbformat.read(path, as_version=4)
    assert again.cells[1].outputs == [] and again.cells[1].execution_count is None
    assert again.cells[1].source == "1 + 1"
    assert clear_notebooks.clear(path) is False


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_demo_store(path, demo_store, kernel_name, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("SMR_STORE", str(demo_store))
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    started = time.monotonic()
    client.execute()  # raises CellExecutionError with the cell and traceback on failure
    elapsed = time.monotonic() - started
    probe = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert _same_path(probe, sys.prefix), (probe, sys.prefix)
    first = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert f"Magasin {demo_store}" in first  # the store of SMR_STORE, not a new demo
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    print(f"{path.name} : {elapsed:.1f} s")
    # nothing written beside the notebooks or in the store
    assert sorted(p.name for p in tmp_path.iterdir()) == []
