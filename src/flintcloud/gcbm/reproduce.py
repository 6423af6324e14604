"""What reproducing a GCBM run needs to know about GCBM: how to run it again as its manifest
says, the settings a user edits (a DVC pipeline's params), the command a pipeline runs, and the
annual indicators a report charts. The model-independent parts (manifests, comparisons, DVC
files, reports) are in `flintcloud.repro`, which calls these through its adapter (`repro.models`)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from flintcloud.errors import InputError
from flintcloud.gcbm.inputs.edit import get_config, update_config
from flintcloud.gcbm.outputs.layout import ANNUAL_SUMMARY_CSV, COG_FOLDER
from flintcloud.gcbm.run import run_gcbm
from flintcloud.io.archive import extract_zip
from flintcloud.io.files import atomic_path

# The annual summary's columns, charted in groups (title, unit, columns or a column prefix).
CHART_GROUPS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Carbon stocks", "tC", ("total_ecosystem_tc", "total_biomass_tc",
                             "dead_organic_matter_tc", "soil_tc")),
    ("Production and respiration", "tC/yr", ("npp_tc_per_yr", "rh_tc_per_yr",
                                             "nep_tc_per_yr", "nbp_tc_per_yr")),
    ("Emissions", "tC/yr", ("co2_emissions_tc_per_yr", "ch4_emissions_tc_per_yr",
                            "co_emissions_tc_per_yr")),
    ("Disturbed area", "ha", ("disturbed_area_ha[",)),
]
# The indicators a report's difference table shows (every one is in the CSV next to it).
KEY_INDICATORS = ("total_ecosystem_tc", "npp_tc_per_yr", "rh_tc_per_yr", "nep_tc_per_yr",
                  "nbp_tc_per_yr", "co2_emissions_tc_per_yr")


def run_options(manifest: dict[str, Any]) -> dict[str, Any]:
    """The options the run was made with, read from its outputs: mosaics were written when
    `cog/` files are listed (without output items there are none either way)."""
    outputs = manifest.get("outputs", [])
    return {"mosaics": any(entry["path"].startswith(f"{COG_FOLDER}/") for entry in outputs)}


def rerun(manifest: dict[str, Any], project: Path, output_dir: Path) -> None:
    """Run `project` again into `output_dir` with the options the manifest's run had."""
    run_gcbm(project, output_dir, **run_options(manifest))


def copy_project(project: Path, target: Path) -> Path:
    """The project's files in `target` (a zip extracted, a folder copied); returns `target`."""
    if project.is_file():
        return extract_zip(project, target)
    shutil.copytree(project, target)
    return target


def editable_settings(project: Path) -> dict[str, Any]:
    """The settings a user edits (period, spatial unit, spinup, growth, outputs, the layers'
    attribute tables, e.g. which disturbance happens when), as `update_config` takes them."""
    settings: dict[str, Any] = get_config(project).model_dump(mode="json", exclude_none=True)
    return settings


def read_settings_file(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InputError(f"cannot read settings: {err}", source=str(path)) from err
    if not isinstance(document, dict):
        raise InputError("settings must be a mapping (start_year, end_year, spinup, …)",
                         source=str(path))
    return document


@contextmanager
def configured_project(project: Path, settings_file: Path | None) -> Iterator[Path]:
    """The project with the settings of `settings_file` (YAML or JSON, `GcbmSettings`' fields):
    the project itself when they are its settings already, else an edited temporary copy."""
    if settings_file is None:
        yield project
        return
    changes = read_settings_file(settings_file)
    with tempfile.TemporaryDirectory(prefix="gcbm-settings-") as folder:
        root = copy_project(project, Path(folder) / "project") if project.is_file() else project
        if _normalised(changes) == _normalised(editable_settings(root)):
            yield project  # unchanged: the run reads (and its manifest lists) the project as is
            return
        if root is project:
            root = copy_project(project, Path(folder) / "project")
        update_config(root, changes)
        yield root


def _normalised(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


def run_command(project: str, output_dir: str, settings: str | None,
                manifest: dict[str, Any]) -> list[str]:
    """The `flintcloud` command line that makes the run again (a DVC stage's `cmd`)."""
    command = ["flintcloud", "gcbm", "run", project, "-o", output_dir]
    if settings is not None:
        command += ["--settings", settings]
    if not run_options(manifest)["mosaics"]:
        command.append("--no-mosaics")
    return command


def annual_table(run_dir: Path) -> pd.DataFrame:
    """The run's annual summary: one row per year, `year` first."""
    path = run_dir / ANNUAL_SUMMARY_CSV
    if not path.is_file():
        raise InputError(f"no {ANNUAL_SUMMARY_CSV} in the run folder", source=str(run_dir))
    return pd.read_csv(path)


def write_metrics(run_dir: Path, target: Path) -> Path:
    """The annual summary as DVC metrics: {"<year>": {"<indicator>": value}} in JSON."""
    table = annual_table(run_dir)
    metrics = {str(int(row["year"])): {column: float(row[column]) for column in table.columns
                                       if column != "year"}
               for _, row in table.iterrows()}
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        temporary.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    return target


def landscape(manifest: dict[str, Any]) -> dict[str, Any]:
    """What two runs must share to be compared year by year: the tiles and the pixel grid."""
    domain = manifest.get("configuration", {}).get("merged", {}).get("LocalDomain", {})
    grid = domain.get("landscape", {})
    return {"tiles": grid.get("tiles"), "tile_size": (grid.get("tile_size_x"),
                                                      grid.get("tile_size_y")),
            "pixels": (grid.get("x_pixels"), grid.get("y_pixels"))}
