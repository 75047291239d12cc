"""What-if scenarios on the SMR offer: reading, checking, applying, saving in the store.

**Scenarios** (:class:`Scenario`, :func:`parse_scenario`, :func:`apply_scenario`). A named list
of changes, in order: add or remove a mention at an establishment, set the beds / places of a
mention (optionally of one forme), add a new site in a commune with one mention and capacity.
Applying it is a pure function of the canonical tables: it returns modified copies (new units
``SCN-U<n>``, new sites ``SCN<n>``, an SMR decision ``SCN-A<n>`` for each added mention, the
establishment's SMR decisions of a removed mention dropped). :func:`compare_scenario` recomputes
coverage, nearest time and accessibility with ``territories.territory_indicators`` on both
snapshots and returns per-commune and per-territory deltas and the population that gains or
loses an establishment within the threshold (default 30 min, the Carte page's parameters).
File format and examples: ``docs/scenarios/``. With an ``opening`` rule (the snapshot date
and the provisional-closure switch, :mod:`analysis.indicators.opening`), a change on an establishment
that is closed under the rule is refused (it cannot change the open offer), and both sides of
the comparison count only the open offer. The per-commune table has one row per origin:
Paris, Lyon and Marseille arrondissements when the communes frame splits them
(``geography.origins_from``), with ``code_commune`` beside each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from analysis.indicators import coverage
from analysis.indicators.opening import OpeningRule, closures, open_tables
from analysis.io.files import folder_files, write_atomic
from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.model.errors import InputError, StoreError
from analysis.model.text import strip_accents
from analysis.transition.correspondence import MAX_FILE_BYTES

# ---------------------------------------------------------------------------- scenarios

#: Change actions → French label.
ACTIONS: dict[str, str] = {
    "ajouter_mention": "Ajouter une mention à un établissement",
    "retirer_mention": "Retirer une mention à un établissement",
    "modifier_capacite": "Modifier les lits / places d'une mention",
    "nouveau_site": "Nouveau site dans une commune",
}
DEFAULT_FORME = "HC"
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
SCENARIO_DIR = "scenarios"
_FIELDS = (
    "action",
    "finess_eg",
    "commune_insee",
    "nom",
    "mention",
    "forme",
    "lits",
    "places",
    "latitude",
    "longitude",
)
_REQUIRED: dict[str, tuple[str, ...]] = {
    "ajouter_mention": ("finess_eg", "mention"),
    "retirer_mention": ("finess_eg", "mention"),
    "modifier_capacite": ("finess_eg", "mention"),
    "nouveau_site": ("commune_insee", "mention"),
}
_ALLOWED: dict[str, frozenset[str]] = {
    "ajouter_mention": frozenset({"finess_eg", "mention", "forme", "lits", "places"}),
    "retirer_mention": frozenset({"finess_eg", "mention"}),
    "modifier_capacite": frozenset({"finess_eg", "mention", "forme", "lits", "places"}),
    "nouveau_site": frozenset(
        {
            "commune_insee",
            "nom",
            "finess_eg",
            "mention",
            "forme",
            "lits",
            "places",
            "latitude",
            "longitude",
        }
    ),
}


@dataclass(frozen=True)
class Change:
    """One change of a scenario (see ``ACTIONS``). Capacities are beds / places (≥ 0)."""

    action: str
    mention: str
    finess_eg: str | None = None
    commune_insee: str | None = None
    nom: str | None = None
    forme: str | None = None
    lits: int | None = None
    places: int | None = None
    latitude: float | None = None
    longitude: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The change as written in a scenario file (empty fields left out)."""
        return {k: getattr(self, k) for k in _FIELDS if getattr(self, k) is not None}

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """A French sentence for tables and summaries."""
        names = names or {}
        who = names.get(self.finess_eg or "", self.finess_eg or "")
        what = nom.mention_label(self.mention)
        cap = ", ".join(
            f"{v} {k}" for k, v in (("lits", self.lits), ("places", self.places)) if v is not None
        )
        forme = f" en {self.forme}" if self.forme else ""
        if self.action == "ajouter_mention":
            return f"{who} : ajout de la mention {what}{forme} ({cap or 'sans capacité'})"
        if self.action == "retirer_mention":
            return f"{who} : retrait de la mention {what}"
        if self.action == "modifier_capacite":
            return f"{who} : {what}{forme} portée à {cap}"
        place = names.get(self.commune_insee or "", self.commune_insee or "")
        return f"nouveau site à {place} : {what}{forme} ({cap or 'sans capacité'})"


