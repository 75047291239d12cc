"""The campaign rules as the regional campaign guide states them (issue 13): severities,
support routing, accounts and habilitations, the habilitations table end to end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import polars as pl
import pytest
from openpyxl import load_workbook

from analysis.checks.campaign import checklist, history, todo
from analysis.checks.campaign.checklist import INVALIDE, MANQUANT, OK, CampaignParams
from analysis.demo import regional
from analysis.io import validate
from analysis.io.loaders import canonical
from analysis.model import settings
from analysis.present import todo_lists
from tests.helpers import ACCOUNTS, CAMPAIGN_START, account, eg, snapshot, uo, vt
from tests.helpers import CAMPAIGN_DAY as DAY

PARAMS = CampaignParams(start=CAMPAIGN_START)

GUIDE_SEVERITY = {"eg_surnom": checklist.CONSEILLE, "uo_nom_smr": checklist.CONSEILLE}
#: Rules whose problem only the support can solve (guide: official name, address, sync,
#: accounts and habilitations; no manual unit creation in ViaTrajectoire).
GUIDE_SUPPORT = {
    "eg_compte_ror", "eg_compte_vt", "eg_nom_officiel", "eg_adresse", "uo_presente_vt",
    "vt_habilitation_admissions", "vt_synchronise",
}

#: For each rule, snapshot arguments that make it fail on the hand-built establishment.
FAILING: dict[str, dict] = {
    "eg_compte_ror": {"habs": [account(date_fin_validite=dt.date(2024, 1, 2)), ACCOUNTS[1]]},
    "eg_compte_vt": {"habs": [ACCOUNTS[0], account(habilitation_id="H-2", outil="VT",
                                                   role="referent_unite",
                                                   date_fin_validite=dt.date(2024, 1, 2))]},
    "eg_surnom": {"etabs": [eg(surnom=None)]},
    "eg_nom_officiel": {"finess": [{"finess_eg": "750000011", "raison_sociale": "Autre nom"}]},
    "eg_adresse": {"etabs": [eg(adresse=None)]},
    "eg_email_alerte": {"etabs": [eg(email_alerte=None)]},
    "eg_directeur": {"etabs": [eg(directeur_telephone=None)]},
    "eg_verifie": {"etabs": [eg(date_maj=dt.datetime(2024, 1, 2))]},
    "eg_offre_autorisee": {"auths": [
        {"autorisation_id": "A-2", "finess_eg": "750000011", "regime": "SMR", "mention": "ME059",
         "forme": "01"}]},
    "uo_nom_smr": {"units": [uo(nom="SSR polyvalent")], "vts": [vt(nom="SSR polyvalent")]},
    "uo_telephone": {"units": [uo(telephone=None)], "vts": [vt(telephone=None)]},
    "uo_responsable": {"units": [uo(responsable_nom=None)]},
    "uo_patientele": {"units": [uo(age_min=None)], "vts": [vt(age_min=None)]},
    "uo_verifie": {"units": [uo(date_maj=dt.datetime(2024, 1, 2))]},
    "uo_presente_vt": {"vts": [vt(uo_id=None)]},
    "vt_responsable_admissions": {"vts": [vt(responsable_admissions_nom=None)]},
    "vt_habilitation_admissions": {"vts": [vt(habilitation_fin=dt.date(2024, 1, 2))]},
    "vt_synchronise": {"vts": [vt(synchronise_ror=False)]},
}


def test_every_rule_has_a_failing_case():
    assert set(FAILING) == {r.id for r in checklist.RULES}


def test_severities_and_support_are_the_guides():
    for rule in checklist.RULES:
        assert rule.severity == GUIDE_SEVERITY.get(rule.id, checklist.OBLIGATOIRE), rule.id
        assert rule.support == (rule.id in GUIDE_SUPPORT), rule.id
        if rule.support:
            assert "support" in rule.help, rule.id
        if rule.severity == checklist.CONSEILLE:
            assert "onseillé" in rule.help, rule.id
    # What the establishment cannot edit is signalled, not filled in.
    for rule_id in ("eg_adresse", "eg_nom_officiel"):
        text = checklist.RULE_BY_ID[rule_id].help
        assert "ne peut pas" in text and "signaler au support" in text
        assert not text.startswith("Renseigner")
    # No manual unit creation in ViaTrajectoire (the sync avoids the double entry).
    assert "ne pas créer l'unité à la main" in checklist.RULE_BY_ID["uo_presente_vt"].help
    assert "seront modifiés ultérieurement de façon automatique" in (
        checklist.RULE_BY_ID["uo_nom_smr"].help
    )


@pytest.mark.slow
@pytest.mark.parametrize("rule_id", sorted(FAILING))
@pytest.mark.parametrize("severity", [checklist.OBLIGATOIRE, checklist.CONSEILLE])
def test_each_rule_at_each_severity(rule_id, severity):
    """The same failing item counts against the establishment when obligatoire, and is only
    advice (listed, not counted) when conseillé."""
    tables = snapshot(**FAILING[rule_id])

    def run(sev: str):
        rules = tuple(dataclasses.replace(r, severity=sev) if r.id == rule_id else r
                      for r in checklist.RULES)
        res = checklist.evaluate(tables, DAY, PARAMS, rules)
        return res, checklist.completion_overall(res), todo.todo_items(res, rules=rules)

    res, overall, items = run(severity)
    mine = res.filter(pl.col("regle") == rule_id)
    assert mine["resultat"].to_list() in ([MANQUANT], [INVALIDE])
    assert mine["severite"].to_list() == [severity]
    other = checklist.CONSEILLE if severity == checklist.OBLIGATOIRE else checklist.OBLIGATOIRE
    _, overall_other, _ = run(other)
    sign = 1 if severity == checklist.OBLIGATOIRE else -1
    assert overall["reste"] - overall_other["reste"] == sign
    assert overall["total"] - overall_other["total"] == sign
    assert overall["conseils"] - overall_other["conseils"] == -sign
    listed = items.filter(pl.col("regle") == rule_id)
    assert listed["severite"].to_list() == [todo.SEVERITY_TODO_LABELS[severity]]


def test_a_conseille_item_alone_leaves_the_establishment_up_to_date():
    res = checklist.evaluate(snapshot(**FAILING["eg_surnom"]), DAY, PARAMS)
    overall = checklist.completion_overall(res)
    assert (overall["reste"], overall["conseils"], overall["etablissements_complets"]) == (0, 1, 1)
    ranking = checklist.establishment_ranking(res)
    assert ranking.select("reste", "conseils").row(0) == (0, 1)


def test_unit_discipline_still_ssr_is_not_the_establishments_action():
    tables = snapshot(units=[uo(discipline="SSR")])
    res = checklist.evaluate(tables, DAY, PARAMS)
    assert res.filter(pl.col("regle") == "uo_nom_smr")["resultat"].to_list() == [OK]


@pytest.mark.parametrize(
    ("tel", "mail", "cme_tel", "cme_mail", "expected"),
    [
        ("01 44 96 31 31", "d@x.fr", None, None, OK),
        (None, None, "01 44 96 31 32", "cme@x.fr", OK),  # the CME president's contact
        (None, "d@x.fr", "01 44 96 31 32", "cme@x.fr", OK),
        (None, None, "01 44 96 31 32", None, MANQUANT),
        (None, None, "123", "cme@x.fr", INVALIDE),  # CME phone invalid
        ("123", "d@x.fr", None, None, INVALIDE),
        (None, None, None, None, MANQUANT),
    ],
)
def test_director_or_cme_president(tel, mail, cme_tel, cme_mail, expected):
    tables = snapshot(etabs=[eg(directeur_telephone=tel, directeur_email=mail,
                                cme_president_telephone=cme_tel, cme_president_email=cme_mail)])
    res = checklist.evaluate(tables, DAY, PARAMS).filter(pl.col("regle") == "eg_directeur")
    assert res["resultat"].to_list() == [expected]


@pytest.mark.parametrize(
    ("finess_name", "expected"),
    [
        ("Centre SMR Test", OK),
        ("CENTRE S.M.R. TEST", OK),  # case, dots and accents do not count
        ("Centre SMR Test – annexe", INVALIDE),
    ],
)
def test_official_name_against_finess(finess_name, expected):
    tables = snapshot(finess=[{"finess_eg": "750000011", "raison_sociale": finess_name}])
    res = checklist.evaluate(tables, DAY, PARAMS).filter(pl.col("regle") == "eg_nom_officiel")
    assert res["resultat"].to_list() == [expected]
    if expected == INVALIDE:
        assert "à signaler au support" in res["motif"][0] and finess_name in res["motif"][0]
    # Without a FINESS reference the name is not compared.
    alone = checklist.evaluate(snapshot(finess=[]), DAY, PARAMS)
    assert "eg_nom_officiel" not in set(alone["regle"])


# ------------------------------------------------------------------ habilitations


def _one(tables: dict, rule: str, entity: str) -> tuple[str, str | None]:
    res = checklist.evaluate(tables, DAY, PARAMS).filter(
        (pl.col("regle") == rule) & (pl.col("entite") == entity))
    assert res.height == 1, res
    return res["resultat"][0], res["motif"][0]


VT_ACCOUNT = ACCOUNTS[1]


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        (None, OK),  # no end date: valid
        (dt.date(2024, 6, 30), OK),  # valid
        (DAY, OK),  # expiring on the snapshot date: still valid that day
        (DAY - dt.timedelta(days=1), INVALIDE),  # expired
    ],
)
def test_ror_account_validity(end, expected):
    tables = snapshot(habs=[account(date_fin_validite=end), VT_ACCOUNT])
    result, why = _one(tables, "eg_compte_ror", "750000011")
    assert result == expected
    if expected == INVALIDE:
        assert why == ("compte(s) ROR Directeur ou Référent expiré(s) : dernière fin de "
                       "validité le 01/03/2024")


def test_ror_account_missing_or_of_another_role():
    # Another establishment's ROR account: the snapshot lists ROR accounts, none of this one.
    elsewhere = account(finess_eg="750000029")
    assert _one(snapshot(habs=[elsewhere, VT_ACCOUNT]), "eg_compte_ror", "750000011") == (
        MANQUANT, "aucun compte ROR avec le rôle Directeur ou Référent")
    # A Référent account counts like a Directeur; one valid among expired ones is enough.
    both = [account(role="referent", date_fin_validite=dt.date(2023, 1, 1)),
            account(habilitation_id="H-9", role="referent"), VT_ACCOUNT]
    assert _one(snapshot(habs=both), "eg_compte_ror", "750000011")[0] == OK
    # A VT role written on a ROR row does not count.
    odd = [account(role="responsable_admissions"), elsewhere, VT_ACCOUNT]
    assert _one(snapshot(habs=odd), "eg_compte_ror", "750000011")[0] == MANQUANT


@pytest.mark.parametrize(
    ("role", "end", "expected"),
    [
        ("referent_structure", dt.date(2024, 6, 30), OK),
        ("referent_unite", DAY, OK),  # expiring on the snapshot date
        ("referent_structure", DAY - dt.timedelta(days=1), INVALIDE),  # expired
        ("responsable_admissions", dt.date(2024, 6, 30), MANQUANT),  # not a campaign role
    ],
)
def test_vt_habilitation_validity(role, end, expected):
    hab = account(habilitation_id="H-2", outil="VT", role=role, date_fin_validite=end,
                  vt_id="VT-1" if role != "referent_structure" else None)
    elsewhere = account(habilitation_id="H-8", outil="VT", role="referent_structure",
                        finess_eg="750000029")
    result, why = _one(snapshot(habs=[ACCOUNTS[0], hab, elsewhere]), "eg_compte_vt",
                       "750000011")
    assert result == expected
    if expected == INVALIDE:
        assert why.endswith("expiré(s) : dernière fin de validité le 01/03/2024")


def test_accounts_not_evaluated_without_the_tools_accounts():
    res = checklist.evaluate(snapshot(habs=[]), DAY, PARAMS)
    assert not {"eg_compte_ror", "eg_compte_vt"} & set(res["regle"])
    only_ror = checklist.evaluate(snapshot(habs=[ACCOUNTS[0]]), DAY, PARAMS)
    assert "eg_compte_ror" in set(only_ror["regle"])
    assert "eg_compte_vt" not in set(only_ror["regle"])


@pytest.mark.parametrize(
    ("end", "expected", "why"),
    [
        (dt.date(2024, 6, 30), OK, None),  # valid
        (DAY, OK, None),  # expiring on the snapshot date
        (DAY - dt.timedelta(days=1), INVALIDE,
         "habilitation du responsable des admissions expirée le 01/03/2024"),  # expired
        (None, MANQUANT,
         "aucune habilitation ViaTrajectoire connue pour le responsable des admissions"),
    ],
)
def test_admissions_lead_habilitation(end, expected, why):
    # A second unit with a known date: the snapshot does give admissions habilitations.
    other = vt(vt_id="VT-2", uo_id=None, synchronise_ror=False,
               habilitation_fin=dt.date(2025, 1, 1))
    tables = snapshot(vts=[vt(habilitation_fin=end), other])
    assert _one(tables, "vt_habilitation_admissions", "VT-1") == (expected, why)


def test_admissions_habilitation_from_the_habilitations_table():
    row = account(habilitation_id="H-3", outil="VT", role="responsable_admissions",
                  vt_id="VT-1", date_fin_validite=dt.date(2024, 12, 31))
    tables = snapshot(vts=[vt(habilitation_fin=dt.date(2023, 12, 31))], habs=[*ACCOUNTS, row])
    # the later of the two ends counts: renewed in the habilitations table
    assert _one(tables, "vt_habilitation_admissions", "VT-1")[0] == OK
    # no admissions habilitation anywhere in the snapshot: the rule is not evaluated
    none = checklist.evaluate(snapshot(vts=[vt(habilitation_fin=None)]), DAY, PARAMS)
    assert "vt_habilitation_admissions" not in set(none["regle"])


def test_blocked_establishments_come_first():
    tables = snapshot(
        etabs=[eg(email_alerte=None),
               eg(finess_eg="750000029", raison_sociale="Autre", email_alerte=None)],
        habs=[*ACCOUNTS,
              account(habilitation_id="H-5", finess_eg="750000029",
                      date_fin_validite=dt.date(2023, 1, 1))],
    )
    res = checklist.evaluate(tables, DAY, PARAMS)
    blocked = todo.blocked_establishments(res)
    assert blocked["finess_eg"].to_list() == ["750000029"]
    assert blocked.row(0, named=True)["eg_compte_ror"] == INVALIDE
    assert blocked.row(0, named=True)["eg_compte_vt"] == MANQUANT
    items = todo.todo_items(res)
    assert items["finess_eg"].to_list()[0] == "750000029"
    assert set(items.filter(pl.col("finess_eg") == "750000029")["bloque"]) == {"oui"}
    assert set(items.filter(pl.col("finess_eg") == "750000011")["bloque"]) == {"non"}


# ------------------------------------------------------------------------ support


def test_support_of_ile_de_france_is_the_guides():
    lines = settings.support_lines("11")
    text = "\n".join(lines)
    for value in ("https://formulaire-support.sante-idf.fr", "01 83 76 30 31", "01 48 78 75 82",
                  "du lundi au vendredi de 8h à 20h",
                  "campagne SMR (ROR/ViaTrajectoire)"):
        assert value in text
    assert settings.support_desk("94") is None
    assert settings.support_lines("94") == [
        "Aucun canal de support n'est configuré pour la région 94 : s'adresser à l'équipe "
        "régionale du ROR et de ViaTrajectoire."
    ]


@pytest.mark.slow
@pytest.mark.parametrize("region", ["11", "94"])
def test_every_todo_csv_and_workbook_carries_the_support_block(region):
    res = checklist.evaluate(snapshot(**FAILING["eg_adresse"]), DAY, PARAMS)
    text = todo_lists.todo_csv(res, region=region).decode("utf-8-sig")
    frame = pl.read_csv(io.StringIO(text), separator=";")
    assert frame.height > 0
    assert set(frame["Support"]) == {settings.support_text(region)}
    wb = load_workbook(io.BytesIO(todo_lists.todo_excel(res, region=region)))
    assert wb.sheetnames[-1] == "Support"
    lines = [r[0] for r in wb["Support"].iter_rows(min_row=2, values_only=True)]
    assert lines == settings.support_lines(region)


# ---------------------------------------------------------- the table, end to end


def test_habilitations_table_is_validated_and_read(tmp_path):
    tables = {k: v for k, v in snapshot().items() if k != "habilitations"}
    folder = tmp_path / "src"
    folder.mkdir()
    for name, frame in tables.items():
        frame.write_csv(folder / f"{name}.csv")
    (folder / "habilitations.csv").write_text(
        "habilitation_id;outil;role;finess_eg;vt_id;titulaire_nom;date_fin_validite\n"
        "A1;ROR;Directeur;750000011;;Claire Martin;\n"
        "A2;ViaTrajectoire;Référent unité;750000011;VT-1;Julie Roux;31/12/2024\n"
        "A3;VT;Référent structure;750000011;VT-404;Paul Durand;2024-06-30\n"
        "A4;VT;chef de service;750000011;;Anne Leroy;\n"
        "A5;ROR;referent;750000029;;Hugo Blanc;\n",
        encoding="utf-8",
    )
    raw = canonical.read_source_dir(folder)
    assert "habilitations" in raw
    result = validate.validate_tables(raw)
    kept = result.tables["habilitations"]
    assert kept["habilitation_id"].to_list() == ["A1", "A2", "A3", "A5"]
    assert kept["role"].to_list() == ["directeur", "referent_unite", "referent_structure",
                                      "referent"]
    assert kept["outil"].to_list() == ["ROR", "VT", "VT", "ROR"]
    assert kept["date_fin_validite"].to_list() == [None, dt.date(2024, 12, 31),
                                                   dt.date(2024, 6, 30), None]
    rejected = result.rejected.filter(pl.col("table") == "habilitations")
    assert rejected.select("row", "column", "rule").rows() == [(4, "role", "code_inconnu")]
    warnings = result.warnings.filter(pl.col("table") == "habilitations")
    assert set(warnings.select("row", "column").rows()) == {(3, "vt_id"), (5, "finess_eg")}
    assert result.counts["habilitations"]["lus"] == 5


@pytest.mark.slow
def test_demo_draws_habilitations_from_its_own_stream(monkeypatch):
    with_accounts = regional.region_world_snapshots(
        regional.DEFAULT_SEED, "94", [regional.SNAPSHOT_DATES[0], regional.SNAPSHOT_DATES[-1]], None,
        regional._places("94"),
    )
    monkeypatch.setattr(regional, "_draw_habilitations", lambda *a, **k: [])
    without = regional.region_world_snapshots(
        regional.DEFAULT_SEED, "94", [regional.SNAPSHOT_DATES[0], regional.SNAPSHOT_DATES[-1]], None,
        regional._places("94"),
    )
    for day, tables in with_accounts.items():
        for name, frame in tables.items():
            if name != "habilitations":
                assert frame.equals(without[day][name]), (day, name)
        assert without[day]["habilitations"].height == 0
        habs = tables["habilitations"]
        assert habs.height > 0 and set(habs["outil"]) == {"ROR", "VT"}
        assert validate.validate_tables(tables).rejected.height == 0
    # Over the series some accounts arrive (given by the support during the campaign).
    first, last = (with_accounts[d]["habilitations"] for d in sorted(with_accounts))
    assert last.height > first.height


def test_demo_latest_snapshot_prerequisites(demo_store):
    res = history.evaluate_snapshot(demo_store, params=CampaignParams())
    by_rule = checklist.completion_by_rule(res)
    figures = {r["regle"]: (r["manquants"], r["invalides"]) for r in by_rule.iter_rows(named=True)}
    # Every kind of result appears for each prerequisite.
    assert all(m > 0 and i > 0 for m, i in (figures["eg_compte_ror"], figures["eg_compte_vt"]))
    assert todo.blocked_establishments(res).height > 0


def test_mapped_export_of_habilitations(tmp_path):
    """A ViaTrajectoire « Mes habilitations »-like export read through a column mapping."""
    from analysis.io.loaders.mapped import load_mapped

    (tmp_path / "habilitations_vt.csv").write_text(
        "Identifiant;Outil;Habilitation;FINESS géographique;Unité VT;Nom;Mail;Fin de validité\n"
        "H1;ViaTrajectoire;Référent structure;750000011;;Julie Roux;j.roux@x.fr;31/12/2024\n"
        "H2;ViaTrajectoire;Responsable des admissions;750000011;VT-1;Paul Durand;"
        "p.durand@x.fr;01/03/2024\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "tables:\n  habilitations:\n    fichiers: '*habilitations*.csv'\n    colonnes:\n"
        "      Identifiant: habilitation_id\n      Outil: outil\n      Habilitation: role\n"
        "      FINESS géographique: finess_eg\n      Unité VT: vt_id\n      Nom: titulaire_nom\n"
        "      Mail: titulaire_email\n      Fin de validité: date_fin_validite\n",
        encoding="utf-8",
    )
    loaded = load_mapped(tmp_path, mapping)
    tables = {**{k: v for k, v in snapshot().items() if k != "habilitations"},
              "habilitations": loaded.tables["habilitations"]}
    result = validate.validate_tables(tables)
    habs = result.tables["habilitations"]
    assert habs.select("outil", "role", "vt_id", "date_fin_validite").rows() == [
        ("VT", "referent_structure", None, dt.date(2024, 12, 31)),
        ("VT", "responsable_admissions", "VT-1", dt.date(2024, 3, 1)),
    ]
    # The admissions lead's habilitation from the export is read by the rule (later end).
    tables = snapshot(vts=[vt(habilitation_fin=None)], habs=[*ACCOUNTS, *habs.to_dicts()])
    assert _one(tables, "vt_habilitation_admissions", "VT-1") == (
        INVALIDE, "habilitation du responsable des admissions expirée le 01/03/2024")
