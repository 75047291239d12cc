"""Method notes of the indicators shown to users: the registry and its loader.

Each note says what the indicator is, how it is computed (formula and parameters with their
defaults), which data it uses and what it cannot tell: the five parts of ``PARTS``, written as
bold headings (``**Définition** : …``) that a test checks. Pages display a note beside the
figure, table or map of its indicator through ``ui.notes`` (which also records the ids a page
shows: a test walks the pages and fails on an id without a note). Indicator ids are the column
names of ``analysis.indicators.territories`` outputs, or short names for the other figures
(home page, campaign, synchronisation, import report). The regional report
(``analysis.present.report``) prints the notes of the indicators it contains.

The texts are data files beside this module (``notes/``, see ``notes/README.md``): one
Markdown file per note, ``notes/<id>.md``, with its label, unit and direction in a short
header; passages several notes share in ``notes/fragments/``. Their ``{name}`` fields are
filled here from the parameters' defaults (``_values``: access model, sync hour, quality
thresholds, checklist…), so a note follows the code it describes. The campaign and
synchronisation notes can also be written for a checklist of one's own
(``campaign_rules_note``) or another sync hour (``sync_status_note``); the OQOS note for the
zoning and date in use (``oqos_note``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import yaml

from analysis.checks.campaign import checklist
from analysis.checks.quality import requirements
from analysis.indicators import access, sync
from analysis.model import formats
from analysis.transition import correspondence, gaps, oqos


@dataclass(frozen=True)
class MethodNote:
    """One indicator: short label, unit (for legends), direction and the method text."""

    id: str
    label: str
    unit: str
    note: str
    higher_is_better: bool = True

    @property
    def parts(self) -> dict[str, str]:
        """The note's parts, heading → text (see ``PARTS``)."""
        return note_parts(self.note)


#: The parts every note has, as bold headings at the start of a paragraph: « **Définition** : ».
PARTS: tuple[str, ...] = ("Définition", "Formule", "Paramètres", "Données", "Limites")
_PART_RE = re.compile(r"(?m)^\*\*([^*]+)\*\* ?: ?")


def note_parts(text: str) -> dict[str, str]:
    """Split a note text into its parts: heading → text up to the next heading (stripped)."""
    marks = list(_PART_RE.finditer(text))
    return {
        m.group(1).strip(): text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else None]
        .strip()
        for i, m in enumerate(marks)
    }


def missing_parts(n: MethodNote) -> list[str]:
    """The required parts a note lacks or leaves empty (``[]`` for a complete note)."""
    parts = n.parts
    return [p for p in PARTS if not parts.get(p)]


# ------------------------------------------------------------------------- the files

#: The registered notes, in order (``notes/<id>.md`` each).
NOTE_ORDER: tuple[str, ...] = (
    # territories and access (pages Carte, Territoires; the report)
    "taux_100k",
    "etablissements",
    "temps_plus_proche",
    "distance_plus_proche",
    "acces_e2sfca",
    "acces_2sfca",
    "ratio_mediane",
    "part_au_dela",
    "part_seuil",
    "fermes_temporairement",
    "presence",
    # snapshot figures (home page, import, report)
    "etablissements_smr",
    "unites",
    "lits",
    "places",
    "capacite",
    "capacite_par_mention",
    "lignes_lues",
    "lignes_conservees",
    "lignes_rejetees",
    "avertissements",
    # accessibility (report)
    "mediane_e2sfca",
    # campaign
    "campagne_taux_regle",
    "campagne_taux_conformes",
    "campagne_points_a_traiter",
    "campagne_etablissements_a_jour",
    "campagne_changements",
    "campagne_prerequis",
    "campagne_prevision",
    # synchronisation
    "sync_statuts",
    "sync_taux_synchronise",
    "sync_ecarts",
    # SSR -> SMR transition and scenarios (analysis.transition)
    "ecarts_transition",
    "correspondance_ssr_smr",
    "delta_temps_plus_proche",
    "delta_acces_e2sfca",
    "delta_taux_100k",
    "population_gagnant",
    "population_perdant",
    # ROR quality requirements, population follow-up, ViaTrajectoire report
    "EX1.2",
    "EX2",
    "ST2",
    "CO4",
    "ST3",
    "RE1.2",
    "CP4",
    "LOC-CAPACITE",
    "LOC-AUTORISATION",
    "peuplement_statut",
    "peuplement_trimestriel",
    "synchro_vt_taux",
    "synchro_vt_concordance",
    # implantation targets by zone, OQOS (analysis.transition.oqos)
    "oqos_implantations",
)


