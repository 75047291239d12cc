"""ROR quality requirements, population follow-up and the ViaTrajectoire report, on hand-made
cases whose expected statuses are worked out from ROR_QUALITY.md (one conforming and one in
écart per rule, plus not-applicable ones), the RE1.2 and SMR-perimeter edges, and the demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analysis.checks.quality import requirements, vt_report
from analysis.checks.quality.population import (
    establishment_population,
    history,
    population_counts,
    population_history,
    quarter_end,
    quarter_label,
    quarter_snapshots,
)
from analysis.demo import regional as demo
from analysis.indicators import sync
from analysis.io import store, vt_report_file
from analysis.model import nomenclature, schema
from analysis.model.errors import InputError
from tests.helpers import frame as table

AS_OF = dt.date(2024, 6, 30)
OLD = dt.datetime(2020, 1, 6, 10, 0)  # long before the RE1.2 limit
FRESH = dt.datetime(2024, 5, 2, 10, 0)


def eg(finess: str, **values: Any) -> dict[str, Any]:
    """A ROR establishment (open, category 109, its own EJ and identifier, in Paris)."""
    return {
        "finess_eg": finess,
        "finess_ej": "750000003",
        "raison_sociale": f"EG {finess}",
        "adresse": "1 rue de Paris",
        "code_postal": "75016",
        "commune_insee": "75056",
        "categorie": "109",
        "id_nat_struct": "1" + finess,
        **values,
    }


def fin(finess: str, **values: Any) -> dict[str, Any]:
    """A FINESS reference row (open since 2000, category 109, same EJ, one SMR authorisation)."""
    return {
        "finess_eg": finess,
        "finess_ej": "750000003",
        "raison_sociale": f"FINESS {finess}",
        "commune_insee": "75056",
        "categorie": "109",
        "date_ouverture": dt.date(2000, 1, 3),
        "caduc": False,
        "nb_autorisations_smr": 1,
        **values,
    }


def unit(uo: str, finess: str, **values: Any) -> dict[str, Any]:
    """A unit meeting every population flag, updated recently."""
    return {
        "uo_id": uo,
        "finess_eg": finess,
        "nom": f"SMR {uo}",
        "age_min": 18,
        "age_max": 120,
        "telephone": "01 44 96 31 40",
        "champ_activite": "02",
        "activite_operationnelle": "172",
        "date_maj": FRESH,
        **values,
    }


def offer(uo: str, mention: str = "ME050", forme: str = "HC", **values: Any) -> dict[str, Any]:
    capacity = (
        {"lits": 20} if nomenclature.FORME_BY_CODE[forme].capacite == "lits" else {"places": 8}
    )
    return {"uo_id": uo, "mention": mention, "forme": forme, **capacity, **values}


def tables(
    etabs: list[dict],
    finess: list[dict] | None = None,
    units: list[dict] | None = None,
    offres: list[dict] | None = None,
    auths: list[dict] | None = None,
) -> dict[str, pl.DataFrame]:
    return {
        "etablissements": table("etablissements", etabs),
        "finess_etablissements": table("finess_etablissements", finess or []),
        "unites": table("unites", units or []),
        "offres": table("offres", offres or []),
        "autorisations": table("autorisations", auths or []),
    }


def statuses(results: pl.DataFrame, code: str) -> dict[str, str]:
    rows = results.filter(pl.col("exigence") == code)
    return dict(zip(rows["entite"], rows["statut"], strict=True))


def reasons(results: pl.DataFrame, code: str) -> dict[str, str | None]:
    rows = results.filter(pl.col("exigence") == code)
    return dict(zip(rows["entite"], rows["motif"], strict=True))


C, E, NA = requirements.CONFORME, requirements.ECART, requirements.NON_APPLICABLE
#: The workbench's former readings (every switch of ``requirements.READINGS`` on).
FORMER = requirements.QualityParams().with_former_readings()


# --------------------------------------------------------------------- EX2, ST2, CO4, ST3


def ror_world() -> dict[str, pl.DataFrame]:
    """Fifteen ROR EGs, each built for one case of EX2 / ST2 / CO4 / ST3."""
    closed = {"date_fermeture": dt.date(2024, 2, 1)}
    etabs = [
        eg("750000011"),  # A: everything agrees
        eg("750000029"),  # B: open in the ROR, closed in FINESS
        eg("750000037", **closed, type_fermeture="DEF"),  # C: closed in the ROR only
        eg("750000045", **closed, type_fermeture="PRO", finess_ej="750000300"),  # D
        eg("750000052"),  # E: number unknown to FINESS, open
        eg("750000060", **closed, type_fermeture="DEF"),  # F: unknown to FINESS, closed
        eg("750000078", **closed),  # G: closed without type (definitive) vs FINESS PRO
        eg("750000086", **closed, type_fermeture="PRO"),  # H: PRO vs FINESS DEF
        eg("750000094"),  # I: FINESS caduc, ROR open
        eg("750000102", categorie="365"),  # J: category differs
        eg("750000110", categorie="SA05"),  # K: SA category (CO4 not applicable)
        eg("750000128", id_nat_struct="1750000128"),  # L: identifier shared with M
        eg("750000136", id_nat_struct="1750000128"),  # M
        eg("750000144", id_nat_struct=None),  # N: no identifier
        eg("750000151", date_fermeture=dt.date(2024, 12, 31), type_fermeture="DEF"),  # O
    ]
    finess = [
        fin("750000011"),
        fin("750000029", date_fermeture=dt.date(2024, 1, 15), type_fermeture="DEF"),
        fin("750000037"),
        fin("750000045", date_fermeture=dt.date(2024, 3, 1), type_fermeture="PRO"),
        fin("750000078", date_fermeture=dt.date(2024, 1, 1), type_fermeture="PRO"),
        fin("750000086", date_fermeture=dt.date(2024, 1, 1), type_fermeture="DEF"),
        fin("750000094", caduc=True),
        fin("750000102"),
        fin("750000110", categorie="603"),
        fin("750000128"),
        fin("750000136"),
        fin("750000144"),
        fin("750000151"),
    ]
    return tables(etabs, finess)


def test_ex2_states_compared_with_finess():
    """The workbench's former readings (test_ex2_national_parity has the national ones)."""
    results = requirements.evaluate(ror_world(), AS_OF, FORMER)
    got = statuses(results, "EX2")
    assert got == {
        "750000011": C,
        "750000029": E,  # FINESS closed, ROR open
        "750000037": E,  # FINESS open, ROR closed
        "750000045": C,  # both closed provisionally
        "750000052": E,  # unknown to FINESS while open
        "750000060": C,  # closed in the ROR and not in the (open-only) FINESS extraction
        "750000078": E,  # FINESS provisional, ROR definitive (no type = definitive)
        "750000086": E,  # FINESS definitive, ROR provisional
        "750000094": E,  # FINESS caduc, ROR open
        "750000102": C,
        "750000110": C,
        "750000128": C,
        "750000136": C,
        "750000144": C,
        "750000151": C,  # a closure planned for later: still open on both sides
    }
    why = reasons(results, "EX2")
    assert why["750000029"] == "Fermé définitivement dans FINESS mais ouvert dans le ROR"
    assert why["750000037"] == (
        "ouvert dans FINESS mais fermé définitivement dans le ROR (depuis le 01/02/2024)"
    )
    assert "inconnu du référentiel FINESS" in why["750000052"]
    assert why["750000078"] == "fermeture provisoire dans FINESS, définitive dans le ROR"
    assert why["750000086"] == "fermeture définitive dans FINESS, provisoire dans le ROR"
    assert why["750000094"] == "Caduc dans FINESS mais ouvert dans le ROR"
    assert (
        results.filter((pl.col("exigence") == "EX2") & (pl.col("entite") == "750000029"))[
            "valeur"
        ].item()
        == "ROR : Ouvert ; FINESS : Fermé définitivement"
    )


def test_st2_and_co4_scope_and_checks():
    results = requirements.evaluate(ror_world(), AS_OF)
    st2, co4 = statuses(results, "ST2"), statuses(results, "CO4")
    # Definitively closed in the ROR: out of scope (C, F, G); provisionally closed: in (D, H).
    for closed in ("750000037", "750000060", "750000078"):
        assert st2[closed] == NA and co4[closed] == NA
    assert st2["750000011"] == C and co4["750000011"] == C
    assert st2["750000045"] == E  # EJ 750000300 in the ROR, 750000003 in FINESS
    assert reasons(results, "ST2")["750000045"] == (
        "EJ du ROR 750000300 différente de l'EJ FINESS 750000003"
    )
    assert co4["750000045"] == C
    assert st2["750000052"] == E and co4["750000052"] == E  # unknown to FINESS: both
    assert reasons(results, "CO4")["750000052"] == "numéro FINESS absent du référentiel FINESS"
    assert co4["750000102"] == E and st2["750000102"] == C
    assert reasons(results, "CO4")["750000102"] == (
        "catégorie du ROR 365 différente de la catégorie FINESS 109"
    )
    assert co4["750000110"] == NA  # SA05
    assert st2["750000110"] == C


