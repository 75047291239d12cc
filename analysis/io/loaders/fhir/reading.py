"""Reading FHIR files (Bundles, NDJSON, ``$export`` output, gzip or not) into one index of
resources, and what the delivery as a whole tells: missing pages or files, repeats, error
responses, unreadable lines, extensions the loader does not read.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.io.files import input_files, read_input
from analysis.io.loaders.canonical import decode_json, decode_text
from analysis.io.loaders.fhir.codes import (
    _MAX_LISTED,
    FILE_SUFFIXES,
    KEPT_TYPES,
    READ_EXTENSIONS,
    _dicts,
    _key,
    _list,
)
from analysis.io.loaders.result import Notes
from analysis.model.errors import InputError


@dataclass
class _Resources:
    """Every resource of every file, indexed by ``Type/id`` before anything is linked."""

    by_key: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    full_urls: dict[str, str] = field(default_factory=dict)
    matches: set[str] = field(default_factory=set)
    totals: list[int] = field(default_factory=list)
    duplicates: int = 0
    other_types: Counter[str] = field(default_factory=Counter)
    outcomes: list[str] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)
    announced: Counter[str] = field(default_factory=Counter)
    read_by_type: Counter[str] = field(default_factory=Counter)

    def of_type(self, kind: str) -> list[tuple[str, Mapping[str, Any]]]:
        """Resources of one type in ``Type/id`` order (the same whatever the file order)."""
        return sorted(
            ((k, r) for k, r in self.by_key.items() if r.get("resourceType") == kind),
            key=lambda item: item[0],
        )

    def get(self, reference: Any) -> tuple[str | None, Mapping[str, Any] | None]:
        """The resource a reference points to (by ``Type/id`` or by ``fullUrl``)."""
        if isinstance(reference, Mapping):
            raw = str(reference.get("reference") or "")
            if raw in self.full_urls:
                key = self.full_urls[raw]
                return key, self.by_key.get(key)
        key = _key(reference)
        return key, self.by_key.get(key) if key else None

    def add(self, resource: Mapping[str, Any], where: str, full_url: Any = None) -> None:
        """Index one resource (the latest ``meta.lastUpdated`` wins over a repeat)."""
        kind = str(resource.get("resourceType") or "")
        if kind == "OperationOutcome":
            self.outcomes.append(f"{where} : {_outcome_text(resource)}")
            return
        if kind not in KEPT_TYPES or not resource.get("id"):
            self.other_types[kind or "(sans type)"] += 1
            return
        key = f"{kind}/{resource['id']}"
        self.read_by_type[kind] += 1
        if key in self.by_key:
            self.duplicates += 1
            old = str((self.by_key[key].get("meta") or {}).get("lastUpdated") or "")
            new = str((resource.get("meta") or {}).get("lastUpdated") or "")
            if new < old:
                return
        self.by_key[key] = resource
        self.where[key] = f"{where} › {key}"
        if full_url:
            self.full_urls[str(full_url)] = key


def _outcome_text(resource: Mapping[str, Any]) -> str:
    texts = [
        str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code") or "")
        for i in _dicts(resource.get("issue"))
    ]
    return " ; ".join(t for t in texts if t)[:300] or "sans détail"


def _add_bundle(doc: Mapping[str, Any], where: str, into: _Resources, path: Path) -> int:
    """Index a Bundle's resources (nested Bundles of a batch response too); entries read."""
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        raise InputError("Bundle invalide : « entry » n'est pas une liste.", path)
    if isinstance(doc.get("total"), int):
        into.totals.append(doc["total"])
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            continue
        here = f"{where} › entrée {position}"
        response = entry.get("response")
        status = str(response.get("status") or "") if isinstance(response, Mapping) else ""
        resource = entry.get("resource")
        if status and not status.strip().startswith("2"):
            outcome = response.get("outcome") if isinstance(response, Mapping) else None
            detail = _outcome_text(outcome or resource or {}) if (outcome or resource) else ""
            into.outcomes.append(f"{here} : statut {status}" + (f", {detail}" if detail else ""))
            continue
        if not isinstance(resource, Mapping):
            continue
        if resource.get("resourceType") == "Bundle":
            _add_bundle(resource, here, into, path)
            continue
        into.add(resource, here, entry.get("fullUrl"))
        mode = (entry.get("search") or {}).get("mode")
        if mode == "match" and resource.get("id"):
            into.matches.add(f"{resource.get('resourceType')}/{resource['id']}")
    return len(entries)


