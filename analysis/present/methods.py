"""Method notes of the indicators shown to users, in one place (French text for the pages).

Each note says what the indicator is, how it is computed (formula and parameters with their
defaults), which data it uses and what it cannot tell: the five parts of ``PARTS``, written as
bold headings (``**Définition** : …``) that a test checks. Pages display a note beside the
figure, table or map of its indicator through ``ui.notes`` (which also records the ids a page
shows: a test walks the pages and fails on an id without a note). Indicator ids are the column
names of ``analysis.indicators.territories`` outputs, or short names for the other figures (home page,
campaign, synchronisation, import report).

This is the single registry: the campaign and synchronisation notes live here too, built from
``checklist.RULES`` and ``sync`` constants (``campaign_rules_note`` for a checklist of one's
own, ``sync_status_note`` for another sync hour). The regional report (``analysis.present.report``) prints the notes of
the indicators it contains.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

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


def _zones_text() -> str:
    parts = []
    low = 0.0
    for bound, weight in access.DEFAULT_ZONES:
        parts.append(f"{formats.compact(low)}–{formats.compact(bound)} min : {formats.number(weight, 2)}")
        low = bound
    return " ; ".join(parts)


_MODEL = (
    "Temps de trajet : distance à vol d'oiseau (Lambert-93) entre le point représentatif de la "
    "commune et l'établissement, × coefficient de détour (défaut "
    f"{formats.compact(access.DEFAULT_DETOUR_FACTOR)}) ÷ vitesse moyenne (défaut "
    f"{formats.compact(access.DEFAULT_SPEED_KMH)} km/h) × 60. Le coefficient 1,3 correspond au détour moyen "
    "mesuré sur les réseaux routiers européens (≈ 1,34) ; 40 km/h est une vitesse porte à porte "
    "qui mêle rues urbaines et routes. Un fichier de temps (commune, FINESS, minutes) issu d'un "
    "calculateur d'itinéraire remplace ce modèle partout ; un couple absent du fichier est jugé "
    "inaccessible."
)

_POINTS = (
    "Toute la population d'une commune est placée en un seul point ; Paris, Lyon et Marseille "
    "sont découpées en arrondissements (un point chacun), dont les valeurs s'additionnent "
    "exactement en celles de la commune : les écarts à l'intérieur d'une commune ou d'un "
    "arrondissement sont ignorés. Les établissements sans coordonnées sont placés au point de "
    "leur arrondissement ou de leur commune."
)

_OFFER = (
    "offres de l'instantané (mention, forme, lits, places) rattachées à leur unité puis à leur "
    "établissement (FINESS EG) et à la commune de celui-ci, offre ouverte à la date de "
    "l'instantané seulement : établissements et unités fermés définitivement exclus, fermés "
    "provisoirement exclus sauf si la case « Inclure les fermetures provisoires » est cochée "
    "(--inclure-fermetures-provisoires), d'après le ROR et, s'il est dans l'instantané, le "
    "référentiel FINESS"
)
_POPULATION = (
    "population municipale de la géographie de référence (Insee, populations légales 2017 du "
    "recensement 2017, en vigueur au 1er janvier 2020, dans data/reference/) ou celle d'un "
    "fichier de populations légales de l'Insee (--population, page Carte, réglage du "
    "magasin) ; le millésime utilisé est affiché à côté des chiffres et dans la colonne "
    "millesime_population des fichiers ; si elle est fournie, population par âge"
)
_SITES = (
    "coordonnées des établissements (WGS84, sinon point de leur commune), points "
    "représentatifs des communes (Lambert-93) et, s'il est fourni, fichier de temps de trajet"
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
            f"**Données** : {_OFFER} ; {_POPULATION}.\n\n"
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
            "capacité.\n\n**Formule** : nombre de FINESS EG distincts parmi les offres de la "
            "mention des établissements situés dans le territoire.\n\n**Paramètres** : mention "
            "et forme choisies (toutes les formes par défaut).\n\n"
            f"**Données** : {_OFFER}.\n\n**Limites** : un établissement compte une fois même "
            "s'il a plusieurs unités ; les établissements hors de la région ne sont comptés "
            "nulle part.",
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
            f"**Paramètres** : {_MODEL}\n\n**Données** : {_SITES} ; {_POPULATION} (pour les "
            "moyennes).\n\n"
            f"**Limites** : {_POINTS} Ne dit rien de la capacité "
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
            "\n\n**Paramètres** : mention et forme choisies ; aucun paramètre de vitesse ni de "
            "détour (l'établissement le plus proche est celui du temps de trajet le plus court)."
            f"\n\n**Données** : {_SITES} ; {_POPULATION}."
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
            f"**Données** : {_OFFER} ; {_SITES} ; {_POPULATION}.\n\n"
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
            f"**Données** : {_OFFER} ; {_SITES} ; {_POPULATION}.\n\n"
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
            "médiane, souvent petite et rurale.\n\n**Paramètres** : ceux de la méthode "
            "(2SFCA ou E2SFCA : zone d'attraction, poids, vitesse, détour).\n\n"
            f"**Données** : celles de l'accessibilité ({_OFFER} ; {_SITES} ; {_POPULATION}).\n\n"
            "**Limites** : vide quand la médiane est "
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
            f"**Paramètres** : seuil en minutes (défaut 30). {_MODEL}\n\n"
            f"**Données** : {_SITES} ; {_POPULATION}.\n\n**Limites** : {_POINTS}",
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
            + f" min, modifiables. {_MODEL}\n\n**Données** : {_SITES} ; {_POPULATION}.\n\n"
            f"**Limites** : {_POINTS}",
        ),
        MethodNote(
            "fermes_temporairement",
            "Établissements fermés temporairement",
            "établissements",
            "**Définition** : établissements (et leurs lits et places) dont l'entité "
            "géographique ou l'unité est fermée provisoirement (type PRO) à la date de "
            "l'instantané, montrés à côté des totaux.\n\n"
            "**Formule** : nombre de FINESS EG distincts ayant une offre de la mention dont "
            "l'établissement ou l'unité a une date de fermeture au plus tard à la date de "
            "l'instantané et le type PRO (sans fermeture définitive par ailleurs) ; capacité = "
            "leurs lits + places.\n\n"
            "**Paramètres** : case « Inclure les fermetures provisoires » "
            "(--inclure-fermetures-provisoires) : décochée par défaut, ces établissements sont "
            "exclus de tous les indicateurs ; cochée, ils y sont comptés (et restent signalés "
            "ici). Une fermeture définitive (DEF, ou une date sans type, ou un type FINESS de "
            "fin : DEF, ERR, NDI, CHP, EML) exclut toujours.\n\n"
            "**Données** : date et type de fermeture des établissements et des unités dans le "
            "ROR, et des établissements dans le référentiel FINESS de l'instantané ; quand les "
            "deux sources en ont une, la fermeture définitive l'emporte.\n\n"
            "**Limites** : une réouverture n'est connue que si la fermeture est retirée de "
            "la fiche ; une fermeture datée du jour de l'instantané compte déjà.",
        ),
        MethodNote(
            "presence",
            "Présence des mentions",
            "établissements",
            "**Définition** : pour chaque territoire et chaque mention, nombre d'établissements "
            "qui la proposent ; 0 signale une mention absente du territoire.\n\n"
            "**Formule** : nombre de FINESS EG distincts ayant une offre de la mention, par "
            "territoire ; « mentions présentes » = nombre de mentions dont ce nombre est "
            "positif.\n\n**Paramètres** : niveau de territoire et forme choisis.\n\n"
            f"**Données** : {_OFFER}.\n\n"
            "**Limites** : la présence ne dit rien de la capacité ni de l'accès depuis les "
            "territoires voisins.",
        ),
    )
}

def _register(*notes: MethodNote) -> None:
    """Add notes to ``NOTES``; an id registered twice is a mistake."""
    for n in notes:
        if n.id in NOTES:
            raise ValueError(f"note de méthode en double : « {n.id} »")
        NOTES[n.id] = n


# --------------------------------------------------- snapshot figures (home page, report)

_SNAPSHOT = "aucun ; l'instantané choisi (le plus récent par défaut)."

_register(
    MethodNote(
        "etablissements_smr",
        "Établissements SMR",
        "établissements",
        "**Définition** : entités géographiques (FINESS EG) ayant au moins une offre SMR décrite "
        "dans l'instantané.\n\n"
        "**Formule** : nombre de FINESS EG distincts parmi les unités qui portent au moins une "
        "ligne d'offres (mention × forme).\n\n"
        f"**Paramètres** : {_SNAPSHOT}\n\n"
        "**Données** : tables unites (rattachement au FINESS EG) et offres de l'instantané.\n\n"
        "**Limites** : un établissement autorisé dont les offres ne sont pas décrites dans le "
        "ROR n'est pas compté, ni un établissement sans offre. Un établissement hors de la "
        "région est compté s'il figure dans l'instantané.",
    ),
    MethodNote(
        "unites",
        "Unités",
        "unités",
        "**Définition** : unités opérationnelles (UO) du ROR décrites dans l'instantané.\n\n"
        "**Formule** : nombre d'identifiants uo_id de la table unites ; pour une mention ou un "
        "territoire, nombre d'unités distinctes ayant une offre de la mention.\n\n"
        f"**Paramètres** : {_SNAPSHOT}\n\n"
        "**Données** : tables unites et offres de l'instantané.\n\n"
        "**Limites** : une unité sans offre compte dans le total de l'instantané ; les unités "
        "ViaTrajectoire ne sont pas comptées ici (voir la synchronisation).",
    ),
    MethodNote(
        "lits",
        "Lits",
        "lits",
        "**Définition** : lits installés déclarés dans le ROR (hospitalisation complète et de "
        "semaine).\n\n"
        "**Formule** : Σ lits des offres (une valeur vide compte 0).\n\n"
        f"**Paramètres** : {_SNAPSHOT} Sur les pages Carte et Territoires, la mention et la "
        "forme choisies.\n\n"
        "**Données** : colonne lits de la table offres.\n\n"
        "**Limites** : capacité installée déclarée, ni autorisée ni disponible ce jour-là ; une "
        "capacité que l'établissement n'a pas déclarée dans le ROR manque.",
    ),
    MethodNote(
        "places",
        "Places",
        "places",
        "**Définition** : places installées déclarées dans le ROR (hospitalisation de jour et "
        "de nuit).\n\n"
        "**Formule** : Σ places des offres (une valeur vide compte 0).\n\n"
        f"**Paramètres** : {_SNAPSHOT} Sur les pages Carte et Territoires, la mention et la "
        "forme choisies.\n\n"
        "**Données** : colonne places de la table offres.\n\n"
        "**Limites** : une place accueille en général plusieurs patients par semaine : lits et "
        "places ne sont pas équivalents, leur somme est un ordre de grandeur de la capacité.",
    ),
    MethodNote(
        "capacite",
        "Lits + places",
        "lits et places",
        "**Définition** : capacité installée d'une mention : lits et places additionnés.\n\n"
        "**Formule** : Σ (lits + places) des offres de la mention (et de la forme choisie), "
        "valeurs vides comptées 0.\n\n"
        "**Paramètres** : mention et forme choisies.\n\n"
        f"**Données** : {_OFFER}.\n\n"
        "**Limites** : additionne des lits (patients présents jour et nuit) et des places "
        "(plusieurs patients par semaine) ; capacité déclarée dans le ROR, pas autorisée.",
    ),
    MethodNote(
        "capacite_par_mention",
        "Capacités par mention",
        "établissements, unités, lits, places",
        "**Définition** : pour chacune des 13 mentions SMR, les établissements, unités, lits et "
        "places qui la proposent.\n\n"
        "**Formule** : par mention, nombre de FINESS EG et d'unités distincts, Σ lits et "
        "Σ places de ses offres (toutes formes). Toutes les mentions figurent, à 0 quand aucune "
        "offre ne les porte.\n\n"
        f"**Paramètres** : {_SNAPSHOT}\n\n"
        "**Données** : tables offres et unites de l'instantané ; libellés de la nomenclature "
        "des mentions (analysis/model/nomenclature.py).\n\n"
        "**Limites** : un établissement ou une unité qui propose plusieurs mentions compte dans "
        "chacune : la somme des lignes dépasse le nombre d'établissements de l'instantané.",
    ),
    MethodNote(
        "lignes_lues",
        "Lignes lues",
        "lignes",
        "**Définition** : lignes de données lues dans les fichiers importés, par table.\n\n"
        "**Formule** : lignes lues = lignes conservées + lignes rejetées (vérifié à chaque "
        "import et inscrit dans le manifeste).\n\n"
        "**Paramètres** : format et options de l'import (correspondance de colonnes, filtres "
        "FINESS par région, département ou catégorie).\n\n"
        "**Données** : les fichiers importés ; les lignes hors filtre ne sont pas lues.\n\n"
        "**Limites** : une ligne d'en-tête ou de titre ne compte pas ; un fichier que le "
        "lecteur ne reconnaît pas n'est pas lu du tout (message d'erreur).",
    ),
    MethodNote(
        "lignes_conservees",
        "Lignes conservées",
        "lignes",
        "**Définition** : lignes lues qui passent les contrôles de rejet et entrent dans "
        "l'instantané (avec ou sans avertissement).\n\n"
        "**Formule** : lignes lues − lignes rejetées.\n\n"
        "**Paramètres** : les contrôles de analysis/io/validate.py.\n\n"
        "**Données** : les fichiers importés, contrôlés table par table (établissements, "
        "unités, offres, autorisations, unités et guichets ViaTrajectoire).\n\n"
        "**Limites** : conservée ne veut pas dire exacte : une valeur bien formée peut être "
        "fausse ; une valeur douteuse effacée laisse la ligne conservée avec un avertissement.",
    ),
    MethodNote(
        "lignes_rejetees",
        "Lignes rejetées",
        "lignes",
        "**Définition** : lignes des fichiers importés écartées par la validation, donc "
        "absentes des analyses.\n\n"
        "**Formule** : Σ des lignes rejetées de chaque table (manifeste de l'instantané ; sur "
        "la page Import, rapport de l'import en cours).\n\n"
        "**Paramètres** : les contrôles de analysis/io/validate.py (format FINESS, clés uniques, "
        "références UO → EG, offre → UO, VT → UO, codes connus, nombres positifs, âges, dates, "
        "coordonnées en France).\n\n"
        "**Données** : manifest.json et rejected.parquet de l'instantané (table, ligne, "
        "colonne, valeur, motif et ligne d'origine).\n\n"
        "**Limites** : compte des lignes, pas des établissements ; un rejet peut en entraîner "
        "d'autres (les offres d'une unité rejetée n'ont plus d'unité et sont rejetées à leur "
        "tour).",
        higher_is_better=False,
    ),
    MethodNote(
        "avertissements",
        "Avertissements de validation",
        "avertissements",
        "**Définition** : défauts mineurs relevés sur des lignes conservées (e-mail ou "
        "téléphone mal formé, date illisible effacée, colonne inconnue…).\n\n"
        "**Formule** : nombre d'avertissements de toutes les tables ; une ligne peut en porter "
        "plusieurs.\n\n"
        "**Paramètres** : les contrôles de analysis/io/validate.py et les remarques des lecteurs "
        "de formats (mentions déduites, lignes hors filtre…).\n\n"
        "**Données** : manifest.json et warnings.parquet de l'instantané.\n\n"
        "**Limites** : un avertissement ne retire rien des analyses, mais la valeur en cause "
        "peut manquer (effacée) dans les listes de la campagne.",
        higher_is_better=False,
    ),
)


# ----------------------------------------------------------- accessibility (report)

_register(
    MethodNote(
        "mediane_e2sfca",
        "Médiane régionale de l'accessibilité E2SFCA",
        "lits et places pour 100 000 hab.",
        "**Définition** : accessibilité potentielle E2SFCA de l'habitant médian de la région "
        "pour une mention : la moitié des habitants a une accessibilité inférieure ou égale.\n\n"
        "**Formule** : médiane des valeurs communales A_i (voir « Accessibilité potentielle "
        "(E2SFCA) ») pondérée par la population : plus petite valeur telle que les communes "
        "qui ont au plus cette valeur rassemblent au moins la moitié de la population.\n\n"
        f"**Paramètres** : poids par zone de temps {_zones_text()} ; {_MODEL}\n\n"
        f"**Données** : {_OFFER} ; {_SITES} ; {_POPULATION}.\n\n"
        "**Limites** : 0 quand plus de la moitié des habitants n'atteint aucun établissement "
        "de la mention ; mêmes effets de bord que l'E2SFCA (population et établissements hors "
        "région ignorés).",
    ),
)


# ---------------------------------------------------------------------- campaign

_CAMPAIGN_PARAMETERS = (
    "début de la campagne (défaut : la date campagne_debut du manifeste) : une fiche mise à "
    "jour (date de mise à jour) depuis ce jour, 00:00, compte comme vérifiée même si rien n'a "
    "changé ; sans date, les points « vérifiée » ne sont pas évalués. Heure de la "
    "synchronisation quotidienne ROR → ViaTrajectoire (défaut "
    f"{sync.DEFAULT_SYNC_TIME:%H:%M}). Mineurs : une unité accueillant des moins de 16 ans "
    "doit avoir une mention pédiatrique, des moins de 4 ans la mention ME061 ; l'exception "
    "des 16 ans et plus est admise ; la convention d'une unité « brûlés » qui accueille des "
    "mineurs n'étant pas connue des données, elle est présumée."
)
_CAMPAIGN_DATA = (
    "tables etablissements, unites, offres (mentions de chaque unité), autorisations "
    "(décisions SMR en vigueur), vt_unites, vt_guichets, habilitations (comptes ROR et "
    "habilitations ViaTrajectoire, si l'instantané les a) et finess_etablissements (nom "
    "officiel, si l'instantané l'a) ; statut de synchronisation de chaque unité ViaTrajectoire"
)
_CAMPAIGN_SEVERITY = (
    "Chaque point est *obligatoire* (compté dans les taux, les points à traiter et "
    "« à jour ») ou *conseillé* (montré, listé comme conseil, jamais compté contre "
    "l'établissement), selon le guide de la campagne : le surnom (« si nécessaire ») et le "
    "remplacement de « SSR » par « SMR » dans le nom d'une unité (« possibilité "
    "optionnelle ») sont conseillés ; la discipline et le type d'UO encore SSR seront "
    "modifiés automatiquement et ne sont pas demandés à l'établissement. Prérequis : un compte "
    "ROR Directeur ou Référent et une habilitation ViaTrajectoire Référent structure ou "
    "Référent unité valides à la date de l'instantané (fin de validité vide, ou ce jour ou "
    "après) ; évalués seulement quand l'instantané liste les comptes de l'outil. Habilitation "
    "du responsable des admissions : la plus tardive des fins de validité de vt_unites et de la "
    "table habilitations (rôle responsable des admissions de l'unité), évaluée quand "
    "l'instantané en donne au moins une ; absente : manquant ; passée : invalide."
)


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


def campaign_rules_note(rules: Sequence[checklist.Rule] = checklist.RULES) -> str:
    """The note text of the per-rule completion, listing ``rules`` (the checklist in use)."""
    return (
        "**Définition** : pour chaque point de contrôle, part des entités concernées "
        "(établissements, unités du ROR ou unités ViaTrajectoire) dont le point est *ok*. "
        "Sinon il est *manquant* (non renseigné) ou *invalide* (renseigné mais faux ou mal "
        "formé).\n\n"
        "**Formule** : taux = entités *ok* ÷ entités concernées par le point × 100, à chaque "
        "instantané pour les courbes d'avancement ; par département, statut ou établissement, "
        "les mêmes comptes sur le groupe.\n\n"
        f"**Paramètres** : {_CAMPAIGN_PARAMETERS} {_CAMPAIGN_SEVERITY} Points évalués :\n\n"
        f"{rules_markdown(rules)}\n\n"
        f"**Données** : {_CAMPAIGN_DATA}.\n\n"
        "**Limites** : les points vérifient la présence et la forme des valeurs, pas leur "
        "exactitude (un numéro bien formé peut être faux) ; un point sans entité concernée "
        "n'apparaît pas ; ce qui a été corrigé puis défait entre deux instantanés n'est pas vu."
    )


_register(
    MethodNote(
        "campagne_taux_regle",
        "Taux par point de contrôle",
        "% des entités",
        campaign_rules_note(),
    ),
    MethodNote(
        "campagne_taux_conformes",
        "Points conformes",
        "% des points",
        "**Définition** : part de tous les points *obligatoires* évalués (chaque point de "
        "contrôle sur chaque entité concernée) qui sont *ok* ; les points conseillés ne "
        "comptent pas.\n\n"
        "**Formule** : Σ points *ok* ÷ Σ points évalués × 100, toutes règles et toutes "
        "entités confondues ; par département, statut ou établissement, les mêmes sommes sur "
        "le groupe.\n\n"
        f"**Paramètres** : {_CAMPAIGN_PARAMETERS}\n\n"
        f"**Données** : {_CAMPAIGN_DATA}.\n\n"
        "**Limites** : chaque point pèse autant : un établissement qui a beaucoup d'unités "
        "pèse plus qu'un petit, et un e-mail d'alerte autant qu'un nom d'usage.",
    ),
    MethodNote(
        "campagne_points_a_traiter",
        "Points à traiter",
        "points",
        "**Définition** : points *obligatoires* *manquants* ou *invalides*, ceux que les listes "
        "envoyées aux établissements demandent de corriger (les points conseillés y figurent "
        "aussi, comme conseils, sans être comptés ici).\n\n"
        "**Formule** : nombre de points manquants + nombre de points invalides.\n\n"
        f"**Paramètres** : {_CAMPAIGN_PARAMETERS}\n\n"
        f"**Données** : {_CAMPAIGN_DATA}.\n\n"
        "**Limites** : un point compte une fois par entité : un même responsable absent de "
        "dix unités fait dix points.",
        higher_is_better=False,
    ),
    MethodNote(
        "campagne_etablissements_a_jour",
        "Établissements à jour",
        "établissements",
        "**Définition** : établissements dont tous les points *obligatoires* sont *ok* : ceux "
        "de l'établissement, de ses unités du ROR et de ses unités ViaTrajectoire (un point "
        "conseillé non fait n'empêche pas d'être à jour).\n\n"
        "**Formule** : nombre de FINESS EG sans point manquant ni invalide, rapporté au "
        "nombre de FINESS EG ayant au moins un point évalué.\n\n"
        f"**Paramètres** : {_CAMPAIGN_PARAMETERS}\n\n"
        f"**Données** : {_CAMPAIGN_DATA}.\n\n"
        "**Limites** : tout ou rien : un seul point à traiter suffit à ne pas compter "
        "l'établissement.",
    ),
    MethodNote(
        "campagne_changements",
        "Changements depuis l'instantané précédent",
        "points",
        "**Définition** : ce qui a changé entre l'instantané précédent et celui choisi : points "
        "corrigés, nouveaux manques, entités apparues ou disparues.\n\n"
        "**Formule** : comparaison des résultats (entité × point) des deux instantanés : "
        "*corrigé* = non ok → ok ; *nouveau manque* = ok → manquant ou invalide ; *motif "
        "changé* = manquant ↔ invalide ; *nouvelle entité* ou *entité disparue* = présente "
        "d'un seul côté.\n\n"
        "**Paramètres** : l'instantané précédent est le plus récent antérieur à celui choisi ; "
        "le même début de campagne vaut pour les deux.\n\n"
        f"**Données** : {_CAMPAIGN_DATA}, pour les deux instantanés.\n\n"
        "**Limites** : un point évalué d'un seul côté (règle ajoutée depuis) n'est pas un "
        "changement ; ce qui s'est passé entre les deux dates n'est pas vu.",
    ),
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


_register(
    MethodNote(
        "campagne_prerequis",
        "Prérequis : comptes et habilitations",
        "établissements",
        "**Définition** : établissements qui ne peuvent pas faire la campagne du tout, faute "
        "d'un compte ROR avec le rôle Directeur ou Référent valide, ou d'une habilitation "
        "ViaTrajectoire Référent structure ou Référent unité à une date de validité non "
        "expirée (premier prérequis du guide de la campagne) : ce sont les premiers à "
        "relancer, et les listes de points à traiter les mettent en tête.\n\n"
        "**Formule** : un établissement est bloqué quand le point `eg_compte_ror` ou "
        "`eg_compte_vt` n'est pas *ok* : aucun compte du rôle (*manquant*) ou tous expirés "
        "(*invalide*, avec la dernière fin de validité).\n\n"
        "**Paramètres** : date de l'instantané ; un compte est valide sans fin de validité ou "
        "avec une fin ce jour ou après. Comptes et habilitations se demandent au support "
        "utilisateurs, coordonnées de la région dans le bloc « Support ».\n\n"
        "**Données** : table habilitations de l'instantané (outil, rôle, FINESS EG, unité le "
        "cas échéant, fin de validité) ; un outil dont la table ne liste aucun compte n'est "
        "pas évalué.\n\n"
        "**Limites** : l'export des comptes doit être complet : un compte absent de la table "
        "compte comme manquant ; le rôle effectif dans l'outil n'est pas vérifié au-delà de "
        "ce que dit l'export.",
        higher_is_better=False,
    ),
    MethodNote(
        "campagne_prevision",
        "Prévision de la campagne",
        "date d'achèvement",
        "**Définition** : date à laquelle chaque phase du plan de campagne serait achevée "
        "(100 % des points obligatoires de la phase *ok*) si la tendance récente se "
        "poursuit, avec son incertitude, et établissements qui, à leur propre rythme, ne "
        "finiront pas la phase à l'échéance.\n\n"
        "**Formule** : taux de la phase à chaque instantané = Σ points ok ÷ Σ points des "
        "règles de la phase ; droite des moindres carrés taux = a + b·t sur les k derniers "
        "instantanés depuis le début de la phase (t en jours) ; achèvement projeté "
        "t* = t_dernier + (1 − ŷ(t_dernier)) ÷ b ; intervalle à 90 % : même calcul avec les "
        "bornes b ± t₀,₉₅(k − 2) · se(b), se(b) = √(Σ résidus² ÷ (k − 2) ÷ Σ (t − t̄)²) "
        "(pente la plus forte : date au plus tôt ; la plus faible : au plus tard ; pente ≤ 0 : "
        "non atteinte à ce rythme). Par établissement : points restants de la phase sur les "
        "mêmes instantanés, pente des moindres carrés (points corrigés par semaine), fin "
        "prévue = dernière date + restants ÷ rythme ; en retard quand il reste des points et "
        "que la fin prévue dépasse l'échéance ou n'arrive jamais.\n\n"
        f"**Paramètres** : k = 5 instantanés (`--fenetre`), niveau 90 % ; plan : {_plan_text()}. "
        "Échéances modifiables (`--echeance phase2=AAAA-MM-JJ`, réglage de la page).\n\n"
        f"**Données** : mêmes points que l'avancement ({_CAMPAIGN_DATA}), sur les derniers "
        "instantanés du magasin.\n\n"
        "**Limites** : une droite ne voit ni les relances à venir ni le ralentissement des "
        "derniers points (souvent les plus difficiles) ; l'intervalle ne couvre que l'incertitude "
        "de la pente sur k points, pas un changement de rythme ; une phase dont le nombre de "
        "points change (décisions SMR qui arrivent, unités créées) peut reculer sans que "
        "personne ne défasse rien ; à 2 instantanés, pas d'intervalle.",
    ),
)


# --------------------------------------------------------------- synchronisation

_SYNC_DATA = (
    "table unites du ROR (identifiant, nom, téléphone, âges, FINESS EG, responsable, date de "
    "mise à jour), table etablissements (nom, adresse, standard, date de mise à jour) et table "
    "vt_unites de ViaTrajectoire (identifiant ROR rattaché, synchronisation active, date de "
    "synchronisation de l'unité, mêmes champs quand l'export les contient)"
)


def _compared_fields() -> str:
    """« nom de l'unité, téléphone, …, FINESS EG » (acronyms keep their capitals)."""
    return ", ".join(
        f.label if f.label.split()[0].isupper() else f.label[:1].lower() + f.label[1:]
        for f in sync.COMPARED_FIELDS
    )


