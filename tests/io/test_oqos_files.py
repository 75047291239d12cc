"""The planner's OQOS files (French headers, CSV and Excel, bad input on purpose), the store's
setting, the demo's illustrative files and ``smr oqos`` end to end against a recount."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from analysis import cli
from analysis.demo import oqos as oqos_demo
from analysis.geo import geography as geo
from analysis.indicators.opening import OpeningRule
from analysis.io import oqos_files, store
from analysis.model import nomenclature as nom
from analysis.model.errors import InputError, StoreError
from analysis.transition import oqos
from tests.transition.test_oqos import recount

TARGETS_FR = (
    "Objectifs quantifiés SMR (exemple)\n"
    "Zone d'implantation;Mention SMR;Forme d'activité;Borne basse;Borne haute;Commentaire\n"
    "75;gériatrie;Hospitalisation complète;2;4;\n"
    "75;ME050;;1,0;;sans maximum\n"
    "77;Pédiatrie (tous âges);HTP;;1;\n"
)


def test_targets_with_french_headers_a_title_line_and_labels():
    frame = oqos_files.read_targets(("\ufeff" + TARGETS_FR).encode("utf-8"), "cibles.csv")
    assert frame.rows() == [
        ("75", "ME059", "HC", 2, 4),
        ("75", "ME050", "toutes", 1, None),
        ("77", "ME061", "HJ", None, 1),
    ]


def test_targets_from_an_excel_workbook(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["OQOS 2023-2028"])
    ws.append(["Zone", "Mention", "Forme", "Minimum", "Maximum"])
    ws.append(["93", "ME051", "HJ", 1, 3])
    ws.append([None, None, None, None, None])
    ws.append(["94", "Locomoteur", "toutes", 0, None])
    path = tmp_path / "objectifs.xlsx"
    wb.save(path)
    frame = oqos_files.read_targets(path)
    assert frame.rows() == [("93", "ME051", "HJ", 1, 3), ("94", "ME051", "toutes", 0, None)]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("zone,mention,min,max\n75,ME050,3,2\n", "ligne 2 : minimum 3 supérieur au maximum 2"),
        ("zone,mention,min,max\n75,ME050,1.5,2\n",
         "ligne 2, colonne min : « 1.5 » n'est pas un nombre entier"),
        ("zone,mention,min,max\n75,ME050,-1,2\n", "colonne min : « -1 »"),
        ("zone,mention,min,max\n75,ME099,1,2\n", "ligne 2, colonne mention : mention inconnue"),
        ("zone,mention,forme,min,max\n75,ME050,HN,1,2\n", "forme inconnue « HN »"),
        ("zone,mention,min,max\n75,ME050,1,2\n75,polyvalent,0,3\n",
         "ligne 3 : objectif en double : zone 75, mention ME050, forme toutes (déjà ligne 2)"),
        ("zone,mention,min,max\n99,ME050,1,2\n", "zone « 99 » absente du zonage"),
        ("zone,mention,minimum\n75,ME050,1\n", "colonne(s) manquante(s)"),
        ("zone,mention,min,max\n75,ME099,1,2\n76,ME098,x,2\n", "(et 2 autre(s) erreur(s))"),
    ],
)
def test_bad_targets_are_refused_with_the_line_and_the_column(body, words):
    with pytest.raises(InputError) as err:
        oqos_files.read_targets(body.encode(), "cibles.csv", zones={"75", "76"})
    assert words in str(err.value)
    assert str(err.value).startswith("cibles.csv : ")


def test_unreadable_files():
    with pytest.raises(InputError, match="fichier vide"):
        oqos_files.read_targets(b"  \n", "vide.csv")
    with pytest.raises(InputError, match="pas un fichier texte"):
        oqos_files.read_targets(bytes(range(256)) * 4, "binaire.csv")
    with pytest.raises(InputError, match="classeur Excel illisible"):
        oqos_files.read_targets(b"PK\x03\x04 pas un classeur", "cibles.xlsx")
    with pytest.raises(InputError, match="aucune ligne de données"):
        oqos_files.read_targets(b"zone;mention;min;max\n", "cibles.csv")


def test_zoning_former_communes_other_regions_and_conflicts():
    communes = geo.load_communes("11")
    body = (
        "Code commune;Zone;Libellé de la zone\n"
        "93059;N;Nord\n"  # Pierrefitte-sur-Seine, merged into Saint-Denis (93066) in 2025
        "75056;P;Paris\n"
        "69123;L;Lyon\n"  # another region: ignored
        "7056;P;Paris\n"  # a 4-digit code read as 07056: another region, ignored
    )
    read = oqos_files.read_zoning(body.encode(), "zonage.csv", communes,
                                  geo.load_former_communes("11"))
    assert read.frame.rows() == [("93066", "N", "Nord"), ("75056", "P", "Paris")]
    assert read.notes[0].startswith("2 ligne(s) de communes hors de la région")
    assert f"{communes.height - 2} commune(s) de la région absente(s)" in read.notes[1]
    with pytest.raises(InputError, match=r"ligne 3, colonne Zone : commune 75056 déjà dans la "
                       r"zone P \(ligne 2\)"):
        oqos_files.read_zoning(b"Code commune;Zone\n75056;P\n75056;Q\n", "z.csv", communes)
    with pytest.raises(InputError, match="zone P déjà nommée « Paris »"):
        oqos_files.read_zoning(b"commune_insee;zone;libelle_zone\n75056;P;Paris\n92012;P;Ouest\n",
                               "z.csv", communes)
    with pytest.raises(InputError, match="code commune « 750 » invalide"):
        oqos_files.read_zoning(b"commune_insee,zone\n750,P\n", "z.csv")


def test_applications():
    body = (
        "N° demande;FINESS;Code commune;Mention;Forme;Date de dépôt;Date de décision\n"
        "D1;75000001;;ME050;HC;02/01/2024;\n"  # 8 digits: a spreadsheet dropped the zero
        ";;94017;gériatrie;;2024-01-15;2024-02-20\n"
    )
    frame = oqos_files.read_applications(body.encode(), "demandes.csv")
    assert frame.rows() == [
        ("D1", "075000001", None, "ME050", "HC", dt.date(2024, 1, 2), None),
        ("L3", None, "94017", "ME059", None, dt.date(2024, 1, 15), dt.date(2024, 2, 20)),
    ]
    pending = oqos.pending_applications(frame, dt.date(2024, 2, 20))
    assert pending["demande_id"].to_list() == ["D1"]  # decided that day: no longer pending
    for bad, words in (
        ("mention;finess_eg\nME050;\n", "ni FINESS ni commune"),
        ("mention;finess_eg;date_depot\nME050;750000011;31/02/2024\n", "date « 31/02/2024 »"),
        ("mention;finess_eg;date_depot;date_decision\nME050;750000011;2024-02-01;2024-01-01\n",
         "décision antérieure au dépôt"),
        ("demande_id;mention;commune_insee\nA;ME050;75056\nA;ME051;75056\n",
         "demande A en double (déjà ligne 2)"),
    ):
        with pytest.raises(InputError, match=re.escape(words)):
            oqos_files.read_applications(bad.encode(), "demandes.csv")


def test_store_setting_saved_checked_and_removed(tmp_path):
    st = tmp_path / "magasin"
    st.mkdir()
    with pytest.raises(InputError):  # an unusable file changes nothing
        oqos_files.save_store_file(st, "cibles", b"zone;mention\n75;ME050\n", "c.csv")
    assert oqos_files.store_info(st) == {}
    oqos_files.save_store_file(st, "cibles", TARGETS_FR.encode("utf-8"), "Mes objectifs.csv")
    data, name, info = oqos_files.store_file(st, "cibles")
    assert data == TARGETS_FR.encode("utf-8") and name == "Mes objectifs.csv"
    assert info["fictif"] is False
    inputs = oqos_files.inputs_for("11", st)  # no zoning: the départements, said so
    assert inputs.origins == {"zonage": "défaut", "cibles": "magasin", "demandes": "défaut"}
    assert "départements de la région (8 zones), zonage par défaut" in inputs.zoning_caption()
    assert inputs.applications is None
    (st / "oqos" / "cibles.csv").write_bytes(b"zone;mention;min;max\n75;ME050;0;9\n")
    with pytest.raises(StoreError, match="modifié ou corrompu"):
        oqos_files.store_file(st, "cibles")
    assert oqos_files.clear_store_file(st, "cibles")
    assert not (st / "oqos" / "cibles.csv").exists()
    with pytest.raises(InputError, match="aucun objectif"):
        oqos_files.inputs_for("11", st)


def test_demo_files_are_deterministic_fictitious_and_keep_a_planners_file(demo_store, tmp_path):
    snap = store.read_snapshot(demo_store)
    first = oqos_demo.demo_files(snap.tables, snap.date, "11", 20230601)
    again = oqos_demo.demo_files(snap.tables, snap.date, "11", 20230601)
    assert first == again
    other = oqos_demo.demo_files(snap.tables, snap.date, "11", 7)
    assert other["cibles"] != first["cibles"] and other["zonage"] == first["zonage"]
    info = oqos_files.store_info(demo_store)
    assert {k: v["fictif"] for k, v in info.items()} == {k: True for k in oqos_files.KINDS}
    for kind, (data, _) in first.items():  # the builder wrote these very bytes
        assert oqos_files.store_file(demo_store, kind)[0] == data
    zoning = oqos_files.read_zoning(first["zonage"][0], "z.csv").frame
    assert zoning["libelle_zone"].str.contains("zone fictive").all()
    # a planner's own zoning survives a rebuild of the illustration
    st = tmp_path / "s"
    st.mkdir()
    own = b"commune_insee;zone\n75056;P\n"
    oqos_files.save_store_file(st, "zonage", own, "mon_zonage.csv")
    written = oqos_demo.write_demo_files(st, snap.tables, snap.date, "11", 1)
    assert written == ["cibles", "demandes"]
    assert oqos_files.store_file(st, "zonage")[0] == own


# ------------------------------------------------------------------------- smr oqos


def _csv_rows(path: Path) -> list[dict]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


#: The labels of « CSV pour Excel » → codes.
MENTION = {m.court: m.code for m in nom.MENTIONS}
FORME = {"Hospitalisation complète": "HC", "Hospitalisation de jour": "HJ", "toutes": "toutes",
         "": None}


def _french_date(text: str) -> dt.date | None:
    return dt.datetime.strptime(text, "%d/%m/%Y").date() if text else None


def test_command_on_the_demo_matches_an_independent_recount(demo_store, tmp_path, capsys):
    out = tmp_path / "oqos.csv"
    assert cli.main(["oqos", "--store", str(demo_store), "--out", str(out)]) == cli.EXIT_OK
    text = capsys.readouterr().out
    assert "zonage fictif de démonstration" in text and "Objectifs écrits" in text
    written = pl.read_csv(out, infer_schema_length=0)
    assert written.columns == ["zone", "libelle_zone", "mention", "forme", "autorisees",
                               "decrites", "demandees", "min", "max", "statut", "marge"]
    # the stored files (« CSV pour Excel ») read with the csv module, the snapshot's rows in
    # plain Python
    folder = demo_store / "oqos"
    zone_of = {r["Commune (INSEE)"]: r["Zone"] for r in _csv_rows(folder / "zonage.csv")}
    apps = [
        {"demande_id": r["N° de demande"], "finess_eg": r["FINESS EG"] or None,
         "commune_insee": r["Commune (INSEE)"] or None, "mention": MENTION[r["Mention"]],
         "forme": FORME[r["Forme"]], "date_depot": _french_date(r["Date de dépôt"]),
         "date_decision": _french_date(r["Date de décision"])}
        for r in _csv_rows(folder / "demandes.csv")
    ]
    snap = store.read_snapshot(demo_store)
    expected = recount(snap.tables, snap.date, zone_of, apps)
    targets = _csv_rows(folder / "cibles.csv")
    assert written.height == len(targets)
    for row, target in zip(written.iter_rows(named=True), targets, strict=True):
        key = (target["Zone"], MENTION[target["Mention"]], FORME[target["Forme"]] or "toutes")
        assert (row["zone"], row["mention"], row["forme"]) == key
        a, d, p = expected.get(key, (0, 0, 0))
        assert (int(row["autorisees"]), int(row["decrites"]), int(row["demandees"])) == (a, d, p)
        low = int(target["Minimum"]) if target["Minimum"] else None
        high = int(target["Maximum"]) if target["Maximum"] else None
        statut = ("sous_minimum" if low is not None and a < low
                  else "au_dessus_maximum" if high is not None and a > high else "dans_cible")
        assert row["statut"] == statut
        assert row["marge"] == (None if high is None else str(high - a))


def test_command_options(demo_store, tmp_path, capsys):
    out = tmp_path / "oqos.csv"
    argv = ["oqos", "--store", str(demo_store), "--out", str(out), "--csv-excel"]
    assert cli.main(argv) == cli.EXIT_OK
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data.decode("utf-8-sig").splitlines()[0].split(";")
    assert header[:4] == ["Zone", "Libellé de la zone", "Mention", "Forme"]
    assert "Dans la cible" in data.decode("utf-8-sig")
    # with the provisional closures kept, the counts follow the recount that keeps them
    kept = tmp_path / "kept.xlsx"
    assert cli.main(["oqos", "--store", str(demo_store), "--out", str(kept),
                     "--inclure-fermetures-provisoires"]) == cli.EXIT_OK
    frame = pl.read_excel(kept)
    snap = store.read_snapshot(demo_store)
    inputs = oqos_files.inputs_for("11", demo_store)
    zone_of = dict(inputs.zoning.select("commune_insee", "zone").iter_rows())
    expected = recount(snap.tables, snap.date, zone_of, inputs.applications.to_dicts(),
                       keep_provisional=True)
    for r in frame.iter_rows(named=True):
        assert r["autorisees"] == expected.get((r["zone"], r["mention"], r["forme"]),
                                               (0, 0, 0))[0]
    default = oqos.oqos_status(snap.tables, inputs.targets, inputs.zoning,
                               OpeningRule(snap.date), inputs.applications).status
    assert frame["decrites"].sum() > default["decrites"].sum()  # a PRO closure in the demo
    capsys.readouterr()
    # another zoning than the targets': the unknown zone is named, exit code 2
    zonage = tmp_path / "zonage.csv"
    zonage.write_text("commune_insee;zone\n75056;PARIS\n", encoding="utf-8")
    code = cli.main(["oqos", "--store", str(demo_store), "--zonage", str(zonage),
                     "--out", str(out)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_INPUT
    assert "zone « Z75 » absente du zonage (zones : PARIS)" in err and err.count("\n") == 1


def test_command_with_given_files_and_default_zoning(demo_store, tmp_path, capsys):
    cibles = tmp_path / "cibles.csv"
    cibles.write_text("zone;mention;forme;min;max\n75;ME050;toutes;1;2\n77;ME059;HC;;\n",
                      encoding="utf-8")
    out = tmp_path / "o.parquet"
    assert cli.main(["oqos", "--store", str(demo_store), "--cibles", str(cibles),
                     "--zonage", str(demo_store / "oqos" / "zonage.csv"),
                     "--out", str(out)]) == 2  # targets on départements, zoning fictitious
    capsys.readouterr()
    settings = json.loads((demo_store / "oqos" / "reglage.json").read_text(encoding="utf-8"))
    assert set(settings) == set(oqos_files.KINDS)
    empty = tmp_path / "magasin"
    store.write_snapshot(empty, store.read_snapshot(demo_store).date,
                         store.read_snapshot(demo_store).tables, extra={"region": "11"})
    assert cli.main(["oqos", "--store", str(empty), "--cibles", str(cibles),
                     "--out", str(out)]) == cli.EXIT_OK
    text = capsys.readouterr().out
    assert "départements de la région (8 zones), zonage par défaut" in text
    assert "colonne « demandées » vide" in text
    frame = pl.read_parquet(out)
    assert frame["zone"].to_list() == ["75", "77"]
    assert frame["demandees"].is_null().all()
    assert frame["libelle_zone"].to_list() == ["Paris", "Seine-et-Marne"]
