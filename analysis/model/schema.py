"""Canonical snapshot tables: every column name, type and role in one place.

Column names are the users' French words in snake_case without accents (``finess_eg``,
``lits``); everything else in the code refers to them through this module. A column's
``kind`` tells validation which syntax check applies; ``contact`` marks personal data
(names, e-mails, phone numbers) that exports mask by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

SCHEMA_VERSION = 1

# Kinds of values, used by validation to pick a check.
TEXT = "text"
FINESS = "finess"
INSEE = "insee"
POSTAL = "code_postal"
EMAIL = "email"
PHONE = "telephone"
DATE = "date"
DATETIME = "datetime"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
LATITUDE = "latitude"
LONGITUDE = "longitude"
AGE = "age"
CODE = "code"  # value must belong to a known code list (see ``Column.codes``)


@dataclass(frozen=True)
class Column:
    """One canonical column: name, Polars type, kind of value and role."""

    name: str
    dtype: pl.DataType
    kind: str = TEXT
    required: bool = False  # must be present as a column in the input
    not_null: bool = False  # a row without a value is rejected
    contact: bool = False  # personal data: masked in exports unless asked for
    codes: str | None = None  # name of a code list in ``analysis.model.nomenclature.CODE_LISTS``
    label: str = ""  # French label for display


@dataclass(frozen=True)
class Reference:
    """A foreign key: ``column`` of this table must exist in ``table.target``."""

    column: str
    table: str
    target: str
    reject: bool = True  # False: an unresolved reference is only a warning (row kept)


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, key and references to other tables."""

    name: str
    label: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    @property
    def contact_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.contact]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}: colonne inconnue « {name} »")


UTF8 = pl.String()
DATE_T = pl.Date()
DATETIME_T = pl.Datetime("us")
INT = pl.Int32()
FLOAT = pl.Float64()
BOOL = pl.Boolean()

STATUTS = ("public", "prive_non_lucratif", "prive_lucratif")
DISCIPLINES = ("SSR", "SMR")
REGIMES = ("SSR", "SMR")

ETABLISSEMENTS = Table(
    "etablissements",
    "Établissements (entités géographiques)",
    (
        Column("finess_eg", UTF8, FINESS, required=True, not_null=True, label="FINESS EG"),
        Column("finess_ej", UTF8, FINESS, label="FINESS EJ"),
        Column("raison_sociale", UTF8, required=True, not_null=True, label="Raison sociale"),
        Column("surnom", UTF8, label="Nom d'usage"),
        Column("adresse", UTF8, label="Adresse"),
        Column("code_postal", UTF8, POSTAL, label="Code postal"),
        Column("commune_insee", UTF8, INSEE, required=True, not_null=True, label="Commune (INSEE)"),
        Column("latitude", FLOAT, LATITUDE, label="Latitude"),
        Column("longitude", FLOAT, LONGITUDE, label="Longitude"),
        Column("categorie", UTF8, label="Catégorie FINESS"),
        Column("statut", UTF8, CODE, codes="statut", label="Statut"),
        # The establishment's switchboard (FINESS, ROR): not personal data, unlike the director's.
        Column("telephone", UTF8, PHONE, label="Téléphone (standard)"),
        Column("email_alerte", UTF8, EMAIL, contact=True, label="E-mail d'alerte"),
        Column("directeur_nom", UTF8, contact=True, label="Directeur"),
        Column("directeur_telephone", UTF8, PHONE, contact=True, label="Téléphone du directeur"),
        Column("directeur_email", UTF8, EMAIL, contact=True, label="E-mail du directeur"),
        Column("date_maj", DATETIME_T, DATETIME, label="Dernière mise à jour"),
        # ROR quality requirements (ROR_QUALITY.md): ST3, EX2 (and ST2 / CO4 with finess_ej
        # and categorie above, compared with the FINESS reference table).
        Column("id_nat_struct", UTF8, label="Identifiant national de structure"),
        Column("date_fermeture", DATE_T, DATE, label="Date de fermeture (ROR)"),
        Column(
            "type_fermeture",
            UTF8,
            CODE,
            codes="type_fermeture",
            label="Type de fermeture (ROR)",
        ),
        # The campaign guide accepts the CME president's contact instead of the director's.
        Column("cme_president_nom", UTF8, contact=True, label="Président de CME"),
        Column(
            "cme_president_telephone",
            UTF8,
            PHONE,
            contact=True,
            label="Téléphone du président de CME",
        ),
        Column(
            "cme_president_email", UTF8, EMAIL, contact=True, label="E-mail du président de CME"
        ),
    ),
    key=("finess_eg",),
)