def test_st3_duplicates_in_open_egs():
    results = requirements.evaluate(ror_world(), AS_OF, FORMER)
    st3 = statuses(results, "ST3")
    assert st3["750000128"] == E and st3["750000136"] == E
    assert reasons(results, "ST3")["750000128"] == (
        "identifiant 1750000128 porté par 2 établissements ouverts (aussi : 750000136)"
    )
    assert st3["750000011"] == C
    assert st3["750000144"] == NA  # no identifier: not checkable
    assert st3["750000110"] == NA  # SA05
    assert st3["750000037"] == NA and st3["750000045"] == NA  # closed (DEF, and PRO)
    # A closed EG does not make an open one a duplicate.
    world = ror_world()
    world["etablissements"] = world["etablissements"].with_columns(
        pl.when(pl.col("finess_eg") == "750000037")
        .then(pl.lit("1750000011"))
        .otherwise(pl.col("id_nat_struct"))
        .alias("id_nat_struct")
    )
    assert statuses(requirements.evaluate(world, AS_OF, FORMER), "ST3")["750000011"] == C
    assert statuses(requirements.evaluate(world, AS_OF), "ST3")["750000011"] == C


def test_finess_requirements_are_skipped_without_reference():
    world = ror_world()
    world["finess_etablissements"] = schema.empty("finess_etablissements")
    results = requirements.evaluate(world, AS_OF)
    assert set(results["exigence"]) == {"ST3", "RE1.2", "CP4"}  # no unit, no authorisation
    assert set(requirements.skipped(world)) == {"EX1.2", "EX2", "ST2", "CO4"}
    assert requirements.evaluated(world) == ["ST3", "RE1.2", "CP4", "LOC-CAPACITE", "LOC-AUTORISATION"]
    table_ = requirements.summary(results, codes=requirements.evaluated(world))
    empty = table_.filter(pl.col("exigence").str.starts_with("LOC-"))
    assert empty.select("exigence", "departement", "perimetre", "ecarts", "taux").rows() == [
        ("LOC-CAPACITE", "ensemble", 0, 0, None),
        ("LOC-AUTORISATION", "ensemble", 0, 0, None),
    ]


# ------------------------------------------------------------------------------ RE1.2


def re12_world(n_offers: int, n_fresh: int) -> dict[str, pl.DataFrame]:
    units = [
        unit(f"U{i:03d}", "750000011", date_maj=FRESH if i < n_fresh else OLD)
        for i in range(n_offers)
    ]
    return tables([eg("750000011")], [fin("750000011")], units)


@pytest.mark.parametrize(
    ("n_offers", "n_fresh", "expected"),
    [
        (0, 0, C),  # no offer: conforme
        (1, 0, E),
        (1, 1, C),
        (7, 0, E),  # fewer than 8: one fresh offer is enough
        (7, 1, C),
        (8, 1, E),  # from 8 on: 1/8 = 12.5 % < 25 %
        (8, 2, C),  # 2/8 = 25 % exactly
        (9, 2, E),  # 22 %
        (9, 3, C),  # 33 %, just above
        (49, 12, E),  # 0.2449 rounds to 0.24
        (200, 49, C),  # 0.245 rounds half up to 0.25 (0.24499… in binary floating point)
        (200, 48, E),  # 0.24
    ],
)
def test_re12_eight_offers_and_twenty_five_percent(n_offers, n_fresh, expected):
    results = requirements.evaluate(re12_world(n_offers, n_fresh), AS_OF)
    assert statuses(results, "RE1.2") == {"750000011": expected}


def test_re12_freshness_edges_and_contacts():
    limit = requirements.re12_threshold(AS_OF)
    assert limit == dt.datetime(2023, 6, 30, 0, 0)
    assert requirements.re12_threshold(dt.date(2024, 2, 29)) == dt.datetime(2023, 2, 28)

    def status(date_maj: dt.datetime, contacts: dt.datetime | None = None) -> str:
        world = tables(
            [eg("750000011")],
            [fin("750000011")],
            [unit("U1", "750000011", date_maj=date_maj, date_maj_contacts=contacts)],
        )
        return statuses(requirements.evaluate(world, AS_OF), "RE1.2")["750000011"]

    assert status(limit) == E  # on the limit: not strictly after
    assert status(limit + dt.timedelta(seconds=1)) == C
    assert status(OLD, contacts=limit + dt.timedelta(hours=9)) == C  # contacts updated
    assert status(OLD, contacts=OLD) == E
    results = requirements.evaluate(re12_world(8, 1), AS_OF)
    assert reasons(results, "RE1.2")["750000011"] == (
        "1 offre(s) sur 8 mises à jour depuis le 30/06/2023 (13 %, au moins 25 % attendus)"
    )
    one = requirements.evaluate(re12_world(3, 0), AS_OF)
    assert reasons(one, "RE1.2")["750000011"] == (
        "aucune des 3 offre(s) mise à jour depuis plus d'un an (limite 30/06/2023) ; dernière "
        "mise à jour le 06/01/2020"
    )


def test_re12_closed_units_and_egs():
    units = [
        unit("U1", "750000011", date_maj=OLD),
        unit("U2", "750000011", date_fermeture=dt.date(2024, 1, 1), type_fermeture="DEF"),
    ]
    world = tables(
        [eg("750000011"), eg("750000029", date_fermeture=dt.date(2024, 1, 2))],
        [fin("750000011"), fin("750000029")],
        units,
    )
    got = statuses(requirements.evaluate(world, AS_OF), "RE1.2")
    # the fresh offer is closed and does not count; a closed EG is out of scope
    assert got == {"750000011": E, "750000029": NA}


def test_rounded_percent_is_exact_half_up():
    frame = pl.DataFrame({"a": [49, 12, 1, 2, 0, 7], "n": [200, 49, 8, 8, 5, 7]})
    got = frame.select(requirements.rounded_percent(pl.col("a"), pl.col("n"))).to_series().to_list()
    assert got == [25, 24, 13, 25, 0, 100]


# --------------------------------------------------------------- SMR perimeter, EX1.2


@pytest.mark.parametrize(
    ("auth", "counts"),
    [
        ({"regime": "SSR", "activite": "50", "forme": "01"}, True),
        ({"regime": "SSR", "activite": "59", "forme": "02"}, True),
        ({"regime": "SSR", "activite": "50", "forme": "05"}, False),  # HAD: MCO for the ANS
        ({"regime": "SMR", "mention": "ME051", "forme": "05"}, False),
        ({"regime": "SMR", "mention": "ME051", "forme": "01"}, True),
        ({"regime": "SMR", "mention": "ME051"}, True),  # no form given
        (
            {"regime": "SSR", "activite": "50", "forme": "01", "date_fin": dt.date(2021, 4, 30)},
            False,
        ),
        ({"regime": "SSR", "activite": "50", "forme": "01", "date_fin": dt.date(2021, 5, 1)}, True),
        ({"regime": "SSR", "activite": "50", "forme": "00"}, True),
    ],
)
def test_smr_authorisation_rule_two_implementations(auth, counts):
    """The former reading (no end date or no forme counts) is the loaders' rule."""
    row = {"autorisation_id": "A1", "finess_eg": "750000011", **auth}
    frame = table("autorisations", [row])
    assert frame.select(requirements.smr_authorisation_expr(FORMER)).item() is counts
    assert (
        nomenclature.is_smr_authorisation(
            auth["regime"],
            auth.get("activite"),
            auth.get("mention"),
            auth.get("forme"),
            auth.get("date_fin"),
        )
        is counts
    )


def perimeter_world() -> dict[str, pl.DataFrame]:
    etabs = [eg("750000011"), eg("750000029"), eg("750000037")]
    finess = [
        fin("750000011", nb_autorisations_smr=None),  # P1: in the ROR, auth from the table
        fin("750000029", nb_autorisations_smr=None),  # P2: HAD authorisation only
        fin("750000037", nb_autorisations_smr=None),  # P3: HAD + full hospitalisation
        fin("750000045"),  # P4: absent from the ROR, one SMR authorisation in FINESS
        fin("750000052", nb_autorisations_smr=0),  # P5: absent, no authorisation
        fin("750000060", categorie="500"),  # P6: medico-social category
        fin("750000078", date_fermeture=dt.date(2023, 1, 2), type_fermeture="DEF"),  # P7
        fin("750000086", caduc=True),  # P8
        fin("750000094", date_ouverture=None),  # P9: authorised, never opened
        fin("750000102", date_ouverture=dt.date(2024, 9, 1)),  # P10: opens later
        fin("9E0000015", commune_insee="97502"),  # P11: Saint-Pierre-et-Miquelon
        fin("750000110", date_fermeture=dt.date(2024, 9, 1), type_fermeture="DEF"),  # P12
    ]
    auths = [
        {"autorisation_id": "A1", "finess_eg": "750000011", "regime": "SSR",
         "activite": "50", "forme": "01"},
        {"autorisation_id": "A2", "finess_eg": "750000029", "regime": "SSR",
         "activite": "50", "forme": "05"},
        {"autorisation_id": "A3", "finess_eg": "750000037", "regime": "SSR",
         "activite": "50", "forme": "05"},
        {"autorisation_id": "A4", "finess_eg": "750000037", "regime": "SSR",
         "activite": "51", "forme": "01"},
    ]  # fmt: skip
    return tables(etabs, finess, auths=auths)


