"""A GCBM project's configuration files as documents: generated from the templates (package
data, GCBM's standard configuration), read back as `GcbmSettings`, and rewritten from
edited settings. Only the keys a setting maps to are touched; everything else is kept as is.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flintcloud.errors import ConfigError, InputProblems
from flintcloud.gcbm.inputs.grid import TargetGrid
from flintcloud.gcbm.inputs.model import LAYER_VARIABLES, Role
from flintcloud.gcbm.inputs.settings import (
    DisturbanceOrderSettings,
    GcbmSettings,
    GrowthMultiplierSettings,
    GrowthSettings,
    OutputItem,
    OutputSettings,
    ReportingSettings,
    SpinupParameters,
    SpinupSettings,
    validate_settings,
)
from flintcloud.gcbm.project.config import Tile
from flintcloud.gcbm.project.modules import GROWTH_MULTIPLIERS_QUERY

CONFIG_LIST = "gcbm_config.cfg"
PROVIDER_FILE = "provider_config.json"
TEXT_TEMPLATES = (CONFIG_LIST, "logging.conf")
RASTER_PROVIDER = "RasterTiled"
RASTER_TRANSFORM = "LocationIdxFromFlintDataTransform"
LAYER_FOLDER = "../layers/tiled"
DATABASE_PATH = "../input_database/gcbm_input.db"


def template_text(name: str) -> str:
    return resources.files("flintcloud.gcbm.inputs").joinpath("templates", name).read_text(
        encoding="utf-8")


def standard_geotiff_module() -> dict[str, Any]:
    """GCBM's standard WriteVariableGeotiff module, as the templates declare it: its items are
    the indicators a simulation's run can write (the choices of `outputs.geotiff_indicators`)."""
    documents = ConfigDocuments.from_templates(Path("config"))
    module = documents.module("WriteVariableGeotiff")
    assert module is not None  # the templates write the indicators
    return module


def _config_files(text: str) -> list[str]:
    return [line.partition("=")[2].strip() for line in text.splitlines()
            if line.strip().startswith("config=")]


# -- documents --------------------------------------------------------------------------------