def sync_status_note(sync_time: dt.time = sync.DEFAULT_SYNC_TIME) -> str:
    """The note text of the synchronisation statuses, for a daily sync at ``sync_time``."""
    hour = sync_time.strftime("%H:%M")
    return (
        "**Définition** : statut de chaque unité ViaTrajectoire et de chaque unité du ROR "
        "qu'aucune unité ViaTrajectoire ne rattache. Une unité ViaTrajectoire est rattachée à "
        "l'unité du ROR dont elle porte l'identifiant.\n\n"
        "**Formule** : *synchronisée* (rattachée, synchronisation active, valeurs "
        "identiques) ; *en attente* (modification ROR de l'unité, ou de l'établissement pour "
        "ses seuls champs, postérieure à la dernière synchronisation) ; *désynchronisée* "
        "(synchronisation désactivée dans ViaTrajectoire ; ou *synchronisation en retard* : "
        "l'unité a été modifiée dans le ROR avant la dernière synchronisation mais la date de "
        "synchronisation que ViaTrajectoire donne pour l'unité est plus ancienne que cette "
        "modification, quels que soient les champs comparés, les deux dates sont citées ; ou "
        "une valeur diffère alors que la modification ROR est antérieure à la dernière "
        "synchronisation) ; *absente de ViaTrajectoire* (unité du ROR qu'aucune unité "
        "ViaTrajectoire ne rattache) ; *non rattachée au ROR* (unité ViaTrajectoire sans "
        "identifiant ROR, ou avec un identifiant inconnu du ROR). Les unités sont comptées par "
        "statut ; l'historique applique la même règle à chaque instantané.\n\n"
        f"**Paramètres** : synchronisation quotidienne à {hour} (heure du guide de campagne, "
        "réglable) : un instantané daté du jour J est extrait avant la synchronisation de J ; "
        f"la dernière synchronisation qu'il peut refléter est celle de J-1 à {hour} (une "
        f"modification à {hour} pile en fait partie). Champs comparés : "
        f"{_compared_fields()} (casse et espaces ignorés pour les noms et adresses, écriture "
        "du numéro ignorée pour les téléphones, casse pour les e-mails) ; les champs de "
        "l'établissement sont ceux de l'établissement ROR de l'unité.\n\n"
        f"**Données** : {_SYNC_DATA}.\n\n"
        "**Limites** : un champ vide pour toutes les unités ViaTrajectoire est considéré comme "
        "non extrait et n'est pas comparé ; l'heure réelle de chaque synchronisation n'est pas "
        "connue, seule l'heure réglée compte ; une date de synchronisation sans heure (00:00) "
        f"est lue comme la synchronisation de ce jour à {hour} ; une unité sans date de "
        "synchronisation n'est pas jugée en retard ; seule la date de mise à jour de l'unité "
        "sert au retard (pas celle de l'établissement)."
    )


