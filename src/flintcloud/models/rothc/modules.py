"""PlantResidue, SoilCover and RothC modules (flint-core-spec §8.3-8.5), vectorised over land units.

Every expression keeps the C++ evaluation order, and branches become `np.where` on the same
conditions, so each land unit gets moja's bits. Values may be scalars (shared by the batch) or
(n,) arrays (per land unit).
"""

from __future__ import annotations

import numpy as np

from flintcloud.errors import SimulationError
from flintcloud.flint.mathlib import exp
from flintcloud.flint.module import Module
from flintcloud.flint.signals import Signal

K0_PLUS = 1e-9  # MathEx::k0Plus


def _std_min(a, b):
    """std::min(a, b): b only if b < a, so ties (and NaN) give a."""
    return np.where(b < a, b, a)


def _std_max(a, b):
    """std::max(a, b): b only if a < b."""
    return np.where(a < b, b, a)


def _field(struct, name: str, variable: str, module: Module):
    try:
        value = struct[name]
    except (KeyError, TypeError):
        raise module.settings.error(f"variable {variable!r} has no field {name!r}",
                                    hint=f"module {module.name} needs {variable}.{name}") from None
    if isinstance(value, str):
        # FLINT-UI sends these fields as strings ("0.02"); moja reads them as numbers
        # (Poco's Dynamic::Var parses a string it is asked for as a double).
        try:
            return float(value)
        except ValueError:
            raise module.settings.error(f"variable {variable!r}, field {name!r}: {value!r} is "
                                        "not a number") from None
    return value


class PlantResidueModule(Module):
    """Adds this month's plant residue (presCM) to the DPM and RPM pools."""

    description = "Plant residue inputs split into decomposable and resistant plant material."

    def subscribe(self, bus) -> None:
        bus.subscribe(Signal.LocalDomainInit, self.on_local_domain_init)
        bus.subscribe(Signal.TimingInit, self.on_timing_init)
        bus.subscribe(Signal.TimingStep, self.on_timing_step)

    def on_local_domain_init(self) -> None:
        self.soil_dpm = self.pool("SoilDPM")
        self.soil_rpm = self.pool("SoilRPM")
        self.plant_cm = self.pool("plantCM")
        self.pres_cm = self.variable("presCM")
        self.soil = self.variable("soil")

    def on_timing_init(self) -> None:
        ratio = _field(self.soil.value, "dToRRatioInPres", "soil", self)
        self.d_frac = ratio / (1.0 + ratio)
        self.r_frac = 1.0 - self.d_frac

    def on_timing_step(self) -> None:
        pres_cm = self.pres_cm.value
        has_input = pres_cm > 0.0
        if not np.any(has_input):
            return
        where = None if np.all(has_input) else has_input
        operation = self.land_unit.create_stock_operation(self)
        operation.add_transfer(self.plant_cm, self.soil_dpm, pres_cm * self.d_frac, where=where) \
                 .add_transfer(self.plant_cm, self.soil_rpm, pres_cm * self.r_frac, where=where)
        self.land_unit.submit_operation(operation)


class SoilCoverModule(Module):
    """isSoilCovered = soilCover >= 0.5, at the init step and every step."""

    description = "Sets whether the soil is covered from the soil-cover time series."

    def subscribe(self, bus) -> None:
        bus.subscribe(Signal.LocalDomainInit, self.on_local_domain_init)
        bus.subscribe(Signal.TimingInit, self.set_soil_covered)
        bus.subscribe(Signal.TimingStep, self.set_soil_covered)

    def on_local_domain_init(self) -> None:
        self.soil_cover = self.variable("soilCover")
        self.is_soil_covered = self.variable("isSoilCovered")

    def set_soil_covered(self) -> None:
        self.is_soil_covered.set_value(self.soil_cover.value >= 0.5)


POOLS = ("SoilDPM", "SoilRPM", "SoilBioF", "SoilBioS", "SoilHUM", "SoilIOM", "atmosphere",
         "initialValues")
VARIABLES = ("rainfall", "avgAirTemp", "openPanEvap", "TSMD", "isSoilCovered", "clayFrac",
             "initSoil", "soil")


