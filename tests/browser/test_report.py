"""The regional report's HTML page in a real browser, opened from disk (``file://``) without
the app and without network: every chart is an inline SVG that the browser draws."""

from __future__ import annotations

import re

import pytest

from analysis.present import report
from tests.browser.conftest import SHOTS

pytestmark = pytest.mark.browser


def test_report_html_draws_its_charts(browser, demo_store, tmp_path):
    built = report.build_report(demo_store)
    path = report.write_report(built, tmp_path / "rapport.html")
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, offline=True)
    page = context.new_page()
    try:
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("figure.chart svg")
        page.get_by_text("Rapport régional SMR").first.wait_for()
        charts = page.evaluate(
            """() => [...document.querySelectorAll('figure.chart > svg')].map(svg => {
                const box = svg.getBoundingClientRect();
                const marks = svg.querySelectorAll('.mark-rect path, .mark-line path, '
                    + '.mark-symbol path, .mark-rect, .role-mark path');
                const drawn = [...svg.querySelectorAll('path')].filter(p => {
                    const b = p.getBBox(); return b.width > 0 && b.height > 0; }).length;
                const texts = [...svg.querySelectorAll('text')].map(t => t.textContent);
                return {width: box.width, height: box.height, marks: marks.length, drawn,
                        texts};
            })"""
        )
        assert len(charts) == len(report.report_charts(built)) == 6
        for chart in charts:
            assert chart["width"] > 200 and chart["height"] > 100, chart
            assert chart["marks"] > 0 and chart["drawn"] > 5, chart
        titles = [t for c in charts for t in c["texts"]]
        assert "Capacités installées par mention" in titles
        assert "Taux par point de contrôle" in titles
        # French digit grouping inside the charts (« 1 000 », no-break space)
        assert any(re.fullmatch(r"\d[\u00a0\u202f]\d{3}", t) for t in titles), titles
        # method notes are reachable from each section
        page.locator("a[href='#note-mediane_e2sfca']").first.click()
        assert page.locator("#note-mediane_e2sfca").is_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / "rapport_regional.png"
        page.goto(path.resolve().as_uri())
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
    finally:
        context.close()


def test_home_page_downloads_the_report(page, app_url, demo_store, tmp_path):
    """The home page's buttons hand out the same report as ``smr report`` (built on click)."""
    from openpyxl import load_workbook

    from tests.browser.conftest import wait_ready

    page.goto(app_url)
    wait_ready(page)
    page.get_by_text("Rapport régional", exact=True).first.wait_for()
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Rapport (HTML)").click()
    html_path = tmp_path / info.value.suggested_filename
    info.value.save_as(html_path)
    text = html_path.read_text(encoding="utf-8")
    built = report.build_report(demo_store)
    assert html_path.name == f"rapport_smr_11_{built.date.isoformat()}.html"
    assert text.count("<svg") == 6 and f"Instantané du {built.date:%d/%m/%Y}" in text
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Rapport (Excel)").click()
    xlsx_path = tmp_path / info.value.suggested_filename
    info.value.save_as(xlsx_path)
    wb = load_workbook(xlsx_path, read_only=True)
    values = {r[0]: r[1] for r in wb["Synthèse"].iter_rows(min_row=2, values_only=True)}
    assert values["Lits"] == built.headline["lits"]
    wb.close()
