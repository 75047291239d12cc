"""The ``smr`` command: demo store, validation, import, and the analyses as files.

Exit codes (documented in the README):
    0  success
    1  the input was read but some rows were rejected (``validate``, ``import``)
    2  the input cannot be read at all, or the command line is wrong
    3  the snapshot store refuses the operation (snapshot exists, missing, corrupted)
    4  unexpected internal error (set ``SMR_DEBUG=1`` to see the traceback)
Errors are one readable French line on standard error, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from analysis.errors import InputError, SmrError, StoreError

EXIT_OK, EXIT_REJECTED, EXIT_INPUT, EXIT_STORE, EXIT_INTERNAL = 0, 1, 2, 3, 4

#: name → (help, add_arguments, run); commands register themselves with ``command``.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {}


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]):
    """Register ``run(args) -> int`` as the sub-command ``name``."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable:
        COMMANDS[name] = (help, arguments, run)
        return run

    return register


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one French line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"ligne de commande invalide : {message} (voir « smr --help »)")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date invalide « {text} » (format AAAA-MM-JJ)") from None


def _print_counts(counts: dict) -> None:
    print(f"{'table':<16}{'lus':>8}{'conservés':>11}{'rejetés':>9}{'avertis.':>10}")
    for table, c in counts.items():
        print(
            f"{table:<16}{c['lus']:>8}{c['conserves']:>11}{c['rejetes']:>9}"
            f"{c['avertissements']:>10}"
        )


def _print_report(report: pl.DataFrame, limit: int) -> None:
    if report.height == 0:
        print("Aucun problème trouvé.")
        return
    shown = report.sort("severity", "table", "row", descending=[True, False, False]).head(limit)
    for r in shown.iter_rows(named=True):
        value = "" if r["value"] is None else f" « {r['value']} »"
        print(f"[{r['severity']}] {r['table']} ligne {r['row']}, {r['column']}{value} : {r['reason']}")
    if report.height > limit:
        print(f"… et {report.height - limit} autres problèmes (option --report pour tout écrire).")


# ---------------------------------------------------------------------------- demo


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="dossier du magasin de démonstration")
    p.add_argument("--seed", type=int, default=None, help="graine (même graine, mêmes données)")
    p.add_argument("--region", default="11", help="code INSEE de la région (défaut 11)")
    p.add_argument("--replace", action="store_true", help="remplacer les instantanés existants")


@command("demo", "écrire le magasin de démonstration (données fictives)", _demo_args)
def _run_demo(args: argparse.Namespace) -> int:
    from analysis import demo

    kwargs = {"region": args.region, "replace": args.replace}
    if args.seed is not None:
        kwargs["seed"] = args.seed
    args.out.mkdir(parents=True, exist_ok=True)
    dates = demo.build_demo(args.out, **kwargs)
    print(f"{len(dates)} instantanés écrits dans {args.out} ({dates[0]} → {dates[-1]}).")
    return EXIT_OK


# ------------------------------------------------------------------------ validate


def _validate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", type=Path, help="dossier d'un instantané du magasin ou dossier source")
    p.add_argument("--report", type=Path, help="écrire le rapport complet (.csv, .xlsx, .parquet)")
    p.add_argument("--limit", type=int, default=30, help="nombre de problèmes affichés")


@command("validate", "valider un dossier source ou un instantané", _validate_args)
def _run_validate(args: argparse.Namespace) -> int:
    from analysis import store, validate
    from analysis.loaders import canonical

    path: Path = args.path
    if not path.is_dir():
        raise InputError("dossier introuvable", path)
    problems: list[str] = []
    if (path / "manifest.json").exists():
        problems = store.verify_snapshot(path)
        raw = {name: pl.read_parquet(f) for name in _tables() if (f := path / f"{name}.parquet").exists()}
    else:
        raw = {name: t.frame for name, t in canonical.read_source_dir(path).items()}
    result = validate.validate_tables(raw)
    _print_counts(result.counts)
    for p in problems:
        print(f"[intégrité] {p}")
    _print_report(result.report, args.limit)
    if args.report:
        from analysis.export import write_table

        write_table(result.report, args.report, sheet="rapport")
        print(f"Rapport écrit : {args.report}")
    if problems:
        return EXIT_STORE
    return EXIT_OK if result.ok else EXIT_REJECTED


def _tables() -> list[str]:
    from analysis import schema

    return list(schema.TABLES)


# -------------------------------------------------------------------------- import


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", type=Path, help="dossier des fichiers (etablissements.csv, …)")
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")
    p.add_argument("--date", required=True, type=_date, help="date de l'instantané AAAA-MM-JJ")
    p.add_argument("--replace", action="store_true", help="remplacer l'instantané de cette date")
    p.add_argument("--limit", type=int, default=30, help="nombre de problèmes affichés")


@command("import", "importer un dossier de fichiers comme instantané daté", _import_args)
def _run_import(args: argparse.Namespace) -> int:
    from analysis import store

    result = store.import_source(args.source, args.store, args.date, replace=args.replace)
    _print_counts(result.counts)
    _print_report(result.report, args.limit)
    print(f"Instantané écrit : {result.path}")
    rejected = sum(c["rejetes"] for c in result.counts.values())
    return EXIT_REJECTED if rejected else EXIT_OK


# ----------------------------------------------------------------------- snapshots


def _snapshots_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")


@command("snapshots", "lister les instantanés d'un magasin", _snapshots_args)
def _run_snapshots(args: argparse.Namespace) -> int:
    from analysis import store

    dates = store.list_snapshots(args.store)
    if not dates:
        raise StoreError(f"aucun instantané dans {args.store}")
    for d in dates:
        m = store.read_manifest(args.store / d.isoformat())
        kept = sum(c.get("conserves", 0) for c in m.get("tables", {}).values())
        rejected = sum(c.get("rejetes", 0) for c in m.get("tables", {}).values())
        print(f"{d.isoformat()}  {kept:>7} lignes conservées  {rejected:>5} rejetées")
    return EXIT_OK


# ---------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    parser = _Parser(
        prog="smr",
        description="SMR Workbench : offre SMR, accessibilité, campagne ROR / ViaTrajectoire.",
    )
    subs = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=_Parser)
    subs.required = True
    for name, (help_text, arguments, run) in COMMANDS.items():
        p = subs.add_parser(name, help=help_text, description=help_text)
        arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    try:
        args = build_parser().parse_args(argv)
        code = args.run(args)
    except StoreError as exc:
        print(f"smr : {exc}", file=sys.stderr)
        code = EXIT_STORE
    except SmrError as exc:
        print(f"smr : {exc}", file=sys.stderr)
        code = EXIT_INPUT
    except KeyboardInterrupt:
        print("smr : interrompu", file=sys.stderr)
        code = EXIT_INTERNAL
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into one line
        if os.environ.get("SMR_DEBUG"):
            raise
        print(
            f"smr : erreur inattendue ({type(exc).__name__}) ; relancer avec SMR_DEBUG=1 "
            "pour le détail",
            file=sys.stderr,
        )
        code = EXIT_INTERNAL
    return code


def entry_point() -> None:
    """Console-script entry: exit with ``main``'s code."""
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
