"""SSR → SMR transition: mapping, gaps per establishment × mention, scenarios, files.

Expected values are written by hand (the mapping table below is typed from DOMAIN.md §1.6,
not read from the code; the gap cases are built one by one on the small snapshot) or
recomputed by a plain-Python second implementation (gaps on the demo, nearest times and
E2SFCA terms by brute-force loops over communes and sites).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import polars as pl
import pytest

from analysis.geo import geography
from analysis.io import store
from analysis.model import schema
from analysis.model.errors import InputError, StoreError
from analysis.present import export
from analysis.transition import comparison, correspondence, scenarios
from analysis.transition.gaps import (
    GAP_TYPES,
    ROR_TEAM_GAPS,
    filter_gaps,
    gap_counts_by_departement,
    gap_totals,
    status_counts,
    transition_gaps,
)
from tests.helpers import small_snapshot

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "scenarios"
AFTER = dt.date(2024, 3, 1)  # every small-snapshot SSR authorisation has ended by then
ADULT = {
    "50": ("ME050",),
    "51": ("ME051",),
    "52": ("ME052",),
    "53": ("ME053",),
    "54": ("ME054",),
    "55": ("ME055",),
    "56": ("ME062", "ME056"),
    "57": ("ME057",),
    "58": ("ME058",),
    "59": ("ME059",),
}
PEDIATRIC = {"78": "ME060", "77": "ME061", "79": "ME061", "10": "ME061"}


def _expected_slots(activite: str, modalite: str | None, forme: str) -> list[tuple[str, ...]]:
    """DOMAIN.md §1.6 by hand: the expected mention slots of one SSR authorisation."""
    if forme == "05":
        return []
    if modalite in PEDIATRIC:
        return [(PEDIATRIC[modalite],)]
    if modalite == "76":
        return [ADULT[activite], ("ME061",)]
    return [ADULT[activite]]


def _auth(rows: list[dict]) -> pl.DataFrame:
    return schema.conform(pl.DataFrame(rows), "autorisations")


def _ssr(
    i: int,
    finess: str,
    activite: str,
    modalite: str | None = "09",
    forme: str = "01",
    fin: dt.date | None = None,
) -> dict:
    return {
        "autorisation_id": f"SSR-{i:03d}",
        "finess_eg": finess,
        "regime": "SSR",
        "activite": activite,
        "modalite": modalite,
        "forme": forme,
        "date_fin": fin,
    }


def _smr(i: int, finess: str, mention: str, forme: str = "01") -> dict:
    return {
        "autorisation_id": f"SMR-{i:03d}",
        "finess_eg": finess,
        "regime": "SMR",
        "mention": mention,
        "forme": forme,
    }


# ----------------------------------------------------------------------------- mapping


def test_mapping_of_every_ssr_activity_modality_and_form():
    modalities = [None, "00", "09", "76", "77", "78", "79", "10"]
    rows, expected = [], {}
    i = 0
    for activite in ADULT:
        for modalite in modalities:
            for forme in ("01", "02", "05"):
                i += 1
                rows.append(_ssr(i, "750000011", activite, modalite, forme))
                expected[f"SSR-{i:03d}"] = _expected_slots(activite, modalite, forme)
    out = correspondence.correspondance_ssr(_auth(rows))
    got: dict[str, list[tuple[str, ...]]] = {}
    for r in out.iter_rows(named=True):
        got.setdefault(r["autorisation_id"], [])
        if r["mentions"]:
            got[r["autorisation_id"]].append(tuple(r["mentions"]))
    assert got == expected
    # statuses: HAD outside SMR, onco-hématologie to be decided, pediatrics approximate
    status = {(r["autorisation_id"], r["mention"]): r["statut"] for r in out.iter_rows(named=True)}
    for r in out.iter_rows(named=True):
        if r["forme"] == "05":
            assert r["statut"] == "hors_smr" and r["mention"] is None
        elif r["mention"] == "ME062|ME056":
            assert r["statut"] == "a_preciser"
        elif r["mention"] in ("ME060", "ME061"):
            assert r["statut"] == "approximation"
        else:
            assert r["statut"] == "proposee", r
    assert len(status) == out.height  # one row per authorisation × slot, no duplicate


def test_pediatric_specialty_maps_to_the_pediatric_mention_not_the_specialty():
    out = correspondence.correspondance_ssr(_auth([_ssr(1, "920000025", "51", "78")]))
    assert out["mention"].to_list() == ["ME060"]
    remark = out["remarque"][0]
    assert "4" in remark and "6" in remark  # the age-band approximation is said
    assert "appareil locomoteur" in remark and "sans mention pédiatrique propre" in remark


def test_smr_rows_are_not_mapped():
    auth = _auth([_smr(1, "750000011", "ME050"), _ssr(2, "750000011", "50")])
    assert correspondence.correspondance_ssr(auth)["autorisation_id"].to_list() == ["SSR-002"]


def test_user_mapping_csv_with_wildcards_alternatives_and_several_rows():
    text = (
        "activite;modalite;mentions;remarque\n"
        "50;*;ME050;\n"
        "51;;Locomoteur;libellé accepté\n"
        "*;78;ME061;choix régional\n"
        "52;9;ME052|ME050;\n"
        "53;*;ME053;\n"
        "53;*;ME059;deux mentions attendues\n"
    )
    rules = correspondence.read_mapping(text.encode("utf-8"), "table.csv")
    assert rules.height == 6
    out = correspondence.correspondance_ssr(
        _auth(
            [
                _ssr(1, "750000011", "50", None),
                _ssr(2, "750000011", "51", "78"),  # (*, 78) beats (51, *)
                _ssr(3, "750000011", "52", "09"),  # 9 read as 09
                _ssr(4, "750000011", "53"),
                _ssr(5, "750000011", "54"),  # not covered by this table
            ]
        ),
        rules,
    )
    got = {(r["autorisation_id"], r["mention"], r["statut"]) for r in out.iter_rows(named=True)}
    assert got == {
        ("SSR-001", "ME050", "proposee"),
        ("SSR-002", "ME061", "approximation"),
        ("SSR-003", "ME052|ME050", "a_preciser"),
        ("SSR-004", "ME053", "proposee"),
        ("SSR-004", "ME059", "proposee"),
        ("SSR-005", None, "sans_correspondance"),
    }


def test_user_mapping_yaml_and_round_trip_of_the_exported_table():
    yaml_text = (
        "correspondances:\n"
        "  - {activite: 50, modalite: '*', mentions: ME050}\n"
        "  - {activite: '56', modalite: '*', mentions: [ME062, ME056]}\n"
    )
    rules = correspondence.read_mapping(yaml_text.encode(), "table.yaml")
    assert rules["mentions"].to_list() == [["ME050"], ["ME062", "ME056"]]
    assert rules["statut"].to_list() == ["proposee", "a_preciser"]
    # the CSV the page offers for editing reads back as the same rules
    shown = correspondence.mapping_for_display().select(
        "activite", "modalite", "mentions", "statut", "remarque"
    )
    back = correspondence.read_mapping(export.csv_bytes(shown, flavour=export.CSV_DONNEES), "correspondance.csv")
    default = correspondence.default_mapping()
    assert back.select("activite", "modalite", "mentions", "statut").equals(
        default.select("activite", "modalite", "mentions", "statut")
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("t.csv", "activite,mentions\n50,ME050\n", "colonne(s) manquante(s) : modalite"),
        ("t.csv", "activite,modalite,mentions\n60,*,ME050\n", "ligne 2 : activité SSR inconnue"),
        (
            "t.csv",
            "activite,modalite,mentions\n50,*,ME050\n51,*,ME099\n",
            "ligne 3 : mention inconnue « ME099 »",
        ),
        ("t.csv", "activite,modalite,mentions\n50,88,ME050\n", "modalité inconnue « 88 »"),
        (
            "t.csv",
            "activite,modalite,mentions,statut\n50,*,ME050,peut-etre\n",
            "statut inconnu « peut-etre »",
        ),
        ("t.yaml", "activite: 50\n", "une liste de correspondances"),
        ("t.yaml", "- [50\n", "YAML illisible"),
        ("t.csv", "", "fichier vide"),
        ("t.csv", "activite,modalite,mentions\n" + "50,*,ME050\n" * 120_000, "plus de 1 Mo"),
    ],
)
def test_bad_mapping_files_are_refused_in_french(name, content, message):
    with pytest.raises(InputError) as err:
        correspondence.read_mapping(content.encode(), name)
    assert message in str(err.value) and name in str(err.value)
    assert "\n" not in str(err.value)


# -------------------------------------------------------------------------------- gaps


def _with(tables: dict, **frames: list[dict]) -> dict:
    """``tables`` with rows appended (lists of row dicts per table)."""
    out = dict(tables)
    for name, rows in frames.items():
        out[name] = pl.concat([out[name], schema.conform(pl.DataFrame(rows), name)])
    return out


def _rows(gaps: pl.DataFrame) -> set[tuple]:
    return {(r["ecart"], r["finess_eg"], r["mention"]) for r in gaps.iter_rows(named=True)}


def test_the_small_snapshot_has_no_gap_after_the_reform():
    assert transition_gaps(small_snapshot(), AFTER).height == 0


def test_an_old_pediatric_authorisation_still_running_expects_its_own_mention():
    # AUT-004 (SSR 50, modalité 10 pédiatrique) ends on 2023-05-31; the SMR decision gives
    # ME060 and the ROR describes ME060, while modalité 10 maps to ME061.
    gaps = transition_gaps(small_snapshot(), dt.date(2023, 5, 15))
    assert _rows(gaps) == {
        ("ssr_sans_decision_smr", "940000039", "ME061"),
        ("autorisee_non_decrite", "940000039", "ME061"),
    }
    assert set(gaps["correspondance"]) == {"approximation"}
    assert set(gaps["autorisations"]) == {"AUT-004"}
    assert set(gaps["departement"]) == {"94"}
    # the day after its end date, it no longer counts
    assert transition_gaps(small_snapshot(), dt.date(2023, 6, 1)).height == 0


def test_a_decision_without_offer_and_an_offer_without_decision():
    tables = _with(
        small_snapshot(),
        autorisations=[_smr(100, "920000025", "ME053")],
        offres=[{"uo_id": "UO-92-01", "mention": "ME058", "forme": "HC", "lits": 5}],
    )
    gaps = transition_gaps(tables, AFTER)
    assert _rows(gaps) == {
        ("autorisee_non_decrite", "920000025", "ME053"),
        ("decrite_non_autorisee", "920000025", "ME058"),
    }
    row = gaps.filter(pl.col("ecart") == "autorisee_non_decrite").row(0, named=True)
    assert row["autorisations"] == "SMR-100" and "décision SMR" in row["detail"]
    assert row["libelle_ecart"] == "Autorisée mais non décrite dans le ROR"
    assert row["raison_sociale"] == "Clinique de réadaptation des Bords de Seine"
    row = gaps.filter(pl.col("ecart") == "decrite_non_autorisee").row(0, named=True)
    assert row["unites"] == "UO-92-01" and "ROR" in row["action"]


def test_an_ssr_authorisation_waiting_for_its_decision_authorises_its_offer():
    tables = _with(
        small_snapshot(),
        autorisations=[_ssr(1, "920000025", "52")],
        offres=[{"uo_id": "UO-92-01", "mention": "ME052", "forme": "HC", "lits": 8}],
    )
    assert _rows(transition_gaps(tables, AFTER)) == {
        ("ssr_sans_decision_smr", "920000025", "ME052")
    }
    # without the offer, the expected mention is also missing from the ROR
    tables = _with(small_snapshot(), autorisations=[_ssr(1, "920000025", "52")])
    assert _rows(transition_gaps(tables, AFTER)) == {
        ("ssr_sans_decision_smr", "920000025", "ME052"),
        ("autorisee_non_decrite", "920000025", "ME052"),
    }


def test_onco_hematology_is_flagged_not_guessed():
    base = _with(
        small_snapshot(),
        autorisations=[_ssr(1, "750000011", "56")],
        offres=[{"uo_id": "UO-75-01", "mention": "ME056", "forme": "HC", "lits": 6}],
    )
    gaps = transition_gaps(base, AFTER)
    assert _rows(gaps) == {("ssr_sans_decision_smr", "750000011", "ME062|ME056")}
    row = gaps.row(0, named=True)
    assert row["correspondance"] == "a_preciser"
    assert row["libelle_mention"] == "Oncologie ou Oncologie et hématologie"
    # the decision chose oncologie: the ROR's onco-hématologie offer is now unauthorised
    decided = _with(base, autorisations=[_smr(2, "750000011", "ME062")])
    assert _rows(transition_gaps(decided, AFTER)) == {
        ("autorisee_non_decrite", "750000011", "ME062"),
        ("decrite_non_autorisee", "750000011", "ME056"),
    }


def test_had_and_ended_authorisations_are_ignored():
    tables = _with(
        small_snapshot(),
        autorisations=[
            _ssr(1, "750000011", "53", forme="05"),
            _ssr(2, "750000011", "54", fin=dt.date(2020, 12, 31)),
            _smr(3, "750000011", "ME055", forme="05"),
        ],
    )
    assert transition_gaps(tables, AFTER).height == 0


def test_units_still_named_or_typed_ssr():
    tables = small_snapshot()
    tables["unites"] = tables["unites"].with_columns(
        pl.when(pl.col("uo_id") == "UO-75-01")
        .then(pl.lit("SSR polyvalent"))
        .otherwise(pl.col("nom"))
        .alias("nom"),
        pl.when(pl.col("uo_id") == "UO-75-02")
        .then(pl.lit("SSR"))
        .otherwise(pl.col("discipline"))
        .alias("discipline"),
    )
    tables = _with(
        tables,
        unites=[
            {
                "uo_id": "UO-92-09",
                "finess_eg": "920000025",
                "nom": "Soins de suite (annexe)",
                "discipline": "SMR",
            },
            {
                "uo_id": "UO-92-10",
                "finess_eg": "920000025",
                "nom": "Unité SSRI",
                "discipline": "SMR",
            },
        ],
    )
    gaps = transition_gaps(tables, AFTER)
    assert _rows(gaps) == {
        ("unite_libellee_ssr", "750000011", "ME050"),
        # typed SSR only: the discipline migrates automatically (ROR team, not the unit's)
        ("migration_automatique", "750000011", "ME059"),
        ("unite_libellee_ssr", "920000025", None),  # a unit without offer (« SSRI » is no match)
    }
    details = dict(zip(gaps["mention"].fill_null("-"), gaps["detail"], strict=True))
    assert details["ME059"] == "SMR gériatrique (UO-75-02, discipline SSR)"
    assert details["ME050"] == "SSR polyvalent (UO-75-01)"
    assert details["-"] == "Soins de suite (annexe) (UO-92-09)"
    actions = dict(zip(gaps["ecart"], gaps["action"], strict=False))
    assert actions["migration_automatique"].startswith("Aucune action de l'établissement")
    assert "conseillé" in actions["unite_libellee_ssr"]
    assert ROR_TEAM_GAPS == ("migration_automatique",)


def test_an_authorisation_the_user_table_does_not_cover():
    rules = correspondence.read_mapping(b"activite,modalite,mentions\n50,*,ME050\n", "t.csv")
    tables = _with(small_snapshot(), autorisations=[_ssr(1, "750000011", "57")])
    gaps = transition_gaps(tables, AFTER, rules)
    assert _rows(gaps) == {("correspondance_inconnue", "750000011", None)}
    assert gaps["autorisations"][0] == "SSR-001"


def test_filters_of_the_gap_list_and_status_counts():
    tables = _with(
        small_snapshot(),
        autorisations=[_ssr(1, "750000011", "56"), _smr(2, "940000039", "ME053")],
    )
    gaps = transition_gaps(tables, AFTER)
    assert _rows(gaps) == {
        ("ssr_sans_decision_smr", "750000011", "ME062|ME056"),
        ("autorisee_non_decrite", "750000011", "ME062|ME056"),
        ("autorisee_non_decrite", "940000039", "ME053"),
    }
    pick = filter_gaps
    assert _rows(pick(gaps, mentions=["ME056"])) == _rows(gaps.filter(pl.col("mention") != "ME053"))
    assert _rows(pick(gaps, departements=["94"])) == {
        ("autorisee_non_decrite", "940000039", "ME053")
    }
    assert pick(gaps, text="CRÉTEIL")["finess_eg"].to_list() == ["940000039"]
    assert pick(gaps, text="7500000")["finess_eg"].unique().to_list() == ["750000011"]
    assert pick(gaps, ecarts=["ssr_sans_decision_smr"], departements=["94"]).height == 0
    assert pick(gaps, [], [], [], "  ").equals(gaps)
    slots = correspondence.correspondance_ssr(
        _auth([_ssr(1, "1", "56"), _ssr(2, "1", "50", "78"), _ssr(3, "1", "50", forme="05")])
    )
    assert dict(status_counts(slots).iter_rows()) == {
        "proposee": 0,
        "approximation": 1,
        "a_preciser": 1,
        "hors_smr": 1,
        "sans_correspondance": 0,
    }


def test_counts_by_departement_cover_every_departement_and_add_up(demo_store):
    snap = store.read_snapshot(demo_store)
    gaps = transition_gaps(snap.tables, snap.date)
    names = dict(zip(*geography.load_departements("11").select("departement", "nom"), strict=True))
    counts = gap_counts_by_departement(gaps, names)
    assert counts["departement"].to_list() == sorted(names)
    assert counts["total"].sum() == gaps.height
    for ecart in GAP_TYPES:
        assert counts[ecart].sum() == (gaps["ecart"] == ecart).sum()
    totals = gap_totals(gaps)
    assert totals["lignes"].sum() == gaps.height


def _python_gaps(tables: dict, date: dt.date) -> set[tuple]:
    """A second implementation of the five gap types, in plain Python over rows."""
    auths = [
        a
        for a in tables["autorisations"].iter_rows(named=True)
        if a["date_fin"] is None or a["date_fin"] >= date
    ]
    decided = {
        (a["finess_eg"], a["mention"])
        for a in auths
        if a["regime"] == "SMR" and a["mention"] and a["forme"] != "05"
    }
    expected: dict[tuple[str, str], tuple[str, ...]] = {}
    for a in auths:
        if a["regime"] != "SSR":
            continue
        for cands in _expected_slots(a["activite"], a["modalite"], a["forme"] or ""):
            expected[(a["finess_eg"], "|".join(cands))] = cands
    waiting = {k: c for k, c in expected.items() if not any((k[0], m) in decided for m in c)}
    owner = dict(tables["unites"].select("uo_id", "finess_eg").iter_rows())
    described = {(owner[o["uo_id"]], o["mention"]) for o in tables["offres"].iter_rows(named=True)}
    authorised = {(f, m): (m,) for f, m in decided} | waiting
    allowed = {(f, m) for (f, _), c in authorised.items() for m in c}
    out = {("ssr_sans_decision_smr", f, m) for f, m in waiting}
    out |= {
        ("autorisee_non_decrite", f, m)
        for (f, m), c in authorised.items()
        if not any((f, x) in described for x in c)
    }
    out |= {("decrite_non_autorisee", f, m) for f, m in described if (f, m) not in allowed}
    mentions_of: dict[str, set] = {}
    for o in tables["offres"].iter_rows(named=True):
        mentions_of.setdefault(o["uo_id"], set()).add(o["mention"])
    for u in tables["unites"].iter_rows(named=True):
        name = (u["nom"] or "").lower()
        if re.search(r"\bssr\b", name) or "soins de suite" in name:
            for m in mentions_of.get(u["uo_id"], {None}):
                out.add(("unite_libellee_ssr", u["finess_eg"], m))
        if u["discipline"] == "SSR":
            for m in mentions_of.get(u["uo_id"], {None}):
                out.add(("migration_automatique", u["finess_eg"], m))
    return out


@pytest.mark.parametrize("which", [0, 5, -1])
def test_gaps_on_the_demo_match_a_second_implementation(demo_store, which):
    day = store.list_snapshots(demo_store)[which]
    snap = store.read_snapshot(demo_store, day)
    gaps = transition_gaps(snap.tables, snap.date)
    assert _rows(gaps) == _python_gaps(snap.tables, snap.date)
    assert gaps.height == len(_rows(gaps))  # one row per establishment × mention × type
    assert gaps["libelle_ecart"].null_count() == 0 and gaps["action"].null_count() == 0


# --------------------------------------------------------------------------- scenarios


def _scenario(*changes: dict, nom: str = "essai") -> scenarios.Scenario:
    return scenarios.scenario_from_dict({"nom": nom, "changements": list(changes)})


def _frames_equal(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(a[k].equals(b[k]) for k in a)


def test_apply_is_pure_and_does_what_each_action_says():
    tables = small_snapshot()
    before = {k: v.clone() for k, v in tables.items()}
    communes = geography.load_communes("11")
    sc = _scenario(
        {"action": "ajouter_mention", "finess_eg": "940000039", "mention": "ME061", "lits": 9},
        {"action": "retirer_mention", "finess_eg": "750000011", "mention": "ME059"},
        {
            "action": "modifier_capacite",
            "finess_eg": "920000025",
            "mention": "ME051",
            "forme": "HJ",
            "places": 21,
        },
        {
            "action": "nouveau_site",
            "commune_insee": "75112",
            "mention": "ME057",
            "lits": 12,
            "places": 3,
            "nom": "Centre des brûlés",
        },
    )
    out = scenarios.apply_scenario(tables, sc, communes)
    assert _frames_equal(tables, before)
    offres = out["offres"].join(out["unites"].select("uo_id", "finess_eg"), on="uo_id")
    cap = {
        (r["finess_eg"], r["mention"], r["forme"]): (r["lits"], r["places"])
        for r in offres.iter_rows(named=True)
    }
    assert cap[("940000039", "ME061", "HC")] == (9, 0)
    assert not any(k[:2] == ("750000011", "ME059") for k in cap)
    assert cap[("920000025", "ME051", "HJ")][1] == 21
    assert cap[("920000025", "ME051", "HC")] == (25, None)  # the other forme untouched
    assert cap[("SCN000004", "ME057", "HC")] == (12, 3)
    site = out["etablissements"].filter(pl.col("finess_eg") == "SCN000004").row(0, named=True)
    assert site["commune_insee"] == "75056"  # Paris 12e → Paris
    assert site["raison_sociale"] == "Centre des brûlés" and site["latitude"] is None
    smr = out["autorisations"].filter(pl.col("regime") == "SMR")
    pairs = set(smr.select("finess_eg", "mention").iter_rows())
    assert ("940000039", "ME061") in pairs and ("SCN000004", "ME057") in pairs
    assert ("750000011", "ME059") not in pairs
    # the result is a valid snapshot for the rest of the workbench
    for name, frame in out.items():
        assert frame.schema == schema.TABLES[name].polars_schema, name


def test_capacity_is_split_in_proportion_with_largest_remainders():
    assert scenarios._split(60, [30, 10]) == [45, 15]
    assert scenarios._split(7, [1, 1, 1]) == [3, 2, 2]
    assert scenarios._split(5, [0, 0]) == [5, 0]
    tables = _with(
        small_snapshot(),
        unites=[
            {
                "uo_id": "UO-92-02",
                "finess_eg": "920000025",
                "nom": "SMR locomoteur B",
                "discipline": "SMR",
            }
        ],
        offres=[{"uo_id": "UO-92-02", "mention": "ME051", "forme": "HC", "lits": 75}],
    )
    sc = _scenario(
        {"action": "modifier_capacite", "finess_eg": "920000025", "mention": "ME051", "lits": 50}
    )
    out = scenarios.apply_scenario(tables, sc, geography.load_communes("11"))
    lits = dict(
        out["offres"]
        .filter((pl.col("mention") == "ME051") & (pl.col("forme") == "HC"))
        .select("uo_id", "lits")
        .iter_rows()
    )
    assert lits == {"UO-92-01": 13, "UO-92-02": 37}  # 25:75 of 50 = 12.5 / 37.5, tie → first


def _l93(lat: float, lon: float) -> tuple[float, float]:
    x, y = geography.to_l93([lon], [lat])
    return float(x[0]), float(y[0])


def _minutes(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Model time by hand: straight line km × 1.3 detour ÷ 40 km/h × 60."""
    return math.hypot(a[0] - b[0], a[1] - b[1]) / 1000 * 1.3 / 40 * 60