UNITES = Table(
    "unites",
    "Unités opérationnelles",
    (
        Column("uo_id", UTF8, required=True, not_null=True, label="Identifiant UO"),
        Column("finess_eg", UTF8, FINESS, required=True, not_null=True, label="FINESS EG"),
        Column("nom", UTF8, required=True, label="Nom de l'unité"),
        Column("discipline", UTF8, CODE, codes="discipline", label="Discipline"),
        Column("age_min", INT, AGE, label="Âge minimum"),
        Column("age_max", INT, AGE, label="Âge maximum"),
        Column("telephone", UTF8, PHONE, label="Téléphone de l'unité"),
        Column("responsable_nom", UTF8, contact=True, label="Responsable"),
        Column(
            "responsable_telephone", UTF8, PHONE, contact=True, label="Téléphone du responsable"
        ),
        Column("responsable_email", UTF8, EMAIL, contact=True, label="E-mail du responsable"),
        Column("date_maj", DATETIME_T, DATETIME, label="Dernière mise à jour"),
        # Population follow-up and RE1.2 (ROR_QUALITY.md §2–3). The mode de prise en charge is
        # the NOS code of ``offres.forme`` (nomenclature.FORMES), so it needs no column here.
        Column(
            "champ_activite",
            UTF8,
            CODE,
            codes="champ_activite",
            label="Champ d'activité (TRE_R227)",
        ),
        # TRE_R211 codes, several separated by commas (the IG allows one, exports may list more).
        Column("activite_operationnelle", UTF8, label="Activité(s) opérationnelle(s)"),
        Column(
            "date_maj_contacts",
            DATETIME_T,
            DATETIME,
            label="Dernière mise à jour des contacts",
        ),
        Column("date_fermeture", DATE_T, DATE, label="Date de fermeture"),
        Column(
            "type_fermeture",
            UTF8,
            CODE,
            codes="type_fermeture",
            label="Type de fermeture",
        ),
    ),
    key=("uo_id",),
    references=(Reference("finess_eg", "etablissements", "finess_eg"),),
)

OFFRES = Table(
    "offres",
    "Offres (unité × mention × forme)",
    (
        Column("uo_id", UTF8, required=True, not_null=True, label="Identifiant UO"),
        Column(
            "mention",
            UTF8,
            CODE,
            required=True,
            not_null=True,
            codes="mention",
            label="Mention SMR",
        ),
        Column(
            "forme",
            UTF8,
            CODE,
            required=True,
            not_null=True,
            codes="forme",
            label="Forme de prise en charge",
        ),
        Column("lits", INT, INTEGER, label="Lits"),
        Column("places", INT, INTEGER, label="Places"),
        # Where the mention comes from when a loader had to derive it (DOMAIN.md §2.6).
        Column(
            "origine_mention",
            UTF8,
            CODE,
            codes="origine_mention",
            label="Origine de la mention",
        ),
    ),
    key=("uo_id", "mention", "forme"),
    references=(Reference("uo_id", "unites", "uo_id"),),
)