def test_ex12_perimeter_and_had_exclusion():
    """Former readings: authorisations without end date count, a future closure is planned."""
    results = requirements.evaluate(perimeter_world(), AS_OF, FORMER)
    got = statuses(results, "EX1.2")
    assert got == {
        "750000011": C,
        "750000029": NA,  # HAD only
        "750000037": C,  # HAD does not hide the full-hospitalisation authorisation
        "750000045": E,  # in FINESS with an SMR authorisation, absent from the ROR
        "750000052": NA,
        "750000060": NA,
        "750000078": NA,
        "750000086": NA,
        "750000094": NA,
        "750000102": NA,
        "9E0000015": NA,
        "750000110": E,  # closing only in September: still in scope, and absent from the ROR
    }
    why = reasons(results, "EX1.2")
    assert why["750000029"] == (
        "hors périmètre : autorisation SMR en hospitalisation à domicile seulement (forme 05, "
        "comptée en MCO)"
    )
    assert why["750000045"] == "établissement FINESS titulaire d'une autorisation SMR absent du ROR"
    assert why["750000052"] == "hors périmètre : aucune autorisation SMR en vigueur"
    assert why["750000060"] == "hors périmètre : catégorie 500 hors du domaine sanitaire"
    assert why["750000078"] == "hors périmètre : fermé dans FINESS depuis le 02/01/2023"
    assert why["750000086"] == "hors périmètre : caduc dans FINESS"
    assert why["750000094"] == "hors périmètre : pas de date d'ouverture dans FINESS"
    assert why["750000102"] == "hors périmètre : ouverture prévue le 01/09/2024"
    assert why["9E0000015"] == "hors périmètre : département 975 exclu"
    # The same perimeter feeds CP4.
    cp4 = statuses(results, "CP4")
    assert {k for k, v in cp4.items() if v != NA} == {
        "750000011",
        "750000037",
        "750000045",
        "750000110",
    }


def test_region_restriction_of_the_finess_reference():
    world = perimeter_world()
    world["finess_etablissements"] = pl.concat(
        [
            world["finess_etablissements"],
            table("finess_etablissements", [fin("690000010", commune_insee="69123")]),
        ]
    )
    everywhere = statuses(requirements.evaluate(world, AS_OF), "EX1.2")
    assert everywhere["690000010"] == E  # a national file: another région's EG
    params = requirements.QualityParams(departements=("75", "77", "78", "91", "92", "93", "94", "95"))
    regional = statuses(requirements.evaluate(world, AS_OF, params), "EX1.2")
    assert "690000010" not in regional and regional["750000045"] == E


# ------------------------------------------------------------------- population, CP4


def test_unit_flags_one_by_one():
    units = [
        unit("OK", "750000011"),
        unit("CHAMP", "750000011", champ_activite=None),
        unit("MODE", "750000011"),  # no offer row: no mode de prise en charge
        unit("AGES", "750000011", age_max=None),
        unit("AO", "750000011", activite_operationnelle="456"),  # closed code
        unit("AO2", "750000011", activite_operationnelle="157, 233"),  # one valid SMR code
        unit("CONTACT", "750000011", telephone=" "),
        unit(
            "RESP",
            "750000011",
            telephone=None,
            responsable_nom="Dr Anne Leroy",
            responsable_email="a.leroy@example.fr",
        ),  # a named responsable with an e-mail
        unit("NOM", "750000011", telephone=None, responsable_email="x@example.fr"),
        unit(
            "RIEN",
            "750000011",
            champ_activite=None,
            age_min=None,
            age_max=None,
            activite_operationnelle=None,
            telephone=None,
        ),
    ]
    offres = [offer(u["uo_id"]) for u in units if u["uo_id"] not in ("MODE", "RIEN")]
    world = tables([eg("750000011")], [fin("750000011")], units, offres)
    flags = requirements.unit_flags(world, AS_OF)
    got = {r["uo_id"]: r for r in flags.iter_rows(named=True)}
    expected_missing = {
        "OK": set(), "CHAMP": {"flag_champ"}, "MODE": {"flag_mode"},
        "AGES": {"flag_patientele"}, "AO": {"flag_ao"}, "AO2": set(),
        "CONTACT": {"flag_contact"}, "RESP": set(), "NOM": {"flag_contact"},
    }  # fmt: skip
    for uo, missing in expected_missing.items():
        assert {f for f in requirements.FLAGS if got[uo][f] == 0} == missing, uo
        assert got[uo]["statut_peuplement"] == (
            requirements.FINALISE if not missing else requirements.EN_COURS
        ), uo
    # an address on the establishment only: every unit has it here
    assert got["RIEN"]["flag_adresse"] == 1
    assert got["RIEN"]["statut_peuplement"] == requirements.EN_COURS
    assert got["AO"]["manques"] == (
        "manque : activité opérationnelle (code d'activité opérationnelle fermé)"
    )
    no_address = tables(
        [eg("750000011", adresse=None)],
        [fin("750000011")],
        [
            unit(
                "X",
                "750000011",
                champ_activite=None,
                age_min=None,
                activite_operationnelle=None,
                telephone=None,
            )
        ],
    )
    (row,) = requirements.unit_flags(no_address, AS_OF).iter_rows(named=True)
    assert row["nb_flags"] == 0 and row["statut_peuplement"] == requirements.A_FAIRE


def population_world() -> dict[str, pl.DataFrame]:
    etabs = [
        eg(f)
        for f in ("750000011", "750000029", "750000037", "750000045", "750000052", "750000060")
    ]
    bare = {
        "champ_activite": None,
        "age_min": None,
        "age_max": None,
        "activite_operationnelle": None,
        "telephone": None,
    }
    units = [
        unit("A1", "750000011"),
        unit("A2", "750000011"),  # all finalised
        unit("B1", "750000029"),
        unit("B2", "750000029", age_min=None),  # one in progress
        unit("C1", "750000037"),
        unit("C2", "750000037", **bare),  # offer + address only
        unit("E1", "750000052"),
        unit("E2", "750000052", champ_activite="01", age_min=None),  # MCO: not counted
        unit("F1", "750000060"),
        unit("F2", "750000060", date_fermeture=dt.date(2024, 1, 2), age_min=None),  # closed
    ]
    offres = [offer(u["uo_id"]) for u in units]
    return tables(etabs, [fin(e["finess_eg"]) for e in etabs] + [fin("750000078")], units, offres)


def test_establishment_population_status():
    population = establishment_population(population_world(), AS_OF)
    got = {
        r["finess_eg"]: (
            r["nb_unites"],
            r["nb_finalisees"],
            r["nb_en_cours"],
            r["statut_peuplement"],
        )
        for r in population.iter_rows(named=True)
    }
    assert got == {
        "750000011": (2, 2, 0, requirements.FINALISE),
        "750000029": (2, 1, 1, requirements.EN_COURS),
        "750000037": (2, 1, 1, requirements.EN_COURS),  # C2: 2 flags of 6
        "750000045": (0, 0, 0, requirements.A_FAIRE),  # no offer
        "750000052": (1, 1, 0, requirements.FINALISE),  # the MCO offer is not counted
        "750000060": (1, 1, 0, requirements.FINALISE),  # the closed offer is not counted
        "750000078": (0, 0, 0, requirements.A_FAIRE),  # absent from the ROR
    }
    assert set(population["perimetre_source"]) == {"FINESS"}


def test_finalised_and_to_do_without_in_progress_is_to_do():
    """ROR_QUALITY.md §3: « En cours: at least one offer is En cours. A faire: anything
    else » — finalised offers beside an offer « à faire » and none « en cours »: À faire."""
    F, EC, AF = requirements.FINALISE, requirements.EN_COURS, requirements.A_FAIRE
    flags = pl.DataFrame(
        {
            "finess_eg": ["A", "A", "B", "B", "C", "C", "D", "E", "E", "G"],
            "statut_peuplement": [F, AF, F, EC, F, F, AF, EC, AF, F],
            "compte_smr": [True] * 9 + [False],
        }
    )
    got = dict(requirements.eg_population_status(flags).select("finess_eg", "statut_peuplement").rows())
    assert got == {"A": AF, "B": EC, "C": F, "D": AF, "E": EC}  # G: not an SMR offer


