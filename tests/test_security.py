"""Injection and code safety: spreadsheet formulas neutralised in every file written, no code
evaluated from what is read, settings documented and the login gate decided correctly."""

from __future__ import annotations

import ast
import csv
import importlib
import io
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml

from analysis import cli
from analysis.io import store
from analysis.model import settings
from analysis.present import export
from tests.helpers import small_snapshot

pytestmark = pytest.mark.slow  # every command's files, every module imported

ROOT = Path(__file__).resolve().parent.parent
FORMULAS = ["=1+1", "+33 1 23", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")",
            "\t=1", "\r=1"]

# --- spreadsheet formulas -----------------------------------------------------------------


def _formula_cells(data: bytes) -> list[str]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [f"{ws.title}!{c.coordinate}" for ws in wb for row in ws.iter_rows() for c in row
            if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("="))]


def _csv_cells(data: bytes) -> list[str]:
    """Cells of a « CSV pour Excel » (BOM, ``;``) or « CSV données » (``,``) file."""
    delimiter = ";" if data.startswith(b"\xef\xbb\xbf") else ","
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]


def test_every_kind_of_text_cell_is_neutralised():
    frame = pl.DataFrame({
        "texte": FORMULAS,
        "categorie": pl.Series(FORMULAS, dtype=pl.Categorical),
        "liste": [[f] for f in FORMULAS],
        "nombre": [-1.5, 2, -3, 4, 5, 6, 7],
        "=cmd|' /C calc'!A0": ["ok"] * len(FORMULAS),
    })
    for french in (True, False):
        assert _formula_cells(export.excel_bytes({"feuille": frame}, french=french)) == []
    for flavour, number in ((export.CSV_EXCEL, "-1,5"), (export.CSV_DONNEES, "-1.5")):
        cells = _csv_cells(export.csv_bytes(frame, flavour=flavour))
        dangerous = [c for c in cells if c.startswith(export.FORMULA_PREFIXES)
                     and not c.lstrip("-").replace(".", "").replace(",", "").isdigit()]
        assert dangerous == [], (flavour, dangerous)
        assert "'=1+1" in cells and number in cells  # numbers are left alone


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    """A store whose names and ids start with formulas."""
    tables = small_snapshot()
    tables["etablissements"] = tables["etablissements"].with_columns(
        pl.format("=HYPERLINK(\"http://x\",\"{}\")", pl.col("raison_sociale"))
        .alias("raison_sociale"),
        pl.lit("@SUM(1)").alias("surnom"),
    )
    tables["unites"] = tables["unites"].with_columns(pl.format("+{}", pl.col("nom")).alias("nom"))
    path = tmp_path_factory.mktemp("hostile")
    store.write_snapshot(path, "2024-03-01", tables,
                         extra={"region": "11", "campagne_debut": "2024-06-01"})
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["access", "--mention", "ME050", "--method", "nearest", "--out", "{out}.xlsx"],
        ["access", "--mention", "ME050", "--method", "nearest", "--out", "{out}.csv"],
        ["sync", "--out", "{out}.xlsx"],
        ["sync", "--out", "{out}.csv"],
        ["sync", "--csv-excel", "--out", "{out}.csv"],
        ["access", "--mention", "ME050", "--method", "nearest", "--csv-excel", "--out",
         "{out}.csv"],
        ["todo", "--out", "{out}.xlsx"],
        ["todo", "--out", "{out}.csv"],
        ["coverage", "--level", "departement", "--out", "{out}.xlsx"],
    ],
    ids=lambda a: f"{a[0]}-{a[-1][-4:]}",
)
def test_command_outputs_never_hold_a_formula(hostile_store, tmp_path, capsys, argv):
    args = [a.replace("{out}", str(tmp_path / "sortie")) for a in argv]
    assert cli.main([args[0], "--store", str(hostile_store), *args[1:]]) == 0, capsys.readouterr()
    data = Path(args[-1]).read_bytes()
    if args[-1].endswith(".xlsx"):
        assert _formula_cells(data) == []
        text = " ".join(str(c.value) for ws in openpyxl.load_workbook(io.BytesIO(data))
                        for row in ws.iter_rows() for c in row)
    else:
        cells = _csv_cells(data)
        assert not [c for c in cells if c.startswith(("=", "+", "@"))], cells
        text = " ".join(cells)
    if args[0] != "coverage":  # names of establishments or units are in these files
        assert "'=HYPERLINK" in text or "'+" in text or "'@" in text


