"""Département of a commune or an establishment (analysis.model.insee), hand-worked cases."""

from __future__ import annotations

import polars as pl
import pytest

from analysis.model.insee import (
    departement_expr,
    departement_from_insee,
    departement_of_commune,
    finess_departement_expr,
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("75056", "75"),  # Paris
        ("2A004", "2A"),  # Ajaccio
        ("2B033", "2B"),  # Bastia
        ("97302", "973"),  # Cayenne
        ("97611", "976"),  # Mamoudzou
        ("98611", "986"),  # Alo (Wallis-et-Futuna)
        ("01053", "01"),  # Bourg-en-Bresse
    ],
)
def test_departement_of_commune(code: str, expected: str) -> None:
    assert departement_of_commune(code) == expected
    assert departement_from_insee(code) == expected


def test_departement_from_insee_reads_lost_zero_and_refuses_bad_codes() -> None:
    assert departement_from_insee("1053") == "01"
    assert departement_from_insee(" 2a004 ") == "2A"
    assert departement_from_insee("7505") == "07"  # 4 digits: 07505
    for bad in ("", "750561", "2C004", "ABCDE", "2A04"):
        with pytest.raises(ValueError, match="Code commune INSEE invalide"):
            departement_from_insee(bad)


def test_departement_expr_commune_first_then_finess() -> None:
    frame = pl.DataFrame(
        {
            "commune_insee": ["75056", "2A004", "97302", None, None, None, None],
            "finess_eg": ["750000001", "2A0000001", "9C0000001", "9A0000001", "200000001",
                          "9J0000001", None],
        }
    )
    got = frame.select(departement_expr().alias("d"))["d"].to_list()
    assert got == ["75", "2A", "973", "971", "20", "986", None]
    heads = frame.select(finess_departement_expr().alias("d"))["d"].to_list()
    assert heads == ["75", "2A", "973", "971", "20", "986", None]
