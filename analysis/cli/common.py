"""What every ``smr`` sub-command shares: the registry, the French parser, exit codes, and the
options and steps common to several commands (store and snapshot, output, population, opening
rule, mention and forme)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from analysis.argparse_fr import FrenchParser
from analysis.model.errors import InputError

EXIT_OK, EXIT_REJECTED, EXIT_INPUT, EXIT_STORE, EXIT_INTERNAL = 0, 1, 2, 3, 4

#: name → (help, add_arguments, run); commands register themselves with ``command``.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {}


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]):
    """Register ``run(args) -> int`` as the sub-command ``name``."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable:
        COMMANDS[name] = (help, arguments, run)
        return run

    return register


class Parser(FrenchParser):
    """French argparse (``analysis.argparse_fr``) whose usage errors are one line, exit code 2."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        raise InputError(f"ligne de commande invalide : {message} (voir « {self.prog} --help »)")


def iso_date(text: str) -> dt.date:
    """An ``AAAA-MM-JJ`` option value as a date (argparse type)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date invalide « {text} » (format AAAA-MM-JJ)") from None


def hour_minute(text: str) -> dt.time:
    """An ``HH:MM`` (or ``18h00``) option value as a time (argparse type)."""
    try:
        return dt.time.fromisoformat(text.strip().replace("h", ":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"heure invalide « {text} » (format HH:MM)") from None


def csv_excel_arg(p: argparse.ArgumentParser) -> None:
    """``--csv-excel``: a .csv output as « CSV pour Excel » instead of « CSV données »."""
    p.add_argument("--csv-excel", action="store_true",
                   help="fichier .csv « pour Excel » (séparateur point-virgule, virgule "
                        "décimale, en-têtes et libellés en français, valeurs arrondies comme "
                        "à l'écran) au lieu de « données » (séparateur virgule, point décimal, "
                        "codes, précision complète, dates AAAA-MM-JJ)")


def contacts_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--contacts", action="store_true",
                   help="montrer les contacts (noms, e-mails, téléphones) dans le rapport "
                        "affiché ou écrit ; masqués par défaut")


def store_snapshot_args(p: argparse.ArgumentParser) -> None:
    """``--store`` and ``--snapshot`` (latest by default), shared by every analysis command."""
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")
    p.add_argument("--snapshot", type=iso_date, default=None,
                   help="date de l'instantané AAAA-MM-JJ (défaut : le plus récent)")


def snapshot_args(
    p: argparse.ArgumentParser,
    region: bool = True,
    out_help: str = "fichier de sortie (.csv, .xlsx ou .parquet)",
    csv: bool = True,
) -> None:
    """Options shared by the analysis commands: store, snapshot, region, output."""
    store_snapshot_args(p)
    if region:
        p.add_argument("--region", default=None,
                       help="code INSEE de la région (défaut : celle du manifeste, sinon 11)")
    p.add_argument("--out", required=True, type=Path, help=out_help)
    if csv:
        csv_excel_arg(p)


def check_table_suffix(out: Path) -> None:
    """Refuse (``InputError``) an output file whose extension is not a table format the
    workbench writes (``export.SUFFIXES``), before any work is done."""
    from analysis.present import export

    if out.suffix.lower() not in export.SUFFIXES:
        raise InputError(
            f"format de sortie non pris en charge « {out.suffix or '(aucune extension)'} » ;"
            f" extensions possibles : {', '.join(export.SUFFIXES)}",
            out,
        )


def open_for_analysis(args: argparse.Namespace):
    """The snapshot, the region code and its origins (communes, Paris / Lyon / Marseille
    arrondissements) with the populations in use (``--population``, else the store's setting,
    else the reference) for an analysis command; the populations chosen are kept in
    ``args.population_setup``."""
    from analysis.indicators import populations
    from analysis.io import store

    check_table_suffix(args.out)
    snap = store.read_snapshot(args.store, args.snapshot)
    region = store.manifest_region(snap.manifest, args.region)
    setup = populations.setup_for(region, args.store, getattr(args, "population", None))
    args.population_setup = setup
    return snap, region, setup.origins


def opening_args(p: argparse.ArgumentParser) -> None:
    """``--inclure-fermetures-provisoires``: the switch of ``analysis.indicators.opening``."""
    p.add_argument("--inclure-fermetures-provisoires", action="store_true",
                   help="compter les établissements et unités fermés provisoirement (PRO) ; "
                        "par défaut seule l'offre ouverte à la date de l'instantané compte "
                        "(fermetures définitives toujours exclues)")


def population_arg(p: argparse.ArgumentParser) -> None:
    """``--population FILE``: INSEE legal populations instead of the reference ones."""
    p.add_argument("--population", type=Path, default=None, metavar="FICHIER",
                   help="populations légales de l'Insee (CSV ou Excel tels que publiés : code "
                        "commune et population municipale) ; défaut : le fichier réglé pour le "
                        "magasin, sinon la population de la géographie de référence")


def opening_rule(args: argparse.Namespace, date: dt.date):
    """The opening rule of a command (snapshot date and provisional-closure switch)."""
    from analysis.indicators.opening import OpeningRule

    return OpeningRule(date, bool(getattr(args, "inclure_fermetures_provisoires", False)))


def print_context(args: argparse.Namespace, tables, rule, mentions=None, forme=None) -> None:
    """The population vintage and the « fermés temporairement » figure of a command."""
    from analysis.indicators import opening

    setup = getattr(args, "population_setup", None)
    if setup is not None:
        print(setup.caption())
    closed = opening.provisional_offers(tables, rule.as_of, mentions, forme)
    sentence = opening.provisional_sentence(opening.provisional_summary(closed), rule)
    if sentence:
        hint = "" if rule.include_provisional else " (--inclure-fermetures-provisoires pour les compter)"
        print(sentence + hint)


def mention_arg(value: str | None) -> str | None:
    from analysis.model import nomenclature

    if value is None:
        return None
    try:
        return nomenclature.mention_code(value)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None


def forme_arg(value: str | None) -> str | None:
    from analysis.indicators import coverage
    from analysis.model import nomenclature

    if value is None:
        return None
    code = value.strip().upper() if value.strip().lower() != coverage.ALL_FORMES else value.lower()
    if code != coverage.ALL_FORMES and code not in nomenclature.FORME_BY_CODE:
        valid = ", ".join([*nomenclature.FORME_BY_CODE, coverage.ALL_FORMES])
        raise InputError(f"forme inconnue « {value} » ; formes valides : {valid}")
    return code


def population_ages_arg(path: Path | None):
    from analysis.io import parameter_files

    return None if path is None else parameter_files.read_population_ages(path)