@dataclass(frozen=True)
class Scenario:
    """A named, described list of changes applied in order."""

    nom: str
    description: str = ""
    changements: tuple[Change, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "nom": self.nom,
            "description": self.description,
            "changements": [c.to_dict() for c in self.changements],
        }

    def to_yaml(self) -> str:
        """The scenario as a YAML file (the format of ``docs/scenarios/``)."""
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=100)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @property
    def slug(self) -> str:
        """The name made safe for a file name (``pediatrie_en_grande_couronne``)."""
        return _slug(self.nom)

    @property
    def mentions(self) -> list[str]:
        """Mentions the scenario touches, in order of first appearance."""
        return list(dict.fromkeys(c.mention for c in self.changements))


def _capacity(value: Any, what: str, where: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        problems.append(f"{where} : {what} invalide « {value} » (nombre entier attendu)")
        return None
    text = str(value).strip()
    number = float(text) if re.fullmatch(r"-?\d+(\.0*)?", text) else None
    if number is None:
        problems.append(f"{where} : {what} invalide « {value} » (nombre entier attendu)")
        return None
    if number < 0:
        problems.append(f"{where} : capacité négative ({what} = {int(number)})")
        return None
    return int(number)


def _coordinate(
    value: Any, what: str, low: float, high: float, where: str, problems: list[str]
) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (low <= number <= high):
        problems.append(f"{where} : {what} invalide « {value} » (degrés WGS84 attendus)")
        return None
    return number


def _change(raw: Any, where: str, problems: list[str]) -> Change | None:
    """A change from its file form, with every structural problem added to ``problems``."""
    if not isinstance(raw, Mapping):
        problems.append(f"{where} : un changement (action, finess_eg, mention…) est attendu")
        return None
    action = str(raw.get("action") or "").strip()
    if action not in ACTIONS:
        problems.append(
            f"{where} : action inconnue « {action or '(vide)'} » ; actions : " + ", ".join(ACTIONS)
        )
        return None
    where = f"{where} ({action})"
    before = len(problems)
    unknown = sorted(set(map(str, raw)) - _ALLOWED[action] - {"action"})
    if unknown:
        problems.append(
            f"{where} : champ(s) inattendu(s) {', '.join(unknown)} ; champs possibles : "
            + ", ".join(sorted(_ALLOWED[action]))
        )
    for key in _REQUIRED[action]:
        if raw.get(key) in (None, ""):
            problems.append(f"{where} : champ « {key} » manquant")
    mention = None
    if raw.get("mention") not in (None, ""):
        mention = nom.find_mention(str(raw["mention"]))
        if mention is None:
            problems.append(
                f"{where} : mention inconnue « {raw['mention']} » ; codes : "
                + ", ".join(m.code for m in nom.MENTIONS)
            )
    forme = raw.get("forme")
    if forme not in (None, ""):
        forme = nom.find_forme(str(forme))
        if forme is None:
            problems.append(
                f"{where} : forme inconnue « {raw['forme']} » ; formes : "
                + ", ".join(nom.FORME_BY_CODE)
            )
    else:
        forme = DEFAULT_FORME if action in ("ajouter_mention", "nouveau_site") else None
    lits = _capacity(raw.get("lits"), "lits", where, problems)
    places = _capacity(raw.get("places"), "places", where, problems)
    if action == "modifier_capacite" and raw.get("lits") is None and raw.get("places") is None:
        problems.append(f"{where} : « lits » ou « places » attendu")
    if action in ("ajouter_mention", "nouveau_site"):
        lits, places = lits or 0, places or 0
    lat = _coordinate(raw.get("latitude"), "latitude", -90, 90, where, problems)
    lon = _coordinate(raw.get("longitude"), "longitude", -180, 180, where, problems)
    if (lat is None) != (lon is None) and not problems[before:]:
        problems.append(f"{where} : latitude et longitude vont ensemble")
    finess = str(raw["finess_eg"]).strip() if raw.get("finess_eg") not in (None, "") else None
    commune = raw.get("commune_insee")
    commune = str(commune).strip().zfill(5) if commune not in (None, "") else None
    if len(problems) > before:
        return None
    return Change(
        action=action,
        mention=mention or "",
        finess_eg=finess,
        commune_insee=commune,
        nom=str(raw["nom"]).strip() if raw.get("nom") not in (None, "") else None,
        forme=forme,
        lits=lits,
        places=places,
        latitude=lat,
        longitude=lon,
    )


def _raise(problems: list[str], source: object) -> None:
    """One French line: up to three problems and how many more."""
    if problems:
        shown = " ; ".join(problems[:3])
        more = f" (et {len(problems) - 3} autre(s) erreur(s))" if len(problems) > 3 else ""
        raise InputError(f"scénario invalide : {shown}{more}", source)


def scenario_from_dict(data: Any, source: object = None) -> Scenario:
    """A scenario from its file form (``nom``, ``description``, ``changements``), checked for
    structure, codes and capacities; ``InputError`` listing the problems otherwise."""
    if not isinstance(data, Mapping):
        raise InputError(
            "scénario invalide : un objet avec « nom », « description » et « changements » est "
            "attendu",
            source,
        )
    problems: list[str] = []
    unknown = sorted(set(map(str, data)) - {"nom", "description", "changements", "version"})
    if unknown:
        problems.append(
            f"clé(s) inattendue(s) {', '.join(unknown)} ; clés : nom, description, changements"
        )
    name = str(data.get("nom") or "").strip()
    if not name:
        problems.append("« nom » manquant")
    raw_changes = data.get("changements")
    if raw_changes is None:
        # A YAML file cut before its list reads as a valid mapping: absent or empty
        # « changements » is refused so a truncated file is not taken for "no change".
        problems.append(
            "« changements » absent ou vide (fichier tronqué ?) ; un scénario sans "
            "changement s'écrit « changements: [] »"
        )
        raw_changes = []
    elif not isinstance(raw_changes, list):
        problems.append("« changements » doit être une liste")
        raw_changes = []
    changes = [_change(c, f"changement {i}", problems) for i, c in enumerate(raw_changes, 1)]
    _raise(problems, source)
    return Scenario(
        nom=name,
        description=str(data.get("description") or "").strip(),
        changements=tuple(c for c in changes if c is not None),
    )


def parse_scenario(data: bytes | str, name: str = "scénario") -> Scenario:
    """A scenario from the text of a YAML or JSON file; ``name`` says which in errors."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw.strip():
        raise InputError("scénario invalide : fichier vide", name)
    if len(raw) > MAX_FILE_BYTES:
        raise InputError("scénario invalide : fichier trop volumineux (plus de 1 Mo)", name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("scénario invalide : texte UTF-8 attendu", name) from None
    try:
        if Path(str(name)).suffix.lower() == ".json" or text.lstrip().startswith("{"):
            loaded = json.loads(text)
        else:
            loaded = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        reason = f"JSON illisible ligne {exc.lineno} : {exc.msg}"
        raise InputError(f"scénario invalide : fichier mal formé ({reason})", name) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ligne {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        reason = f"YAML illisible{where} : {problem}"
        raise InputError(f"scénario invalide : fichier mal formé ({reason})", name) from None
    return scenario_from_dict(loaded, name)


def read_scenario(path: str | Path) -> Scenario:
    """A scenario file (``.yaml``, ``.yml`` or ``.json``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("fichier de scénario introuvable", path)
    if path.suffix.lower() not in SCENARIO_SUFFIXES:
        raise InputError(
            f"scénario : extension « {path.suffix} » non reconnue ; extensions : "
            + ", ".join(SCENARIO_SUFFIXES),
            path,
        )
    return parse_scenario(path.read_bytes(), str(path))


def _commune_key(code: str, communes: pl.DataFrame | None = None) -> str:
    """The code a new site takes: an origin's code as given (an arrondissement such as 75113
    when the frame splits Paris), else the commune it maps to (751xx → 75056)."""
    text = code.strip().upper()
    if communes is not None and text in set(communes["commune_insee"].to_list()):
        return text
    return pl.select(coverage.commune_code(pl.lit(text))).item()


def _closed_message(
    tables: Mapping[str, pl.DataFrame], opening: OpeningRule | None
) -> dict[str, str]:
    """FINESS → French reason, for establishments closed under ``opening`` (none without)."""
    if opening is None:
        return {}
    found = closures(tables, opening.as_of).filter(pl.col("niveau") == "etablissement")
    out = {}
    for finess, kind, date in found.select(
        "finess_eg", "type_fermeture", "date_fermeture"
    ).iter_rows():
        if kind == nom.FERMETURE_DEFINITIVE:
            out[finess] = f"fermé définitivement depuis le {date:%d/%m/%Y}"
        elif not opening.include_provisional:
            out[finess] = (
                f"fermé provisoirement depuis le {date:%d/%m/%Y} (ses changements ne comptent que "
                "si les fermetures provisoires sont incluses)"
            )
    return out


def check_scenario(
    scenario: Scenario,
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    source: object = None,
    opening: OpeningRule | None = None,
) -> None:
    """Check a scenario against a snapshot and the region's communes, change by change in
    order (a new site can then receive other changes): unknown FINESS or commune, a change on
    an establishment closed under ``opening``, a mention added twice, or removed / resized
    where it is not offered (open offer only with ``opening``). ``InputError`` otherwise."""
    etabs = set(tables["etablissements"]["finess_eg"].to_list())
    closed = _closed_message(tables, opening)
    offered = set(
        coverage.offers_by_establishment(tables, opening=opening)
        .select("finess_eg", "mention")
        .unique()
        .iter_rows()
    )
    keyed = coverage.with_territory_keys(communes)
    known_communes = set(keyed["commune_insee"].to_list()) | set(keyed["code_commune"].to_list())
    problems: list[str] = []
    for i, c in enumerate(scenario.changements, 1):
        where = f"changement {i} ({c.action})"
        label = nom.mention_label(c.mention)
        if c.action == "nouveau_site":
            if _commune_key(c.commune_insee or "", communes) not in known_communes:
                problems.append(f"{where} : commune inconnue « {c.commune_insee} » dans la région")
            finess = c.finess_eg or _new_site_id(i)
            if finess in etabs:
                problems.append(f"{where} : l'identifiant « {finess} » existe déjà")
            etabs.add(finess)
            offered.add((finess, c.mention))
            continue
        if c.finess_eg not in etabs:
            problems.append(f"{where} : FINESS inconnu « {c.finess_eg} » dans l'instantané")
            continue
        if c.finess_eg in closed:
            problems.append(f"{where} : l'établissement {c.finess_eg} est {closed[c.finess_eg]}")
            continue
        present = (c.finess_eg, c.mention) in offered
        if c.action == "ajouter_mention" and present:
            problems.append(
                f"{where} : {c.finess_eg} offre déjà la mention {label} (action "
                "« modifier_capacite » pour changer sa capacité)"
            )
        elif c.action in ("retirer_mention", "modifier_capacite") and not present:
            problems.append(f"{where} : {c.finess_eg} n'offre pas la mention {label}")
        if c.action == "ajouter_mention":
            offered.add((c.finess_eg, c.mention))
        elif c.action == "retirer_mention":
            offered.discard((c.finess_eg, c.mention))
    _raise(problems, source)


def _new_site_id(index: int) -> str:
    """Identifier of the new site of change ``index`` (9 characters, like a FINESS)."""
    return f"SCN{index:06d}"


_FORME_AUTORISATION = {"HC": "01", "HS": "01", "HJ": "03", "HN": "04"}


def _split(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder; all to the first
    when the weights sum to 0)."""
    if not weights:
        return []
    s = sum(weights)
    if s <= 0:
        return [total] + [0] * (len(weights) - 1)
    shares = [total * w / s for w in weights]
    out = [int(x) for x in shares]
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def apply_scenario(
    tables: Mapping[str, pl.DataFrame],
    scenario: Scenario,
    communes: pl.DataFrame,
    source: object = None,
    opening: OpeningRule | None = None,
) -> dict[str, pl.DataFrame]:
    """The snapshot as the scenario would make it (pure: ``tables`` are not modified); with
    ``opening``, restricted to the offer open under that rule (``opening.open_tables``).

    Checks the scenario first (:func:`check_scenario`, with ``opening``). Per change: ``ajouter_mention`` adds a
    unit ``SCN-U<i>`` with one offer and an SMR decision ``SCN-A<i>``; ``retirer_mention``
    removes the establishment's offers of the mention and its SMR decisions for it;
    ``modifier_capacite`` sets the total beds and/or places of the mention (of one forme if
    given; a new forme goes to the first unit offering the mention), split over the existing
    offers in proportion to their current values (evenly over the offers whose forme counts
    beds, or places, when all are 0); ``nouveau_site`` adds an establishment
    ``SCN<i>`` (or the given identifier) in the commune, at its representative point unless
    coordinates are given, with a unit, an offer and a decision. ``source`` names the
    scenario file in errors.
    """
    check_scenario(scenario, tables, communes, source, opening)
    out = {name: frame for name, frame in tables.items()}
    etabs = out["etablissements"]
    units = out["unites"]
    offres = out["offres"]
    auths = out.get("autorisations", schema.empty("autorisations"))
    names = dict(zip(communes["commune_insee"], communes["nom"], strict=True))

    def frame(table: str, row: dict[str, Any]) -> pl.DataFrame:
        return schema.conform(pl.DataFrame([row]), table)

    def add_offer(i: int, finess: str, c: Change) -> None:
        nonlocal units, offres, auths
        uo = f"SCN-U{i:03d}"
        units = pl.concat(
            [
                units,
                frame(
                    "unites",
                    {
                        "uo_id": uo,
                        "finess_eg": finess,
                        "discipline": "SMR",
                        "nom": f"SMR {nom.mention_label(c.mention, short=True).lower()} (scénario)",
                    },
                ),
            ]
        )
        offres = pl.concat(
            [
                offres,
                frame(
                    "offres",
                    {
                        "uo_id": uo,
                        "mention": c.mention,
                        "forme": c.forme,
                        "lits": c.lits,
                        "places": c.places,
                    },
                ),
            ]
        )
        auths = pl.concat(
            [
                auths,
                frame(
                    "autorisations",
                    {
                        "autorisation_id": f"SCN-A{i:03d}",
                        "finess_eg": finess,
                        "regime": "SMR",
                        "mention": c.mention,
                        "forme": _FORME_AUTORISATION.get(c.forme or "", "00"),
                    },
                ),
            ]
        )

    for i, c in enumerate(scenario.changements, 1):
        if c.action == "nouveau_site":
            finess = c.finess_eg or _new_site_id(i)
            commune = _commune_key(c.commune_insee or "", communes)
            etabs = pl.concat(
                [
                    etabs,
                    frame(
                        "etablissements",
                        {
                            "finess_eg": finess,
                            "raison_sociale": c.nom
                            or f"Nouveau site {nom.mention_label(c.mention)} "
                            f"({names.get(commune, commune)})",
                            "commune_insee": commune,
                            "latitude": c.latitude,
                            "longitude": c.longitude,
                        },
                    ),
                ]
            )
            add_offer(i, finess, c)
            continue
        own_units = units.filter(pl.col("finess_eg") == c.finess_eg)["uo_id"]
        mine = pl.col("uo_id").is_in(own_units.implode()) & (pl.col("mention") == c.mention)
        if c.action == "ajouter_mention":
            add_offer(i, c.finess_eg or "", c)
        elif c.action == "retirer_mention":
            offres = offres.filter(~mine)
            auths = auths.filter(
                ~(
                    (pl.col("finess_eg") == c.finess_eg)
                    & (pl.col("regime") == "SMR")
                    & (pl.col("mention") == c.mention)
                )
            )
        else:
            offres = _set_capacity(offres, mine, c)
    out = out | {
        "etablissements": etabs,
        "unites": units,
        "offres": offres,
        "autorisations": auths,
    }
    return out if opening is None else open_tables(out, opening)


def _set_capacity(offres: pl.DataFrame, mine: pl.Expr, c: Change) -> pl.DataFrame:
    """``offres`` with the establishment's beds / places of the mention set (see apply)."""
    offres = offres.with_row_index("_i")
    matched = offres.filter(mine)
    target = matched if c.forme is None else matched.filter(pl.col("forme") == c.forme)
    if target.height == 0:  # a forme the mention does not have yet: on its first unit
        first = matched.sort("uo_id").row(0, named=True)
        new = schema.conform(
            pl.DataFrame(
                [
                    {
                        "uo_id": first["uo_id"],
                        "mention": c.mention,
                        "forme": c.forme,
                        "lits": c.lits,
                        "places": c.places,
                    }
                ]
            ),
            "offres",
        )
        return pl.concat([offres.drop("_i"), new])
    target = target.sort("uo_id", "forme")
    updates: dict[str, dict[int, int]] = {}
    for column, total in (("lits", c.lits), ("places", c.places)):
        if total is None:
            continue
        current = target[column].fill_null(0).to_list()
        if sum(current) == 0:  # nothing to follow: the rows whose forme counts this column
            current = [
                int(getattr(nom.FORME_BY_CODE.get(f), "capacite", None) == column)
                for f in target["forme"].to_list()
            ]
        updates[column] = dict(zip(target["_i"].to_list(), _split(total, current), strict=True))
    for column, values in updates.items():
        offres = offres.with_columns(
            pl.col("_i")
            .replace_strict(values, default=None, return_dtype=pl.Int32)
            .fill_null(pl.col(column))
            .alias(column)
        )
    return offres.drop("_i")


# --------------------------------------------------------------------- scenario folder


def scenario_dir(store: str | Path) -> Path:
    """The folder of saved scenarios inside a store."""
    return Path(store) / SCENARIO_DIR


def _slug(text: str) -> str:
    folded = strip_accents(text).lower()
    slug = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    return slug[:60] or "scenario"


def scenario_path(store: str | Path, filename: str) -> Path:
    """Path of a saved scenario file, refusing any name that would leave the store's
    ``scenarios/`` folder (separators, ``..``, links pointing elsewhere)."""
    folder = scenario_dir(store)
    name = str(filename)
    if (
        not name
        or name != Path(name).name
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or Path(name).suffix.lower() not in SCENARIO_SUFFIXES
    ):
        raise InputError(
            f"nom de fichier de scénario refusé « {filename} » : un simple nom se terminant par "
            + ", ".join(SCENARIO_SUFFIXES)
            + " est attendu"
        )
    path = folder / name
    root = Path(store).resolve()
    if not path.resolve().is_relative_to(root / SCENARIO_DIR) or not (
        folder.resolve().is_relative_to(root)
    ):
        raise StoreError(f"le scénario « {filename} » sortirait du magasin {store}")
    return path


def saved_scenarios(store: str | Path) -> list[str]:
    """File names of the scenarios saved in the store (sorted)."""
    return [
        p.name
        for p in folder_files(scenario_dir(store), lambda p: p.suffix.lower() in SCENARIO_SUFFIXES)
    ]


def load_saved_scenario(store: str | Path, filename: str) -> Scenario:
    """A scenario saved in the store."""
    return read_scenario(scenario_path(store, filename))


def save_scenario(
    store: str | Path, scenario: Scenario, filename: str | None = None, replace: bool = False
) -> Path:
    """Write the scenario as YAML into ``<store>/scenarios/`` (atomic); returns the path.

    The file name defaults to the scenario's name made safe (``pediatrie_77.yaml``); an
    existing file is replaced only when asked.
    """
    if not Path(store).is_dir():
        raise StoreError(f"magasin introuvable : {store}")
    path = scenario_path(store, filename or f"{scenario.slug}.yaml")
    if path.exists() and not replace:
        raise StoreError(f"le scénario {path.name} existe déjà dans le magasin")
    path.parent.mkdir(exist_ok=True)
    text = scenario.to_json() if path.suffix.lower() == ".json" else scenario.to_yaml()
    return write_atomic(path, text)


