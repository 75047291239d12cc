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
from typing import NoReturn

import polars as pl

from analysis.argparse_fr import FrenchParser
from analysis.io.files import write_atomic
from analysis.model import formats
from analysis.model.errors import InputError, SmrError, SnapshotMissingError, StoreError
from analysis.model.progress import terminal

EXIT_OK, EXIT_REJECTED, EXIT_INPUT, EXIT_STORE, EXIT_INTERNAL = 0, 1, 2, 3, 4

#: name → (help, add_arguments, run); commands register themselves with ``command``.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {}


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]):
    """Register ``run(args) -> int`` as the sub-command ``name``."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable:
        COMMANDS[name] = (help, arguments, run)
        return run

    return register


class _Parser(FrenchParser):
    """French argparse (``analysis.argparse_fr``) whose usage errors are one line, exit code 2."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        raise InputError(f"ligne de commande invalide : {message} (voir « {self.prog} --help »)")


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


# ---------------------------------------------------------------------------- demo


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


# ------------------------------------------------------------------------ validate


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
    _contacts_arg(p)
    _csv_excel_arg(p)
    _format_args(p)


def _csv_excel_arg(p: argparse.ArgumentParser) -> None:
    """``--csv-excel``: a .csv output as « CSV pour Excel » instead of « CSV données »."""
    p.add_argument("--csv-excel", action="store_true",
                   help="fichier .csv « pour Excel » (séparateur point-virgule, virgule "
                        "décimale, en-têtes et libellés en français, valeurs arrondies comme "
                        "à l'écran) au lieu de « données » (séparateur virgule, point décimal, "
                        "codes, précision complète, dates AAAA-MM-JJ)")


def _contacts_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--contacts", action="store_true",
                   help="montrer les contacts (noms, e-mails, téléphones) dans le rapport "
                        "affiché ou écrit ; masqués par défaut")


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


def _tables() -> list[str]:
    from analysis.model import schema

    return list(schema.TABLES)


# -------------------------------------------------------------------------- import


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", type=Path,
                   help="dossier des fichiers (etablissements.csv, …) ou, pour les formats "
                        "mapped, finess et fhir, un fichier")
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")
    p.add_argument("--date", required=True, type=_date, help="date de l'instantané AAAA-MM-JJ")
    p.add_argument("--replace", action="store_true", help="remplacer l'instantané de cette date")
    p.add_argument("--limit", type=int, default=30, help="nombre de problèmes affichés")
    _contacts_arg(p)
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


# ----------------------------------------------------------------------- snapshots


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


# ---------------------------------------------------------------- coverage / access


def _store_snapshot_args(p: argparse.ArgumentParser) -> None:
    """``--store`` and ``--snapshot`` (latest by default), shared by every analysis command."""
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")
    p.add_argument("--snapshot", type=_date, default=None,
                   help="date de l'instantané AAAA-MM-JJ (défaut : le plus récent)")


def _snapshot_args(
    p: argparse.ArgumentParser,
    region: bool = True,
    out_help: str = "fichier de sortie (.csv, .xlsx ou .parquet)",
    csv: bool = True,
) -> None:
    """Options shared by the analysis commands: store, snapshot, region, output."""
    _store_snapshot_args(p)
    if region:
        p.add_argument("--region", default=None,
                       help="code INSEE de la région (défaut : celle du manifeste, sinon 11)")
    p.add_argument("--out", required=True, type=Path, help=out_help)
    if csv:
        _csv_excel_arg(p)


def _open_for_analysis(args: argparse.Namespace):
    """The snapshot, the region code and its origins (communes, Paris / Lyon / Marseille
    arrondissements) with the populations in use (``--population``, else the store's setting,
    else the reference) for an analysis command; the populations chosen are kept in
    ``args.population_setup``."""
    from analysis.indicators import populations
    from analysis.io import store
    from analysis.present import export

    if args.out.suffix.lower() not in export.SUFFIXES:
        raise InputError(
            f"format de sortie non pris en charge « {args.out.suffix or '(aucune extension)'} » ;"
            f" extensions possibles : {', '.join(export.SUFFIXES)}",
            args.out,
        )
    snap = store.read_snapshot(args.store, args.snapshot)
    region = store.manifest_region(snap.manifest, args.region)
    setup = populations.setup_for(region, args.store, getattr(args, "population", None))
    args.population_setup = setup
    return snap, region, setup.origins


def _opening_args(p: argparse.ArgumentParser) -> None:
    """``--inclure-fermetures-provisoires``: the switch of ``analysis.indicators.opening``."""
    p.add_argument("--inclure-fermetures-provisoires", action="store_true",
                   help="compter les établissements et unités fermés provisoirement (PRO) ; "
                        "par défaut seule l'offre ouverte à la date de l'instantané compte "
                        "(fermetures définitives toujours exclues)")


