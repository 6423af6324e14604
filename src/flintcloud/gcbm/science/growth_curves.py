"""Yield tables to above-ground carbon curves (gcbm-spec §5.4): GCBM's interpolation quirks,
Boudewyn et al. (2007) volume-to-biomass conversion and GCBM's Weibull smoother.

All functions work on one growth curve (a handful of arrays over ages); a project has few curves,
so building them is a small loop over curves done once at load time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from flintcloud.flint.mathlib import exp, log, power
from flintcloud.gcbm.science.levenberg_marquardt import minimize
from flintcloud.gcbm.science.pools import Component

SMOOTH_SAMPLE_SIZE = 50  # Smoother::smoothSampleSize
SMOOTH_EXTENDED_REGION = 15  # ages past the substitution age that may be replaced
CARBON_FRACTION = 0.5  # biomass to carbon, hard-coded in GCBM


@dataclass(frozen=True, slots=True)
class VolumeToBiomassParameters:
    """One row of `volume_to_biomass_parameters` (Boudewyn factors, stump/top %, roots)."""

    a: float
    b: float
    a_nonmerch: float
    b_nonmerch: float
    k_nonmerch: float
    cap_nonmerch: float
    a_sap: float
    b_sap: float
    k_sap: float
    cap_sap: float
    a1: float
    a2: float
    a3: float
    b1: float
    b2: float
    b3: float
    c1: float
    c2: float
    c3: float
    min_volume: float
    max_volume: float
    low_stemwood_prop: float
    high_stemwood_prop: float
    low_stembark_prop: float
    high_stembark_prop: float
    low_branches_prop: float
    high_branches_prop: float
    low_foliage_prop: float
    high_foliage_prop: float
    top_prop: float  # % of merchantable stemwood in the top (this component's forest type)
    stump_prop: float  # % in the stump


def annual_volumes(ages: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Merchantable volume (m3/ha) at every age 0..max age from a tabulated yield table (§5.4 i).

    Reproduces GCBM's TreeYieldTable: volumes at equal ages add up; a tabulated 0 after a
    positive value is treated as missing and carries the previous value forward; ages between
    grid points are interpolated linearly on a grid whose step is the gap between the two
    smallest ages (GCBM assumes a regular grid).
    """
    ages = np.asarray(ages, dtype=np.int64)
    distinct = np.unique(ages)
    if distinct.size < 2:
        raise ValueError("a yield table needs at least two distinct ages")
    max_age = int(distinct[-1])
    interval = int(distinct[1] - distinct[0])
    out_volume = np.zeros(max_age + 1, dtype=np.float64)
    for age, volume in zip(ages, np.asarray(volumes, dtype=np.float64), strict=True):
        out_volume[age] += volume
    # Zero carry-forward is sequential: a run of zeros takes the last positive value.
    for age in range(max_age):
        if out_volume[age] != out_volume[age + 1] and out_volume[age + 1] == 0:
            out_volume[age + 1] = out_volume[age]
    for x0 in range(0, max_age, interval):
        x1 = min(x0 + interval, max_age)
        y0, y1 = out_volume[x0], out_volume[x1]
        span = np.arange(x0, x1, dtype=np.float64)
        out_volume[x0:x1] = y0 + (span - x0) * (y1 - y0) / (x1 - x0)
    return out_volume


@dataclass(frozen=True)
class StandVolumes:
    """Stand-level volumes of one growth curve (StandGrowthCurve)."""

    total: np.ndarray  # (max_age + 1,) m3/ha, softwood + hardwood
    softwood_ratio: np.ndarray  # (max_age + 1,) softwood share of the total volume
    max_age: int


def stand_volumes(softwood: np.ndarray | None, hardwood: np.ndarray | None) -> StandVolumes:
    """Combine the annual volume arrays of both forest types (§5.4 ii); None = no table."""
    tables = [t for t in (softwood, hardwood) if t is not None]
    max_age = max(t.size - 1 for t in tables)

    def extended(table: np.ndarray) -> np.ndarray:
        out = np.full(max_age + 1, table[-1], dtype=np.float64)
        out[: table.size] = table
        return out

    sw = extended(softwood) if softwood is not None else np.zeros(max_age + 1)
    if hardwood is None:
        return StandVolumes(sw.copy(), np.ones(max_age + 1), max_age)
    hw = extended(hardwood)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = sw / (sw + hw)
    ratio[np.isnan(ratio)] = 1.0
    return StandVolumes(sw + hw, ratio, max_age)


