"""National demo: every region of France, and a year of daily snapshots (issue #9).

Two things on top of ``analysis.demo.regional``:

- **National world.** ``smr demo --region all`` draws the demo world of each of the 18 regions
  on the all-France reference geography (``data/reference/all/``, built by
  ``python scripts/build_reference.py --region all``), with about ``NATIONAL_ESTABLISHMENTS``
  establishments split between regions in proportion to their population (at least
  ``MIN_PER_REGION`` each, so the smallest overseas regions keep a usable story) and the
  demo's real rarity of mentions (``regional.MENTION_SHARES``). Identifiers carry their region
  (``uo_id`` 11/…, guichets GU11-…, VT units VT-11-…), so the regions never collide.
- **Daily series.** ``--days N`` writes N daily snapshots from ``FIRST_DAY``, generated
  incrementally: the demo world gives the state on the first day and the state the campaign
  reaches (``regional.SNAPSHOT_DATES[-1]``); every cell that differs between the two becomes a
  dated change applied at one of its establishment's work sessions (1 to 3 over the year,
  most in the spring and after the 1 June 2023 reform; renamings SSR → SMR only after it).
  Each session also re-saves the establishment and its units (``date_maj``: the *vérifié*
  rules), some late sessions fill what was still missing, a few contacts are cleared again,
  openings and closings happen on their day, and new SMR authorisations on their decision
  date. ViaTrajectoire follows the ROR at each nightly sync (18:00): a synchronised unit
  copies its ROR unit's name, phone and ages as they were the evening before, except during
  an outage (a few units a day, 3 to 45 days) or while its sync is switched off (a few a
  week, 1 to 13 weeks): so the sync status drifts and recovers.

Validation: the two states the series is made of are validated in full (no row may be
rejected) and the first day is written with its validation warnings. Later days are not
revalidated: each of their cells is a value of one of the two validated states, a copy of a
ROR value into ViaTrajectoire, a date, or a contact drawn by ``_contact`` (checked by the
tests), all in the schema's types, and rows appear or disappear with their establishment so
references stay whole. Writing goes through ``store.write_snapshot`` (atomic). Same seed,
same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analysis.demo import regional
from analysis.geo import geography
from analysis.io import store, validate
from analysis.model import schema
from analysis.model.errors import ReferenceDataError, SmrError, SnapshotExistsError
from analysis.model.progress import Progress, step
from analysis.model.syntax import any_valid_phone, blank, is_email

NATIONAL = "all"
NATIONAL_ESTABLISHMENTS = 1800
MIN_PER_REGION = 15
FIRST_DAY = regional.SNAPSHOT_DATES[0]
DEFAULT_DAYS = 365
SYNC_HOUR = dt.time(18, 0)

#: Day indexes (from ``FIRST_DAY``) of the campaign waves: spring, after the reform, late.
_CAMPAIGN = (regional.CAMPAIGN_START - FIRST_DAY).days
_REFORM = (regional.REFORM_DATE - FIRST_DAY).days
_WAVES = ((_CAMPAIGN, _REFORM - 1), (_REFORM, _REFORM + 121), (_REFORM + 122, 364))
_WAVE_SHARES = (0.45, 0.40, 0.15)

#: Columns that are not copied from the end state: derived each day instead.
_DERIVED = {
    "etablissements": {"date_maj"},
    "unites": {"date_maj", "date_maj_contacts"},
    "vt_unites": {"nom", "telephone", "age_min", "age_max", "date_synchronisation"},
}
_RENAME = {"nom", "discipline"}
#: Tables scheduled from their own random stream (added later: the rest stays identical).
_OWN_STREAM = ("habilitations",)
#: Tables whose dated changes (closures…) cannot be recorded before their date.
_DATED = ("etablissements", "unites", "finess_etablissements")
_SYNC_COPIED = ("nom", "telephone", "age_min", "age_max")
#: Contact columns a late session fills, with the kind of value drawn.
_CONTACTS: dict[str, dict[str, str]] = {
    "etablissements": {
        "email_alerte": "email",
        "directeur_nom": "name",
        "directeur_telephone": "phone",
        "directeur_email": "email",
    },
    "unites": {
        "telephone": "phone",
        "responsable_nom": "name",
        "responsable_telephone": "phone",
        "responsable_email": "email",
    },
    "vt_unites": {"responsable_admissions_nom": "name", "responsable_admissions_email": "email"},
}
_FIRST = ("Claire", "Paul", "Inès", "Hugo", "Léa", "Louis", "Chloé", "Arthur", "Manon", "Jules")
_LAST = ("Rousseau", "Blanc", "Guerin", "Muller", "Henry", "Roussel", "Perrin", "Morin", "Clement")


# ------------------------------------------------------------------------ geography


def reference_missing_message(reference_dir: str | Path | None = None) -> str | None:
    """The French one-liner saying how to build the all-France geography, or None if built."""
    base = Path(reference_dir) if reference_dir is not None else geography.REFERENCE_DIR
    if (base / NATIONAL / "communes.parquet").is_file():
        return None
    return (
        f"géographie de toute la France absente ({base / NATIONAL}) : construisez-la avec "
        "« python scripts/build_reference.py --region all »."
    )


Places = tuple[pl.DataFrame, pl.DataFrame | None, dict[str, Any]]


def region_places(region: str, reference_dir: str | Path | None = None) -> dict[str, Places]:
    """Communes (with a point), arrondissements and contours of each region of ``region``.

    ``region`` is a region code (one entry) or ``"all"`` (one entry per region of France,
    split on the communes' ``region`` column). Communes without a representative point (a
    few recent mergers in the all-France file) are left out: no site can be placed there.
    """
    communes = (
        geography.load_communes(region, reference_dir)
        .filter(pl.col("lat_point").is_not_null() & pl.col("lon_point").is_not_null())
        .with_columns(pl.col("population").fill_null(0))
        .sort("commune_insee")
    )
    shapes = geography.load_communes_geo(region, reference_dir)
    contours = dict(zip(shapes["commune_insee"], shapes.geometry, strict=True))
    arr_geo = geography.load_arrondissements_geo(region, reference_dir)
    arr = None
    if arr_geo is not None and len(arr_geo):
        arr = pl.DataFrame(
            arr_geo.drop(columns=arr_geo.geometry.name).to_dict(orient="list")
        ).sort("commune_insee")
    codes = sorted(communes["region"].unique().to_list()) if region == NATIONAL else [region]
    out: dict[str, Places] = {}
    for code in codes:
        sub = communes.filter(pl.col("region") == code) if region == NATIONAL else communes
        parts = None
        if arr is not None:
            parts = arr.filter(pl.col("commune_parent").is_in(sub["commune_insee"].implode()))
            parts = parts if parts.height else None
        names = sub["commune_insee"].to_list()
        out[code] = (sub, parts, {c: contours[c] for c in names if c in contours})
    return out


def allocate(populations: dict[str, float], total: int, minimum: int) -> dict[str, int]:
    """Integer split of ``total`` proportional to ``populations``, each at least ``minimum``.

    Regions whose share falls below the minimum get it; the rest is shared in proportion
    among the others (largest remainder), so the counts add up to ``total`` (or to
    ``minimum`` × regions when that is larger).
    """
    fixed: dict[str, int] = {}
    while True:
        free = [r for r in populations if r not in fixed]
        remaining = max(total - sum(fixed.values()), 0)
        weight = sum(populations[r] for r in free)
        share = {r: remaining * populations[r] / weight if weight else 0.0 for r in free}
        low = [r for r in free if share[r] < minimum]
        if not low or not free:
            break
        fixed.update(dict.fromkeys(low, minimum))
    counts = {r: int(np.floor(s)) for r, s in share.items()}
    order = sorted(share, key=lambda r: (-(share[r] - counts[r]), r))
    for r in order[: max(remaining - sum(counts.values()), 0)]:
        counts[r] += 1
    return {r: fixed.get(r, counts.get(r, 0)) for r in populations}


def _region_seed(seed: int, code: str) -> int:
    digits = int("".join(ch for ch in code if ch.isdigit()) or "0")
    return int(np.random.SeedSequence([seed, digits]).generate_state(1)[0])


def region_states(
    dates: Sequence[dt.date],
    seed: int = regional.DEFAULT_SEED,
    region: str = NATIONAL,
    establishments: int | None = NATIONAL_ESTABLISHMENTS,
    reference_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[dt.date, dict[str, pl.DataFrame]]:
    """The demo world at ``dates`` (story dates of ``demo``): date → canonical frames.

    For ``region="all"`` the 18 regional worlds are concatenated (about ``establishments``
    establishments in all, see ``allocate``); for one region it is the regional demo world
    itself (``establishments`` None: the demo's own count, so day 0 equals the demo).
    ``progress`` (``analysis.model.progress``) hears of each region drawn.
    """
    if region == NATIONAL:
        message = reference_missing_message(reference_dir)
        if message:
            raise ReferenceDataError(message[0].upper() + message[1:])
    places = region_places(region, reference_dir)
    if region == NATIONAL:
        pops = {c: float(p[0]["population"].sum()) for c, p in places.items()}
        counts: dict[str, int | None] = dict(
            allocate(pops, establishments or NATIONAL_ESTABLISHMENTS, MIN_PER_REGION)
        )
    else:
        counts = {region: establishments}
    per_region = []
    for n, (code, p) in enumerate(places.items(), start=1):
        own_seed = _region_seed(seed, code) if region == NATIONAL else seed
        states = regional.region_world_snapshots(own_seed, code, dates, counts[code], p)
        if region == NATIONAL:  # VT ids are drawn per region: prefix them with it
            for tables in states.values():
                tables["vt_unites"] = tables["vt_unites"].with_columns(
                    pl.col("vt_id").str.replace("^VT-", f"VT-{code}-")
                )
                tables["habilitations"] = tables["habilitations"].with_columns(
                    pl.col("vt_id").str.replace("^VT-", f"VT-{code}-")
                )
        per_region.append(states)
        step(progress, n, len(places), f"région {code}")
    out = {}
    for day in dates:
        out[day] = {
            name: pl.concat([s[day][name] for s in per_region], how="vertical").sort(
                list(schema.TABLES[name].key)
            )
            for name in per_region[0][day]
        }
    return out


# ------------------------------------------------------------------------ daily series


def _contact(rng: np.random.Generator, kind: str, phone: str | None, finess: str) -> str:
    """A well-formed fictitious contact: a name, an e-mail or a phone near ``phone``."""
    if kind == "name":
        return f"{_FIRST[int(rng.integers(len(_FIRST)))]} {_LAST[int(rng.integers(len(_LAST)))]}"
    if kind == "email":
        first = _FIRST[int(rng.integers(len(_FIRST)))].lower().replace("è", "e").replace("é", "e")
        return f"{first}.smr@etab-{finess.lower()}-fictif.fr"
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    head = digits[:4] if digits.startswith(("059", "026")) else (digits[:2] or "01")
    body = head + "".join(str(int(d)) for d in rng.integers(0, 10, size=10 - len(head)))
    return " ".join(body[i : i + 2] for i in range(0, 10, 2))


@dataclass
class _Table:
    """Every row a table has over the series, with its current values and whether it exists."""

    name: str
    cols: dict[str, list[Any]]
    alive: list[bool]
    in_start: list[bool]
    in_end: list[bool]
    index: dict[Any, int]
    dirty: set[str] = field(default_factory=set)
    cache: dict[str, pl.Series] = field(default_factory=dict)

    def set(self, row: int, col: str, value: Any) -> None:
        if self.cols[col][row] != value or (value is None) != (self.cols[col][row] is None):
            self.cols[col][row] = value
            self.dirty.add(col)

    def frame(self) -> pl.DataFrame:
        """The rows that exist now, as a canonical frame (only changed columns rebuilt)."""
        dtypes = schema.TABLES[self.name].polars_schema
        for col in list(self.dirty) or []:
            if col == "_alive":
                self.cache[col] = pl.Series(col, self.alive, pl.Boolean)
            else:
                self.cache[col] = pl.Series(col, self.cols[col], dtypes[col])
        self.dirty.clear()
        return pl.DataFrame([self.cache[c] for c in dtypes]).filter(self.cache["_alive"])


def _universe(name: str, start: pl.DataFrame, end: pl.DataFrame) -> tuple[_Table, dict]:
    """The table's rows over the series and the cells that differ at the end (row → col →
    end value), for rows present at both ends."""
    key = list(schema.TABLES[name].key)
    names = schema.TABLES[name].names
    start, end = schema.conform(start, name), schema.conform(end, name)
    joined = (
        start.with_columns(pl.lit(True).alias("_s"))
        .join(
            end.with_columns(pl.lit(True).alias("_e")),
            on=key,
            how="full",
            coalesce=True,
            suffix="_end",
        )
        .with_columns(pl.col("_s").fill_null(False), pl.col("_e").fill_null(False))
        .sort(key)
    )
    others = [c for c in names if c not in key]
    values = joined.select(
        *key,
        *[pl.when(pl.col("_s")).then(pl.col(c)).otherwise(pl.col(f"{c}_end")).alias(c)
          for c in others],
    )
    cols = {c: values[c].to_list() for c in names}
    in_start, in_end = joined["_s"].to_list(), joined["_e"].to_list()
    keys = list(zip(*[cols[k] for k in key], strict=True)) if len(key) > 1 else cols[key[0]]
    table = _Table(name, cols, list(in_start), in_start, in_end, {k: i for i, k in enumerate(keys)})
    table.dirty = {*names, "_alive"}
    diffs: dict[int, dict[str, Any]] = defaultdict(dict)
    both = pl.col("_s") & pl.col("_e")
    for c in others:
        if c in _DERIVED.get(name, set()):
            continue
        rows = joined.select(
            pl.arg_where(both & pl.col(c).ne_missing(pl.col(f"{c}_end")))
        ).to_series()
        ends = joined[f"{c}_end"]
        for r in rows.to_list():
            diffs[r][c] = ends[r]
    return table, diffs


def _bad_contacts(table: _Table) -> dict[int, list[str]]:
    """Rows whose contact columns are blank or malformed at the end state, per row."""
    kinds = _CONTACTS.get(table.name, {})
    if not kinds:
        return {}
    frame = pl.DataFrame({c: table.cols[c] for c in kinds}, schema={c: pl.String for c in kinds})
    flags = frame.select(
        [
            (
                blank(pl.col(c))
                | (~is_email(pl.col(c)) if kind == "email" else pl.lit(False))
                | (~any_valid_phone(pl.col(c)) if kind == "phone" else pl.lit(False))
            ).fill_null(True).alias(c)
            for c, kind in kinds.items()
        ]
    )
    out: dict[int, list[str]] = defaultdict(list)
    for c in kinds:
        for r in flags.select(pl.arg_where(pl.col(c))).to_series().to_list():
            out[r].append(c)
    return out


@dataclass(order=True)
class _Event:
    moment: dt.datetime
    seq: int
    table: str = field(compare=False)
    row: int = field(compare=False)
    col: str | None = field(compare=False)  # None: touch (date_maj); "_alive": exists or not
    value: Any = field(compare=False, default=None)


class _Series:
    """The incremental generator: tables, scheduled events, sync state."""

    def __init__(
        self,
        start: dict[str, pl.DataFrame],
        end: dict[str, pl.DataFrame],
        seed: int,
        days: int,
    ) -> None:
        self.rng = np.random.default_rng([seed, 9])
        self.seed = seed
        self.days = days
        # drawn over a whole year whatever ``days``: a shorter series is the start of it
        self.horizon = max(days, DEFAULT_DAYS)
        self.tables: dict[str, _Table] = {}
        self.diffs: dict[str, dict[int, dict[str, Any]]] = {}
        for name in schema.TABLES:
            t, d = _universe(name, start[name], end[name])
            self.tables[name], self.diffs[name] = t, d
        self.events: dict[int, list[_Event]] = defaultdict(list)
        self._seq = 0
        units = self.tables["unites"]
        self.unit_finess = dict(zip(units.cols["uo_id"], units.cols["finess_eg"], strict=True))
        vt = self.tables["vt_unites"]
        self.outage_until = [0] * len(vt.alive)
        self._schedule()

    # -------------------------------------------------------------- scheduling helpers

    def _day(self, lo: int, hi: int, skew: float = 1.6) -> int:
        """A working day index between ``lo`` and ``hi`` (early days favoured)."""
        d = lo + int(np.floor(self.rng.beta(1.0, skew) * (hi - lo + 1)))
        weekday = (FIRST_DAY + dt.timedelta(days=d)).weekday()
        return d + (7 - weekday if weekday >= 5 else 0)

    def _moment(self, day: int, earliest: int = 8 * 60, latest: int = 17 * 60 + 50) -> dt.datetime:
        minutes = int(self.rng.integers(earliest, latest))
        return dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time()) + dt.timedelta(
            minutes=minutes, seconds=int(self.rng.integers(60))
        )

    def _add(self, moment: dt.datetime, table: str, row: int, col: str | None, value: Any = None):
        day = (moment.date() - FIRST_DAY).days
        if 1 <= day < self.days:
            self._seq += 1
            self.events[day].append(_Event(moment, self._seq, table, row, col, value))

    def _finess_of(self, name: str, row: int) -> str | None:
        cols = self.tables[name].cols
        if "finess_eg" in cols:
            return cols["finess_eg"][row]
        return self.unit_finess.get(cols["uo_id"][row])

    # -------------------------------------------------------------------- the schedule

    def _schedule(self) -> None:
        rng = self.rng
        etabs = self.tables["etablissements"]
        finesses = sorted(
            {f for name, t in self.tables.items() if "finess_eg" in t.cols
             and name != "finess_etablissements" for f in t.cols["finess_eg"] if f}
        )
        # Work sessions of each establishment's référent.
        sessions: dict[str, list[dt.datetime]] = {}
        for f in finesses:
            n = 1 + int(rng.binomial(2, 0.5))
            waves = rng.choice(3, size=n, p=_WAVE_SHARES)
            days = sorted({self._day(*_WAVES[int(w)]) for w in waves})
            sessions[f] = [self._moment(d) for d in days]
        # Openings and closings: establishments present at one end only.
        opened: dict[str, int] = {}
        closed: dict[str, int] = {}
        for r, f in enumerate(etabs.cols["finess_eg"]):
            if etabs.in_end[r] and not etabs.in_start[r]:
                opened[f] = self._day(_REFORM - 40, _REFORM + 20, 1.0)
                sessions[f] = [s for s in sessions[f] if (s.date() - FIRST_DAY).days > opened[f]]
            elif etabs.in_start[r] and not etabs.in_end[r]:
                closed[f] = self._day(_REFORM + 20, _REFORM + 60, 1.0)
        decision: dict[str, int] = {}
        auth = self.tables["autorisations"]
        for r in range(len(auth.alive)):
            if auth.in_end[r] and not auth.in_start[r] and auth.cols["regime"][r] == "SMR":
                f = auth.cols["finess_eg"][r]
                d = (auth.cols["date_decision"][r] - FIRST_DAY).days
                decision[f] = min(decision.get(f, d), d)

        def session_of(f: str | None, after: int = 0) -> dt.datetime:
            pool = [s for s in sessions.get(f or "", []) if (s.date() - FIRST_DAY).days >= after]
            if pool:
                return pool[int(rng.integers(len(pool)))]
            moment = self._moment(self._day(max(after, _CAMPAIGN), _WAVES[1][1]))
            if f is not None:
                sessions.setdefault(f, []).append(moment)
                sessions[f].sort()
            return moment

        # Rows present at one end only: appear or disappear on their day.
        for name, t in self.tables.items():
            if name in _OWN_STREAM:
                continue
            for r in range(len(t.alive)):
                if t.in_start[r] == t.in_end[r]:
                    continue
                f = self._finess_of(name, r)
                if t.in_end[r]:  # appears
                    if name == "autorisations" and t.cols["date_decision"][r] is not None:
                        day = max((t.cols["date_decision"][r] - FIRST_DAY).days, opened.get(f, 1))
                        moment = self._moment(day, 7 * 60, 7 * 60 + 30)
                    elif f in opened:
                        extra = int(rng.integers(7, 31)) if name == "vt_unites" else 0
                        moment = self._moment(opened[f] + extra, 9 * 60, 9 * 60 + 30)
                    elif name == "finess_etablissements":
                        moment = self._moment(self._day(1, _REFORM + 60, 1.0), 6 * 60, 7 * 60)
                    else:
                        moment = session_of(f)
                    self._add(moment, name, r, "_alive", True)
                else:  # disappears
                    if f in closed:
                        extra = 14 if name == "vt_unites" else 0
                        moment = self._moment(closed[f] + extra, 17 * 60, 17 * 60 + 30)
                    else:
                        moment = session_of(f)
                    self._add(moment, name, r, "_alive", False)
        # Cells that differ at the end: applied at a session (renamings after the reform).
        for name, diffs in self.diffs.items():
            if name in _OWN_STREAM:
                continue
            for r, changes in diffs.items():
                f = self._finess_of(name, r)
                for col, value in changes.items():
                    if name in ("finess_etablissements", "vt_guichets"):
                        moment = self._moment(self._day(1, _REFORM + 60, 1.0), 6 * 60, 7 * 60)
                    elif name == "autorisations" and f in decision:
                        moment = self._moment(max(decision[f], 1), 7 * 60, 7 * 60 + 30)
                    elif name == "unites" and col in _RENAME:
                        moment = session_of(f, after=_REFORM)
                    else:
                        moment = session_of(f, after=opened.get(f, 0))
                    if name in _DATED and isinstance(value, dt.date):  # not before the fact
                        when = value.date() if isinstance(value, dt.datetime) else value
                        if moment.date() < when:
                            moment = self._moment((when - FIRST_DAY).days)
                    self._add(moment, name, r, col, value)
                    if name in ("etablissements", "unites", "offres"):
                        self._touch_entity(name, r, moment)
        # Each session re-saves the establishment and most of its units (the *vérifié* rules).
        units_of: dict[str, list[int]] = defaultdict(list)
        for r, f in enumerate(self.tables["unites"].cols["finess_eg"]):
            units_of[f].append(r)
        for f in finesses:
            row = etabs.index.get(f)
            for s in sessions.get(f, []):
                if row is not None and rng.random() < 0.9:
                    self._add(s, "etablissements", row, None)
                for u in units_of.get(f, []):
                    if rng.random() < 0.85:
                        self._add(s + dt.timedelta(minutes=int(rng.integers(2, 45))), "unites", u,
                                  None)
        self._late_fixes(sessions)
        self._regressions()
        self._drift()
        self._accounts(opened, closed)

    def _accounts(self, opened: dict[str, int], closed: dict[str, int]) -> None:
        """Accounts and habilitations (issue 13) that appear or end during the series, from
        their own stream so that every other value of the series is unchanged: an account
        given by the support at a campaign-time moment, or on its establishment's opening
        day; gone on its establishment's closing day. Their cells never change."""
        rng = np.random.default_rng([self.seed, 13])
        for name in _OWN_STREAM:
            t = self.tables[name]
            for r in range(len(t.alive)):
                if t.in_start[r] == t.in_end[r]:
                    continue
                f = self._finess_of(name, r)
                if t.in_end[r]:
                    day = opened.get(f) or int(rng.integers(_CAMPAIGN, _WAVES[1][1]))
                else:
                    day = closed.get(f) or int(rng.integers(_CAMPAIGN, _WAVES[1][1]))
                minutes = int(rng.integers(9 * 60, 17 * 60))
                moment = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time()) + (
                    dt.timedelta(minutes=minutes)
                )
                self._add(moment, name, r, "_alive", bool(t.in_end[r]))

    def _touch_entity(self, name: str, row: int, moment: dt.datetime) -> None:
        if name == "offres":  # a capacity change re-saves its unit
            u = self.tables["unites"].index.get(self.tables["offres"].cols["uo_id"][row])
            if u is not None:
                self._add(moment, "unites", u, None)
        else:
            self._add(moment, name, row, None)

    def _late_fixes(self, sessions: dict[str, list[dt.datetime]]) -> None:
        """Late sessions fill the contacts still missing or malformed at the end state."""
        rng = self.rng
        end_tables = {}
        for name in _CONTACTS:
            t = self.tables[name]
            end = _Table(name, {c: list(v) for c, v in t.cols.items()}, [], [], [], {})
            for r, changes in self.diffs[name].items():
                for c, v in changes.items():
                    end.cols[c][r] = v
            end_tables[name] = end
        phones = dict(
            zip(self.tables["etablissements"].cols["finess_eg"],
                self.tables["etablissements"].cols["telephone"], strict=True)
        ) if "telephone" in self.tables["etablissements"].cols else {}
        for name, end in end_tables.items():
            for r, cols in sorted(_bad_contacts(end).items()):
                f = self._finess_of(name, r)
                late = [s for s in sessions.get(f or "", [])
                        if (s.date() - FIRST_DAY).days >= _WAVES[2][0]]
                if not late or rng.random() < 0.35:
                    continue
                moment = late[-1] + dt.timedelta(minutes=50)
                for c in cols:
                    kind = _CONTACTS[name][c]
                    self._add(moment, name, r, c, _contact(rng, kind, phones.get(f), f or "0"))
                if name != "vt_unites":
                    self._add(moment, name, r, None)

    def _regressions(self) -> None:
        """A few filled contacts cleared again (someone saved a form with a field emptied)."""
        rng = self.rng
        for day in range(_CAMPAIGN, self.horizon):
            for _ in range(int(rng.poisson(0.3))):
                name = "unites" if rng.random() < 0.7 else "etablissements"
                t = self.tables[name]
                row = int(rng.integers(len(t.alive)))
                col = list(_CONTACTS[name])[int(rng.integers(len(_CONTACTS[name])))]
                moment = self._moment(day)
                self._add(moment, name, row, col, None)
                self._add(moment, name, row, None)

    def _drift(self) -> None:
        """Sync outages (VT keeps old values) and sync switched off, both recovering."""
        rng = self.rng
        vt = self.tables["vt_unites"]
        n = len(vt.alive)
        units = self.tables["unites"]
        for r in range(n):  # VT units already behind the ROR on the first day
            u = units.index.get(vt.cols["uo_id"][r])
            if vt.cols["synchronise_ror"][r] and u is not None and vt.alive[r] and any(
                vt.cols[c][r] != units.cols[c][u] for c in _SYNC_COPIED
            ):
                self.outage_until[r] = int(rng.integers(1, 60))
        self.outages: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for day in range(1, self.horizon):
            for _ in range(int(rng.poisson(1.2))):
                self.outages[day].append((int(rng.integers(n)), day + int(rng.integers(3, 46))))
            for _ in range(int(rng.poisson(0.3))):
                r = int(rng.integers(n))
                off = self._moment(day)
                back = self._moment(day + int(rng.integers(7, 92)))
                self._add(off, "vt_unites", r, "synchronise_ror", False)
                self._add(back, "vt_unites", r, "synchronise_ror", True)

    # -------------------------------------------------------------------- the days

    def _sync(self, day: int) -> None:
        """Nightly sync of the evening before ``day``: VT copies its ROR unit's values."""
        vt, units = self.tables["vt_unites"], self.tables["unites"]
        nightly = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day - 1), SYNC_HOUR)
        for r, until in self.outages.get(day, []):
            if vt.alive[r] and vt.cols["synchronise_ror"][r]:
                self.outage_until[r] = max(self.outage_until[r], until)
        for r in range(len(vt.alive)):
            if not vt.alive[r] or not vt.cols["synchronise_ror"][r] or day <= self.outage_until[r]:
                continue
            u = units.index.get(vt.cols["uo_id"][r])
            if u is None or not units.alive[u]:
                continue
            for c in _SYNC_COPIED:
                vt.set(r, c, units.cols[c][u])
            vt.set(r, "date_synchronisation", nightly)

    def _apply(self, day: int) -> None:
        for ev in sorted(self.events.get(day, [])):
            t = self.tables[ev.table]
            if ev.col == "_alive":
                if t.alive[ev.row] != ev.value:
                    t.alive[ev.row] = ev.value
                    t.dirty.add("_alive")
                if ev.value:
                    self._arrive(t, ev.row, ev.moment)
                continue
            if not t.alive[ev.row]:
                continue
            if ev.col is None:
                t.set(ev.row, "date_maj", ev.moment)
                continue
            t.set(ev.row, ev.col, ev.value)
            if ev.table == "unites" and ev.col in _CONTACTS["unites"] and (
                "date_maj_contacts" in t.cols
            ):
                t.set(ev.row, "date_maj_contacts", ev.moment)

    @staticmethod
    def _arrive(t: _Table, row: int, moment: dt.datetime) -> None:
        """A row that appears today: its dates cannot be later than today."""
        if "date_maj" in t.cols and t.name in ("etablissements", "unites"):
            t.set(row, "date_maj", moment)
        contacts = t.cols.get("date_maj_contacts")
        if contacts is not None and contacts[row] is not None and contacts[row] > moment:
            t.set(row, "date_maj_contacts", moment)
        if t.name == "vt_unites":
            t.set(row, "date_synchronisation", None)  # first synchronisation tonight

    def day_tables(self, day: int) -> dict[str, pl.DataFrame]:
        """Advance to ``day`` (0: the start state) and return its canonical frames."""
        if day > 0:
            self._sync(day)
            self._apply(day)
        return {name: t.frame() for name, t in self.tables.items()}


