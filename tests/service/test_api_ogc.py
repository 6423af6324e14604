"""OGC API - Processes through the in-process test client."""

from __future__ import annotations

import pytest

from conftest import run_in_thread
from flintcloud.service.jobs import JobStatus

OGC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0"


def test_landing_page_is_json_for_ogc_clients_and_text_for_upstream_clients(client):
    assert client.get("/", headers={"Accept": "text/plain"}).text == "FLINT.Cloud API"
    landing = client.get("/", headers={"Accept": "application/json"}).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "service-doc",
            "http://www.opengis.net/def/rel/ogc/1.0/processes"} <= rels


def test_conformance_declares_core_job_list_and_dismiss(client):
    classes = client.get("/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in classes)
    assert any(c.endswith("/conf/dismiss") for c in classes)
    assert any(c.endswith("/conf/job-list") for c in classes)


def test_processes_list_and_describe_input_schemas(client):
    ids = [p["id"] for p in client.get("/processes").json()["processes"]]
    assert {"point", "rothc", "gcbm"} <= set(ids)
    gcbm = client.get("/processes/gcbm").json()
    assert gcbm["inputs"]["simulation"]["minOccurs"] == 1
    assert gcbm["inputs"]["simulation"]["schema"]["type"] == "string"
    assert "sync-execute" not in gcbm["jobControlOptions"]
    point = client.get("/processes/point").json()
    assert point["inputs"]["config"]["minOccurs"] == 0
    assert point["outputs"]["stock"]["schema"]["contentMediaType"] == "text/csv"


def test_unknown_process_is_404_no_such_process(client):
    response = client.get("/processes/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"{OGC}/no-such-process"


def test_invalid_inputs_are_422_with_field_errors(client):
    response = client.post("/processes/point/execution", json={"inputs": {"confg": {}}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "inputs.confg"


def test_async_execute_poll_results(client, worker):
    response = client.post("/processes/point/execution", json={"inputs": {}},
                           headers={"Prefer": "respond-async"})
    assert response.status_code == 201
    status = response.json()
    assert status["status"] == "accepted"
    assert response.headers["Location"].endswith(f"/jobs/{status['jobID']}")
    assert response.headers["Preference-Applied"] == "respond-async"
    not_ready = client.get(f"/jobs/{status['jobID']}/results")
    assert not_ready.status_code == 404
    assert not_ready.json()["type"] == f"{OGC}/result-not-ready"

    worker.run_once()

    polled = client.get(response.headers["Location"]).json()
    assert polled["status"] == "successful" and polled["progress"] == 100
    assert polled["started"] and polled["finished"]
    results = client.get(f"/jobs/{status['jobID']}/results").json()
    stock = client.get(results["stock"]["href"])
    assert stock.status_code == 200 and stock.text.startswith("OutputerStream")
    files = client.get(results["files"]["href"])
    assert files.headers["content-type"] == "application/zip"
    log = client.get(f"/jobs/{status['jobID']}/logs").json()
    assert any("successful" in line for line in log["lines"])


def test_sync_execute_returns_results_document(client, background_worker):
    response = client.post("/processes/rothc/execution", json={"inputs": {}})
    assert response.status_code == 200
    assert set(response.json()) == {"stock", "files"}
    assert "/jobs/" in response.headers["Location"]


def test_sync_execute_of_a_failing_config_answers_the_failure(client, background_worker):
    response = client.post("/processes/point/execution",
                           json={"inputs": {"config": {"LocalDomain": {"type": "spatial_tiled"}}}})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_config"


def test_job_list_is_paginated_and_filterable(client, services, worker):
    for _ in range(3):
        services.jobs.submit("point", {}, owner="")
    services.jobs.submit("rothc", {}, owner="")
    worker.run_once()  # the oldest point job succeeds
    page = client.get("/jobs", params={"limit": 2}).json()
    assert page["numberMatched"] == 4 and len(page["jobs"]) == 2
    assert any(link["rel"] == "next" for link in page["links"])
    rest = client.get("/jobs", params={"limit": 2, "offset": 2}).json()
    assert {j["jobID"] for j in rest["jobs"]}.isdisjoint({j["jobID"] for j in page["jobs"]})
    assert client.get("/jobs", params={"processID": "rothc"}).json()["numberMatched"] == 1
    successful = client.get("/jobs", params={"status": "successful"}).json()
    assert successful["numberMatched"] == 1


def test_dismiss_a_queued_job_then_delete_it(client, services, worker):
    job, _ = services.jobs.submit("point", {}, owner="")
    dismissed = client.delete(f"/jobs/{job.id}")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert worker.run_once() is None  # a dismissed job is never claimed
    assert client.delete(f"/jobs/{job.id}").status_code == 200  # final: removed
    assert client.get(f"/jobs/{job.id}").status_code == 404


def test_failed_job_results_answer_with_the_failure_status(client, services, worker):
    job, _ = services.jobs.submit("point", {"config": {"LocalDomain": {}}}, owner="")
    worker.run_once()
    status = client.get(f"/jobs/{job.id}").json()
    assert status["status"] == "failed"
    assert status["error"]["code"] == "invalid_config"
    results = client.get(f"/jobs/{job.id}/results")
    assert results.status_code == 422 and results.json()["code"] == "invalid_config"


@pytest.mark.parametrize("path", ["/jobs/not-a-uuid", "/jobs/00000000-0000-4000-8000-000000000000"])
def test_unknown_jobs_are_404_no_such_job(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.json()["code"] == "no_such_job"


def test_progress_from_the_executor_shows_on_the_job(client, services, worker):
    job, _ = services.jobs.submit("slow", {"steps": 40, "delay_s": 0.02}, owner="")
    thread = run_in_thread(worker.run_once)
    seen = set()
    while thread.is_alive():
        current = services.jobs.repository.get(job.id)
        if current.status is JobStatus.RUNNING and current.progress:
            seen.add(current.message)
        thread.join(timeout=0.05)
    assert any(message.startswith("step ") for message in seen)
    assert services.jobs.repository.get(job.id).status is JobStatus.SUCCESSFUL


def test_openapi_documents_the_bearer_scheme_only_with_auth_and_is_aliased(client, tmp_path):
    from fastapi.testclient import TestClient

    from conftest import make_settings
    from flintcloud.service.app import create_app

    spec = client.get("/openapi.json").json()
    assert "securitySchemes" not in spec["components"]  # auth off: no operation needs a token
    assert not any("security" in operation for item in spec["paths"].values()
                   for operation in item.values())
    with TestClient(create_app(make_settings(tmp_path, auth_tokens={"t": "alice"}))) as authed:
        secured = authed.get("/openapi.json").json()
    assert secured["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"401", "403"} <= set(secured["paths"]["/jobs/{job_id}"]["get"]["responses"])
    assert client.get("/spec").json() == spec
    assert client.get("/api").json() == spec
    assert "swagger" in client.get("/docs").text.lower()


def test_cors_origins_are_configurable(tmp_path):
    from fastapi.testclient import TestClient

    from conftest import make_settings
    from flintcloud.service.app import create_app

    settings = make_settings(tmp_path, cors_origins=["https://ui.example.org"])
    with TestClient(create_app(settings)) as client:
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = client.options("/jobs", headers={"Origin": "https://ui.example.org", **preflight})
        assert allowed.headers["access-control-allow-origin"] == "https://ui.example.org"
        other = client.get("/conformance", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(("accept", "kind"), [
    (None, "application/json"), ("*/*", "application/json"),  # OWSLib's, curl's, requests'
    ("application/json", "application/json"), ("application/*", "application/json"),
    ("text/plain", "text/plain"), ("text/plain;q=0.5, application/json", "application/json"),
    ("application/json;q=0.1, text/plain", "text/plain"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("image/png", "application/json"), ("text/plain;q=nonsense", "application/json"),
])
def test_landing_page_is_json_unless_another_type_is_named(client, accept, kind):
    headers = {"Accept": accept} if accept is not None else {}
    request = client.build_request("GET", "/", headers=headers)
    if accept is None:
        del request.headers["Accept"]  # no header at all
    response = client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == kind


def test_owslib_processes_client_reads_the_service(tmp_path):
    """OWSLib's OGC API - Processes client, with its own default headers, against a loopback
    server: the landing page, the process list and a process description."""
    owslib_processes = pytest.importorskip("owslib.ogcapi.processes")
    from tests.served import ServedProcess

    server = ServedProcess(tmp_path, workers=0)
    try:
        processes = owslib_processes.Processes(server.url + "/", timeout=10)
        assert any(link["rel"] == "service-desc" for link in processes.links)
        listed = {process["id"] for process in processes.processes()}
        assert {"point", "rothc", "gcbm"} <= listed
        assert processes.process("point")["id"] == "point"
    finally:
        server.stop()


def test_openapi_documents_problem_errors_3_1_and_the_idempotency_key(client):
    """Every error is documented as application/problem+json (the codes an operation answers
    by name, 4XX for the rest); OpenAPI 3.1 everywhere; the Idempotency-Key's constraints."""
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            errors = {code: response for code, response in operation["responses"].items()
                      if code.startswith("4") or code.startswith("5")}
            assert "4XX" in errors, (method, path)
            for code, response in errors.items():
                assert response["content"] == {"application/problem+json": {"schema": problem}}, \
                    (method, path, code)
    job = spec["paths"]["/jobs/{job_id}"]["get"]["responses"]
    assert {"404", "422"} <= set(job)
    dynamic = spec["paths"]["/gcbm/dynamic"]["post"]["responses"]
    assert {"404", "409", "422"} <= set(dynamic)
    [key] = [p for p in spec["paths"]["/simulations/{simulation_id}/run"]["post"]["parameters"]
             if p["name"] == "Idempotency-Key"]
    schema = key["schema"]["anyOf"][0]
    assert (schema["minLength"], schema["maxLength"], schema["pattern"]) == (1, 255, "^[ -~]+$")
    assert client.post("/processes/point/execution", json={"inputs": {}},
                       headers={"Idempotency-Key": "x" * 256}).status_code == 422
    landing = client.get("/", headers={"Accept": "application/json"}).json()
    [desc] = [link for link in landing["links"] if link["rel"] == "service-desc"]
    assert desc["type"].endswith("version=3.1")
    assert not any("oas30" in c for c in client.get("/conformance").json()["conformsTo"])


def test_405_allows_every_method_of_the_path(client):
    answer = client.put("/jobs")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["allow"] == "GET, HEAD"
    simulation = client.put("/simulations/00000000-0000-4000-8000-000000000000")
    assert simulation.headers["allow"] == "DELETE, GET, HEAD"
    check = client.delete("/check")
    assert check.headers["allow"] == "GET, HEAD, POST"


def test_process_list_items_link_self_and_raw_or_value_is_refused(client, background_worker):
    processes = client.get("/processes").json()["processes"]
    for process in processes:
        [self_link] = [link for link in process["links"] if link["rel"] == "self"]
        assert self_link["href"].endswith(f"/processes/{process['id']}")
    raw = client.post("/processes/point/execution", json={"inputs": {}, "response": "raw"})
    assert raw.status_code == 422 and raw.json()["errors"][0]["field"] == "body.response"
    value = client.post("/processes/point/execution",
                        json={"inputs": {}, "outputs": {"stock": {"transmissionMode": "value"}}})
    assert value.status_code == 422
    assert value.json()["errors"][0]["field"] == "body.outputs.stock.transmissionMode"
    unknown = client.post("/processes/point/execution", json={"inputs": {}, "outputs": {"x": {}}})
    assert unknown.status_code == 422 and "no output 'x'" in unknown.json()["detail"]
    selected = client.post("/processes/point/execution",
                           json={"inputs": {}, "outputs": {"stock": {"transmissionMode": "reference"}}})
    assert selected.status_code == 200, selected.text
    assert list(selected.json()) == ["stock"]
