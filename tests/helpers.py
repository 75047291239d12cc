"""Small hand-built snapshots shared by the tests.

``small_snapshot()`` is a valid snapshot of three Île-de-France establishments (Paris,
Boulogne-Billancourt, Créteil) with their units, offers, authorisations and ViaTrajectoire
records; every value was chosen by hand so that tests can work out expected results on paper.
Names, FINESS numbers and contacts are fictitious; commune codes and coordinates are real
(each point lies inside its commune).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from analysis.model.schema import TABLES, conform

#: The three establishments: FINESS EG → (commune INSEE, latitude, longitude).
ETABLISSEMENTS = {
    "750000011": ("75056", 48.8467, 2.2646),  # Paris 16e (Auteuil)
    "920000025": ("92012", 48.8353, 2.2410),  # Boulogne-Billancourt
    "940000039": ("94028", 48.7904, 2.4556),  # Créteil
}


def frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Canonical frame of ``table`` from row dicts (absent columns null; no rows: empty)."""
    schema = TABLES[table].polars_schema
    if not rows:
        return conform(pl.DataFrame(schema=schema), table)
    present = {k: schema[k] for row in rows for k in row}
    return conform(pl.DataFrame(rows, schema=present, orient="row"), table)


def small_snapshot() -> dict[str, pl.DataFrame]:
    """A valid canonical snapshot: 3 establishments, 4 units, 6 offers, 5 authorisations,
    2 guichets and 3 ViaTrajectoire units (one without a ROR link).

    Capacity: 107 beds (HC) and 25 places (HJ) in total; mentions ME050, ME059, ME051, ME060.
    """
    maj = dt.datetime(2024, 3, 1, 9, 30)
    etablissements = frame(
        "etablissements",
        [
            {
                "finess_eg": "750000011",
                "finess_ej": "750000003",
                "raison_sociale": "Centre SMR Paris Auteuil",
                "adresse": "11 rue Chardon-Lagache",
                "code_postal": "75016",
                "commune_insee": "75056",
                "latitude": 48.8467,
                "longitude": 2.2646,
                "categorie": "101",
                "statut": "public",
                "email_alerte": "alerte@smr-auteuil.example.fr",
                "directeur_nom": "Claire Martin",
                "directeur_telephone": "01 44 96 31 31",
                "directeur_email": "direction@smr-auteuil.example.fr",
                "date_maj": maj,
            },
            {
                "finess_eg": "920000025",
                "finess_ej": "920000017",
                "raison_sociale": "Clinique de réadaptation des Bords de Seine",
                "surnom": "Bords de Seine",
                "adresse": "20 rue de Paris",
                "code_postal": "92100",
                "commune_insee": "92012",
                "latitude": 48.8353,
                "longitude": 2.2410,
                "categorie": "109",
                "statut": "prive_lucratif",
                "email_alerte": "alerte@bords-de-seine.example.fr",
                "directeur_nom": "Paul Durand",
                "directeur_telephone": "+33 1 46 00 00 00",
                "date_maj": maj,
            },
            {
                "finess_eg": "940000039",
                "finess_ej": "940000021",
                "raison_sociale": "Hôpital de réadaptation de Créteil",
                "adresse": "1 avenue du Général de Gaulle",
                "code_postal": "94000",
                "commune_insee": "94028",
                "latitude": 48.7904,
                "longitude": 2.4556,
                "categorie": "365",
                "statut": "prive_non_lucratif",
                "directeur_nom": "Inès Petit",
                "directeur_email": "direction@smr-creteil.example.fr",
                "date_maj": dt.datetime(2024, 2, 15, 14, 0),
            },
        ],
    )
    unites = frame(
        "unites",
        [
            {
                "uo_id": "UO-75-01",
                "finess_eg": "750000011",
                "nom": "SMR polyvalent",
                "discipline": "SMR",
                "age_min": 18,
                "age_max": 120,
                "telephone": "01 44 96 31 40",
                "responsable_nom": "Dr Anne Leroy",
                "responsable_email": "a.leroy@smr-auteuil.example.fr",
                "date_maj": maj,
            },
            {
                "uo_id": "UO-75-02",
                "finess_eg": "750000011",
                "nom": "SMR gériatrique",
                "discipline": "SMR",
                "age_min": 75,
                "age_max": 120,
                "date_maj": maj,
            },
            {
                "uo_id": "UO-92-01",
                "finess_eg": "920000025",
                "nom": "SMR locomoteur",
                "discipline": "SMR",
                "age_min": 18,
                "age_max": 120,
                "telephone": "01.46.00.00.10",
                "date_maj": maj,
            },
            {
                "uo_id": "UO-94-01",
                "finess_eg": "940000039",
                "nom": "SMR pédiatrique",
                "discipline": "SMR",
                "age_min": 4,
                "age_max": 17,
            },
        ],
    )
    offres = frame(
        "offres",
        [
            {"uo_id": "UO-75-01", "mention": "ME050", "forme": "HC", "lits": 30},
            {"uo_id": "UO-75-01", "mention": "ME050", "forme": "HJ", "places": 10},
            {"uo_id": "UO-75-02", "mention": "ME059", "forme": "HC", "lits": 40},
            {"uo_id": "UO-92-01", "mention": "ME051", "forme": "HC", "lits": 25},
            {"uo_id": "UO-92-01", "mention": "ME051", "forme": "HJ", "places": 15},
            {"uo_id": "UO-94-01", "mention": "ME060", "forme": "HC", "lits": 12},
        ],
    )
    decision, debut = dt.date(2023, 5, 15), dt.date(2023, 6, 1)
    autorisations = frame(
        "autorisations",
        [
            {
                "autorisation_id": "AUT-001",
                "finess_eg": "750000011",
                "regime": "SMR",
                "mention": "ME050",
                "forme": "01",
                "date_decision": decision,
                "date_mise_en_oeuvre": debut,
            },
            {
                "autorisation_id": "AUT-002",
                "finess_eg": "750000011",
                "regime": "SMR",
                "mention": "ME059",
                "forme": "01",
                "date_decision": decision,
                "date_mise_en_oeuvre": debut,
            },
            {
                "autorisation_id": "AUT-003",
                "finess_eg": "920000025",
                "regime": "SMR",
                "mention": "ME051",
                "forme": "03",
                "date_decision": decision,
                "date_mise_en_oeuvre": debut,
            },
            {
                "autorisation_id": "AUT-004",
                "finess_eg": "940000039",
                "regime": "SSR",
                "activite": "50",
                "modalite": "10",
                "forme": "01",
                "date_decision": dt.date(2016, 9, 1),
                "date_mise_en_oeuvre": dt.date(2016, 9, 1),
                "date_fin": dt.date(2023, 5, 31),
            },
            {
                "autorisation_id": "AUT-005",
                "finess_eg": "940000039",
                "regime": "SMR",
                "mention": "ME060",
                "forme": "01",
                "date_decision": decision,
                "date_mise_en_oeuvre": debut,
            },
        ],
    )
    vt_guichets = frame(
        "vt_guichets",
        [
            {
                "guichet_id": "G-75",
                "nom": "Guichet SMR Paris Ouest",
                "responsable_nom": "Marc Bernard",
                "telephone": "01 44 96 30 00",
                "email": "guichet-ouest@example.fr",
            },
            {"guichet_id": "G-94", "nom": "Guichet SMR Val-de-Marne"},
        ],
    )
    vt_unites = frame(
        "vt_unites",
        [
            {
                "vt_id": "VT-1001",
                "uo_id": "UO-75-01",
                "finess_eg": "750000011",
                "nom": "SMR polyvalent Auteuil",
                "age_min": 18,
                "age_max": 120,
                "synchronise_ror": True,
                "date_synchronisation": dt.datetime(2024, 2, 28, 23, 0),
                "responsable_admissions_nom": "Julie Roux",
                "responsable_admissions_email": "admissions@smr-auteuil.example.fr",
                "habilitation_fin": dt.date(2026, 12, 31),
                "guichet_id": "G-75",
            },
            {
                "vt_id": "VT-1002",
                "uo_id": "UO-92-01",
                "finess_eg": "920000025",
                "nom": "Locomoteur Bords de Seine",
                "synchronise_ror": False,
                "guichet_id": "G-75",
            },
            {
                "vt_id": "VT-1003",
                "finess_eg": "940000039",
                "nom": "Pédiatrie Créteil",
                "synchronise_ror": False,
                "habilitation_fin": dt.date(2025, 12, 31),
                "guichet_id": "G-94",
            },
        ],
    )
    return {
        "etablissements": etablissements,
        "unites": unites,
        "offres": offres,
        "autorisations": autorisations,
        "vt_guichets": vt_guichets,
        "vt_unites": vt_unites,
        "habilitations": small_habilitations(),
    }