def _weight(t: float) -> float:
    return 1.0 if t <= 10 else 0.68 if t <= 20 else 0.22 if t <= 30 else 0.0


def test_a_new_site_in_an_isolated_commune_changes_exactly_its_catchment(demo_store):
    snap = store.read_snapshot(demo_store)
    communes = geography.load_communes("11")
    points = {r["commune_insee"]: (r["x_l93"], r["y_l93"]) for r in communes.iter_rows(named=True)}
    pop = dict(communes.select("commune_insee", "population").iter_rows())
    owner = dict(snap.tables["unites"].select("uo_id", "finess_eg").iter_rows())
    burns = {owner[u] for u in snap.tables["offres"].filter(pl.col("mention") == "ME057")["uo_id"]}
    etabs = snap.tables["etablissements"].filter(pl.col("finess_eg").is_in(sorted(burns)))
    sites = [_l93(r["latitude"], r["longitude"]) for r in etabs.iter_rows(named=True)]
    old_near = {c: min(_minutes(p, s) for s in sites) for c, p in points.items()}
    # the commune farthest from every burns unit
    isolated = max(points, key=lambda c: (old_near[c], c))
    sc = _scenario(
        {"action": "nouveau_site", "commune_insee": isolated, "mention": "ME057", "lits": 30}
    )
    cmp = comparison.compare_scenario(snap.tables, sc, communes, "ME057")

    times = {c: _minutes(p, points[isolated]) for c, p in points.items()}
    catchment = {c for c, t in times.items() if t <= 30}
    changed = set(cmp.communes.filter(pl.col("delta_acces_e2sfca") != 0)["commune_insee"])
    assert changed == catchment and isolated in catchment
    # a new site adds w(t) × R to each commune of its catchment, R = 30 / Σ w(t) P
    ratio = 30 / sum(_weight(times[c]) * pop[c] for c in catchment)
    delta = dict(cmp.communes.select("commune_insee", "delta_acces_e2sfca").iter_rows())
    for c in catchment:
        assert delta[c] == pytest.approx(_weight(times[c]) * ratio * 1e5, rel=1e-9)
    # nearest times: the new site or the old nearest, whichever is quicker
    near = dict(cmp.communes.select("commune_insee", "temps_plus_proche_scenario").iter_rows())
    for c in points:
        assert near[c] == pytest.approx(min(old_near[c], times[c]), abs=1e-6)
    gained = {c for c in catchment if old_near[c] > 30}
    assert set(cmp.communes.filter(pl.col("evolution") == "gagne")["commune_insee"]) == gained
    assert cmp.region["population_gagnant"] == sum(pop[c] for c in gained)
    assert cmp.region["population_perdant"] == 0
    assert set(cmp.changed_communes()["commune_insee"]) == catchment | {
        c for c in points if times[c] < old_near[c]
    }


