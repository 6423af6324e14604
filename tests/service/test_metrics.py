"""`/metrics`: queue depth and job counts in Prometheus' text format, what workers scale on."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from conftest import make_settings
from flintcloud.service.app import create_app
from flintcloud.service.metrics import render_metrics

SAMPLE = re.compile(r'^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>-?\d+(?:\.\d+)?)$')


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """The exposition text's samples, each line checked against the format."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("# "):
            assert re.match(r"^# (HELP|TYPE) flintcloud_[a-z_]+ ", line), line
            continue
        match = SAMPLE.match(line)
        assert match, line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
        samples[match["name"], labels] = float(match["value"])
    return samples


def _jobs(samples, process: str, status: str) -> float:
    return samples["flintcloud_jobs", frozenset({("process", process), ("status", status)})]


def _submit(client) -> str:
    response = client.post("/processes/point/execution", json={"inputs": {}},
                           headers={"Prefer": "respond-async"})
    assert response.status_code == 201, response.text
    return response.json()["jobID"]


def test_metrics_count_queued_running_and_finished_jobs(client, worker):
    empty = client.get("/metrics")
    assert empty.status_code == 200
    assert empty.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse(empty.text)
    assert samples["flintcloud_queue_depth", frozenset()] == 0
    # every process and status is a series from the start, so none appears out of nowhere
    assert _jobs(samples, "gcbm", "accepted") == 0 and _jobs(samples, "point", "successful") == 0

    first, second, third = _submit(client), _submit(client), _submit(client)
    assert client.delete(f"/jobs/{third}").status_code == 200
    samples = parse(client.get("/metrics").text)
    assert samples["flintcloud_queue_depth", frozenset()] == 2
    assert _jobs(samples, "point", "accepted") == 2 and _jobs(samples, "point", "dismissed") == 1

    assert worker.run_once().id == first
    samples = parse(client.get("/metrics").text)
    assert samples["flintcloud_queue_depth", frozenset()] == 1
    assert samples["flintcloud_jobs_running", frozenset()] == 0
    assert _jobs(samples, "point", "successful") == 1
    assert client.get(f"/jobs/{second}").json()["status"] == "accepted"


def test_metrics_are_public_when_auth_is_on(tmp_path):
    settings = make_settings(tmp_path, auth_tokens={"secret-token": "alice"})
    with TestClient(create_app(settings)) as client:
        assert client.get("/jobs").status_code == 401
        response = client.get("/metrics")
    assert response.status_code == 200 and "secret-token" not in response.text
    assert "alice" not in response.text


def test_running_jobs_and_label_values_are_escaped():
    text = render_metrics({("a\"b", "running"): 3, ("gcbm", "accepted"): 4}, ["gcbm"])
    samples = parse(text)
    assert samples["flintcloud_jobs_running", frozenset()] == 3
    assert samples["flintcloud_queue_depth", frozenset()] == 4
    assert 'flintcloud_jobs{process="a\\"b",status="running"} 3' in text.splitlines()