def test_cp4_and_population_counts():
    world = population_world()
    results = requirements.evaluate(world, AS_OF)
    cp4 = statuses(results, "CP4")
    assert cp4 == {
        "750000011": C, "750000029": E, "750000037": E, "750000045": E, "750000052": C,
        "750000060": C, "750000078": E,
    }  # fmt: skip
    why = reasons(results, "CP4")
    assert why["750000029"] == (
        "peuplement « En cours » : 1 offre(s) SMR finalisée(s) sur 2 (1 en cours)"
    )
    assert why["750000045"] == "aucune offre SMR décrite dans le ROR"
    assert why["750000078"] == "établissement absent du ROR : aucune offre SMR décrite"
    counts = population_counts(establishment_population(world, AS_OF))
    assert counts.rows() == [
        ("75", 7, 3, 2, 2, 3 / 7),
        ("ensemble", 7, 3, 2, 2, 3 / 7),
    ]


def test_population_without_finess_reference_uses_ror():
    world = population_world()
    world["finess_etablissements"] = schema.empty("finess_etablissements")
    world["autorisations"] = table("autorisations", [
        {"autorisation_id": "A1", "finess_eg": "750000011", "regime": "SMR", "mention": "ME050",
         "forme": "01"},
        {"autorisation_id": "A2", "finess_eg": "750000029", "regime": "SSR", "activite": "50",
         "forme": "05"},
    ])  # fmt: skip
    population = establishment_population(world, AS_OF, FORMER)
    assert population["finess_eg"].to_list() == ["750000011"]
    assert population["perimetre_source"].to_list() == ["ROR"]
    # As the national view reads it, A1 has no end date: nothing counts, no target.
    assert establishment_population(world, AS_OF).height == 0


# ------------------------------------------------------------------------ local rules


def test_capacity_rule():
    units = [unit(u, "750000011") for u in ("HC", "HJ0", "HCNULL", "HN", "MIX", "FERMEE")]
    units[-1]["date_fermeture"] = dt.date(2024, 1, 1)
    offres = [
        offer("HC", forme="HC"),
        offer("HJ0", forme="HJ", places=0),
        offer("HCNULL", forme="HC", lits=None),
        offer("HN", forme="HN"),  # night hospitalisation only: not concerned
        offer("MIX", "ME050", "HC"),
        offer("MIX", "ME051", "HJ", places=0),
        offer("FERMEE", forme="HJ", places=0),
    ]
    world = tables([eg("750000011")], [fin("750000011")], units, offres)
    results = requirements.evaluate(world, AS_OF)
    assert statuses(results, "LOC-CAPACITE") == {
        "HC": C,
        "HJ0": E,
        "HCNULL": E,
        "HN": NA,
        "MIX": E,
        "FERMEE": NA,
    }
    why = reasons(results, "LOC-CAPACITE")
    assert why["MIX"] == "capacité nulle ou non renseignée : HJ ME051 : 0 places"
    assert why["HCNULL"] == "capacité nulle ou non renseignée : HC ME050 : non renseigné (lits)"
    assert why["HN"] == "hors périmètre : ni hospitalisation complète ni hospitalisation de jour"


def test_authorisation_matched_by_an_offer():
    start = {"date_mise_en_oeuvre": dt.date(2023, 6, 1)}
    auths = [
        {"autorisation_id": "A1", "finess_eg": "750000011", "regime": "SMR", "mention": "ME051",
         "forme": "01", **start},
        {"autorisation_id": "A2", "finess_eg": "750000011", "regime": "SMR", "mention": "ME052",
         "forme": "01", **start},
        {"autorisation_id": "A3", "finess_eg": "750000011", "regime": "SMR", "mention": "ME053",
         "forme": "01", "date_mise_en_oeuvre": dt.date(2024, 9, 1)},
        {"autorisation_id": "A4", "finess_eg": "750000011", "regime": "SMR", "mention": "ME054",
         "forme": "05", **start},
        {"autorisation_id": "A5", "finess_eg": "750000011", "regime": "SMR", "mention": "ME055",
         "forme": "01", "date_fin": dt.date(2024, 1, 31), **start},
        {"autorisation_id": "A6", "finess_eg": "750000011", "regime": "SMR", "mention": "ME059",
         "forme": "01", **start},
        {"autorisation_id": "A7", "finess_eg": "750000011", "regime": "SSR", "activite": "50",
         "forme": "01"},
    ]  # fmt: skip
    units = [
        unit("U1", "750000011"),
        unit("U2", "750000011", date_fermeture=dt.date(2024, 1, 1), type_fermeture="DEF"),
    ]
    offres = [offer("U1", "ME051"), offer("U2", "ME059")]
    world = tables([eg("750000011")], [fin("750000011")], units, offres, auths)
    results = requirements.evaluate(world, AS_OF)
    assert statuses(results, "LOC-AUTORISATION") == {
        "750000011 ME051": C,
        "750000011 ME052": E,
        "750000011 ME053": NA,  # put into effect after the snapshot
        "750000011 ME055": NA,  # ended
        "750000011 ME059": E,  # only offered by a closed unit
    }  # HAD (ME054) and old-regime rows are not listed
    assert reasons(results, "LOC-AUTORISATION")["750000011 ME052"] == (
        "mention ME052 autorisée (01) sans offre dans le ROR"
    )


# --------------------------------------------------------------------------- aggregates


def test_summary_counts_per_departement():
    etabs = [
        eg("750000011"),
        eg("750000029", categorie="365"),
        eg("920000025", commune_insee="92012", code_postal="92100", categorie="365"),
        eg("940000039", commune_insee="94028", code_postal="94000"),
    ]
    finess = [fin(e["finess_eg"], commune_insee=e["commune_insee"]) for e in etabs]
    results = requirements.evaluate(tables(etabs, finess), AS_OF)
    co4 = requirements.summary(results).filter(pl.col("exigence") == "CO4")
    assert co4.select("departement", "perimetre", "conformes", "ecarts", "taux").rows() == [
        ("75", 2, 1, 1, 0.5),
        ("92", 1, 0, 1, 0.0),
        ("94", 1, 1, 0, 1.0),
        ("ensemble", 4, 2, 2, 0.5),
    ]
    listed = requirements.ecarts(results, "CO4", "75")
    assert listed["entite"].to_list() == ["750000029"]
    assert listed["aide"].item().startswith("Corriger dans le ROR la catégorie")
    assert requirements.ecarts(results, "CO4")["entite"].to_list() == ["750000029", "920000025"]


def test_ecarts_by_establishment():
    results = requirements.evaluate(ror_world(), AS_OF)
    per_eg = requirements.ecarts_by_establishment(results, ror_world()["etablissements"])
    rows = {r["finess_eg"]: r for r in per_eg.iter_rows(named=True)}
    # 750000052: unknown to FINESS → EX2, ST2 and CO4; 750000045: ST2 only
    assert (
        rows["750000052"]["ecarts"],
        rows["750000052"]["EX2"],
        rows["750000052"]["ST2"],
        rows["750000052"]["CO4"],
    ) == (3, 1, 1, 1)
    assert (rows["750000045"]["ecarts"], rows["750000045"]["ST2"]) == (1, 1)
    assert rows["750000052"]["raison_sociale"] == "EG 750000052"
    assert per_eg["finess_eg"][0] == "750000052"  # most écarts first
    # no unit is described in this world: every EG of the SMR perimeter is a CP4 écart
    assert (rows["750000011"]["ecarts"], rows["750000011"]["CP4"]) == (1, 1)
    total = int(results.filter(pl.col("statut") == requirements.ECART).height)
    assert per_eg["ecarts"].sum() == total


def test_every_requirement_has_a_method_note_and_a_level():
    from analysis.present import methods

    for req in requirements.REQUIREMENTS:
        assert req.level in requirements.LEVELS
        note = methods.note(req.id)
        assert not methods.missing_parts(note), req.id
    for extra in (
        "peuplement_statut",
        "peuplement_trimestriel",
        "synchro_vt_taux",
        "synchro_vt_concordance",
    ):
        assert not methods.missing_parts(methods.note(extra))


