"""Deterministic demo store: a fictitious SMR offer placed on real communes.

The demo tells the story of the SSR → SMR data-update campaign over eleven snapshots
(March–July 2023): contacts filled in little by little (with typing mistakes, corrections
and a few regressions), units renamed from SSR to SMR after 1 June 2023, new SMR
authorisations replacing the old SSR activities 50–59, ROR ↔ ViaTrajectoire
synchronisation improving, two establishments opening and one closing, and findings for
every ROR quality requirement (a FINESS reference with establishments missing from the ROR,
closures and categories that disagree, a duplicated national identifier, offers without
champ or activité opérationnelle; see ``_draw_quality``). Every name, number
and contact is fictitious (« (fictif) » in each establishment name, ``-fictif.fr`` e-mail
domains); the communes, their populations and representative points are real.

The world is drawn once from the seed as entities whose fields change at dated steps; a
snapshot is the state of every entity at the end of its day. Same seed, same bytes.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import shapely

from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.model.errors import SmrError, SnapshotExistsError
from analysis.model.progress import Progress, step
from analysis.model.text import fold as _fold

DEFAULT_SEED = 20230601

# fmt: off
#: Snapshot dates: every fortnight from early March to the end of July 2023.
SNAPSHOT_DATES: tuple[date, ...] = tuple(
    date.fromisoformat(d)
    for d in (
        "2023-03-01", "2023-03-15", "2023-04-01", "2023-04-15", "2023-05-01", "2023-05-15",
        "2023-06-01", "2023-06-15", "2023-07-01", "2023-07-15", "2023-07-31",
    )
)
CAMPAIGN_START = date(2023, 3, 15)
REFORM_DATE = date(2023, 6, 1)

# Volumes per million inhabitants, calibrated on Île-de-France (12.2 M inhabitants:
# about 170 SMR establishments, 18,000 beds, 3,000 day places, 15 guichets uniques).
ESTABLISHMENTS_PER_MILLION = 14.0
#: Floor for small regions (Corse: 0.34 M inhabitants): the quality story alone needs 14
#: establishments that neither open nor close during the series.
MIN_ESTABLISHMENTS = 20
LITS_PER_ESTABLISHMENT = 106.0
PLACES_PER_ESTABLISHMENT = 17.6
GUICHETS_PER_ESTABLISHMENT = 15 / 170

#: Share of establishments holding each mention (IDF-like rarity; at least one holder each).
MENTION_SHARES: dict[str, float] = {
    "ME050": 0.62, "ME059": 0.55, "ME051": 0.33, "ME052": 0.27,
    "ME053": 0.12, "ME054": 0.10, "ME055": 0.09, "ME058": 0.09, "ME062": 0.08,
    "ME060": 0.035, "ME061": 0.03, "ME056": 0.018, "ME057": 0.009,
}
STATUT_SHARES: dict[str, float] = {
    "public": 0.37, "prive_non_lucratif": 0.29, "prive_lucratif": 0.34,
}
_CATEGORIES: dict[str, tuple[tuple[str, float], ...]] = {
    "public": (("355", 0.55), ("101", 0.20), ("106", 0.10), ("109", 0.15)),
    "prive_non_lucratif": (("109", 0.75), ("365", 0.25)),
    "prive_lucratif": (("109", 0.70), ("365", 0.30)),
}
#: Old SSR activity (TRE_R274) of each adult mention (inverse of ``SSR_TO_SMR``).
_ACTIVITY: dict[str, str] = {
    m: act for act, mentions in nom.SSR_TO_SMR.items() for m in mentions
}
_PHONE_PREFIX: dict[str, str] = {
    "11": "01", "24": "02", "28": "02", "52": "02", "53": "02", "27": "03", "32": "03",
    "44": "03", "84": "04", "93": "04", "94": "04", "75": "05", "76": "05",
    "01": "0590", "02": "0596", "03": "0594", "04": "0262", "06": "0269",
}
_OVERSEAS_FINESS = {"971": "9A", "972": "9B", "973": "9C", "974": "9D", "976": "9F"}

_FIRST_NAMES = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sophie", "Anne", "Céline",
    "Julie", "Claire", "Camille", "Hélène", "Émilie", "Sandrine", "Aurélie", "Jean", "Pierre",
    "Nicolas", "Philippe", "Michel", "Alain", "Thomas", "Julien", "François", "Laurent",
    "Éric", "Olivier", "Stéphane", "David", "Christophe", "Jean-Marc", "Anne-Sophie",
)
_LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Chevalier", "Gauthier",
)
_MOTIFS = (
    "des Tilleuls", "des Peupliers", "des Chênes", "des Cèdres", "des Marronniers",
    "des Acacias", "des Platanes", "des Érables", "des Charmes", "des Bouleaux", "des Saules",
    "des Ormes", "des Glycines", "des Lilas", "des Magnolias", "des Pins", "des Frênes",
    "des Hêtres", "des Mimosas", "des Châtaigniers", "du Parc", "du Val", "du Bois",
    "du Château", "des Coteaux", "de la Source", "de la Vallée", "des Jardins", "du Moulin",
    "de la Forêt", "des Sablons", "de l'Orangerie", "des Vignes", "du Prieuré",
    "de la Roseraie", "des Rives", "du Plateau", "des Prés", "des Sources", "du Belvédère",
)
_STREETS = (
    "rue des Tilleuls", "avenue Victor Hugo", "rue Jean Jaurès", "boulevard de la République",
    "avenue du Général Leclerc", "rue Pasteur", "rue de Paris", "allée du Château",
    "rue des Écoles", "avenue de la Gare", "rue Gambetta", "avenue Foch", "chemin du Moulin",
    "rue des Lilas", "boulevard de Verdun", "place de l'Église", "rue du Docteur Roux",
    "avenue des Peupliers", "rue Nationale", "rue de la Croix Blanche",
)
_OLD_UNIT_NAMES: dict[str, tuple[str, ...]] = {
    "ME050": ("SSR polyvalent", "Soins de suite polyvalents", "SSR indifférencié"),
    "ME059": ("SSR gériatrique", "SSR personnes âgées polypathologiques",
              "Soins de suite gériatriques"),
    "ME051": ("SSR locomoteur", "Rééducation orthopédique", "SSR appareil locomoteur"),
    "ME052": ("SSR neurologique", "Rééducation neurologique", "SSR système nerveux"),
    "ME053": ("SSR cardiologique", "Réadaptation cardiaque"),
    "ME054": ("SSR respiratoire", "Réhabilitation respiratoire"),
    "ME055": ("SSR nutrition obésité", "SSR digestif et nutrition"),
    "ME057": ("SSR brûlés",),
    "ME058": ("SSR addictologie", "Soins de suite addictologiques"),
    "ME060": ("SSR pédiatrique", "SSR enfants et adolescents"),
    "ME061": ("SSR pédiatrique", "SSR petite enfance"),
    "ME062": ("SSR oncologie", "SSR cancérologie"),
    "ME056": ("SSR onco-hématologie",),
}
_FLOORS = (" 1er étage", " 2e étage", " 3e étage", " – bâtiment B", " – unité Les Lilas",
           " – pavillon Est")
_VT_ONLY_NAMES = (
    "Consultations de réadaptation", "SSR polyvalent – ancienne unité", "HDJ gériatrique (fermé)",
    "Unité de soins de suite – site annexe", "Lits identifiés soins palliatifs",
)
_SECTORS = ("Nord", "Sud", "Est", "Ouest", "Centre", "Nord-Est", "Sud-Ouest", "Nord-Ouest")

# fmt: on

_ORIGIN = datetime(2000, 1, 1)
_HC_FORMES = ("HC", "HS")


# ---------------------------------------------------------------------------- helpers


def _slug(text: str) -> str:
    """A domain-name part: folded words joined by hyphens."""
    out = "".join(ch if ch.isalnum() else "-" for ch in _fold(text))
    return "-".join(p for p in out.split("-") if p)


def _de(place: str) -> str:
    """French « de » before a commune name, with elision and contraction."""
    if place.startswith("Le "):
        return "du " + place[3:]
    if place.startswith("Les "):
        return "des " + place[4:]
    if _fold(place[:1]) in "aeiouyh":
        return "d'" + place
    return "de " + place


def _pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _moment(rng: np.random.Generator, start: date, end: date, skew: float = 1.0) -> datetime:
    """A working-hours timestamp between two days; ``skew`` > 1 favours early days."""
    span = (end - start).days
    day = start + timedelta(days=int(min(span, np.floor(rng.beta(1.0, skew) * (span + 1)))))
    if day.weekday() >= 5:  # weekend: the Friday before, else the Monday after, if in range
        friday = day - timedelta(days=day.weekday() - 4)
        monday = day + timedelta(days=7 - day.weekday())
        day = friday if friday >= start else monday if monday <= end else day
    minutes = int(rng.integers(8 * 60, 19 * 60))
    return datetime.combine(day, time(minutes // 60, minutes % 60, int(rng.integers(60))))


def _phone(rng: np.random.Generator, prefix: str) -> str:
    digits = prefix + str(int(rng.integers(3, 10)))
    digits += "".join(str(int(d)) for d in rng.integers(0, 10, size=10 - len(digits)))
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def _bad_phone(rng: np.random.Generator, phone: str) -> str:
    """A phone number as a spreadsheet or a hurried typist leaves it."""
    digits = phone.replace(" ", "")
    return digits[1:] if rng.random() < 0.7 else phone[:11]


def _bad_email(rng: np.random.Generator, email: str) -> str:
    local, domain = email.split("@")
    kind = int(rng.integers(3))
    if kind == 0:
        return f"contact@@{domain}"
    if kind == 1:
        return f"{local}.{domain}"
    return f"{local}@{domain.rsplit('.', 1)[0]}"


def _person(rng: np.random.Generator) -> tuple[str, str]:
    return _pick(rng, _FIRST_NAMES), _pick(rng, _LAST_NAMES)


def _email(person: tuple[str, str], domain: str) -> str:
    first, last = (_slug(p).replace("-", "") if " " in p else _slug(p) for p in person)
    return f"{first}.{last}@{domain}"


def _allocate(weights: np.ndarray, total: int, minimum: int) -> np.ndarray:
    """Integer split of ``total`` proportional to ``weights`` (largest remainder)."""
    k = len(weights)
    base = np.full(k, min(minimum, total // k), dtype=np.int64)
    share = weights / weights.sum() * (total - base.sum())
    counts = base + np.floor(share).astype(np.int64)
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


# ---------------------------------------------------------------------------- entities


class _Entity:
    """A row whose fields change at dated steps; ``date_maj`` follows every touch."""

    __slots__ = ("key", "static", "tracks", "touches", "opened", "closed")

    def __init__(self, key: str, static: dict[str, Any], opened: datetime | None = None) -> None:
        self.key = key
        self.static = static
        self.tracks: dict[str, list[tuple[datetime, Any]]] = {}
        self.touches: list[datetime] = []
        self.opened = opened  # exists from this moment (None: before the series)
        self.closed: datetime | None = None  # gone from this moment

    def init(self, name: str, value: Any) -> None:
        self.tracks[name] = [(_ORIGIN, value)]

    def set(self, name: str, moment: datetime, value: Any, touch: bool = True) -> None:
        bisect.insort(self.tracks[name], (moment, value), key=lambda step: step[0])
        if touch:
            self.touches.append(moment)

    def get(self, name: str, cutoff: datetime) -> Any:
        """Value of ``name`` just before ``cutoff``."""
        value = None
        for moment, v in self.tracks[name]:
            if moment >= cutoff:
                break
            value = v
        return value

    def changes(self, name: str) -> list[tuple[datetime, Any]]:
        return self.tracks[name]

    def exists(self, cutoff: datetime) -> bool:
        return (self.opened is None or self.opened < cutoff) and (
            self.closed is None or self.closed >= cutoff
        )

    def date_maj(self, cutoff: datetime) -> datetime | None:
        past = [t for t in self.touches if t < cutoff]
        return max(past) if past else None


@dataclass
class _Estab:
    entity: _Entity
    dep: str
    statut: str
    categorie: str
    size: float
    mentions: list[str] = field(default_factory=list)
    sessions: list[datetime] = field(default_factory=list)  # campaign sessions (edits)
    domain: str = ""
    units: list[_Entity] = field(default_factory=list)


@dataclass
class _World:
    region: str
    estabs: list[_Estab]
    units: list[_Entity]
    offres: list[_Entity]
    autorisations: list[_Entity]
    vts: list[_Entity]
    guichets: list[dict[str, str]]
    quality: _QualityStory | None = None
    habilitations: list[_Entity] = field(default_factory=list)


# ---------------------------------------------------------------------------- geography


def _places(region: str) -> tuple[pl.DataFrame, pl.DataFrame | None, dict[str, Any]]:
    """Communes of the region (sorted), municipal arrondissements if any, contours by code."""
    from analysis.geo import geography

    communes = geography.load_communes(region).sort("commune_insee")
    shapes = geography.load_communes_geo(region)
    contours = dict(zip(shapes["commune_insee"], shapes.geometry, strict=True))
    arr_geo = geography.load_arrondissements_geo(region)
    arrondissements = None
    if arr_geo is not None and len(arr_geo):
        arrondissements = pl.DataFrame(
            arr_geo.drop(columns=arr_geo.geometry.name).to_dict(orient="list")
        ).sort("commune_insee")
    return communes, arrondissements, contours


def _postal(rng: np.random.Generator, dep: str, arrondissement: str | None) -> str:
    if arrondissement is not None:
        if arrondissement.startswith("751"):
            return "750" + arrondissement[-2:]
        if arrondissement.startswith("6938"):
            return "6900" + arrondissement[-1]
        if arrondissement.startswith("132"):
            return "130" + arrondissement[-2:]
    if len(dep) == 3:
        return dep + f"{int(rng.integers(0, 10)) * 10:02d}"
    head = "20" if dep in ("2A", "2B") else dep
    return head + f"{int(rng.integers(0, 10)) * 100 + int(rng.integers(0, 10)) * 10:03d}"


def _draw_sites(
    rng: np.random.Generator,
    communes: pl.DataFrame,
    arr: pl.DataFrame | None,
    contours: dict[str, Any],
    n: int,
) -> list[dict[str, Any]]:
    """``n`` sites in real communes: more where people live, every département served."""
    deps = sorted(communes["departement"].unique().to_list())
    pop_dep = np.array(
        [communes.filter(pl.col("departement") == d)["population"].sum() for d in deps],
        dtype=float,
    )
    counts = _allocate(np.maximum(pop_dep, 1.0) ** 0.85, n, 3)
    sites: list[dict[str, Any]] = []
    for dep, count in zip(deps, counts, strict=True):
        sub = communes.filter(pl.col("departement") == dep)
        w = np.maximum(sub["population"].to_numpy().astype(float), 50.0) ** 0.9
        picks = rng.choice(sub.height, size=int(count), replace=True, p=w / w.sum())
        for i in picks:
            row = sub.row(int(i), named=True)
            site = {
                "commune_insee": row["commune_insee"],
                "commune": row["nom"],
                "dep": dep,
                "lat": row["lat_point"],
                "lon": row["lon_point"],
                "arrondissement": None,
            }
            if arr is not None:
                parts = arr.filter(pl.col("commune_parent") == row["commune_insee"])
                if parts.height:
                    pw = np.maximum(parts["population"].to_numpy().astype(float), 1.0)
                    part = parts.row(int(rng.choice(parts.height, p=pw / pw.sum())), named=True)
                    site.update(
                        lat=part["lat_point"],
                        lon=part["lon_point"],
                        arrondissement=part["commune_insee"],
                    )
            # A small jitter (≤ ~120 m) so that sites sharing a commune do not stack; kept
            # only if the point stays inside the commune.
            shape = contours.get(row["commune_insee"])
            for scale in (1.0, 0.5, 0.25, 0.0):
                lat = site["lat"] + float(rng.uniform(-1, 1)) * 0.0008 * scale
                lon = site["lon"] + float(rng.uniform(-1, 1)) * 0.0011 * scale
                if shape is None or scale == 0.0 or shapely.contains_xy(shape, lon, lat):
                    site.update(lat=lat, lon=lon)
                    break
            sites.append(site)
    return sites


# ---------------------------------------------------------------------------- establishments


def _finess(rng: np.random.Generator, dep: str, used: set[str]) -> str:
    prefix = _OVERSEAS_FINESS.get(dep, dep)[:2]
    while True:
        number = f"{prefix}0{int(rng.integers(0, 10**6)):06d}"
        if number not in used:
            used.add(number)
            return number


def _mention_weights(statut: str, categorie: str, size: float, mention: str) -> float:
    """How likely an establishment of this kind holds a mention (relative weight)."""
    chu = categorie == "101"
    if mention == "ME050":
        return 2.0 if categorie in ("355", "106") else 1.0
    if mention == "ME059":
        return 2.2 if statut == "public" else 1.0
    if mention in ("ME051", "ME052"):
        return size * (1.8 if categorie == "109" else 1.0)
    if mention in nom.PEDIATRIC_MENTIONS:
        return size * (2.0 if chu or statut == "prive_non_lucratif" else 0.6)
    if mention == "ME058":
        return 2.0 if statut == "prive_non_lucratif" else 1.0
    if mention in (nom.BURNS_MENTION, "ME056"):
        return size**3 * (3.0 if chu else 1.0)
    return size**2 * (2.0 if chu else 1.0)


def _draw_mentions(rng: np.random.Generator, estabs: list[_Estab], plain: list[int]) -> None:
    """Give each establishment its mentions with the rarity of ``MENTION_SHARES``.

    ``plain`` establishments (those that open during the series) get no rare mention, so
    that the rare counts stay stable over the snapshots.
    """
    n = len(estabs)
    held: list[list[str]] = [[] for _ in range(n)]
    for mention, share in MENTION_SHARES.items():
        rare = nom.MENTION_BY_CODE[mention].rarete == "rare"
        k = max(1, round(share * n))
        w = np.array([_mention_weights(e.statut, e.categorie, e.size, mention) for e in estabs])
        if rare:
            w[plain] = 0.0
        for i in sorted(rng.choice(n, size=k, replace=False, p=w / w.sum()).tolist()):
            held[i].append(mention)
    order = [m.code for m in nom.MENTIONS]
    for i, e in enumerate(estabs):
        mentions = held[i]
        pediatric = [m for m in mentions if m in nom.PEDIATRIC_MENTIONS]
        # Some pediatric holders are children's rehabilitation centres only.
        if pediatric and e.categorie == "109" and rng.random() < 0.6:
            mentions = [m for m in mentions if m in pediatric or m == nom.BURNS_MENTION]
        if not mentions:
            mentions = ["ME050" if rng.random() < 0.55 else "ME059"]
        e.mentions = sorted(set(mentions), key=order.index)


def _estab_name(
    rng: np.random.Generator, e: _Estab, commune: str, used: set[str]
) -> tuple[str, str, str]:
    """Raison sociale, nom d'usage and e-mail domain stem of a fictitious establishment."""
    place = commune.replace(" Arrondissement", "")
    pediatric_only = all(m in nom.PEDIATRIC_MENTIONS for m in e.mentions)
    for attempt in range(20):
        motif = _pick(rng, _MOTIFS)
        motif_slug = _slug(motif.split(" ", 1)[1].replace("la ", "").replace("l'", ""))
        if pediatric_only:
            choices = [
                (
                    f"Centre de réadaptation pédiatrique {_de(place)}",
                    f"SMR pédiatrique {_de(place)}",
                    f"crp-{_slug(place)}",
                ),
                (
                    f"Hôpital d'enfants {motif}",
                    f"Hôpital d'enfants {motif}",
                    f"enfants-{motif_slug}",
                ),
            ]
        elif e.categorie == "101":
            choices = [
                (
                    f"Hôpital universitaire {_de(place)} – site {motif}",
                    f"HU {place}",
                    f"hu-{_slug(place)}",
                )
            ]
        elif e.categorie == "355":
            choices = [(f"Centre hospitalier {_de(place)}", f"CH {place}", f"ch-{_slug(place)}")]
        elif e.categorie == "106":
            choices = [
                (f"Hôpital de proximité {_de(place)}", f"HP {place}", f"hopital-{_slug(place)}")
            ]
        elif e.categorie == "365":
            choices = [
                (f"Clinique {motif}", f"Clinique {motif}", f"clinique-{motif_slug}"),
                (f"Hôpital privé {_de(place)}", f"HP {place}", f"hp-{_slug(place)}"),
            ]
        else:
            choices = [
                (f"Clinique SMR {motif}", f"SMR {motif}", f"smr-{motif_slug}"),
                (
                    f"Centre de réadaptation {_de(place)}",
                    f"Réadaptation {place}",
                    f"readaptation-{_slug(place)}",
                ),
                (f"Centre de rééducation {motif}", f"CRF {motif}", f"crf-{motif_slug}"),
                (f"Maison de réadaptation {motif}", f"MR {motif}", f"mr-{motif_slug}"),
            ]
        name, short, stem = _pick(rng, choices)
        if attempt >= 2:  # same name already taken: add a site marker
            site = _pick(rng, [m for m in _MOTIFS if m != motif])
            site_slug = _slug(site.split(" ", 1)[1].replace("la ", "").replace("l'", ""))
            name, short, stem = f"{name} – site {site}", f"{short} {site}", f"{stem}-{site_slug}"
        if name not in used:
            used.add(name)
            return f"{name} (fictif)", short, stem
    raise RuntimeError("demo: no free establishment name")  # pragma: no cover


