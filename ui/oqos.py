"""What the Objectifs (OQOS) page and the Transition page share: the OQOS files in use, the
files panel, cached results and the before / after of a scenario.

Files uploaded on the Objectifs page live in the session (``UPLOADS``) and win over the
store's setting (``STORE/oqos/``, ``analysis.io.oqos_files``) on both pages.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import streamlit as st

from analysis.geo import geography as geo
from analysis.indicators import opening
from analysis.io import oqos_files
from analysis.model import settings
from analysis.model.errors import SmrError
from analysis.present import methods
from analysis.transition import oqos
from analysis.transition.gaps import transition_gaps
from ui import notes
from ui.common import Context, frame_digest, read_only, show_table, upload_hint

#: Session-state key of each uploaded file: (bytes, name).
UPLOADS: dict[str, str] = {kind: f"oqos_fichier_{kind}" for kind in oqos_files.KINDS}
TYPES = ["csv", "txt", "xlsx", "xls"]
NOTE = "oqos_implantations"


#: Characters Markdown reads as syntax; a planner's file names, zone labels and the messages
#: quoting them are escaped before they reach a caption or a note, so that a crafted name
#: cannot become a link or an image fetched from elsewhere.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def md(text: object) -> str:
    """``text`` shown as written in Streamlit's Markdown (syntax characters escaped)."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def _stamp(store: Path) -> float:
    path = store / oqos_files.STORE_DIR / oqos_files.SETTING_FILE
    return path.stat().st_mtime if path.is_file() else 0.0


@st.cache_data(show_spinner="Lecture des objectifs…", max_entries=16)
def _inputs(
    region: str, store: str, uploads: tuple, stamp: float
) -> oqos_files.OqosInputs:
    given = dict(uploads)
    return oqos_files.inputs_for(
        region, store, given.get(oqos_files.TARGETS), given.get(oqos_files.ZONING),
        given.get(oqos_files.APPLICATIONS),
    )


def _uploads() -> tuple:
    return tuple(
        (kind, st.session_state[key]) for kind, key in UPLOADS.items()
        if st.session_state.get(key)
    )


def inputs(ctx: Context) -> oqos_files.OqosInputs | None:
    """The OQOS files in use (this session's uploads, else the store's), or None when there
    are no targets. A file that no longer fits (another region's zoning…) is reported and the
    uploads are left aside."""
    uploads = _uploads()
    try:
        return _inputs(ctx.region, str(ctx.store), uploads, _stamp(ctx.store))
    except oqos_files.NoTargetsError:
        return None
    except SmrError as exc:
        st.error(f"Objectifs OQOS : {md(exc)}")
        if uploads:
            try:
                return _inputs(ctx.region, str(ctx.store), (), _stamp(ctx.store))
            except SmrError:
                return None
        return None


def _upload(ctx: Context, kind: str, label: str, help: str, key: str) -> None:
    """One uploader: a readable file is kept in the session, an unreadable one reported."""
    upload = st.file_uploader(label, type=TYPES, key=f"{key}_{kind}", help=help)
    upload_hint(TYPES)
    seen = f"{key}_{kind}_vu"
    if upload is not None and upload.size > settings.max_upload_bytes():
        st.error(f"{oqos_files.KINDS[kind].capitalize()} : fichier de {upload.size / 2**20:.0f} Mo, "
                 f"plus que la limite de {settings.max_upload_mb()} Mo (SMR_MAX_UPLOAD_MB) : il "
                 "est ignoré.")
    elif upload is not None:
        data = upload.getvalue()
        reader = {
            oqos_files.TARGETS: oqos_files.read_targets,
            oqos_files.ZONING: oqos_files.read_zoning,
            oqos_files.APPLICATIONS: oqos_files.read_applications,
        }[kind]
        try:
            reader(data, upload.name)
        except SmrError as exc:
            st.error(f"{md(exc)} Le fichier est ignoré.")
        else:
            st.session_state[UPLOADS[kind]] = (data, upload.name)
    elif st.session_state.get(seen):
        st.session_state.pop(UPLOADS[kind], None)  # the upload was removed
    st.session_state[seen] = upload is not None


