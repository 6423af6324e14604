"""GCBM's annual processes on a land-unit batch (gcbm-spec §5.5-5.7), built on the FLINT
operation manager: every process submits operations (fluxes fixed at submission) and applies
them where GCBM's modules do. Pools are the manager's `(n_pools, n)` array.

Vectorised over land units: a GCBM `if` per pixel becomes a mask, and a transfer a pixel does
not make carries a zero flux (which changes no pool).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flintcloud.flint.mathlib import exp, power
from flintcloud.flint.operations import PROPORTIONAL, STOCK, OperationManager
from flintcloud.gcbm.science.parameters import (
    AgeReset,
    DecayParameters,
    Disturbances,
    LandClasses,
    Root,
    StandTypes,
    Transitions,
    Turnover,
)
from flintcloud.gcbm.science.pools import BIOMASS_IDX, HARDWOOD_BIOMASS, SOFTWOOD_BIOMASS, Pool

GROWTH_MODULE = "CBMGrowthModule"
DECAY_MODULE = "CBMDecayModule"
DISTURBANCE_MODULE = "CBMDisturbanceEventModule"
OVERMATURE_TOLERANCE = -0.0001  # a component declines when its total increment is below this
AGE_RESET_BIOMASS = 0.001  # tC/ha: a disturbance leaving less live biomass resets age to 0

# One operation as arrays: transfer k moves amounts[k] from pool sources[k] to pool sinks[k].
Transfers = tuple[Sequence[int], Sequence[int], np.ndarray]

COMPONENT_POOLS = (SOFTWOOD_BIOMASS, HARDWOOD_BIOMASS)  # merch, foliage, other, coarse, fine
SNAGS = ((Pool.SOFTWOOD_STEM_SNAG, Pool.SOFTWOOD_BRANCH_SNAG),
          (Pool.HARDWOOD_STEM_SNAG, Pool.HARDWOOD_BRANCH_SNAG))


@dataclass
class StandState:
    """Per land-unit state besides pools; every array has length n (the batch)."""

    age: np.ndarray  # int64 years
    regen_delay: np.ndarray  # int64 years of regeneration delay left
    stand_type: np.ndarray  # intp into StandTypes, -1: no growth curve
    classifier_set: np.ndarray  # intp into the project's classifier-set table
    spu: np.ndarray  # intp spatial-unit index
    temperature_c: np.ndarray  # float64 mean annual temperature
    current_land_class: np.ndarray  # intp into LandClasses
    historic_land_class: np.ndarray  # intp
    last_land_class: np.ndarray  # intp: current land class at the previous land-class update
    years_since_transition: np.ndarray  # int64
    is_forest: np.ndarray  # bool
    is_decaying: np.ndarray  # bool

    @property
    def n(self) -> int:
        return int(self.age.shape[0])

    def take(self, index: np.ndarray | slice) -> StandState:
        return StandState(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})


def _stands_last(per_stand: np.ndarray) -> np.ndarray:
    """A table gathered per stand, (n, ...), as (..., n) in contiguous rows: the kernels read
    one parameter for every stand at a time, which a stride of a row would make slow."""
    return np.ascontiguousarray(np.moveaxis(per_stand, 0, -1))


def _increments(pools: np.ndarray, state: StandState, stand_types: StandTypes,
                tables: GrowthTables, is_growing: np.ndarray) -> np.ndarray:
    """The 10 biomass increments (2 components × merch, foliage, other, coarse, fine), (2, 5, n).

    Above-ground increments come from the carbon curve, bounded below by minus the pool; root
    targets from Li et al. (2003) on the post-increment above-ground carbon, with the fine-root
    share from the stand's total root biomass (§5.5 step 2-3).
    """
    n = state.n
    out = np.zeros((2, 5, n), dtype=np.float64)
    age = np.clip(state.age, 0, stand_types.n_ages - 1)
    curve = stand_types.increments_at(tables.stand_type, age)  # (2, 3, n)
    has = tables.has_component & is_growing  # (2, n)
    roots = tables.roots  # (2, 6, n)
    root_biomass = np.zeros((2, n), dtype=np.float64)
    for component, pool_ids in enumerate(COMPONENT_POOLS):
        merch, foliage, other = (pools[pool_ids[part]] for part in range(3))
        inc_merch = np.maximum(curve[component, 0], -merch)
        inc_foliage = np.maximum(curve[component, 1], -foliage)
        inc_other = np.maximum(curve[component, 2], -other)
        ag_biomass = (merch + inc_merch + other + inc_other + foliage + inc_foliage) / 0.5
        if component == 0:
            biomass = roots[0, Root.SW_A] * ag_biomass
        else:
            with np.errstate(invalid="ignore"):
                biomass = roots[1, Root.HW_A] * power(ag_biomass, roots[1, Root.HW_B])
        root_biomass[component] = np.where(has[component], biomass, 0.0)
        out[component, 0] = inc_merch
        out[component, 1] = inc_foliage
        out[component, 2] = inc_other
    stand_roots = root_biomass[0] + root_biomass[1]
    for component, pool_ids in enumerate(COMPONENT_POOLS):
        params = roots[component]
        fine_share = params[Root.FRP_A] + params[Root.FRP_B] * exp(
            params[Root.FRP_C] * stand_roots)
        root_carbon = root_biomass[component] * 0.5
        out[component, 3] = root_carbon * (1 - fine_share) - pools[pool_ids[3]]
        out[component, 4] = root_carbon * fine_share - pools[pool_ids[4]]
        out[component] *= has[component]
    return out


@dataclass(frozen=True)
class GrowthTables:
    """A batch's growth parameters gathered per land unit, as (..., n) rows. Gathered once for
    a batch whose stand types do not change (spinup) rather than at every step; a land unit
    that does not grow may have any stand type's (its increments and turnover are masked)."""

    stand_type: np.ndarray  # (n,) intp, >= 0
    has_component: np.ndarray  # (2, n) bool
    turnover: np.ndarray  # (2, len(Turnover), n)
    roots: np.ndarray  # (2, len(Root), n)

    @classmethod
    def gather(cls, stand_types: StandTypes, stand_type: np.ndarray) -> GrowthTables:
        return cls(stand_type, _stands_last(stand_types.has_component[stand_type]),
                   _stands_last(stand_types.turnover[stand_type]),
                   _stands_last(stand_types.roots[stand_type]))

    def take(self, index: np.ndarray) -> GrowthTables:
        """The tables of the land units `index` (an index or mask of the batch)."""
        return GrowthTables(self.stand_type[index], self.has_component[:, index],
                            np.ascontiguousarray(self.turnover[..., index]),
                            np.ascontiguousarray(self.roots[..., index]))


