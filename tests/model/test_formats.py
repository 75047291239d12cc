"""French formats: hand-worked cases of the one formatting layer (analysis.model.formats)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from analysis.model import formats, nomenclature
from analysis.present import columns

N = "\u202f"  # narrow no-break space


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (12174880, 0, f"12{N}174{N}880"),
        (5358, 0, f"5{N}358"),
        (999, 0, "999"),
        (41.91950175677912, 1, "41,9"),
        (2187526.0, 0, f"2{N}187{N}526"),
        (-1234.56, 2, f"-1{N}234,56"),
        (-0.04, 1, "0,0"),
        (0.5, 0, "0"),  # Python rounds half to even
        (None, 1, "—"),
        (float("nan"), 1, "—"),
    ],
)
def test_number(value, decimals, expected):
    assert formats.number(value, decimals) == expected


def test_percent_and_dates():
    assert formats.percent(0.838) == f"83,8{N}%"
    assert formats.percent(1.0) == f"100,0{N}%"
    assert formats.percent(None) == "—"
    assert formats.percent_points(41.6) == f"41,6{N}%"
    assert formats.date(dt.date(2023, 5, 15)) == "15/05/2023"
    assert formats.date("2023-06-19T08:52:12.000000") == "19/06/2023"
    assert formats.datetime(dt.datetime(2023, 7, 30, 18, 0)) == "30/07/2023 18:00"
    assert formats.datetime(dt.date(2023, 7, 30)) == "30/07/2023"
    assert formats.date(None) == formats.datetime(None) == "—"
    assert formats.boolean(True) == "oui" and formats.boolean(False) == "non"


def test_codes_get_french_labels():
    assert formats.departement("75") == "Paris (75)"
    assert formats.departement("2A") == "Corse-du-Sud (2A)"
    assert formats.departement("971") == "Guadeloupe (971)"
    assert len(formats.DEPARTEMENTS) == 101
    assert formats.mention("ME060") == "Pédiatrie (≥ 4 ans)"
    assert formats.mention("ME062|ME056") == "Oncologie ou Onco-hématologie"
    assert formats.mention_choice("ME059") == "Gériatrie (ME059)"
    frame = pl.DataFrame(
        {
            "mention": ["ME060"],
            "libelle": ["Enfants et adolescents"],
            "statut": ["desynchronise"],
            "ecart": ["autorisee_non_decrite"],
            "forme": ["HC"],
            "actif": [True],
        }
    )
    out = columns.labelled(frame)
    assert "libelle" not in out.columns  # one label per mention: the short one
    assert out.row(0) == (
        "Pédiatrie (≥ 4 ans)",
        "Désynchronisée",
        "Autorisée mais non décrite dans le ROR",
        "Hospitalisation complète",
        "oui",
    )


def test_every_mention_has_one_short_label():
    shorts = [m.court for m in nomenclature.MENTIONS]
    assert len(set(shorts)) == len(shorts)
    assert [formats.mention(m.code) for m in nomenclature.MENTIONS] == shorts


def test_status_codes_do_not_clash():
    """« statut » gathers the statuses of several modules: a code means one thing."""
    from analysis.checks.campaign import checklist
    from analysis.checks.quality import requirements
    from analysis.indicators import sync
    from analysis.model import nomenclature
    from analysis.transition import correspondence

    seen: dict[str, str] = {}
    for labels in (
        nomenclature.CODE_LISTS["statut"], sync.STATUS_LABELS, requirements.STATUT_LABELS,
        requirements.PEUPLEMENT_LABELS, correspondence.MAPPING_STATUSES,
        {checklist.OK: "", checklist.MANQUANT: "", checklist.INVALIDE: ""},
    ):
        for code in labels:
            assert code not in seen, code
            seen[code] = code


def test_text_frame_shows_french_cells_and_headers():
    frame = pl.DataFrame(
        {
            "territoire": ["75"],
            "taux_100k": [41.91950175677912],
            "taux": [0.83849],
            "part_15min": [100.0],
            "population": [2187526.0],
            "date_maj": [dt.datetime(2023, 3, 15)],  # midnight only: a date
            "date_synchronisation": [dt.datetime(2023, 7, 30, 18, 0)],
            "motif": [None],
        },
        schema_overrides={"motif": pl.String},
    )
    out = columns.text_frame(frame)
    assert out.columns == [
        "Code", "Pour 100 000 hab.", "Taux", "Part ≤ 15 min", "Population",
        "Dernière mise à jour", "Dernière synchronisation", "Motif",
    ]
    assert out.row(0) == (
        "75", "41,9", f"83,8{N}%", f"100,0{N}%", f"2{N}187{N}526", "15/03/2023",
        "30/07/2023 18:00", "—",
    )


def test_headers_are_unique():
    heads = columns.headers(["nom", "nom_entite"])
    assert heads == {"nom": "Nom", "nom_entite": "Nom (nom_entite)"}