def test_validation_report_file_neutralises_formulas(tmp_path, capsys):
    from tests.helpers import write_source_dir

    tables = small_snapshot()
    tables["etablissements"] = tables["etablissements"].with_columns(
        pl.lit("=1+1").alias("code_postal")  # a warning whose value is a formula
    )
    source = write_source_dir(tables, tmp_path / "src")
    cli.main(["validate", str(source), "--report", str(tmp_path / "r.xlsx")])
    capsys.readouterr()
    assert _formula_cells((tmp_path / "r.xlsx").read_bytes()) == []


# --- sizes -------------------------------------------------------------------------------


def test_uploads_larger_than_the_setting_are_refused(monkeypatch, tmp_path):
    from analysis.io import importing
    from analysis.model.errors import InputError
    from tests.helpers import write_source_dir

    source = write_source_dir(small_snapshot(), tmp_path / "src")
    files = [(p.name, p.read_bytes()) for p in sorted(source.iterdir())]
    biggest = max(len(c) for _, c in files)
    options = importing.ImportOptions()
    assert importing.preview_uploads(files, options, max_bytes=biggest).counts
    with pytest.raises(InputError, match="trop volumineux pour l'application"):
        importing.preview_uploads(files, options, max_bytes=biggest - 1)
    monkeypatch.setenv("SMR_MAX_UPLOAD_MB", "1")
    with pytest.raises(InputError, match="limite 1 Mo"):
        importing.check_upload_sizes([("gros.csv", 2**20 + 1)], settings.max_upload_bytes())
    monkeypatch.setenv("SMR_MAX_IMPORT_ROWS", "5")
    limited = importing.ImportOptions(row_limit=settings.max_import_rows())
    with pytest.raises(InputError, match="limite 5"):
        importing.preview_uploads(files, limited)


# --- no code evaluated from input ---------------------------------------------------------

SCANNED = ["analysis", "ui", "app_pages", "scripts"]
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal", "joblib", "cloudpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
UNSAFE_YAML = {"unsafe_load", "full_load", "load_all", "unsafe_load_all", "full_load_all"}


