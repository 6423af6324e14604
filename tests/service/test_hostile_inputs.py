"""Hostile documents: YAML alias bombs, deep nesting, out-of-range numbers. Each is a short
4xx problem document, answered at once, never a 500, a dropped connection or gigabytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hostile_request import alias_bomb

from conftest import SERVICE_TESTS

ROOT = SERVICE_TESTS.parents[1]


@pytest.mark.parametrize("kind", ["form", "zip", "upstream"])
def test_yaml_alias_bomb_is_refused_at_once_small_and_short(tmp_path, kind):
    """The issue's bomb (9 levels, ~470 bytes: 9^9 = 387 million strings once expanded)."""
    assert 400 < len(alias_bomb()) < 500
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(SERVICE_TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    # A fresh process, so that the RSS growth is this request's; bounded, as a regression
    # would take minutes and gigabytes.
    completed = subprocess.run([sys.executable, str(SERVICE_TESTS / "hostile_request.py"),
                                str(tmp_path), kind], capture_output=True, text=True,
                               timeout=60, env=environment, check=True)
    outcome = json.loads(completed.stdout.splitlines()[-1])
    assert outcome["status"] == 422, outcome["body"][:2000]
    body = json.loads(outcome["body"])
    assert "anchors and aliases" in body["detail"]
    assert outcome["seconds"] < 1.0
    assert outcome["rss_growth_bytes"] < 100 * 2**20
    assert len(outcome["body"]) < 2000


@pytest.mark.parametrize("path", ["/point", "/rothc"])
def test_json_nested_100k_levels_is_a_4xx_problem(client, path):
    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(path, content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "nested too deeply" in response.json()["detail"]


def test_deeply_nested_attributes_are_refused(client, tmp_path):
    from conftest import make_geotiff

    simulation = client.post("/simulations", json={"title": "deep"}).json()["id"]
    raster = make_geotiff(tmp_path / "Classifier1.tif", [[1]]).read_bytes()
    for attributes in ("{" + '"a": {' * 100 + "}" * 101, "a: " + "[" * 100_000):
        response = client.post(f"/simulations/{simulation}/files",
                               data={"category": "classifiers", "attributes": attributes},
                               files=[("files", ("Classifier1.tif", raster))])
        assert response.status_code == 422
        assert "nested more than 64 levels" in response.json()["detail"]


@pytest.mark.parametrize("query", ["offset=9223372036854775808", "offset=-1",
                                   "offset=9223372036854775807.5"])
def test_job_list_paging_out_of_range_is_a_4xx_problem(client, query):
    response = client.get(f"/jobs?{query}")
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_job_list_paging_within_range_works(client):
    assert client.get("/jobs?offset=9223372036854775807").json()["jobs"] == []


