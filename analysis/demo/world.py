"""The demo's world: fictitious establishments, units and offers placed on real communes.

Constants of the demo story (seed, snapshot dates, volumes per inhabitant, shares of mentions
and statuts), the fictitious names, phones and e-mails, the entities whose fields change at
dated steps (``_Entity``), and the draws of sites, establishments, legal entities, units and
capacities. The campaign story (``campaign_story``) and the quality findings
(``quality_story``) are drawn on top of it; ``regional`` assembles them and writes the store.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import polars as pl
import shapely

from analysis.model import nomenclature as nom
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


def _choose(rng: np.random.Generator, pool: list[int], k: int) -> list[int]:
    if not pool:
        return []
    return sorted(rng.choice(pool, size=min(k, len(pool)), replace=False).tolist())


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
