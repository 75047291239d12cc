"""argparse in French, in one place: usage, help, section titles and error messages.

argparse builds its messages through a module-level ``_`` (gettext) at the moment it needs
them. ``FrenchParser`` swaps that function for a lookup in ``MESSAGES`` while it builds itself,
parses and formats help, and puts the original back afterwards, so nothing else in the process
(pytest's own parser, a notebook) is affected. Messages argparse would quote with ``repr``
(invalid choice, invalid value) are rebuilt with French quotation marks. Long options are
never abbreviated (``allow_abbrev=False``, sub-commands included), and options that take a
value get a French metavar (``--store MAGASIN``, ``--date AAAA-MM-JJ``) rather than their
English destination name in capitals.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

#: argparse's message ids (Python 3.11 to 3.13) → French. A message missing here stays in
#: English; ``tests/cli/test_cli_french.py`` fails when one shows up in help or errors.
MESSAGES: dict[str, str] = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "optional arguments": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version et quitter",
    "subcommands": "commandes",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s : %(message)s",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "une valeur au plus est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "expected %s argument": "%s valeur attendue",
    "expected %s arguments": "%s valeurs attendues",
    "not allowed with argument %s": "incompatible avec %s",
    "ignored explicit argument %r": "valeur « %s » inattendue",
    "one of the arguments %s is required": "l'un de ces arguments est obligatoire : %s",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë « %(option)s » (possibles : %(matches)s)",
    "unexpected option string: %s": "option inattendue : %s",
    "invalid %(type)s value: %(value)r": "valeur invalide « %(value)s »",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide « %(value)s » ; choix possibles : %(choices)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue « %(parser_name)s » ; commandes possibles : %(choices)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "option '%(option)s' is deprecated": "l'option « %(option)s » est obsolète",
    "cannot have multiple subparser arguments": "un seul niveau de commandes est permis",
}

#: Type functions whose failures get a French name for what was expected.
TYPE_NAMES: dict[Any, str] = {
    int: "nombre entier attendu",
    float: "nombre attendu (point ou virgule décimale)",
}

#: French metavars by destination, for options that take a value and have no metavar.
METAVARS: dict[str, str] = {
    "store": "MAGASIN",
    "out": "FICHIER",
    "report": "FICHIER",
    "mapping": "FICHIER",
    "costs": "FICHIER",
    "population_ages": "FICHIER",
    "vt_report": "FICHIER",
    "region": "CODE",
    "mention": "CODE",
    "forme": "CODE",
    "departement": "CODES",
    "categorie": "CODES",
    "seed": "N",
    "days": "N",
    "limit": "N",
    "catchment": "MIN",
    "threshold": "MIN",
    "speed": "KMH",
    "detour": "F",
    "heure_synchro": "HH:MM",
    # positional arguments
    "path": "CHEMIN",
    "source": "SOURCE",
    "scenario": "SCÉNARIO",
}

_lock = threading.RLock()


def _translate(message: str | None) -> str | None:
    return None if message is None else MESSAGES.get(message, message)


def _ntranslate(singular: str, plural: str, n: int) -> str:
    return _translate(singular if n == 1 else plural) or ""


@contextlib.contextmanager
def french() -> Iterator[None]:
    """argparse speaks French inside this block (re-entrant; the English function is restored)."""
    with _lock:
        saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
        argparse._, argparse.ngettext = _translate, _ntranslate  # type: ignore[attr-defined]
        try:
            yield
        finally:
            argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def _metavar(dest: str, kind: Any) -> str:
    if dest in METAVARS:
        return METAVARS[dest]
    if kind is Path:
        return "FICHIER"
    if kind is int:
        return "N"
    if kind is float:
        return "NOMBRE"
    if getattr(kind, "__name__", "") == "iso_date":  # analysis.cli.common.iso_date
        return "AAAA-MM-JJ"
    return dest.upper()


_NO_BREAK = (("« ", "«\u00a0"), (" »", "\u00a0»"), (" ;", "\u00a0;"), (" :", "\u00a0:"),
             (" ?", "\u00a0?"), (" !", "\u00a0!"))


def _no_break(text: str) -> str:
    for plain, kept in _NO_BREAK:
        text = text.replace(plain, kept)
    return text


class FrenchHelpFormatter(argparse.HelpFormatter):
    """Help lines never wrapped between a French quotation mark or colon and its word."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return super()._split_lines(_no_break(text), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return super()._fill_text(_no_break(text), width, indent)


class FrenchParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage, help and errors are French; no abbreviations.

    Sub-parsers made with ``add_subparsers`` are of the same class (unless told otherwise),
    so every level speaks French and refuses abbreviated options.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        with french():
            super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:  # type: ignore[override]
        """``ArgumentParser.add_argument`` with a French metavar for valued options."""
        takes_value = kwargs.get("action") in (None, "store", "append")
        if args and takes_value and "metavar" not in kwargs and "choices" not in kwargs:
            if str(args[0]).startswith("-"):
                dest = kwargs.get("dest") or next(
                    (a for a in args if str(a).startswith("--")), args[0]
                ).lstrip("-").replace("-", "_")
                kwargs["metavar"] = _metavar(dest, kwargs.get("type"))
            elif args[0] in METAVARS:
                kwargs["metavar"] = METAVARS[args[0]]
        with french():
            return super().add_argument(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any):  # type: ignore[override]
        """Sub-commands, parsed by this class unless ``parser_class`` says otherwise."""
        kwargs.setdefault("parser_class", type(self))
        with french():
            return super().add_subparsers(**kwargs)

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        """``parse_args``, with unknown arguments reported by the sub-command that got them."""
        with french():
            namespace, extras = self.parse_known_args(args, namespace)
            if extras:
                self._chosen(namespace).error(
                    _translate("unrecognized arguments: %s") % " ".join(extras)  # type: ignore[operator]
                )
        return namespace

    def _chosen(self, namespace: argparse.Namespace) -> argparse.ArgumentParser:
        """The deepest sub-command parser chosen in ``namespace`` (``self`` without any)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(namespace, action.dest, None) or "")
                if isinstance(chosen, FrenchParser):
                    return chosen._chosen(namespace)
        return self

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        with french():
            return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        with french():
            return super().format_usage()

    def format_help(self) -> str:
        with french():
            return super().format_help()

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise argparse.ArgumentError(
                action, f"choix invalide « {value} » ; choix possibles : {choices}"
            )

    def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
        try:
            return super()._get_value(action, arg_string)  # type: ignore[misc]
        except argparse.ArgumentError as exc:
            kind = self._registry_get("type", action.type, action.type)  # type: ignore[attr-defined]
            if kind in TYPE_NAMES:
                raise argparse.ArgumentError(
                    action, f"valeur invalide « {arg_string} » : {TYPE_NAMES[kind]}"
                ) from None
            raise exc from None

    def error(self, message: str) -> NoReturn:
        """Print the usage and the French message, then exit with code 2 (argparse's rule)."""
        with french():
            super().error(message)
        raise AssertionError("unreachable")  # pragma: no cover - error always exits
