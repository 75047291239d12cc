"""FINESS open data: the etalab extraction CSV (with its real-file variations) and the JSON
activity flow, checked field by field; coordinates against an independent implementation of
the IGN Lambert-93 and UTM inverse formulas."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import random
from pathlib import Path

import polars as pl
import pytest

from analysis.io.loaders.finess import (
    STRUCTURE_FIELDS,
    departement_code,
    insee_commune,
    load_finess,
)
from analysis.io.validate import validate_tables
from analysis.model.errors import InputError

# --- independent geodesy (Snyder, Map Projections: A Working Manual, USGS 1987) -------------

GRS80_A = 6378137.0
GRS80_F = 1 / 298.257222101
E2 = 2 * GRS80_F - GRS80_F**2
E = math.sqrt(E2)


def lambert93_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """Inverse Lambert conformal conic, 2 standard parallels, with the Lambert-93 constants
    published by IGN (φ1 = 49°, φ2 = 44°, φ0 = 46°30', λ0 = 3°, X0 = 700 km, Y0 = 6 600 km,
    GRS80). Returns (longitude, latitude) in degrees."""

    def m(phi: float) -> float:
        return math.cos(phi) / math.sqrt(1 - E2 * math.sin(phi) ** 2)

    def t(phi: float) -> float:
        s = E * math.sin(phi)
        return math.tan(math.pi / 4 - phi / 2) / ((1 - s) / (1 + s)) ** (E / 2)

    phi1, phi2, phi0 = map(math.radians, (49.0, 44.0, 46.5))
    lam0 = math.radians(3.0)
    n = (math.log(m(phi1)) - math.log(m(phi2))) / (math.log(t(phi1)) - math.log(t(phi2)))
    big_f = m(phi1) / (n * t(phi1) ** n)
    rho0 = GRS80_A * big_f * t(phi0) ** n
    dx, dy = x - 700000.0, rho0 - (y - 6600000.0)
    rho = math.copysign(math.hypot(dx, dy), n)
    tt = (rho / (GRS80_A * big_f)) ** (1 / n)
    lam = math.atan2(dx, dy) / n + lam0
    phi = math.pi / 2 - 2 * math.atan(tt)
    for _ in range(20):
        s = E * math.sin(phi)
        phi = math.pi / 2 - 2 * math.atan(tt * ((1 - s) / (1 + s)) ** (E / 2))
    return math.degrees(lam), math.degrees(phi)


def utm_to_wgs84(x: float, y: float, zone: int, south: bool) -> tuple[float, float]:
    """Inverse transverse Mercator (Snyder eq. 8-18 … 8-25) on GRS80, UTM constants."""
    k0, ep2 = 0.9996, E2 / (1 - E2)
    lam0 = math.radians(zone * 6 - 183)
    mm = (y - (10_000_000.0 if south else 0.0)) / k0
    mu = mm / (GRS80_A * (1 - E2 / 4 - 3 * E2**2 / 64 - 5 * E2**3 / 256))
    e1 = (1 - math.sqrt(1 - E2)) / (1 + math.sqrt(1 - E2))
    phi1 = (
        mu
        + (3 * e1 / 2 - 27 * e1**3 / 32) * math.sin(2 * mu)
        + (21 * e1**2 / 16 - 55 * e1**4 / 32) * math.sin(4 * mu)
        + (151 * e1**3 / 96) * math.sin(6 * mu)
        + (1097 * e1**4 / 512) * math.sin(8 * mu)
    )
    c1, t1 = ep2 * math.cos(phi1) ** 2, math.tan(phi1) ** 2
    n1 = GRS80_A / math.sqrt(1 - E2 * math.sin(phi1) ** 2)
    r1 = GRS80_A * (1 - E2) / (1 - E2 * math.sin(phi1) ** 2) ** 1.5
    d = (x - 500000.0) / (n1 * k0)
    phi = phi1 - (n1 * math.tan(phi1) / r1) * (
        d**2 / 2
        - (5 + 3 * t1 + 10 * c1 - 4 * c1**2 - 9 * ep2) * d**4 / 24
        + (61 + 90 * t1 + 298 * c1 + 45 * t1**2 - 252 * ep2 - 3 * c1**2) * d**6 / 720
    )
    lam = lam0 + (
        d
        - (1 + 2 * t1 + c1) * d**3 / 6
        + (5 - 2 * c1 + 28 * t1 - 3 * c1**2 + 8 * ep2 + 24 * t1**2) * d**5 / 120
    ) / math.cos(phi1)
    return math.degrees(lam), math.degrees(phi)


def test_independent_lambert93_matches_published_origin():
    # The projection origin (3°E, 46°30'N) maps to (700 000, 6 600 000) by definition.
    lon, lat = lambert93_to_wgs84(700000.0, 6600000.0)
    assert lon == pytest.approx(3.0, abs=1e-12) and lat == pytest.approx(46.5, abs=1e-12)


# --- building files by hand ----------------------------------------------------------------


def structure(**values: str) -> str:
    """A ``structureet`` line with the given fields (others empty), in file order."""
    unknown = set(values) - set(STRUCTURE_FIELDS)
    assert not unknown, unknown
    fields = [values.get(name, "") for name in STRUCTURE_FIELDS]
    fields[0] = "structureet"
    return ";".join(fields)


BOURG = structure(
    nofinesset="010000024",
    nofinessej="010780054",
    rs="CH FLEYRIAT",
    rslongue="CENTRE HOSPITALIER DE BOURG-EN-BRESSE – RÉÉDUCATION",
    numvoie="900",
    typvoie="RTE",
    voie="DE PARIS",
    lieuditbp="BP 401",
    commune="053",
    departement="01",
    libdepartement="AIN",
    ligneacheminement="01012 BOURG EN BRESSE CEDEX",
    telephone="474454647",  # lost its leading zero in a spreadsheet
    categetab="355",
    libcategetab="Centre Hospitalier (C.H.)",
    siret="2,601E+13",  # mangled into scientific notation
    codesph="1",
    libsph="Etablissement public de santé",
    datemaj="19/01/2016",
)
# 2016 layout: sourcecoordet split over extra ';' fields, datemaj last.
BOURG_GEO = (
    "geolocalisation;010000024;870215.7;6571590.5;1;ATLASANTE;100;IGN;BD_ADRESSE;V2.1;"
    "LAMBERT_93;2016-02-29"
)
PARIS = structure(
    nofinesset="750000011",
    nofinessej="750000003",
    rs="SMR AUTEUIL",
    rslongue="",
    numvoie="11",
    compvoie="B",
    typvoie="R",
    voie="CHARDON LAGACHE",
    commune="116",
    departement="75",
    ligneacheminement="75016 PARIS",
    telephone="0144963131",
    categetab="109",
    libsph="Etablissement de santé privé d'intérêt collectif",
    datemaj="2024-03-01",
)
PARIS_GEO = "geolocalisation;750000011;646640.2;6859470.8;1,ATLASANTE,100,IGN,BD_ADRESSE;2024-02-01"
CAYENNE = structure(
    nofinesset="9C0000017",
    nofinessej="9C0000009",
    rs='LIEU DE VIE ""MAVOUNA MEMA 1""',
    voie="DES FLEURS",
    commune="302",
    departement="9C",
    ligneacheminement="97300 CAYENNE",
    categetab="365",
    datemaj="2024-02-01",
).replace('LIEU DE VIE ""MAVOUNA MEMA 1""', '"LIEU DE VIE ""MAVOUNA MEMA 1"""')
CAYENNE_GEO = "geolocalisation;9C0000017;352000;543000;1,ATLASANTE,100,IGN;2024-01-01"


