"""Deployment settings of the workbench, read from environment variables in one place.

Every setting has a documented default (``SETTINGS`` below, shown in ``docs/securite.md`` and
the README; a test fails when one is undocumented). Values are read at each call, not at
import, so a test or a restarted app sees a change at once. Boolean settings accept
``1/0``, ``oui/non``, ``true/false``, ``yes/no``, ``on/off``; anything else is the default.

This module is pure (no Streamlit): the app reads ``[auth]`` in ``.streamlit/secrets.toml``
itself and combines it with ``require_login`` through ``login_needed``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TRUE = {"1", "oui", "true", "yes", "on", "vrai"}
_FALSE = {"0", "non", "false", "no", "off", "faux"}


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default (as written in the docs) and meaning."""

    name: str
    default: str
    meaning: str


#: Every setting, documented (French meaning, as in docs/securite.md).
SETTINGS: tuple[Setting, ...] = (
    Setting("SMR_STORE", "data/demo", "magasin d'instantanés ouvert au démarrage de l'application"),
    Setting(
        "SMR_HIDE_CONTACTS",
        "0",
        "1 : noms, e-mails et téléphones masqués dans tous les tableaux affichés et tous les "
        "téléchargements ; les cases « Afficher les contacts » disparaissent",
    ),
    Setting(
        "SMR_READ_ONLY",
        "0",
        "1 : mode consultation ; la page Import disparaît et l'application n'écrit rien dans "
        "le magasin",
    ),
    Setting(
        "SMR_REQUIRE_LOGIN",
        "auto",
        "1 : connexion obligatoire (OpenID Connect, section [auth] de .streamlit/secrets.toml) ; "
        "0 : jamais ; auto : obligatoire dès que la section [auth] existe",
    ),
    Setting(
        "SMR_ALLOW_LOCAL_PATHS",
        "auto",
        "1 : l'application peut lire un chemin du serveur (page Import) et changer de magasin "
        "dans la barre latérale ; 0 : non ; auto : oui sauf si la connexion est obligatoire "
        "ou le mode consultation actif",
    ),
    Setting(
        "SMR_MAX_UPLOAD_MB",
        "200",
        "taille maximale d'un fichier téléversé dans l'application, en Mo (plafonnée par "
        "server.maxUploadSize de .streamlit/config.toml)",
    ),
    Setting(
        "SMR_MAX_IMPORT_ROWS",
        "300000",
        "nombre maximal de lignes d'un import fait depuis l'application (toutes tables "
        "confondues) ; la commande smr n'a pas de limite",
    ),
    Setting("SMR_DEBUG", "0", "1 : la commande smr affiche la trace Python d'une erreur interne"),
)

DEFAULT_MAX_UPLOAD_MB = 200
DEFAULT_MAX_IMPORT_ROWS = 300_000


