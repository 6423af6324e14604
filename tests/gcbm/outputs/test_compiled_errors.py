"""Bad inputs fail with an InputError (or ConfigError) naming the file, table and column."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from flintcloud.errors import InputError
from flintcloud.gcbm.outputs.compiled import annual_summary, compile_results
from tests.gcbm.outputs.results_factory import ResultsBuilder


def _results_db(tmp_path, classifiers=("Species", "Site")):
    b = ResultsBuilder(classifiers=classifiers)
    location = b.location(2010, ("BS",) * len(classifiers), area=1.0)
    b.pools(location, SoftwoodMerch=1.0)
    return b.write(tmp_path / "gcbm_output.db")


def _alter(path, sql: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.executescript(sql)
    connection.close()


def test_not_sqlite_names_the_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("year,npp\n2010,1\n" * 100)
    with pytest.raises(InputError, match=r"notes\.db: not an SQLite database"):
        compile_results(path, tmp_path / "out.db")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"absent\.db: file not found"):
        compile_results(tmp_path / "absent.db", tmp_path / "out.db")
    assert not (tmp_path / "absent.db").exists()  # opening read-only creates nothing


def test_missing_table_names_file_and_table(tmp_path):
    path = _results_db(tmp_path)
    _alter(path, "DROP TABLE Fluxes")
    with pytest.raises(InputError, match=r"gcbm_output\.db: table Fluxes: missing table"):
        compile_results(path, tmp_path / "out.db")


def test_missing_column_names_file_table_and_column(tmp_path):
    path = _results_db(tmp_path)
    _alter(path, "ALTER TABLE Pools DROP COLUMN poolValue")
    with pytest.raises(InputError, match=r"gcbm_output\.db: table Pools, column poolValue: "
                                         r"missing column"):
        compile_results(path, tmp_path / "out.db")


def test_table_and_column_names_are_case_insensitive(tmp_path):
    path = _results_db(tmp_path)
    _alter(path, "ALTER TABLE Pools RENAME COLUMN poolValue TO POOLVALUE")
    _alter(path, "ALTER TABLE AgeArea RENAME TO x; ALTER TABLE x RENAME TO agearea;")
    compile_results(path, tmp_path / "out.db")  # SQLite's names are case-insensitive: no error


def test_missing_classifier_table(tmp_path):
    path = _results_db(tmp_path)
    _alter(path, "DROP TABLE ClassifierSetDimension")
    with pytest.raises(InputError, match="table ClassifierSetDimension: missing table"):
        compile_results(path, tmp_path / "out.db")


def test_text_in_a_numeric_column(tmp_path):
    path = _results_db(tmp_path)
    _alter(path, "UPDATE Pools SET poolValue = 'lots' WHERE rowid = 1")
    with pytest.raises(InputError, match=r"gcbm_output\.db: table Pools, column poolValue: "
                                         "non-numeric value"):
        compile_results(path, tmp_path / "out.db")


def test_classifier_that_is_not_an_identifier(tmp_path):
    path = _results_db(tmp_path, classifiers=("Leading species",))
    with pytest.raises(InputError, match="table ClassifierSetDimension, column Leading species: "
                                         "classifier name is not an identifier"):
        compile_results(path, tmp_path / "out.db")


@pytest.mark.parametrize("name", ["YEAR", "unfccc_land_class", "Site_previous"])
def test_classifier_that_collides_with_an_output_column(tmp_path, name):
    path = _results_db(tmp_path, classifiers=("Site", name))
    with pytest.raises(InputError, match=f"column {name}: classifier name collides"):
        compile_results(path, tmp_path / "out.db")


def test_failed_compile_keeps_the_previous_output(tmp_path):
    output = tmp_path / "out.db"
    output.write_text("previous")
    (tmp_path / "bad.db").write_text("not a database at all" * 10)
    with pytest.raises(InputError):
        compile_results(tmp_path / "bad.db", output)
    assert output.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.db", "out.db"]


def test_output_in_a_missing_directory(tmp_path):
    with pytest.raises(InputError, match=r"out\.db: directory .*absent does not exist"):
        compile_results(_results_db(tmp_path), tmp_path / "absent" / "out.db")


def test_summary_of_an_unrelated_database(tmp_path):
    path = tmp_path / "other.db"
    _alter(path, "CREATE TABLE t (x)")
    with pytest.raises(InputError, match=r"other\.db: table v_pool_indicators: neither"):
        annual_summary(path)


def test_summary_of_a_compiled_database_without_a_table(tmp_path):
    path = tmp_path / "compiled.db"
    _alter(path, "CREATE TABLE v_pool_indicators (x)")
    with pytest.raises(InputError, match=r"compiled\.db: table v_age_indicators: missing table"):
        annual_summary(path)


def test_summary_of_a_compiled_database_without_a_column(tmp_path):
    compiled = compile_results(_results_db(tmp_path), tmp_path / "compiled.db")
    _alter(compiled, "ALTER TABLE v_pool_indicators DROP COLUMN pool_tc")
    with pytest.raises(InputError, match=r"compiled\.db: table v_pool_indicators, column pool_tc: "
                                         "missing column"):
        annual_summary(compiled)


# --- the command line --------------------------------------------------------------------------

def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flintcloud", *map(str, args)],
                          capture_output=True, text=True, check=False)


def test_cli_bad_results_db_is_one_line_exit_2(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello" * 100)
    done = _cli("gcbm", "compile", path, "--output", tmp_path / "out.db")
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {path}: not an SQLite database")
    assert done.stderr.strip().count("\n") == 0
    assert not (tmp_path / "out.db").exists()


def test_cli_compile_then_summary(tmp_path):
    results_db = _results_db(tmp_path)
    done = _cli("gcbm", "compile", results_db)
    assert done.returncode == 0, done.stderr
    compiled = tmp_path / "compiled_simulation_output.db"
    assert compiled.is_file()
    done = _cli("gcbm", "summary", compiled)
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.strip().splitlines()
    assert header.startswith("year,area_ha,npp_tc_per_yr,")
    assert row.startswith("2010,1.0,0.0,")
    done = _cli("gcbm", "summary", results_db, "--output", tmp_path / "summary.json")
    assert done.returncode == 0, done.stderr
    records = json.loads((tmp_path / "summary.json").read_text())
    assert records[0]["year"] == 2010 and records[0]["total_biomass_tc"] == 1.0
