"""Row-level validation: each rule on rows built to break it, among good rows.

The small snapshot of ``tests/helpers.py`` supplies the good rows (3 establishments, 4 units,
6 offers, 5 authorisations, 2 guichets, 3 VT units); each test appends bad rows and checks by
hand which rows are kept, what the report says and what the typed values become.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analysis.io.validate import ValidationResult, validate_tables
from analysis.model.errors import InputError
from analysis.model.schema import REJECTED_SCHEMA, REPORT_SCHEMA, TABLES, conform
from tests.helpers import as_text, small_snapshot

EG = "etablissements"


def _raw() -> dict[str, pl.DataFrame]:
    return {t: as_text(f) for t, f in small_snapshot().items()}


def _append(frame: pl.DataFrame, *rows: dict[str, Any]) -> pl.DataFrame:
    extra = pl.DataFrame(
        [{c: row.get(c) for c in frame.columns} for row in rows],
        schema=dict.fromkeys(frame.columns, pl.String),
        orient="row",
    )
    return pl.concat([frame, extra])


def _eg(finess: str, **values: Any) -> dict[str, Any]:
    """A good establishment row in Paris unless told otherwise."""
    return {
        "finess_eg": finess,
        "raison_sociale": f"Centre {finess}",
        "commune_insee": "75056",
        "latitude": "48.8566",
        "longitude": "2.3522",
        **values,
    }


def _validate(table: str, *rows: dict[str, Any]) -> ValidationResult:
    raw = _raw()
    raw[table] = _append(raw[table], *rows)
    return validate_tables(raw)


def _issues(result: ValidationResult, table: str) -> list[tuple[int, str, str | None, str, str]]:
    report = result.report.filter(pl.col("table") == table)
    return list(report.select("row", "column", "value", "rule", "severity").iter_rows())


def _reason(
    result: ValidationResult, table: str, row: int, rule: str, column: str | None = None
) -> str:
    report = result.report.filter(
        (pl.col("table") == table) & (pl.col("row") == row) & (pl.col("rule") == rule)
    )
    if column is not None:
        report = report.filter(pl.col("column") == column)
    assert report.height == 1, report
    return report.item(0, "reason")


def _check_counts(result: ValidationResult) -> None:
    for table, counts in result.counts.items():
        assert counts["lus"] == counts["conserves"] + counts["rejetes"], table
        assert counts["conserves"] == result.tables[table].height, table


# --- clean input ---------------------------------------------------------------------------


def test_clean_snapshot_text_and_typed_give_the_same_tables() -> None:
    snapshot = small_snapshot()
    for raw in (snapshot, _raw()):
        result = validate_tables(raw)
        assert result.ok
        assert result.report.height == 0
        for table, frame in snapshot.items():
            assert_frame_equal(result.tables[table], frame)
    assert result.counts[EG] == {"lus": 3, "conserves": 3, "rejetes": 0, "avertissements": 0}
    assert result.report.schema == pl.Schema(REPORT_SCHEMA)
    assert result.rejected.schema == pl.Schema(REJECTED_SCHEMA)


def test_absent_tables_are_empty_canonical_frames() -> None:
    raw = _raw()
    result = validate_tables({EG: raw[EG]})
    assert result.tables["offres"].schema == conform(pl.DataFrame(), "offres").schema
    assert result.tables["offres"].height == 0
    assert result.counts["offres"] == {"lus": 0, "conserves": 0, "rejetes": 0, "avertissements": 0}
    assert set(result.tables) == set(TABLES)


def test_missing_required_column_and_unknown_table_raise() -> None:
    raw = _raw()
    with pytest.raises(InputError, match="commune_insee"):
        validate_tables({EG: raw[EG].drop("commune_insee")})
    with pytest.raises(InputError, match="patients"):
        validate_tables({"patients": raw[EG]})


# --- rejections ----------------------------------------------------------------------------


def test_missing_required_value_is_rejected() -> None:
    result = _validate(
        EG, _eg("750000029", raison_sociale=""), _eg("750000037", raison_sociale="  ")
    )
    assert result.counts[EG] == {"lus": 5, "conserves": 3, "rejetes": 2, "avertissements": 0}
    assert _issues(result, EG) == [
        (4, "raison_sociale", "", "valeur_manquante", "rejet"),
        (5, "raison_sociale", "  ", "valeur_manquante", "rejet"),
    ]
    assert _reason(result, EG, 4, "valeur_manquante") == "valeur obligatoire manquante"
    assert result.tables[EG].get_column("finess_eg").to_list() == [
        "750000011",
        "920000025",
        "940000039",
    ]
    assert not result.ok
    _check_counts(result)


def test_finess_format() -> None:
    result = _validate(
        EG,
        _eg("75000001"),  # row 4: 8 digits, zero lost
        _eg("960000011"),  # row 5: no département 96
        _eg("75000001-"),  # row 6: bad character
        _eg("2a0000014", commune_insee="2A004", latitude="41.9267", longitude="8.7369"),  # 7
        _eg("9C0000016", commune_insee="97302", latitude="4.9372", longitude="-52.3260"),  # 8
        _eg("750ABC012"),  # row 9: letters allowed after the département
    )
    assert [(r[0], r[3]) for r in _issues(result, EG)] == [
        (4, "finess_format"),
        (5, "finess_format"),
        (6, "finess_format"),
    ]
    assert "zéro initial" in _reason(result, EG, 4, "finess_format")
    assert "département" in _reason(result, EG, 5, "finess_format")
    assert "caractères" in _reason(result, EG, 6, "finess_format")
    kept = result.tables[EG].get_column("finess_eg").to_list()
    assert kept[3:] == ["2A0000014", "9C0000016", "750ABC012"]  # upper-cased
    _check_counts(result)


def test_duplicate_key_keeps_the_first() -> None:
    result = _validate(
        EG,
        _eg("920000025", raison_sociale="Doublon de la ligne 2"),  # row 4
        _eg("750000029", raison_sociale=""),  # row 5: rejected (no name)
        _eg("750000029", raison_sociale="Bon"),  # row 6: first *valid* occurrence, kept
    )
    assert [(r[0], r[3]) for r in _issues(result, EG)] == [
        (4, "cle_en_double"),
        (5, "valeur_manquante"),
    ]
    assert _reason(result, EG, 4, "cle_en_double") == "clé en double : déjà présente à la ligne 2"
    names = dict(result.tables[EG].select("finess_eg", "raison_sociale").iter_rows())
    assert names["920000025"] == "Clinique de réadaptation des Bords de Seine"
    assert names["750000029"] == "Bon"
    _check_counts(result)


def test_composite_key_duplicate_after_code_normalisation() -> None:
    result = _validate(
        "offres", {"uo_id": "UO-75-01", "mention": "me050", "forme": "hc", "lits": "5"}
    )
    assert _issues(result, "offres") == [
        (7, "uo_id, mention, forme", "UO-75-01 | me050 | hc", "cle_en_double", "rejet")
    ]
    assert "ligne 1" in _reason(result, "offres", 7, "cle_en_double")
    assert result.tables["offres"].filter(pl.col("uo_id") == "UO-75-01").get_column(
        "lits"
    ).to_list() == [30, None]


def test_references_resolve_against_kept_rows() -> None:
    raw = _raw()
    raw[EG] = _append(raw[EG], _eg("750000029", commune_insee=""))  # row 4: rejected
    raw["unites"] = _append(
        raw["unites"],
        {"uo_id": "UO-A", "finess_eg": "750009999", "nom": "EG inconnu"},  # row 5
        {"uo_id": "UO-B", "finess_eg": "750000029", "nom": "EG rejeté"},  # row 6
    )
    raw["offres"] = _append(
        raw["offres"],
        {"uo_id": "UO-B", "mention": "ME050", "forme": "HC", "lits": "3"},  # row 7
    )
    raw["autorisations"] = _append(
        raw["autorisations"],
        {"autorisation_id": "AUT-9", "finess_eg": "750009999", "regime": "SMR"},  # row 6
    )
    result = validate_tables(raw)
    assert [(r[0], r[1], r[3]) for r in _issues(result, "unites")] == [
        (5, "finess_eg", "reference_introuvable"),
        (6, "finess_eg", "reference_introuvable"),
    ]
    assert "etablissements" in _reason(result, "unites", 6, "reference_introuvable")
    assert [(r[0], r[3]) for r in _issues(result, "offres")] == [(7, "reference_introuvable")]
    assert [(r[0], r[3]) for r in _issues(result, "autorisations")] == [
        (6, "reference_introuvable")
    ]
    assert result.counts["unites"] == {"lus": 6, "conserves": 4, "rejetes": 2, "avertissements": 0}
    _check_counts(result)


def test_capacity_numbers() -> None:
    good = {"uo_id": "UO-94-01", "mention": "ME061"}
    result = _validate(
        "offres",
        {**good, "forme": "HC", "lits": "12,0"},  # row 7: integral with a comma → 12
        {**good, "forme": "HJ", "places": " 7 "},  # row 8 → 7
        {**good, "forme": "HS", "lits": "12,5"},  # row 9: not whole
        {**good, "forme": "HN", "places": "-3"},  # row 10: negative
        {**good, "forme": "CS", "places": "douze"},  # row 11: not a number
        {**good, "forme": "AMB", "places": "0"},  # row 12: zero is fine
    )
    assert _issues(result, "offres") == [
        (9, "lits", "12,5", "nombre_invalide", "rejet"),
        (10, "places", "-3", "nombre_invalide", "rejet"),
        (11, "places", "douze", "nombre_invalide", "rejet"),
    ]
    assert "entier" in _reason(result, "offres", 9, "nombre_invalide")
    assert "négatif" in _reason(result, "offres", 10, "nombre_invalide")
    assert "pas un nombre" in _reason(result, "offres", 11, "nombre_invalide")
    added = result.tables["offres"].filter(pl.col("mention") == "ME061")
    assert added.select("forme", "lits", "places").rows() == [
        ("HC", 12, None),
        ("HJ", None, 7),
        ("AMB", None, 0),
    ]


def test_unknown_required_codes_are_rejected() -> None:
    raw = _raw()
    raw["offres"] = _append(
        raw["offres"],
        {"uo_id": "UO-94-01", "mention": "ME999", "forme": "HC"},  # row 7
        {"uo_id": "UO-94-01", "mention": "ME061", "forme": "XX"},  # row 8
    )
    raw["autorisations"] = _append(
        raw["autorisations"],
        {"autorisation_id": "AUT-9", "finess_eg": "750000011", "regime": "MCO"},  # row 6
        {"autorisation_id": "AUT-10", "finess_eg": "750000011", "regime": "smr"},  # row 7 kept
    )
    result = validate_tables(raw)
    assert _issues(result, "offres") == [
        (7, "mention", "ME999", "code_inconnu", "rejet"),
        (8, "forme", "XX", "code_inconnu", "rejet"),
    ]
    assert "ME050" in _reason(result, "offres", 7, "code_inconnu")
    assert _issues(result, "autorisations") == [(6, "regime", "MCO", "code_inconnu", "rejet")]
    assert result.tables["autorisations"].get_column("regime").to_list()[-1] == "SMR"


def test_commune_insee_format() -> None:
    result = _validate(
        EG,
        _eg("010000123", commune_insee="1053", latitude=None, longitude=None),  # row 4
        _eg("750000029", commune_insee="75 056"),  # row 5
        _eg("2B0000012", commune_insee="2b033", latitude="42.7", longitude="9.45"),  # row 6
    )
    assert [(r[0], r[2], r[3]) for r in _issues(result, EG)] == [
        (4, "1053", "commune_insee_format"),
        (5, "75 056", "commune_insee_format"),
    ]
    assert "zéro initial" in _reason(result, EG, 4, "commune_insee_format")
    assert result.tables[EG].get_column("commune_insee").to_list()[-1] == "2B033"


def test_rejected_rows_keep_the_whole_original_row() -> None:
    raw = _raw()
    raw[EG] = _append(
        raw[EG].with_columns(pl.lit("note").alias("commentaire")),
        {**_eg("75000001", directeur_email="x@y.fr"), "commentaire": "à revoir"},
    )
    result = validate_tables(raw)
    rejected = result.rejected.filter(pl.col("table") == EG)
    assert rejected.height == 1
    assert rejected.item(0, "row") == 4
    data = json.loads(rejected.item(0, "donnees"))
    assert data["finess_eg"] == "75000001"
    assert data["directeur_email"] == "x@y.fr"
    assert data["commentaire"] == "à revoir"
    assert data["surnom"] is None
    assert set(data) == set(raw[EG].columns)


# --- warnings -----------------------------------------------------------------------------


def test_finess_departement_mismatch_is_a_warning() -> None:
    result = _validate(
        EG,
        _eg("920000041"),  # row 4: FINESS 92, commune in Paris
        _eg("9C0000016", commune_insee="97302", latitude="4.9372", longitude="-52.3260"),  # 5
        _eg("970000014", commune_insee="97411", latitude="-20.8823", longitude="55.4504"),  # 6
        _eg("200000019", commune_insee="2A004", latitude="41.9267", longitude="8.7369"),  # 7
        _eg("2A0000022", commune_insee="2B033", latitude="42.7", longitude="9.45"),  # 8
    )
    assert [(r[0], r[2], r[3], r[4]) for r in _issues(result, EG)] == [
        (4, "920000041 ; 75056", "finess_departement", "avertissement"),
        (8, "2A0000022 ; 2B033", "finess_departement", "avertissement"),
    ]
    assert _reason(result, EG, 4, "finess_departement") == (
        "le département du FINESS (92) diffère de celui de la commune (75)"
    )
    assert result.counts[EG] == {"lus": 8, "conserves": 8, "rejetes": 0, "avertissements": 2}


def test_optional_finess_email_phone_postal_warn_and_keep_values() -> None:
    result = _validate(
        EG,
        _eg(
            "750000029",
            finess_ej="12345",
            email_alerte="jean.dupont@",
            directeur_email="a@b.fr; c@d.fr",
            directeur_telephone="123456789",
            code_postal="7501",
        ),
        _eg("750000037", directeur_telephone="01 23 45", email_alerte="Prénom.Nom@chu-x.fr"),
    )
    issues = _issues(result, EG)
    assert issues == [
        (4, "finess_ej", "12345", "finess_format", "avertissement"),
        (4, "code_postal", "7501", "code_postal_format", "avertissement"),
        (4, "email_alerte", "jean.dupont@", "email_invalide", "avertissement"),
        (4, "directeur_telephone", "123456789", "telephone_zero_perdu", "avertissement"),
        (4, "directeur_email", "a@b.fr; c@d.fr", "email_invalide", "avertissement"),
        (5, "email_alerte", "Prénom.Nom@chu-x.fr", "email_invalide", "avertissement"),
        (5, "directeur_telephone", "01 23 45", "telephone_invalide", "avertissement"),
    ]
    assert "une seule adresse" in _reason(result, EG, 4, "email_invalide", "directeur_email")
    assert "une seule adresse" not in _reason(result, EG, 4, "email_invalide", "email_alerte")
    assert "zéro initial" in _reason(result, EG, 4, "telephone_zero_perdu")
    kept = result.tables[EG].filter(pl.col("finess_eg") == "750000029")
    assert kept.select("finess_ej", "email_alerte", "directeur_telephone").row(0) == (
        "12345",
        "jean.dupont@",
        "123456789",
    )
    assert result.counts[EG]["rejetes"] == 0


@pytest.mark.parametrize(
    "phone",
    [
        "01 23 45 67 89",
        "0123456789",
        "01.23.45.67.89",
        "01-23-45-67-89",
        "+33 1 23 45 67 89",
        "+33 (0)1 23 45 67 89",
        "0033 6 12 34 56 78",
        "+262 262 12 34 56",
        "+590 590 12 34 56",
        "+594 594 12 34 56",
        "+596 596 12 34 56",
        "+269 269 61 00 00",
        "\u00a006 12 34 56 78\u00a0",
    ],
)
def test_valid_phone_numbers(phone: str) -> None:
    result = _validate("unites", {"uo_id": "UO-X", "finess_eg": "750000011", "telephone": phone})
    assert result.report.height == 0


@pytest.mark.parametrize(
    ("phone", "rule"),
    [
        ("123456789", "telephone_zero_perdu"),
        ("1 23 45 67 89", "telephone_zero_perdu"),
        ("00 23 45 67 89", "telephone_invalide"),
        ("+44 20 7946 0958", "telephone_invalide"),
        ("01 23 45 67 89 0", "telephone_invalide"),
        ("poste 1234", "telephone_invalide"),
    ],
)
def test_invalid_phone_numbers(phone: str, rule: str) -> None:
    result = _validate("unites", {"uo_id": "UO-X", "finess_eg": "750000011", "telephone": phone})
    assert _issues(result, "unites") == [(5, "telephone", phone, rule, "avertissement")]


def test_ages() -> None:
    result = _validate(
        "unites",
        {"uo_id": "UO-A", "finess_eg": "750000011", "age_min": "130", "age_max": "140"},  # 5
        {"uo_id": "UO-B", "finess_eg": "750000011", "age_min": "60", "age_max": "18"},  # 6
        {"uo_id": "UO-C", "finess_eg": "750000011", "age_min": "dix-huit", "age_max": "-1"},
        {"uo_id": "UO-D", "finess_eg": "750000011", "age_min": "0", "age_max": "120,0"},  # 8
    )
    assert _issues(result, "unites") == [
        (5, "age_min", "130", "age_hors_bornes", "avertissement"),
        (5, "age_max", "140", "age_hors_bornes", "avertissement"),
        (6, "age_min", "60 > 18", "ages_incoherents", "avertissement"),
        (7, "age_min", "dix-huit", "age_invalide", "avertissement"),
        (7, "age_max", "-1", "age_hors_bornes", "avertissement"),
    ]
    ages = result.tables["unites"].filter(pl.col("uo_id").str.len_chars() == 4)
    assert ages.select("age_min", "age_max").rows() == [(130, 140), (60, 18), (None, -1), (0, 120)]


def test_dates() -> None:
    base = {"autorisation_id": "AUT-X", "finess_eg": "750000011", "regime": "SMR"}
    rows = [
        {**base, "autorisation_id": "A6", "date_decision": "31/02/2024"},  # invalid day
        {**base, "autorisation_id": "A7", "date_decision": "15/03/2024"},
        {**base, "autorisation_id": "A8", "date_decision": "2023-06-01T00:00:00"},
        {**base, "autorisation_id": "A9", "date_decision": "1/6/2023 10:30"},
        {**base, "autorisation_id": "A10", "date_decision": "45078"},  # Excel serial number
        {**base, "autorisation_id": "A11", "date_decision": "0023-06-01"},  # year 23
    ]
    result = _validate("autorisations", *rows)
    assert [(r[0], r[2], r[3]) for r in _issues(result, "autorisations")] == [
        (6, "31/02/2024", "date_invalide"),
        (10, "45078", "date_invalide"),
        (11, "0023-06-01", "date_invalide"),
    ]
    got = result.tables["autorisations"].filter(pl.col("autorisation_id").str.starts_with("A"))
    assert got.get_column("date_decision").to_list()[5:] == [
        None,
        dt.date(2024, 3, 15),
        dt.date(2023, 6, 1),
        dt.date(2023, 6, 1),
        None,
        None,
    ]


def test_datetimes_with_offsets_become_paris_local_time() -> None:
    rows = [
        {"uo_id": f"UO-{i}", "finess_eg": "750000011", "date_maj": value}
        for i, value in enumerate(
            [
                "2024-03-15",
                "2024-03-15 10:05",
                "2024-03-15T10:05:09.123",
                "2024-03-15T10:00:00Z",  # winter: UTC+1 → 11:00
                "2024-07-01T10:00:00+02:00",  # summer, already Paris time
                "2024-07-01T08:00:00-0100",  # 09:00 UTC → 11:00 Paris
                "15/03/2024 14h30",
                "2024-03-15T25:00",
            ]
        )
    ]
    result = _validate("unites", *rows)
    got = result.tables["unites"].filter(pl.col("uo_id").str.starts_with("UO-")).tail(8)
    assert got.get_column("date_maj").to_list() == [
        dt.datetime(2024, 3, 15),
        dt.datetime(2024, 3, 15, 10, 5),
        dt.datetime(2024, 3, 15, 10, 5, 9),
        dt.datetime(2024, 3, 15, 11, 0),
        dt.datetime(2024, 7, 1, 10, 0),
        dt.datetime(2024, 7, 1, 11, 0),
        dt.datetime(2024, 3, 15, 14, 30),
        None,
    ]
    assert _issues(result, "unites") == [
        (12, "date_maj", "2024-03-15T25:00", "date_invalide", "avertissement")
    ]


def test_coordinates() -> None:
    result = _validate(
        EG,
        _eg("750000029", latitude="48,8467", longitude="2,2646"),  # 4: decimal comma, fine
        _eg("750000037", latitude="40.4168", longitude="-3.7038"),  # 5: Madrid
        _eg("750000045", latitude="2.2646", longitude="48.8467"),  # 6: swapped
        _eg("750000052", latitude="N48.8", longitude="2.3"),  # 7: unreadable
        _eg("750000060", latitude="48.85", longitude=None),  # 8: incomplete
        _eg("970000014", commune_insee="97411", latitude="-20.8823", longitude="55.4504"),  # 9
        _eg("750000078", latitude=None, longitude=None),  # 10: none is fine
    )
    assert [(r[0], r[1], r[2], r[3]) for r in _issues(result, EG)] == [
        (5, "latitude", "40.4168 ; -3.7038", "coordonnees_hors_france"),
        (6, "latitude", "2.2646 ; 48.8467", "coordonnees_hors_france"),
        (7, "latitude", "N48.8", "coordonnees_illisibles"),
        (8, "latitude", "48.85", "coordonnees_incompletes"),
    ]
    assert "inversées" in _reason(result, EG, 6, "coordonnees_hors_france")
    assert "inversées" not in _reason(result, EG, 5, "coordonnees_hors_france")
    coords = result.tables[EG].tail(7).select("latitude", "longitude").rows()
    assert coords == [
        (48.8467, 2.2646),
        (None, None),
        (None, None),
        (None, None),
        (None, None),
        (-20.8823, 55.4504),
        (None, None),
    ]
    assert result.counts[EG]["conserves"] == 10


def test_booleans_and_optional_codes() -> None:
    base = {"finess_eg": "750000011"}
    result = _validate(
        "vt_unites",
        {**base, "vt_id": "V1", "synchronise_ror": "oui"},  # row 4
        {**base, "vt_id": "V2", "synchronise_ror": "NON"},
        {**base, "vt_id": "V3", "synchronise_ror": "Vrai"},
        {**base, "vt_id": "V4", "synchronise_ror": "0"},
        {**base, "vt_id": "V5", "synchronise_ror": "peut-être"},  # row 8
    )
    assert _issues(result, "vt_unites") == [
        (8, "synchronise_ror", "peut-être", "booleen_invalide", "avertissement")
    ]
    assert result.tables["vt_unites"].tail(5).get_column("synchronise_ror").to_list() == [
        True,
        False,
        True,
        False,
        None,
    ]

    raw = _raw()
    raw[EG] = _append(raw[EG], _eg("750000029", statut="associatif"))
    raw["autorisations"] = _append(
        raw["autorisations"],
        {
            "autorisation_id": "AUT-9",
            "finess_eg": "750000011",
            "regime": "SSR",
            "activite": "5",
            "modalite": "9",
            "forme": "1",
            "mention": "ME000",
        },
    )
    result = validate_tables(raw)
    assert _issues(result, EG) == [(4, "statut", "associatif", "code_inconnu", "avertissement")]
    assert result.tables[EG].get_column("statut").to_list()[-1] is None
    assert [(r[1], r[2], r[3]) for r in _issues(result, "autorisations")] == [
        ("activite", "5", "code_inconnu"),
        ("mention", "ME000", "code_inconnu"),
    ]
    last = result.tables["autorisations"].row(-1, named=True)
    assert (last["activite"], last["modalite"], last["forme"], last["mention"]) == (
        None,
        "09",  # a spreadsheet dropped the zero: restored
        "01",
        None,
    )


def test_unresolved_vt_references_are_warnings() -> None:
    result = _validate(
        "vt_unites",
        {"vt_id": "V1", "uo_id": "UO-XX", "finess_eg": "750009999", "guichet_id": "G-13"},
    )
    assert _issues(result, "vt_unites") == [
        (4, "uo_id", "UO-XX", "reference_introuvable", "avertissement"),
        (4, "finess_eg", "750009999", "reference_introuvable", "avertissement"),
        (4, "guichet_id", "G-13", "reference_introuvable", "avertissement"),
    ]
    assert result.counts["vt_unites"] == {
        "lus": 4,
        "conserves": 4,
        "rejetes": 0,
        "avertissements": 3,
    }


def test_unknown_columns_reported_once() -> None:
    raw = _raw()
    raw["unites"] = raw["unites"].with_columns(pl.lit("x").alias("commentaire"))
    result = validate_tables(raw)
    assert _issues(result, "unites") == [
        (0, "commentaire", None, "colonne_inconnue", "avertissement")
    ]
    assert "commentaire" not in result.tables["unites"].columns
    assert result.ok


def test_warnings_only_on_kept_rows() -> None:
    # A rejected row's other problems are not warnings: warnings.parquet describes kept rows.
    result = _validate(EG, _eg("75000001", email_alerte="pas-un-email"))
    assert [(r[3], r[4]) for r in _issues(result, EG)] == [("finess_format", "rejet")]
    assert result.warnings.height == 0


# --- invariants ---------------------------------------------------------------------------

_finess = st.sampled_from(["750000011", "920000025", "750000029", "75000001", "", "2A0000014"])
_lits = st.sampled_from(["", "3", "12,0", "12,5", "-1", "x"])


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    eg_rows=st.lists(_finess, max_size=6),
    uo_rows=st.lists(st.tuples(st.sampled_from(["U1", "U2", "U3"]), _finess), max_size=6),
    lits=st.lists(st.tuples(st.sampled_from(["U1", "U2"]), _lits), max_size=6),
)
def test_counts_and_uniqueness_hold_for_any_mix(
    eg_rows: list[str], uo_rows: list[tuple[str, str]], lits: list[tuple[str, str]]
) -> None:
    raw = {
        EG: pl.DataFrame(
            {
                "finess_eg": eg_rows,
                "raison_sociale": ["X"] * len(eg_rows),
                "commune_insee": ["75056"] * len(eg_rows),
            },
            schema=dict.fromkeys(["finess_eg", "raison_sociale", "commune_insee"], pl.String),
        ),
        "unites": pl.DataFrame(
            {"uo_id": [u for u, _ in uo_rows], "finess_eg": [f for _, f in uo_rows], "nom": "n"},
            schema=dict.fromkeys(["uo_id", "finess_eg", "nom"], pl.String),
        ),
        "offres": pl.DataFrame(
            {
                "uo_id": [u for u, _ in lits],
                "mention": "ME050",
                "forme": "HC",
                "lits": [v for _, v in lits],
            },
            schema=dict.fromkeys(["uo_id", "mention", "forme", "lits"], pl.String),
        ),
    }
    result = validate_tables(raw)
    _check_counts(result)
    for name, table in TABLES.items():
        kept = result.tables[name]
        assert kept.select(table.key).is_duplicated().sum() == 0
        rejected_rows = result.rejected.filter(pl.col("table") == name).get_column("row")
        assert rejected_rows.n_unique() == result.counts[name]["rejetes"]
    kept_eg = set(result.tables[EG].get_column("finess_eg"))
    assert set(result.tables["unites"].get_column("finess_eg")) <= kept_eg
    kept_uo = set(result.tables["unites"].get_column("uo_id"))
    assert set(result.tables["offres"].get_column("uo_id")) <= kept_uo


# --- root causes: rows rejected in cascade are grouped under the row that caused them -------
# Small snapshot (tests/helpers.py), by hand: establishment 750000011 (data row 1, spreadsheet
# line 2) has units UO-75-01 and UO-75-02 (unites rows 1, 2), whose offers are offres rows 1,
# 2, 3; its authorisations are autorisations rows 1, 2; VT unit VT-1001 (vt_unites row 1)
# points at UO-75-01 and 750000011. Establishment 920000025 (row 2, line 3) has unit UO-92-01
# (unites row 3, offers rows 4 and 5), authorisation row 3 and VT unit VT-1002 (row 2).


def _explained(raw: dict[str, pl.DataFrame]) -> pl.DataFrame:
    from analysis.io.validate import explain_rejections

    result = validate_tables(raw)
    return explain_rejections(result.report, result.rejected)


def test_a_rejected_establishment_is_the_cause_of_everything_it_takes_with_it():
    from analysis.io.validate import by_cause, consequence_text, root_causes

    raw = _raw()
    raw[EG] = raw[EG].with_columns(
        pl.when(pl.col("finess_eg") == "750000011").then(None)
        .otherwise(pl.col("raison_sociale")).alias("raison_sociale")
    )
    explained = _explained(raw)
    rows = {(t, r): c for t, r, c in explained.select("table", "row", "cause").iter_rows()}
    assert rows[(EG, 1)] is None  # its own reason: the root
    cause = "etablissements, ligne 2"
    consequences = [
        ("unites", 1), ("unites", 2), ("offres", 1), ("offres", 2), ("offres", 3),
        ("autorisations", 1), ("autorisations", 2), ("vt_unites", 1),
        ("habilitations", 1), ("habilitations", 2),  # its accounts (tests.helpers), warned
    ]
    assert {k: rows[k] for k in consequences} == dict.fromkeys(consequences, cause)
    assert set(rows) == {(EG, 1), *consequences}

    (root,) = root_causes(explained).iter_rows(named=True)
    assert (root["table"], root["row"], root["ligne"]) == (EG, 1, 2)
    assert (root["en_consequence"], root["avertissements_en_consequence"]) == (7, 3)
    detail = "unites 2, offres 3, autorisations 2, vt_unites 1, habilitations 2"
    assert root["detail"] == detail
    assert consequence_text(7, 3, root["detail"]) == (
        f"7 lignes rejetées en conséquence et 3 avertissements en conséquence ({detail})"
    )
    assert consequence_text(7, 1, "vt_unites 1") == (
        "7 lignes rejetées en conséquence et 1 avertissement en conséquence (vt_unites 1)"
    )
    assert consequence_text(1) == "1 ligne rejetée en conséquence"
    assert consequence_text(0) == ""
    # reading order: the root first, then what it caused, table by table
    order = by_cause(explained).select("table", "row").unique(maintain_order=True).rows()
    assert order[0] == (EG, 1)
    assert order[1:3] == [("unites", 1), ("unites", 2)]
    assert order[-1] == ("habilitations", 2)


def test_a_mistyped_finess_is_the_probable_cause_of_the_references_one_slip_away():
    raw = _raw()
    raw[EG] = raw[EG].with_columns(
        pl.col("finess_eg").replace({"920000025": "92000025"})  # one digit lost
    )
    explained = _explained(raw)
    causes = {
        (t, r): c for t, r, c in explained.select("table", "row", "cause").unique().iter_rows()
    }
    probable = "etablissements, ligne 3 (cause probable)"
    assert causes == {
        (EG, 2): None,
        ("unites", 3): probable,
        ("offres", 4): probable,
        ("offres", 5): probable,
        ("autorisations", 3): probable,
        ("vt_unites", 2): probable,
        ("habilitations", 3): probable,  # ROR-2 and VT-H2 of tests.helpers.small_habilitations
        ("habilitations", 4): probable,
    }


def test_a_reference_to_a_key_absent_from_the_input_is_its_own_root():
    """No row of etablissements was rejected: the unit pointing nowhere is the cause, and the
    offers of that unit are its consequences."""
    from analysis.io.validate import root_causes

    raw = _raw()
    raw["unites"] = raw["unites"].with_columns(
        pl.col("finess_eg").replace({"920000025": "930000015"})  # valid, but unknown
    )
    explained = _explained(raw)
    causes = {
        (t, r): c for t, r, c in explained.select("table", "row", "cause").unique().iter_rows()
    }
    assert causes[("unites", 3)] is None
    assert causes[("offres", 4)] == causes[("offres", 5)] == "unites, ligne 4"
    assert causes[("vt_unites", 2)] == "unites, ligne 4"  # its uo_id pointed at that unit
    roots = root_causes(explained).select("table", "row", "en_consequence").rows()
    assert roots == [("unites", 3, 2)]


def test_a_row_with_a_reason_of_its_own_is_not_a_consequence():
    raw = _raw()
    raw[EG] = raw[EG].with_columns(
        pl.when(pl.col("finess_eg") == "750000011").then(None)
        .otherwise(pl.col("raison_sociale")).alias("raison_sociale")
    )
    raw["offres"] = raw["offres"].with_columns(  # offres row 1 also has an unknown mention
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("ME999"))
        .otherwise(pl.col("mention")).alias("mention")
    )
    explained = _explained(raw)
    offre = explained.filter((pl.col("table") == "offres") & (pl.col("row") == 1))
    assert set(offre["rule"]) == {"code_inconnu", "reference_introuvable"}
    assert offre["cause"].to_list() == [None, None]


def test_one_typing_slip():
    from analysis.io.validate import _one_edit_apart

    assert _one_edit_apart("75061973", "750619737")  # one character lost
    assert _one_edit_apart("750619737", "750691737")  # neighbours swapped
    assert _one_edit_apart("750619737", "750619738")  # one changed
    assert not _one_edit_apart("750619737", "750619737")
    assert not _one_edit_apart("750619737", "750916737")
    assert not _one_edit_apart("7506197", "750619737")


def test_spreadsheet_line_counts_the_header_as_line_1():
    from analysis.io.validate import spreadsheet_line

    rows = pl.DataFrame({"row": [0, 1, 17]})
    assert rows.select(spreadsheet_line(pl.col("row")))["row"].to_list() == [1, 2, 18]
