"""The selection that follows the user from page to page and lives in the link.

Seven choices are shared by the pages, under the names they have in the query string:
``instantane`` (AAAA-MM-JJ), ``region``, ``mention`` (ME0xx), ``forme``, ``departement``,
``niveau`` and ``indicateur``. A snapshot and a mention chosen on the Carte are still chosen on
Territoires, Campagne or Transition, and ``/carte?mention=ME059&instantane=2023-05-15`` opens
the Carte on gériatrie at 15/05/2023.

How it works:

- ``st.session_state[SELECTION]`` holds what the user chose (by changing a widget) or what a
  link brought. Page defaults are not stored: a page keeps its own default (Territoires opens
  on départements, the Carte on communes) until the user chooses.
- A page draws each shared widget through ``select()``: the widget is set to the stored choice
  when the page offers it, to the page's default otherwise; a change by the user is stored
  (``on_change``). Widgets keep their page-specific keys (``carte_mention``…), whose state
  Streamlit forgets on leaving the page: the selection is what survives.
- The query string mirrors the selection plus what the current page shows, in a fixed order,
  so that a link copied from the address bar reproduces the view. Server paths (the store)
  never go into it.
- At each run, a value of the query string that differs from the one last written by the app
  comes from outside (a link opened, the browser's back button): it is checked and adopted;
  an invalid one is left out with a short French notice, and the default applies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import streamlit as st

from analysis.indicators import coverage, territories
from analysis.model import nomenclature

#: Query-string names, in the order they appear in a link.
NAMES: tuple[str, ...] = (
    "instantane", "region", "mention", "forme", "departement", "niveau", "indicateur",
)
#: How a notice names each choice.
WORDS: dict[str, str] = {
    "instantane": "instantané",
    "region": "région",
    "mention": "mention",
    "forme": "forme de prise en charge",
    "departement": "département",
    "niveau": "niveau",
    "indicateur": "indicateur",
}

SELECTION = "selection"  # session state: name -> value chosen by the user or by a link
_WRITTEN = "_selection_url"  # session state: the query string last written by the app
_SHOWN = "_selection_shown"  # session state: name -> value the running page shows
_NOTICES = "_selection_notices"  # session state: notices of the link adopted in this run
_ADOPTED = "_selection_adopted"  # session state: names a link brought in this run

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REGION_RE = re.compile(r"[0-9]{2}|ALL")
_DEPARTEMENT_RE = re.compile(r"[0-9]{2,3}|2[AB]")


def _parse_date(text: str) -> dt.date:
    if not _DATE_RE.fullmatch(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _one_of(values: Iterable[str], *, upper: bool = False) -> Callable[[str], str]:
    allowed = frozenset(values)

    def parse(text: str) -> str:
        value = text.upper() if upper else text
        if value not in allowed:
            raise ValueError(text)
        return value

    return parse


def _matching(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not pattern.fullmatch(text.upper()):
            raise ValueError(text)
        return text.upper()

    return parse


#: Text of the query string -> value, or ValueError. What depends on the store or the
#: region (the snapshot exists, the département belongs to the region) is checked later,
#: by ``check``, where the page knows it.
PARSERS: dict[str, Callable[[str], Any]] = {
    "instantane": _parse_date,
    "region": lambda text: _matching(_REGION_RE)(text).lower(),
    "mention": _one_of((m.code for m in nomenclature.MENTIONS), upper=True),
    "forme": _one_of([coverage.ALL_FORMES, *nomenclature.FORME_BY_CODE]),
    "departement": _matching(_DEPARTEMENT_RE),
    "niveau": _one_of(coverage.LEVELS),
    "indicateur": _one_of(territories.MAP_INDICATORS),
}


def as_text(value: Any) -> str:
    """A value as written in the query string (dates as AAAA-MM-JJ)."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def selection() -> dict[str, Any]:
    """The choices made in this session (a live dict of session state)."""
    return st.session_state.setdefault(SELECTION, {})


#: What a notice may quote from a link: letters, digits, « - », « _ » and spaces, 40 at most. A
#: link is written by anyone and the notice is Markdown: ``[x](…)``, ``![x](…)`` or a bare
#: address must not become a link, or an image fetched from elsewhere.
_UNSAFE = re.compile(r"[^\w\- ]")
_QUOTED_MAX = 40