def _half_growth(increments: np.ndarray, turnover: np.ndarray, *,
                 zero_losses: bool = True) -> Transfers:
    """GCBM's doHalfGrowth as (sources, sinks, amounts): Atmosphere -> pool Δ/2, or for the
    negative increments of an overmature component, half the loss into DOM (§5.5 step 5).

    `zero_losses=False` leaves out the loss transfers of a part that declines on no land unit:
    all zero, they change no pool (but the sign of a -0.0 one), only the fluxes recorded.
    """
    sources, sinks, amounts = [], [], []
    for component, pool_ids in enumerate(COMPONENT_POOLS):
        inc = increments[component]
        rates = turnover[component]
        merch_pool, foliage_pool, other_pool, coarse_pool, fine_pool = pool_ids
        stem_snag, branch_snag = SNAGS[component]
        overmature = inc[0] + inc[2] + inc[1] + inc[3] + inc[4] < OVERMATURE_TOLERANCE
        is_overmature = bool(overmature.any())
        # GCBM's order: merch, other, foliage, coarse roots, fine roots
        for part, pool, losses in (
            (0, merch_pool, ((stem_snag, None),)),
            (2, other_pool, ((branch_snag, Turnover.BRANCH_SNAG_SPLIT),
                             (Pool.ABOVE_GROUND_FAST_SOIL, -Turnover.BRANCH_SNAG_SPLIT))),
            (1, foliage_pool, ((Pool.ABOVE_GROUND_VERY_FAST_SOIL, None),)),
            (3, coarse_pool, ((Pool.ABOVE_GROUND_FAST_SOIL, Turnover.COARSE_ROOT_SPLIT),
                              (Pool.BELOW_GROUND_FAST_SOIL, -Turnover.COARSE_ROOT_SPLIT))),
            (4, fine_pool, ((Pool.ABOVE_GROUND_VERY_FAST_SOIL, Turnover.FINE_ROOT_SPLIT),
                            (Pool.BELOW_GROUND_VERY_FAST_SOIL, -Turnover.FINE_ROOT_SPLIT))),
        ):
            declines = overmature & (inc[part] < 0) if is_overmature else None
            if declines is not None and not declines.any():
                declines = None
            for sink, split in losses if declines is not None or zero_losses else ():
                share: float | np.ndarray
                if split is None:
                    share = 1.0
                elif split >= 0:
                    share = rates[split]
                else:
                    share = 1 - rates[-split]
                sources.append(pool)
                sinks.append(sink)
                amounts.append(np.zeros_like(inc[part]) if declines is None
                               else np.where(declines, -inc[part] * share / 2, 0.0))
            sources.append(Pool.ATMOSPHERE)
            sinks.append(pool)
            amounts.append(inc[part] / 2 if declines is None
                           else np.where(declines, 0.0, inc[part] / 2))
    return sources, sinks, np.array(amounts)


