"""The ``smr`` command line speaks French: usage, help and errors of every sub-command, and
long options are never abbreviated."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from analysis import argparse_fr, cli

#: argparse's own English wording (Python 3.11–3.13), as it would show in help or errors.
ENGLISH = (
    "usage:",
    "positional arguments",
    "optional arguments",
    "show this help message",
    "and exit",
    "error:",
    "the following arguments are required",
    "invalid choice",
    "choose from",
    "expected one argument",
    "expected at",
    "unrecognized arguments",
    "ambiguous option",
    "not allowed with",
    "ignored explicit",
    "invalid int value",
    "invalid float value",
    "subcommands",
    "unknown parser",
    "could match",
)
#: Metavars a French reader understands (English destination names in capitals are not).
FRENCH_METAVARS = {
    "AAAA-MM-JJ", "CHEMIN", "CODE", "CODES", "COMMANDE", "F", "FICHIER", "FINESS", "HH:MM",
    "KMH", "MAGASIN", "MIN", "N", "NOMBRE", "PHASE", "SCÉNARIO", "SOURCE",
}


def _english_in(text: str) -> list[str]:
    lowered = text.lower()
    return [w for w in ENGLISH if w in lowered]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _metavars(usage: str) -> set[str]:
    return set(re.findall(r"(?<![-\w])[A-ZÉ][A-ZÉ_:-]*\b", usage.split(" ", 2)[-1]))


@pytest.mark.parametrize("name", ["", *cli.COMMANDS])
def test_every_help_is_french(capsys, name):
    argv = [name, "--help"] if name else ["--help"]
    code, out, err = _run(capsys, *argv)
    assert code == 0 and err == ""
    assert out.startswith(f"utilisation : smr {name}".rstrip())
    assert "afficher cette aide et quitter" in out
    assert _english_in(out) == [], out
    assert _metavars(out.split("\n\n")[0]) <= FRENCH_METAVARS, out.split("\n\n")[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "arguments obligatoires manquants : COMMANDE"),
        (["frobnicate"], "choix invalide « frobnicate » ; choix possibles : demo, validate"),
        (["import", "x"], "arguments obligatoires manquants : --store, --date"),
        (["validate"], "arguments obligatoires manquants : CHEMIN"),
        (["import", "x", "--store", "s", "--date", "2024-13-01"],
         "--date : date invalide « 2024-13-01 » (format AAAA-MM-JJ)"),
        (["import", "x", "--store", "s", "--date", "2024-01-01", "--format", "xml"],
         "--format : choix invalide « xml » ; choix possibles : canonical, mapped, finess, fhir"),
        (["validate", "x", "--limit", "beaucoup"],
         "--limit : valeur invalide « beaucoup » : nombre entier attendu"),
        (["access", "--store", "s", "--out", "o.csv", "--mention", "ME050", "--speed", "vite"],
         "--speed : valeur invalide « vite » : nombre attendu"),
        (["demo", "--out"], "--out : une valeur est attendue"),
        (["snapshots", "--store", "s", "en-trop"], "arguments non reconnus : en-trop"),
        (["todo", "--store", "s", "--out", "x.xlsx", "--par", "commune"],
         "--par : choix invalide « commune »"),
        (["campaign", "--store", "s", "--out", "x.csv", "--heure-synchro", "25h"],
         "--heure-synchro : heure invalide « 25h »"),
    ],
)
def test_usage_errors_are_one_french_line(capsys, argv, expected):
    code, out, err = _run(capsys, *argv)
    assert code == cli.EXIT_INPUT and out == ""
    assert err.count("\n") == 1 and err.startswith("smr : ligne de commande invalide : ")
    assert expected in err
    assert _english_in(err) == [], err


def test_the_error_points_to_the_help_of_the_sub_command(capsys):
    _, _, err = _run(capsys, "import", "x")
    assert "(voir « smr import --help »)" in err
    _, _, err = _run(capsys, "snapshots", "--store", "s", "en-trop")
    assert "(voir « smr snapshots --help »)" in err


@pytest.mark.parametrize("name", ["scenario", "coverage", "access"])
def test_population_is_not_taken_for_population_ages(capsys, tmp_path, name):
    """With abbreviations allowed, argparse read ``--population`` as ``--population-ages``.
    ``--population`` is now an option of its own (INSEE legal populations): each name goes to
    its own option, and a prefix of ``--population-ages`` is refused, never completed."""
    args = {
        "scenario": [str(tmp_path / "s.yaml"), "--mention", "ME050"],
        "coverage": [],
        "access": ["--mention", "ME050"],
    }[name]
    argv = [name, *args, "--store", str(tmp_path), "--out", str(tmp_path / "o.csv")]
    parsed = cli.build_parser().parse_args([*argv, "--population", str(tmp_path / "p.csv")])
    assert parsed.population == tmp_path / "p.csv"
    assert getattr(parsed, "population_ages", None) is None
    code, _, err = _run(capsys, *argv, "--population-a", str(tmp_path / "ages.csv"))
    assert code == cli.EXIT_INPUT
    assert f"arguments non reconnus : --population-a {tmp_path / 'ages.csv'}" in err
    if name != "access":
        full = cli.build_parser().parse_args([*argv, "--population-ages", "ages.csv"])
        assert str(full.population_ages) == "ages.csv"


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "x", "--store", "s", "--date", "2024-01-01", "--rep"],  # --replace
        ["validate", "x", "--rep", "r.csv"],  # --report
        ["demo", "--o", "x"],  # --out
        ["coverage", "--sto", "s", "--out", "o.csv"],  # --store
    ],
)
def test_abbreviated_options_are_refused(capsys, argv):
    code, _, err = _run(capsys, *argv)
    assert code == cli.EXIT_INPUT
    assert "arguments non reconnus" in err or "arguments obligatoires manquants" in err


def test_every_parser_level_refuses_abbreviations():
    parser = cli.build_parser()
    (subs,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert parser.allow_abbrev is False
    assert all(p.allow_abbrev is False for p in subs.choices.values())
    assert all(isinstance(p, argparse_fr.FrenchParser) for p in subs.choices.values())


def test_argparse_stays_english_outside_the_command(capsys):
    """The translation is scoped: other parsers in the process (pytest's own) are untouched."""
    _run(capsys, "import", "--help")
    _run(capsys, "import", "x")
    plain = argparse.ArgumentParser(prog="autre")
    assert plain.format_usage().startswith("usage: autre")
    assert "show this help message and exit" in plain.format_help()


def test_every_argparse_message_of_this_python_is_translated():
    """Each message id in the running Python's argparse has a French entry (no silent English)."""
    source = Path(argparse.__file__).read_text(encoding="utf-8")
    ids = set(re.findall(r"\b_\(\s*'([^']+)'", source)) | set(
        re.findall(r'\b_\(\s*"([^"]+)"', source)
    )
    # messages a user of ``smr`` can meet (the rest are programming errors of the parser)
    user_facing = {
        m.replace("\\n", "\n") for m in ids
        if not any(w in m for w in ("conflicting", "cannot merge", "is not callable",
                                    "dest= is required", "invalid option string",
                                    "invalid conflict_resolution", "must be optional",
                                    "'required' is an invalid", "__call__", "with mode",
                                    "deprecated"))
    }
    missing = sorted(user_facing - set(argparse_fr.MESSAGES))
    assert missing == []
