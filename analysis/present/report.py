"""Regional report: one snapshot's figures gathered for planners, as Excel or self-contained HTML.

Contents: headline figures and capacity by mention (as on the home page), coverage by
département and mention, accessibility per mention (population within 30 minutes of the
nearest establishment, E2SFCA median), campaign completion per checklist rule and its
progress, ROR ↔ ViaTrajectoire synchronisation status, then the method note of every
indicator and the parameters used.

Every figure comes from the function behind the corresponding command, called the same way:
``summary.headline`` and ``summary.capacity_by_mention`` (home page),
``coverage.capacity_by_territory`` (``smr coverage --level departement --forme toutes``),
``access.nearest_by_mention`` and ``access.accessibility`` (``smr access --method nearest``
and ``--method e2sfca``), ``progress`` (``smr campaign``) and ``sync.unit_status``
(``smr sync``). ``tests/present/test_report.py`` runs those commands and checks the report against
their files. The HTML page holds its charts as inline SVG (``analysis.present.charts``): it opens
without network.

Like the commands, the report counts only the offer open at the snapshot date
(:mod:`analysis.indicators.opening`: definitive closures out, provisional ones out unless
``include_provisional``; the establishments closed provisionally are a key figure of their
own), measures access from the arrondissements of Paris, Lyon and Marseille, and divides by
the populations in use (``population`` file, else the store's setting, else the reference),
whose vintage is printed with the parameters and under the coverage table.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import polars as pl
from markdown_it import MarkdownIt
from markupsafe import Markup

from analysis.checks.campaign import checklist
from analysis.checks.campaign.history import (
    campaign_start,
    evaluate_snapshot,
    progress_history,
)
from analysis.indicators import access, coverage, opening, populations, sync, territories
from analysis.io import store
from analysis.io.files import write_atomic
from analysis.model import formats, nomenclature
from analysis.model.errors import InputError, SnapshotMissingError
from analysis.model.progress import Progress, step
from analysis.present import charts, columns, export, methods, summary

#: Time threshold of the accessibility summary (minutes, bound inclusive).
THRESHOLD_MIN = 30.0
SUFFIXES = (".xlsx", ".html")

#: Indicators of the report, in the order of their method notes.
NOTE_IDS: tuple[str, ...] = (
    "etablissements_smr",
    "unites",
    "lits",
    "places",
    "fermes_temporairement",
    "lignes_rejetees",
    "avertissements",
    "capacite_par_mention",
    "etablissements",
    "capacite",
    "taux_100k",
    "part_seuil",
    "temps_plus_proche",
    "acces_e2sfca",
    "mediane_e2sfca",
    "campagne_taux_conformes",
    "campagne_points_a_traiter",
    "campagne_etablissements_a_jour",
    "campagne_taux_regle",
    "sync_taux_synchronise",
    "sync_statuts",
)

STATUS_COLORS = ("#2e7d32", "#9ccc65", "#e65100", "#c62828", "#6a1b9a")


@dataclass(frozen=True)
class RegionalReport:
    """Every table and figure of the report (Polars frames, French column names)."""

    store: str
    date: dt.date
    region: str
    region_name: str
    demo: bool
    headline: dict[str, int]
    capacity_by_mention: pl.DataFrame
    coverage: pl.DataFrame
    coverage_region: pl.DataFrame
    access: pl.DataFrame
    campaign_start: dt.date | None
    campaign_rules: pl.DataFrame
    campaign_history: pl.DataFrame
    campaign_overall: dict[str, Any]
    sync_counts: pl.DataFrame
    sync_overall: dict[str, Any]
    threshold_min: float = THRESHOLD_MIN
    model: access.TravelModel = field(default_factory=access.TravelModel)
    sync_time: dt.time = sync.DEFAULT_SYNC_TIME
    notes: tuple[str, ...] = NOTE_IDS
    population_vintage: str = ""
    include_provisional: bool = False
    provisional: dict[str, int] = field(
        default_factory=lambda: {
            "etablissements": 0, "unites": 0, "lits": 0, "places": 0, "capacite": 0
        }
    )

    @property
    def opening_rule(self) -> opening.OpeningRule:
        """The opening rule of the report's figures."""
        return opening.OpeningRule(self.date, self.include_provisional)

    @property
    def provisional_sentence(self) -> str:
        """« Fermés temporairement : … » (empty when there are none)."""
        return opening.provisional_sentence(self.provisional, self.opening_rule) or ""


