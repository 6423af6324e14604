"""Read a GCBM project as upstream lays it out (gcbm-spec §1-2): the config files, the provider
config, the layer metadata. Anything the project asks for that the engine does not support is
a ConfigError naming the file and the key.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flintcloud.errors import ConfigError, RasterError
from flintcloud.flint.config import ConfigView, FlintConfig, parse_json_text
from flintcloud.gcbm.project import modules
from flintcloud.io.archive import extract_zip

# The module names a project may enable: declared once, with what each does (project.modules).
MAIN_MODULES = modules.MAIN_MODULES
OUTPUT_MODULES = modules.OUTPUT_MODULES  # computed here (GcbmResults); written by outputs
SPINUP_MODULES = modules.SPINUP_MODULES
# The science modules must run in this relative order (gcbm-spec §5.9).
STEP_ORDER = ("CBMDisturbanceListener", "CBMDisturbanceEventModule", "CBMTransitionRulesModule",
              "CBMLandClassTransitionModule", "CBMGrowthModule", "CBMDecayModule")
LAYER_DATA_TYPES = {"Byte", "Int16", "Int32", "UInt16", "UInt32", "Float32", "Float64"}
GRID_KEYS = ("tileLatSize", "tileLonSize", "blockLatSize", "blockLonSize", "cellLatSize",
             "cellLonSize")
RASTER_TRANSFORM = "LocationIdxFromFlintDataTransform"


@dataclass(frozen=True)
class Grid:
    """The global tile/block/cell grid in degrees (gcbm-spec §2.1)."""

    tile_lat: float
    tile_lon: float
    block_lat: float
    block_lon: float
    cell_lat: float
    cell_lon: float

    @property
    def cells_per_block(self) -> tuple[int, int]:
        return round(self.block_lat / self.cell_lat), round(self.block_lon / self.cell_lon)

    @property
    def blocks_per_tile(self) -> tuple[int, int]:
        return round(self.tile_lat / self.block_lat), round(self.tile_lon / self.block_lon)


@dataclass(frozen=True)
class Layer:
    """One tiled raster layer and its metadata JSON (gcbm-spec §2.2)."""

    name: str
    path: Path
    metadata_source: str  # the metadata file's name, for messages
    data_type: str
    nodata: float
    grid: Grid
    attributes: dict[str, Any] | None  # pixel value (decimal string) -> interpretation


@dataclass(frozen=True)
class Tile:
    x: int  # longitude of the west edge
    y: int  # latitude of the north edge
    index: int


@dataclass
class GcbmProject:
    """A GCBM project's configuration, located and checked, with nothing simulated yet."""

    root: Path
    config_dir: Path
    config: FlintConfig
    start_year: int
    n_steps: int
    tiles: list[Tile]
    grid: Grid
    layers: dict[str, Layer]
    database: Path
    modules: dict[str, ConfigView]  # enabled main-run modules by name
    spinup_enabled: bool
    disturbance_layers: list[str]
    variables: ConfigView
    spinup_variables: dict[str, Any] = field(default_factory=dict)

    def source_of(self, *path: str) -> str:
        return self.config.source_of(path) or "gcbm_config.cfg"

    def variable(self, name: str) -> ConfigView:
        if name not in self.variables:
            raise ConfigError(f"variable {name!r} is not defined", source="variables.json",
                              field=f"Variables.{name}", hint="GCBM's modules need it")
        return self.variables.child(name)

    def raster_layer_of(self, name: str) -> Layer | None:
        """The layer behind a raster-lookup variable, or None for other kinds of variables."""
        value = self.variable(name).value
        if not (isinstance(value, dict) and isinstance(value.get("transform"), dict)):
            return None
        transform = self.variable(name).child("transform")
        if transform.get("type", None) != RASTER_TRANSFORM:
            return None
        data_id = transform.string("data_id")
        if data_id not in self.layers:
            raise transform.error(f"layer {data_id!r} is not in provider_config.json", "data_id")
        return self.layers[data_id]


@contextmanager
def open_project(path: str | Path) -> Iterator[GcbmProject]:
    """Open a project folder (with config/) or a zip of one; a zip is extracted to a temporary
    folder, removed when the `with` block ends."""
    path = Path(path)
    if not path.exists():
        raise ConfigError("project not found", source=str(path))
    if not path.is_file():
        yield read_project(path)
        return
    if not zipfile.is_zipfile(path):
        raise ConfigError("not a folder or a zip file", source=str(path))
    with tempfile.TemporaryDirectory(prefix="gcbm-project-") as folder:
        extract_zip(path, Path(folder))
        yield read_project(Path(folder))


def read_project(folder: Path) -> GcbmProject:
    """The project in `folder`: the one whose gcbm_config.cfg is nearest its top."""
    return _read(_find_config_dir(folder))


