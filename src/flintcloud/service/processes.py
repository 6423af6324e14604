"""Processes (OGC API - Processes): what can be run, their input schemas, and their executors.

A process is data plus one executor function:

    executor(inputs, work_dir, progress, cancel_check) -> {output id: path relative to work_dir}

It runs in a job process of its own (started by a worker), so it may block, use every core or be
killed at any time. `work_dir` is a fresh, empty directory for this attempt, except for
`work_dir/"inputs"`, which holds the files prepared when the job was submitted. `progress(percent,
message)` reports progress; `cancel_check()` raises when the job should stop (the worker also
kills the process, so a long native call need not poll it). Input schemas are pydantic models:
the process description, the validation and the OpenAPI document all come from them.

More processes plug in through `Settings.extra_processes` ("module:attribute" of a
ProcessDefinition), as pygeoapi loads its process plugins.
"""

from __future__ import annotations

import importlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flintcloud.errors import ConfigError, InputError, InputProblems
from flintcloud.flint.config import FlintConfig
from flintcloud.flint.controller import LocalDomainController, run_config
from flintcloud.gcbm.outputs.layout import RESULTS_DB
from flintcloud.io.manifest import MANIFEST_NAME
from flintcloud.runner.examples import EXAMPLES
from flintcloud.service import gcbm_engine
from flintcloud.service.errors import NoSuchProcessError

Progress = Callable[[float, str], None]
CancelCheck = Callable[[], None]
Executor = Callable[[dict, Path, Progress, CancelCheck], dict[str, str]]

# Media types of the outputs; a directory output is served as a zip of its files.
CSV, ZIP, SQLITE = "text/csv", "application/zip", "application/vnd.sqlite3"


@dataclass(frozen=True)
class OutputSpec:
    title: str
    media_type: str
    description: str = ""


@dataclass(frozen=True)
class ProcessDefinition:
    id: str
    title: str
    description: str
    inputs: type[BaseModel]
    outputs: dict[str, OutputSpec]
    executor: Executor
    version: str = "1.0.0"
    sync: bool = True  # may run synchronously (small runs); False: async-execute only
    keywords: tuple[str, ...] = field(default_factory=tuple)
    example: Callable[[], dict] | None = None  # example inputs, e.g. for a form to start from
    # A check of the parsed inputs before a job is queued (after an idempotent replay is
    # answered): a configuration that cannot run is a 422 naming its field at once, not a
    # failed job later.
    check: Callable[[dict], None] | None = None

    def parse_inputs(self, raw: Any) -> dict:
        """Validated inputs as plain JSON; each problem is reported with its `inputs.<field>`."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise InputError("must be an object of input values", field="inputs")
        try:
            model = self.inputs.model_validate(raw)
        except ValidationError as err:
            problems = [InputError(e["msg"], field=".".join(["inputs", *map(str, e["loc"])]))
                        for e in err.errors()]
            raise InputProblems(problems, detail=f"invalid inputs for process {self.id!r}: "
                                + "; ".join(f"{p.field}: {p.detail}" for p in problems)) from None
        return model.model_dump(mode="json", exclude_none=True)

    def input_descriptions(self) -> dict[str, dict]:
        """OGC input descriptions from the pydantic model's JSON Schema."""
        schema = self.inputs.model_json_schema()
        required = set(schema.get("required", []))
        definitions = schema.get("$defs", {})
        described = {}
        for name, prop in schema.get("properties", {}).items():
            prop = dict(prop)
            if definitions:
                prop["$defs"] = definitions
            described[name] = {
                "title": prop.pop("title", name),
                "description": prop.pop("description", ""),
                "minOccurs": 1 if name in required else 0,
                "maxOccurs": 1,
                "schema": prop,
            }
        return described

    def job_control_options(self) -> list[str]:
        return (["sync-execute"] if self.sync else []) + ["async-execute", "dismiss"]