def test_quarters():
    assert quarter_end(dt.date(2023, 3, 15)) == dt.date(2023, 3, 31)
    assert quarter_end(dt.date(2023, 12, 1)) == dt.date(2023, 12, 31)
    assert quarter_label(dt.date(2023, 7, 31)) == "2023-T3"
    days = [dt.date(2023, 3, 1), dt.date(2023, 3, 15), dt.date(2023, 6, 15), dt.date(2023, 7, 1)]
    assert quarter_snapshots(days) == {
        dt.date(2023, 3, 31): dt.date(2023, 3, 15),
        dt.date(2023, 6, 30): dt.date(2023, 6, 15),
        dt.date(2023, 9, 30): dt.date(2023, 7, 1),
    }


# ------------------------------------------------------------------ ViaTrajectoire report

HEADER = (
    "Finess;NomEtablissement;CodeRegion;Domaine;EtatVT;EtatSynchronisationROR;DateSynchronisation"
)
ACTIVE = "Mise à jour de l’offre active"


def vt_lines() -> list[str]:
    return [
        HEADER,
        f"750000011;Centre A;11;Sanitaire;Ouvert;{ACTIVE};30/07/2023 18:00",
        "750000029;Centre B;11;Sanitaire;Ouvert;Mise à jour de l'offre active;2023-07-30",
        "750000037;Centre C;11;Sanitaire;Ouvert;Offre non synchronisée;",
        f"750000037;Centre C;11;Sanitaire;Ouvert;{ACTIVE};30/07/2023",  # two rows, one active
        f"750000045;Centre D;11;Sanitaire;Fermeture Définitive;{ACTIVE};30/07/2023",
        f"920000025;Centre E;11;Sanitaire;Ouvert;{ACTIVE.upper()};30/07/2023",
        f"75000052;Centre F;11;Sanitaire;Ouvert;{ACTIVE};30/07/2023",  # 8 digits: 075000052
        f"750000060;EHPAD;11;Grand Age;Ouvert;{ACTIVE};30/07/2023",
        f"750000078;Foyer;11;4;Ouvert;{ACTIVE};30/07/2023",
        ";sans numéro;11;Sanitaire;Ouvert;;",
    ]


def write_vt(path: Path, encoding: str = "utf-8", sep: str = ";") -> Path:
    text = "\r\n".join(line.replace(";", sep) for line in vt_lines()) + "\r\n"
    path.write_bytes(text.encode(encoding, errors="replace"))
    return path


@pytest.mark.parametrize(
    ("encoding", "sep"), [("utf-8", ";"), ("utf-8-sig", "\t"), ("cp1252", ",")]
)
def test_read_vt_report_csv(tmp_path, encoding, sep):
    if encoding == "cp1252":  # the typographic apostrophe exists in Windows-1252
        assert "’".encode("cp1252") == b"\x92"
    report = vt_report_file.read_vt_report(write_vt(tmp_path / "vt.csv", encoding, sep))
    frame = report.frame
    assert frame.height == 9  # the row without a FINESS number is left out (noted)
    assert frame["finess"].to_list()[6] == "075000052"
    assert frame.filter(pl.col("finess") == "750000078")["domaine"].item() == "Handicap"
    dates = dict(zip(frame["ligne"], frame["date_synchronisation"], strict=True))
    assert dates[1] == dt.datetime(2023, 7, 30, 18, 0)
    assert dates[2] == dt.datetime(2023, 7, 30, 0, 0)
    assert dates[3] is None
    assert any("zéro initial" in n for n in report.notes)
    assert any("sans numéro FINESS" in n for n in report.notes)


def test_read_vt_report_excel_and_bad_files(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["FINESS", "Nom etablissement", "Etat synchronisation ROR", "Date synchronisation"])
    ws.append([10002301, "Centre", ACTIVE, dt.datetime(2023, 7, 30, 18, 0)])
    ws.append(["750000011", "Centre A", "Offre non synchronisée", 45137.75])
    wb.save(tmp_path / "vt.xlsx")
    report = vt_report_file.read_vt_report(tmp_path / "vt.xlsx")
    assert report.frame["finess"].to_list() == ["010002301", "750000011"]
    assert report.frame["date_synchronisation"].to_list() == [
        dt.datetime(2023, 7, 30, 18, 0),
        dt.datetime(2023, 7, 30, 18, 0),
    ]
    assert any("CodeRegion" in n for n in report.notes)
    bad = tmp_path / "bad.csv"
    bad.write_text("Numero;Etat\n750000011;x\n", encoding="utf-8")
    with pytest.raises(InputError, match="Finess, EtatSynchronisationROR") as info:
        vt_report_file.read_vt_report(bad)
    assert "bad.csv" in str(info.value)
    with pytest.raises(InputError, match="introuvable"):
        vt_report_file.read_vt_report(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputError, match="vide"):
        vt_report_file.read_vt_report(tmp_path / "empty.csv")


def test_vt_rate_the_national_way(tmp_path):
    report = vt_report_file.read_vt_report(write_vt(tmp_path / "vt.csv")).frame
    detail = vt_report.vt_report_detail(report, as_of=dt.date(2023, 7, 31))
    rate = vt_report.vt_sync_rate(detail)
    # Sanitaire rows: A, B, C (twice), D (VT closed: out), E, F → 5 followed FINESS numbers,
    # all with an active row (C counts once; E in capitals, B with a straight apostrophe).
    assert rate.rows() == [
        ("Sanitaire", "07", 1, 1, 1.0),
        ("Sanitaire", "75", 3, 3, 1.0),
        ("Sanitaire", "92", 1, 1, 1.0),
        ("Sanitaire", "ensemble", 5, 5, 1.0),
    ]
    every = vt_report.vt_sync_rate(detail, domaine=None).filter(pl.col("departement") == "ensemble")
    assert dict(zip(every["domaine"], every["perimetre_vt"], strict=True)) == {
        "Grand Age": 1,
        "Handicap": 1,
        "Sanitaire": 5,
    }
    # With a FINESS reference: unknown numbers, non-followed and domicile categories and
    # FINESS definitive closures are left out; a provisional closure stays.
    reference = {
        "finess_etablissements": table("finess_etablissements", [
            fin("750000011"),
            fin("750000029", categorie="209"),  # domicile
            fin("750000037", categorie="354"),  # sync not followed
            fin("920000025", commune_insee="92012", date_fermeture=dt.date(2023, 5, 1),
                type_fermeture="PRO"),
            fin("075000052", commune_insee="07186", date_fermeture=dt.date(2023, 5, 1),
                type_fermeture="ERR"),
        ])
    }  # fmt: skip
    detail = vt_report.vt_report_detail(report, reference, dt.date(2023, 7, 31))
    why = dict(zip(detail["finess"], detail["motif_exclusion"], strict=False))
    assert why["750000029"].startswith("catégorie 209 ou 460")
    assert why["750000037"] == "catégorie dont la synchronisation n'est pas suivie"
    assert why["075000052"] == "fermeture définitive dans FINESS"
    assert why["750000045"] == "fermeture définitive dans ViaTrajectoire"
    assert why["750000060"] == "numéro FINESS inconnu du référentiel FINESS"
    assert why["920000025"] is None
    states = dict(zip(detail["finess"], detail["etat_finess"], strict=False))
    assert states["920000025"] == "Fermeture provisoire" and states["750000011"] == "Ouvert"
    rate = vt_report.vt_sync_rate(detail)
    assert rate.filter(pl.col("departement") == "ensemble").row(0)[2:] == (2, 2, 1.0)
    regional = vt_report.vt_report_detail(report, reference, dt.date(2023, 7, 31), ("92",))
    assert set(regional["finess"]) == {"920000025"}
    summary = vt_report.vt_rate_as_summary(rate)
    assert summary.filter(pl.col("departement") == "ensemble").row(0) == (
        vt_report.SYNCHRO_VT,
        vt_report.SYNCHRO_VT_LABEL,
        "ensemble",
        2,
        2,
        0,
        0,
        1.0,
    )


def test_vt_comparison_with_unit_statuses():
    report = vt_report_file.read_vt_report_frame(
        pl.DataFrame(
            {
                "Finess": ["750000011", "750000029", "750000037", "750000045"],
                "Domaine": ["Sanitaire"] * 4,
                "EtatVT": ["Ouvert"] * 4,
                "EtatSynchronisationROR": [
                    ACTIVE,
                    ACTIVE,
                    "Offre non synchronisée",
                    "Offre non synchronisée",
                ],
            }
        )
    )
    detail = vt_report.vt_report_detail(report)
    status = pl.DataFrame(
        {
            "finess_eg": ["750000011", "750000029", "750000029", "750000037", "750000045",
                          "750000052"],
            "statut": [sync.SYNCHRONISE, sync.SYNCHRONISE, sync.DESYNCHRONISE,
                       sync.ABSENT_VT, sync.EN_ATTENTE, sync.SYNCHRONISE],
        }
    )  # fmt: skip
    etabs = table(
        "etablissements",
        [eg(f) for f in ("750000011", "750000029", "750000037", "750000045", "750000052")],
    )
    comparison = vt_report.vt_comparison(detail, status, etabs)
    got = dict(zip(comparison["finess_eg"], comparison["constat"], strict=True))
    assert got == {
        "750000011": "concordant : synchronisé",
        "750000029": "synchronisé selon ViaTrajectoire, mais 1 unité(s) à vérifier",
        "750000037": "concordant : non synchronisé (1 unité(s) en écart)",
        "750000045": "non synchronisé selon ViaTrajectoire alors que les unités le sont",
        "750000052": "absent du rapport ViaTrajectoire",
    }
    row = comparison.filter(pl.col("finess_eg") == "750000029").row(0, named=True)
    assert (row["unites"], row[sync.SYNCHRONISE], row[sync.DESYNCHRONISE]) == (2, 1, 1)
    assert row["taux_unites"] == 0.5


