"""The concrete security tests of upstream-and-service.md §4, one or more per item."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid

import pytest
from fastapi.testclient import TestClient

from conftest import (
    SMALL_ATTRIBUTES,
    make_geotiff,
    make_input_db,
    make_settings,
    multipart,
    run_in_thread,
    small_project_files,
    zip_bytes,
)
from flintcloud.service.app import create_app
from flintcloud.service.jobs import JobStatus
from flintcloud.service.server import recover_orphans
from flintcloud.service.services import Services
from flintcloud.service.uploads import safe_filename


def new_simulation(client, title="sim") -> str:
    response = client.post("/simulations", json={"title": title})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def stored_files(settings) -> list[str]:
    root = settings.storage_dir / "simulations"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- 413 on an oversize upload ---------------------------------------------------------------------

@pytest.fixture
def small_limit_client(tmp_path):
    settings = make_settings(tmp_path, max_upload_bytes=64 * 1024, max_json_bytes=1024)
    services = Services.build(settings)
    with TestClient(create_app(settings, services=services)) as client:
        yield client, settings
    services.database.dispose()


def test_oversize_upload_is_413_and_leaves_nothing(small_limit_client):
    client, settings = small_limit_client
    simulation = new_simulation(client)
    before = stored_files(settings)
    big = b"\0" * (100 * 1024)
    response = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("big.tiff", big))], data={"category": "classifiers"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_files(settings) == before
    assert not any((settings.storage_dir / "staging").iterdir())


def test_oversize_chunked_body_without_content_length_is_413(small_limit_client):
    client, _ = small_limit_client

    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    response = client.post("/point", content=chunks(), headers={"content-type": "text/plain"})
    assert response.status_code == 413


def test_oversize_json_body_is_413(small_limit_client):
    client, _ = small_limit_client
    response = client.post("/point", json={"padding": "x" * 4096})
    assert response.status_code == 413


# -- traversal file names are rewritten ----------------------------------------------------------

@pytest.mark.parametrize(("name", "safe"), [
    ("../x.tif", "x.tif"), ("/etc/passwd", "passwd"), ("..\\..\\evil.tiff", "evil.tiff"),
    ("C:\\data\\a b.tiff", "a_b.tiff"), ("....tiff", "tiff"), ("ok_name-1.tiff", "ok_name-1.tiff"),
    ("é.tif", "e.tif"),
])
def test_file_names_are_sanitised(name, safe):
    assert safe_filename(name) == safe


@pytest.mark.parametrize("name", ["..", "/", "", "../..", "\\"])
def test_file_names_without_usable_characters_are_rejected(name):
    with pytest.raises(Exception, match="no usable characters"):
        safe_filename(name)


def test_traversal_names_are_stored_inside_the_simulation(client, settings, tmp_path):
    simulation = new_simulation(client)
    raster = make_geotiff(tmp_path / "a.tiff", [[1, 2]]).read_bytes()
    for name in ("../../escape.tiff", "/tmp/absolute.tiff", "..\\..\\windows.tiff"):
        response = client.post(f"/simulations/{simulation}/files", data={"category": "classifiers"},
                               files=[("files", (name, raster))])
        assert response.status_code == 200, response.text
    inputs = client.get(f"/simulations/{simulation}/inputs").json()["classifiers"]
    assert sorted(item["name"] for item in inputs) == ["absolute.tiff", "escape.tiff", "windows.tiff"]
    assert not (settings.storage_dir.parent / "escape.tiff").exists()
    assert all(path.startswith(f"{simulation}/inputs/classifiers/") or path.endswith(".json")
               for path in stored_files(settings))


def test_output_paths_cannot_leave_the_output_directory(client):
    simulation = new_simulation(client)
    for path in ("../../../simulation.json", "%2e%2e/%2e%2e/x"):
        response = client.get(f"/simulations/{simulation}/outputs/{path}")
        assert response.status_code in (404, 422)


# -- zips: ../, absolute, symlinks, bombs ---------------------------------------------------------

@pytest.mark.parametrize("members,symlinks,reason", [
    ({"classifiers/../../evil.tiff": b"x"}, None, "points outside the archive"),
    ({"/abs/evil.tiff": b"x"}, None, "has an absolute or non-portable path"),
    ({"classifiers/ok.tiff": b"x"}, {"classifiers/link.tiff": "/etc/passwd"}, "is a symbolic link"),
])
def test_zip_with_unsafe_members_is_rejected_whole(client, settings, members, symlinks, reason):
    simulation = new_simulation(client)
    before = stored_files(settings)
    archive = zip_bytes(members, symlinks=symlinks)
    response = client.post(f"/simulations/{simulation}/files", files=[("files", ("x.zip", archive))])
    assert response.status_code == 422
    assert reason in response.json()["detail"]
    assert stored_files(settings) == before


def test_zip_bomb_is_rejected_by_ratio_and_by_size(tmp_path):
    settings = make_settings(tmp_path, max_zip_ratio=50, max_zip_uncompressed_bytes=1024 * 1024)
    services = Services.build(settings)
    with TestClient(create_app(settings, services=services)) as client:
        simulation = new_simulation(client)
        bomb = zip_bytes({"classifiers/zeros.tiff": b"\0" * (2 * 1024 * 1024)})
        response = client.post(f"/simulations/{simulation}/files", files=[("files", ("b.zip", bomb))])
        assert response.status_code == 422
        assert "zip bomb" in response.json()["detail"]
        assert "more than 1,048,576 bytes once decompressed" in response.json()["detail"]
    services.database.dispose()


def test_zip_with_too_many_members_is_rejected(tmp_path):
    settings = make_settings(tmp_path, max_zip_members=5)
    services = Services.build(settings)
    with TestClient(create_app(settings, services=services)) as client:
        simulation = new_simulation(client)
        archive = zip_bytes({f"classifiers/{i}.tiff": b"x" for i in range(6)})
        response = client.post(f"/simulations/{simulation}/files", files=[("files", ("m.zip", archive))])
        assert response.status_code == 422 and "at most 5" in response.json()["detail"]
    services.database.dispose()


# -- content validation ---------------------------------------------------------------------------

def test_non_tiff_renamed_tiff_is_422_and_nothing_is_kept(client, settings, tmp_path):
    simulation = new_simulation(client)
    good = make_geotiff(tmp_path / "good.tiff", [[1, 2]]).read_bytes()
    response = client.post(f"/simulations/{simulation}/files", data={"category": "classifiers"},
                           files=[("files", ("good.tiff", good)),
                                  ("files", ("fake.tiff", b"<html>not a raster</html>"))])
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == [{"field": "fake.tiff", "source": "fake.tiff", "code": "invalid_raster",
                       "message": "not a GeoTIFF: the file does not start with a TIFF header",
                       "hint": "upload a GeoTIFF"}]
    assert client.get(f"/simulations/{simulation}/inputs").json()["classifiers"] == []


def test_rasters_must_share_crs_resolution_and_alignment(client, tmp_path):
    simulation = new_simulation(client)
    base = make_geotiff(tmp_path / "base.tiff", [[1, 2]])
    assert client.post(f"/simulations/{simulation}/files", data={"category": "classifiers"},
                       files=[("files", ("base.tiff", base.read_bytes()))]).status_code == 200
    variants = {
        "utm.tiff": make_geotiff(tmp_path / "utm.tiff", [[1]], crs="EPSG:32613", origin=(500000, 6000000), resolution=30),
        "coarse.tiff": make_geotiff(tmp_path / "coarse.tiff", [[1]], resolution=0.001),
        "shifted.tiff": make_geotiff(tmp_path / "shifted.tiff", [[1]], origin=(-106.0001, 55.0)),
    }
    for name, path in variants.items():
        response = client.post(f"/simulations/{simulation}/files", data={"category": "classifiers"},
                               files=[("files", (name, path.read_bytes()))])
        assert response.status_code == 422, name
        [error] = response.json()["errors"]
        assert error["source"] == name and error["field"] == "grid"
        assert error["message"].startswith({"utm.tiff": "CRS EPSG:32613 differs",
                                            "coarse.tiff": "pixel size 0.001 x 0.001 differs",
                                            "shifted.tiff": "grid is shifted by (-0.400"}[name])


def test_sqlite_upload_must_be_a_gcbm_input_database(client, tmp_path):
    simulation = new_simulation(client)
    import sqlite3

    partial = tmp_path / "partial.db"
    sqlite3.connect(partial).execute("CREATE TABLE classifier (id INTEGER)").connection.commit()
    for name, data, message in [("fake.db", b"not sqlite at all", "not an SQLite database"),
                                ("partial.db", partial.read_bytes(), "31 of GCBM's tables are missing")]:
        response = client.post(f"/simulations/{simulation}/files", data={"category": "db"},
                               files=[("files", (name, data))])
        assert response.status_code == 422 and message in response.json()["detail"]


def test_attributes_json_is_validated_per_field(client, tmp_path):
    simulation = new_simulation(client)
    raster = make_geotiff(tmp_path / "c.tiff", [[1]]).read_bytes()
    bad = {"c.tiff": {"1": {"year": "soon", "disturbance_type": "Wildfire"}}}
    response = client.post(f"/simulations/{simulation}/files", data={"category": "disturbances",
                                                                    "attributes": json.dumps(bad)},
                           files=[("files", ("c.tiff", raster))])
    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "layers.c.attributes['1'].year", "source": "attributes.json",
        "code": "invalid_input", "message": "year 'soon' is not an integer",
        "hint": "give it in the attributes, or name the file *_YYYY*"}]


# -- SQL identifiers -----------------------------------------------------------------------------

@pytest.mark.parametrize(("previous", "new"), [
    ("extra_table; DROP TABLE classifier", "x"), ("extra_table", "x; DROP TABLE classifier"),
    ("extra_table", 'x" ; DROP TABLE classifier; --'), ("extra_table", "sqlite_master"),
    ("no_such_table", "x"), ("classifier", "renamed"),  # required by GCBM
    ("extra_table", "classifier"),  # exists
])
def test_malicious_or_invalid_table_names_are_rejected(client, tmp_path, previous, new):
    client.post("/gcbm/upload/db", data={"title": "t"},
                files=[("db", ("gcbm_input.db", make_input_db(tmp_path / "in.db").read_bytes()))])
    before = client.post("/upload/db/tables", data={"title": "t"}).json()
    response = client.post("/gcbm/table/rename", data={"title": "t", "previous": previous, "new": new})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert client.post("/upload/db/tables", data={"title": "t"}).json() == before


def test_titles_cannot_traverse(client):
    client.post("/gcbm/new", data={"title": "../../etc"})
    assert client.get("/gcbm/list").json()["data"] == ["etc"]


# -- auth and ownership ----------------------------------------------------------------------------

@pytest.fixture
def auth_client(tmp_path):
    token_file = tmp_path / "tokens"
    token_file.write_text("# token owner\nbob-token bob\n")
    settings = make_settings(tmp_path, auth_tokens={"alice-token": "alice"}, auth_token_file=token_file)
    services = Services.build(settings)
    with TestClient(create_app(settings, services=services)) as client:
        yield client, services
    services.database.dispose()


ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}


def test_without_token_401_with_another_users_job_403(auth_client):
    client, _ = auth_client
    assert client.get("/jobs").status_code == 401
    assert client.get("/jobs").headers["www-authenticate"].startswith("Bearer")
    assert client.get("/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    created = client.post("/processes/point/execution", json={"inputs": {}},
                          headers={**ALICE, "Prefer": "respond-async"})
    assert created.status_code == 201
    job_id = created.json()["jobID"]
    assert client.get(f"/jobs/{job_id}", headers=ALICE).status_code == 200
    assert client.get(f"/jobs/{job_id}", headers=BOB).status_code == 403
    assert client.delete(f"/jobs/{job_id}", headers=BOB).status_code == 403
    assert client.get(f"/jobs/{job_id}/results", headers=BOB).status_code == 403
    assert client.get("/jobs", headers=BOB).json()["numberMatched"] == 0
    assert client.get("/jobs", headers=ALICE).json()["numberMatched"] == 1
    assert uuid.UUID(job_id).version == 4


def test_simulations_are_private_to_their_owner(auth_client):
    client, _ = auth_client
    simulation = client.post("/simulations", json={"title": "mine"}, headers=ALICE).json()["id"]
    assert client.get(f"/simulations/{simulation}", headers=BOB).status_code == 403
    assert client.get("/simulations", headers=BOB).json() == []
    client.post("/gcbm/new", data={"title": "mine"}, headers=BOB)  # same title, another owner
    assert client.get("/gcbm/list", headers=BOB).json()["data"] == ["mine"]
    assert len(client.get("/simulations", headers=ALICE).json()) == 1
    assert client.post("/gcbm/status", data={"title": "mine"}).status_code == 401


def test_public_endpoints_need_no_token(auth_client):
    client, _ = auth_client
    assert client.get("/check").status_code == 200
    assert client.get("/processes").status_code == 200
    assert client.get("/conformance").status_code == 200


# -- idempotent POST -------------------------------------------------------------------------------

def test_idempotent_post_replay_returns_the_same_job(client):
    headers = {"Idempotency-Key": "abc-123", "Prefer": "respond-async"}
    first = client.post("/processes/point/execution", json={"inputs": {}}, headers=headers)
    second = client.post("/processes/point/execution", json={"inputs": {}}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["jobID"] == second.json()["jobID"]
    assert second.headers["Idempotent-Replayed"] == "true"
    other = client.post("/processes/point/execution", json={"inputs": {"config": {}}}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert client.get("/jobs").json()["numberMatched"] == 1


def test_idempotent_simulation_run_replays(client, tmp_path):
    client.post("/gcbm/upload", data={"title": "s", "attributes": json.dumps(SMALL_ATTRIBUTES)},
                files=multipart(small_project_files(tmp_path / "u")))
    headers = {"Idempotency-Key": "run-1"}
    first = client.post("/gcbm/dynamic", data={"title": "s"}, headers=headers).json()
    second = client.post("/gcbm/dynamic", data={"title": "s"}, headers=headers).json()
    assert first["job"] == second["job"]


# -- cancel kills the work; a restart recovers orphans ------------------------------------------

def test_dismiss_kills_the_running_process(client, services, worker):
    job, _ = services.jobs.submit("slow", {"steps": 500, "delay_s": 0.02}, owner="")
    thread = run_in_thread(worker.run_once)
    pid = None
    for _ in range(400):  # poll (with a timeout) until the job process is up
        current = services.jobs.repository.get(job.id)
        if current.pid and current.progress > 0:
            pid = current.pid
            break
        thread.join(timeout=0.025)
    assert pid is not None, "the job never started"
    response = client.delete(f"/jobs/{job.id}")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    thread.join(timeout=20)
    assert not thread.is_alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    final = client.get(f"/jobs/{job.id}").json()
    assert final["status"] == "dismissed" and "stopped" in final["message"]
    assert not services.storage.job_results_dir(job.id).exists()
    assert client.get(f"/jobs/{job.id}/results").status_code == 404


def test_restart_requeues_orphaned_running_jobs_and_they_complete(settings, services, worker):
    job, _ = services.jobs.submit("point", {}, owner="")
    dead = subprocess.Popen(["true"])
    dead.wait()
    claimed = services.jobs.repository.claim_next(f"{socket.gethostname()}/{dead.pid}/gone")
    assert claimed.status is JobStatus.RUNNING

    restarted = Services.build(settings)  # a new server process on the same database
    [orphan] = recover_orphans(restarted)
    assert orphan.id == job.id and orphan.status is JobStatus.ACCEPTED
    done = worker.run_once()
    assert done.status is JobStatus.SUCCESSFUL and done.attempts == 2
    log = services.jobs.log(job.id, owner=None)[1]
    assert any("re-queued after attempt 1" in line for line in log)
    restarted.database.dispose()


def test_orphan_out_of_attempts_is_failed_with_a_message(settings, services):
    job, _ = services.jobs.submit("point", {}, owner="")
    dead = subprocess.Popen(["true"])
    dead.wait()
    for _ in range(settings.max_attempts):
        services.jobs.repository.claim_next(f"{socket.gethostname()}/{dead.pid}/gone")
        recover_orphans(services)
    failed = services.jobs.repository.get(job.id)
    assert failed.status is JobStatus.FAILED and failed.error_code == "worker_lost"
    assert "died" in failed.error_detail


def test_a_new_idempotency_key_cannot_start_a_second_concurrent_run(client, tmp_path):
    client.post("/gcbm/upload", data={"title": "s", "attributes": json.dumps(SMALL_ATTRIBUTES)},
                files=multipart(small_project_files(tmp_path / "u")))
    first = client.post("/gcbm/dynamic", data={"title": "s"}, headers={"Idempotency-Key": "a"})
    assert first.status_code == 200
    other = client.post("/gcbm/dynamic", data={"title": "s"}, headers={"Idempotency-Key": "b"})
    assert other.status_code == 409