def _read(name: str) -> str:
    """The text of ``notes/<name>`` (UTF-8), from the installed package."""
    return resources.files("analysis.present").joinpath("notes", name).read_text("utf-8")


def _fill(template: str, values: Mapping[str, str], where: str) -> str:
    """``template`` with its ``{name}`` fields filled; an unknown field is a mistake."""
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"note de méthode « {where} » : champ inconnu ou mal écrit ({exc})") from exc


def _fragment(name: str) -> str:
    """A passage several notes share (``notes/fragments/<name>.md``), without its final
    line break, its own fields filled."""
    return _fill(_read(f"fragments/{name}.md").rstrip("\n"), _parameters(), f"fragments/{name}")


def _split(ident: str) -> tuple[dict[str, str], str]:
    """The header (``key: value`` lines between ``---``) and the body of ``notes/<id>.md``."""
    text = _read(f"{ident}.md")
    head, sep, body = text.removeprefix("---\n").partition("\n---\n")
    if not text.startswith("---\n") or not sep:
        raise ValueError(f"note de méthode « {ident} » : en-tête --- … --- attendu")
    fields = dict(line.split(": ", 1) for line in head.splitlines() if line.strip())
    return fields, body.rstrip("\n")


# --------------------------------------------------------------- values of the fields


def _zones_text() -> str:
    parts = []
    low = 0.0
    for bound, weight in access.DEFAULT_ZONES:
        parts.append(f"{formats.compact(low)}–{formats.compact(bound)} min : {formats.number(weight, 2)}")
        low = bound
    return " ; ".join(parts)


def _compared_fields() -> str:
    """« nom de l'unité, téléphone, …, FINESS EG » (acronyms keep their capitals)."""
    return ", ".join(
        f.label if f.label.split()[0].isupper() else f.label[:1].lower() + f.label[1:]
        for f in sync.COMPARED_FIELDS
    )


def _plan_text() -> str:
    from analysis.checks.campaign import forecast

    def day(d: dt.date | None) -> str:
        return d.strftime("%d/%m/%Y") if d else "aucune dans le guide"

    return " ; ".join(
        f"*{p.label}* ({p.id}, du {p.start:%d/%m/%Y}, échéance {day(p.deadline)}) : "
        + ", ".join(f"`{r}`" for r in p.rules)
        for p in forecast.PLAN
    )


def _gap_types_text() -> str:
    rules = yaml.safe_load(_read("fragments/gap_rules.yaml"))
    return " ; ".join(f"*{label}* : {rules[code]}" for code, (label, _) in gaps.GAP_TYPES.items())


def rules_markdown(rules: Sequence[checklist.Rule] = checklist.RULES) -> str:
    """The checklist as a French markdown list: label, level, id and help text of each rule."""
    def level(code: str) -> str:
        text = checklist.LEVELS.get(code, code)
        return text[:1].lower() + text[1:]

    def kind(rule: checklist.Rule) -> str:
        return checklist.SEVERITIES.get(rule.severity, rule.severity).lower()

    return "\n".join(
        f"- *{r.label}* ({level(r.level)}, {kind(r)}, `{r.id}`) : {r.help}" for r in rules
    )


@functools.cache
def _parameters() -> dict[str, str]:
    """Fields written from the code's parameters (defaults), as the notes print them."""
    q = requirements.QualityParams()
    return {
        "detour": formats.compact(access.DEFAULT_DETOUR_FACTOR),
        "speed": formats.compact(access.DEFAULT_SPEED_KMH),
        "catchment": f"{access.DEFAULT_CATCHMENT_MIN:g}",
        "thresholds": ", ".join(f"{t:g}" for t in access.DEFAULT_THRESHOLDS_MIN),
        "zones": _zones_text(),
        "sync_time": f"{sync.DEFAULT_SYNC_TIME:%H:%M}",
        "compared_fields": _compared_fields(),
        "plan": _plan_text(),
        "gap_types": _gap_types_text(),
        "mapping_statuses": " ; ".join(f"*{v}*" for v in correspondence.MAPPING_STATUSES.values()),
        "re12_min_offers": str(q.re12_min_offers),
        "re12_min_share_pct": str(q.re12_min_share_pct),
        "re12_window_years": str(q.re12_window_years),
        "capacity_formes": ", ".join(q.capacity_formes),
        "oqos_sous": oqos.STATUSES[oqos.SOUS],
        "oqos_au_dessus": oqos.STATUSES[oqos.AU_DESSUS],
        "oqos_dans": oqos.STATUSES[oqos.DANS],
        "oqos_formes": oqos.OqosParams().describe(),
    }