# ------------------------------------------------------------------------ computation


def _access_by_mention(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    coverage_region: pl.DataFrame,
    threshold_min: float,
    model: access.TravelModel,
    rule: opening.OpeningRule | None = None,
) -> pl.DataFrame:
    """Per mention: region capacity, population within the threshold, E2SFCA median."""
    codes = [m.code for m in nomenclature.MENTIONS]
    t = access.threshold_name(threshold_min)
    nearest = access.nearest_by_mention(tables, communes, codes, None, model, opening=rule)
    within = access.population_within(nearest, communes, "region", [threshold_min]).select(
        "mention",
        "population",
        pl.col(f"population_{t}").alias("population_seuil"),
        pl.col(f"part_{t}").alias("part_seuil"),
        "population_sans_acces",
        "temps_moyen",
    )
    medians = []
    for code in codes:
        acc = access.accessibility(tables, communes, code, "e2sfca", model=model, opening=rule)
        med = access.weighted_median(acc["acces"].to_numpy(), acc["population"].to_numpy())
        medians.append({"mention": code, "mediane_e2sfca": med})
    cap = coverage_region.select("mention", "libelle", "etablissements", "capacite", "taux_100k")
    order = {c: i for i, c in enumerate(codes)}
    return (
        cap.join(within, on="mention", how="left")
        .join(
            pl.DataFrame(medians, schema={"mention": pl.String, "mediane_e2sfca": pl.Float64}),
            on="mention",
            how="left",
        )
        .with_columns(pl.col("mention").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
        .sort("_o")
        .drop("_o")
    )


def _campaign(
    store_path: Path, date: dt.date, sync_time: dt.time
) -> tuple[dt.date | None, pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Campaign start, per-rule completion at ``date``, overall history, overall counts.

    The start is the latest manifest's ``campagne_debut``, as ``smr campaign`` uses it.
    """
    dates = store.list_snapshots(store_path)
    start = campaign_start(store.read_manifest(store_path / dates[-1].isoformat()))
    params = checklist.CampaignParams(start=start, sync_time=sync_time)
    history = progress_history(
        store_path, params, dates=[d for d in dates if d <= date]
    )
    labels = checklist.rules_frame().select("regle", "niveau", "libelle", "ordre")
    rules = (
        history.filter(pl.col("date") == date)
        .join(labels, on="regle", how="left")
        .sort("ordre")
        .with_columns((pl.col("total") - pl.col("conformes")).alias("reste"))
        .select("regle", "niveau", "libelle", "conformes", "reste", "total", "taux")
    )
    counted = checklist.rules_frame().filter(pl.col("severite") == checklist.OBLIGATOIRE)
    overall_history = (
        history.filter(pl.col("regle").is_in(counted["regle"].implode()))  # advice not counted
        .group_by("date")
        .agg(pl.col("conformes").sum(), pl.col("total").sum())
        .with_columns((pl.col("conformes") / pl.col("total")).alias("taux"))
        .sort("date")
    )
    results = evaluate_snapshot(store_path, date, params)
    overall = checklist.completion_overall(results)
    return start, rules, overall_history, overall


def build_report(
    store_path: str | Path,
    date: dt.date | None = None,
    region: str | None = None,
    *,
    threshold_min: float = THRESHOLD_MIN,
    sync_time: dt.time = sync.DEFAULT_SYNC_TIME,
    population: str | Path | None = None,
    include_provisional: bool = False,
    progress: Progress | None = None,
) -> RegionalReport:
    """The report of one snapshot (the latest when ``date`` is None).

    ``region``: INSEE code (default: the manifest's, else 11). ``threshold_min``: minutes of
    the « population within » summary (default 30). ``sync_time``: daily ROR → VT sync hour.
    ``population``: an INSEE legal-populations file (default: the store's setting, else the
    reference). ``include_provisional``: count the establishments closed provisionally.
    Travel times use the default model (``access.TravelModel``), as the commands do.
    ``progress`` (``analysis.model.progress``) hears of each of the five parts computed.
    """
    store_path = Path(store_path)
    snap = store.read_snapshot(store_path, date)
    region = store.manifest_region(snap.manifest, region)
    setup = populations.setup_for(region, store_path, population)
    communes = setup.origins
    names = territories.region_names(region)
    rule = opening.OpeningRule(snap.date, include_provisional)
    tables = snap.tables
    open_ = opening.open_tables(tables, rule)
    model = access.TravelModel()
    parts = 5
    step(progress, 1, parts, "instantané lu")

    def by_territory(level: str) -> pl.DataFrame:
        return coverage.capacity_by_territory(
            tables,
            communes,
            level,
            forme=coverage.ALL_FORMES,
            departement_names=names.get("departement"),
            region_names=names.get("region"),
            opening=rule,
        )

    cov = by_territory("departement")
    cov_region = by_territory("region")
    step(progress, 2, parts, "couverture")
    start, rules, history, overall = _campaign(store_path, snap.date, sync_time)
    step(progress, 3, parts, "campagne")
    status = sync.unit_status(tables, snap.date, sync_time)
    counts = sync.status_counts(status, tables["etablissements"], by="departement")
    sync_overall = sync.status_counts(status, tables["etablissements"], by="ensemble").row(
        0, named=True
    )
    sync_overall.pop("ensemble", None)
    step(progress, 4, parts, "synchronisation")
    access_table = _access_by_mention(tables, communes, cov_region, threshold_min, model, rule)
    step(progress, 5, parts, "accessibilité")
    return RegionalReport(
        store=str(store_path),
        date=snap.date,
        region=region,
        region_name=next(iter(names.get("region", {}).values()), region),
        demo=bool((snap.manifest.get("extra") or {}).get("demo")),
        headline=summary.headline(open_, snap.manifest),
        capacity_by_mention=summary.capacity_by_mention(open_),
        coverage=cov,
        coverage_region=cov_region,
        access=access_table,
        campaign_start=start,
        campaign_rules=rules,
        campaign_history=history,
        campaign_overall=overall,
        sync_counts=counts,
        sync_overall=sync_overall,
        threshold_min=threshold_min,
        model=model,
        sync_time=sync_time,
        population_vintage=setup.millesime,
        include_provisional=include_provisional,
        provisional=opening.provisional_summary(opening.provisional_offers(tables, snap.date)),
    )


# ----------------------------------------------------------------------- key figures


def _lower_first(text: str) -> str:
    """« Absente de ViaTrajectoire » → « absente de ViaTrajectoire » (acronyms kept)."""
    return text[:1].lower() + text[1:]


def key_figures(report: RegionalReport) -> pl.DataFrame:
    """The headline figures as a table: ``indicateur``, ``nombre`` (counts), ``taux`` (0–1
    shares), ``unite``, ``note``; one of ``nombre`` and ``taux`` is filled on each row.

    Why: one sheet a reader can quote from, each value in its own format (« 5 358 »,
    « 83,8 % »).
    """
    h, c, s = report.headline, report.campaign_overall, report.sync_overall
    present = int((report.capacity_by_mention["etablissements"] > 0).sum())
    rows: list[tuple[str, float | None, str, str]] = [
        ("Établissements SMR", h["etablissements_smr"], "établissements", "etablissements_smr"),
        ("Unités", h["unites"], "unités", "unites"),
        ("Lits", h["lits"], "lits", "lits"),
        ("Places", h["places"], "places", "places"),
        (
            "Établissements fermés temporairement"
            + (" (inclus)" if report.include_provisional else " (exclus)"),
            report.provisional["etablissements"],
            f"établissements ({report.provisional['capacite']} lits et places)",
            "fermes_temporairement",
        ),
        ("Lignes rejetées à l'import", h["rejetes"], "lignes", "lignes_rejetees"),
        ("Avertissements de validation", h["avertissements"], "avertissements", "avertissements"),
        (
            "Mentions offertes",
            present,
            f"mentions sur {report.capacity_by_mention.height}",
            "capacite_par_mention",
        ),
        (
            "Points de la campagne conformes",
            c["taux"],
            "% des points",
            "campagne_taux_conformes",
        ),
        ("Points à traiter", c["reste"], "points", "campagne_points_a_traiter"),
        (
            "Établissements à jour",
            c["etablissements_complets"],
            f"établissements sur {c['etablissements']}",
            "campagne_etablissements_a_jour",
        ),
        (
            "Taux de synchronisation ROR ↔ ViaTrajectoire",
            s["taux_synchronise"],
            "% des unités",
            "sync_taux_synchronise",
        ),
        *(
            (f"Unités : {_lower_first(sync.STATUS_LABELS[k])}", s[k], "unités", "sync_statuts")
            for k in sync.STATUSES
        ),
    ]
    return pl.DataFrame(
        [
            {
                "indicateur": a,
                "nombre": None if u.startswith("%") or b is None else int(b),
                "taux": float(b) if u.startswith("%") and b is not None else None,
                "unite": u,
                "note": n,
            }
            for a, b, u, n in rows
        ],
        schema={
            "indicateur": pl.String,
            "nombre": pl.Int64,
            "taux": pl.Float64,
            "unite": pl.String,
            "note": pl.String,
        },
    )


def parameters(report: RegionalReport) -> pl.DataFrame:
    """The parameters behind the figures: ``parametre``, ``valeur``."""

    fr = formats.compact
    zones = " ; ".join(f"≤ {fr(b)} min : {fr(w)}" for b, w in access.DEFAULT_ZONES)
    rows = {
        "Instantané": formats.date(report.date),
        "Région": f"{report.region_name} ({report.region})",
        "Données fictives (démonstration)": "oui" if report.demo else "non",
        "Seuil de temps": f"{fr(report.threshold_min)} min (borne incluse)",
        "Vitesse moyenne": f"{fr(report.model.speed_kmh)} km/h",
        "Coefficient de détour": fr(report.model.detour_factor),
        "Poids E2SFCA (Luo et Qi 2009)": zones,
        "Forme de prise en charge": "toutes",
        "Populations": report.population_vintage,
        "Offre comptée": report.opening_rule.describe(),
        "Origines des temps d'accès": "communes ; arrondissements pour Paris, Lyon et Marseille",
        "Début de la campagne": (
            formats.date(report.campaign_start) if report.campaign_start else "non renseigné"
        ),
        "Heure de la synchronisation ROR → ViaTrajectoire": report.sync_time.strftime("%H:%M"),
    }
    return pl.DataFrame({"parametre": list(rows), "valeur": list(rows.values())})


def coverage_wide(report: RegionalReport) -> pl.DataFrame:
    """Beds + places per 100,000 inhabitants, one row per département, one column per
    mention (short label), plus the region's row."""
    labels = {m.code: m.court for m in nomenclature.MENTIONS}
    frame = pl.concat([report.coverage, report.coverage_region])
    return frame.pivot(on="mention", index=["territoire", "nom"], values="taux_100k").rename(
        labels, strict=False
    )


def notes_table(ids: Sequence[str] = NOTE_IDS) -> pl.DataFrame:
    """Method notes as a table: id, label, unit and one column per part (``methods.PARTS``)."""
    rows = []
    for i in ids:
        n = methods.NOTES[i]
        parts = n.parts
        rows.append(
            {
                "indicateur": n.id,
                "libelle": n.label,
                "unite": n.unit,
                **{p.lower(): parts.get(p, "") for p in methods.PARTS},
            }
        )
    return pl.DataFrame(rows)


# --------------------------------------------------------------------------- excel


def report_sheets(report: RegionalReport) -> dict[str, pl.DataFrame]:
    """The workbook's sheets, in order (French titles)."""
    mentions = report.capacity_by_mention.select(
        pl.col("mention").alias("code"), pl.exclude("libelle", "court")
    )
    return {
        "Synthèse": key_figures(report),
        "Capacités par mention": mentions,
        "Couverture": report.coverage.drop("niveau", "forme"),
        "Taux par département": coverage_wide(report),
        "Accessibilité": report.access,
        "Campagne": report.campaign_rules,
        "Avancement": report.campaign_history,
        "Synchronisation": report.sync_counts,
        "Méthodes": notes_table(report.notes),
        "Paramètres": parameters(report),
    }


def report_excel(report: RegionalReport) -> bytes:
    """The report as an Excel workbook (xlsx bytes); see ``report_sheets``."""
    return export.excel_bytes(report_sheets(report))


# ---------------------------------------------------------------------------- charts


def _values(frame: pl.DataFrame) -> alt.Data:
    """Rows as inline values (dates as ISO text), without pandas."""
    return alt.Data(values=frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d")).to_dicts())


def report_charts(report: RegionalReport) -> dict[str, alt.TopLevelMixin]:
    """The Altair charts of the HTML report, keyed by section."""
    order = [m.court for m in nomenclature.MENTIONS]
    cap = report.capacity_by_mention.unpivot(
        index=["mention", "court"], on=["lits", "places"], variable_name="type", value_name="nombre"
    )
    capacity = (
        alt.Chart(_values(cap))
        .mark_bar()
        .encode(
            y=alt.Y("court:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("nombre:Q", title="Lits et places", stack=True),
            color=alt.Color(
                "type:N",
                title="Capacité",
                scale=alt.Scale(domain=["lits", "places"], range=["#1f77b4", "#9ecae1"]),
            ),
        )
        .properties(width=480, height=300, title="Capacités installées par mention")
    )
    cov = report.coverage.join(
        pl.DataFrame({"mention": [m.code for m in nomenclature.MENTIONS], "court": order}),
        on="mention",
    ).select("nom", "court", "taux_100k")
    base = alt.Chart(_values(cov)).encode(
        x=alt.X("court:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40, labelLimit=170)),
        y=alt.Y("nom:N", title=None),
    )
    heatmap = (
        base.mark_rect().encode(
            color=alt.Color(
                "taux_100k:Q",
                title="Lits et places pour 100 000 hab.",
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(orient="bottom", gradientLength=300, titleLimit=400),
            )
        )
        + base.mark_text(fontSize=10).encode(
            text=alt.Text("taux_100k:Q", format=",.0f"),
            color=alt.value("#222222"),
        )
    ).properties(
        width=620,
        height=34 * max(1, report.coverage["territoire"].n_unique()),
        title="Lits et places pour 100 000 habitants, par département et mention",
    )
    acc = report.access.join(
        pl.DataFrame({"mention": [m.code for m in nomenclature.MENTIONS], "court": order}),
        on="mention",
    ).select("court", "part_seuil")
    t = f"{report.threshold_min:g}"
    reach = (
        alt.Chart(_values(acc))
        .mark_bar(color="#3182bd")
        .encode(
            y=alt.Y("court:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X(
                "part_seuil:Q",
                title=f"Population à {t} min ou moins (%)",
                scale=alt.Scale(domain=[0, 100]),
            ),
        )
        .properties(
            width=480,
            height=300,
            title=f"Part de la population à {t} minutes ou moins de l'établissement le plus proche",
        )
    )
    hist = report.campaign_history.with_columns((pl.col("taux") * 100).alias("pourcentage"))
    progress = (
        alt.Chart(_values(hist))
        .mark_line(point=True, color="#2e7d32")
        .encode(
            x=alt.X("date:T", title="Instantané", axis=alt.Axis(format="%d/%m")),
            y=alt.Y(
                "pourcentage:Q", title="Points conformes (%)", scale=alt.Scale(domain=[0, 100])
            ),
        )
        .properties(width=480, height=220, title="Avancement de la campagne (tous les points)")
    )
    rules = report.campaign_rules.with_columns((pl.col("taux") * 100).alias("pourcentage"))
    by_rule = (
        alt.Chart(_values(rules))
        .mark_bar(color="#66bb6a")
        .encode(
            y=alt.Y(
                "libelle:N",
                sort=rules["libelle"].to_list(),
                title=None,
                axis=alt.Axis(labelLimit=300),
            ),
            x=alt.X(
                "pourcentage:Q", title="Entités conformes (%)", scale=alt.Scale(domain=[0, 100])
            ),
        )
        .properties(width=420, height=22 * max(1, rules.height), title="Taux par point de contrôle")
    )
    long = report.sync_counts.unpivot(
        index="departement", on=list(sync.STATUSES), variable_name="statut", value_name="unites"
    ).with_columns(
        pl.col("statut").replace_strict(sync.STATUS_LABELS).alias("libelle"),
        pl.col("statut")
        .replace_strict({s: i for i, s in enumerate(sync.STATUSES)}, return_dtype=pl.Int32)
        .alias("ordre"),
    )
    status = (
        alt.Chart(_values(long))
        .mark_bar()
        .encode(
            y=alt.Y("departement:N", title="Département"),
            x=alt.X("unites:Q", title="Unités", stack=True),
            color=alt.Color(
                "libelle:N",
                title="Statut",
                scale=alt.Scale(
                    domain=[sync.STATUS_LABELS[s] for s in sync.STATUSES],
                    range=list(STATUS_COLORS),
                ),
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=300),
            ),
            order=alt.Order("ordre:Q"),
        )
        .properties(
            width=480,
            height=30 * max(1, report.sync_counts.height),
            title="Statut de synchronisation des unités par département",
        )
    )
    return {
        "capacites": capacity,
        "couverture": heatmap,
        "accessibilite": reach,
        "avancement": progress,
        "campagne": by_rule,
        "synchronisation": status,
    }


# ----------------------------------------------------------------------------- html


#: CommonMark, as Streamlit renders the notes on the pages; raw HTML in a note is escaped.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


def markdown_html(text: str) -> str:
    """A method note's Markdown as HTML (paragraphs, lists, **bold**, *italics*, `code`)."""
    return _MARKDOWN.render(text).strip()


def _table(frame: pl.DataFrame, headers: Mapping[str, str], css: str = "") -> dict[str, Any]:
    """A table for the template: ``frame``'s ``headers`` columns (French headers) and each
    cell as (text, is a number), in the French formats of the pages
    (``analysis.model.formats``)."""
    cols = [c for c in headers if c in frame.columns]
    shown = frame.select(cols)
    fmts = columns.specs(shown)
    labels = columns.code_formatters(shown)
    rows = []
    for row in shown.iter_rows(named=True):
        cells = []
        for c in cols:
            v = row[c]
            num = isinstance(v, int | float) and not isinstance(v, bool)
            text = labels[c].get(v, str(v)) if c in labels and v is not None else (
                formats.cell(v, fmts[c]))
            cells.append((text, num))
        rows.append(cells)
    return {"headers": [headers[c] for c in cols], "rows": rows, "css": css}


@functools.cache
def _templates() -> jinja2.Environment:
    """The report's templates (``analysis/present/templates/``), every value escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analysis.present", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["number"] = formats.number
    env.filters["percent"] = formats.percent
    return env


def report_html(report: RegionalReport, generated: dt.date | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG charts, no script),
    drawn by the template ``templates/report.html``."""
    generated = generated or dt.date.today()
    svgs = {
        k: Markup(charts.inline_svg(charts.to_svg(c), k))
        for k, c in report_charts(report).items()
    }
    h = report.headline
    t = formats.compact(report.threshold_min)
    cards = [
        (formats.number(h["etablissements_smr"]), "établissements SMR"),
        (formats.number(h["unites"]), "unités"),
        (formats.number(h["lits"]), "lits"),
        (formats.number(h["places"]), "places"),
        (
            formats.number(report.provisional["etablissements"]),
            "établissements fermés temporairement"
            + (" (inclus)" if report.include_provisional else " (exclus des chiffres)"),
        ),
        (formats.percent(report.campaign_overall["taux"]), "points de la campagne conformes"),
        (
            formats.percent(report.sync_overall["taux_synchronise"]),
            "unités synchronisées ROR ↔ ViaTrajectoire",
        ),
    ]
    mention_names = {m.code: m.court for m in nomenclature.MENTIONS}
    tables = {
        "capacites": _table(
            report.capacity_by_mention.select(
                pl.col("mention").alias("code"), pl.exclude("mention", "libelle")
            ),
            {
                "code": "Code",
                "court": "Mention",
                "etablissements": "Établissements",
                "unites": "Unités",
                "lits": "Lits",
                "places": "Places",
            },
        ),
        "couverture": _table(
            coverage_wide(report),
            {
                "territoire": "Code",
                "nom": "Territoire",
                **{m.court: m.court for m in nomenclature.MENTIONS},
            },
            "small",
        ),
        "accessibilite": _table(
            report.access.with_columns(
                pl.col("mention").replace_strict(mention_names, default=pl.col("mention"))
                .alias("court")
            ),
            {
                "court": "Mention",
                "etablissements": "Établissements",
                "capacite": "Lits + places",
                "taux_100k": "Pour 100 000 hab.",
                "population_seuil": f"Population ≤ {t} min",
                "part_seuil": f"Part ≤ {t} min",
                "temps_moyen": "Temps moyen (min)",
                "mediane_e2sfca": "Médiane E2SFCA (pour 100 000 hab.)",
            },
        ),
        "campagne": _table(
            report.campaign_rules,
            {
                "libelle": "Point de contrôle",
                "niveau": "Niveau",
                "conformes": "Conformes",
                "reste": "À traiter",
                "total": "Entités",
                "taux": "Taux",
            },
        ),
        "synchronisation": _table(
            report.sync_counts,
            {
                "departement": "Département",
                **sync.STATUS_SHORT_LABELS,
                "total": "Unités",
                "taux_synchronise": "Taux de synchronisation",
            },
        ),
        "parametres": _table(parameters(report), {"parametre": "Paramètre", "valeur": "Valeur"}),
    }
    notes = [
        {
            "id": i,
            "label": methods.NOTES[i].label,
            "unit": methods.NOTES[i].unit,
            "html": Markup(markdown_html(methods.NOTES[i].note)),
        }
        for i in report.notes
    ]
    return _templates().get_template("report.html").render(
        title=f"Rapport régional SMR : {report.region_name}",
        date=f"{report.date:%d/%m/%Y}",
        region=report.region,
        generated=f"{generated:%d/%m/%Y}",
        demo=report.demo,
        cards=cards,
        headline=h,
        charts=svgs,
        tables=tables,
        note_labels={i: n.label for i, n in methods.NOTES.items()},
        population_vintage=report.population_vintage,
        opening_rule=report.opening_rule.describe(),
        provisional_sentence=report.provisional_sentence,
        threshold=t,
        campaign_start=(
            f"{report.campaign_start:%d/%m/%Y}" if report.campaign_start else "non renseigné"
        ),
        campaign=report.campaign_overall,
        sync=report.sync_overall,
        sync_statuses=[(_lower_first(sync.STATUS_LABELS[k]), k) for k in sync.STATUSES],
        notes=notes,
    )


# ----------------------------------------------------------------------------- files


def write_report(
    report: RegionalReport, path: str | Path, generated: dt.date | None = None
) -> Path:
    """Write the report to ``path`` (.xlsx or .html, by extension), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"format non pris en charge « {suffix or '(aucune extension)'} » pour le rapport ; "
            f"extensions possibles : {', '.join(SUFFIXES)}",
            path,
        )
    if not path.parent.exists():
        raise InputError("le dossier de sortie n'existe pas", path.parent)
    data = (
        report_excel(report)
        if suffix == ".xlsx"
        else report_html(report, generated).encode("utf-8")
    )
    return write_atomic(path, data)


def check_store(store_path: str | Path) -> None:
    """A clear French error when ``store_path`` holds no snapshot."""
    if not store.list_snapshots(store_path):
        raise SnapshotMissingError(store_path)
