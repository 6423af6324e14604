"""Point and RothC configurations as FLINT-UI and the web UI send them: any part may be edited;
one FLINT cannot run (FLINT-UI's default configuration before its pool sliders are touched
holds null pools) is a 422 naming the file, the field and the pool before any job is queued."""

from __future__ import annotations

import json

import pytest

from flintcloud.runner.examples import EXAMPLES


def _flint_ui_point(pools: dict[str, float | None]) -> dict:
    """FLINT-UI's Point configuration (store/modules/point.js): pools and variables as lists
    of one-key objects."""
    document = EXAMPLES["point"]()[0][1]
    document["Pools"] = [{name: value} for name, value in pools.items()]
    return document


@pytest.mark.parametrize("path", ["/point", "/processes/point/execution"])
def test_null_pools_are_a_422_naming_the_pool_and_queue_nothing(client, path):
    document = _flint_ui_point({"Pool 1": 100.0, "Pool 2": None, "Pool 3": None})
    body = json.dumps(document if path == "/point" else {"inputs": {"config": document}})
    answer = client.post(path, content=body, headers={"Content-Type": "application/json",
                                                      "Prefer": "respond-async"})
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["errors"] == [{
        "source": "received_point_example.json", "field": 'Pools[1]["Pool 2"]',
        "message": "pool 'Pool 2': expected a number, got None", "code": "invalid_config"}]
    assert "pool 'Pool 2'" in problem["detail"]
    assert client.get("/jobs").json()["jobs"] == []


def test_any_part_of_a_rothc_configuration_is_checked_before_it_runs(client):
    document = EXAMPLES["rothc"]()[0][1]
    document["Modules"]["NoSuchModule"] = {"enabled": True, "library": "moja.flint.example.rothc",
                                           "order": 6}
    answer = client.post("/processes/rothc/execution", json={"inputs": {"config": document}})
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == ["Modules.NoSuchModule.library"]
    assert client.get("/jobs").json()["jobs"] == []


def test_edited_pools_variables_modules_and_series_run(client, background_worker):
    """What the UI's JSON editor may change: a pool, a variable, a module's settings and a time
    series, all in one posted configuration; the run answers with the edited stock table."""
    document = _flint_ui_point({"Pool 1": 50.0, "Pool 2": 0.0, "Pool 3": 25.0})
    document["Modules"]["TestModule1"]["settings"]["ratio_1"] = 0.1
    document["LocalDomain"]["end_date"] = "1921/01/01"
    answer = client.post("/point", content=json.dumps(document))
    assert answer.status_code == 200, answer.text
    rows = [line.split(",") for line in answer.text.splitlines()]
    header = next(row for row in rows if row[0] == "notification")
    first = rows[rows.index(header) + 1]
    assert [float(first[header.index(pool)]) for pool in ("Pool 1", "Pool 2", "Pool 3")] == \
        [50.0, 0.0, 25.0]
    rothc = EXAMPLES["rothc"]()[0][1]
    for variable in rothc["Variables"]:
        if "rainfall" in variable:
            variable["rainfall"]["transform"]["data"] = [0.0] * len(
                variable["rainfall"]["transform"]["data"])
    dry = client.post("/rothc", content=json.dumps(rothc))
    normal = client.post("/rothc")
    assert dry.status_code == normal.status_code == 200
    last = [[line for line in answer.text.splitlines() if line.startswith("onOutputStep")][-1]
            for answer in (dry, normal)]
    assert last[0] != last[1]  # no rain: another soil water deficit, other decay rates


def _flint_ui_rothc(soil: dict[str, str] | None = None) -> dict:
    """FLINT-UI's RothC configuration (store/modules/rothc.js): each series under
    `data_month_avg` chosen by `data_property`, the soil structs' numbers as strings."""
    document = EXAMPLES["rothc"]()[0][1]
    for variable in document["Variables"]:
        for value in variable.values():
            transform = value.get("transform") if isinstance(value, dict) else None
            if isinstance(transform, dict) and "data" in transform:
                series = transform.pop("data")
                transform.update(data_property="data_month_avg", data_month_avg=series,
                                 data_orig=[0.0] * len(series))
        for name in ("initSoil", "soil"):
            if name in variable:
                variable[name] = {key: str(number) for key, number in variable[name].items()}
        if soil and "soil" in variable:
            variable["soil"].update(soil)
    return document


def test_flint_ui_rothc_request_runs_as_the_example(client, background_worker):
    def steps(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith(("onTiming", "onOutput"))]

    answer = client.post("/rothc", content=json.dumps(_flint_ui_rothc()))
    assert answer.status_code == 200, answer.text
    assert steps(answer.text) == steps(client.post("/rothc").text)
    refused = client.post("/rothc", content=json.dumps(_flint_ui_rothc({"sampleDepth": "deep"})))
    assert refused.status_code == 422
    assert "variable 'soil', field 'sampleDepth': 'deep' is not a number" in \
        refused.json()["detail"]
