"""Progress of long work in the app: ``analysis.model.progress`` callbacks drawn with Streamlit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import streamlit as st

from analysis.model.progress import Progress


def progress_bar(bar: Any) -> Progress:
    """A callback that moves ``bar`` (an ``st.progress`` element), its label the step's."""

    def update(done: int, total: int, label: str = "") -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=label or None)

    return update


@contextlib.contextmanager
def status(label: str, done: str) -> Iterator[Progress]:
    """An ``st.status`` box with a progress bar while the block runs; ``done`` once finished.

    Yields the callback to hand to a long ``analysis`` function. An exception marks the box
    as failed and goes on (the page shows its message).
    """
    with st.status(label, expanded=True) as box:
        bar = st.progress(0.0)
        try:
            yield progress_bar(bar)
        except BaseException:
            box.update(state="error", expanded=False)
            raise
        box.update(label=done, state="complete", expanded=False)


@contextlib.contextmanager
def transient(label: str) -> Iterator[Progress]:
    """A progress bar that shows only while work reports progress, then disappears.

    Safe inside ``st.cache_data`` / ``st.cache_resource`` functions: its placeholder is
    created inside the call, so a cache hit replays an empty slot (nothing to see) and a
    miss shows the bar while the work runs.
    """
    slot = st.empty()

    def update(done: int, total: int, text: str = "") -> None:
        slot.progress(min(done / max(total, 1), 1.0),
                      text=f"{label} ({text})" if text else label)

    try:
        yield update
    finally:
        slot.empty()