def _turnover(biomass: np.ndarray, snags: np.ndarray, turnover: np.ndarray,
              where: np.ndarray) -> tuple[Transfers, Transfers, Transfers]:
    """Mid-season growth, snag turnover and biomass turnover as three (sources, sinks, amounts)
    operations (§5.5 step 7), from biomass snapshot `biomass` (10, n) and snags (4, n)."""
    mid_src, mid_dst, mid = [], [], []
    snag_src, snag_dst, snag = [], [], []
    bio_src, bio_dst, bio = [], [], []
    everywhere = bool(where.all())
    mask = where.astype(np.float64)

    def masked(value: np.ndarray) -> np.ndarray:
        return value if everywhere else value * mask  # x * 1.0 is x: the same bits
    for component, pool_ids in enumerate(COMPONENT_POOLS):
        r = turnover[component]
        merch, foliage, other, coarse, fine = (biomass[5 * component + part] for part in range(5))
        merch_pool, foliage_pool, other_pool, coarse_pool, fine_pool = pool_ids
        stem_snag, branch_snag = SNAGS[component]
        for pool, value in ((merch_pool, merch * r[Turnover.STEM]),
                            (other_pool, other * r[Turnover.BRANCH]),
                            (foliage_pool, foliage * r[Turnover.FOLIAGE]),
                            (coarse_pool, coarse * r[Turnover.COARSE_ROOT]),
                            (fine_pool, fine * r[Turnover.FINE_ROOT])):
            mid_src.append(Pool.ATMOSPHERE)
            mid_dst.append(pool)
            mid.append(masked(value))
        snag_src += [stem_snag, branch_snag]
        snag_dst += [Pool.MEDIUM_SOIL, Pool.ABOVE_GROUND_FAST_SOIL]
        snag.append(masked(snags[2 * component] * r[Turnover.STEM_SNAG]))
        snag.append(masked(snags[2 * component + 1] * r[Turnover.BRANCH_SNAG]))
        split, coarse_split, fine_split = (r[Turnover.BRANCH_SNAG_SPLIT],
                                           r[Turnover.COARSE_ROOT_SPLIT],
                                           r[Turnover.FINE_ROOT_SPLIT])
        for source, sink, value in (
            (merch_pool, stem_snag, merch * r[Turnover.STEM]),
            (foliage_pool, Pool.ABOVE_GROUND_VERY_FAST_SOIL, foliage * r[Turnover.FOLIAGE]),
            (other_pool, branch_snag, other * split * r[Turnover.BRANCH]),
            (other_pool, Pool.ABOVE_GROUND_FAST_SOIL, other * (1 - split) * r[Turnover.BRANCH]),
            (coarse_pool, Pool.ABOVE_GROUND_FAST_SOIL, coarse * coarse_split * r[Turnover.COARSE_ROOT]),
            (coarse_pool, Pool.BELOW_GROUND_FAST_SOIL,
             coarse * (1 - coarse_split) * r[Turnover.COARSE_ROOT]),
            (fine_pool, Pool.ABOVE_GROUND_VERY_FAST_SOIL, fine * fine_split * r[Turnover.FINE_ROOT]),
            (fine_pool, Pool.BELOW_GROUND_VERY_FAST_SOIL,
             fine * (1 - fine_split) * r[Turnover.FINE_ROOT]),
        ):
            bio_src.append(source)
            bio_dst.append(sink)
            bio.append(masked(value))
    # GCBM submits the softwood and hardwood snag transfers in one operation, softwood first
    snag_order = [0, 1, 2, 3]
    return ((mid_src, mid_dst, np.array(mid)),
            ([snag_src[i] for i in snag_order], [snag_dst[i] for i in snag_order],
             np.array([snag[i] for i in snag_order])),
            (bio_src, bio_dst, np.array(bio)))


