"""``ui.charts.chart_dict``: the spec a page draws is ``chart.to_dict()``'s, the Vega-Lite
schema check is done once per chart structure, and a wrong chart is still refused."""

from __future__ import annotations

from decimal import Decimal

import altair as alt
import pandas as pd
import pytest
from altair.utils.schemapi import SchemaValidationError

from ui import charts


def _charts(n: int) -> list[alt.TopLevelMixin]:
    df = pd.DataFrame({"x": range(n), "y": [f"é{i}" for i in range(n)],
                       "v": [i / 3 for i in range(n)]})
    base = alt.Chart(df).encode(x="x:Q", y=alt.Y("y:N", sort=list(df["y"])))
    return [
        base.mark_rect().encode(color="v:Q", tooltip=["x", "y"]),
        (base.mark_rect() + base.mark_text().encode(text="y:N")).properties(height=28 * n),
        alt.vconcat(base.mark_bar(), base.mark_point()).configure_axis(labelLimit=200),
        alt.Chart(alt.NamedData(name="zones")).mark_geoshape().project(type="mercator"),
    ]


@pytest.mark.parametrize("n", [0, 1, 40])
def test_spec_is_to_dicts_first_and_again(n):
    for chart in _charts(n):
        expected = chart.to_dict()
        assert charts.chart_dict(chart) == expected
        assert charts.chart_dict(chart) == expected  # structure seen: not checked again


def test_other_values_same_structure_give_their_own_spec():
    one, other = _charts(3)[1], _charts(4)[1]
    assert charts.chart_dict(one) == one.to_dict()
    assert charts.chart_dict(other) == other.to_dict() != one.to_dict()


def test_a_wrong_chart_is_refused_every_time():
    wrong = alt.Chart(pd.DataFrame({"a": [1]})).mark_point().encode(
        x=alt.X("a:Q", bin="pas un bin"))
    for _ in range(2):
        with pytest.raises(SchemaValidationError):
            charts.chart_dict(wrong)


def test_a_rebuilt_chart_reuses_its_spec_and_callers_cannot_spoil_it(monkeypatch):
    charts._specs.clear()
    built = []
    real = charts._built
    monkeypatch.setattr(charts, "_built", lambda c: built.append(1) or real(c))
    first = charts.chart_dict(_charts(5)[1])
    again = charts.chart_dict(_charts(5)[1])  # rebuilt from equal data, as a rerun does
    assert len(built) == 1 and again == first == _charts(5)[1].to_dict()
    again.setdefault("datasets", {})["zones"] = [{"type": "Feature"}]  # as vega_spec adds
    again["description"] = "changée"
    assert charts.chart_dict(_charts(5)[1]) == first and "zones" not in first["datasets"]
    charts.chart_dict(_charts(6)[1])  # other values: built
    assert len(built) == 2


def test_the_theme_is_part_of_the_key():
    charts._specs.clear()
    default = charts.chart_dict(_charts(2)[0])
    with alt.theme.enable("dark"):
        dark = charts.chart_dict(_charts(2)[0])
        assert dark == _charts(2)[0].to_dict()
    assert dark != default


def test_fingerprint_follows_every_part_of_the_chart():
    key = charts._chart_key
    df = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    base = alt.Chart(df).mark_point().encode(x="x:Q", y="y:N")
    assert key(base) == key(alt.Chart(df.copy()).mark_point().encode(x="x:Q", y="y:N"))
    others = [
        alt.Chart(df.assign(x=[1, 3])).mark_point().encode(x="x:Q", y="y:N"),
        alt.Chart(df.rename(columns={"y": "z"})).mark_point().encode(x="x:Q", y="z:N"),
        alt.Chart(df.astype({"x": float})).mark_point().encode(x="x:Q", y="y:N"),
        alt.Chart(df).mark_point().encode(x="x:O", y="y:N"),
        alt.Chart(df).mark_line().encode(x="x:Q", y="y:N"),
        base.properties(height=301),
        base.properties(title="1"),
        base.properties(title=["1"]),
    ]
    keys = {key(c) for c in others}
    assert key(base) not in keys and len(keys) == len(others)
    with_selection = base.add_params(alt.selection_point(fields=["y"]))
    again = base.add_params(alt.selection_point(fields=["y"]))  # names from the content
    assert key(with_selection) == key(again) != key(base)
    assert charts.chart_dict(with_selection) == again.to_dict()
    odd = alt.Chart(alt.InlineData(values=[{"x": Decimal("1.5")}])).mark_point()
    assert key(odd) is None  # a value it does not know: no fingerprint, built each time
    assert charts.chart_dict(odd) == odd.to_dict()