_register(
    MethodNote(
        "sync_statuts",
        "Unités par statut de synchronisation",
        "unités",
        sync_status_note(),
    ),
    MethodNote(
        "sync_taux_synchronise",
        "Taux de synchronisation",
        "% des unités",
        "**Définition** : part des unités à jour dans ViaTrajectoire ou qui le seront à la "
        "prochaine synchronisation quotidienne.\n\n"
        "**Formule** : (synchronisées + en attente) ÷ toutes les unités × 100 ; toutes les "
        "unités = unités ViaTrajectoire + unités du ROR absentes de ViaTrajectoire.\n\n"
        f"**Paramètres** : heure de la synchronisation quotidienne (défaut "
        f"{sync.DEFAULT_SYNC_TIME:%H:%M}) ; champs comparés : {_compared_fields()}.\n\n"
        f"**Données** : {_SYNC_DATA}.\n\n"
        "**Limites** : une unité *en attente* est comptée comme synchronisée sans que l'on "
        "sache si la prochaine synchronisation réussira.",
    ),
    MethodNote(
        "sync_ecarts",
        "Écarts de valeurs ROR ↔ ViaTrajectoire",
        "champs",
        "**Définition** : pour chaque unité rattachée, les champs dont la valeur diffère entre "
        "le ROR et ViaTrajectoire, quel que soit son statut (y compris en attente, pour voir ce "
        "que la prochaine synchronisation doit apporter).\n\n"
        "**Formule** : comparaison champ par champ après normalisation (noms et adresses "
        "sans casse ni espaces multiples, téléphones sans leur écriture, e-mails sans casse) ; "
        "une valeur vide d'un seul côté est un écart.\n\n"
        f"**Paramètres** : champs comparés : {_compared_fields()}.\n\n"
        f"**Données** : {_SYNC_DATA}.\n\n"
        "**Limites** : seuls les champs présents dans les deux extractions sont comparés ; un "
        "écart ne dit pas lequel des deux répertoires a raison.",
        higher_is_better=False,
    ),
)


