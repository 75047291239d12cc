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

This module assembles the world and writes the store; the draws live beside it: the
world itself in ``world`` (constants, entities, establishments, units, capacities), the
campaign in ``campaign_story`` and the ROR quality findings in ``quality_story``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analysis.demo.campaign_story import (
    _draw_autorisations,
    _draw_habilitations,
    _draw_sessions,
    _draw_vt,
    _regressions,
    _story_establishment,
    _story_unit,
    _zero_capacities,
)
from analysis.demo.quality_story import (
    _JUNE_AUTH,
    _draw_quality,
    _QualityStory,
    vt_sync_report,
    vt_sync_report_csv,
)
from analysis.demo.world import (
    _ORIGIN,
    CAMPAIGN_START,
    DEFAULT_SEED,
    ESTABLISHMENTS_PER_MILLION,
    MENTION_SHARES,
    MIN_ESTABLISHMENTS,
    REFORM_DATE,
    SNAPSHOT_DATES,
    STATUT_SHARES,
    _choose,
    _draw_establishments,
    _draw_sites,
    _draw_units,
    _Entity,
    _Estab,
    _places,
)
from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.model.errors import SmrError, SnapshotExistsError
from analysis.model.progress import Progress, step

#: What callers import from here (notebooks, the app, scripts, tests): the demo's dates and
#: shares, the entry points, and the ViaTrajectoire report of a snapshot.
__all__ = [
    "CAMPAIGN_START",
    "DEFAULT_SEED",
    "MENTION_SHARES",
    "MIN_ESTABLISHMENTS",
    "REFORM_DATE",
    "SNAPSHOT_DATES",
    "STATUT_SHARES",
    "build_demo",
    "demo_snapshots",
    "region_world_snapshots",
    "vt_sync_report",
    "vt_sync_report_csv",
]


@dataclass
class _World:
    """Every entity of the demo, drawn once: what a snapshot reads at its cutoff."""

    region: str
    estabs: list[_Estab]
    units: list[_Entity]
    offres: list[_Entity]
    autorisations: list[_Entity]
    vts: list[_Entity]
    guichets: list[dict[str, str]]
    quality: _QualityStory | None = None
    habilitations: list[_Entity] = field(default_factory=list)


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


# ---------------------------------------------------------------------------- snapshots


def _frame(rows: list[dict[str, Any]], table: str) -> pl.DataFrame:
    t = schema.TABLES[table]
    df = pl.DataFrame(rows, schema=t.polars_schema, orient="row") if rows else schema.empty(table)
    return df.sort(list(t.key))


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
