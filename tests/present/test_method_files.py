"""Method notes as data files (analysis/present/notes/): every file registered, every field
known, values following the code's parameters; hand-worked cases."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from analysis.indicators import access, sync
from analysis.present import methods

NOTES_DIR = Path(methods.__file__).with_name("notes")


def test_every_file_is_a_registered_note_and_back():
    files = {p.stem for p in NOTES_DIR.glob("*.md")} - {"README"}
    assert files == set(methods.NOTE_ORDER)
    assert list(methods.NOTES) == list(methods.NOTE_ORDER)
    assert len(methods.NOTE_ORDER) == len(set(methods.NOTE_ORDER))


def test_no_field_is_left_unfilled():
    for n in methods.NOTES.values():
        assert not re.search(r"\{[a-z_]+\}", n.note), n.id
        assert n.label and n.unit, n.id


def test_header_gives_label_unit_and_direction():
    lits = methods.NOTES["lits"]
    assert (lits.label, lits.unit, lits.higher_is_better) == ("Lits", "lits", True)
    rejected = methods.NOTES["lignes_rejetees"]
    assert rejected.higher_is_better is False
    assert rejected.note.startswith("**Définition** : lignes des fichiers importés écartées")


def test_fields_follow_the_parameters():
    # the access model's defaults, written the French way (1,3 ; 40 km/h)
    assert f"défaut {str(access.DEFAULT_DETOUR_FACTOR).replace('.', ',')})" in (
        methods.NOTES["temps_plus_proche"].note
    )
    assert f"{access.DEFAULT_SPEED_KMH:g} km/h" in methods.NOTES["temps_plus_proche"].note
    # the default sync hour, and another one asked for
    assert f"à {sync.DEFAULT_SYNC_TIME:%H:%M}" in methods.NOTES["sync_statuts"].note
    other = methods.sync_status_note(dt.time(7, 5))
    assert "synchronisation quotidienne à 07:05" in other and "J-1 à 07:05" in other
    # a shared passage reads the same in every note that quotes it
    offer = methods._fragment("offer")
    assert offer.startswith("offres de l'instantané (mention, forme, lits, places)")
    for ident in ("taux_100k", "etablissements", "capacite", "presence"):
        assert offer in methods.NOTES[ident].note


def test_oqos_note_for_a_zoning_and_a_date():
    text = methods.oqos_note("Zonage : fichier {z}.csv", dt.date(2023, 5, 1))
    assert "*demandées* le 01/05/2023" in text
    assert "**Paramètres** : Zonage : fichier {z}.csv Formes" in text  # braces kept as given
    assert "à la date de l'instantané choisi" in methods.NOTES["oqos_implantations"].note


def test_a_bad_field_is_a_clear_error():
    with pytest.raises(ValueError, match="note de méthode « essai » : champ inconnu"):
        methods._fill("**Définition** : {inconnu}", methods._values(), "essai")
