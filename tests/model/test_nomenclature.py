"""Mentions, forms and activities against the codes of DOMAIN.md §1.2, §1.5, §1.6."""

import pytest

from analysis.model import nomenclature as n

# Copied by hand from the table of DOMAIN.md §1.2 (TRE_R383 code → ROR type d'offre).
EXPECTED = {
    "ME050": "100", "ME059": "101", "ME051": "102", "ME052": "103", "ME053": "104",
    "ME054": "105", "ME055": "106", "ME057": "107", "ME058": "108", "ME060": "109",
    "ME061": "110", "ME062": "111", "ME056": "112",
}


def test_thirteen_mentions_with_their_ror_codes():
    assert len(n.MENTIONS) == 13
    assert {m.code: m.type_offre for m in n.MENTIONS} == EXPECTED


def test_nine_standalone_mentions_and_two_modalities_of_two():
    standalone = [m for m in n.MENTIONS if m.modalite is None]
    assert len(standalone) == 9
    assert {"ME060", "ME061"} == n.PEDIATRIC_MENTIONS
    assert {"ME062", "ME056"} == n.CANCER_MENTIONS


def test_ssr_activities_50_to_59_all_mapped():
    assert sorted(n.ACTIVITES_SSR) == [str(i) for i in range(50, 60)]
    assert sorted(n.SSR_TO_SMR) == sorted(n.ACTIVITES_SSR)
    # onco-hématologie is ambiguous: two candidates, none chosen
    assert n.SSR_TO_SMR["56"] == ("ME062", "ME056")
    assert n.SSR_TO_SMR["59"] == ("ME059",)


def test_formes_nos_codes():
    assert {f.code: f.nos for f in n.FORMES if f.code in ("HC", "HJ", "HN", "HS")} == {
        "HC": "28", "HJ": "29", "HN": "30", "HS": "34",
    }
    assert n.FORME_BY_CODE["HC"].capacite == "lits"
    assert n.FORME_BY_CODE["HJ"].capacite == "places"


@pytest.mark.parametrize(
    ("text", "code"),
    [("ME050", "ME050"), ("me059", "ME059"), ("101", "ME059"), ("geriatrie", "ME059"),
     ("Gériatrie", "ME059"), ("  Brûlés ", "ME057"), ("cardio vasculaire", "ME053"),
     ("Oncologie et hématologie", "ME056")],
)
def test_mention_code_accepts_codes_and_labels(text, code):
    assert n.mention_code(text) == code


def test_mention_code_unknown_lists_valid_codes():
    with pytest.raises(KeyError, match="ME050"):
        n.mention_code("cardiologie interventionnelle")
