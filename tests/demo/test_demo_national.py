"""National demo and daily series (issue #9), on the Île-de-France reference or a small
synthetic « France » made of it (the all-France reference is not committed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis import cli
from analysis.checks.campaign.history import progress_history
from analysis.demo import national, regional
from analysis.geo import geography
from analysis.indicators import sync
from analysis.io import store, validate
from analysis.model import schema
from analysis.model.errors import StoreError
from analysis.model.syntax import any_valid_phone, is_email

pytestmark = pytest.mark.slow  # builds national and daily demo stores

DAYS = 30


@pytest.fixture(scope="module")
def daily(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("daily_idf")
    national.build_daily_demo(path, days=DAYS, region="11")
    return path


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory) -> Path:
    """A reference folder whose « all » is Île-de-France with Seine-et-Marne moved to a
    second region (24), so the national machinery draws two regional worlds."""
    import geopandas as gpd

    base = tmp_path_factory.mktemp("ref")
    target = base / national.NATIONAL
    shutil.copytree(geography.REFERENCE_DIR / "11", target)
    shutil.copy(geography.REFERENCE_DIR / "regions.json", base / "regions.json")
    communes = gpd.read_parquet(target / "communes.parquet")
    communes.loc[communes["departement"] == "77", "region"] = "24"
    communes.to_parquet(target / "communes.parquet")
    return base


def test_allocate_hand_worked():
    # c (1/111 of 20) and then b (10/110 of the 17 left) fall below 3: both get 3, a the rest
    assert national.allocate({"a": 100, "b": 10, "c": 1}, 20, 3) == {"a": 14, "b": 3, "c": 3}
    assert national.allocate({"a": 50, "b": 30, "c": 20}, 10, 1) == {"a": 5, "b": 3, "c": 2}
    # largest remainder: 7 × (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4 → 4, 2, 1
    assert national.allocate({"a": 5, "b": 3, "c": 2}, 7, 0) == {"a": 4, "b": 2, "c": 1}


def test_first_day_is_the_demo_first_snapshot(daily):
    expected = regional.demo_snapshots()[national.FIRST_DAY]
    snap = store.read_snapshot(daily, national.FIRST_DAY)
    for name, frame in expected.items():
        assert_frame_equal(snap.tables[name], schema.conform(frame, name), check_row_order=True)
    assert snap.manifest["extra"]["serie_quotidienne"] is True


def test_generated_days_pass_validation(daily):
    days = store.list_snapshots(daily)
    assert days == national.daily_dates(DAYS)
    for day in (days[9], days[-1]):
        result = validate.validate_tables(store.read_snapshot(daily, day).tables)
        assert result.rejected.height == 0, result.rejected.head(3)


def test_few_entities_change_each_day_and_completion_rises(daily):
    days = store.list_snapshots(daily)
    touched = []
    for before, after in zip(days, days[1:], strict=False):
        a = store.read_table(daily, before, "unites", columns=["uo_id", "date_maj"])
        b = store.read_table(daily, after, "unites", columns=["uo_id", "date_maj"])
        changed = b.join(a, on="uo_id", how="left", suffix="_avant").filter(
            pl.col("date_maj").ne_missing(pl.col("date_maj_avant"))
        )
        touched.append(changed.height)
        # a unit saved on day D is saved during that day (working hours)
        assert changed.filter(pl.col("date_maj").dt.date() != after).height == 0
    units = store.read_table(daily, days[-1], "unites").height
    assert max(touched) < 0.25 * units and sum(touched) > 0
    history = progress_history(daily)
    rate = dict(
        history.filter(pl.col("regle") == "uo_verifie").select("date", "taux").iter_rows()
    )
    assert rate[days[0]] == 0.0 and rate[days[-1]] > 0.2


def test_sync_follows_the_ror_every_night_except_outages(daily):
    day = store.list_snapshots(daily)[-1]
    tables = store.read_snapshot(daily, day).tables
    nightly = sync.last_sync(day)
    vt = tables["vt_unites"].filter(pl.col("synchronise_ror"))
    on_time = vt.filter(pl.col("date_synchronisation") == nightly).height
    late = vt.filter(pl.col("date_synchronisation") < nightly).height
    assert on_time > 0.8 * vt.height and late > 0  # outages are running
    # a unit synchronised last night carries its ROR unit's name and phone of that moment
    ror = tables["unites"].select("uo_id", pl.col("nom").alias("nom_ror"), "date_maj")
    fresh = vt.filter(pl.col("date_synchronisation") == nightly).join(ror, on="uo_id")
    unchanged = fresh.filter(pl.col("date_maj") < nightly)
    assert unchanged.height and (unchanged["nom"] == unchanged["nom_ror"]).all()


def test_same_seed_same_bytes_and_no_overwrite(daily, tmp_path):
    again = tmp_path / "again"
    national.build_daily_demo(again, days=5, region="11")
    for day in national.daily_dates(5):
        a = store.read_manifest(daily / day.isoformat())
        b = store.read_manifest(again / day.isoformat())
        assert json.dumps(a["tables"], sort_keys=True) == json.dumps(b["tables"], sort_keys=True)
    with pytest.raises(StoreError):
        national.build_daily_demo(again, days=5, region="11")


def test_national_world_over_two_regions(two_regions):
    day = national.FIRST_DAY
    tables = national.region_states(
        [day], region="all", establishments=40, reference_dir=two_regions
    )[day]
    etabs = tables["etablissements"]
    assert etabs.height == 40  # 20 + 20 (the minimum is 15 each), openings come later
    regions = tables["unites"]["uo_id"].str.slice(0, 3).unique().sort().to_list()
    assert regions == ["11/", "24/"]
    vt_prefixes = tables["vt_unites"]["vt_id"].str.slice(0, 6).unique().sort().to_list()
    assert vt_prefixes == ["VT-11-", "VT-24-"]
    for name, frame in tables.items():
        key = list(schema.TABLES[name].key)
        assert frame.select(key).is_duplicated().sum() == 0, name
    assert etabs.filter(pl.col("commune_insee").str.starts_with("77")).height >= 3
    assert validate.validate_tables(tables).rejected.height == 0


def test_national_story_store(two_regions, tmp_path):
    dates = national.build_national_demo(
        tmp_path / "fr", establishments=40, reference_dir=two_regions
    )
    assert dates == list(regional.SNAPSHOT_DATES)
    snap = store.read_snapshot(tmp_path / "fr")
    assert snap.manifest["extra"]["region"] == "all"
    assert snap.tables["etablissements"].height == 40 + 4 - 2  # two openings, one closing each
    with pytest.raises(StoreError):
        national.build_national_demo(tmp_path / "fr", establishments=40,
                                          reference_dir=two_regions)


def test_contacts_drawn_for_late_sessions_are_well_formed():
    rng = np.random.default_rng(1)
    emails = [national._contact(rng, "email", None, "2A0001234") for _ in range(50)]
    phones = [national._contact(rng, "phone", p, "750000001")
              for p in ("01 45 67 89 10", "0590 12 34 56", None) for _ in range(20)]
    frame = pl.DataFrame({"e": emails}).with_columns(is_email(pl.col("e")).alias("ok"))
    assert frame["ok"].all()
    frame = pl.DataFrame({"p": phones}).with_columns(any_valid_phone(pl.col("p")).alias("ok"))
    assert frame["ok"].all()
    assert all(p.replace(" ", "").startswith("0590") for p in phones[20:40])  # overseas
    assert all(p.startswith("01 ") for p in phones[:20]) and len(set(phones)) == len(phones)


def test_cli_national_demo_without_reference_says_how_to_build_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(geography, "REFERENCE_DIR", tmp_path / "reference")
    code = cli.main(["demo", "--region", "all", "--days", "3", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip()
    assert code == cli.EXIT_INPUT
    assert len(err.splitlines()) == 1
    assert "python scripts/build_reference.py --region all" in err
    assert not (tmp_path / "s").exists()


def test_cli_daily_demo(tmp_path, capsys):
    code = cli.main(["demo", "--region", "11", "--days", "3", "--out", str(tmp_path / "s")])
    assert code == cli.EXIT_OK
    assert store.list_snapshots(tmp_path / "s") == national.daily_dates(3)
    assert "3 instantanés" in capsys.readouterr().out
    assert cli.main(["demo", "--days", "0", "--out", str(tmp_path / "t")]) == cli.EXIT_INPUT
