"""Personal data: contacts never in logs, error messages or printed reports, masked in every
file written or offered for download unless the user asks for them explicitly."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from analysis import cli
from analysis.io import importing, store
from analysis.io.loaders.mapped import load_mapped
from analysis.model import privacy
from analysis.model.errors import InputError, SmrError
from analysis.model.schema import CONTACT_COLUMNS, TABLES
from analysis.present import export
from tests.helpers import small_snapshot, write_source_dir
from tests.io.test_loaders_mapped import ROR_HEADER, ROR_MAPPING, ROR_ROWS, csv_text

pytestmark = pytest.mark.slow  # every command's files and every loader's messages

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "claire.confidentielle@chu-exemple.fr"
PHONE = "06 11 22 33 44"
NAME = "Claire Confidentielle"
BAD_EMAIL = "claire.confidentielle.chu-exemple.fr"  # no @: a validation warning
BAD_PHONE = "06 11 22 33"  # too short: a validation warning
SECRETS = (EMAIL, PHONE, NAME, "0611223344", BAD_EMAIL, BAD_PHONE)


def _with_contacts(bad_row: bool) -> dict[str, pl.DataFrame]:
    """The small snapshot with our contacts in every contact column of every table; the
    first establishment's director e-mail and the first unit's phone are malformed (kept
    rows with a warning whose value is the contact); with ``bad_row`` one more
    establishment, rejected (bad FINESS), carries them too."""
    tables = small_snapshot()
    for table, columns in CONTACT_COLUMNS.items():
        frame = tables[table]
        if frame.height == 0:
            continue
        for column in columns:
            value = EMAIL if "mail" in column else PHONE if "telephone" in column else NAME
            frame = frame.with_columns(pl.lit(value).alias(column))
        tables[table] = frame
    first = pl.int_range(pl.len()) == 0
    tables["etablissements"] = tables["etablissements"].with_columns(
        pl.when(first).then(pl.lit(BAD_EMAIL)).otherwise(pl.col("directeur_email"))
        .alias("directeur_email")
    )
    tables["unites"] = tables["unites"].with_columns(
        pl.when(first).then(pl.lit(BAD_PHONE)).otherwise(pl.col("responsable_telephone"))
        .alias("responsable_telephone")
    )
    if bad_row:
        etabs = tables["etablissements"]
        bad = etabs.head(1).with_columns(pl.lit("75ABC").alias("finess_eg"),
                                         pl.lit("pas-un-email " + EMAIL).alias("directeur_email"))
        tables["etablissements"] = pl.concat([etabs, bad])
    return tables


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"contact « {secret} » trouvé dans : {text[:300]}"


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_import_with_a_bad_row_never_prints_or_logs_a_contact(tmp_path, capsys, everything_logged):
    source = write_source_dir(_with_contacts(bad_row=True), tmp_path / "src")
    code = cli.main(["import", str(source), "--store", str(tmp_path / "s"), "--date",
                     "2024-03-01"])
    assert code == 1  # the bad row was rejected, the rest stored
    out = capsys.readouterr()
    printed = out.out + out.err + everything_logged.text
    assert "email_invalide" in printed or "finess" in printed  # the report is printed…
    _assert_no_secret(printed)  # …without the contact values
    assert privacy.MASK in out.out
    # the user's own store keeps the rejected row whole (their data, on their disk)
    rejected = store.read_table(tmp_path / "s", "2024-03-01", "rejected")
    assert EMAIL in " ".join(rejected["donnees"].to_list())


def test_asking_for_contacts_shows_them(tmp_path, capsys):
    source = write_source_dir(_with_contacts(bad_row=True), tmp_path / "src")
    cli.main(["validate", str(source), "--contacts", "--report", str(tmp_path / "r.csv")])
    out = capsys.readouterr().out
    assert BAD_EMAIL in out  # the protection is what hides them, not the absence of data
    assert BAD_PHONE in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_validation_report_files_mask_contact_values(tmp_path, capsys, suffix):
    source = write_source_dir(_with_contacts(bad_row=True), tmp_path / "src")
    target = tmp_path / f"rapport{suffix}"
    assert cli.main(["validate", str(source), "--report", str(target)]) == 1
    _assert_no_secret(capsys.readouterr().out)
    frame = (
        pl.read_parquet(target) if suffix == ".parquet"
        else pl.read_excel(target) if suffix == ".xlsx"
        else pl.read_csv(target, infer_schema=False)
    )
    _assert_no_secret(frame.write_csv())
    assert (frame["value"] == privacy.MASK).any()


def test_mapped_file_without_header_never_echoes_its_first_row(tmp_path):
    row = [cell or "0" for cell in ROR_ROWS[0]]
    row[ROR_HEADER.index("Téléphone de l'offre")] = PHONE
    row[ROR_HEADER.index("Nom de l'offre")] = EMAIL
    row[ROR_HEADER.index("Commentaire interne")] = NAME
    file = tmp_path / "export_ror.csv"
    file.write_bytes(csv_text(row, [ROR_ROWS[1]]).encode("utf-8"))  # the header row is data
    with pytest.raises(InputError) as err:
        load_mapped(file, ROR_MAPPING)
    assert "ressemble à une ligne de données" in str(err.value)
    _assert_no_secret(str(err.value))


@pytest.mark.parametrize("fmt", ["canonical", "mapped", "fhir"])
def test_loader_notes_and_errors_carry_no_contact(tmp_path, fmt, everything_logged):
    """Whole import through each format with contacts in bad rows: the messages shown to the
    user (report reasons, exceptions, logs) never hold a contact; only ``value`` does."""
    if fmt == "canonical":
        source = write_source_dir(_with_contacts(bad_row=True), tmp_path / "src")
        options = importing.ImportOptions()
    elif fmt == "mapped":
        rows = [list(r) for r in ROR_ROWS]
        rows[0][ROR_HEADER.index("Téléphone de l'offre")] = PHONE + " / " + EMAIL
        rows[1][ROR_HEADER.index("FINESS EG")] = "pas un FINESS " + EMAIL
        source = tmp_path / "export_ror.csv"
        source.write_bytes(csv_text(ROR_HEADER, rows).encode("utf-8"))
        options = importing.ImportOptions(format="mapped", mapping=ROR_MAPPING)
    else:
        bundle = json.loads((ROOT / "tests/data/ror-fhir-bundle.json").read_text("utf-8"))
        for entry in bundle["entry"]:
            res = entry["resource"]
            if res["resourceType"] == "HealthcareService":
                res["telecom"] = [{"system": "email", "value": EMAIL},
                                  {"system": "phone", "value": "pas un numéro " + PHONE}]
                res.pop("providedBy", None)
        source = tmp_path / "bundle.json"
        source.write_text(json.dumps(bundle), encoding="utf-8")
        options = importing.ImportOptions(format="fhir")
    preview = importing.preview(source, options)
    assert preview.report.height > 0
    _assert_no_secret(" ".join(preview.report["reason"].drop_nulls().to_list()))
    _assert_no_secret(everything_logged.text)
    shown = importing.report_for_download(preview)
    _assert_no_secret(shown.write_csv())
    _assert_no_secret(export.csv_bytes(shown).decode("utf-8-sig"))


def test_error_messages_mask_contacts_whatever_their_origin():
    err = InputError(f"valeur « {EMAIL} » ou {PHONE} ou +33 6 11 22 33 44", "f.csv")
    assert str(err) == "f.csv : valeur « [masqué] » ou [masqué] ou [masqué]"
    assert "750000011" in str(SmrError("FINESS 750000011, ligne 12, SIRET 26010004500012"))


@pytest.fixture(scope="module")
def contact_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("contacts")
    store.write_snapshot(path, "2024-03-01", _with_contacts(bad_row=False),
                         extra={"region": "11", "campagne_debut": "2024-01-01"})
    return path


def _read_any(path: Path) -> str:
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        return " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row)
    if path.suffix == ".parquet":
        return pl.read_parquet(path).write_csv()
    return path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    "argv",
    [
        ["coverage", "--out", "{out}.xlsx"],
        ["access", "--mention", "ME050", "--method", "nearest", "--out", "{out}.csv"],
        ["campaign", "--out", "{out}.parquet"],
        ["sync", "--out", "{out}.csv"],
        ["todo", "--out", "{out}.xlsx"],
        ["todo", "--par", "departement", "--out", "{out}.csv"],
    ],
    ids=lambda a: "-".join(a[:1] + [a[-1][-4:]]),
)
def test_every_command_writing_files_masks_contacts(contact_store, tmp_path, capsys, argv):
    args = [a.replace("{out}", str(tmp_path / "sortie")) for a in argv]
    assert cli.main([args[0], "--store", str(contact_store), *args[1:]]) == 0
    _assert_no_secret(_read_any(Path(args[-1])))
    _assert_no_secret(capsys.readouterr().out)


def test_todo_with_contacts_shows_them(contact_store, tmp_path):
    out = tmp_path / "liste.csv"
    assert cli.main(["todo", "--store", str(contact_store), "--contacts", "--out", str(out)]) == 0
    text = _read_any(out)
    assert any(s in text for s in SECRETS), "the to-do list has contact points to show"


def test_export_masks_every_contact_column_of_every_table():
    for table, columns in CONTACT_COLUMNS.items():
        frame = pl.DataFrame({c: ["x"] for c in TABLES[table].names}).with_columns(
            pl.lit(EMAIL).alias(c) for c in columns
        )
        for data in (export.csv_bytes(frame), export.parquet_bytes(frame)):
            assert EMAIL.encode() not in data, table
        assert EMAIL.encode() in export.csv_bytes(frame, show_contacts=True)


# --- every download and every file writer goes through analysis.present.export -------------------

#: Functions whose bytes are safe: analysis.present.export, and wrappers that call it.
SAFE_CALLS = {
    "csv_bytes", "excel_bytes", "parquet_bytes", "todo_csv", "todo_excel", "report_excel",
    "workbook_for",
}
#: Downloads that are not tables of personal data, with the reason.
NOT_TABLES = {
    "to_yaml": "scénario : paramètres de planification, aucun contact",
    "report_html": "rapport régional : chiffres agrégés, aucun contact, HTML échappé",
}


def _called_names(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def _page_sources() -> list[Path]:
    return sorted([*ROOT.glob("app_pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"])


def test_every_download_button_goes_through_export():
    found = 0
    for path in _page_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "download_button"):
                continue
            found += 1
            data = next((k.value for k in call.keywords if k.arg == "data"), None)
            if data is None and len(call.args) > 1:
                data = call.args[1]
            where = f"{path.name}:{call.lineno}"
            assert data is not None, where
            names = _called_names(data)
            assert names & (SAFE_CALLS | set(NOT_TABLES)), (where, names)
            for kw in ast.walk(call):
                if isinstance(kw, ast.keyword) and kw.arg == "show_contacts":
                    assert not (isinstance(kw.value, ast.Constant) and kw.value.value), where
    assert found >= 8


def test_contact_checkboxes_use_the_shared_toggle():
    """A « show contacts » checkbox must be ``ui.common.contact_toggle`` (it disappears when
    the deployment hides contacts)."""
    for path in _page_sources():
        if path.name == "common.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr in ("checkbox", "toggle") and call.args
                    and isinstance(call.args[0], ast.Constant)
                    and "contact" in str(call.args[0].value).lower()):
                raise AssertionError(f"{path.name}:{call.lineno} : utiliser contact_toggle")


def test_no_file_writer_bypasses_export():
    """Tabular files are written by ``analysis.present.export`` (and snapshots by ``store``) only."""
    allowed = {"export.py": {"write_csv", "write_parquet"}, "store.py": {"write_parquet"}}
    for path in sorted(ROOT.glob("analysis/**/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in (
                "write_csv", "write_excel", "write_parquet", "to_csv", "to_excel", "write_ndjson",
                "write_json",
            ):
                if node.attr in allowed.get(path.name, set()):
                    continue
                if path.relative_to(ROOT).as_posix() == "analysis/demo/quality_story.py" and (
                    node.attr == "write_csv"
                ):
                    continue  # fictitious demo source files, not an export of user data
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