# --- SSR → SMR transition and scenarios (analysis.transition) -----------------------------

_TRANSITION_DATA = (
    "autorisations de l'instantané (régime SSR : activité 50–59, modalité, forme ; régime "
    "SMR : mention, forme ; dates de décision et de fin), offres du ROR rattachées à leur "
    "unité et à leur établissement, nom et discipline des unités"
)
_SCENARIO_FORMULA = (
    "le scénario (fichier YAML ou JSON, docs/scenarios/) est appliqué à une copie de "
    "l'instantané : offres ajoutées, retirées ou redimensionnées, nouveaux sites au point "
    "représentatif de leur commune ; les indicateurs sont recalculés à l'identique sur les "
    "deux versions, puis soustraits (scénario − situation actuelle) ; les écarts de moins "
    "de 10⁻⁹ (bruit d'arrondi) valent 0"
)


def _gap_types_text() -> str:
    return " ; ".join(
        f"*{label}* : {_GAP_RULES[code]}" for code, (label, _) in gaps.GAP_TYPES.items()
    )


_GAP_RULES = {
    "autorisee_non_decrite": "une décision SMR en vigueur, ou une autorisation SSR en vigueur "
    "dont la mention attendue n'a pas encore de décision SMR, sans aucune offre de la mention "
    "(ni d'aucune des mentions possibles) dans le ROR",
    "decrite_non_autorisee": "une offre du ROR dont la mention n'a ni décision SMR ni "
    "autorisation SSR en attente de décision",
    "ssr_sans_decision_smr": "une autorisation SSR en vigueur dont aucune mention attendue n'a "
    "de décision SMR dans l'établissement",
    "unite_libellee_ssr": "unité dont le nom contient « SSR » ou « soins de suite », une "
    "ligne par mention de ses offres (renommage facultatif, conseillé par le guide de la "
    "campagne)",
    "migration_automatique": "unité de discipline SSR, une ligne par mention de ses offres ; "
    "le guide annonce la modification automatique de la discipline et du type d'UO : action "
    "de l'équipe régionale du ROR, montrée à part, pas de l'établissement",
    "correspondance_inconnue": "autorisation SSR qu'aucune règle de la table ne couvre",
}

