"""Deadline forecast: the least-squares line and its slope interval against a hand-worked
series, numpy.polyfit and scipy's linregress; phases and establishments at their pace."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from analysis import cli
from analysis.checks.campaign import checklist, forecast
from analysis.checks.campaign.history import PROGRESS_SCHEMA, progress_history
from analysis.model.errors import InputError

# Hand-worked: x̄ = 10.5, ȳ = 0.6375, Sxx = 245, Sxy = 3.325, b = 3.325 / 245,
# a = 0.6375 − 10.5 b = 0.495; fitted 0.495, 0.59, 0.685, 0.78; residuals 0.005, 0.01,
# −0.035, 0.02; Σ r² = 0.00175; se(b) = √(0.00175 / 2 / 245) = 0.00188982.
X = [0.0, 7.0, 14.0, 21.0]
Y = [0.5, 0.6, 0.65, 0.8]
ORIGIN = dt.date(2023, 4, 3)


def test_linear_trend_hand_worked():
    t = forecast.linear_trend(X, Y, level=0.9)
    assert t.slope == pytest.approx(3.325 / 245, abs=1e-15)
    assert t.intercept == pytest.approx(0.495, abs=1e-14)
    assert t.se == pytest.approx(np.sqrt(0.00175 / 2 / 245), rel=1e-12)
    q = 2.919985580355516  # Student t, 0.95 quantile, 2 degrees of freedom (tables: 2.920)
    assert t.slope_low == pytest.approx(t.slope - q * t.se, rel=1e-12)
    assert t.slope_high == pytest.approx(t.slope + q * t.se, rel=1e-12)


def test_linear_trend_against_numpy_and_scipy():
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(0, 120, 9))
    y = 0.4 + 0.003 * x + rng.normal(0, 0.02, 9)
    t = forecast.linear_trend(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    assert (t.slope, t.intercept) == (pytest.approx(slope, rel=1e-12),
                                      pytest.approx(intercept, rel=1e-12))
    ref = stats.linregress(x, y)
    assert t.se == pytest.approx(ref.stderr, rel=1e-10)
    with pytest.raises(ValueError):
        forecast.linear_trend([1.0, 1.0], [0.2, 0.3])
    two = forecast.linear_trend([0, 10], [0.2, 0.4])  # no interval with 2 points
    assert two.slope == pytest.approx(0.02) and two.se is None and two.slope_low is None


def _series(values: list[float], phase: str = "phase1") -> pl.DataFrame:
    dates = [ORIGIN + dt.timedelta(days=int(x)) for x in X[: len(values)]]
    return pl.DataFrame(
        {"date": dates, "phase": [phase] * len(values), "conformes": [0] * len(values),
         "total": [1] * len(values), "taux": values},
        schema={"date": pl.Date, "phase": pl.String, "conformes": pl.Int64,
                "total": pl.Int64, "taux": pl.Float64},
    )


PLAN = (forecast.Phase("phase1", "Phase un", ORIGIN, dt.date(2023, 5, 10), ("eg_adresse",)),)


def test_phase_completion_date_hand_worked():
    out = forecast.forecast_phases(_series(Y), PLAN, window=4).row(0, named=True)
    # t* = 21 + (1 − 0.78) ÷ b = 37.21 days → day 38; slope bounds b ± 2.92 se:
    # 21 + 0.22 ÷ 0.0190896 = 32.52 → 33 ; 21 + 0.22 ÷ 0.0080532 = 48.32 → 49.
    assert out["date_prevue"] == ORIGIN + dt.timedelta(days=38)
    assert out["date_prevue_tot"] == ORIGIN + dt.timedelta(days=33)
    assert out["date_prevue_tard"] == ORIGIN + dt.timedelta(days=49)
    assert out["pente_semaine"] == pytest.approx(7 * 3.325 / 245)
    assert out["taux"] == 0.8 and out["points"] == 4
    assert out["date_prevue"] == dt.date(2023, 5, 11)
    assert out["dans_les_temps"] is False  # deadline 10/05


@pytest.mark.parametrize(("deadline", "on_time"), [(dt.date(2023, 5, 11), True),
                                                  (dt.date(2023, 5, 10), False)])
def test_on_time_compares_with_the_deadline(deadline, on_time):
    plan = forecast.with_deadlines(PLAN, {"phase1": deadline})
    out = forecast.forecast_phases(_series(Y), plan, window=4).row(0, named=True)
    assert out["date_prevue"] == dt.date(2023, 5, 11)
    assert out["dans_les_temps"] is on_time


def test_flat_or_falling_trend_is_never_reached_and_done_is_done():
    flat = forecast.forecast_phases(_series([0.5, 0.5, 0.5]), PLAN).row(0, named=True)
    assert flat["date_prevue"] is None and flat["dans_les_temps"] is False
    done = forecast.forecast_phases(_series([0.9, 0.95, 1.0]), PLAN).row(0, named=True)
    assert done["date_prevue"] == ORIGIN + dt.timedelta(days=14)
    one = forecast.forecast_phases(_series([0.4]), PLAN).row(0, named=True)
    assert one["date_prevue"] is None and one["points"] == 1
    # the window keeps the most recent snapshots only
    recent = forecast.forecast_phases(_series([0.9, 0.5, 0.6, 0.7]), PLAN, window=3)
    assert recent["pente_semaine"][0] == pytest.approx(0.1)


def test_a_nearly_flat_trend_beyond_the_calendar_is_never_reached():
    # +1e-12 a day from 0.5: 1.0 would be reached ~5e11 days later, past 31/12/9999
    # (the Campagne page failed on this with an OverflowError on a year of daily snapshots).
    out = forecast.forecast_phases(_series([0.5, 0.5 + 1e-12 * 7, 0.5 + 2e-12 * 7]), PLAN)
    row = out.row(0, named=True)
    assert row["date_prevue"] is None and row["dans_les_temps"] is False


def test_unknown_phase_deadline_is_refused():
    with pytest.raises(InputError, match="phase inconnue"):
        forecast.with_deadlines(forecast.PLAN, {"phase3": dt.date(2024, 1, 1)})


def test_plan_is_the_guides():
    p1, p2 = forecast.PLAN
    assert (p1.label, p1.start, p1.deadline) == (
        "Données administratives et de contact", dt.date(2023, 3, 1), dt.date(2023, 5, 31))
    assert (p2.label, p2.start, p2.deadline) == (
        "Offre de soins selon les autorisations", dt.date(2023, 6, 1), None)
    every = {r for p in forecast.PLAN for r in p.rules}
    assert every <= set(checklist.RULE_BY_ID)
    # conseillé rules are advice: in no phase
    assert not every & {r.id for r in checklist.RULES if r.severity == checklist.CONSEILLE}


def _remaining(rows: dict[str, list[int]]) -> pl.DataFrame:
    out = []
    for finess, counts in rows.items():
        for i, n in enumerate(counts):
            out.append({"date": ORIGIN + dt.timedelta(days=7 * i), "phase": "phase1",
                        "finess_eg": finess, "raison_sociale": f"EG {finess}",
                        "departement": "75", "reste": n})
    return pl.DataFrame(out, schema=forecast.REMAINING_SCHEMA)


def test_establishments_at_their_own_pace():
    deadline = ORIGIN + dt.timedelta(days=30)
    plan = forecast.with_deadlines(PLAN, {"phase1": deadline})
    remaining = _remaining({
        "A": [10, 8, 6],  # 2 a week, 6 left on day 14: done on day 35 > 30 → late
        "B": [4, 2, 0],  # nothing left
        "C": [5, 5, 5],  # no progress: never
        "D": [3, 2, 1],  # 1 a week: day 21 ≤ 30
    })
    pace = forecast.establishment_pace(remaining, plan)
    got = {r["finess_eg"]: (r["reste"], r["rythme_semaine"], r["date_prevue"], r["en_retard"])
           for r in pace.iter_rows(named=True)}
    day = ORIGIN + dt.timedelta(days=14)
    assert got["A"] == (6, pytest.approx(2.0), day + dt.timedelta(days=21), True)
    assert got["B"] == (0, pytest.approx(2.0), None, False)
    assert got["C"][:3] == (5, pytest.approx(0.0), None) and got["C"][3] is True
    assert got["D"] == (1, pytest.approx(1.0), day + dt.timedelta(days=7), False)
    late = forecast.late_establishments(pace)
    assert late["finess_eg"].to_list() == ["A", "C"]  # most left first
    # without a deadline nobody is « late »
    assert forecast.late_establishments(forecast.establishment_pace(remaining, PLAN[:0])).height == 0


def test_phase_series_counts_only_the_phases_obligatoire_rules():
    progress = pl.DataFrame(
        {"date": [ORIGIN] * 3, "regle": ["eg_adresse", "eg_surnom", "uo_telephone"],
         "conformes": [3, 1, 5], "total": [4, 4, 10], "taux": [0.75, 0.25, 0.5]},
        schema=PROGRESS_SCHEMA,
    )
    plan = (forecast.Phase("p", "P", ORIGIN, None, ("eg_adresse", "eg_surnom", "uo_telephone")),)
    out = forecast.phase_series(progress, plan)
    assert out.select("conformes", "total").row(0) == (8, 14)  # eg_surnom is advice


@pytest.mark.slow
def test_campaign_forecast_command(demo_store, tmp_path, capsys):
    out = tmp_path / "avancement.csv"
    args = ["campaign", "--store", str(demo_store), "--out", str(out), "--forecast",
            "--echeance", "phase2=2023-12-31"]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "Données administratives et de contact (phase1, échéance 31/05/2023)" in text
    assert "échéance 31/12/2023" in text and "intervalle à 90 %" in text
    progress = pl.read_csv(out)  # « CSV données » by default
    assert progress.columns[:5] == ["date", "regle", "conformes", "total", "taux"]
    projected = pl.read_csv(tmp_path / "avancement_prevision.csv",
                            encoding="utf8-lossy", try_parse_dates=True)
    assert projected["phase"].to_list() == ["phase1", "phase2"]
    late = pl.read_csv(tmp_path / "avancement_en_retard.csv",
                       encoding="utf8-lossy")
    assert late.height > 0 and set(late["en_retard"]) == {True}
    # the projection is the one of the module on the same store
    history = progress_history(demo_store)
    expected = forecast.forecast_phases(forecast.phase_series(history))
    assert str(projected["date_prevue"][0]) == str(expected["date_prevue"][0])
    assert cli.main([*args[:-2], "--echeance", "phase9=2024-01-01"]) == 2
    assert cli.main([*args[:-2], "--echeance", "phase2=demain"]) == 2
    assert cli.main([*args[:-2], "--fenetre", "1"]) == 2


# ----------------------------------------------- remaining history: one plan per batch


def _remaining_one_at_a_time(store_path, params, window, until=None):
    """The former computation: each snapshot read and evaluated on its own, then counted by
    ``remaining_by_establishment`` (per-entity results of ``checklist.evaluate``)."""
    from analysis.checks.campaign.history import _with_start, read_campaign_tables
    from analysis.io import store

    dates = [d for d in store.list_snapshots(store_path) if until is None or d <= until]
    chosen = dates[-max(2, window):]
    params = _with_start(store_path, dates[-1], params)
    parts = [
        forecast.remaining_by_establishment(
            checklist.evaluate(read_campaign_tables(store_path, day, params), day, params), day
        )
        for day in chosen
    ]
    return pl.concat(parts).cast(forecast.REMAINING_SCHEMA)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("date", "phase", "finess_eg", "raison_sociale", "departement",
                      nulls_last=True)


@pytest.mark.parametrize("window", [2, 5, 40])
def test_remaining_history_equals_each_snapshot_evaluated_alone(demo_store, window):
    from polars.testing import assert_frame_equal

    from analysis.demo import regional
    from analysis.io import store

    params = checklist.CampaignParams(start=regional.CAMPAIGN_START)
    until = store.list_snapshots(demo_store)[-2]
    got = forecast.remaining_history(demo_store, params, window, until=until)
    want = _remaining_one_at_a_time(demo_store, params, window, until)
    assert got.height == want.height > 0
    assert got["date"].is_sorted()  # in date order, as the per-snapshot blocks were
    assert_frame_equal(_sorted(got), _sorted(want))
    # the manifest's campaign start when none is given
    assert_frame_equal(
        _sorted(forecast.remaining_history(demo_store, window=3)),
        _sorted(_remaining_one_at_a_time(demo_store, checklist.CampaignParams(), 3)),
    )


def test_remaining_history_edge_cases(tmp_path):
    from polars.testing import assert_frame_equal

    from analysis.io import store
    from analysis.model.errors import StoreError
    from tests.helpers import small_snapshot

    # empty store
    empty = forecast.remaining_history(tmp_path / "vide")
    assert empty.height == 0 and empty.schema == pl.Schema(forecast.REMAINING_SCHEMA)
    # one snapshot, then a second one without any ViaTrajectoire table rows
    path = tmp_path / "s"
    tables = small_snapshot()
    store.write_snapshot(path, dt.date(2024, 3, 4), tables)
    params = checklist.CampaignParams(start=dt.date(2024, 1, 1))
    one = forecast.remaining_history(path, params)
    assert one["date"].unique().to_list() == [dt.date(2024, 3, 4)]
    assert_frame_equal(_sorted(one), _sorted(_remaining_one_at_a_time(path, params, 5)))
    no_vt = {k: v for k, v in tables.items() if not k.startswith("vt_")}
    store.write_snapshot(path, dt.date(2024, 3, 5), no_vt)
    two = forecast.remaining_history(path, params)
    assert two["date"].unique().sort().to_list() == [dt.date(2024, 3, 4), dt.date(2024, 3, 5)]
    assert_frame_equal(_sorted(two), _sorted(_remaining_one_at_a_time(path, params, 5)))
    # a corrupted snapshot stops the reading with the snapshot's name
    file = path / "2024-03-05" / "unites.parquet"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="Instantané 2024-03-05 corrompu"):
        forecast.remaining_history(path, params)
