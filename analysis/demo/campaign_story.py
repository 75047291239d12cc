"""The demo's campaign story: what changes in the world over the SSR → SMR campaign.

Campaign sessions of each establishment, contacts filled in little by little (with typing
mistakes, corrections and a few regressions), units renamed after the reform, the old SSR
authorisations and the new SMR decisions, ViaTrajectoire units and guichets, user accounts
and habilitations. Each draw takes its own random stream (``regional._build_world``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from analysis.demo.world import (
    _ACTIVITY,
    _ORIGIN,
    _SECTORS,
    _VT_ONLY_NAMES,
    CAMPAIGN_START,
    GUICHETS_PER_ESTABLISHMENT,
    REFORM_DATE,
    SNAPSHOT_DATES,
    _allocate,
    _bad_email,
    _bad_phone,
    _choose,
    _email,
    _Entity,
    _Estab,
    _moment,
    _person,
    _phone,
    _pick,
    _slug,
)
from analysis.model import nomenclature as nom

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