def _population_arg(p: argparse.ArgumentParser) -> None:
    """``--population FILE``: INSEE legal populations instead of the reference ones."""
    p.add_argument("--population", type=Path, default=None, metavar="FICHIER",
                   help="populations légales de l'Insee (CSV ou Excel tels que publiés : code "
                        "commune et population municipale) ; défaut : le fichier réglé pour le "
                        "magasin, sinon la population de la géographie de référence")


def _opening(args: argparse.Namespace, date: dt.date):
    """The opening rule of a command (snapshot date and provisional-closure switch)."""
    from analysis.indicators.opening import OpeningRule

    return OpeningRule(date, bool(getattr(args, "inclure_fermetures_provisoires", False)))


def _print_context(args: argparse.Namespace, tables, rule, mentions=None, forme=None) -> None:
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


def _mention_arg(value: str | None) -> str | None:
    from analysis.model import nomenclature

    if value is None:
        return None
    try:
        return nomenclature.mention_code(value)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None


def _forme_arg(value: str | None) -> str | None:
    from analysis.indicators import coverage
    from analysis.model import nomenclature

    if value is None:
        return None
    code = value.strip().upper() if value.strip().lower() != coverage.ALL_FORMES else value.lower()
    if code != coverage.ALL_FORMES and code not in nomenclature.FORME_BY_CODE:
        valid = ", ".join([*nomenclature.FORME_BY_CODE, coverage.ALL_FORMES])
        raise InputError(f"forme inconnue « {value} » ; formes valides : {valid}")
    return code


def _population_ages_arg(path: Path | None):
    from analysis.io import parameter_files

    return None if path is None else parameter_files.read_population_ages(path)


def _coverage_args(p: argparse.ArgumentParser) -> None:
    from analysis.indicators import coverage

    _snapshot_args(p)
    p.add_argument("--level", choices=coverage.LEVELS, default="departement",
                   help="niveau de territoire (défaut departement)")
    p.add_argument("--mention", help="code (ME050) ou libellé de la mention (défaut : toutes)")
    p.add_argument("--forme", help="forme (HC, HJ, …, ou « toutes » pour le total seul ; "
                   "défaut : le total et chaque forme)")
    p.add_argument("--population-ages", type=Path, default=None,
                   help="CSV commune_insee,moins_18,plus_75,total (dénominateurs par âge)")
    _population_arg(p)
    _opening_args(p)


@command("coverage", "capacités et taux pour 100 000 habitants par territoire", _coverage_args)
def _run_coverage(args: argparse.Namespace) -> int:
    from analysis.indicators import coverage, populations, territories
    from analysis.present.export import write_table

    mention = _mention_arg(args.mention)
    forme = _forme_arg(args.forme)
    ages = _population_ages_arg(args.population_ages)
    snap, region, communes = _open_for_analysis(args)
    rule = _opening(args, snap.date)
    names = territories.region_names(region)
    table = coverage.capacity_by_territory(
        snap.tables, communes, args.level, mentions=[mention] if mention else None, forme=forme,
        population_ages=ages, departement_names=names.get("departement"),
        region_names=names.get("region"), opening=rule,
    )
    write_table(populations.with_vintage(table, args.population_setup), args.out,
                sheet="couverture", csv_excel=args.csv_excel)
    print(
        f"Couverture écrite : {args.out} ({table.height} lignes, niveau {args.level}, "
        f"région {region}, instantané du {snap.date.isoformat()})."
    )
    _print_context(args, snap.tables, rule, [mention] if mention else None, forme)
    outside = coverage.unmapped_establishments(snap.tables, communes, rule)
    if outside.height:
        print(f"{outside.height} établissement(s) hors de la région, non comptés.")
    return EXIT_OK


def _access_args(p: argparse.ArgumentParser) -> None:
    from analysis.indicators import access

    _snapshot_args(p)
    p.add_argument("--mention", required=True, help="code (ME050) ou libellé de la mention")
    p.add_argument("--method", choices=access.METHODS, default="e2sfca",
                   help="nearest (le plus proche), 2sfca ou e2sfca (défaut)")
    p.add_argument("--forme", help="restreindre à une forme (HC, HJ, …)")
    p.add_argument("--catchment", type=float, default=None,
                   help=f"zone d'attraction en minutes (2SFCA défaut "
                        f"{access.DEFAULT_CATCHMENT_MIN:g} ; E2SFCA : met les zones à l'échelle)")
    p.add_argument("--costs", type=Path, default=None,
                   help="CSV commune_insee,finess_eg,minutes qui remplace le modèle de temps")
    p.add_argument("--speed", type=float, default=access.DEFAULT_SPEED_KMH,
                   help=f"vitesse moyenne en km/h (défaut {access.DEFAULT_SPEED_KMH:g})")
    p.add_argument("--detour", type=float, default=access.DEFAULT_DETOUR_FACTOR,
                   help=f"coefficient de détour (défaut {access.DEFAULT_DETOUR_FACTOR:g})")
    p.add_argument("--population-ages", type=Path, default=None,
                   help="CSV commune_insee,moins_18,plus_75,total (demande par âge)")
    _population_arg(p)
    _opening_args(p)


