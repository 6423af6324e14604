"""Fixtures for GCBM input preparation (a plugin of tests/conftest.py): the demo's upload zip and database (shared data, read in
place), attribute tables derived from the demo project's layer JSONs, and small synthetic
uploads on the demo's grid that tests break one way at a time."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from tests.conftest import shared_path

CELL = 0.00025
# In the demo's tile (-106, 55), at the corner of its block 51 (where the demo's data is).
WEST, NORTH = -105.9, 54.5
SIZE = 40
DEMO_UNIT = {"admin_boundary": "British Columbia", "eco_boundary": "Taiga Plains"}


def upload_zip() -> Path:
    return shared_path("data", "gcbm-demo", "gcbm-upload-demo.zip")


def project_zip() -> Path:
    return shared_path("data", "gcbm-demo", "gcbm-project-demo.zip")


def demo_layer_attributes() -> dict[str, dict]:
    """Every attribute table of the demo project's layer JSONs: layer name -> table."""
    tables = {}
    with zipfile.ZipFile(project_zip()) as archive:
        for name in archive.namelist():
            if name.startswith("layers/tiled/") and name.endswith(".json"):
                document = json.loads(archive.read(name))
                if "attributes" in document:
                    tables[Path(name).stem] = document["attributes"]
    return tables


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo's gcbm_input.db, extracted from the upload zip."""
    target = tmp_path_factory.mktemp("demo-db")
    with zipfile.ZipFile(upload_zip()) as archive:
        member = next(n for n in archive.namelist() if n.endswith("gcbm_input.db"))
        (target / "gcbm_input.db").write_bytes(archive.read(member))
    return target / "gcbm_input.db"


def write_raster(path: Path, data: np.ndarray, *, nodata, west: float = WEST,
                 north: float = NORTH, cell: float = CELL, crs: str = "EPSG:4326") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype.name, "nodata": nodata, "crs": crs,
               "transform": Affine(cell, 0.0, west, 0.0, -cell, north)}
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data, 1)
    return path


def small_rasters() -> dict[str, np.ndarray]:
    """Two stand types (TA,5 and BP,5: both have demo growth curves), a 2012 wildfire corner."""
    classifier1 = np.full((SIZE, SIZE), 1, dtype=np.uint8)
    classifier1[:, SIZE // 2:] = 2
    classifier1[0, 0] = 255
    disturbance = np.full((SIZE, SIZE), 255, dtype=np.uint8)
    disturbance[:10, :10] = 1
    return {
        "classifiers/Classifier1_moja.tiff": classifier1,
        "classifiers/Classifier2_moja.tiff": np.full((SIZE, SIZE), 1, dtype=np.uint8),
        "disturbances/disturbances_2012_moja.tiff": disturbance,
        "miscellaneous/initial_age_moja.tiff": np.full((SIZE, SIZE), 60, dtype=np.int16),
        "miscellaneous/mean_annual_temperature_moja.tiff":
            np.full((SIZE, SIZE), -1.5, dtype=np.float32),
    }


NODATA = {np.dtype(np.uint8): 255, np.dtype(np.int16): 32767, np.dtype(np.float32): -9999.0}


def small_attributes() -> dict:
    return {**DEMO_UNIT, "start_year": 2010, "end_year": 2014, "layers": {
        "Classifier1": {"attributes": {1: "TA", 2: "BP"}},
        "Classifier2": {"attributes": {1: "5"}},
        "disturbances_2012": {"attributes": {1: {"disturbance_type": "Wildfire",
                                                 "transition": 1}}},
    }}


@pytest.fixture
def small_upload(tmp_path, demo_db) -> Path:
    """An upload-form folder: small rasters, the demo db, attributes.json beside it."""
    root = tmp_path / "upload"
    for name, data in small_rasters().items():
        write_raster(root / name, data, nodata=NODATA[data.dtype])
    (root / "db").mkdir()
    shutil.copyfile(demo_db, root / "db" / "gcbm_input.db")
    (tmp_path / "attributes.json").write_text(json.dumps(small_attributes()))
    return root


@pytest.fixture
def attributes_file(small_upload) -> Path:
    return small_upload.parent / "attributes.json"


def set_attributes(path: Path, layer: str, table: dict) -> None:
    document = json.loads(path.read_text())
    document["layers"][layer] = {"attributes": table}
    path.write_text(json.dumps(document))