def files_panel(ctx: Context, key: str = "oqos") -> None:
    """The three files: upload for this session, make them the store's default, or remove
    the store's. The format is in docs/oqos.md."""
    with st.expander("Fichiers : objectifs, zonage, demandes d'autorisation"):
        st.caption(
            "CSV ou Excel, en-têtes français acceptés (format : docs/oqos.md). Objectifs : "
            "zone, mention, forme (HC, HJ ou toutes), min, max (vide : pas de borne). Zonage : "
            "commune_insee, zone, libelle_zone ; sans zonage, les départements de la région. "
            "Demandes (facultatif) : finess_eg ou commune_insee, mention, forme, date_depot, "
            "date_decision (vide : en attente)."
        )
        _upload(ctx, oqos_files.TARGETS, "Objectifs (cibles)",
                "Une ligne par zone × mention × forme.", key)
        _upload(ctx, oqos_files.ZONING, "Zonage", "Une ligne par commune.", key)
        _upload(ctx, oqos_files.APPLICATIONS, "Demandes d'autorisation (facultatif)",
                "Demandes déposées, décidées ou non.", key)
        try:
            info = oqos_files.store_info(ctx.store)
        except SmrError as exc:
            st.warning(md(exc))
            info = {}
        for kind, entry in info.items():
            fict = " — fichier fictif de démonstration" if entry.get("fictif") else ""
            st.caption(
                f"Réglage du magasin, {oqos_files.KINDS[kind]} : "
                f"{md(entry.get('nom_origine', entry.get('fichier')))}, enregistré le "
                f"{entry.get('enregistre_le', '?')}{fict}."
            )
        if read_only():
            return
        c1, c2 = st.columns(2)
        uploaded = {k: st.session_state.get(v) for k, v in UPLOADS.items()}
        if c1.button(
            "Utiliser par défaut pour ce magasin",
            key=f"{key}_enregistrer",
            disabled=not any(uploaded.values()),
            help="Les pages et la commande smr oqos de ce magasin utiliseront ces fichiers "
            "sans qu'on les redonne.",
        ):
            try:
                for kind, given in uploaded.items():
                    if given:
                        oqos_files.save_store_file(ctx.store, kind, given[0], given[1])
            except SmrError as exc:
                st.error(md(exc))
            else:
                st.success("Fichiers enregistrés comme réglage du magasin.")
        if c2.button(
            "Retirer les fichiers du magasin",
            key=f"{key}_retirer",
            disabled=not info,
            help="Le zonage revient aux départements ; sans objectifs, la page attend un "
            "fichier.",
        ):
            for kind in list(info):
                oqos_files.clear_store_file(ctx.store, kind)
            st.success("Réglage des objectifs retiré du magasin.")


def _key_of(frame: pl.DataFrame) -> str:
    """A frame as a plain cache key: the fingerprint of its rows, else its CSV text."""
    return frame_digest(frame) or frame.write_csv()


def _frames_key(inp: oqos_files.OqosInputs) -> tuple:
    """The inputs as plain values for a cache key (fingerprints of their rows)."""
    apps = None if inp.applications is None else _key_of(inp.applications)
    return _key_of(inp.targets), _key_of(inp.zoning), apps


@st.cache_data(show_spinner="Comptage des implantations…", max_entries=16)
def result_for(
    _tables: dict, _inputs: oqos_files.OqosInputs, store: str, date: str, region: str,
    provisoires: bool, key: tuple, scenario: str | None = None,
) -> oqos.OqosResult:
    """``oqos.oqos_status`` cached on plain values (tables and inputs not hashed: the store,
    the date, the files' text and, for a scenario, its JSON identify them)."""
    return oqos.oqos_status(
        _tables, _inputs.targets, _inputs.zoning,
        opening.OpeningRule(dt.date.fromisoformat(date), provisoires),
        _inputs.applications, geo.load_arrondissements(region),
    )


def result(ctx: Context, tables: dict, inp: oqos_files.OqosInputs, provisoires: bool
           ) -> oqos.OqosResult:
    """The OQOS result of the page's snapshot (cached)."""
    return result_for(tables, inp, str(ctx.store), ctx.date.isoformat(), ctx.region,
                      provisoires, _frames_key(inp))


@st.cache_data(show_spinner="Recherche des écarts…", max_entries=16)
def gaps_for(_tables: dict, store: str, date: str, provisoires: bool) -> pl.DataFrame:
    """The transition gaps of the open offer (the default SSR → SMR table), cached."""
    day = dt.date.fromisoformat(date)
    return transition_gaps(
        opening.open_tables(_tables, opening.OpeningRule(day, provisoires)), day
    )


