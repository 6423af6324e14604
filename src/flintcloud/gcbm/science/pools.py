"""The 30 GCBM pools (gcbm-spec §1.8, §5.10) and the pool groups the science and outputs use."""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Pool(IntEnum):
    """GCBM pools in the order of the demo's pools_cbm.json (alphabetical)."""

    ABOVE_GROUND_FAST_SOIL = 0
    ABOVE_GROUND_SLOW_SOIL = 1
    ABOVE_GROUND_VERY_FAST_SOIL = 2
    ATMOSPHERE = 3
    BELOW_GROUND_FAST_SOIL = 4
    BELOW_GROUND_SLOW_SOIL = 5
    BELOW_GROUND_VERY_FAST_SOIL = 6
    BLACK_CARBON = 7
    CH4 = 8
    CO = 9
    CO2 = 10
    DISSOLVED_ORGANIC_CARBON = 11
    HARDWOOD_BRANCH_SNAG = 12
    HARDWOOD_COARSE_ROOTS = 13
    HARDWOOD_FINE_ROOTS = 14
    HARDWOOD_FOLIAGE = 15
    HARDWOOD_MERCH = 16
    HARDWOOD_OTHER = 17
    HARDWOOD_STEM_SNAG = 18
    MEDIUM_SOIL = 19
    NO2 = 20
    PEAT = 21
    PRODUCTS = 22
    SOFTWOOD_BRANCH_SNAG = 23
    SOFTWOOD_COARSE_ROOTS = 24
    SOFTWOOD_FINE_ROOTS = 25
    SOFTWOOD_FOLIAGE = 26
    SOFTWOOD_MERCH = 27
    SOFTWOOD_OTHER = 28
    SOFTWOOD_STEM_SNAG = 29

    @property
    def gcbm_name(self) -> str:
        return POOL_NAMES[self]


POOL_NAMES: tuple[str, ...] = (
    "AboveGroundFastSoil", "AboveGroundSlowSoil", "AboveGroundVeryFastSoil", "Atmosphere",
    "BelowGroundFastSoil", "BelowGroundSlowSoil", "BelowGroundVeryFastSoil", "BlackCarbon", "CH4",
    "CO", "CO2", "DissolvedOrganicCarbon", "HardwoodBranchSnag", "HardwoodCoarseRoots",
    "HardwoodFineRoots", "HardwoodFoliage", "HardwoodMerch", "HardwoodOther", "HardwoodStemSnag",
    "MediumSoil", "NO2", "Peat", "Products", "SoftwoodBranchSnag", "SoftwoodCoarseRoots",
    "SoftwoodFineRoots", "SoftwoodFoliage", "SoftwoodMerch", "SoftwoodOther", "SoftwoodStemSnag",
)
N_POOLS = len(POOL_NAMES)
POOL_BY_NAME: dict[str, Pool] = {name: Pool(index) for index, name in enumerate(POOL_NAMES)}


class Component(IntEnum):
    """A stand's two growth components (gcbm-spec §5.4)."""

    SOFTWOOD = 0
    HARDWOOD = 1


class Part(IntEnum):
    """The above-ground carbon parts of a component's carbon curve."""

    MERCH = 0
    FOLIAGE = 1
    OTHER = 2


def _pools(*names: str) -> tuple[Pool, ...]:
    return tuple(POOL_BY_NAME[name] for name in names)


# Live biomass pools by component, in GCBM's component order: merch, foliage, other, coarse, fine.
SOFTWOOD_BIOMASS = _pools("SoftwoodMerch", "SoftwoodFoliage", "SoftwoodOther",
                          "SoftwoodCoarseRoots", "SoftwoodFineRoots")
HARDWOOD_BIOMASS = _pools("HardwoodMerch", "HardwoodFoliage", "HardwoodOther",
                          "HardwoodCoarseRoots", "HardwoodFineRoots")
BIOMASS_POOLS = SOFTWOOD_BIOMASS + HARDWOOD_BIOMASS
SNAG_POOLS = _pools("SoftwoodStemSnag", "SoftwoodBranchSnag", "HardwoodStemSnag", "HardwoodBranchSnag")
DOM_POOLS = _pools("AboveGroundVeryFastSoil", "BelowGroundVeryFastSoil", "AboveGroundFastSoil",
                   "BelowGroundFastSoil", "MediumSoil", "AboveGroundSlowSoil",
                   "BelowGroundSlowSoil") + SNAG_POOLS
ECOSYSTEM_POOLS = BIOMASS_POOLS + DOM_POOLS
EMISSION_POOLS = _pools("CO2", "CH4", "CO")

BIOMASS_IDX = np.array(BIOMASS_POOLS, dtype=np.intp)