# The conversion calls the C library's pow, exp and log (flintcloud.flint.mathlib), not NumPy's
# vectorised ones, which can differ in the last bit: the smoother's fit amplifies a last-bit change
# in its samples to ~1e-9 in its parameters (a least-squares minimum is flat to ~sqrt(eps)).
def _merch_factor(volume: np.ndarray, p: VolumeToBiomassParameters) -> np.ndarray:
    return p.a * power(volume, p.b)


def _nonmerch_factor(merch: np.ndarray, p: VolumeToBiomassParameters) -> np.ndarray:
    with np.errstate(all="ignore"):
        factor = p.k_nonmerch + p.a_nonmerch * power(merch, p.b_nonmerch)
    return np.where(merch > 0.0, factor, math.exp(p.a_nonmerch))


def _model_term(volume: np.ndarray, x1: float, x2: float, x3: float) -> np.ndarray:
    return exp(x1 + x2 * volume + x3 * log(volume + 5.0))


def boudewyn_carbon(volumes: StandVolumes, p: VolumeToBiomassParameters,
                    component: Component) -> np.ndarray:
    """Merch, foliage and other carbon (tC/ha) at every age: (3, max_age + 1) (§5.4 iii).

    The stand total volume drives the equations; the component then takes its volume share
    (GCBM quirk §9.2). Other carbon is not clamped at 0 (quirk §9.4).
    """
    volume = volumes.total
    with np.errstate(all="ignore"):
        merch = _merch_factor(volume, p)
        nonmerch_factor = _nonmerch_factor(merch, p)
        nonmerch_factor = np.where((nonmerch_factor < 1.0) | ~np.isfinite(nonmerch_factor), 1.0,
                                   nonmerch_factor)
        nonmerch_factor = np.where(nonmerch_factor > p.cap_nonmerch, p.cap_nonmerch, nonmerch_factor)
        nonmerch = (nonmerch_factor - 1) * merch
        base = merch + nonmerch
        sap_factor = np.where(base > 0.0, p.k_sap + p.a_sap * power(base, p.b_sap),
                              math.exp(p.a_sap))
        sap_factor = np.where((sap_factor < 1.0) | ~np.isfinite(sap_factor), 1.0, sap_factor)
        sap_factor = np.where(sap_factor > p.cap_sap, p.cap_sap, sap_factor)
        sapling = (sap_factor - 1) * (merch + nonmerch)
        total_stemwood = merch + nonmerch + sapling

        a_term = _model_term(volume, p.a1, p.a2, p.a3)
        b_term = _model_term(volume, p.b1, p.b2, p.b3)
        c_term = _model_term(volume, p.c1, p.c2, p.c3)
        denominator = 1 + a_term + b_term + c_term
        is_low, is_high = volume < p.min_volume, volume > p.max_volume
        p_stemwood = np.select([is_low, is_high], [p.low_stemwood_prop, p.high_stemwood_prop],
                               1 / denominator)
        p_bark = np.select([is_low, is_high], [p.low_stembark_prop, p.high_stembark_prop],
                           a_term / denominator)
        p_branches = np.select([is_low, is_high], [p.low_branches_prop, p.high_branches_prop],
                               b_term / denominator)
        p_foliage = 1 - p_stemwood - p_bark - p_branches

        total_tree = total_stemwood / p_stemwood
        bark = total_tree * p_bark
        foliage = total_tree * p_foliage
        share = volumes.softwood_ratio if component == Component.SOFTWOOD \
            else 1 - volumes.softwood_ratio
        total_tree, total_stemwood, bark, foliage, merch = (
            x * share for x in (total_tree, total_stemwood, bark, foliage, merch))

        top = merch * p.top_prop / 100.0
        stump = merch * p.stump_prop / 100.0
        merch_bark = bark * (merch / total_stemwood) * (1 - (p.top_prop + p.stump_prop) / 100.0)
        net_merch = merch - (top + stump)
        has_merch = merch > 0.0
        merch_c = np.where(has_merch, np.maximum(0.0, (net_merch + merch_bark) * 0.5), 0.0)
        other_c = np.where(has_merch, (total_tree - foliage - net_merch - merch_bark) * 0.5,
                           (total_tree - foliage) * 0.5)
        foliage_c = np.maximum(0.0, foliage * 0.5)
    return np.stack([merch_c, foliage_c, other_c])


