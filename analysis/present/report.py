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
(``smr sync``). ``tests/test_report.py`` runs those commands and checks the report against
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
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

from analysis.checks.campaign import checklist
from analysis.checks.campaign.history import (
    campaign_start,
    evaluate_snapshot,
    progress_history,
)
from analysis.geo import geography
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
    region = str(region or (snap.manifest.get("extra") or {}).get("region") or geography.DEFAULT_REGION)
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


def _fr_num(value: float | int | None, decimals: int = 0) -> str:
    """French number (``analysis.model.formats``): « 12 174 880 », « 41,9 »; « — » for None."""
    return formats.number(value, decimals)


def _lower_first(text: str) -> str:
    """« Absente de ViaTrajectoire » → « absente de ViaTrajectoire » (acronyms kept)."""
    return text[:1].lower() + text[1:]


def _pct(share: float | None, decimals: int = 1) -> str:
    """A 0–1 share as a French percentage (``analysis.model.formats``): « 83,8 % »."""
    return formats.percent(share, decimals)


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


def _inline(text: str) -> str:
    """Escaped text with the notes' inline markdown: **bold**, *italics*, `code`."""
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


def markdown_html(text: str) -> str:
    """The small markdown of method notes as HTML: paragraphs, « - » lists, inline marks."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if lines and all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(blocks)


def _table(frame: pl.DataFrame, headers: Mapping[str, str], css: str = "") -> str:
    """An HTML table of ``frame``'s ``headers`` columns (French headers), numbers right,
    every cell in the French formats of the pages (``analysis.model.formats``)."""
    cols = [c for c in headers if c in frame.columns]
    head = "".join(f"<th>{html.escape(headers[c])}</th>" for c in cols)
    shown = frame.select(cols)
    fmts = columns.specs(shown)
    labels = columns.code_formatters(shown)
    body = []
    for row in shown.iter_rows(named=True):
        cells = []
        for c in cols:
            v = row[c]
            num = isinstance(v, int | float) and not isinstance(v, bool)
            attr = ' class="n"' if num else ""
            text = labels[c].get(v, str(v)) if c in labels and v is not None else (
                formats.cell(v, fmts[c]))
            cells.append(f"<td{attr}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cls = f' class="{css}"' if css else ""
    return (
        f"<div class='scroll'><table{cls}><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _figure(svg: str, caption: str, prefix: str) -> str:
    """A chart with its caption; ``prefix`` keeps its SVG ids apart from the other charts'."""
    return (
        f'<figure class="chart">{charts.inline_svg(svg, prefix)}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _see(*ids: str) -> str:
    links = ", ".join(f'<a href="#note-{i}">{html.escape(methods.NOTES[i].label)}</a>' for i in ids)
    return f'<p class="see">Méthode : {links}.</p>'


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #1b1b1b; background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; background: white; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 2px solid
  #1f77b4; padding-bottom: 4px; } h3 { margin-bottom: 0.3em; }
.sub { color: #555; margin-top: 0; } .demo { background: #fff3cd; border: 1px solid #e0c36c;
  padding: 8px 12px; border-radius: 4px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px; }
.card .v { font-size: 1.6em; font-weight: 600; } .card .l { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 12px 0; font-size: 0.88em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: left; }
th { background: #f2f5f9; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 16px 0; overflow-x: auto; } figcaption { color: #555; font-size: 0.85em; }
.see { font-size: 0.85em; color: #555; } .note { border-left: 3px solid #9ecae1;
  padding-left: 12px; margin: 18px 0; } .note p, .note li { font-size: 0.92em; }
nav ol { columns: 2; } code { background: #f2f2f2; padding: 0 3px; }
.scroll { overflow-x: auto; } table.small { font-size: 0.8em; }
"""


def report_html(report: RegionalReport, generated: dt.date | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG charts, no script)."""
    generated = generated or dt.date.today()
    svgs = {k: charts.to_svg(c) for k, c in report_charts(report).items()}
    h, c, s = report.headline, report.campaign_overall, report.sync_overall
    t = formats.compact(report.threshold_min)
    title = f"Rapport régional SMR : {report.region_name}"
    cards = [
        (_fr_num(h["etablissements_smr"]), "établissements SMR"),
        (_fr_num(h["unites"]), "unités"),
        (_fr_num(h["lits"]), "lits"),
        (_fr_num(h["places"]), "places"),
        (
            _fr_num(report.provisional["etablissements"]),
            "établissements fermés temporairement"
            + (" (inclus)" if report.include_provisional else " (exclus des chiffres)"),
        ),
        (_pct(c["taux"]), "points de la campagne conformes"),
        (_pct(s["taux_synchronise"]), "unités synchronisées ROR ↔ ViaTrajectoire"),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)} ({report.date:%d/%m/%Y})</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">Instantané du {report.date:%d/%m/%Y} · région {report.region} · '
        f"produit le {generated:%d/%m/%Y} par SMR Workbench</p>",
    ]
    if report.demo:
        parts.append(
            '<p class="demo"><strong>Données fictives</strong> : magasin de démonstration '
            "généré sur la géographie réelle ; établissements, noms et contacts inventés.</p>"
        )
    parts.append(
        "<nav><ol><li><a href='#chiffres'>Chiffres clés</a></li>"
        "<li><a href='#couverture'>Couverture par département et mention</a></li>"
        "<li><a href='#accessibilite'>Accessibilité</a></li>"
        "<li><a href='#campagne'>Campagne de mise à jour</a></li>"
        "<li><a href='#synchronisation'>Synchronisation ROR ↔ ViaTrajectoire</a></li>"
        "<li><a href='#methodes'>Méthodes et paramètres</a></li></ol></nav>"
    )
    # 1. headline figures
    parts.append("<section id='chiffres'><h2>1. Chiffres clés</h2><div class='cards'>")
    parts += [
        f"<div class='card'><div class='v'>{v}</div><div class='l'>{lbl}</div></div>"
        for v, lbl in cards
    ]
    parts.append("</div>")
    if h["rejetes"] or h["avertissements"]:
        parts.append(
            f"<p>{_fr_num(h['rejetes'])} ligne(s) rejetée(s) à l'import, "
            f"{_fr_num(h['avertissements'])} avertissement(s) de validation.</p>"
        )
    parts.append(_figure(svgs["capacites"], "Lits et places installés, par mention.", "capacites"))
    parts.append(
        _table(
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
        )
    )
    parts.append(
        _see(
            "etablissements_smr",
            "unites",
            "lits",
            "places",
            "capacite_par_mention",
            "lignes_rejetees",
            "avertissements",
        )
    )
    parts.append("</section>")
    # 2. coverage
    parts.append("<section id='couverture'><h2>2. Couverture par département et mention</h2>")
    parts.append(
        _figure(
            svgs["couverture"],
            "Lits + places pour 100 000 habitants, toutes formes de prise en charge ; "
            f"population : {report.population_vintage}.",
            "couverture",
        )
    )
    wide = coverage_wide(report)
    parts.append(
        _table(
            wide,
            {
                "territoire": "Code",
                "nom": "Territoire",
                **{m.court: m.court for m in nomenclature.MENTIONS},
            },
            "small",
        )
    )
    parts.append(
        f"<p>{html.escape(report.opening_rule.describe())} "
        f"{html.escape(report.provisional_sentence)} Population : "
        f"{html.escape(report.population_vintage)}.</p>"
    )
    parts.append(_see("taux_100k", "capacite", "etablissements", "fermes_temporairement"))
    parts.append("</section>")
    # 3. accessibility
    parts.append(
        f"<section id='accessibilite'><h2>3. Accessibilité</h2>"
        f"<p>Population à {t} minutes ou moins de l'établissement le plus proche "
        "offrant la mention, et accessibilité potentielle E2SFCA de l'habitant "
        "médian.</p>"
    )
    parts.append(
        _figure(
            svgs["accessibilite"],
            f"Part de la population régionale à {t} minutes ou moins (temps estimé).",
            "accessibilite",
        )
    )
    parts.append(
        _table(
            report.access.with_columns(
                pl.col("mention").replace_strict(
                    {m.code: m.court for m in nomenclature.MENTIONS}, default=pl.col("mention")
                ).alias("court")
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
        )
    )
    parts.append(_see("part_seuil", "temps_plus_proche", "acces_e2sfca", "mediane_e2sfca"))
    parts.append("</section>")
    # 4. campaign
    start = f"{report.campaign_start:%d/%m/%Y}" if report.campaign_start else "non renseigné"
    parts.append(
        "<section id='campagne'><h2>4. Campagne de mise à jour ROR / ViaTrajectoire</h2>"
        f"<p>Début de la campagne : {start}. Points conformes : {_pct(c['taux'])} "
        f"({_fr_num(c['conformes'])} sur {_fr_num(c['total'])}) ; "
        f"{_fr_num(c['reste'])} points à traiter ; établissements à jour : "
        f"{_fr_num(c['etablissements_complets'])} sur {_fr_num(c['etablissements'])}.</p>"
    )
    parts.append(
        _figure(svgs["avancement"], "Part des points conformes à chaque instantané.", "avancement")
    )
    parts.append(
        _figure(
            svgs["campagne"], f"Taux par point de contrôle au {report.date:%d/%m/%Y}.", "campagne"
        )
    )
    parts.append(
        _table(
            report.campaign_rules,
            {
                "libelle": "Point de contrôle",
                "niveau": "Niveau",
                "conformes": "Conformes",
                "reste": "À traiter",
                "total": "Entités",
                "taux": "Taux",
            },
        )
    )
    parts.append(
        _see(
            "campagne_taux_conformes",
            "campagne_points_a_traiter",
            "campagne_etablissements_a_jour",
            "campagne_taux_regle",
        )
    )
    parts.append("</section>")
    # 5. sync
    parts.append(
        "<section id='synchronisation'><h2>5. Synchronisation ROR ↔ ViaTrajectoire</h2>"
        f"<p>Taux de synchronisation : {_pct(s['taux_synchronise'])} de "
        f"{_fr_num(s['total'])} unités ; "
        + " ; ".join(
            f"{_lower_first(sync.STATUS_LABELS[k])} : {_fr_num(s[k])}" for k in sync.STATUSES
        )
        + ".</p>"
    )
    parts.append(
        _figure(svgs["synchronisation"], "Unités par statut et par département.", "synchronisation")
    )
    parts.append(
        _table(
            report.sync_counts,
            {
                "departement": "Département",
                **sync.STATUS_SHORT_LABELS,
                "total": "Unités",
                "taux_synchronise": "Taux de synchronisation",
            },
        )
    )
    parts.append(_see("sync_taux_synchronise", "sync_statuts"))
    parts.append("</section>")
    # 6. methods
    parts.append("<section id='methodes'><h2>6. Méthodes et paramètres</h2>")
    parts.append(_table(parameters(report), {"parametre": "Paramètre", "valeur": "Valeur"}))
    for i in report.notes:
        n = methods.NOTES[i]
        parts.append(
            f"<div class='note' id='note-{i}'><h3>{html.escape(n.label)}</h3>"
            f"<p><em>Unité : {html.escape(n.unit)}</em></p>{markdown_html(n.note)}</div>"
        )
    parts.append("</section></main></body></html>")
    return "\n".join(parts)


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
