"""The deployment templates use real commands, options and settings."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from flintcloud.cli import app
from flintcloud.errors import ConfigError
from flintcloud.settings import Settings
from tests.conftest import PROJECT_ROOT


def _commands() -> set[str]:
    return {command.name or command.callback.__name__ for command in app.registered_commands}


DEPLOY = PROJECT_ROOT / "deploy"


def _kubernetes_documents() -> list[dict]:
    return [document for path in sorted((DEPLOY / "k8s").rglob("*.yaml"))
            if path.name != "kustomization.yaml"
            for document in yaml.safe_load_all(path.read_text()) if document]


def _containers(documents: list[dict]) -> list[dict]:
    return [container for document in documents if document["kind"] == "Deployment"
            for container in document["spec"]["template"]["spec"]["containers"]]


def test_compose_and_kubernetes_run_existing_commands_with_known_settings():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    containers = _containers(_kubernetes_documents())
    services = {name: service for name, service in compose["services"].items() if name != "db"}
    flint = [service["command"] for service in services.values() if "entrypoint" not in service]
    flint += [container["args"] for container in containers if "command" not in container]
    assert {args[0] for args in flint} == {"serve", "worker"} <= _commands()
    # the Dask services run the image's `dask` command: a scheduler and workers pointed at it
    dask = [service["entrypoint"] + service["command"] for service in services.values()
            if "entrypoint" in service]
    dask += [container["command"] + container["args"] for container in containers
             if "command" in container]
    assert {tuple(args[:2]) for args in dask} == {("dask", "scheduler"), ("dask", "worker")}
    schedulers = {args[2] for args in dask if args[1] == "worker"}
    assert schedulers == {"tcp://dask-scheduler:8786", "tcp://flintcloud-dask-scheduler:8786"}
    settings = {f"FLINTCLOUD_{name.upper()}" for name in Settings.model_fields}
    variables = {name for service in services.values()
                 for name in service.get("environment", {}) if name.startswith("FLINTCLOUD_")}
    variables |= {env["name"] for container in containers for env in container.get("env", [])
                  if env["name"].startswith("FLINTCLOUD_")}
    assert "FLINTCLOUD_DASK_SCHEDULER" in variables and variables <= settings
    # the service and the job workers are told where the scheduler is, in both
    assert {service["environment"]["FLINTCLOUD_DASK_SCHEDULER"] for service in services.values()
            if "environment" in service} <= schedulers


def test_kubernetes_keeps_secrets_out_of_the_environment_and_runs_locked_down():
    documents = _kubernetes_documents()
    containers = _containers(documents)
    assert containers
    for container in containers:
        assert all("valueFrom" not in env for env in container.get("env", [])), container["name"]
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] and context["runAsNonRoot"]
        assert context["allowPrivilegeEscalation"] is False
        assert container["resources"]["requests"] and container["livenessProbe"]
    kinds = {document["kind"] for document in documents}
    assert {"NetworkPolicy", "HorizontalPodAutoscaler"} <= kinds
    autoscalers = [document for document in documents
                   if document["kind"] == "HorizontalPodAutoscaler"
                   and document["spec"]["scaleTargetRef"]["name"] == "flintcloud-worker"]
    assert autoscalers[0]["spec"]["metrics"][0]["type"] == "External"


def test_database_url_file_keeps_the_url_out_of_the_environment(tmp_path):
    secret = tmp_path / "url"
    secret.write_text("postgresql+psycopg://u:p@db/flintcloud\n")
    settings = Settings(data_dir=tmp_path, database_url_file=secret)
    assert settings.resolved_database_url == "postgresql+psycopg://u:p@db/flintcloud"
    explicit = Settings(data_dir=tmp_path, database_url="sqlite://", database_url_file=secret)
    assert explicit.resolved_database_url == "sqlite://"
    with pytest.raises(ConfigError, match="cannot read the database URL"):
        Settings(data_dir=tmp_path, database_url_file=tmp_path / "missing")


def _checkov(*arguments: str) -> dict:
    """checkov's JSON report (one framework per call); checkov runs offline (--skip-download)."""
    result = subprocess.run([sys.executable, "-m", "checkov.main", "--skip-download",
                             "--output", "json", *arguments],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.mark.parametrize("arguments", [
    ("-d", "deploy/terraform", "--framework", "terraform"),
    ("-d", "deploy/k8s", "--framework", "kubernetes"),
    ("-f", "Dockerfile", "--framework", "dockerfile"),
], ids=["terraform", "kubernetes", "dockerfile"])
def test_checkov_finds_no_failed_check(arguments):
    pytest.importorskip("checkov", reason="install flintcloud[test]")
    report = _checkov(*arguments)
    failed = [(check["check_id"], check["resource"], check["file_path"])
              for check in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 0
    # every suppression says why, next to it
    for check in report["results"]["skipped_checks"]:
        assert len((check.get("check_result") or {}).get("suppress_comment") or "") > 20, check


def test_kustomize_renders_and_checkov_passes_the_rendered_manifests(tmp_path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    for overlay in ("base", "overlays/gke"):
        rendered = subprocess.run([kubectl, "kustomize", f"deploy/k8s/{overlay}"], check=True,
                                  capture_output=True, text=True, cwd=PROJECT_ROOT).stdout
        path = tmp_path / f"{overlay.replace('/', '-')}.yaml"
        path.write_text(rendered)
        if importlib.util.find_spec("checkov") is not None:
            report = _checkov("-f", str(path), "--framework", "kubernetes")
            assert report["results"]["failed_checks"] == [], overlay


def test_terraform_is_formatted():
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed")
    result = subprocess.run([terraform, "fmt", "-check", "-recursive", "deploy/terraform"],
                            capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for cloud in ("azure", "gcp"):
        module = DEPLOY / "terraform" / cloud
        assert {"variables.tf", "outputs.tf", "README.md"} <= {p.name for p in module.iterdir()}
        # no output exposes a secret: none reads a password, a secret's value or an access key
        outputs = (module / "outputs.tf").read_text()
        assert not re.search(r"random_password|secret_data|access_key|\.value\b|sensitive", outputs)


def test_dockerfile_starts_the_service_and_checks_its_health():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert re.search(r'CMD \["serve", "--host", "0.0.0.0"', dockerfile)
    assert "/check" in dockerfile and 'ENTRYPOINT ["flintcloud"]' in dockerfile


def test_ci_scenario_workflow_runs_existing_commands_and_options():
    """deploy/ci's GitHub Actions template: every `flintcloud` line names a real command."""
    from flintcloud.cli.gcbm import gcbm_app

    workflow = yaml.safe_load((PROJECT_ROOT / "deploy" / "ci" / "gcbm-scenario.yml").read_text())
    lines = [line.strip() for step in workflow["jobs"]["report"]["steps"]
             for line in step.get("run", "").splitlines() if line.strip().startswith("flintcloud")]
    used = {tuple(line.split()[1:3]) if line.split()[1] == "gcbm" else (line.split()[1],)
            for line in lines}
    gcbm = {command.name or command.callback.__name__ for command in gcbm_app.registered_commands}
    assert used == {("gcbm", "run"), ("reproduce",), ("report",)}
    assert {"reproduce", "report"} <= _commands() and "run" in gcbm
    assert any("--settings" in line for line in lines)
    assert any("cml comment create" in step.get("run", "") for step in workflow["jobs"]["report"]["steps"])