_register(
    MethodNote(
        "ecarts_transition",
        "Écarts de la transition SSR → SMR",
        "établissement × mention",
        "**Définition** : ce qui reste à faire pour que chaque établissement passe de ses "
        "autorisations SSR aux mentions SMR et que le ROR décrive ce pour quoi il est "
        "autorisé ; une ligne par établissement × mention × type d'écart.\n\n"
        f"**Formule** : {_gap_types_text()}.\n\n"
        "**Paramètres** : date de l'instantané (seules comptent les autorisations sans date de "
        "fin ou finissant ce jour-là ou après ; la forme 05, hospitalisation à domicile, est "
        "hors SMR) ; table de correspondance SSR → SMR (proposée par défaut, remplaçable par "
        "un fichier).\n\n"
        f"**Données** : {_TRANSITION_DATA}.\n\n"
        "**Limites** : la correspondance n'est pas officielle ; une mention attendue ambiguë "
        "(oncologie ou oncologie et hématologie) est satisfaite par l'une ou l'autre ; les "
        "tranches d'âge pédiatriques sont approchées (6 ans avant, 4 ans après la réforme) et "
        "la comparaison est faite code à code (une offre ME060 ne satisfait pas une "
        "autorisation ME061) ; une décision SMR compte dès qu'elle figure dans l'instantané, "
        "même avant sa mise en œuvre.",
        higher_is_better=False,
    ),
    MethodNote(
        "correspondance_ssr_smr",
        "Correspondance SSR → SMR",
        "autorisations",
        "**Définition** : mention(s) SMR attendue(s) pour chaque autorisation SSR (activité "
        "50–59, modalité d'âge, forme), d'après la table proposée (DOMAIN.md §1.6).\n\n"
        "**Formule** : la règle la plus précise l'emporte (activité et modalité, puis modalité "
        "seule, puis activité seule) ; plusieurs règles de même clé donnent plusieurs mentions "
        "attendues (modalité 76 adulte et pédiatrique : la mention adulte et ME061) ; des "
        "mentions séparées par « | » sont des possibilités entre lesquelles la décision SMR "
        "tranche. Statuts : "
        + " ; ".join(f"*{v}*" for v in correspondence.MAPPING_STATUSES.values())
        + ".\n\n**Paramètres** : la table (fichier CSV ou YAML activite, modalite, mentions, "
        "voir docs/scenarios/README.md) ; une modalité vide vaut 00.\n\n"
        f"**Données** : {_TRANSITION_DATA}.\n\n"
        "**Limites** : correspondance déduite des libellés, non officielle : les pédiatries "
        "« juvénile » (6–17 ans) deviennent ME060 (4 ans et plus), les autres ME061 ; une "
        "spécialité (locomoteur…) en pédiatrie n'a pas de mention propre et donne la mention "
        "pédiatrique ; l'activité 56 reste à préciser.",
    ),
    MethodNote(
        "delta_temps_plus_proche",
        "Écart de temps au plus proche (scénario − actuel)",
        "minutes",
        "**Définition** : variation du temps de trajet vers l'établissement le plus proche "
        "offrant la mention ; négatif = plus proche.\n\n"
        f"**Formule** : {_SCENARIO_FORMULA} ; pour un territoire, différence des moyennes "
        "pondérées par la population (communes sans établissement accessible exclues).\n\n"
        f"**Paramètres** : {_MODEL}\n\n"
        f"**Données** : {_SITES} ; {_OFFER}.\n\n"
        "**Limites** : vide pour une commune sans établissement accessible d'un côté ou de "
        f"l'autre (voir la population qui gagne ou perd l'accès). {_POINTS}",
        higher_is_better=False,
    ),
    MethodNote(
        "delta_acces_e2sfca",
        "Écart d'accessibilité potentielle E2SFCA (scénario − actuel)",
        "lits et places pour 100 000 hab.",
        "**Définition** : variation de l'accessibilité potentielle E2SFCA de la commune "
        "(offre accessible compte tenu de la concurrence des autres habitants).\n\n"
        f"**Formule** : {_SCENARIO_FORMULA} ; E2SFCA comme sur la page Carte. Un site ajouté "
        "ou retiré ne modifie que les communes situées dans sa zone d'attraction.\n\n"
        f"**Paramètres** : poids par zone de temps {_zones_text()} ; zone d'attraction "
        f"modifiable. {_MODEL}\n\n"
        f"**Données** : {_SITES} ; {_OFFER} ; {_POPULATION}.\n\n"
        "**Limites** : mêmes effets de bord que l'indicateur E2SFCA ; une capacité nulle ne "
        "compte pas ; avec un fichier de temps, un nouveau site absent du fichier est "
        "inaccessible.",
    ),
    MethodNote(
        "delta_taux_100k",
        "Écart de lits et places pour 100 000 habitants (scénario − actuel)",
        "lits et places pour 100 000 hab.",
        "**Définition** : variation de la capacité du territoire rapportée à sa population.\n\n"
        f"**Formule** : {_SCENARIO_FORMULA} ; taux = (lits + places) ÷ population × 100 000.\n\n"
        "**Paramètres** : population de référence (ou par âge pour la pédiatrie et la "
        "gériatrie si un fichier est fourni).\n\n"
        f"**Données** : {_OFFER} ; {_POPULATION}.\n\n"
        "**Limites** : un déplacement de capacité d'une commune à l'autre du même territoire ne "
        "change pas son taux ; voir l'accessibilité.",
    ),
    *(
        MethodNote(
            ident,
            label,
            "habitants",
            "**Définition** : habitants des communes dont l'établissement le plus proche "
            f"offrant la mention {what} : {detail}.\n\n"
            f"**Formule** : {_SCENARIO_FORMULA} ; une commune {rule} ; somme des populations "
            "de ces communes.\n\n"
            "**Paramètres** : seuil en minutes (défaut 30, borne incluse, celui de la page "
            f"Carte). {_MODEL}\n\n"
            f"**Données** : {_SITES} ; {_OFFER} ; {_POPULATION}.\n\n"
            f"**Limites** : {_POINTS} Un établissement atteint ne dit rien de sa capacité "
            "(voir l'accessibilité E2SFCA).",
            higher_is_better=better,
        )
        for ident, label, what, detail, rule, better in (
            (
                "population_gagnant",
                "Population qui gagne un établissement à moins du seuil",
                "passe sous le seuil",
                "au-delà du seuil (ou inaccessible) aujourd'hui, en deçà avec le scénario",
                "gagne quand son plus proche passe de plus du seuil (ou aucun) à au plus le "
                "seuil",
                True,
            ),
            (
                "population_perdant",
                "Population qui perd son établissement à moins du seuil",
                "passe au-delà du seuil",
                "à moins du seuil aujourd'hui, au-delà (ou inaccessible) avec le scénario",
                "perd quand son plus proche passe d'au plus le seuil à plus du seuil (ou aucun)",
                False,
            ),
        )
    ),
)