_SNAG_IDX = np.array([Pool.SOFTWOOD_STEM_SNAG, Pool.SOFTWOOD_BRANCH_SNAG, Pool.HARDWOOD_STEM_SNAG,
                      Pool.HARDWOOD_BRANCH_SNAG], dtype=np.intp)


def grow(ops: OperationManager, state: StandState, stand_types: StandTypes,
         multipliers: np.ndarray | None = None, tables: GrowthTables | None = None,
         records_fluxes: bool = True) -> None:
    """One step of CBMGrowthModule (YieldTableGrowthModule::doTimingStep, §5.5).

    `multipliers` (2, n) float64: `current_growth_multipliers` per component (1.0: none); they
    scale the five increments of a component (getIncrements), so the overmature test and both
    half-growths, not the turnover-replacing growth. `tables`: the batch's stand types'
    parameters, when they stay the same from step to step (else gathered here).
    `records_fluxes=False` (spinup) leaves out transfers that are zero on every land unit.
    """
    delayed = state.regen_delay > 0
    state.regen_delay[delayed] -= 1
    is_growing = ~delayed & state.is_forest & (state.stand_type >= 0)
    if not is_growing.any():
        return
    if tables is None:
        tables = GrowthTables.gather(stand_types, np.where(is_growing, state.stand_type, 0))
    pools = ops.values
    snags = pools[_SNAG_IDX].copy()
    increments = _increments(pools, state, stand_types, tables, is_growing)
    if multipliers is not None:
        increments *= multipliers[:, None, :]
    half = _half_growth(increments, tables.turnover, zero_losses=records_fluxes)
    ops.submit_fluxes(STOCK, GROWTH_MODULE, *half)
    ops.apply()
    biomass = pools[BIOMASS_IDX].copy()
    for sources, sinks, amounts in _turnover(biomass, snags, tables.turnover, is_growing):
        ops.submit_fluxes(STOCK, GROWTH_MODULE, sources, sinks, amounts)
    ops.submit_fluxes(STOCK, GROWTH_MODULE, *half)
    ops.apply()
    state.age[is_growing] += 1


def turnover_only(ops: OperationManager, state: StandState, stand_types: StandTypes,
                  where: np.ndarray) -> None:
    """A spinup delay step: mid-season growth and turnover of the biomass present, no growth
    and no age increment (§5.5, `run_delay`). Applied before decay (FLINT applies pending
    operations after each module's TimingStep handler)."""
    is_turning = where & state.is_forest & (state.stand_type >= 0)
    if not is_turning.any():
        return
    pools = ops.values
    turnover = _stands_last(stand_types.turnover[np.where(is_turning, state.stand_type, 0)])
    for sources, sinks, amounts in _turnover(pools[BIOMASS_IDX].copy(), pools[_SNAG_IDX].copy(),
                                             turnover, is_turning):
        ops.submit_fluxes(STOCK, GROWTH_MODULE, sources, sinks, amounts)
    ops.apply()


# CBMDecayModule's DOM pools in its operation order, with the slow pool each decays into
DECAYING = (
    (Pool.ABOVE_GROUND_VERY_FAST_SOIL, Pool.ABOVE_GROUND_SLOW_SOIL),
    (Pool.BELOW_GROUND_VERY_FAST_SOIL, Pool.BELOW_GROUND_SLOW_SOIL),
    (Pool.ABOVE_GROUND_FAST_SOIL, Pool.ABOVE_GROUND_SLOW_SOIL),
    (Pool.BELOW_GROUND_FAST_SOIL, Pool.BELOW_GROUND_SLOW_SOIL),
    (Pool.MEDIUM_SOIL, Pool.ABOVE_GROUND_SLOW_SOIL),
    (Pool.SOFTWOOD_STEM_SNAG, Pool.ABOVE_GROUND_SLOW_SOIL),
    (Pool.SOFTWOOD_BRANCH_SNAG, Pool.ABOVE_GROUND_SLOW_SOIL),
    (Pool.HARDWOOD_STEM_SNAG, Pool.ABOVE_GROUND_SLOW_SOIL),
    (Pool.HARDWOOD_BRANCH_SNAG, Pool.ABOVE_GROUND_SLOW_SOIL),
)
_SLOW = (Pool.ABOVE_GROUND_SLOW_SOIL, Pool.BELOW_GROUND_SLOW_SOIL)


