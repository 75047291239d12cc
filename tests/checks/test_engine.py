"""The check engine (``analysis.checks.engine``) on frames small enough to count by hand.

Two toy families: one writes like the campaign (``ok`` / ``manquant`` / ``invalide``, a rule
may leave entities out entirely), one like the quality requirements (``conforme`` / ``ecart``
/ ``non_applicable``, excluded entities keep a row but leave the scope). Every expected value
below is worked out from the five rows of ``UNITS``, not read back from the engine.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from analysis.checks import engine
from analysis.checks.engine import (
    FAIL,
    INVALID,
    MISSING,
    NOT_APPLICABLE,
    PASS,
    Check,
    Vocabulary,
)

CAMPAIGN_LIKE = Vocabulary(
    codes={PASS: "ok", MISSING: "manquant", INVALID: "invalide"},
    check_column="regle",
    status_column="resultat",
    count_columns={PASS: "conformes", MISSING: "manquants", INVALID: "invalides"},
    scope_column="total",
    left_column="reste",
)
QUALITY_LIKE = Vocabulary(
    codes={PASS: "conforme", FAIL: "ecart", NOT_APPLICABLE: "non_applicable"},
    check_column="exigence",
    status_column="statut",
    count_columns={PASS: "conformes", FAIL: "ecarts", NOT_APPLICABLE: "non_applicables"},
    scope_column="perimetre",
)

#: Five units: a phone (blank, malformed or fine), a bed count, whether the unit is open.
UNITS = pl.DataFrame(
    {
        "entite": ["U1", "U2", "U3", "U4", "U5"],
        "nom_entite": ["Un", "Deux", "Trois", "Quatre", "Cinq"],
        "dep": ["75", "75", "92", "92", "92"],
        "telephone": ["0102030405", None, "12", "0607080910", "99"],
        "lits": [10, 0, None, 5, 3],
        "ouverte": [True, True, True, False, True],
    }
)

PHONE = Check(
    "tel",
    "unite",
    "Téléphone",
    "Renseigner un numéro à 10 chiffres.",
    lambda p: [
        (pl.col("telephone").is_null(), MISSING, "non renseigné"),
        (
            pl.col("telephone").str.len_chars() != 10,
            INVALID,
            pl.format("{} chiffres", pl.col("telephone").str.len_chars()),
        ),
    ],
    value=lambda: pl.col("telephone"),
    personal=True,
)
#: Only open units are concerned: U4 (closed) gets no row at all.
BEDS_OPEN_ONLY = Check(
    "lits",
    "unite",
    "Lits",
    "Déclarer les lits.",
    lambda p: [
        (pl.col("lits").is_null(), MISSING, "lits non renseignés"),
        (pl.col("lits") <= 0, INVALID, "aucun lit"),
    ],
    applies=lambda p: pl.col("ouverte"),
)
#: Closed units are not applicable (a row, outside the scope); no bed is an écart.
BEDS_REQUIREMENT = Check(
    "LITS",
    "unite",
    "Lits déclarés",
    "Déclarer les lits.",
    lambda p: [(pl.col("lits").fill_null(0) <= 0, FAIL, "aucun lit déclaré")],
    exclusions=lambda p: [(~pl.col("ouverte"), "unité fermée")],
)


def _frame(_: str) -> pl.LazyFrame:
    return UNITS.lazy()


def _evaluate(checks, vocabulary, carry=("dep",)) -> pl.DataFrame:
    return (
        engine.evaluate_lazy(_frame, checks, None, vocabulary, ["unite"], carry=list(carry))
        .collect()
        .sort(vocabulary.check_column, "entite")
    )


def test_first_true_failure_gives_status_and_reason():
    """U2's null phone is missing (not invalid: the length test is null there); U3 and U5
    have 2 digits, invalid with the reason built per row; U1 and U4 pass."""
    out = _evaluate([PHONE], CAMPAIGN_LIKE)
    assert out["entite"].to_list() == ["U1", "U2", "U3", "U4", "U5"]
    assert out["resultat"].to_list() == ["ok", "manquant", "invalide", "ok", "invalide"]
    assert out["motif"].to_list() == [None, "non renseigné", "2 chiffres", None, "2 chiffres"]
    assert out["valeur"].to_list() == UNITS["telephone"].to_list()
    assert out["dep"].to_list() == ["75", "75", "92", "92", "92"]
    assert out.columns == [
        "niveau", "dep", "entite", "nom_entite", "regle", "resultat", "motif", "valeur",
    ]
    assert set(out["niveau"]) == {"unite"}


def test_a_check_that_does_not_apply_leaves_no_row():
    """U4 is closed: no row for ``lits``. Of the four open units, U3 (null) is missing,
    U2 (0 beds) invalid, U1 and U5 pass."""
    out = _evaluate([BEDS_OPEN_ONLY], CAMPAIGN_LIKE)
    assert dict(zip(out["entite"], out["resultat"], strict=True)) == {
        "U1": "ok", "U2": "invalide", "U3": "manquant", "U5": "ok",
    }


def test_counts_by_hand():
    """Both checks: tel gives 2 ok, 1 manquant, 2 invalides; lits 2 ok, 1 manquant, 1
    invalide over 4. Département 75 (U1, U2): tel 1 ok + 1 manquant, lits 1 ok + 1 invalide."""
    results = _evaluate([PHONE, BEDS_OPEN_ONLY], CAMPAIGN_LIKE)
    per_check = engine.counts(results, ["regle"], CAMPAIGN_LIKE).collect().sort("regle")
    assert per_check.to_dicts() == [
        {"regle": "lits", "conformes": 2, "manquants": 1, "invalides": 1, "total": 4,
         "reste": 2, "taux": 0.5},
        {"regle": "tel", "conformes": 2, "manquants": 1, "invalides": 2, "total": 5,
         "reste": 3, "taux": 0.4},
    ]
    whole = engine.counts(results, [], CAMPAIGN_LIKE).collect().row(0, named=True)
    assert whole == {"conformes": 4, "manquants": 2, "invalides": 3, "total": 9, "reste": 5,
                     "taux": 4 / 9}
    paris = (
        engine.counts(results, ["dep"], CAMPAIGN_LIKE).collect().filter(pl.col("dep") == "75")
    )
    assert paris.select("conformes", "manquants", "invalides", "total").row(0) == (2, 1, 1, 4)


def test_exclusions_are_not_applicable_and_leave_the_scope():
    """U4 is closed: non applicable with its reason, even though it has beds. Of the four
    open units, U2 (0) and U3 (null) are écarts: périmètre 4, conformes 2, taux 0.5."""
    out = _evaluate([BEDS_REQUIREMENT], QUALITY_LIKE)
    assert out["statut"].to_list() == [
        "conforme", "ecart", "ecart", "non_applicable", "conforme",
    ]
    assert out["motif"].to_list() == [
        None, "aucun lit déclaré", "aucun lit déclaré", "unité fermée", None,
    ]
    counts = engine.counts(out, ["exigence"], QUALITY_LIKE).collect()
    assert counts.drop("exigence").row(0, named=True) == {
        "conformes": 2, "ecarts": 2, "non_applicables": 1, "perimetre": 4, "taux": 0.5,
    }


def test_an_empty_scope_has_no_rate():
    """Only U4 in the group: not applicable, périmètre 0, rate null (not 0, not an error)."""
    out = _evaluate([BEDS_REQUIREMENT], QUALITY_LIKE).filter(pl.col("entite") == "U4")
    row = engine.counts(out, ["exigence"], QUALITY_LIKE).collect().row(0, named=True)
    assert (row["perimetre"], row["non_applicables"], row["taux"]) == (0, 1, None)


def test_counts_lazy_counts_without_the_rows():
    """Two stacked snapshots (the second with U2's phone fixed): per snapshot and check,
    the same passed count and scope as counting the full results."""
    day1, day2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)
    fixed = UNITS.with_columns(
        pl.when(pl.col("entite") == "U2").then(pl.lit("0102030405"))
        .otherwise(pl.col("telephone")).alias("telephone")
    )
    stacked = pl.concat([
        UNITS.with_columns(pl.lit(day1).alias("jour")),
        fixed.with_columns(pl.lit(day2).alias("jour")),
    ])
    quick = (
        engine.counts_lazy(
            lambda _: stacked.lazy(), [PHONE, BEDS_OPEN_ONLY], None, CAMPAIGN_LIKE, ["unite"],
            keys=["jour"],
        )
        .collect()
        .sort("jour", "regle")
    )
    assert quick.rows() == [
        (day1, "lits", 2, 4, 0.5),
        (day1, "tel", 2, 5, 0.4),
        (day2, "lits", 2, 4, 0.5),
        (day2, "tel", 3, 5, 0.6),
    ]
    assert quick.columns == ["jour", "regle", "conformes", "total", "taux"]


def test_counts_lazy_leaves_the_excluded_out_of_the_scope():
    row = (
        engine.counts_lazy(_frame, [BEDS_REQUIREMENT], None, QUALITY_LIKE, ["unite"])
        .collect()
        .row(0, named=True)
    )
    assert row == {"exigence": "LITS", "conformes": 2, "perimetre": 4, "taux": 0.5}


def test_a_status_outside_the_family_is_refused():
    """A campaign-like family has no ``FAIL``: said in French, before anything is computed."""
    wrong = Check("x", "unite", "X", "", lambda p: [(pl.col("lits") < 0, FAIL, "négatif")])
    with pytest.raises(ValueError, match="statut « fail » inconnu"):
        _evaluate([wrong], CAMPAIGN_LIKE)


def test_columns_read_and_enabled_checks():
    assert engine.referenced_columns([PHONE, BEDS_OPEN_ONLY, BEDS_REQUIREMENT], None) == {
        "unite": {"telephone", "lits", "ouverte"}
    }
    assert engine.referenced_columns([BEDS_REQUIREMENT], None) == {"unite": {"lits", "ouverte"}}
    later = Check("y", "unite", "Y", "", lambda p: [], enabled=lambda p: p is not None)
    assert engine.active([PHONE, later], None) == [PHONE]
    assert engine.active([PHONE, later], object()) == [PHONE, later]


def test_no_check_gives_the_empty_schema():
    out = engine.evaluate_lazy(_frame, [], None, QUALITY_LIKE, ["unite"], carry=["dep"])
    assert out.collect().schema == pl.Schema(engine.result_schema(QUALITY_LIKE, ["dep"]))
    assert out.collect().height == 0


# ------------------------------------------------------- the two families on the demo


def test_quality_counts_without_rows_match_its_summary(demo_store):
    """The engine's fast count over the quality frames (exclusions out of the scope) gives
    the ``ensemble`` rows of the national aggregate, counted from the per-entity results."""
    from analysis.checks.quality import requirements
    from analysis.io import store

    snap = store.read_snapshot(demo_store)
    results = requirements.evaluate(snap.tables, snap.date)
    whole = (
        requirements.summary(results)
        .filter((pl.col("departement") == "ensemble") & (pl.col("perimetre") > 0))
        .select("exigence", "conformes", "perimetre", "taux")
        .sort("exigence")
    )
    quick = requirements.counts_lazy(snap.tables, snap.date).collect().sort("exigence")
    assert whole.height >= 5
    assert quick.to_dicts() == whole.to_dicts()
    # and the summary itself is the results counted by hand: conforme over conforme + écart
    for row in whole.iter_rows(named=True):
        mine = results.filter(pl.col("exigence") == row["exigence"])["statut"].to_list()
        assert row["conformes"] == mine.count("conforme")
        assert row["perimetre"] == mine.count("conforme") + mine.count("ecart")
