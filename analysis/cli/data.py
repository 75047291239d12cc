"""``smr`` sub-commands that bring data in: ``demo``, ``validate``, ``import``, ``snapshots``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from analysis.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_STORE,
    command,
    contacts_arg,
    csv_excel_arg,
    iso_date,
)
from analysis.model.errors import InputError, SnapshotMissingError
from analysis.model.progress import terminal

# -------------------------------------------------------------------------- demo


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="dossier du magasin de démonstration")
    p.add_argument("--seed", type=int, default=None, help="graine (même graine, mêmes données)")
    p.add_argument("--region", default="11",
                   help="code INSEE de la région (défaut 11), ou all pour toute la France")
    p.add_argument("--replace", action="store_true", help="remplacer les instantanés existants")
    p.add_argument("--days", type=int, default=None,
                   help="une série quotidienne de N instantanés à partir du 01/03/2023 "
                        "(ex. 365) au lieu des 11 instantanés de mars à juillet 2023")


@command("demo", "écrire le magasin de démonstration (données fictives)", _demo_args)
def _run_demo(args: argparse.Namespace) -> int:
    from analysis.demo import national, regional

    kwargs = {"region": args.region, "replace": args.replace}
    if args.seed is not None:
        kwargs["seed"] = args.seed
    if args.region == national.NATIONAL:
        missing = national.reference_missing_message()
        if missing:
            raise InputError(missing[0].upper() + missing[1:])
    if args.days is not None and args.days < 1:
        raise InputError("--days : au moins 1 instantané.")
    args.out.mkdir(parents=True, exist_ok=True)
    with terminal("Démonstration") as bar:
        kwargs["progress"] = bar
        if args.days is not None:
            dates = national.build_daily_demo(args.out, days=args.days, **kwargs)
        elif args.region == national.NATIONAL:
            kwargs.pop("region")
            dates = national.build_national_demo(args.out, **kwargs)
        else:
            dates = regional.build_demo(args.out, **kwargs)
    print(f"{len(dates)} instantanés écrits dans {args.out} ({dates[0]} → {dates[-1]}).")
    return EXIT_OK


# ---------------------------------------------------------------------- validate


def _print_counts(counts: dict) -> None:
    print(f"{'table':<16}{'lus':>8}{'conservés':>11}{'rejetés':>9}{'avertis.':>10}")
    for table, c in counts.items():
        print(
            f"{table:<16}{c['lus']:>8}{c['conserves']:>11}{c['rejetes']:>9}"
            f"{c['avertissements']:>10}"
        )


def _where(r: dict, files: dict[str, str]) -> str:
    """Where a problem is, as the user finds it: source location, or file and spreadsheet line."""
    if r.get("source"):
        return str(r["source"])
    line = f"ligne {r['ligne']}" + (" (en-tête)" if r["row"] == 0 else "")
    return f"{files.get(r['table'], r['table'])}, {line}"


def _print_report(
    report: pl.DataFrame,
    rejected: pl.DataFrame,
    limit: int,
    show_contacts: bool = False,
    files: dict[str, str] | None = None,
) -> None:
    """Root causes first, each with what it rejected in cascade; then the warnings.

    At most ``limit`` problems are printed; rows rejected (or warned) only because a row they
    reference was rejected are counted under their root cause, not listed (``--report`` writes
    them all). Contact values are masked unless asked.
    """
    from analysis.io import validate
    from analysis.model.privacy import mask_report_values

    if report.height == 0:
        print("Aucun problème trouvé.")
        return
    files = files or {}
    explained = validate.by_cause(validate.explain_rejections(report, rejected))
    explained = mask_report_values(explained, show_contacts)
    roots = {(r["table"], r["row"]): r for r in validate.root_causes(explained).iter_rows(
        named=True)}
    own = explained.filter(pl.col("cause").is_null())
    consequences = explained.height - own.height
    if roots:
        caused = sum(r["en_consequence"] for r in roots.values())
        print(f"Rejets : {len(roots)} ligne(s) rejetée(s) pour une cause propre"
              + (f", {caused} autre(s) rejetée(s) en conséquence" if caused else "") + ".")
    announced: set[tuple[str, int]] = set()
    for r in own.head(limit).iter_rows(named=True):
        value = "" if r["value"] is None else f" « {r['value']} »"
        print(f"[{r['severity']}] {_where(r, files)}, {r['column']}{value} : {r['reason']}")
        root = roots.get((r["table"], r["row"]))
        if root and (r["table"], r["row"]) not in announced:
            announced.add((r["table"], r["row"]))
            text = validate.consequence_text(
                root["en_consequence"], root["avertissements_en_consequence"], root["detail"]
            )
            if text:
                print(f"    → {text}")
    hidden = max(own.height - limit, 0)
    if hidden or consequences:
        parts = [f"{hidden} autre(s) problème(s)"] if hidden else []
        if consequences:
            parts.append(f"{consequences} problème(s) en conséquence")
        print(f"… {' et '.join(parts)} non détaillé(s) ici (option --report FICHIER pour tout "
              "écrire).")


def _files(sources: Sequence[dict]) -> dict[str, str]:
    """Table → the file name the user gave, from manifest-style source entries."""
    return {s["table"]: s["file"] for s in sources if s.get("table") and s.get("file")}


def _report_to_write(report: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """The whole report as written by ``--report``: causes first, spreadsheet line, cause."""
    from analysis.io import validate

    return validate.by_cause(validate.explain_rejections(report, rejected)).drop(
        "cause_table", "cause_row"
    )


def _format_args(p: argparse.ArgumentParser) -> None:
    """Options saying how to read the input (shared by ``validate`` and ``import``)."""
    from analysis.io.importing import FORMATS

    p.add_argument("--format", choices=list(FORMATS), default="canonical",
                   help="format des fichiers : " + " ; ".join(
                       f"{k} = {v}" for k, v in FORMATS.items()) + " (défaut canonical)")
    p.add_argument("--mapping", type=Path, default=None,
                   help="fichier de correspondance YAML ou TOML (format mapped ; exemples "
                        "dans docs/mappings/)")
    p.add_argument("--region", default=None,
                   help="FINESS : ne garder que cette région (code INSEE, ex. 11)")
    p.add_argument("--departement", action="append", default=None,
                   help="FINESS : ne garder que ce(s) département(s) (option répétable ou "
                        "liste séparée par des virgules : 75,92,9C)")
    p.add_argument("--categorie", action="append", default=None,
                   help="FINESS : ne garder que ces catégories d'établissement (ex. 109,365)")


def _import_options(args: argparse.Namespace):
    """The ``ImportOptions`` of the command line, checked (``InputError`` when inconsistent)."""
    from analysis.io.importing import ImportOptions

    options = ImportOptions(
        format=args.format,
        mapping=args.mapping,
        region=args.region,
        departements=tuple(args.departement or ()),
        categories=tuple(args.categorie or ()),
    )
    options.check()
    return options


def _validate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", type=Path,
                   help="dossier d'un instantané du magasin, dossier source ou fichier "
                        "(formats mapped, finess, fhir)")
    p.add_argument("--report", type=Path, help="écrire le rapport complet (.csv, .xlsx, .parquet)")
    p.add_argument("--limit", type=int, default=30, help="nombre de problèmes affichés")
    contacts_arg(p)
    csv_excel_arg(p)
    _format_args(p)


@command("validate", "valider un dossier source ou un instantané", _validate_args)
def _run_validate(args: argparse.Namespace) -> int:
    from analysis.io import importing

    path: Path = args.path
    options = _import_options(args)
    if options.format == "canonical":
        if not path.is_dir():
            raise InputError("dossier introuvable", path)
        if (path / "manifest.json").exists():
            return _validate_snapshot(path, args)
    with terminal("Contrôle") as bar:
        preview = importing.preview(path, options, progress=bar)
    rejected = preview.validation.rejected
    report = preview.report
    if options.format == "canonical":  # canonical files have no source locations
        report = report.drop("source")
    _print_counts(preview.counts)
    _print_report(report, rejected, args.limit, args.contacts, _files(preview.loaded.sources))
    _write_report(_report_to_write(report, rejected), args.report, args.contacts,
                  args.csv_excel)
    return EXIT_OK if preview.ok else EXIT_REJECTED


def _write_report(report: pl.DataFrame, target: Path | None, show_contacts: bool = False,
                  csv_excel: bool = False) -> None:
    """Write the whole report; the values of contact columns are masked unless asked."""
    if target:
        from analysis.model.privacy import mask_report_values
        from analysis.present.export import write_table

        write_table(mask_report_values(report, show_contacts), target,
                    show_contacts=show_contacts, sheet="rapport", csv_excel=csv_excel)
        print(f"Rapport écrit : {target}")


def _validate_snapshot(path: Path, args: argparse.Namespace) -> int:
    """A stored snapshot: checksums, the import's own record, and the kept rows re-checked.

    Re-checking the kept rows catches rules added since the import; the rows rejected at
    import time are read back from ``rejected.parquet`` so the exit code still says so.
    """
    from analysis.io import store, validate

    problems = store.verify_snapshot(path)
    if problems:
        for p in problems:
            print(f"[intégrité] {p}")
        return EXIT_STORE
    snap = store.read_snapshot(path.parent, path.name)
    result = validate.validate_tables(snap.tables)
    stored = pl.concat(
        [
            store.read_table(path.parent, path.name, "rejected").select(
                list(result.report.columns)
            ),
            store.read_table(path.parent, path.name, "warnings").select(
                list(result.report.columns)
            ),
        ]
    )
    report = pl.concat([stored, result.report]).unique(maintain_order=True)
    rejected_rows = pl.concat(
        [store.read_table(path.parent, path.name, "rejected"), result.rejected]
    ).unique(maintain_order=True)
    counts = {
        name: {
            "lus": c.get("lus", 0),
            "conserves": c.get("conserves", 0),
            "rejetes": c.get("rejetes", 0) + result.counts[name]["rejetes"],
            "avertissements": c.get("avertissements", 0),
        }
        for name, c in snap.manifest.get("tables", {}).items()
    }
    _print_counts(counts)
    _print_report(report, rejected_rows, args.limit, args.contacts,
                  _files(snap.manifest.get("sources", [])))
    _write_report(_report_to_write(report, rejected_rows), args.report, args.contacts,
                  args.csv_excel)
    rejected = sum(c["rejetes"] for c in counts.values())
    return EXIT_REJECTED if rejected else EXIT_OK


# ------------------------------------------------------------------------ import


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", type=Path,
                   help="dossier des fichiers (etablissements.csv, …) ou, pour les formats "
                        "mapped, finess et fhir, un fichier")
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")
    p.add_argument("--date", required=True, type=iso_date, help="date de l'instantané AAAA-MM-JJ")
    p.add_argument("--replace", action="store_true", help="remplacer l'instantané de cette date")
    p.add_argument("--limit", type=int, default=30, help="nombre de problèmes affichés")
    contacts_arg(p)
    _format_args(p)


@command("import", "importer un dossier de fichiers comme instantané daté", _import_args)
def _run_import(args: argparse.Namespace) -> int:
    from analysis.io import importing

    options = _import_options(args)
    importing.ensure_writable(args.store, args.date, args.replace)
    with terminal("Import") as bar:
        preview = importing.preview(args.source, options, progress=bar)
    path = importing.save(preview, args.store, args.date, replace=args.replace)
    _print_counts(preview.counts)
    _print_report(preview.report, preview.validation.rejected, args.limit, args.contacts,
                  _files(preview.loaded.sources))
    print(f"Instantané écrit : {path}")
    return EXIT_REJECTED if preview.rejected_rows else EXIT_OK


# --------------------------------------------------------------------- snapshots


def _snapshots_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")


@command("snapshots", "lister les instantanés d'un magasin", _snapshots_args)
def _run_snapshots(args: argparse.Namespace) -> int:
    from analysis.io import store

    dates = store.list_snapshots(args.store)
    if not dates:
        raise SnapshotMissingError(args.store)
    for d in dates:
        m = store.read_manifest(args.store / d.isoformat())
        kept = sum(c.get("conserves", 0) for c in m.get("tables", {}).values())
        rejected = sum(c.get("rejetes", 0) for c in m.get("tables", {}).values())
        print(f"{d.isoformat()}  {kept:>7} lignes conservées  {rejected:>5} rejetées")
    return EXIT_OK
