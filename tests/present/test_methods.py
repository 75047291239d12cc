"""Method notes: every note has its five parts, ids resolve, campaign and sync notes follow
their data (rules, sync hour), and the parser refuses an incomplete note."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from analysis.checks.campaign import checklist
from analysis.present import methods, report


@pytest.mark.parametrize("note_id", sorted(methods.NOTES))
def test_every_note_has_every_part(note_id):
    n = methods.NOTES[note_id]
    assert n.id == note_id
    assert n.label.strip() and n.unit.strip()
    assert methods.missing_parts(n) == [], f"{note_id} : parties manquantes"
    # the parts come in the documented order, each once
    found = [p for p in n.parts if p in methods.PARTS]
    assert found == list(methods.PARTS)
    assert all(len(n.parts[p]) >= 10 for p in methods.PARTS)


def test_parts_parser_on_a_hand_written_note():
    text = (
        "**Définition** : a.\n\n**Formule** : b ÷ c\nsur deux lignes.\n\n"
        "**Paramètres** : aucun.\n\n**Données** : offres.\n\n**Limites** : d."
    )
    assert methods.note_parts(text) == {
        "Définition": "a.",
        "Formule": "b ÷ c\nsur deux lignes.",
        "Paramètres": "aucun.",
        "Données": "offres.",
        "Limites": "d.",
    }
    # bold words inside a sentence are not headings
    assert methods.note_parts("x **gras** : y") == {}


def test_an_incomplete_note_is_reported():
    partial = methods.MethodNote(
        "essai", "Essai", "unités", "**Définition** : a.\n\n**Formule** : b.\n\n**Limites** :"
    )
    assert methods.missing_parts(partial) == ["Paramètres", "Données", "Limites"]


def test_ids_resolve_to_their_note():
    assert methods.note("part_30min").id == "part_seuil"
    assert methods.note("part_22_5min").id == "part_seuil"
    assert methods.note("ratio_mediane_e2sfca").id == "ratio_mediane"
    assert methods.note("sync_statuts").id == "sync_statuts"
    with pytest.raises(KeyError):
        methods.note("indicateur_inconnu")


def test_registering_an_id_twice_is_refused():
    with pytest.raises(ValueError, match="en double"):
        methods._register(methods.NOTES["lits"])


def test_campaign_note_lists_the_rules_in_use():
    extra = checklist.Rule(
        "eg_essai",
        checklist.ETABLISSEMENT,
        "Point d'essai",
        "Texte d'aide de l'essai.",
        lambda p: [(pl.col("surnom").is_null(), checklist.MANQUANT, "vide")],
    )
    text = methods.campaign_rules_note((*checklist.RULES, extra))
    for rule in (*checklist.RULES, extra):
        assert f"`{rule.id}`" in text and rule.help in text
    assert "*Point d'essai* (établissement, obligatoire, `eg_essai`)" in text
    assert "(établissement, conseillé, `eg_surnom`)" in text
    # the page note is the same text for the built-in rules, kept in one place
    assert methods.NOTES["campagne_taux_regle"].note == methods.campaign_rules_note()
    assert (
        methods.missing_parts(
            methods.MethodNote("x", "x", "x", methods.campaign_rules_note((*checklist.RULES, extra)))
        )
        == []
    )


def test_sync_note_follows_the_sync_hour():
    assert "à 06:30" in methods.sync_status_note(dt.time(6, 30))
    assert "J-1 à 06:30" in methods.sync_status_note(dt.time(6, 30))
    assert methods.NOTES["sync_statuts"].note == methods.sync_status_note()
    assert "18:00" in methods.sync_status_note()


def test_report_indicators_have_notes():
    assert set(report.NOTE_IDS) <= set(methods.NOTES)
