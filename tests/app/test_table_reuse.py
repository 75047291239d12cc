"""A table shown again is not formatted again (``ui.common.show_table``): the Styler's display
values are worked out once (``frozen_styler``) and the prepared table is kept for frames of
the same content. What Streamlit sends must not change: the data, the display values and the
styles marshalled from the kept Styler equal those of a fresh Styler, at the first draw and
at every later one, on hand-made edge cases and on the demo's tables."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from streamlit import dataframe_util
from streamlit.elements.lib.pandas_styler_utils import marshall_styler
from streamlit.proto.ArrowData_pb2 import ArrowData

from analysis.io import store
from analysis.model import formats
from ui import common


def _edge_frames() -> dict[str, pl.DataFrame]:
    return {
        "empty": pl.DataFrame({"finess_eg": [], "mention": [], "nb_uo": []},
                              schema={"finess_eg": pl.String, "mention": pl.String,
                                      "nb_uo": pl.Int64}),
        "one_row": pl.DataFrame({"finess_eg": ["750000001"], "taux_remplissage": [0.8375]}),
        "nulls_everywhere": pl.DataFrame({
            "finess_eg": ["750000001", None, "750000003"],
            "mention": ["ME050", None, "ME059|ME060"],
            "nb_uo": [1200, None, 3],
            "taux_remplissage": [None, 0.90351, -0.0001],
            "date_maj": [dt.date(2023, 7, 31), None, dt.date(2024, 2, 29)],
            "horodatage": [dt.datetime(2023, 7, 30, 18), None, dt.datetime(2023, 7, 30)],
            "actif": [True, None, False],
            "texte_libre": ["", "None", "12"],
        }),
        "codes_and_numbers": pl.DataFrame({
            "mention": ["ME050", "ME059", "ME050"],
            "statut": ["sous", "dans", "au_dessus"],
            "population": [12_174_880, 999, 1000],
            "distance_km": [1.25, 1234.5, float("nan")],
        }),
    }


def _fresh(df: pl.DataFrame, monkeypatch) -> common._Table:
    """The table as ``show_table`` prepared it before (a Styler left to Streamlit)."""
    with monkeypatch.context() as m:
        m.setattr(common, "frozen_styler", lambda styler: styler)
        return common._prepare(df, None, (), False)


def _marshalled(data) -> tuple[bytes, bytes, str]:
    proto = ArrowData()
    marshall_styler(proto, data, "u")
    return (dataframe_util.convert_pandas_df_to_arrow_bytes(data.data),
            proto.styler.display_values, proto.styler.styles)


def _demo_frames(demo_store) -> dict[str, pl.DataFrame]:
    snap = store.read_snapshot(demo_store)
    return {name: t.head(400) for name, t in snap.tables.items() if t.height}


@pytest.mark.parametrize("name", list(_edge_frames()))
def test_kept_styler_sends_what_a_fresh_one_sends_edge_cases(name, monkeypatch):
    df = _edge_frames()[name]
    fresh = _fresh(df, monkeypatch)
    kept = common._prepare(df, None, (), False)
    assert kept.fmts == fresh.fmts and kept.heads == fresh.heads and kept.styled
    expected = _marshalled(fresh.data)
    assert _marshalled(kept.data) == expected
    assert _marshalled(kept.data) == expected  # drawn again: the same


def test_kept_styler_sends_what_a_fresh_one_sends_on_the_demo(demo_store, monkeypatch):
    frames = _demo_frames(demo_store)
    assert len(frames) >= 5
    for name, df in frames.items():
        fresh = _fresh(df, monkeypatch)
        kept = common._prepare(df, None, (), False)
        if not kept.styled:
            continue
        assert _marshalled(kept.data) == _marshalled(fresh.data), name


def test_display_values_read_in_french(monkeypatch):
    """Hand-checked cells of the kept table (what the browser shows)."""
    df = _edge_frames()["nulls_everywhere"]
    kept = common._prepare(df, None, (), False)
    _, values, _ = _marshalled(kept.data)
    shown = dataframe_util.convert_arrow_bytes_to_pandas_df(values)
    assert shown["nb_uo"].tolist() == ["1\u202f200", formats.EMPTY, "3"]
    assert shown["date_maj"].tolist() == ["31/07/2023", formats.EMPTY, "29/02/2024"]
    assert shown["finess_eg"].tolist() == ["750000001", formats.EMPTY, "750000003"]


def test_same_content_reuses_the_prepared_table_other_content_does_not():
    a = pl.DataFrame({"finess_eg": ["750000001"], "nb_uo": [3]})
    same = pl.DataFrame({"finess_eg": ["750000001"], "nb_uo": [3]})
    other = pl.DataFrame({"finess_eg": ["750000001"], "nb_uo": [4]})
    renamed = pl.DataFrame({"finess_eg": ["750000001"], "nb_lits": [3]})
    cast = a.with_columns(pl.col("nb_uo").cast(pl.Float64))
    digest = common.frame_digest
    assert digest(a) == digest(same)
    assert len({digest(a), digest(other), digest(renamed), digest(cast)}) == 4
    common._prepared.clear()
    first = common._prepared(digest(a), "[]", (), False, a, None)
    assert common._prepared(digest(same), "[]", (), False, same, None) is first
    assert common._prepared(digest(a), "[]", (), True, a, None) is not first  # contacts hidden


def test_a_copy_of_a_frame_has_its_fingerprint():
    """Streamlit's data cache hands back a new copy at every rerun: same fingerprint."""
    import pickle

    df = _edge_frames()["nulls_everywhere"]
    assert common.frame_digest(pickle.loads(pickle.dumps(df))) == common.frame_digest(df)
    assert common.frame_digest(df.slice(1)) != common.frame_digest(df)
    assert common.frame_digest(df.reverse()) != common.frame_digest(df)


def test_a_styler_with_styles_goes_through_pandas_translation():
    """Beyond formats (a style function, a caption), the display values come from pandas'
    own translation; what Streamlit sends is still that of a fresh Styler."""
    import pandas as pd

    df = pd.DataFrame({"a": [1.5, 2.25, None], "b": ["x", "y", "z"]})

    def styled():
        return df.style.format({"a": lambda v: formats.number(v, 1)}, na_rep="—") \
            .highlight_max(subset=["a"]).set_caption("Légende").set_uuid("t")

    assert not common._formats_only(styled())
    kept = common.frozen_styler(styled())
    assert _marshalled(kept) == _marshalled(styled())
    assert _marshalled(kept)[2]  # the highlight's style is sent