#: Shared passages (``notes/fragments/``), each a field of the same name.
_FRAGMENTS = (
    "offer", "population", "sites", "points", "model", "snapshot", "campaign_parameters",
    "campaign_data", "campaign_severity", "sync_data", "transition_data", "scenario_formula",
    "q_source", "q_table", "q_dates", "q_perimeter", "q_readings", "q_ror_eg", "q_finess",
)  # fmt: skip


@functools.cache
def _values() -> dict[str, str]:
    """Every field a note may use, apart from the few its function fills (``rules``,
    ``hour``, ``when``, ``zoned``)."""
    values = dict(_parameters())
    values |= {name: _fragment(name) for name in _FRAGMENTS}
    points = values["points"]
    values["points_lower"] = points[:1].lower() + points[1:]
    return values


def _text(ident: str, **fields: str) -> str:
    """The method text of note ``ident``, its fields filled (``fields`` added)."""
    return _fill(_split(ident)[1], _values() | fields, ident)


def _load(ident: str) -> MethodNote:
    """Note ``ident`` from its file, with the default checklist, sync hour and zoning."""
    header, _ = _split(ident)
    defaults = {
        "rules": rules_markdown(checklist.RULES),
        "hour": f"{sync.DEFAULT_SYNC_TIME:%H:%M}",
        "when": _WHEN_ANY_DATE,
        "zoned": _fragment("oqos_zoning"),
    }
    return MethodNote(
        ident,
        header["label"],
        header["unit"],
        _text(ident, **defaults),
        higher_is_better=header.get("higher_is_better", "true") != "false",
    )


# ------------------------------------------------- notes written for other parameters

_WHEN_ANY_DATE = "à la date de l'instantané choisi"


def campaign_rules_note(rules: Sequence[checklist.Rule] = checklist.RULES) -> str:
    """The note text of the per-rule completion, listing ``rules`` (the checklist in use)."""
    return _text("campagne_taux_regle", rules=rules_markdown(rules))


def sync_status_note(sync_time: dt.time = sync.DEFAULT_SYNC_TIME) -> str:
    """The note text of the synchronisation statuses, for a daily sync at ``sync_time``."""
    return _text("sync_statuts", hour=sync_time.strftime("%H:%M"))


def oqos_note(zoning: str | None = None, date: dt.date | None = None) -> str:
    """The OQOS method note; ``zoning`` (``OqosInputs.zoning_caption``) and ``date`` fill in
    the zoning and the date in use (the page's note), else the generic wording (registry)."""
    return _text(
        "oqos_implantations",
        when=f"le {date:%d/%m/%Y}" if date else _WHEN_ANY_DATE,
        zoned=zoning or _fragment("oqos_zoning"),
    )


# ------------------------------------------------------------------------ registry

NOTES: dict[str, MethodNote] = {}


def _register(*notes: MethodNote) -> None:
    """Add notes to ``NOTES``; an id registered twice is a mistake."""
    for n in notes:
        if n.id in NOTES:
            raise ValueError(f"note de méthode en double : « {n.id} »")
        NOTES[n.id] = n


_register(*(_load(ident) for ident in NOTE_ORDER))

_THRESHOLD_RE = re.compile(r"^part_\d+(_\d+)?min$")


def note(indicator: str) -> MethodNote:
    """The method note of an indicator id (``part_<N>min`` → the threshold note,
    ``ratio_mediane_<method>`` → the median ratio note); ``KeyError`` when there is none."""
    if _THRESHOLD_RE.match(indicator):
        return NOTES["part_seuil"]
    if indicator.startswith("ratio_mediane"):
        return NOTES["ratio_mediane"]
    if indicator == "capacite_fermee_temporairement":
        return NOTES["fermes_temporairement"]
    if indicator in NOTES:
        return NOTES[indicator]
    raise KeyError(f"indicateur sans note de méthode : « {indicator} »")
