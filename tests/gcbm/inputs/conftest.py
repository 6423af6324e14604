"""Fixtures for the gcbm_input.db builder: the demo project's database and SQL, libcbm's defaults."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import warnings
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from flintcloud.gcbm.inputs.input_db import build_input_db
from tests.conftest import shared_path

DEMO_ZIP = ("data", "gcbm-demo", "gcbm-project-demo.zip")
DEMO_SPU = {"admin_boundary": "British Columbia", "eco_boundary": "Taiga Plains"}


def cbm_defaults() -> Path:
    """libcbm's cbm_defaults database; like shared data, its absence fails CI and skips elsewhere."""
    try:
        from libcbm import resources
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("libcbm is not installed (test.sh installs flintcloud[gcbm-db])")
        pytest.skip("libcbm is not installed")
    return Path(resources.get_cbm_defaults_path())


@pytest.fixture(scope="session")
def cbm_defaults_path() -> Path:
    return cbm_defaults()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The demo's input database and config files, read from the zip into a temporary directory."""
    target = tmp_path_factory.mktemp("demo")
    with zipfile.ZipFile(shared_path(*DEMO_ZIP)) as archive:
        for name in ("input_database/gcbm_input.db", "config/variables.json", "config/spinup.json"):
            archive.extract(name, target)
    return target


@pytest.fixture(scope="session")
def demo_db(demo_dir) -> Path:
    return demo_dir / "input_database" / "gcbm_input.db"


@pytest.fixture(scope="session")
def demo_queries(demo_dir) -> dict[str, str]:
    """Every SQLQueryTransform of the demo's variables.json and spinup.json: variable -> SQL."""
    queries = {}
    for name in ("variables.json", "spinup.json"):
        variables = json.loads((demo_dir / "config" / name).read_text())["Variables"]
        for variable, value in variables.items():
            transform = value.get("transform", {}) if isinstance(value, dict) else {}
            if transform.get("type") == "SQLQueryTransform":
                queries[variable] = transform["queryString"]
    return queries


@pytest.fixture(scope="session")
def demo_yield_csv(demo_db, tmp_path_factory) -> Path:
    """The demo's 10 yield curves written back as a wide yield-table CSV."""
    path = tmp_path_factory.mktemp("yields") / "demo_yields.csv"
    write_yield_csv(demo_db, path)
    return path


@pytest.fixture(scope="session")
def built_db(demo_yield_csv, cbm_defaults_path, tmp_path_factory) -> Path:
    """A database built from cbm_defaults and the demo's yield curves, for the demo's SPU."""
    path = tmp_path_factory.mktemp("built") / "gcbm_input.db"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the demo's species are all unambiguous
        build_input_db(path, yield_tables=demo_yield_csv, cbm_defaults_path=cbm_defaults_path,
                       **DEMO_SPU)
    return path


def write_yield_csv(db_path: Path, path: Path, *, long: bool = False) -> None:
    """Write the growth curves of a gcbm_input.db as a yield-table CSV (wide or long)."""
    with closing(sqlite3.connect(db_path)) as db:
        classifiers = [name for (name,) in db.execute("SELECT name FROM classifier ORDER BY id")]
        ages = [age for (age,) in db.execute(
            "SELECT DISTINCT age FROM growth_curve_component_value ORDER BY age")]
        components = db.execute(
            "SELECT gcc.id, gcc.growth_curve_id, s.name FROM growth_curve_component AS gcc "
            "INNER JOIN species AS s ON s.id = gcc.species_id ORDER BY gcc.id").fetchall()
        rows = []
        for component_id, curve_id, species in components:
            values = dict(db.execute(
                "SELECT c.name, cv.value FROM growth_curve_classifier_value AS g "
                "INNER JOIN classifier_value AS cv ON cv.id = g.classifier_value_id "
                "INNER JOIN classifier AS c ON c.id = cv.classifier_id "
                "WHERE g.growth_curve_id = ?", (curve_id,)))
            volumes = dict(db.execute(
                "SELECT age, merchantable_volume FROM growth_curve_component_value "
                "WHERE growth_curve_component_id = ?", (component_id,)))
            key = [values[name] for name in classifiers] + [species]
            if long:
                rows += [[*key, age, repr(volumes[age])] for age in ages]
            else:
                rows.append([*key, *(repr(volumes[age]) for age in ages)])
    header = [*classifiers, "species", *(["age", "volume"] if long else ages)]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def run_gcbm_query(db: sqlite3.Connection, sql: str, variables: dict):
    """Run one of GCBM's SQL variables: `{var:x}` tokens bound as parameters, as GCBM substitutes
    them. Returns (shape, column names, rows); shape follows GCBM's rule (gcbm-spec.md §1.5)."""
    cursor = db.execute(re.sub(r"\{var:(\w+)\}", r":\1", sql), variables)
    columns = tuple(description[0] for description in cursor.description)
    rows = cursor.fetchall()
    if not rows:
        shape = "null"
    elif len(columns) == 1:
        shape = "scalar" if len(rows) == 1 else "list"
    else:
        shape = "dict" if len(rows) == 1 else "list of dicts"
    return shape, columns, rows


def growth_curve_id(db: sqlite3.Connection, classifier_set: dict[str, str]) -> int | None:
    """GCBM's growth-curve choice for a classifier set (gcbm-spec.md §5.3): +4 per matching value,
    +1 per wildcard, -1000 otherwise; the best positive score wins."""
    matches = " ".join("WHEN c.name LIKE ? AND cv.value LIKE ? THEN 4" for _ in classifier_set)
    names = ", ".join("?" for _ in classifier_set)
    sql = (f"SELECT gccv.growth_curve_id, SUM(CASE WHEN c.name IN ({names}) THEN CASE "
           f"WHEN cv.value LIKE '?' THEN 1 {matches} ELSE -1000 END ELSE -1000 END) AS score "
           "FROM growth_curve_classifier_value AS gccv "
           "INNER JOIN classifier_value AS cv ON gccv.classifier_value_id = cv.id "
           "INNER JOIN classifier AS c ON cv.classifier_id = c.id "
           "GROUP BY gccv.growth_curve_id HAVING score > 0 ORDER BY score DESC LIMIT 1")
    parameters = [*classifier_set, *(part for item in classifier_set.items() for part in item)]
    row = db.execute(sql, parameters).fetchone()
    return row[0] if row else None
