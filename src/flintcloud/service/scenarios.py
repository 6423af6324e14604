"""Scenarios: a simulation copied (inputs, settings, every file it keeps but the derived project)
into a new one that records its baseline, then edited like any simulation; two simulations' latest
successful runs compared (annual indicators, run minus baseline per year, manifest differences:
`flintcloud report`'s comparison, `repro.compare`), and their maps subtracted (difference tiles).
"""

from __future__ import annotations

import math
import os
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from flintcloud.errors import InputError
from flintcloud.gcbm.outputs import catalogue as gcbm_outputs
from flintcloud.repro.compare import compare_runs
from flintcloud.repro.manifest import FileChanges, ValueChange
from flintcloud.service import maps
from flintcloud.service.db import SimulationRow
from flintcloud.service.errors import ConflictError
from flintcloud.service.simulations import Simulation, SimulationService

DIFFERENCE_TILES_CACHED = 1024
DERIVED_FOLDERS = frozenset({"prepared"})  # made again from the inputs: never copied


def check_title(title: str) -> str:
    """A title stripped of surrounding spaces: 1 to 200 characters, no control characters."""
    title = title.strip()
    if not title or len(title) > 200:
        raise InputError("must be 1 to 200 characters", field="title")
    if any(unicodedata.category(character) in ("Cc", "Cf") for character in title):
        raise InputError("must not hold control or format characters", field="title")
    return title


