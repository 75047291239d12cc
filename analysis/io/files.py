"""Files on disk, written and listed one way: the atomic write and the listing of input files.

``write_atomic`` is how every file the workbench writes outside a snapshot reaches the disk
(exports, reports, to-do lists, scenarios, the store's parameter files): the bytes go to a
hidden ``.<name>.partial`` beside the target, renamed over it at the end, so a reader sees the
old file or the new one, never half of one; when the write fails the partial file is removed
and the old file is left as it was. Snapshots have their own folder-level protocol
(``analysis.io.store``).

``read_input`` reads the bytes of a file the user named, with the one set of French refusals
(missing, too large, unreadable). ``input_files`` lists what an import reads from a folder (or the files given); hidden files
and the temporary files of office suites (``.~lock…``, ``~$classeur.xlsx``) are never input.
Callers keep their own checks on where a file may go (store folder, output folder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from analysis.model.errors import InputError

#: Suffix of the temporary file of an atomic write (hidden: ``.<name>.partial``).
PARTIAL_SUFFIX = ".partial"

#: Name prefixes of files that are never input: hidden files (and the ``.partial`` of a write
#: under way), Excel's lock files (``~$classeur.xlsx``).
_NOT_INPUT_PREFIXES = (".", "~$")


def read_input(path: str | Path, *, max_bytes: int | None = None) -> bytes:
    """The bytes of the input file ``path``; ``InputError`` naming it when it is missing
    (« fichier introuvable. »), larger than ``max_bytes`` (« fichier trop volumineux (plus de
    N Mo). », checked before reading) or unreadable (« lecture impossible (…). »). An empty file
    is the caller's to judge: what it lacks depends on the format."""
    path = Path(path)
    if not path.is_file():
        raise InputError("fichier introuvable.", path)
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise InputError(f"fichier trop volumineux (plus de {max_bytes // 2**20} Mo).", path)
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"lecture impossible ({exc.strerror}).", path) from None


def partial_path(path: str | Path) -> Path:
    """The temporary file an atomic write of ``path`` goes through."""
    path = Path(path)
    return path.with_name(f".{path.name}{PARTIAL_SUFFIX}")


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text written as UTF-8) to ``path`` atomically; return ``path``.

    The folder must exist. On any failure (disk full, interruption) the partial file is
    removed, the exception goes on, and a file already at ``path`` is unchanged.
    """
    path = Path(path)
    tmp = partial_path(path)
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def is_input_name(name: str) -> bool:
    """False for hidden files and office-suite temporary files, which are never input."""
    return not name.startswith(_NOT_INPUT_PREFIXES)


def folder_files(folder: str | Path, accept: Callable[[Path], bool]) -> list[Path]:
    """The files of ``folder`` that ``accept`` takes, sorted by name; hidden and temporary files
    left out (``is_input_name``). An absent folder has no files."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.is_file() and is_input_name(p.name) and accept(p)
    )


def input_files(
    source: str | Path | Sequence[str | Path], accept: Callable[[Path], bool], none_found: str
) -> list[Path]:
    """The input files of ``source``: for a folder, its files that ``accept`` takes (sorted by
    name, ``folder_files``); a file is taken as given. A list mixes both, in its order.

    Raises ``InputError`` naming the path when it does not exist, or with ``none_found``
    (French) when a folder holds no file to read.
    """
    items = [source] if isinstance(source, str | Path) else list(source)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            inside = folder_files(path, accept)
            if not inside:
                raise InputError(none_found, path)
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError("fichier ou dossier introuvable.", path)
    return files
