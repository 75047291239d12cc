"""``analysis.model.memo.same_frames``: a result is reused only for the very same input
objects; anything else is computed."""

from __future__ import annotations

import polars as pl

from analysis.model import memo


def _counted():
    calls: list = []

    @memo.same_frames(maxsize=2)
    def total(df: pl.DataFrame, tables=None, *, factor: int = 1):
        calls.append(1)
        extra = sum(t.height for t in (tables or {}).values())
        return {"n": (df["a"].sum() + extra) * factor}

    return total, calls


def test_same_objects_reuse_equal_copies_do_not():
    total, calls = _counted()
    df = pl.DataFrame({"a": [1, 2]})
    assert total(df) == {"n": 3} and total(df) == {"n": 3}
    assert len(calls) == 1
    assert total(df.clone()) == {"n": 3} and len(calls) == 2  # equal, not the same object
    assert total(df, factor=2) == {"n": 6} and len(calls) == 3


def test_mappings_are_keyed_on_their_frames():
    total, calls = _counted()
    df, t = pl.DataFrame({"a": [1]}), pl.DataFrame({"b": [1, 2, 3]})
    assert total(df, {"t": t}) == {"n": 4}
    assert total(df, {"t": t}) == {"n": 4} and len(calls) == 1  # another dict, same frames
    assert total(df, {"t": t.head(1)}) == {"n": 2} and len(calls) == 2


def test_dict_results_are_copies_and_unhashable_arguments_bypass():
    total, calls = _counted()
    df = pl.DataFrame({"a": [5]})
    first = total(df)
    first["n"] = 0  # a caller changing its dict does not change the kept one
    assert total(df) == {"n": 5}
    total(df, factor=[1])  # an unhashable argument: computed, not kept
    assert len(calls) == 2


def test_oldest_results_go_and_bypass_recomputes():
    total, calls = _counted()
    frames = [pl.DataFrame({"a": [i]}) for i in range(3)]
    for f in frames:
        total(f)
    total(frames[0])  # evicted by maxsize=2
    assert len(calls) == 4
    with memo.bypassed():
        total(frames[0])
    assert len(calls) == 5


def test_an_id_is_not_reused_while_cached():
    """The arguments are held with the result: a new frame cannot take a cached one's id."""
    total, _ = _counted()
    seen = set()
    for i in range(50):
        df = pl.DataFrame({"a": [i]})
        assert total(df) == {"n": i}
        seen.add(id(df))