class ProcessRegistry:
    """Process id -> definition."""

    def __init__(self, definitions: Iterable[ProcessDefinition] = ()) -> None:
        self._definitions: dict[str, ProcessDefinition] = {}
        for definition in definitions:
            self.register(definition)

    def register(self, definition: ProcessDefinition) -> None:
        if definition.id in self._definitions:
            raise ConfigError(f"process {definition.id!r} is defined twice", field="extra_processes")
        self._definitions[definition.id] = definition

    def get(self, process_id: str) -> ProcessDefinition:
        try:
            return self._definitions[process_id]
        except KeyError:
            raise NoSuchProcessError(f"no process {process_id!r}",
                                     hint=f"processes: {', '.join(self._definitions)}") from None

    def __iter__(self) -> Iterator[ProcessDefinition]:
        return iter(self._definitions.values())


# -- point and rothc: FLINT point runs ---------------------------------------------------------

class FlintPointInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] | None = Field(
        None, title="FLINT configuration",
        description="A FLINT point configuration document (what upstream's /point and /rothc "
                    "accept). Omitted: the built-in example. The example's `Libraries` document "
                    "is merged after it, as `moja.cli --config <yours> --config libs…` does.")


def _example_config(example: str, inputs: dict) -> FlintConfig:
    """The configuration a point run gets: the posted one (or the example's), then the
    example's libraries, merged as moja.cli merges its --config files."""
    documents = EXAMPLES[example]()
    if inputs.get("config") is not None:
        main_name = documents[0][0]
        documents = [(f"received_{main_name}", inputs["config"]), *documents[1:]]
    return FlintConfig.from_documents(documents)


def _check_flint_example(example: str) -> Callable[[dict], None]:
    """Configure the run without running it: what FLINT would refuse (a pool without a value,
    as FLINT-UI's default configuration sends, an unknown module or variable) is a ConfigError
    naming the file and field."""
    def check(inputs: dict) -> None:
        if inputs.get("config") is not None:
            LocalDomainController(_example_config(example, inputs))
    return check


def _run_flint_example(example: str, inputs: dict, work_dir: Path, progress: Progress) -> dict:
    config = _example_config(example, inputs)
    progress(0, "running the FLINT point simulation")
    screen = io.StringIO()
    run_config(config, output_dir=work_dir / "files", screen=screen)
    # What moja.cli prints on stdout is what upstream's /point and /rothc returned.
    (work_dir / "stock.csv").write_text(screen.getvalue(), encoding="utf-8", newline="")
    progress(100, "finished")
    return {"stock": "stock.csv", "files": "files"}


def run_point(inputs: dict, work_dir: Path, progress: Progress, cancel_check: CancelCheck) -> dict:
    return _run_flint_example("point", inputs, work_dir, progress)


def run_rothc(inputs: dict, work_dir: Path, progress: Progress, cancel_check: CancelCheck) -> dict:
    return _run_flint_example("rothc", inputs, work_dir, progress)


def _example_inputs(example: str) -> Callable[[], dict]:
    """The built-in example's main configuration document as process inputs."""
    return lambda: {"config": EXAMPLES[example]()[0][1]}


FLINT_OUTPUTS = {
    "stock": OutputSpec("Stock CSV", CSV, "The stock table moja.cli prints (upstream's response)."),
    "files": OutputSpec("Output files", ZIP, "Every file the run wrote (stock and flux CSVs)."),
}

POINT = ProcessDefinition(
    id="point", title="FLINT Point example",
    description="Three pools and three test modules over monthly steps (FLINT.example Point).",
    inputs=FlintPointInputs, outputs=FLINT_OUTPUTS, executor=run_point,
    keywords=("FLINT", "point"), example=_example_inputs("point"),
    check=_check_flint_example("point"))