def _read_ndjson(text: str, path: Path, into: _Resources) -> int:
    """Index the resources of an NDJSON file (one per line); unreadable lines are reported."""
    count = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except json.JSONDecodeError as exc:
            into.bad_lines.append(f"{path.name} ligne {number} ({exc.msg})")
            continue
        if not isinstance(resource, Mapping) or "resourceType" not in resource:
            into.bad_lines.append(f"{path.name} ligne {number} (pas une ressource FHIR)")
            continue
        count += 1
        if resource.get("resourceType") == "Bundle":
            _add_bundle(resource, f"{path.name} › ligne {number}", into, path)
        else:
            into.add(resource, f"{path.name} › ligne {number}")
    return count


def _is_export_manifest(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "resourceType" not in doc and "output" in doc and (
        "transactionTime" in doc or "request" in doc
    )


def _file_bytes(path: Path) -> tuple[bytes, bytes]:
    """(raw bytes, content) of a file, the content gunzipped when the file is
    gzip-compressed (by name or by content)."""
    raw = read_input(path)
    if path.suffix.lower() == ".gz" or raw[:2] == b"\x1f\x8b":
        try:
            return raw, gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise InputError("archive gzip illisible ou tronquée.", path) from None
    return raw, raw


def _stem_suffix(path: Path) -> str:
    """The suffix that says the content (``.ndjson`` for ``Location.ndjson.gz``)."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return Path(name).suffix


def _read_file(path: Path, data: bytes, into: _Resources) -> dict[str, Any]:
    """Index one file's resources; what it held, for the manifest."""
    if _stem_suffix(path) in (".ndjson", ".jsonl"):
        text, _ = decode_text(data, path)
        return {"forme": "ndjson", "ressources": _read_ndjson(text, path, into)}
    try:
        doc = decode_json(data, path)
    except InputError as error:
        text, _ = decode_text(data, path)
        lines = [line for line in text.split("\n") if line.strip()]
        if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines):
            # NDJSON saved with a .json name: one resource per line.
            return {"forme": "ndjson", "ressources": _read_ndjson(text, path, into)}
        raise error
    if _is_export_manifest(doc):
        for item in _dicts(doc.get("output")):
            if isinstance(item.get("count"), int) and item.get("type"):
                into.announced[str(item["type"])] += item["count"]
        return {"forme": "manifeste $export", "fichiers_annonces": len(_list(doc.get("output")))}
    if not isinstance(doc, Mapping) or "resourceType" not in doc:
        raise InputError("ce n'est pas une ressource FHIR (« resourceType » absent).", path)
    kind = doc.get("resourceType")
    if kind == "OperationOutcome":
        raise InputError(
            f"le fichier est une réponse d'erreur du serveur FHIR (OperationOutcome) : "
            f"{_outcome_text(doc)}.",
            path,
        )
    if kind != "Bundle":
        if kind in KEPT_TYPES:  # a single resource saved on its own
            into.add(doc, path.name)
            return {"forme": "ressource", "ressources": 1}
        raise InputError(f"ressource FHIR « {kind} » : un Bundle est attendu.", path)
    entries = _add_bundle(doc, path.name, into, path)
    return {"forme": "bundle", "entrees": entries, "type": doc.get("type")}


def _is_fhir_file(path: Path) -> bool:
    return _stem_suffix(path) in FILE_SUFFIXES