def test_removing_the_only_site_loses_its_catchment():
    tables = small_snapshot()
    communes = geography.load_communes("11")
    sc = _scenario({"action": "retirer_mention", "finess_eg": "920000025", "mention": "ME051"})
    cmp = comparison.compare_scenario(tables, sc, communes, "ME051")
    boulogne = _l93(48.8353, 2.2410)
    within = {
        r["commune_insee"]: r["population"]
        for r in communes.iter_rows(named=True)
        if _minutes((r["x_l93"], r["y_l93"]), boulogne) <= 30
    }
    lost = cmp.communes.filter(pl.col("evolution") == "perd")
    assert set(lost["commune_insee"]) == set(within)
    assert cmp.region["population_perdant"] == sum(within.values())
    assert cmp.region["population_gagnant"] == 0
    assert cmp.communes["temps_plus_proche_scenario"].null_count() == communes.height
    assert (cmp.communes["acces_e2sfca_scenario"] == 0).all()
    assert cmp.communes["delta_acces_e2sfca"].to_list() == pytest.approx(
        (-cmp.communes["acces_e2sfca_base"]).to_list()
    )
    # per département, the losses add up to the communes'
    deps = cmp.territoires.filter(pl.col("niveau") == "departement")
    assert deps["population_perdant"].sum() == sum(within.values())


