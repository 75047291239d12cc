"""The demo's ROR quality story: findings for every ROR quality requirement.

A FINESS reference with establishments missing from the ROR, closures and categories that
disagree, a duplicated national identifier, units without champ or activité opérationnelle,
offers at capacity 0 (``_draw_quality``, from its own random stream); and the
ViaTrajectoire synchronisation report built from a demo snapshot (``vt_sync_report``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import polars as pl

from analysis.demo.world import (
    _MOTIFS,
    _OVERSEAS_FINESS,
    CAMPAIGN_START,
    REFORM_DATE,
    _draw_sites,
    _Entity,
    _Estab,
    _finess,
    _moment,
    _pick,
)

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
    from analysis.io import vt_report_file

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
    return pl.DataFrame(rows, schema=dict.fromkeys(vt_report_file.VT_REPORT_COLUMNS, pl.String))


def vt_sync_report_csv(tables: dict[str, pl.DataFrame], day: date, region: str = "11") -> bytes:
    """``vt_sync_report`` as the CSV file written in ``docs/`` (``;``, UTF-8)."""
    return vt_sync_report(tables, day, region).write_csv(separator=";").encode("utf-8")
