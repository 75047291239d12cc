"""OQOS targets by zone: hand-built cases worked out on paper, and every count checked against a
second implementation written here in plain Python over the snapshot's rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl
import pytest

from analysis.geo import geography as geo
from analysis.indicators.opening import OpeningRule, open_tables
from analysis.model import nomenclature as nom
from analysis.transition import oqos
from analysis.transition.gaps import transition_gaps
from analysis.transition.scenarios import apply_scenario, scenario_from_dict
from tests.helpers import frame as _conform
from tests.helpers import small_snapshot

DAY = dt.date(2024, 3, 1)
#: Hand-made zoning: zone A = Paris, Boulogne, Issy; zone B = Créteil, Vincennes, Champigny.
ZONING = {"75056": "A", "92012": "A", "92040": "A", "94028": "B", "94080": "B", "94017": "B"}
LABELS = {"A": "Ouest (test)", "B": "Est (test)"}
E1, E2, E3 = "750000011", "920000025", "940000039"  # from small_snapshot
E4, E5, E6 = "920000041", "940000047", "940000054"


def _add(tables: dict[str, pl.DataFrame], table: str, rows: list[dict]) -> None:
    tables[table] = pl.concat([tables[table], _conform(table, rows)])


def _smr(ident: str, finess: str, mention: str, forme: str, fin: dt.date | None = None) -> dict:
    return {"autorisation_id": ident, "finess_eg": finess, "regime": "SMR", "mention": mention,
            "forme": forme, "date_decision": dt.date(2023, 5, 15), "date_fin": fin}


def oqos_snapshot(e4_closed: dt.date | None = DAY - dt.timedelta(days=1),
                  e4_type: str = "DEF") -> dict[str, pl.DataFrame]:
    """``small_snapshot`` plus three establishments, worked out on paper:

    - E1 (Paris, A): SMR ME050 HC (01), ME059 HC, ME052 HC without any offer (authorised,
      not described), ME051 HC ended the day before; offers ME050 HC + HJ, ME059 HC;
    - E2 (Boulogne, A): SMR ME051 HJ (03) and ME050 in HAD form (05, outside SMR); offers
      ME051 HC + HJ and ME050 HC (described, not authorised);
    - E3 (Créteil, B): SMR ME060;
    - E4 (Issy, A): SMR ME050 HC and an offer, establishment closed on ``e4_closed``;
    - E5 (Vincennes, B): SMR ME050 authorised for HC only, offer ME050 HJ only;
    - E6 (Champigny, B): SMR ME050 HC and HJ, offers HC and HJ; a ME059 unit closed the day
      before.
    """
    t = small_snapshot()
    _add(t, "etablissements", [
        {"finess_eg": E4, "raison_sociale": "SMR d'Issy (test)", "commune_insee": "92040",
         "date_fermeture": e4_closed, "type_fermeture": e4_type if e4_closed else None},
        {"finess_eg": E5, "raison_sociale": "SMR de Vincennes (test)", "commune_insee": "94080"},
        {"finess_eg": E6, "raison_sociale": "SMR de Champigny (test)", "commune_insee": "94017"},
    ])
    _add(t, "unites", [
        {"uo_id": "UO-92-02", "finess_eg": E4, "nom": "SMR polyvalent"},
        {"uo_id": "UO-94-02", "finess_eg": E5, "nom": "HDJ polyvalent"},
        {"uo_id": "UO-94-03", "finess_eg": E6, "nom": "SMR polyvalent"},
        {"uo_id": "UO-94-04", "finess_eg": E6, "nom": "SMR gériatrique",
         "date_fermeture": DAY - dt.timedelta(days=1), "type_fermeture": "DEF"},
    ])
    _add(t, "offres", [
        {"uo_id": "UO-92-01", "mention": "ME050", "forme": "HC", "lits": 5},
        {"uo_id": "UO-92-02", "mention": "ME050", "forme": "HC", "lits": 20},
        {"uo_id": "UO-94-02", "mention": "ME050", "forme": "HJ", "places": 10},
        {"uo_id": "UO-94-03", "mention": "ME050", "forme": "HC", "lits": 15},
        {"uo_id": "UO-94-03", "mention": "ME050", "forme": "HJ", "places": 5},
        {"uo_id": "UO-94-04", "mention": "ME059", "forme": "HC", "lits": 30},
    ])
    _add(t, "autorisations", [
        _smr("AUT-010", E4, "ME050", "01"),
        _smr("AUT-011", E5, "ME050", "01"),
        _smr("AUT-012", E6, "ME050", "03"),
        _smr("AUT-013", E6, "ME050", "01"),
        _smr("AUT-014", E2, "ME050", "05"),
        _smr("AUT-015", E1, "ME051", "01", fin=DAY - dt.timedelta(days=1)),
        _smr("AUT-016", E1, "ME052", "01"),
    ])
    return t


def zoning_frame() -> pl.DataFrame:
    return pl.DataFrame(
        [{"commune_insee": c, "zone": z, "libelle_zone": LABELS[z]} for c, z in ZONING.items()],
        schema=oqos.ZONING_SCHEMA,
    )


def targets_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=oqos.TARGET_SCHEMA, orient="row")


#: (zone, mention, forme, min, max) and, worked out on paper, (autorisees, decrites, statut,
#: marge).
CASES = [
    # exactly at the minimum (E1; E4 closed the day before does not count)
    (("A", "ME050", "toutes", 1, 3), (1, 2, oqos.DANS, 2)),
    # exactly at the maximum (E5, E6)
    (("B", "ME050", "toutes", 1, 2), (2, 2, oqos.DANS, 0)),
    # HJ target: E5 is authorised for HC only, so only E6 counts; both describe HJ
    (("B", "ME050", "HJ", 2, 4), (1, 2, oqos.SOUS, 3)),
    # no minimum
    (("B", "ME050", "HC", None, 2), (2, 1, oqos.DANS, 0)),
    # no maximum
    (("A", "ME059", "toutes", 2, None), (1, 1, oqos.SOUS, None)),
    # above the maximum (E2 only: E1's ME051 ended the day before)
    (("A", "ME051", "toutes", None, 0), (1, 1, oqos.AU_DESSUS, -1)),
    # authorised, not described
    (("A", "ME052", "toutes", 1, 1), (1, 0, oqos.DANS, 0)),
    # nothing in the zone
    (("B", "ME061", "toutes", 0, 1), (0, 0, oqos.DANS, 1)),
]


def _result(tables: Mapping[str, pl.DataFrame], targets: pl.DataFrame, rule: OpeningRule,
            applications: pl.DataFrame | None = None) -> oqos.OqosResult:
    return oqos.oqos_status(tables, targets, zoning_frame(), rule, applications,
                            geo.load_arrondissements("11"))


def test_hand_worked_counts_statuses_and_headroom():
    targets = targets_frame([c[0] for c in CASES])
    status = _result(oqos_snapshot(), targets, OpeningRule(DAY)).status
    assert status.columns == list(oqos.RESULT_SCHEMA)
    got = [(r["autorisees"], r["decrites"], r["statut"], r["marge"])
           for r in status.iter_rows(named=True)]
    assert got == [c[1] for c in CASES]
    assert status["libelle_zone"].to_list()[:2] == ["Ouest (test)", "Est (test)"]
    assert status["demandees"].is_null().all()  # no application file: unknown, not 0
    texts = oqos.with_marge_text(status)["libelle_marge"].to_list()
    assert texts[0] == "encore 2 implantations possibles"
    assert texts[1] == "maximum atteint"
    assert texts[2] == "il manque 1 implantation pour atteindre le minimum, encore 3 " \
        "implantations possibles"
    assert texts[4] == "il manque 1 implantation pour atteindre le minimum, pas de maximum"
    assert texts[5] == "1 implantation de plus que le maximum"
    assert texts[7] == "encore 1 implantation possible"


def test_a_site_closed_the_day_after_still_counts_and_provisional_follows_the_switch():
    target = targets_frame([("A", "ME050", "toutes", 1, 3)])
    after = oqos_snapshot(e4_closed=DAY + dt.timedelta(days=1))
    assert _result(after, target, OpeningRule(DAY)).status["autorisees"].to_list() == [2]
    same_day = oqos_snapshot(e4_closed=DAY)
    assert _result(same_day, target, OpeningRule(DAY)).status["autorisees"].to_list() == [1]
    pro = oqos_snapshot(e4_type="PRO")
    assert _result(pro, target, OpeningRule(DAY)).status["autorisees"].to_list() == [1]
    kept = _result(pro, target, OpeningRule(DAY, include_provisional=True)).status
    assert kept["autorisees"].to_list() == [2] and kept["decrites"].to_list() == [3]


def test_pending_applications():
    apps = pl.DataFrame(
        [
            ("D1", E3, None, "ME050", "HC", DAY - dt.timedelta(days=30), None),  # pending
            ("D2", E5, None, "ME050", "HJ", DAY - dt.timedelta(days=30), DAY - dt.timedelta(1)),
            ("D3", E6, None, "ME059", None, DAY - dt.timedelta(days=10), DAY + dt.timedelta(5)),
            ("D4", None, "94017", "ME050", None, DAY + dt.timedelta(days=3), None),  # later
            ("D5", None, "94080", "ME061", None, DAY - dt.timedelta(days=2), None),  # new site
        ],
        schema=oqos.APPLICATION_SCHEMA, orient="row",
    )
    targets = targets_frame([
        ("B", "ME050", "toutes", 1, 2), ("B", "ME050", "HJ", 2, 4), ("B", "ME050", "HC", None, 2),
        ("B", "ME059", "toutes", 0, 1), ("B", "ME061", "toutes", 0, 1),
    ])
    result = _result(oqos_snapshot(), targets, OpeningRule(DAY), apps)
    assert result.status["demandees"].to_list() == [1, 0, 1, 1, 1]
    sites = oqos.cell_sites(result, "B", "ME061", "toutes")
    assert sites["finess_eg"].to_list() == ["demande:D5"]
    assert sites["demandee"].to_list() == [True] and sites["demandes"].to_list() == ["D5"]
    text = oqos.marge_text(oqos.DANS, 2, 1, 2, demandees=1)
    assert text == "maximum atteint, 1 demande en attente sans place sous le maximum"
    assert oqos.marge_text(oqos.DANS, 1, None, 3, demandees=3) == (
        "encore 2 implantations possibles, 3 demandes en attente "
        "pour 2 places")


def test_cell_lists_come_from_the_transition_gaps():
    tables = oqos_snapshot()
    rule = OpeningRule(DAY)
    result = _result(tables, targets_frame([c[0] for c in CASES]), rule)
    gaps = transition_gaps(open_tables(tables, rule), DAY)
    a050 = oqos.cell_gaps(gaps, result.sites, "A", "ME050")
    assert a050.select("finess_eg", "ecart").rows() == [(E2, "decrite_non_autorisee")]
    a052 = oqos.cell_gaps(gaps, result.sites, "A", "ME052")
    assert a052.select("finess_eg", "ecart").rows() == [(E1, "autorisee_non_decrite")]
    # the very rows of the gap list, not a recomputation
    assert a052.equals(gaps.filter((pl.col("finess_eg") == E1) & (pl.col("mention") == "ME052")
                                   & (pl.col("ecart") == "autorisee_non_decrite")))
    sites = oqos.cell_sites(result, "A", "ME050", "toutes")
    flags = {r["finess_eg"]: (r["autorisee"], r["decrite"]) for r in sites.iter_rows(named=True)}
    assert flags == {E1: (True, True), E2: (False, True)}  # E4 closed: absent
    assert sites.row(0, named=True)["autorisations"] == "AUT-001"


def test_a_scenario_moves_a_zone_above_its_maximum():
    tables = oqos_snapshot()
    rule = OpeningRule(DAY)
    targets = targets_frame([c[0] for c in CASES])
    before = _result(tables, targets, rule).status
    scenario = scenario_from_dict({"nom": "E3 polyvalent", "changements": [
        {"action": "ajouter_mention", "finess_eg": E3, "mention": "ME050", "forme": "HC",
         "lits": 10},
    ]})
    modified = apply_scenario(tables, scenario, geo.load_origins("11"), None, rule)
    after = _result(modified, targets, rule).status
    compared = oqos.compare_status(before, after)
    moved = compared.filter(pl.col("change"))
    assert moved.select("zone", "mention", "forme", "autorisees_avant", "autorisees_apres",
                        "statut_avant", "statut_apres", "marge_apres").rows() == [
        ("B", "ME050", "toutes", 2, 3, oqos.DANS, oqos.AU_DESSUS, -1),
        ("B", "ME050", "HC", 2, 3, oqos.DANS, oqos.AU_DESSUS, -1),
    ]
    assert compared.height == len(CASES)


def test_paris_lyon_marseille_matched_both_ways():
    arr = pl.DataFrame({"commune_insee": ["75101", "75102"],
                        "commune_parent": ["75056", "75056"]})
    whole = pl.DataFrame([("75056", "P", "Paris")], schema=oqos.ZONING_SCHEMA, orient="row")
    lookup = dict(oqos.zone_lookup(whole, arr).select("commune_insee", "zone").iter_rows())
    assert lookup == {"75056": "P", "75101": "P", "75102": "P"}
    same = pl.DataFrame([("75101", "P", "Paris"), ("75102", "P", "Paris")],
                        schema=oqos.ZONING_SCHEMA, orient="row")
    assert oqos.zone_lookup(same, arr).filter(pl.col("commune_insee") == "75056")["zone"] \
        .to_list() == ["P"]
    split = pl.DataFrame([("75101", "P1", "Centre"), ("75102", "P2", "Nord")],
                         schema=oqos.ZONING_SCHEMA, orient="row")
    assert "75056" not in oqos.zone_lookup(split, arr)["commune_insee"].to_list()


def test_sites_outside_the_zoning_are_reported_not_counted():
    zoning = zoning_frame().filter(pl.col("commune_insee") != "94080")  # Vincennes left out
    result = oqos.oqos_status(oqos_snapshot(), targets_frame([("B", "ME050", "toutes", 1, 2)]),
                              zoning, OpeningRule(DAY))
    assert result.status["autorisees"].to_list() == [1]  # E6 only
    assert result.outside["finess_eg"].to_list() == [E5]
    assert "hors du zonage" in result.notes[0]


def test_default_zoning_is_the_departements():
    communes = geo.load_communes("11")
    zoning = oqos.default_zoning(communes, {"75": "Paris"})
    assert zoning.height == communes.height
    assert set(zoning["zone"]) == set(communes["departement"])
    assert zoning.filter(pl.col("commune_insee") == "75056")["libelle_zone"].to_list() == ["Paris"]


# ------------------------------------------------------------ a second implementation

HC, HJ = {"01"}, {"02", "03", "04"}
OFFER_HC, OFFER_HJ = {"HC", "HS"}, {"HJ", "HN"}


def _closed(row: Mapping, day: dt.date, keep_provisional: bool) -> bool:
    when = row.get("date_fermeture")
    if when is None or when > day:
        return False
    return not (keep_provisional and (row.get("type_fermeture") or "").strip().upper() == "PRO")


def recount(
    tables: Mapping[str, pl.DataFrame],
    day: dt.date,
    zone_of: Mapping[str, str],
    applications: list[dict] | None = None,
    keep_provisional: bool = False,
) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    """(zone, mention, forme) → (authorised, described, requested) sites, in plain Python."""
    open_eg = {
        e["finess_eg"]: e["commune_insee"]
        for e in tables["etablissements"].to_dicts()
        if not _closed(e, day, keep_provisional)
    }
    for f in tables.get("finess_etablissements", pl.DataFrame()).to_dicts():
        if _closed(f, day, keep_provisional):
            open_eg.pop(f["finess_eg"], None)
    units = {
        u["uo_id"]: u["finess_eg"]
        for u in tables["unites"].to_dicts()
        if u["finess_eg"] in open_eg and not _closed(u, day, keep_provisional)
    }
    found: dict[tuple[str, str, str], list[set]] = {}

    def add(site: str, zone: str | None, mention: str, formes: list[str], kind: int) -> None:
        if zone is None:
            return
        for forme in formes:
            found.setdefault((zone, mention, forme), [set(), set(), set()])[kind].add(site)

    for a in tables["autorisations"].to_dicts():
        if (a["regime"] != "SMR" or not a["mention"] or a["forme"] == "05"
                or (a["date_fin"] is not None and a["date_fin"] < day)
                or a["finess_eg"] not in open_eg):
            continue
        formes = ["toutes"] + ["HC"] * (a["forme"] in HC) + ["HJ"] * (a["forme"] in HJ)
        add(a["finess_eg"], zone_of.get(open_eg[a["finess_eg"]]), a["mention"], formes, 0)
    for o in tables["offres"].to_dicts():
        if o["uo_id"] not in units:
            continue
        f = units[o["uo_id"]]
        formes = ["toutes"] + ["HC"] * (o["forme"] in OFFER_HC) + ["HJ"] * (o["forme"] in OFFER_HJ)
        add(f, zone_of.get(open_eg[f]), o["mention"], formes, 1)
    for d in applications or []:
        if (d["date_depot"] is not None and d["date_depot"] > day) or (
            d["date_decision"] is not None and d["date_decision"] <= day
        ):
            continue
        if d["finess_eg"] in open_eg:
            site, zone = d["finess_eg"], zone_of.get(open_eg[d["finess_eg"]])
        else:
            site = d["finess_eg"] or f"demande:{d['demande_id']}"
            zone = zone_of.get(d["commune_insee"]) if d["commune_insee"] else None
        add(site, zone, d["mention"], ["toutes"] + ([d["forme"]] if d["forme"] else []), 2)
    return {k: (len(v[0]), len(v[1]), len(v[2])) for k, v in found.items()}


@pytest.mark.parametrize("keep", [False, True])
def test_every_count_against_the_plain_python_recount_on_the_small_snapshot(keep):
    tables = oqos_snapshot(e4_type="PRO")
    every = [(z, m.code, f, None, None) for z in "AB" for m in nom.MENTIONS
             for f in oqos.TARGET_FORMES]
    status = _result(tables, targets_frame(every), OpeningRule(DAY, keep)).status
    expected = recount(tables, DAY, ZONING, keep_provisional=keep)
    for r in status.iter_rows(named=True):
        want = expected.get((r["zone"], r["mention"], r["forme"]), (0, 0, 0))
        assert (r["autorisees"], r["decrites"]) == want[:2], r


def test_every_count_against_the_plain_python_recount_on_the_demo(demo_store):
    from analysis.io import oqos_files, store

    snap = store.read_snapshot(demo_store)
    inputs = oqos_files.inputs_for("11", demo_store)
    assert inputs.fictif == {"cibles", "zonage", "demandes"}
    status = oqos.oqos_status(snap.tables, inputs.targets, inputs.zoning,
                              OpeningRule(snap.date), inputs.applications,
                              geo.load_arrondissements("11")).status
    zone_of = dict(inputs.zoning.select("commune_insee", "zone").iter_rows())
    expected = recount(snap.tables, snap.date, zone_of, inputs.applications.to_dicts())
    assert status.height == inputs.targets.height > 100
    for r in status.iter_rows(named=True):
        want = expected.get((r["zone"], r["mention"], r["forme"]), (0, 0, 0))
        assert (r["autorisees"], r["decrites"], r["demandees"]) == want, r
    # the illustration shows every status and every case of bound
    totals = oqos.status_totals(status)
    assert all(n > 0 for n in totals.values()), totals
    assert (status["autorisees"] == status["min"]).any()
    assert (status["autorisees"] == status["max"]).any()
    assert status["min"].is_null().any() and status["max"].is_null().any()
    assert (status["demandees"] > 0).any()
