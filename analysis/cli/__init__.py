"""The ``smr`` command: demo store, validation, import, and the analyses as files.

Exit codes (documented in the README):
    0  success
    1  the input was read but some rows were rejected (``validate``, ``import``)
    2  the input cannot be read at all, or the command line is wrong
    3  the snapshot store refuses the operation (snapshot exists, missing, corrupted)
    4  unexpected internal error (set ``SMR_DEBUG=1`` to see the traceback)
Errors are one readable French line on standard error, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from analysis.cli import campaign, data, offer
from analysis.cli.common import (
    COMMANDS,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_STORE,
    Parser,
    command,
)
from analysis.model.errors import SmrError, StoreError

__all__ = [
    "COMMANDS",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_REJECTED",
    "EXIT_STORE",
    "build_parser",
    "command",
    "entry_point",
    "main",
]

#: Sub-commands by subject (``data``, ``offer``, ``campaign``), listed in this order by
#: ``smr --help``; a command missing here comes last.
HELP_ORDER = (
    "demo", "validate", "import", "snapshots", "coverage", "access", "campaign", "sync", "todo",
    "transition", "scenario", "report", "qualite", "oqos",
)
_MODULES = (data, offer, campaign)  # imported for their @command registrations


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    parser = Parser(
        prog="smr",
        description="SMR Workbench : offre SMR, accessibilité, campagne ROR / ViaTrajectoire.",
    )
    subs = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=Parser)
    subs.required = True
    rank = {name: i for i, name in enumerate(HELP_ORDER)}
    for name in sorted(COMMANDS, key=lambda n: rank.get(n, len(rank))):
        help_text, arguments, run = COMMANDS[name]
        p = subs.add_parser(name, help=help_text, description=help_text)
        arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    try:
        args = build_parser().parse_args(argv)
        code = args.run(args)
    except SystemExit as exc:  # --help: the help was printed, nothing else to do
        code = exc.code if isinstance(exc.code, int) else EXIT_OK
    except StoreError as exc:
        print(f"smr : {exc}", file=sys.stderr)
        code = EXIT_STORE
    except SmrError as exc:
        print(f"smr : {exc}", file=sys.stderr)
        code = EXIT_INPUT
    except KeyboardInterrupt:
        print("smr : interrompu", file=sys.stderr)
        code = EXIT_INTERNAL
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into one line
        if os.environ.get("SMR_DEBUG"):
            raise
        print(
            f"smr : erreur inattendue ({type(exc).__name__}) ; relancer avec SMR_DEBUG=1 "
            "pour le détail",
            file=sys.stderr,
        )
        code = EXIT_INTERNAL
    return code


def entry_point() -> None:
    """Console-script entry: exit with ``main``'s code."""
    sys.exit(main())
