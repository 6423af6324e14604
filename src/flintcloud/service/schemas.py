"""Response shapes (for the OpenAPI document) and the functions that fill them.

Links are built with `request.url_for(<route name>)`, so a path is written once, in its router.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from flintcloud.service.jobs import Job, JobStatus
from flintcloud.service.processes import ProcessDefinition
from flintcloud.service.simulations import Simulation

OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    # Not .../conf/oas30: the API definition is OpenAPI 3.1 (OGC has no class for 3.1 yet).
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
]


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class JobError(BaseModel):
    code: str
    detail: str


class StatusInfo(BaseModel):
    """OGC statusInfo, plus `error` for a failed job and `attempts`."""

    model_config = ConfigDict(extra="allow")

    jobID: str
    processID: str
    type: Literal["process"] = "process"
    status: JobStatus
    message: str
    progress: int = Field(ge=0, le=100)
    created: datetime
    started: datetime | None = None
    finished: datetime | None = None
    updated: datetime
    attempts: int
    simulation: str | None = None
    error: JobError | None = None
    links: list[Link]


class JobList(BaseModel):
    jobs: list[StatusInfo]
    numberMatched: int
    links: list[Link]


class ProcessSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    description: str
    version: str
    jobControlOptions: list[str]
    outputTransmission: list[str]
    links: list[Link]


class ProcessList(BaseModel):
    processes: list[ProcessSummary]
    links: list[Link]


class ProcessDescription(ProcessSummary):
    inputs: dict[str, Any]
    outputs: dict[str, Any]


class OutputRequest(BaseModel):
    """One requested output: results are always given by reference (a link to the file)."""

    model_config = ConfigDict(extra="allow")

    transmissionMode: Literal["reference"] = "reference"  # noqa: N815 (OGC's name)
    format: dict[str, Any] | None = None


class ExecuteRequest(BaseModel):
    """OGC execute request. Results are a document of references to the outputs: `response`
    `raw` and `transmissionMode` `value` are refused (422), not silently ignored."""

    model_config = ConfigDict(extra="allow")

    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, OutputRequest] | None = None
    response: Literal["document"] = "document"


class Envelope(BaseModel):
    """Upstream's {"data": {...}} answer of /version and /help."""

    class Data(BaseModel):
        exitCode: int
        execTime: float
        response: str

    data: Data


class SimulationCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class DemoCreate(BaseModel):
    title: str = Field("GCBM demo", min_length=1, max_length=200)


class SimulationPublic(BaseModel):
    id: str
    title: str
    created: datetime
    updated: datetime
    status: str = Field(description="The latest run's job status, or `new`.")
    job: str | None = None
    ready: bool = Field(description="True when nothing stops a run.")
    problems: list[dict]
    scenario_of: str | None = Field(None, description="The simulation this one was copied "
                                    "from as a scenario (its baseline), if any.")
    links: list[Link]


def present_job(job: Job, request: Request) -> dict:
    self_href = str(request.url_for("get_job", job_id=job.id))
    links = [{"href": self_href, "rel": "self", "type": "application/json", "title": "status"},
             {"href": str(request.url_for("get_job_logs", job_id=job.id)), "rel": "log",
              "type": "application/json", "title": "log"}]
    if job.status is JobStatus.SUCCESSFUL:
        links.append({"href": str(request.url_for("get_job_results", job_id=job.id)),
                      "rel": f"{OGC_REL}/results", "type": "application/json", "title": "results"})
    info: dict[str, Any] = {
        "jobID": job.id, "processID": job.process_id, "type": "process", "status": job.status.value,
        "message": job.message, "progress": job.progress, "created": job.created.isoformat(),
        "started": job.started.isoformat() if job.started else None,
        "finished": job.finished.isoformat() if job.finished else None,
        "updated": job.updated.isoformat(), "attempts": job.attempts,
        "simulation": job.simulation_id, "links": links,
    }
    if job.status is JobStatus.FAILED:
        info["error"] = {"code": job.error_code or "internal", "detail": job.error_detail or ""}
    return info


def present_results(job: Job, request: Request) -> dict:
    """OGC results document: each output by reference."""
    return {output_id: {"href": str(request.url_for("get_job_output", job_id=job.id,
                                                    output_id=output_id)),
                        "type": entry.get("type"), "title": entry.get("title")}
            for output_id, entry in (job.outputs or {}).items()}


def present_process(definition: ProcessDefinition, request: Request, *, full: bool) -> dict:
    href = str(request.url_for("get_process", process_id=definition.id))
    summary: dict[str, Any] = {
        "id": definition.id, "title": definition.title, "description": definition.description,
        "version": definition.version, "keywords": list(definition.keywords),
        "jobControlOptions": definition.job_control_options(),
        "outputTransmission": ["reference"],
        "links": [{"href": href, "rel": "self",
                   "type": "application/json", "title": "process description"},
                  {"href": str(request.url_for("execute_process", process_id=definition.id)),
                   "rel": f"{OGC_REL}/execute", "type": "application/json", "title": "execute"}],
    }
    if full:
        summary["inputs"] = definition.input_descriptions()
        summary["outputs"] = {output_id: {"title": spec.title, "description": spec.description,
                                          "schema": {"type": "string", "format": "binary",
                                                     "contentMediaType": spec.media_type}}
                              for output_id, spec in definition.outputs.items()}
    return summary


def present_simulation(simulation: Simulation, latest: Job | None, problems: list[dict],
                       request: Request) -> dict:
    def link(name: str, rel: str, title: str) -> dict:
        return {"href": str(request.url_for(name, simulation_id=simulation.id)), "rel": rel,
                "type": "application/json", "title": title}

    links = [link("get_simulation", "self", "simulation"),
             link("get_simulation_inputs", "inputs", "uploaded inputs"),
             link("get_simulation_config", "config", "configuration"),
             link("run_simulation", "run", "run (POST)")]
    if latest is not None:
        links.append({"href": str(request.url_for("get_job", job_id=latest.id)), "rel": "job",
                      "type": "application/json", "title": "latest run"})
    return {"id": simulation.id, "title": simulation.title,
            "created": simulation.created.isoformat(), "updated": simulation.updated.isoformat(),
            "status": latest.status.value if latest else "new",
            "job": latest.id if latest else None, "ready": not problems, "problems": problems,
            "scenario_of": simulation.scenario_of, "links": links}