def write(folder: Path, name: str, lines: list[str], encoding: str = "cp1252") -> Path:
    path = folder / name
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def typed(result) -> dict[str, pl.DataFrame]:
    return validate_tables(result.tables).tables


def by_finess(frame: pl.DataFrame) -> dict[str, dict]:
    return {r["finess_eg"]: r for r in frame.iter_rows(named=True)}


# --- the extraction file -------------------------------------------------------------------


def test_2016_windows_1252_file_every_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "etalab-cs1100507-stock-20160301-0400.csv",
        ["finess;etalab;95;2016-03-01", BOURG, PARIS, CAYENNE, BOURG_GEO, PARIS_GEO, CAYENNE_GEO],
    )
    assert "RÉÉDUCATION".encode("cp1252") in path.read_bytes()  # really Windows-1252
    result = load_finess(path)
    assert result.sources[0]["encoding"] == "windows-1252"
    assert result.sources[0]["metadonnees"] == "finess;etalab;95;2016-03-01"
    rows = by_finess(typed(result)["etablissements"])
    assert set(rows) == {"010000024", "750000011", "9C0000017"}

    bourg = rows["010000024"]
    lon, lat = lambert93_to_wgs84(870215.7, 6571590.5)
    assert bourg["longitude"] == pytest.approx(lon, abs=1e-6)
    assert bourg["latitude"] == pytest.approx(lat, abs=1e-6)
    assert 46.1 < lat < 46.3 and 5.1 < lon < 5.3  # Bourg-en-Bresse, as DOMAIN.md says
    assert {k: bourg[k] for k in bourg if k not in ("latitude", "longitude")} == {
        "finess_eg": "010000024",
        "finess_ej": "010780054",
        "raison_sociale": "CENTRE HOSPITALIER DE BOURG-EN-BRESSE – RÉÉDUCATION",
        "surnom": "CH FLEYRIAT",
        "adresse": "900 RTE DE PARIS, BP 401",
        "code_postal": "01012",
        "commune_insee": "01053",
        "categorie": "355",
        "statut": "public",
        "telephone": "474454647",  # kept as text, flagged below
        "email_alerte": None,
        "directeur_nom": None,
        "directeur_telephone": None,
        "directeur_email": None,
        "date_maj": dt.datetime(2016, 1, 19),
        "id_nat_struct": None,
        "date_fermeture": None,
        "type_fermeture": None,
        "cme_president_nom": None,
        "cme_president_telephone": None,
        "cme_president_email": None,
    }

    paris = rows["750000011"]
    assert paris["raison_sociale"] == "SMR AUTEUIL" and paris["surnom"] is None
    assert paris["adresse"] == "11 B R CHARDON LAGACHE"
    assert (paris["code_postal"], paris["commune_insee"]) == ("75016", "75116")
    assert paris["statut"] == "prive_non_lucratif"
    assert paris["date_maj"] == dt.datetime(2024, 3, 1)
    lon, lat = lambert93_to_wgs84(646640.2, 6859470.8)
    assert (paris["longitude"], paris["latitude"]) == pytest.approx((lon, lat), abs=1e-6)

    cayenne = rows["9C0000017"]
    assert cayenne["raison_sociale"] == 'LIEU DE VIE "MAVOUNA MEMA 1"'  # doubled quotes
    assert cayenne["commune_insee"] == "97302" and cayenne["code_postal"] == "97300"
    assert cayenne["statut"] is None  # no legal-status information: left unknown
    lon, lat = utm_to_wgs84(352000, 543000, zone=22, south=False)
    assert (cayenne["longitude"], cayenne["latitude"]) == pytest.approx((lon, lat), abs=1e-6)
    assert 4.8 < lat < 5.0 and -52.5 < lon < -52.2  # Cayenne

    report = pl.concat([validate_tables(result.tables).report, result.notes])
    flagged = {(r["rule"], r["value"]) for r in report.iter_rows(named=True)}
    assert ("siret_notation_scientifique", "2,601E+13") in flagged
    assert ("telephone_zero_perdu", "474454647") in flagged
    assert any(r == "projection_non_verifiee" for r, _ in flagged)