def _draw_establishments(
    rng: np.random.Generator, sites: list[dict[str, Any]], region: str, n_open: int
) -> list[_Estab]:
    """Establishments on the drawn sites; the last ``n_open`` open during the series."""
    n = len(sites)
    statuts_count = _allocate(np.array(list(STATUT_SHARES.values())), n, 0)
    statuts = [s for s, c in zip(STATUT_SHARES, statuts_count, strict=True) for _ in range(c)]
    statuts = [statuts[i] for i in rng.permutation(n)]
    used_finess: set[str] = set()
    estabs: list[_Estab] = []
    for i, site in enumerate(sites):
        statut = statuts[i]
        cats, probs = zip(*_CATEGORIES[statut], strict=True)
        categorie = cats[int(rng.choice(len(cats), p=np.array(probs)))]
        size = float(rng.lognormal(0.0, 0.45)) * {"101": 1.3, "106": 0.6}.get(categorie, 1.0)
        finess = _finess(rng, site["dep"], used_finess)
        entity = _Entity(finess, {"site": site})
        estabs.append(_Estab(entity, site["dep"], statut, categorie, size))
    _draw_ej(rng, estabs, used_finess)
    plain = list(range(n - n_open, n))
    _draw_mentions(rng, estabs, plain)
    used_names: set[str] = set()
    used_domains: set[str] = set()
    prefix = _PHONE_PREFIX.get(region, "0" + str(1 + int(region) % 5))
    for e in estabs:
        site = e.entity.static["site"]
        name, short, stem = _estab_name(rng, e, site["commune"], used_names)
        domain = f"{stem}-fictif.fr"
        k = 2
        while domain in used_domains:
            domain, k = f"{stem}-{k}-fictif.fr", k + 1
        used_domains.add(domain)
        e.domain = domain
        director = _person(rng)
        e.entity.static.update(
            raison_sociale=name,
            surnom=short,
            director=director,
            phone_prefix=prefix,
            adresse=f"{int(rng.integers(1, 180))} {_pick(rng, _STREETS)}",
            code_postal=_postal(rng, e.dep, site["arrondissement"]),
            standard=_phone(rng, prefix),
        )
    return estabs