ROTHC = ProcessDefinition(
    id="rothc", title="FLINT RothC example",
    description="The Rothamsted soil carbon model at a point, monthly (FLINT.example RothC).",
    inputs=FlintPointInputs, outputs=FLINT_OUTPUTS, executor=run_rothc,
    keywords=("FLINT", "RothC", "soil"), example=_example_inputs("rothc"),
    check=_check_flint_example("rothc"))


# -- gcbm: a simulation resource's project -----------------------------------------------------

class GcbmInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    simulation: str = Field(
        title="Simulation", description="Id of a simulation (POST /simulations) whose uploaded "
                                        "inputs and configuration are run.")


def run_gcbm(inputs: dict, work_dir: Path, progress: Progress, cancel_check: CancelCheck) -> dict:
    project_dir = work_dir / "inputs" / "project"
    if not (project_dir / "config").is_dir():
        raise InputError("the job has no prepared GCBM project", source=str(project_dir))
    output_dir = work_dir / "output"
    output_dir.mkdir()
    progress(0, "starting GCBM")
    # Looked up at call time so the engine can be swapped (the merge, and tests) in one place.
    gcbm_engine.run_gcbm_project(project_dir, output_dir, progress)
    serve_manifest(output_dir / MANIFEST_NAME, work_dir)
    outputs = {"output": "output"}
    if (output_dir / RESULTS_DB).is_file():
        outputs["results_db"] = f"output/{RESULTS_DB}"
    return outputs


# Host details a manifest records for a run on one's own machine, not for the service's users.
HOST_KEYS = ("command",)
HOST_ENVIRONMENT_KEYS = ("platform",)


def serve_manifest(path: Path, root: Path) -> None:
    """Rewrite the run's manifest.json for serving: paths relative to the run folder `root`
    (the job's attempt: `inputs/project`, `output/...`), without the server's command line or
    kernel string. `inputs`, `outputs` (path, sha256) and `items` are kept as written."""
    if not path.is_file():
        return
    document = json.loads(path.read_text(encoding="utf-8"))
    prefixes = sorted({str(root), str(root.resolve())}, key=len, reverse=True)

    def relative(value: Any) -> Any:
        if isinstance(value, str):
            for prefix in prefixes:
                if value == prefix:
                    return "."
                if value.startswith(prefix + os.sep):
                    return value[len(prefix) + 1:].replace(os.sep, "/")
            return value
        if isinstance(value, list):
            return [relative(item) for item in value]
        if isinstance(value, dict):
            return {key: relative(item) for key, item in value.items()}
        return value

    for key in HOST_KEYS:
        document.pop(key, None)
    environment = document.get("environment")
    if isinstance(environment, dict):
        for key in HOST_ENVIRONMENT_KEYS:
            environment.pop(key, None)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(relative(document), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


GCBM = ProcessDefinition(
    id="gcbm", title="GCBM spatial simulation",
    description="The Generic Carbon Budget Model over a simulation's rasters and input database.",
    inputs=GcbmInputs, executor=run_gcbm, sync=False,
    outputs={"output": OutputSpec("GCBM output", ZIP, "Results database and indicator GeoTIFFs."),
             "results_db": OutputSpec("Results database", SQLITE, "gcbm_output.db.")},
    keywords=("GCBM", "CBM", "spatial"))

BUILTIN_PROCESSES = (POINT, ROTHC, GCBM)


def build_registry(extra_processes: Iterable[str] = ()) -> ProcessRegistry:
    """The built-in processes plus the plugins named as "module:attribute"."""
    registry = ProcessRegistry(BUILTIN_PROCESSES)
    for spec in extra_processes:
        module_name, _, attribute = spec.partition(":")
        try:
            definition = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as err:
            raise ConfigError(f"cannot load process plugin {spec!r}: {err}",
                              field="extra_processes") from err
        if not isinstance(definition, ProcessDefinition):
            raise ConfigError(f"{spec!r} is not a ProcessDefinition", field="extra_processes")
        registry.register(definition)
    return registry