def substitution_age(volumes: StandVolumes, p: VolumeToBiomassParameters) -> int:
    """The age where the smoother joins the fitted curve, or -1 for none (§5.4 iv step 1)."""
    total = volumes.total
    max_volume_age = int(np.argmax(total)) if total.max() > 0 else 0
    if not total.max() > p.min_volume:
        return -1
    previous_factor = 0.0
    factor = 0.0
    ok_to_smooth = False
    for age in range(volumes.max_age - 2, -1, -1):
        volume, older_volume = float(total[age]), float(total[age + 1])
        merch = p.a * power(volume, p.b)
        previous_factor = factor
        factor = p.k_nonmerch + p.a_nonmerch * power(merch, p.b_nonmerch) if merch > 0.0 \
            else math.exp(p.a_nonmerch)
        if factor < p.cap_nonmerch:
            ok_to_smooth = True
        factor = max(factor, 1.0)
        capped = factor >= p.cap_nonmerch
        if capped:
            factor = p.cap_nonmerch
        if ok_to_smooth and volume == 0 and age > 1:
            return age + 1
        if age <= 1:
            return -1
        if age >= max_volume_age:
            continue
        crossed_below_min = volume < p.min_volume and older_volume > p.min_volume
        if not capped:
            hit = crossed_below_min
        else:
            was_uncapped = previous_factor < p.cap_nonmerch
            hit = was_uncapped and (volume >= p.min_volume or crossed_below_min)
        if hit:
            return age + 1 if ok_to_smooth else -1
    return -1


def _weibull_inplace(t: float, params: list[float]) -> float:
    """GCBM's model 1 - exp(-p0 t^p1); floors p0 >= 0 and p1 >= 0.7 *in place* (quirk §9.3).

    Scalar and with the C library's pow and exp (`math`), like Smoother::weibull_2Parameter:
    NumPy's vectorised exp can differ from glibc's in the last bit.
    """
    if params[0] < 0:
        params[0] = 0.0
    if params[1] < 0.7:
        params[1] = 0.7
    return 1.0 - math.exp(-params[0] * math.pow(t, params[1]))


def weibull_residuals(t: np.ndarray, y: np.ndarray) -> Callable[[list[float]], list[float]]:
    """The smoother's residual function y - model(t) for `levenberg_marquardt.minimize`.

    It floors the parameters in the list the solver passes, i.e. in the solver's own working
    array, also while the solver perturbs them for the Jacobian (as GCBM's lmmin callback does).
    """
    t_values = [float(v) for v in t]
    y_values = [float(v) for v in y]

    def residuals(params: list[float]) -> list[float]:
        return [y_i - _weibull_inplace(t_i, params) for t_i, y_i in zip(t_values, y_values,
                                                                      strict=True)]
    return residuals