def _draw_ej(rng: np.random.Generator, estabs: list[_Estab], used: set[str]) -> None:
    """FINESS EJ: one public university group, a few private groups, others alone."""
    groups: dict[str, list[int]] = {}
    chu = [i for i, e in enumerate(estabs) if e.categorie == "101"]
    if len(chu) >= 2:
        groups["chu"] = chu
    for statut, per_group, p_join in (
        ("prive_lucratif", 14, 0.45),
        ("prive_non_lucratif", 16, 0.3),
    ):
        members = [i for i, e in enumerate(estabs) if e.statut == statut]
        n_groups = max(1, round(len(members) / per_group))
        for i in members:
            if rng.random() < p_join:
                groups.setdefault(f"{statut}-{int(rng.integers(n_groups))}", []).append(i)
    ej = [""] * len(estabs)
    for members in groups.values():
        if len(members) < 2:
            continue
        number = _finess(rng, estabs[members[0]].dep, used)
        for i in members:
            ej[i] = number
    for i, e in enumerate(estabs):
        e.entity.static["finess_ej"] = ej[i] or _finess(rng, e.dep, used)


# ---------------------------------------------------------------------------- units and offers


def _plan_units(rng: np.random.Generator, e: _Estab) -> list[tuple[tuple[str, ...], str]]:
    """Units of an establishment as (mentions, kind) with kind HC (beds) or HJ (places)."""
    order = [m.code for m in nom.MENTIONS]
    adult = [m for m in e.mentions if m not in nom.PEDIATRIC_MENTIONS]
    ped = [m for m in e.mentions if m in nom.PEDIATRIC_MENTIONS]
    plan: list[tuple[tuple[str, ...], str]] = []
    i = 0
    while i < len(adult):
        r = rng.random()
        k = 3 if r < 0.04 else 2 if r < 0.16 else 1
        plan.append((tuple(adult[i : i + k]), "HC"))
        i += k
    for m in ("ME050", "ME059"):
        if m in adult and rng.random() < min(0.8, 0.32 * e.size):
            plan.append(((m,), "HC"))  # a second floor of the same mention
    if ped:
        plan.append((tuple(ped), "HC"))
    special = [m for m in adult if m not in ("ME050", "ME059")]
    if adult and rng.random() < (0.62 if special else 0.3):
        pool = special or adult
        k = min(len(pool), 1 + int(rng.integers(0, 3)))
        chosen = sorted(rng.choice(len(pool), size=k, replace=False).tolist())
        plan.append((tuple(pool[j] for j in chosen), "HJ"))
    if ped and rng.random() < 0.6:
        plan.append((tuple(ped), "HJ"))
    while len(plan) > 6:  # merge small adult HC units, else drop a duplicate floor
        merged = False
        for a in range(len(plan)):
            for b in range(a + 1, len(plan)):
                (ma, ka), (mb, kb) = plan[a], plan[b]
                union = sorted(set(ma) | set(mb), key=order.index)
                if ka == kb == "HC" and len(union) <= 3 and not set(union) & nom.PEDIATRIC_MENTIONS:
                    plan[a] = (tuple(union), "HC")
                    del plan[b]
                    merged = True
                    break
            if merged:
                break
        if not merged:
            del plan[-1]
    return plan


def _unit_names(
    rng: np.random.Generator,
    mentions: tuple[str, ...],
    kind: str,
    formes: tuple[str, ...],
    used_old: set[str],
    used_new: set[str],
) -> tuple[str, str]:
    """Old-style SSR name and the SMR name the unit takes when renamed."""
    base = _pick(rng, _OLD_UNIT_NAMES[mentions[0]])
    if kind == "HJ":
        old = "Hôpital de jour SSR" if rng.random() < 0.4 else f"HDJ {base}"
    else:
        old = base + (" – semaine" if formes == ("HS",) else "")
    if old in used_old or rng.random() < 0.25:
        for floor in _FLOORS:
            if old + floor not in used_old:
                old += floor
                break
    used_old.add(old)
    label = " / ".join(nom.MENTION_BY_CODE[m].court for m in mentions)
    new = f"SMR {label} – {formes[0]}"
    k = 2
    while new in used_new:
        new, k = f"SMR {label} – {formes[0]} {k}", k + 1
    used_new.add(new)
    return old, new


def _draw_units(
    rng: np.random.Generator, estabs: list[_Estab], region: str
) -> tuple[list[_Entity], list[_Entity]]:
    """Units and their offers (unit × mention × forme) with capacities in beds or places."""
    used_ids: set[str] = set()
    units: list[_Entity] = []
    offres: list[_Entity] = []
    weights: list[float] = []
    for e in estabs:
        used_old: set[str] = set()
        used_new: set[str] = set()
        for mentions, kind in _plan_units(rng, e):
            if kind == "HC":
                r = rng.random()
                formes = ("HS",) if r < 0.04 else ("HC", "HS") if r < 0.08 else ("HC",)
            else:
                p_hn = 0.5 if "ME058" in mentions else 0.03
                formes = ("HJ", "HN") if rng.random() < p_hn else ("HJ",)
            while True:
                uo_id = f"{region}/{int(rng.integers(10**5, 10**7)):07d}"
                if uo_id not in used_ids:
                    used_ids.add(uo_id)
                    break
            old, new = _unit_names(rng, mentions, kind, formes, used_old, used_new)
            pediatric = any(m in nom.PEDIATRIC_MENTIONS for m in mentions)
            if pediatric:
                ages = (0 if "ME061" in mentions else (6 if rng.random() < 0.3 else 4), 17)
            elif mentions == ("ME059",) and rng.random() < 0.4:
                ages = (int(_pick(rng, (60, 65, 75))), 120)
            elif nom.BURNS_MENTION in mentions and rng.random() < 0.5:
                ages = (0, 120)  # burns unit taking children (needs a convention)
            else:
                ages = (18, 120)
            unit = _Entity(
                uo_id,
                {
                    "finess_eg": e.entity.key,
                    "mentions": mentions,
                    "kind": kind,
                    "formes": formes,
                    "old_name": old,
                    "new_name": new,
                    "ages": ages,
                    "pediatric": pediatric,
                    "estab": e,
                },
                opened=e.entity.opened,
            )
            e.units.append(unit)
            units.append(unit)
            scale = e.size**0.5 * (1.0 + 0.35 * (len(mentions) - 1))
            weights.append(float(rng.gamma(4.0, 1.0)) * scale)
    # Patientèle findings for the campaign rules: a few adult units open from age 0 with no
    # pediatric mention (inconsistent), a few from 16 (the legal exception, allowed).
    adult = [
        i
        for i, u in enumerate(units)
        if not u.static["pediatric"] and nom.BURNS_MENTION not in u.static["mentions"]
    ]
    k_zero, k_sixteen = max(2, round(0.02 * len(units))), max(2, round(0.03 * len(units)))
    for j, i in enumerate(rng.choice(adult, size=k_zero + k_sixteen, replace=False).tolist()):
        units[i].static["ages"] = (0, 120) if j < k_zero else (16, 120)
    _draw_capacities(rng, estabs, units, weights, offres)
    return units, offres


def _split(rng: np.random.Generator, total: int, shares: np.ndarray) -> list[int]:
    """Integer split of ``total`` (each part ≥ 1) with Dirichlet-like noise."""
    w = rng.gamma(3.0, 1.0, size=len(shares)) * shares
    parts = _allocate(w, max(total, len(shares)) - len(shares), 0) + 1
    return [int(p) for p in parts]


def _draw_capacities(
    rng: np.random.Generator,
    estabs: list[_Estab],
    units: list[_Entity],
    weights: list[float],
    offres: list[_Entity],
) -> None:
    n = len(estabs)
    w = np.array(weights)
    hc = np.array([u.static["kind"] == "HC" for u in units])
    target_lits = LITS_PER_ESTABLISHMENT * n * float(rng.uniform(0.98, 1.02))
    target_places = PLACES_PER_ESTABLISHMENT * n * float(rng.uniform(0.98, 1.02))
    cap = np.where(hc, w / w[hc].sum() * target_lits, w / max(w[~hc].sum(), 1e-9) * target_places)
    for u, c, is_hc in zip(units, cap, hc, strict=True):
        total = max(int(round(c)), 8 if is_hc else 3)
        rows = [(m, f) for m in u.static["mentions"] for f in u.static["formes"]]
        shares = np.array(
            [0.3 if f in ("HS", "HN") and len(u.static["formes"]) > 1 else 1.0 for _, f in rows]
        )
        for (mention, forme), value in zip(rows, _split(rng, total, shares), strict=True):
            column = nom.FORME_BY_CODE[forme].capacite
            o = _Entity(
                f"{u.key}|{mention}|{forme}",
                {
                    "uo_id": u.key,
                    "mention": mention,
                    "forme": forme,
                    "column": column,
                    "unit": u,
                },
                opened=u.opened,
            )
            o.init("capacite", value)
            offres.append(o)


