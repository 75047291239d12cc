"""Transition: SSR → SMR gaps per establishment and mention, and what-if scenarios."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl
import streamlit as st

from analysis.indicators import coverage, opening, territories
from analysis.model import formats, nomenclature
from analysis.model.errors import SmrError
from analysis.present import export
from analysis.transition import correspondence, scenarios
from analysis.transition.comparison import (
    ScenarioComparison,
    access_changes,
    compare_scenario,
    scenario_changes_table,
    touched_sites,
)
from analysis.transition.gaps import (
    GAP_SHORT_LABELS,
    GAP_TYPES,
    ROR_TEAM_GAPS,
    active_authorisations,
    filter_gaps,
    gap_counts_by_departement,
    gap_totals,
    status_counts,
    transition_gaps,
)
from ui import charts
from ui import oqos as ui_oqos
from ui import territory as ui
from ui.common import (
    demo_banner,
    downloads,
    page_context,
    show_table,
    upload_hint,
)
from ui.scenario_editor import HEADERS, scenario_editor

st.title("Transition SSR → SMR")
st.caption(
    "Chaque autorisation SSR portée vers les mentions SMR, ce que le ROR décrit ou non pour "
    "chaque établissement, et l'effet d'une décision avant de la prendre : qui gagne ou perd "
    "l'accès si un établissement obtient ou perd une mention."
)

ctx = page_context()
demo_banner(ctx)
data, store_key, date_key = ui.cached_tables(ctx)
# the open offer at the snapshot date (analysis.indicators.opening), origins and populations of the Carte
provisoires = ui.opening_switch("transition_provisoires")
rule = ui.opening_rule(ctx, provisoires)
population = ui.population_choice(ctx)
communes = ui.population_setup(ctx.region, population).origins
EVOLUTION_COLORS = {"gagne": "#2166ac", "perd": "#b2182b"}


@st.cache_data(show_spinner=False, max_entries=8)
def mapping_from(content: bytes, name: str) -> pl.DataFrame:
    return correspondence.read_mapping(content, name)


@st.cache_data(show_spinner="Recherche des écarts…", max_entries=16)
def gaps_for(
    _data: dict, store: str, date: str, mapping_key: tuple | None, provisoires: bool = False
) -> pl.DataFrame:
    """The gap list of the open offer (cached on plain values; the mapping by its bytes)."""
    mapping = mapping_from(*mapping_key) if mapping_key else None
    day = dt.date.fromisoformat(date)
    tables = opening.open_tables(_data, opening.OpeningRule(day, provisoires))
    return transition_gaps(tables, day, mapping)


@st.cache_data(show_spinner="Calcul de l'effet du scénario…", max_entries=16)
def comparison_for(
    _data: dict,
    store: str,
    date: str,
    region: str,
    scenario_json: str,
    mention: str,
    forme: str,
    params: tuple,
    pop: tuple | None = None,
    provisoires: bool = False,
) -> ScenarioComparison:
    """Baseline against scenario for one mention (cached on the scenario's text)."""
    scenario = scenarios.parse_scenario(scenario_json, "scénario.json")
    return compare_scenario(
        _data,
        scenario,
        ui.population_setup(region, pop).origins,
        mention,
        forme=None if forme == coverage.ALL_FORMES else forme,
        params=territories.AccessParams(*params),
        names=ui.region_names(region),
        opening=opening.OpeningRule(dt.date.fromisoformat(date), provisoires),
    )


tab_gaps, tab_scenario, tab_mapping = st.tabs(
    ["Écarts par établissement", "Scénarios", "Correspondance SSR → SMR"]
)

# ------------------------------------------------------------------ correspondance table
with tab_mapping:
    st.markdown(
        "Chaque autorisation SSR (activité 50–59, modalité d'âge, forme) est portée vers la ou "
        "les mentions SMR attendues. La table proposée n'est pas officielle : remplacez-la par "
        "la vôtre (CSV ou YAML `activite,modalite,mentions`, voir `docs/scenarios/README.md`)."
    )
    upload = st.file_uploader(
        "Table de correspondance (facultatif)",
        type=["csv", "yaml", "yml", "json"],
        key="transition_mapping_file",
    )
    upload_hint(["csv", "yaml", "yml", "json"])
    mapping_key = None
    mapping = None
    if upload is not None:
        try:
            mapping = mapping_from(upload.getvalue(), upload.name)
            mapping_key = (upload.getvalue(), upload.name)
            st.caption(f"Table utilisée : {upload.name} ({mapping.height} règles).")
        except SmrError as exc:
            st.error(f"{exc} La table proposée est utilisée.")
    rules = correspondence.mapping_for_display(mapping)
    show_table(rules, "transition_table_correspondance", height=320)
    st.download_button(
        "Télécharger la table (CSV, à modifier)",
        lambda: export.csv_bytes(
            rules.select("activite", "modalite", "mentions", "statut", "remarque"),
            flavour=export.CSV_DONNEES,
        ),
        file_name="correspondance_ssr_smr.csv",
        mime="text/csv",
        key="transition_mapping_csv", on_click="ignore",
        help="« CSV données » (codes, séparateur virgule) : le format que la page relit.",
    )
    active = active_authorisations(data["autorisations"], ctx.date)
    slots = correspondence.correspondance_ssr(active, mapping)
    st.markdown(
        f"**Autorisations SSR en vigueur au {ctx.date:%d/%m/%Y}** : {slots.height} correspondances."
    )
    counts = dict(status_counts(slots).iter_rows())
    cols = st.columns(len(correspondence.MAPPING_STATUSES))
    for col, (code, label) in zip(cols, correspondence.MAPPING_STATUSES.items(), strict=True):
        col.metric(correspondence.MAPPING_SHORT_LABELS[code], formats.integer(counts.get(code, 0)), help=label)
    flagged_only = st.toggle(
        "Seulement les cas signalés (approximation, à préciser, hors SMR)",
        value=True,
        key="transition_flagged",
    )
    shown_slots = slots.filter(pl.col("statut") != "proposee") if flagged_only else slots
    show_table(shown_slots.drop("mentions"), "transition_autorisations",
               stem=f"correspondances_{ctx.date.isoformat()}", height=280)
    ui.method_note("correspondance_ssr_smr")

# -------------------------------------------------------------------------------- gaps
with tab_gaps:
    gaps = gaps_for(data, store_key, date_key, mapping_key, provisoires)
    totals = gap_totals(gaps)
    cols = st.columns(len(GAP_TYPES))
    for col, row in zip(cols, totals.iter_rows(named=True), strict=True):
        col.metric(
            GAP_SHORT_LABELS[row["ecart"]],
            formats.integer(row["lignes"]),
            help=f"{row['libelle_ecart']} : {formats.integer(row['lignes'])} ligne(s), "
            f"{formats.integer(row['etablissements'])} établissement(s) concerné(s).",
        )
    ui.method_note("ecarts_transition")
    names = ui.region_names(ctx.region).get("departement", {})
    by_dep = gap_counts_by_departement(gaps, names)
    st.markdown("**Par département** (lignes de la liste)")
    show_table(
        by_dep.drop("nom"),
        "transition_par_departement",
        overrides={
            "departement": formats.Format("Département", formats.CODE, width="medium", key=True),
            **{
                k: formats.Format(v, formats.INTEGER, help=GAP_TYPES[k][0])
                for k, v in GAP_SHORT_LABELS.items()
            },
        },
    )
    ror_team = gaps.filter(pl.col("ecart").is_in(list(ROR_TEAM_GAPS)))
    gaps = gaps.filter(~pl.col("ecart").is_in(list(ROR_TEAM_GAPS)))
    st.markdown("**Liste à traiter** (actions des établissements et de l'ARS)")
    f1, f2, f3, f4 = st.columns([3, 2, 3, 2])
    kinds = f1.multiselect(
        "Type d'écart",
        [k for k in GAP_TYPES if k not in ROR_TEAM_GAPS],
        format_func=lambda k: GAP_TYPES[k][0],
        key="transition_f_ecart",
        placeholder="Tous",
    )
    deps = f2.multiselect(
        "Département",
        sorted(gaps["departement"].drop_nulls().unique().to_list()),
        format_func=lambda d: f"{names.get(d, d)} ({d})",
        key="transition_f_dep",
        placeholder="Tous",
    )
    mentions = f3.multiselect(
        "Mention",
        [m.code for m in nomenclature.MENTIONS],
        format_func=formats.mention_choice,
        key="transition_f_mention",
        placeholder="Toutes",
    )
    search = f4.text_input("Établissement (nom ou FINESS)", key="transition_f_texte")
    shown_gaps = filter_gaps(gaps, kinds, deps, mentions, search)
    st.caption(f"{formats.integer(shown_gaps.height)} ligne(s) sur {formats.integer(gaps.height)}.")
    stamp = ctx.date.isoformat()
    show_table(
        shown_gaps.drop("ecart", "action"),
        "transition_ecarts",
        stem=f"ecarts_transition_{stamp}",
        sheets=lambda: {"ecarts": shown_gaps, "par departement": by_dep,
                        "migration automatique": ror_team},
        height=420,
    )
    st.markdown("**Pour l'équipe régionale du ROR : migration automatique en attente**")
    st.caption(
        GAP_TYPES["migration_automatique"][1]
        + f" {formats.integer(ror_team.height)} ligne(s), "
        f"{formats.integer(ror_team['finess_eg'].n_unique())} établissement(s) ; rien n'est demandé "
        "aux établissements pour ces unités."
    )
    if ror_team.height:
        show_table(
            ror_team.select("finess_eg", "raison_sociale", "departement", "mention", "detail"),
            "transition_migration",
            stem=f"migration_automatique_{stamp}",
            height=240,
            overrides={"detail": formats.Format("Unités (discipline SSR)", width="large")},
        )

# ---------------------------------------------------------------------------- scenarios
with tab_scenario:
    st.markdown(
        "Un scénario est une liste de changements (ajouter ou retirer une mention, changer "
        "des lits ou places, ouvrir un site dans une commune) enregistrée dans un petit fichier "
        "YAML ou JSON (format : `docs/scenarios/README.md`)."
    )
    scenario, modified = scenario_editor(ctx, data, communes, rule)
    current = modified or data

    # --- effect
    st.subheader("Effet du scénario")
    if not scenario.changements or modified is None:
        st.info("Ajoutez un changement ou chargez un scénario pour en voir l'effet.")
        st.stop()
    m1, m2 = st.columns(2)
    with m1:
        mention = ui.mention_select("transition_mention")
    with m2:
        forme = ui.forme_select("transition_forme")
    params = ui.access_params("transition")
    if mention not in scenario.mentions:
        st.info(
            f"Le scénario ne change pas la mention {formats.mention(mention)} : "
            "aucun écart attendu (mentions changées : "
            + ", ".join(formats.mention(m) for m in scenario.mentions)
            + ")."
        )
    comparison = comparison_for(
        data,
        store_key,
        date_key,
        ctx.region,
        scenario.to_json(),
        mention,
        forme,
        ui.params_key(params),
        population,
        provisoires,
    )
    region = comparison.region
    threshold = f"{formats.compact(comparison.threshold_min)} min"
    k = st.columns(5)
    k[0].metric(
        f"Gagnent l'accès (≤ {threshold})",
        formats.integer(region["population_gagnant"]),
        help=f"Habitants dont l'établissement le plus proche passe à {threshold} ou moins.",
    )
    k[1].metric(
        f"Perdent l'accès (≤ {threshold})",
        formats.integer(region["population_perdant"]),
        help=f"Habitants dont l'établissement le plus proche passe au-delà de {threshold}.",
    )
    k[2].metric("Communes modifiées", formats.integer(comparison.changed_communes().height))
    dt_ = region["delta_temps_plus_proche"]
    k[3].metric(
        "Temps moyen au plus proche",
        formats.EMPTY
        if region["temps_plus_proche_scenario"] is None
        else f"{formats.number(region['temps_plus_proche_scenario'], 1)} min",
        delta=None if dt_ is None else f"{formats.number(dt_, 2)} min",
        delta_color="inverse",
    )
    k[4].metric(
        "E2SFCA (région)",
        formats.number(region["acces_e2sfca_scenario"], 2),
        delta=None if region["delta_acces_e2sfca"] is None
        else formats.number(region["delta_acces_e2sfca"], 2),
    )
    ui.method_notes(
        [
            "population_gagnant",
            "population_perdant",
            "delta_temps_plus_proche",
            "delta_acces_e2sfca",
        ],
        "effet du scénario",
    )
    # beside the access deltas: the OQOS zone statuses before and after (ui.oqos)
    ui_oqos.scenario_statuses(ctx, data, modified, provisoires, scenario.to_json())

    shown_indicator = st.radio(
        "Carte",
        ["delta_acces_e2sfca", "delta_temps_plus_proche", "evolution"],
        format_func=lambda i: {
            "delta_acces_e2sfca": "Écart d'accessibilité E2SFCA",
            "delta_temps_plus_proche": "Écart de temps au plus proche",
            "evolution": f"Accès à ≤ {threshold} gagné ou perdu",
        }[i],
        horizontal=True,
        key="transition_carte",
    )
    values = dict(
        zip(
            comparison.communes["commune_insee"].to_list(),
            comparison.communes[shown_indicator].to_list(),
            strict=True,
        )
    )
    features = [
        {
            **f,
            "properties": {
                **f["properties"],
                "valeur": values.get(f["properties"]["commune_insee"]),
            },
        }
        for f in ui.base_features(ctx.region, coverage.ORIGIN_LEVEL)
    ]
    shapes = alt.Chart(alt.NamedData(name="communes"))
    background = shapes.mark_geoshape(fill="#e6e6e6", stroke="white", strokeWidth=0.2)
    tooltip = [
        alt.Tooltip("properties.nom:N", title="Commune"),
        alt.Tooltip("properties.commune_insee:N", title="Code"),
    ]
    if shown_indicator == "evolution":
        color = alt.Color(
            "properties.valeur:N",
            title="Accès",
            scale=alt.Scale(domain=list(EVOLUTION_COLORS), range=list(EVOLUTION_COLORS.values())),
            legend=alt.Legend(
                orient="bottom", labelExpr="{'gagne': 'gagné', 'perd': 'perdu'}[datum.label]"
            ),
        )
        tooltip.append(alt.Tooltip("properties.valeur:N", title="Accès"))
        note_id = "population_gagnant"
    else:
        finite = comparison.communes[shown_indicator].drop_nulls().abs()
        top = float(finite.max() or 0.0) or 1.0
        label = {
            "delta_acces_e2sfca": "Écart E2SFCA (lits et places / 100 000 hab.)",
            "delta_temps_plus_proche": "Écart de temps (min)",
        }[shown_indicator]
        color = alt.Color(
            "properties.valeur:Q",
            title=label,
            scale=alt.Scale(
                scheme="redblue",
                domain=[-top, top],
                reverse=shown_indicator == "delta_temps_plus_proche",
            ),
            legend=alt.Legend(orient="bottom", gradientLength=320, titleLimit=500),
        )
        tooltip.append(alt.Tooltip("properties.valeur:Q", title=label, format=",.2f"))
        note_id = shown_indicator
    layers = [
        background,
        shapes.mark_geoshape(stroke="white", strokeWidth=0.2)
        .transform_filter(
            "isValid(datum.properties.valeur) && datum.properties.valeur !== 0"
            " && datum.properties.valeur !== 'inchange'"
        )
        .encode(color=color, tooltip=tooltip),
    ]
    sites = touched_sites(scenario, modified, communes).filter(
        pl.col("lat").is_not_null()
    )
    if sites.height:
        layers.append(
            alt.Chart(sites.to_pandas())
            .mark_point(shape="diamond", filled=True, size=140, color="#111111", stroke="white")
            .encode(
                longitude="lon:Q",
                latitude="lat:Q",
                tooltip=[
                    alt.Tooltip("raison_sociale:N", title="Établissement"),
                    alt.Tooltip("changement:N", title="Changement"),
                ],
            )
        )
    chart = alt.layer(*layers).project(type="mercator").properties(height=600)
    shown_label = {
        "delta_acces_e2sfca": "écart d'accessibilité E2SFCA",
        "delta_temps_plus_proche": "écart de temps au plus proche",
        "evolution": f"accès à {threshold} ou moins gagné ou perdu",
    }[shown_indicator]
    changed = comparison.changed_communes()
    charts.draw(
        ui.vega_spec(chart, {"communes": features}),
        f"Carte des communes : {shown_label} avec le scénario « {scenario.nom} », mention "
        f"{nomenclature.mention_label(mention)} ; {formats.integer(changed.height)} communes "
        "modifiées, listées dans le tableau sous la carte.",
        table=changed,
        table_label="communes modifiées par le scénario",
        overrides=HEADERS,
    )
    st.caption(
        "Communes en bleu : meilleur accès avec le scénario ; en rouge : moins bon ; en gris : "
        "inchangé (ou aucun établissement accessible ni avant ni après). Losanges : "
        "établissements changés par le scénario."
    )
    ui.method_note(note_id)

    st.markdown("**Par territoire**")
    show_table(comparison.territoires, "transition_territoires", overrides=HEADERS)
    ui.method_note("delta_taux_100k")
    changes = access_changes(comparison)
    st.markdown(
        f"**Communes qui gagnent ou perdent un établissement à ≤ {threshold}** "
        f"({formats.integer(changes.height)})"
    )
    slug = scenario.slug
    show_table(
        changes,
        "transition_gagnent_perdent",
        overrides=HEADERS,
        height=300,
    )
    downloads(
        st,
        comparison.communes,
        f"scenario_{slug}_{mention}",
        "transition_scenario",
        sheets=lambda: {
            "communes": comparison.communes,
            "territoires": comparison.territoires,
            "gagnent ou perdent": changes,
            "changements": scenario_changes_table(scenario, current, communes),
        },
        label="Télécharger les résultats (toutes les communes)",
    )