# --- ROR quality requirements, population follow-up, ViaTrajectoire report (analysis.checks.quality)

_Q = requirements.QualityParams()
_Q_SOURCE = (
    "règles des vues de l'ANS (dépôt ansforge/ROR-indicateurs-BI-SQL) résumées dans "
    "ROR_QUALITY.md ; le détail des choix d'interprétation est en tête de analysis/checks/quality/requirements.py"
)
_Q_TABLE = (
    "Le tableau compte par exigence et par département le **périmètre** (entités concernées : "
    "conformes + écarts) et les **écarts** ; taux = conformes ÷ périmètre × 100, comme le "
    "tableau hebdomadaire national (V_IND_QualiteROR) ; une entité hors du périmètre est "
    "« non applicable » et n'est pas comptée"
)
_Q_DATES = (
    "date de l'instantané (date de chargement des vues nationales) ; comme dans les vues "
    "nationales, une date de fermeture renseignée vaut fermeture et une date d'ouverture "
    "renseignée vaut ouverture, même postérieures à l'instantané (réglage "
    "`future_dates_pending` : une date future est une fermeture ou ouverture prévue)"
)
_Q_PERIMETER = (
    "établissements FINESS ouverts (date d'ouverture renseignée, sans date de fermeture, "
    "non caducs, hors département 975), de catégorie du domaine sanitaire, titulaires d'au "
    "moins une autorisation SMR : activité 50 à 59 de forme renseignée autre que 05 (l'HAD "
    "est comptée en MCO par l'ANS) ou mention SMR hors HAD, finissant le 01/05/2021 ou "
    "après ; comme dans la vue nationale, une autorisation sans date de fin ou sans forme ne "
    "compte pas (réglages `count_open_ended_authorisations`, `count_formless_authorisations` "
    ": elle compte) ; les lignes d'autorisation de l'instantané décident, le nombre compté à "
    "l'import du référentiel FINESS ne sert qu'aux établissements sans ligne ; restreint aux "
    "départements de la région étudiée"
)
_Q_READINGS = (
    "les écarts à la vue nationale, leurs réglages et les lignes SQL en cause sont listés "
    "dans docs/ecarts_vue_nationale.md"
)
_Q_ROR_EG = (
    "table etablissements de l'instantané (FINESS EG, EJ, catégorie, identifiant national de "
    "structure, date et type de fermeture, commune)"
)
_Q_FINESS = (
    "référentiel FINESS (table finess_etablissements de l'instantané, ou fichier donné à la "
    "place : extraction etalab et flux « Activités ») : EJ, catégorie, dates d'ouverture et "
    "de fermeture, type de fermeture, caducité, nombre d'autorisations SMR"
)

