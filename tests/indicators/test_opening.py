"""One rule for what is open: hand-built closures through coverage, access, scenario and report.

The small snapshot (tests/helpers.py) has one establishment offering ME051 (locomoteur):
920000025 in Boulogne-Billancourt (92), 25 beds + 15 places. Closing it the day before, on the
day of, or the day after the snapshot, definitively or provisionally, must move every figure
the same way; expected values are worked out here from the hand-built rows, never read back
from the code under test.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from analysis import cli
from analysis.geo import geography
from analysis.indicators import access, coverage, opening
from analysis.indicators.opening import OpeningRule
from analysis.io import store
from analysis.model.errors import InputError
from analysis.model.schema import conform
from analysis.present import report
from analysis.transition import comparison, scenarios
from tests.helpers import small_snapshot

DAY = dt.date(2024, 3, 15)
BOULOGNE = "920000025"
CAPACITY_92 = 25 + 15  # ME051 at Boulogne: 25 beds HC + 15 places HJ


def _closed(closing: dt.date | None, kind: str | None, unit: str | None = None) -> dict:
    """The small snapshot with Boulogne (or one unit) closed on ``closing``."""
    tables = small_snapshot()
    if closing is None:
        return tables
    if unit is None:
        tables["etablissements"] = tables["etablissements"].with_columns(
            pl.when(pl.col("finess_eg") == BOULOGNE)
            .then(pl.lit(closing))
            .otherwise(pl.col("date_fermeture"))
            .alias("date_fermeture"),
            pl.when(pl.col("finess_eg") == BOULOGNE)
            .then(pl.lit(kind))
            .otherwise(pl.col("type_fermeture"))
            .alias("type_fermeture"),
        )
    else:
        tables["unites"] = tables["unites"].with_columns(
            pl.when(pl.col("uo_id") == unit)
            .then(pl.lit(closing))
            .otherwise(pl.col("date_fermeture"))
            .alias("date_fermeture"),
            pl.when(pl.col("uo_id") == unit)
            .then(pl.lit(kind))
            .otherwise(pl.col("type_fermeture"))
            .alias("type_fermeture"),
        )
    return tables


@pytest.fixture(scope="module")
def communes() -> pl.DataFrame:
    return geography.load_origins("11")


def _pop92() -> float:
    c = geography.load_communes("11")
    return float(c.filter(pl.col("departement") == "92")["population"].sum())


def _row92(tables, rule) -> dict:
    table = coverage.capacity_by_territory(
        tables, geography.load_origins("11"), "departement", mentions=["ME051"], forme="toutes",
        opening=rule,
    )
    return table.filter(pl.col("territoire") == "92").row(0, named=True)


# ------------------------------------------------------------------------ the rule itself


@pytest.mark.parametrize(
    ("closing", "kind", "closed"),
    [
        (DAY - dt.timedelta(days=1), "DEF", True),  # closed the day before: out
        (DAY, "DEF", True),  # a closure counts from its date on
        (DAY + dt.timedelta(days=1), "DEF", False),  # closes the day after: still open
        (DAY - dt.timedelta(days=1), None, True),  # a date without a type is definitive
        (DAY - dt.timedelta(days=1), "PRO", True),  # provisional: out by default
    ],
)
def test_closure_dates_and_types(closing, kind, closed):
    tables = _closed(closing, kind)
    kept = opening.open_tables(tables, OpeningRule(DAY))
    assert (BOULOGNE not in kept["etablissements"]["finess_eg"].to_list()) is closed
    assert ("UO-92-01" not in kept["offres"]["uo_id"].to_list()) is closed
    # the other establishments keep all their offers (6 offers, 3 of them at Boulogne: 2)
    assert kept["offres"].height == (6 - 2 if closed else 6)
    # authorisations follow their establishment (Boulogne holds AUT-003)
    assert ("AUT-003" not in kept["autorisations"]["autorisation_id"].to_list()) is closed


def test_provisional_switch_keeps_the_establishment():
    tables = _closed(DAY - dt.timedelta(days=30), "PRO")
    kept = opening.open_tables(tables, OpeningRule(DAY, include_provisional=True))
    assert BOULOGNE in kept["etablissements"]["finess_eg"].to_list()
    # a definitive closure is never kept
    tables = _closed(DAY - dt.timedelta(days=30), "DEF")
    kept = opening.open_tables(tables, OpeningRule(DAY, include_provisional=True))
    assert BOULOGNE not in kept["etablissements"]["finess_eg"].to_list()


def test_finess_closure_counts_and_definitive_wins():
    tables = small_snapshot()
    finess = conform(
        pl.DataFrame(
            {
                "finess_eg": [BOULOGNE, "940000039"],
                "date_fermeture": [DAY - dt.timedelta(days=3), DAY - dt.timedelta(days=3)],
                "type_fermeture": ["DEF", "PRO"],
            }
        ),
        "finess_etablissements",
    )
    tables["finess_etablissements"] = finess
    # Créteil: PRO in FINESS, DEF in the ROR since later: definitive wins, earliest DEF date
    tables["etablissements"] = tables["etablissements"].with_columns(
        pl.when(pl.col("finess_eg") == "940000039")
        .then(pl.lit(DAY - dt.timedelta(days=1)))
        .alias("date_fermeture"),
        pl.when(pl.col("finess_eg") == "940000039").then(pl.lit("DEF")).alias("type_fermeture"),
    )
    found = opening.closures(tables, DAY)
    rows = {r["finess_eg"]: r for r in found.iter_rows(named=True)}
    assert rows[BOULOGNE]["type_fermeture"] == "DEF" and rows[BOULOGNE]["source"] == "FINESS"
    assert rows["940000039"]["type_fermeture"] == "DEF"
    assert rows["940000039"]["source"] == "ROR"
    assert rows["940000039"]["date_fermeture"] == DAY - dt.timedelta(days=1)
    kept = opening.open_tables(tables, OpeningRule(DAY, include_provisional=True))
    assert kept["etablissements"]["finess_eg"].to_list() == ["750000011"]


def test_a_closed_unit_leaves_its_establishment_open():
    # UO-75-02 (ME059, 40 beds) closed: Paris still offers ME050 (30 beds + 10 places)
    tables = _closed(DAY - dt.timedelta(days=1), "DEF", unit="UO-75-02")
    kept = opening.open_tables(tables, OpeningRule(DAY))
    assert "750000011" in kept["etablissements"]["finess_eg"].to_list()
    assert set(kept["offres"]["mention"]) == {"ME050", "ME051", "ME060"}


# ------------------------------------------------------------------------------ coverage


@pytest.mark.parametrize(
    ("closing", "kind", "include", "counted", "pro"),
    [
        (DAY - dt.timedelta(days=1), "DEF", False, False, 0),
        (DAY + dt.timedelta(days=1), "DEF", False, True, 0),
        (DAY - dt.timedelta(days=1), "PRO", False, False, 1),
        (DAY - dt.timedelta(days=1), "PRO", True, True, 1),
    ],
)
def test_coverage_counts_the_open_offer(closing, kind, include, counted, pro):
    row = _row92(_closed(closing, kind), OpeningRule(DAY, include))
    capacity = CAPACITY_92 if counted else 0
    assert row["capacite"] == capacity
    assert row["etablissements"] == (1 if counted else 0)
    assert row["taux_100k"] == pytest.approx(capacity / _pop92() * 1e5, rel=1e-12)
    # « fermés temporairement » beside the totals, whether counted or not
    assert row["fermes_temporairement"] == pro
    assert row["capacite_fermee_temporairement"] == (CAPACITY_92 if pro else 0)


# -------------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("closing", "kind", "include", "reachable"),
    [
        (DAY - dt.timedelta(days=1), "DEF", False, False),
        (DAY + dt.timedelta(days=1), "DEF", False, True),
        (DAY - dt.timedelta(days=1), "PRO", False, False),
        (DAY - dt.timedelta(days=1), "PRO", True, True),
    ],
)
def test_access_sees_only_the_open_offer(communes, closing, kind, include, reachable):
    tables = _closed(closing, kind)
    rule = OpeningRule(DAY, include)
    near = access.nearest_by_mention(tables, communes, ["ME051"], opening=rule)
    boulogne = near.filter(pl.col("commune_insee") == "92012").row(0, named=True)
    assert (boulogne["finess_eg"] == BOULOGNE) is reachable
    if not reachable:  # Boulogne was the only ME051 site: nobody reaches one
        assert near["minutes"].null_count() == near.height
    acc = access.accessibility(tables, communes, "ME051", "2sfca", opening=rule)
    # 2SFCA keeps the supply: total accessible capacity × demand = supply when it is reached
    total = (acc["acces"] * acc["population"]).sum() / 1e5
    assert total == pytest.approx(CAPACITY_92 if reachable else 0.0, rel=1e-9)


# ------------------------------------------------------------------------------ scenario


def test_scenario_refuses_a_change_on_a_closed_establishment(communes):
    change = scenarios.Change("modifier_capacite", "ME051", finess_eg=BOULOGNE, lits=50)
    scenario = scenarios.Scenario("agrandir Boulogne", changements=(change,))
    tables = _closed(DAY - dt.timedelta(days=1), "DEF")
    with pytest.raises(InputError, match="fermé définitivement depuis le 14/03/2024"):
        comparison.compare_scenario(
            tables, scenario, communes, "ME051", opening=OpeningRule(DAY)
        )
    tables = _closed(DAY - dt.timedelta(days=1), "PRO")
    with pytest.raises(InputError, match="fermé provisoirement"):
        comparison.compare_scenario(
            tables, scenario, communes, "ME051", opening=OpeningRule(DAY)
        )
    # with the switch, the provisional closure is counted and the change applies
    cmp = comparison.compare_scenario(
        tables, scenario, communes, "ME051", opening=OpeningRule(DAY, True)
    )
    dep = cmp.territoires.filter(pl.col("territoire") == "92").row(0, named=True)
    assert dep["taux_100k_base"] == pytest.approx(CAPACITY_92 / _pop92() * 1e5, rel=1e-12)
    assert dep["taux_100k_scenario"] == pytest.approx((50 + 15) / _pop92() * 1e5, rel=1e-12)


@pytest.mark.parametrize(
    ("closing", "kind", "include", "base"),
    [
        (DAY - dt.timedelta(days=1), "DEF", False, 0),
        (DAY + dt.timedelta(days=1), "DEF", False, CAPACITY_92),
        (DAY - dt.timedelta(days=1), "PRO", False, 0),
        (DAY - dt.timedelta(days=1), "PRO", True, CAPACITY_92),
    ],
)
def test_scenario_baseline_is_the_open_offer(communes, closing, kind, include, base):
    # a new ME051 site in Créteil: the baseline of 92 counts Boulogne only when it is open
    change = scenarios.Change("nouveau_site", "ME051", commune_insee="94028", lits=20)
    scenario = scenarios.Scenario("site à Créteil", changements=(change,))
    cmp = comparison.compare_scenario(
        _closed(closing, kind), scenario, communes, "ME051", opening=OpeningRule(DAY, include)
    )
    dep = cmp.territoires.filter(pl.col("territoire") == "92").row(0, named=True)
    assert dep["taux_100k_base"] == pytest.approx(base / _pop92() * 1e5, rel=1e-12)
    boulogne = cmp.communes.filter(pl.col("commune_insee") == "92012").row(0, named=True)
    assert boulogne["finess_plus_proche_base"] == (BOULOGNE if base else None)


# -------------------------------------------------------------------------------- report


@pytest.mark.slow
@pytest.mark.parametrize(
    ("closing", "kind", "include", "counted", "pro"),
    [
        (DAY - dt.timedelta(days=1), "DEF", False, False, 0),
        (DAY + dt.timedelta(days=1), "DEF", False, True, 0),
        (DAY - dt.timedelta(days=1), "PRO", False, False, 1),
        (DAY - dt.timedelta(days=1), "PRO", True, True, 1),
    ],
)
def test_report_counts_the_open_offer(tmp_path, closing, kind, include, counted, pro):
    store.write_snapshot(tmp_path, DAY, _closed(closing, kind), extra={"region": "11"})
    built = report.build_report(tmp_path, DAY, include_provisional=include)
    beds = 107 - (0 if counted else 25)
    places = 25 - (0 if counted else 15)
    assert built.headline["lits"] == beds and built.headline["places"] == places
    assert built.headline["etablissements_smr"] == (3 if counted else 2)
    assert built.provisional["etablissements"] == pro
    row = built.coverage.filter(
        (pl.col("territoire") == "92") & (pl.col("mention") == "ME051")
    ).row(0, named=True)
    assert row["capacite"] == (CAPACITY_92 if counted else 0)
    figures = {r["note"]: r["nombre"] for r in report.key_figures(built).iter_rows(named=True)}
    assert figures["fermes_temporairement"] == pro
    assert "fermés temporairement" in report.report_html(built) or not pro


def test_command_switch_includes_provisional_closures(tmp_path, capsys):
    store.write_snapshot(tmp_path, DAY, _closed(DAY - dt.timedelta(days=1), "PRO"),
                         extra={"region": "11"})
    out = tmp_path / "c.parquet"
    args = ["coverage", "--store", str(tmp_path), "--mention", "ME051", "--forme", "toutes",
            "--out", str(out)]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "Fermés temporairement au 15/03/2024 : 1 établissement(s)" in text
    assert "exclus des chiffres" in text
    row = pl.read_parquet(out).filter(pl.col("territoire") == "92").row(0, named=True)
    assert row["capacite"] == 0 and row["fermes_temporairement"] == 1
    assert cli.main([*args, "--inclure-fermetures-provisoires"]) == 0
    assert "inclus dans les chiffres" in capsys.readouterr().out
    row = pl.read_parquet(out).filter(pl.col("territoire") == "92").row(0, named=True)
    assert row["capacite"] == CAPACITY_92 and row["fermes_temporairement"] == 1