@command("access", "accessibilité par commune : plus proche, 2SFCA ou E2SFCA", _access_args)
def _run_access(args: argparse.Namespace) -> int:
    from analysis.indicators import access, populations
    from analysis.io import parameter_files
    from analysis.present.export import write_table

    mention = _mention_arg(args.mention)
    forme = _forme_arg(args.forme)
    if forme == "toutes":
        forme = None
    model = access.TravelModel(args.speed, args.detour)
    costs = None if args.costs is None else parameter_files.read_travel_times(args.costs)
    ages = _population_ages_arg(args.population_ages)
    snap, region, communes = _open_for_analysis(args)
    rule = _opening(args, snap.date)
    if costs is not None:
        found = access.cost_table_coverage(costs, communes, snap.tables["etablissements"])
        if not found["communes"] or not found["etablissements"]:
            raise InputError(
                f"le fichier de temps ne concerne aucune commune de la région {region} ou aucun "
                f"établissement de l'instantané ({found['communes']} communes, "
                f"{found['etablissements']} établissements reconnus)",
                args.costs,
            )
    if args.method == "nearest":
        table = access.nearest_by_mention(
            snap.tables, communes, [mention], forme, model, costs, opening=rule
        ).join(communes.select("commune_insee", "nom"), on="commune_insee", how="left").select(
            "commune_insee", "nom", "mention", "finess_eg", "raison_sociale", "minutes", "km",
            "code_commune",
        )
    else:
        table = access.accessibility(
            snap.tables, communes, mention, args.method, forme=forme,
            catchment_min=args.catchment, model=model, costs=costs, population_ages=ages,
            opening=rule,
        )
    write_table(populations.with_vintage(table, args.population_setup), args.out, sheet="acces",
                csv_excel=args.csv_excel)
    source = f"fichier de temps {args.costs}" if costs is not None else (
        f"modèle {args.speed:g} km/h, détour {args.detour:g}"
    )
    print(
        f"Accessibilité écrite : {args.out} ({table.height} communes ou arrondissements, "
        f"mention {mention}, méthode {args.method}, {source}, instantané du "
        f"{snap.date.isoformat()})."
    )
    _print_context(args, snap.tables, rule, [mention], forme)
    sites = access.sites_for(snap.tables, communes, mention, forme, rule)
    if sites.height == 0:
        print(f"Aucun établissement n'offre la mention {mention} dans cet instantané.")
    return EXIT_OK


# ------------------------------------------------------------ campaign / sync / todo