def test_removing_one_site_of_many_matches_a_brute_force_nearest(demo_store):
    snap = store.read_snapshot(demo_store)
    communes = geography.load_communes("11")
    sc = scenarios.read_scenario(EXAMPLES / "locomoteur_sud_seine_et_marne.json")
    cmp = comparison.compare_scenario(snap.tables, sc, communes, "ME051")
    modified = scenarios.apply_scenario(snap.tables, sc, communes)
    owner = dict(modified["unites"].select("uo_id", "finess_eg").iter_rows())
    holders = {owner[u] for u in modified["offres"].filter(pl.col("mention") == "ME051")["uo_id"]}
    assert "770017278" not in holders
    etabs = modified["etablissements"].filter(pl.col("finess_eg").is_in(sorted(holders)))
    sites = [_l93(r["latitude"], r["longitude"]) for r in etabs.iter_rows(named=True)]
    near = dict(cmp.communes.select("commune_insee", "temps_plus_proche_scenario").iter_rows())
    bray = (
        snap.tables["etablissements"].filter(pl.col("finess_eg") == "770017278").row(0, named=True)
    )
    bray_xy = _l93(bray["latitude"], bray["longitude"])
    provins = etabs.filter(pl.col("finess_eg") == "770668781").row(0, named=True)
    provins_xy = _l93(provins["latitude"], provins["longitude"])
    for r in communes.iter_rows(named=True):
        p = (r["x_l93"], r["y_l93"])
        assert near[r["commune_insee"]] == pytest.approx(
            min(_minutes(p, s) for s in sites), abs=1e-6
        )
    # E2SFCA moves only within 30 min of Bray (removed) or of Provins (resized)
    changed = set(cmp.communes.filter(pl.col("delta_acces_e2sfca") != 0)["commune_insee"])
    reach = {
        r["commune_insee"]
        for r in communes.iter_rows(named=True)
        if min(
            _minutes((r["x_l93"], r["y_l93"]), bray_xy),
            _minutes((r["x_l93"], r["y_l93"]), provins_xy),
        )
        <= 30
    }
    assert changed == reach
    # the beds moved: the region's total capacity per inhabitant is unchanged
    assert cmp.region["delta_taux_100k"] == 0
    assert cmp.region["delta_acces_e2sfca"] == 0


