"""One text folding for the whole package (analysis.model.text), checked on hand-worked
cases from each place that used to fold in its own way."""

from __future__ import annotations

import pytest

from analysis.model import nomenclature
from analysis.model.text import fold, fold_key, strip_accents


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Réadaptation", "Readaptation"),
        ("Œuvre", "Œuvre"),  # a ligature letter, not an accent: kept
        ("ﬁnance", "finance"),  # compatibility ligature decomposed
        ("Mayenne", "Mayenne"),
    ],
)
def test_strip_accents(text: str, expected: str) -> None:
    assert strip_accents(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # mention and forme labels (nomenclature): hyphens read as spaces, case and accents off
        ("  Onco-Hématologie ", "onco hematologie"),
        ("Soins médicaux et de réadaptation", "soins medicaux et de readaptation"),
        ("SOINS   MEDICAUX\tET DE READAPTATION", "soins medicaux et de readaptation"),
        ("Privé non-lucratif", "prive non lucratif"),
        # ViaTrajectoire states (quality): the typographic apostrophe is the straight one
        ("Mise à jour de l’offre active", "mise a jour de l'offre active"),
        ("Mise à jour de l`offre active", "mise a jour de l'offre active"),
        ("Mise à jour de l‘offre active", "mise a jour de l'offre active"),
        ("Fermeture Définitive", "fermeture definitive"),
        # mapped files' values and column names
        ("Non synchronisée", "non synchronisee"),
        ("Date d’ouverture", "date d'ouverture"),
        # demo names (e-mail and domain parts are built from this)
        ("Évreux", "evreux"),
        ("Saint-Étienne-du-Rouvray", "saint etienne du rouvray"),
        # nothing to fold
        ("", ""),
        (None, ""),
    ],
)
def test_fold(text: object, expected: str) -> None:
    assert fold(text) == expected


def test_fold_matches_each_former_caller() -> None:
    """What each former caller compared still compares equal (or better)."""
    # nomenclature: labels written with or without hyphen, accents, curly apostrophes
    assert nomenclature.mention_code("onco-hématologie") == nomenclature.mention_code(
        "Onco hematologie"
    )
    assert nomenclature.statut_from_legal_status(label="Privé non-lucratif") == (
        "prive_non_lucratif"
    )
    assert nomenclature.statut_from_legal_status(label="Etablissement PUBLIC") == "public"
    # quality (ViaTrajectoire report): state read with either apostrophe
    assert fold("MISE A JOUR DE L'OFFRE ACTIVE") == fold("Mise à jour de l’offre active")
    # header matching in the VT report removes spaces after folding
    assert fold("Nom Etablissement").replace(" ", "") == fold("NomEtablissement")
    # demo: first letter of a place decides the elision (« d'Évreux », « de Caen »)
    assert fold("É") in "aeiouyh" and fold("C") not in "aeiouyh"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Population municipale (2021)", "population_municipale_2021"),
        ("PMUN2021", "pmun2021"),
        ("  Code  géographique ", "code_geographique"),
        ("Hospitalisation à temps partiel", "hospitalisation_a_temps_partiel"),
        ("Cœur", "cur"),  # not ASCII after folding: dropped
        ("--", ""),
        (None, ""),
    ],
)
def test_fold_key(text: object, expected: str) -> None:
    assert fold_key(text) == expected
