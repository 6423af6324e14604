"""FLINT's example library `moja.flint.example.base` and the test modules of `internal.flint`."""

from flintcloud.models.example.modules import ErrorScreenWriter, TestModule, TimeSeriesTransform


def register(registry) -> None:
    for name in ("TestModule1", "TestModule2", "TestModule3"):
        registry.add_module("internal.flint", name, TestModule)
    registry.add_module("internal.flint", "ErrorScreenWriter", ErrorScreenWriter)
    registry.add_module("moja.flint.example.base", "ErrorScreenWriter", ErrorScreenWriter)
    registry.add_transform("moja.flint.example.base", "TimeSeriesTransform", TimeSeriesTransform)


__all__ = ["ErrorScreenWriter", "TestModule", "TimeSeriesTransform", "register"]
