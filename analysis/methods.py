"""Method notes of the indicators shown to users, in one place (French text for the pages).

Each note says what the indicator is, how it is computed (formula and parameters with their
defaults) and what it cannot tell. Pages display ``note(indicator_id)`` beside any map or table
of the indicator; a test checks that every indicator the app shows has a note here. Indicator
ids are the column names of ``analysis.indicators`` outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analysis import access


@dataclass(frozen=True)
class MethodNote:
    """One indicator: short label, unit (for legends), direction and the method text."""

    id: str
    label: str
    unit: str
    note: str
    higher_is_better: bool = True


def _fr(x: float) -> str:
    """A number written the French way (decimal comma)."""
    return f"{x:g}".replace(".", ",")


def _zones_text() -> str:
    parts = []
    low = 0.0
    for bound, weight in access.DEFAULT_ZONES:
        parts.append(f"{_fr(low)}–{_fr(bound)} min : {weight:.2f}".replace(".", ","))
        low = bound
    return " ; ".join(parts)


_MODEL = (
    "Temps de trajet : distance à vol d'oiseau (Lambert-93) entre le point représentatif de la "
    "commune et l'établissement, × coefficient de détour (défaut "
    f"{_fr(access.DEFAULT_DETOUR_FACTOR)}) ÷ vitesse moyenne (défaut "
    f"{_fr(access.DEFAULT_SPEED_KMH)} km/h) × 60. Le coefficient 1,3 correspond au détour moyen "
    "mesuré sur les réseaux routiers européens (≈ 1,34) ; 40 km/h est une vitesse porte à porte "
    "qui mêle rues urbaines et routes. Un fichier de temps (commune, FINESS, minutes) issu d'un "
    "calculateur d'itinéraire remplace ce modèle partout ; un couple absent du fichier est jugé "
    "inaccessible."
)

_POINTS = (
    "Toute la population d'une commune est placée en un seul point (Paris compte pour un seul "
    "point) : les écarts à l'intérieur d'une grande commune sont ignorés. Les établissements "
    "sans coordonnées sont placés au point de leur commune."
)

NOTES: dict[str, MethodNote] = {
    n.id: n
    for n in (
        MethodNote(
            "taux_100k",
            "Lits et places pour 100 000 habitants",
            "lits et places pour 100 000 hab.",
            "**Définition** : capacité installée du territoire rapportée à sa population.\n\n"
            "**Formule** : (lits + places des offres de la mention, de la forme choisie, des "
            "établissements situés dans le territoire) ÷ population × 100 000.\n\n"
            "**Paramètres** : population municipale de référence ; si un fichier de population "
            "par âge est fourni, moins de 18 ans pour la pédiatrie (ME060, ME061), 75 ans et "
            "plus pour la gériatrie (ME059), total du fichier pour les autres mentions.\n\n"
            "**Limites** : ne tient pas compte des habitants soignés hors de leur territoire "
            "ni des patients venant d'ailleurs ; un territoire sans établissement vaut 0 même "
            "si l'offre est juste de l'autre côté de sa limite (voir l'accessibilité E2SFCA).",
        ),
        MethodNote(
            "etablissements",
            "Établissements offrant la mention",
            "établissements",
            "**Définition** : nombre d'entités géographiques (FINESS EG) du territoire ayant au "
            "moins une offre de la mention (et de la forme choisie), quelle que soit sa "
            "capacité.\n\n**Limites** : un établissement compte une fois même s'il a plusieurs "
            "unités ; les établissements hors de la région ne sont comptés nulle part.",
        ),
        MethodNote(
            "temps_plus_proche",
            "Temps vers l'établissement le plus proche",
            "minutes",
            "**Définition** : temps de trajet estimé vers l'établissement le plus proche "
            "offrant la mention (et la forme choisie).\n\n"
            "**Formule** : pour une commune, min sur les établissements du temps de trajet ; "
            "pour un territoire, moyenne des communes pondérée par la population (communes "
            "sans établissement accessible exclues).\n\n"
            f"**Paramètres** : {_MODEL}\n\n**Limites** : {_POINTS} Ne dit rien de la capacité "
            "ni des places disponibles.",
            higher_is_better=False,
        ),
        MethodNote(
            "distance_plus_proche",
            "Distance à l'établissement le plus proche",
            "km à vol d'oiseau",
            "**Définition** : distance à vol d'oiseau (Lambert-93) entre le point représentatif "
            "de la commune et l'établissement le plus proche offrant la mention.\n\n"
            "**Formule** : pour un territoire, moyenne des communes pondérée par la population."
            f"\n\n**Limites** : {_POINTS} La distance routière est en général 20 à 40 % plus "
            "longue.",
            higher_is_better=False,
        ),
        MethodNote(
            "acces_e2sfca",
            "Accessibilité potentielle (E2SFCA)",
            "lits et places pour 100 000 hab.",
            "**Définition** : offre accessible à un habitant compte tenu de la concurrence des "
            "autres habitants, méthode des aires flottantes à deux étapes améliorée (E2SFCA, "
            "Luo et Qi 2009).\n\n"
            "**Formule** : 1) pour chaque établissement j, R_j = capacité_j ÷ Σ_i w(t_ij) × "
            "population_i sur les communes i à moins de la zone d'attraction ; 2) pour chaque "
            "commune, A_i = Σ_j w(t_ij) × R_j, exprimé pour 100 000 habitants. Pour un "
            "territoire : moyenne des communes pondérée par la population. Le rapport à la "
            "médiane régionale utilise la médiane pondérée par la population (la valeur de "
            "l'habitant médian).\n\n"
            f"**Paramètres** : poids par zone de temps (bornes incluses) {_zones_text()} ; au-"
            "delà 0. Changer la zone d'attraction met les bornes à l'échelle (60 min → 0–20, "
            f"20–40, 40–60). Capacité = lits + places de la mention. {_MODEL}\n\n"
            "**Limites** : la population hors région et les établissements hors région non "
            "décrits dans l'instantané sont ignorés (effet de bord) ; "
            f"{_POINTS[0].lower()}{_POINTS[1:]} Implémentation vérifiée contre le paquet PySAL "
            "access.",
        ),
        MethodNote(
            "acces_2sfca",
            "Accessibilité potentielle (2SFCA)",
            "lits et places pour 100 000 hab.",
            "**Définition** : aires flottantes à deux étapes (2SFCA, Luo et Wang 2003), sans "
            "décroissance avec le temps.\n\n"
            "**Formule** : comme E2SFCA avec un poids 1 pour tout couple à moins de la zone "
            f"d'attraction (défaut {access.DEFAULT_CATCHMENT_MIN:g} min, borne incluse) et 0 "
            "au-delà.\n\n"
            f"**Paramètres** : zone d'attraction en minutes. {_MODEL}\n\n"
            "**Limites** : effet de seuil (un établissement à 29 min compte autant qu'un "
            "établissement voisin, à 31 min plus du tout) ; mêmes effets de bord que E2SFCA.",
        ),
        MethodNote(
            "ratio_mediane",
            "Rapport à la médiane régionale",
            "rapport (1 = médiane)",
            "**Définition** : accessibilité de la commune (2SFCA ou E2SFCA) divisée par la "
            "médiane régionale.\n\n**Formule** : A_i ÷ médiane pondérée par la population "
            "(la valeur en dessous de laquelle vit la moitié des habitants de la région). "
            "Pondérer par la population décrit l'habitant médian plutôt que la commune "
            "médiane, souvent petite et rurale.\n\n**Limites** : vide quand la médiane est "
            "nulle (plus de la moitié des habitants sans offre accessible).",
        ),
        MethodNote(
            "part_au_dela",
            "Part de la population au-delà du seuil",
            "% de la population",
            "**Définition** : part de la population dont l'établissement le plus proche "
            "offrant la mention est à plus du seuil choisi (ou inaccessible).\n\n"
            "**Formule** : Σ population des communes au-delà du seuil ÷ population du "
            "territoire × 100. Pour une commune, 0 ou 100 %.\n\n"
            f"**Paramètres** : seuil en minutes (défaut 30). {_MODEL}\n\n**Limites** : {_POINTS}",
            higher_is_better=False,
        ),
        MethodNote(
            "part_seuil",
            "Part de la population à moins du seuil",
            "% de la population",
            "**Définition** : part de la population dont l'établissement le plus proche "
            "offrant la mention est à au plus N minutes (borne incluse).\n\n"
            "**Formule** : Σ population des communes à ≤ N min ÷ population du territoire × 100."
            "\n\n**Paramètres** : seuils par défaut "
            + ", ".join(f"{t:g}" for t in access.DEFAULT_THRESHOLDS_MIN)
            + f" min, modifiables. {_MODEL}\n\n**Limites** : {_POINTS}",
        ),
        MethodNote(
            "presence",
            "Présence des mentions",
            "établissements",
            "**Définition** : pour chaque territoire et chaque mention, nombre d'établissements "
            "qui la proposent ; 0 signale une mention absente du territoire.\n\n"
            "**Limites** : la présence ne dit rien de la capacité ni de l'accès depuis les "
            "territoires voisins.",
        ),
    )
}

_THRESHOLD_RE = re.compile(r"^part_\d+(_\d+)?min$")


def note(indicator: str) -> MethodNote:
    """The method note of an indicator id (``part_<N>min`` → the threshold note,
    ``ratio_mediane_<method>`` → the median ratio note); ``KeyError`` when there is none."""
    if _THRESHOLD_RE.match(indicator):
        return NOTES["part_seuil"]
    if indicator.startswith("ratio_mediane"):
        return NOTES["ratio_mediane"]
    if indicator in NOTES:
        return NOTES[indicator]
    raise KeyError(f"indicateur sans note de méthode : « {indicator} »")