def _flag(name: str) -> bool | None:
    """True / False for a boolean variable, None when unset or not understood."""
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def _positive_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip().replace("_", "").replace(" ", "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def hide_contacts() -> bool:
    """True when contacts must never be shown, not even on request (``SMR_HIDE_CONTACTS``)."""
    return bool(_flag("SMR_HIDE_CONTACTS"))


def read_only() -> bool:
    """True when the app must not write to the store (``SMR_READ_ONLY``)."""
    return bool(_flag("SMR_READ_ONLY"))


def require_login() -> bool | None:
    """``SMR_REQUIRE_LOGIN``: True (always), False (never) or None (auto: when auth is set up)."""
    return _flag("SMR_REQUIRE_LOGIN")


def login_needed(auth_configured: bool) -> bool:
    """Whether every page requires a logged-in user, given whether ``[auth]`` is configured.

    ``SMR_REQUIRE_LOGIN=1`` requires it even without ``[auth]`` (the app then refuses to
    show data and says the login is not configured), ``0`` never, unset: when configured.
    """
    wanted = require_login()
    return auth_configured if wanted is None else wanted


def allow_local_paths(auth_configured: bool = False) -> bool:
    """Whether the app may read server paths typed by the user (``SMR_ALLOW_LOCAL_PATHS``).

    By default only a personal, unauthenticated, writable app does: a shared deployment
    must not let a web user read the server's files or point the app at another folder.
    """
    wanted = _flag("SMR_ALLOW_LOCAL_PATHS")
    if wanted is not None:
        return wanted
    return not (login_needed(auth_configured) or read_only())


def max_upload_mb() -> int:
    """Largest uploaded file accepted by the app, in megabytes (``SMR_MAX_UPLOAD_MB``)."""
    return _positive_int("SMR_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)


def max_upload_bytes() -> int:
    """``max_upload_mb`` in bytes (1 Mo = 1024 × 1024 octets, as Streamlit counts)."""
    return max_upload_mb() * 1024 * 1024


def max_import_rows() -> int:
    """Rows accepted in one import from the app, all tables together (``SMR_MAX_IMPORT_ROWS``)."""
    return _positive_int("SMR_MAX_IMPORT_ROWS", DEFAULT_MAX_IMPORT_ROWS)


@dataclass(frozen=True)
class Access:
    """What the current user may see and do, from the settings and the login state."""

    allowed: bool  # may see the pages
    reason: str | None  # why not, in French (None when allowed)
    show_login: bool  # offer the login button


def access(auth_configured: bool, logged_in: bool) -> Access:
    """The login gate as a pure function: may this session see the pages?

    Used by ``app.py`` before the navigation runs; tested on its own because Streamlit's
    test harness cannot run a real OpenID Connect login.
    """
    if not login_needed(auth_configured):
        return Access(True, None, False)
    if not auth_configured:
        return Access(
            False,
            "La connexion est exigée (SMR_REQUIRE_LOGIN=1) mais aucune section [auth] n'est "
            "configurée dans .streamlit/secrets.toml : voir docs/securite.md.",
            False,
        )
    if not logged_in:
        return Access(False, "Connectez-vous pour accéder aux données.", True)
    return Access(True, None, False)


# ------------------------------------------------------------------- campaign support


@dataclass(frozen=True)
class SupportChannel:
    """One way to reach the users' support: what for, and the form, phone and hours."""

    label: str
    url: str | None = None
    phone: str | None = None
    hours: str | None = None


@dataclass(frozen=True)
class SupportDesk:
    """A region's users' support for the ROR / ViaTrajectoire campaign."""

    name: str
    channels: tuple[SupportChannel, ...]
    quote: str  # the sentence every request must carry


#: Support of each region (INSEE code), as the region's campaign guide gives it. Only
#: Île-de-France is configured (campaign_guide_smr_ror_vt.txt): another region's channels
#: are added here when its guide is known; until then the workbench says none is configured.
SUPPORT_DESKS: dict[str, SupportDesk] = {
    "11": SupportDesk(
        name="Support utilisateurs SESAN (ROR Île-de-France et ViaTrajectoire)",
        channels=(
            SupportChannel(
                "Formulaire de support (indiquer votre demande)",
                url="https://formulaire-support.sante-idf.fr",
            ),
            SupportChannel(
                "Téléphone, ROR", phone="01 83 76 30 31", hours="du lundi au vendredi de 8h à 20h"
            ),
            SupportChannel(
                "Téléphone, ViaTrajectoire",
                phone="01 48 78 75 82",
                hours="du lundi au vendredi de 8h à 20h",
            ),
        ),
        quote="Préciser que la sollicitation s'inscrit dans le cadre de la campagne SMR "
        "(ROR/ViaTrajectoire).",
    ),
}


def support_desk(region: str | None) -> SupportDesk | None:
    """The support of ``region`` (INSEE code), None when none is configured."""
    return SUPPORT_DESKS.get((region or "").strip())


def support_lines(region: str | None) -> list[str]:
    """The support block in French, one line per channel then the sentence to quote; for a
    region without configured support, one line saying so."""
    desk = support_desk(region)
    if desk is None:
        code = (region or "").strip() or "inconnue"
        return [
            f"Aucun canal de support n'est configuré pour la région {code} : s'adresser à "
            "l'équipe régionale du ROR et de ViaTrajectoire."
        ]
    lines = [desk.name]
    for c in desk.channels:
        parts = [p for p in (c.url, c.phone and f"tél. {c.phone}", c.hours) if p]
        lines.append(f"{c.label} : {', '.join(parts)}")
    lines.append(desk.quote)
    return lines


def support_text(region: str | None) -> str:
    """``support_lines`` on one line (a cell of a to-do list)."""
    return " ; ".join(support_lines(region))