def small_habilitations() -> pl.DataFrame:
    """Accounts and habilitations of ``small_snapshot``'s establishments (table
    ``habilitations``): 750000011 has a ROR Directeur account without end date and a
    ViaTrajectoire Référent structure until 31/12/2026; 920000025 a ROR Référent until
    31/12/2026 and a Référent unité on VT-1002 that ended on 31/01/2024; 940000039 none.
    """
    return frame(
        "habilitations",
        [
            {
                "habilitation_id": "ROR-1",
                "outil": "ROR",
                "role": "directeur",
                "finess_eg": "750000011",
                "titulaire_nom": "Claire Martin",
                "titulaire_email": "direction@smr-auteuil.example.fr",
            },
            {
                "habilitation_id": "VT-H1",
                "outil": "VT",
                "role": "referent_structure",
                "finess_eg": "750000011",
                "titulaire_nom": "Julie Roux",
                "titulaire_email": "admissions@smr-auteuil.example.fr",
                "date_fin_validite": dt.date(2026, 12, 31),
            },
            {
                "habilitation_id": "ROR-2",
                "outil": "ROR",
                "role": "referent",
                "finess_eg": "920000025",
                "titulaire_nom": "Paul Durand",
                "date_fin_validite": dt.date(2026, 12, 31),
            },
            {
                "habilitation_id": "VT-H2",
                "outil": "VT",
                "role": "referent_unite",
                "finess_eg": "920000025",
                "vt_id": "VT-1002",
                "titulaire_nom": "Paul Durand",
                "date_fin_validite": dt.date(2024, 1, 31),
            },
        ],
    )


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every column as text, as a CSV export would give it (ISO dates)."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Datetime:
            exprs.append(pl.col(name).dt.to_string("%Y-%m-%dT%H:%M:%S"))
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return frame.select(exprs)


