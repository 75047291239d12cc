"""Bad-input corpus: every loader and every command, fed broken files on purpose.

The corpus is generated once per session (``badinput`` fixture) from good files of each
format: empty, blank, truncated, binary, wrong encoding (UTF-16 without BOM, a UTF-8 BOM that
lies), duplicated columns, missing columns, a 5 MB single line, and one bad row among good
ones. Each file must be answered by an ``InputError`` whose message names the file and the
problem in a short line (never the 5 MB of content), or — for one bad row — by the good rows
kept and the bad one reported. Commands must exit with their documented code and print one
readable French line, never a traceback.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from analysis import cli
from analysis.io import importing, parameter_files
from analysis.io.loaders.canonical import read_source_dir
from analysis.io.loaders.fhir import load_fhir
from analysis.io.loaders.finess import load_finess
from analysis.io.loaders.mapped import load_mapped
from analysis.io.validate import validate_tables
from analysis.model.errors import InputError, SmrError
from analysis.transition.scenarios import read_scenario
from tests.helpers import small_snapshot, write_source_dir
from tests.io.test_loaders_finess import BOURG, BOURG_GEO, PARIS, PARIS_GEO, structure
from tests.io.test_loaders_mapped import ROR_HEADER, ROR_MAPPING, ROR_ROWS, csv_text

pytestmark = pytest.mark.slow  # every loader and command on a generated corpus, in subprocesses

ROOT = Path(__file__).resolve().parent.parent
FHIR_BUNDLE = ROOT / "tests" / "data" / "ror-fhir-bundle.json"
SCENARIO = ROOT / "docs" / "scenarios" / "pediatrie_grande_couronne.yaml"
HUGE = 5 * 2**20  # a 5 MB single line
MAX_MESSAGE = 600  # an error is one short line: path + reason

# --- good files of each format ------------------------------------------------------------


def _good_finess() -> bytes:
    lines = ["finess;etalab;100;2024-03-01", PARIS, PARIS_GEO, BOURG, BOURG_GEO]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _good_population() -> bytes:
    return b"commune_insee,moins_18,plus_75,total\n75056,390000,160000,2187526\n92012,1,2,10\n"


def _good_travel() -> bytes:
    return b"commune_insee,finess_eg,minutes\n77001,770000123,24.5\n75056,750000011,10\n"


# Corruptions that apply to any file (bytes → bytes).
def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2 + 7]


def _utf16_without_bom(data: bytes) -> bytes:
    return data.decode("utf-8").encode("utf-16-le")


def _lying_bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data.decode("utf-8").encode("cp1252") + b"\xff\xfe\xe9"


GENERIC: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda data: b"",
    "blank": lambda data: b"  \r\n\n \t\n",
    "truncated": _truncated,
    "binary": lambda data: bytes(range(256)) * 64,
    "png": lambda data: b"\x89PNG\r\n\x1a\n" + bytes(2000),
    "xlsx_named_csv": lambda data: b"PK\x03\x04" + bytes(500),
    "utf16_without_bom": _utf16_without_bom,
    "lying_bom": _lying_bom,
    "huge_line": lambda data: b"x" * HUGE,
    "huge_quoted_line": lambda data: b'"' + b"a;b," * (HUGE // 4),
}

#: Words the error must contain, by corruption (a loader may refine, see EXPECTED).
WORDS = {
    "empty": "vide",
    "blank": "vide",
    "binary": "pas un fichier texte",
    "png": "pas un fichier texte",
    "xlsx_named_csv": "pas un fichier texte",
    "utf16_without_bom": "pas un fichier texte",
    "lying_bom": "annonce l'encodage",
}


@dataclass(frozen=True)
class Loader:
    """How to read one format: the good file, where it goes, how to load it."""

    name: str
    good: Callable[[], bytes]
    file_name: str
    load: Callable[[Path], object]  # path of the file → result (raises InputError)
    #: corruption → expected words (overrides WORDS); None: the good rows must be kept
    expected: dict[str, str | None]


def _canonical_load(path: Path) -> object:
    return read_source_dir(path.parent)


def _canonical_good() -> bytes:
    return (_canonical_dir_cache() / "etablissements.csv").read_bytes()


_CACHE: dict[str, Path] = {}


def _canonical_dir_cache() -> Path:
    return _CACHE["canonical"]


LOADERS = [
    Loader(
        "canonical", _canonical_good, "etablissements.csv", _canonical_load,
        {"truncated": "nombre de champs", "huge_line": "dépasse",
         "huge_quoted_line": "guillemet non fermé"},
    ),
    Loader(
        "mapped", lambda: csv_text(ROR_HEADER, ROR_ROWS).encode("utf-8"), "export_ror.csv",
        lambda path: load_mapped(path, ROR_MAPPING),
        {"truncated": "nombre de champs", "huge_line": "dépasse",
         "huge_quoted_line": "guillemet non fermé"},
    ),
    Loader(
        "finess", _good_finess, "etalab-cs1100507-stock-20240301-0400.csv", load_finess,
        # a cut extraction keeps every whole line (the cut one is rejected, see below)
        {"truncated": None, "huge_line": "pas un fichier d'extraction FINESS",
         "huge_quoted_line": "pas un fichier d'extraction FINESS"},
    ),
    Loader(
        "fhir", lambda: FHIR_BUNDLE.read_bytes(), "bundle.json", load_fhir,
        {"truncated": "JSON illisible", "huge_line": "JSON illisible",
         "huge_quoted_line": "JSON illisible"},
    ),
    Loader(
        "population", _good_population, "population.csv", parameter_files.read_population_ages,
        {"truncated": "nombre de champs", "huge_line": "dépasse",
         "huge_quoted_line": "guillemet non fermé"},
    ),
    Loader(
        "travel_times", _good_travel, "temps.csv", parameter_files.read_travel_times,
        {"truncated": "nombre de champs", "huge_line": "dépasse",
         "huge_quoted_line": "guillemet non fermé"},
    ),
    Loader(
        "scenario", lambda: SCENARIO.read_bytes(), "scenario.yaml", read_scenario,
        {"binary": "texte UTF-8 attendu", "png": "texte UTF-8 attendu",
         "utf16_without_bom": "texte UTF-8 attendu", "lying_bom": "texte UTF-8 attendu",
         "xlsx_named_csv": "mal formé", "huge_line": "trop volumineux",
         "huge_quoted_line": "trop volumineux", "truncated": "changements"},
    ),
]

#: Known gaps, kept visible: the test fails (strict) once they are fixed.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="session")
def badinput(tmp_path_factory) -> Path:
    """The generated corpus: ``<loader>/<corruption>/<file>`` (one folder per case)."""
    root = tmp_path_factory.mktemp("badinput")
    _CACHE["canonical"] = write_source_dir(small_snapshot(), root / "canonical_good")
    for loader in LOADERS:
        good = loader.good()
        for kind, corrupt in GENERIC.items():
            folder = root / loader.name / kind
            if loader.name == "canonical":  # the other tables stay good
                folder.parent.mkdir(parents=True, exist_ok=True)
                import shutil

                shutil.copytree(_CACHE["canonical"], folder)
            else:
                folder.mkdir(parents=True)
            (folder / loader.file_name).write_bytes(corrupt(good))
    return root


CASES = [
    pytest.param(
        loader, kind, id=f"{loader.name}-{kind}",
        marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[loader.name, kind])]
        if (loader.name, kind) in KNOWN_GAPS else [],
    )
    for loader in LOADERS for kind in GENERIC
]


@pytest.mark.parametrize(("loader", "kind"), CASES)
def test_every_loader_answers_every_corruption_clearly(badinput, loader, kind):
    path = badinput / loader.name / kind / loader.file_name
    expected = loader.expected.get(kind, WORDS.get(kind))
    if expected is None:  # the good part must be kept
        result = loader.load(path)
        assert sum(f.height for f in result.tables.values()) > 0
        return
    with pytest.raises(InputError) as err:
        loader.load(path)
    message = str(err.value)
    assert expected in message, message
    assert path.name in message, message  # the file is named
    assert len(message) < MAX_MESSAGE, len(message)  # one line, content never echoed
    assert "\n" not in message and "Traceback" not in message


# --- duplicated and missing columns -------------------------------------------------------


def _csv(header: list[str], rows: list[list[str]], sep: str = ";") -> bytes:
    return csv_text(header, rows, sep).encode("utf-8")


def test_duplicated_and_missing_columns_canonical(tmp_path):
    folder = write_source_dir(small_snapshot(), tmp_path / "dup")
    file = folder / "unites.csv"
    text = file.read_text(encoding="utf-8").splitlines()
    header = text[0].split(";")
    header[-1] = header[1]  # a column named twice (the last one, optional, is lost)
    file.write_text("\n".join([";".join(header), *text[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"colonnes en double dans l'en-tête : {header[1]}"):
        read_source_dir(folder)

    folder = write_source_dir(small_snapshot(), tmp_path / "missing")
    frame = pl.read_csv(folder / "offres.csv", separator=";", infer_schema=False)
    frame.drop("mention").write_csv(folder / "offres.csv", separator=";")
    with pytest.raises(InputError, match="colonnes obligatoires absentes pour la table offres"):
        read_source_dir(folder)


def test_duplicated_and_missing_columns_mapped(tmp_path):
    header = list(ROR_HEADER)
    header[-1] = header[0]  # « FINESS EJ » twice
    file = tmp_path / "dup" / "export_ror.csv"
    file.parent.mkdir()
    file.write_bytes(_csv(header, ROR_ROWS))
    with pytest.raises(InputError, match="colonnes en double dans l'en-tête : FINESS EJ"):
        load_mapped(file, ROR_MAPPING)

    keep = [i for i, h in enumerate(ROR_HEADER) if h != "Identifiant de l'offre"]
    file = tmp_path / "missing" / "export_ror.csv"
    file.parent.mkdir()
    file.write_bytes(_csv([ROR_HEADER[i] for i in keep], [[r[i] for i in keep] for r in ROR_ROWS]))
    with pytest.raises(InputError, match="colonne « Identifiant de l'offre » absente"):
        load_mapped(file, ROR_MAPPING)


@pytest.mark.parametrize("reader", ["population", "travel_times"])
def test_duplicated_and_missing_columns_parameter_files(reader):
    read = getattr(parameter_files, f"read_{reader}" if reader == "travel_times"
                   else "read_population_ages")
    good = (_good_travel() if reader == "travel_times" else _good_population()).decode()
    header, *rows = good.splitlines()
    names = header.split(",")
    dup = ",".join([names[0], *names[1:-1], names[0]])
    with pytest.raises(InputError, match="colonnes en double"):
        read("\n".join([dup, *rows]).encode())
    missing = ",".join(names[:-1])
    cut = ["\n".join(",".join(r.split(",")[:-1]) for r in rows)]
    with pytest.raises(InputError, match=f"colonne\\(s\\) manquante\\(s\\) : {names[-1]}"):
        read("\n".join([missing, *cut]).encode())


def test_finess_lines_with_missing_or_extra_fields_are_rejected_alone(tmp_path):
    short = ";".join(PARIS.split(";")[:20])
    extra = BOURG + ";en trop"
    good = structure(nofinesset="750000029", rs="SMR GARDE", commune="116", departement="75",
                     categetab="109", datemaj="2024-03-01")
    file = tmp_path / "etalab.csv"
    file.write_bytes("\n".join(["finess;etalab;100;2024-03-01", short, extra, good]).encode())
    result = load_finess(file)
    checked = validate_tables(result.tables)
    assert checked.counts["etablissements"]["conserves"] == 1
    assert checked.counts["etablissements"]["rejetes"] == 2
    reasons = " ".join(checked.report["reason"].drop_nulls().to_list())
    assert "20 champs au lieu de 32" in reasons and "33 champs au lieu de 32" in reasons


def test_fhir_bundle_without_entries_or_resources(tmp_path):
    for doc, words in [
        ({"resourceType": "Bundle", "entry": {"not": "a list"}}, "« entry » n'est pas une liste"),
        ({"entry": []}, "« resourceType » absent"),
        ({"resourceType": "Patient"}, "un Bundle est attendu"),
        ([1, 2, 3], "« resourceType » absent"),
    ]:
        file = tmp_path / "bundle.json"
        file.write_text(json.dumps(doc), encoding="utf-8")
        with pytest.raises(InputError, match=words):
            load_fhir(file)


# --- one bad row among good ones ----------------------------------------------------------

CONTACT = "jeanne.secret@chu-exemple.fr"
PHONE = "06 98 76 54 32"


def _one_bad_row_canonical(tmp_path: Path) -> tuple[object, str, int]:
    tables = small_snapshot()
    etabs = tables["etablissements"]
    bad = etabs.head(1).with_columns(
        pl.lit("75ABC").alias("finess_eg"),
        pl.lit(CONTACT).alias("directeur_email"),
        pl.lit(PHONE).alias("directeur_telephone"),
    )
    tables["etablissements"] = pl.concat([etabs, bad])
    folder = write_source_dir(tables, tmp_path / "src")
    return importing.preview(folder), "etablissements", etabs.height


def _one_bad_row_mapped(tmp_path: Path) -> tuple[object, str, int]:
    row = list(ROR_ROWS[0])
    row[ROR_HEADER.index("Identifiant de l'offre")] = "11/0999"
    row[ROR_HEADER.index("Type d'offre")] = "mention inconnue"
    row[ROR_HEADER.index("Téléphone de l'offre")] = PHONE
    file = tmp_path / "export_ror.csv"
    file.write_bytes(_csv(ROR_HEADER, [*ROR_ROWS, row]))
    options = importing.ImportOptions(format="mapped", mapping=ROR_MAPPING)
    return importing.preview(file, options), "offres", len(ROR_ROWS)


def _one_bad_row_finess(tmp_path: Path) -> tuple[object, str, int]:
    bad = structure(nofinesset="75000X", rs="MAUVAISE LIGNE", commune="116", departement="75",
                    telephone=PHONE, datemaj="2024-03-01")
    file = tmp_path / "etalab.csv"
    file.write_bytes(_good_finess() + (bad + "\r\n").encode())
    options = importing.ImportOptions(format="finess")
    return importing.preview(file, options), "etablissements", 2


def _one_bad_row_fhir(tmp_path: Path) -> tuple[object, str, int]:
    bundle = json.loads(FHIR_BUNDLE.read_text(encoding="utf-8"))
    services = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "HealthcareService"]
    bad = copy.deepcopy(services[0])
    bad["fullUrl"] = bad["fullUrl"].replace("hs-1001", "hs-bad")
    bad["resource"]["id"] = "hs-bad"
    bad["resource"]["identifier"] = [{"value": "UO-SANS-EG"}]
    bad["resource"].pop("providedBy", None)
    bad["resource"]["location"] = []  # a Location would tie it to its establishment
    bad["resource"]["telecom"] = [{"system": "email", "value": CONTACT},
                                  {"system": "phone", "value": PHONE}]
    bundle["entry"].append(bad)
    file = tmp_path / "bundle.json"
    file.write_text(json.dumps(bundle), encoding="utf-8")
    options = importing.ImportOptions(format="fhir")
    return importing.preview(file, options), "unites", len(services)


@pytest.mark.parametrize(
    "build",
    [_one_bad_row_canonical, _one_bad_row_mapped, _one_bad_row_finess, _one_bad_row_fhir],
    ids=["canonical", "mapped", "finess", "fhir"],
)
def test_one_bad_row_keeps_the_good_rows(tmp_path, build):
    preview, table, good_rows = build(tmp_path)
    counts = preview.counts[table]
    assert counts["conserves"] == good_rows
    assert counts["rejetes"] == 1
    assert counts["lus"] == good_rows + 1
    rejected = preview.report.filter(
        (pl.col("table") == table) & (pl.col("severity") == "rejet")
    )
    assert rejected.height >= 1 and rejected["reason"].str.len_chars().min() > 10


@pytest.mark.parametrize("reader", ["population", "travel_times"])
def test_one_bad_row_in_a_parameter_file_names_its_line(reader):
    if reader == "population":
        data = _good_population() + b"9201X,1,2,10\n"
        read = parameter_files.read_population_ages
    else:
        data = _good_travel() + b"75056,750000011,-3\n"
        read = parameter_files.read_travel_times
    # planners' parameter files are small and used whole: one bad line refuses the file,
    # naming the line, the column and the value
    with pytest.raises(InputError, match="ligne 4, colonne"):
        read(data)


# --- commands -----------------------------------------------------------------------------


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("smr : "), err
    return lines[0]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    from analysis.io import store

    path = tmp_path_factory.mktemp("store")
    store.write_snapshot(path, "2024-03-01", small_snapshot(), extra={"region": "11"})
    return path


def command_cases(badinput: Path, store: Path, tmp: Path) -> list[tuple[list[str], int, str]]:
    """(argv, exit code, words of the error) for every command fed bad input."""
    canon = badinput / "canonical"
    out = tmp / "sortie.csv"
    empty_store = tmp / "vide"
    empty_store.mkdir(exist_ok=True)
    return [
        # import / validate: each format, unreadable input → 2
        (["import", str(canon / "binary"), "--store", str(tmp / "s1"), "--date", "2024-03-01"],
         2, "pas un fichier texte"),
        (["import", str(canon / "huge_line"), "--store", str(tmp / "s1"), "--date",
          "2024-03-01"], 2, "dépasse"),
        (["validate", str(canon / "lying_bom")], 2, "annonce l'encodage"),
        (["validate", str(badinput / "mapped" / "truncated" / "export_ror.csv"), "--format",
          "mapped", "--mapping", str(ROR_MAPPING)], 2, "nombre de champs"),
        (["import", str(badinput / "fhir" / "empty" / "bundle.json"), "--format", "fhir",
          "--store", str(tmp / "s2"), "--date", "2024-03-01"], 2, "vide"),
        (["validate", str(badinput / "finess" / "huge_line"), "--format", "finess"],
         2, "pas un fichier d'extraction FINESS"),
        (["validate", str(tmp / "absent")], 2, "introuvable"),
        # store refuses → 3
        (["import", str(_CACHE["canonical"]), "--store", str(store), "--date", "2024-03-01"],
         3, "existe déjà"),
        (["snapshots", "--store", str(empty_store)], 3, "Aucun instantané dans"),
        (["campaign", "--store", str(empty_store), "--out", str(out)], 3, "Aucun instantané dans"),
        (["sync", "--store", str(store), "--snapshot", "2024-01-01", "--out", str(out)],
         3, "Aucun instantané du 2024-01-01"),
        # parameter files and outputs → 2
        (["coverage", "--store", str(store), "--population-ages",
          str(badinput / "population" / "binary" / "population.csv"), "--out", str(out)],
         2, "pas un fichier texte"),
        (["access", "--store", str(store), "--mention", "ME050", "--costs",
          str(badinput / "travel_times" / "huge_line" / "temps.csv"), "--out", str(out)],
         2, "dépasse"),
        (["coverage", "--store", str(store), "--out", str(tmp / "sortie.pdf")], 2,
         "format de sortie non pris en charge"),
        (["qualite", "--store", str(store), "--out", str(tmp / "sortie.pdf")], 2,
         "format de sortie non pris en charge « .pdf »"),
        (["oqos", "--store", str(store), "--out", str(tmp / "sortie")], 2,
         "format de sortie non pris en charge « (aucune extension) »"),
        (["todo", "--store", str(store), "--out", str(tmp / "liste.txt")], 2,
         "format non pris en charge"),
        (["todo", "--store", str(store), "--finess", "999999999", "--out", str(tmp / "l.csv")],
         2, "absent de cet instantané"),
        (["sync", "--store", str(store), "--out", str(tmp / "absent" / "x.csv")], 2,
         "le dossier de sortie n'existe pas"),
        (["import", str(_CACHE["canonical"]), "--store", str(tmp / "s3"), "--date",
          "2024-02-30"], 2, "date invalide"),
        (["access", "--store", str(store), "--mention", "inconnue", "--out", str(out)], 2,
         "inconnue"),
        (["demo", "--out", str(tmp / "d"), "--region", "99"], 2, "99"),
        (["nimporte"], 2, "ligne de commande invalide"),
        # transition, scenario, quality and report commands
        (["transition", "--store", str(empty_store), "--out", str(out)], 3, "Aucun instantané dans"),
        (["transition", "--store", str(store), "--mapping",
          str(badinput / "mapped" / "binary" / "export_ror.csv"), "--out", str(out)],
         2, "export_ror.csv"),
        (["scenario", str(badinput / "scenario" / "binary" / "scenario.yaml"), "--store",
          str(store), "--mention", "ME050", "--out", str(out)], 2, "texte UTF-8 attendu"),
        (["scenario", str(badinput / "scenario" / "huge_line" / "scenario.yaml"), "--store",
          str(store), "--mention", "ME050", "--out", str(out)], 2, "trop volumineux"),
        (["qualite", "--store", str(store), "--finess",
          str(badinput / "finess" / "png" / "etalab-cs1100507-stock-20240301-0400.csv"),
          "--out", str(out)], 2, "pas un fichier texte"),
        (["qualite", "--store", str(store), "--vt-report",
          str(badinput / "canonical" / "empty" / "etablissements.csv"), "--out", str(out)],
         2, "vide"),
        (["report", "--store", str(store), "--out", str(tmp / "rapport.pdf")], 2,
         "format non pris en charge"),
        (["report", "--store", str(empty_store), "--out", str(tmp / "rapport.html")], 3,
         "Aucun instantané dans"),
        # OQOS targets: none at all, or an unreadable file
        (["oqos", "--store", str(store), "--out", str(out)], 2, "aucun objectif"),
        (["oqos", "--store", str(store), "--cibles",
          str(badinput / "population" / "binary" / "population.csv"), "--out", str(out)],
         2, "pas un fichier texte"),
    ]


def test_every_command_gives_one_line_and_its_exit_code(badinput, small_store, tmp_path, capsys):
    cases = command_cases(badinput, small_store, tmp_path)
    assert {argv[0] for argv, _, _ in cases} >= set(cli.COMMANDS)  # every command is fed bad input
    for argv, code, words in cases:
        assert cli.main(argv) == code, (argv, capsys.readouterr())
        captured = capsys.readouterr()
        line = _one_line(captured.err)
        assert words.lower() in line.lower(), (argv, line)
        assert len(line) < MAX_MESSAGE + 20


@pytest.mark.parametrize(
    ("pick", "code", "words"),
    [
        (lambda b, s, t: ["import", str(b / "canonical" / "png"), "--store", str(t / "s"),
                          "--date", "2024-03-01"], 2, "pas un fichier texte"),
        (lambda b, s, t: ["validate", str(b / "fhir" / "huge_quoted_line" / "bundle.json"),
                          "--format", "fhir"], 2, "JSON illisible"),
        (lambda b, s, t: ["import", str(_CACHE["canonical"]), "--store", str(s), "--date",
                          "2024-03-01"], 3, "existe déjà"),
    ],
    ids=["png", "huge-json", "exists"],
)
def test_commands_as_subprocesses(badinput, small_store, tmp_path, pick, code, words):
    argv = pick(badinput, small_store, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "SMR_DEBUG"}
    done = subprocess.run(
        [sys.executable, "-m", "analysis.cli", *argv],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == code, done.stderr
    assert words in _one_line(done.stderr)
    assert done.stdout == ""


def test_internal_error_is_one_line_with_code_4(monkeypatch, capsys, small_store, tmp_path):
    from analysis.indicators import coverage

    def broken(*args, **kwargs):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(coverage, "capacity_by_territory", broken)
    monkeypatch.delenv("SMR_DEBUG", raising=False)
    code = cli.main(["coverage", "--store", str(small_store), "--out", str(tmp_path / "c.csv")])
    assert code == 4
    assert "erreur inattendue (ZeroDivisionError)" in _one_line(capsys.readouterr().err)


def test_smr_errors_never_carry_huge_content():
    err = SmrError("x" * (5 * 2**20))
    assert len(str(err)) < 1100
