"""The canonical schema: tables of DESIGN.md, types, keys, references, contacts."""

import polars as pl
import pytest

from analysis.model import nomenclature, schema


def test_tables_of_the_design_are_all_there():
    assert set(schema.TABLES) == {
        "etablissements", "unites", "offres", "autorisations", "vt_unites", "vt_guichets",
        "finess_etablissements", "habilitations",
    }
    # Tables added after the first snapshots are optional in old snapshots (see test_store).
    assert set(schema.LATER_TABLES) <= set(schema.TABLES)
    assert not set(schema.LATER_TABLES) & set(schema.REQUIRED_TABLES)


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("etablissements", ["finess_eg", "finess_ej", "raison_sociale", "surnom", "adresse",
                            "code_postal", "commune_insee", "latitude", "longitude", "categorie",
                            "statut", "email_alerte", "directeur_nom", "directeur_telephone",
                            "directeur_email", "date_maj"]),
        ("unites", ["uo_id", "finess_eg", "nom", "discipline", "age_min", "age_max", "telephone",
                    "responsable_nom", "responsable_telephone", "responsable_email", "date_maj"]),
        ("offres", ["uo_id", "mention", "forme", "lits", "places"]),
        ("autorisations", ["finess_eg", "regime", "activite", "mention", "modalite", "forme",
                           "date_decision", "date_mise_en_oeuvre", "date_fin"]),
        ("vt_unites", ["vt_id", "uo_id", "finess_eg", "nom", "synchronise_ror",
                       "date_synchronisation", "responsable_admissions_nom",
                       "responsable_admissions_email", "habilitation_fin", "guichet_id"]),
        ("vt_guichets", ["guichet_id", "nom", "responsable_nom", "telephone", "email"]),
    ],
)
def test_design_columns_present(table, columns):
    names = schema.TABLES[table].names
    assert not set(columns) - set(names)


def test_keys_and_references_name_real_columns():
    for t in schema.TABLES.values():
        assert set(t.key) <= set(t.names), t.name
        for ref in t.references:
            assert ref.column in t.names
            assert ref.target in schema.TABLES[ref.table].names


def test_types():
    t = schema.TABLES
    assert t["offres"].polars_schema["lits"] == pl.Int32
    assert t["etablissements"].polars_schema["latitude"] == pl.Float64
    assert t["autorisations"].polars_schema["date_decision"] == pl.Date
    assert t["vt_unites"].polars_schema["synchronise_ror"] == pl.Boolean
    # identifiers are text: leading zeros of FINESS and INSEE codes survive
    assert t["etablissements"].polars_schema["finess_eg"] == pl.String
    assert t["etablissements"].polars_schema["commune_insee"] == pl.String


def test_code_lists_exist_for_every_coded_column():
    for table in schema.TABLES.values():
        for c in table.columns:
            if c.kind == schema.CODE:
                assert c.codes in nomenclature.CODE_LISTS, (table.name, c.name)


def test_contacts_are_names_emails_and_phones():
    contacts = schema.CONTACT_COLUMNS
    assert set(contacts["etablissements"]) == {
        "email_alerte", "directeur_nom", "directeur_telephone", "directeur_email",
        "cme_president_nom", "cme_president_telephone", "cme_president_email",
    }
    assert set(contacts["habilitations"]) == {"titulaire_nom", "titulaire_email"}
    assert set(contacts["unites"]) == {
        "responsable_nom", "responsable_telephone", "responsable_email",
    }
    # the unit's own switchboard number is not personal data
    assert "telephone" not in contacts["unites"]


def test_conform_orders_casts_and_fills():
    df = pl.DataFrame({"lits": ["3"], "uo_id": ["U1"], "extra": [1]})
    out = schema.conform(df, "offres")
    assert out.columns == schema.TABLES["offres"].names
    assert out.schema == schema.TABLES["offres"].polars_schema
    assert out.row(0, named=True) == {
        "uo_id": "U1", "mention": None, "forme": None, "lits": 3, "places": None,
        "origine_mention": None,
    }


def test_empty_has_canonical_schema():
    for name, t in schema.TABLES.items():
        e = schema.empty(name)
        assert e.height == 0 and e.schema == t.polars_schema
