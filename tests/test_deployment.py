"""The deployment templates use real commands, options and settings."""

from __future__ import annotations

import re

import yaml

from flintcloud.cli import app
from flintcloud.settings import Settings
from tests.conftest import PROJECT_ROOT


def _commands() -> set[str]:
    return {command.name or command.callback.__name__ for command in app.registered_commands}


def test_compose_and_kubernetes_run_existing_commands_with_known_settings():
    compose = yaml.safe_load((PROJECT_ROOT / "deploy" / "docker-compose.yml").read_text())
    kubernetes = list(yaml.safe_load_all((PROJECT_ROOT / "deploy" / "k8s" / "flintcloud.yaml")
                                         .read_text()))
    arguments = [service["command"] for name, service in compose["services"].items() if name != "db"]
    arguments += [container["args"] for document in kubernetes if document["kind"] == "Deployment"
                  for container in document["spec"]["template"]["spec"]["containers"]]
    assert {args[0] for args in arguments} == {"serve", "worker"} <= _commands()
    settings = {f"FLINTCLOUD_{name.upper()}" for name in Settings.model_fields}
    variables = {name for service in compose["services"].values()
                 for name in service.get("environment", {}) if name.startswith("FLINTCLOUD_")}
    variables |= {env["name"] for document in kubernetes if document["kind"] == "Deployment"
                  for container in document["spec"]["template"]["spec"]["containers"]
                  for env in container.get("env", [])}
    assert variables and variables <= settings


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