def test_mapped_value_maps_for_the_new_columns(tmp_path):
    from analysis.io.loaders.mapped import load_mapped
    from analysis.io.validate import validate_tables

    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "tables:\n  unites:\n    fichiers: '*.csv'\n    colonnes:\n      Id: uo_id\n"
        "      FINESS: finess_eg\n      Nom: nom\n      Champ: champ_activite\n"
        "      Fermeture: type_fermeture\n      AO: activite_operationnelle\n",
        encoding="utf-8",
    )
    (tmp_path / "u.csv").write_text(
        "Id;FINESS;Nom;Champ;Fermeture;AO\nU1;750000011;A;SMR;Fermeture provisoire;233\n"
        "U2;750000011;B;Soins médicaux et de réadaptation;définitive;233, 244\n"
        "U3;750000011;C;2;;\nU4;750000011;D;Pédiatrie;;\n",
        encoding="utf-8",
    )
    raw = load_mapped(tmp_path / "u.csv", mapping).tables
    raw["etablissements"] = pl.DataFrame(
        {"finess_eg": ["750000011"], "raison_sociale": ["A"], "commune_insee": ["75056"]}
    )
    typed = validate_tables(raw)
    units = typed.tables["unites"].sort("uo_id")
    assert units["champ_activite"].to_list() == ["02", "02", "02", None]  # unknown: erased
    assert units["type_fermeture"].to_list() == ["PRO", "DEF", None, None]
    assert units["activite_operationnelle"].to_list()[:2] == ["233", "233, 244"]
    assert "code_inconnu" in typed.report["rule"].to_list()


# ------------------------------------------------ national parity (the ANS views as written)
#
# Expected results below are worked out by hand from the SQL of the national views
# (ansforge/ROR-indicateurs-BI-SQL, commit 0e6a032), quoted in each docstring; the default
# ``QualityParams`` reads the data as they do, and each former reading of the workbench is
# one switch (``requirements.READINGS``).


def test_ex2_national_parity():
    """requetes/dimensions/view_V_DIM_ExigenceQualite_EX2.sql:

        WHEN Finess.nmfinessetab_stru IS NULL AND Ror.DateFermeture IS NULL THEN 'Ecart'
        WHEN (Finess.dtfermestruct_stru IS NOT NULL OR Finess.cdconstatcaducite_stru = 'O')
            AND Ror.DateFermeture IS NULL THEN 'Ecart'
        WHEN Finess.dtfermestruct_stru IS NULL AND Ror.DateFermeture IS NOT NULL THEN 'Ecart'
        WHEN Finess.cdtypefermestruct_stru = 'PRO' AND Ror.CodeNOS_TypeFermeture <> 'PRO'
            THEN 'Ecart'
        WHEN Finess.cdtypefermestruct_stru = 'DEF' AND Ror.CodeNOS_TypeFermeture <> 'DEF'
            THEN 'Ecart'
        ELSE 'Conforme'

    The FINESS side is a LEFT JOIN: a number FINESS does not know has every FINESS column
    NULL, so « dtfermestruct_stru IS NULL » holds for it (third case). « <> » with a NULL ROR
    type is unknown, never true.
    """
    world = ror_world()
    extra_etabs = [
        eg("750000169", date_fermeture=dt.date(2024, 2, 1), type_fermeture="DEF"),  # P
        eg("750000177", date_fermeture=dt.date(2024, 2, 1), type_fermeture="DEF"),  # Q
        eg("750000185", date_fermeture=dt.date(2024, 2, 1)),  # R
    ]
    extra_finess = [
        fin("750000169", caduc=True),  # P: caduc, no FINESS closing date
        fin("750000177", caduc=True, date_fermeture=dt.date(2024, 1, 1), type_fermeture="PRO"),
        fin("750000185", date_fermeture=dt.date(2024, 1, 1), type_fermeture="DEF"),  # R
    ]
    world["etablissements"] = pl.concat([world["etablissements"], table("etablissements",
                                                                        extra_etabs)])
    world["finess_etablissements"] = pl.concat(
        [world["finess_etablissements"], table("finess_etablissements", extra_finess)]
    )
    got = statuses(requirements.evaluate(world, AS_OF), "EX2")
    assert got == {
        "750000011": C,  # ELSE
        "750000029": E,  # 2nd WHEN: FINESS closed, ROR DateFermeture NULL
        "750000037": E,  # 3rd WHEN
        "750000045": C,  # PRO / PRO: 4th WHEN false ('PRO' <> 'PRO'), 5th false
        "750000052": E,  # 1st WHEN: not in FINESS, ROR open
        "750000060": E,  # 3rd WHEN: not in FINESS → dtfermestruct_stru NULL, ROR closed
        "750000078": C,  # FINESS PRO, ROR type NULL: NULL <> 'PRO' is not true
        "750000086": E,  # 5th WHEN: FINESS DEF, ROR 'PRO' <> 'DEF'
        "750000094": E,  # 2nd WHEN: caducité 'O', ROR open
        "750000102": C,
        "750000110": C,
        "750000128": C,
        "750000136": C,
        "750000144": C,
        "750000151": E,  # ROR DateFermeture IS NOT NULL (31/12/2024), FINESS open: 3rd WHEN
        "750000169": E,  # caduc without FINESS closing date, ROR closed: 3rd WHEN
        "750000177": E,  # caduc and closed PRO, ROR DEF: 4th WHEN ('DEF' <> 'PRO')
        "750000185": C,  # FINESS DEF, ROR type NULL: NULL <> 'DEF' is not true
    }
    why = reasons(requirements.evaluate(world, AS_OF), "EX2")
    assert why["750000060"] == (
        "numéro absent du référentiel FINESS (aucune fermeture FINESS) mais fermé "
        "définitivement dans le ROR (depuis le 01/02/2024)"
    )
    assert why["750000151"] == (
        "ouvert dans FINESS mais fermé définitivement dans le ROR (fermeture prévue le "
        "31/12/2024)"
    )
    assert why["750000169"] == (
        "caduc dans FINESS sans date de fermeture mais fermé définitivement dans le ROR "
        "(depuis le 01/02/2024)"
    )
    assert why["750000177"] == "fermeture provisoire dans FINESS, définitive dans le ROR"


@pytest.mark.parametrize(
    ("switch", "changed"),
    [
        ("ex2_closed_absent_conforme", {"750000060": C}),
        ("ex2_caduc_closed_conforme", {"750000169": C, "750000177": C}),
        ("ex2_untyped_closure_definitive", {"750000078": E}),
        ("future_dates_pending", {"750000151": C}),
    ],
)
def test_ex2_each_switch_restores_one_former_reading(switch, changed):
    world = ror_world()
    world["etablissements"] = pl.concat([world["etablissements"], table("etablissements", [
        eg("750000169", date_fermeture=dt.date(2024, 2, 1), type_fermeture="DEF"),
        eg("750000177", date_fermeture=dt.date(2024, 2, 1), type_fermeture="DEF"),
    ])])  # fmt: skip
    world["finess_etablissements"] = pl.concat(
        [world["finess_etablissements"], table("finess_etablissements", [
            fin("750000169", caduc=True),
            fin("750000177", caduc=True, date_fermeture=dt.date(2024, 1, 1),
                type_fermeture="PRO"),
        ])]
    )  # fmt: skip
    national = statuses(requirements.evaluate(world, AS_OF), "EX2")
    switched = statuses(
        requirements.evaluate(world, AS_OF, requirements.QualityParams(**{switch: True})), "EX2"
    )
    assert {k: v for k, v in switched.items() if national[k] != v} == changed