def write_source_dir(
    tables: dict[str, pl.DataFrame],
    folder: Path,
    separator: str = ";",
    encoding: str = "utf-8",
) -> Path:
    """Write ``tables`` as ``<table>.csv`` source files (for loader and import tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        text = as_text(frame).write_csv(separator=separator)
        (folder / f"{name}.csv").write_bytes(text.encode(encoding))
    return folder


# ------------------------------------------------------- one complete establishment (campaign)
# One complete, valid establishment, unit, ViaTrajectoire unit and accounts, each field
# overridable: the campaign checklist tests break one field at a time.

CAMPAIGN_DAY = dt.date(2024, 3, 2)  # the snapshot date the builders below are made for
CAMPAIGN_START = dt.date(2024, 3, 1)  # and the campaign start


def eg(**values: Any) -> dict[str, Any]:
    """A complete, valid establishment; ``values`` override fields."""
    row = {
        "finess_eg": "750000011",
        "raison_sociale": "Centre SMR Test",
        "surnom": "SMR Test",
        "adresse": "1 rue de la Paix",
        "code_postal": "75002",
        "commune_insee": "75056",
        "statut": "public",
        "email_alerte": "alerte@smr-test.example.fr",
        "directeur_nom": "Claire Martin",
        "directeur_telephone": "01 44 96 31 31",
        "directeur_email": "direction@smr-test.example.fr",
        "date_maj": dt.datetime(2024, 3, 1, 10, 0),
    }
    row.update(values)
    return row


def uo(**values: Any) -> dict[str, Any]:
    """A complete, valid unit of establishment 750000011; ``values`` override fields."""
    row = {
        "uo_id": "UO-1",
        "finess_eg": "750000011",
        "nom": "SMR polyvalent",
        "discipline": "SMR",
        "age_min": 18,
        "age_max": 120,
        "telephone": "01 44 96 31 40",
        "responsable_nom": "Dr Anne Leroy",
        "responsable_telephone": "01 44 96 31 41",
        "responsable_email": "a.leroy@smr-test.example.fr",
        "date_maj": dt.datetime(2024, 3, 1, 10, 0),
    }
    row.update(values)
    return row


def vt(**values: Any) -> dict[str, Any]:
    """A VT unit linked to UO-1, synchronised, with its admissions lead."""
    row = {
        "vt_id": "VT-1",
        "uo_id": "UO-1",
        "finess_eg": "750000011",
        "nom": "SMR polyvalent",
        "telephone": "01 44 96 31 40",
        "age_min": 18,
        "age_max": 120,
        "synchronise_ror": True,
        "date_synchronisation": dt.datetime(2024, 3, 1, 18, 0),
        "responsable_admissions_nom": "Julie Roux",
        "responsable_admissions_email": "admissions@smr-test.example.fr",
        "habilitation_fin": dt.date(2025, 1, 31),
    }
    row.update(values)
    return row


def account(**values: Any) -> dict[str, Any]:
    """A ROR Directeur account of 750000011 without end date; ``values`` override fields."""
    row = {"habilitation_id": "H-1", "outil": "ROR", "role": "directeur",
           "finess_eg": "750000011", "titulaire_nom": "Claire Martin"}
    row.update(values)
    return row


#: The complete snapshot's accounts: a ROR Directeur and a VT Référent structure.
ACCOUNTS = [
    account(),
    account(habilitation_id="H-2", outil="VT", role="referent_structure",
            date_fin_validite=dt.date(2025, 6, 30)),
]


def snapshot(
    etabs: list[dict] | None = None,
    units: list[dict] | None = None,
    offres: list[dict] | None = None,
    vts: list[dict] | None = None,
    guichets: list[dict] | None = None,
    habs: list[dict] | None = None,
    finess: list[dict] | None = None,
    auths: list[dict] | None = None,
) -> dict[str, pl.DataFrame]:
    """One complete, valid establishment with one unit, one VT unit, its accounts, its FINESS
    reference row (same name written differently) and an SMR decision for its mention."""
    return {
        "etablissements": frame("etablissements", [eg()] if etabs is None else etabs),
        "unites": frame("unites", [uo()] if units is None else units),
        "offres": frame("offres", [{"uo_id": "UO-1", "mention": "ME050", "forme": "HC",
                                    "lits": 20}] if offres is None else offres),
        "vt_unites": frame("vt_unites", [vt()] if vts is None else vts),
        "vt_guichets": frame("vt_guichets", guichets or []),
        "habilitations": frame("habilitations", ACCOUNTS if habs is None else habs),
        "finess_etablissements": frame(
            "finess_etablissements",
            [{"finess_eg": "750000011", "raison_sociale": "CENTRE S.M.R. TEST"}]
            if finess is None else finess,
        ),
        "autorisations": frame(
            "autorisations",
            [{"autorisation_id": "A-1", "finess_eg": "750000011", "regime": "SMR",
              "mention": "ME050", "forme": "01", "date_decision": dt.date(2023, 9, 1)}]
            if auths is None else auths,
        ),
    }
