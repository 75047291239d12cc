"""Widgets and caches shared by the *Carte* and *Territoires* pages.

The computations live in ``analysis.indicators.territories``; this module only draws the selectors, reads
optional uploaded files and caches results on plain values (store path, date, region, mention,
forme, parameters as tuples, uploaded bytes), so a rerun with the same choices is instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple
from typing import Any

import polars as pl
import streamlit as st

from analysis.geo import geography
from analysis.indicators import access, coverage, populations, territories
from analysis.indicators.opening import OpeningRule
from analysis.io import parameter_files, population_setting
from analysis.model import formats, nomenclature, settings
from analysis.model.errors import SmrError
from ui import charts, notes, state
from ui.common import Context, read_only, tables, upload_hint

LEVEL_LABELS = coverage.LEVEL_LABELS


def fr(x: float) -> str:
    """A number written the French way (decimal comma, no trailing zeros)."""
    return formats.compact(x)


def mention_select(key: str) -> str:
    """Mention selector (code returned, label shown), shared by the pages (``ui.state``)."""
    codes = [m.code for m in nomenclature.MENTIONS]
    return state.select(
        st.selectbox,
        "Mention SMR",
        codes,
        "mention",
        key,
        format_func=formats.mention_choice,
    )


def forme_select(key: str) -> str:
    """Form of care selector: all formes (default) or one, shared by the pages."""
    options = [coverage.ALL_FORMES, *nomenclature.FORME_BY_CODE]
    return state.select(
        st.selectbox,
        "Forme de prise en charge",
        options,
        "forme",
        key,
        format_func=lambda c: (
            "Toutes les formes"
            if c == coverage.ALL_FORMES
            else f"{nomenclature.FORME_BY_CODE[c].libelle} ({c})"
        ),
        help="Restreint l'offre (capacité, établissement le plus proche) à une forme.",
    )


def _thresholds(text: str) -> tuple[float, ...] | None:
    try:
        values = sorted({float(v.replace(",", ".")) for v in text.replace(";", " ").split()})
    except ValueError:
        return None
    return tuple(values) if values and all(v > 0 for v in values) else None


def access_params(key: str) -> territories.AccessParams:
    """The travel-time and catchment parameters, with their defaults shown."""
    d = territories.AccessParams()
    with st.expander("Paramètres du temps d'accès et des aires d'attraction", expanded=False):
        c1, c2, c3 = st.columns(3)
        speed = c1.number_input(
            "Vitesse moyenne (km/h)",
            min_value=5.0,
            max_value=130.0,
            value=d.speed_kmh,
            step=5.0,
            key=f"{key}_speed",
            help=f"Défaut {fr(d.speed_kmh)} km/h : vitesse porte à porte mêlant ville et route.",
        )
        detour = c2.number_input(
            "Coefficient de détour",
            min_value=1.0,
            max_value=3.0,
            value=d.detour_factor,
            step=0.05,
            key=f"{key}_detour",
            help=f"Défaut {fr(d.detour_factor)} : distance routière ÷ distance à vol d'oiseau.",
        )
        catchment = c3.number_input(
            "Zone d'attraction 2SFCA (min)",
            min_value=1.0,
            max_value=240.0,
            value=d.catchment_min,
            step=5.0,
            key=f"{key}_catchment",
            help=f"Défaut {fr(d.catchment_min)} min (borne incluse).",
        )
        c4, c5, c6 = st.columns(3)
        e2_default = d.zones[-1][0]
        e2 = c4.number_input(
            "Zone d'attraction E2SFCA (min)",
            min_value=1.0,
            max_value=240.0,
            value=e2_default,
            step=5.0,
            key=f"{key}_e2",
            help="Défaut 30 min ; les bornes des trois zones (10, 20, 30) sont mises à l'échelle.",
        )
        text = c5.text_input(
            "Seuils de temps (min)",
            value=" ".join(fr(t) for t in d.thresholds_min),
            key=f"{key}_thresholds",
            help="Séparés par des espaces ; défaut 15 30 45 60.",
        )
        thresholds = _thresholds(text)
        if thresholds is None:
            st.error(
                "Seuils invalides : des nombres de minutes positifs sont attendus ; "
                "valeurs par défaut utilisées."
            )
            thresholds = d.thresholds_min
        beyond = c6.number_input(
            "Seuil « au-delà » (min)",
            min_value=1.0,
            max_value=240.0,
            value=d.beyond_min,
            step=5.0,
            key=f"{key}_beyond",
            help=f"Défaut {fr(d.beyond_min)} min : part de la population plus loin que ce seuil.",
        )
        zones = access.scaled_zones(d.zones, e2)
        st.caption(
            "Temps = km à vol d'oiseau × détour ÷ vitesse × 60. Poids E2SFCA (Luo et Qi 2009) : "
            + " ; ".join(f"≤ {fr(round(b, 2))} min : {fr(w)}" for b, w in zones)
            + ". Un fichier de temps ci-dessous remplace ce modèle."
        )
    return territories.AccessParams(
        speed_kmh=float(speed),
        detour_factor=float(detour),
        catchment_min=float(catchment),
        zones=d.zones,
        thresholds_min=thresholds,
        beyond_min=float(beyond),
        e2sfca_catchment_min=None if e2 == e2_default else float(e2),
    )


@st.cache_data(show_spinner=False, max_entries=8)
def _read_costs(data: bytes) -> pl.DataFrame:
    return parameter_files.read_travel_times(data, source="fichier de temps de trajet")


@st.cache_data(show_spinner=False, max_entries=8)
def _read_ages(data: bytes) -> pl.DataFrame:
    return parameter_files.read_population_ages(data, source="fichier de population par âge")


def file_uploads(
    key: str, data: dict[str, pl.DataFrame], region: str
) -> tuple[bytes | None, bytes | None]:
    """Optional uploads (travel-time table, population by age), checked against the region
    and the snapshot: a file that cannot be used is reported in French and ignored (None)."""
    with st.expander("Fichiers facultatifs : temps de trajet, population par âge"):
        costs = st.file_uploader(
            "Temps de trajet (CSV commune_insee, finess_eg, minutes)",
            type=["csv"],
            key=f"{key}_costs",
            help="Issu d'un calculateur d'itinéraire ; remplace le modèle partout. Un couple "
            "absent est jugé inaccessible.",
        )
        upload_hint(["csv"])
        ages = st.file_uploader(
            "Population par âge (CSV commune_insee, moins_18, plus_75, total)",
            type=["csv"],
            key=f"{key}_ages",
            help="Dénominateurs : moins de 18 ans (pédiatrie), 75 ans et plus (gériatrie).",
        )
        upload_hint(["csv"])
        costs_bytes = costs.getvalue() if costs else None
        ages_bytes = ages.getvalue() if ages else None
        limit = settings.max_upload_bytes()  # SMR_MAX_UPLOAD_MB, as on the Import page
        for label, upload in (("Temps de trajet", costs), ("Population par âge", ages)):
            if upload is not None and upload.size > limit:
                st.error(
                    f"{label} : fichier de {upload.size / 2**20:.0f} Mo, plus que la limite de "
                    f"{settings.max_upload_mb()} Mo (SMR_MAX_UPLOAD_MB) : il est ignoré."
                )
                if upload is costs:
                    costs_bytes = None
                else:
                    ages_bytes = None
        communes = geography.load_communes(region)
        if costs_bytes is not None:
            try:
                found = access.cost_table_coverage(
                    _read_costs(costs_bytes), communes, data["etablissements"]
                )
            except SmrError as exc:
                st.error(f"{exc} Le fichier est ignoré.")
                costs_bytes = None
            else:
                if not found["communes"] or not found["etablissements"]:
                    st.error(
                        "Le fichier de temps ne concerne aucune commune de la région ou aucun "
                        "établissement de l'instantané : il est ignoré."
                    )
                    costs_bytes = None
                else:
                    st.caption(
                        f"Temps de trajet : {found['lignes']} couples, {found['communes']} "
                        f"communes et {found['etablissements']} établissements reconnus ; "
                        "le modèle à vol d'oiseau n'est plus utilisé."
                    )
        if ages_bytes is not None:
            try:
                coverage.population_by_commune(communes, _read_ages(ages_bytes))
            except SmrError as exc:
                st.error(f"{exc} Le fichier est ignoré.")
                ages_bytes = None
    return costs_bytes, ages_bytes


@st.cache_data(show_spinner=False, max_entries=8)
def region_names(region: str) -> dict[str, dict[str, str]]:
    return territories.region_names(region)


# ------------------------------------------------------- open offer and populations in use

#: Session-state key of the population file uploaded on the Carte page: (bytes, name).
POPULATION_UPLOAD = "population_fichier"


def opening_switch(key: str) -> bool:
    """The « Inclure les fermetures provisoires » checkbox (unchecked by default)."""
    return st.checkbox(
        "Inclure les fermetures provisoires",
        value=False,
        key=key,
        help="Par défaut seule l'offre ouverte à la date de l'instantané compte : les "
        "établissements et unités fermés définitivement sont toujours exclus, ceux fermés "
        "provisoirement (PRO) le sont aussi sauf si cette case est cochée. Ils sont comptés "
        "à part (« fermés temporairement »).",
    )


def opening_rule(ctx: Context, provisoires: bool) -> OpeningRule:
    """The opening rule of the page (snapshot date, switch)."""
    return OpeningRule(ctx.date, provisoires)


def population_choice(ctx: Context) -> tuple[bytes, str, str] | None:
    """The population file in use: this session's upload (Carte page), else the store's
    setting, else None (the reference populations). A broken setting is reported."""
    uploaded = st.session_state.get(POPULATION_UPLOAD)
    if uploaded:
        return uploaded[0], uploaded[1], populations.FILE
    try:
        saved = population_setting.store_population_file(ctx.store)
    except SmrError as exc:
        st.warning(f"{exc} Population de référence utilisée.")
        return None
    return (saved[0], saved[1], populations.STORE) if saved else None


@st.cache_data(show_spinner="Lecture des populations…", max_entries=8)
def _setup(region: str, pop: tuple[bytes, str, str] | None) -> populations.PopulationSetup:
    if pop is None:
        return populations.reference_setup(region)
    data, name, origine = pop
    legal = parameter_files.read_legal_populations(data, name, name=name)
    return populations.setup_from_file(region, legal, origine)


def population_setup(region: str, pop: tuple[bytes, str, str] | None) -> populations.PopulationSetup:
    """The origins and populations in use (cached on the file's bytes); a file that no longer
    fits the region falls back to the reference with an error."""
    try:
        return _setup(region, pop)
    except SmrError as exc:
        st.error(f"{exc} Population de référence utilisée.")
        return _setup(region, None)


def population_panel(ctx: Context, key: str) -> None:
    """Carte page: load INSEE's legal populations for this session, make them the store's
    default, or go back to the reference."""
    with st.expander("Populations : millésime utilisé"):
        st.caption(
            "Les taux pour 100 000 habitants et l'accessibilité divisent par la population "
            "municipale. Par défaut celle de la géographie de référence ("
            + geography.population_vintage(ctx.region)
            + ") ; un fichier de populations légales de l'Insee (CSV ou Excel tel que publié : "
            "code commune et population municipale) la remplace."
        )
        upload = st.file_uploader(
            "Populations légales (Insee)",
            type=["csv", "txt", "xlsx", "xls"],
            key=f"{key}_population",
            help="Par exemple le fichier des communes des populations légales 2021 ; "
            "les arrondissements de Paris, Lyon et Marseille sont lus s'ils y sont.",
        )
        upload_hint(["csv", "txt", "xlsx", "xls"])
        if upload is not None:
            if upload.size > settings.max_upload_bytes():
                st.error(
                    f"Populations : fichier de {upload.size / 2**20:.0f} Mo, plus que la limite "
                    f"de {settings.max_upload_mb()} Mo (SMR_MAX_UPLOAD_MB) : il est ignoré."
                )
            else:
                data = upload.getvalue()
                try:
                    _setup(ctx.region, (data, upload.name, populations.FILE))
                except SmrError as exc:
                    st.error(f"{exc} Le fichier est ignoré.")
                else:
                    st.session_state[POPULATION_UPLOAD] = (data, upload.name)
        elif st.session_state.get(f"{key}_population_seen"):
            st.session_state.pop(POPULATION_UPLOAD, None)  # the upload was removed
        st.session_state[f"{key}_population_seen"] = upload is not None
        info = None
        try:
            info = population_setting.store_population_info(ctx.store)
        except SmrError as exc:
            st.warning(str(exc))
        if info:
            st.caption(
                f"Réglage du magasin : {info.get('nom_origine', info['fichier'])} "
                f"({info.get('millesime')}), enregistré le {info.get('enregistre_le', '?')}."
            )
        if read_only():
            return
        c1, c2 = st.columns(2)
        uploaded = st.session_state.get(POPULATION_UPLOAD)
        if c1.button(
            "Utiliser par défaut pour ce magasin",
            key=f"{key}_population_save",
            disabled=uploaded is None,
            help="Les pages, les commandes smr et le rapport de ce magasin utiliseront ce "
            "fichier sans qu'on le redonne.",
        ):
            try:
                populations.save_store_populations(
                    ctx.store, uploaded[0], uploaded[1], ctx.region
                )
            except SmrError as exc:
                st.error(str(exc))
            else:
                st.success("Populations enregistrées comme réglage du magasin.")
        if c2.button(
            "Revenir à la population de référence",
            key=f"{key}_population_clear",
            disabled=info is None and uploaded is None,
        ):
            population_setting.clear_store_populations(ctx.store)
            st.session_state.pop(POPULATION_UPLOAD, None)
            st.success("Population de référence rétablie.")


@st.cache_data(show_spinner="Calcul des indicateurs…", max_entries=64)
def territory_table(
    _tables: dict[str, pl.DataFrame],
    store: str,
    date: str,
    region: str,
    level: str,
    mention: str,
    forme: str,
    params: tuple,
    costs: bytes | None,
    ages: bytes | None,
    pop: tuple[bytes, str, str] | None = None,
    provisoires: bool = False,
) -> pl.DataFrame:
    """``territories.territory_indicators`` cached on plain values (tables not hashed), on the
    origins and populations in use and the open offer at ``date``."""
    return territories.territory_indicators(
        _tables,
        population_setup(region, pop).origins,
        level,
        mention,
        forme=forme,
        params=_params(params),
        costs=_read_costs(costs) if costs else None,
        population_ages=_read_ages(ages) if ages else None,
        names=region_names(region),
        opening=OpeningRule(dt.date.fromisoformat(date), provisoires),
    )


@st.cache_data(show_spinner="Portrait du territoire…", max_entries=32)
def portrait_table(
    _tables: dict[str, pl.DataFrame],
    store: str,
    date: str,
    region: str,
    level: str,
    territoire: str,
    forme: str,
    params: tuple,
    costs: bytes | None,
    ages: bytes | None,
    pop: tuple[bytes, str, str] | None = None,
    provisoires: bool = False,
) -> pl.DataFrame:
    """``territories.territory_portrait`` cached on plain values."""
    return territories.territory_portrait(
        _tables,
        population_setup(region, pop).origins,
        level,
        territoire,
        forme=forme,
        params=_params(params),
        costs=_read_costs(costs) if costs else None,
        population_ages=_read_ages(ages) if ages else None,
        names=region_names(region),
        opening=OpeningRule(dt.date.fromisoformat(date), provisoires),
    )


def _params(values: tuple) -> territories.AccessParams:
    return territories.AccessParams(*values)


def params_key(params: territories.AccessParams) -> tuple:
    """The parameters as a plain tuple (the cache key)."""
    return astuple(params)


def cached_tables(ctx: Context) -> tuple[dict[str, pl.DataFrame], str, str]:
    """The snapshot's tables and the plain values that identify them."""
    return tables(ctx), str(ctx.store), ctx.date.isoformat()


def method_note(indicator: str) -> None:
    """Show the method note of an indicator and record it (see ``ui.notes``)."""
    notes.method_note(indicator)


def method_notes(indicators: list[str], title: str) -> None:
    """Show several method notes in one expander and record them (see ``ui.notes``)."""
    notes.method_notes(indicators, title)


def no_offer_message(
    data: dict[str, pl.DataFrame], mention: str, forme: str, opening: OpeningRule | None = None
) -> str | None:
    """A French sentence when no (open) establishment offers the mention (and forme)."""
    offers = coverage.offers_by_establishment(data, [mention], forme, opening)
    if offers.height:
        return None
    what = formats.mention(mention)
    if forme != coverage.ALL_FORMES:
        what += f" en {nomenclature.FORME_BY_CODE[forme].libelle.lower()}"
    return (
        f"Aucun établissement n'offre la mention « {what} » dans cet instantané : "
        "pas de capacité ni de temps d'accès à calculer."
    )


@st.cache_data(show_spinner=False, max_entries=32)
def beyond_table(
    _tables: dict[str, pl.DataFrame],
    store: str,
    date: str,
    region: str,
    mention: str,
    forme: str,
    params: tuple,
    costs: bytes | None,
    ages: bytes | None,
    pop: tuple[bytes, str, str] | None = None,
    provisoires: bool = False,
) -> pl.DataFrame:
    """``territories.communes_without_access`` cached on plain values."""
    return territories.communes_without_access(
        _tables,
        population_setup(region, pop).origins,
        mention,
        forme=forme,
        params=_params(params),
        costs=_read_costs(costs) if costs else None,
        population_ages=_read_ages(ages) if ages else None,
        opening=OpeningRule(dt.date.fromisoformat(date), provisoires),
    )


@st.cache_data(show_spinner=False, max_entries=32)
def presence_table(
    _tables: dict[str, pl.DataFrame],
    store: str,
    date: str,
    region: str,
    level: str,
    forme: str,
    provisoires: bool = False,
) -> pl.DataFrame:
    """``coverage.presence_matrix`` cached on plain values."""
    names = region_names(region)
    return coverage.presence_matrix(
        _tables,
        geography.load_origins(region),
        level,
        forme=forme,
        departement_names=names.get("departement"),
        region_names=names.get("region"),
        opening=OpeningRule(dt.date.fromisoformat(date), provisoires),
    )


@st.cache_resource(show_spinner="Chargement des contours…", max_entries=8)
def base_features(region: str, level: str) -> list[dict]:
    """GeoJSON features of the region's communes (``commune_insee``, ``nom``) or départements
    (``departement``, ``nom``), shared by the map pages (never mutated: copy a feature's
    ``properties`` before adding values to it)."""
    if level == "commune":
        gdf = geography.load_communes_geo(region)
        return geography.geojson_features(gdf, ["commune_insee", "nom"])
    if level == coverage.ORIGIN_LEVEL:  # communes, Paris / Lyon / Marseille as arrondissements
        import pandas as pd

        gdf = geography.load_communes_geo(region)
        arr = geography.load_arrondissements_geo(region)
        if arr is not None and len(arr):
            gdf = gdf[~gdf["commune_insee"].isin(set(arr["commune_parent"]))]
            gdf = pd.concat([gdf[["commune_insee", "nom", "geometry"]],
                             arr[["commune_insee", "nom", "geometry"]]], ignore_index=True)
        return geography.geojson_features(gdf, ["commune_insee", "nom"])
    gdf = geography.load_departements_geo(region)
    if commune_map_by_departement(region):  # a national view: coarser outlines suffice
        gdf = _coarser(gdf)
    return geography.geojson_features(gdf, ["departement", "nom"])


#: Outline simplification of the national département map (degrees, about 500 m) and the
#: coordinate grid (about 10 m): 3.5 MB of GeoJSON become 0.45 MB, sent at every rerun.
NATIONAL_TOLERANCE_DEG = 0.005
NATIONAL_GRID_DEG = 1e-4


def _coarser(gdf: Any) -> Any:
    """``gdf`` with simplified outlines, rings kept clockwise (the rule Vega draws by)."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    def clockwise(geom: Any) -> Any:
        if isinstance(geom, Polygon):
            return orient(geom, sign=-1.0)
        if isinstance(geom, MultiPolygon):
            return MultiPolygon([orient(p, sign=-1.0) for p in geom.geoms])
        return geom

    geoms = shapely.simplify(gdf.geometry.values, NATIONAL_TOLERANCE_DEG, preserve_topology=True)
    geoms = shapely.set_precision(geoms, NATIONAL_GRID_DEG)
    out = gdf.copy()
    out[gdf.geometry.name] = [clockwise(g) for g in geoms]
    return out


def vega_spec(chart: Any, geojson: dict[str, list[dict]]) -> dict:
    """The Vega-Lite spec of an Altair chart whose shapes read named GeoJSON datasets.

    The features are added after ``chart.to_dict()``: Altair walks every coordinate of inline
    values (over a second for the communes of a region), the spec does not need it. They stay
    plain GeoJSON features (fields ``properties.<name>``), which Streamlit keeps as they are
    instead of turning them into a table (the trap described in DESIGN.md); rings must be
    clockwise, as the reference geography already is.
    """
    spec = charts.chart_dict(chart)
    spec.setdefault("datasets", {}).update(geojson)
    return spec


#: Above this many communes, commune maps are drawn one département at a time (all of
#: France has 35,000 communes: their contours weigh 13 MB, too much to redraw at each rerun).
COMMUNE_MAP_MAX = 5000


def commune_map_by_departement(region: str) -> bool:
    """True when the region has too many communes to draw them all on one map."""
    return geography.load_communes(region).height > COMMUNE_MAP_MAX


def departement_select(region: str, key: str) -> str:
    """Département selector (code returned, name shown), for maps of large regions."""
    deps = geography.load_departements(region).sort("departement")
    names = dict(zip(deps["departement"].to_list(), deps["nom"].to_list(), strict=True))
    return state.select(
        st.selectbox,
        "Département",
        list(names),
        "departement",
        key,
        format_func=lambda c: f"{names[c]} ({c})",
        help="Toute la France compte trop de communes pour une seule carte : les communes "
        "sont dessinées un département à la fois.",
    )


@st.cache_resource(show_spinner="Chargement des contours…", max_entries=32)
def departement_commune_features(region: str, departement: str) -> list[dict]:
    """GeoJSON features of the communes of one département (``commune_insee``, ``nom``),
    shared and never mutated, like ``base_features``."""
    gdf = geography.load_communes_geo(region)
    return geography.geojson_features(gdf[gdf["departement"] == departement], ["commune_insee", "nom"])
