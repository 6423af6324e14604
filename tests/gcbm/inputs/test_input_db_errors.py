"""Every refusal of the gcbm_input.db builder names the file, the field and the problem."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from contextlib import closing

import pytest

from flintcloud.errors import InputError, ParameterDbError
from flintcloud.gcbm.inputs.input_db import build_input_db, read_yield_tables
from tests.gcbm.inputs.conftest import DEMO_SPU

GOOD = "Classifier1,Classifier2,species,0,10,20\nBF,7,Balsam fir,0,5,12\n"


def _csv(tmp_path, text, name="yields.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _build(tmp_path, yields, cbm_defaults_path, **options):
    options = {**DEMO_SPU, "cbm_defaults_path": cbm_defaults_path, **options}
    return build_input_db(tmp_path / "out.db", yield_tables=yields, **options)


def _error(excinfo) -> str:
    return str(excinfo.value)


# Boundaries and spatial units --------------------------------------------------------------------

def test_unknown_admin_boundary_lists_the_valid_ones(tmp_path, cbm_defaults_path):
    with pytest.raises(InputError) as excinfo:
        _build(tmp_path, _csv(tmp_path, GOOD), cbm_defaults_path, admin_boundary="British Colombia")
    message = _error(excinfo)
    assert message.startswith(f"{cbm_defaults_path}: admin_boundary: unknown admin boundary "
                              "'British Colombia'; valid: Alberta, British Columbia, Labrador")
    assert "did you mean 'British Columbia'?" in message
    assert not (tmp_path / "out.db").exists()


def test_unknown_eco_boundary_lists_the_valid_ones(tmp_path, cbm_defaults_path):
    with pytest.raises(InputError, match=r"eco_boundary: unknown eco boundary 'Taiga'; valid: "
                                         r"Atlantic Maritime, .*Taiga Plains"):
        _build(tmp_path, _csv(tmp_path, GOOD), cbm_defaults_path, eco_boundary="Taiga")


def test_boundary_pair_without_spatial_unit(tmp_path, cbm_defaults_path):
    with pytest.raises(InputError) as excinfo:
        _build(tmp_path, _csv(tmp_path, GOOD), cbm_defaults_path, eco_boundary="Atlantic Maritime")
    assert _error(excinfo) == (
        f"{cbm_defaults_path}: eco_boundary: no spatial unit for British Columbia / Atlantic "
        "Maritime; British Columbia has the eco boundaries Boreal Cordillera, Boreal Plains, "
        "Montane Cordillera, Pacific Maritime, Taiga Plains")


# Species -----------------------------------------------------------------------------------------

def test_unknown_species_lists_close_matches(tmp_path, cbm_defaults_path):
    yields = _csv(tmp_path, GOOD + "BF,8,Poplar/aspn,0,1,2\n")
    with pytest.raises(InputError) as excinfo:
        _build(tmp_path, yields, cbm_defaults_path)
    message = _error(excinfo)
    assert message.startswith(f"{yields}: species: line 3: unknown species 'Poplar/aspn'; "
                              "closest CBM species: 'Poplar/aspen'")


def test_species_of_a_forest_type_gcbm_cannot_grow(tmp_path, cbm_defaults_path):
    yields = _csv(tmp_path, "c,species,0,10\nA,Not stocked,0,1\n")
    with pytest.raises(InputError, match=r"yields.csv: species: line 2: species 'Not stocked' is "
                                         r"of forest type Not Applicable; GCBM grows only"):
        _build(tmp_path, yields, cbm_defaults_path)


def test_species_without_volume_to_biomass_parameters_in_the_spu(tmp_path, cbm_defaults_path):
    """cbm_defaults covers every species everywhere, so remove Balsam fir's factors from a copy."""
    defaults = tmp_path / "cbm_defaults.db"
    shutil.copy(cbm_defaults_path, defaults)
    with closing(sqlite3.connect(defaults)) as db, db:
        species_id, genus_id, forest_type_id = db.execute(
            "SELECT s.id, s.genus_id, s.forest_type_id FROM species AS s INNER JOIN species_tr "
            "AS tr ON tr.species_id = s.id WHERE tr.name = 'Balsam fir'").fetchone()
        db.execute("DELETE FROM vol_to_bio_species WHERE species_id = ?", (species_id,))
        db.execute("DELETE FROM vol_to_bio_genus WHERE genus_id = ?", (genus_id,))
        db.execute("DELETE FROM vol_to_bio_forest_type WHERE forest_type_id = ?", (forest_type_id,))
    with pytest.raises(InputError) as excinfo:
        _build(tmp_path, _csv(tmp_path, GOOD), defaults)
    assert _error(excinfo).startswith(
        "yields.csv: species: line 2: species 'Balsam fir' has no volume-to-biomass parameters "
        "in British Columbia / Taiga Plains".replace("yields.csv", str(tmp_path / "yields.csv")))