# ---------------------------------------------------------------------------- campaign story


def _progressive(
    rng: np.random.Generator,
    ent: _Entity,
    name: str,
    value: Any,
    times: list[datetime],
    p_start: float,
    p_fill: float,
    p_bad: float = 0.0,
    bad: Any = None,
) -> datetime | None:
    """A field filled from the start or at a campaign session; some typed wrongly.

    Returns when the field was first filled (``_ORIGIN`` from the start, None never).
    A wrong value (``bad``) is corrected at a later session for most entities.
    """
    ent.init(name, None)
    if rng.random() < p_start:
        first: datetime | None = _ORIGIN
    elif times and rng.random() < p_fill:
        first = times[int(rng.integers(len(times)))]
    else:
        return None
    # Legacy values hold more mistakes than those typed during the campaign.
    wrong = bad is not None and rng.random() < (p_bad if first == _ORIGIN else p_bad / 2)
    shown = bad(rng, value) if wrong else value
    if first == _ORIGIN:
        ent.tracks[name] = [(_ORIGIN, shown)]
    else:
        ent.set(name, first, shown)
    if wrong:
        later = [t for t in times if t > first]
        if later and rng.random() < 0.8:
            ent.set(name, later[int(rng.integers(len(later)))], value)
    return first


def _draw_sessions(rng: np.random.Generator, e: _Estab) -> None:
    """When the establishment's référent worked on its data (0 to 2 campaign sessions)."""
    start = CAMPAIGN_START
    if e.entity.opened is not None:
        start = max(start, e.entity.opened.date() + timedelta(days=3))
    sessions = []
    spring_end = date(2023, 5, 31)
    if start <= spring_end and rng.random() < 0.68:
        sessions.append(_moment(rng, start, spring_end, skew=1.8))
    if rng.random() < 0.76:
        sessions.append(_moment(rng, max(start, REFORM_DATE), SNAPSHOT_DATES[-1], skew=1.3))
    e.sessions = sorted(sessions)
    first_maj = _moment(rng, date(2021, 3, 1), date(2023, 2, 28))
    e.entity.touches.append(e.entity.opened or first_maj)
    if e.entity.opened is None and rng.random() < 0.15:  # routine update before the campaign
        e.entity.touches.append(_moment(rng, date(2023, 1, 9), date(2023, 3, 10)))
    for s in e.sessions:
        if rng.random() < 0.9:
            e.entity.touches.append(s)


def _story_establishment(rng: np.random.Generator, e: _Estab) -> list[tuple[_Entity, str]]:
    """Contact fields of an establishment over the campaign; returns filled fields."""
    ent, st = e.entity, e.entity.static
    times = e.sessions
    director = st["director"]
    phone = _phone(rng, st["phone_prefix"])
    alert = f"{_pick(rng, ('alerte.smr', 'secretariat.smr', 'cadre.sante', 'ror'))}@{e.domain}"
    filled = []
    for name, value, p_start, p_bad, bad in (
        ("surnom", st["surnom"], 0.35, 0.0, None),
        ("email_alerte", alert, 0.35, 0.15, _bad_email),
        ("directeur_nom", f"{director[0]} {director[1]}", 0.50, 0.0, None),
        ("directeur_telephone", phone, 0.35, 0.15, _bad_phone),
        ("directeur_email", _email(director, e.domain), 0.35, 0.12, _bad_email),
    ):
        if _progressive(rng, ent, name, value, times, p_start, 0.86, p_bad, bad) is not None:
            filled.append((ent, name))
    return filled


def _story_unit(
    rng: np.random.Generator, u: _Entity, e: _Estab, offres: list[_Entity]
) -> list[tuple[_Entity, str]]:
    """Unit fields over the campaign: contacts, ages, SSR → SMR renaming, capacities."""
    st = u.static
    times = sorted(
        s + timedelta(minutes=int(rng.integers(2, 45))) for s in e.sessions if rng.random() < 0.85
    )
    u.touches.append(u.opened or _moment(rng, date(2021, 3, 1), date(2023, 2, 28)))
    u.touches.extend(times)  # the référent checked the unit
    st["times"] = times
    prefix = e.entity.static["phone_prefix"]
    person = _person(rng)
    title = "Dr " if rng.random() < 0.5 else ""
    filled = []
    for name, value, p_start, p_bad, bad in (
        ("telephone", _phone(rng, prefix), 0.45, 0.15, _bad_phone),
        ("responsable_nom", f"{title}{person[0]} {person[1]}", 0.40, 0.0, None),
        ("responsable_telephone", _phone(rng, prefix), 0.32, 0.15, _bad_phone),
        ("responsable_email", _email(person, e.domain), 0.32, 0.12, _bad_email),
    ):
        if _progressive(rng, u, name, value, times, p_start, 0.86, p_bad, bad) is not None:
            filled.append((u, name))
    # Patientèle: missing for a few units at the start.
    age_min, age_max = st["ages"]
    u.init("age_min", age_min)
    u.init("age_max", age_max)
    if rng.random() < 0.08:
        u.init("age_min", None)
        u.init("age_max", None)
        if times and rng.random() < 0.8:
            moment = _pick(rng, times)
            u.set("age_min", moment, age_min)
            u.set("age_max", moment, age_max)
    # SSR → SMR: a few early adopters, most renamed at a session after 1 June.
    u.init("nom", st["old_name"])
    u.init("discipline", "SSR")
    if rng.random() < 0.08:
        u.init("nom", st["new_name"])
        u.init("discipline", "SMR")
    else:
        late = [t for t in times if t.date() >= REFORM_DATE]
        early = [t for t in times if t.date() < REFORM_DATE]
        moment = None
        if late and rng.random() < 0.9:
            moment = _pick(rng, late)
        elif early and rng.random() < 0.12:
            moment = _pick(rng, early)
        elif not times and rng.random() < 0.3:  # renamed by the regional ROR team
            moment = _moment(rng, REFORM_DATE, SNAPSHOT_DATES[-1])
        if moment is not None:
            r = rng.random()
            if r > 0.04:  # a few change the discipline but keep the old name
                u.set("nom", moment, st["new_name"])
            if r < 0.96 or r > 0.98:  # a few are renamed but keep discipline SSR
                u.set("discipline", moment, "SMR")
    # Capacities move a little when the unit is checked.
    for o in offres:
        if times and rng.random() < 0.1:
            moment = _pick(rng, times)
            value = max(
                1, o.get("capacite", datetime.max) + int(_pick(rng, (-4, -2, -1, 1, 2, 3, 5)))
            )
            o.set("capacite", moment, value, touch=False)
            u.touches.append(moment)
    return filled


def _regressions(
    rng: np.random.Generator, filled: list[tuple[_Entity, str]], sessions: dict[str, list[datetime]]
) -> None:
    """A few filled contacts emptied again at a later session (someone cleared a form)."""
    candidates = []
    for ent, name in filled:
        steps = [t for t, v in ent.changes(name) if v is not None]
        later = [t for t in sessions[ent.key] if steps and t > steps[0]]
        if later:
            candidates.append((ent, name, later[-1]))
    if not candidates:
        return
    k = min(len(candidates), max(3, round(0.008 * len(candidates))))
    for i in sorted(rng.choice(len(candidates), size=k, replace=False).tolist()):
        ent, name, moment = candidates[i]
        ent.set(name, moment + timedelta(minutes=1), None)


# ---------------------------------------------------------------------------- authorisations


def _decision_date(rng: np.random.Generator, not_before: date) -> date:
    """Date of a new SMR decision: late May to July 2023, most in June."""
    r = rng.random()
    start, end = (
        (date(2023, 5, 10), date(2023, 5, 31))
        if r < 0.25
        else (date(2023, 6, 1), date(2023, 6, 30))
        if r < 0.8
        else (date(2023, 7, 1), date(2023, 7, 25))
    )
    start = max(start, not_before)
    return _moment(rng, start, max(start, end)).date()


def _choose(rng: np.random.Generator, pool: list[int], k: int) -> list[int]:
    if not pool:
        return []
    return sorted(rng.choice(pool, size=min(k, len(pool)), replace=False).tolist())



#: SSR authorisations run for a fixed term (seven years in the demo, the usual term of health
#: authorisations) and are renewed in the same rhythm. The demo's end date is the end of the
#: cycle running past this horizon: every SSR authorisation stays in force over the demo's
#: snapshots (national series included) until an SMR decision replaces it, and carries an end
#: date as FINESS gives one (the national quality SQL does not count one without).
SSR_VALIDITY_YEARS = 7
SSR_VALIDITY_HORIZON = date(2024, 12, 31)


def _ssr_validity_end(decision: date) -> date:
    """Last day of the seven-year validity cycle of an SSR authorisation decided on
    ``decision`` that runs past ``SSR_VALIDITY_HORIZON`` (no draw: the demo's other values
    are unchanged)."""
    years = SSR_VALIDITY_YEARS
    while True:
        try:
            end = decision.replace(year=decision.year + years) - timedelta(days=1)
        except ValueError:  # 29 February
            end = decision.replace(year=decision.year + years, day=28)
        if end >= SSR_VALIDITY_HORIZON:
            return end
        years += SSR_VALIDITY_YEARS

