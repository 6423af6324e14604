"""The API against its own OpenAPI document, with schemathesis (a tool nobody here wrote): every
operation, a few generated requests each, bounded in time. No server error, and every status
code, content type and header a response carries is one the document declares."""

from __future__ import annotations

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from conftest import make_settings
from flintcloud.service.app import create_app
from flintcloud.service.services import Services
from flintcloud.service.worker import Worker

CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_headers_conformance,
          checks.response_schema_conformance, checks.allow_header_conformance]
MAX_EXAMPLES = 5  # per operation: the whole run well under a minute


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    """One app for every case, with a worker in a thread so that synchronous executions
    (`/point`, `/rothc`, `/processes/{id}/execution`) finish."""
    app_settings = make_settings(tmp_path_factory.mktemp("schemathesis"), extra_processes=[],
                                 sync_timeout_s=30.0)
    services = Services.build(app_settings)
    worker = Worker(app_settings, database=services.database, registry=services.registry)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    yield create_app(app_settings, services=services)
    worker.stop()
    thread.join(timeout=30)
    services.database.dispose()


@pytest.fixture(scope="module")
def api_schema(served_app):
    return schemathesis.openapi.from_asgi("/openapi.json", served_app)


def test_api_conforms_to_its_openapi_document(api_schema):
    """Every operation, each with its own few cases; every failure is listed."""
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def conforms(case):
            case.call_and_validate(checks=CHECKS)

        try:
            conforms()
        except (Exception, BaseExceptionGroup) as err:  # schemathesis' FailureGroup: reported
            failures.append(f"{operation.label}: {err}")
    assert not failures, "\n\n".join(failures)