AUTORISATIONS = Table(
    "autorisations",
    "Autorisations (SSR et SMR)",
    (
        Column("autorisation_id", UTF8, required=True, not_null=True, label="N° d'autorisation"),
        Column("finess_eg", UTF8, FINESS, required=True, not_null=True, label="FINESS EG"),
        Column("regime", UTF8, CODE, required=True, not_null=True, codes="regime", label="Régime"),
        Column("activite", UTF8, CODE, codes="activite_ssr", label="Activité SSR (50–59)"),
        Column("mention", UTF8, CODE, codes="mention", label="Mention SMR"),
        Column("modalite", UTF8, CODE, codes="modalite", label="Modalité"),
        Column("forme", UTF8, CODE, codes="forme_autorisation", label="Forme d'activité"),
        Column("date_decision", DATE_T, DATE, label="Date de décision"),
        Column("date_mise_en_oeuvre", DATE_T, DATE, label="Date de mise en œuvre"),
        Column("date_fin", DATE_T, DATE, label="Date de fin"),
    ),
    key=("autorisation_id",),
    references=(Reference("finess_eg", "etablissements", "finess_eg"),),
)

VT_UNITES = Table(
    "vt_unites",
    "Unités ViaTrajectoire",
    (
        Column("vt_id", UTF8, required=True, not_null=True, label="Identifiant VT"),
        Column("uo_id", UTF8, label="UO liée (ROR)"),
        Column("finess_eg", UTF8, FINESS, required=True, not_null=True, label="FINESS EG"),
        Column("nom", UTF8, label="Nom de l'unité (VT)"),
        Column("telephone", UTF8, PHONE, label="Téléphone (VT)"),
        Column("age_min", INT, AGE, label="Âge minimum (VT)"),
        Column("age_max", INT, AGE, label="Âge maximum (VT)"),
        Column("synchronise_ror", BOOL, BOOLEAN, label="Synchronisée avec le ROR"),
        Column("date_synchronisation", DATETIME_T, DATETIME, label="Dernière synchronisation"),
        Column(
            "responsable_admissions_nom", UTF8, contact=True, label="Responsable des admissions"
        ),
        Column(
            "responsable_admissions_email",
            UTF8,
            EMAIL,
            contact=True,
            label="E-mail du responsable des admissions",
        ),
        Column("habilitation_fin", DATE_T, DATE, label="Fin d'habilitation"),
        Column("guichet_id", UTF8, label="Guichet unique"),
        # Values ViaTrajectoire shows and the ROR sends, where the VT export has them
        # (analysis.indicators.sync compares them): the unit head, and the establishment's fields.
        Column("responsable_nom", UTF8, contact=True, label="Responsable de l'unité (VT)"),
        Column(
            "responsable_telephone",
            UTF8,
            PHONE,
            contact=True,
            label="Téléphone du responsable (VT)",
        ),
        Column(
            "responsable_email", UTF8, EMAIL, contact=True, label="E-mail du responsable (VT)"
        ),
        Column("etablissement_nom", UTF8, label="Nom de l'établissement (VT)"),
        Column("etablissement_adresse", UTF8, label="Adresse de l'établissement (VT)"),
        Column(
            "etablissement_telephone", UTF8, PHONE, label="Téléphone de l'établissement (VT)"
        ),
    ),
    key=("vt_id",),
    references=(
        # An unlinked or dangling ROR link is a synchronisation finding, not a broken row.
        Reference("uo_id", "unites", "uo_id", reject=False),
        Reference("finess_eg", "etablissements", "finess_eg", reject=False),
        Reference("guichet_id", "vt_guichets", "guichet_id", reject=False),
    ),
)

VT_GUICHETS = Table(
    "vt_guichets",
    "Guichets uniques ViaTrajectoire",
    (
        Column("guichet_id", UTF8, required=True, not_null=True, label="Identifiant du guichet"),
        Column("nom", UTF8, label="Nom du guichet"),
        Column("responsable_nom", UTF8, contact=True, label="Responsable du guichet"),
        Column("telephone", UTF8, PHONE, contact=True, label="Téléphone du guichet"),
        Column("email", UTF8, EMAIL, contact=True, label="E-mail du guichet"),
    ),
    key=("guichet_id",),
)

