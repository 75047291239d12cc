"""``python -m analysis.cli``: the ``smr`` command."""

from analysis.cli import entry_point

if __name__ == "__main__":  # imported (not run) by the tests that walk every module
    entry_point()