def test_recent_utf8_file_with_iso_dates_and_six_field_geolocation(tmp_path: Path) -> None:
    path = write(
        tmp_path, "etalab.csv", ["finess;etalab;2;2026-05-12", PARIS, PARIS_GEO], encoding="utf-8"
    )
    result = load_finess(path)
    assert result.sources[0]["encoding"] == "utf-8"
    (row,) = typed(result)["etablissements"].iter_rows(named=True)
    assert row["date_maj"] == dt.datetime(2024, 3, 1)
    assert row["latitude"] == pytest.approx(lambert93_to_wgs84(646640.2, 6859470.8)[1], abs=1e-6)


def test_utf8_with_bom_and_no_metadata_line_is_noted(tmp_path: Path) -> None:
    path = write(tmp_path, "finess.csv", [PARIS], encoding="utf-8-sig")
    result = load_finess(path)
    assert result.tables["etablissements"].height == 1
    assert "metadonnees_absentes" in result.notes["rule"].to_list()
    assert "sans_geolocalisation" in result.notes["rule"].to_list()


@pytest.mark.parametrize(
    ("dep", "commune", "expected"),
    [
        ("01", "053", "01053"),
        ("1", "53", "01053"),
        ("2A", "004", "2A004"),
        ("9C", "302", "97302"),
        ("9D", "411", "97411"),
        ("9F", "610", "97610"),
        ("9A", "701", "97701"),
        ("9J", "611", "98611"),
        ("", "116", None),
        ("75", "", None),
        ("ZZ", "001", None),
    ],
)
def test_insee_commune_rebuilt(dep: str, commune: str, expected: str | None) -> None:
    assert insee_commune(dep, commune) == expected


