"""The point local-domain controller: configure from a FlintConfig and run a land-unit batch.

Configuration follows moja's order exactly (flint-core-spec §3), because that order decides
pool indices and which objects exist when each module is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from flintcloud.errors import ConfigError, InputError
from flintcloud.flint.config import ConfigView, FlintConfig
from flintcloud.flint.land_unit import LandUnitController
from flintcloud.flint.module import Module, Sequencer
from flintcloud.flint.modules.outputs import FluxRow, OutputerStream, OutputerStreamFlux, StockRow
from flintcloud.flint.operations import OperationManager
from flintcloud.flint.outputs import OutputFiles
from flintcloud.flint.pools import PoolDef
from flintcloud.flint.registry import INTERNAL_LIBRARY, Library, Registry, default_registry
from flintcloud.flint.signals import NotificationCenter, Signal
from flintcloud.flint.timing import Timing
from flintcloud.flint.variables import ExternalVariable, FlintDataVariable, Transform, Variable

LIBRARY_TYPES = {"internal", "external", "managed", "python"}
SPATIAL_TYPES = {"spatial_tiled", "spatially_referenced_sql", "spatially_referenced_nosql",
                 "threaded_spatially_referenced_nosql"}


@dataclass
class RunResult:
    """What a run produced besides its files: recorded rows (batches) and the final pools."""

    n_land_units: int
    pool_names: list[str]
    final_pools: np.ndarray  # (n_pools, n)
    stock_rows: list[StockRow] = field(default_factory=list)
    flux_rows: list[FluxRow] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


@dataclass
class _VariableSpec:
    name: str
    view: ConfigView
    value: Any


class LocalDomainController:
    """Builds the modules, pools and variables of a point run for `n_land_units` at once."""

    def __init__(self, config: FlintConfig, *, n_land_units: int = 1,
                 overrides: Mapping[str, Any] | None = None, overrides_source: str = "parameters",
                 output_dir: str | Path | None = None, screen: TextIO | None = None,
                 record_outputs: bool | None = None, registry: Registry | None = None) -> None:
        """`record_outputs`: outputers keep rows as arrays (default for batches) instead of
        writing moja.cli's text files and screen output (default for a single land unit)."""
        if n_land_units < 1:
            raise InputError("a batch needs at least one land unit", source=overrides_source)
        self.config = config
        self.registry = registry or default_registry()
        self.bus = NotificationCenter()
        self.outputs = OutputFiles(output_dir, screen)
        self.modules: list[Module] = []
        self.record_outputs = n_land_units > 1 if record_outputs is None else record_outputs
        self._configure(n_land_units)
        if overrides:
            self._apply_overrides(overrides, overrides_source)

    # -- configuration, in moja's order ----------------------------------------------------
    def _configure(self, n: int) -> None:
        domain = self.config.view("LocalDomain")
        domain.expect_object()
        self._check_domain_type(domain)
        start, end = domain.date("start_date"), domain.date("end_date")
        if not end > start:
            raise domain.error("end_date must be after start_date", "end_date")
        timing = Timing(start, end, stepping=self._stepping(domain))
        self.land_unit = LandUnitController(n, timing, self._operation_manager(domain, n, timing),
                                            self.outputs)
        self.land_unit.record_outputs = self.record_outputs
        self._check_libraries()
        self._create_modules()
        self.sequencer = self._find_sequencer(domain)
        self.sequencer.configure_timing(timing)
        self._add_pools()
        self._add_variables()
        for key in ("simulateLandUnit", "landUnitBuildSuccess"):
            name = domain.string(key)
            if not self.land_unit.has_variable(name):
                raise domain.error(f"names variable {name!r}, which is not defined in Variables", key)
        if self.config.has("Spinup") and isinstance(self.config.data["Spinup"], dict) and \
                self.config.data["Spinup"].get("enabled", False):
            raise self.config.error(("Spinup", "enabled"), "spinup is only run by spatial local "
                                    "domains; a point run cannot use it")

    @staticmethod
    def _check_domain_type(domain: ConfigView) -> None:
        kind = domain.string("type")
        if kind in SPATIAL_TYPES:
            raise domain.error(f"local domain type {kind!r} is not a point run", "type",
                               hint="run GCBM projects with `flintcloud gcbm run`")
        if kind != "point":
            raise domain.error(f"Unknown LocalDomain Type {kind!r}", "type")

    @staticmethod
    def _stepping(domain: ConfigView) -> str:
        return "annual" if domain.get("timing", None) == "annual" else "monthly"

    @staticmethod
    def _operation_manager(domain: ConfigView, n: int, timing: Timing) -> OperationManager:
        if "operationManager" not in domain:
            return OperationManager(n, timing)
        manager = domain.child("operationManager")
        if isinstance(manager.value, str):
            name, settings = manager.value, None
        else:
            manager.expect_object()
            name, settings = manager.get("name", None), manager
        if name == "Ublas":
            raise manager.error("operation manager 'Ublas' is not supported (its sparse-matrix "
                                "summation order differs from moja's)", hint="use 'Simple'")
        if name not in ("Simple", "SimpleCache") or settings is None:
            # moja falls back to OperationManagerSimple built with empty settings
            return OperationManager(n, timing)
        return OperationManager(
            n, timing,
            use_kahan=settings.boolean("use_kahan", False),
            allow_zero_result_transfers=settings.boolean("allow_zero_result_transfers", False),
            allow_negative_transfers=settings.boolean("allow_negative_transfers", True),
            warn_negative_transfers=settings.boolean("warn_negative_transfers", False),
        )

    def _check_libraries(self) -> None:
        self.loaded_libraries = {INTERNAL_LIBRARY}
        if not self.config.has("Libraries"):
            return
        for name, entry in self.config.view("Libraries").items():
            kind = entry.value if isinstance(entry.value, str) else None
            if isinstance(entry.value, dict):
                kind = entry.string("type", "external")
            if kind not in LIBRARY_TYPES:
                raise entry.error(f"library type must be one of {sorted(LIBRARY_TYPES)}, got {kind!r}")
            if name not in self.registry.libraries:
                raise entry.error(f"unknown library {name!r}",
                                  hint=f"known libraries: {', '.join(sorted(self.registry.libraries))}")
            self.loaded_libraries.add(name)

    def _library(self, view: ConfigView, key: str = "library") -> Library:
        name = view.string(key)
        if name not in self.loaded_libraries:
            hint = "add it to the Libraries section" if name in self.registry.libraries else \
                f"known libraries: {', '.join(sorted(self.registry.libraries))}"
            raise view.error(f"library {name!r} is not loaded", key, hint=hint)
        return self.registry.libraries[name]

    def _create_modules(self) -> None:
        modules = self.config.view("Modules")
        entries = []
        for name, entry in modules.items():
            entry.expect_object()
            if not entry.boolean("enabled", True):
                continue
            entries.append((entry.integer("order"), name, entry))
        orders: dict[int, str] = {}
        for order, name, entry in sorted(entries, key=lambda item: item[0]):
            if order in orders:
                raise entry.error(f"module order {order} is also used by {orders[order]!r}", "order")
            orders[order] = name
            library = self._library(entry)
            cls = library.modules.get(name)
            if cls is None:
                raise entry.error(f"library {library.name!r} has no module named {name!r}", "library",
                                  hint=f"its modules: {', '.join(sorted(library.modules)) or 'none'}")
            settings = entry.child("settings") if "settings" in entry else ConfigView(
                self.config, (*entry.path, "settings"), {})
            settings.expect_object()
            module = cls(name, library.name, self.land_unit, settings)
            module.configure()
            module.subscribe(self.bus)
            self.modules.append(module)

    def _find_sequencer(self, domain: ConfigView) -> Sequencer:
        name = domain.string("sequencer")
        library = domain.string("sequencer_library")
        for module in self.modules:
            if module.name == name and module.library == library and isinstance(module, Sequencer):
                return module
        raise domain.error(f"sequencer {name!r} of library {library!r} must also be an enabled "
                           "module in Modules", "sequencer")

    # -- pools -------------------------------------------------------------------------------
    def _add_pools(self) -> None:
        pools = self.config.view("Pools")
        if isinstance(pools.value, list):
            items = [self._pool_from_element(element) for element in pools.elements()]
        else:
            items = [(name, view, view.value) for name, view in pools.items()]
        ops = self.land_unit.operations
        external = []
        for name, view, spec in items:
            if isinstance(spec, dict) and "transform" in spec:
                external.append((name, view))
                continue
            ops.add_pool(self._pool_def(name, view, spec, len(ops.pool_defs)))
        # External pools get indices after all others; a point run never initialises them
        # (moja's initialiseData(false) is a no-op), so they stay 0.
        self._external_pools: list[tuple[Transform, ConfigView]] = []
        for name, view in external:
            transform = self._transform(view.child("transform"))
            ops.add_pool(PoolDef(name, len(ops.pool_defs), 0.0, transform=transform))
            self._external_pools.append((transform, view.child("transform")))

    @staticmethod
    def _pool_from_element(element: ConfigView) -> tuple[str, ConfigView, Any]:
        value = element.value
        if isinstance(value, str):
            return value, element, 0.0
        element.expect_object()
        if "name" in value:
            return element.string("name"), element, value
        if len(value) != 1:
            raise element.error("a pool must be {\"Name\": value}, {\"name\": ...} or \"Name\"")
        name = next(iter(value))
        return name, element.child(name), value[name]

    @staticmethod
    def _pool_def(name: str, view: ConfigView, spec: Any, index: int) -> PoolDef:
        if not name.strip():
            raise view.error("pool name cannot be empty")
        if isinstance(spec, dict):
            init = view.number("value", 0.0) if "value" in spec else 0.0
            definition = PoolDef(name, index, init, view.string("description", ""),
                                 view.string("units", ""), view.number("scale", 1.0),
                                 view.integer("order", 0))
        elif isinstance(spec, bool) or not isinstance(spec, int | float):
            raise view.error(f"pool {name!r}: expected a number, got {spec!r}")
        else:
            definition = PoolDef(name, index, float(spec))
        if definition.init_value < 0.0:
            raise view.error(f"pool {name!r}: initValue cannot be less than 0.0")
        return definition

    # -- variables ---------------------------------------------------------------------------
    def _variable_specs(self) -> list[_VariableSpec]:
        if not self.config.has("Variables"):
            return []
        variables = self.config.view("Variables")
        if isinstance(variables.value, dict):
            return [_VariableSpec(name, view, view.value) for name, view in variables.items()]
        specs = []
        for element in variables.elements():
            element.expect_object()
            if len(element.value) != 1:
                raise element.error("each variable must be a single-key object {\"name\": value}")
            name = next(iter(element.value))
            specs.append(_VariableSpec(name, element.child(name), element.value[name]))
        return specs

    def _add_variables(self) -> None:
        specs = self._variable_specs()
        kinds: dict[str, list[_VariableSpec]] = {"internal": [], "transform": [], "flintdata": []}
        for spec in specs:
            value = spec.value
            kind = next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None
            kinds[kind if kind in ("transform", "flintdata") else "internal"].append(spec)
        for spec in kinds["internal"]:
            self.land_unit.add_variable(Variable(spec.name, _internal_value(spec.view)))
        transforms = []
        for spec in kinds["transform"]:
            transform_view = spec.view.child("transform")
            transform = self._transform(transform_view)
            transforms.append((transform, transform_view))
            self.land_unit.add_variable(ExternalVariable(spec.name, transform))
        for spec in kinds["flintdata"]:
            data_view = spec.view.child("flintdata")
            data_view.expect_object()
            cls = self._library(data_view).flintdata.get(data_view.string("type"))
            if cls is None:
                raise data_view.error(f"unknown FlintData type {data_view.value.get('type')!r}", "type")
            data = cls()
            settings = data_view.child("settings") if "settings" in data_view else data_view
            data.configure(settings, self.land_unit)
            self.land_unit.add_variable(FlintDataVariable(spec.name, data))
        for transform, view in transforms:
            transform.configure(view, self.land_unit)
        for transform, view in self._external_pools:
            transform.configure(view, self.land_unit)

    def _transform(self, view: ConfigView) -> Transform:
        view.expect_object()
        library = self._library(view)
        kind = view.string("type")
        cls = library.transforms.get(kind)
        if cls is None:
            raise view.error(f"library {library.name!r} has no transform named {kind!r}", "type",
                             hint=f"its transforms: {', '.join(sorted(library.transforms)) or 'none'}")
        return cls()

    # -- batch parameters --------------------------------------------------------------------
    def _apply_overrides(self, overrides: Mapping[str, Any], source: str) -> None:
        n = self.land_unit.n
        ops = self.land_unit.operations
        for column, raw in overrides.items():
            values = np.asarray(raw)
            if values.shape not in ((), (n,)):
                raise InputError(f"expected {n} values, got shape {values.shape}", source=source,
                                 field=column)
            if column in ops.pools:
                values = np.asarray(values, dtype=np.float64)
                if np.any(values < 0.0) or np.any(np.isnan(values)):
                    raise InputError("pool initial values must be numbers >= 0", source=source,
                                     field=column)
                ops.set_pool_values(ops.pools[column].index, values)
                continue
            name, _, prop = column.partition(".")
            if not self.land_unit.has_variable(name):
                raise InputError(f"{column!r} is neither a pool nor a variable of this configuration",
                                 source=source, field=column)
            variable = self.land_unit.variable(name)
            if not isinstance(variable, Variable):
                raise InputError(f"variable {name!r} is computed by a transform and cannot be "
                                 "overridden", source=source, field=column)
            if prop:
                struct = variable.value
                if not isinstance(struct, dict) or prop not in struct:
                    raise InputError(f"variable {name!r} has no field {prop!r}", source=source,
                                     field=column)
                variable.override({**struct, prop: values})
            else:
                variable.override(values)

    # -- running -----------------------------------------------------------------------------
    def run(self) -> RunResult:
        bus = self.bus
        try:
            bus.post(Signal.SystemInit)
            bus.post(Signal.LocalDomainInit)
            bus.post(Signal.PreTimingSequence)
            bus.post(Signal.LocalDomainProcessingUnitInit)
            self.sequencer.run(bus)
            bus.post(Signal.LocalDomainProcessingUnitShutdown)
            bus.post(Signal.LocalDomainShutdown)
            bus.post(Signal.SystemShutdown)
            files = self.outputs.commit()
        except BaseException:
            self.outputs.discard()
            raise
        return RunResult(
            n_land_units=self.land_unit.n,
            pool_names=self.land_unit.pool_names,
            final_pools=self.land_unit.operations.values.copy(),
            stock_rows=[row for m in self.modules if isinstance(m, OutputerStream) for row in m.rows],
            flux_rows=[row for m in self.modules if isinstance(m, OutputerStreamFlux) for row in m.rows],
            files=files,
        )


def _internal_value(view: ConfigView) -> Any:
    """An internal variable's value: numbers, strings, bools, structs, vectors; {"$date"} dates."""
    value = view.value
    if isinstance(value, dict) and set(value) == {"$date"}:
        parent = ConfigView(view.config, view.path[:-1], {view.path[-1]: value})
        return parent.date(str(view.path[-1]))  # a variable's name
    if isinstance(value, dict) and set(value) == {"$uint32"}:
        return int(value["$uint32"])
    return value


def run_config(config: FlintConfig, **options: Any) -> RunResult:
    """Configure and run a point configuration (a batch of `n_land_units`, default 1)."""
    return LocalDomainController(config, **options).run()


__all__ = ["ConfigError", "LocalDomainController", "RunResult", "run_config"]