def _hour(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text.strip().replace("h", ":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"heure invalide « {text} » (format HH:MM)") from None


def _campaign_params(args: argparse.Namespace):
    from analysis.checks.campaign import checklist

    return checklist.CampaignParams(start=getattr(args, "start", None), sync_time=args.heure_synchro)


def _campaign_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")
    p.add_argument("--start", type=_date, default=None,
                   help="début de la campagne AAAA-MM-JJ (défaut : celui du manifeste)")
    p.add_argument("--heure-synchro", type=_hour, default=dt.time(18, 0),
                   help="heure de la synchronisation quotidienne ROR → ViaTrajectoire (18:00)")
    p.add_argument("--out", required=True, type=Path,
                   help="fichier de sortie (.csv, .xlsx ou .parquet)")
    p.add_argument("--forecast", action="store_true",
                   help="prévision : date d'achèvement projetée de chaque phase du plan de "
                        "campagne et établissements qui, à leur rythme, ne finiront pas à "
                        "l'échéance (feuilles « prevision » et « en_retard » en .xlsx, "
                        "fichiers FICHIER_prevision et FICHIER_en_retard sinon)")
    p.add_argument("--fenetre", type=int, default=5,
                   help="nombre d'instantanés récents pour la tendance (défaut 5)")
    p.add_argument("--echeance", action="append", default=[], metavar="PHASE=AAAA-MM-JJ",
                   help="échéance d'une phase (phase1 : 2023-05-31 par défaut ; phase2 : "
                        "aucune dans le guide), répétable")
    _csv_excel_arg(p)


def _deadlines(values: list[str]) -> dict[str, dt.date]:
    out = {}
    for value in values:
        phase, _, day = value.partition("=")
        try:
            out[phase.strip()] = dt.date.fromisoformat(day.strip())
        except ValueError:
            raise InputError(f"échéance invalide « {value} » (format PHASE=AAAA-MM-JJ)") from None
    return out


@command("campaign", "avancement de la campagne : taux par règle et par instantané",
         _campaign_args)
def _run_campaign(args: argparse.Namespace) -> int:
    from analysis.checks.campaign import checklist
    from analysis.checks.campaign.history import progress_history
    from analysis.io import store
    from analysis.present.export import write_table

    dates = store.list_snapshots(args.store)
    if not dates:
        raise SnapshotMissingError(args.store)
    with terminal("Historique") as bar:  # lazy scans, the same table as progress
        history = progress_history(args.store, _campaign_params(args), progress=bar)
    severity = checklist.rules_frame().select("regle", "severite")
    table = history.join(severity, on="regle", how="left", maintain_order="left")
    last = table.filter((pl.col("date") == dates[-1]) & (pl.col("severite") == "obligatoire"))
    rate = last["conformes"].sum() / max(last["total"].sum(), 1)
    if not args.forecast:
        write_table(table, args.out, sheet="avancement", csv_excel=args.csv_excel)
    print(f"{len(dates)} instantanés ({dates[0]} → {dates[-1]}), {last.height} règles "
          f"obligatoires ; points conformes au {dates[-1]} : {formats.percent(rate)} (points "
          "conseillés non comptés).")
    if args.forecast:
        _campaign_forecast(args, table)
    else:
        print(f"Avancement écrit : {args.out}")
    return EXIT_OK


def _campaign_forecast(args: argparse.Namespace, history: pl.DataFrame) -> None:
    """``smr campaign --forecast``: projected completion of each phase, late establishments."""
    from analysis.checks.campaign import forecast
    from analysis.present import export

    if args.fenetre < 2:
        raise InputError("--fenetre : au moins 2 instantanés pour une tendance")
    plan = forecast.with_deadlines(forecast.PLAN, _deadlines(args.echeance))
    series = forecast.phase_series(history, plan)
    projected = forecast.forecast_phases(series, plan, window=args.fenetre)
    remaining = forecast.remaining_history(args.store, _campaign_params(args), args.fenetre, plan)
    late = forecast.late_establishments(forecast.establishment_pace(remaining, plan))
    suffix = args.out.suffix.lower()
    if suffix == ".xlsx":
        sheets = {"avancement": history, "prevision": projected, "en_retard": late}
        data = export.excel_bytes(sheets)
        if not args.out.parent.exists():
            raise InputError("le dossier de sortie n'existe pas", args.out.parent)
        write_atomic(args.out, data)
        written = [args.out]
    else:
        export.write_table(history, args.out, sheet="avancement", csv_excel=args.csv_excel)
        written = [args.out]
        for name, frame in (("prevision", projected), ("en_retard", late)):
            path = args.out.with_name(f"{args.out.stem}_{name}{args.out.suffix}")
            export.write_table(frame, path, sheet=name, csv_excel=args.csv_excel)
            written.append(path)

    def day(value: dt.date | None) -> str:
        return formats.date(value) if value else "non atteinte à ce rythme"

    for row in projected.iter_rows(named=True):
        deadline = formats.date(row["echeance"]) if row["echeance"] else "aucune"
        if row["taux"] is None:
            print(f"{row['libelle']} : aucun point évalué.")
            continue
        n_late = late.filter(pl.col("phase") == row["phase"])["finess_eg"].n_unique()
        print(
            f"{row['libelle']} ({row['phase']}, échéance {deadline}) : "
            f"{formats.percent(row['taux'])} au {formats.date(row['date'])} ; achèvement projeté {day(row['date_prevue'])} "
            f"(intervalle à 90 % : {day(row['date_prevue_tot'])} – "
            f"{day(row['date_prevue_tard'])}, tendance sur {row['points']} instantanés) ; "
            f"{n_late} établissement(s) en retard à leur rythme."
        )
    print("Méthode et incertitude : note « Prévision de la campagne » (analysis/present/methods.py).")
    print("Fichiers écrits : " + ", ".join(str(p) for p in written))


def _sync_args(p: argparse.ArgumentParser) -> None:
    _snapshot_args(p, region=False)
    p.add_argument("--heure-synchro", type=_hour, default=dt.time(18, 0),
                   help="heure de la synchronisation quotidienne ROR → ViaTrajectoire (18:00)")


@command("sync", "synchronisation ROR ↔ ViaTrajectoire : statut de chaque unité", _sync_args)
def _run_sync(args: argparse.Namespace) -> int:
    from analysis.indicators import sync
    from analysis.io import store
    from analysis.present.export import write_table

    snap = store.read_snapshot(args.store, args.snapshot,
                               tables=["etablissements", "unites", "vt_unites"])
    status = sync.unit_status(snap.tables, snap.date, args.heure_synchro)
    out = (
        sync.with_establishment(status.lazy(), snap.tables["etablissements"])
        .select("uo_id", "vt_id", "finess_eg", "statut", "motif", "ecarts", "nom_ror", "nom_vt",
                "raison_sociale", "departement", "date_maj_ror", "date_synchronisation",
                "derniere_synchro", "synchro_en_retard")
        .collect()
    )
    write_table(out, args.out, sheet="synchronisation", csv_excel=args.csv_excel)
    counts = ", ".join(
        f"{s} {int((out['statut'] == s).sum())}" for s in sync.STATUSES
    )
    print(f"Instantané du {snap.date} : {out.height} unités ({counts}).")
    print(f"Statuts écrits : {args.out}")
    return EXIT_OK


def _todo_args(p: argparse.ArgumentParser) -> None:
    _store_snapshot_args(p)
    p.add_argument("--finess", default=None, help="un seul établissement (FINESS EG)")
    p.add_argument("--par", choices=("etablissement", "departement"), default="etablissement",
                   help="une feuille Excel par établissement (défaut) ou par département")
    p.add_argument("--contacts", action="store_true",
                   help="montrer les contacts (noms, e-mails, téléphones), masqués par défaut")
    p.add_argument("--start", type=_date, default=None,
                   help="début de la campagne AAAA-MM-JJ (défaut : celui du manifeste)")
    p.add_argument("--heure-synchro", type=_hour, default=dt.time(18, 0),
                   help="heure de la synchronisation quotidienne ROR → ViaTrajectoire (18:00)")
    p.add_argument("--region", default=None,
                   help="code INSEE de la région, pour ses canaux de support (défaut : celle "
                        "du manifeste, sinon 11)")
    p.add_argument("--out", required=True, type=Path, help="fichier de sortie (.xlsx ou .csv)")


def _store_region(args: argparse.Namespace, day: dt.date | None) -> str:
    """``--region``, else the region of the snapshot's manifest, else 11."""
    from analysis.io import store

    if args.region:
        return str(args.region)
    day = day or store.latest_snapshot(args.store)
    if day is None:
        return "11"
    manifest = store.read_manifest(Path(args.store) / day.isoformat())
    return store.manifest_region(manifest)


@command("todo", "points à traiter par établissement (Excel ou CSV à envoyer)", _todo_args)
def _run_todo(args: argparse.Namespace) -> int:
    from analysis.checks.campaign import checklist, todo
    from analysis.checks.campaign.history import evaluate_snapshot
    from analysis.present import todo_lists

    if args.out.suffix.lower() not in (".xlsx", ".csv"):
        raise InputError(
            "format non pris en charge pour la liste de points à traiter ; extensions "
            "possibles : .xlsx, .csv",
            args.out,
        )
    results = evaluate_snapshot(args.store, args.snapshot, _campaign_params(args))
    region = _store_region(args, args.snapshot)
    path = todo_lists.write_todo(results, args.out, per=args.par, finess=args.finess,
                               show_contacts=args.contacts, region=region)
    items = todo.todo_items(results, args.finess)
    advice = int((items["severite"] == todo.SEVERITY_TODO_LABELS[checklist.CONSEILLE]).sum())
    shown = "affichés" if args.contacts else "masqués"
    print(f"{items.height - advice} points à traiter et {advice} conseils pour "
          f"{items['finess_eg'].n_unique()} établissement(s) ; contacts {shown}.")
    blocked = items.filter(pl.col("bloque") == "oui")["finess_eg"].n_unique()
    if blocked:
        print(f"{blocked} établissement(s) sans compte ROR ou habilitation ViaTrajectoire "
              "valide ne peuvent pas faire la campagne : listés en premier.")
    from analysis.model import settings

    if settings.support_desk(region) is None:
        print(f"Aucun canal de support configuré pour la région {region} (colonne « Support »).")
    print(f"Liste écrite : {path}")
    return EXIT_OK


# ------------------------------------------------------------- transition / scenario


def _transition_args(p: argparse.ArgumentParser) -> None:
    _snapshot_args(p)
    p.add_argument("--mapping", type=Path, default=None,
                   help="table de correspondance SSR → SMR (CSV ou YAML : activite, modalite, "
                        "mentions ; voir docs/scenarios/README.md) ; défaut : la table proposée")
    _opening_args(p)


@command("transition", "transition SSR → SMR : écarts par établissement et mention",
         _transition_args)
def _run_transition(args: argparse.Namespace) -> int:
    from analysis.indicators import opening
    from analysis.present.export import write_table
    from analysis.transition import correspondence
    from analysis.transition.gaps import gap_totals, transition_gaps

    mapping = None if args.mapping is None else correspondence.read_mapping(args.mapping)
    snap, region, _ = _open_for_analysis(args)
    rule = _opening(args, snap.date)
    # closed establishments have nothing left to describe: gaps on the open offer only
    gaps = transition_gaps(opening.open_tables(snap.tables, rule), snap.date, mapping)
    write_table(gaps, args.out, sheet="ecarts", csv_excel=args.csv_excel)
    totals = gap_totals(gaps)
    print(f"Instantané du {snap.date.isoformat()} (région {region}) : {gaps.height} écarts pour "
          f"{gaps['finess_eg'].n_unique()} établissement(s).")
    for r in totals.iter_rows(named=True):
        print(f"  {r['libelle_ecart']} : {r['lignes']}")
    _print_context(args, snap.tables, rule)
    print(f"Écarts écrits : {args.out}")
    return EXIT_OK


def _scenario_args(p: argparse.ArgumentParser) -> None:
    from analysis.indicators import access, territories

    p.add_argument("scenario", type=Path,
                   help="fichier du scénario (YAML ou JSON ; format et exemples : docs/scenarios/)")
    _snapshot_args(p)
    p.add_argument("--mention", required=True, help="code (ME050) ou libellé de la mention")
    p.add_argument("--forme", help="restreindre à une forme (HC, HJ, …)")
    p.add_argument("--catchment", type=float, default=None,
                   help=f"zone d'attraction en minutes (défaut {access.DEFAULT_CATCHMENT_MIN:g} ; "
                        "met aussi les zones E2SFCA à l'échelle)")
    p.add_argument("--threshold", type=float, default=territories.DEFAULT_BEYOND_MIN,
                   help="seuil d'accès en minutes pour la population qui gagne ou perd un "
                        f"établissement (défaut {territories.DEFAULT_BEYOND_MIN:g})")
    p.add_argument("--speed", type=float, default=access.DEFAULT_SPEED_KMH,
                   help=f"vitesse moyenne en km/h (défaut {access.DEFAULT_SPEED_KMH:g})")
    p.add_argument("--detour", type=float, default=access.DEFAULT_DETOUR_FACTOR,
                   help=f"coefficient de détour (défaut {access.DEFAULT_DETOUR_FACTOR:g})")
    p.add_argument("--population-ages", type=Path, default=None,
                   help="CSV commune_insee,moins_18,plus_75,total (demande par âge)")
    _population_arg(p)
    _opening_args(p)


@command("scenario", "scénario : effet d'un changement d'offre sur l'accès, commune par commune",
         _scenario_args)
def _run_scenario(args: argparse.Namespace) -> int:
    import math

    from analysis.indicators import access, populations, territories
    from analysis.present.export import write_table
    from analysis.transition import scenarios
    from analysis.transition.comparison import compare_scenario

    scenario = scenarios.read_scenario(args.scenario)
    mention = _mention_arg(args.mention)
    forme = _forme_arg(args.forme)
    forme = None if forme == "toutes" else forme
    for value, what in ((args.catchment, "zone d'attraction"), (args.threshold, "seuil")):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InputError(f"{what} invalide ({value:g} min) : nombre de minutes positif attendu")
    access.TravelModel(args.speed, args.detour)  # checks speed and detour (InputError)
    params = territories.AccessParams(
        speed_kmh=args.speed,
        detour_factor=args.detour,
        catchment_min=args.catchment or access.DEFAULT_CATCHMENT_MIN,
        e2sfca_catchment_min=args.catchment,
        beyond_min=args.threshold,
    )
    ages = _population_ages_arg(args.population_ages)
    snap, region, communes = _open_for_analysis(args)
    rule = _opening(args, snap.date)
    comparison = compare_scenario(
        snap.tables, scenario, communes, mention, source=args.scenario, forme=forme, params=params,
        population_ages=ages, names=territories.region_names(region), opening=rule,
    )
    write_table(populations.with_vintage(comparison.communes, args.population_setup), args.out,
                sheet="communes", csv_excel=args.csv_excel)
    r = comparison.region
    changed = comparison.changed_communes().height
    print(f"Scénario « {scenario.nom} » ({len(scenario.changements)} changement(s)), mention "
          f"{mention}, instantané du {snap.date.isoformat()} : {changed} commune(s) modifiée(s).")
    gained, lost = (formats.integer(r[k]) for k in ("population_gagnant", "population_perdant"))
    print(f"À {args.threshold:g} min ou moins : {gained} habitant(s) gagnent un établissement, "
          f"{lost} le perdent.")
    if mention not in scenario.mentions:
        print(f"Le scénario ne change pas la mention {mention} (mentions changées : "
              f"{', '.join(scenario.mentions) or 'aucune'}).")
    _print_context(args, snap.tables, rule, [mention], forme)
    print(f"Comparaison écrite : {args.out}")
    return EXIT_OK


# -------------------------------------------------------------------------- report


def _report_args(p: argparse.ArgumentParser) -> None:
    _snapshot_args(p, out_help="fichier du rapport : .xlsx (classeur) ou .html (page autonome)",
                   csv=False)
    _population_arg(p)
    _opening_args(p)


@command("report", "rapport régional : chiffres clés, couverture, accès, campagne, synchro",
         _report_args)
def _run_report(args: argparse.Namespace) -> int:
    from analysis.present import report

    if args.out.suffix.lower() not in report.SUFFIXES:
        raise InputError(
            f"format non pris en charge « {args.out.suffix or '(aucune extension)'} » pour le "
            f"rapport ; extensions possibles : {', '.join(report.SUFFIXES)}",
            args.out,
        )
    if not args.out.parent.exists():
        raise InputError("le dossier de sortie n'existe pas", args.out.parent)
    report.check_store(args.store)
    with terminal("Rapport") as bar:
        built = report.build_report(
            args.store, args.snapshot, args.region, population=args.population,
            include_provisional=args.inclure_fermetures_provisoires, progress=bar,
        )
    path = report.write_report(built, args.out)
    print(f"Rapport de la région {built.region_name} ({built.region}), instantané du "
          f"{built.date.isoformat()} : {path}")
    print(f"Population : {built.population_vintage}.")
    if built.provisional["etablissements"]:
        print(built.provisional_sentence)
    return EXIT_OK


# -------------------------------------------------------------------------- qualite


def _qualite_args(p: argparse.ArgumentParser) -> None:
    _store_snapshot_args(p)
    p.add_argument("--finess", action="append", type=Path, default=None,
                   help="référentiel FINESS à utiliser à la place de celui de l'instantané : "
                        "extraction etalab (.csv) et, pour compter les autorisations SMR des "
                        "établissements absents du ROR, flux « Activités » (.json) ; option "
                        "répétable, ou dossier ; ou une table finess_etablissements (.csv)")
    p.add_argument("--vt-report", type=Path, default=None,
                   help="rapport de synchronisation ROR → ViaTrajectoire (CSV ou Excel, colonnes "
                        "Finess, NomEtablissement, CodeRegion, Domaine, EtatVT, "
                        "EtatSynchronisationROR, DateSynchronisation)")
    p.add_argument("--region", default=None,
                   help="code INSEE de la région (défaut : celle du manifeste, sinon 11)")
    p.add_argument("--lecture-atelier", action="store_true",
                   help="lectures de l'atelier au lieu de celles des vues nationales (fin "
                        "d'autorisation vide comptée, EX2, ST3, RE1.2 limitée au SMR… : "
                        "docs/ecarts_vue_nationale.md)")
    p.add_argument("--out", required=True, type=Path,
                   help="fichier de sortie : une ligne par exigence × département (.csv, .xlsx "
                        "avec en plus la liste des écarts, ou .parquet)")
    _csv_excel_arg(p)


@command("qualite", "exigences qualité ROR pour le SMR : périmètre, écarts et taux par "
         "département", _qualite_args)
def _run_qualite(args: argparse.Namespace) -> int:
    from analysis.checks.quality import population, requirements, vt_report
    from analysis.io import finess_reference, store, vt_report_file
    from analysis.present import export

    suffix = args.out.suffix.lower()
    if suffix not in export.SUFFIXES:
        raise InputError(
            f"format de sortie non pris en charge « {args.out.suffix or '(aucune extension)'} » ;"
            f" extensions possibles : {', '.join(export.SUFFIXES)}",
            args.out,
        )
    if not args.out.parent.exists():
        raise InputError("le dossier de sortie n'existe pas", args.out.parent)
    date = args.snapshot or store.latest_snapshot(args.store)
    if date is None:
        raise SnapshotMissingError(args.store)
    if date not in store.list_snapshots(args.store):
        raise SnapshotMissingError(args.store, date)
    manifest = store.read_manifest(Path(args.store) / date.isoformat())
    region = store.manifest_region(manifest, args.region)
    params = requirements.QualityParams(departements=requirements.region_departements(region))
    if args.lecture_atelier:
        params = params.with_former_readings()
    finess = None
    if args.finess:
        finess, checked = finess_reference.read_finess_reference(
            args.finess[0] if len(args.finess) == 1 else args.finess
        )
        rejected = checked.filter(pl.col("severity") == "rejet")["row"].n_unique()
        print(f"Référentiel FINESS : {finess.height} établissements lus"
              + (f", {rejected} ligne(s) rejetée(s)" if rejected else "") + ".")
    tables = population.read_quality_tables(args.store, date, finess)
    results = requirements.evaluate(tables, date, params)
    table = requirements.summary(results, codes=requirements.evaluated(tables))
    vt_lines = []
    if args.vt_report is not None:
        report = vt_report_file.read_vt_report(args.vt_report)
        detail = vt_report.vt_report_detail(report.frame, tables, date, params.departements)
        rate = vt_report.vt_sync_rate(detail)
        table = pl.concat([table, vt_report.vt_rate_as_summary(rate)])
        vt_lines = [f"rapport ViaTrajectoire : {n}" for n in report.notes]
    if suffix == ".xlsx":
        sheets = {"exigences": table, "ecarts": requirements.ecarts(results)}
        data = export.excel_bytes(sheets, french=False)
        write_atomic(args.out, data)
    else:
        export.write_table(table, args.out, sheet="exigences", csv_excel=args.csv_excel)
    print(f"Instantané du {date.isoformat()}, région {region} :")
    print("  lectures de l'atelier (docs/ecarts_vue_nationale.md)" if args.lecture_atelier
          else "  lecture des vues nationales (ansforge/ROR-indicateurs-BI-SQL)")
    for row in table.filter(pl.col("departement") == requirements.ENSEMBLE).iter_rows(named=True):
        rate = formats.percent(row["taux"])
        print(f"  {row['exigence']:<17} périmètre {row['perimetre']:>5}, écarts "
              f"{row['ecarts']:>4}, taux {rate}")
    for code, why in requirements.skipped(tables).items():
        print(f"  {code:<17} non évaluée : {why}")
    for line in vt_lines:
        print(f"  {line}")
    print(f"Tableau écrit : {args.out}")
    return EXIT_OK


# ---------------------------------------------------------------------------- oqos


def _oqos_args(p: argparse.ArgumentParser) -> None:
    _snapshot_args(p)
    p.add_argument("--cibles", type=Path, default=None, metavar="FICHIER",
                   help="objectifs (CSV ou Excel : zone, mention, forme HC / HJ / toutes, min, "
                        "max ; voir docs/oqos.md) ; défaut : ceux enregistrés pour le magasin")
    p.add_argument("--zonage", type=Path, default=None, metavar="FICHIER",
                   help="zonage (CSV ou Excel : commune_insee, zone, libelle_zone) ; défaut : "
                        "celui du magasin, sinon les départements de la région")
    p.add_argument("--demandes", type=Path, default=None, metavar="FICHIER",
                   help="demandes d'autorisation (CSV ou Excel : finess_eg ou commune_insee, "
                        "mention, forme, date_depot, date_decision) ; défaut : celles du "
                        "magasin, sinon colonne « demandees » vide")
    _opening_args(p)


@command("oqos", "objectifs quantifiés (OQOS) : implantations autorisées, décrites et demandées "
         "par zone × mention × forme, face aux bornes", _oqos_args)
def _run_oqos(args: argparse.Namespace) -> int:
    from analysis.geo import geography as geo
    from analysis.io import oqos_files, store
    from analysis.present import export
    from analysis.transition import oqos

    if args.out.suffix.lower() not in export.SUFFIXES:
        raise InputError(
            f"format de sortie non pris en charge « {args.out.suffix or '(aucune extension)'} » ;"
            f" extensions possibles : {', '.join(export.SUFFIXES)}",
            args.out,
        )
    snap = store.read_snapshot(args.store, args.snapshot)
    region = store.manifest_region(snap.manifest, args.region)
    inputs = oqos_files.inputs_for(region, args.store, args.cibles, args.zonage, args.demandes)
    rule = _opening(args, snap.date)
    result = oqos.oqos_status(snap.tables, inputs.targets, inputs.zoning, rule,
                              inputs.applications, geo.load_arrondissements(region))
    export.write_table(result.status, args.out, sheet="objectifs", csv_excel=args.csv_excel)
    totals = oqos.status_totals(result.status)
    print(f"Instantané du {snap.date.isoformat()} (région {region}) : {result.status.height} "
          f"objectifs ; " + ", ".join(f"{oqos.STATUSES[s].lower()} : {n}"
                                      for s, n in totals.items()) + ".")
    print(inputs.caption())
    for note in (*inputs.notes, *result.notes):
        print(f"  {note}")
    print(rule.describe())
    _print_context(args, snap.tables, rule)
    print(f"Objectifs écrits : {args.out}")
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
    except SystemExit as exc:  # --help: the help was printed, nothing else to do
        code = exc.code if isinstance(exc.code, int) else EXIT_OK
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
