"""A block's simulated pixels and their inputs, read from the project's layers (gcbm-spec §2,
§5.2): the classifier layers decide which cells are simulated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flintcloud.errors import ConfigError, RasterError
from flintcloud.gcbm.project.config import GcbmProject, Layer
from flintcloud.gcbm.project.parameters import BlockParameters, ParameterLibrary
from flintcloud.gcbm.project.rasters import (
    BlockWindow,
    LayerReader,
    attribute_of,
    is_null,
    pixel_area_ha,
)
from flintcloud.gcbm.science.ordering import event_ranks
from flintcloud.gcbm.science.simulation import EventLayer, PixelInputs


@dataclass(frozen=True)
class BlockData:
    """Everything needed to simulate one block; a pure function of (project, block)."""

    window: BlockWindow
    cell_index: np.ndarray  # (n,) int64 row * n_cols + col within the block
    area_ha: np.ndarray  # (n,) float64
    inputs: PixelInputs
    parameters: BlockParameters


def _events_table(layer: Layer, library: ParameterLibrary
                  ) -> dict[int, list[tuple[int, int, int, int]]]:
    """Pixel value -> [(year, disturbance type idx, transition idx or -1, event conditions
    index or -1)], checked once."""
    dist = library.base.disturbances
    codes = {int(code): i for i, code in enumerate(dist.type_codes)}
    transition_index = {int(t): i for i, t in enumerate(library.base.transitions.ids)}
    table = {}
    for key, interpretation in (layer.attributes or {}).items():
        items = interpretation if isinstance(interpretation, list) else [interpretation]
        events = []
        for position, item in enumerate(items):
            where = f"attributes[{key!r}]"
            if not isinstance(item, dict):
                raise RasterError("a disturbance attribute must be an object", source=layer.metadata_source,
                                  field=where)
            if "year" not in item:
                raise RasterError("missing 'year'", source=layer.metadata_source, field=where)
            if "disturbance_type" in item:
                name = item["disturbance_type"]
                if name not in dist.type_names:
                    raise RasterError(f"unknown disturbance type {name!r}",
                                      source=layer.metadata_source, field=f"{where}.disturbance_type",
                                      hint="it must be a disturbance_type.name in gcbm_input.db")
                type_idx = dist.type_index(name)
            elif "disturbance_type_id" in item:  # GCBM quirk §9.11: the id is the type's code
                code = int(item["disturbance_type_id"])
                if code not in codes:
                    raise RasterError(f"unknown disturbance type code {code}",
                                      source=layer.metadata_source, field=f"{where}.disturbance_type_id")
                type_idx = codes[code]
            else:
                raise RasterError("missing 'disturbance_type'", source=layer.metadata_source,
                                  field=where)
            transition = -1
            if item.get("transition") is not None:
                if int(item["transition"]) not in transition_index:
                    raise RasterError(f"transition {item['transition']} is not in the transition "
                                      "table", source=layer.metadata_source,
                                      field=f"{where}.transition")
                transition = transition_index[int(item["transition"])]
            events.append((int(item["year"]), type_idx, transition,
                           library.event_conditions.get((layer.name, key, position), -1)))
        table[int(key)] = events
    return table


def _raster_layer(project: GcbmProject, name: str) -> Layer:
    layer = project.raster_layer_of(name)
    if layer is None:
        raise ConfigError(f"variable {name!r} is not a raster layer lookup", source="variables.json")
    return layer


def _layer_or_constant(project: GcbmProject, name: str) -> Layer | float:
    """The layer behind variable `name`, or its value when the variable is a number."""
    layer = project.raster_layer_of(name)
    if layer is not None:
        return layer
    value = project.variable(name).value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ConfigError(f"variable {name!r} must be a raster layer lookup or a number, not "
                      f"{value!r}", source=project.source_of("Variables", name),
                      field=f"Variables.{name}")


class BlockReader:
    """Reads blocks of a project; one reader per process (it keeps rasters open)."""

    def __init__(self, project: GcbmProject, library: ParameterLibrary) -> None:
        self.project = project
        self.library = library
        # a classifier given as a constant is that value in every cell (GCBM's CompositeTransform
        # reads the variable's value, whatever gives it); the layers say which cells are simulated
        self.classifiers: list[Layer | str] = [
            project.raster_layer_of(name) or str(library.constants[name])
            for name in library.classifier_names]
        self.age_layer = _layer_or_constant(project, "initial_age")
        self.temperature_layer = _layer_or_constant(project, "mean_annual_temperature")
        self.event_layers = [_raster_layer(project, name) for name in project.disturbance_layers]
        self.event_tables = [_events_table(layer, library) for layer in self.event_layers]
        self.location_layers = [_raster_layer(project, name) for name in library.locations.names]
        self._readers: dict[str, LayerReader] = {}

    def _read(self, layer: Layer, window: BlockWindow) -> np.ndarray:
        reader = self._readers.setdefault(layer.name, LayerReader(layer))
        return reader.read(window)

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()

    def simulated_mask(self, window: BlockWindow) -> np.ndarray:
        """Cells where every classifier layer has a value in its attribute table (§5.2)."""
        mask = np.ones((window.n_rows, window.n_cols), dtype=bool)
        for layer in self.classifiers:
            if isinstance(layer, Layer):
                mask &= ~is_null(layer, self._read(layer, window))
                if not mask.any():
                    break
        return mask

    def read(self, window: BlockWindow) -> BlockData | None:
        """The block's inputs, or None when it has no simulated cell (costs the mask only)."""
        mask = self.simulated_mask(window)
        if not mask.any():
            return None
        flat = np.flatnonzero(mask.ravel())
        codes = [self._read(layer, window).ravel()[flat] if isinstance(layer, Layer)
                 else np.zeros(flat.size) for layer in self.classifiers]
        combos, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
        sets = [tuple(str(attribute_of(layer, value)) if isinstance(layer, Layer) else layer
                      for layer, value in zip(self.classifiers, combo, strict=True))
                for combo in combos]
        spu = self._spatial_units(window, flat)
        parameters = self.library.for_classifier_sets(sets, np.unique(spu))
        age, has_age = self._values(self.age_layer, window, flat, 0)
        temperature, _ = self._values(self.temperature_layer, window, flat, 0.0)
        events = []
        for layer, table in zip(self.event_layers, self.event_tables, strict=True):
            events.extend(self._event_layers(layer, table, window, flat))
        ranks = None
        if self.library.disturbance_order and events:  # the block's cells in order (§2.4)
            ranks = event_ranks(np.stack([e.year for e in events]),
                                np.stack([e.type_idx for e in events]),
                                self.library.base.disturbances.type_names,
                                self.library.disturbance_order)
        rows = window.row + flat // window.n_cols
        north = window.tile.y - rows * self.project.grid.cell_lat
        inputs = PixelInputs(classifier_set=inverse.ravel().astype(np.intp),
                             spu=spu,
                             temperature_c=temperature.astype(np.float64),
                             initial_age=age.astype(np.int64), has_initial_age=has_age,
                             events=tuple(events), event_rank=ranks)
        return BlockData(window, flat.astype(np.int64), pixel_area_ha(self.project.grid, north),
                         inputs, parameters)

    def _spatial_units(self, window: BlockWindow, flat: np.ndarray) -> np.ndarray:
        """(n,) intp spatial-unit index of each simulated cell, from the location layers."""
        locations = self.library.locations
        combo = np.zeros(flat.size, dtype=np.int64)
        for layer, values, (keys, positions) in zip(self.location_layers, locations.values,
                                                    locations.codes, strict=True):
            raw = self._read(layer, window).ravel()[flat]
            null = is_null(layer, raw)
            if null.any():
                raise RasterError(f"{int(null.sum())} simulated cells have no value (nodata or "
                                  f"not in the attribute table), e.g. {raw[null][0]!r}",
                                  source=layer.path.name, field=f"variable {layer.name}",
                                  hint="every simulated cell needs a spatial unit")
            at = np.searchsorted(keys, raw.astype(np.int64))
            combo = combo * len(values) + positions[at]
        spu = locations.spu_of_combo[combo]
        if (spu < 0).any():
            bad = combo[spu < 0]
            first = int(bad[0])
            named = ", ".join(f"{layer.name}={value!r}" for layer, value in
                              zip(self.location_layers, locations.combo_values(first), strict=True))
            raise RasterError(f"{int((bad == first).sum())} cells of tile {window.tile.index} "
                              f"block {window.block_idx} are in no spatial unit of the database: "
                              f"{named}", source=self.library.db.name, field="spatial_unit",
                              hint="spatial_unit_id finds no spatial unit for these values")
        return spu.astype(np.intp)

    def _values(self, layer: Layer | float, window, flat, default):
        if not isinstance(layer, Layer):  # a constant: the same value everywhere
            return np.full(flat.size, layer), np.ones(flat.size, dtype=bool)
        raw = self._read(layer, window).ravel()[flat]
        null = is_null(layer, raw)
        values = np.where(null, default, raw)
        return values, ~null

    def _event_layers(self, layer, table, window, flat) -> list[EventLayer]:
        raw = self._read(layer, window).ravel()[flat].astype(np.int64)
        null = is_null(layer, raw)
        depth = max((len(events) for events in table.values()), default=0)
        out = []
        for position in range(depth):
            year = np.full(raw.size, -1, dtype=np.int64)
            type_idx = np.zeros(raw.size, dtype=np.intp)
            transition = np.full(raw.size, -1, dtype=np.intp)
            condition = np.full(raw.size, -1, dtype=np.intp)
            for value in np.unique(raw[~null]):
                events = table.get(int(value), [])
                if position >= len(events):
                    continue
                is_value = (raw == value) & ~null
                (year[is_value], type_idx[is_value], transition[is_value],
                 condition[is_value]) = events[position]
            out.append(EventLayer(layer.name, year, type_idx, transition,
                                  condition if (condition >= 0).any() else None))
        return out