def list_fhir_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The FHIR files of ``source``: a folder's ``.json``/``.ndjson`` files, gzip-compressed or
    not (sorted by name), or the files given."""
    return input_files(
        source,
        _is_fhir_file,
        "aucun fichier .json ou .ndjson (Bundle FHIR, export $export) dans ce dossier.",
    )


#: Former name, kept for callers of the first version.
list_bundle_files = list_fhir_files


# --- extensions the loader does not read ----------------------------------------------------


def _extension_census(node: Any, counter: Counter[str], parent: str | None = None) -> None:
    """Count, per URL, every extension in ``node`` that the loader does not read: absolute
    URLs outside ``READ_EXTENSIONS``, and sub-extensions a read extension does not use
    (``url#name`` for relative names)."""
    if isinstance(node, list):
        for item in node:
            _extension_census(item, counter)
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key in ("extension", "modifierExtension"):
            for ext in _dicts(value):
                _count_extension(ext, counter, parent)
        elif key not in ("contained",) and isinstance(value, list | Mapping):
            _extension_census(value, counter)


def _count_extension(ext: Mapping[str, Any], counter: Counter[str], parent: str | None) -> None:
    url = str(ext.get("url") or "(sans url)")
    name = url.rsplit("/", 1)[-1]
    if parent is not None:
        if name not in READ_EXTENSIONS.get(parent, frozenset()):
            counter[url if "/" in url else f"{parent}#{url}"] += 1
            return
    elif name not in READ_EXTENSIONS or "/" not in url:
        counter[url] += 1
        return
    for sub in _dicts(ext.get("extension")):
        _count_extension(sub, counter, name if name in READ_EXTENSIONS else parent)


_TABLE_OF_TYPE = {"Organization": "etablissements", "HealthcareService": "unites",
                  "Location": "offres"}  # fmt: skip


def _unread_extensions(resources: _Resources, notes: Notes) -> dict[str, int]:
    """Report every extension not read, per resource type and URL; return URL → count."""
    total: Counter[str] = Counter()
    for kind, table in _TABLE_OF_TYPE.items():
        counter: Counter[str] = Counter()
        for _, resource in resources.of_type(kind):
            _extension_census(resource, counter)
        for url, count in sorted(counter.items()):
            origin = (
                "extension du guide ROR non utilisée par l'atelier"
                if "/ig/fhir/ror" in url or url.startswith("ror-")
                else "extension non définie par le guide ROR"
            )
            notes.add(
                table,
                "extension_non_lue",
                f"{origin} : {url} ({count} occurrence(s) sur {kind})",
                value=url,
            )
        total.update(counter)
    return dict(sorted(total.items()))


def _check_delivery(resources: _Resources, services: int, notes: Notes) -> None:
    """File-level remarks: missing pages, repeats, unused types, errors, unreadable lines."""
    if resources.totals and len(resources.matches) < max(resources.totals):
        notes.add(
            "offres",
            "pagination_incomplete",
            f"le serveur annonce {max(resources.totals)} résultat(s), les fichiers en "
            f"contiennent {len(resources.matches)} : pages de résultats manquantes ?",
        )
    for kind, count in sorted(resources.announced.items()):
        if resources.read_by_type[kind] < count:
            notes.add(
                "unites",
                "export_incomplet",
                f"le manifeste $export annonce {count} ressource(s) {kind}, les fichiers en "
                f"contiennent {resources.read_by_type[kind]} : fichiers manquants ?",
            )
    if resources.duplicates:
        notes.add(
            "unites",
            "ressources_en_double",
            f"{resources.duplicates} ressource(s) présente(s) dans plusieurs pages : la "
            "version la plus récente (meta.lastUpdated) est retenue",
        )
    if resources.other_types:
        kinds = ", ".join(f"{k} ({n})" for k, n in sorted(resources.other_types.items()))
        notes.add("unites", "ressources_ignorees", f"ressources non utilisées : {kinds}")
    for text in resources.outcomes[:_MAX_LISTED]:
        notes.add("unites", "reponse_erreur", f"réponse d'erreur du serveur : {text}")
    if len(resources.outcomes) > _MAX_LISTED:
        notes.add(
            "unites",
            "reponse_erreur",
            f"… et {len(resources.outcomes) - _MAX_LISTED} autre(s) réponse(s) d'erreur",
        )
    if resources.bad_lines:
        listed = ", ".join(resources.bad_lines[:_MAX_LISTED])
        more = " …" if len(resources.bad_lines) > _MAX_LISTED else ""
        notes.add(
            "unites",
            "ligne_ndjson_illisible",
            f"{len(resources.bad_lines)} ligne(s) NDJSON illisible(s), ressource(s) perdue(s) : "
            f"{listed}{more}",
        )
    if services == 0:
        notes.add("offres", "aucune_offre", "aucune HealthcareService dans les fichiers")
