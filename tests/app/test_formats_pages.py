"""French formats on every page (issue 15): walk each page of ``app.py`` through AppTest on
the demo store and read every table as the browser shows it (the Styler's display values):
no cell reads None, NaN, null or an ISO date-time, every rate column reads « 83,8 % », and a
mention has the same short label on every page, in tables and in selectors alike.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from analysis.checks.campaign import checklist
from analysis.model import nomenclature

from .test_method_notes import DRIVERS, registered_pages

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PEDIATRIE = ("exemple", "pediatrie_grande_couronne.yaml")

#: What an unformatted cell looks like.
RAW = {"None", "NaN", "nan", "null", "NaT", "<NA>", "none"}
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?")
#: A rate as French typography writes it (narrow no-break space before the sign).
RATE = re.compile(r"^-?\d{1,3}(?:\u202f\d{3})*,\d\u202f%$")
RULES = {r.id for r in checklist.RULES}


def _is_rate(column: str) -> bool:
    """Rate columns, named independently of the formatting layer: shares and percentages."""
    return (
        (column.startswith("taux") and "100k" not in column)
        or column.startswith("part_")
        or column in RULES
    )


def _transition_scenario(at: AppTest) -> None:
    """The Transition page shows its comparison tables once a scenario is loaded."""
    at.selectbox(key="transition_source").set_value(PEDIATRIE)
    at.button(key="transition_load").click().run()


PAGE_DRIVERS = {**DRIVERS, "app_pages/transition.py": _transition_scenario}


def _tables(at: AppTest) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """(data, display) of every table: display values when styled, else the data."""
    out = []
    for df in at.dataframe:
        data = df.value
        styler = df.proto.arrow_data.styler
        shown = (
            dataframe_util.convert_arrow_bytes_to_pandas_df(styler.display_values)
            if styler.display_values
            else data.astype(str)
        )
        out.append((data, shown))
    return out


def _walk(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    if page in PAGE_DRIVERS:
        PAGE_DRIVERS[page](at)
        assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def walked(demo_store, tmp_path_factory) -> dict[str, AppTest]:
    """Every page walked once on the demo store (a module fixture: the walk is slow)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SMR_STORE", str(demo_store))
    mp.chdir(ROOT)
    try:
        return {page: _walk(page) for page in registered_pages()}
    finally:
        mp.undo()


@pytest.mark.parametrize("page", registered_pages())
def test_no_raw_cell_and_every_rate_formatted(walked, page):
    at = walked[page]
    tables = _tables(at)
    if page != "app_pages/carte.py":  # the map page shows no table
        assert tables, f"{page} : aucun tableau lu"
    for data, shown in tables:
        assert all(isinstance(c, str) for c in data.columns)
        # Streamlit's grid draws a null as a grey « None » whatever the Styler's na_rep (seen
        # in Chromium; AppTest only sees the display values): no null may reach it.
        nulls = [c for c in data.columns if data[c].isna().any()]
        assert not nulls, (page, nulls)
        for column in shown.columns:
            cells = [str(v) for v in shown[column].tolist()]
            raw = [v for v in cells if v.strip() in RAW]
            assert not raw, (page, column, raw[:3])
            iso = [v for v in cells if ISO.search(v)]
            assert not iso, (page, column, iso[:3])
            if _is_rate(column) and pd.api.types.is_float_dtype(data[column]):
                wrong = [v for v in cells if v != "—" and not RATE.match(v)]
                assert not wrong, (page, column, wrong[:3])


def test_every_rate_column_is_seen(walked):
    """The walk reaches rate columns on the pages that show them (else the test above is
    empty for them)."""
    seen = {
        page: [c for data, _ in _tables(at) for c in data.columns if _is_rate(c)]
        for page, at in walked.items()
    }
    for page in ("territoires", "campagne", "synchronisation", "qualite"):
        assert seen[f"app_pages/{page}.py"], page


def _mention_labels(at: AppTest) -> dict[str, set[str]]:
    """Code → labels shown for it: in mention columns of tables and in selectors."""
    found: dict[str, set[str]] = {}
    for data, shown in _tables(at):
        if "mention" in data.columns:
            for code, label in zip(data["mention"], shown["mention"], strict=True):
                if isinstance(code, str) and code in nomenclature.MENTION_BY_CODE:
                    found.setdefault(code, set()).add(str(label))
    for widget in [*at.selectbox, *at.multiselect]:
        for option in widget.options:
            m = re.fullmatch(r"(.+) \((ME0\d\d)\)", str(option))
            if m:
                found.setdefault(m.group(2), set()).add(m.group(1))
    return found


