"""``ui.charts.chart_dict``: the spec a page draws is ``chart.to_dict()``'s, the Vega-Lite
schema check is done once per chart structure, and a wrong chart is still refused."""

from __future__ import annotations

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
