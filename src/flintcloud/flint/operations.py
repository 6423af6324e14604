"""FLINT's OperationManagerSimple over a batch of land units (flint-core-spec §6).

Fluxes are fixed when an operation is submitted, from the live pool values, and applied later,
flux by flux, in submission then transfer order: ``pools[src] -= v`` then ``pools[dst] += v``.
Keeping that exact sequence of float operations per land unit is what makes a land unit's result
in a batch bit-identical to moja.cli running it alone.

Drop rules differ per land unit (a transfer from an empty pool is dropped in one land unit and
kept in another), so a flux carries an optional boolean mask of the land units it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from flintcloud.errors import SimulationError
from flintcloud.flint.numbers import format_number, is_negative, is_zero
from flintcloud.flint.pools import MAX_POOLS, Pool, PoolDef

if TYPE_CHECKING:
    from flintcloud.flint.timing import Timing

STOCK = "stock"
PROPORTIONAL = "proportional"

# The land units a transfer applies to: None = every land unit, False = none, else an (n,) mask.
Mask: TypeAlias = NDArray[np.bool_] | Literal[False] | None
# A transfer amount or rate: one for every land unit, or one per land unit.
Amount: TypeAlias = float | NDArray[Any]


@dataclass(slots=True)
class Flux:
    """One computed transfer: `values` is a scalar or an (n,) array; `applied` masks land units."""

    source: int
    sink: int
    values: Amount
    applied: NDArray[np.bool_] | None = None  # None: every land unit

    def values_for(self, n: int) -> NDArray[np.float64]:
        """The flux per land unit, 0 where the transfer was dropped."""
        values = np.broadcast_to(np.asarray(self.values, dtype=np.float64), (n,))
        return values if self.applied is None else np.where(self.applied, values, 0.0)


@dataclass(slots=True)
class OperationResult:
    kind: str
    module_name: str
    metadata: dict[str, Any] | None
    fluxes: list[Flux] = field(default_factory=list)


@dataclass(slots=True)
class FluxBatch:
    """The fluxes of one operation submitted as arrays: transfer k moves `values[k]` (n,)
    from pool `sources[k]` to pool `sinks[k]`. Zero fluxes are kept (they change nothing)."""

    kind: str
    module_name: str
    metadata: dict[str, Any] | None
    sources: NDArray[np.intp]  # (k,)
    sinks: NDArray[np.intp]  # (k,)
    values: NDArray[np.float64]  # (k, n)

    @property
    def fluxes(self) -> list[Flux]:
        """The same fluxes as OperationResult.fluxes, one Flux per transfer."""
        return [Flux(int(src), int(dst), row) for src, dst, row in
                zip(self.sources, self.sinks, self.values, strict=True)]


def _combine(mask_a: Mask, mask_b: Mask) -> Mask:
    """AND of two 'applies to' masks where None means everyone and False means no one."""
    if mask_a is False or mask_b is False:
        return False
    if mask_a is None:
        return mask_b
    if mask_b is None:
        return mask_a
    both = mask_a & mask_b
    return both if both.any() else False


def _keep_mask(drop: bool | np.bool_ | NDArray[np.bool_]) -> Mask:
    """None if no land unit drops, False if all do, else the boolean array of those that keep."""
    if not isinstance(drop, np.ndarray) or drop.ndim == 0:
        return False if drop else None
    if not drop.any():
        return None
    return False if drop.all() else ~drop


class Operation:
    """A stock or proportional operation being built by a module (FLINT's IOperation)."""

    __slots__ = ("kind", "module_name", "time_scale", "metadata", "transfers", "_manager")

    def __init__(self, manager: OperationManager, kind: str, module_name: str,
                 time_scale: float, metadata: dict[str, Any] | None = None) -> None:
        self._manager = manager
        self.kind = kind
        self.module_name = module_name
        self.time_scale = time_scale  # the timing's fractionOfStep when the operation was created
        self.metadata = metadata
        self.transfers: list[tuple[int, int, Amount, NDArray[np.bool_] | None]] = []

    def add_transfer(self, source: Pool | int, sink: Pool | int, value: Amount,
                     where: NDArray[Any] | None = None) -> Operation:
        """Append a transfer unless FLINT's drop rules discard it (per land unit).

        `where` (bool, (n,)) limits the transfer to some land units: the vectorised form of a
        module adding the transfer only inside an `if`.
        """
        src = source if isinstance(source, int) else source.index
        dst = sink if isinstance(sink, int) else sink.index
        manager = self._manager
        keep: Mask = None if where is None else _keep_mask(~np.asarray(where, dtype=bool))
        if keep is False:
            return self
        if not manager.allow_zero_result_transfers:
            keep = _combine(keep, _keep_mask(is_zero(value)))
            if self.kind == PROPORTIONAL:
                keep = _combine(keep, manager.nonzero_mask(src))
            if keep is False:
                return self
        self.transfers.append((src, dst, value, keep))
        return self

    def submit(self) -> None:
        self._manager.submit(self)


class OperationManager:
    """OperationManagerSimple for `n` land units: pool values are an (n_pools, n) float64 array."""

    def __init__(self, n_land_units: int, timing: Timing, *, use_kahan: bool = False,
                 allow_zero_result_transfers: bool = False, allow_negative_transfers: bool = True,
                 warn_negative_transfers: bool = False) -> None:
        self.n = n_land_units
        self.timing = timing
        self.use_kahan = use_kahan
        self.allow_zero_result_transfers = allow_zero_result_transfers
        self.allow_negative_transfers = allow_negative_transfers
        self.warn_negative_transfers = warn_negative_transfers
        self.pool_defs: list[PoolDef] = []
        self.pools: dict[str, Pool] = {}
        self.values: NDArray[np.float64] = np.zeros((0, n_land_units), dtype=np.float64)
        # Kahan compensation, one per pool value
        self.corrections: NDArray[np.float64] | None = None
        self.pending: list[OperationResult | FluxBatch] = []
        self.last_applied: list[OperationResult | FluxBatch] = []
        self._nonzero_cache: dict[int, Mask] = {}

    # -- pools ---------------------------------------------------------------------------
    def add_pool(self, definition: PoolDef) -> Pool:
        if len(self.pool_defs) >= MAX_POOLS:
            raise ValueError(f"maximum pool definitions exceeded: only {MAX_POOLS} pools allowed")
        self.pool_defs.append(definition)
        self.values = np.vstack(
            [self.values, np.full((1, self.n), definition.init_value, dtype=np.float64)]
        )
        pool = Pool(definition, self)
        self.pools[definition.name] = pool
        if self.use_kahan:
            self.corrections = np.zeros_like(self.values)
        self._nonzero_cache.clear()
        return pool

    def pool(self, name: str) -> Pool:
        return self.pools[name]

    def set_pool_values(self, index: int, values: Amount) -> None:
        self.values[index] = values
        self._nonzero_cache.clear()

    def nonzero_mask(self, index: int) -> Mask:
        """Land units whose pool `index` is not FloatCmp-zero now (None: all, False: none)."""
        if index not in self._nonzero_cache:
            self._nonzero_cache[index] = _keep_mask(is_zero(self.values[index]))
        return self._nonzero_cache[index]

    # -- operations ----------------------------------------------------------------------
    def create_stock(self, module_name: str, metadata: dict[str, Any] | None = None) -> Operation:
        return Operation(self, STOCK, module_name, self.timing.fraction_of_step, metadata)

    def create_proportional(self, module_name: str,
                            metadata: dict[str, Any] | None = None) -> Operation:
        return Operation(self, PROPORTIONAL, module_name, self.timing.fraction_of_step, metadata)

    def submit_fluxes(self, kind: str, module_name: str, sources: ArrayLike, sinks: ArrayLike,
                      amounts: ArrayLike, metadata: dict[str, Any] | None = None) -> FluxBatch:
        """Fast path for a module that builds a whole operation as arrays.

        `amounts` is (k, n): stock amounts, or proportions of the source pools for a
        proportional operation (turned into fluxes now, from the live pools, as `submit` does).
        Only full annual/monthly steps are supported (fraction of step 1).
        """
        source_idx = np.asarray(sources, dtype=np.intp)
        sink_idx = np.asarray(sinks, dtype=np.intp)
        amount = np.asarray(amounts, dtype=np.float64)
        if not self.timing.is_full_step:
            raise NotImplementedError("submit_fluxes supports full steps only")
        values = self.values[source_idx] * amount if kind == PROPORTIONAL else amount
        batch = FluxBatch(kind, module_name, metadata, source_idx, sink_idx, values)
        self.pending.append(batch)
        return batch

    def submit(self, operation: Operation) -> None:
        """computeOperation: the fluxes are fixed now, from the live pool values."""
        result = OperationResult(operation.kind, operation.module_name, operation.metadata)
        full_step = self.timing.is_full_step
        for src, dst, value, keep in operation.transfers:
            flux: Amount
            if operation.kind == STOCK:
                flux = value if full_step else value * operation.time_scale
            elif full_step:
                combined = _combine(keep, self.nonzero_mask(src))
                if combined is False:
                    continue
                keep = combined
                flux = self.values[src] * value
            else:
                flux = self.values[src] * value * operation.time_scale
            if keep is not None:
                flux = np.where(keep, flux, 0.0)
            result.fluxes.append(Flux(src, dst, flux, keep))
        self.pending.append(result)

    def apply(self) -> None:
        """applyOperations: apply every pending flux in order, then mark them last-applied."""
        values = self.values
        for result in self.pending:
            if isinstance(result, FluxBatch):
                _apply_batch(values, result)
                continue
            for flux in result.fluxes:
                if flux.source == flux.sink:
                    continue
                if self.use_kahan:
                    self._apply_kahan(flux)
                    continue
                if not self.allow_negative_transfers:
                    self._check_not_negative(result, flux)
                if flux.applied is None:
                    values[flux.source] -= flux.values
                    values[flux.sink] += flux.values
                else:
                    # +0.0 and -0.0 are the identities of - and +: a dropped transfer changes nothing,
                    # not even the sign of a zero pool.
                    values[flux.source] -= np.where(flux.applied, flux.values, 0.0)
                    values[flux.sink] += np.where(flux.applied, flux.values, -0.0)
        if self.pending:
            self._nonzero_cache.clear()
        self.last_applied.extend(self.pending)
        self.pending = []

    def _apply_kahan(self, flux: Flux) -> None:
        corrections = self.corrections
        assert corrections is not None, "use_kahan keeps a correction per pool value"
        for index, amount in ((flux.source, -flux.values), (flux.sink, flux.values)):
            total, correction = self.values[index], corrections[index]
            y = amount - correction
            t = total + y
            new_correction = (t - total) - y
            if flux.applied is None:
                correction[...] = new_correction
                total[...] = t
            else:
                np.copyto(correction, new_correction, where=flux.applied)
                np.copyto(total, t, where=flux.applied)

    def _check_not_negative(self, result: OperationResult, flux: Flux) -> None:
        negative = is_negative(flux.values_for(self.n))
        if flux.applied is not None:
            negative &= flux.applied
        if np.any(negative):
            unit = int(np.flatnonzero(negative)[0])
            amount = flux.values_for(self.n)[unit]
            if result.kind == PROPORTIONAL:
                what = f"{format_number(amount * 100.0, 6)}% of"
            else:
                what = f"{format_number(amount, 6)} from"
            raise SimulationError(
                f"Negative transfer by {result.module_name}: {what} "
                f"{self.pool_defs[flux.source].name} to {self.pool_defs[flux.sink].name}",
                field=f"land unit {unit}",
                hint="allow_negative_transfers is false in LocalDomain.operationManager",
            )

    def clear_last_applied(self) -> None:
        self.last_applied = []

    def clear_all(self) -> None:
        self.pending = []
        self.last_applied = []

    def initialise_pools(self) -> None:
        """initialisePools(): every pool back to its init value (spatial/SQL controllers only)."""
        for definition in self.pool_defs:
            self.values[definition.index] = definition.init_value
        if self.corrections is not None:
            self.corrections[...] = 0.0
        self._nonzero_cache.clear()


def _apply_batch(values: np.ndarray, batch: FluxBatch) -> None:
    """Apply a FluxBatch in FLINT's order: `src -= v` then `dst += v`, transfer by transfer.

    Small batches (spinup runs a few distinct stands) go through one interleaved ufunc.at call;
    large ones loop over transfers. Both do the same float operations in the same order, so a
    land unit gets the same bits whatever the batch size (x - v == x + (-v) exactly).
    """
    keep = batch.sources != batch.sinks
    sources, sinks, fluxes = batch.sources, batch.sinks, batch.values
    if not keep.all():  # a copy of the (transfers, land units) values only when needed
        sources, sinks, fluxes = sources[keep], sinks[keep], fluxes[keep]
    if values.shape[1] <= _SMALL_BATCH:
        indices = np.empty(2 * sources.size, dtype=np.intp)
        indices[0::2], indices[1::2] = sources, sinks
        signed = np.empty((2 * sources.size, values.shape[1]), dtype=np.float64)
        np.negative(fluxes, out=signed[0::2])
        signed[1::2] = fluxes
        np.add.at(values, indices, signed)
        return
    for source, sink, flux in zip(sources, sinks, fluxes, strict=True):
        values[source] -= flux
        values[sink] += flux


_SMALL_BATCH = 256  # below this many land units, one ufunc.at call beats a Python loop
