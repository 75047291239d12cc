"""The regional report: its figures equal those of the commands (``smr coverage``, ``smr
access``, ``smr campaign``, ``smr sync``) recomputed independently from their files; the
Excel workbook opens with openpyxl; the HTML page is self-contained; bad input is refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import polars as pl
import pytest
from openpyxl import load_workbook
from polars.testing import assert_frame_equal

from analysis import cli
from analysis.geo import geography
from analysis.indicators import sync
from analysis.io import store
from analysis.model import nomenclature
from analysis.present import methods, report

pytestmark = pytest.mark.slow  # runs the commands and builds the report on the demo store

CODES = [m.code for m in nomenclature.MENTIONS]
DATE = dt.date(2023, 6, 15)  # not the latest: the report follows --snapshot


@pytest.fixture(scope="module")
def built(demo_store) -> report.RegionalReport:
    return report.build_report(demo_store, DATE)


def _run(*args: str) -> None:
    assert cli.main(list(args)) == 0


def _weighted_median(values: list[float], weights: list[float]) -> float:
    """Plain re-implementation: smallest value whose cumulative weight reaches half."""
    pairs = sorted((v, w) for v, w in zip(values, weights, strict=True) if w > 0)
    half = sum(w for _, w in pairs) / 2
    running = 0.0
    for v, w in pairs:
        running += w
        if running >= half:
            return v
    raise AssertionError("no weight")


def test_coverage_equals_smr_coverage(demo_store, built, tmp_path):
    out = tmp_path / "couverture.parquet"
    _run(
        "coverage",
        "--store",
        str(demo_store),
        "--snapshot",
        DATE.isoformat(),
        "--level",
        "departement",
        "--forme",
        "toutes",
        "--out",
        str(out),
    )
    written = pl.read_parquet(out)
    # the command's file says which populations its rates divide by; the report prints it
    # in its parameters
    assert written["millesime_population"].unique().to_list() == [built.population_vintage]
    assert_frame_equal(built.coverage, written.drop("millesime_population"))
    assert built.coverage.height == 8 * len(CODES)


def test_accessibility_equals_smr_access(demo_store, built, tmp_path):
    # origins: communes, and the 20 arrondissements of Paris instead of Paris as one point
    pop = dict(geography.load_origins("11").select("commune_insee", "population").iter_rows())
    rows = {r["mention"]: r for r in built.access.iter_rows(named=True)}
    assert list(rows) == CODES
    for code in CODES:
        near = tmp_path / f"near_{code}.parquet"
        e2 = tmp_path / f"e2_{code}.parquet"
        _run(
            "access",
            "--store",
            str(demo_store),
            "--snapshot",
            DATE.isoformat(),
            "--mention",
            code,
            "--method",
            "nearest",
            "--out",
            str(near),
        )
        _run(
            "access",
            "--store",
            str(demo_store),
            "--snapshot",
            DATE.isoformat(),
            "--mention",
            code,
            "--method",
            "e2sfca",
            "--out",
            str(e2),
        )
        nearest = pl.read_parquet(near)
        total = sum(pop[c] for c in nearest["commune_insee"])
        within = sum(
            pop[c]
            for c, m in zip(nearest["commune_insee"], nearest["minutes"], strict=True)
            if m is not None and m <= 30.0
        )
        assert rows[code]["population"] == total
        assert rows[code]["population_seuil"] == within
        assert rows[code]["part_seuil"] == pytest.approx(within / total * 100, rel=1e-12)
        acc = pl.read_parquet(e2)
        median = _weighted_median(acc["acces"].to_list(), acc["population"].to_list())
        assert rows[code]["mediane_e2sfca"] == pytest.approx(median, rel=1e-12, abs=1e-12)


def test_campaign_equals_smr_campaign(demo_store, built, tmp_path):
    out = tmp_path / "campagne.parquet"
    _run("campaign", "--store", str(demo_store), "--out", str(out))
    history = pl.read_parquet(out)
    at_date = history.filter(pl.col("date") == DATE).drop("date", "severite")
    assert_frame_equal(built.campaign_rules.select(at_date.columns), at_date)
    # conseillé points are advice: shown per rule, not in the overall figures
    history = history.filter(pl.col("severite") == "obligatoire")
    at_date = history.filter(pl.col("date") == DATE)
    # overall history: one point per snapshot up to the report's date, Σ ok ÷ Σ items
    dates = [d for d in store.list_snapshots(demo_store) if d <= DATE]
    assert built.campaign_history["date"].to_list() == dates
    for row in built.campaign_history.iter_rows(named=True):
        day = history.filter(pl.col("date") == row["date"])
        assert row["conformes"] == day["conformes"].sum()
        assert row["taux"] == pytest.approx(day["conformes"].sum() / day["total"].sum())
    c = built.campaign_overall
    assert c["conformes"] == at_date["conformes"].sum()
    assert c["total"] == at_date["total"].sum()


def test_sync_equals_smr_sync(demo_store, built, tmp_path):
    out = tmp_path / "synchro.parquet"
    _run("sync", "--store", str(demo_store), "--snapshot", DATE.isoformat(), "--out", str(out))
    units = pl.read_parquet(out)
    counted = {s: 0 for s in sync.STATUSES}
    by_dep: dict[tuple[str, str], int] = {}
    for status, dep in zip(units["statut"], units["departement"], strict=True):
        counted[status] += 1
        by_dep[(dep, status)] = by_dep.get((dep, status), 0) + 1
    for s in sync.STATUSES:
        assert built.sync_overall[s] == counted[s]
    assert built.sync_overall["total"] == units.height
    for row in built.sync_counts.iter_rows(named=True):
        for s in sync.STATUSES:
            assert row[s] == by_dep.get((row["departement"], s), 0)
    good = counted[sync.SYNCHRONISE] + counted[sync.EN_ATTENTE]
    assert built.sync_overall["taux_synchronise"] == pytest.approx(good / units.height)


def test_headline_figures_recounted(demo_store, built):
    # recounted on the open offer: every establishment or unit with a closure dated on or
    # before the snapshot is out by default (DEF or PRO, in the ROR or in FINESS)
    snap = store.read_snapshot(demo_store, DATE)
    t = snap.tables

    def closed(frame, key):
        return set(
            frame.filter(pl.col("date_fermeture").is_not_null() & (pl.col("date_fermeture") <= DATE))[
                key
            ].to_list()
        )

    gone = closed(t["etablissements"], "finess_eg") | closed(t["finess_etablissements"], "finess_eg")
    assert gone, "the demo closes establishments before this snapshot"
    units = t["unites"].filter(
        ~pl.col("finess_eg").is_in(list(gone))
        & ~pl.col("uo_id").is_in(list(closed(t["unites"], "uo_id")))
    )
    offres = t["offres"].filter(pl.col("uo_id").is_in(units["uo_id"].to_list()))
    assert built.date == DATE and built.region == "11" and built.demo
    assert built.headline["lits"] == int(offres["lits"].fill_null(0).sum())
    assert built.headline["places"] == int(offres["places"].fill_null(0).sum())
    assert built.headline["unites"] == units.height
    joined = offres.join(units, on="uo_id")
    assert built.headline["etablissements_smr"] == joined["finess_eg"].n_unique()


def test_excel_opens_with_the_same_figures(built, tmp_path):
    path = report.write_report(built, tmp_path / "rapport.xlsx")
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == list(report.report_sheets(built))
    synth = list(wb["Synthèse"].iter_rows(values_only=True))
    assert synth[0] == ("Indicateur", "Nombre", "Taux", "Unite", "Note")
    counts = {r[0]: r[1] for r in synth[1:]}
    rates = {r[0]: r[2] for r in synth[1:]}
    assert counts["Lits"] == built.headline["lits"]
    assert counts["Points à traiter"] == built.campaign_overall["reste"]
    assert rates["Taux de synchronisation ROR ↔ ViaTrajectoire"] == pytest.approx(
        built.sync_overall["taux_synchronise"]
    )
    acc = list(wb["Accessibilité"].iter_rows(values_only=True))
    header = acc[0]
    first = dict(zip(header, acc[1], strict=True))
    assert first["Mention"] == "Polyvalent"  # the short label, as on the pages
    # a 0–100 share is written as a fraction with a percent format
    assert first["Part dans le seuil"] == pytest.approx(built.access["part_seuil"][0] / 100)

    notes = list(wb["Méthodes"].iter_rows(values_only=True))
    assert [r[0] for r in notes[1:]] == list(report.NOTE_IDS)
    assert notes[0][3:] == tuple(p.lower().capitalize() for p in methods.PARTS)
    assert all(all(cell for cell in r) for r in notes[1:])  # every part filled
    wb.close()
    ws = load_workbook(path)["Accessibilité"]
    column = [c.value for c in ws[1]].index("Part dans le seuil")
    assert ws[2][column].number_format == "0.0%"


def test_html_is_self_contained_with_charts_and_notes(built, tmp_path):
    path = report.write_report(built, tmp_path / "rapport.html", generated=dt.date(2024, 1, 2))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("<svg") == len(report.report_charts(built)) == 6
    assert "<script" not in text
    assert not re.search(r"(src|href)=[\"']https?://", text)  # nothing fetched from a network
    # ids of the inline charts are unique, so each url(#…) finds its own clip path
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    for ref in set(re.findall(r"url\(#([^)]+)\)", text)):
        assert ref in ids
    assert "Instantané du 15/06/2023" in text and "produit le 02/01/2024" in text
    assert "Données fictives" in text
    for i in report.NOTE_IDS:
        assert f"id='note-{i}'" in text and f'href="#note-{i}"' in text
    lits = f"{built.headline['lits']:,}".replace(",", "\u202f")
    assert lits in text


def test_html_escapes_every_value(built):
    """The template escapes what it is given (names come from files): a region name with
    markup is shown as text, in the title and the heading."""
    odd = dataclasses.replace(built, region_name="<b>R&D</b> d'Oc")
    text = report.report_html(odd)
    assert "<b>R&D</b>" not in text
    assert "<h1>Rapport régional SMR : &lt;b&gt;R&amp;D&lt;/b&gt; d&#39;Oc</h1>" in text
    assert "<title>Rapport régional SMR : &lt;b&gt;R&amp;D&lt;/b&gt; d&#39;Oc (" in text


def test_markdown_of_notes():
    html = report.markdown_html("**Formule** : *a* ÷ `b` < c\n\n- un\n- deux")
    assert html == (  # CommonMark (markdown-it-py): one list item a line
        "<p><strong>Formule</strong> : <em>a</em> ÷ <code>b</code> &lt; c</p>\n"
        "<ul>\n<li>un</li>\n<li>deux</li>\n</ul>"
    )
    # raw HTML in a note is shown as text, never passed through
    assert report.markdown_html("a <script>x</script> & b") == (
        "<p>a &lt;script&gt;x&lt;/script&gt; &amp; b</p>"
    )


def test_cli_report_writes_both_formats_and_refuses_bad_input(demo_store, tmp_path, capsys):
    for name in ("r.xlsx", "r.html"):
        assert cli.main(["report", "--store", str(demo_store), "--out", str(tmp_path / name)]) == 0
        assert (tmp_path / name).stat().st_size > 10_000
    latest = store.latest_snapshot(demo_store)
    assert f"instantané du {latest.isoformat()}" in capsys.readouterr().out
    assert cli.main(["report", "--store", str(demo_store), "--out", str(tmp_path / "r.pdf")]) == 2
    assert "extensions possibles : .xlsx, .html" in capsys.readouterr().err
    missing = tmp_path / "absent" / "r.html"
    assert cli.main(["report", "--store", str(demo_store), "--out", str(missing)]) == 2
    empty = tmp_path / "vide"
    empty.mkdir()
    assert cli.main(["report", "--store", str(empty), "--out", str(tmp_path / "x.html")]) == 3
    assert (
        cli.main(
            [
                "report",
                "--store",
                str(demo_store),
                "--snapshot",
                "2023-06-16",
                "--out",
                str(tmp_path / "x.html"),
            ]
        )
        == 3
    )
    assert not (tmp_path / "x.html").exists()


def test_inline_svg_prefixes_ids():
    from analysis.present import charts

    svg = '<?xml version="1.0"?><svg><clipPath id="clip1"/><g clip-path="url(#clip1)"/></svg>'
    out = charts.inline_svg(svg, "z")
    assert out == '<svg><clipPath id="z-clip0"/><g clip-path="url(#z-clip0)"/></svg>'


def test_inline_svg_numbers_ids_afresh():
    """The renderer numbers clip paths on through a process (clip7, clip8 in a later chart):
    the page gets the same ids whatever was drawn before."""
    from analysis.present import charts

    later = (
        '<svg><clipPath id="clip7"/><clipPath id="clip8"/><g clip-path="url(#clip8)"/>'
        '<g clip-path="url(#clip7)"/><use href="#clip8"/><rect id="fond"/></svg>'
    )
    assert charts.inline_svg(later, "a") == (
        '<svg><clipPath id="a-clip0"/><clipPath id="a-clip1"/><g clip-path="url(#a-clip1)"/>'
        '<g clip-path="url(#a-clip0)"/><use href="#a-clip1"/><rect id="a-fond"/></svg>'
    )
    first = later.replace("clip7", "clip1").replace("clip8", "clip2")
    assert charts.inline_svg(first, "a") == charts.inline_svg(later, "a")


def test_report_of_a_store_without_campaign_start(demo_store, tmp_path):
    """A real store has no demo extras: no campaign start (verified rules skipped), region
    from the argument."""
    snap = store.read_snapshot(demo_store, DATE)
    path = tmp_path / "magasin"
    store.write_snapshot(path, DATE, snap.tables)
    built = report.build_report(path, region="11")
    assert built.campaign_start is None and not built.demo
    assert "eg_verifie" not in built.campaign_rules["regle"].to_list()
    assert built.campaign_history.height == 1
    assert np.isclose(built.campaign_history["taux"][0], built.campaign_overall["taux"])
    html = report.report_html(built)
    assert "Début de la campagne : non renseigné" in html
    assert 'class="demo"' not in html