def _find_config_dir(root: Path) -> Path:
    """The folder of the project's gcbm_config.cfg: `root` itself, `config/` (our layout) or
    `gcbm_project/` (GCBM's standalone template), else the one nearest the top."""
    for folder in (root, root / "config", root / "gcbm_project"):
        if (folder / "gcbm_config.cfg").is_file():
            return folder
    candidates = sorted(root.glob("**/gcbm_config.cfg"), key=lambda p: len(p.parts))
    if not candidates:
        raise ConfigError("gcbm_config.cfg not found", source=str(root),
                          hint="a GCBM project has config/gcbm_config.cfg")
    return candidates[0].parent


def _read_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", source=path.name) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read file: {err}", source=path.name) from err
    return parse_json_text(text, path.name)


def _read(config_dir: Path) -> GcbmProject:
    cfg = config_dir / "gcbm_config.cfg"
    documents = []
    for number, line in enumerate(cfg.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if key.strip() != "config" or not value.strip():
            raise ConfigError(f"line {number}: expected 'config=<file>'", source=cfg.name)
        documents.append((value.strip(), _read_json(config_dir / value.strip())))
    config = FlintConfig.from_documents(documents)
    provider_doc = _read_json(config_dir / "provider_config.json")
    providers = FlintConfig.from_documents([("provider_config.json", provider_doc)])

    domain = config.view("LocalDomain")
    start, end = domain.date("start_date"), domain.date("end_date")
    if (start.month, start.day, end.month, end.day) != (1, 1, 1, 1) or end.year <= start.year:
        raise domain.error("only whole years are supported: start_date and end_date must be "
                           "January 1st of two different years", "start_date")
    if domain.string("timing", "annual") != "annual":
        raise domain.error("only annual timing is supported", "timing")
    if domain.string("type") != "spatial_tiled":
        raise domain.error(f"local domain type {domain.get('type')!r} is not supported", "type",
                           hint="GCBM projects use spatial_tiled")
    landscape = domain.child("landscape")
    if landscape.string("iteration_type", "TileIndex") != "TileIndex":
        raise landscape.error("only TileIndex iteration is supported", "iteration_type")
    tiles = [Tile(_whole(tile, "x"), _whole(tile, "y"), _whole(tile, "index"))
             for tile in landscape.child("tiles").elements()]
    provider_name = landscape.string("provider")

    sqlite, raster = _providers(providers, provider_name)
    database = (config_dir / _portable(sqlite.string("path"))).resolve()
    grid = _grid(raster, "provider_config.json")
    layers = {}
    for element in raster.child("layers").elements():
        layer = _layer(config_dir, element, grid)
        layers[layer.name] = layer

    modules = _modules(config)
    spinup_enabled = False
    if config.has("Spinup"):
        spinup_enabled = config.view("Spinup").boolean("enabled", False)
    if spinup_enabled and config.has("SpinupModules"):
        for name, entry in config.view("SpinupModules").items():
            if name not in SPINUP_MODULES and entry.boolean("enabled", True):
                raise entry.error(f"spinup module {name!r} is not supported",
                                  hint=f"supported: {', '.join(sorted(SPINUP_MODULES))}")
    listener = modules.get("CBMDisturbanceListener")
    disturbance_layers = []
    if listener is not None and "settings" in listener:
        settings = listener.child("settings")
        for key, _ in settings.items():
            if key not in ("vars", "conditions"):
                raise settings.error(f"listener setting {key!r} is not supported", key)
        disturbance_layers = [item.value for item in settings.child("vars").elements()] \
            if "vars" in settings else []
    spinup_variables = dict(config.data.get("SpinupVariables", {}))
    project = GcbmProject(
        root=config_dir.parent, config_dir=config_dir, config=config, start_year=start.year,
        n_steps=end.year - start.year, tiles=tiles, grid=grid, layers=layers, database=database,
        modules=modules, spinup_enabled=spinup_enabled, disturbance_layers=disturbance_layers,
        variables=config.view("Variables"), spinup_variables=spinup_variables)
    # (the disturbance orderings and growth multipliers are read by project.listener)
    if "last_pass_disturbance_timeseries" in project.variables:
        raise project.variables.error("variable 'last_pass_disturbance_timeseries' is not "
                                      "supported yet", "last_pass_disturbance_timeseries")
    for flag in ("enable_peatland", "enable_moss"):
        if project.variables.get(flag, False) is True:
            raise project.variables.error(f"{flag} is not supported yet", flag)
    for name in disturbance_layers:
        if project.raster_layer_of(name) is None:
            assert listener is not None  # disturbance_layers come from its settings
            raise listener.child("settings").error(
                f"disturbance variable {name!r} is not a raster layer lookup", "vars")
    return project


def _portable(path: str) -> str:
    """A provider path written on Windows (`..\\layers\\tiled\\x.tiff`, as GCBM's standalone
    template has them) with forward slashes: GCBM on Windows reads both."""
    return path.replace("\\", "/")


def _whole(view: ConfigView, key: str) -> int:
    """An integer setting that may be written as a whole float (-106.0), as FLINT accepts it."""
    value = view.number(key)
    if not value.is_integer():
        raise view.error(f"expected a whole number, got {value}", key)
    return int(value)


def _providers(providers: FlintConfig, name: str) -> tuple[ConfigView, ConfigView]:
    section = providers.view("Providers")
    sqlite = raster = None
    for key, entry in section.items():
        kind = entry.string("type")
        if kind == "SQLite":
            sqlite = entry
        elif key == name:
            if kind != "RasterTiledGDAL":
                raise entry.error(f"provider type {kind!r} is not supported", "type",
                                  hint="use RasterTiledGDAL")
            raster = entry
        else:
            raise entry.error(f"provider type {kind!r} is not supported", "type")
    if sqlite is None:
        raise section.error("no SQLite provider", hint="GCBM reads gcbm_input.db through it")
    if raster is None:
        raise section.error(f"no raster provider named {name!r} (LocalDomain.landscape.provider)")
    return sqlite, raster


def _grid(view: ConfigView, source: str, base: Grid | None = None) -> Grid:
    values = []
    for key, default in zip(GRID_KEYS, (base.tile_lat, base.tile_lon, base.block_lat,
                                        base.block_lon, base.cell_lat, base.cell_lon)
                            if base else (None,) * 6, strict=True):
        values.append(view.number(key, default) if default is not None or key in view
                      else view.number(key))
    return Grid(*values)


def _layer(config_dir: Path, element: ConfigView, grid: Grid) -> Layer:
    name = element.string("name")
    path = (config_dir / _portable(element.string("layer_path"))).resolve()
    if not path.is_file():
        raise RasterError(f"layer file not found: {path.name}", source="provider_config.json",
                          field=f"layers[{name}].layer_path")
    meta_path = path.with_suffix(".json")
    metadata: dict = {}
    if meta_path.is_file():
        metadata = _read_json(meta_path)
    meta = FlintConfig.from_documents([(meta_path.name, metadata)]).view()
    layer_grid = _grid(meta, meta_path.name, grid)
    if layer_grid != grid:
        raise RasterError("layer grid differs from the provider's grid "
                          f"({layer_grid} vs {grid})", source=meta_path.name,
                          field="cellLatSize/blockLatSize/tileLatSize")
    data_type = meta.string("layer_data", "Int32")
    if data_type not in LAYER_DATA_TYPES:
        raise RasterError(f"layer_data {data_type!r} is not a known pixel type",
                          source=meta_path.name, field="layer_data")
    layer_type = meta.string("layer_type", "GridLayer")
    if layer_type != "GridLayer":
        raise RasterError(f"layer_type {layer_type!r} is not supported", source=meta_path.name,
                          field="layer_type")
    attributes = metadata.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise RasterError("attributes must be an object", source=meta_path.name, field="attributes")
    return Layer(name, path, meta_path.name, data_type, meta.number("nodata", 0.0), layer_grid,
                 attributes)


def _modules(config: FlintConfig) -> dict[str, ConfigView]:
    enabled: dict[str, ConfigView] = {}
    for name, entry in config.view("Modules").items():
        entry.expect_object()
        if not entry.boolean("enabled", True):
            continue
        if name not in MAIN_MODULES | OUTPUT_MODULES:
            raise entry.error(f"module {name!r} is not supported",
                              hint=f"supported: {', '.join(sorted(MAIN_MODULES | OUTPUT_MODULES))}")
        enabled[name] = entry
    for required in ("CBMBuildLandUnitModule", "CBMSequencer"):
        if required not in enabled:
            raise config.error(("Modules",), f"module {required!r} is required")
    orders = [(enabled[name].integer("order"), name) for name in STEP_ORDER if name in enabled]
    if orders != sorted(orders):
        raise config.error(("Modules",), "the GCBM modules must keep GCBM's order: "
                           + " < ".join(STEP_ORDER))
    decay = enabled.get("CBMDecayModule")
    if decay is not None and "settings" in decay and \
            decay.child("settings").boolean("extra_decay_removals", False):
        raise decay.child("settings").error("extra_decay_removals is not supported yet",
                                            "extra_decay_removals")
    growth = enabled.get("CBMGrowthModule")
    if growth is not None and "settings" in growth:
        for key, _ in growth.child("settings").items():
            # debugging_* only log (YieldTableGrowthModule::configure)
            if key not in ("smoother_enabled", "debugging_enabled", "debugging_output_path"):
                raise growth.child("settings").error(f"setting {key!r} is not supported", key)
    return enabled


__all__ = ["GcbmProject", "Grid", "Layer", "Tile", "open_project", "read_project",
           "json", "shutil"]
