"""Campaign checklist: each rule on hand-built entities, completion against a second
implementation, progress and diffs over a hand-built store, to-do exports, commands."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from openpyxl import load_workbook

from analysis import cli
from analysis.checks.campaign import changes, checklist, history, todo
from analysis.checks.campaign.checklist import INVALIDE, MANQUANT, OK, CampaignParams
from analysis.indicators import sync
from analysis.io import store
from analysis.io.validate import EMAIL_PATTERN, PHONE_PATTERN
from analysis.model import privacy, settings
from analysis.model.errors import InputError
from analysis.present import todo_lists
from tests.helpers import (
    CAMPAIGN_DAY,
    CAMPAIGN_START,
    eg,
    small_snapshot,
    snapshot,
    uo,
    vt,
)

DAY, START = CAMPAIGN_DAY, CAMPAIGN_START  # the hand-built cases' date and start
PARAMS = CampaignParams(start=START)


def result(tables: dict[str, pl.DataFrame], rule: str, entity: str,
           params: CampaignParams = PARAMS) -> tuple[str, str | None]:
    res = checklist.evaluate(tables, DAY, params).filter(
        (pl.col("regle") == rule) & (pl.col("entite") == entity)
    )
    assert res.height == 1, res
    return res["resultat"][0], res["motif"][0]


# ------------------------------------------------------------------------- each rule


def test_complete_snapshot_is_ok_everywhere():
    res = checklist.evaluate(snapshot(), DAY, PARAMS)
    assert set(res["regle"]) == {r.id for r in checklist.RULES}
    assert res["resultat"].to_list() == [OK] * res.height, res.filter(pl.col("resultat") != OK)
    assert res.height == 9 + 6 + 3  # 9 EG rules, 6 unit rules, 3 VT rules, one entity each


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        ("eg_surnom", {"surnom": None}, MANQUANT),
        ("eg_surnom", {"surnom": "   "}, MANQUANT),
        ("eg_adresse", {"adresse": None}, MANQUANT),
        ("eg_adresse", {"code_postal": ""}, MANQUANT),
        ("eg_adresse", {"code_postal": "7502"}, INVALIDE),
        ("eg_email_alerte", {"email_alerte": None}, MANQUANT),
        ("eg_email_alerte", {"email_alerte": "alerte@@smr-test.fr"}, INVALIDE),
        ("eg_email_alerte", {"email_alerte": "alerte@smr-test"}, INVALIDE),
        ("eg_email_alerte", {"email_alerte": " alerte@smr-test.fr "}, OK),
        ("eg_directeur", {"directeur_telephone": None}, MANQUANT),
        ("eg_directeur", {"directeur_email": ""}, MANQUANT),
        ("eg_directeur", {"directeur_telephone": "4521"}, INVALIDE),
        ("eg_directeur", {"directeur_telephone": "144963131"}, INVALIDE),  # lost its 0
        ("eg_directeur", {"directeur_email": "direction.smr-test.fr"}, INVALIDE),
        ("eg_directeur", {"directeur_telephone": "+33 (0)1 44 96 31 31"}, OK),
        ("eg_directeur", {"directeur_nom": None}, OK),  # the rule asks phone and e-mail
        ("eg_verifie", {"date_maj": dt.datetime(2024, 2, 29, 23, 59)}, MANQUANT),
        ("eg_verifie", {"date_maj": None}, MANQUANT),
        ("eg_verifie", {"date_maj": dt.datetime(2024, 3, 1, 0, 0)}, OK),
    ],
)
def test_establishment_rules(rule, values, expected):
    assert result(snapshot(etabs=[eg(**values)]), rule, "750000011")[0] == expected


def test_missing_reason_names_the_missing_fields():
    _, why = result(snapshot(etabs=[eg(directeur_telephone=None, directeur_email=None)]),
                    "eg_directeur", "750000011")
    assert why == ("non renseigné : téléphone du directeur, e-mail du directeur (ni, à défaut, "
                   "ceux du président de CME)")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"nom": "SMR polyvalent"}, OK),
        ({"nom": "Unité de soins médicaux et de réadaptation"}, OK),
        ({"nom": "SMR gériatrique", "discipline": None}, OK),  # the name decides
        ({"nom": "SSR polyvalent"}, INVALIDE),
        ({"nom": "Hôpital de jour S.S.R."}, INVALIDE),
        ({"nom": "Soins de suite polyvalents"}, INVALIDE),
        ({"nom": "ssr gériatrique", "discipline": "SMR"}, INVALIDE),
        # the discipline and type d'UO migrate automatically: not the establishment's action
        ({"nom": "SMR polyvalent", "discipline": "SSR"}, OK),
        ({"nom": "Rééducation orthopédique"}, OK),  # nothing to rename
        ({"nom": "Unité SSRI"}, OK),  # a word containing SSR is not « SSR »
        ({"nom": None}, MANQUANT),
    ],
)
def test_unit_name_rule(values, expected):
    assert result(snapshot(units=[uo(**values)]), "uo_nom_smr", "UO-1")[0] == expected


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("01 44 96 31 40", OK),
        ("01.44.96.31.40", OK),
        ("+33 1 44 96 31 40", OK),
        ("0262 12 34 56", OK),  # La Réunion
        ("4521 / 01 44 96 31 40", OK),  # one good number is enough
        ("01 44 96 31 40 poste 412", OK),
        (None, MANQUANT),
        ("", MANQUANT),
        ("4521", INVALIDE),  # internal extension
        ("poste 4521", INVALIDE),
        ("144963140", INVALIDE),
        ("01 44 96 31", INVALIDE),
    ],
)
def test_unit_phone_rule(phone, expected):
    assert result(snapshot(units=[uo(telephone=phone)]), "uo_telephone", "UO-1")[0] == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"responsable_telephone": None}, OK),  # name and one contact
        ({"responsable_email": None}, OK),
        ({"responsable_nom": None}, MANQUANT),
        ({"responsable_telephone": None, "responsable_email": " "}, MANQUANT),
        ({"responsable_telephone": "123"}, INVALIDE),
        ({"responsable_email": "a.leroy@"}, INVALIDE),
    ],
)
def test_unit_head_rule(values, expected):
    assert result(snapshot(units=[uo(**values)]), "uo_responsable", "UO-1")[0] == expected


def _offres(*mentions: str) -> list[dict]:
    return [{"uo_id": "UO-1", "mention": m, "forme": "HC", "lits": 10} for m in mentions]


@pytest.mark.parametrize(
    ("ages", "mentions", "expected"),
    [
        ((18, 120), ("ME050",), OK),
        ((None, 120), ("ME050",), MANQUANT),
        ((18, None), ("ME050",), MANQUANT),
        ((30, 20), ("ME050",), INVALIDE),
        ((18, 130), ("ME050",), INVALIDE),
        ((0, 120), ("ME050",), INVALIDE),  # minors without a pediatric mention
        ((15, 120), ("ME050", "ME059"), INVALIDE),
        ((16, 120), ("ME050",), OK),  # the 16+ exception
        ((4, 17), ("ME060",), OK),
        ((6, 17), ("ME060",), OK),
        ((2, 17), ("ME060",), INVALIDE),  # ME060 starts at 4
        ((0, 17), ("ME061",), OK),
        ((0, 17), ("ME060", "ME061"), OK),
        ((0, 120), ("ME057",), OK),  # burns: convention presumed by default
        ((0, 120), (), INVALIDE),  # no offer, no mention
    ],
)
def test_unit_patientele_rule(ages, mentions, expected):
    tables = snapshot(units=[uo(age_min=ages[0], age_max=ages[1])], offres=_offres(*mentions))
    assert result(tables, "uo_patientele", "UO-1")[0] == expected


def test_burns_convention_can_be_required():
    tables = snapshot(units=[uo(age_min=0, age_max=120)], offres=_offres("ME057"))
    strict = CampaignParams(start=START, burns_convention=False)
    status, why = result(tables, "uo_patientele", "UO-1", strict)
    assert status == INVALIDE and "pédiatrique" in why


def test_unit_verified_and_present_in_vt():
    old = uo(date_maj=dt.datetime(2024, 1, 5, 9, 0))
    assert result(snapshot(units=[old]), "uo_verifie", "UO-1")[0] == MANQUANT
    assert result(snapshot(vts=[]), "uo_presente_vt", "UO-1")[0] == MANQUANT
    assert result(snapshot(vts=[vt(uo_id="UO-9")]), "uo_presente_vt", "UO-1")[0] == MANQUANT


def test_verified_rules_need_a_start_date():
    res = checklist.evaluate(snapshot(), DAY, CampaignParams(start=None))
    assert not {"eg_verifie", "uo_verifie"} & set(res["regle"])


GUICHET = {"guichet_id": "G1", "nom": "Guichet Ouest", "responsable_nom": "Marc Bernard",
           "telephone": "01 44 96 30 00", "email": "guichet@example.fr"}


@pytest.mark.parametrize(
    ("values", "guichet", "expected"),
    [
        ({}, None, OK),
        ({"responsable_admissions_email": None}, None, MANQUANT),
        ({"responsable_admissions_nom": ""}, None, MANQUANT),
        ({"responsable_admissions_email": "admissions@"}, None, INVALIDE),
        # In a guichet unique the guichet's contacts count, not the unit's own lead.
        ({"guichet_id": "G1", "responsable_admissions_nom": None,
          "responsable_admissions_email": None}, GUICHET, OK),
        ({"guichet_id": "G1"}, {**GUICHET, "telephone": None}, MANQUANT),
        ({"guichet_id": "G1"}, {**GUICHET, "email": "guichet.example.fr"}, INVALIDE),
        ({"guichet_id": "G1"}, {**GUICHET, "telephone": "3000"}, INVALIDE),
        ({"guichet_id": "G2"}, GUICHET, INVALIDE),  # unknown guichet
    ],
)
def test_admissions_lead_rule(values, guichet, expected):
    tables = snapshot(vts=[vt(**values)], guichets=[guichet] if guichet else [])
    assert result(tables, "vt_responsable_admissions", "VT-1")[0] == expected


@pytest.mark.parametrize(
    ("vt_values", "uo_values", "expected"),
    [
        ({}, {}, OK),  # synchronise
        ({"nom": "SSR polyvalent"}, {"date_maj": dt.datetime(2024, 3, 1, 18, 1)}, OK),  # pending
        ({"nom": "SSR polyvalent"}, {}, INVALIDE),  # drift
        ({"synchronise_ror": False}, {}, INVALIDE),
        ({"uo_id": None}, {}, MANQUANT),  # absent_ror
        ({"uo_id": "UO-404"}, {}, MANQUANT),
    ],
)
def test_vt_sync_rule(vt_values, uo_values, expected):
    tables = snapshot(units=[uo(**uo_values)], vts=[vt(**vt_values)])
    assert result(tables, "vt_synchronise", "VT-1")[0] == expected


def test_adding_a_rule_is_one_entry():
    extra = checklist.Rule(
        "eg_finess_ej", checklist.ETABLISSEMENT, "FINESS juridique",
        "Renseigner le FINESS de l'entité juridique.",
        lambda p: [(pl.col("finess_ej").is_null(), checklist.MISSING, "FINESS EJ manquant")],
    )
    rules = (*checklist.RULES, extra)
    res = checklist.evaluate(snapshot(), DAY, PARAMS, rules)
    assert res.filter(pl.col("regle") == "eg_finess_ej")["resultat"].to_list() == [MANQUANT]
    assert "finess_ej" in checklist.columns_needed(PARAMS, rules)["etablissements"]
    assert "eg_finess_ej" in checklist.completion_by_rule(res, rules)["regle"].to_list()


# ------------------------------------------------------------------------- completion
# A second implementation: plain Python over the rows of the demo's last snapshot.

EMAIL = re.compile(EMAIL_PATTERN)
PHONE = re.compile(PHONE_PATTERN)


def _blank(v: Any) -> bool:
    return v is None or str(v).strip() == ""


def _email_ok(v: str) -> bool:
    return bool(EMAIL.match(v.strip()))


def _phone_ok(v: str) -> bool:
    parts = re.split(r"\s*(?:[;,|/]|\bou\b|\bet\b)\s*", v.strip())
    for part in parts:
        part = re.sub(r"(?i)\s*(?:poste|post\.|p\.|ext\.?|extension)\s*\d{1,6}\s*$", "", part)
        digits = re.sub(r"[\s.\-()]", "", part.replace("(0)", ""))
        if part.strip() and PHONE.match(digits):
            return True
    return False


def _status(missing: bool, invalid: bool) -> str:
    return MANQUANT if missing else INVALIDE if invalid else OK


def _fold_name(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace(".", "")
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _accounts(t: dict[str, pl.DataFrame], day: dt.date) -> dict[tuple[str, str], str]:
    """eg_compte_ror / eg_compte_vt, row by row (only for a tool the table lists)."""
    out: dict[tuple[str, str], str] = {}
    habs = t.get("habilitations")
    if habs is None:
        return out
    roles = {"ROR": {"directeur", "referent"}, "VT": {"referent_structure", "referent_unite"}}
    for tool, rule in (("ROR", "eg_compte_ror"), ("VT", "eg_compte_vt")):
        rows = [h for h in habs.iter_rows(named=True) if h["outil"] == tool]
        if not rows:
            continue
        for r in t["etablissements"].iter_rows(named=True):
            mine = [h for h in rows if h["finess_eg"] == r["finess_eg"]
                    and h["role"] in roles[tool]]
            valid = [h for h in mine if h["date_fin_validite"] is None
                     or h["date_fin_validite"] >= day]
            out[rule, r["finess_eg"]] = MANQUANT if not mine else OK if valid else INVALIDE
    return out


def python_results(
    t: dict[str, pl.DataFrame], start: dt.date, day: dt.date
) -> dict[tuple[str, str], str]:
    """(rule, entity) → result, computed row by row in plain Python."""
    out: dict[tuple[str, str], str] = _accounts(t, day)
    start_dt = dt.datetime.combine(start, dt.time())
    official = {f["finess_eg"]: f["raison_sociale"]
                for f in t["finess_etablissements"].iter_rows(named=True)
                if f["raison_sociale"] is not None}
    described: dict[str, set[str]] = {}
    unit_eg = {u["uo_id"]: u["finess_eg"] for u in t["unites"].iter_rows(named=True)}
    for o in t["offres"].iter_rows(named=True):
        if o["uo_id"] in unit_eg:
            described.setdefault(unit_eg[o["uo_id"]], set()).add(o["mention"])
    authorised: dict[str, set[str]] = {}
    for a in t["autorisations"].iter_rows(named=True):
        if (a["regime"] == "SMR" and a["mention"] and a["forme"] != "05"
                and (a["date_fin"] is None or a["date_fin"] >= day)):
            authorised.setdefault(a["finess_eg"], set()).add(a["mention"])
    for r in t["etablissements"].iter_rows(named=True):
        k = r["finess_eg"]
        out["eg_surnom", k] = _status(_blank(r["surnom"]), False)
        e = r["email_alerte"]
        out["eg_email_alerte", k] = _status(_blank(e), not _blank(e) and not _email_ok(e))
        tel, mail = r["directeur_telephone"], r["directeur_email"]
        ctel, cmail = r["cme_president_telephone"], r["cme_president_email"]
        director_ok = not _blank(tel) and not _blank(mail) and _phone_ok(tel) and _email_ok(mail)
        cme_ok = not _blank(ctel) and not _blank(cmail) and _phone_ok(ctel) and _email_ok(cmail)
        out["eg_directeur", k] = OK if director_ok or cme_ok else _status(
            (_blank(tel) or _blank(mail)) and (_blank(ctel) or _blank(cmail)), True)
        out["eg_verifie", k] = _status(r["date_maj"] is None or r["date_maj"] < start_dt, False)
        if k in official:
            out["eg_nom_officiel", k] = _status(
                False, _fold_name(r["raison_sociale"]) != _fold_name(official[k]))
        if authorised.get(k):
            out["eg_offre_autorisee", k] = _status(
                bool(authorised[k] - described.get(k, set())), False)
    mentions: dict[str, set[str]] = {}
    for o in t["offres"].iter_rows(named=True):
        mentions.setdefault(o["uo_id"], set()).add(o["mention"])
    linked = {v["uo_id"] for v in t["vt_unites"].iter_rows(named=True) if v["uo_id"]}
    for r in t["unites"].iter_rows(named=True):
        k, m = r["uo_id"], mentions.get(r["uo_id"], set())
        tel = r["telephone"]
        out["uo_telephone", k] = _status(_blank(tel), not _blank(tel) and not _phone_ok(tel))
        lo, hi = r["age_min"], r["age_max"]
        if lo is None or hi is None:
            res = MANQUANT
        elif lo < 0 or hi > 120 or lo > hi:
            res = INVALIDE
        elif "ME057" in m:
            res = OK
        elif lo < 16 and not m & {"ME060", "ME061"} or lo < 4 and "ME061" not in m:
            res = INVALIDE
        else:
            res = OK
        out["uo_patientele", k] = res
        name = r["nom"] or ""
        # name only (the discipline migrates automatically), advice only (conseillé)
        ssr = re.search(checklist.SSR_PATTERN, name)
        out["uo_nom_smr", k] = MANQUANT if _blank(name) else INVALIDE if ssr else OK
        out["uo_presente_vt", k] = OK if k in linked else MANQUANT
    guichets = {g["guichet_id"]: g for g in t["vt_guichets"].iter_rows(named=True)}
    for r in t["vt_unites"].iter_rows(named=True):
        k, gid = r["vt_id"], r["guichet_id"]
        if not _blank(gid):
            g = guichets.get(gid)
            if g is None:
                res = INVALIDE
            else:
                fields = (g["responsable_nom"], g["telephone"], g["email"])
                res = _status(any(_blank(f) for f in fields),
                              not _phone_ok(g["telephone"]) or not _email_ok(g["email"]))
        else:
            nom, mail = r["responsable_admissions_nom"], r["responsable_admissions_email"]
            res = _status(_blank(nom) or _blank(mail), not _email_ok(mail or ""))
        out["vt_responsable_admissions", k] = res
    adm: dict[str, dt.date] = {}
    for h in t["habilitations"].iter_rows(named=True):
        end = h["date_fin_validite"]
        if h["outil"] == "VT" and h["role"] == "responsable_admissions" and h["vt_id"] and end:
            adm[h["vt_id"]] = max(adm.get(h["vt_id"], end), end)
    ends = {}
    for r in t["vt_unites"].iter_rows(named=True):
        dates = [d for d in (r["habilitation_fin"], adm.get(r["vt_id"])) if d is not None]
        ends[r["vt_id"]] = max(dates) if dates else None
    if any(e is not None for e in ends.values()):
        for k, end in ends.items():
            out["vt_habilitation_admissions", k] = (
                MANQUANT if end is None else OK if end >= day else INVALIDE)
    return out


@pytest.fixture(scope="module")
def demo_results(demo_store):
    day = store.latest_snapshot(demo_store)
    tables = store.read_snapshot(demo_store, day).tables
    start = history.campaign_start(store.read_manifest(demo_store / day.isoformat()))
    return tables, start, checklist.evaluate(tables, day, CampaignParams(start=start)), day


@pytest.mark.slow
def test_results_match_a_row_by_row_implementation(demo_results):
    tables, start, res, day = demo_results
    assert start == dt.date(2023, 3, 15)
    expected = python_results(tables, start, day)
    got = {(r, e): s for r, e, s in res.select("regle", "entite", "resultat").iter_rows()
           if (r, e) in expected}
    assert len(got) == len(expected)
    diff = {k: (got[k], v) for k, v in expected.items() if got[k] != v}
    assert not diff
    # The demo exercises every kind of result on these rules.
    assert {v for (r, _), v in expected.items() if r == "uo_patientele"} == set(
        checklist.RESULTS)


@pytest.mark.slow
def test_completion_figures_match_a_plain_count(demo_results):
    tables, start, res, day = demo_results
    expected = python_results(tables, start, day)
    by_rule = checklist.completion_by_rule(res)
    for row in by_rule.iter_rows(named=True):
        values = [v for (r, _), v in expected.items() if r == row["regle"]]
        if not values:
            continue
        assert row["total"] == len(values)
        assert row["conformes"] == values.count(OK)
        assert row["manquants"] == values.count(MANQUANT)
        assert row["invalides"] == values.count(INVALIDE)
        assert row["taux"] == pytest.approx(values.count(OK) / len(values))
    # Per département and establishment: count the result rows one by one.
    dep_of = {r["finess_eg"]: r["commune_insee"][:2]
              for r in tables["etablissements"].iter_rows(named=True)}
    per_dep: dict[str, list[int]] = {}
    per_eg: dict[str, list[int]] = {}
    advice = 0
    for r in res.iter_rows(named=True):
        if checklist.RULE_BY_ID[r["regle"]].severity == checklist.CONSEILLE:
            advice += r["resultat"] != OK  # shown, never counted against anyone
            continue
        for key, bucket in ((dep_of.get(r["finess_eg"], r["finess_eg"][:2]), per_dep),
                            (r["finess_eg"], per_eg)):
            ok_total = bucket.setdefault(key, [0, 0])
            ok_total[0] += r["resultat"] == OK
            ok_total[1] += 1
    table = checklist.completion_table(res, "departement")
    assert set(table["departement"]) == set(per_dep)
    for row in table.iter_rows(named=True):
        ok, total = per_dep[row["departement"]]
        assert (row["conformes"], row["total"]) == (ok, total)
        assert row["taux"] == pytest.approx(ok / total)
    ranking = checklist.establishment_ranking(res)
    assert ranking.height == len(per_eg)
    for row in ranking.iter_rows(named=True):
        ok, total = per_eg[row["finess_eg"]]
        assert (row["conformes"], row["reste"]) == (ok, total - ok)
    reste = ranking["reste"].to_list()
    assert reste == sorted(reste, reverse=True)
    overall = checklist.completion_overall(res)
    assert overall["total"] == sum(t for _, t in per_eg.values())
    assert overall["conseils"] == advice > 0
    assert ranking["conseils"].sum() == advice
    assert overall["conformes"] == sum(ok for ok, _ in per_eg.values())
    assert overall["etablissements_complets"] == sum(ok == t for ok, t in per_eg.values())


@pytest.mark.slow
def test_completion_by_statut_covers_every_item(demo_results):
    _, _, res, _ = demo_results
    by_statut = checklist.completion_table(res, "statut")
    assert set(by_statut["statut"]) == {"public", "prive_non_lucratif", "prive_lucratif"}
    assert by_statut["total"].sum() == res.filter(pl.col("severite") == "obligatoire").height
    long = checklist.completion_by(res, "statut")
    assert long["total"].sum() == res.height


# ----------------------------------------------------------- progress across snapshots


def _write(root: Path, day: dt.date, tables: dict[str, pl.DataFrame], start: str) -> None:
    store.write_snapshot(root, day, tables, extra={"campagne_debut": start})


@pytest.fixture
def three_snapshots(tmp_path) -> Path:
    """Three dated states of one establishment, worked out by hand.

    D1 (2024-03-01): no alert e-mail; UO-1 named SSR; UO-1 in VT.
    D2 (2024-03-15): alert e-mail filled; UO-1 renamed SMR; new unit UO-2 (no phone).
    D3 (2024-04-01): director's e-mail emptied (regression); UO-1 closed; UO-2 phone filled.
    Campaign start 2024-03-10 (manifest): updates on or after it count as verified.
    """
    root = tmp_path / "store"
    before = dt.datetime(2024, 2, 1, 9, 0)
    d1 = snapshot(
        auths=[],
        etabs=[eg(email_alerte=None, date_maj=before)],
        units=[uo(nom="SSR polyvalent", discipline="SSR", date_maj=before)],
        vts=[vt(nom="SSR polyvalent", date_synchronisation=dt.datetime(2024, 2, 29, 18))],
    )
    _write(root, dt.date(2024, 3, 1), d1, "2024-03-10")
    maj2 = dt.datetime(2024, 3, 12, 11, 0)
    d2 = snapshot(
        auths=[],
        etabs=[eg(date_maj=maj2)],
        units=[uo(date_maj=maj2), uo(uo_id="UO-2", nom="SMR gériatrie", telephone=None,
                                     date_maj=maj2)],
        offres=[*_offres("ME050"), {"uo_id": "UO-2", "mention": "ME059", "forme": "HC",
                                    "lits": 12}],
        vts=[vt(date_synchronisation=dt.datetime(2024, 3, 14, 18))],
    )
    _write(root, dt.date(2024, 3, 15), d2, "2024-03-10")
    maj3 = dt.datetime(2024, 3, 28, 11, 0)
    d3 = snapshot(
        auths=[],
        etabs=[eg(directeur_email=None, date_maj=maj3)],
        units=[uo(uo_id="UO-2", nom="SMR gériatrie", telephone="01 44 96 31 50",
                  date_maj=maj3)],
        offres=[{"uo_id": "UO-2", "mention": "ME059", "forme": "HC", "lits": 12}],
        vts=[],
    )
    _write(root, dt.date(2024, 4, 1), d3, "2024-03-10")
    return root


@pytest.mark.slow
def test_progress_per_rule_and_date(three_snapshots):
    hist = history.progress(three_snapshots)
    assert hist.columns == ["date", "regle", "conformes", "total", "taux"]

    def at(day: str, rule: str) -> tuple[int, int]:
        row = hist.filter((pl.col("date") == dt.date.fromisoformat(day))
                          & (pl.col("regle") == rule))
        return row["conformes"][0], row["total"][0]

    assert at("2024-03-01", "eg_email_alerte") == (0, 1)
    assert at("2024-03-15", "eg_email_alerte") == (1, 1)
    assert at("2024-03-01", "eg_verifie") == (0, 1)  # updated before the start
    assert at("2024-03-15", "eg_verifie") == (1, 1)
    assert at("2024-03-01", "uo_nom_smr") == (0, 1)
    assert at("2024-03-15", "uo_nom_smr") == (2, 2)
    assert at("2024-03-15", "uo_telephone") == (1, 2)
    assert at("2024-04-01", "uo_telephone") == (1, 1)
    assert at("2024-04-01", "eg_directeur") == (0, 1)
    assert at("2024-03-15", "uo_presente_vt") == (1, 2)
    assert at("2024-04-01", "uo_presente_vt") == (0, 1)
    # No VT unit at D3: the VT rules have no entity, so no row.
    assert hist.filter((pl.col("date") == dt.date(2024, 4, 1))
                       & pl.col("regle").str.starts_with("vt_")).height == 0
    assert hist["taux"].to_list() == [c / t for c, t in zip(hist["conformes"], hist["total"],
                                                              strict=True)]


@pytest.mark.slow
def test_progress_reads_only_the_needed_columns(three_snapshots, monkeypatch):
    seen: dict[str, list[str]] = {}
    real = store.stack_scans  # what ``io.history.over_snapshots`` scans with

    def spy(store_path, table, columns, days):
        seen.setdefault(table, list(columns))
        return real(store_path, table, columns, days)

    monkeypatch.setattr(store, "stack_scans", spy)
    monkeypatch.setattr(store, "read_table", lambda *a, **k: pytest.fail("read outside history"))
    monkeypatch.setattr(store, "read_snapshot", lambda *a, **k: pytest.fail("whole snapshot"))
    history.progress(three_snapshots)
    assert seen["autorisations"] == ["finess_eg", "regime", "mention", "forme", "date_fin"]
    assert seen["offres"] == ["uo_id", "mention"]
    assert "latitude" not in seen["etablissements"]


@pytest.mark.slow
def test_progress_start_parameter_overrides_the_manifest(three_snapshots):
    late = history.progress(three_snapshots, CampaignParams(start=dt.date(2024, 3, 20)))
    row = late.filter((pl.col("date") == dt.date(2024, 3, 15)) & (pl.col("regle") == "eg_verifie"))
    assert row["conformes"][0] == 0


@pytest.mark.slow
def test_changes_between_two_snapshots(three_snapshots):
    r1 = history.evaluate_snapshot(three_snapshots, dt.date(2024, 3, 1))
    r2 = history.evaluate_snapshot(three_snapshots, dt.date(2024, 3, 15))
    r3 = history.evaluate_snapshot(three_snapshots, dt.date(2024, 4, 1))
    c12 = changes.changes_between(r1, r2)
    fixed = set(c12.filter(pl.col("changement") == changes.CORRIGE)
                .select("entite", "regle").iter_rows())
    assert fixed == {("750000011", "eg_email_alerte"), ("750000011", "eg_verifie"),
                     ("UO-1", "uo_nom_smr"), ("UO-1", "uo_verifie")}
    new = c12.filter(pl.col("changement") == changes.NOUVELLE_ENTITE)
    # UO-2 arrives without a phone and without a ViaTrajectoire unit: 2 items to do.
    assert new.select("entite", "a_faire").rows() == [("UO-2", 2)]
    assert c12.filter(pl.col("changement") == changes.NOUVEAU_MANQUE).height == 0

    c23 = changes.changes_between(r2, r3)
    worse = set(c23.filter(pl.col("changement") == changes.NOUVEAU_MANQUE)
                .select("entite", "regle").iter_rows())
    assert worse == {("750000011", "eg_directeur")}  # UO-2 was already missing from VT
    gone = set(c23.filter(pl.col("changement") == changes.ENTITE_SUPPRIMEE)["entite"])
    assert gone == {"UO-1", "VT-1"}
    assert set(c23.filter(pl.col("changement") == changes.CORRIGE)
               .select("entite", "regle").iter_rows()) == {("UO-2", "uo_telephone")}
    per_eg = changes.changes_by_establishment(c23).row(0, named=True)
    assert (per_eg["corrige"], per_eg["nouveau_manque"], per_eg["entite_supprimee"]) == (1, 1, 2)


# ----------------------------------------------------------------------------- to-do


@pytest.fixture
def small_results() -> pl.DataFrame:
    return checklist.evaluate(small_snapshot(), dt.date(2024, 3, 2),
                             CampaignParams(start=dt.date(2024, 2, 20)))


def _rows(data: bytes) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def test_todo_workbook_for_one_establishment(small_results):
    data = todo_lists.todo_excel(small_results, finess="940000039")
    sheets = _rows(data)
    assert list(sheets) == ["940000039 Hôpital de réadaptati", "Support"]
    header, *rows = sheets["940000039 Hôpital de réadaptati"]
    assert header == (*todo.TODO_HEADERS.values(), "Support")
    got = [(r[4], r[6], r[7]) for r in rows]
    # Worked out by hand from tests/helpers.small_snapshot (Créteil): no account at all, so
    # the establishment cannot do the campaign (its prerequisites come first).
    assert got == [
        ("940000039", "Compte ROR (Directeur ou Référent)", MANQUANT),
        ("940000039", "Habilitation ViaTrajectoire (Référent structure ou unité)", MANQUANT),
        ("940000039", "Surnom de l'établissement (si nécessaire)", MANQUANT),
        ("940000039", "E-mail d'alerte (cyberattaque)", MANQUANT),
        ("940000039", "Coordonnées du directeur (ou du président de CME)", MANQUANT),
        ("940000039", "Fiche établissement vérifiée", MANQUANT),
        ("UO-94-01", "Téléphone de l'unité", MANQUANT),
        ("UO-94-01", "Responsable de l'unité", MANQUANT),
        ("UO-94-01", "Fiche unité vérifiée", MANQUANT),
        ("UO-94-01", "Unité présente dans ViaTrajectoire", MANQUANT),
        ("VT-1003", "Responsable des admissions (ViaTrajectoire)", MANQUANT),
        ("VT-1003", "Unité synchronisée avec le ROR", MANQUANT),
    ]
    helps = {r[6]: r[10] for r in rows}
    assert helps["Téléphone de l'unité"] == checklist.RULE_BY_ID["uo_telephone"].help
    kinds = {r[6]: r[11] for r in rows}
    assert kinds["Surnom de l'établissement (si nécessaire)"] == "Conseillé (facultatif, non compté)"
    assert kinds["E-mail d'alerte (cyberattaque)"] == "Obligatoire"
    assert {r[12] for r in rows} == {"oui"}
    # No region given: the support column and sheet say that none is configured.
    assert {r[13] for r in rows} == {settings.support_text(None)}
    assert "Aucun canal de support" in sheets["Support"][1][0]
    # Director's value is personal data: masked by default, shown when asked.
    director = next(r for r in rows if r[6].startswith("Coordonnées du directeur"))
    assert director[9] == privacy.MASK
    flat = " ".join(str(v) for r in rows for v in r)
    assert "Inès Petit" not in flat and "direction@smr-creteil" not in flat
    shown = _rows(todo_lists.todo_excel(small_results, finess="940000039", show_contacts=True))
    flat = " ".join(str(v) for r in next(iter(shown.values())) for v in r)
    assert "Inès Petit" in flat and "direction@smr-creteil.example.fr" in flat


@pytest.mark.slow
def test_todo_workbook_per_establishment_and_per_departement(small_results):
    per_eg = _rows(todo_lists.todo_excel(small_results, region="11"))
    assert list(per_eg)[0] == "Synthèse" and list(per_eg)[-1] == "Support"
    summary = {r[0]: r[3] for r in per_eg["Synthèse"][1:]}
    advice = {r[0]: r[6] for r in per_eg["Synthèse"][1:]}
    left = small_results.filter(pl.col("resultat") != OK)
    expected = left.filter(pl.col("severite") == "obligatoire").group_by("finess_eg").len()
    assert summary == dict(expected.iter_rows())
    assert advice == {"750000011": 1, "920000025": 0, "940000039": 1}  # the surnoms
    # Blocked first (920000025: VT habilitation expired; 940000039: no account), then 75.
    assert [r[0] for r in per_eg["Synthèse"][1:]] == ["920000025", "940000039", "750000011"]
    assert [r[7] for r in per_eg["Synthèse"][1:]] == ["oui", "oui", "non"]
    assert len(per_eg) == 1 + len(summary) + 1
    # Île-de-France: the guide's form, phones, hours and the sentence to quote.
    support = "\n".join(r[0] for r in per_eg["Support"][1:])
    for text in ("https://formulaire-support.sante-idf.fr", "01 83 76 30 31", "01 48 78 75 82",
                 "du lundi au vendredi de 8h à 20h", "campagne SMR (ROR/ViaTrajectoire)"):
        assert text in support
    per_dep = _rows(todo_lists.todo_excel(small_results, per="departement"))
    assert list(per_dep) == ["Synthèse", "Département 92", "Département 94", "Département 75",
                             "Support"]
    assert sum(len(v) - 1 for k, v in per_dep.items() if k.startswith("Département")) == (
        left.height)


@pytest.mark.slow
def test_todo_csv_masks_contacts_and_neutralises_formulas(small_results):
    tables = small_snapshot()
    tables["etablissements"] = tables["etablissements"].with_columns(
        pl.when(pl.col("finess_eg") == "940000039").then(pl.lit("=HYPERLINK(\"x\")"))
        .otherwise(pl.col("surnom")).alias("surnom"))
    res = checklist.evaluate(tables, dt.date(2024, 3, 2))
    text = todo_lists.todo_csv(res).decode("utf-8-sig")
    assert "Inès Petit" not in text and privacy.MASK in text
    assert "Point à vérifier" in text.splitlines()[0]
    assert "=HYPERLINK" not in text.replace("'=HYPERLINK", "")
    assert "Inès Petit" in todo_lists.todo_csv(res, show_contacts=True).decode("utf-8-sig")


def test_todo_errors(small_results, tmp_path):
    with pytest.raises(InputError, match="999999999"):
        todo.todo_items(small_results, "999999999")
    with pytest.raises(InputError, match="découpage"):
        todo.todo_sheets(small_results, per="region")
    with pytest.raises(InputError, match=".txt"):
        todo_lists.write_todo(small_results, tmp_path / "x.txt")
    ok = todo_lists.todo_excel(checklist.evaluate(snapshot(), DAY, PARAMS), finess="750000011")
    sheets = _rows(ok)
    # header only (nothing left to do), then the support sheet (header and one line)
    assert [len(v) for v in sheets.values()] == [1, 2]


# --------------------------------------------------------------------------- commands


@pytest.mark.slow
def test_campaign_command(three_snapshots, tmp_path, capsys):
    out = tmp_path / "avancement.csv"
    assert cli.main(["campaign", "--store", str(three_snapshots), "--out", str(out)]) == 0
    got = pl.read_csv(out, encoding="utf8-lossy", try_parse_dates=True)
    assert got.columns == ["date", "regle", "conformes", "total", "taux", "severite"]
    expected = history.progress(three_snapshots)
    assert got.height == expected.height
    assert got["conformes"].to_list() == expected["conformes"].to_list()
    assert "3 instantanés" in capsys.readouterr().out
    assert cli.main(["campaign", "--store", str(tmp_path / "vide"), "--out", str(out)]) == 3
    assert cli.main(["campaign", "--store", str(three_snapshots), "--start", "2024-13-01",
                     "--out", str(out)]) == 2


@pytest.mark.slow
def test_todo_command(three_snapshots, tmp_path, capsys):
    out = tmp_path / "todo.xlsx"
    args = ["todo", "--store", str(three_snapshots), "--out", str(out)]
    assert cli.main([*args, "--snapshot", "2024-04-01"]) == 0
    sheets = _rows(out.read_bytes())
    rows = next(iter(sheets.values()))[1:]
    assert {r[6] for r in rows} == {"Coordonnées du directeur (ou du président de CME)",
                                    "Unité présente dans ViaTrajectoire"}
    assert "01 83 76 30 31" in rows[0][13]  # no region in the manifest: Île-de-France
    assert all("Claire Martin" not in str(v) for r in rows for v in r)
    assert cli.main([*args, "--contacts"]) == 0
    assert any("Claire Martin" in str(v) for r in next(iter(_rows(out.read_bytes()).values()))
               for v in r)
    csv = tmp_path / "todo.csv"
    assert cli.main(["todo", "--store", str(three_snapshots), "--out", str(csv),
                     "--finess", "750000011", "--par", "departement"]) == 0
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    capsys.readouterr()
    assert cli.main([*args, "--finess", "123456789"]) == 2
    assert "123456789" in capsys.readouterr().err
    assert cli.main([*args, "--par", "region"]) == 2
    assert cli.main([*args, "--snapshot", "2020-01-01"]) == 3
    assert cli.main(["todo", "--store", str(three_snapshots), "--out",
                     str(tmp_path / "x.pdf")]) == 2


def test_sync_command(three_snapshots, tmp_path):
    out = tmp_path / "sync.csv"
    assert cli.main(["sync", "--store", str(three_snapshots), "--snapshot", "2024-03-15",
                     "--out", str(out)]) == 0
    got = pl.read_csv(out, encoding="utf8-lossy")
    assert {"uo_id", "vt_id", "finess_eg", "statut"} <= set(got.columns)
    assert dict(zip(got["uo_id"], got["statut"], strict=True)) == {
        "UO-1": sync.SYNCHRONISE, "UO-2": sync.ABSENT_VT}
    assert cli.main(["sync", "--store", str(three_snapshots), "--heure-synchro", "25:00",
                     "--out", str(out)]) == 2


@pytest.mark.slow
def test_progress_is_the_concatenation_of_per_snapshot_blocks(three_snapshots):
    params = CampaignParams(start=dt.date(2024, 3, 10))
    whole = history.progress(three_snapshots, params)
    blocks = [history.progress_at(three_snapshots, d, params)
              for d in store.list_snapshots(three_snapshots)]
    assert whole.equals(pl.concat(blocks))