_register(
    MethodNote(
        "EX1.2",
        "EX1.2 — Établissement FINESS présent dans le ROR",
        "% des établissements FINESS du périmètre",
        "**Définition** : exigence nationale : chaque établissement FINESS du périmètre SMR "
        "existe dans le ROR (une entité géographique porte son numéro FINESS).\n\n"
        f"**Formule** : écart si aucun EG du ROR n'a ce numéro. {_Q_TABLE}. Département : "
        "celui de la commune FINESS.\n\n"
        f"**Paramètres** : périmètre : {_Q_PERIMETER} ; {_Q_DATES} ; {_Q_READINGS}.\n\n"
        f"**Données** : {_Q_FINESS} ; table autorisations ; {_Q_ROR_EG} ; {_Q_SOURCE}.\n\n"
        "**Limites** : l'exigence nationale couvre aussi les établissements MCO, PSY et "
        "médico-sociaux, hors du champ de l'atelier. Sans le flux « Activités », les "
        "autorisations d'un établissement absent du ROR ne sont pas connues : il n'entre pas "
        "dans le périmètre. Sans référentiel FINESS l'exigence n'est pas évaluée.",
    ),
    MethodNote(
        "EX2",
        "EX2 — État ouvert / fermé conforme à FINESS",
        "% des établissements du ROR",
        "**Définition** : exigence nationale : l'état d'un établissement du ROR (ouvert, "
        "fermé provisoirement, fermé définitivement) correspond à celui de FINESS.\n\n"
        "**Formule** : les cinq cas de la vue nationale, dans son ordre : écart quand le "
        "numéro FINESS est inconnu alors que l'EG est ouvert dans le ROR ; quand FINESS est "
        "fermé ou caduc et le ROR ouvert ; quand FINESS n'a pas de date de fermeture et le ROR "
        "est fermé (y compris un numéro absent de FINESS et un établissement caduc sans date "
        "de fermeture) ; quand FINESS est fermé provisoirement (PRO) et que le type ROR est "
        "renseigné et autre que PRO, ou définitivement (DEF) et le type ROR renseigné et autre "
        "que DEF (une fermeture ROR sans type n'est jamais en écart de type : « <> » avec NULL "
        f"n'est pas vrai). {_Q_TABLE}.\n\n"
        f"**Paramètres** : {_Q_DATES} ; lectures de l'atelier, désactivées par défaut : "
        "`ex2_closed_absent_conforme` (fermé dans le ROR et absent de FINESS : conforme), "
        "`ex2_caduc_closed_conforme` (caduc dans FINESS et fermé dans le ROR : conforme), "
        "`ex2_untyped_closure_definitive` (une fermeture ROR sans type est définitive, en "
        f"écart face à une fermeture provisoire FINESS) ; {_Q_READINGS}.\n\n"
        f"**Données** : {_Q_ROR_EG} ; {_Q_FINESS} ; {_Q_SOURCE}.\n\n"
        "**Limites** : l'extraction FINESS publique ne liste que les établissements en "
        "activité et ne donne ni date ni type de fermeture : un EG fermé dans le ROR et absent "
        "de cette extraction est en écart comme dans la vue nationale (qui lit tout FINESS), "
        "ce qui peut ne refléter que la limite de l'extraction. Sans référentiel FINESS "
        "l'exigence n'est pas évaluée.",
    ),
    MethodNote(
        "ST2",
        "ST2 — Entité juridique conforme à FINESS",
        "% des établissements du ROR",
        "**Définition** : exigence nationale : le numéro FINESS de l'entité juridique de "
        "rattachement d'un établissement du ROR est celui de FINESS (nmfinessej).\n\n"
        "**Formule** : écart quand l'EJ du ROR est vide ou différente de l'EJ FINESS, ou "
        f"quand l'EG est absent du référentiel FINESS. {_Q_TABLE}.\n\n"
        "**Paramètres** : périmètre : EG du ROR ouverts ou fermés provisoirement ; "
        f"{_Q_DATES}.\n\n"
        f"**Données** : {_Q_ROR_EG} ; {_Q_FINESS} ; {_Q_SOURCE}.\n\n"
        "**Limites** : seul le numéro est comparé, pas la raison sociale ; sans référentiel "
        "FINESS l'exigence n'est pas évaluée.",
    ),
    MethodNote(
        "CO4",
        "CO4 — Catégorie d'établissement conforme à FINESS",
        "% des établissements du ROR",
        "**Définition** : exigence nationale : la catégorie d'établissement du ROR (J55) est "
        "celle de FINESS (categetab) ; c'est la seule anomalie que l'ANS renvoie au ROR.\n\n"
        "**Formule** : écart quand les catégories diffèrent (une catégorie vide d'un côté "
        "diffère) ou quand l'EG est absent du référentiel FINESS ; non applicable aux "
        f"catégories SA05, SA07, SA08, SA09. {_Q_TABLE}.\n\n"
        "**Paramètres** : périmètre : EG du ROR ouverts ou fermés provisoirement ; "
        f"{_Q_DATES}.\n\n"
        f"**Données** : {_Q_ROR_EG} ; {_Q_FINESS} ; {_Q_SOURCE}.\n\n"
        "**Limites** : une catégorie FINESS erronée apparaît aussi comme un écart du ROR ; "
        "sans référentiel FINESS l'exigence n'est pas évaluée.",
    ),
    MethodNote(
        "ST3",
        "ST3 — Identifiant national de structure unique",
        "% des établissements ouverts du ROR",
        "**Définition** : exigence nationale : l'identifiant national de structure "
        "(IdNat_Struct) d'un établissement ouvert n'est porté par aucun autre dans la "
        "région.\n\n"
        "**Formule** : écart quand l'identifiant apparaît plus d'une fois parmi les EG "
        "ouverts de l'instantané de catégorie renseignée hors SA05 à SA09 ; les autres "
        "porteurs sont cités. Comme dans la vue nationale (« PARTITION BY IdNat_Struct »), les "
        "EG sans identifiant forment un même groupe : en écart dès qu'ils sont deux ; un EG "
        f"sans catégorie est hors périmètre. {_Q_TABLE}.\n\n"
        "**Paramètres** : un instantané est l'extraction d'une région : le décompte se fait "
        f"sur l'instantané ; {_Q_DATES} ; lectures de l'atelier, désactivées par défaut : "
        "`st3_missing_identifier_not_applicable` (un EG sans identifiant est non applicable), "
        "`st3_missing_category_in_scope` (un EG sans catégorie est dans le périmètre) ; "
        f"{_Q_READINGS}.\n\n"
        f"**Données** : {_Q_ROR_EG} ; {_Q_SOURCE}.\n\n"
        "**Limites** : les entités juridiques, comptées par l'ANS, ne sont pas dans "
        "l'extraction ; si aucun EG de l'instantané n'a d'identifiant (colonne non extraite), "
        "l'exigence est non applicable partout plutôt que tout en doublon.",
    ),
    MethodNote(
        "RE1.2",
        "RE1.2 — Offres mises à jour depuis moins d'un an",
        "% des établissements ouverts du ROR",
        "**Définition** : exigence nationale : un établissement ouvert tient ses offres à "
        "jour.\n\n"
        "**Formule** : toutes les offres non fermées de l'établissement comptent, quel que "
        "soit leur champ, comme dans la vue nationale ; fraîcheur d'une offre (unité) = la plus "
        "récente de sa date de mise à jour et de celle de ses contacts ; à jour si strictement "
        "postérieure à la date de l'instantané moins un an (00:00). Conforme sans offre ; sous "
        f"{_Q.re12_min_offers} offres, avec au moins une offre à jour ; à partir de "
        f"{_Q.re12_min_offers}, si la part d'offres à jour arrondie au centième (arrondi "
        f"au plus proche, 0,245 → 0,25) atteint {_Q.re12_min_share_pct} %. {_Q_TABLE}.\n\n"
        f"**Paramètres** : seuil {_Q.re12_min_offers} offres, part {_Q.re12_min_share_pct} %, "
        f"fenêtre {_Q.re12_window_years} an (valeurs nationales) ; offres des unités non "
        f"fermées ; {_Q_DATES} ; lecture de l'atelier, désactivée par défaut : "
        "`re12_smr_offers_only` (seules les offres SMR, champ 02 ou sans champ, comptent) ; "
        f"{_Q_READINGS}.\n\n"
        "**Données** : tables etablissements (état) et unites (date_maj, date_maj_contacts, "
        f"champ, fermeture) de l'instantané ; {_Q_SOURCE}.\n\n"
        "**Limites** : l'ANS compte toutes les offres de l'établissement dans le ROR ; "
        "l'atelier compte celles de l'extraction, qui n'en contient souvent que les offres SMR "
        "(la page Qualité ROR dit combien d'offres hors SMR elle contient) ; les contacts lus "
        "en FHIR n'ont pas de date propre (seule la date de l'offre compte alors).",
    ),
    MethodNote(
        "CP4",
        "CP4 — Peuplement SMR finalisé",
        "% des établissements du périmètre",
        "**Définition** : exigence nationale : chaque établissement du périmètre SMR a un "
        "peuplement « Finalisé » (voir « Statut de peuplement »).\n\n"
        "**Formule** : une ligne par établissement du périmètre × champ SMR ; écart si son "
        f"statut n'est pas Finalisé. {_Q_TABLE}. Département : celui de la commune FINESS.\n\n"
        f"**Paramètres** : périmètre : {_Q_PERIMETER} ; {_Q_DATES} ; {_Q_READINGS}.\n\n"
        f"**Données** : {_Q_FINESS} ; tables autorisations, etablissements, unites, offres ; "
        f"{_Q_SOURCE}.\n\n"
        "**Limites** : sans référentiel FINESS, le périmètre est approché par les EG ouverts "
        "du ROR titulaires d'une autorisation SMR (un établissement absent du ROR n'y est "
        "alors pas).",
    ),
    MethodNote(
        "LOC-CAPACITE",
        "Règle locale — Capacité déclarée (hospitalisation complète et de jour)",
        "% des unités concernées",
        "**Définition** : règle de l'atelier (pas une exigence nationale) : une unité en "
        "hospitalisation complète ou de jour déclare une capacité installée supérieure à "
        "zéro sur chacune de ces offres.\n\n"
        "**Formule** : écart si une offre HC (lits) ou HJ (places) de l'unité a une capacité "
        "nulle ou vide (les offres en cause sont citées) ; non applicable à une unité fermée "
        "ou sans offre HC ni HJ. Taux = unités conformes ÷ unités concernées.\n\n"
        f"**Paramètres** : formes contrôlées {', '.join(_Q.capacity_formes)} (modes de prise "
        f"en charge 28 et 29) ; {_Q_DATES}.\n\n"
        "**Données** : tables unites et offres (lits, places) de l'instantané.\n\n"
        "**Limites** : capacité déclarée, pas vérifiée ; inspirée de l'exigence médico-sociale "
        "CP6 (places installées > 0).",
    ),
    MethodNote(
        "LOC-AUTORISATION",
        "Règle locale — Mention autorisée décrite dans le ROR",
        "% des mentions autorisées",
        "**Définition** : règle de l'atelier : chaque mention SMR autorisée à un établissement "
        "est décrite par au moins une offre de cette mention dans le ROR.\n\n"
        "**Formule** : une ligne par établissement × mention autorisée (nouveau régime, hors "
        "HAD) ; écart si aucune unité non fermée de l'établissement n'a d'offre de la "
        "mention ; non applicable si l'autorisation n'est pas en vigueur à la date de "
        "l'instantané (mise en œuvre future ou échue) ou si l'établissement est fermé dans le "
        "ROR. Taux = mentions décrites ÷ mentions autorisées en vigueur.\n\n"
        f"**Paramètres** : {_Q_DATES}.\n\n"
        "**Données** : tables autorisations, unites et offres de l'instantané.\n\n"
        "**Limites** : la forme (complète, de jour) n'est pas comparée ; les autorisations de "
        "l'ancien régime (activités 50 à 59) ne sont pas contrôlées (leur mention est une "
        "proposition de correspondance).",
    ),
    MethodNote(
        "peuplement_statut",
        "Statut de peuplement SMR (suivi du peuplement)",
        "établissements du périmètre",
        "**Définition** : avancement de la description des offres SMR de chaque établissement "
        "du périmètre, comme le suivi national du peuplement du ROR.\n\n"
        "**Formule** : indicateurs par offre (unité non fermée) : champ d'activité valide "
        "(TRE_R227), mode de prise en charge (au moins une ligne d'offre, dont la forme porte "
        "le code NOS), patientèle (âges minimum et maximum), activité opérationnelle SMR "
        "valide (TRE_R211, code en vigueur), adresse (voie, code postal et commune de "
        "l'établissement), contact (téléphone de l'unité, ou responsable nommé avec un "
        "téléphone ou un e-mail). Offre *Finalisée* si tous sont remplis, *En cours* si au "
        "moins un, *À faire* sinon. Établissement : *Finalisé* s'il a au moins une offre et "
        "toutes finalisées ; *En cours* si au moins une offre est en cours ; *À faire* sinon "
        "(règle nationale : des offres finalisées et d'autres à faire, sans offre en cours, "
        "donnent À faire). Seules comptent les offres de champ 02 ou sans champ.\n\n"
        f"**Paramètres** : périmètre : {_Q_PERIMETER} ; {_Q_DATES} ; {_Q_READINGS}.\n\n"
        f"**Données** : {_Q_FINESS} ; tables autorisations, etablissements, unites, offres ; "
        f"{_Q_SOURCE}.\n\n"
        "**Limites** : l'extraction n'a pas d'adresse par unité (celle de l'établissement est "
        "prise), ni la fonction et le niveau de confidentialité des contacts.",
    ),
    MethodNote(
        "peuplement_trimestriel",
        "Suivi trimestriel du peuplement SMR",
        "établissements du périmètre",
        "**Définition** : historique trimestriel du statut de peuplement, comme l'indicateur "
        "national (date de référence : dernier jour du trimestre).\n\n"
        "**Formule** : pour chaque trimestre contenant un instantané, les comptes "
        "(périmètre, finalisés, en cours, à faire) du dernier instantané du trimestre ; taux "
        "de finalisation = finalisés ÷ périmètre × 100.\n\n"
        "**Paramètres** : le trimestre du dernier instantané est signalé *en cours* tant "
        "qu'il n'est pas terminé à cette date.\n\n"
        f"**Données** : tous les instantanés du magasin ; {_Q_FINESS} de chacun.\n\n"
        "**Limites** : un trimestre sans instantané n'a pas de point ; le chiffre d'un "
        "trimestre dépend de la date du dernier instantané qu'il contient.",
    ),
    MethodNote(
        "synchro_vt_taux",
        "Taux de synchronisation ROR → ViaTrajectoire (règle nationale)",
        "% des établissements du rapport",
        "**Définition** : part des établissements du rapport de synchronisation de "
        "ViaTrajectoire dont l'offre est synchronisée avec le ROR, calculée comme l'ANS.\n\n"
        "**Formule** : taux = numéros FINESS distincts ayant une ligne « Mise à jour de "
        "l'offre active » (le seul état compté comme synchronisé ; casse, accents et forme de "
        "l'apostrophe ignorés) ÷ numéros FINESS distincts du rapport, après exclusion des "
        "fermetures définitives (« Fermeture Définitive » dans ViaTrajectoire, types DEF, "
        "ERR, NDI, CHP, EML dans FINESS), des catégories dont la synchronisation n'est pas "
        "suivie et des catégories domicile 209 et 460 (suivies à part) ; avec un référentiel "
        "FINESS, les numéros qu'il ne connaît pas sont écartés.\n\n"
        "**Paramètres** : domaine ViaTrajectoire « Sanitaire » (celui du SMR) ; départements "
        "de la région étudiée ; département d'après la commune FINESS (sinon le numéro).\n\n"
        "**Données** : le fichier que ViaTrajectoire transmet à l'ANS (Finess, "
        "NomEtablissement, CodeRegion, Domaine, EtatVT, EtatSynchronisationROR, "
        f"DateSynchronisation) ; {_Q_FINESS}.\n\n"
        "**Limites** : chiffre par établissement, sans le détail des unités ; les états "
        "autres que « Mise à jour de l'offre active » ne sont pas distingués.",
    ),
    MethodNote(
        "synchro_vt_concordance",
        "Rapport ViaTrajectoire et statuts des unités",
        "établissements",
        "**Définition** : pour chaque établissement, l'état national de synchronisation "
        "(rapport ViaTrajectoire) à côté des statuts de ses unités calculés par l'atelier "
        "(page Synchronisation).\n\n"
        "**Formule** : *concordant* quand l'établissement est synchronisé selon "
        "ViaTrajectoire et qu'aucune unité n'est désynchronisée, absente de ViaTrajectoire "
        "ou non rattachée, ou quand il ne l'est pas et qu'au moins une unité est en écart ; "
        "sinon la discordance est décrite. Taux des unités = (synchronisées + en attente) ÷ "
        "unités.\n\n"
        "**Paramètres** : heure de la synchronisation quotidienne (défaut "
        f"{sync.DEFAULT_SYNC_TIME:%H:%M}) ; domaine « Sanitaire ».\n\n"
        f"**Données** : le rapport ViaTrajectoire ; {_SYNC_DATA}.\n\n"
        "**Limites** : les deux sources n'ont pas la même date : le rapport reflète la "
        "dernière synchronisation qu'il cite, l'instantané son jour d'extraction.",
    ),
)


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


