"""Import: read export files, preview the validation report, save a snapshot once confirmed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import streamlit as st

from analysis.geo import geography
from analysis.io import importing
from analysis.io.loaders.mapped import describe, example_mappings, read_mapping
from analysis.model import formats, settings
from analysis.model.errors import SmrError, SnapshotExistsError
from analysis.model.schema import TABLES
from ui import notes
from ui.access import local_paths_allowed
from ui.common import (
    default_store,
    downloads,
    read_only,
    show_table,
    sidebar,
    upload_hint,
)
from ui.progress import progress_bar

st.title("Import")
st.caption(
    "Lire les fichiers tels qu'ils sont exportés (ROR, ViaTrajectoire, FINESS, API FHIR du ROR), "
    "voir ce qui est gardé et ce qui est rejeté, puis enregistrer un instantané daté. Rien "
    "n'est écrit avant votre confirmation."
)

if read_only():  # not in the navigation then; refuse a direct link too
    st.error("Application en mode consultation (SMR_READ_ONLY) : import désactivé.")
    st.stop()

# The sidebar is drawn here like on every page, but an empty store must not stop this one:
# importing is how a store gets its first snapshot.
ctx = sidebar()
st.session_state["context"] = ctx
target = (
    ctx.store
    if ctx is not None
    else Path(st.session_state.get("store_path") or default_store()).expanduser()
)

#: File types offered by the uploader, per format.
TYPES = {
    "canonical": ["csv", "tsv", "txt", "parquet"],
    "mapped": ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "ods"],
    "finess": ["csv", "txt", "json"],
    "fhir": ["json", "ndjson", "jsonl", "gz"],
}
HELP = {
    "canonical": "Un fichier par table, nommé d'après elle : etablissements.csv, unites.csv, "
    "offres.csv (obligatoires), autorisations, vt_unites, vt_guichets.",
    "mapped": "Export ROR ou ViaTrajectoire en CSV ou Excel, lu à l'aide d'une correspondance "
    "de colonnes (exemples et mode d'emploi dans docs/mappings/).",
    "finess": "Fichier d'extraction etalab (etalab-cs1100507-stock-….csv) et, s'il est "
    "disponible, le flux JSON « Activités » pour les autorisations.",
    "fhir": "Bundle(s) JSON renvoyés par l'API FHIR du ROR (une recherche HealthcareService "
    "avec _include des organisations et des Location, ou une recherche capacitaire sur "
    "Location) ou fichiers NDJSON de l'extraction $export (un par type, .gz accepté).",
}

fmt = st.radio(
    "Format des fichiers",
    list(importing.FORMATS),
    format_func=importing.FORMATS.get,
    key="import_format",
)
st.caption(HELP[fmt])

# Two limits in one place (analysis.model.settings): SMR_MAX_UPLOAD_MB, checked here, within
# Streamlit's own server.maxUploadSize; SMR_MAX_IMPORT_ROWS, checked by importing.load.
limit_mb = min(settings.max_upload_mb(), st.get_option("server.maxUploadSize"))
row_limit = settings.max_import_rows()
uploads = st.file_uploader(
    "Fichiers à importer",
    type=TYPES[fmt],
    accept_multiple_files=True,
    key=f"import_files_{fmt}",
    help=f"Au plus {limit_mb} Mo par fichier et {formats.integer(row_limit)} lignes par import.",
)
st.caption(
    f"Formats acceptés : {', '.join(t.upper() for t in TYPES[fmt])}. "
    f"Limites de l'application : {limit_mb} Mo par fichier (réglage SMR_MAX_UPLOAD_MB), "
    f"{formats.integer(row_limit)} lignes par import (SMR_MAX_IMPORT_ROWS). Au-delà, utilisez la "
    "commande « smr import … --format " + fmt + " »."
)
local = ""
if local_paths_allowed():  # never on a shared deployment: a web user must not read the server
    with st.expander("… ou lire un fichier ou un dossier de ce poste"):
        local = st.text_input(
            "Chemin d'un fichier ou d'un dossier",
            key="import_path",
            help="Utile pour un fichier plus gros que la limite de téléversement.",
        ).strip()

options = importing.ImportOptions(format=fmt, row_limit=row_limit)
mapping_upload = None
mapping_label = None
if fmt == "mapped":
    examples = {p.name: p for p in example_mappings()}
    UPLOAD = "(téléverser ma correspondance)"
    choice = st.selectbox(
        "Correspondance de colonnes",
        [UPLOAD, *examples],
        key="import_mapping_choice",
        help="Fichier YAML ou TOML qui dit quelle colonne de l'export va dans quelle colonne "
        "du modèle ; les exemples sont à adapter à vos intitulés.",
    )
    if choice == UPLOAD:
        mapping_file = st.file_uploader(
            "Fichier de correspondance (.yaml, .yml, .toml)",
            type=["yaml", "yml", "toml"],
            key="import_mapping_file",
        )
        upload_hint(["yaml", "yml", "toml"])
        if mapping_file is not None:
            mapping_upload = (mapping_file.name, mapping_file.getvalue())
            mapping_label = (mapping_file.name, mapping_file.size)
    else:
        options = importing.ImportOptions(format=fmt, mapping=examples[choice], row_limit=row_limit)
        mapping_label = choice
        try:
            lines = list(describe(read_mapping(examples[choice])))
            st.caption("Tables lues : " + " ; ".join(lines))
        except SmrError as exc:
            st.error(str(exc))
elif fmt == "finess":
    regions = geography.available_regions()
    names = {r["code"]: r["nom"] for r in regions}
    left, middle, right = st.columns(3)
    region = left.selectbox(
        "Région",
        ["", *names],
        format_func=lambda c: "Toute la France" if not c else f"{names[c]} ({c})",
        key="import_finess_region",
    )
    departements = middle.text_input(
        "Départements",
        key="import_finess_departements",
        help="Codes séparés par des virgules (75, 92, 2A, 971 ou 9A) ; vide : tous.",
    )
    categories = right.text_input(
        "Catégories d'établissement",
        key="import_finess_categories",
        help="Codes FINESS séparés par des virgules (ex. 109, 365) ; vide : toutes.",
    )
    options = importing.ImportOptions(
        format=fmt,
        region=region or None,
        departements=(departements,) if departements.strip() else (),
        categories=(categories,) if categories.strip() else (),
        row_limit=row_limit,
    )

# A preview belongs to the inputs it was computed from: any change makes it stale.
signature = (
    fmt,
    tuple((f.name, f.size) for f in uploads or ()),
    local,
    mapping_label,
    options.region,
    options.departements,
    options.categories,
)
if st.session_state.get("import_signature") != signature:
    st.session_state.pop("import_preview", None)
    st.session_state.pop("import_saved", None)

if st.button("Analyser les fichiers", key="import_analyse", type="secondary"):
    st.session_state.pop("import_preview", None)
    st.session_state.pop("import_saved", None)
    if fmt == "mapped" and options.mapping is None and mapping_upload is None:
        st.error("Choisissez ou téléversez d'abord une correspondance de colonnes.")
    elif not uploads and not local:
        st.error("Choisissez des fichiers à importer (ou indiquez un chemin sur ce poste).")
    else:
        with st.status("Lecture et contrôle des fichiers…", expanded=True) as status:
            bar = st.progress(0.0, text="Lecture des fichiers…")
            try:
                files = [(f.name, f.getvalue()) for f in uploads or ()]
                result = importing.preview_uploads(
                    files, options, mapping_upload, local or None, max_bytes=limit_mb * 2**20,
                    progress=progress_bar(bar),
                )
                st.session_state["import_preview"] = result
                st.session_state["import_signature"] = signature
                status.update(label="Fichiers lus et contrôlés.", state="complete",
                              expanded=False)
            except SmrError as exc:
                status.update(label="Lecture impossible.", state="error", expanded=False)
                st.error(f"Lecture impossible : {exc}")

result = st.session_state.get("import_preview")
if result is None:
    st.info("Choisissez le format et les fichiers, puis lancez l'analyse.")
    st.stop()

st.subheader("Rapport de validation")
counts = result.counts_frame()
totals = {k: int(counts[k].sum()) for k in ("lus", "conserves", "rejetes", "avertissements")}
cols = st.columns(4)
cols[0].metric("Lignes lues", formats.integer(totals["lus"]))
cols[1].metric("Lignes conservées", formats.integer(totals["conserves"]))
cols[2].metric(
    "Lignes rejetées",
    formats.integer(totals["rejetes"]),
    help="Gardées à part avec leur motif (rejected.parquet) si vous enregistrez.",
)
cols[3].metric(
    "Avertissements",
    formats.integer(totals["avertissements"]),
    help="Lignes gardées, mais une valeur est douteuse ou a été effacée.",
)
if totals["rejetes"]:
    st.warning(
        f"{formats.integer(totals['rejetes'])} ligne(s) rejetée(s) : elles ne seront pas analysées, "
        "mais restent consultables avec leur motif. Corrigez la source ou enregistrez quand même."
    )
else:
    st.success("Aucune ligne rejetée.")
notes.method_notes(
    ["lignes_lues", "lignes_conservees", "lignes_rejetees", "avertissements"],
    "rapport de validation",
)
show_table(counts.drop("table"), "import_comptes",
           overrides={"libelle": formats.Format("Table", width="medium", key=True)})

causes = importing.cause_summary(result)
if causes.height:
    st.markdown(
        "**Causes des rejets** : corrigez d'abord ces lignes, les autres rejets en découlent "
        "(lignes comptées comme dans un tableur : l'en-tête est la ligne 1)."
    )
    st.dataframe(
        causes.select(
            pl.col("table").replace_strict(
                {name: t.label for name, t in TABLES.items()}, default=pl.col("table")
            ).alias("Table"),
            pl.col("ligne").alias("Ligne"),
            pl.col("source").alias("Origine"),
            pl.col("probleme").alias("Problème"),
            pl.col("en_consequence").alias("Lignes rejetées en conséquence"),
            pl.col("avertissements_en_consequence").alias("Avertissements en conséquence"),
            pl.col("detail").alias("Détail par table"),
        ).with_columns(pl.col(pl.String).fill_null(formats.EMPTY)),  # the grid draws « None »
        hide_index=True,
        width="stretch",
    )

report = importing.report_for_download(result)
for row in counts.iter_rows(named=True):
    own_reject = (pl.col("severity") == "rejet") & pl.col("cause").is_null()
    table_report = report.filter(pl.col("table") == row["table"]).sort(
        pl.when(own_reject).then(0).when(pl.col("cause").is_not_null()).then(1).otherwise(2),
        "cause", "ligne", nulls_last=True, maintain_order=True,
    )
    if table_report.height == 0:
        continue
    label = (
        f"{row['libelle']} : {row['rejetes']} rejet(s), {row['avertissements']} avertissement(s)"
    )
    with st.expander(label):
        show_table(  # causes first, each followed by what it rejected in cascade
            table_report.drop("table"),
            f"import_rapport_{row['table']}",
        )
downloads(st, report, f"rapport_import_{fmt}", "import_download",
          label="Télécharger le rapport (contacts masqués)")

st.subheader("Enregistrer l'instantané")
st.caption(f"Magasin : {target}")
day = st.date_input(
    "Date de l'instantané",
    value=dt.date.today(),
    format="DD/MM/YYYY",
    key="import_date",
    help="Date de l'extraction (celle des fichiers), pas forcément celle d'aujourd'hui.",
)
REPLACE = "Remplacer l'instantané existant de cette date"


def _exists_message(when: dt.date) -> str:
    """The one wording of a refused overwrite on this page: it names the checkbox."""
    return (f"L'instantané du {when:%d/%m/%Y} existe déjà dans ce magasin ; cochez « {REPLACE} » "
            "pour le remplacer.")


exists = importing.snapshot_exists(target, day)
replace = st.checkbox(REPLACE, key="import_replace", disabled=not exists)
if exists and not replace:
    st.warning(_exists_message(day))
if st.button(
    "Enregistrer l'instantané", key="import_save", type="primary", disabled=exists and not replace
):
    try:
        with st.status("Enregistrement de l'instantané…") as status:
            path = importing.save(result, target, day, replace=replace)
            status.update(label="Instantané enregistré.", state="complete")
        st.session_state["import_saved"] = str(path)
    except SnapshotExistsError:  # written meanwhile by someone else
        st.error(_exists_message(day))
    except SmrError as exc:
        st.error(str(exc))
saved = st.session_state.get("import_saved")
if saved:
    st.success(
        f"Instantané enregistré : {saved}. Il apparaît dans la liste des instantanés de la "
        "barre latérale."
    )
