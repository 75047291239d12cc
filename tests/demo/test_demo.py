"""Tests of the demo store: determinism, magnitudes, real geography, the campaign story."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import shapely

from analysis.demo import regional
from analysis.geo import geography
from analysis.io import store, validate
from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.model.errors import StoreError

pytestmark = pytest.mark.slow  # builds the demo worlds and store

FIRST, LAST = regional.SNAPSHOT_DATES[0], regional.SNAPSHOT_DATES[-1]
CONTACTS = {
    "etablissements": ("surnom", "email_alerte", "directeur_telephone", "directeur_email"),
    "unites": ("telephone", "responsable_nom", "responsable_telephone", "responsable_email"),
}


@pytest.fixture(scope="module")
def snaps() -> dict[dt.date, dict[str, pl.DataFrame]]:
    return regional.demo_snapshots()


@pytest.fixture(scope="module")
def last(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    return snaps[LAST]


def _establishments_by_mention(t: dict[str, pl.DataFrame]) -> dict[str, int]:
    joined = t["offres"].join(t["unites"].select("uo_id", "finess_eg"), on="uo_id")
    counts = joined.group_by("mention").agg(pl.col("finess_eg").n_unique().alias("n"))
    return dict(counts.iter_rows())


def _filled_share(t: dict[str, pl.DataFrame]) -> float:
    filled = total = 0
    for table, columns in CONTACTS.items():
        df = t[table]
        filled += sum(int(df[c].is_not_null().sum()) for c in columns)
        total += df.height * len(columns)
    return filled / total


# ---------------------------------------------------------------------------- determinism


def test_dates_and_canonical_frames(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> None:
    assert list(snaps) == list(regional.SNAPSHOT_DATES)
    assert len(snaps) >= 11
    assert (FIRST.year, FIRST.month, LAST.year, LAST.month) == (2023, 3, 2023, 7)
    for tables in snaps.values():
        assert set(tables) == set(schema.TABLES)
        for name, frame in tables.items():
            assert frame.schema == pl.Schema(schema.TABLES[name].polars_schema), name
            key = list(schema.TABLES[name].key)
            assert frame.select(key).is_duplicated().sum() == 0, name
            assert frame.equals(frame.sort(key)), f"{name} not sorted by key"


def test_same_seed_same_frames_other_seed_differs(
    snaps: dict[dt.date, dict[str, pl.DataFrame]],
) -> None:
    again = regional.demo_snapshots(regional.DEFAULT_SEED)
    for day, tables in snaps.items():
        for name, frame in tables.items():
            assert frame.equals(again[day][name]), (day, name)
    other = regional.demo_snapshots(7)[LAST]
    assert not other["etablissements"].equals(snaps[LAST]["etablissements"])
    assert set(other["etablissements"]["finess_eg"]) != set(
        snaps[LAST]["etablissements"]["finess_eg"]
    )


# ---------------------------------------------------------------------------- magnitudes


def test_magnitudes_of_last_snapshot(last: dict[str, pl.DataFrame]) -> None:
    assert 150 <= last["etablissements"].height <= 190
    assert 430 <= last["unites"].height <= 570
    offres = last["offres"]
    assert 16_000 <= offres["lits"].sum() <= 20_000
    assert 2_500 <= offres["places"].sum() <= 3_500
    # Beds only for HC/HS, places only for HJ/HN, as the nomenclature says.
    for forme, column in (("HC", "lits"), ("HS", "lits"), ("HJ", "places"), ("HN", "places")):
        rows = offres.filter(pl.col("forme") == forme)
        assert rows.height > 0, forme
        other = "places" if column == "lits" else "lits"
        assert rows[column].null_count() == 0 and rows[other].null_count() == rows.height
        assert nom.FORME_BY_CODE[forme].capacite == column
    assert 10 <= last["vt_guichets"].height <= 20
    per_unit = last["unites"].group_by("finess_eg").len()["len"]
    assert per_unit.min() >= 1 and per_unit.max() <= 6
    assert set(last["unites"]["finess_eg"]) == set(last["etablissements"]["finess_eg"])


def test_mentions_with_their_rarity(last: dict[str, pl.DataFrame]) -> None:
    counts = _establishments_by_mention(last)
    assert set(counts) == {m.code for m in nom.MENTIONS}
    assert 1 <= counts[nom.BURNS_MENTION] <= 3
    assert counts["ME056"] <= 5 and all(2 <= counts[m] <= 10 for m in nom.PEDIATRIC_MENTIONS)
    by_rarity: dict[str, list[int]] = {}
    for m in nom.MENTIONS:
        by_rarity.setdefault(m.rarete, []).append(counts[m.code])
    assert min(by_rarity["courante"]) > max(by_rarity["moyenne"])
    assert min(by_rarity["moyenne"]) > max(by_rarity["rare"])
    assert counts["ME050"] > 0.5 * last["etablissements"].height


def test_statut_mix(last: dict[str, pl.DataFrame]) -> None:
    shares = last["etablissements"]["statut"].value_counts(normalize=True)
    share = dict(shares.iter_rows())
    for statut, expected in regional.STATUT_SHARES.items():
        assert abs(share[statut] - expected) < 0.04
    ej = last["etablissements"].group_by("finess_ej").len()
    assert ej["len"].max() >= 3  # some EJ hold several establishments


def test_patientele(last: dict[str, pl.DataFrame]) -> None:
    units = last["unites"].join(last["offres"].group_by("uo_id").agg(pl.col("mention")), on="uo_id")
    pediatric = units.filter(
        pl.col("mention").list.eval(pl.element().is_in(list(nom.PEDIATRIC_MENTIONS))).list.any()
    )
    assert pediatric.height > 0
    assert (pediatric["age_max"].drop_nulls() < nom.MINOR_AGE).all()
    young = pediatric.filter(pl.col("mention").list.contains("ME061"))
    assert (young["age_min"].drop_nulls() == 0).all()
    adults = units.filter(~pl.col("uo_id").is_in(pediatric["uo_id"].implode()))
    assert (adults["age_min"] == 18).mean() > 0.7
    # Findings for the campaign rules: minors without pediatric mention, the 16+ exception.
    assert adults.filter(pl.col("age_min") == 0).height >= 2
    assert adults.filter(pl.col("age_min") == nom.MINOR_EXCEPTION_AGE).height >= 2


# ---------------------------------------------------------------------------- geography


def test_establishments_in_real_communes(last: dict[str, pl.DataFrame]) -> None:
    etabs = last["etablissements"]
    communes = geography.load_communes("11")
    assert etabs["commune_insee"].is_in(communes["commune_insee"].implode()).all()
    shapes = geography.load_communes_geo("11").set_index("commune_insee").geometry
    for row in etabs.iter_rows(named=True):
        lat, lon = row["latitude"], row["longitude"]
        assert 41.0 < lat < 51.5 and -5.5 < lon < 10.0
        assert shapely.contains_xy(shapes[row["commune_insee"]], lon, lat), row["finess_eg"]
        dep = geography.departement_from_insee(row["commune_insee"])
        assert row["finess_eg"][:2] == dep
        assert row["code_postal"][:2] == dep and len(row["code_postal"]) == 5
        assert row["raison_sociale"].endswith("(fictif)")
    deps = etabs["finess_eg"].str.slice(0, 2).value_counts()
    assert set(deps["finess_eg"]) == set(geography.region_departements("11"))
    assert dict(deps.iter_rows())["75"] == deps["count"].max()  # Paris has the most
    assert etabs["commune_insee"].is_duplicated().any()  # some share a commune
    assert etabs["raison_sociale"].n_unique() == etabs.height


def test_contacts_are_fictitious(last: dict[str, pl.DataFrame]) -> None:
    emails = pl.concat(
        [
            last["etablissements"]["email_alerte"],
            last["etablissements"]["directeur_email"],
            last["unites"]["responsable_email"],
            last["vt_guichets"]["email"],
        ]
    ).drop_nulls()
    valid = emails.filter(emails.str.contains(validate.EMAIL_PATTERN))
    assert valid.len() > 0.8 * emails.len()
    assert valid.str.contains(r"-fictif\.fr$").all()
    phones = last["etablissements"]["directeur_telephone"].drop_nulls()
    assert phones.str.contains(r"^01( \d\d){4}$").mean() > 0.8


# ---------------------------------------------------------------------------- campaign story


def test_contacts_filled_progressively(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> None:
    shares = [_filled_share(t) for t in snaps.values()]
    assert 0.25 <= shares[0] <= 0.45 and 0.75 <= shares[-1] <= 0.92
    alert = [t["etablissements"]["email_alerte"].is_not_null().mean() for t in snaps.values()]
    assert alert[-1] > alert[0] + 0.3


def test_units_renamed_after_reform(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> None:
    def ssr_share(day: dt.date) -> float:
        return float((snaps[day]["unites"]["discipline"] == "SSR").mean())

    def named_ssr(day: dt.date) -> float:
        return float(snaps[day]["unites"]["nom"].str.contains("SSR").mean())

    reform = regional.SNAPSHOT_DATES.index(regional.REFORM_DATE)
    assert ssr_share(FIRST) > 0.85 and ssr_share(LAST) < 0.5
    assert named_ssr(LAST) < named_ssr(FIRST) - 0.3
    # Mostly after 1 June: the drop before the reform is small.
    assert ssr_share(FIRST) - ssr_share(regional.REFORM_DATE) < 0.1
    assert regional.SNAPSHOT_DATES[reform] == regional.REFORM_DATE


def _changes(
    snaps: dict[dt.date, dict[str, pl.DataFrame]], table: str, key: str, column: str
) -> pl.DataFrame:
    """Per key, the value at each snapshot (one column per date)."""
    frames = [
        t[table].select(key, pl.col(column).alias(day.isoformat())) for day, t in snaps.items()
    ]
    out = frames[0]
    for f in frames[1:]:
        out = out.join(f, on=key, how="full", coalesce=True)
    return out


def test_regressions_and_corrections(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> None:
    dates = [d.isoformat() for d in snaps]
    regressions = corrections = 0
    for table, columns in CONTACTS.items():
        key = schema.TABLES[table].key[0]
        for column in columns:
            wide = _changes(snaps, table, key, column)
            for a, b in zip(dates, dates[1:], strict=False):
                regressions += wide.filter(
                    pl.col(a).is_not_null()
                    & pl.col(b).is_null()
                    & pl.col(key).is_in(snaps[dt.date.fromisoformat(b)][table][key].implode())
                ).height
                if column.endswith("email"):
                    bad = ~pl.col(a).str.contains(validate.EMAIL_PATTERN)
                    good = pl.col(b).str.contains(validate.EMAIL_PATTERN)
                    corrections += wide.filter(bad & good).height
    assert regressions >= 1
    assert corrections >= 1


def test_date_maj_follows_touches(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> None:
    for day, t in snaps.items():
        for table in ("etablissements", "unites"):
            maj = t[table]["date_maj"]
            assert maj.null_count() == 0
            assert maj.max() < dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    first, last = snaps[FIRST]["unites"], snaps[LAST]["unites"]
    checked = (last["date_maj"].dt.date() >= regional.CAMPAIGN_START).mean()
    assert (first["date_maj"].dt.date() >= regional.CAMPAIGN_START).mean() == 0 and checked > 0.7
    stale = (first["date_maj"] < dt.datetime(2022, 3, 1)).mean()
    assert stale > 0.2  # offers not updated for a year (RE1.2)


def test_openings_closing_and_capacity_changes(
    snaps: dict[dt.date, dict[str, pl.DataFrame]],
) -> None:
    first = set(snaps[FIRST]["etablissements"]["finess_eg"])
    last = set(snaps[LAST]["etablissements"]["finess_eg"])
    assert len(last - first) == 2 and len(first - last) == 1
    lits = [t["offres"]["lits"].sum() for t in snaps.values()]
    assert len(set(lits)) > 3 and max(lits) - min(lits) < 0.05 * lits[0]


def test_autorisations_story(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> None:
    first, last = snaps[FIRST], snaps[LAST]
    auth = last["autorisations"]
    ssr, smr = auth.filter(pl.col("regime") == "SSR"), auth.filter(pl.col("regime") == "SMR")
    assert auth["autorisation_id"].str.contains(r"^11-(SSR|SMR)-\d{6}$").all()
    assert first["autorisations"].filter(pl.col("regime") == "SMR").height == 0
    assert ssr["activite"].is_in(list(nom.ACTIVITES_SSR)).all()
    assert (ssr["date_decision"] < dt.date(2023, 1, 1)).all()
    assert ssr.filter(pl.col("forme") == nom.HAD_FORME_AUTORISATION).height >= 2
    assert smr["activite"].null_count() == smr.height
    assert smr["forme"].is_in(["01", "03"]).all()
    assert smr["date_decision"].is_between(dt.date(2023, 5, 1), dt.date(2023, 7, 31)).all()
    pediatric = ssr.filter(pl.col("modalite").is_in(["77", "78", "79"]))
    assert pediatric.height > 0
    # SSR activities agree with the ROR mentions (independent mapping from nomenclature).
    ror = first["offres"].join(first["unites"].select("uo_id", "finess_eg"), on="uo_id")
    held = {(f, m) for f, m in ror.select("finess_eg", "mention").unique().iter_rows()}
    adult = first["autorisations"].filter(
        (pl.col("modalite") == "09") & (pl.col("forme") != "05") & pl.col("date_fin").is_null()
    )
    for finess, activite in adult.select("finess_eg", "activite").unique().iter_rows():
        assert any((finess, m) in held for m in nom.SSR_TO_SMR[activite])
    # Transition gaps: some establishments still waiting, SMR mentions absent from the ROR.
    with_smr = set(smr["finess_eg"])
    etabs = set(last["etablissements"]["finess_eg"])
    assert 0.7 * len(etabs) < len(with_smr) < len(etabs)
    ror_last = last["offres"].join(last["unites"].select("uo_id", "finess_eg"), on="uo_id")
    not_in_ror = (
        smr.select("finess_eg", "mention")
        .unique()
        .join(
            ror_last.select("finess_eg", "mention").unique(),
            on=["finess_eg", "mention"],
            how="anti",
        )
    )
    assert not_in_ror.height >= 1


# ---------------------------------------------------------------------------- ViaTrajectoire


def test_viatrajectoire_findings(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> None:
    for day in (FIRST, LAST):
        t = snaps[day]
        vt, units = t["vt_unites"], t["unites"]
        nightly = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(18))
        assert vt["uo_id"].null_count() > 0  # absent du ROR
        assert units.filter(~pl.col("uo_id").is_in(vt["uo_id"].drop_nulls().implode())).height
        assert (vt["date_synchronisation"] == nightly).mean() > 0.75
        assert (vt["date_synchronisation"] < nightly).sum() > 0  # older syncs
        assert (~vt["synchronise_ror"]).sum() > 0
        linked = vt.join(
            units.select("uo_id", pl.col("nom").alias("nom_ror"), "date_maj"), on="uo_id"
        )
        assert linked.filter(pl.col("nom") != pl.col("nom_ror")).height > 0  # désynchronisé
        pending = linked.filter(
            pl.col("synchronise_ror") & (pl.col("date_maj") > pl.col("date_synchronisation"))
        )
        assert pending.height > 0  # en attente
        share = vt["guichet_id"].is_not_null().mean()
        assert 0.25 < share < 0.55
    off = [(~t["vt_unites"]["synchronise_ror"]).sum() for t in snaps.values()]
    lead = [
        t["vt_unites"]["responsable_admissions_nom"].is_not_null().mean() for t in snaps.values()
    ]
    assert off[-1] < off[0] and lead[-1] > lead[0] + 0.2


# ---------------------------------------------------------------------------- validation and store


def test_validation_rejects_nothing(snaps: dict[dt.date, dict[str, pl.DataFrame]]) -> None:
    rules: set[str] = set()
    for tables in snaps.values():
        result = validate.validate_tables(tables)
        assert result.rejected.height == 0
        for name, frame in tables.items():
            assert result.tables[name].equals(frame), name
        rules |= set(result.report.filter(pl.col("severity") == schema.WARNING)["rule"])
    assert {"email_invalide", "telephone_zero_perdu"} <= rules


def test_build_demo_writes_store(tmp_path: Path, last: dict[str, pl.DataFrame]) -> None:
    out = tmp_path / "demo"
    dates = regional.build_demo(out)
    assert dates == list(regional.SNAPSHOT_DATES)
    assert store.list_snapshots(out) == dates and len(dates) >= 11
    manifest = json.loads((out / LAST.isoformat() / "manifest.json").read_text("utf-8"))
    assert manifest["extra"] == {"demo": True, "region": "11", "campagne_debut": "2023-03-15"}
    assert manifest["rejected"]["rows"] == 0 and manifest["warnings"]["rows"] > 0
    tables = store.read_snapshot(out, LAST, verify=True).tables
    for name, frame in last.items():
        assert tables[name].equals(frame), name
    with pytest.raises(StoreError):
        regional.build_demo(out)
    assert store.list_snapshots(out) == dates


def test_small_region_builds_and_validates() -> None:
    """Corse (0.34 M inhabitants, reference committed in data/reference/94): nothing in the
    demo assumes Île-de-France, and a small region still gets its whole story."""
    from analysis.demo import regional
    from analysis.geo import geography
    from analysis.io import validate

    snaps = regional.demo_snapshots(region="94")
    last = snaps[max(snaps)]
    communes = set(geography.load_communes("94")["commune_insee"].to_list())
    etabs = last["etablissements"]
    assert etabs.height >= regional.MIN_ESTABLISHMENTS
    assert set(etabs["commune_insee"].to_list()) <= communes
    assert {f[:2] for f in etabs["finess_eg"].to_list()} <= {"2A", "2B"}
    assert validate.validate_tables(last).ok