def test_doubling_the_only_site_doubles_accessibility():
    tables = small_snapshot()  # locomoteur: 25 beds + 15 places at Boulogne only
    sc = _scenario(
        {
            "action": "modifier_capacite",
            "finess_eg": "920000025",
            "mention": "ME051",
            "lits": 50,
            "places": 30,
        }
    )
    cmp = comparison.compare_scenario(tables, sc, geography.load_communes("11"), "ME051")
    reached = cmp.communes.filter(pl.col("acces_e2sfca_base") > 0)
    assert reached.height > 50
    assert reached["acces_e2sfca_scenario"].to_list() == pytest.approx(
        (2 * reached["acces_e2sfca_base"]).to_list(), rel=1e-12
    )
    assert cmp.region["taux_100k_scenario"] == pytest.approx(80 / 12_174_880 * 1e5)
    assert cmp.region["population_gagnant"] == cmp.region["population_perdant"] == 0
    assert (cmp.communes["delta_temps_plus_proche"] == 0).all()


def test_parameters_reach_the_comparison():
    from analysis.indicators import territories

    tables = small_snapshot()
    sc = _scenario({"action": "retirer_mention", "finess_eg": "920000025", "mention": "ME051"})
    communes = geography.load_communes("11")
    slow = comparison.compare_scenario(
        tables,
        sc,
        communes,
        "ME051",
        params=territories.AccessParams(speed_kmh=20.0, beyond_min=15.0),
    )
    assert slow.threshold_min == 15.0
    boulogne = _l93(48.8353, 2.2410)
    within = {
        r["commune_insee"]
        for r in communes.iter_rows(named=True)
        if _minutes((r["x_l93"], r["y_l93"]), boulogne) * 2 <= 15  # half the speed
    }
    assert set(slow.communes.filter(pl.col("evolution") == "perd")["commune_insee"]) == within