def test_mention_labels_identical_across_pages(walked):
    labels: dict[str, set[str]] = {}
    for at in walked.values():
        for code, shown in _mention_labels(at).items():
            labels.setdefault(code, set()).update(shown)
    assert len(labels) == len(nomenclature.MENTIONS)  # every mention is met somewhere
    for code, shown in labels.items():
        assert len(shown) == 1, (code, shown)
    # the one label is the short one: « Pédiatrie (≥ 4 ans) », not « Enfants et adolescents »
    assert labels["ME060"] == {"Pédiatrie (≥ 4 ans)"}
    legal_only = {m.libelle for m in nomenclature.MENTIONS if m.libelle != m.court}
    for page, at in walked.items():
        for _, shown in _tables(at):
            cells = set(map(str, shown.to_numpy().ravel()))
            assert not cells & legal_only, (page, cells & legal_only)


def test_a_large_table_keeps_french_text_without_styling(tmp_path, monkeypatch):
    """Above ``MAX_STYLED_CELLS`` a table is not styled cell by cell: codes are still French
    labels and empty text cells still read « — »; numbers keep Streamlit's own formats, except
    a number column holding an empty cell, written as French text (the grid would draw the
    null as « None »)."""
    script = tmp_path / "grand_tableau.py"
    script.write_text(
        "import polars as pl\n"
        "import ui.common as common\n"
        "common.show_table(pl.DataFrame({'departement': ['75', '93'], 'statut': "
        "['synchronise', None], 'taux': [0.5, None], 'taux_synchronise': [0.5, 0.25]}), "
        "'grand')\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(ROOT))
    import ui.common

    monkeypatch.setattr(ui.common, "MAX_STYLED_CELLS", 6)  # the module the script imports
    at = AppTest.from_file(str(script), default_timeout=60).run()
    assert not at.exception, at.exception
    table = at.dataframe[0]
    assert not table.proto.arrow_data.styler.display_values
    assert table.value["departement"].tolist() == ["Paris (75)", "Seine-Saint-Denis (93)"]
    assert table.value["statut"].tolist() == ["Synchronisée", "—"]
    assert table.value["taux"].tolist() == ["50,0\u202f%", "—"]  # a share, as a percentage
    assert table.value["taux_synchronise"].tolist() == [50.0, 25.0]  # no null: still numbers
    assert '"format": "%.1f %%"' in table.proto.columns


def test_a_large_table_writes_numbers_as_formats_number_does():
    """The large-table path (``without_nulls(..., vectorised=True)``) writes a number column
    holding an empty cell with ``formats.number``'s own text: digits grouped by a narrow
    no-break space, its rounding (half to even on the binary value), no « -0 »; cell by cell
    against the scalar function, hand-written values included."""
    import polars as pl

    from analysis.model import formats
    from ui.common import without_nulls

    values = [1234567.25, 0.125, 2.675, -0.04, 90.35, 1e9, None, 3.0, float("nan"), -1234.5]
    df = pl.DataFrame({"n": values, "p": [v if v is None else v / 1000 for v in values],
                       "k": [None, *range(9)]}, schema={"n": pl.Float64, "p": pl.Float64,
                                                        "k": pl.Int64})
    fmts = {"n": formats.Format("N", kind=formats.NUMBER, decimals=1),
            "p": formats.Format("P", kind=formats.PERCENT, decimals=2),
            "k": formats.Format("K", kind=formats.INTEGER)}
    out, kinds = without_nulls(df, fmts, {}, vectorised=True)
    assert out["n"].to_list()[:6] == ["1\u202f234\u202f567,2", "0,1", "2,7", "0,0", "90,3",
                                      "1\u202f000\u202f000\u202f000,0"]
    for c, f in fmts.items():
        suffix = "\u202f%" if f.kind == formats.PERCENT else ""
        expected = [formats.EMPTY if formats.is_missing(v) else formats.number(v, f.decimals)
                    + suffix for v in df[c].to_list()]
        assert out[c].to_list() == expected, c
        assert kinds[c].kind == formats.TEXT