def _validated(tables: dict[str, pl.DataFrame], day: dt.date) -> validate.ValidationResult:
    result = validate.validate_tables(tables)
    if result.rejected.height:
        raise SmrError(
            f"données de démonstration du {day} : {result.rejected.height} lignes rejetées "
            f"par la validation (première raison : {result.rejected['reason'][0]})."
        )
    return result


def daily_dates(days: int) -> list[dt.date]:
    """The dates of a daily series of ``days`` snapshots from ``FIRST_DAY``."""
    return [FIRST_DAY + dt.timedelta(days=i) for i in range(days)]


def build_daily_demo(
    out: Path | str,
    days: int = DEFAULT_DAYS,
    seed: int = regional.DEFAULT_SEED,
    region: str = NATIONAL,
    replace: bool = False,
    establishments: int | None = None,
    reference_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> list[dt.date]:
    """Write ``days`` daily demo snapshots from ``FIRST_DAY`` into ``out``; returns the dates.

    ``region`` is a region code or ``"all"`` (France, about ``NATIONAL_ESTABLISHMENTS``
    establishments unless ``establishments`` says otherwise). See the module docstring for
    the story and for what is validated. ``progress`` (``analysis.model.progress``) hears of each
    region drawn, then of each day written.
    """
    if days < 1:
        raise SmrError("nombre de jours invalide : au moins 1 instantané.")
    out = Path(out)
    dates = daily_dates(days)
    existing = [d for d in dates if (out / d.isoformat()).exists()]
    if existing and not replace:
        raise SnapshotExistsError(out, existing)
    if establishments is None and region == NATIONAL:
        establishments = NATIONAL_ESTABLISHMENTS
    ends = region_states([FIRST_DAY, regional.SNAPSHOT_DATES[-1]], seed, region, establishments,
                         reference_dir, progress)
    start, end = ends[FIRST_DAY], ends[regional.SNAPSHOT_DATES[-1]]
    first = _validated(start, FIRST_DAY)
    _validated(end, regional.SNAPSHOT_DATES[-1])
    series = _Series(start, end, seed, days)
    extra = {
        "demo": True,
        "region": region,
        "campagne_debut": regional.CAMPAIGN_START.isoformat(),
        "serie_quotidienne": True,
        "validation": "premier jour validé en entier ; jours suivants générés à partir "
        "d'états validés, non revalidés (voir analysis/demo/national.py)",
    }
    for i, day in enumerate(dates):
        tables = series.day_tables(i)
        warnings = first.report.filter(pl.col("severity") == schema.WARNING) if i == 0 else None
        store.write_snapshot(out, day, tables, warnings=warnings, replace=replace, extra=extra)
        step(progress, i + 1, len(dates), day.isoformat())
    from analysis.demo import oqos as oqos_demo  # illustrative OQOS files, a generator of their own

    oqos_demo.write_demo_files(out, tables, dates[-1], region, seed, reference_dir)
    return dates


def build_national_demo(
    out: Path | str,
    seed: int = regional.DEFAULT_SEED,
    replace: bool = False,
    establishments: int = NATIONAL_ESTABLISHMENTS,
    reference_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> list[dt.date]:
    """The demo story (``regional.SNAPSHOT_DATES``) for all of France, validated like ``build_demo``.

    ``progress`` (``analysis.model.progress``) hears of each region drawn, then of each snapshot.
    """
    out = Path(out)
    existing = [d for d in regional.SNAPSHOT_DATES if (out / d.isoformat()).exists()]
    if existing and not replace:
        raise SnapshotExistsError(out, existing)
    states = region_states(list(regional.SNAPSHOT_DATES), seed, NATIONAL, establishments,
                           reference_dir, progress)
    extra = {"demo": True, "region": NATIONAL,
             "campagne_debut": regional.CAMPAIGN_START.isoformat()}
    for n, (day, tables) in enumerate(states.items(), start=1):
        result = _validated(tables, day)
        warnings = result.report.filter(pl.col("severity") == schema.WARNING)
        store.write_snapshot(out, day, result.tables, rejected=result.rejected,
                             warnings=warnings, replace=replace, extra=extra)
        step(progress, n, len(states), day.isoformat())
    from analysis.demo import oqos as oqos_demo  # illustrative OQOS files, a generator of their own

    oqos_demo.write_demo_files(out, result.tables, day, NATIONAL, seed, reference_dir)
    return list(states)
