"""``smr`` sub-commands on the offer of a snapshot: ``coverage``, ``access``, ``transition``,
``scenario``, ``report``, ``oqos``."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.cli.common import (
    EXIT_OK,
    check_table_suffix,
    command,
    forme_arg,
    mention_arg,
    open_for_analysis,
    opening_args,
    opening_rule,
    population_ages_arg,
    population_arg,
    print_context,
    snapshot_args,
)
from analysis.model import formats, nomenclature
from analysis.model.errors import InputError
from analysis.model.progress import terminal

# ------------------------------------------------------------- coverage / access


def _coverage_args(p: argparse.ArgumentParser) -> None:
    from analysis.indicators import coverage

    snapshot_args(p)
    p.add_argument("--level", choices=coverage.LEVELS, default="departement",
                   help="niveau de territoire (défaut departement)")
    p.add_argument("--mention", help="code (ME050) ou libellé de la mention (défaut : toutes)")
    p.add_argument("--forme", help="forme (HC, HJ, …, ou « toutes » pour le total seul ; "
                   "défaut : le total et chaque forme)")
    p.add_argument("--population-ages", type=Path, default=None,
                   help="CSV commune_insee,moins_18,plus_75,total (dénominateurs par âge)")
    population_arg(p)
    opening_args(p)


@command("coverage", "capacités et taux pour 100 000 habitants par territoire", _coverage_args)
def _run_coverage(args: argparse.Namespace) -> int:
    from analysis.indicators import coverage, populations, territories
    from analysis.present.export import write_table

    mention = mention_arg(args.mention)
    forme = forme_arg(args.forme)
    ages = population_ages_arg(args.population_ages)
    snap, region, communes = open_for_analysis(args)
    rule = opening_rule(args, snap.date)
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
    print_context(args, snap.tables, rule, [mention] if mention else None, forme)
    outside = coverage.unmapped_establishments(snap.tables, communes, rule)
    if outside.height:
        print(f"{outside.height} établissement(s) hors de la région, non comptés.")
    return EXIT_OK


def _access_args(p: argparse.ArgumentParser) -> None:
    from analysis.indicators import access

    snapshot_args(p)
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
    population_arg(p)
    opening_args(p)


@command("access", "accessibilité par commune : plus proche, 2SFCA ou E2SFCA", _access_args)
def _run_access(args: argparse.Namespace) -> int:
    from analysis.indicators import access, populations
    from analysis.io import parameter_files
    from analysis.present.export import write_table

    mention = mention_arg(args.mention)
    forme = forme_arg(args.forme)
    if forme == nomenclature.ALL_FORMES:
        forme = None
    model = access.TravelModel(args.speed, args.detour)
    costs = None if args.costs is None else parameter_files.read_travel_times(args.costs)
    ages = population_ages_arg(args.population_ages)
    snap, region, communes = open_for_analysis(args)
    rule = opening_rule(args, snap.date)
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
    print_context(args, snap.tables, rule, [mention], forme)
    sites = access.sites_for(snap.tables, communes, mention, forme, rule)
    if sites.height == 0:
        print(f"Aucun établissement n'offre la mention {mention} dans cet instantané.")
    return EXIT_OK


# --------------------------------------------------------- transition / scenario


def _transition_args(p: argparse.ArgumentParser) -> None:
    snapshot_args(p)
    p.add_argument("--mapping", type=Path, default=None,
                   help="table de correspondance SSR → SMR (CSV ou YAML : activite, modalite, "
                        "mentions ; voir docs/scenarios/README.md) ; défaut : la table proposée")
    opening_args(p)


@command("transition", "transition SSR → SMR : écarts par établissement et mention",
         _transition_args)
def _run_transition(args: argparse.Namespace) -> int:
    from analysis.indicators import opening
    from analysis.present.export import write_table
    from analysis.transition import correspondence
    from analysis.transition.gaps import gap_totals, transition_gaps

    mapping = None if args.mapping is None else correspondence.read_mapping(args.mapping)
    snap, region, _ = open_for_analysis(args)
    rule = opening_rule(args, snap.date)
    # closed establishments have nothing left to describe: gaps on the open offer only
    gaps = transition_gaps(opening.open_tables(snap.tables, rule), snap.date, mapping)
    write_table(gaps, args.out, sheet="ecarts", csv_excel=args.csv_excel)
    totals = gap_totals(gaps)
    print(f"Instantané du {snap.date.isoformat()} (région {region}) : {gaps.height} écarts pour "
          f"{gaps['finess_eg'].n_unique()} établissement(s).")
    for r in totals.iter_rows(named=True):
        print(f"  {r['libelle_ecart']} : {r['lignes']}")
    print_context(args, snap.tables, rule)
    print(f"Écarts écrits : {args.out}")
    return EXIT_OK


def _scenario_args(p: argparse.ArgumentParser) -> None:
    from analysis.indicators import access, territories

    p.add_argument("scenario", type=Path,
                   help="fichier du scénario (YAML ou JSON ; format et exemples : docs/scenarios/)")
    snapshot_args(p)
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
    population_arg(p)
    opening_args(p)


@command("scenario", "scénario : effet d'un changement d'offre sur l'accès, commune par commune",
         _scenario_args)
def _run_scenario(args: argparse.Namespace) -> int:
    import math

    from analysis.indicators import access, populations, territories
    from analysis.present.export import write_table
    from analysis.transition import scenarios
    from analysis.transition.comparison import compare_scenario

    scenario = scenarios.read_scenario(args.scenario)
    mention = mention_arg(args.mention)
    forme = forme_arg(args.forme)
    forme = None if forme == nomenclature.ALL_FORMES else forme
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
    ages = population_ages_arg(args.population_ages)
    snap, region, communes = open_for_analysis(args)
    rule = opening_rule(args, snap.date)
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
    print_context(args, snap.tables, rule, [mention], forme)
    print(f"Comparaison écrite : {args.out}")
    return EXIT_OK


# ------------------------------------------------------------------------ report


def _report_args(p: argparse.ArgumentParser) -> None:
    snapshot_args(p, out_help="fichier du rapport : .xlsx (classeur) ou .html (page autonome)",
                   csv=False)
    population_arg(p)
    opening_args(p)


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


# -------------------------------------------------------------------------- oqos


def _oqos_args(p: argparse.ArgumentParser) -> None:
    snapshot_args(p)
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
    opening_args(p)


@command("oqos", "objectifs quantifiés (OQOS) : implantations autorisées, décrites et demandées "
         "par zone × mention × forme, face aux bornes", _oqos_args)
def _run_oqos(args: argparse.Namespace) -> int:
    from analysis.geo import geography as geo
    from analysis.io import oqos_files, store
    from analysis.present import export
    from analysis.transition import oqos

    check_table_suffix(args.out)
    snap = store.read_snapshot(args.store, args.snapshot)
    region = store.manifest_region(snap.manifest, args.region)
    inputs = oqos_files.inputs_for(region, args.store, args.cibles, args.zonage, args.demandes)
    rule = opening_rule(args, snap.date)
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
    print_context(args, snap.tables, rule)
    print(f"Objectifs écrits : {args.out}")
    return EXIT_OK
