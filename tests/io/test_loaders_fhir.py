"""ROR FHIR Bundles: the reference example, a hand-built bundle with two EG and three offers
(checked field by field), paged searches, the §2.6 mention rule, capacities, broken input."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path

import polars as pl
import pytest

from analysis.io.loaders.fhir import load_fhir
from analysis.io.validate import validate_tables
from analysis.model import nomenclature
from analysis.model.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLE = DATA / "ror-fhir-bundle.json"

ROR = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/"
TABLE_URLS = {
    "R244": "TRE_R244-CategorieOrganisation",
    "R227": "TRE_R227-ChampActivite",
    "R213": "TRE_R213-ModePriseEnCharge",
    "R211": "TRE_R211-ActiviteOperationnelle",
    "R66": "TRE_R66-CategorieEtablissement",
    "R69": "TRE_R69-FinessAgregatStatutJuridiqueNiv2",
    "R13": "TRE_R13-Commune",
    "R329": "TRE_R329-NatureCapacite",
    "R330": "TRE_R330-TypeStatutCapacite",
    "R331": "TRE_R331-TemporaliteCapacite",
    "R332": "TRE_R332-GenreCapacite",
    "R337": "TRE_R337-AffectationTemporaire",
}


def system(table: str) -> str:
    name = TABLE_URLS[table]
    return f"https://mos.esante.gouv.fr/NOS/{name}/FHIR/{name.replace('_', '-')}"


def concept(table: str, code: str) -> dict:
    return {"coding": [{"system": system(table), "code": code}]}


def organization(
    rid: str,
    finess: str | None = None,
    part_of: str | None = None,
    name: str = "",
    types: list[dict] | None = None,
    oi: str | None = None,
    **extra,
) -> dict:
    identifiers = []
    if finess:
        identifiers.append({"system": "https://finess.esante.gouv.fr", "value": finess})
    if oi:
        identifiers.append({"system": "https://oi.esante.gouv.fr", "value": oi})
    res = {"resourceType": "Organization", "id": rid, "identifier": identifiers, "name": name}
    if part_of:
        res["partOf"] = {"reference": f"Organization/{part_of}"}
    if types:
        res["type"] = types
    res.update(extra)
    return res


def capacity(
    nature: str,
    status: str,
    count: int,
    temporality: str = "01",
    assignment: str = "01",
    gender: str | None = None,
    updated: str = "2025-06-01T08:00:00+02:00",
    style: str = "concept",
) -> dict:
    def coded(table: str, code: str) -> dict:
        if style == "code":
            return {"valueCode": code}
        if style == "jdv":  # the IG PATCH examples: JDV URL with a trailing slash
            return {"valueCodeableConcept": {"coding": [
                {"system": "https://mos.esante.gouv.fr/NOS/JDV_J187-NatureCapacite-ROR/", "code": code}
            ]}}  # fmt: skip
        return {"valueCodeableConcept": concept(table, code)}

    parts = [
        {"url": "capacityType", **coded("R329", nature)},
        {"url": "capacityStatus", **coded("R330", status)},
        {"url": "temporalityCapacity", **coded("R331", temporality)},
        {"url": "nbCapacity", "valueInteger": count},
        {"url": "capacityUpdateDate", "valueDateTime": updated},
        {"url": "temporaryAssignement", **coded("R337", assignment)},
    ]
    if gender:
        parts.append({"url": "genderCapacityAvailable", **coded("R332", gender)})
    return {"url": ROR + "ror-location-supported-capacity", "extension": parts}


def location(
    rid: str, managing: str, commune: str | None, capacities: list[dict], position=None
) -> dict:
    ext = list(capacities)
    if commune:
        ext.insert(
            0, {"url": ROR + "ror-commune-cog", "valueCodeableConcept": concept("R13", commune)}
        )
    res = {
        "resourceType": "Location",
        "id": rid,
        "extension": ext,
        "managingOrganization": {"reference": f"Organization/{managing}"},
    }
    if position:
        res["position"] = {"latitude": position[0], "longitude": position[1]}
    return res


def service(
    rid: str,
    ident: str,
    provided_by: str,
    locations: list[str],
    category: str | None = None,
    champ: str | None = "02",
    activities: tuple[str, ...] = (),
    care_mode: str | None = "28",
    care_system: str = "R213",
    ages: tuple[float, float] | None = (18, 120),
    extensions: list[dict] | None = None,
    name: str = "",
) -> dict:
    ext = list(extensions or [])
    if ages:
        ext.append({
            "url": ROR + "ror-healthcareservice-patient-type",
            "extension": [{"url": "ageRange", "valueRange": {
                "low": {"value": ages[0], "unit": "a"}, "high": {"value": ages[1], "unit": "a"},
            }}],
        })  # fmt: skip
    res = {
        "resourceType": "HealthcareService",
        "id": rid,
        "meta": {"lastUpdated": "2025-06-02T09:15:00+02:00"},
        "extension": ext,
        "identifier": [{"value": ident}],
        "providedBy": {"reference": f"Organization/{provided_by}"},
        "location": [{"reference": f"Location/{loc}"} for loc in locations],
        "name": name,
    }
    if category:
        res["category"] = [concept("R244", category)]
    if champ:
        res["type"] = [concept("R227", champ)]
    if activities:
        res["specialty"] = [concept("R211", a) for a in activities]
    if care_mode:
        sys_url = (
            "https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR/FHIR/JDV-J19-"
            "ModePriseEnCharge-ROR/"
            if care_system == "jdv"
            else system("R213")
        )
        res["characteristic"] = [{"coding": [{"system": sys_url, "code": care_mode}]}]
    return res


def bundle(*resources: dict, total: int | None = None) -> dict:
    entries = []
    for r in resources:
        mode = "match" if r["resourceType"] == "HealthcareService" else "include"
        entries.append({
            "fullUrl": f"https://ror.example.org/fhir/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": mode},
        })  # fmt: skip
    out = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    if total is not None:
        out["total"] = total
    return out


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


# --- the hand-built bundle: two EG, three SMR offers, one non-SMR offer --------------------

EJ = organization(
    "ej-1",
    "750000003",
    name="Assistance publique (fictive)",
    types=[
        {
            "coding": [
                {
                    "system": system("R69"),
                    "code": "1100",
                    "display": "Etablissements publics de santé",
                }
            ]
        }
    ],  # fmt: skip
)
EG_A = organization(
    "eg-a",
    "750000011",
    "ej-1",
    name="Hôpital Sainte-Périne (fictif)",
    types=[concept("R66", "101")],
    alias=["Sainte-Périne"],
    telecom=[{"system": "phone", "value": "01 44 96 31 31"}],
    address=[
        {
            "line": ["11 rue Chardon-Lagache"],
            "postalCode": "75016",
            "city": "PARIS",
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/geolocation",
                    "extension": [
                        {"url": "latitude", "valueDecimal": 48.8467},
                        {"url": "longitude", "valueDecimal": 2.2646},
                    ],
                }
            ],
        }
    ],  # fmt: skip
    meta={"lastUpdated": "2025-01-15T08:00:00Z"},
)
EG_A["identifier"].append(
    {
        "type": {"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_G07-TypeIdentifiant"
                             "Structure/FHIR/TRE-G07-TypeIdentifiantStructure", "code": "40"}]},
        "system": "urn:oid:1.2.250.1.71.4.2.2",
        "value": "1750000011",
    }
)  # fmt: skip
EG_B = organization(
    "eg-b",
    "920000025",
    "ej-1",
    name="Centre de réadaptation de Boulogne (fictif)",
    address=[{"line": ["20 rue de Paris", "Bâtiment B"], "postalCode": "92100"}],
)
OI_B = organization("oi-b1", part_of="eg-b", name="Pôle SMR", oi="OI-92-0001")
LOC_A = location(
    "loc-a",
    "eg-a",
    "75056",
    [
        capacity("01", "01", 20, gender="01", style="code"),
        capacity("01", "01", 10, gender="02", style="code"),
        # same key as the first, older: a stale duplicate, ignored
        capacity("01", "01", 99, gender="01", updated="2024-01-01T00:00:00+01:00", style="code"),
        capacity("01", "02", 3),  # available, not installed
        capacity("01", "01", 7, temporality="03"),  # forecast, not current
        capacity("02", "01", 5),  # places, not used by an HC offer
    ],
)
LOC_B = location(
    "loc-b",
    "oi-b1",
    "92012",
    [capacity("02", "01", 8, style="jdv"), capacity("02", "01", 2, assignment="03")],
    position=(48.8353, 2.2410),
)
CONTACT = {
    "url": ROR + "ror-healthcareservice-contact",
    "extension": [
        {"url": "name", "valueHumanName": {"given": ["Anne"], "family": "Leroy"}},
        {"url": "telecom", "valueContactPoint": {"system": "phone", "value": "01 46 00 00 10"}},
    ],
}
HS_1 = service("hs-1", "11/0001", "eg-a", ["loc-a"], category="101", ages=(75, 120),
               name="SMR gériatrique")  # fmt: skip
HS_2 = service(
    "hs-2",
    "11/0002",
    "oi-b1",
    ["loc-b"],
    activities=("233", "172"),
    care_mode="29",
    care_system="jdv",
    extensions=[CONTACT],
    name="HDJ locomoteur",
)
# Closed for works with a planned reopening: a provisional closure.
HS_2["notAvailable"] = [
    {"description": "ancienne fermeture", "during": {"start": "2024-08-01", "end": "2024-08-31"}},
    {"description": "travaux", "during": {"start": "2025-07-01", "end": "2025-09-01"}},
]
HS_3 = service("hs-3", "11/0003", "eg-b", ["loc-b"], category="100", ages=(4, 12),
               name="SMR polyvalent enfants")  # fmt: skip
HS_MCO = service("hs-9", "11/0009", "eg-a", ["loc-a"], champ="01", activities=("157",))
PATIENT = {"resourceType": "Patient", "id": "p1"}


def hand_built() -> dict:
    return bundle(HS_1, HS_2, HS_3, HS_MCO, EJ, EG_A, EG_B, OI_B, LOC_A, LOC_B, PATIENT, total=4)


def test_hand_built_bundle_every_field(tmp_path: Path) -> None:
    result = load_fhir(write(tmp_path / "bundle.json", hand_built()))
    validation = validate_tables(result.tables)
    assert validation.ok, validation.rejected
    tables = validation.tables
    etab = {r["finess_eg"]: r for r in tables["etablissements"].iter_rows(named=True)}
    assert etab == {
        "750000011": {
            "finess_eg": "750000011",
            "finess_ej": "750000003",
            "raison_sociale": "Hôpital Sainte-Périne (fictif)",
            "surnom": "Sainte-Périne",
            "adresse": "11 rue Chardon-Lagache",
            "code_postal": "75016",
            "commune_insee": "75056",  # from its Location's ror-commune-cog
            "latitude": 48.8467,
            "longitude": 2.2646,
            "categorie": "101",
            "statut": "public",  # EJ aggregate 1100
            "telephone": "01 44 96 31 31",
            "email_alerte": None,
            "directeur_nom": None,
            "directeur_telephone": None,
            "directeur_email": None,
            "date_maj": dt.datetime(2025, 1, 15, 9, 0),  # 08:00 UTC is 09:00 in Paris (CET)
            "id_nat_struct": "1750000011",  # TRE_G07 type 40
            "date_fermeture": None,  # the EG's closure is not read from FHIR
            "type_fermeture": None,
            "cme_president_nom": None,
            "cme_president_telephone": None,
            "cme_president_email": None,
        },
        "920000025": {
            "finess_eg": "920000025",
            "finess_ej": "750000003",
            "raison_sociale": "Centre de réadaptation de Boulogne (fictif)",
            "surnom": None,
            "adresse": "20 rue de Paris Bâtiment B",
            "code_postal": "92100",
            "commune_insee": "92012",  # Location managed by its OI
            "latitude": 48.8353,  # no geolocation extension: the Location's position
            "longitude": 2.2410,
            "categorie": None,
            "statut": "public",
            "telephone": None,
            "email_alerte": None,
            "directeur_nom": None,
            "directeur_telephone": None,
            "directeur_email": None,
            "date_maj": None,
            "id_nat_struct": None,
            "date_fermeture": None,
            "type_fermeture": None,
            "cme_president_nom": None,
            "cme_president_telephone": None,
            "cme_president_email": None,
        },
    }
    unites = {r["uo_id"]: r for r in tables["unites"].iter_rows(named=True)}
    assert set(unites) == {"11/0001", "11/0002", "11/0003"}  # the MCO offer is left out
    assert unites["11/0002"] == {
        "uo_id": "11/0002",
        "finess_eg": "920000025",  # providedBy the OI, partOf the EG
        "nom": "HDJ locomoteur",
        "discipline": "SMR",
        "age_min": 18,
        "age_max": 120,
        "telephone": None,
        "responsable_nom": "Anne Leroy",
        "responsable_telephone": "01 46 00 00 10",
        "responsable_email": None,
        "date_maj": dt.datetime(2025, 6, 2, 9, 15),
        "champ_activite": "02",
        "activite_operationnelle": "233, 172",  # every TRE_R211 code, in the file's order
        "date_maj_contacts": None,  # FHIR contacts carry no update date of their own
        "date_fermeture": dt.date(2025, 7, 1),  # the latest notAvailable period
        "type_fermeture": "PRO",  # it has a reopening date
    }
    assert (unites["11/0001"]["finess_eg"], unites["11/0001"]["age_min"]) == ("750000011", 75)
    assert unites["11/0001"]["activite_operationnelle"] is None
    assert (unites["11/0001"]["date_fermeture"], unites["11/0001"]["type_fermeture"]) == (
        None,
        None,
    )
    assert (unites["11/0003"]["age_min"], unites["11/0003"]["age_max"]) == (4, 12)
    assert tables["offres"].sort("uo_id").rows() == [
        # 20 + 10 installed current beds (two genders); stale 99, available 3, forecast 7 out
        ("11/0001", "ME059", "HC", 30, None, "type_offre"),
        # no category: 233 → locomoteur (172 generic gives way); places 8 + 2
        ("11/0002", "ME051", "HJ", None, 10, "activite"),
        # category 100 kept; HC but the Location has places only
        ("11/0003", "ME050", "HC", None, None, "type_offre"),
    ]
    notes = {(r["rule"], r["row"]): r["reason"] for r in result.notes.iter_rows(named=True)}
    assert "mineurs" in notes[("mention_remarque", 3)]
    assert "à confirmer par l'autorisation ARS" in notes[("mention_deduite", 2)]
    assert "en lits" in notes[("capacite_absente", 3)]
    reasons = " ".join(result.notes["reason"])
    assert "1 offre(s) hors champ SMR non importée(s) : HealthcareService/hs-9" in reasons
    assert "Patient (1)" in reasons
    assert "doublon" in reasons or "en double" in reasons  # the stale capacity record
    assert "affectations temporaires (01, 03)" in reasons  # possible double count on loc-b
    assert "loc-b partagée par" not in reasons  # HJ places and HC beds: different kinds


def test_reference_example_bundle_every_field() -> None:
    result = load_fhir(EXAMPLE)
    validation = validate_tables(result.tables)
    assert validation.ok
    # Its only remarks: the extensions the loader does not read, counted per URL.
    assert set(result.notes["rule"]) == {"extension_non_lue"}
    assert result.extra["extensions_non_lues"] == {
        ROR + "ror-confidentiality-level": 1,
        ROR + "ror-healthcareservice-sensitive-unit": 3,
        ROR + "ror-meta-creation-date": 9,  # 4 Organization, 3 HealthcareService, 2 Location
        "ror-healthcareservice-contact#description": 1,
        "ror-healthcareservice-contact#purposeContact": 1,
        "ror-location-supported-capacity#capacitySourceType": 6,
    }
    tables = validation.tables
    assert tables["etablissements"].sort("finess_eg").rows() == [
        (
            "920999993", "750999997", "Clinique de Réadaptation Les Tilleuls (fictive)",
            "SMR Les Tilleuls", "42 avenue des Tilleuls", "92140", "92023", 48.8012, 2.2661,
            "109", "prive_lucratif", None, None, None, None, None,
            dt.datetime(2025, 5, 12, 10, 0), "1920999993", None, None, None, None, None,
        ),
        (
            "940999995", "750999997", "Centre SMR Les Coteaux de la Marne (fictif)",
            "SMR Coteaux de la Marne", "7 allée des Coteaux", "94000", "94028", 48.7904, 2.4556,
            "109", "prive_lucratif", None, None, None, None, None,
            dt.datetime(2025, 5, 12, 10, 0), "1940999995", None, None, None, None, None,
        ),
    ]  # fmt: skip
    assert set(tables["unites"]["champ_activite"]) == {"02"}
    assert set(tables["unites"]["activite_operationnelle"]) == {"233"}
    assert tables["unites"].sort("uo_id").select(
        "uo_id", "finess_eg", "nom", "discipline", "age_min", "age_max", "date_maj"
    ).rows() == [
        ("11/9990001", "920999993", "SMR polyvalent - hospitalisation complète", "SMR", 18, 120,
         dt.datetime(2025, 6, 2, 9, 15)),
        ("11/9990002", "940999995", "SMR pédiatrique - hôpital de jour", "SMR", 4, 17,
         dt.datetime(2025, 6, 2, 9, 15)),
        ("11/9990003", "940999995", "SMR oncologie et hématologie - hospitalisation complète",
         "SMR", 18, 120, dt.datetime(2025, 6, 2, 9, 15)),
    ]  # fmt: skip
    # loc-2001: 30 installed beds (3 available ignored); loc-2002: 12 places, 20 beds
    assert tables["offres"].sort("uo_id").rows() == [
        ("11/9990001", "ME050", "HC", 30, None, "type_offre"),
        ("11/9990002", "ME060", "HJ", None, 12, "type_offre"),
        ("11/9990003", "ME056", "HC", 20, None, "type_offre"),
    ]


def test_folder_of_pages_equals_one_bundle(tmp_path: Path) -> None:
    whole = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    first, second = copy.deepcopy(whole), copy.deepcopy(whole)
    match = [e for e in whole["entry"] if e["search"]["mode"] == "match"]
    includes = [e for e in whole["entry"] if e["search"]["mode"] == "include"]
    first["entry"] = match[:2] + includes
    second["entry"] = match[2:] + includes  # includes repeated on every page, as servers do
    folder = tmp_path / "pages"
    folder.mkdir()
    write(folder / "page-1.json", first)
    write(folder / "page-2.json", second)
    paged = load_fhir(folder)
    single = load_fhir(EXAMPLE)
    for name in ("etablissements", "unites", "offres"):
        assert paged.tables[name].drop("_source").equals(single.tables[name].drop("_source"))
    assert len(paged.sources) == 2
    assert "ressources_en_double" in paged.notes["rule"].to_list()
    assert "pagination_incomplete" not in paged.notes["rule"].to_list()
    (folder / "page-2.json").unlink()
    assert "pagination_incomplete" in load_fhir(folder).notes["rule"].to_list()


# --- rows the loader cannot complete: rejected with their reason, the rest kept -------------


def test_ambiguous_mention_missing_org_unknown_mode(tmp_path: Path) -> None:
    ambiguous = service("hs-a", "11/A", "eg-a", ["loc-a"], activities=("233", "234"))
    # providedBy absent and no Location to fall back on: nothing ties it to an EG
    orphan = service("hs-o", "11/O", "eg-absent", ["loc-absent"], category="102")
    had = service("hs-h", "11/H", "eg-a", ["loc-a"], category="100", care_mode="31")
    missing_loc = service("hs-l", "11/L", "eg-a", ["loc-absent"], category="102")
    doc = bundle(ambiguous, orphan, had, missing_loc, EJ, EG_A, LOC_A)
    result = load_fhir(write(tmp_path / "b.json", doc))
    validation = validate_tables(result.tables)
    assert validation.counts["unites"] == {
        "lus": 4, "conserves": 3, "rejetes": 1, "avertissements": 0,
    }  # fmt: skip
    assert validation.counts["offres"]["conserves"] == 1  # only 11/L
    rejected = {
        (r["table"], json.loads(r["donnees"])["uo_id"]): r["reason"]
        for r in validation.rejected.iter_rows(named=True)
    }
    assert "mention ambiguë : ME051, ME052" in rejected[("offres", "11/A")]
    assert "Organization/eg-absent absente des fichiers" in rejected[("unites", "11/O")]
    assert "_include=HealthcareService:location" in rejected[("unites", "11/O")]
    assert "référence introuvable" in rejected[("offres", "11/O")]
    assert "code inconnu" in rejected[("offres", "11/H")]
    notes = " ".join(result.notes["reason"])
    assert "mode de prise en charge « 31 »" in notes
    assert "Location Location/loc-absent absente des fichiers" in notes


def test_establishment_without_commune_is_rejected_with_its_reason(tmp_path: Path) -> None:
    doc = bundle(service("hs-1", "11/1", "eg-b", [], category="100"), EJ, EG_B)
    validation = validate_tables(load_fhir(write(tmp_path / "b.json", doc)).tables)
    (reject,) = validation.rejected.filter(pl.col("table") == "etablissements").iter_rows(
        named=True
    )
    assert "commune INSEE inconnue pour Organization/eg-b" in reject["reason"]
    assert validation.counts["unites"]["rejetes"] == 1  # its unit has no establishment left


def test_unknown_capacity_codes_are_warnings(tmp_path: Path) -> None:
    loc = location("loc-x", "eg-a", "75056", [capacity("07", "01", 4), capacity("01", "01", 6)])
    doc = bundle(service("hs-1", "11/1", "eg-a", ["loc-x"], category="100"), EJ, EG_A, loc)
    result = load_fhir(write(tmp_path / "b.json", doc))
    assert validate_tables(result.tables).tables["offres"]["lits"].to_list() == [6]
    unknown = result.notes.filter(pl.col("rule") == "code_inconnu")["reason"].to_list()
    assert unknown == ["code de capacité inconnu : Location/loc-x capacityType=07"]


def test_shared_location_of_the_same_kind_is_flagged(tmp_path: Path) -> None:
    hs1 = service("hs-1", "11/1", "eg-a", ["loc-a"], category="100")
    hs2 = service("hs-2", "11/2", "eg-a", ["loc-a"], category="101")
    result = load_fhir(write(tmp_path / "b.json", bundle(hs1, hs2, EJ, EG_A, LOC_A)))
    shared = result.notes.filter(pl.col("rule") == "capacite_partagee")
    assert shared["row"].to_list() == [1, 2]
    assert validate_tables(result.tables).tables["offres"]["lits"].to_list() == [30, 30]


# --- the §2.6 rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "mentions", "origine"),
    [
        ({"types_offre": ["102"], "activites": ["234"]}, ("ME051",), "type_offre"),  # rule 1
        ({"champs": ["02"]}, ("ME050",), "defaut"),  # SMR by champ, nothing specific
        ({"activites": ["456"]}, ("ME051",), "activite"),  # closed code → successor 233
        ({"activites": ["233", "234"]}, ("ME051", "ME052"), "activite"),  # flagged, not picked
        ({"activites": ["233"], "age_low": 2, "age_high": 12}, ("ME061",), "activite"),
        ({"activites": ["233"], "age_low": 6, "age_high": 17}, ("ME060",), "activite"),
        ({"activites": ["245", "172"]}, ("ME050",), "activite"),  # expertise + polyvalent
        ({"activites": ["244"]}, ("ME050",), "defaut"),  # expertise alone
        ({"activites": ["244", "236"]}, ("ME054",), "activite"),  # expertise gives way
        ({"activites": ["522"]}, ("ME052",), "activite"),  # polyhandicap, adults
        ({"activites": ["283"], "champs": ["01"]}, (), None),  # generic code alone: not SMR
        ({"activites": ["157"], "champs": ["01"]}, (), None),
        ({"types_offre": ["130"], "champs": ["02"]}, ("ME050",), "defaut"),
    ],
)
def test_derive_mention(kwargs: dict, mentions: tuple, origine: str | None) -> None:
    got = nomenclature.derive_mention(**kwargs)
    assert (got.mentions, got.origine) == (mentions, origine)


def test_derive_mention_keeps_expertise_tags_and_flags_minors_with_adult_category() -> None:
    got = nomenclature.derive_mention(activites=["246", "241"])
    assert got.mentions == ("ME059",) and got.expertise == ("246",)
    flagged = nomenclature.derive_mention(types_offre=["104"], age_low=10, age_high=15)
    assert flagged.mentions == ("ME053",) and "mineurs" in flagged.notes[0]


# --- broken input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (EXAMPLE.read_bytes()[:5000], "JSON illisible.*ligne"),
        (json.dumps({"resourceType": "Patient", "id": "x"}).encode(), "« Patient » : un Bundle"),
        (json.dumps({"entry": []}).encode(), "resourceType"),
        (
            json.dumps(
                {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {
                            "severity": "error",
                            "code": "forbidden",
                            "diagnostics": "certificat refusé",
                        }
                    ],
                }
            ).encode(),  # fmt: skip
            "OperationOutcome.*certificat refusé",
        ),
        (json.dumps({"resourceType": "Bundle", "entry": {"a": 1}}).encode(), "pas une liste"),
        (json.dumps(bundle(PATIENT)).encode(), "aucune ressource Organization"),
        (random.Random(7).randbytes(2000), "texte"),
        (b"   ", "vide"),
    ],
)
def test_unreadable_bundles(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "recherche-ror.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=words) as info:
        load_fhir(path)
    assert "recherche-ror.json" in str(info.value)


def test_missing_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="introuvable"):
        load_fhir(tmp_path / "absent.json")
    with pytest.raises(InputError, match="aucun fichier .json"):
        load_fhir(tmp_path)
