"""The order of a land unit's same-year disturbance events (gcbm-spec §2.4; moja.canada
CBMDisturbanceListener::doTimingInit).

GCBM groups a land unit's events by year in layer order, then `std::stable_sort`s each year's
events with the comparator

    order.find(a) == end ? false : order[a] < order[b]

where `order` numbers the types of `user_disturbance_order` then those of
`default_disturbance_order` not listed yet, from 1. `order[b]` *inserts* 0 for an unlisted b,
so from then on (for every later land unit of the same module instance) that type sorts before
the listed ones. Which comparisons are made, and so which types get inserted, is libstdc++'s
stable_sort: `_stable_sort` below makes the same comparisons in the same order.

The map lives as long as the module instance (one per GCBM thread); here it starts afresh for
each block and follows its simulated cells in order, so a block's result depends on nothing
else (a one-block project is exactly GCBM's; with several blocks GCBM's depends on which thread
ran which blocks before).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

_CHUNK = 7  # libstdc++ _S_chunk_size
Event = tuple[int, str]  # (slot, disturbance type name)
Less = Callable[[str, str], bool]


def initial_order(user: Sequence[str], default: Sequence[str]) -> dict[str, int]:
    """fetchDisturbanceOrder: user types first, then default types not yet listed, from 1."""
    order: dict[str, int] = {}
    for name in user:
        order[name] = len(order) + 1 if name not in order else order[name]
    for name in default:
        if name not in order:
            order[name] = len(order) + 1
    return order


def _comparator(order: dict[str, int]) -> Less:
    def less(a: str, b: str) -> bool:
        if a not in order:
            return False
        if b not in order:
            order[b] = 0  # std::map::operator[] inserts a value-initialised entry
        return order[a] < order[b]
    return less


def _insertion_sort(items: list[Event], less: Less) -> None:
    for i in range(1, len(items)):
        value = items[i]
        if less(value[1], items[0][1]):
            items[1: i + 1] = items[0:i]
            items[0] = value
            continue
        j = i
        while less(value[1], items[j - 1][1]):
            items[j] = items[j - 1]
            j -= 1
        items[j] = value


def _move_merge(first: list[Event], second: list[Event], less: Less) -> list[Event]:
    out: list[Event] = []
    i, j = 0, 0
    while i < len(first) and j < len(second):
        if less(second[j][1], first[i][1]):
            out.append(second[j])
            j += 1
        else:
            out.append(first[i])
            i += 1
    return out + first[i:] + second[j:]


def _merge_sort_with_buffer(items: list[Event], less: Less) -> list[Event]:
    for start in range(0, len(items), _CHUNK):
        chunk = items[start: start + _CHUNK]
        _insertion_sort(chunk, less)
        items[start: start + _CHUNK] = chunk
    step = _CHUNK
    while step < len(items):
        merged: list[Event] = []
        for start in range(0, len(items), 2 * step):
            merged += _move_merge(items[start: start + step], items[start + step: start + 2 * step],
                                  less)
        items = merged
        step *= 2
    return items


def _stable_sort(items: list[Event], less: Less) -> list[Event]:
    """libstdc++'s std::stable_sort with a buffer of (n + 1) / 2 (always obtained for a few
    events): each half merge-sorted with the buffer, then merged forward (halves of equal
    length) or backward."""
    n = len(items)
    if n < 2:
        return list(items)
    half = (n + 1) // 2
    first = _merge_sort_with_buffer(list(items[:half]), less)
    second = _merge_sort_with_buffer(list(items[half:]), less)
    if len(first) <= len(second):
        return _move_merge(first, second, less)
    # __move_merge_adaptive_backward
    out = first + second  # every position is overwritten below
    i, j, k = len(first) - 1, len(second) - 1, n - 1
    while True:
        if less(second[j][1], first[i][1]):
            out[k] = first[i]
            k -= 1
            if i == 0:
                out[k - j: k + 1] = second[: j + 1]
                return out
            i -= 1
        else:
            out[k] = second[j]
            k -= 1
            if j == 0:
                out[: i + 1] = first[: i + 1]
                return out
            j -= 1


def _rank_signature(signature: tuple[tuple[int, int], ...], type_names: Sequence[str],
                    order: dict[str, int]) -> tuple[int, ...]:
    """Each slot's position within its year's sorted events (-1: no event); mutates `order`."""
    less = _comparator(order)
    by_year: dict[int, list[tuple[int, str]]] = {}
    for slot, (year, type_idx) in enumerate(signature):
        if year >= 0:
            by_year.setdefault(year, []).append((slot, type_names[type_idx]))
    rank = [-1] * len(signature)
    for year in sorted(by_year):  # std::map<int, ...> iterates in year order
        for position, (slot, _) in enumerate(_stable_sort(by_year[year], less)):
            rank[slot] = position
    return tuple(rank)


def event_ranks(year: np.ndarray, type_idx: np.ndarray, type_names: Sequence[str],
                order: dict[str, int]) -> np.ndarray:
    """(K, n) int64: each event slot's position among its year's events, the land units (n)
    taken in simulation order with the comparator's map carried from one to the next.

    year (K, n) int64 (-1: no event), type_idx (K, n) intp; `order` from `initial_order`
    (not modified). Computed once per distinct event signature between two insertions into
    the map, so the work grows with distinct signatures, not land units.
    """
    n_slots, n = year.shape
    out = np.full((n_slots, n), -1, dtype=np.int64)
    if n == 0 or n_slots == 0:
        return out
    if not order:  # the comparator is always false: layer order
        has = year >= 0
        return np.where(has, _layer_ranks(year), -1)
    keys = np.concatenate([year, np.where(year >= 0, type_idx, -1)], axis=0).T
    distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    signatures = [tuple(zip(row[:n_slots].tolist(), row[n_slots:].tolist(), strict=True))
                  for row in distinct]
    state = dict(order)
    start = 0
    while start < n:
        ranks, changes = [], np.zeros(len(signatures), dtype=bool)
        for s, signature in enumerate(signatures):
            trial = dict(state)
            ranks.append(_rank_signature(signature, type_names, trial))
            changes[s] = trial != state
        table = np.array(ranks, dtype=np.int64).reshape(len(signatures), n_slots)
        changing = changes[inverse[start:]]
        stop = n if not changing.any() else start + int(np.argmax(changing)) + 1
        out[:, start:stop] = table[inverse[start:stop]].T
        if changing.any():  # that land unit's sort changed the map: later ones see it
            _rank_signature(signatures[inverse[stop - 1]], type_names, state)
        start = stop
    return out


def _layer_ranks(year: np.ndarray) -> np.ndarray:
    """Position of each slot among the same-year slots before it (layer order)."""
    n_slots = year.shape[0]
    out = np.zeros(year.shape, dtype=np.int64)
    for slot in range(n_slots):
        out[slot] = (year[:slot] == year[slot][None, :]).sum(axis=0)
    return out
