"""Modules are found by (library, name); third parties add libraries through entry points."""

from __future__ import annotations

import sys
import textwrap

import numpy as np

from flintcloud.flint.controller import LocalDomainController
from flintcloud.flint.registry import default_registry
from tests.helpers import quiet_example


def test_builtin_libraries_are_registered():
    libraries = default_registry().libraries
    assert {"TestModule1", "CalendarSequencer", "OutputerStream"} <= set(libraries["internal.flint"].modules)
    assert "TimeSeriesTransform" in libraries["moja.flint.example.base"].transforms
    assert set(libraries["moja.flint.example.rothc"].modules) == {
        "PlantResidueModule", "SoilCoverModule", "RothCModule"}


def test_a_third_party_library_is_discovered_through_its_entry_point(tmp_path, monkeypatch):
    package = tmp_path / "leafdrop"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""
        from flintcloud.flint.module import Module
        from flintcloud.flint.signals import Signal

        class LeafDrop(Module):
            description = "moves a fixed share of Pool 1 to Pool 3"

            def subscribe(self, bus):
                bus.subscribe(Signal.LocalDomainInit, self.init)
                bus.subscribe(Signal.TimingStep, self.step)

            def init(self):
                self.source, self.sink = self.pool("Pool 1"), self.pool("Pool 3")

            def step(self):
                share = self.settings.number("share")
                op = self.land_unit.create_proportional_operation(self)
                op.add_transfer(self.source, self.sink, share).submit()

        def register(registry):
            registry.add_module("acme.leaves", "LeafDrop", LeafDrop)
    """))
    dist_info = tmp_path / "leafdrop-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: leafdrop\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[flintcloud.libraries]\nacme.leaves = leafdrop:register\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    default_registry.cache_clear()
    try:
        config = quiet_example("point")
        modules = config.data["Modules"]
        for name in ("TestModule1", "TestModule2", "TestModule3"):
            modules.pop(name)
        modules["LeafDrop"] = {"library": "acme.leaves", "order": 3, "settings": {"share": 0.5}}
        config.data["Libraries"]["acme.leaves"] = "external"
        result = LocalDomainController(config, record_outputs=True).run()
        pools = result.stock_rows[1].pools[:, 0]
        np.testing.assert_array_equal(pools, [50.0, 100.0, 150.0])
    finally:
        sys.modules.pop("leafdrop", None)
        default_registry.cache_clear()
