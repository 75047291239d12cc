"""The scenario editor of the Transition page: load a what-if scenario (upload, example,
store), add and remove its changes, download it or save it in the store.

Its state lives in the session (``SCENARIO``, the scenario in file form, and the widgets'
``transition_*`` keys); actions run in the widgets' callbacks and keep a French error for
display (``ERROR``) instead of raising.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from analysis.indicators import coverage, opening
from analysis.model import formats, nomenclature
from analysis.model.errors import SmrError
from analysis.transition import scenarios
from analysis.transition.comparison import scenario_changes_table
from ui import state
from ui.common import ROOT, Context, read_only, show_table, upload_hint

EXAMPLES = ROOT / "docs" / "scenarios"
SCENARIO = "transition_scenario"  # session state: the scenario being edited (file form)
ERROR = "transition_erreur"
#: Headers the registry (``analysis.model.formats``) words differently for scenario tables.
HEADERS: dict[str, formats.Format] = {
    "nom": formats.Format("Nom", width="medium", key=True),
    "numero": formats.Format("N°", formats.INTEGER, width="small"),
    "description": formats.Format("Changement", width="large"),
}


def _scenario() -> scenarios.Scenario:
    raw = st.session_state.get(SCENARIO) or {"nom": "", "changements": []}
    return scenarios.scenario_from_dict(
        raw
        | {
            "nom": st.session_state.get("transition_nom") or raw.get("nom") or "Nouveau scénario",
            "description": st.session_state.get("transition_description", raw.get("description")),
        }
    )


def _set_scenario(scenario: scenarios.Scenario) -> None:
    """Make ``scenario`` the one being edited (called before its widgets are drawn)."""
    st.session_state[SCENARIO] = scenario.to_dict()
    st.session_state["transition_nom"] = scenario.nom
    st.session_state["transition_description"] = scenario.description
    if scenario.mentions:
        st.session_state["transition_mention"] = scenario.mentions[0]
        state.remember("mention", scenario.mentions[0])


def _try(action, *args) -> None:
    """Run a scenario action; a French error is kept for display instead of raised."""
    st.session_state.pop(ERROR, None)
    try:
        action(*args)
    except SmrError as exc:
        st.session_state[ERROR] = str(exc)


def _remove_changes() -> None:
    drop = set(st.session_state.get("transition_retirer") or [])
    current = _scenario().to_dict()
    current["changements"] = [c for i, c in enumerate(current["changements"], 1) if i not in drop]
    st.session_state[SCENARIO] = current
    st.session_state["transition_retirer"] = []


def _clear() -> None:
    _set_scenario(scenarios.Scenario(nom="Nouveau scénario"))


def scenario_editor(
    ctx: Context,
    data: dict[str, pl.DataFrame],
    communes: pl.DataFrame,
    rule: opening.OpeningRule,
) -> tuple[scenarios.Scenario, dict[str, pl.DataFrame] | None]:
    """Draw the editor for the snapshot's tables ``data`` (open offer rule ``rule``, origins
    ``communes``); return the scenario being edited and ``data`` with it applied (None when
    it does not apply to this snapshot, the error being shown)."""
    if SCENARIO not in st.session_state:
        _set_scenario(scenarios.Scenario(nom="Nouveau scénario"))

    def _load_upload(content: bytes, name: str) -> None:
        scenario = scenarios.parse_scenario(content, name)
        scenarios.check_scenario(scenario, data, communes, name, rule)
        _set_scenario(scenario)

    def _load_choice() -> None:
        kind, name = st.session_state["transition_source"]
        if kind == "exemple":
            scenario = scenarios.read_scenario(EXAMPLES / name)
        else:
            scenario = scenarios.load_saved_scenario(ctx.store, name)
        scenarios.check_scenario(scenario, data, communes, name, rule)
        _set_scenario(scenario)

    def _add_change() -> None:
        s = st.session_state
        action = s["transition_action"]
        raw = {"action": action, "mention": s["transition_change_mention"]}
        if action == "nouveau_site":
            raw |= {"commune_insee": s["transition_commune"], "nom": s.get("transition_site_nom")}
        else:
            raw["finess_eg"] = s.get("transition_finess")
        if action != "retirer_mention":
            forme = s.get("transition_change_forme")
            raw |= {
                "forme": None if forme == coverage.ALL_FORMES else forme,
                "lits": int(s.get("transition_lits") or 0),
                "places": int(s.get("transition_places") or 0),
            }
        current = _scenario().to_dict()
        candidate = scenarios.scenario_from_dict(
            current | {"changements": [*current["changements"], raw]}, "scénario"
        )
        scenarios.check_scenario(candidate, data, communes, None, rule)
        st.session_state[SCENARIO] = candidate.to_dict()
        st.session_state["transition_mention"] = candidate.changements[-1].mention
        state.remember("mention", candidate.changements[-1].mention)

    def _save() -> None:
        path = scenarios.save_scenario(
            ctx.store, _scenario(), replace=bool(st.session_state.get("transition_remplacer"))
        )
        st.session_state["transition_saved"] = path.name

    # --- load: an uploaded file, an example, or a scenario kept in the store
    l1, l2 = st.columns(2)
    uploaded = l1.file_uploader(
        "Charger un scénario (YAML ou JSON)",
        type=["yaml", "yml", "json"],
        key="transition_upload",
    )
    upload_hint(["yaml", "yml", "json"], l1)
    if uploaded is not None and st.session_state.get("transition_upload_id") != uploaded.file_id:
        st.session_state["transition_upload_id"] = uploaded.file_id
        _try(_load_upload, uploaded.getvalue(), uploaded.name)
    sources = [("magasin", name) for name in scenarios.saved_scenarios(ctx.store)]
    if ctx.is_demo:
        sources += [
            ("exemple", p.name)
            for p in sorted(EXAMPLES.glob("*"))
            if p.suffix.lower() in scenarios.SCENARIO_SUFFIXES
        ]
    with l2:
        if sources:
            st.selectbox(
                "Ou choisir un scénario enregistré",
                sources,
                format_func=lambda s: f"{s[1]} ({'exemple' if s[0] == 'exemple' else 'magasin'})",
                key="transition_source",
            )
            st.button("Charger", key="transition_load", on_click=_try, args=(_load_choice,))
        else:
            st.caption("Aucun scénario enregistré dans ce magasin (dossier scenarios/).")
    if st.session_state.get(ERROR):
        st.error(st.session_state[ERROR])

    # --- edit
    e1, e2 = st.columns([2, 3])
    e1.text_input("Nom du scénario", key="transition_nom")
    e2.text_input("Description", key="transition_description")
    scenario = _scenario()
    try:
        modified = scenarios.apply_scenario(data, scenario, communes, None, rule)
    except SmrError as exc:
        st.error(f"{exc} (le scénario ne s'applique pas à l'instantané du {ctx.date:%d/%m/%Y})")
        modified = None
    current = modified or data

    with st.container(border=True):
        st.markdown("**Ajouter un changement**")
        a1, a2 = st.columns(2)
        action = a1.selectbox(
            "Action",
            list(scenarios.ACTIONS),
            format_func=scenarios.ACTIONS.get,
            key="transition_action",
        )
        change_mention = a2.selectbox(
            "Mention",
            [m.code for m in nomenclature.MENTIONS],
            format_func=formats.mention_choice,
            key="transition_change_mention",
        )
        offers = coverage.offers_by_establishment(current, [change_mention])
        holders = set(offers["finess_eg"].to_list())
        etabs = current["etablissements"].select("finess_eg", "raison_sociale", "commune_insee")
        label = {
            f: f"{n} ({f})"
            for f, n in zip(etabs["finess_eg"], etabs["raison_sociale"], strict=True)
        }
        b1, b2 = st.columns(2)
        if action == "nouveau_site":
            commune_names = dict(zip(communes["commune_insee"], communes["nom"], strict=True))
            b1.selectbox(
                "Commune",
                communes.sort("nom")["commune_insee"].to_list(),
                format_func=lambda c: f"{commune_names[c]} ({c})",
                key="transition_commune",
            )
            b2.text_input("Nom du site (facultatif)", key="transition_site_nom")
        else:
            wanted = action != "ajouter_mention"
            choices = sorted((f for f in label if (f in holders) == wanted), key=label.get)
            finess = b1.selectbox(
                "Établissement" + (" offrant la mention" if wanted else " (sans cette mention)"),
                choices,
                format_func=label.get,
                key="transition_finess",
            )
            if finess and wanted:
                now = offers.filter(pl.col("finess_eg") == finess)
                b2.caption(
                    f"Actuellement : {formats.integer(now['lits'].sum())} lits, "
                    f"{formats.integer(now['places'].sum())} places "
                    f"({', '.join(sorted(set(now['forme'].to_list())))})."
                )
        if action != "retirer_mention":
            c1, c2, c3 = st.columns(3)
            formes = ([coverage.ALL_FORMES] if action == "modifier_capacite" else []) + list(
                nomenclature.FORME_BY_CODE
            )
            c1.selectbox(
                "Forme",
                formes,
                format_func=lambda f: (
                    "Toutes les formes"
                    if f == coverage.ALL_FORMES
                    else f"{nomenclature.FORME_BY_CODE[f].libelle} ({f})"
                ),
                key="transition_change_forme",
            )
            c2.number_input("Lits", min_value=0, step=1, value=0, key="transition_lits")
            c3.number_input("Places", min_value=0, step=1, value=0, key="transition_places")
            if action == "modifier_capacite":
                st.caption(
                    "Les lits et places indiqués remplacent le total de la mention (ou de "
                    "la forme choisie) dans l'établissement."
                )
        st.button(
            "Ajouter au scénario",
            key="transition_add",
            on_click=_try,
            args=(_add_change,),
            type="primary",
        )

    if scenario.changements:
        table = scenario_changes_table(scenario, current, communes)
        shown_changes = table.select(
            "numero", "description", "action", "mention", "forme", "lits", "places"
        )
        show_table(shown_changes, "transition_changements", overrides=HEADERS)
        r1, r2, r3 = st.columns([3, 1, 1])
        r1.multiselect(
            "Changements à retirer", table["numero"].to_list(), key="transition_retirer",
            placeholder="Choisir les numéros",
        )
        r2.button("Retirer", key="transition_remove", on_click=_remove_changes)
        r3.button("Tout effacer", key="transition_clear", on_click=_clear)
    s1, s2, s3 = st.columns([2, 2, 1])
    s1.download_button(
        "Télécharger le scénario (YAML)",
        scenario.to_yaml().encode("utf-8"),
        file_name=f"{scenario.slug}.yaml",
        mime="application/x-yaml",
        key="transition_download", on_click="ignore",
    )
    if not read_only():
        s2.button(
            "Enregistrer dans le magasin",
            key="transition_save",
            on_click=_try,
            args=(_save,),
            help=f"Dans {scenarios.scenario_dir(ctx.store)}",
        )
        s3.checkbox(
            "Remplacer",
            key="transition_remplacer",
            help="Remplacer un scénario du même nom déjà enregistré.",
        )
        if st.session_state.get("transition_saved") and not st.session_state.get(ERROR):
            st.success(f"Scénario enregistré : scenarios/{st.session_state['transition_saved']}")
    return scenario, modified
