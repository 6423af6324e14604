"""GCBM parameter tables resolved to integer-indexed arrays (style: never a dict per pixel).

The project reader (flintcloud.gcbm.project) fills these from gcbm_input.db and the config; the
science reads them with fancy indexing. A *stand type* is one (growth curve, spatial unit)
pair: it owns a carbon curve, turnover rates and root parameters (gcbm-spec §5.4-5.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike

from flintcloud.flint.mathlib import exp, log
from flintcloud.gcbm.science.conditions import DisturbanceRules
from flintcloud.gcbm.science.growth_curves import CarbonCurve
from flintcloud.gcbm.science.multipliers import GrowthMultipliers


class Turnover(IntEnum):
    """Columns of the turnover table (one set per stand type and component)."""

    FOLIAGE = 0
    STEM = 1
    BRANCH = 2
    BRANCH_SNAG_SPLIT = 3  # share of branch turnover that goes to the branch snag
    STEM_SNAG = 4
    BRANCH_SNAG = 5
    COARSE_ROOT_SPLIT = 6  # share of coarse-root turnover that goes above ground
    COARSE_ROOT = 7
    FINE_ROOT_SPLIT = 8
    FINE_ROOT = 9


class Root(IntEnum):
    """Columns of the root-parameter table (Li et al. 2003)."""

    SW_A = 0
    HW_A = 1
    HW_B = 2
    FRP_A = 3
    FRP_B = 4
    FRP_C = 5


class AgeReset(IntEnum):
    """transition_type names."""

    ABSOLUTE = 0
    RELATIVE = 1
    YIELD = 2


@dataclass(frozen=True)
class StandTypes:
    """Growth inputs per stand type; every array's first axis is the stand type index."""

    curve_ids: np.ndarray  # (n,) int64 growth_curve.id
    spu_ids: np.ndarray  # (n,) int64 spatial_unit.id
    # (2, 3, n, n_ages) float64 C(age+1) - C(age), 0 past max age: component, part, then stand
    # type and age, so that one step's increments of a batch are one gather (`increments_at`)
    increments: np.ndarray
    ag_carbon: np.ndarray  # (n, n_ages) float64 total above-ground carbon (both components)
    max_age: np.ndarray  # (n,) int64 stand max age of the curve
    has_component: np.ndarray  # (n, 2) bool
    turnover: np.ndarray  # (n, 2, len(Turnover)) float64
    roots: np.ndarray  # (n, 2, len(Root)) float64

    @property
    def n_ages(self) -> int:
        return int(self.increments.shape[-1])

    def increments_at(self, stand_type: np.ndarray, age: np.ndarray) -> np.ndarray:
        """The increments (2, 3, k) of stand types `stand_type` (k,) at ages `age` (k,)."""
        rows = self.increments.reshape(6, -1)
        gathered: np.ndarray = np.take(rows, stand_type * self.n_ages + age, axis=1)
        return gathered.reshape(2, 3, -1)

    @classmethod
    def build(cls, curve_ids: ArrayLike, spu_ids: ArrayLike, curves: list[CarbonCurve],
              turnover: ArrayLike, roots: ArrayLike) -> StandTypes:
        n_ages = max((curve.max_age for curve in curves), default=0) + 2
        increments = np.zeros((2, 3, len(curves), n_ages), dtype=np.float64)
        ag_carbon = np.zeros((len(curves), n_ages), dtype=np.float64)
        for index, curve in enumerate(curves):
            carbon = curve.carbon
            increments[:, :, index, : curve.max_age] = carbon[:, :, 1:] - carbon[:, :, :-1]
            total = carbon[0, 0] + carbon[0, 1] + carbon[0, 2] + carbon[1, 0] + carbon[1, 1] + \
                carbon[1, 2]
            ag_carbon[index, : curve.max_age + 1] = total
            ag_carbon[index, curve.max_age + 1:] = total[-1]
        return cls(
            curve_ids=np.asarray(curve_ids, dtype=np.int64),
            spu_ids=np.asarray(spu_ids, dtype=np.int64),
            increments=increments, ag_carbon=ag_carbon,
            max_age=np.array([curve.max_age for curve in curves], dtype=np.int64),
            has_component=np.array([curve.has_component for curve in curves], dtype=bool).reshape(-1, 2),
            turnover=np.asarray(turnover, dtype=np.float64).reshape(-1, 2, len(Turnover)),
            roots=np.asarray(roots, dtype=np.float64).reshape(-1, 2, len(Root)),
        )