def _problems_in(source: str, module: object | None = None) -> list[str]:
    """Dangerous constructs in ``source``: pickle-like imports, eval/exec, unsafe YAML
    loading, shell commands, pickled NumPy / pandas reads."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] in FORBIDDEN_MODULES for n in names):
                found.append(f"{node.lineno}: import {names}")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
        kwargs = {k.arg: k.value for k in node.keywords}
        if isinstance(func, ast.Name) and name in FORBIDDEN_CALLS:
            found.append(f"{node.lineno}: {name}()")
        if owner == "yaml" and name in UNSAFE_YAML:
            found.append(f"{node.lineno}: yaml.{name}")
        if owner == "yaml" and name == "load":
            loader = kwargs.get("Loader", node.args[1] if len(node.args) > 1 else None)
            resolved = None
            if isinstance(loader, ast.Attribute) and getattr(loader.value, "id", "") == "yaml":
                resolved = getattr(yaml, loader.attr, None)
            elif isinstance(loader, ast.Name) and module is not None:
                resolved = getattr(module, loader.id, None)
            if not (isinstance(resolved, type) and issubclass(resolved, yaml.SafeLoader)):
                found.append(f"{node.lineno}: yaml.load without a SafeLoader")
        shell = kwargs.get("shell")
        if isinstance(shell, ast.Constant) and shell.value is True:
            found.append(f"{node.lineno}: shell=True")
        if owner == "os" and name in ("system", "popen", "execv", "execvp", "spawnl"):
            found.append(f"{node.lineno}: os.{name}")
        pickle_kw = kwargs.get("allow_pickle")
        if isinstance(pickle_kw, ast.Constant) and pickle_kw.value is True:
            found.append(f"{node.lineno}: allow_pickle=True")
        if name in ("read_pickle", "to_pickle"):
            found.append(f"{node.lineno}: {name}")
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle", "from joblib import load", "eval(text)", "exec(code)",
        "yaml.load(text)", "yaml.load(text, Loader=yaml.Loader)", "yaml.unsafe_load(text)",
        "yaml.full_load(text)", "subprocess.run(cmd, shell=True)", "os.system(cmd)",
        "np.load(path, allow_pickle=True)", "pd.read_pickle(path)",
    ],
)
def test_the_scanner_sees_each_dangerous_construct(snippet):
    assert _problems_in(snippet), snippet


def test_no_code_is_evaluated_from_what_is_read():
    problems = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT)
            module = None
            if folder == "analysis":
                module = importlib.import_module(".".join(rel.with_suffix("").parts))
            problems += [f"{rel}:{p}" for p in _problems_in(path.read_text("utf-8"), module)]
    assert problems == []
    # yaml.load is used once, with the mapping loader, a SafeLoader
    from analysis.io.loaders import mapped

    assert issubclass(mapped._StringLoader, yaml.SafeLoader)
    with pytest.raises(Exception, match="python/object"):  # noqa: B017 - any YAML error
        mapped._load_yaml("!!python/object/apply:os.system ['true']")


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("oui", True), ("TRUE", True), (" on ", True), ("0", False),
     ("non", False), ("off", False), ("", False), ("peut-être", False)],
)
def test_boolean_settings(monkeypatch, value, expected):
    for name, read in (("SMR_HIDE_CONTACTS", settings.hide_contacts),
                       ("SMR_READ_ONLY", settings.read_only)):
        monkeypatch.setenv(name, value)
        assert read() is expected


def test_number_settings(monkeypatch):
    monkeypatch.delenv("SMR_MAX_UPLOAD_MB", raising=False)
    assert settings.max_upload_mb() == 200 and settings.max_upload_bytes() == 200 * 2**20
    monkeypatch.setenv("SMR_MAX_UPLOAD_MB", "5")
    assert settings.max_upload_bytes() == 5 * 2**20
    for bad in ("-3", "0", "beaucoup", "1e9"):
        monkeypatch.setenv("SMR_MAX_IMPORT_ROWS", bad)
        assert settings.max_import_rows() == 300_000
    monkeypatch.setenv("SMR_MAX_IMPORT_ROWS", "1_000")
    assert settings.max_import_rows() == 1000


@pytest.mark.parametrize(
    ("require", "configured", "logged_in", "allowed", "login_button"),
    [
        (None, False, False, True, False),  # nothing configured: the app works as before
        (None, True, False, False, True),  # [auth] present: login required
        (None, True, True, True, False),
        ("1", False, False, False, False),  # required but not configured: refuse, say why
        ("1", False, True, False, False),
        ("1", True, False, False, True),
        ("1", True, True, True, False),
        ("0", True, False, True, False),  # explicitly off
    ],
)
def test_login_gate(monkeypatch, require, configured, logged_in, allowed, login_button):
    if require is None:
        monkeypatch.delenv("SMR_REQUIRE_LOGIN", raising=False)
    else:
        monkeypatch.setenv("SMR_REQUIRE_LOGIN", require)
    decision = settings.access(configured, logged_in)
    assert decision.allowed is allowed
    assert decision.show_login is login_button
    assert (decision.reason is None) is allowed
    if require == "1" and not configured:
        assert "[auth]" in decision.reason


@pytest.mark.parametrize(
    ("env", "configured", "expected"),
    [({}, False, True), ({}, True, False), ({"SMR_READ_ONLY": "1"}, False, False),
     ({"SMR_REQUIRE_LOGIN": "1"}, False, False), ({"SMR_ALLOW_LOCAL_PATHS": "1"}, True, True),
     ({"SMR_ALLOW_LOCAL_PATHS": "0"}, False, False)],
)
def test_local_paths_only_on_a_personal_app(monkeypatch, env, configured, expected):
    for name in ("SMR_READ_ONLY", "SMR_REQUIRE_LOGIN", "SMR_ALLOW_LOCAL_PATHS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert settings.allow_local_paths(configured) is expected


def test_every_setting_is_documented():
    security = (ROOT / "docs" / "securite.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in settings.SETTINGS:
        assert f"`{setting.name}`" in security, setting.name
        assert setting.name in readme, setting.name
        assert f"`{setting.default}`" in security, (setting.name, setting.default)
    # and every SMR_ variable read anywhere is a documented setting
    names = {s.name for s in settings.SETTINGS}
    for path in [*ROOT.glob("analysis/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("app*.py"),
                 *ROOT.glob("app_pages/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    node.value.startswith("SMR_") and node.value.isupper():
                assert node.value in names, f"{path.name}: {node.value}"


def test_example_secrets_file_holds_no_secret():
    example = (ROOT / "docs" / "secrets.example.toml").read_text(encoding="utf-8")
    import tomllib

    auth = tomllib.loads(example)["auth"]
    assert {"redirect_uri", "cookie_secret", "client_id", "client_secret",
            "server_metadata_url"} <= set(auth)
    assert all("A_REMPLACER" in str(auth[k]) for k in ("cookie_secret", "client_secret"))
    assert not (ROOT / ".streamlit" / "secrets.toml").exists()
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text(encoding="utf-8")