@dataclass(frozen=True)
class DecayOperations:
    """The three decay operations' proportions for a batch, computed once from its temperatures."""

    dom_sources: np.ndarray
    dom_sinks: np.ndarray
    dom: np.ndarray  # (18, n)
    slow_sources: np.ndarray
    slow_sinks: np.ndarray
    slow: np.ndarray  # (2, n)
    mixing_rate: float

    @classmethod
    def build(cls, decay: DecayParameters, temperature_c: np.ndarray) -> DecayOperations:
        """k = min(base · exp((T − Tref) · ln q10 · 0.1), max) per pool and land unit (§5.6)."""
        row = {int(pool): index for index, pool in enumerate(decay.pools)}
        rates = decay.rates(temperature_c)

        def rate(pool: int) -> tuple[np.ndarray, float]:
            i = row[int(pool)]
            return rates[i], decay.prop_to_atmosphere[i]

        sources, sinks, amounts = [], [], []
        for source, slow_pool in DECAYING:
            k, p_atm = rate(source)
            sources += [source, source]
            sinks += [slow_pool, Pool.CO2]
            amounts += [k * (1 - p_atm), k * p_atm]
        slow = [rate(pool) for pool in _SLOW]
        return cls(np.array(sources, np.intp), np.array(sinks, np.intp), np.array(amounts),
                   np.array(_SLOW, np.intp), np.array([Pool.CO2, Pool.CO2], np.intp),
                   np.array([k * p_atm for k, p_atm in slow]), decay.slow_mixing_rate)

    def take(self, index: np.ndarray) -> DecayOperations:
        """The operations of the land units `index` (an index or mask of the batch)."""
        return DecayOperations(self.dom_sources, self.dom_sinks, self.dom[:, index],
                               self.slow_sources, self.slow_sinks, self.slow[:, index],
                               self.mixing_rate)


def decay(ops: OperationManager, state: StandState, rates: DecayOperations) -> None:
    """CBMDecayModule::doTimingStep: DOM decay, slow-pool decay, slow mixing, each applied
    before the next is computed (§5.6)."""
    mask = state.is_decaying.astype(np.float64)
    if not mask.any():
        return
    ops.submit_fluxes(PROPORTIONAL, DECAY_MODULE, rates.dom_sources, rates.dom_sinks,
                      rates.dom * mask)
    ops.apply()
    ops.submit_fluxes(PROPORTIONAL, DECAY_MODULE, rates.slow_sources, rates.slow_sinks,
                      rates.slow * mask)
    ops.apply()
    ops.submit_fluxes(PROPORTIONAL, DECAY_MODULE, [Pool.ABOVE_GROUND_SLOW_SOIL],
                      [Pool.BELOW_GROUND_SLOW_SOIL], (rates.mixing_rate * mask)[None, :])
    ops.apply()


def apply_matrices(ops: OperationManager, matrix_idx: np.ndarray, disturbances: Disturbances,
                   type_idx: np.ndarray | None = None) -> np.ndarray:
    """Apply each land unit's disturbance matrix (-1: none) as one proportional operation per
    distinct matrix (§5.7 step 2). Returns the mask of land units disturbed.

    `type_idx` (per land unit) labels the fluxes with their disturbance type for outputs.
    """
    is_disturbed = matrix_idx >= 0
    for index in np.unique(matrix_idx[is_disturbed]):
        matrix = disturbances.matrices[index]
        is_here = (matrix_idx == index).astype(np.float64)
        metadata = None
        if type_idx is not None:
            types = np.unique(type_idx[matrix_idx == index])
            for type_value in types:  # one matrix may serve several types: label them apart
                share = is_here * (type_idx == type_value)
                ops.submit_fluxes(PROPORTIONAL, DISTURBANCE_MODULE, matrix.sources, matrix.sinks,
                                  matrix.proportions[:, None] * share[None, :],
                                  metadata={"disturbance_type": int(type_value)})
            continue
        ops.submit_fluxes(PROPORTIONAL, DISTURBANCE_MODULE, matrix.sources, matrix.sinks,
                          matrix.proportions[:, None] * is_here[None, :], metadata=metadata)
    ops.apply()
    return is_disturbed


