"""Column-mapped ROR and ViaTrajectoire exports (CSV and Excel): the example mappings of
docs/mappings/, encodings and dialects, value maps, dates, broken files and mappings, and a
property test that random CSV content either loads or raises the project's own error."""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.io.loaders.mapped import load_mapped, read_mapping
from analysis.io.validate import validate_tables
from analysis.model.errors import InputError, SmrError

ROOT = Path(__file__).resolve().parents[2]
ROR_MAPPING = ROOT / "docs" / "mappings" / "ror_export.yaml"
VT_MAPPING = ROOT / "docs" / "mappings" / "viatrajectoire_export.yaml"

ROR_HEADER = [
    "FINESS EJ", "FINESS EG", "Raison sociale EG", "Nom opérationnel", "N° de voie", "Voie",
    "Code postal", "Commune (code INSEE)", "Latitude", "Longitude", "Catégorie d'établissement",
    "Statut juridique", "Identifiant de l'offre", "Nom de l'offre", "Type d'offre",
    "Mode de prise en charge", "Âge minimum", "Âge maximum", "Téléphone de l'offre",
    "Lits installés", "Places installées", "Date de mise à jour", "Commentaire interne",
]  # fmt: skip
ROR_ROWS = [
    ["750000003", "750000011", "Hôpital Sainte-Périne", "SMR Périne", "11", "rue Chardon-Lagache",
     "75016", "75056", "48,8467", "2,2646", "101", "Etablissement public de santé", "11/0001",
     "SMR gériatrique – HC", "SMR gériatrie", "Hospitalisation complète (HC)", "75", "120",
     "01 44 96 31 40", "40", "", "01/03/2024 09:30", "à revoir"],
    ["750000003", "750000011", "Hôpital Sainte-Périne", "SMR Périne", "11", "rue Chardon-Lagache",
     "75016", "75056", "48,8467", "2,2646", "101", "Etablissement public de santé", "11/0002",
     "Hôpital de jour\nlocomoteur", "102", "29", "18", "120", "", "", "15", "02/03/2024",
     'dit "HDJ"'],
    ["920000017", "920000025", "Clinique des Bords de Seine", "", "20", "rue de Paris", "92100",
     "92012", "48,8353", "2,2410", "109", "Société commerciale", "11/0003",
     "SMR polyvalent", "SMR personnes âgées polypathologiques", "28", "18", "120", "",
     "25", "", "28/02/2024 17:05", ""],
]  # fmt: skip


def csv_text(header: list[str], rows: list[list[str]], sep: str = ";") -> str:
    def cell(v: str) -> str:
        if any(ch in v for ch in (sep, '"', "\n")):
            return '"' + v.replace('"', '""') + '"'
        return v

    return "\r\n".join(sep.join(cell(v) for v in r) for r in [header, *rows]) + "\r\n"


def write_ror(folder: Path, encoding: str = "cp1252", sep: str = ";") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "export_ror_idf_2024-03.csv"
    path.write_bytes(csv_text(ROR_HEADER, ROR_ROWS, sep).encode(encoding))
    return path


def rows_of(frame: pl.DataFrame, key: str) -> dict:
    return {r[key]: r for r in frame.iter_rows(named=True)}