def _draw_autorisations(
    rng: np.random.Generator, estabs: list[_Estab], region: str
) -> list[_Entity]:
    """Old SSR authorisations (activities 50–59) and the new SMR decisions of 2023.

    Built in gaps for the transition planner: a few ROR mentions with no authorisation,
    HAD rows (forme 05, outside the SMR perimeter), long-expired rows, establishments
    still waiting for their SMR decision, SMR mentions not described in the ROR.
    """
    rows: list[_Entity] = []
    counters = {"SSR": 0, "SMR": 0}

    def add(
        regime: str,
        e: _Estab,
        activite: str | None,
        mention: str | None,
        modalite: str | None,
        forme: str,
        decision: date,
        mise: date,
        fin: date | None = None,
        opened: datetime | None = None,
    ) -> _Entity:
        counters[regime] += 1
        ent = _Entity(
            f"{region}-{regime}-{counters[regime]:06d}",
            {
                "finess_eg": e.entity.key,
                "regime": regime,
                "activite": activite,
                "mention": mention,
                "modalite": modalite,
                "forme": forme,
                "date_decision": decision,
                "date_mise_en_oeuvre": mise,
            },
            opened=opened,
        )
        ent.init("date_fin", fin)
        rows.append(ent)
        return ent

    n = len(estabs)
    adult_of = [[m for m in e.mentions if m not in nom.PEDIATRIC_MENTIONS] for e in estabs]
    gap_pool = [i for i in range(n) if len(adult_of[i]) >= 2 and estabs[i].entity.opened is None]
    gaps: dict[int, str] = {}
    for i in _choose(rng, gap_pool, max(2, round(0.03 * n))):
        special = [m for m in adult_of[i] if m not in ("ME050", "ME059")]
        gaps[i] = _pick(rng, special or adult_of[i][1:])
    had = set(_choose(rng, list(range(n)), max(2, round(0.03 * n))))
    expired = set(_choose(rng, list(range(n)), max(2, round(0.02 * n))))
    decided = [
        i for i, e in enumerate(estabs) if e.entity.opened is not None or rng.random() < 0.85
    ]
    extra = set(_choose(rng, decided, max(2, round(0.05 * len(decided)))))
    for i, e in enumerate(estabs):
        kinds: dict[str, list[str]] = {}
        for u in e.units:
            for m in u.static["mentions"]:
                if u.static["kind"] not in kinds.setdefault(m, []):
                    kinds[m].append(u.static["kind"])
        opened = e.entity.opened
        first = (
            _moment(rng, date(2022, 1, 10), date(2022, 11, 30)).date()
            if opened
            else _moment(rng, date(2006, 1, 2), date(2019, 6, 28)).date()
        )
        ssr: dict[tuple[str, str, str], None] = {}
        for m in e.mentions:
            if gaps.get(i) == m:
                continue
            if m in nom.PEDIATRIC_MENTIONS:
                activite = str(rng.choice(["50", "51", "52"], p=[0.4, 0.3, 0.3]))
                modalites = (
                    ("78",) if m == "ME060" else ("79",) if rng.random() < 0.5 else ("77", "78")
                )
            else:
                activite, modalites = _ACTIVITY[m], ("09",)
            for modalite in modalites:
                for kind in kinds[m]:
                    ssr[(activite, modalite, "01" if kind == "HC" else "02")] = None
        replaced: list[_Entity] = []
        for activite, modalite, forme in ssr:
            decision = first + timedelta(days=int(rng.integers(0, 3 * 365)))
            decision = min(decision, date(2022, 12, 15))
            mise = min(decision + timedelta(days=int(rng.integers(30, 400))), date(2022, 12, 31))
            replaced.append(
                add("SSR", e, activite, None, modalite, forme, decision, mise,
                    fin=_ssr_validity_end(decision))
            )
        if i in had:
            decision = _moment(rng, date(2010, 1, 4), date(2019, 6, 28)).date()
            add(
                "SSR",
                e,
                "50",
                None,
                "09",
                nom.HAD_FORME_AUTORISATION,
                decision,
                decision + timedelta(days=180),
                fin=_ssr_validity_end(decision),
            )
        if i in expired:
            held = {_ACTIVITY.get(m) for m in e.mentions}
            activite = _pick(rng, [a for a in ("53", "54", "55", "58") if a not in held] or ["53"])
            decision = _moment(rng, date(2004, 1, 5), date(2010, 6, 30)).date()
            add(
                "SSR",
                e,
                activite,
                None,
                "09",
                "01",
                decision,
                decision + timedelta(days=200),
                fin=_moment(rng, date(2017, 1, 2), date(2020, 12, 31)).date(),
            )
        if i not in decided:
            continue
        decision = _decision_date(rng, opened.date() if opened else date(2023, 5, 10))
        mise = max(decision, REFORM_DATE)
        fin = mise.replace(year=mise.year + 7) - timedelta(days=1)
        granted = [m for m in e.mentions if gaps.get(i) != m]
        if len(granted) > 1:  # a mention still under review at some establishments
            granted = [m for m in granted if rng.random() > 0.04] or granted[:1]
        granted_kinds = {m: kinds[m] for m in granted}
        if i in extra:
            pool = [
                m
                for m in ("ME053", "ME054", "ME055", "ME058", "ME062", "ME051", "ME052")
                if m not in e.mentions
            ]
            granted_kinds[_pick(rng, pool)] = ["HC"]
        moment = datetime.combine(decision, time())
        for m, mkinds in granted_kinds.items():
            modalite = "10" if m in nom.PEDIATRIC_MENTIONS else None
            for kind in mkinds:
                add(
                    "SMR",
                    e,
                    None,
                    m,
                    modalite,
                    "01" if kind == "HC" else "03",
                    decision,
                    mise,
                    fin,
                    opened=moment,
                )
        for ent in replaced:
            ent.set("date_fin", moment, mise - timedelta(days=1), touch=False)
    return rows


# ---------------------------------------------------------------------------- ViaTrajectoire


def _draw_guichets(
    rng: np.random.Generator, estabs: list[_Estab], region: str
) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    """Guichets uniques d'admission, spread over the départements by establishments."""
    deps = sorted({e.dep for e in estabs})
    per_dep = np.array([sum(e.dep == d for e in estabs) for d in deps], dtype=float)
    n = max(len(deps), round(GUICHETS_PER_ESTABLISHMENT * len(estabs)))
    counts = _allocate(per_dep, n, 1)
    guichets: list[dict[str, str]] = []
    by_dep: dict[str, list[str]] = {}
    prefix = estabs[0].entity.static["phone_prefix"]
    for dep, count in zip(deps, counts, strict=True):
        for k in range(int(count)):
            sector = _SECTORS[k % len(_SECTORS)]
            gid = f"GU{region}-{len(guichets) + 1:02d}"
            person = _person(rng)
            domain = f"guichet-smr-{_slug(dep)}-{_slug(sector)}-fictif.fr"
            guichets.append(
                {
                    "guichet_id": gid,
                    "nom": f"Guichet unique SMR {dep} {sector} (fictif)",
                    "responsable_nom": f"{person[0]} {person[1]}",
                    "telephone": _phone(rng, prefix),
                    "email": _email(person, domain),
                }
            )
            by_dep.setdefault(dep, []).append(gid)
    return guichets, by_dep


def _draw_vt(
    rng: np.random.Generator, estabs: list[_Estab], region: str
) -> tuple[list[_Entity], list[dict[str, str]]]:
    """ViaTrajectoire units: most linked to a ROR unit, with every kind of sync finding."""
    guichets, by_dep = _draw_guichets(rng, estabs, region)
    used: set[str] = set()
    vts: list[_Entity] = []
    end = SNAPSHOT_DATES[-1]

    def new_id() -> str:
        while True:
            vt_id = f"VT-{int(rng.integers(10**5, 10**6)):06d}"
            if vt_id not in used:
                used.add(vt_id)
                return vt_id

    def habilitation() -> date | None:
        if rng.random() < 0.1:
            return None
        return _moment(rng, date(2022, 10, 3), date(2025, 12, 31)).date()

    for e in estabs:
        guichet = _pick(rng, by_dep[e.dep]) if rng.random() < 0.45 else None
        for u in e.units:
            r = rng.random()
            if e.entity.opened is not None:
                if r > 0.8:
                    continue  # not yet in ViaTrajectoire at the end
                opened: datetime | None = e.entity.opened + timedelta(days=int(rng.integers(7, 30)))
            elif r < 0.92:
                opened = None
            elif r < 0.96:
                opened = _moment(rng, date(2023, 4, 3), date(2023, 7, 25))
            else:
                continue  # absent from ViaTrajectoire
            vt = _Entity(
                new_id(),
                {
                    "finess_eg": e.entity.key,
                    "guichet_id": guichet,
                    "unit": u,
                    "habilitation_fin": habilitation(),
                    "freeze": None,
                    "outage": None,
                },
                opened=opened,
            )
            vt.init("uo_id", u.key)
            vt.init("synchronise_ror", True)
            after = opened.date() if opened else date(2023, 3, 20)
            if rng.random() < 0.04:  # created by hand in VT, link to the ROR missing
                vt.init("uo_id", None)
                vt.init("synchronise_ror", False)
                if rng.random() < 0.6:
                    moment = _moment(rng, max(after, date(2023, 3, 20)), date(2023, 7, 25))
                    vt.set("uo_id", moment, u.key)
                    vt.set("synchronise_ror", moment, True)
            elif rng.random() < 0.12:  # sync switched off
                vt.init("synchronise_ror", False)
                if rng.random() < 0.7:
                    vt.static["freeze"] = datetime.combine(
                        _moment(rng, date(2022, 6, 1), date(2023, 2, 20)).date(), time(18)
                    )
                if rng.random() < 0.55:
                    vt.set(
                        "synchronise_ror",
                        _moment(rng, max(after, date(2023, 3, 20)), date(2023, 7, 25)),
                        True,
                    )
            if rng.random() < 0.10:  # sync outage: last successful sync stays old
                start = date(2023, 2, 10) + timedelta(days=int(rng.beta(1.3, 2.5) * 160))
                stop = (
                    None if rng.random() < 0.2 else start + timedelta(days=int(rng.integers(7, 50)))
                )
                vt.static["outage"] = (datetime.combine(start, time(18)), stop)
            vt.init("nom_vt", None)
            vt.init("telephone_vt", None)
            if rng.random() < 0.05:  # edited in VT by hand: drifts from the ROR
                if rng.random() < 0.5:
                    old = u.static["old_name"]
                    vt.init("nom_vt", old.upper() if rng.random() < 0.5 else f"{old} (admissions)")
                else:
                    vt.init("telephone_vt", _phone(rng, e.entity.static["phone_prefix"]))
                if rng.random() < 0.5:
                    moment = _moment(rng, date(2023, 4, 3), date(2023, 7, 25))
                    vt.set("nom_vt", moment, None)
                    vt.set("telephone_vt", moment, None)
            person = _person(rng)
            times = u.static["times"] or [_moment(rng, max(after, date(2023, 3, 20)), end)]
            _progressive(
                rng, vt, "responsable_admissions_nom", f"{person[0]} {person[1]}", times, 0.3, 0.62
            )
            vt.init("responsable_admissions_email", None)
            for moment, value in vt.changes("responsable_admissions_nom"):
                vt.tracks["responsable_admissions_email"].append(
                    (moment, _email(person, e.domain) if value is not None else None)
                )
            if e.entity.closed is not None:
                vt.closed = e.entity.closed + timedelta(days=14)
            vts.append(vt)
    # Units known only to ViaTrajectoire (absent from the ROR).
    n_units = sum(len(e.units) for e in estabs)
    pool = [i for i, e in enumerate(estabs) if e.entity.opened is None]
    for i in _choose(rng, pool, max(3, round(0.03 * n_units))):
        e = estabs[i]
        vt = _Entity(
            new_id(),
            {
                "finess_eg": e.entity.key,
                "guichet_id": None,
                "unit": None,
                "habilitation_fin": habilitation(),
                "outage": None,
                "freeze": (
                    datetime.combine(
                        _moment(rng, date(2021, 9, 1), date(2022, 12, 30)).date(), time(18)
                    )
                    if rng.random() < 0.6
                    else None
                ),
                "own": (_pick(rng, _VT_ONLY_NAMES), _phone(rng, e.entity.static["phone_prefix"])),
            },
        )
        for name, value in (
            ("uo_id", None),
            ("synchronise_ror", False),
            ("nom_vt", None),
            ("telephone_vt", None),
            ("responsable_admissions_nom", None),
            ("responsable_admissions_email", None),
        ):
            vt.init(name, value)
        if rng.random() < 0.3:  # cleaned up during the campaign
            vt.closed = _moment(rng, date(2023, 4, 3), date(2023, 7, 25))
        vts.append(vt)
    return vts, guichets