# ------------------------------------------------------------------- scenario files


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("s.yaml", "nom: [x\n", "fichier mal formé (YAML illisible ligne"),
        ("s.json", '{"nom": "x",', "fichier mal formé (JSON illisible ligne 1"),
        ("s.yaml", "", "fichier vide"),
        ("s.yaml", "nom: x\n" + "#" * (1024 * 1024), "fichier trop volumineux"),
        ("s.yaml", "- a\n- b\n", "un objet avec « nom »"),
        ("s.yaml", "description: x\nchangements: []\n", "« nom » manquant"),
        ("s.yaml", "nom: x\nchangements: oui\n", "« changements » doit être une liste"),
        ("s.yaml", "nom: x\nauteur: moi\n", "clé(s) inattendue(s) auteur"),
        ("s.yaml", "nom: x\nchangements:\n  - action: fermer\n", "action inconnue « fermer »"),
        (
            "s.yaml",
            "nom: x\nchangements:\n  - {action: retirer_mention, mention: ME051}\n",
            "changement 1 (retirer_mention) : champ « finess_eg » manquant",
        ),
        (
            "s.yaml",
            "nom: x\nchangements:\n  - {action: retirer_mention, finess_eg: '1', mention: ME099}\n",
            "mention inconnue « ME099 »",
        ),
        (
            "s.yaml",
            "nom: x\nchangements:\n  - {action: ajouter_mention, finess_eg: '1', "
            "mention: ME050, lits: -5}\n",
            "capacité négative (lits = -5)",
        ),
        (
            "s.yaml",
            "nom: x\nchangements:\n  - {action: ajouter_mention, finess_eg: '1', "
            "mention: ME050, places: 2.5}\n",
            "places invalide « 2.5 »",
        ),
        (
            "s.yaml",
            "nom: x\nchangements:\n  - {action: ajouter_mention, finess_eg: '1', "
            "mention: ME050, forme: XX}\n",
            "forme inconnue « XX »",
        ),
        (
            "s.yaml",
            "nom: x\nchangements:\n  - {action: modifier_capacite, finess_eg: '1', "
            "mention: ME050}\n",
            "« lits » ou « places » attendu",
        ),
        (
            "s.yaml",
            "nom: x\nchangements:\n  - {action: retirer_mention, finess_eg: '1', "
            "mention: ME050, lits: 3}\n",
            "champ(s) inattendu(s) lits",
        ),
        (
            "s.yaml",
            "nom: x\nchangements:\n  - {action: nouveau_site, commune_insee: '77001', "
            "mention: ME050, latitude: 48.5}\n",
            "latitude et longitude vont ensemble",
        ),
    ],
)
def test_malformed_scenario_files_give_one_french_line(name, text, message):
    with pytest.raises(InputError) as err:
        scenarios.parse_scenario(text.encode(), name)
    assert message in str(err.value), str(err.value)
    assert str(err.value).startswith(name) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"action": "retirer_mention", "finess_eg": "123456789", "mention": "ME050"},
            "FINESS inconnu « 123456789 »",
        ),
        (
            {"action": "nouveau_site", "commune_insee": "13055", "mention": "ME050"},
            "commune inconnue « 13055 »",
        ),
        (
            {"action": "retirer_mention", "finess_eg": "750000011", "mention": "ME051"},
            "750000011 n'offre pas la mention Locomoteur",
        ),
        (
            {
                "action": "modifier_capacite",
                "finess_eg": "750000011",
                "mention": "ME051",
                "lits": 3,
            },
            "n'offre pas la mention",
        ),
        (
            {"action": "ajouter_mention", "finess_eg": "750000011", "mention": "ME050"},
            "offre déjà la mention Polyvalent",
        ),
        (
            {
                "action": "nouveau_site",
                "commune_insee": "77001",
                "mention": "ME050",
                "finess_eg": "750000011",
            },
            "l'identifiant « 750000011 » existe déjà",
        ),
    ],
)
def test_scenarios_that_do_not_fit_the_snapshot_are_refused(change, message):
    sc = _scenario(change)
    with pytest.raises(InputError) as err:
        scenarios.apply_scenario(small_snapshot(), sc, geography.load_communes("11"), "s.yaml")
    assert message in str(err.value) and str(err.value).startswith("s.yaml")


