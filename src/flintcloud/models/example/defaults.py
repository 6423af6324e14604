"""The FLINT Point example as documents (what `moja.cli` runs with point_example.json + libs)."""

from __future__ import annotations

START, END = "1920/01/01", "1924/12/31"


def point_domain() -> dict:
    return {
        "type": "point", "start_date": START, "end_date": END,
        "sequencer_library": "internal.flint", "sequencer": "CalendarSequencer",
        "simulateLandUnit": "simulateLandUnit", "landUnitBuildSuccess": "landUnitBuildSuccess",
        "operationManager": {"name": "Simple", "use_kahan": False,
                             "allow_zero_result_transfers": False},
    }


def base_variables() -> list[dict]:
    return [
        {"localDomainId": 1},
        {"simulateLandUnit": True},
        {"spatialLocationInfo": {"flintdata": {"library": "internal.flint",
                                               "type": "SpatialLocationInfo", "settings": {}}}},
        {"landUnitBuildSuccess": True},
        {"landUnitArea": 1.0},
    ]


def output_modules(stock_file: str, flux_file: str) -> dict:
    return {
        "ErrorScreenWriter": {"enabled": True, "library": "moja.flint.example.base", "order": 10,
                              "settings": {"log_errors_max_number": 10}},
        "OutputerStream": {"enabled": True, "library": "internal.flint", "order": 11,
                           "settings": {"output_filename": stock_file, "output_to_screen": True,
                                        "output_info_header": True}},
        "OutputerStreamFlux": {"enabled": True, "library": "internal.flint", "order": 12,
                               "settings": {"output_filename": flux_file, "output_to_screen": False,
                                            "output_info_header": True}},
    }


def _test_module(order: int, ratios: tuple[float, float, float]) -> dict:
    settings: dict[str, float | str] = {f"ratio_{i}": ratio
                                        for i, ratio in enumerate(ratios, start=1)}
    settings |= {f"pool_{i}": f"Pool {i}" for i in (1, 2, 3)}
    settings |= {f"variable_{i}": f"variable {i}" for i in (1, 2, 3)}
    return {"enabled": True, "library": "internal.flint", "order": order, "settings": settings}


def point_config() -> list[tuple[str, dict]]:
    """The Point example as (name, document) pairs, in `--config` order."""
    document = {
        "LocalDomain": point_domain(),
        "Pools": [{"Pool 1": 100.0}, {"Pool 2": 100.0}, {"Pool 3": 100.0}],
        "Variables": base_variables() + [{f"variable {i}": 1.0} for i in (1, 2, 3)],
        "Modules": {
            "TransactionManagerEndOfStepModule": {"library": "internal.flint", "order": 1},
            "CalendarSequencer": {"library": "internal.flint", "order": 2},
            "TestModule1": _test_module(3, (0.4, 0.4, 0.4)),
            "TestModule2": _test_module(4, (0.3, 0.35, 0.39)),
            "TestModule3": _test_module(5, (0.6, 0.65, 0.7)),
            **output_modules("Example_Point_Stock.csv", "Example_Point_Flux.csv"),
        },
    }
    libraries = {"Libraries": {"moja.flint.example.base": "external"}}
    return [("point_example.json", document), ("libs.base.simple.json", libraries)]