# ---------------------------------------------------------------------------- accounts


def _draw_habilitations(
    rng: np.random.Generator, estabs: list[_Estab], vts: list[_Entity], region: str
) -> list[_Entity]:
    """ROR accounts and ViaTrajectoire habilitations of each establishment (the campaign
    guide's prerequisites): most have a ROR Directeur or Référent account and a valid VT
    Référent structure; some have none, or only expired ones, and a part of them get one
    from the support during the campaign (a new row from that day).

    Drawn from its own stream, after everything else: the rest of the demo is unchanged.
    """
    out: list[_Entity] = []
    campaign = (date(2023, 3, 20), date(2023, 7, 25))
    by_eg: dict[str, list[_Entity]] = {}
    for vt in vts:
        if vt.static["unit"] is not None:
            by_eg.setdefault(vt.static["finess_eg"], []).append(vt)

    def add(e: _Estab, tool: str, role: str, end: date | None, opened: datetime | None,
            vt: _Entity | None = None) -> None:
        person = _person(rng)
        ent = _Entity(
            f"HAB-{region}-{len(out) + 1:05d}",
            {
                "outil": tool,
                "role": role,
                "finess_eg": e.entity.key,
                "vt_id": vt.key if vt is not None else None,
                "titulaire_nom": f"{person[0]} {person[1]}",
                "titulaire_email": _email(person, e.domain),
                "date_fin_validite": end,
            },
            opened=opened if opened is not None else e.entity.opened,
        )
        ent.closed = e.entity.closed if vt is None else vt.closed or e.entity.closed
        if vt is not None and vt.opened is not None:
            ent.opened = max(ent.opened or vt.opened, vt.opened)
        out.append(ent)

    def vt_end(low: date = date(2022, 10, 3)) -> date:
        return _moment(rng, low, date(2025, 12, 31)).date()

    for e in estabs:
        # ROR: Directeur (edit and validate) or Référent (edit), usually without end date.
        r = rng.random()
        if r < 0.05:  # no account: asked from the support during the campaign, or not
            if rng.random() < 0.5:
                add(e, "ROR", "referent", None, _moment(rng, *campaign))
        elif r < 0.09:  # an account that ended before the campaign
            add(e, "ROR", "directeur", _moment(rng, date(2022, 6, 1), date(2023, 2, 28)).date(),
                None)
            if rng.random() < 0.5:
                add(e, "ROR", "directeur", None, _moment(rng, *campaign))
        else:
            roles = [role for role, p in (("directeur", 0.7), ("referent", 0.6))
                     if rng.random() < p] or ["referent"]
            for role in roles:
                add(e, "ROR", role, None, None)
        # ViaTrajectoire: Référent structure (and sometimes Référent unité), dated.
        if rng.random() < 0.08:
            if rng.random() < 0.4:
                moment = _moment(rng, *campaign)
                add(e, "VT", "referent_structure", (moment + timedelta(days=730)).date(), moment)
        else:
            end = vt_end()
            add(e, "VT", "referent_structure", end, None)
            if end < SNAPSHOT_DATES[-1] and rng.random() < 0.5:  # renewed by the support
                moment = _moment(rng, max(end, campaign[0]), max(end, campaign[0]) + timedelta(30))
                add(e, "VT", "referent_structure", (moment + timedelta(days=730)).date(), moment)
        units = by_eg.get(e.entity.key, [])
        if units and rng.random() < 0.35:
            add(e, "VT", "referent_unite", vt_end(date(2023, 1, 2)), None, _pick(rng, units))
    return out


# ---------------------------------------------------------------------------- world


def _build_world(
    seed: int, region: str, n: int | None = None, places: tuple | None = None
) -> _World:
    """Draw every entity and its dated changes from the seed.

    ``n`` (establishments) and ``places`` (as ``_places`` returns them) override the region's
    defaults; ``analysis.demo.national`` uses them to draw each region of France.
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    rng_site, rng_est, rng_unit, rng_story, rng_auth, rng_vt = streams
    communes, arrondissements, contours = places if places is not None else _places(region)
    population = float(communes["population"].sum())
    if n is None:
        n = max(MIN_ESTABLISHMENTS, round(population / 1e6 * ESTABLISHMENTS_PER_MILLION))
    n_open = 2
    sites = _draw_sites(rng_site, communes, arrondissements, contours, n + n_open)
    # Openings are the last sites of a random order, so they may be anywhere.
    order = rng_site.permutation(len(sites))
    sites = [sites[int(i)] for i in order]
    estabs = _draw_establishments(rng_est, sites, region, n_open)
    for k, e in enumerate(estabs[n:]):
        e.entity.opened = datetime.combine(
            (date(2023, 5, 10), date(2023, 6, 20))[k % 2], time(9, 30)
        )
    # One establishment closes in early July: a small one without rare mentions.
    plain = [
        i
        for i, e in enumerate(estabs[:n])
        if all(nom.MENTION_BY_CODE[m].rarete != "rare" for m in e.mentions)
    ]
    closing = estabs[min(plain, key=lambda i: (estabs[i].size, i))]
    closing.entity.closed = datetime(2023, 7, 6, 17, 0)

    units, offres = _draw_units(rng_unit, estabs, region)
    for u in units:
        u.closed = u.static["estab"].entity.closed
    by_unit: dict[str, list[_Entity]] = {}
    for o in offres:
        o.closed = o.static["unit"].closed
        by_unit.setdefault(o.static["uo_id"], []).append(o)

    filled: list[tuple[_Entity, str]] = []
    sessions: dict[str, list[datetime]] = {}
    for e in estabs:
        _draw_sessions(rng_story, e)
        sessions[e.entity.key] = e.sessions
        filled += _story_establishment(rng_story, e)
        for u in e.units:
            filled += _story_unit(rng_story, u, e, by_unit[u.key])
            sessions[u.key] = u.static["times"]
    _regressions(rng_story, filled, sessions)
    _zero_capacities(rng_story, offres)
    autorisations = _draw_autorisations(rng_auth, estabs, region)
    vts, guichets = _draw_vt(rng_vt, estabs, region)
    # A few units edited on the morning of each extract: newer than last night's sync.
    for day in SNAPSHOT_DATES:
        cutoff = datetime.combine(day, time())
        alive = [u for u in units if u.exists(cutoff)]
        for i in _choose(rng_story, list(range(len(alive))), 3):
            minutes = int(rng_story.integers(8 * 60, 11 * 60))
            alive[i].touches.append(datetime.combine(day, time(minutes // 60, minutes % 60)))
    # Drawn last, from its own stream, so that the story above is unchanged.
    quality = _draw_quality(
        np.random.default_rng([seed, 2024]), estabs, autorisations, region,
        (communes, arrondissements, contours),
    )
    # Accounts and habilitations: their own stream too (issue 13), so nothing above moves.
    habilitations = _draw_habilitations(np.random.default_rng([seed, 13]), estabs, vts, region)
    return _World(
        region, estabs, units, offres, autorisations, vts, guichets, quality, habilitations
    )


def _zero_capacities(rng: np.random.Generator, offres: list[_Entity]) -> None:
    """A few day-hospital offers declared with 0 places, most corrected later."""
    pool = [i for i, o in enumerate(offres) if o.static["column"] == "places" and o.opened is None]
    for i in _choose(rng, pool, max(2, round(0.004 * len(offres)))):
        o = offres[i]
        value = o.get("capacite", datetime.max)
        o.init("capacite", 0)
        times = o.static["unit"].static["times"]
        if times and rng.random() < 0.6:
            o.set("capacite", _pick(rng, times), value, touch=False)


# ---------------------------------------------------------------------------- ROR quality

#: FINESS-only establishments (in FINESS, absent from the ROR): (category, SMR story).
#: ``smr``: SMR authorisations from the start; ``smr_juin``: granted on 2023-06-12;
#: ``had``: an SSR activity in the HAD form only (outside the SMR perimeter); ``ehpad``:
#: medico-social, no SMR; ``ferme``: closed in FINESS in 2022 with an old SMR authorisation.
_FINESS_ONLY: tuple[tuple[str, str], ...] = (
    ("109", "smr"), ("365", "smr"), ("106", "smr_juin"), ("109", "had"), ("500", "ehpad"),
    ("109", "ferme"),
)  # fmt: skip
_JUNE_AUTH = datetime(2023, 6, 12)


@dataclass
class _QualityStory:
    """The ROR quality findings of the demo: FINESS side, identifiers, closures, unit fields.

    Moments are datetimes; a change applies to the snapshots whose cutoff is after it.
    """

    finess_only: list[dict[str, Any]]
    id_dup: dict[str, tuple[str, datetime | None]]  # EG → (identifier copied, fixed at)
    ej_finess: dict[str, tuple[str, datetime | None]]  # EG → (FINESS EJ, ROR fixed at)
    cat_finess: dict[str, str]  # EG → FINESS category (ROR keeps its own)
    finess_pro: tuple[str, datetime, datetime]  # EG closed PRO in FINESS, ROR records it at
    ror_def: tuple[str, datetime]  # EG closed by mistake in the ROR (FINESS open)
    caduc: tuple[str, datetime]  # EG caduc in FINESS, still open in the ROR
    typo: tuple[str, str]  # ROR number typed wrongly → the right FINESS number
    finess_open: dict[str, date]  # EG opening during the series → FINESS opening date
    unit_champ: dict[str, datetime | None]  # unit without champ → filled at (None: never)
    unit_ao: dict[str, tuple[str | None, datetime | None]]  # unit → (wrong or no AO, fixed)
    contacts_base: dict[str, datetime]  # unit → last contacts update before the campaign
    zero_capacity: dict[str, datetime]  # offer (uo_id|mention|forme) → capacity 0 from then


def _draw_quality(
    rng: np.random.Generator,
    estabs: list[_Estab],
    autorisations: list[_Entity],
    region: str,
    places: tuple[pl.DataFrame, pl.DataFrame | None, dict[str, Any]],
) -> _QualityStory:
    """Findings for every ROR quality requirement, drawn once from their own stream."""
    plain = [
        i for i, e in enumerate(estabs) if e.entity.opened is None and e.entity.closed is None
    ]
    picks = [estabs[i] for i in rng.choice(plain, size=14, replace=False).tolist()]
    used = {e.entity.key for e in estabs} | {e.entity.static["finess_ej"] for e in estabs}

    def later_session(e: _Estab, after: date) -> datetime | None:
        touched = [t for t in e.sessions if t.date() >= after and t in e.entity.touches]
        return touched[0] if touched else None

    # ST3: two EGs carry the identifier of another EG; the first is corrected in June.
    id_dup = {
        picks[1].entity.key: ("1" + picks[0].entity.key, later_session(picks[1], REFORM_DATE)),
        picks[3].entity.key: ("1" + picks[2].entity.key, None),
    }
    # ST2: FINESS moved three EGs to a new EJ; the ROR follows for the first one.
    ej_finess = {
        e.entity.key: (_finess(rng, e.dep, used), later_session(e, CAMPAIGN_START) if k == 0
                       else None)
        for k, e in enumerate(picks[4:7])
    }
    # CO4: FINESS category differs from the ROR's.
    other = {"109": "365", "365": "109", "355": "101", "101": "355", "106": "355"}
    cat_finess = {e.entity.key: other[e.categorie] for e in picks[7:10]}
    opened = {
        e.entity.key: (e.entity.opened - timedelta(days=15)).date()
        for e in estabs
        if e.entity.opened is not None
    }
    communes, arrondissements, contours = places
    sites = _draw_sites(rng, communes, arrondissements, contours, len(_FINESS_ONLY))
    finess_only = []
    for (categorie, story), site in zip(_FINESS_ONLY, sites, strict=True):
        key = _finess(rng, site["dep"], used)
        finess_only.append(
            {
                "finess_eg": key,
                "finess_ej": _finess(rng, site["dep"], used),
                "raison_sociale": (
                    f"{'EHPAD' if story == 'ehpad' else 'Centre de soins'} "
                    f"{_pick(rng, _MOTIFS)} (fictif)"
                ),
                "commune_insee": site["commune_insee"],
                "categorie": categorie,
                "story": story,
            }
        )
    typo_eg = picks[13]
    right = _finess(rng, typo_eg.dep, used)
    units = [u for i in plain for u in estabs[i].units]
    unit_champ: dict[str, datetime | None] = {}
    unit_ao: dict[str, tuple[str | None, datetime | None]] = {}
    for u in units:
        times = u.static["times"]
        fix = _pick(rng, times) if times and rng.random() < 0.75 else None
        if rng.random() < 0.08:
            unit_champ[u.key] = fix
        r = rng.random()
        if r < 0.10:
            unit_ao[u.key] = (None, fix if rng.random() < 0.9 else None)
        elif r < 0.13 and u.static["mentions"][0] in ("ME051", "ME052", "ME053"):
            closed = {"ME051": "456", "ME052": "459", "ME053": "458"}[u.static["mentions"][0]]
            unit_ao[u.key] = (closed, fix if rng.random() < 0.5 else None)
    contacts_base = {
        u.key: _moment(rng, date(2020, 9, 1), date(2023, 2, 28), skew=0.8) for u in units
    }
    # LOC-CAPACITE: one full- and one day-hospitalisation offer reset to 0 in June (a form
    # saved without its capacity), never corrected.
    zero_capacity = {}
    for forme in ("HC", "HJ"):
        pool = sorted(
            f"{u.key}|{m}|{forme}"
            for u in units
            if forme in u.static["formes"] and u.key not in unit_ao
            for m in u.static["mentions"][:1]
        )
        zero_capacity[_pick(rng, pool)] = datetime(2023, 6, 21, 11)
    return _QualityStory(
        finess_only=finess_only,
        id_dup=id_dup,
        ej_finess=ej_finess,
        cat_finess=cat_finess,
        finess_pro=(picks[10].entity.key, datetime(2023, 5, 2, 9), datetime(2023, 6, 20, 10)),
        ror_def=(picks[11].entity.key, datetime(2023, 6, 30, 16)),
        caduc=(picks[12].entity.key, datetime(2023, 4, 3, 9)),
        typo=(typo_eg.entity.key, right),
        finess_open=opened,
        unit_champ=unit_champ,
        unit_ao=unit_ao,
        contacts_base=contacts_base,
        zero_capacity=zero_capacity,
    )


def _smr_count(autorisations: list[_Entity], cutoff: datetime) -> dict[str, int]:
    """SMR authorisations in force per EG in FINESS (``nomenclature.is_smr_authorisation``)."""
    counts: dict[str, int] = {}
    for a in autorisations:
        st = a.static
        if a.exists(cutoff) and nom.is_smr_authorisation(
            st["regime"], st["activite"], st["mention"], st["forme"], a.get("date_fin", cutoff)
        ):
            counts[st["finess_eg"]] = counts.get(st["finess_eg"], 0) + 1
    return counts


def _unit_contacts_date(u: _Entity, base: datetime | None, cutoff: datetime) -> datetime | None:
    """Last change of the unit's contacts before ``cutoff`` (else the pre-campaign date)."""
    moments = [
        t
        for name in ("telephone", "responsable_nom", "responsable_telephone", "responsable_email")
        for t, _ in u.tracks.get(name, [])
        if _ORIGIN < t < cutoff
    ]
    candidates = [m for m in (*moments, base) if m is not None and m < cutoff]
    return max(candidates) if candidates else None


