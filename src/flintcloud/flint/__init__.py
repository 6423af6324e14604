"""The FLINT engine: FLINT's semantics (configs, timing, pools, operations, variables,
notifications, outputs) vectorised over a batch of land units with NumPy.

A land-unit batch is the unit of work: pool values are a ``(n_pools, n_land_units)`` float64
array, so a point run is a batch of one. This package knows nothing of GCBM, HTTP or Dask, and
imports nothing from ``flintcloud.models``, ``io``, ``runner`` or ``service``.
"""

from flintcloud.flint.config import FlintConfig, load_config
from flintcloud.flint.controller import LocalDomainController, RunResult, run_config

__all__ = ["FlintConfig", "LocalDomainController", "RunResult", "load_config", "run_config"]