def _sql_ex2(present, f_date, f_type, caduc, ror_date, ror_type) -> str:
    """The EX2 CASE of the national view evaluated with SQL's three-valued logic (None is
    NULL; a comparison with NULL is unknown, and an unknown WHEN is not taken)."""

    def eq(a, b):
        return None if a is None or b is None else a == b

    def ne(a, b):
        return None if a is None or b is None else a != b

    def and_(*xs):
        if any(x is False for x in xs):
            return False
        return None if any(x is None for x in xs) else True

    def or_(*xs):
        if any(x is True for x in xs):
            return True
        return None if any(x is None for x in xs) else False

    nm = "X" if present else None  # Finess.nmfinessetab_stru after the LEFT JOIN
    f_date, f_type = (f_date, f_type) if present else (None, None)
    caducite = ("O" if caduc else "N") if present else None
    whens = [
        and_(nm is None, ror_date is None),
        and_(or_(f_date is not None, eq(caducite, "O")), ror_date is None),
        and_(f_date is None, ror_date is not None),
        and_(eq(f_type, "PRO"), ne(ror_type, "PRO")),
        and_(eq(f_type, "DEF"), ne(ror_type, "DEF")),
    ]
    return E if any(w is True for w in whens) else C


def test_ex2_matches_the_sql_case_over_every_combination():
    """A second implementation: the CASE of view_V_DIM_ExigenceQualite_EX2.sql transcribed
    with NULL semantics, against every combination of FINESS presence, closing date and type,
    caducité, ROR closing date (none, past, future) and type."""
    import itertools

    past, future = dt.date(2024, 1, 10), dt.date(2025, 1, 10)
    cases = []
    for i, (present, f_date, f_type, caduc, ror_date, ror_type) in enumerate(
        itertools.product(
            (True, False), (None, past), (None, "PRO", "DEF"), (False, True),
            (None, past, future), (None, "PRO", "DEF"),
        )
    ):  # fmt: skip
        if not present and (f_date or f_type or caduc):
            continue  # nothing on the FINESS side of an unknown number
        finess = f"75{i:07d}"
        cases.append((finess, present, f_date, f_type, caduc, ror_date, ror_type))
    etabs = [eg(c[0], date_fermeture=c[5], type_fermeture=c[6]) for c in cases]
    refs = [
        fin(c[0], date_fermeture=c[2], type_fermeture=c[3], caduc=c[4]) for c in cases if c[1]
    ]
    got = statuses(requirements.evaluate(tables(etabs, refs), AS_OF), "EX2")
    expected = {c[0]: _sql_ex2(*c[1:]) for c in cases}
    assert len(got) == len(cases) > 100
    assert got == expected


@pytest.mark.parametrize(
    ("auth", "counts"),
    [
        ({"regime": "SSR", "activite": "50", "forme": "01", "date_fin": dt.date(2026, 5, 31)},
         True),
        ({"regime": "SSR", "activite": "50", "forme": "01", "date_fin": dt.date(2021, 5, 1)},
         True),
        ({"regime": "SSR", "activite": "50", "forme": "01", "date_fin": dt.date(2021, 4, 30)},
         False),
        ({"regime": "SSR", "activite": "50", "forme": "01"}, False),  # NULL dtfin: no join
        ({"regime": "SSR", "activite": "59", "date_fin": dt.date(2026, 5, 31)}, False),
        ({"regime": "SSR", "activite": "50", "forme": "05", "date_fin": dt.date(2026, 5, 31)},
         False),
        ({"regime": "SMR", "mention": "ME051", "forme": "01", "date_fin": dt.date(2030, 1, 1)},
         True),
        ({"regime": "SMR", "mention": "ME051", "forme": "01"}, False),
    ],
)  # fmt: skip
def test_smr_authorisation_national_reading(auth, counts):
    """requetes/dimensions/view_V_DIM_AutorisationFINESS.sql:

        LEFT JOIN BICOEUR_DWH_SNAPSHOT.dbo.dwh_activitesoin AS act
            ON etb.idstructure_stru = act.idstructure_acts
            AND CAST(act.dtfin_acts AS DATE) >= '2021-05-01'
        COUNT(CASE WHEN cdactivite_acts in ('50',…,'54') AND cdforme_acts != '05'
            THEN nmautorisation_acts END) AS NB_AutorisationSMR

    A NULL dtfin_acts makes the join condition unknown (the row is not joined) and a NULL
    cdforme_acts makes « != '05' » unknown (not counted).
    """
    row = {"autorisation_id": "A1", "finess_eg": "750000011", **auth}
    frame = table("autorisations", [row])
    assert frame.select(requirements.smr_authorisation_expr()).item() is counts
    open_end = requirements.QualityParams(count_open_ended_authorisations=True)
    formless = requirements.QualityParams(count_formless_authorisations=True)
    if "date_fin" not in auth and auth.get("forme") == "01":
        assert frame.select(requirements.smr_authorisation_expr(open_end)).item() is True
    if "forme" not in auth:
        assert frame.select(requirements.smr_authorisation_expr(formless)).item() is True


def test_ex12_national_perimeter():
    """requetes/dimensions/view_V_DIM_AutorisationFINESS.sql:

        AND CAST(act.dtfin_acts AS DATE) >= '2021-05-01'
        WHERE … AND etb.dtouvertstruct_stru IS NOT NULL
            AND etb.dtfermestruct_stru IS NULL
            AND ISNULL(etb.cdconstatcaducite_stru,'N') = 'N'

    and view_V_DIM_ExigenceQualite_EX1.2.sql: « CASE WHEN ID_EntiteGeographique IS NOT
    NULL THEN 'Conforme' ELSE 'Ecart' END » over that perimeter. perimeter_world's
    authorisation rows have no end date: they do not count; a closing date set (even in
    September, after the snapshot) leaves the perimeter, an opening date set enters it.
    """
    results = requirements.evaluate(perimeter_world(), AS_OF)
    got = statuses(results, "EX1.2")
    assert got == {
        "750000011": NA,  # A1 has no dtfin: not joined
        "750000029": NA,
        "750000037": NA,  # A4 has no dtfin either
        "750000045": E,  # no rows here: the FINESS count made at import stands in
        "750000052": NA,
        "750000060": NA,
        "750000078": NA,
        "750000086": NA,
        "750000094": NA,  # dtouvertstruct_stru NULL
        "750000102": E,  # dtouvertstruct_stru set (September): open, absent from the ROR
        "9E0000015": NA,
        "750000110": NA,  # dtfermestruct_stru set (September): not open
    }
    why = reasons(results, "EX1.2")
    assert why["750000011"] == (
        "hors périmètre : autorisation(s) SMR sans date de fin ou sans forme, non comptées "
        "comme dans la vue nationale (fin au 01/05/2021 ou après, forme autre que 05)"
    )
    assert why["750000110"] == (
        "hors périmètre : fermeture enregistrée dans FINESS, prévue le 01/09/2024"
    )
    # With an end date on or after 01/05/2021 the same rows count.
    world = perimeter_world()
    world["autorisations"] = world["autorisations"].with_columns(
        pl.lit(dt.date(2022, 6, 30)).alias("date_fin")
    )
    dated = statuses(requirements.evaluate(world, AS_OF), "EX1.2")
    assert (dated["750000011"], dated["750000037"], dated["750000029"]) == (C, C, NA)
    # The EG's rows decide, not the import-time count: rows that do not count keep it out
    # even when the FINESS reference says 1.
    world = perimeter_world()
    world["finess_etablissements"] = world["finess_etablissements"].with_columns(
        pl.lit(1, pl.Int32).alias("nb_autorisations_smr")
    )
    assert statuses(requirements.evaluate(world, AS_OF), "EX1.2")["750000011"] == NA


def test_st3_national_parity():
    """requetes/dimensions/view_V_DIM_ExigenceQualite_ST3.sql:

        WHERE DateFermeture IS NULL AND CodeNOS_CategorieEG NOT IN ('SA05','SA07','SA08','SA09')
        CASE WHEN COUNT(*) OVER(PARTITION BY IdNat_Struct, CodeRegion) = 1 THEN 'Conforme'
            ELSE 'Ecart' END

    NULL identifiers fall in one partition: one EG without identifier is conforme, two are
    both in écart. « NULL NOT IN (…) » is unknown: an EG without category is not in the
    view. (EJs, also in the view, are not in the extract.)
    """
    got = statuses(requirements.evaluate(ror_world(), AS_OF), "ST3")
    assert got["750000144"] == C  # the only open EG without identifier
    assert got["750000128"] == E and got["750000136"] == E
    world = ror_world()
    world["etablissements"] = pl.concat([world["etablissements"], table("etablissements", [
        eg("750000169", id_nat_struct=None),
        eg("750000177", categorie=None),
    ])])  # fmt: skip
    results = requirements.evaluate(world, AS_OF)
    got = statuses(results, "ST3")
    assert got["750000144"] == E and got["750000169"] == E
    assert reasons(results, "ST3")["750000144"] == (
        "identifiant national de structure non renseigné, comme pour 2 établissements "
        "ouverts (aussi : 750000169) : la vue nationale les compte comme un même identifiant"
    )
    assert got["750000177"] == NA
    former = statuses(requirements.evaluate(world, AS_OF, FORMER), "ST3")
    assert (former["750000144"], former["750000169"], former["750000177"]) == (NA, NA, C)
    # An extract without identifiers at all: nothing to compare (not every EG a duplicate).
    world["etablissements"] = world["etablissements"].with_columns(
        pl.lit(None, pl.String).alias("id_nat_struct")
    )
    assert set(statuses(requirements.evaluate(world, AS_OF), "ST3").values()) == {NA}