class ConfigDocuments:
    """The JSON documents of a project's config folder, plus its layer JSONs."""

    def __init__(self, config_dir: Path, files: list[str], documents: dict[str, dict]) -> None:
        self.config_dir = config_dir
        self.files = files  # gcbm_config.cfg order: the first file defining a key wins
        self.documents = documents  # file name -> document, provider_config.json included
        self.layer_documents: dict[str, dict] = {}  # layer name -> its GCBM layer JSON
        self._on_disk: dict[tuple[str, str], dict] = {}  # what `save` need not rewrite

    @classmethod
    def from_templates(cls, config_dir: Path) -> ConfigDocuments:
        files = _config_files(template_text(CONFIG_LIST))
        documents = {name: json.loads(template_text(name)) for name in [*files, PROVIDER_FILE]}
        return cls(config_dir, files, documents)

    @classmethod
    def load(cls, config_dir: Path) -> ConfigDocuments:
        files = _config_files((config_dir / CONFIG_LIST).read_text(encoding="utf-8"))
        documents = {name: _read_json(config_dir / name) for name in [*files, PROVIDER_FILE]}
        loaded = cls(config_dir, files, documents)
        root = config_dir.parent.resolve()
        for name in loaded.layer_names():
            path = loaded.layer_path(name).with_suffix(".json")
            # A layer outside the project is reported by the checks; never read its files.
            inside = path.is_relative_to(root) and path.is_file()
            loaded.layer_documents[name] = _read_json(path) if inside else {}
        loaded._on_disk = copy.deepcopy(loaded._all())
        return loaded

    def _all(self) -> dict[tuple[str, str], dict]:
        return {**{("config", name): doc for name, doc in self.documents.items()},
                **{("layer", name): doc for name, doc in self.layer_documents.items()}}

    # -- lookups ---------------------------------------------------------------------------
    def section(self, section: str, key: str | None = None) -> dict:
        """The `section` object of the first file that defines `section` (and `key`)."""
        for name in self.files:
            value = self.documents[name].get(section)
            if isinstance(value, dict) and (key is None or key in value):
                return value
        raise ConfigError(f"no file defines {section}" + (f".{key}" if key else ""),
                          source=CONFIG_LIST)

    def variable(self, name: str, default: Any = None) -> Any:
        try:
            return self.section("Variables", name)[name]
        except ConfigError:
            return default

    def module(self, name: str) -> dict | None:
        try:
            return self.section("Modules", name)[name]
        except ConfigError:
            return None

    def raster_provider(self) -> dict:
        return self.documents[PROVIDER_FILE]["Providers"][RASTER_PROVIDER]

    def layer_names(self) -> list[str]:
        return [layer["name"] for layer in self.raster_provider().get("layers", [])]

    def layer_path(self, name: str) -> Path:
        entry = next(layer for layer in self.raster_provider()["layers"] if layer["name"] == name)
        return (self.config_dir / str(entry["layer_path"]).replace("\\", "/")).resolve()

    def database_path(self) -> Path:
        path = str(self.documents[PROVIDER_FILE]["Providers"]["SQLite"]["path"])
        return (self.config_dir / path.replace("\\", "/")).resolve()  # Windows separators

    def _raster_variables(self) -> dict[str, str]:
        """Variable name -> layer name, for every raster-lookup variable."""
        out: dict[str, str] = {}
        for name in self.files:
            for variable, value in self.documents[name].get("Variables", {}).items():
                transform = value.get("transform") if isinstance(value, dict) else None
                if isinstance(transform, dict) and transform.get("type") == RASTER_TRANSFORM \
                        and isinstance(transform.get("data_id"), str):
                    out.setdefault(variable, transform["data_id"])
        return out

    def classifier_constants(self) -> dict[str, str]:
        """Classifier variables given as a value (text or a number) rather than a layer."""
        names = self.variable("initial_classifier_set", {}).get("transform", {}).get("vars", [])
        out = {}
        for name in names:
            value = self.variable(name)
            if isinstance(value, str | int) and not isinstance(value, bool):
                out[name] = str(value)
        return out

    def roles(self) -> dict[str, Role]:
        """Each layer's role, from the variables and modules that read it."""
        by_variable = self._raster_variables()
        classifiers = self.variable("initial_classifier_set", {}).get("transform", {}).get(
            "vars", [])
        listener = self.module("CBMDisturbanceListener") or {}
        disturbances = listener.get("settings", {}).get("vars", [])
        roles = dict.fromkeys(self.layer_names(), Role.OTHER)
        for variables, role in ((classifiers, Role.CLASSIFIER),
                                (disturbances, Role.DISTURBANCE)):
            for variable in variables:
                if by_variable.get(variable) in roles:
                    roles[by_variable[variable]] = role
        for role, variable in LAYER_VARIABLES.items():
            if by_variable.get(variable) in roles:
                roles[by_variable[variable]] = role
        return roles

    # -- settings --------------------------------------------------------------------------
    def settings(self) -> GcbmSettings:
        domain = self.section("LocalDomain")
        spinup = self._optional_section("Spinup")
        spinup_variables = self._optional_section("SpinupVariables")
        growth = (self.module("CBMGrowthModule") or {}).get("settings", {})
        writer = self.module("CBMAggregatorSQLiteWriter") or {}
        own = self.own_items()
        problems = InputProblems()
        settings = validate_settings({
            "start_year": _year(domain.get("start_date")),
            "end_year": _year(domain.get("end_date")) - 1,
            "admin_boundary": self._spatial_unit_name("admin_boundary"),
            "eco_boundary": self._spatial_unit_name("eco_boundary"),
            "spinup": {"enabled": bool(spinup.get("enabled", False)),
                       "minimum_rotation": spinup_variables.get("minimum_rotation", 10),
                       "parameters": self._spinup_parameters()},
            "growth": {"smoother_enabled": growth.get("smoother_enabled", True)},
            "outputs": {"geotiff_indicators": [item["data_name"] for item in self._items()
                                               if self._geotiff_on() and item.get("enabled", True)
                                               and item["data_name"] not in own],
                        "items": [{**item.module_item(),
                                   "enabled": self._geotiff_on() and item.enabled}
                                  for item in own.values()] or None,
                        "results_database": bool(writer) and writer.get("enabled", True)},
            "growth_multipliers": self._growth_multipliers(),
            "disturbance_order": self._disturbance_order(),
            "reporting": self._reporting(),
            "layers": {name: {"role": role,
                              "attributes": self.layer_documents.get(name, {}).get("attributes")}
                       for name, role in self.roles().items()},
        }, problems, source=self.config_dir.name)
        problems.raise_if_any(self.config_dir.parent.name)
        assert settings is not None  # valid when no problem was raised
        return settings

    def _spatial_unit_name(self, name: str) -> Any:
        """admin_boundary / eco_boundary as a setting: its name, or None when a raster layer
        gives it per pixel (spatial units from layers, checked layer by layer)."""
        value = self.variable(name)
        if name in self._raster_variables():
            return None
        return value

    def spatial_unit_layers(self) -> dict[str, str]:
        """Variable -> layer, for admin_boundary / eco_boundary given by raster layers."""
        by_variable = self._raster_variables()
        return {name: by_variable[name] for name in ("admin_boundary", "eco_boundary")
                if name in by_variable}

    def _spinup_parameters(self) -> dict | None:
        value = self.variable("spinup_parameters")
        if not isinstance(value, dict) or "transform" in value:
            return None  # GCBM's SQL query: the database's values for the spatial unit
        return {key: value[key] for key in SpinupParameters.model_fields if key in value}

    def _optional_section(self, section: str) -> dict:
        try:
            return self.section(section)
        except ConfigError:
            return {}

    def indicator_names(self) -> list[str]:
        """The standard items' names (the choices of `outputs.geotiff_indicators`)."""
        own = self.own_items()
        return [item["data_name"] for item in self._items() if item["data_name"] not in own]

    def _items(self) -> list[dict]:
        geotiff = self.module("WriteVariableGeotiff") or {}
        items: list[dict] = geotiff.get("settings", {}).get("items", [])
        return items

    def _geotiff_on(self) -> bool:
        return bool((self.module("WriteVariableGeotiff") or {}).get("enabled", True))

    def own_items(self) -> dict[str, OutputItem]:
        """The project's own WriteVariableGeotiff items (`outputs.items`): those that are not
        GCBM's standard ones (by name) and that the settings can say. Any other item is
        switched by name, as a standard one (`outputs.geotiff_indicators`)."""
        standard = standard_item_names()
        own: dict[str, OutputItem] = {}
        for item in self._items():
            if not isinstance(item, dict) or item.get("data_name") in standard:
                continue
            try:
                own[str(item["data_name"])] = OutputItem.model_validate(item)
            except (KeyError, ValidationError):
                continue
        return own

    def _growth_multipliers(self) -> dict[str, Any] | None:
        """GrowthMultiplierModule's settings; None when the project never had the module. It
        runs only with the `current_growth_multipliers` variable (growthmultipliermodule.cpp)."""
        module = self.module("GrowthMultiplierModule")
        if module is None:
            return None
        enabled = bool(module.get("enabled", True)) and \
            self.variable("current_growth_multipliers", _MISSING) is not _MISSING
        series = self.variable("growth_multipliers")
        if not isinstance(series, list):
            return {"enabled": enabled, "series": None}  # a query: the database's series
        # Rows of other forest types never apply (CBMGrowthModule reads these two only).
        return {"enabled": enabled, "series": [
            row for row in series
            if isinstance(row, dict) and row.get("forest_type") in ("Softwood", "Hardwood")]}

    def _disturbance_order(self) -> dict[str, Any] | None:
        order: dict[str, Any] = {}
        for key, variable in _ORDER_VARIABLES.items():
            value = self.variable(variable)
            order[key] = [str(name) for name in value] if isinstance(value, list) else []
        conditions = self._listener_settings().get("conditions")
        if conditions:
            order["conditions"] = conditions
        return order if any(order.values()) else None

    def _reporting(self) -> dict[str, list[str]] | None:
        transform = self._reporting_transform()
        columns = [str(name) for name in (transform or {}).get("vars", [])
                   if name != "classifier_set"]
        return {"columns": columns} if columns else None

    def _reporting_transform(self) -> dict | None:
        """The CompositeTransform of the aggregator's reporting classifier set, if any."""
        module = self.module("CBMAggregatorLandUnitData") or {}
        name = (module.get("settings") or {}).get("reporting_classifier_set", "classifier_set")
        value = self.variable(name) if name != "classifier_set" else None
        transform = value.get("transform") if isinstance(value, dict) else None
        if isinstance(transform, dict) and transform.get("type") == "CompositeTransform" and \
                isinstance(transform.get("vars"), list):
            return transform
        return None

    def _apply_reporting(self, settings: ReportingSettings) -> None:
        transform = self._reporting_transform()
        if transform is None:
            if settings.columns:
                raise ConfigError("the project reports by classifier set only: it has no "
                                  "reporting classifier set to add columns to",
                                  source=CONFIG_LIST, field="reporting.columns")
            return
        if [name for name in transform["vars"] if name != "classifier_set"] != settings.columns:
            transform["vars"] = ["classifier_set", *settings.columns]

    def _listener_settings(self) -> dict:
        listener = self.module("CBMDisturbanceListener") or {}
        settings = listener.get("settings")
        return settings if isinstance(settings, dict) else {}

    def apply(self, settings: GcbmSettings) -> None:
        """Write `settings` into the documents (not yet to disk: see `save`). A key is written
        only when its value changes, so untouched files stay as they were. Sections left
        out (None) get their defaults."""
        if settings.start_year is None or settings.end_year is None:
            raise ConfigError("a project simulates from start_year to end_year: give both",
                              field="start_year")
        spinup = settings.spinup or SpinupSettings()
        growth_settings = settings.growth or GrowthSettings()
        outputs = settings.outputs or OutputSettings()
        domain = self.section("LocalDomain")
        _put(domain, "start_date", f"{settings.start_year:04d}/01/01")
        _put(domain, "end_date", f"{settings.end_year + 1:04d}/01/01")
        for key in ("admin_boundary", "eco_boundary"):
            if key not in self._raster_variables():  # not given per pixel by a layer
                _put(self.section("Variables", key), key, getattr(settings, key))
        _put(self.section("Spinup"), "enabled", spinup.enabled, False)
        self._spinup_variables()["minimum_rotation"] = spinup.minimum_rotation
        parameters = spinup.parameters
        if parameters is None and self._spinup_parameters() is not None:
            template = json.loads(template_text("spinup.json"))["Variables"]
            self.section("Variables", "spinup_parameters")["spinup_parameters"] = \
                template["spinup_parameters"]
        elif parameters is not None and self._spinup_parameters() != parameters.model_dump():
            self.section("Variables", "spinup_parameters")["spinup_parameters"] = \
                parameters.model_dump()
        growth = self.module("CBMGrowthModule")
        if growth is not None and growth_settings.smoother_enabled != \
                growth.get("settings", {}).get("smoother_enabled", True):
            growth.setdefault("settings", {})["smoother_enabled"] = \
                growth_settings.smoother_enabled
        self._apply_outputs(outputs)
        writer = self.module("CBMAggregatorSQLiteWriter")
        if writer is not None:
            _put(writer, "enabled", outputs.results_database, True)
        self._apply_growth_multipliers(settings.growth_multipliers)
        self._apply_disturbance_order(settings.disturbance_order or DisturbanceOrderSettings())
        self._apply_reporting(settings.reporting or ReportingSettings())
        for name, layer in settings.layers.items():
            document = self.layer_documents.setdefault(name, {})
            if layer.attributes is None:
                document.pop("attributes", None)
            else:
                document["attributes"] = layer.attributes

    def _apply_outputs(self, outputs: OutputSettings) -> None:
        """The standard items switched by name, the project's own replaced by `outputs.items`
        (after the standard ones)."""
        geotiff = self.module("WriteVariableGeotiff")
        if geotiff is None:
            if outputs.items:
                raise ConfigError("the project has no WriteVariableGeotiff module for its items",
                                  source=CONFIG_LIST, field="outputs.items")
            return
        indicators = outputs.geotiff_indicators
        enabled = set(self.indicator_names() if indicators is None else indicators)
        own, extra = self.own_items(), outputs.items or []
        kept = [item for item in self._items() if item.get("data_name") not in own]
        for item in kept:
            _put(item, "enabled", item["data_name"] in enabled, True)
        items = kept + [item.module_item() for item in extra]
        if items != self._items():
            geotiff.setdefault("settings", {})["items"] = items
        _put(geotiff, "enabled", bool(enabled) or any(item.enabled for item in extra), True)

    def _apply_growth_multipliers(self, settings: GrowthMultiplierSettings | None) -> None:
        """GrowthMultiplierModule between the disturbance modules and CBMGrowthModule (so a
        series' first value applies in the disturbance year, as in GCBM's template), with its
        two variables; off: the module disabled (its variables are kept, unused)."""
        module = self.module("GrowthMultiplierModule")
        if settings is None or not settings.enabled:
            if module is not None:
                _put(module, "enabled", False, True)
            return
        if module is None:
            module = self._insert_before("CBMGrowthModule", "GrowthMultiplierModule",
                                         {"enabled": True, "library": "moja.modules.cbm"})
        _put(module, "enabled", True, True)
        variables = self._variables_for("current_growth_multipliers")
        _put(variables, "current_growth_multipliers", {}, _MISSING)
        current = self.variable("growth_multipliers")
        if settings.series is not None:
            rows = [row.model_dump() for row in settings.series]
            _put(self._variables_for("growth_multipliers"), "growth_multipliers", rows)
        elif not (isinstance(current, dict) and "transform" in current):
            self._variables_for("growth_multipliers")["growth_multipliers"] = {"transform": {
                "queryString": GROWTH_MULTIPLIERS_QUERY, "type": "SQLQueryTransform",
                "library": "internal.flint", "provider": "SQLite"}}

    def _apply_disturbance_order(self, settings: DisturbanceOrderSettings) -> None:
        listener = self.module("CBMDisturbanceListener")
        if settings.conditions:
            if listener is None:
                raise ConfigError("the project has no CBMDisturbanceListener for the conditions",
                                  source=CONFIG_LIST, field="disturbance_order.conditions")
            _put(listener.setdefault("settings", {}), "conditions", settings.conditions)
        elif self._listener_settings().get("conditions") is not None:
            del self._listener_settings()["conditions"]
        for key, variable in _ORDER_VARIABLES.items():
            names: list[str] = getattr(settings, key)
            if names:
                _put(self._variables_for(variable), variable, names)
                continue
            for name in self.files:  # none: the layers' order
                variables = self.documents[name].get("Variables")
                if isinstance(variables, dict) and variables.get(variable):
                    del variables[variable]

    def _variables_for(self, name: str) -> dict:
        """The Variables section that defines `name`, else the one of the classifier set."""
        try:
            return self.section("Variables", name)
        except ConfigError:
            return self.section("Variables", "initial_classifier_set")

    def _insert_before(self, successor: str, name: str, entry: dict) -> dict:
        """Add module `name` with `successor`'s order, every later module moving up one: FLINT
        runs modules by order and refuses two with the same."""
        modules = self.section("Modules", successor)
        order = int(modules[successor]["order"])
        for document in self.documents.values():
            for other in (document.get("Modules") or {}).values():
                if isinstance(other, dict) and isinstance(other.get("order"), int) and \
                        other["order"] >= order:
                    other["order"] += 1
        module: dict = {**entry, "order": order}
        modules[name] = module
        return module

    def _spinup_variables(self) -> dict:
        try:
            return self.section("SpinupVariables")
        except ConfigError:
            return self.documents[self.files[0]].setdefault("SpinupVariables", {})

    # -- generation ------------------------------------------------------------------------
    def set_landscape(self, grid: TargetGrid, tiles: list[Tile]) -> None:
        provider = self.raster_provider()
        provider.update({key: value for key, value in grid.layer_metadata("uint8", 0).items()
                         if key.endswith("Size")})
        landscape = self.section("LocalDomain")["landscape"]
        landscape["tiles"] = [{"x": tile.x, "y": tile.y, "index": tile.index} for tile in tiles]
        landscape["x_pixels"] = landscape["y_pixels"] = grid.cells_per_tile

    def set_layers(self, layers: list[tuple[str, Role, dict]]) -> None:
        """Declare (name, role, layer JSON) layers: provider entries, raster variables, the
        classifier set and the disturbance listener's list, in the order given."""
        self.raster_provider()["layers"] = [
            {"name": name, "layer_path": f"{LAYER_FOLDER}/{name}.tiff", "layer_prefix": name}
            for name, _, _ in layers]
        variables = self.section("Variables", "initial_classifier_set")
        for name, _, _ in layers:
            variables[name] = {"transform": {"library": "internal.flint",
                                             "type": RASTER_TRANSFORM,
                                             "provider": RASTER_PROVIDER, "data_id": name}}
        variables["initial_classifier_set"]["transform"]["vars"] = [
            name for name, role, _ in layers if role is Role.CLASSIFIER]
        listener = self.module("CBMDisturbanceListener")
        if listener is None:
            raise ConfigError("no file defines Modules.CBMDisturbanceListener", source=CONFIG_LIST)
        listener.setdefault("settings", {})["vars"] = [
            name for name, role, _ in layers if role is Role.DISTURBANCE]
        self.layer_documents = {name: document for name, _, document in layers}

    # -- writing ---------------------------------------------------------------------------
    def save(self, *, text_templates: bool = False) -> None:
        """Write every document that changed (each atomically), keeping the others' bytes;
        with `text_templates`, also gcbm_config.cfg and logging.conf from the templates."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        for (kind, name), document in self._all().items():
            if self._on_disk.get((kind, name)) == document:
                continue
            path = self.config_dir / name if kind == "config" else \
                self.layer_path(name).with_suffix(".json")
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_json(path, document)
        if text_templates:
            for name in TEXT_TEMPLATES:
                _write_text(self.config_dir / name, template_text(name))
        self._on_disk = copy.deepcopy(self._all())


_MISSING = object()
_ORDER_VARIABLES = {"user": "user_disturbance_order", "default": "default_disturbance_order"}


@functools.cache
def standard_item_names() -> frozenset[str]:
    return frozenset(item["data_name"] for item in standard_geotiff_module()["settings"]["items"])


def _put(target: dict, key: str, value: Any, default: Any = None) -> None:
    if target.get(key, default) != value:
        target[key] = value


def _year(date: Any) -> int:
    try:
        return int(str(date).split("/")[0].split("-")[0])
    except ValueError:
        raise ConfigError(f"date {date!r} is not YYYY/MM/DD", source="localdomain.json",
                          field="LocalDomain.start_date/end_date") from None


def _read_json(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file not found", source=path.name) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot be read as JSON: {err}", source=path.name) from err
    if not isinstance(document, dict):
        raise ConfigError("the top level must be a JSON object", source=path.name)
    return document


def _write_json(path: Path, document: dict) -> None:
    _write_text(path, json.dumps(document, indent=4, ensure_ascii=False) + "\n")


def _write_text(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
