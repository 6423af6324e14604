"""Run manifests: everything a run used and made, so anyone can check or reproduce it."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from flintcloud import __version__
from flintcloud.io.files import atomic_path

KEY_LIBRARIES = ("numpy", "pandas", "pyarrow", "rasterio", "zlib-ng", "SQLAlchemy")
MANIFEST_NAME = "manifest.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_entries(root: Path, paths: list[Path] | None = None,
                 known: dict[str, tuple[int, str]] | None = None) -> list[dict[str, Any]]:
    """Path (relative to root, '/'-separated), size and sha256 of each file, sorted by path.
    `known`: (size, sha256) by full path of files hashed as they were written; the others are
    read here, two at a time (hashing releases the GIL)."""
    top = str(root)
    files = [str(p) for p in paths] if paths is not None else \
        [os.path.join(folder, name) for folder, _, names in os.walk(top) for name in names]
    known = known or {}
    unknown = [path for path in files if path not in known]
    with ThreadPoolExecutor(2) as pool:
        hashed = dict(zip(unknown, pool.map(
            lambda p: (os.stat(p).st_size, sha256_of(Path(p))), unknown), strict=True))
    entries = []
    for path in files:
        size, digest = known[path] if path in known else hashed[path]
        relative = os.path.relpath(path, top) if not path.startswith(top + os.sep) \
            else path[len(top) + 1:]
        entries.append({"path": relative.replace(os.sep, "/"), "bytes": size, "sha256": digest})
    return sorted(entries, key=lambda entry: entry["path"])


def environment() -> dict[str, Any]:
    """The engine and the libraries that can change numbers."""
    libraries = {}
    for name in KEY_LIBRARIES:
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            continue
    try:
        import rasterio

        libraries["GDAL"] = rasterio.__gdal_version__
    except ImportError:
        pass
    return {"flintcloud": __version__, "python": platform.python_version(),
            "implementation": platform.python_implementation(), "platform": platform.platform(),
            "machine": platform.machine(), "libraries": libraries,
            "numpy_cpu_features_disabled": os.environ.get("NPY_DISABLE_CPU_FEATURES", "")}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_manifest(output_dir: Path, *, kind: str, source: str, inputs: list[dict[str, Any]],
                   configuration: dict[str, Any], started: str, finished: str,
                   outputs: list[dict[str, Any]], summary: dict[str, Any] | None = None,
                   items: list[dict[str, Any]] | None = None) -> Path:
    """Write output_dir/manifest.json (atomically); `outputs` must not include the manifest.
    `items`: what the run's output items are (name, unit, years, files), for readers of the
    run that should not guess it from file names."""
    document = {
        "manifest_version": 1, "kind": kind, "source": source,
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else [],
        "started": started, "finished": finished, "environment": environment(),
        "inputs": inputs, "configuration": configuration, "outputs": outputs,
        "summary": summary or {}, "items": items or [],
    }
    path = Path(output_dir) / MANIFEST_NAME
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    return path