def test_species_whose_genus_mixes_forest_types_warns_about_turnover(tmp_path, cbm_defaults_path):
    yields = _csv(tmp_path, "c,species,0,10\nA,Hardwood forest type,0,1\n")
    with pytest.warns(UserWarning, match=r"yields.csv: line 2: hardwood species 'Hardwood forest "
                                         r"type' is of genus 'Missing Value', which gets softwood"):
        _build(tmp_path, yields, cbm_defaults_path)
    assert (tmp_path / "out.db").exists()


# Yield-table contents ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "field", "detail"), [
    (GOOD + "BF,8,Balsam fir,0,5,abc\n", "20", "line 3: volume 'abc' is not a number"),
    (GOOD + "BF,8,Balsam fir,0,,3\n", "10", "line 3: volume '' is not a number"),
    (GOOD + "BF,8,Balsam fir,0,5,-2\n", "20", "line 3: negative volume -2"),
    (GOOD + "BF,8,Balsam fir,0,5,inf\n", "20", "line 3: volume 'inf' is not a number"),
    ("c,species,0,10,25\nA,Balsam fir,0,1,2\n", "0, 10, 25",
     "ages 0, 10, 25 are not on a regular grid (steps 10, 15)"),
    ("c,species,10\nA,Balsam fir,1\n", "10", "a yield curve needs at least two ages"),
    ("c,species,-10,0\nA,Balsam fir,1,2\n", "-10, 0", "negative age -10"),
    (GOOD + "BF,7,balsam FIR,0,1,2\n", "species",
     "line 3: duplicate classifier set BF,7 with species 'balsam FIR' (first on line 2)"),
    (GOOD + "bf,7,Black spruce,0,1,2\n", "Classifier1, Classifier2",
     "line 3: classifier set bf,7 differs from BF,7 (line 2) only by case"),
    (GOOD + ",8,Balsam fir,0,1,2\n", "Classifier1", "line 3: empty value"),
    ("c,name,0,10\nA,Balsam fir,0,1\n", "species", "no species column; the columns are c, name"),
    ("c,species,young,old\nA,Balsam fir,0,1\n", None, "no volume-by-age columns"),
    ("species,0,10\nBalsam fir,0,1\n", None, "no classifier column"),
    ("c,species,0,10\n", None, "the table has no rows"),
])
def test_bad_wide_yield_table(tmp_path, text, field, detail):
    path = _csv(tmp_path, text)
    where = f"{path}: {field}: " if field else f"{path}: "
    with pytest.raises(InputError) as excinfo:
        read_yield_tables(path)
    assert _error(excinfo).startswith(where + detail)


@pytest.mark.parametrize(("text", "field", "detail"), [
    ("c,species,age,volume\nA,Balsam fir,0,0\nA,Balsam fir,10,2\nA,Balsam fir,25,3\n", "age",
     "classifier set A, species 'Balsam fir': ages 0, 10, 25 are not on a regular grid"),
    ("c,species,age,volume\nA,Balsam fir,0,0\nA,Balsam fir,0,2\n", "age",
     "line 3: age 0 given twice for classifier set A and species 'Balsam fir'"),
    ("c,species,age,volume\nA,Balsam fir,0,0\nA,Balsam fir,ten,2\n", "age",
     "line 3: age 'ten' is not a whole number"),
    ("c,species,age,volume\nA,Balsam fir,0,0\nA,Balsam fir,10,x\n", "volume",
     "line 3: volume 'x' is not a number"),
])
def test_bad_long_yield_table(tmp_path, text, field, detail):
    path = _csv(tmp_path, text)
    with pytest.raises(InputError) as excinfo:
        read_yield_tables(path)
    assert _error(excinfo).startswith(f"{path}: {field}: {detail}")


