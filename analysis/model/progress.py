"""Progress of long work, reported through an optional callback so analysis stays UI-free.

A long function (demo stores, a year of daily snapshots, a large import, a history over the
store, the regional report) takes ``progress: Progress | None = None`` and calls
``progress(done, total, label)`` after each step: ``done`` steps out of ``total`` finished,
``label`` a short French word on the step just done (« unites », « 2023-03-15 »). A function
with several phases reports each phase with its own ``total``; a display shows the latest.

Displays: ``terminal`` (a bar on standard error, only when it is a terminal: nothing in pipes,
logs or tests) for ``smr``; the app draws ``st.progress`` from the same calls.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

#: ``progress(done, total, label)``: ``done`` of ``total`` steps finished, French label.
Progress = Callable[[int, int, str], None]


def step(progress: Progress | None, done: int, total: int, label: str = "") -> None:
    """Call ``progress`` when there is one (the one line long functions write per step)."""
    if progress is not None:
        progress(done, total, label)


@contextlib.contextmanager
def terminal(description: str, stream: TextIO | None = None) -> Iterator[Progress | None]:
    """A progress bar on ``stream`` (standard error) while the block runs, if it is a terminal.

    Yields the callback to hand to long functions, or ``None`` when ``stream`` is not a
    terminal (a pipe, a file, a test's capture): then nothing at all is written. The bar is
    erased when the block ends, so the command's own lines stay as they were.
    """
    out = stream if stream is not None else sys.stderr
    isatty = getattr(out, "isatty", None)
    if not (callable(isatty) and isatty()):
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=1, desc=description, file=out, leave=False, dynamic_ncols=True,
               bar_format="{desc} {percentage:3.0f} % |{bar}| {n_fmt}/{total_fmt}")

    def update(done: int, total: int, label: str = "") -> None:
        if bar.total != total:
            bar.reset(total=max(total, 1))
        bar.n = min(done, bar.total)
        bar.set_description_str(f"{description} ({label})" if label else description,
                                refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