@dataclass(frozen=True)
class DecayParameters:
    """Per DOM pool decay parameters (gcbm-spec §5.6); arrays follow `pools`."""

    pools: np.ndarray  # (11,) intp Pool indices
    base_rate: np.ndarray
    reference_temp: np.ndarray
    q10: np.ndarray
    prop_to_atmosphere: np.ndarray
    max_rate: np.ndarray
    slow_mixing_rate: float

    def rates(self, temperature_c: np.ndarray) -> np.ndarray:
        """k = min(base · exp((T − Tref) · ln(q10) · 0.1), max): (11, n) for (n,) temperatures."""
        t = np.asarray(temperature_c, dtype=np.float64)[None, :]
        rate = self.base_rate[:, None] * exp(
            (t - self.reference_temp[:, None]) * log(self.q10[:, None]) * 0.1)
        rates: np.ndarray = np.minimum(rate, self.max_rate[:, None])
        return rates


@dataclass(frozen=True)
class DisturbanceMatrix:
    """One matrix as FLINT applies it: off-diagonal transfers in database row order."""

    sources: np.ndarray  # (k,) intp
    sinks: np.ndarray  # (k,) intp
    proportions: np.ndarray  # (k,) float64


@dataclass(frozen=True)
class Disturbances:
    """Disturbance types, their matrices per spatial unit, and their land-class transitions."""

    type_names: tuple[str, ...]
    type_codes: np.ndarray  # (n_types,) int64 disturbance_type.code
    matrices: tuple[DisturbanceMatrix, ...]
    matrix_ids: np.ndarray  # (n_matrices,) int64 disturbance_matrix.id
    matrix_idx: np.ndarray  # (n_types, n_spus) intp, -1: no matrix for that type here
    land_class_idx: np.ndarray  # (n_types,) intp, -1: the type changes no land class

    def type_index(self, name: str) -> int:
        return self.type_names.index(name)


@dataclass(frozen=True)
class LandClasses:
    codes: tuple[str, ...]
    is_forest: np.ndarray  # (n,) bool
    years_to_permanent: np.ndarray  # (n,) int64


@dataclass(frozen=True)
class Transitions:
    """Transitions (gcbm-spec §5.7 step 4), indexed by transition index (not id)."""

    ids: np.ndarray  # (n,) int64
    reset_type: np.ndarray  # (n,) int8 AgeReset
    age: np.ndarray  # (n,) int64
    regen_delay: np.ndarray  # (n,) int64
    # new classifier-set index for (transition, classifier-set index); -1 past the sets known
    classifier_set_after: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.intp))


@dataclass(frozen=True)
class SpinupParameters:
    """Per spatial unit (index) spinup settings and the global ones (gcbm-spec §5.8)."""

    return_interval: np.ndarray  # (n_spus,) int64
    max_rotations: np.ndarray  # (n_spus,) int64
    historic_type_idx: np.ndarray  # (n_spus,) intp into Disturbances.type_names
    last_pass_type_idx: np.ndarray  # (n_spus,) intp
    delay: np.ndarray  # (n_spus,) int64
    minimum_rotation: int
    has_parameters: np.ndarray  # (n_spus,) bool: False -> no spinup for those pixels


@dataclass(frozen=True)
class AgeClasses:
    """GCBM's AgeClassHelper: class 0 = non-forest, 1..k fixed-width classes, last = max+."""

    class_range: int
    maximum: int

    @property
    def n_classes(self) -> int:
        return 1 + int(np.ceil(np.float32(self.maximum) / np.float32(self.class_range)))

    def bounds(self) -> list[tuple[int, int]]:
        """(start age, end age) per class id; (-1, -1) for class 0, end -1 for the last."""
        out = [(-1, -1)]
        for number in range(1, self.n_classes):
            start = (number - 1) * self.class_range
            out.append((start, min(number * self.class_range - 1, self.maximum - 1)))
        out.append((self.maximum, -1))
        return out

    def classify(self, age: np.ndarray) -> np.ndarray:
        age = np.asarray(age)
        classes = np.minimum(age // self.class_range + 1, self.n_classes - 1)
        classes = np.where(age >= self.maximum, self.n_classes, classes)
        return np.where(age < 0, 0, classes).astype(np.int16)


@dataclass(frozen=True)
class GcbmParameters:
    """Everything the science needs besides pixel data."""

    stand_types: StandTypes
    decay: DecayParameters
    disturbances: Disturbances
    land_classes: LandClasses
    transitions: Transitions
    spinup: SpinupParameters
    age_classes: AgeClasses
    initial_pools: np.ndarray  # (N_POOLS,) float64 pools_cbm.json values; > 0 overrides spinup
    growth_multipliers: GrowthMultipliers = field(default_factory=GrowthMultipliers.none)
    rules: DisturbanceRules = field(default_factory=DisturbanceRules)