class RothCModule(Module):
    """Monthly decomposition of the RothC soil pools, driven by temperature, moisture and cover."""

    description = "RothC soil carbon decomposition (FLINT example variant)."

    def subscribe(self, bus) -> None:
        bus.subscribe(Signal.LocalDomainInit, self.on_local_domain_init)
        bus.subscribe(Signal.TimingInit, self.on_timing_init)
        bus.subscribe(Signal.TimingStep, self.on_timing_step)

    def on_local_domain_init(self) -> None:
        self.pools = {name: self.pool(name) for name in POOLS}
        self.vars = {name: self.variable(name) for name in VARIABLES}

    def _soil(self, name: str):
        return _field(self.vars["soil"].value, name, "soil", self)

    def on_timing_init(self) -> None:
        p = self.pools
        init_soil = self.vars["initSoil"].value
        operation = self.land_unit.create_stock_operation(self)
        for pool, key in (("SoilDPM", "dpmaCMInit"), ("SoilRPM", "rpmaCMInit"),
                          ("SoilBioF", "biofCMInit"), ("SoilBioS", "biosCMInit"),
                          ("SoilHUM", "humsCMInit"), ("SoilIOM", "inrtCMInit")):
            operation.add_transfer(p["initialValues"], p[pool], _field(init_soil, key, "initSoil", self))
        self.land_unit.submit_operation(operation)
        self.vars["TSMD"].set_value(_field(init_soil, "TSMDInit", "initSoil", self))

        clay = self.vars["clayFrac"].value
        self._compute_tsmd_parameters(clay, self._soil("sampleDepth"), self._soil("bToCMaxTSMDRatio"))
        self.evapo_open_ratio = self._soil("evapoOpenRatio")
        atms_to_sold_ratio = 1.67 * (1.85 + 1.6 * exp(-7.86 * clay))
        frac_sdcm_to_solid = 1.0 / (1.0 + atms_to_sold_ratio)
        self.frac_sdcm_to_atms = 1.0 - frac_sdcm_to_solid
        self.frac_pbio_to_biof = frac_sdcm_to_solid * self._soil("fracPbioToBiof")
        self.frac_pbio_to_hums = frac_sdcm_to_solid * (1.0 - self._soil("fracPbioToBiof"))
        self.frac_hums_to_bios = frac_sdcm_to_solid * self._soil("fracHumsToBios")
        self.frac_hums_to_hums = frac_sdcm_to_solid * (1.0 - self._soil("fracHumsToBios"))
        self.rate_dpm = self._soil("sdcmRateMultDpm")
        self.rate_rpm = self._soil("sdcmRateMultRpm")
        self.rate_hums = self._soil("sdcmRateMultHums")
        self.rate_biof = self._soil("sdcmRateMultBiof")
        self.rate_bios = self._soil("sdcmRateMultBios")

    def _compute_tsmd_parameters(self, clay, sample_depth, bare_to_covered_ratio) -> None:
        clay_squared = clay * clay
        self.max_tsmd_covered = (20.0 + 130.0 * clay - 100.0 * clay_squared) * (sample_depth / 23.0)
        self.max_tsmd_bare = bare_to_covered_ratio * self.max_tsmd_covered
        valid = (self.max_tsmd_covered > K0_PLUS) & (self.max_tsmd_bare > K0_PLUS)
        if not np.all(valid):
            unit = int(np.flatnonzero(~np.broadcast_to(valid, (self.land_unit.n,)))[0])
            raise SimulationError(
                f"maxTSMDCvrd ({np.broadcast_to(self.max_tsmd_covered, (self.land_unit.n,))[unit]}) "
                f"&& maxTSMDBare ({np.broadcast_to(self.max_tsmd_bare, (self.land_unit.n,))[unit]}) "
                "> k0Plus", source=self.name, field=f"land unit {unit}",
                hint="check clayFrac, soil.sampleDepth and soil.bToCMaxTSMDRatio")

    def _rate_modifying_factor(self):
        """UpdateRateProperties: temperature (a), moisture (b) and cover (c) factors; updates TSMD."""
        v = self.vars
        rain = v["rainfall"].value
        tm = v["avgAirTemp"].value
        is_cold = tm < -5.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a = np.where(is_cold, 0.0, 47.91 / (1.0 + exp(106.06 / (18.27 + tm))))
        covered = v["isSoilCovered"].value
        evap = v["openPanEvap"].value * self.evapo_open_ratio
        net_water = rain - evap
        tsmd = v["TSMD"].value
        max_covered, max_bare = self.max_tsmd_covered, self.max_tsmd_bare
        drier = tsmd - net_water
        when_bare = np.where(tsmd > max_bare, tsmd, _std_min(max_bare, drier))
        when_dry = np.where(covered, _std_min(max_covered, drier), when_bare)
        tsmd = _std_max(0.0, np.where(net_water >= 0, drier, when_dry))
        v["TSMD"].set_value(tsmd)
        b = 0.2 + 0.8 * (max_covered - tsmd) / max_bare
        b = np.where(b > 1.0, 1.0, b)
        b = np.where(b < 0.0, 0.0, b)
        b = np.where(is_cold, 0.0, b)
        c = np.where(covered, 0.6, 1.0)
        return a * b * c

    def on_timing_step(self) -> None:
        rate_modifying_factor = self._rate_modifying_factor()
        x = -rate_modifying_factor * self.land_unit.timing.step_length_in_years
        dpm = 1.0 - exp(x * self.rate_dpm)
        rpm = 1.0 - exp(x * self.rate_rpm)
        hums = 1.0 - exp(x * self.rate_hums)
        biof = 1.0 - exp(x * self.rate_biof)
        bios = 1.0 - exp(x * self.rate_bios)
        p = self.pools
        to_atms, to_biof, to_hums = self.frac_sdcm_to_atms, self.frac_pbio_to_biof, self.frac_pbio_to_hums
        operation = self.land_unit.create_proportional_operation(self)
        for source, sink, value in (
            ("SoilDPM", "atmosphere", dpm * to_atms),
            ("SoilRPM", "atmosphere", rpm * to_atms),
            ("SoilBioF", "atmosphere", biof * to_atms),
            ("SoilBioS", "atmosphere", bios * to_atms),
            ("SoilHUM", "atmosphere", hums * to_atms),
            ("SoilDPM", "SoilBioF", dpm * to_biof),
            ("SoilRPM", "SoilBioF", rpm * to_biof),
            ("SoilBioS", "SoilBioF", bios * to_biof),
            ("SoilHUM", "SoilBioS", hums * self.frac_hums_to_bios),
            ("SoilDPM", "SoilHUM", dpm * to_hums),
            ("SoilRPM", "SoilHUM", rpm * to_hums),
            ("SoilBioF", "SoilHUM", biof * to_hums),
            ("SoilBioS", "SoilHUM", bios * to_hums),
            ("SoilHUM", "SoilHUM", hums * self.frac_hums_to_hums),
        ):
            operation.add_transfer(p[source], p[sink], value)
        self.land_unit.submit_operation(operation)
