"""A folder of rasters plus project.yaml (roles, attributes inline or in sidecars, the db,
dates), on a coarser grid and across two tiles; attribute tables from every kind of source."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import rasterio
import yaml

from flintcloud.errors import InputProblems
from flintcloud.gcbm.inputs import prepare_project, validate_inputs
from flintcloud.gcbm.inputs.attributes import year_from_name
from flintcloud.gcbm.run import run_project
from tests.gcbm.inputs.fixtures import DEMO_UNIT, write_raster

CELL = 0.001  # 1000 cells per tile, 100 per block
WEST, NORTH = -106.05, 54.52  # 100 x 40 cells straddling the tiles x = -107 and x = -106
SHAPE = (40, 100)

RAT = """<PAMDataset>
  <PAMRasterBand band="1">
    <GDALRasterAttributeTable tableType="thematic">
      <FieldDefn index="0"><Name>Value</Name><Type>0</Type><Usage>5</Usage></FieldDefn>
      <FieldDefn index="1"><Name>Count</Name><Type>0</Type><Usage>1</Usage></FieldDefn>
      <FieldDefn index="2"><Name>site</Name><Type>2</Type><Usage>2</Usage></FieldDefn>
      <Row index="0"><F>1</F><F>2000</F><F>5</F></Row>
      <Row index="1"><F>2</F><F>2000</F><F>7</F></Row>
    </GDALRasterAttributeTable>
  </PAMRasterBand>