class ScenarioService:
    def __init__(self, simulations: SimulationService) -> None:
        self.simulations = simulations
        self.difference_tiles = maps.LruCache(DIFFERENCE_TILES_CACHED)
        self.difference_styles = maps.LruCache(256)
        self.difference_layers = maps.LruCache(256)  # a tile's miss reads no manifest again

    # -- copies -----------------------------------------------------------------------------------
    def copy(self, baseline: Simulation, title: str, *, owner: str) -> Simulation:
        """A new simulation titled `title` with the baseline's inputs and settings (and every
        other file it keeps), recording `scenario_of`; 409 when the owner has that title."""
        title = check_title(title)
        simulations = self.simulations
        scenario, created = simulations.create(title, owner=owner)
        if not created:
            raise ConflictError(f"a simulation titled {title!r} already exists",
                                hint=f"its id is {scenario.id}; give the scenario another title")
        try:
            self._copy_files(baseline, scenario)
            with simulations.db.session.begin() as session:
                row = session.get(SimulationRow, scenario.id)
                if row is not None:
                    row.scenario_of = baseline.id
        except BaseException:
            simulations.delete(scenario)
            raise
        return simulations.get(scenario.id, owner=None)

    def _copy_files(self, baseline: Simulation, scenario: Simulation) -> None:
        """Real copies, not links: an edit of the scenario's files (e.g. a table renamed in its
        input database, in place) must never reach the baseline's."""
        storage = self.simulations.storage
        source, target = storage.simulation_dir(baseline.id), storage.simulation_dir(scenario.id)
        staging = storage.new_staging_dir()
        try:
            with self.simulations._locks[baseline.id]:  # no upload half-copied
                for entry in sorted(source.iterdir()):
                    if entry.name in DERIVED_FOLDERS or entry.is_symlink():
                        continue
                    if entry.is_dir():
                        shutil.copytree(entry, staging / entry.name, ignore=_symlinks)
                    elif entry.is_file():
                        shutil.copy2(entry, staging / entry.name)
            with self.simulations._locks[scenario.id]:
                for entry in sorted(staging.iterdir()):
                    shutil.rmtree(target / entry.name, ignore_errors=True)
                    entry.rename(target / entry.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # -- comparisons of runs ----------------------------------------------------------------------
    def compare(self, simulation: Simulation, baseline: Simulation) -> dict[str, Any]:
        """The latest successful runs of both: annual indicators, run minus baseline per year both
        simulated, and what differs in their manifests (inputs, settings, versions)."""
        job, output = self.simulations.output_dir(simulation)
        base_job, base_output = self.simulations.output_dir(baseline)
        try:
            comparison = compare_runs(output, base_output)
        except InputError as err:  # its source is a server path: name the simulation instead
            raise InputError(f"simulation {baseline.title!r}: {err.detail}", field="with",
                             hint=err.hint) from err
        self._check_same_grid(output, base_output, baseline)
        changes = comparison.changes
        return {
            "simulation": {"id": simulation.id, "title": simulation.title, "job": job.id},
            "baseline": {"id": baseline.id, "title": baseline.title, "job": base_job.id},
            "indicators": [column for column in comparison.differences.columns
                           if column != "year"],
            "run": _records(comparison.table), "baseline_years": _records(comparison.baseline_table),
            "differences": _records(comparison.differences),
            "manifest": {"inputs": _files(changes.inputs),
                         "settings": [_change(change) for change in changes.settings],
                         "versions": [_change(change) for change in changes.versions]},
        }

    @staticmethod
    def _check_same_grid(output: Path, base_output: Path, baseline: Simulation) -> None:
        """Runs on one GCBM tiling may still cover other areas (their mosaics' extents differ):
        year-by-year totals of two study areas are no scenario comparison, so it is refused as
        `report` refuses another landscape."""
        mine, theirs = gcbm_outputs.map_catalogue(output), gcbm_outputs.map_catalogue(base_output)
        for name, item in mine.items():
            years = [year for year in item.paths if name in theirs and year in theirs[name].paths]
            if years:
                try:
                    maps.difference_layer(maps.MapLayer(item.paths[years[0]], item.unit),
                                          maps.MapLayer(theirs[name].paths[years[0]], item.unit))
                except InputError as err:
                    raise InputError(f"simulation {baseline.title!r} is a run of another "
                                     f"landscape: {err.detail}", field="with",
                                     hint="compare scenarios of one project") from err
                return

    # -- difference maps --------------------------------------------------------------------------
    def _layer(self, simulation: Simulation, indicator: str, year: str) -> tuple[str, maps.MapLayer]:
        job, output = self.simulations.output_dir(simulation)
        return job.id, maps.find_layer(gcbm_outputs.map_catalogue(output), indicator, year)

    def difference_layer(self, simulation: Simulation, indicator: str, year: str,
                         other: Simulation, other_year: str) -> maps.DifferenceLayer:
        if other.id == simulation.id and other_year == year:
            raise InputError(f"the map of {year} minus itself is 0 everywhere", field="other_year",
                             hint="give another year, or another simulation")
        _, first = self._layer(simulation, indicator, year)
        _, second = self._layer(other, indicator, other_year)
        return maps.difference_layer(first, second)

    def difference_info(self, simulation: Simulation, indicator: str, year: str,
                        other: Simulation, other_year: str, *,
                        extent: float | None) -> dict[str, Any]:
        layer = self.difference_layer(simulation, indicator, year, other, other_year)
        info = maps.describe_difference(layer, indicator, year, other_year, extent=extent)
        return info | {"other_simulation": other.id}

    def difference_tile(self, simulation: Simulation, indicator: str, year: str,
                        other: Simulation, other_year: str, z: int, x: int, y: int, *,
                        extent: float | None) -> bytes:
        """Cached by (run, other run, item, year, other year, z, x, y, extent): runs that
        succeeded never change."""
        job, _ = self.simulations.output_dir(simulation)
        other_job, _ = self.simulations.output_dir(other)
        key = (job.id, other_job.id, indicator, year, other_year)

        def render() -> bytes:  # only on a miss
            layer = self.difference_layers.get(key, lambda: self.difference_layer(
                simulation, indicator, year, other, other_year))
            style = self.difference_styles.get((*key, extent),
                                               lambda: maps.difference_style(layer, extent))
            return maps.render_difference_tile(layer, style, z, x, y)

        tile: bytes = self.difference_tiles.get((*key, z, x, y, extent), render)
        return tile

    def difference_value(self, simulation: Simulation, indicator: str, year: str,
                         other: Simulation, other_year: str, lon: float,
                         lat: float) -> dict[str, Any]:
        layer = self.difference_layer(simulation, indicator, year, other, other_year)
        return maps.difference_value(layer, indicator, year, other_year, lon, lat)


def _symlinks(folder: str, names: list[str]) -> list[str]:
    """What a copy leaves out: symbolic links (a simulation's files are regular files; a link
    would copy what it points at, maybe outside the storage)."""
    return [name for name in names if os.path.islink(os.path.join(folder, name))]


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON objects; NaN (an indicator a year lacks) becomes null."""
    return [{str(key): None if isinstance(value, float) and not math.isfinite(value) else value
             for key, value in row.items()} for row in table.to_dict("records")]


def _files(changes: FileChanges) -> dict[str, list[str]]:
    return {"changed": changes.changed, "only_run": changes.added,
            "only_baseline": changes.removed}


def _change(change: ValueChange) -> dict[str, Any]:
    return {"key": change.key, "baseline": change.before, "run": change.after}
