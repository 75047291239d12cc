"""The one history reader, ``analysis.io.history.over_snapshots``: only the columns and dates
asked for, checksums verified before reading, batches equal to one snapshot at a time."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis.io import store
from analysis.io.history import SNAPSHOT_COL, Batch, over_snapshots, stacked
from analysis.model.errors import SnapshotMissingError, StoreError

COLUMNS = {"unites": ["uo_id", "finess_eg", "date_maj"], "offres": ["uo_id", "mention"]}


def _by_read_table(path: Path, dates: list[dt.date], table: str) -> pl.DataFrame:
    """Second implementation: ``store.read_table`` of each date, stacked by hand."""
    return pl.concat(
        [
            store.read_table(path, day, table, COLUMNS[table]).select(
                pl.lit(day).alias(SNAPSHOT_COL), *COLUMNS[table]
            )
            for day in dates
        ]
    )


def _collect(part: Batch) -> dict[str, pl.DataFrame]:
    return {name: lf.collect() for name, lf in part.frames.items()}


@pytest.fixture
def store_copy(demo_store, tmp_path) -> Path:
    copy = tmp_path / "magasin"
    shutil.copytree(demo_store, copy)
    return copy


def test_only_the_columns_asked_for_are_handed_over(demo_store):
    dates = store.list_snapshots(demo_store)
    seen = over_snapshots(demo_store, list(COLUMNS), COLUMNS, _collect, batch=100)
    assert len(seen) == 1  # one batch holds them all
    for table, cols in COLUMNS.items():
        frame = seen[0][table]
        assert frame.columns == [SNAPSHOT_COL, *cols]
        assert_frame_equal(frame, _by_read_table(demo_store, dates, table))


def test_a_table_without_columns_is_read_whole(demo_store):
    (first,) = over_snapshots(
        demo_store, ["offres"], None, lambda b: b.snapshot(), dates=store.list_snapshots(
            demo_store)[:1]
    )
    assert list(first["offres"].columns) == list(store.read_table(
        demo_store, store.list_snapshots(demo_store)[0], "offres").columns)


def test_only_the_dates_asked_for_are_read_in_date_order(demo_store):
    dates = store.list_snapshots(demo_store)
    chosen = [dates[4], dates[1], dates[2]]
    seen = over_snapshots(demo_store, ["unites"], COLUMNS, lambda b: b.dates, chosen, batch=2)
    assert seen == [(dates[1], dates[2]), (dates[4],)]
    frames = over_snapshots(demo_store, ["unites"], COLUMNS, _collect, chosen, batch=2)
    got = pl.concat([f["unites"] for f in frames])
    assert got[SNAPSHOT_COL].unique(maintain_order=True).to_list() == sorted(chosen)
    assert_frame_equal(got, _by_read_table(demo_store, sorted(chosen), "unites"))


@pytest.mark.parametrize("size", [2, 3, 100])
def test_batches_give_what_one_snapshot_at_a_time_gives(demo_store, size):
    def counts(part: Batch) -> pl.DataFrame:
        return (
            part.frames["offres"]
            .group_by(SNAPSHOT_COL, "mention")
            .agg(pl.len().alias("n"))
            .collect()
        )

    def one_by_one(part: Batch) -> pl.DataFrame:  # eager frames of the only snapshot
        (day,) = part.dates
        tables = part.snapshot()
        assert SNAPSHOT_COL not in tables["offres"].columns
        return tables["offres"].group_by("mention").agg(pl.len().alias("n")).select(
            pl.lit(day).alias(SNAPSHOT_COL), "mention", "n"
        )

    schema = {SNAPSHOT_COL: pl.Date, "mention": pl.String, "n": pl.UInt32}
    batched = stacked(demo_store, ["offres"], COLUMNS, counts, schema=schema, batch=size)
    single = stacked(demo_store, ["offres"], COLUMNS, one_by_one, schema=schema, batch=1)
    order = [SNAPSHOT_COL, "mention"]
    assert batched.height > 0
    assert_frame_equal(batched.sort(order), single.sort(order))


def test_progress_hears_of_each_batch(demo_store):
    heard = []
    over_snapshots(demo_store, ["offres"], COLUMNS, lambda b: None, batch=4,
                   progress=lambda done, total, label: heard.append((done, total, label)))
    dates = store.list_snapshots(demo_store)
    assert [h[0] for h in heard] == [4, 8, len(dates)]
    assert heard[-1] == (len(dates), len(dates), dates[-1].isoformat())


def _flip_a_byte(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))


def test_a_corrupted_snapshot_is_named_in_french(store_copy):
    dates = store.list_snapshots(store_copy)
    _flip_a_byte(store_copy / dates[3].isoformat() / "unites.parquet")
    with pytest.raises(StoreError) as err:
        over_snapshots(store_copy, ["unites"], COLUMNS, _collect)
    message = str(err.value)
    assert f"Instantané {dates[3].isoformat()} corrompu" in message
    assert "unites.parquet : somme de contrôle différente du manifeste" in message
    # A readable Parquet file with other values is caught by the checksum alone.
    other = store_copy / dates[5].isoformat() / "offres.parquet"
    pl.read_parquet(other).with_columns(pl.lit("X").alias("mention")).write_parquet(other)
    with pytest.raises(StoreError, match=f"Instantané {dates[5].isoformat()} corrompu"):
        over_snapshots(store_copy, ["offres"], COLUMNS, _collect)


def test_a_corrupted_snapshot_can_be_left_out(store_copy):
    dates = store.list_snapshots(store_copy)
    _flip_a_byte(store_copy / dates[3].isoformat() / "unites.parquet")
    skipped: list[dt.date] = []
    seen = over_snapshots(store_copy, ["unites"], COLUMNS, lambda b: b.dates, batch=100,
                          skipped=skipped)
    assert skipped == [dates[3]]
    assert list(seen[0]) == [d for d in dates if d != dates[3]]


def test_only_the_files_read_are_checked(store_copy):
    dates = store.list_snapshots(store_copy)
    _flip_a_byte(store_copy / dates[0].isoformat() / "habilitations.parquet")
    (frames,) = over_snapshots(store_copy, ["offres"], COLUMNS, _collect, dates[:1])
    assert frames["offres"].height > 0
    with pytest.raises(StoreError, match="habilitations.parquet"):
        over_snapshots(store_copy, ["habilitations"], None, _collect, dates[:1])


def test_each_snapshot_is_checked_once(store_copy, monkeypatch):
    checked = []
    real = store.check_snapshot

    def spy(path, tables=None, manifest=None):
        checked.append(Path(path).name)
        return real(path, tables, manifest)

    monkeypatch.setattr(store, "check_snapshot", spy)
    over_snapshots(store_copy, list(COLUMNS), COLUMNS, _collect, batch=4)
    assert sorted(checked) == [d.isoformat() for d in store.list_snapshots(store_copy)]


def test_bad_requests_are_refused(demo_store, tmp_path):
    with pytest.raises(StoreError, match="Colonne\\(s\\) inconnue\\(s\\) dans unites : pas_ici"):
        over_snapshots(demo_store, ["unites"], {"unites": ["pas_ici"]}, _collect)
    with pytest.raises(StoreError, match="Table\\(s\\) inconnue\\(s\\) : nulle_part"):
        over_snapshots(demo_store, ["nulle_part"], None, _collect)
    with pytest.raises(SnapshotMissingError, match="Aucun instantané du 1999-01-01"):
        over_snapshots(demo_store, ["unites"], COLUMNS, _collect, [dt.date(1999, 1, 1)])
    assert over_snapshots(tmp_path, ["unites"], COLUMNS, _collect) == []
    empty = stacked(tmp_path, ["unites"], COLUMNS, _collect, schema={"a": pl.Int64})
    assert empty.height == 0 and empty.columns == ["a"]


# --- histories that read through it give what each snapshot read on its own gives ----------


def _quality_tables(path: Path, day: dt.date) -> dict[str, pl.DataFrame]:
    from analysis.checks.quality.population import COLUMNS as QUALITY_COLUMNS

    return {t: store.read_table(path, day, t, cols) for t, cols in QUALITY_COLUMNS.items()}


@pytest.mark.parametrize("size", [1, 4, 32])
def test_quality_history_equals_summary_of_each_snapshot(demo_store, size):
    from analysis.checks.quality import population, requirements

    expected = []
    for day in store.list_snapshots(demo_store):
        tables = _quality_tables(demo_store, day)
        totals = requirements.summary(
            requirements.evaluate(tables, day), codes=requirements.evaluated(tables)
        ).filter(pl.col("departement") == requirements.ENSEMBLE)
        expected.append(totals.select(pl.lit(day).alias("date"), "exigence", "perimetre",
                                      "conformes", "ecarts", "taux"))
    want = pl.concat(expected).cast(population.HISTORY_SCHEMA)
    got = population.history(demo_store, batch=size)
    assert got.height == want.height > 0
    assert_frame_equal(got, want)
    day = store.list_snapshots(demo_store)[2]
    assert_frame_equal(population.history_at(demo_store, day), want.filter(pl.col("date") == day))


def test_population_history_equals_counts_of_each_quarter_snapshot(demo_store):
    from analysis.checks.quality import population

    got = population.population_history(demo_store)
    for day in got["date_instantane"].unique().to_list():
        want = population.population_counts(
            population.establishment_population(_quality_tables(demo_store, day), day)
        )
        mine = got.filter(pl.col("date_instantane") == day).select(want.columns)
        assert_frame_equal(mine, want.cast(mine.schema))
        assert_frame_equal(population.population_at(demo_store, day), want)
