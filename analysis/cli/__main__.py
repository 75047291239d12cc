"""``python -m analysis.cli``: the ``smr`` command."""

from analysis.cli import entry_point

entry_point()