</PAMDataset>
"""


@pytest.fixture
def described(tmp_path, demo_db):
    root = tmp_path / "inputs"
    species = np.full(SHAPE, 6, dtype=np.int16)  # TA
    species[:, 50:] = 7  # BF
    species[:3, :3] = -1  # nodata
    site = np.full(SHAPE, 1, dtype=np.uint8)  # "5"
    site[:, 50:] = 2  # "7": BF,7 and TA,5 have curves
    fire = np.zeros(SHAPE, dtype=np.uint8)
    fire[:10, 40:60] = 3
    harvest = np.zeros(SHAPE, dtype=np.uint8)
    harvest[30:, :] = 1
    write_raster(root / "rasters/species.tif", species, nodata=-1, west=WEST, north=NORTH,
                 cell=CELL)
    write_raster(root / "rasters/site.tif", site, nodata=0, west=WEST, north=NORTH, cell=CELL)
    (root / "rasters/site.tif.aux.xml").write_text(RAT)
    write_raster(root / "rasters/fire_2015_v2.tif", fire, nodata=0, west=WEST, north=NORTH,
                 cell=CELL)
    (root / "tables").mkdir()
    (root / "tables/fire.csv").write_text("value,disturbance_type,transition\n3,Wildfire,1\n")
    write_raster(root / "rasters/harvest.tif", harvest, nodata=0, west=WEST, north=NORTH,
                 cell=CELL)
    (root / "rasters/harvest.json").write_text(json.dumps({"attributes": {"1": {
        "year": 2017, "disturbance_type": "Wildfire", "transition": 1}}}))
    write_raster(root / "rasters/age.tif", np.full(SHAPE, 80, dtype=np.int16), nodata=-1,
                 west=WEST, north=NORTH, cell=CELL)
    write_raster(root / "rasters/mat.tif", np.full(SHAPE, 0.5, dtype=np.float32),
                 nodata=-9999.0, west=WEST, north=NORTH, cell=CELL)
    write_raster(root / "rasters/slope.tif", np.ones(SHAPE, dtype=np.float32), nodata=-1.0,
                 west=WEST, north=NORTH, cell=CELL)
    (root / "db").mkdir()
    shutil.copyfile(demo_db, root / "db/parameters.db")
    description = {
        "database": "db/parameters.db", **DEMO_UNIT, "start_year": 2014, "end_year": 2018,
        "layers": {
            "Classifier1": {"file": "rasters/species.tif", "role": "classifier",
                            "attributes": {6: "TA", 7: "BF"}},
            "Classifier2": {"file": "rasters/site.tif", "role": "classifier"},
            "fire": {"file": "rasters/fire_2015_v2.tif", "role": "disturbance",
                     "attributes": "tables/fire.csv"},
            "harvest": {"file": "rasters/harvest.tif", "role": "disturbance"},
            "stand_age": {"file": "rasters/age.tif", "role": "age"},
            "temperature": {"file": "rasters/mat.tif", "role": "temperature"},
            "slope": {"file": "rasters/slope.tif", "role": "other"},
        }}
    (root / "project.yaml").write_text(yaml.safe_dump(description, sort_keys=False))
    return root


def test_description_form_prepares_and_runs_across_two_tiles(described, tmp_path):
    config = prepare_project(described, tmp_path / "project")
    tiled = config.parent / "layers" / "tiled"
    assert sorted(p.name for p in tiled.glob("*.tiff")) == [
        "Classifier1.tiff", "Classifier2.tiff", "fire.tiff", "harvest.tiff", "initial_age.tiff",
        "mean_annual_temperature.tiff", "slope.tiff"]
    localdomain = json.loads((config / "localdomain.json").read_text())["LocalDomain"]
    assert [t["index"] for t in localdomain["landscape"]["tiles"]] == [12673, 12674]
    assert localdomain["landscape"]["x_pixels"] == 1000
    with rasterio.open(tiled / "Classifier1.tiff") as layer:
        assert (layer.width, layer.height) == (2000, 1000)  # two whole tiles, padded
        assert layer.transform.c == -107.0 and layer.transform.f == 55.0
        assert layer.nodata == -1 and layer.dtypes[0] == "int16"
        data = layer.read(1)
    assert int((data != -1).sum()) == SHAPE[0] * SHAPE[1] - 9
    metadata = json.loads((tiled / "Classifier2.json").read_text())
    assert metadata["attributes"] == {"1": "5", "2": "7"}  # from the raster attribute table
    assert metadata["cellLatSize"] == CELL and metadata["layer_data"] == "Byte"
    fire = json.loads((tiled / "fire.json").read_text())["attributes"]
    assert fire == {"3": {"disturbance_type": "Wildfire", "transition": 1, "year": 2015}}
    run = run_project(config.parent)
    assert run.n_pixels == SHAPE[0] * SHAPE[1] - 9
    assert run.n_blocks == 200 and run.n_blocks_simulated == 4  # 2 tiles x 2 block rows
    disturbed = run.results.disturbances.groupby("year")["area_ha"].sum()
    assert list(disturbed.index) == [2015, 2017]


def test_description_problems_name_the_description(described):
    document = yaml.safe_load((described / "project.yaml").read_text())
    document["layers"]["fire"]["file"] = "../outside.tif"
    document["layers"]["harvest"]["role"] = "harvest"
    document["layers"]["slope"]["colour"] = "red"
    (described / "project.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(InputProblems) as caught:
        validate_inputs(described)
    messages = [problem.message for problem in caught.value.problems]
    assert any(m.startswith("project.yaml: layers.harvest.role: Input should be 'classifier'")
               for m in messages), messages
    assert any(m.startswith("project.yaml: layers.slope.colour: Extra inputs are not permitted")
               for m in messages), messages


def test_description_paths_must_stay_inside(described):
    document = yaml.safe_load((described / "project.yaml").read_text())
    document["layers"]["fire"]["file"] = "../outside.tif"
    document["database"] = "/etc/passwd"
    (described / "project.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(InputProblems) as caught:
        validate_inputs(described)
    messages = [problem.message for problem in caught.value.problems]
    assert "project.yaml: layers.fire.file: '../outside.tif' points outside the inputs" in messages
    assert "project.yaml: database: '/etc/passwd' must be a relative path with '/' separators" \
        in messages


def test_extra_attributes_file_overrides_the_description(described, tmp_path):
    extra = tmp_path / "dates.json"
    extra.write_text(json.dumps({"end_year": 2016, "layers": {"Classifier1": {
        "attributes": {"6": "TA", "7": "BF"}}}}))
    report = validate_inputs(described, attributes=extra)
    assert (report.start_year, report.end_year) == (2014, 2016)
    assert report.warnings == ["disturbance events in 2017 fall outside 2014-2016 and will not "
                               "happen"]


@pytest.mark.parametrize(("name", "year"), [
    ("disturbances_2011_moja.tiff", 2011), ("fire_2015_v2.tif", 2015), ("fire2015.tif", None),
    ("harvest_20150.tif", None), ("a_1999_b_2003.tif", 2003)])
def test_year_from_file_name_rule(name, year):
    assert year_from_name(name) == year