def live_biomass(pools: np.ndarray) -> np.ndarray:
    """Total live biomass carbon, summed in CBMDisturbanceEventModule's order."""
    p = pools
    total: np.ndarray = (
        p[Pool.HARDWOOD_COARSE_ROOTS] + p[Pool.HARDWOOD_FINE_ROOTS] + p[Pool.HARDWOOD_FOLIAGE]
        + p[Pool.HARDWOOD_MERCH] + p[Pool.HARDWOOD_OTHER] + p[Pool.SOFTWOOD_COARSE_ROOTS]
        + p[Pool.SOFTWOOD_FINE_ROOTS] + p[Pool.SOFTWOOD_FOLIAGE] + p[Pool.SOFTWOOD_MERCH]
        + p[Pool.SOFTWOOD_OTHER])
    return total


def above_ground_biomass(pools: np.ndarray) -> np.ndarray:
    """Above-ground live carbon, in CBMTransitionRulesModule::calculateBiomass's order."""
    p = pools
    total: np.ndarray = (p[Pool.SOFTWOOD_MERCH] + p[Pool.SOFTWOOD_FOLIAGE] + p[Pool.SOFTWOOD_OTHER]
                         + p[Pool.HARDWOOD_MERCH] + p[Pool.HARDWOOD_FOLIAGE] + p[Pool.HARDWOOD_OTHER])
    return total


def apply_transitions(pools: np.ndarray, state: StandState, transition_idx: np.ndarray,
                      transitions: Transitions, stand_types: StandTypes,
                      stand_type_by_set: np.ndarray) -> None:
    """CBMTransitionRulesModule for the land units with a transition (index >= 0) (§5.7 step 4).

    `stand_type_by_set` (n_classifier_sets, n_spus) gives the stand type of a classifier set.
    """
    has = transition_idx >= 0
    if not has.any():
        return
    t = transition_idx[has]
    state.regen_delay[has] = transitions.regen_delay[t]
    new_sets = transitions.classifier_set_after[t, state.classifier_set[has]]
    state.classifier_set[has] = new_sets
    state.stand_type[has] = stand_type_by_set[new_sets, state.spu[has]]
    age = state.age[has]
    reset, reset_age = transitions.reset_type[t], transitions.age[t]
    new_age = np.where((reset == AgeReset.ABSOLUTE) & (reset_age > -1), reset_age, age)
    new_age = np.where(reset == AgeReset.RELATIVE, np.maximum(0, age + reset_age), new_age)
    is_yield = reset == AgeReset.YIELD
    if is_yield.any():
        new_age[is_yield] = yield_age(above_ground_biomass(pools[:, has][:, is_yield]),
                                      state.stand_type[has][is_yield], stand_types,
                                      age[is_yield])
    state.age[has] = new_age


def yield_age(biomass: np.ndarray, stand_type: np.ndarray, stand_types: StandTypes,
              fallback: np.ndarray) -> np.ndarray:
    """First age whose above-ground carbon on the curve reaches `biomass` (else the curve's
    last age); land units without a curve keep `fallback`."""
    out = np.array(fallback, dtype=np.int64)
    has_curve = stand_type >= 0
    if not has_curve.any():
        return out
    curves = stand_types.ag_carbon[stand_type[has_curve]]
    ages = np.arange(curves.shape[1])
    max_age = stand_types.max_age[stand_type[has_curve]]
    reaches = (curves >= biomass[has_curve, None]) & (ages[None, :] <= max_age[:, None])
    out[has_curve] = np.where(reaches.any(axis=1), reaches.argmax(axis=1), max_age)
    return out


def update_land_class(state: StandState, land_classes: LandClasses) -> None:
    """CBMLandClassTransitionModule::doTimingStep (§5.7)."""
    state.years_since_transition += 1
    changed = state.current_land_class != state.last_land_class
    if changed.any():
        state.historic_land_class[changed] = state.last_land_class[changed]
        state.last_land_class[changed] = state.current_land_class[changed]
        state.is_forest[changed] = land_classes.is_forest[state.current_land_class[changed]]
        state.years_since_transition[changed] = 0
        state.is_decaying[changed] = True
    unchanged = ~changed & (state.current_land_class != state.historic_land_class)
    flips = unchanged & (state.years_since_transition >
                         land_classes.years_to_permanent[state.current_land_class])
    state.historic_land_class[flips] = state.current_land_class[flips]
