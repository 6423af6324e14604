"""A synthetic GCBM project that needs no downloaded data: rasters generated here, an input
database built from libcbm's cbm_defaults (`build_input_db`), assembled through the
description-file form like any user's inputs.

The landscape is `n_blocks` 0.1° blocks of the tile (-106, 55), in British Columbia / Taiga
Plains: stands of 20 × 20 cells with a leading species and a site class (each pair has a yield
curve), an age and a temperature, a few lakes (nodata), a 2012 wildfire layer and a 2015
clear-cut layer (years from the file names).
"""

from __future__ import annotations

import csv
import math
import tempfile
from pathlib import Path

import numpy as np
import rasterio
import yaml
from affine import Affine

from flintcloud.errors import InputError
from flintcloud.gcbm.inputs.input_db import build_input_db
from flintcloud.gcbm.inputs.prepare import prepare_project

TILE = (-106, 55)
CELL = 0.00025
BLOCK_CELLS = 400
STAND_CELLS = 20  # stands are squares of 20 × 20 cells (0.25 ha each at this latitude)
MAX_BLOCKS = 100  # one tile
SPATIAL_UNIT = {"admin_boundary": "British Columbia", "eco_boundary": "Taiga Plains"}
# Leading species: (classifier value, CBM species, maximum volume m³/ha, growth rate 1/yr).
SPECIES = (("BS", "Black spruce", 180.0, 0.020), ("JP", "Jack pine", 220.0, 0.028),
           ("TA", "Trembling aspen", 260.0, 0.035), ("WS", "White spruce", 300.0, 0.024))
SITES = (("G", 1.2), ("M", 1.0), ("P", 0.7))  # site class and its volume factor
DISTURBANCES = {"fire_2012": "Wildfire", "clearcut_2015": "Clearcut harvesting with salvage"}
AGES = tuple(range(0, 201, 10))


def write_demo_project(target: str | Path, *, n_blocks: int = 1, seed: int = 42,
                       cbm_defaults_path: str | Path | None = None) -> Path:
    """Write the synthetic project into `target` (new or empty); returns its config folder.
    Needs libcbm (flintcloud[gcbm-db]) unless `cbm_defaults_path` names a cbm_defaults db."""
    if not 1 <= n_blocks <= MAX_BLOCKS:
        raise InputError(f"n_blocks must be within 1..{MAX_BLOCKS} (one tile), got {n_blocks}",
                         field="n_blocks")
    with tempfile.TemporaryDirectory(prefix="gcbm-demo-") as temporary:
        inputs = Path(temporary)
        write_demo_inputs(inputs, n_blocks=n_blocks, seed=seed,
                          cbm_defaults_path=cbm_defaults_path)
        return prepare_project(inputs, target)


def write_demo_inputs(folder: Path, *, n_blocks: int, seed: int,
                      cbm_defaults_path: str | Path | None = None) -> Path:
    """Rasters, yield curves, the built database and project.yaml in `folder`."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = math.ceil(n_blocks / 10) * BLOCK_CELLS, min(n_blocks, 10) * BLOCK_CELLS
    stands = (n_rows // STAND_CELLS, n_cols // STAND_CELLS)
    has_data = _block_mask(n_blocks, stands) & (rng.random(stands) > 0.05)  # 5% lakes
    layers = {
        "LeadingSpecies": (rng.integers(1, len(SPECIES) + 1, stands), np.uint8, 0),
        "SiteClass": (rng.integers(1, len(SITES) + 1, stands), np.uint8, 0),
        "initial_age": (rng.integers(0, 181, stands), np.int16, -1),
        "mean_annual_temperature": (_temperature(stands, rng), np.float32, -9999.0),
        "fire_2012": ((rng.random(stands) < 0.05).astype(int), np.uint8, 0),
        "clearcut_2015": ((rng.random(stands) < 0.05).astype(int), np.uint8, 0),
    }
    (folder / "rasters").mkdir(parents=True)
    for name, (values, dtype, nodata) in layers.items():
        data = np.where(has_data, values, nodata).astype(dtype)  # disturbances: 0 = none
        cells = np.repeat(np.repeat(data, STAND_CELLS, axis=0), STAND_CELLS, axis=1)
        _write(folder / "rasters" / f"{name}.tif", cells, nodata)
    _write_yield_curves(folder / "yield_curves.csv")
    build_input_db(folder / "gcbm_input.db", yield_tables=folder / "yield_curves.csv",
                   classifiers=["LeadingSpecies", "SiteClass"],
                   cbm_defaults_path=cbm_defaults_path, **SPATIAL_UNIT)
    description = {
        "database": "gcbm_input.db", **SPATIAL_UNIT, "start_year": 2010, "end_year": 2020,
        "layers": {
            "LeadingSpecies": {"file": "rasters/LeadingSpecies.tif", "role": "classifier",
                               "attributes": {i: code for i, (code, *_) in
                                              enumerate(SPECIES, start=1)}},
            "SiteClass": {"file": "rasters/SiteClass.tif", "role": "classifier",
                          "attributes": {i: code for i, (code, _) in enumerate(SITES, start=1)}},
            **{name: {"file": f"rasters/{name}.tif", "role": "disturbance",
                      "attributes": {1: {"disturbance_type": kind, "transition": 1}}}
               for name, kind in DISTURBANCES.items()},
            "initial_age": {"file": "rasters/initial_age.tif", "role": "age"},
            "mean_annual_temperature": {"file": "rasters/mean_annual_temperature.tif",
                                        "role": "temperature"},
        }}
    (folder / "project.yaml").write_text(yaml.safe_dump(description, sort_keys=False),
                                         encoding="utf-8")
    return folder


def _block_mask(n_blocks: int, stands: tuple[int, int]) -> np.ndarray:
    """Stands inside the first `n_blocks` blocks, row-major."""
    per_block = BLOCK_CELLS // STAND_CELLS
    rows, cols = np.indices(stands)
    block = (rows // per_block) * 10 + cols // per_block
    return block < n_blocks


def _temperature(stands: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Colder to the north, with some noise, to 0.5 °C (a few distinct values)."""
    north_south = np.linspace(-2.5, 0.5, stands[0])[:, None]
    return np.round((north_south + rng.normal(0.0, 0.3, stands)) * 2) / 2


def _write(path: Path, data: np.ndarray, nodata: float) -> None:
    west, north = TILE
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype.name, "nodata": nodata, "crs": "EPSG:4326",
               "transform": Affine(CELL, 0.0, west, 0.0, -CELL, north), "compress": "deflate"}
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data, 1)


def _write_yield_curves(path: Path) -> None:
    """Chapman-Richards merchantable volume curves, one per (species, site class)."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["LeadingSpecies", "SiteClass", "species", *AGES])
        for code, species, maximum, rate in SPECIES:
            for site, factor in SITES:
                volumes = [round(maximum * factor * (1 - math.exp(-rate * age)) ** 3, 2)
                           for age in AGES]
                writer.writerow([code, site, species, *volumes])