# --- implantation targets by zone, OQOS (analysis.transition.oqos) -------------------------


def oqos_note(zoning: str | None = None, date: dt.date | None = None) -> str:
    """The OQOS method note; ``zoning`` (``OqosInputs.zoning_caption``) and ``date`` fill in
    the zoning and the date in use (the page's note), else the generic wording (registry)."""
    when = f"le {date:%d/%m/%Y}" if date else "à la date de l'instantané choisi"
    zoned = zoning or (
        "Zonage : le fichier de zonage donné (ou enregistré pour le magasin), sinon les "
        "départements de la région (zonage par défaut, dit partout où il sert)."
    )
    return (
        "**Définition** : une *implantation* est un site (établissement, FINESS EG) placé dans "
        "la zone de sa commune. Pour chaque objectif (zone × mention × forme) : implantations "
        f"*autorisées*, *décrites* dans le ROR et *demandées* {when}, et leur place face aux "
        "bornes du schéma régional de santé (objectifs quantifiés de l'offre de soins).\n\n"
        "**Formule** : *autorisées* = sites distincts titulaires d'une autorisation SMR de la "
        "mention en vigueur (régime SMR, hors forme 05 HAD, sans date de fin ou finissant ce "
        "jour-là ou après), établissement ouvert ; *décrites* = sites ouverts ayant une offre "
        "de la mention sur une unité ouverte ; *demandées* = sites (ou demandes sans FINESS) "
        "ayant une demande déposée au plus tard ce jour-là et non décidée ce jour-là ; "
        f"statut sur les autorisées : *{oqos.STATUSES[oqos.SOUS]}* sous le minimum, "
        f"*{oqos.STATUSES[oqos.AU_DESSUS]}* au-delà du maximum, sinon "
        f"*{oqos.STATUSES[oqos.DANS]}* (une borne atteinte est dans la cible, une borne "
        "vide n'en est pas une) ; marge = maximum − autorisées (« encore 2 implantations "
        "possibles »).\n\n"
        f"**Paramètres** : {zoned} Formes : {oqos.OqosParams().describe()}. Offre ouverte "
        "(fermetures définitives exclues, provisoires selon la case « Inclure les fermetures "
        "provisoires »).\n\n"
        "**Données** : autorisations, établissements (commune), unités et offres de "
        "l'instantané ; fichier des objectifs (zone, mention, forme, min, max) ; fichier de "
        "zonage (commune → zone) ; fichier facultatif des demandes d'autorisation (les "
        "tables de l'instantané ne portent que des décisions). Format : docs/oqos.md.\n\n"
        "**Limites** : une autorisation sans forme ne compte que pour « toutes » ; la "
        "correspondance des formes (HC, HJ) est une lecture de l'atelier ; une décision SMR "
        "compte dès qu'elle figure dans l'instantané ; une autorisation SSR en attente de "
        "décision SMR n'est pas comptée (voir les écarts de la transition, listés sous chaque "
        "case, par mention et toutes formes) ; sans fichier de demandes, la colonne des "
        "demandes est vide ; un établissement dont la commune n'est dans aucune zone n'est "
        "pas compté (signalé)."
    )


_register(
    MethodNote(
        "oqos_implantations",
        "Implantations face aux objectifs (OQOS)",
        "implantations",
        oqos_note(),
    ),
)
