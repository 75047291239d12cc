"""The zones' outlines kept beside the store's OQOS files (``oqos_files.cached_features``):
what is read back is what the dissolve gives, a key change or a damaged copy computes again,
a read-only call or a missing store writes nothing, old copies are pruned. And the quicker
reading of the files (commune codes, mention labels) reads as before."""

from __future__ import annotations

import json

import polars as pl
import pytest

from analysis.geo import geography as geo
from analysis.io import oqos_files
from analysis.transition import oqos

COLUMNS = ["zone", "libelle_zone", "lon", "lat"]


@pytest.fixture(scope="module")
def zoning_shapes():
    """A hand-made zoning of Île-de-France: Paris alone, the rest of its département code
    grouped two by two (75 | 77+78 | 91+92 | 93+94 | 95), and the dissolve's GeoDataFrame."""
    communes = geo.load_communes("11")
    pairs = {"75": "P", "77": "A", "78": "A", "91": "B", "92": "B", "93": "C", "94": "C",
             "95": "D"}
    zoning = communes.select(
        "commune_insee",
        pl.col("departement").replace_strict(pairs).alias("zone"),
    ).with_columns(("Zone " + pl.col("zone")).alias("libelle_zone"))
    gdf = oqos.zone_shapes(geo.load_communes_geo("11"), oqos.zone_lookup(zoning), 0.005)
    return zoning, gdf


def _build(gdf, calls: list):
    def build() -> str:
        calls.append(1)
        return geo.geojson_text(gdf, COLUMNS)
    return build


def test_a_copy_read_back_equals_the_dissolve(tmp_path, zoning_shapes):
    _, gdf = zoning_shapes
    fresh = geo.geojson_features(gdf, COLUMNS)
    assert [f["properties"]["zone"] for f in fresh] == ["A", "B", "C", "D", "P"]
    calls: list = []
    first = oqos_files.cached_features(tmp_path, ("k", "1"), _build(gdf, calls))
    again = oqos_files.cached_features(tmp_path, ("k", "1"), _build(gdf, calls))
    assert calls == [1]  # computed once, then read from the disk
    assert first == fresh and again == fresh  # every coordinate, exactly
    files = list((tmp_path / "oqos" / "contours").glob("*.geojson"))
    assert len(files) == 1 and json.loads(files[0].read_text())["type"] == "FeatureCollection"


def test_another_key_or_a_damaged_copy_computes_again(tmp_path, zoning_shapes):
    _, gdf = zoning_shapes
    calls: list = []
    oqos_files.cached_features(tmp_path, ("k", "1"), _build(gdf, calls))
    oqos_files.cached_features(tmp_path, ("k", "2"), _build(gdf, calls))
    assert len(calls) == 2
    for path in (tmp_path / "oqos" / "contours").glob("*.geojson"):
        path.write_text('{"type": "FeatureCollection", "feat', encoding="utf-8")  # cut short
    assert oqos_files.cached_features(tmp_path, ("k", "1"), _build(gdf, calls)) == \
        geo.geojson_features(gdf, COLUMNS)
    assert len(calls) == 3
    assert oqos_files.cached_features(tmp_path, ("k", "1"), _build(gdf, calls))
    assert len(calls) == 3  # rewritten whole by the call before


def test_nothing_written_when_read_only_or_without_a_store(tmp_path, zoning_shapes):
    _, gdf = zoning_shapes
    calls: list = []
    features = oqos_files.cached_features(tmp_path, ("k",), _build(gdf, calls), save=False)
    assert features == geo.geojson_features(gdf, COLUMNS)
    assert list(tmp_path.iterdir()) == []
    missing = tmp_path / "absent"
    oqos_files.cached_features(missing, ("k",), _build(gdf, calls))
    assert not missing.exists() and len(calls) == 2


def test_only_the_newest_copies_are_kept(tmp_path):
    text = json.dumps({"type": "FeatureCollection", "features": []})
    for i in range(oqos_files.SHAPES_KEPT + 3):
        oqos_files.cached_features(tmp_path, (str(i),), lambda: text)
    folder = tmp_path / "oqos" / "contours"
    assert len(list(folder.glob("*.geojson"))) == oqos_files.SHAPES_KEPT


def test_reference_digest_is_the_files_sha256():
    import hashlib

    path = geo.REFERENCE_DIR / "11" / "communes.parquet"
    assert geo.reference_digest("11") == hashlib.sha256(path.read_bytes()).hexdigest()


def test_commune_code_fast_path_reads_as_the_patterns():
    """``_insee`` takes five ASCII digits at once; every other text goes through the
    patterns, as before (reference: the patterns alone)."""
    import re

    def by_patterns(text: str) -> str | None:
        code = text.strip().upper()
        if re.fullmatch(r"\d+\.0", code):
            code = code[:-2]
        if re.fullmatch(r"\d{4}", code):
            code = code.zfill(5)
        return code if re.fullmatch(r"\d{5}|2[AB]\d{3}", code) else None

    for text in ("75056", " 75056 ", "2a004", "2B033", "7505", "1001.0", "75056.0", "750561",
                 "", "ABCDE", "\u0667\u0665\u0660\u0665\u0666", "75 56", "７５０５６", "¹2345"):
        assert oqos_files._insee(text) == by_patterns(text), text


def test_mention_labels_still_found_folded():
    from analysis.model import nomenclature as nom

    for m in nom.MENTIONS:
        assert nom.mention_code(m.libelle.upper()) == m.code
        assert nom.find_mention(f"  {m.court} ") == m.code
    assert nom.find_mention("onco-hématologie") == "ME056"
    assert nom.find_mention("inconnue") is None
