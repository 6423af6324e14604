"""The FLINT RothC example as documents (point_rothc_example.json + libs), with its climate data."""

from __future__ import annotations

from flintcloud.models.example.defaults import base_variables, output_modules, point_domain

# Monthly series; element 0 belongs to the init step (step 0) and is never used by RothC.
RAINFALL = [0.0, 24.0, 23.0, 25.0, 55.0, 78.0, 77.0, 89.0, 77.0, 63.0, 52.0, 39.0, 29.0, 24.7, 24.6,
            22.9, 20.9, 18.7, 15.2, 14.2, 14.8, 17.6, 20.6, 22.9, 24.0, 22.6, 23.5, 31.0, 22.0, 19.0,
            16.5, 13.0, 13.2, 18.0, 20.5, 22.4, 27.0, 23.0, 24.0, 26.0, 21.0, 18.6, 16.0, 14.0, 14.1,
            17.2, 20.0, 23.0, 26.0]
OPEN_PAN_EVAP = [0.0, 230.0, 209.0, 162.0, 105.0, 68.0, 45.0, 50.0, 68.0, 92.0, 138.0, 171.0, 211.0,
                 26.647, 28.827, 31.007, 33.187, 35.367, 37.547, 39.727, 41.907, 44.087, 46.267,
                 63.707, 65.887, 29.027, 31.887, 34.747, 37.607, 40.467, 43.327, 46.187, 49.047,
                 51.907, 54.767, 77.647, 80.507, 28.0, 30.557, 33.114, 35.671, 38.229, 40.786,
                 43.343, 45.9, 48.457, 51.014, 71.471, 74.029]
_TEMPERATURE_YEAR = [22.5, 23.0, 20.4, 17.7, 14.4, 12.0, 11.4, 12.0, 13.4, 16.0, 18.4, 20.6]
AVG_AIR_TEMP = [0.0] + _TEMPERATURE_YEAR * 4
PLANT_RESIDUE = [0.0, 10.08, 13.5, 9.3, 8.6, 7.4, 7.5, 7.5, 8.6, 10.0, 10.2, 10.2, 10.3, 9.43, 13.4,
                 9.2, 8.5, 7.3, 7.4, 7.4, 8.5, 9.9, 10.1, 10.1, 10.2, 8.78, 11.4, 9.1, 9.2, 7.4, 6.8,
                 6.5, 10.7, 10.4, 9.4, 9.2, 9.7, 8.13, 12.3, 8.9, 9.8, 7.4, 6.1, 5.5, 12.8, 10.8,
                 8.6, 8.2, 9.1]
SOIL_COVER = [1.0, 1.0, 0.9, 0.8, 0.359, 0.1, 0.2, 0.2, 0.5, 0.8, 0.289, 1.0, 0.6, 0.2, 1.0, 0.8,
              0.587, 0.027, 0.1, 0.3, 0.173, 0.9, 0.486, 0.2, 0.8, 0.6, 0.0, 0.7, 0.4, 0.5, 0.4,
              0.8, 0.2, 0.25, 0.0, 0.1, 0.7, 0.8, 0.68, 0.9, 0.213, 0.973, 0.2, 0.999, 0.227,
              0.14, 0.996, 0.2, 0.6]
INITIAL_SOIL = {"dpmaCMInit": 0.02, "rpmaCMInit": 8.681, "biofCMInit": 0.05, "biosCMInit": 0.03,
                "humsCMInit": 20.96, "inrtCMInit": 43.0, "TSMDInit": 35.21}
SOIL = {"fracManuCMToDpma": 0.49, "fracManuCMToRpma": 0.49, "fracManuCMToBiof": 0.0,
        "fracManuCMToBios": 0.0, "dToRRatioInPres": 2.84, "encpFracHums": 0.68,
        "sampleDepth": 26.0, "sdcmRateMultDpm": 12.0, "sdcmRateMultRpm": 0.5,
        "sdcmRateMultBiof": 0.0, "sdcmRateMultBios": 0.76, "sdcmRateMultHums": 0.05,
        "fracPbioToBiof": 0.49, "fracHumsToBios": 0.0, "evapoOpenRatio": 2.5,
        "bToCMaxTSMDRatio": 3.0}
POOLS = ["initialValues", "plantCM", "SoilDPM", "SoilRPM", "SoilBioF", "SoilBioS", "SoilHUM",
         "SoilIOM", "atmosphere", "offsiteCM"]


def _series(values: list[float]) -> dict:
    return {"transform": {"allow_nulls": True, "library": "moja.flint.example.base",
                          "type": "TimeSeriesTransform", "data": list(values)}}


def rothc_config() -> list[tuple[str, dict]]:
    """The RothC example as (name, document) pairs, in `--config` order."""
    module = {"enabled": True, "library": "moja.flint.example.rothc"}
    document = {
        "LocalDomain": point_domain(),
        "Pools": list(POOLS),
        "Variables": base_variables() + [
            {"isSoilCovered": True}, {"TSMD": 0.0}, {"clayFrac": 0.94},
            {"rainfall": _series(RAINFALL)}, {"openPanEvap": _series(OPEN_PAN_EVAP)},
            {"avgAirTemp": _series(AVG_AIR_TEMP)}, {"presCM": _series(PLANT_RESIDUE)},
            {"soilCover": _series(SOIL_COVER)},
            {"initSoil": dict(INITIAL_SOIL)}, {"soil": dict(SOIL)},
        ],
        "Modules": {
            "TransactionManagerEndOfStepModule": {"library": "internal.flint", "order": 1},
            "CalendarSequencer": {"library": "internal.flint", "order": 2},
            "PlantResidueModule": {**module, "order": 3},
            "SoilCoverModule": {**module, "order": 4},
            "RothCModule": {**module, "order": 5},
            **output_modules("Example_Rothc_Point_Stock.csv", "Example_Rothc_Point_Flux.csv"),
        },
    }
    libraries = {"Libraries": {"moja.flint.example.base": "external",
                               "moja.flint.example.rothc": "external"}}
    return [("point_rothc_example.json", document), ("libs.base_rothc.simple.json", libraries)]
