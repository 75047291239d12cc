"""ROR ↔ ViaTrajectoire synchronisation: every status, the 18:00 boundary, field
differences and counts against a plain count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.indicators import sync
from analysis.io import store
from analysis.model import syntax
from tests.helpers import eg, frame, uo, vt

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
    from tests.checks.test_campaign import _phone_ok

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


# ------------------------------------------------- late sync (ViaTrajectoire's own date)
#
# The campaign guide: « Cette mise à jour entre les deux outils est réalisée quotidiennement
# à 18 h. » A ROR change made at or before the last 18:00 sync before the snapshot must be in
# ViaTrajectoire; when VT's date_synchronisation for the unit is older than the change, that
# sync did not reach the unit, whatever the compared fields say.

JULY = dt.date(2023, 7, 31)  # extract of 31 July: the last sync it reflects is 30 July 18:00


def test_a_late_sync_is_caught_only_by_the_vt_sync_date():
    # Changed in the ROR on 07/07 in a field VT does not show (discipline); every compared
    # field is equal; VT last synchronised the unit on 01/06.
    changed = dt.datetime(2023, 7, 7, 12, 39)
    t = tables(
        [uo(discipline="SMR", date_maj=changed)],
        [vt(date_synchronisation=dt.datetime(2023, 6, 1, 18, 0))],
    )
    out = sync.unit_status(t, JULY).row(0, named=True)
    assert out["statut"] == sync.DESYNCHRONISE
    assert out["ecarts"] is None  # no compared field differs
    assert out["synchro_en_retard"] is True
    assert out["motif"] == (
        "synchronisation en retard : modifiée dans le ROR le 07/07/2023 12:39, dernière "
        "synchronisation ViaTrajectoire le 01/06/2023 18:00 (la synchronisation du "
        "30/07/2023 18:00 aurait dû la reporter)"
    )
    # Synchronised after the change: nothing to say. Without a VT date: not judged late.
    synced = tables([uo(date_maj=changed)], [vt(date_synchronisation=dt.datetime(2023, 7, 30, 18))])
    assert statuses(synced, JULY) == {"VT-1": sync.SYNCHRONISE}
    unknown = tables([uo(date_maj=changed)], [vt(date_synchronisation=None)])
    assert statuses(unknown, JULY) == {"VT-1": sync.SYNCHRONISE}


@pytest.mark.parametrize(
    ("changed_at", "vt_synced_at", "expected"),
    [
        # SNAP = 2 March: the last sync it reflects is 1 March 18:00.
        (dt.datetime(2024, 3, 1, 17, 59), dt.datetime(2024, 3, 1, 18, 0), sync.SYNCHRONISE),
        (dt.datetime(2024, 3, 1, 17, 59), dt.datetime(2024, 3, 1, 18, 0, 40), sync.SYNCHRONISE),
        (dt.datetime(2024, 3, 1, 17, 59), dt.datetime(2024, 2, 29, 18, 0), sync.DESYNCHRONISE),
        # a change at 18:00 sharp belongs to that sync (as for pending changes)
        (dt.datetime(2024, 3, 1, 18, 0), dt.datetime(2024, 3, 1, 18, 0), sync.SYNCHRONISE),
        (dt.datetime(2024, 3, 1, 18, 0), dt.datetime(2024, 2, 29, 18, 0), sync.DESYNCHRONISE),
        # after the eve's 18:00 sync, or on the extract's day: pending, never late
        (dt.datetime(2024, 3, 1, 18, 1), dt.datetime(2024, 2, 29, 18, 0), sync.EN_ATTENTE),
        (dt.datetime(2024, 3, 1, 23, 59), dt.datetime(2024, 2, 1, 18, 0), sync.EN_ATTENTE),
        (dt.datetime(2024, 3, 2, 9, 30), dt.datetime(2024, 2, 29, 18, 0), sync.EN_ATTENTE),
        # a VT date without time (00:00) is the sync of that day at 18:00
        (dt.datetime(2024, 3, 1, 10, 0), dt.datetime(2024, 3, 1, 0, 0), sync.SYNCHRONISE),
        (dt.datetime(2024, 2, 29, 19, 0), dt.datetime(2024, 2, 29, 0, 0), sync.DESYNCHRONISE),
    ],
)
def test_late_sync_around_1800_on_the_eve(changed_at, vt_synced_at, expected):
    t = tables([uo(date_maj=changed_at)], [vt(date_synchronisation=vt_synced_at)])
    assert statuses(t) == {"VT-1": expected}


def test_late_sync_follows_the_sync_time_parameter():
    # With the sync at 20:00, a change at 19:00 on the eve should be in VT; at 18:00 it is
    # still pending.
    t = tables(
        [uo(date_maj=dt.datetime(2024, 3, 1, 19, 0))],
        [vt(date_synchronisation=dt.datetime(2024, 2, 29, 20, 0))],
    )
    assert statuses(t) == {"VT-1": sync.EN_ATTENTE}
    assert statuses(t, sync_time=dt.time(20, 0)) == {"VT-1": sync.DESYNCHRONISE}
    # a date-only VT value is read at the chosen hour: 1 March 20:00 carries the change
    dated = tables(
        [uo(date_maj=dt.datetime(2024, 3, 1, 19, 0))],
        [vt(date_synchronisation=dt.datetime(2024, 3, 1))],
    )
    assert statuses(dated, sync_time=dt.time(20, 0)) == {"VT-1": sync.SYNCHRONISE}


def test_late_sync_priority():
    old_sync = dt.datetime(2024, 2, 1, 18, 0)
    changed = dt.datetime(2024, 2, 20, 10, 0)
    units = [uo(uo_id="U-off", date_maj=changed), uo(uo_id="U-drift", nom="SMR X", date_maj=changed)]
    vts = [
        vt(vt_id="V-off", uo_id="U-off", synchronise_ror=False, date_synchronisation=old_sync),
        vt(vt_id="V-drift", uo_id="U-drift", nom="SSR X", date_synchronisation=old_sync),
    ]
    out = {r["vt_id"]: r for r in sync.unit_status(tables(units, vts), SNAP).iter_rows(named=True)}
    assert out["V-off"]["motif"] == "synchronisation avec le ROR désactivée dans ViaTrajectoire"
    assert out["V-off"]["synchro_en_retard"] is False
    assert out["V-drift"]["synchro_en_retard"] is True
    # late and different: the late sync is the reason, the field is still listed
    assert out["V-drift"]["statut"] == sync.DESYNCHRONISE
    assert out["V-drift"]["motif"].startswith("synchronisation en retard")
    assert out["V-drift"]["ecarts"] == "nom"


def test_history_uses_the_same_late_sync_rule(tmp_path):
    # Two snapshots: on the second the unit changed (in a field not compared) on 10 March and
    # VT still shows the 1 March sync.
    first, second = dt.date(2024, 3, 2), dt.date(2024, 3, 16)
    frames = {
        first: tables([uo(date_maj=dt.datetime(2024, 2, 20, 9))], [vt()], [eg()]),
        second: tables(
            [uo(discipline="SMR", date_maj=dt.datetime(2024, 3, 10, 9))], [vt()], [eg()]
        ),
    }
    for day, t in frames.items():
        store.write_snapshot(tmp_path, day, t)
    history = sync.status_history(tmp_path)
    got = {r["date"]: (r[sync.SYNCHRONISE], r[sync.DESYNCHRONISE]) for r in history.iter_rows(
        named=True)}
    assert got == {first: (1, 0), second: (0, 1)}
    for day, t in frames.items():  # and it agrees with the snapshot's own status
        assert got[day][1] == int((sync.unit_status(t, day)["statut"] == sync.DESYNCHRONISE).sum())


# ------------------------------------------- unit head and establishment fields in VT


def test_unit_head_is_compared_where_the_vt_export_has_it():
    t = tables(
        [uo(responsable_nom="Dr Anne Leroy", responsable_email="A.Leroy@smr-test.example.fr")],
        [vt(responsable_nom="dr anne  leroy", responsable_telephone="01.44.96.31.41",
            responsable_email=" a.leroy@SMR-test.example.fr")],
    )
    assert statuses(t) == {"VT-1": sync.SYNCHRONISE}  # same values, other spellings
    t = tables([uo()], [vt(responsable_nom="Dr Paul Durand")])
    out = sync.unit_status(t, SNAP).row(0, named=True)
    assert (out["statut"], out["ecarts"]) == (sync.DESYNCHRONISE, "responsable_nom")
    diffs = sync.field_differences(t)
    assert diffs.select("champ", "valeur_ror", "valeur_vt").rows() == [
        ("responsable_nom", "Dr Anne Leroy", "Dr Paul Durand")
    ]
    # not in the VT export (empty for every unit): not compared
    assert statuses(tables([uo()], [vt()])) == {"VT-1": sync.SYNCHRONISE}


def test_establishment_fields_shown_in_vt():
    eg_old = dt.datetime(2024, 2, 10, 9, 0)
    shown = {"etablissement_nom": "Centre SMR Test", "etablissement_adresse": "1 rue de la Paix",
             "etablissement_telephone": "01 44 96 30 00"}
    ror_eg = eg(telephone="01.44.96.30.00", date_maj=eg_old)
    assert statuses(tables([uo()], [vt(**shown)], [ror_eg])) == {"VT-1": sync.SYNCHRONISE}
    moved = {**shown, "etablissement_adresse": "3 avenue Foch"}
    out = sync.unit_status(tables([uo()], [vt(**moved)], [ror_eg]), SNAP).row(0, named=True)
    assert out["statut"] == sync.DESYNCHRONISE
    assert out["motif"] == "valeurs différentes : etablissement_adresse"
    # the establishment changed in the ROR after the last sync: VT will get it tonight
    recent = eg(telephone="01 44 96 30 00", date_maj=dt.datetime(2024, 3, 1, 19, 0))
    out = sync.unit_status(tables([uo()], [vt(**moved)], [recent]), SNAP).row(0, named=True)
    assert out["statut"] == sync.EN_ATTENTE
    assert out["motif"] == (
        "établissement modifié dans le ROR le 01/03/2024 19:00 après la synchronisation du "
        "01/03/2024 18:00"
    )
    assert out["ecarts"] == "etablissement_adresse"
    # a unit field that differs is not pending because the establishment is
    t = tables([uo(nom="SMR A")], [vt(nom="SSR A", **moved)], [recent])
    assert statuses(t) == {"VT-1": sync.DESYNCHRONISE}
    # without the establishments table, establishment fields are not compared
    t = tables([uo()], [vt(**moved)])
    del t["etablissements"]
    assert statuses(t) == {"VT-1": sync.SYNCHRONISE}


def test_older_frames_without_the_new_vt_columns():
    t = tables([uo()], [vt()])
    old = t["vt_unites"].drop(
        "responsable_nom", "responsable_telephone", "responsable_email", "etablissement_nom",
        "etablissement_adresse", "etablissement_telephone",
    )
    assert statuses({**t, "vt_unites": old}) == {"VT-1": sync.SYNCHRONISE}


def test_demo_late_units_are_desynchronised(demo_store):
    snap = store.read_snapshot(demo_store)
    status = sync.unit_status(snap.tables, snap.date)
    last = sync.last_sync(snap.date)
    # every linked, synced-on unit whose ROR change predates the last sync and postdates
    # VT's sync date is desynchronised, counted here from the raw tables
    units = snap.tables["unites"].select("uo_id", "date_maj")
    vts = snap.tables["vt_unites"].filter(pl.col("synchronise_ror"))
    late = vts.join(units, on="uo_id").filter(
        (pl.col("date_maj") <= last) & (pl.col("date_synchronisation") < pl.col("date_maj"))
    )
    assert late.height > 0
    flagged = status.filter(pl.col("motif").str.starts_with("synchronisation en retard"))
    assert sorted(flagged["vt_id"].to_list()) == sorted(late["vt_id"].to_list())
    assert flagged["vt_id"].to_list() == status.filter("synchro_en_retard")["vt_id"].to_list()
    assert (flagged["statut"] == sync.DESYNCHRONISE).all()


def test_history_compares_the_optional_fields_when_vt_shows_them(tmp_path):
    """The history reads the unit head and establishment columns only for batches where VT
    shows them; the counts still equal each snapshot's own status."""
    old = dt.datetime(2024, 2, 10, 9, 0)
    shown = {"etablissement_nom": "Centre SMR Test", "etablissement_adresse": "3 avenue Foch"}
    frames = {
        dt.date(2024, 3, 2): tables([uo(date_maj=old)], [vt()], [eg(date_maj=old)]),
        dt.date(2024, 3, 9): tables(
            [uo(date_maj=old), uo(uo_id="UO-2", date_maj=old)],
            [vt(**shown), vt(vt_id="VT-2", uo_id="UO-2", responsable_nom="Dr Paul Durand")],
            [eg(date_maj=old)],
        ),
    }
    for day, t in frames.items():
        store.write_snapshot(tmp_path, day, t)
    for batch in (1, 2):
        history = sync.status_history(tmp_path, batch=batch)
        for day, t in frames.items():
            expected = sync.status_counts(sync.unit_status(t, day), t["etablissements"], "ensemble")
            row = history.filter(pl.col("date") == day).row(0, named=True)
            assert {s: row[s] for s in sync.STATUSES} == {
                s: expected[s].item() for s in sync.STATUSES
            }
    last = sync.status_history(tmp_path).filter(pl.col("date") == dt.date(2024, 3, 9))
    assert last[sync.DESYNCHRONISE].item() == 2  # the address, and the unit head


def test_vt_rows_only_are_the_vt_rows_of_the_full_status():
    from polars.testing import assert_frame_equal

    from tests.helpers import small_snapshot

    tables = small_snapshot()
    day = dt.date(2024, 3, 4)
    args = (tables["unites"].lazy(), tables["vt_unites"].lazy(), day)
    full = sync.unit_status_lazy(*args).collect()
    vt_only = sync.unit_status_lazy(*args, ror_only=False).collect()
    assert full.filter(pl.col("statut") == sync.ABSENT_VT).height > 0
    assert vt_only.filter(pl.col("statut") == sync.ABSENT_VT).height == 0
    keys = ["vt_id"]
    assert_frame_equal(
        vt_only.sort(keys), full.filter(pl.col("vt_id").is_not_null()).sort(keys)
    )