def quoted(text: str) -> str:
    """``text`` as a notice may show it: other characters as « ? », cut at 40."""
    safe = _UNSAFE.sub("?", text)
    return safe if len(safe) <= _QUOTED_MAX else safe[:_QUOTED_MAX] + "…"


def _notice(name: str, text: str, fallback: str = "valeur par défaut utilisée") -> None:
    st.session_state.setdefault(_NOTICES, []).append(
        f"Lien : {WORDS[name]} « {quoted(text)} » inconnu{'e' if name in _FEMININE else ''} ; "
        f"{fallback}."
    )


_FEMININE = frozenset({"mention", "forme", "region"})


def adopt_link() -> None:
    """Start of a page run: forget what the previous run showed, and adopt the values of the
    query string that do not come from the app itself (a link, the back button)."""
    st.session_state[_SHOWN] = {}
    st.session_state[_NOTICES] = []
    adopted: set[str] = set()
    st.session_state[_ADOPTED] = adopted
    written: dict[str, str] = st.session_state.get(_WRITTEN, {})
    chosen = selection()
    for name in NAMES:
        text = st.query_params.get(name)
        if text is None or text == written.get(name):
            continue
        try:
            chosen[name] = PARSERS[name](text.strip())
            adopted.add(name)
        except ValueError:
            chosen.pop(name, None)
            _notice(name, text)


def check(name: str, allowed: Sequence[Any], fallback: str = "valeur par défaut utilisée") -> None:
    """Drop the stored ``name`` with a notice when it is not among ``allowed`` (a snapshot
    missing from the store, a département outside the region); only values that a link just
    brought get a notice, a stale choice is dropped silently."""
    chosen = selection()
    if name in chosen and chosen[name] not in allowed:
        value = chosen.pop(name)
        if name in st.session_state.get(_ADOPTED, ()):
            _notice(name, as_text(value), fallback)
        _mirror()


def notices() -> list[str]:
    """Notices of the link adopted in this run (shown once by the page)."""
    return list(st.session_state.get(_NOTICES, []))


def remember(name: str, value: Any) -> None:
    """Store a choice made by the page itself (a scenario loaded sets its mention); None
    forgets it. The link follows when the page next shows ``name``."""
    if value is None:
        selection().pop(name, None)
    else:
        selection()[name] = value


def _on_change(name: str, key: str, none_option: Any) -> None:
    """The user changed a bound widget: store the choice (the run that follows writes the
    link)."""
    value = st.session_state.get(key)
    remember(name, None if none_option is not None and value == none_option else value)


def show(name: str, value: Any) -> None:
    """Record what the running page shows for ``name`` (None: nothing) and update the link."""
    st.session_state.setdefault(_SHOWN, {})[name] = value
    _mirror()


def _mirror() -> None:
    """Write the selection and what the page shows into the query string, when it differs."""
    values = {**selection(), **st.session_state.get(_SHOWN, {})}
    wanted = {n: as_text(values[n]) for n in NAMES if values.get(n) is not None}
    current = st.query_params.to_dict()
    others = {k: v for k, v in current.items() if k not in NAMES}
    if current != {**wanted, **others}:
        st.query_params.from_dict({**wanted, **others})
    st.session_state[_WRITTEN] = wanted


def select(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[Any],
    name: str,
    key: str,
    *,
    default: Any = None,
    none_option: Any = None,
    **kwargs: Any,
) -> Any:
    """Draw ``widget`` (``st.selectbox``, ``st.radio``, or a container's) bound to the shared
    choice ``name``; returns the value chosen.

    The widget opens on the stored choice when it is among ``options``, otherwise on
    ``default`` (the first option when None). ``none_option`` is the option that means « no
    choice » (« (tous) »): choosing it forgets ``name``. Other keyword arguments go to the
    widget (``format_func``, ``help``, ``horizontal``…).
    """
    options = list(options)
    stored = selection().get(name)
    if stored is None and none_option is not None:
        stored = none_option
    fallback = default if default in options else options[0]
    value = stored if stored in options else fallback
    # Always set: after a page switch the key may still hold the previous page's widget
    # value while the new page's widget (another id) would open on its own default.
    st.session_state[key] = value
    chosen = widget(
        label, options=options, key=key, on_change=_on_change, args=(name, key, none_option),
        **kwargs,
    )
    show(name, None if none_option is not None and chosen == none_option else chosen)
    return chosen