def test_departement_codes_for_filters() -> None:
    assert [departement_code(c) for c in ("9C", "9a", "1", "75", "2B")] == [
        "973",
        "971",
        "01",
        "75",
        "2B",
    ]


def test_filters_by_region_departement_and_category(tmp_path: Path) -> None:
    path = write(tmp_path, "etalab.csv", ["finess;etalab;3;x", BOURG, PARIS, CAYENNE])
    ile_de_france = load_finess(path, region="11")
    assert ile_de_france.tables["etablissements"]["finess_eg"].to_list() == ["750000011"]
    assert any("2 établissement(s) hors du filtre" in r for r in ile_de_france.notes["reason"])
    assert ile_de_france.extra["filtre"] == "région 11"
    guyane = load_finess(path, departements=["9C"])
    assert guyane.tables["etablissements"]["finess_eg"].to_list() == ["9C0000017"]
    several = load_finess(path, departements=["01,75"], categories=["355", "109"])
    assert several.tables["etablissements"]["finess_eg"].to_list() == ["010000024", "750000011"]
    only_355 = load_finess(path, categories=["355"])
    assert only_355.tables["etablissements"]["finess_eg"].to_list() == ["010000024"]


def test_unknown_region_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "etalab.csv", ["finess;etalab;1;x", PARIS])
    with pytest.raises(InputError, match="filtre FINESS.*99"):
        load_finess(path, region="99")


# --- broken extraction files: the rest still loads ---------------------------------------


def test_truncated_file_rejects_the_cut_line_and_keeps_the_rest(tmp_path: Path) -> None:
    text = "\r\n".join(["finess;etalab;3;x", PARIS, BOURG]).encode("cp1252")
    path = tmp_path / "etalab.csv"
    path.write_bytes(text[: len(text) - 60])  # cut inside the last structureet line
    result = load_finess(path)
    validation = validate_tables(result.tables)
    assert validation.counts["etablissements"]["lus"] == 2
    assert validation.counts["etablissements"]["conserves"] == 1
    (reject,) = validation.rejected.iter_rows(named=True)
    assert reject["rule"] == "lecture_impossible"
    assert "champs au lieu de 32 (ligne 3)" in reject["reason"]
    assert json.loads(reject["donnees"])["_source"] == "etalab.csv, ligne 3"


def test_badly_quoted_line_is_rejected_with_its_reason(tmp_path: Path) -> None:
    broken = PARIS.replace("SMR AUTEUIL", '"SMR AUTEUIL').replace("750000011", "750000029")
    path = write(tmp_path, "etalab.csv", ["finess;etalab;2;x", broken, BOURG])
    validation = validate_tables(load_finess(path).tables)
    assert validation.counts["etablissements"] == {
        "lus": 2,
        "conserves": 1,
        "rejetes": 1,
        "avertissements": 1,
    }
    assert "guillemets mal placés" in validation.rejected["reason"][0]


