"""A store's default population file: ``STORE/populations/`` with ``reglage.json``.

The planner may make an INSEE legal-populations file the default of a store (Carte page,
``analysis.indicators.populations.save_store_populations``); the app, the commands and the
report of that store then use it when no file is given. This module reads and writes that
setting (the file, its original name, vintage, date and sha256); what the populations mean
and how they apply to a region stay in ``analysis.indicators.populations``, which takes
the parsed file. Like the OQOS setting (``analysis.io.oqos_files``), each file is written
through a temporary file renamed at the end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from analysis.io.files import write_atomic
from analysis.io.parameter_files import LegalPopulations, read_legal_populations
from analysis.model.errors import StoreError

#: Folder of a store holding its default population file and ``reglage.json``.
STORE_DIR = "populations"
SETTING_FILE = "reglage.json"


def _store_dir(store: str | Path) -> Path:
    return Path(store) / STORE_DIR


def store_population_info(store: str | Path) -> dict | None:
    """The store's population setting (fichier, millesime, enregistre_le, sha256), or None."""
    path = _store_dir(store) / SETTING_FILE
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise StoreError(f"réglage de population illisible : {path}") from None
    if not (_store_dir(store) / str(info.get("fichier", ""))).is_file():
        raise StoreError(f"fichier de population du magasin introuvable : {info.get('fichier')}")
    return info


def store_population_file(store: str | Path) -> tuple[bytes, str] | None:
    """The bytes and name of the store's population file, or None when there is none."""
    info = store_population_info(store)
    if info is None:
        return None
    path = _store_dir(store) / info["fichier"]
    data = path.read_bytes()
    if info.get("sha256") and hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise StoreError(f"fichier de population du magasin modifié ou corrompu : {path}")
    return data, info["fichier"]


def read_store_populations(store: str | Path) -> LegalPopulations | None:
    """The store's population file, read (``read_legal_populations``), or None."""
    saved = store_population_file(store)
    if saved is None:
        return None
    data, name = saved
    return read_legal_populations(data, name, name=name)


def _safe_name(name: str) -> str:
    stem = Path(name).name
    suffix = Path(stem).suffix.lower()
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(stem).stem).strip("._") or "populations"
    return base[:80] + (suffix if suffix in (".csv", ".txt", ".xlsx", ".xls", ".ods") else ".csv")


def save_store_populations(
    store: str | Path,
    data: bytes,
    name: str,
    check: Callable[[LegalPopulations], object] | None = None,
) -> Path:
    """Make ``data`` (an INSEE legal-populations file named ``name``) the store's default.

    The file is read first (an unusable file raises ``InputError`` and nothing changes),
    then given to ``check`` when given (which raises to refuse it, e.g. a file that does
    not cover the region). Written beside ``reglage.json`` in ``<store>/populations/``, each
    through a temporary file renamed at the end; the previous setting is replaced.
    """
    if not Path(store).is_dir():
        raise StoreError(f"magasin introuvable : {store}")
    legal = read_legal_populations(data, name, name=name)
    if check is not None:
        check(legal)
    folder = _store_dir(store)
    folder.mkdir(exist_ok=True)
    target = folder / _safe_name(name)
    try:
        old = json.loads((folder / SETTING_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    write_atomic(target, data)
    info = {
        "fichier": target.name,
        "nom_origine": Path(name).name,
        "millesime": legal.millesime,
        "enregistre_le": dt.datetime.now().isoformat(timespec="seconds"),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    setting = folder / SETTING_FILE
    write_atomic(setting, json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    if old and old.get("fichier") != target.name:
        (folder / old["fichier"]).unlink(missing_ok=True)
    return target


def clear_store_populations(store: str | Path) -> bool:
    """Remove the store's population setting (back to the reference); True if there was one."""
    folder = _store_dir(store)
    setting = folder / SETTING_FILE
    if not setting.is_file():
        return False
    try:
        info = json.loads(setting.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    setting.unlink()
    if info.get("fichier"):
        (folder / str(info["fichier"])).unlink(missing_ok=True)
    return True