def test_changes_apply_in_order():
    # a site created by the scenario then resized; a removed mention added back
    sc = _scenario(
        {
            "action": "nouveau_site",
            "commune_insee": "77001",
            "mention": "ME050",
            "finess_eg": "NOUVEAU01",
            "lits": 10,
        },
        {"action": "modifier_capacite", "finess_eg": "NOUVEAU01", "mention": "ME050", "lits": 4},
        {"action": "retirer_mention", "finess_eg": "920000025", "mention": "ME051"},
        {"action": "ajouter_mention", "finess_eg": "920000025", "mention": "ME051", "lits": 1},
    )
    out = scenarios.apply_scenario(small_snapshot(), sc, geography.load_communes("11"))
    offres = out["offres"].join(out["unites"].select("uo_id", "finess_eg"), on="uo_id")
    got = (
        offres.filter(pl.col("finess_eg").is_in(["NOUVEAU01", "920000025"]))
        .select("finess_eg", "mention", "lits")
        .sort("finess_eg")
        .rows()
    )
    assert got == [("920000025", "ME051", 1), ("NOUVEAU01", "ME050", 4)]


def test_scenario_round_trips_through_yaml_and_json():
    sc = _scenario(
        {
            "action": "nouveau_site",
            "commune_insee": "77001",
            "mention": "pédiatrie (≥ 4 ans)",
            "lits": "12",
            "latitude": 48.4,
            "longitude": 2.5,
        },
        {"action": "modifier_capacite", "finess_eg": "920000025", "mention": "102", "places": 0},
        nom="Aller-retour",
    )
    assert sc.changements[0].mention == "ME060" and sc.changements[1].mention == "ME051"
    assert sc.changements[0].lits == 12 and sc.changements[0].forme == "HC"
    assert scenarios.parse_scenario(sc.to_yaml(), "a.yaml") == sc
    assert scenarios.parse_scenario(sc.to_json(), "a.json") == sc
    assert sc.slug == "aller_retour" and sc.mentions == ["ME060", "ME051"]


