"""A run's manifest read back and compared with another: which inputs changed, which outputs
differ, which settings and versions differ. Times (`started`, `finished`, timings in the
summary) are never compared: they differ on every run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flintcloud.errors import InputError
from flintcloud.io.manifest import MANIFEST_NAME, file_entries

SUPPORTED_VERSIONS = (1,)


@dataclass(frozen=True)
class RunManifest:
    """A run folder and its manifest.json."""

    run_dir: Path
    document: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.document.get("kind", ""))

    @property
    def source(self) -> str:
        return str(self.document.get("source", ""))

    @property
    def inputs(self) -> dict[str, str]:
        """sha256 by input path (relative to the project; an archive by its name)."""
        return {entry["path"]: entry["sha256"] for entry in self.document.get("inputs", [])}

    @property
    def archive(self) -> str | None:
        """The name of the project archive the run read, if it read one."""
        return next((entry["path"] for entry in self.document.get("inputs", [])
                     if entry.get("role") == "project archive"), None)

    @property
    def outputs(self) -> dict[str, str]:
        """sha256 by output path, relative to the run folder (the manifest itself excluded)."""
        return {entry["path"]: entry["sha256"] for entry in self.document.get("outputs", [])}

    @property
    def configuration(self) -> dict[str, Any]:
        configuration: dict[str, Any] = self.document.get("configuration", {})
        return configuration

    @property
    def environment(self) -> dict[str, Any]:
        environment: dict[str, Any] = self.document.get("environment", {})
        return environment


def read_manifest(run_dir: str | Path) -> RunManifest:
    """The run folder's manifest, or an InputError (exit 2) saying what is wrong with it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("not a run folder", source=str(run_dir),
                         hint="give the output folder of `flintcloud gcbm run`")
    path = run_dir / MANIFEST_NAME
    if not path.is_file():
        raise InputError(f"no {MANIFEST_NAME} in this folder", source=str(run_dir),
                         hint="give the output folder of `flintcloud gcbm run`")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"not JSON: {err}", source=str(path)) from err
    if not isinstance(document, dict) or "outputs" not in document or "inputs" not in document:
        raise InputError("not a run manifest (no inputs and outputs)", source=str(path))
    version = document.get("manifest_version")
    if version not in SUPPORTED_VERSIONS:
        raise InputError(f"manifest version {version!r} is not supported (this flintcloud reads "
                         f"version {', '.join(map(str, SUPPORTED_VERSIONS))})",
                         source=str(path), field="manifest_version",
                         hint="run it again with this flintcloud")
    return RunManifest(run_dir, document)


@dataclass
class FileChanges:
    """Files of two listings compared by sha256 (paths relative to their roots)."""

    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # only in the second
    removed: list[str] = field(default_factory=list)  # only in the first

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    def paths(self) -> list[str]:
        return sorted(self.changed + self.added + self.removed)


def compare_files(before: dict[str, str], after: dict[str, str]) -> FileChanges:
    """Which files changed, appeared or went between two {path: sha256} listings."""
    return FileChanges(
        changed=sorted(path for path in before if path in after and before[path] != after[path]),
        added=sorted(path for path in after if path not in before),
        removed=sorted(path for path in before if path not in after))


def verify_files(run: RunManifest) -> FileChanges:
    """The run folder's files against the hashes its manifest lists (changed since the run)."""
    listed = run.outputs
    present = [run.run_dir / path for path in listed if (run.run_dir / path).is_file()]
    found = {entry["path"]: entry["sha256"] for entry in file_entries(run.run_dir, present)}
    changes = compare_files(listed, found)
    changes.added = []  # other files in the folder are not the run's
    return changes


def flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as {"a.b.c": value}; lists stay values."""
    if not isinstance(document, dict):
        return {prefix: document}
    flat: dict[str, Any] = {}
    for key, value in document.items():
        flat |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return flat


@dataclass(frozen=True)
class ValueChange:
    key: str
    before: Any
    after: Any


def compare_values(before: dict[str, Any], after: dict[str, Any]) -> list[ValueChange]:
    """Keys whose values differ between two nested documents, flattened; a missing key is None."""
    a, b = flatten(before), flatten(after)
    return [ValueChange(key, a.get(key), b.get(key)) for key in sorted(set(a) | set(b))
            if a.get(key) != b.get(key)]


@dataclass
class ManifestDifferences:
    """What differs between two runs' manifests, times left out."""

    inputs: FileChanges
    outputs: FileChanges
    settings: list[ValueChange]
    versions: list[ValueChange]

    def __bool__(self) -> bool:
        return bool(self.inputs or self.outputs or self.settings or self.versions)


def _versions(run: RunManifest) -> dict[str, Any]:
    environment = run.environment
    return {"flintcloud": environment.get("flintcloud"), "python": environment.get("python"),
            "libraries": environment.get("libraries", {}),
            "numpy_cpu_features_disabled": environment.get("numpy_cpu_features_disabled")}


def project_inputs(run: RunManifest) -> dict[str, str]:
    """The project's files, without the archive they came in: a project run from its zip and
    from the zip's contents read the same files."""
    archive = run.archive
    return {path: digest for path, digest in run.inputs.items() if path != archive}


def compare_manifests(before: RunManifest, after: RunManifest) -> ManifestDifferences:
    """Inputs (project files; the archives too when both runs read one), outputs, settings (the
    configuration) and versions (flintcloud, Python, the libraries that can change numbers)."""
    a_inputs, b_inputs = project_inputs(before), project_inputs(after)
    if before.archive and after.archive:
        a_inputs[before.archive] = before.inputs[before.archive]
        b_inputs[before.archive] = after.inputs[after.archive]
    return ManifestDifferences(
        inputs=compare_files(a_inputs, b_inputs),
        outputs=compare_files(before.outputs, after.outputs),
        settings=compare_values(_settings(before), _settings(after)),
        versions=compare_values(_versions(before), _versions(after)))


def _settings(run: RunManifest) -> dict[str, Any]:
    """The configuration to compare: without `documents`, each configuration file as run,
    which repeats the merged configuration file by file (and a changed file is a changed
    input already); manifests written before they were recorded compare the same."""
    return {key: value for key, value in run.configuration.items() if key != "documents"}