FINESS_ETABLISSEMENTS = Table(
    "finess_etablissements",
    "Référentiel FINESS (entités géographiques)",
    (
        Column("finess_eg", UTF8, FINESS, required=True, not_null=True, label="FINESS EG"),
        Column("finess_ej", UTF8, FINESS, label="FINESS EJ (FINESS)"),
        Column("raison_sociale", UTF8, label="Raison sociale (FINESS)"),
        Column("commune_insee", UTF8, INSEE, label="Commune (INSEE)"),
        Column("categorie", UTF8, label="Catégorie (FINESS)"),
        Column("date_ouverture", DATE_T, DATE, label="Date d'ouverture"),
        Column("date_fermeture", DATE_T, DATE, label="Date de fermeture (FINESS)"),
        # FINESS closure types: PRO, DEF, ERR, NDI, CHP, EML (kept as written).
        Column("type_fermeture", UTF8, label="Type de fermeture (FINESS)"),
        Column("caduc", BOOL, BOOLEAN, label="Constat de caducité"),
        # SMR authorisations in force (activities 50–59 or SMR mentions, HAD form excluded),
        # counted where the activity flow was read; empty when unknown.
        Column("nb_autorisations_smr", INT, INTEGER, label="Autorisations SMR (hors HAD)"),
    ),
    key=("finess_eg",),
)

HABILITATIONS = Table(
    "habilitations",
    "Comptes et habilitations (ROR, ViaTrajectoire)",
    (
        Column(
            "habilitation_id",
            UTF8,
            required=True,
            not_null=True,
            label="Identifiant du compte ou de l'habilitation",
        ),
        Column(
            "outil",
            UTF8,
            CODE,
            required=True,
            not_null=True,
            codes="outil_habilitation",
            label="Outil (ROR ou VT)",
        ),
        Column(
            "role",
            UTF8,
            CODE,
            required=True,
            not_null=True,
            codes="role_habilitation",
            label="Rôle",
        ),
        Column("finess_eg", UTF8, FINESS, required=True, not_null=True, label="FINESS EG"),
        # Roles held on one unit (Référent unité, responsable des admissions): the unit.
        Column("uo_id", UTF8, label="Unité du ROR (rôle par unité)"),
        Column("vt_id", UTF8, label="Unité ViaTrajectoire (rôle par unité)"),
        Column("titulaire_nom", UTF8, contact=True, label="Titulaire"),
        Column("titulaire_email", UTF8, EMAIL, contact=True, label="E-mail du titulaire"),
        # Empty: no end date (valid until withdrawn).
        Column("date_fin_validite", DATE_T, DATE, label="Fin de validité"),
    ),
    key=("habilitation_id",),
    references=(
        # An account of an establishment or unit missing from the extract is kept (warning).
        Reference("finess_eg", "etablissements", "finess_eg", reject=False),
        Reference("uo_id", "unites", "uo_id", reject=False),
        Reference("vt_id", "vt_unites", "vt_id", reject=False),
    ),
)

#: Tables in load order: a table's references point to tables earlier in the list
#: (except VT → guichets, resolved after both are read).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        ETABLISSEMENTS,
        UNITES,
        OFFRES,
        AUTORISATIONS,
        VT_GUICHETS,
        VT_UNITES,
        FINESS_ETABLISSEMENTS,
        HABILITATIONS,
    )
}

#: Tables added after the first snapshots were written (same schema version: a snapshot
#: written before them has neither the file nor the manifest entry, and reads them empty).
LATER_TABLES: tuple[str, ...] = ("finess_etablissements", "habilitations")

#: Tables a snapshot must contain (possibly empty).
REQUIRED_TABLES = ("etablissements", "unites", "offres")

#: The validation report: one row per problem found in an input row.
REPORT_SCHEMA: dict[str, pl.DataType] = {
    "table": UTF8,
    "row": pl.Int64(),  # 1-based position of the data row in the input (header excluded)
    "column": UTF8,
    "value": UTF8,
    "rule": UTF8,
    "reason": UTF8,
    "severity": UTF8,  # "rejet" (row not kept) or "avertissement" (row kept)
}
REJECT = "rejet"
WARNING = "avertissement"

#: Rejected input rows: the report columns plus the whole original row as JSON, so
#: nothing is lost and a corrected file can be rebuilt from the store.
REJECTED_SCHEMA: dict[str, pl.DataType] = {**REPORT_SCHEMA, "donnees": UTF8}