def test_named_classifier_missing_from_the_table(tmp_path):
    path = _csv(tmp_path, GOOD)
    with pytest.raises(InputError) as excinfo:
        read_yield_tables(path, classifiers=["Classifier1", "Leading"])
    assert _error(excinfo).startswith(f"{path}: Leading: no such classifier column; the columns "
                                      "are Classifier1, Classifier2, species, 0, 10, 20")


def test_missing_yield_table(tmp_path):
    with pytest.raises(InputError, match=r"absent.csv: file not found"):
        read_yield_tables(tmp_path / "absent.csv")


def test_yield_table_reading_keeps_classifier_text_and_order(tmp_path):
    path = _csv(tmp_path, "site,lead,species,20,0,10\n07,BF,Balsam fir,4,0,1.5\n"
                          "07,BF,Black spruce,1,0,0\n")
    tables = read_yield_tables(path, classifiers=["LEAD", "site"])
    assert tables.classifiers == ("lead", "site")
    (curve,) = tables.curves
    assert curve.description == "BF,07"  # values stay text: "07" is not 7
    assert [(c.species, c.ages, c.volumes, c.line) for c in curve.components] == [
        ("Balsam fir", (0, 10, 20), (0.0, 1.5, 4.0), 2),
        ("Black spruce", (0, 10, 20), (0.0, 0.0, 1.0), 3)]


# The parameter database --------------------------------------------------------------------------

def test_libcbm_missing_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "libcbm", None)  # makes `import libcbm` raise ImportError
    with pytest.raises(InputError) as excinfo:
        build_input_db(tmp_path / "out.db", yield_tables=_csv(tmp_path, GOOD), **DEMO_SPU)
    assert excinfo.value.field == "cbm_defaults"
    assert "libcbm is not installed" in _error(excinfo)
    assert "install flintcloud[gcbm-db]" in _error(excinfo)


def test_cbm_defaults_missing_file(tmp_path):
    with pytest.raises(ParameterDbError, match=r"absent.db: cbm_defaults: file not found"):
        _build(tmp_path, _csv(tmp_path, GOOD), tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()  # sqlite3 would have created it


def test_cbm_defaults_not_sqlite(tmp_path):
    defaults = tmp_path / "defaults.db"
    defaults.write_text("not a database " * 100)
    with pytest.raises(ParameterDbError, match=r"defaults.db: cbm_defaults: not a SQLite database"):
        _build(tmp_path, _csv(tmp_path, GOOD), defaults)


def test_cbm_defaults_missing_tables(tmp_path):
    defaults = tmp_path / "defaults.db"
    with closing(sqlite3.connect(defaults)) as db:
        db.execute("CREATE TABLE locale (id INTEGER, code TEXT)")
    with pytest.raises(ParameterDbError) as excinfo:
        _build(tmp_path, _csv(tmp_path, GOOD), defaults)
    assert _error(excinfo).startswith(f"{defaults}: cbm_defaults: not a cbm_defaults database: "
                                      "table(s) admin_boundary, admin_boundary_tr")
    assert "table(s) admin_boundary" in _error(excinfo) and ", locale," not in _error(excinfo)


def test_unknown_locale(tmp_path, cbm_defaults_path):
    with pytest.raises(ParameterDbError, match=r"locale: unknown locale 'de-DE'; available: "
                                               r"en-CA, fr-CA, es-MX"):
        _build(tmp_path, _csv(tmp_path, GOOD), cbm_defaults_path, locale="de-DE")
