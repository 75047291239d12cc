"""ROR ↔ ViaTrajectoire synchronisation: every status, the 18:00 boundary, field
differences and counts against a plain count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import store, sync, syntax
from tests.test_campaign import frame, uo, vt

SNAP = dt.date(2024, 3, 2)  # extract of 2 March: the last sync it reflects is 1 March 18:00


def tables(units: list[dict], vts: list[dict], etabs: list[dict] | None = None) -> dict:
    return {
        "unites": frame("unites", units),
        "vt_unites": frame("vt_unites", vts),
        "etablissements": frame("etablissements", etabs or []),
    }


def statuses(t: dict, as_of: dt.date | dt.datetime = SNAP, **kw: Any) -> dict[str | None, str]:
    """vt_id (or uo_id for ROR-only rows) → status."""
    out = sync.unit_status(t, as_of, **kw)
    return {(r["vt_id"] or r["uo_id"]): r["statut"] for r in out.iter_rows(named=True)}


def test_last_sync_time():
    assert sync.last_sync(SNAP) == dt.datetime(2024, 3, 1, 18, 0)
    assert sync.last_sync(dt.datetime(2024, 3, 1, 18, 0)) == dt.datetime(2024, 3, 1, 18, 0)
    assert sync.last_sync(dt.datetime(2024, 3, 1, 17, 59)) == dt.datetime(2024, 2, 29, 18, 0)
    assert sync.last_sync(dt.datetime(2024, 3, 1, 23, 0), dt.time(6, 0)) == dt.datetime(
        2024, 3, 1, 6, 0)


@pytest.mark.parametrize(
    ("changed_at", "expected"),
    [
        (dt.datetime(2024, 3, 1, 17, 59), sync.DESYNCHRONISE),  # VT should have it by now
        (dt.datetime(2024, 3, 1, 18, 0), sync.DESYNCHRONISE),  # at the sync itself: included
        (dt.datetime(2024, 3, 1, 18, 1), sync.EN_ATTENTE),  # after the last sync: pending
        (dt.datetime(2024, 3, 2, 9, 30), sync.EN_ATTENTE),  # on the extract's own day
    ],
)
def test_the_1800_boundary(changed_at, expected):
    # The ROR renamed the unit SSR → SMR; VT still shows the old name.
    t = tables([uo(nom="SMR polyvalent", date_maj=changed_at)], [vt(nom="SSR polyvalent")])
    assert statuses(t) == {"VT-1": expected}


def test_boundary_follows_the_sync_time_and_the_moment():
    t = tables([uo(nom="SMR polyvalent", date_maj=dt.datetime(2024, 3, 1, 18, 1))],
               [vt(nom="SSR polyvalent")])
    assert statuses(t, sync_time=dt.time(20, 0)) == {"VT-1": sync.DESYNCHRONISE}
    # An extract taken at 19:00 on 2 March reflects the 2 March 18:00 sync.
    assert statuses(t, dt.datetime(2024, 3, 2, 19, 0)) == {"VT-1": sync.DESYNCHRONISE}
    assert statuses(t, dt.datetime(2024, 3, 2, 17, 0)) == {"VT-1": sync.EN_ATTENTE}


def test_every_status():
    old = dt.datetime(2024, 2, 1, 9, 0)
    units = [
        uo(uo_id="U-sync", date_maj=old),
        uo(uo_id="U-wait", nom="SMR gériatrie", date_maj=dt.datetime(2024, 3, 1, 20, 0)),
        uo(uo_id="U-off", date_maj=old),
        uo(uo_id="U-drift", telephone="01 44 96 31 49", date_maj=old),
        uo(uo_id="U-alone", date_maj=old),
    ]
    vts = [
        vt(vt_id="V-sync", uo_id="U-sync"),
        vt(vt_id="V-wait", uo_id="U-wait", nom="SSR gériatrie"),
        vt(vt_id="V-off", uo_id="U-off", synchronise_ror=False),  # fields equal, sync off
        vt(vt_id="V-drift", uo_id="U-drift"),
        vt(vt_id="V-none", uo_id=None),
        vt(vt_id="V-blank", uo_id="  "),
        vt(vt_id="V-dangling", uo_id="U-404"),
    ]
    assert statuses(tables(units, vts)) == {
        "V-sync": sync.SYNCHRONISE,
        "V-wait": sync.EN_ATTENTE,
        "V-off": sync.DESYNCHRONISE,
        "V-drift": sync.DESYNCHRONISE,
        "U-alone": sync.ABSENT_VT,
        "V-none": sync.ABSENT_ROR,
        "V-blank": sync.ABSENT_ROR,
        "V-dangling": sync.ABSENT_ROR,
    }
    out = sync.unit_status(tables(units, vts), SNAP)
    dangling = out.filter(pl.col("vt_id") == "V-dangling").row(0, named=True)
    assert dangling["uo_id"] is None and dangling["uo_id_vt"] == "U-404"
    assert "inexistante" in dangling["motif"]
    drift = out.filter(pl.col("vt_id") == "V-drift").row(0, named=True)
    assert drift["ecarts"] == "telephone" and "telephone" in drift["motif"]


def test_sync_switched_off_wins_over_pending():
    t = tables([uo(date_maj=dt.datetime(2024, 3, 2, 8, 0))], [vt(synchronise_ror=False)])
    assert statuses(t) == {"VT-1": sync.DESYNCHRONISE}


def test_spelling_differences_are_not_drift():
    t = tables(
        [uo(nom="SMR  Polyvalent ", telephone="+33 1 44 96 31 40")],
        [vt(nom="smr polyvalent", telephone="01.44.96.31.40")],
    )
    assert statuses(t) == {"VT-1": sync.SYNCHRONISE}
    assert sync.field_differences(t).height == 0


def test_field_differences_long_table():
    t = tables(
        [uo(uo_id="U1", nom="SMR polyvalent", age_min=18),
         uo(uo_id="U2", nom="SMR gériatrie", age_min=75, age_max=120)],
        [vt(vt_id="V1", uo_id="U1", nom="SSR polyvalent", age_min=16),
         vt(vt_id="V2", uo_id="U2", nom="SMR gériatrie", age_min=75, age_max=None),
         vt(vt_id="V3", uo_id=None, nom="Unité VT seule")],
    )
    diffs = sync.field_differences(t)
    assert diffs.columns == ["uo_id", "vt_id", "finess_eg", "champ", "valeur_ror", "valeur_vt"]
    assert diffs.rows() == [
        ("U1", "V1", "750000011", "nom", "SMR polyvalent", "SSR polyvalent"),
        ("U1", "V1", "750000011", "age_min", "18", "16"),
        ("U2", "V2", "750000011", "age_max", "120", None),
    ]


def test_a_field_absent_from_the_vt_extract_is_not_compared():
    t = tables([uo(telephone="01 44 96 31 40")], [vt(telephone=None)])
    assert statuses(t) == {"VT-1": sync.SYNCHRONISE}
    # …but once one VT unit has a phone, an empty one is a difference.
    t = tables([uo(), uo(uo_id="UO-2")], [vt(telephone=None), vt(vt_id="VT-2", uo_id="UO-2")])
    assert statuses(t) == {"VT-1": sync.DESYNCHRONISE, "VT-2": sync.SYNCHRONISE}


def test_establishment_mismatch_is_a_difference():
    t = tables([uo()], [vt(finess_eg="920000025")])
    out = sync.unit_status(t, SNAP)
    assert out["statut"].to_list() == [sync.DESYNCHRONISE]
    assert out["finess_eg"].to_list() == ["750000011"]  # the ROR side is the reference


def test_counts_match_a_plain_count(demo_store):
    snap = store.read_snapshot(demo_store)
    status = sync.unit_status(snap.tables, snap.date)
    # Every status occurs in the demo.
    assert set(status["statut"]) == set(sync.STATUSES)
    # One row per VT unit plus one per ROR unit that no VT unit links to.
    vt_units = snap.tables["vt_unites"]
    linked = {u for u in vt_units["uo_id"].to_list() if u}
    alone = [u for u in snap.tables["unites"]["uo_id"].to_list() if u not in linked]
    assert status.height == vt_units.height + len(alone)
    dep_of = {r["finess_eg"]: r["commune_insee"][:2]
              for r in snap.tables["etablissements"].iter_rows(named=True)}
    plain: dict[str, dict[str, int]] = {}
    for r in status.iter_rows(named=True):
        dep = dep_of.get(r["finess_eg"], r["finess_eg"][:2])
        plain.setdefault(dep, dict.fromkeys(sync.STATUSES, 0))[r["statut"]] += 1
    counts = sync.status_counts(status, snap.tables["etablissements"], by="departement")
    for row in counts.iter_rows(named=True):
        assert {s: row[s] for s in sync.STATUSES} == plain[row["departement"]]
        assert row["total"] == sum(plain[row["departement"]].values())
        ok = plain[row["departement"]][sync.SYNCHRONISE] + plain[row["departement"]][
            sync.EN_ATTENTE]
        assert row["taux_synchronise"] == pytest.approx(ok / row["total"])
    per_eg = sync.status_counts(status, snap.tables["etablissements"], by="finess_eg")
    assert per_eg["total"].sum() == status.height
    assert per_eg["raison_sociale"].null_count() == 0


def test_pending_units_in_the_demo_were_changed_after_the_last_sync(demo_store):
    snap = store.read_snapshot(demo_store)
    status = sync.unit_status(snap.tables, snap.date)
    pending = status.filter(pl.col("statut") == sync.EN_ATTENTE)
    assert pending.height > 0
    assert (pending["date_maj_ror"] > sync.last_sync(snap.date)).all()


# ------------------------------------------------------------------------- phone syntax

digits = st.text(alphabet="0123456789", min_size=1, max_size=12)
separators = st.sampled_from([" ", ".", "-", "", " / ", " ; ", " ou ", "(0)", "+33 "])


@settings(deadline=None, max_examples=200)
@given(st.lists(st.tuples(separators, digits), min_size=1, max_size=4))
def test_phone_validity_agrees_with_python_re(parts):
    from tests.test_campaign import _phone_ok

    text = "".join(sep + d for sep, d in parts)
    got = pl.select(syntax.any_valid_phone(pl.lit(text))).item()
    assert bool(got) == _phone_ok(text), text


def test_counts_by_legal_status_and_overall(demo_store):
    snap = store.read_snapshot(demo_store)
    status = sync.unit_status(snap.tables, snap.date)
    by_status = sync.status_counts(status, snap.tables["etablissements"], "statut_etablissement")
    assert by_status["total"].sum() == status.height
    overall = sync.status_counts(status, snap.tables["etablissements"], "ensemble").row(
        0, named=True)
    assert overall["total"] == status.height
    assert overall[sync.ABSENT_ROR] == int((status["statut"] == sync.ABSENT_ROR).sum())