_SHAPE_COLUMNS = ["zone", "libelle_zone", "lon", "lat"]


@st.cache_resource(show_spinner="Contours des zones…", max_entries=8)
def _zone_features(region: str, zoning_key: str | None, default: bool, store: str = "",
                   save: bool = False, _zoning: pl.DataFrame | None = None) -> list[dict]:
    from ui import territory

    tolerance = territory.NATIONAL_TOLERANCE_DEG if territory.commune_map_by_departement(
        region) else None
    if default:  # the départements: already dissolved in the reference geography
        deps = geo.load_departements_geo(region).rename(columns={"departement": "commune_insee"})
        lookup = pl.DataFrame({"commune_insee": deps["commune_insee"].tolist(),
                               "zone": deps["commune_insee"].tolist(),
                               "libelle_zone": deps["nom"].tolist()})
        return geo.geojson_features(oqos.zone_shapes(deps, lookup, tolerance), _SHAPE_COLUMNS)

    zoning_csv = _zoning.write_csv()  # the zoning as read: the key of the copy on disk

    def build() -> str:  # the communes dissolved into zones: seconds nationally
        zoning = pl.read_csv(zoning_csv.encode("utf-8"), schema=oqos.ZONING_SCHEMA)
        gdf = oqos.zone_shapes(geo.load_communes_geo(region), oqos.zone_lookup(zoning),
                               tolerance)
        return geo.geojson_text(gdf, _SHAPE_COLUMNS)

    if not store:
        return json.loads(build())["features"]
    key = ("zone_shapes", oqos.ZONE_SHAPES_VERSION, region, repr(tolerance),
           geo.reference_digest(region), zoning_csv)
    return oqos_files.cached_features(store, key, build, save=save)


def zone_features(region: str, inp: oqos_files.OqosInputs, store: Path | None = None
                  ) -> list[dict]:
    """GeoJSON features of the zones in use (zone, libelle_zone, lon, lat of a point inside
    for the label), cached and never mutated: copy ``properties`` before adding values.

    With ``store``, the outlines of a planner's zoning are also kept on disk beside its
    OQOS files (``oqos_files.cached_features``), so the dissolve runs once per zoning rather
    than once per server start (not written when the app is read-only)."""
    default = inp.origins[oqos_files.ZONING] == oqos_files.DEFAULT
    return _zone_features(region, None if default else _key_of(inp.zoning), default,
                          "" if store is None else str(store), not read_only(),
                          None if default else inp.zoning)


def method_note(inp: oqos_files.OqosInputs, date: dt.date) -> None:
    """The OQOS method note with the zoning and the date in use (recorded for the walk)."""
    notes.record([NOTE])
    with st.expander(f"Méthode : {methods.note(NOTE).label}"):
        st.markdown(methods.oqos_note(md(inp.zoning_caption()), date))


def scenario_statuses(
    ctx: Context, tables: dict, modified: dict, provisoires: bool, scenario_json: str
) -> None:
    """Transition page: the targets whose count or status the scenario changes, before and
    after, beside its access deltas."""
    st.markdown("**Objectifs (OQOS) : statut des zones avant et après**")
    inp = inputs(ctx)
    if inp is None:
        st.caption(
            "Aucun objectif OQOS pour ce magasin : téléversez-les sur la page « Objectifs "
            "(OQOS) » pour voir ici l'effet du scénario sur le statut des zones."
        )
        return
    key = _frames_key(inp)
    before = result(ctx, tables, inp, provisoires)
    after = result_for(modified, inp, str(ctx.store), ctx.date.isoformat(), ctx.region,
                       provisoires, key, scenario_json)
    compared = oqos.compare_status(before.status, after.status)
    changed = compared.filter(pl.col("change"))
    moved = int((changed["statut_avant"] != changed["statut_apres"]).sum())
    st.caption(
        f"{changed.height} objectif(s) dont le nombre d'implantations autorisées change, "
        f"dont {moved} change(nt) de statut ; {md(inp.zoning_caption())}"
    )
    if changed.height:
        show_table(changed.drop("change"), "transition_oqos",
                   stem=f"oqos_scenario_{ctx.date.isoformat()}")
    notes.method_note(NOTE)