def test_scenarios_saved_in_the_store_stay_inside_it(tmp_path):
    st = tmp_path / "store"
    st.mkdir()
    sc = _scenario(
        {"action": "retirer_mention", "finess_eg": "920000025", "mention": "ME051"},
        nom="Retrait du locomoteur à Boulogne",
    )
    path = scenarios.save_scenario(st, sc)
    assert path == st / "scenarios" / "retrait_du_locomoteur_a_boulogne.yaml"
    assert scenarios.saved_scenarios(st) == [path.name]
    assert scenarios.load_saved_scenario(st, path.name) == sc
    assert store.list_snapshots(st) == []  # the folder is not a snapshot
    with pytest.raises(StoreError, match="existe déjà"):
        scenarios.save_scenario(st, sc)
    scenarios.save_scenario(st, sc, replace=True)
    for bad in ("../evil.yaml", "sous/dossier.yaml", ".cache.yaml", "notes.txt", "", "/tmp/x.yaml"):
        with pytest.raises(InputError, match="nom de fichier de scénario refusé"):
            scenarios.scenario_path(st, bad)
    # a scenarios folder that is a link leading out of the store
    other = tmp_path / "store2"
    other.mkdir()
    outside = tmp_path / "dehors"
    outside.mkdir()
    (other / "scenarios").symlink_to(outside)
    with pytest.raises(StoreError, match="sortirait du magasin"):
        scenarios.save_scenario(other, sc)
    assert not list(outside.iterdir())
    # a file inside that links outside
    (outside / "x.yaml").write_text(sc.to_yaml(), encoding="utf-8")
    (st / "scenarios" / "lien.yaml").symlink_to(outside / "x.yaml")
    with pytest.raises(StoreError):
        scenarios.load_saved_scenario(st, "lien.yaml")


@pytest.mark.parametrize(
    "path",
    sorted(p for p in EXAMPLES.iterdir() if p.suffix in scenarios.SCENARIO_SUFFIXES),
    ids=lambda p: p.name,
)
def test_example_scenarios_apply_to_every_demo_snapshot(demo_store, path):
    sc = scenarios.read_scenario(path)
    assert sc.nom and sc.description and sc.changements
    communes = geography.load_communes("11")
    for day in store.list_snapshots(demo_store):
        tables = store.read_snapshot(demo_store, day).tables
        scenarios.apply_scenario(tables, sc, communes, path)
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert path.name in readme


def test_the_format_documentation_names_every_action_and_status():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for action in scenarios.ACTIONS:
        assert f"`{action}`" in readme
    for status in correspondence.IN_SCOPE:
        assert f"`{status}`" in readme