# --- the ROR example mapping ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "sep"), [("cp1252", ";"), ("utf-8-sig", "\t"), ("utf-8", ",")]
)
def test_ror_export_every_field(tmp_path: Path, encoding: str, sep: str) -> None:
    path = write_ror(tmp_path / "export", encoding, sep)
    if encoding == "cp1252":
        assert "Périne".encode("cp1252") in path.read_bytes()
    result = load_mapped(tmp_path / "export", ROR_MAPPING)
    source = result.sources[0]
    assert source["file"] == path.name and source["separator"] == sep
    assert source["encoding"] == {"cp1252": "windows-1252"}.get(encoding, encoding)
    assert source["tables"] == ["etablissements", "unites", "offres"]
    validation = validate_tables(result.tables)
    assert validation.ok, validation.report
    tables = validation.tables

    etab = rows_of(tables["etablissements"], "finess_eg")
    assert etab == {
        "750000011": {
            "finess_eg": "750000011",
            "finess_ej": "750000003",
            "raison_sociale": "Hôpital Sainte-Périne",
            "surnom": "SMR Périne",
            "adresse": "11 rue Chardon-Lagache",
            "code_postal": "75016",
            "commune_insee": "75056",
            "latitude": 48.8467,
            "longitude": 2.2646,
            "categorie": "101",
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
        "920000025": {
            "finess_eg": "920000025",
            "finess_ej": "920000017",
            "raison_sociale": "Clinique des Bords de Seine",
            "surnom": None,
            "adresse": "20 rue de Paris",
            "code_postal": "92100",
            "commune_insee": "92012",
            "latitude": 48.8353,
            "longitude": 2.2410,
            "categorie": "109",
            "statut": "prive_lucratif",
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
    unites = rows_of(tables["unites"], "uo_id")
    assert unites["11/0001"] == {
        "uo_id": "11/0001",
        "finess_eg": "750000011",
        "nom": "SMR gériatrique – HC",
        "discipline": "SMR",
        "age_min": 75,
        "age_max": 120,
        "telephone": "01 44 96 31 40",
        "responsable_nom": None,
        "responsable_telephone": None,
        "responsable_email": None,
        "date_maj": dt.datetime(2024, 3, 1, 9, 30),
        "champ_activite": None,
        "activite_operationnelle": None,
        "date_maj_contacts": None,
        "date_fermeture": None,
        "type_fermeture": None,
    }
    assert unites["11/0002"]["nom"] == "Hôpital de jour\nlocomoteur"  # line break in quotes
    assert unites["11/0002"]["date_maj"] == dt.datetime(2024, 3, 2)
    assert unites["11/0003"]["date_maj"] == dt.datetime(2024, 2, 28, 17, 5)
    offres = tables["offres"].sort("uo_id").rows()
    assert offres == [
        ("11/0001", "ME059", "HC", 40, None, None),  # label « SMR gériatrie »
        ("11/0002", "ME051", "HJ", None, 15, None),  # type d'offre 102, mode 29
        ("11/0003", "ME059", "HC", 25, None, None),  # custom label of the mapping
    ]
    rules = set(result.notes["rule"].to_list())
    assert rules == {"lignes_fusionnees", "colonne_inconnue"}
    unknown = result.notes.filter(pl.col("rule") == "colonne_inconnue")["reason"].item()
    assert "Commentaire interne" in unknown and "FINESS EG" not in unknown


def test_rejected_rows_keep_their_source_location(tmp_path: Path) -> None:
    rows = [r.copy() for r in ROR_ROWS]
    rows[1][14] = "SMR thalassothérapie"  # not a mention: reported, row kept aside
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "ror.csv").write_text(csv_text(ROR_HEADER, rows), encoding="utf-8")
    validation = validate_tables(load_mapped(folder, ROR_MAPPING).tables)
    assert validation.counts["offres"] == {
        "lus": 3,
        "conserves": 2,
        "rejetes": 1,
        "avertissements": 0,
    }
    (reject,) = validation.rejected.iter_rows(named=True)
    assert (reject["column"], reject["value"], reject["rule"]) == (
        "mention",
        "SMR thalassothérapie",
        "code_inconnu",
    )
    # second data record: line 3 of the file as a spreadsheet shows it (header = line 1)
    assert json.loads(reject["donnees"])["_source"] == "ror.csv : ligne 3"


def test_value_maps_builtin_and_custom(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "tables:\n"
        "  offres:\n"
        "    fichiers: offres*.csv\n"
        "    colonnes: {UO: uo_id, Offre: mention, Mode: forme, Lits: lits, Places: places}\n"
        "    valeurs:\n"
        "      forme: {'Hospit. complète': HC}\n"
        "      mention: {'028': ME050}\n",
        encoding="utf-8",
    )
    (tmp_path / "offres.csv").write_text(
        "UO;Offre;Mode;Lits;Places\n"
        "U1;102;28;10,0;\n"
        "U2;SMR locomoteur;Hospitalisation complète;3;\n"
        "U3;ME051;hospit. COMPLÈTE;4;\n"
        "U4;Soins Médicaux et de Réadaptation (SMR) pédiatriques (enfants et adolescents);"
        "Hospitalisation de jour (HJ);;2\n"
        "U5;028;HJ;;1\n",
        encoding="utf-8",
    )
    frame = load_mapped(tmp_path / "offres.csv", mapping).tables["offres"]
    assert frame.select("uo_id", "mention", "forme").rows() == [
        ("U1", "ME051", "HC"),
        ("U2", "ME051", "HC"),
        ("U3", "ME051", "HC"),
        ("U4", "ME060", "HJ"),
        ("U5", "ME050", "HJ"),  # « 028 » kept as text by the YAML
    ]
    typed = validate_tables({"offres": frame})  # references fail without units: rejected
    assert set(typed.rejected["rule"]) == {"reference_introuvable"}
    assert typed.rejected.filter(pl.col("row") == 1)["donnees"].str.contains('"10,0"').all()


def test_toml_mapping_and_constants_and_date_formats(tmp_path: Path) -> None:
    mapping = tmp_path / "vt.toml"
    mapping.write_text(
        '[tables.vt_unites]\nfichiers = ["vt*.csv"]\n'
        '[tables.vt_unites.colonnes]\n"Id" = "vt_id"\n"Etab" = "finess_eg"\n"Sync" = '
        '"synchronise_ror"\n"Quand" = "date_synchronisation"\n"Fin" = "habilitation_fin"\n'
        '[tables.vt_unites.dates]\ndate_synchronisation = "AAAAMMJJ"\nhabilitation_fin = '
        '["JJ.MM.AAAA", "EXCEL"]\n',
        encoding="utf-8",
    )
    (tmp_path / "vt.csv").write_text(
        "Id,Etab,Sync,Quand,Fin\nV1,750000011,Oui,20240301,31.12.2026\nV2,750000011,non,"
        "bientôt,46022\n",
        encoding="utf-8",
    )
    result = load_mapped(tmp_path, mapping)
    frame = result.tables["vt_unites"]
    assert frame.select(
        "vt_id", "synchronise_ror", "date_synchronisation", "habilitation_fin"
    ).rows() == [
        ("V1", "true", "2024-03-01", "2026-12-31"),
        ("V2", "false", "bientôt", "2025-12-31"),  # 46022 days after 1899-12-30
    ]
    validation = validate_tables(result.tables)
    assert validation.warnings.filter(pl.col("rule") == "date_invalide")["value"].to_list() == [
        "bientôt"
    ]


# --- Excel and the ViaTrajectoire example mapping -----------------------------------------


def write_vt_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    units = wb.active
    units.title = "Unités"
    units.append(["Annuaire ViaTrajectoire – export du 01/03/2024"])
    units.append(
        [
            "Identifiant VT",
            "Identifiant ROR",
            "FINESS géographique",
            "Nom de l'unité",
            "Téléphone",
            "Âge minimum",
            "Âge maximum",
            "Synchronisée ROR",
            "Dernière synchronisation",
            "Responsable des admissions",
            "Courriel du responsable des admissions",
            "Fin d'habilitation",
            "Guichet unique",
        ]
    )
    units.append(
        [
            "VT-001",
            "11/0001",
            "750000011",
            "SMR gériatrique",
            "01 44 96 31 40",
            75,
            120,
            "Oui",
            "29/02/2024 18:00",
            "Dr Anne Leroy",
            "a.leroy@exemple.fr",
            dt.datetime(2026, 12, 31),
            "G-75",
        ]
    )
    units.append([None] * 13)  # a blank row in the middle is skipped
    units.append(
        [
            "VT-002",
            None,
            750000011,
            "Consultations",
            None,
            None,
            None,
            "Non",
            None,
            None,
            None,
            None,
            "G-75",
        ]
    )
    desks = wb.create_sheet("Guichets")
    desks.append(["Guichets uniques"])
    desks.append(
        ["Identifiant du guichet", "Nom du guichet", "Responsable", "Téléphone", "Courriel"]
    )
    desks.append(["G-75", "Guichet SMR Paris", "Claire Martin", "0144963100", "guichet@ex.fr"])
    wb.save(path)
    return path


def test_viatrajectoire_workbook_every_field(tmp_path: Path) -> None:
    write_vt_workbook(tmp_path / "annuaire_viatrajectoire_2024-03.xlsx")
    result = load_mapped(tmp_path, VT_MAPPING)
    validation = validate_tables(result.tables)
    units = rows_of(validation.tables["vt_unites"], "vt_id")
    assert units["VT-001"] == {
        "vt_id": "VT-001",
        "uo_id": "11/0001",
        "finess_eg": "750000011",
        "nom": "SMR gériatrique",
        "telephone": "01 44 96 31 40",
        "age_min": 75,
        "age_max": 120,
        "synchronise_ror": True,
        "date_synchronisation": dt.datetime(2024, 2, 29, 18, 0),
        "responsable_admissions_nom": "Dr Anne Leroy",
        "responsable_admissions_email": "a.leroy@exemple.fr",
        "habilitation_fin": dt.date(2026, 12, 31),
        "guichet_id": "G-75",
        # optional columns this workbook's mapping does not fill (compared by analysis.indicators.sync
        # only when the export has them)
        "responsable_nom": None,
        "responsable_telephone": None,
        "responsable_email": None,
        "etablissement_nom": None,
        "etablissement_adresse": None,
        "etablissement_telephone": None,
    }
    assert units["VT-002"]["synchronise_ror"] is False
    assert units["VT-002"]["finess_eg"] == "750000011"  # a numeric cell read as text
    assert validation.tables["vt_guichets"].rows() == [
        ("G-75", "Guichet SMR Paris", "Claire Martin", "0144963100", "guichet@ex.fr")
    ]
    assert {s["sheet"] for s in result.sources} <= {"Unités", "Guichets"}
    where = result.tables["vt_unites"]["_source"].to_list()
    assert where == [
        "annuaire_viatrajectoire_2024-03.xlsx › Unités : ligne 3",
        "annuaire_viatrajectoire_2024-03.xlsx › Unités : ligne 5",
    ]


def test_missing_sheet_and_corrupt_workbook(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Feuil1"
    wb.save(tmp_path / "viatrajectoire.xlsx")
    with pytest.raises(
        InputError, match="feuille « Guichets » absente.*tables.vt_guichets.feuille.*Feuil1"
    ) as info:
        load_mapped(tmp_path, VT_MAPPING)
    assert "viatrajectoire.xlsx" in str(info.value)
    (tmp_path / "viatrajectoire.xlsx").write_bytes(b"PK\x03\x04" + bytes(300))
    with pytest.raises(InputError, match="classeur Excel illisible"):
        load_mapped(tmp_path, VT_MAPPING)


# --- columns: unknown, missing -------------------------------------------------------------


def test_missing_required_column_names_the_mapping_entry_and_the_file(tmp_path: Path) -> None:
    header = [h for h in ROR_HEADER if h != "Mode de prise en charge"]
    rows = [
        [v for h, v in zip(ROR_HEADER, r, strict=True) if h != "Mode de prise en charge"]
        for r in ROR_ROWS
    ]
    (tmp_path / "ror.csv").write_text(csv_text(header, rows), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_mapped(tmp_path, ROR_MAPPING)
    message = str(info.value)
    assert "ror.csv" in message and "Mode de prise en charge" in message
    assert "tables.offres.colonnes" in message and "forme" in message


def test_missing_optional_column_is_a_warning_and_names_match_loosely(tmp_path: Path) -> None:
    header = [
        h.upper() if h.startswith("Latitude") else h for h in ROR_HEADER if h != "Nom opérationnel"
    ]
    header = [h.replace("Âge", "Age") for h in header]
    rows = [
        [v for h, v in zip(ROR_HEADER, r, strict=True) if h != "Nom opérationnel"] for r in ROR_ROWS
    ]
    (tmp_path / "ror.csv").write_text(csv_text(header, rows), encoding="utf-8")
    result = load_mapped(tmp_path, ROR_MAPPING)
    absent = result.notes.filter(pl.col("rule") == "colonne_absente")
    assert absent["column"].to_list() == ["surnom"]
    assert result.tables["etablissements"]["latitude"].to_list() == ["48,8467", "48,8353"]
    assert result.tables["unites"]["age_min"].to_list() == ["75", "18", "18"]


def test_unmatched_files_and_tables_are_noted(tmp_path: Path) -> None:
    write_ror(tmp_path)
    (tmp_path / "notes.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    result = load_mapped(tmp_path, ROR_MAPPING)
    ignored = result.notes.filter(pl.col("rule") == "fichier_ignore")["reason"].item()
    assert "notes.csv" in ignored
    write_vt_workbook(tmp_path / "viatrajectoire.xlsx")
    with pytest.raises(InputError, match="aucun fichier.*ne correspond"):
        load_mapped(tmp_path / "notes.csv", VT_MAPPING)


# --- broken data files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "vide"),
        (random.Random(1).randbytes(2048), "texte"),
        (b"PK\x03\x04" + bytes(100), "Excel"),
        (b'FINESS EG;Nom\n750000011;"Centre\n', "guillemet non fermé"),
        (b"FINESS EG;Nom\n750000011;A;en trop\n", "nombre de champs"),
    ],
)
def test_unreadable_csv(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "export_ror.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=words) as info:
        load_mapped(path, ROR_MAPPING)
    assert "export_ror.csv" in str(info.value)


def test_file_without_the_expected_columns(tmp_path: Path) -> None:
    (tmp_path / "ror.csv").write_text("750000011;Dr Jean Dupont;75056\n", encoding="utf-8")
    with pytest.raises(InputError, match="colonne « FINESS EG » absente") as info:
        load_mapped(tmp_path, ROR_MAPPING)
    assert "ror.csv" in str(info.value)


# --- broken mappings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tables:\n  offre:\n    fichiers: a.csv\n", "tables.offre.*table inconnue"),
        (
            "tables:\n  offres:\n    fichiers: a.csv\n    colonnes: {A: uo_id, B: mentions}\n",
            "mentions.*inconnue de la table offres",
        ),
        (
            "tables:\n  offres:\n    fichiers: a.csv\n    colonnes: {A: uo_id}\n",
            "obligatoire.*mention, forme",
        ),
        ("tables:\n  offres:\n    fichier: a.csv\n    colonne: {A: uo_id}\n", "colonne"),
        (
            "tables:\n  unites:\n    fichiers: a.csv\n    colonnes: {A: uo_id, B: finess_eg, "
            "C: nom}\n    dates: {date_maj: JJ-MM}\n",
            "format de date « JJ-MM »",
        ),
        ("tables:\n  offres:\n    colonnes: {A: uo_id}\n", "fichiers"),
        ("tables: [\n", r"illisible \(ligne"),
        (
            "tables:\n  offres:\n    fichiers: a.csv\n    colonnes: {A: uo_id, B: mention, "
            "C: forme}\n    valeurs: {forme: inconnue}\n",
            "table de valeurs « inconnue »",
        ),
        ("nom: x\n", "tables"),
        (
            "tables:\n  offres:\n    fichiers: a.csv\n    colonnes: {A: uo_id, B: mention, C: forme}"
            "\n    ligne_entete: zéro\n",
            "ligne_entete",
        ),
    ],
)
def test_bad_mapping_names_the_entry(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "correspondance.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=words) as info:
        read_mapping(path)
    assert "correspondance.yaml" in str(info.value)


def test_mapping_file_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="introuvable"):
        read_mapping(tmp_path / "absent.yaml")
    (tmp_path / "m.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="extension .json"):
        read_mapping(tmp_path / "m.json")


def test_example_mappings_parse() -> None:
    ror, vt = read_mapping(ROR_MAPPING), read_mapping(VT_MAPPING)
    assert list(ror.tables) == ["etablissements", "unites", "offres"]
    assert list(vt.tables) == ["vt_guichets", "vt_unites"]
    assert vt.tables["vt_unites"].header_row == 2
    assert ror.tables["etablissements"].distinct


# --- property: random CSV content loads or raises the project's own error ----------------

PROPERTY_MAPPING = (
    "tables:\n"
    "  etablissements:\n"
    "    fichiers: '*.csv'\n"
    "    dedoublonner: oui\n"
    "    colonnes: {FINESS: finess_eg, Nom: raison_sociale, Commune: commune_insee, "
    "Lat: latitude, Lon: longitude, Maj: date_maj}\n"
    "    dates: {date_maj: JJ/MM/AAAA}\n"
    "  unites:\n"
    "    fichiers: '*.csv'\n"
    "    colonnes: {UO: uo_id, FINESS: finess_eg, Nom: nom, Age: age_min}\n"
    "    constantes: {discipline: SMR}\n"
    "  offres:\n"
    "    fichiers: '*.csv'\n"
    "    colonnes: {UO: uo_id, Type: mention, Mode: forme, Lits: lits}\n"
)
FULL = ["FINESS", "Nom", "Commune", "Lat", "Lon", "Maj", "UO", "Age", "Type", "Mode", "Lits"]
EXTRA = ["autre", "Âge", "Remarque", "FINESS EJ"]
CELLS = st.one_of(
    st.sampled_from(
        [
            "750000011",
            "75056",
            "102",
            "28",
            "SMR locomoteur",
            "48,85",
            "2,35",
            "01/03/2024",
            "Oui",
            "",
            " ",
            "é",
            "1E+13",
            "-3",
            "Hospitalisation complète",
            "ME051",
            "HC",
            "12,5",
            "920000025",
            "99/99/2024",
            "2A004",
        ]
    ),
    st.text(alphabet=st.characters(whitelist_categories=("L", "N", "P", "S", "Zs")), max_size=12),
    st.text(alphabet=";,\t\"\n\r '", max_size=4),
)


@st.composite
def csv_files(draw) -> tuple[list[str], list[list[str]]]:
    """A header (mostly the mapped columns, in any order, sometimes one missing or extra
    columns) and rows (mostly of the header's width)."""
    header = list(draw(st.permutations(FULL)))
    if draw(st.integers(0, 4)) == 0:
        header.remove(draw(st.sampled_from(header)))
    header += draw(st.lists(st.sampled_from(EXTRA), max_size=2, unique=True))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        width = len(header) if draw(st.integers(0, 7)) else draw(st.integers(0, len(header) + 2))
        rows.append(draw(st.lists(CELLS, min_size=width, max_size=width)))
    return header, rows


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=csv_files(),
    sep=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    quote=st.booleans(),
    junk=st.one_of(st.just(b""), st.binary(min_size=1, max_size=40)),
)
def test_random_csv_loads_or_raises_smr_error(table, sep, encoding, quote, junk):
    header, rows = table

    def cell(v: str) -> str:
        if quote or any(ch in v for ch in (sep, '"', "\n", "\r")):
            return '"' + v.replace('"', '""') + '"'
        return v

    text = "\n".join(sep.join(cell(v) for v in r) for r in [header, *rows])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if len(junk) % 4 == 1:  # now and then, bytes that are not text at all
        data = data + junk
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mapping = folder / "m.yaml"
        mapping.write_text(PROPERTY_MAPPING, encoding="utf-8")
        (folder / "data").mkdir()
        (folder / "data" / "export.csv").write_bytes(data)
        try:
            result = load_mapped(folder / "data", mapping)
            validation = validate_tables(result.tables)
        except SmrError:
            return
        for name, frame in result.tables.items():
            counts = validation.counts[name]
            assert counts["lus"] == frame.height == counts["conserves"] + counts["rejetes"]


def test_readme_documents_every_column_builtin_map_and_date_format() -> None:
    from analysis.io.loaders.mapped import BUILTIN_MAPS, DATE_ALIASES
    from analysis.model.schema import TABLES

    readme = (ROOT / "docs" / "mappings" / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line.split("|")[2]
        for line in readme.splitlines()
        if line.startswith("| `") and line.split("|")[1].strip().strip("`") in TABLES
    }
    for name, table in TABLES.items():
        listed = [c.strip() for c in rows[name].split(",")]
        expected = [f"**{c.name}**" if c.required else c.name for c in table.columns]
        assert listed == expected, name
    for builtin in BUILTIN_MAPS:
        assert f"`{builtin}`" in readme
    for alias in DATE_ALIASES:
        assert f"`{alias}`" in readme


def test_one_source_column_can_feed_two_canonical_columns(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "tables:\n  etablissements:\n    fichiers: '*.csv'\n    colonnes:\n"
        "      FINESS: [finess_eg, finess_ej]\n      Nom: raison_sociale\n"
        "      Commune: commune_insee\n",
        encoding="utf-8",
    )
    (tmp_path / "e.csv").write_text("FINESS;Nom;Commune\n750000011;A;75056\n", encoding="utf-8")
    frame = load_mapped(tmp_path / "e.csv", mapping).tables["etablissements"]
    assert frame.select("finess_eg", "finess_ej").rows() == [("750000011", "750000011")]