#: Metadata columns a loader may add to a raw table (never stored in a canonical table):
#: ``_source`` says where the row came from (file and line, FHIR resource) and is kept with a
#: rejected row; ``_rejet`` holds the loader's reason when it could not make sense of the row,
#: which validation then rejects with that reason (so rows in = kept + rejected still holds).
SOURCE_COLUMN = "_source"
LOADER_REJECT_COLUMN = "_rejet"
META_COLUMNS = (SOURCE_COLUMN, LOADER_REJECT_COLUMN)

CONTACT_COLUMNS: dict[str, list[str]] = {
    name: t.contact_columns for name, t in TABLES.items() if t.contact_columns
}


def empty(table: str) -> pl.DataFrame:
    """An empty frame with the canonical columns and types of ``table``."""
    return pl.DataFrame(schema=TABLES[table].polars_schema)


def conform(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Columns of ``table`` in canonical order and types; absent optional columns are null.

    Extra columns are dropped. Used after validation (values already parse) and when
    reading a snapshot written by an older version that lacked a new optional column.
    """
    t = TABLES[table]
    exprs = []
    for c in t.columns:
        if c.name in df.columns:
            exprs.append(pl.col(c.name).cast(c.dtype, strict=False))
        else:
            exprs.append(pl.lit(None, dtype=c.dtype).alias(c.name))
    return df.select(exprs)


# ---------------------------------------------------------------- planner's OQOS files
# Not snapshot tables: files the planner brings (or saves once in STORE/oqos/), read by
# ``analysis.io.oqos_files`` with French headers accepted (docs/oqos.md). Pending applications
# live here because the ``autorisations`` table holds decisions only: nothing in a snapshot
# says that an application was filed and not yet decided.

CIBLES_OQOS = Table(
    "cibles",
    "Objectifs quantifiés (OQOS) par zone, mention et forme",
    (
        Column("zone", UTF8, required=True, not_null=True, label="Zone"),
        Column("mention", UTF8, CODE, required=True, not_null=True, codes="mention",
               label="Mention SMR (code ou libellé)"),
        Column("forme", UTF8, label="Forme (HC, HJ ou toutes ; vide : toutes)"),
        Column("min", pl.Int64(), INTEGER, required=True, label="Minimum (vide : aucun)"),
        Column("max", pl.Int64(), INTEGER, required=True, label="Maximum (vide : aucun)"),
    ),
    key=("zone", "mention", "forme"),
)

ZONAGE_OQOS = Table(
    "zonage",
    "Zonage : commune → zone d'implantation",
    (
        Column("commune_insee", UTF8, INSEE, required=True, not_null=True,
               label="Commune (INSEE)"),
        Column("zone", UTF8, required=True, not_null=True, label="Zone"),
        Column("libelle_zone", UTF8, label="Libellé de la zone"),
    ),
    key=("commune_insee",),
)

DEMANDES_AUTORISATION = Table(
    "demandes",
    "Demandes d'autorisation SMR (en attente ou décidées)",
    (
        Column("demande_id", UTF8, label="N° de demande (défaut : L<ligne>)"),
        Column("finess_eg", UTF8, FINESS, label="FINESS EG (vide pour un nouveau site)"),
        Column("commune_insee", UTF8, INSEE, label="Commune (INSEE) du site"),
        Column("mention", UTF8, CODE, required=True, not_null=True, codes="mention",
               label="Mention SMR demandée"),
        Column("forme", UTF8, label="Forme (HC, HJ ou vide)"),
        Column("date_depot", DATE_T, DATE, label="Date de dépôt"),
        Column("date_decision", DATE_T, DATE, label="Date de décision (vide : en attente)"),
    ),
    key=("demande_id",),
)

#: The planner's OQOS files by kind (``analysis.io.oqos_files.KINDS``).
PLANNING_FILES: dict[str, Table] = {
    t.name: t for t in (CIBLES_OQOS, ZONAGE_OQOS, DEMANDES_AUTORISATION)
}