def test_re12_counts_all_the_establishments_offers():
    """requetes/dimensions/view_V_DIM_ExigenceQualite_RE1.2.sql:

        WHERE DateFermetureDefinitive IS NULL AND CodeNOS_TypeOI = '4'
        WHEN COUNT(ID_OrganisationInterne) < 8 AND COUNT(CASE WHEN Offre.MaxDateMiseJour >
            DATEADD(year, -1, CAST(DT_UPDATE_TECH as date)) THEN … END) >= 1 THEN 'Conforme'

    Every offer of the EG counts, whatever its champ: an old SMR offer and a fresh MCO offer
    make 2 offers with 1 fresh, conforme; counting the SMR offer alone gives an écart.
    """
    world = tables(
        [eg("750000011")],
        [fin("750000011")],
        [unit("S1", "750000011", date_maj=OLD), unit("M1", "750000011", champ_activite="01")],
    )
    assert statuses(requirements.evaluate(world, AS_OF), "RE1.2") == {"750000011": C}
    smr_only = requirements.QualityParams(re12_smr_offers_only=True)
    assert statuses(requirements.evaluate(world, AS_OF, smr_only), "RE1.2") == {"750000011": E}
    scope = requirements.re12_scope(world, AS_OF)
    assert (scope["offres"], scope["offres_hors_smr"]) == (2, 1)
    assert "toutes les offres" in requirements.re12_scope_text(scope)


def test_future_closures_as_the_views_read_them():
    """« WHERE DateFermeture IS NULL » (RE1.2, ST3) and « AND (EntiteGeographique.DateFermeture
    IS NULL OR (… AND EntiteGeographique.CodeNOS_TypeFermeture = 'PRO')) » (ST2, CO4): a
    closing date set, even after the snapshot date, takes the EG out of these scopes."""
    results = requirements.evaluate(ror_world(), AS_OF)
    for code in ("RE1.2", "ST3", "ST2", "CO4"):
        assert statuses(results, code)["750000151"] == NA, code
    former = requirements.evaluate(ror_world(), AS_OF, requirements.QualityParams(future_dates_pending=True))
    for code in ("RE1.2", "ST3", "ST2", "CO4"):
        assert statuses(former, code)["750000151"] == C, code


def test_every_reading_is_a_switch_documented_in_docs():
    """Each former reading is a boolean of QualityParams, off by default, and the table of
    docs/ecarts_vue_nationale.md has a row naming it and its requirements."""
    import dataclasses

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ecarts_vue_nationale.md").read_text(
        encoding="utf-8"
    )
    booleans = {
        f.name for f in dataclasses.fields(requirements.QualityParams) if f.type in (bool, "bool")
    }
    assert booleans == {r.switch for r in requirements.READINGS}
    assert requirements.QualityParams().former_readings() == []
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    for reading in requirements.READINGS:
        row = next((r for r in rows if f"`{reading.switch}`" in r), None)
        assert row is not None, reading.switch
        assert all(code in row for code in reading.exigences), reading.switch


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo_last(demo_store):
    day = store.latest_snapshot(demo_store)
    return day, store.read_snapshot(demo_store, day).tables


def test_demo_shows_ecarts_for_every_rule(demo_store, demo_last):
    day, data = demo_last
    params = requirements.QualityParams(departements=requirements.region_departements("11"))
    results = requirements.evaluate(data, day, params)
    totals = requirements.summary(results).filter(pl.col("departement") == "ensemble")
    ecarts_by_code = dict(zip(totals["exigence"], totals["ecarts"], strict=True))
    assert set(ecarts_by_code) == {r.id for r in requirements.REQUIREMENTS}
    assert all(n > 0 for n in ecarts_by_code.values()), ecarts_by_code
    # independent recount of two of them from the raw tables
    ror = set(data["etablissements"]["finess_eg"])
    fin_ = data["finess_etablissements"]
    absent = fin_.filter(
        ~pl.col("finess_eg").is_in(list(ror))
        & (pl.col("nb_autorisations_smr") > 0)
        & pl.col("date_fermeture").is_null()
        & pl.col("categorie").is_in(sorted(nomenclature.CATEGORIES_SANITAIRES))
    )
    assert ecarts_by_code["EX1.2"] == absent.height
    merged = data["etablissements"].join(fin_, on="finess_eg", suffix="_f")
    open_ = merged.filter(pl.col("date_fermeture").is_null() | (pl.col("type_fermeture") == "PRO"))
    assert ecarts_by_code["CO4"] == (
        int((open_["categorie"] != open_["categorie_f"]).sum()) + len(ror - set(fin_["finess_eg"]))
    )
    # the VT report example also has synchronised and non-synchronised establishments
    report = vt_report_file.read_vt_report_frame(demo.vt_sync_report(data, day))
    rate = vt_report.vt_sync_rate(vt_report.vt_report_detail(report, data, day))
    whole = rate.filter(pl.col("departement") == "ensemble").row(0, named=True)
    assert 0 < whole["synchronises"] < whole["perimetre_vt"]


def test_docs_example_is_the_demo_report(demo_last):
    day, data = demo_last
    example = Path(__file__).resolve().parents[2] / "docs" / "exemple_synchro_vt.csv"
    assert example.read_bytes() == demo.vt_sync_report_csv(data, day)
    report = vt_report_file.read_vt_report(example)
    assert report.notes == [] and report.frame.height == 171


@pytest.mark.slow
def test_demo_history_and_quarters(demo_store):
    hist = history(demo_store)
    assert hist["date"].n_unique() == len(demo.SNAPSHOT_DATES)
    first = hist.filter(pl.col("date") == demo.SNAPSHOT_DATES[0])
    last = hist.filter(pl.col("date") == demo.SNAPSHOT_DATES[-1])
    cp4 = {d: t for d, e, t in hist.select("date", "exigence", "taux").rows() if e == "CP4"}
    assert cp4[demo.SNAPSHOT_DATES[-1]] > cp4[demo.SNAPSHOT_DATES[0]] + 0.3  # population grows
    assert "LOC-AUTORISATION" in set(last["exigence"])
    assert first.filter(pl.col("exigence") == "LOC-AUTORISATION")["perimetre"].item() == 0
    quarters = population_history(demo_store)
    whole = quarters.filter(pl.col("departement") == "ensemble")
    assert whole.select("trimestre", "date_instantane", "trimestre_clos").rows() == [
        ("2023-T1", dt.date(2023, 3, 15), True),
        ("2023-T2", dt.date(2023, 6, 15), True),
        ("2023-T3", dt.date(2023, 7, 31), False),
    ]
    assert whole["finalise"].is_sorted()


def test_offer_texts_of_the_local_rules():
    # The texts joined per unit and per authorisation, worked out by hand: offers in their
    # order (an offer without mention writes no text), units offering a mention once each,
    # sorted.
    units = [unit(u, "750000011") for u in ("U3", "U1", "U2")]
    offres = [
        offer("U1", "ME050", "HC", lits=None),
        offer("U1", "ME051", "HJ", places=0),
        offer("U1", None, "HC", lits=5),
        offer("U1", "ME059", "HC"),
        offer("U3", "ME051"),
        offer("U2", "ME051"),
        offer("U3", "ME051", "HJ"),
    ]
    auths = [{"autorisation_id": "A1", "finess_eg": "750000011", "regime": "SMR",
              "mention": "ME051", "forme": "01", "date_mise_en_oeuvre": dt.date(2023, 6, 1)}]
    world = tables([eg("750000011")], [fin("750000011")], units, offres, auths)
    results = requirements.evaluate(world, AS_OF)
    value = dict(
        results.filter(pl.col("exigence") == "LOC-CAPACITE").select("entite", "valeur").iter_rows()
    )
    assert value["U1"] == "HC ME050 : ? ; HJ ME051 : 0 ; HC ME059 : 20"
    assert reasons(results, "LOC-CAPACITE")["U1"] == (
        "capacité nulle ou non renseignée : HC ME050 : non renseigné (lits) ; HJ ME051 : 0 places"
    )
    offered = results.filter(pl.col("exigence") == "LOC-AUTORISATION")
    assert offered.select("entite", "statut", "valeur").rows() == [
        ("750000011 ME051", C, "U1, U2, U3")
    ]