def _quality_rows(
    world: _World,
    cutoff: datetime,
    etab_rows: list[dict[str, Any]],
    unit_rows: list[dict[str, Any]],
    offre_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Add the ROR quality columns to the snapshot's rows; return the FINESS reference rows."""
    q = world.quality
    if q is None:
        return []
    for row in offre_rows:
        since = q.zero_capacity.get(f"{row['uo_id']}|{row['mention']}|{row['forme']}")
        if since is not None and since < cutoff:
            column = nom.FORME_BY_CODE[row["forme"]].capacite
            row[column] = 0
    by_unit = {u.key: u for u in world.units}
    for row in unit_rows:
        key = row["uo_id"]
        u = by_unit[key]
        fix = q.unit_champ.get(key, cutoff)
        row["champ_activite"] = (
            nom.CHAMP_SMR if key not in q.unit_champ or (fix is not None and fix < cutoff) else None
        )
        codes = ", ".join(
            dict.fromkeys(nom.ACTIVITE_DE_MENTION[m] for m in u.static["mentions"])
        )
        if key in q.unit_ao:
            wrong, ao_fix = q.unit_ao[key]
            if ao_fix is None or ao_fix >= cutoff:
                codes = wrong
        row["activite_operationnelle"] = codes
        row["date_maj_contacts"] = _unit_contacts_date(u, q.contacts_base.get(key), cutoff)
        row["date_fermeture"] = None
        row["type_fermeture"] = None
    pro_eg, pro_finess, pro_ror = q.finess_pro
    def_eg, def_ror = q.ror_def
    for row in etab_rows:
        key = row["finess_eg"]
        ident = "1" + key
        if key in q.id_dup and (q.id_dup[key][1] is None or q.id_dup[key][1] >= cutoff):
            ident = q.id_dup[key][0]
        row["id_nat_struct"] = ident
        if key in q.ej_finess and q.ej_finess[key][1] is not None and q.ej_finess[key][1] < cutoff:
            row["finess_ej"] = q.ej_finess[key][0]
        row["date_fermeture"], row["type_fermeture"] = None, None
        if key == pro_eg and pro_ror < cutoff:
            row["date_fermeture"], row["type_fermeture"] = pro_finess.date(), "PRO"
        if key == def_eg and def_ror < cutoff:
            row["date_fermeture"], row["type_fermeture"] = def_ror.date(), "DEF"
    counts = _smr_count(world.autorisations, cutoff)
    finess_rows = []
    for e in world.estabs:
        ent, st = e.entity, e.entity.static
        key = ent.key
        row = {
            "finess_eg": q.typo[1] if key == q.typo[0] else key,
            "finess_ej": q.ej_finess.get(key, (st["finess_ej"], None))[0],
            "raison_sociale": st["raison_sociale"],
            "commune_insee": st["site"]["commune_insee"],
            "categorie": q.cat_finess.get(key, e.categorie),
            "date_ouverture": q.finess_open.get(
                key, date(1985, 1, 2) + timedelta(days=int(key[-4:]))
            ),
            "date_fermeture": None,
            "type_fermeture": None,
            "caduc": False,
            "nb_autorisations_smr": counts.get(key, 0),
        }
        if ent.closed is not None and ent.closed < cutoff:
            row["date_fermeture"], row["type_fermeture"] = ent.closed.date(), "DEF"
        if key == pro_eg and pro_finess < cutoff:
            row["date_fermeture"], row["type_fermeture"] = pro_finess.date(), "PRO"
        if key == q.caduc[0] and q.caduc[1] < cutoff:
            row["caduc"] = True
        finess_rows.append(row)
    for f in q.finess_only:
        story = f["story"]
        nb = {"smr": 2, "smr_juin": int(cutoff > _JUNE_AUTH), "ferme": 1}.get(story, 0)
        finess_rows.append(
            {
                **{k: v for k, v in f.items() if k != "story"},
                "date_ouverture": date(2004, 5, 3),
                "date_fermeture": date(2022, 9, 30) if story == "ferme" else None,
                "type_fermeture": "DEF" if story == "ferme" else None,
                "caduc": False,
                "nb_autorisations_smr": nb,
            }
        )
    return finess_rows


def vt_sync_report(tables: dict[str, pl.DataFrame], day: date, region: str = "11") -> pl.DataFrame:
    """An example of the ROR → ViaTrajectoire sync report that ViaTrajectoire gives the ANS,
    built from a demo snapshot (fictitious; columns of ROR_QUALITY.md §5).

    One row per establishment of ``vt_unites``: « Mise à jour de l'offre active » when all its
    ViaTrajectoire units are synchronised and were at the last nightly sync, « Mise à jour de
    l'offre en erreur » when some are, « Offre non synchronisée » otherwise (the last two
    wordings are illustrative: only the first one is known from the national rule);
    « Fermeture Définitive » for an establishment closed in the ROR or absent from it; two
    « Grand Age » rows of other establishments (left out of the SMR rate). Same snapshot,
    same bytes.
    """
    from analysis.checks.quality import vt_report

    nightly = datetime.combine(day - timedelta(days=1), time(18))
    etabs = tables["etablissements"]
    names = dict(
        zip(
            tables["finess_etablissements"]["finess_eg"],
            tables["finess_etablissements"]["raison_sociale"],
            strict=True,
        )
    )
    names.update(zip(etabs["finess_eg"], etabs["raison_sociale"], strict=True))
    closed = set(
        etabs.filter(
            pl.col("date_fermeture").is_not_null()
            & (pl.col("date_fermeture") <= day)
            & (pl.col("type_fermeture") != "PRO")
        )["finess_eg"]
    )
    present = set(etabs["finess_eg"])
    per_eg = (
        tables["vt_unites"]
        .group_by("finess_eg")
        .agg(
            (pl.col("synchronise_ror") & (pl.col("date_synchronisation") >= nightly))
            .fill_null(False)
            .all()
            .alias("tout"),
            pl.col("synchronise_ror").fill_null(False).any().alias("certains"),
            pl.col("date_synchronisation").max().alias("derniere"),
        )
        .sort("finess_eg")
    )
    rows = []
    for finess, tout, certains, derniere in per_eg.iter_rows():
        state = (
            vt_report.VT_SYNC_ACTIVE
            if tout
            else "Mise à jour de l’offre en erreur"
            if certains
            else "Offre non synchronisée"
        )
        rows.append(
            {
                "Finess": finess,
                "NomEtablissement": names.get(finess, ""),
                "CodeRegion": region,
                "Domaine": vt_report.DOMAINE_SMR,
                "EtatVT": vt_report.VT_CLOSED
                if finess in closed or finess not in present
                else "Ouvert",
                "EtatSynchronisationROR": state,
                "DateSynchronisation": derniere.strftime("%d/%m/%Y %H:%M") if derniere else "",
            }
        )
    prefix = _OVERSEAS_FINESS.get(region, "75" if region == "11" else region)[:2]
    for k, name in enumerate(("EHPAD des Tilleuls (fictif)", "Résidence du Parc (fictif)")):
        rows.append(
            {
                "Finess": f"{prefix}99999{k + 1}1"[:9],
                "NomEtablissement": name,
                "CodeRegion": region,
                "Domaine": "Grand Age",
                "EtatVT": "Ouvert",
                "EtatSynchronisationROR": vt_report.VT_SYNC_ACTIVE if k == 0
                else "Offre non synchronisée",
                "DateSynchronisation": nightly.strftime("%d/%m/%Y %H:%M"),
            }
        )
    return pl.DataFrame(rows, schema=dict.fromkeys(vt_report.VT_REPORT_COLUMNS, pl.String))


def vt_sync_report_csv(tables: dict[str, pl.DataFrame], day: date, region: str = "11") -> bytes:
    """``vt_sync_report`` as the CSV file written in ``docs/`` (``;``, UTF-8)."""
    return vt_sync_report(tables, day, region).write_csv(separator=";").encode("utf-8")


# ---------------------------------------------------------------------------- snapshots


def _frame(rows: list[dict[str, Any]], table: str) -> pl.DataFrame:
    t = schema.TABLES[table]
    df = pl.DataFrame(rows, schema=t.polars_schema, orient="row") if rows else schema.empty(table)
    return df.sort(list(t.key))


def _snapshot(world: _World, day: date) -> dict[str, pl.DataFrame]:
    """State of every entity at the end of ``day``, as canonical frames."""
    cutoff = datetime.combine(day + timedelta(days=1), time())
    nightly = datetime.combine(day - timedelta(days=1), time(18))
    estabs = [e for e in world.estabs if e.entity.exists(cutoff)]
    present = {e.entity.key for e in estabs}
    etab_rows = []
    for e in estabs:
        ent, st = e.entity, e.entity.static
        site = st["site"]
        etab_rows.append(
            {
                "finess_eg": ent.key,
                "finess_ej": st["finess_ej"],
                "raison_sociale": st["raison_sociale"],
                "surnom": ent.get("surnom", cutoff),
                "adresse": st["adresse"],
                "code_postal": st["code_postal"],
                "commune_insee": site["commune_insee"],
                "latitude": round(site["lat"], 6),
                "longitude": round(site["lon"], 6),
                "categorie": e.categorie,
                "statut": e.statut,
                **{
                    f: ent.get(f, cutoff)
                    for f in (
                        "email_alerte",
                        "directeur_nom",
                        "directeur_telephone",
                        "directeur_email",
                    )
                },
                "date_maj": ent.date_maj(cutoff),
            }
        )
    unit_fields = (
        "nom",
        "discipline",
        "age_min",
        "age_max",
        "telephone",
        "responsable_nom",
        "responsable_telephone",
        "responsable_email",
    )
    unit_rows = [
        {
            "uo_id": u.key,
            "finess_eg": u.static["finess_eg"],
            **{f: u.get(f, cutoff) for f in unit_fields},
            "date_maj": u.date_maj(cutoff),
        }
        for u in world.units
        if u.exists(cutoff)
    ]
    offre_rows = []
    for o in world.offres:
        if not o.exists(cutoff):
            continue
        value = o.get("capacite", cutoff)
        lits = value if o.static["column"] == "lits" else None
        offre_rows.append(
            {
                "uo_id": o.static["uo_id"],
                "mention": o.static["mention"],
                "forme": o.static["forme"],
                "lits": lits,
                "places": None if lits is not None else value,
            }
        )
    auth_rows = [
        {
            "autorisation_id": a.key,
            **{k: v for k, v in a.static.items()},
            "date_fin": a.get("date_fin", cutoff),
        }
        for a in world.autorisations
        if a.exists(cutoff) and a.static["finess_eg"] in present
    ]
    vt_rows = [_vt_row(vt, cutoff, nightly) for vt in world.vts if vt.exists(cutoff)]
    finess_rows = _quality_rows(world, cutoff, etab_rows, unit_rows, offre_rows)
    return {
        "etablissements": _frame(etab_rows, "etablissements"),
        "unites": _frame(unit_rows, "unites"),
        "offres": _frame(offre_rows, "offres"),
        "autorisations": _frame(auth_rows, "autorisations"),
        "vt_guichets": _frame(world.guichets, "vt_guichets"),
        "vt_unites": _frame(vt_rows, "vt_unites"),
        "finess_etablissements": _frame(finess_rows, "finess_etablissements"),
        "habilitations": _frame(
            [
                {"habilitation_id": h.key, "uo_id": None, **h.static}
                for h in world.habilitations
                if h.exists(cutoff)
            ],
            "habilitations",
        ),
    }


def _vt_row(vt: _Entity, cutoff: datetime, nightly: datetime) -> dict[str, Any]:
    """A ViaTrajectoire unit: ROR values as of its last synchronisation, plus local edits."""
    st = vt.static
    synced = bool(vt.get("synchronise_ror", cutoff))
    last: datetime | None = st["freeze"]
    if synced:
        last = nightly
        outage = st["outage"]
        if (
            outage is not None
            and outage[0] <= nightly
            and (outage[1] is None or cutoff.date() <= outage[1])
        ):
            last = outage[0]
    if last is not None and vt.opened is not None and last < vt.opened:
        last = None  # created today: first synchronisation tonight
    unit: _Entity | None = st["unit"]
    if unit is None:
        nom_, tel = st["own"]
        ages: tuple[Any, Any] = (18, 120)
    else:
        # What VT copied: the ROR as of the last sync, or as it was when the VT unit was made.
        seen = last or vt.opened or _ORIGIN + timedelta(seconds=1)
        nom_, tel = unit.get("nom", seen), unit.get("telephone", seen)
        ages = (unit.get("age_min", seen), unit.get("age_max", seen))
    return {
        "vt_id": vt.key,
        "uo_id": vt.get("uo_id", cutoff),
        "finess_eg": st["finess_eg"],
        "nom": vt.get("nom_vt", cutoff) or nom_,
        "telephone": vt.get("telephone_vt", cutoff) or tel,
        "age_min": ages[0],
        "age_max": ages[1],
        "synchronise_ror": synced,
        "date_synchronisation": last,
        "responsable_admissions_nom": vt.get("responsable_admissions_nom", cutoff),
        "responsable_admissions_email": vt.get("responsable_admissions_email", cutoff),
        "habilitation_fin": st["habilitation_fin"],
        "guichet_id": st["guichet_id"],
    }


def demo_snapshots(
    seed: int = DEFAULT_SEED, region: str = "11"
) -> dict[date, dict[str, pl.DataFrame]]:
    """The demo snapshots in memory: date → canonical frames (table name → frame).

    Pure apart from reading the region's reference communes: the same ``seed`` and
    ``region`` give identical frames. Dates are ``SNAPSHOT_DATES``.
    """
    world = _build_world(seed, region)
    return {day: _snapshot(world, day) for day in SNAPSHOT_DATES}


def build_demo(
    out: Path | str,
    seed: int = DEFAULT_SEED,
    region: str = "11",
    replace: bool = False,
    progress: Progress | None = None,
) -> list[date]:
    """Write the demo snapshots into the store ``out``; returns their dates.

    Each snapshot goes through validation and the store like a real import: the demo
    carries warnings (malformed e-mails, phone numbers) but must have no rejected row.
    ``progress`` (``analysis.model.progress``) hears of each snapshot written. The store also
    gets illustrative, fictitious OQOS targets, zoning and applications (``analysis.demo.oqos``).
    """
    from analysis.io import store, validate

    out = Path(out)
    extra = {"demo": True, "region": region, "campagne_debut": CAMPAIGN_START.isoformat()}
    existing = [d for d in SNAPSHOT_DATES if (out / d.isoformat()).exists()]
    if existing and not replace:  # refuse before writing anything
        raise SnapshotExistsError(out, existing)
    written = []
    for day, tables in demo_snapshots(seed, region).items():
        result = validate.validate_tables(tables)
        if result.rejected.height:
            raise SmrError(
                f"données de démonstration du {day} : {result.rejected.height} lignes rejetées "
                f"par la validation (première raison : {result.rejected['reason'][0]})."
            )
        warnings = result.report.filter(pl.col("severity") == schema.WARNING)
        store.write_snapshot(
            out,
            day,
            tables=result.tables,
            rejected=result.rejected,
            warnings=warnings,
            sources=None,
            replace=replace,
            extra=extra,
        )
        written.append(day)
        step(progress, len(written), len(SNAPSHOT_DATES), day.isoformat())
    from analysis.demo import oqos as oqos_demo  # illustrative OQOS files, a generator of their own

    oqos_demo.write_demo_files(out, result.tables, day, region, seed)
    return written


# ---------------------------------------------------------------------------- national hook
# Used by ``analysis.demo.national`` (issue #9); kept apart so the story above is unchanged.


def region_world_snapshots(
    seed: int,
    region: str,
    dates: Sequence[date],
    establishments: int | None,
    places: tuple[pl.DataFrame, pl.DataFrame | None, dict[str, Any]],
) -> dict[date, dict[str, pl.DataFrame]]:
    """The demo world of one region as canonical frames at ``dates`` (date → table → frame).

    ``establishments`` is the number of establishments present from the start (two more
    open during the series; None: the demo's density per inhabitant); ``places`` are the
    region's communes (sorted, with points), arrondissements (or None) and contours by
    commune code, as ``_places`` returns them.
    Same arguments, same frames.
    """
    world = _build_world(seed, region, establishments, places)
    return {day: _snapshot(world, day) for day in dates}
