"""The loaders on the public corpus (tests/data/public/, sources in its README): ROR FHIR data in
every delivery (Bundle, pages, batch response, $export NDJSON, capacity search without
Organization) and in the shapes of the ANS guide's examples; FINESS extractions in the 2016,
2020 and 2026 layouts, metropolitan and overseas; the « Activités » flow per code."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import polars as pl
import pyproj
import pytest

from analysis.io import importing, store
from analysis.io.loaders.fhir import load_fhir
from analysis.io.loaders.finess import crs_from_source, load_finess
from analysis.io.validate import validate_tables
from analysis.model import nomenclature
from analysis.model.errors import InputError
from tests.io.test_loaders_finess import lambert93_to_wgs84, utm_to_wgs84

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"
FHIR = PUBLIC / "fhir"
FINESS = PUBLIC / "finess"
ROR = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/"
CANONICAL = ("etablissements", "unites", "offres")


def tables(result) -> dict[str, pl.DataFrame]:
    return validate_tables(result.tables).tables


def rows(frame: pl.DataFrame, key: str) -> dict[str, dict]:
    return {r[key]: r for r in frame.iter_rows(named=True)}


# --- FHIR: every delivery gives the same snapshot --------------------------------------------


def _snapshot_checksums(source, store_path: Path) -> dict[str, str]:
    preview = importing.preview(source, importing.ImportOptions(format="fhir"))
    path = importing.save(preview, store_path, "2025-06-02")
    manifest = store.read_manifest(path)
    return {name: manifest["tables"][name]["sha256"] for name in CANONICAL}


def test_ndjson_export_folder_and_one_bundle_give_identical_snapshots(tmp_path: Path) -> None:
    from_bundle = _snapshot_checksums(FHIR / "bundle-guide.json", tmp_path / "a")
    from_export = _snapshot_checksums(FHIR / "export", tmp_path / "b")
    assert from_export == from_bundle
    # the same content again, delivered as a batch response of two searches (and an error)
    from_batch = _snapshot_checksums(FHIR / "reponse-lot.json", tmp_path / "c")
    assert from_batch == from_bundle
    for name in CANONICAL:
        a = store.read_table(tmp_path / "a", "2025-06-02", name)
        b = store.read_table(tmp_path / "b", "2025-06-02", name)
        assert a.equals(b) and a.height > 0


def test_export_files_in_any_order_mixed_with_a_bundle(tmp_path: Path) -> None:
    single = tables(load_fhir(FHIR / "bundle-guide.json"))
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    # Location as a plain .json file holding NDJSON, HealthcareService gunzipped, plus the
    # Bundle: every resource is there twice, and the tables do not change.
    (mixed / "a-Location.json").write_bytes((FHIR / "export" / "Location.ndjson").read_bytes())
    (mixed / "z-HealthcareService.ndjson").write_bytes(
        gzip.decompress((FHIR / "export" / "HealthcareService.ndjson.gz").read_bytes())
    )
    shutil.copy(FHIR / "export" / "Organization.ndjson", mixed / "m.ndjson")
    shutil.copy(FHIR / "bundle-guide.json", mixed / "b.json")
    result = load_fhir(mixed)
    for name in CANONICAL:
        assert tables(result)[name].equals(single[name]), name
    assert "ressources_en_double" in result.notes["rule"].to_list()
    assert [s["forme"] for s in result.sources] == ["ndjson", "bundle", "ndjson", "ndjson"]


def test_export_manifest_counts_what_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FHIR / "export", folder)
    (folder / "Location.ndjson").unlink()
    result = load_fhir(folder)
    (missing,) = result.notes.filter(pl.col("rule") == "export_incomplet")["reason"]
    assert "2 ressource(s) Location, les fichiers en contiennent 0" in missing
    assert result.sources[-1]["forme"] == "manifeste $export"


def test_batch_response_error_entry_is_reported() -> None:
    result = load_fhir(FHIR / "reponse-lot.json")
    (error,) = result.notes.filter(pl.col("rule") == "reponse_erreur")["reason"]
    assert "403 Forbidden" in error and "non autorisée pour ce profil" in error


def test_broken_ndjson_line_and_gzip(tmp_path: Path) -> None:
    lines = (FHIR / "export" / "Location.ndjson").read_text(encoding="utf-8").splitlines()
    (tmp_path / "Location.ndjson").write_text(lines[0] + "\n" + lines[1][:50] + "\n", "utf-8")
    result = load_fhir([tmp_path / "Location.ndjson", FHIR / "bundle-guide.json"])
    (bad,) = result.notes.filter(pl.col("rule") == "ligne_ndjson_illisible")["reason"]
    assert "Location.ndjson ligne 2" in bad
    truncated = tmp_path / "HealthcareService.ndjson.gz"
    truncated.write_bytes((FHIR / "export" / "HealthcareService.ndjson.gz").read_bytes()[:40])
    with pytest.raises(InputError, match="gzip illisible") as info:
        load_fhir(truncated)
    assert "HealthcareService.ndjson.gz" in str(info.value)


# --- FHIR: the guide's shapes, element by element ------------------------------------------


def test_guide_shapes_every_element_read() -> None:
    result = load_fhir(FHIR / "bundle-guide.json")
    validation = validate_tables(result.tables)
    assert validation.ok and validation.report.filter(pl.col("table") != "x").height == 0
    (eg,) = validation.tables["etablissements"].iter_rows(named=True)
    assert eg == {
        "finess_eg": "780999983",
        "finess_ej": "780999991",
        "raison_sociale": "CH de démonstration - site de Versailles (fictif)",
        "surnom": None,
        "adresse": "7 RUE PORTE DE BUC",
        "code_postal": "78000",
        "commune_insee": "78646",  # ror-commune-cog of its Locations, TRE_R13-CommuneOM
        "latitude": 48.79412,  # Location.position, the same for both Locations
        "longitude": 2.12046,
        "categorie": "355",  # type[categorieEtablissement], TRE_R66
        "statut": "public",  # EJ aggregate 1100
        "telephone": "01.01.01.01.01",  # contact.telecom, as the guide's EG example writes it
        "email_alerte": None,
        "directeur_nom": None,
        "directeur_telephone": None,
        "directeur_email": None,
        "cme_president_nom": None,  # not in the FHIR shapes: the guide's CME contact is ROR-UI only
        "cme_president_telephone": None,
        "cme_president_email": None,
        "date_maj": dt.datetime(2025, 3, 1, 10, 0),
        "id_nat_struct": "1780999983",
        "date_fermeture": None,
        "type_fermeture": None,
    }
    unites = rows(validation.tables["unites"], "uo_id")
    # ageRange 60 a – 150 a (TRE_R247): 150 is « pas de limite »; phone in telecomAddress
    assert (unites["11/0099991"]["age_min"], unites["11/0099991"]["age_max"]) == (60, None)
    assert unites["11/0099991"]["telephone"] == "0199999999"
    # ageRange 6 mo – 215 mo: 0.5 and 17.92 years, stored in completed years
    ped = unites["11/0099992"]
    assert (ped["age_min"], ped["age_max"]) == (0, 17)
    assert (ped["responsable_nom"], ped["responsable_telephone"], ped["responsable_email"]) == (
        "Jeanne MARTIN",
        "0612345678",  # channel 1 « Téléphone mobile »
        "j.martin@example.org",  # channel 3 « Courrier électronique »
    )
    assert (unites["11/0099993"]["age_min"], unites["11/0099993"]["age_max"]) == (18, None)
    assert {u["activite_operationnelle"] for u in unites.values()} == {"241", "233"}
    offres = validation.tables["offres"].sort("uo_id").rows()
    assert offres == [
        # ror-loc-1: 15 installed current beds; supplementary 0 and available 0 + 3 left out
        ("11/0099991", "ME059", "HC", 15, None, "type_offre"),
        # no category: 233 with a minors-only patientèle from 6 months → ME061 (under 4 years)
        ("11/0099992", "ME061", "HJ", None, 6, "activite"),
        ("11/0099993", "ME051", "HC", 22, None, "type_offre"),
    ]
    units = result.notes.filter(pl.col("rule") == "age_unite")["reason"].to_list()
    assert units == [
        "âge minimum 6 mo converti en 0,50 an(s)",
        "âge maximum 215 mo converti en 17,92 an(s)",
    ]


def test_offer_identifier_is_the_typed_one(tmp_path: Path) -> None:
    doc = json.loads((FHIR / "organisation-seule.json").read_text(encoding="utf-8"))
    hs = doc["entry"][0]["resource"]
    hs["identifier"].insert(0, {"system": "https://gam.example.org", "value": "UF-4521"})
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    # TRE_R355 35 « Identifiant fonctionnel de l'offre connu par l'instance ROR » wins
    assert tables(load_fhir(path))["unites"]["uo_id"].to_list() == ["11/0099994"]


def test_unread_extensions_are_counted_per_url() -> None:
    result = load_fhir(FHIR / "bundle-guide.json")
    iso = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-"
    # counted by hand in the fixture: 2 Organization, 3 HealthcareService, 2 Location
    assert result.extra["extensions_non_lues"] == {
        iso + "houseNumber": 3,
        iso + "streetNameBase": 3,
        iso + "streetNameType": 3,
        ROR + "ror-available-time-number-days-of-week": 3,
        ROR + "ror-available-time-type-of-time": 3,
        ROR + "ror-confidentiality-level": 2,
        ROR + "ror-contact-confidentiality-level": 1,
        ROR + "ror-coordinate-reliability": 2,
        ROR + "ror-healthcareservice-sensitive-unit": 3,
        ROR + "ror-meta-creation-date": 7,
        ROR + "ror-meta-questionnaire-used-as-a-template": 3,
        ROR + "ror-organization-financial-help-type": 1,
        ROR + "ror-telecom-communication-channel": 1,  # on the EG's ContactPoint
        ROR + "ror-telecom-confidentiality-level": 4,
        "ror-healthcareservice-contact#purposeContact": 2,
        "ror-location-supported-capacity#additionalBedType": 1,
        "ror-location-supported-capacity#capacitySourceType": 6,
        "ror-location-supported-capacity#crisisType": 1,
    }
    notes = result.notes.filter(pl.col("rule") == "extension_non_lue")
    by_table = dict(notes.group_by("table").len().iter_rows())
    assert by_table == {"etablissements": 8, "unites": 8, "offres": 8}
    assert (
        "extension du guide ROR non utilisée par l'atelier : "
        f"{ROR}ror-meta-creation-date (3 occurrence(s) sur HealthcareService)"
    ) in notes["reason"].to_list()


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        ({"value": 18, "code": "a"}, {"value": 150, "code": "a"}, (18, None)),
        ({"value": 18, "unit": "a"}, None, (18, None)),  # no high bound: no limit
        ({"value": 0}, {"value": 17}, (0, 17)),  # no unit: years (older examples)
        ({"value": 3, "code": "wk"}, {"value": 730, "code": "d"}, (0, 1)),  # 730 d = 1.9986 a
        ({"value": 48, "code": "mo"}, {"value": 1800, "code": "mo"}, (4, None)),  # 150 years
        ({"value": 10, "code": "h"}, {"value": 90, "code": "a"}, (None, 90)),  # unknown unit
    ],
)
def test_age_range_units(tmp_path: Path, low, high, expected) -> None:
    doc = json.loads((FHIR / "organisation-seule.json").read_text(encoding="utf-8"))
    hs = doc["entry"][0]["resource"]
    patient = next(e for e in hs["extension"] if e["url"].endswith("patient-type"))
    patient["extension"][0]["valueRange"] = {"low": low, **({"high": high} if high else {})}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = load_fhir(path)
    (unit,) = tables(result)["unites"].iter_rows(named=True)
    assert (unit["age_min"], unit["age_max"]) == expected
    if expected[0] is None:
        assert "unité d'âge « h » inconnue" in " ".join(result.notes["reason"])


# --- FHIR: linking without the Organization -------------------------------------------------


def test_capacity_search_without_organization() -> None:
    result = load_fhir(FHIR / "recherche-capacitaire.json")
    validation = validate_tables(result.tables)
    etab = rows(validation.tables["etablissements"], "finess_eg")
    assert {k: (v["raison_sociale"], v["commune_insee"], v["latitude"]) for k, v in etab.items()} == {
        # managingOrganization.identifier with its display, and providedBy.identifier
        "920999991": ("Clinique du Parc (fictive)", "92012", 48.8353),
        # a FINESS identifier of the Location only: no name in the files
        "920999983": ("Établissement FINESS 920999983", "92050", 48.8924),
    }  # fmt: skip
    unites = rows(validation.tables["unites"], "uo_id")
    assert {k: v["finess_eg"] for k, v in unites.items()} == {
        "11/3001": "920999991",  # Location.managingOrganization.identifier
        "11/3002": "920999983",  # Location.identifier (FINESS)
        "11/3003": "920999991",  # providedBy.identifier
    }
    assert validation.tables["offres"].sort("uo_id")["lits"].to_list() == [12, 12, None]
    assert validation.tables["offres"].sort("uo_id")["places"].to_list() == [None, None, 5]
    rejected = {
        (r["table"], json.loads(r["donnees"])["uo_id"]): r["reason"]
        for r in validation.rejected.iter_rows(named=True)
    }
    assert set(rejected) == {("unites", "11/3004"), ("offres", "11/3004")}
    reason = rejected[("unites", "11/3004")]
    assert "Organization/920999975 absente des fichiers" in reason
    assert "_include=HealthcareService:organization" in reason
    assert "ses Locations ne désignent aucun établissement" in reason
    rules = result.notes["rule"].to_list()
    assert rules.count("organisation_absente") == 2
    assert rules.count("rattachement_par_location") == 2
    assert "pagination_incomplete" not in rules  # 4 Locations announced, 4 read


def test_lone_organization_with_finess_is_the_establishment() -> None:
    result = load_fhir(FHIR / "organisation-seule.json")
    validation = validate_tables(result.tables)
    assert validation.ok
    assert validation.tables["etablissements"]["finess_eg"].to_list() == ["780999975"]
    assert validation.tables["unites"]["finess_eg"].to_list() == ["780999975"]
    (note,) = result.notes.filter(pl.col("rule") == "categorie_absente")["reason"]
    assert "Organization/ror-org-seule" in note and "catégorie absente" in note


def test_offer_naming_the_finess_of_an_organization_in_the_files(tmp_path: Path) -> None:
    doc = json.loads((FHIR / "organisation-seule.json").read_text(encoding="utf-8"))
    doc["entry"][0]["resource"]["providedBy"] = {
        "identifier": {"system": "https://finess.esante.gouv.fr", "value": "780999975"}
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = load_fhir(path)
    # linked to the Organization itself (its name, its phone), not to a row built from Locations
    (eg,) = tables(result)["etablissements"].iter_rows(named=True)
    assert (eg["finess_eg"], eg["raison_sociale"], eg["telephone"]) == (
        "780999975", "Centre de réadaptation isolé (fictif)", "01.01.01.01.01"
    )
    assert "organisation_absente" not in result.notes["rule"].to_list()
    assert tables(result)["unites"]["finess_eg"].to_list() == ["780999975"]


def test_lone_organization_above_an_eg_stays_a_legal_entity(tmp_path: Path) -> None:
    doc = json.loads((FHIR / "organisation-seule.json").read_text(encoding="utf-8"))
    eg = json.loads((FHIR / "bundle-guide.json").read_text(encoding="utf-8"))["entry"][3]
    eg["resource"]["partOf"] = {"reference": "Organization/ror-org-seule"}
    doc["entry"].append(eg)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = load_fhir(path)
    assert result.tables["etablissements"]["finess_eg"].to_list() == ["780999983"]
    assert "categorie_absente" not in result.notes["rule"].to_list()
    validation = validate_tables(result.tables)
    (reason,) = validation.rejected.filter(pl.col("table") == "unites")["reason"]
    assert "rattachée directement à l'entité juridique Organization/ror-org-seule" in reason


# --- FINESS: the layouts, positions in the file's own coordinate system ----------------------

LAYOUTS = {
    "2016": "etalab-cs1100507-stock-20160301-0422.csv",
    "2020": "etalab-cs1100507-stock-20200204-0420.csv",
    "2026": "etalab-cs1100502-stock-20260512-0339.csv",
}
#: FINESS → (CRS the line names or its département implies, latitude and longitude the
#: fixture was written from, current INSEE commune).
EXPECTED = {
    "010999990": ("EPSG:2154", 46.20574, 5.24760, "01053"),
    "9A0999994": ("EPSG:5490", 16.24125, -61.53417, "97120"),
    "780999967": ("EPSG:2154", 48.79412, 2.12046, "78646"),
    "9D0999990": ("EPSG:2975", -20.88231, 55.45040, "97411"),
    "920999959": ("EPSG:2154", 48.83530, 2.24100, "92012"),
    "9A0999978": ("EPSG:5490", 15.99703, -61.72579, "97105"),
    "970999995": ("EPSG:5490", 17.89618, -62.84978, "97701"),  # Saint-Barthélemy
    "970999979": ("EPSG:5490", 18.06766, -63.08254, "97801"),  # Saint-Martin
    "9E0999993": ("EPSG:32621", 46.77914, -56.17730, "97502"),  # Saint-Pierre
    "9F0999996": ("EPSG:4471", -12.78234, 45.22878, "97611"),  # Mamoudzou
    "9B0999992": ("EPSG:32620", 14.60365, -61.07418, "97209"),  # Fort-de-France
}
UTM = {"EPSG:5490": (20, False), "EPSG:2975": (40, True), "EPSG:32621": (21, False),
       "EPSG:4471": (38, True), "EPSG:32620": (20, False)}  # fmt: skip


def _file_xy(path: Path) -> dict[str, tuple[float, float]]:
    """x, y of each geolocalisation line, read without the loader."""
    text = path.read_bytes().decode("utf-8" if "2026" in path.name else "cp1252")
    out = {}
    for line in text.splitlines():
        if line.startswith("geolocalisation;"):
            fields = line.split(";")
            out[fields[1]] = (float(fields[2]), float(fields[3]))
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_positions_and_current_communes(layout: str) -> None:
    path = FINESS / LAYOUTS[layout]
    result = load_finess(path)
    validation = validate_tables(result.tables)
    assert validation.ok
    etab = rows(validation.tables["etablissements"], "finess_eg")
    for finess, (x, y) in _file_xy(path).items():
        crs, lat, lon, commune = EXPECTED[finess]
        got = etab[finess]
        assert got["commune_insee"] == commune
        ref_lon, ref_lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
            x, y
        )
        assert got["latitude"] == pytest.approx(ref_lat, abs=1e-5), finess
        assert got["longitude"] == pytest.approx(ref_lon, abs=1e-5), finess
        # the place the fixture was written from (x, y rounded to 0.1 m), and Snyder's formulas
        assert (got["latitude"], got["longitude"]) == pytest.approx((lat, lon), abs=1e-5)
        snyder = lambert93_to_wgs84(x, y) if crs == "EPSG:2154" else utm_to_wgs84(x, y, *UTM[crs])
        assert (got["longitude"], got["latitude"]) == pytest.approx(snyder, abs=1e-5)


def test_coordinate_system_named_or_guessed_and_disagreements() -> None:
    notes = load_finess(FINESS / LAYOUTS["2026"]).notes
    (guess,) = notes.filter(pl.col("rule") == "projection_non_verifiee")["reason"]
    assert "1 établissement(s)" in guess and "EPSG:4471" in guess  # Mayotte: nothing named
    (differs,) = notes.filter(pl.col("rule") == "projection_differente").iter_rows(named=True)
    assert differs["row"] == 7 and "nomme EPSG:32620" in differs["reason"]  # Martinique
    assert "EPSG:5490" in differs["reason"]
    renumbered = notes.filter(pl.col("rule") == "commune_renumerotee")["value"].to_list()
    assert renumbered == ["97701", "97801"]
    # Lambert-93 named in each layout's own way: no remark for metropolitan lines
    for layout in ("2016", "2020"):
        rules = load_finess(FINESS / LAYOUTS[layout]).notes["rule"].to_list()
        assert rules.count("projection_non_verifiee") == 1  # the overseas line only
        assert "projection_differente" not in rules


@pytest.mark.parametrize(
    ("source", "crs"),
    [
        ("1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)", "EPSG:2154"),
        ("2,ATLASANTE,53,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)", "EPSG:2154"),
        ("1,ATLASANTE,96,BAN,EPSG:5490 RGAF09/UTM Zone 20N", "EPSG:5490"),
        ("1,ATLASANTE,96,BAN,WGS84/UTM zone 21N (St-Pierre-et-Miquelon)", "EPSG:32621"),
        ("1,ATLASANTE,96,BAN,WGS 84 / UTM zone 40S", "EPSG:32740"),
        ("1,ATLASANTE,96,BAN,RGR92/UTM zone 40S", "EPSG:2975"),
        ("1;ATLASANTE;100;IGN;BD_ADRESSE;V2.1;LAMBERT_93", "EPSG:2154"),
        ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93", "EPSG:2154"),
        ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2", None),
        ("1,ATLASANTE,96,BAN,XYZ/UTM zone 20N", None),  # unknown datum: the département decides
        (None, None),
    ],
)
def test_crs_named_by_sourcecoordet(source: str | None, crs: str | None) -> None:
    assert crs_from_source(source) == crs


@pytest.mark.parametrize(
    ("kwargs", "kept"),
    [
        ({"departements": ["977"]}, ["970999995"]),
        ({"departements": "978"}, ["970999979"]),
        ({"departements": ["9A"]}, ["9A0999978"]),  # Guadeloupe without the two collectivities
        ({"region": "01"}, ["9A0999978"]),
        ({"departements": ["975", "976"]}, ["9E0999993", "9F0999996"]),
    ],
)
def test_collectivity_filters(kwargs: dict, kept: list[str]) -> None:
    result = load_finess(FINESS / LAYOUTS["2026"], **kwargs)
    assert sorted(tables(result)["etablissements"]["finess_eg"]) == kept


def test_unknown_collectivity_commune_is_flagged(tmp_path: Path) -> None:
    text = (FINESS / LAYOUTS["2026"]).read_text(encoding="utf-8")
    path = tmp_path / "etalab.csv"
    path.write_text(text.replace(";502;9E;", ";503;9E;"), encoding="utf-8")
    (note,) = load_finess(path).notes.filter(pl.col("rule") == "commune_hors_cog").iter_rows(
        named=True
    )
    assert note["value"] == "97503" and "97501, 97502" in note["reason"]


# --- FINESS « Activités » flow: the natures table and the per-code counts --------------------

#: Transcribed from ansforge/finess flux/out/data.gouv/activite/schema/schema-activites-v1-0-1.json:
#: the codeNature enum and the code keys of each typeActivite<nature> block.
SCHEMA_V1_0_1 = {
    "AASA": ("activiteSanitaireRegulee", "modaliteActivite", "formeActivite", None),
    "ASR": ("activiteSanitaireRegulee", "modaliteActivite", "formeActivite", None),
    "EML": ("typeEmlId", None, None, None),
    "ASDR": ("activiteSanitaireDiverseRegulee", "modeFonctionnement", "public", None),
    "ASOCR": ("activiteSocialeRegulee", "modeFonctionnement", "public", None),
    "AMSR": ("activiteSocialeRegulee", "modeFonctionnement", "public", None),
    "AER": ("activiteEnseignementRegulee", "modeFonctionnement", "public", None),
    "AMF": ("activiteAMF", "modaliteActivite", "formeActivite", None),
    "AMM": ("activiteAMM", "modaliteAMM", None, "mentionAMM"),
}


def test_natures_table_follows_the_published_schema() -> None:
    table = {
        n.code: (n.activite, n.modalite, n.forme, n.mention) for n in nomenclature.NATURES_ACTIVITE
    }
    assert table == SCHEMA_V1_0_1
    # the first schema and the national example spell two natures otherwise
    assert nomenclature.nature_activite("ASMR").code == "AMSR"
    assert nomenclature.nature_activite("ASRC").code == "ASR"
    regimes = {n.code: n.regime for n in nomenclature.NATURES_ACTIVITE if n.regime}
    assert regimes == {"AASA": "SSR", "ASR": "SSR", "AMF": "SSR", "AMM": "SMR"}


def test_activity_flow_kept_and_ignored_per_code() -> None:
    result = load_finess([FINESS / LAYOUTS["2026"], FINESS / "finess-activites-journalier-20260401.json"])
    validation = validate_tables(result.tables)
    autorisations = rows(validation.tables["autorisations"], "autorisation_id")
    # exercised activities carry the ARHGOS number of the authorised activity they name
    assert {k: (v["regime"], v["activite"], v["mention"], v["forme"]) for k, v in
            autorisations.items()} == {
        "11-92-48769": ("SSR", "50", None, "01"),
        "11-92-49214": ("SSR", "51", None, "05"),  # HAD form: kept, outside the SMR count
        "11-92-60001": ("SMR", None, "ME059", None),
    }  # fmt: skip
    assert result.extra["activites_par_code"] == {
        "AMF 18": {"SSR": 0, "SMR": 0, "ignoree": 1},
        "AMF 50": {"SSR": 1, "SMR": 0, "ignoree": 0},
        "AMF 51": {"SSR": 1, "SMR": 0, "ignoree": 0},
        "AMM 06 ME002": {"SSR": 0, "SMR": 0, "ignoree": 1},  # HAD réadaptation, not SMR
        "AMM 09 ME059": {"SSR": 0, "SMR": 1, "ignoree": 0},
        "AMSR 841": {"SSR": 0, "SMR": 0, "ignoree": 1},  # written ASMR in the file
        "ASDR 824": {"SSR": 0, "SMR": 0, "ignoree": 1},
        "XYZ ?": {"SSR": 0, "SMR": 0, "ignoree": 1},
    }
    per_code = result.notes.filter(pl.col("rule") == "activites_par_code")["reason"].to_list()
    assert "nature AMM 09 ME059 : 1 SMR" in per_code
    assert "nature AMM 06 ME002 : 1 ignorée(s)" in per_code
    assert "nature AMSR (activité médico-sociale régulée) : 1 ignorée(s), 1 code(s) d'activité" in (
        per_code
    )
    assert "nature XYZ (nature inconnue du schéma) : 1 ignorée(s), 1 code(s) d'activité" in per_code
    (ej_only,) = result.notes.filter(pl.col("rule") == "autorisation_sans_eg")["reason"]
    assert "11-92-70001" in ej_only and "1 autorisation(s)" in ej_only
    assert result.extra["flux_activites_version"] == ["1.0.1"]
    reference = rows(validation.tables["finess_etablissements"], "finess_eg")
    assert reference["920999959"]["nb_autorisations_smr"] == 2  # 50 and ME059, not HAD 51


def test_no_smr_mention_recognised_is_said(tmp_path: Path) -> None:
    natures = tuple(
        nomenclature.NatureActivite(n.code, n.libelle, n.spellings, n.activite, n.modalite,
                                    n.forme, "autreMention" if n.code == "AMM" else n.mention,
                                    n.regime)
        for n in nomenclature.NATURES_ACTIVITE
    )  # fmt: skip
    result = load_finess(FINESS / "finess-activites-journalier-20260401.json", natures=natures)
    (said,) = result.notes.filter(pl.col("rule") == "aucune_mention_smr")["reason"]
    assert "aucune mention SMR reconnue parmi 2 activité(s) de nature AMM" in said
