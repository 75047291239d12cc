"""``smr`` sub-commands following the campaign and the data quality: ``campaign``, ``sync``,
``todo``, ``qualite``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import polars as pl

from analysis.cli.common import (
    EXIT_OK,
    check_table_suffix,
    command,
    csv_excel_arg,
    hour_minute,
    iso_date,
    snapshot_args,
    store_snapshot_args,
)
from analysis.io.files import write_atomic
from analysis.model import formats
from analysis.model.errors import InputError, SnapshotMissingError
from analysis.model.progress import terminal


def campaign_params(args: argparse.Namespace):
    from analysis.checks.campaign import checklist

    return checklist.CampaignParams(start=getattr(args, "start", None), sync_time=args.heure_synchro)


def store_region(args: argparse.Namespace, day: dt.date | None) -> str:
    """``--region``, else the region of the snapshot's manifest, else 11."""
    from analysis.io import store

    if args.region:
        return str(args.region)
    day = day or store.latest_snapshot(args.store)
    if day is None:
        return "11"
    manifest = store.read_manifest(Path(args.store) / day.isoformat())
    return store.manifest_region(manifest)


# ---------------------------------------------------------------------- campaign


def _campaign_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", required=True, type=Path, help="dossier du magasin d'instantanés")
    p.add_argument("--start", type=iso_date, default=None,
                   help="début de la campagne AAAA-MM-JJ (défaut : celui du manifeste)")
    p.add_argument("--heure-synchro", type=hour_minute, default=dt.time(18, 0),
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
    csv_excel_arg(p)


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
        history = progress_history(args.store, campaign_params(args), progress=bar)
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
    remaining = forecast.remaining_history(args.store, campaign_params(args), args.fenetre, plan)
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


# -------------------------------------------------------------------------- sync


def _sync_args(p: argparse.ArgumentParser) -> None:
    snapshot_args(p, region=False)
    p.add_argument("--heure-synchro", type=hour_minute, default=dt.time(18, 0),
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


# -------------------------------------------------------------------------- todo


def _todo_args(p: argparse.ArgumentParser) -> None:
    store_snapshot_args(p)
    p.add_argument("--finess", default=None, help="un seul établissement (FINESS EG)")
    p.add_argument("--par", choices=("etablissement", "departement"), default="etablissement",
                   help="une feuille Excel par établissement (défaut) ou par département")
    p.add_argument("--contacts", action="store_true",
                   help="montrer les contacts (noms, e-mails, téléphones), masqués par défaut")
    p.add_argument("--start", type=iso_date, default=None,
                   help="début de la campagne AAAA-MM-JJ (défaut : celui du manifeste)")
    p.add_argument("--heure-synchro", type=hour_minute, default=dt.time(18, 0),
                   help="heure de la synchronisation quotidienne ROR → ViaTrajectoire (18:00)")
    p.add_argument("--region", default=None,
                   help="code INSEE de la région, pour ses canaux de support (défaut : celle "
                        "du manifeste, sinon 11)")
    p.add_argument("--out", required=True, type=Path, help="fichier de sortie (.xlsx ou .csv)")


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
    results = evaluate_snapshot(args.store, args.snapshot, campaign_params(args))
    region = store_region(args, args.snapshot)
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


# ----------------------------------------------------------------------- qualite


def _qualite_args(p: argparse.ArgumentParser) -> None:
    store_snapshot_args(p)
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
    csv_excel_arg(p)


@command("qualite", "exigences qualité ROR pour le SMR : périmètre, écarts et taux par "
         "département", _qualite_args)
def _run_qualite(args: argparse.Namespace) -> int:
    from analysis.checks.quality import population, requirements, vt_report
    from analysis.io import finess_reference, store, vt_report_file
    from analysis.present import export

    check_table_suffix(args.out)
    suffix = args.out.suffix.lower()
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
