"""Readable charts (``analysis.present.charts``): colour-blind-safe palette, y-ranges that show the
differences, small multiples with uncut labels, French formats.

The palette is checked by a second implementation: each colour is passed through Machado,
Oliveira and Fernandes' (2009) simulation of protanopia, deuteranopia and tritanopia
(severity 1) and colours must stay apart in CIELAB; the same check fails the palettes the
pages used before (Vega's tableau20, the red/green status colours).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re

import polars as pl
import pytest

from analysis.checks.campaign import checklist
from analysis.checks.campaign.history import PROGRESS_SCHEMA
from analysis.present import charts

# --- colour vision deficiency, a second implementation ------------------------------------

MACHADO_2009 = {
    "protanopie": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopie": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopie": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}
#: CIE76 distance under which two colours are taken as hard to tell apart (ΔE 15).
APART = 15.0


def _linear(hex_colour: str) -> list[float]:
    out = []
    for i in (1, 3, 5):
        c = int(hex_colour[i : i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return out


def _lab(rgb: list[float]) -> tuple[float, float, float]:
    r, g, b = (min(max(x, 0.0), 1.0) for x in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


def _closest_pair(palette: list[str]) -> float:
    """Smallest CIELAB distance between two colours of ``palette`` under any of the three
    simulated colour vision deficiencies."""
    worst = math.inf
    for matrix in MACHADO_2009.values():
        seen = [
            _lab([sum(matrix[i][j] * v[j] for j in range(3)) for i in range(3)])
            for v in map(_linear, palette)
        ]
        worst = min(worst, min(math.dist(a, b) for a, b in itertools.combinations(seen, 2)))
    return worst


def test_the_palette_stays_apart_for_colour_blind_readers():
    assert _closest_pair(list(charts.OKABE_ITO[:6])) > APART


def test_the_check_refuses_the_palettes_used_before():
    tableau20 = ["#4c78a8", "#9ecae9", "#f58518", "#ffbf79", "#54a24b", "#88d27a"]
    assert _closest_pair(tableau20) < 2  # two of the first six look the same (protanopia)
    old_status = ["#2e7d32", "#9ccc65", "#e65100", "#c62828", "#6a1b9a"]
    assert _closest_pair(old_status) < APART


def test_sync_status_colours_stay_apart():
    status = [charts.OKABE_ITO[i] for i in (0, 5, 3, 1, 4)]  # app_pages/synchronisation.py
    assert len(set(status)) == 5 and _closest_pair(status) > APART


# --- y-ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kwargs", "expected"),
    [
        # spread 2.8: 15 % of it (0.42) is under the minimum pad of 1
        ([96.0, 97.5, 98.8], {"low": 0.0, "high": 100.0}, [95.0, 99.8]),
        # spread 50: pad 7.5 on each side
        ([15.0, 40.0, 65.0], {"low": 0.0, "high": 100.0}, [7.5, 72.5]),
        # kept within 0–100
        ([99.5, 100.0], {"low": 0.0, "high": 100.0}, [98.5, 100.0]),
        ([0.0, 3.0], {"low": 0.0}, [0.0, 4.0]),
        # one value, and None left out
        ([42.0, None], {}, [41.0, 43.0]),
        ([], {"low": 0.0, "high": 100.0}, [0.0, 100.0]),
    ],
)
def test_padded_domain(values, kwargs, expected):
    assert charts.padded_domain(values, **kwargs) == pytest.approx(expected)


# --- campaign progress: small multiples by level ---------------------------------------------


def _history(rates: dict[str, list[float]]) -> pl.DataFrame:
    days = [dt.date(2023, 3, 1), dt.date(2023, 4, 1), dt.date(2023, 5, 1)]
    return pl.DataFrame(
        [
            {"date": d, "regle": r, "conformes": round(t * 200), "total": 200, "taux": t}
            for r, values in rates.items()
            for d, t in zip(days, values, strict=True)
        ],
        schema=PROGRESS_SCHEMA,
    )


def test_campaign_progress_draws_one_panel_per_level():
    rules = checklist.rules_frame()
    history = _history(
        {"eg_surnom": [0.1, 0.5, 0.9], "eg_adresse": [1.0, 1.0, 1.0],
         "uo_patientele": [0.2, 0.3, 0.4]}
    )
    spec = charts.campaign_progress(history, rules, checklist.LEVELS).to_dict()
    panels = spec["vconcat"]
    # only the levels with data, in the order of checklist.LEVELS
    assert [p["title"]["text"] for p in panels] == ["Établissement", "Unité (ROR)"]
    first = panels[0]["encoding"]
    labels = dict(zip(rules["regle"], rules["libelle"], strict=True))
    # legend in the order of the rules, Okabe-Ito colours, never cut
    assert first["color"]["scale"]["domain"] == [labels["eg_surnom"], labels["eg_adresse"]]
    assert first["color"]["scale"]["range"] == list(charts.OKABE_ITO[:2])
    assert first["color"]["legend"]["labelLimit"] == 0
    assert first["y"]["scale"]["domain"] == [0, 100]
    # the drawn values are the rates in % (0.5 → 50), each panel with its own rules only
    rows = spec["datasets"][panels[1]["data"]["name"]]
    assert {r["libelle"] for r in rows} == {labels["uo_patientele"]}
    assert sorted(r["pourcentage"] for r in rows) == pytest.approx([20.0, 30.0, 40.0])
    assert spec["resolve"]["scale"]["color"] == "independent"


def _svg_texts(chart) -> list[str]:
    svg = re.sub(r"</tspan>\s*<tspan", " <tspan", charts.to_svg(chart))  # lines of a title
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


@pytest.mark.slow
def test_campaign_legends_are_not_cut():
    rules = checklist.rules_frame()
    history = _history({r: [0.2, 0.4, 0.6] for r in rules["regle"]})
    texts = _svg_texts(charts.campaign_progress(history, rules, checklist.LEVELS))
    for label in rules["libelle"]:
        assert label in texts, label
    assert not any("…" in t for t in texts)


# --- quality trends: one panel per requirement, its own y-range ---------------------------------


def _quality_history() -> pl.DataFrame:
    days = [dt.date(2023, 3, 1), dt.date(2023, 4, 1), dt.date(2023, 5, 1)]
    rows = []
    for code, rates in {"EX2": [0.96, 0.975, 0.988], "CP4": [0.15, 0.40, 0.65]}.items():
        for d, t in zip(days, rates, strict=True):
            rows.append({"date": d, "exigence": code, "perimetre": 200,
                         "conformes": round(200 * t), "ecarts": 200 - round(200 * t), "taux": t})
    return pl.DataFrame(rows)


def test_quality_trends_give_each_requirement_a_range_that_shows_differences():
    labels = {
        "EX2": "État ouvert / fermé conforme à FINESS",
        "CP4": "Peuplement SMR finalisé",
        "ST3": "absent de l'historique : pas de panneau",
    }
    spec = charts.requirement_trends(_quality_history(), labels).to_dict()
    panels = spec["concat"]
    assert len(panels) == 2 and spec["columns"] == 3
    domains = [p["encoding"]["y"]["scale"]["domain"] for p in panels]
    assert domains[0] == pytest.approx([95.0, 99.8])  # 96.0–98.8 %, not 0–100
    assert domains[1] == pytest.approx([7.5, 72.5])
    # full titles, wrapped on lines of at most 40 characters
    title = panels[0]["title"]["text"]
    assert " ".join(title) == "EX2 – État ouvert / fermé conforme à FINESS"
    assert all(len(line) <= 40 for line in title)
    ecarts = charts.requirement_trends(_quality_history(), labels, measure="ecarts").to_dict()
    # écarts of EX2: 8, 5, 2 → spread 6, pad 1 (minimum), kept at 0 or above
    assert ecarts["concat"][0]["encoding"]["y"]["scale"]["domain"] == pytest.approx([1.0, 9.0])


@pytest.mark.slow
def test_quality_trends_render_with_french_numbers():
    labels = {"EX2": "État ouvert / fermé conforme à FINESS", "CP4": "Peuplement SMR finalisé"}
    chart = charts.requirement_trends(_quality_history(), labels).configure(
        **charts.readable_config()
    )
    texts = _svg_texts(chart)
    assert "EX2 – État ouvert / fermé conforme à FINESS" in texts
    assert "CP4 – Peuplement SMR finalisé" in texts


def test_readable_config_writes_numbers_the_french_way():
    import altair as alt

    frame = pl.DataFrame({"x": [0.5, 1.5, 2.5], "y": [1200.0, 3400.5, 5600.0]})
    chart = (
        alt.Chart(frame.to_pandas())
        .mark_point()
        .encode(x=alt.X("x:Q", axis=alt.Axis(format=",.1f")), y=alt.Y("y:Q", axis=alt.Axis(format=",d")))
        .configure(**charts.readable_config())
    )
    import vl_convert

    # rendered without vl-convert's own locale: the spec's config alone sets the formats
    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    assert "0,5" in texts and "2,5" in texts
    assert "4\u202f000" in texts  # narrow no-break space between thousands


def test_readable_config_locale_is_french():
    config = charts.readable_config()
    assert config["locale"]["number"]["decimal"] == ","
    assert config["locale"]["time"]["date"] == "%d/%m/%Y"
    assert config["range"]["category"] == list(charts.OKABE_ITO)
    assert config["legend"]["labelLimit"] == 0
