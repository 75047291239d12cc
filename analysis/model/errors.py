"""The project's own exceptions, each with a French message fit to show a user.

Commands map them to exit codes (see ``analysis.cli``): an ``InputError`` means the input
cannot be read at all (exit 2); validation problems in some rows are not exceptions, they
are reported and the good rows kept.
"""

from __future__ import annotations


class SmrError(Exception):
    """Base class: the message is a complete French sentence, without contacts.

    Messages name files, rows, columns and reasons, never values of contact columns; as a
    last line of defence any e-mail address or phone number in the message is masked, and
    a message is cut after ``MAX_CHARS`` characters.
    """

    #: Longest message kept (a file's 5 MB line must never end up in a message).
    MAX_CHARS = 1000

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            from analysis.model.syntax import redact

            text = args[0]
            if len(text) > self.MAX_CHARS:
                text = text[: self.MAX_CHARS] + " […]"
            args = (redact(text), *args[1:])
        super().__init__(*args)


class InputError(SmrError):
    """An input file or folder cannot be read at all (missing, empty, binary, wrong columns)."""

    def __init__(self, message: str, path: object | None = None) -> None:
        self.path = path
        super().__init__(f"{path} : {message}" if path is not None else message)


class StoreError(SmrError):
    """The snapshot store cannot be read or written as asked (missing, exists, corrupted)."""


class ReferenceDataError(SmrError, ValueError):
    """Reference geography is missing or does not cover what was asked."""


def _day(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class SnapshotMissingError(StoreError):
    """The store holds no snapshot, or none of the date asked: one wording wherever it happens."""

    def __init__(self, store: object, date: object | None = None) -> None:
        self.store, self.date = store, date
        of = f" du {_day(date)}" if date is not None else ""
        super().__init__(f"Aucun instantané{of} dans {store}.")


class SnapshotExistsError(StoreError):
    """Snapshots to write already exist and replacing them was not asked.

    The message says how to ask on the command line (``--replace``); a page says it its own
    way (a checkbox) from ``store`` and ``dates``.
    """

    def __init__(self, store: object, dates: object) -> None:
        self.store = store
        self.dates = sorted(dates) if isinstance(dates, list | tuple | set) else [dates]
        first = _day(self.dates[0])
        if len(self.dates) == 1:
            text = (f"L'instantané du {first} existe déjà dans {store} ; relancez avec "
                    "--replace pour le remplacer.")
        else:
            text = (f"Le magasin {store} contient déjà {len(self.dates)} des instantanés à "
                    f"écrire (dont celui du {first}) ; relancez avec --replace pour les "
                    "remplacer.")
        super().__init__(text)