def test_unknown_line_types_and_orphan_geolocations_are_noted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "etalab.csv",
        [
            "finess;etalab;3;x",
            PARIS,
            "equipementsocial;750000011;x",
            "geolocalisation;999999999;1;2;3;4",
            "geolocalisation;750000011",
        ],
    )
    rules = set(load_finess(path).notes["rule"].to_list())
    assert {
        "type_de_ligne_inconnu",
        "geolocalisation_orpheline",
        "geolocalisation_illisible",
    } <= rules


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "vide"),
        (random.Random(3).randbytes(3000), "texte"),
        (b"PK\x03\x04" + bytes(100), "Excel"),
        (b"finess_eg;raison_sociale;commune_insee\n750000011;A;75056\n", "FINESS"),
        (b"finess;etalab;1;x\r\nequipementsocial;1;2\r\n", "structureet"),
    ],
)
def test_unreadable_extraction_files(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "etalab.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=words) as info:
        load_finess(path)
    assert "etalab.csv" in str(info.value)


# --- the JSON activity flow ----------------------------------------------------------------


def _activity(
    ae: str,
    nature: str,
    typed_values: dict,
    arhgos: str | None = None,
    state: str = "A",
    start: str = "2009-06-10",
    end: str | None = None,
) -> dict:
    key = {"AMF": "typeActiviteAMF", "AMM": "typeActiviteAMM", "ASR": "typeActiviteASR"}[nature]
    return {
        "caracteristiquesGeneriques": {
            "activiteAeId": ae,
            "etatObjet": state,
            "identifiantAutorisation": arhgos,
            "numAutorisationArhgos": arhgos,
            "dateDebutActiviteAutorisee": start,
            "dateFinActiviteAutorisee": end,
            "dateFinEffectiveActivite": None,
            "typeActiviteSMSSE": "272",
        },
        "nature": {"codeNature": nature, "caracteristiquesSpecifiques": {key: typed_values}},
        "evenement": [],
    }


ACTIVITIES = {
    "metadata": {"schemaVersion": "v1.0.1", "generatedAt": "2026-04-01T14:46:05Z"},
    "pmej": [
        {
            "numFiness": "750000003",
            "pmSmsseId": "2",
            "activitesAutorisees": [
                _activity(
                    "1",
                    "AMF",
                    {"activiteAMF": "52", "modaliteActivite": "09", "formeActivite": "01"},
                    arhgos="11-75-EJONLY",
                ),
            ],
            "ege": [
                {
                    "egeId": "10",
                    "numFinessEge": "750000011",
                    "activitesExercees": [
                        _activity(
                            "101",
                            "AMF",
                            {"activiteAMF": "50", "modaliteActivite": "09", "formeActivite": "01"},
                            arhgos="11-75-0001",
                            end="2025-12-31",
                        ),
                        _activity(
                            "102",
                            "AMM",
                            {
                                "activiteAMM": "02",
                                "modaliteAMM": "03",
                                "mentionAMM": "ME051",
                                "ptsAMM": "05",
                                "declarationAMM": "06",
                            },
                            arhgos="11-75-0002",
                            start="2023-06-01",
                        ),
                        _activity(
                            "103",
                            "AMF",
                            {"activiteAMF": "18", "modaliteActivite": "69", "formeActivite": "15"},
                            arhgos="11-75-0003",
                        ),
                        _activity(
                            "104",
                            "AMF",
                            {"activiteAMF": "51", "modaliteActivite": "78", "formeActivite": "02"},
                            arhgos="11-75-0004",
                            state="I",
                        ),
                    ],
                }
            ],
        }
    ],
}


def test_activity_flow_every_field(tmp_path: Path) -> None:
    extraction = write(tmp_path, "etalab.csv", ["finess;etalab;1;x", PARIS])
    flow = tmp_path / "finess-activites-journalier-20260401.json"
    flow.write_text(json.dumps(ACTIVITIES), encoding="utf-8")
    result = load_finess([extraction, flow])
    validation = validate_tables(result.tables)
    rows = {
        r["autorisation_id"]: r for r in validation.tables["autorisations"].iter_rows(named=True)
    }
    assert rows == {
        "11-75-0001": {
            "autorisation_id": "11-75-0001",
            "finess_eg": "750000011",
            "regime": "SSR",
            "activite": "50",
            "mention": None,
            "modalite": "09",
            "forme": "01",
            "date_decision": None,
            "date_mise_en_oeuvre": dt.date(2009, 6, 10),
            "date_fin": dt.date(2025, 12, 31),
        },
        "11-75-0002": {
            "autorisation_id": "11-75-0002",
            "finess_eg": "750000011",
            "regime": "SMR",
            "activite": None,
            "mention": "ME051",
            "modalite": None,
            "forme": None,
            "date_decision": None,
            "date_mise_en_oeuvre": dt.date(2023, 6, 1),
            "date_fin": None,
        },
        "11-75-0004": {
            "autorisation_id": "11-75-0004",
            "finess_eg": "750000011",
            "regime": "SSR",
            "activite": "51",
            "mention": None,
            "modalite": "78",
            "forme": "02",
            "date_decision": None,
            "date_mise_en_oeuvre": dt.date(2009, 6, 10),
            "date_fin": None,
        },
    }
    # the AMM modality code « 03 » (TRE_R382) is not a TRE_R275 modality: warned and emptied
    warned = validation.report.filter(pl.col("rule") == "code_inconnu")
    assert warned["value"].to_list() == ["03"]
    rules = dict(zip(result.notes["rule"], result.notes["reason"], strict=True))
    assert "1 activité(s) ni SSR" in rules["activite_hors_smr"]
    assert "11-75-EJONLY" in rules["autorisation_sans_eg"]
    assert "« I »" in rules["etat_autorisation"]
    assert result.sources[1]["contenu"] == "activites"


def test_finess_reference_with_and_without_the_activity_flow(tmp_path: Path) -> None:
    paris = PARIS.split(";")
    paris[STRUCTURE_FIELDS.index("dateouv")] = "01/04/1975"
    extraction = write(tmp_path, "etalab.csv", ["finess;etalab;2;x", ";".join(paris), BOURG])
    alone = validate_tables(load_finess(extraction).tables).tables["finess_etablissements"]
    assert alone.sort("finess_eg").rows(named=True) == [
        {
            "finess_eg": "010000024", "finess_ej": "010780054",
            "raison_sociale": "CENTRE HOSPITALIER DE BOURG-EN-BRESSE – RÉÉDUCATION",
            "commune_insee": "01053", "categorie": "355", "date_ouverture": None,
            "date_fermeture": None, "type_fermeture": None, "caduc": None,
            "nb_autorisations_smr": None,  # no activity flow: unknown, not zero
        },
        {
            "finess_eg": "750000011", "finess_ej": "750000003", "raison_sociale": "SMR AUTEUIL",
            "commune_insee": "75116", "categorie": "109", "date_ouverture": dt.date(1975, 4, 1),
            "date_fermeture": None, "type_fermeture": None, "caduc": None,
            "nb_autorisations_smr": None,
        },
    ]  # fmt: skip
    flow = copy.deepcopy(ACTIVITIES)
    exercised = flow["pmej"][0]["ege"][0]["activitesExercees"]
    exercised += [
        # HAD form: counted as MCO by the ANS, not SMR
        _activity("105", "AMF", {"activiteAMF": "50", "modaliteActivite": "09",
                                 "formeActivite": "05"}, arhgos="11-75-0005"),
        # ended the day before the reform's cut-off (2021-05-01): not counted
        _activity("106", "AMF", {"activiteAMF": "53", "modaliteActivite": "09",
                                 "formeActivite": "01"}, arhgos="11-75-0006", end="2021-04-30"),
        # ended on the cut-off day: counted
        _activity("107", "AMF", {"activiteAMF": "54", "modaliteActivite": "09",
                                 "formeActivite": "01"}, arhgos="11-75-0007", end="2021-05-01"),
    ]  # fmt: skip
    path = tmp_path / "activites.json"
    path.write_text(json.dumps(flow), encoding="utf-8")
    both = validate_tables(load_finess([extraction, path]).tables).tables["finess_etablissements"]
    counts = dict(both.select("finess_eg", "nb_autorisations_smr").iter_rows())
    # 750000011: SSR 50 HC (ends 2025), SMR ME051 (no end), SSR 51 (state I, no end), SSR 54
    # ending 2021-05-01 → 4; the HAD one, the one ended 2021-04-30 and activity 18 are out.
    assert counts == {"010000024": 0, "750000011": 4}


def test_activity_flow_follows_the_establishment_filter(tmp_path: Path) -> None:
    extraction = write(tmp_path, "etalab.csv", ["finess;etalab;2;x", PARIS, BOURG])
    flow = tmp_path / "activites.json"
    flow.write_text(json.dumps(ACTIVITIES), encoding="utf-8")
    kept = load_finess([extraction, flow], departements=["01"])
    assert kept.tables["autorisations"].height == 0
    assert "hors_filtre" in kept.notes.filter(pl.col("table") == "autorisations")["rule"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (json.dumps(ACTIVITIES)[:200], "JSON illisible.*ligne 1"),
        (json.dumps({"metadata": {}}), "pmej"),
        (json.dumps([1, 2]), "pmej"),
    ],
)
def test_broken_activity_flow(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "activites.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=words) as info:
        load_finess(path)
    assert "activites.json" in str(info.value)


def test_missing_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="introuvable"):
        load_finess(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="aucun fichier FINESS"):
        load_finess(tmp_path)


def test_bad_codes_reject_the_line_with_its_reason(tmp_path: Path) -> None:
    bad_dep = PARIS.replace(";116;75;", ";116;ZZ;").replace("750000011", "750000029")
    bad_commune = PARIS.replace(";116;75;", ";1X6;75;").replace("750000011", "750000037")
    path = write(tmp_path, "etalab.csv", ["finess;etalab;3;x", PARIS, bad_dep, bad_commune])
    validation = validate_tables(load_finess(path).tables)
    assert validation.counts["etablissements"]["conserves"] == 1
    reasons = validation.rejected.select("row", "rule", "reason").rows()
    assert [(row, rule) for row, rule, _ in reasons] == [
        (2, "lecture_impossible"),
        (3, "lecture_impossible"),
    ]
    assert "département « ZZ » et commune « 116 »" in reasons[0][2]
    assert "commune « 1X6 »" in reasons[1][2]