def fit_weibull(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fit GCBM's Weibull to normalised samples exactly as Smoother::minimize does (§5.4 iv).

    lmmin with its default controls from (1, 0.1), which the first evaluation floors to
    (1, 0.7); then p0 > 150 -> 150 and, only in that case, p1 > 5 -> 5.
    """
    fit = minimize(weibull_residuals(t, y), (1.0, 0.1))
    p0, p1 = fit.params
    if p0 > 150:
        p0 = 150.0
        if p1 > 5:
            p1 = 5.0
    return np.array([p0, p1], dtype=np.float64)


def _fitted_curve(t: np.ndarray, params: np.ndarray, scale: float) -> np.ndarray:
    """The fitted model at each t, times the sample maximum `scale`."""
    floored = [float(v) for v in params]
    return np.array([_weibull_inplace(float(v), floored) * scale for v in t], dtype=np.float64)


def smooth_carbon(carbon: np.ndarray, volumes: StandVolumes,
                  p: VolumeToBiomassParameters) -> np.ndarray:
    """GCBM's smoother on one component's (3, ages) carbon curve; returns a new array."""
    start = substitution_age(volumes, p)
    if start < 1:
        return carbon
    max_age = volumes.max_age
    sample_ages = np.minimum(start + np.arange(1, SMOOTH_SAMPLE_SIZE), max_age)
    samples = np.zeros((3, SMOOTH_SAMPLE_SIZE), dtype=np.float64)
    samples[:, 1:] = carbon[:, sample_ages]
    total = samples.sum(axis=0)
    total[1:] = samples[0, 1:] + samples[1, 1:] + samples[2, 1:]
    t = np.zeros(SMOOTH_SAMPLE_SIZE, dtype=np.float64)
    t[1:] = start + np.arange(1, SMOOTH_SAMPLE_SIZE)
    max_merch, max_foliage, max_total, max_t = (samples[0].max(), samples[1].max(),
                                                total.max(), t.max())
    t = t / max_t
    merch_params = fit_weibull(t, samples[0] / max_merch)
    foliage_params = fit_weibull(t, samples[1] / max_foliage)
    total_params = fit_weibull(t, total / max_total)

    last = start + SMOOTH_EXTENDED_REGION
    ages = np.arange(last + 1)
    original = carbon[:, np.minimum(ages, max_age)]
    original_total = original[0] + original[1] + original[2]
    original_total = np.where(original_total == 0, 0.00001, original_total)
    scaled_t = ages / max_t
    fit_merch = _fitted_curve(scaled_t, merch_params, max_merch)
    fit_foliage = _fitted_curve(scaled_t, foliage_params, max_foliage)
    fit_total = _fitted_curve(scaled_t, total_params, max_total)
    fit_merch = np.where(np.isnan(fit_merch), 0.0, fit_merch)
    fit_total = np.where(fit_total < fit_merch, fit_merch, fit_total)
    fit_foliage = np.where(fit_total - fit_merch < fit_foliage, fit_total - fit_merch, fit_foliage)
    fit_foliage = np.where(np.isnan(fit_foliage), 0.0, fit_foliage)
    fit_other = fit_total - fit_foliage - fit_merch

    match_ratio = np.abs(original_total - fit_total) / original_total
    join = last
    for tolerance in (0.01, 0.03, 0.05):
        candidates = np.flatnonzero((match_ratio < tolerance) & (ages >= start) & (ages < last))
        if candidates.size:
            join = int(candidates[0])
            break
    out = carbon.copy()
    replaced = min(join, max_age)
    out[0, : replaced + 1] = fit_merch[: replaced + 1]
    out[1, : replaced + 1] = fit_foliage[: replaced + 1]
    out[2, : replaced + 1] = fit_other[: replaced + 1]
    return out


@dataclass(frozen=True)
class CarbonCurve:
    """Above-ground carbon of one (growth curve, spatial unit): the growth module's input."""

    carbon: np.ndarray  # (2 components, 3 parts, max_age + 1) tC/ha, 0 for a missing component
    has_component: np.ndarray  # (2,) bool
    max_age: int


def build_carbon_curve(softwood_table: tuple[np.ndarray, np.ndarray] | None,
                       hardwood_table: tuple[np.ndarray, np.ndarray] | None,
                       softwood_params: VolumeToBiomassParameters | None,
                       hardwood_params: VolumeToBiomassParameters | None,
                       smoother_enabled: bool = True) -> CarbonCurve | None:
    """From (ages, volumes) yield tables per forest type to carbon curves; None = no growth.

    A forest type takes part only if it has a table with some volume and a parameter row
    (§5.4 i, ii).
    """
    tables = {}
    for component, table, params in ((Component.SOFTWOOD, softwood_table, softwood_params),
                                     (Component.HARDWOOD, hardwood_table, hardwood_params)):
        if table is None:
            continue
        annual = annual_volumes(*table)
        if annual.sum() == 0:
            continue
        tables[component] = (annual, params)
    if not tables:
        return None
    volumes = stand_volumes(tables.get(Component.SOFTWOOD, (None,))[0],
                            tables.get(Component.HARDWOOD, (None,))[0])
    carbon = np.zeros((2, 3, volumes.max_age + 1), dtype=np.float64)
    has_component = np.zeros(2, dtype=bool)
    for component, (_, params) in tables.items():
        if params is None:
            continue
        curve = boudewyn_carbon(volumes, params, component)
        if smoother_enabled:
            curve = smooth_carbon(curve, volumes, params)
        carbon[component] = curve
        has_component[component] = True
    if not has_component.any():
        return None
    return CarbonCurve(carbon, has_component, volumes.max_age)
