"""The store's population setting (``analysis.io.population_setting``): what is written, what
is read back, and how a broken setting is reported."""

from __future__ import annotations

import hashlib
import json

import pytest

from analysis.io import population_setting
from analysis.model.errors import InputError, StoreError

# Three communes in INSEE's Communes.csv layout (PMUN: population municipale).
FILE = b"DEPCOM;COM;PMUN;PCAP;PTOT\n75056;Paris;2000;0;2000\n92012;Boulogne;300;0;300\n"


def test_nothing_saved_reads_as_none(tmp_path):
    assert population_setting.store_population_info(tmp_path) is None
    assert population_setting.store_population_file(tmp_path) is None
    assert population_setting.read_store_populations(tmp_path) is None
    assert population_setting.clear_store_populations(tmp_path) is False


def test_saved_file_is_read_back_with_its_checksum(tmp_path):
    target = population_setting.save_store_populations(
        tmp_path, FILE, "Populations légales 2021.csv"
    )
    assert target == tmp_path / "populations" / "Populations_l_gales_2021.csv"
    assert target.read_bytes() == FILE
    info = json.loads((tmp_path / "populations" / "reglage.json").read_text(encoding="utf-8"))
    assert info["fichier"] == target.name
    assert info["nom_origine"] == "Populations légales 2021.csv"
    assert info["sha256"] == hashlib.sha256(FILE).hexdigest()
    assert population_setting.store_population_file(tmp_path) == (FILE, target.name)
    legal = population_setting.read_store_populations(tmp_path)
    assert dict(legal.frame.select("commune_insee", "population").iter_rows()) == {
        "75056": 2000.0,
        "92012": 300.0,
    }
    assert population_setting.clear_store_populations(tmp_path) is True
    assert not target.exists()
    assert population_setting.store_population_info(tmp_path) is None


def test_a_refused_file_changes_nothing(tmp_path):
    population_setting.save_store_populations(tmp_path, FILE, "pop.csv")
    before = (tmp_path / "populations" / "reglage.json").read_bytes()

    def refuse(_legal):
        raise InputError("ne couvre pas la région")

    with pytest.raises(InputError, match="ne couvre pas"):
        population_setting.save_store_populations(tmp_path, FILE, "autre.csv", refuse)
    with pytest.raises(InputError):  # not a population file at all
        population_setting.save_store_populations(tmp_path, b"DEPCOM;PMUN\n", "vide.csv")
    assert (tmp_path / "populations" / "reglage.json").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "populations").iterdir()) == [
        "pop.csv",
        "reglage.json",
    ]
    with pytest.raises(StoreError, match="magasin introuvable"):
        population_setting.save_store_populations(tmp_path / "absent", FILE, "pop.csv")


def test_broken_settings_are_reported(tmp_path):
    target = population_setting.save_store_populations(tmp_path, FILE, "pop.csv")
    target.write_bytes(FILE + b"93001;Aubervilliers;1;0;1\n")
    with pytest.raises(StoreError, match="modifié ou corrompu"):
        population_setting.store_population_file(tmp_path)
    target.unlink()
    with pytest.raises(StoreError, match="introuvable : pop.csv"):
        population_setting.store_population_info(tmp_path)
    (tmp_path / "populations" / "reglage.json").write_text("{", encoding="utf-8")
    with pytest.raises(StoreError, match="illisible"):
        population_setting.store_population_info(tmp_path)
