"""Levenberg–Marquardt least squares that reproduces GCBM's `lmmin` bit for bit (gcbm-spec §5.4 iv).

GCBM's smoother fits its Weibull curves with `lmmin`, a C translation of MINPACK's `lmdif`
(forward-difference Jacobian, QR with column pivoting, trust region). The fitted parameters feed
every growth increment of ~4,000 spinup years, so a difference of 1e-9 in a parameter shows up as
1e-6 tC/ha in the cumulative pools. SciPy's `leastsq` (Fortran-derived lmdif) is close but not
identical: lmmin divides Jacobian differences by the step actually taken, uses its own machine
constants and norm thresholds, and adjusts the first step bound on a call count.

So this module follows lmmin's floating-point operations one by one: plain Python floats, loops in
lmmin's order (no NumPy reductions, which sum in a different order), and the C library's `sqrt`.
Products are grouped as the C expressions group them, e.g. `s * t * t` is `(s * t) * t`, which is
what lmmin's squaring macro expands to. The problem is tiny (50 residuals, 2 parameters), so plain
Python costs a few milliseconds per fit.

Matrices are lists of columns: `a[j][i]` is row i of column j (lmmin stores them column-major).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# lmmin's own constants, not the IEEE ones: they decide its stopping tests and the ranges in which
# `enorm` sums squares directly, so the exact values matter.
MACHINE_EPSILON = 0.555e-16
DWARF = 9.9e-324  # "smallest nonzero number"
SQRT_DWARF = 1e-160  # squares of larger numbers do not underflow
SQRT_GIANT = 1e150  # squares of smaller numbers do not overflow

# Trust-region constants of lmdif/lmpar.
_SHRINK_MIN = 0.1  # smallest factor a step bound is shrunk by; also lmpar's acceptance band
_HALF = 0.5
_LOW_RATIO = 0.25  # actual/predicted reduction below this: shrink the step bound
_HIGH_RATIO = 0.75  # above this: grow it
_ACCEPT_RATIO = 1e-4  # a step that achieves at least this much of the prediction is taken
_LMPAR_MAX_ITERATIONS = 10

# Residual function: takes the solver's parameter list (which it may modify in place) and returns
# the m residuals.
Residuals = Callable[[list[float]], Sequence[float]]


@dataclass(frozen=True, slots=True)
class FitResult:
    """Outcome of `minimize`; `info` uses lmmin's codes.

    1: relative reduction of the sum of squares at most ftol; 2: relative change of the
    parameters at most xtol; 3: both; 4: residuals orthogonal to the Jacobian (gtol);
    5: evaluation limit reached; 6, 7, 8: ftol, xtol, gtol below machine precision.
    """

    params: tuple[float, ...]
    info: int
    n_evaluations: int
    residual_norm: float


def _max(a: float, b: float) -> float:
    # lmmin's MAX macro: `a >= b ? a : b`; unlike Python's max it returns b when a comparison
    # involves NaN.
    return a if a >= b else b


def _min(a: float, b: float) -> float:
    return a if a <= b else b


def _div(numerator: float, denominator: float) -> float:
    """IEEE division: Python raises on a zero divisor where C returns inf or NaN.

    Only needed in degenerate fits (e.g. samples that are all NaN); keeps them on lmmin's path.
    """
    if denominator != 0.0:
        return numerator / denominator
    if numerator == 0.0 or numerator != numerator:
        return math.nan
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)


def enorm(x: Sequence[float]) -> float:
    """Euclidean norm, summing small, intermediate and large components separately (lmmin's
    thresholds), so that no square over- or underflows."""
    small_sum = mid_sum = large_sum = 0.0
    small_max = large_max = 0.0
    giant = SQRT_GIANT / len(x) if len(x) else math.inf  # C's x / 0.0
    for value in x:
        xabs = abs(value)
        if SQRT_DWARF < xabs < giant:
            mid_sum += xabs * xabs
        elif xabs > SQRT_DWARF:
            # large components are summed scaled by the largest seen so far
            if xabs > large_max:
                ratio = large_max / xabs
                large_sum = 1.0 + large_sum * ratio * ratio
                large_max = xabs
            else:
                ratio = xabs / large_max
                large_sum += ratio * ratio
        elif xabs > small_max:
            ratio = small_max / xabs
            small_sum = 1.0 + small_sum * ratio * ratio
            small_max = xabs
        elif xabs != 0.0:  # NaN lands here too, with small_max possibly 0
            ratio = _div(xabs, small_max)
            small_sum += ratio * ratio
    if large_sum != 0.0:
        return large_max * math.sqrt(large_sum + (mid_sum / large_max) / large_max)
    if mid_sum != 0.0:
        if mid_sum >= small_max:
            return math.sqrt(mid_sum * (1.0 + (small_max / mid_sum) * (small_max * small_sum)))
        return math.sqrt(small_max * ((mid_sum / small_max) + (small_max * small_sum)))
    return small_max * math.sqrt(small_sum)


def _qr_factorize(a: list[list[float]]) -> tuple[list[int], list[float], list[float]]:
    """Householder QR of the columns `a` with column pivoting, in place.

    Afterwards the strict upper triangle of `a` holds R's off-diagonal part and the lower part
    the Householder vectors. Returns (pivot order, R's diagonal, norms of the input columns).
    """
    n, m = len(a), len(a[0])
    column_norms = [enorm(column) for column in a]
    rdiag = column_norms.copy()
    reference_norms = column_norms.copy()  # norms when last recomputed, to detect cancellation
    pivots = list(range(n))
    for j in range(min(m, n)):
        # bring the remaining column of largest (updated) norm to position j
        kmax = j
        for k in range(j + 1, n):
            if rdiag[k] > rdiag[kmax]:
                kmax = k
        if kmax != j:
            a[j], a[kmax] = a[kmax], a[j]
            rdiag[kmax] = rdiag[j]
            reference_norms[kmax] = reference_norms[j]
            pivots[j], pivots[kmax] = pivots[kmax], pivots[j]

        column = a[j]
        norm = enorm(column[j:])
        if norm == 0.0:
            rdiag[j] = 0.0
            continue
        if column[j] < 0.0:
            norm = -norm
        for i in range(j, m):
            column[i] /= norm
        column[j] += 1.0

        # apply the reflection to the later columns and downdate their norms
        for k in range(j + 1, n):
            other = a[k]
            dot = 0.0
            for i in range(j, m):
                dot += column[i] * other[i]
            scale = dot / column[j]
            for i in range(j, m):
                other[i] -= scale * column[i]
            if rdiag[k] != 0.0:
                ratio = other[j] / rdiag[k]
                rdiag[k] *= math.sqrt(_max(0.0, 1.0 - ratio * ratio))
                ratio = rdiag[k] / reference_norms[k]
                if 0.05 * ratio * ratio <= MACHINE_EPSILON:
                    # too much cancellation in the downdate: recompute the norm
                    rdiag[k] = enorm(other[j + 1:])
                    reference_norms[k] = rdiag[k]
        rdiag[j] = -norm
    return pivots, rdiag, column_norms


def _qr_solve(r: list[list[float]], pivots: list[int], diag: list[float],
              qtb: list[float]) -> tuple[list[float], list[float]]:
    """Least-squares solution of [R; D] z = [Q^T b; 0], by Givens rotations that eliminate D.

    `r` holds R in its upper triangle; on return its strict lower triangle holds the transposed
    strict upper triangle of S (the factor of R^T R + D^2), the upper triangle is unchanged.
    Returns (x, S's diagonal), x in the original parameter order.
    """
    n = len(pivots)
    r_diagonal = [0.0] * n  # R's diagonal, restored after each elimination
    sdiag = [0.0] * n
    work = [0.0] * n
    for j in range(n):
        for i in range(j, n):
            r[j][i] = r[i][j]
        r_diagonal[j] = r[j][j]
        work[j] = qtb[j]

    for j in range(n):
        d = diag[pivots[j]]
        if d != 0.0:
            for k in range(j, n):
                sdiag[k] = 0.0
            sdiag[j] = d
            # the rotations touch only one element of (Q^T b, 0) beyond the first n
            qtbpj = 0.0
            for k in range(j, n):
                if sdiag[k] == 0.0:
                    continue
                rkk = r[k][k]
                if abs(rkk) < abs(sdiag[k]):
                    cotangent = rkk / sdiag[k]
                    sine = _HALF / math.sqrt(0.25 + 0.25 * cotangent * cotangent)
                    cosine = sine * cotangent
                else:
                    tangent = _div(sdiag[k], rkk)  # rkk is 0 only when sdiag[k] is NaN
                    cosine = _HALF / math.sqrt(0.25 + 0.25 * tangent * tangent)
                    sine = cosine * tangent
                r[k][k] = cosine * rkk + sine * sdiag[k]
                rotated = cosine * work[k] + sine * qtbpj
                qtbpj = -sine * work[k] + cosine * qtbpj
                work[k] = rotated
                for i in range(k + 1, n):
                    rotated = cosine * r[k][i] + sine * sdiag[i]
                    sdiag[i] = -sine * r[k][i] + cosine * sdiag[i]
                    r[k][i] = rotated
        sdiag[j] = r[j][j]
        r[j][j] = r_diagonal[j]

    # back substitution; a singular S gets a least-squares solution (trailing components 0)
    rank = n
    for j in range(n):
        if sdiag[j] == 0.0 and rank == n:
            rank = j
        if rank < n:
            work[j] = 0.0
    for j in range(rank - 1, -1, -1):
        dot = 0.0
        for i in range(j + 1, rank):
            dot += r[j][i] * work[i]
        work[j] = (work[j] - dot) / sdiag[j]

    x = [0.0] * n
    for j in range(n):
        x[pivots[j]] = work[j]
    return x, sdiag


def _lm_parameter(r: list[list[float]], pivots: list[int], diag: list[float], qtb: list[float],
                  delta: float, par: float) -> tuple[float, list[float]]:
    """The Levenberg–Marquardt parameter for step bound `delta` (lmpar), starting from `par`.

    Returns (par, x) with x the step solving J x = f, sqrt(par) D x = 0 in the least-squares
    sense, where ||D x|| is within 10 % of delta, or par = 0 if the Gauss–Newton step is shorter.
    """
    n = len(pivots)
    # Gauss–Newton direction; a rank-deficient R gets a least-squares solution
    work = [0.0] * n
    rank = n
    for j in range(n):
        work[j] = qtb[j]
        if r[j][j] == 0.0 and rank == n:
            rank = j
        if rank < n:
            work[j] = 0.0
    for j in range(rank - 1, -1, -1):
        work[j] = work[j] / r[j][j]
        value = work[j]
        for i in range(j):
            work[i] -= r[j][i] * value
    x = [0.0] * n
    for j in range(n):
        x[pivots[j]] = work[j]

    scaled = [diag[j] * x[j] for j in range(n)]
    dxnorm = enorm(scaled)
    fp = dxnorm - delta
    if fp <= _SHRINK_MIN * delta:
        return 0.0, x

    # lower bound from the Newton step (0 if R is singular)
    lower = 0.0
    if rank >= n:
        for j in range(n):
            work[j] = _div(diag[pivots[j]] * scaled[pivots[j]], dxnorm)
        for j in range(n):
            dot = 0.0
            for i in range(j):
                dot += r[j][i] * work[i]
            work[j] = (work[j] - dot) / r[j][j]
        norm = enorm(work)
        lower = _div(_div(_div(fp, delta), norm), norm)

    # upper bound from the scaled gradient
    for j in range(n):
        dot = 0.0
        for i in range(j + 1):
            dot += r[j][i] * qtb[i]
        work[j] = _div(dot, diag[pivots[j]])
    gnorm = enorm(work)
    upper = _div(gnorm, delta)
    if upper == 0.0:
        upper = _div(DWARF, _min(delta, _SHRINK_MIN))

    par = _min(_max(par, lower), upper)
    if par == 0.0:
        par = _div(gnorm, dxnorm)

    iteration = 0
    while True:
        if par == 0.0:
            par = _max(DWARF, 0.001 * upper)
        root = math.sqrt(par)
        x, sdiag = _qr_solve(r, pivots, [root * d for d in diag], qtb)
        scaled = [diag[j] * x[j] for j in range(n)]
        dxnorm = enorm(scaled)
        fp_old = fp
        fp = dxnorm - delta
        if (abs(fp) <= _SHRINK_MIN * delta
                or (lower == 0.0 and fp <= fp_old and fp_old < 0.0)
                or iteration == _LMPAR_MAX_ITERATIONS):
            return par, x

        # Newton correction
        for j in range(n):
            work[j] = _div(diag[pivots[j]] * scaled[pivots[j]], dxnorm)
        for j in range(n):
            work[j] = _div(work[j], sdiag[j])
            for i in range(j + 1, n):
                work[i] -= r[j][i] * work[j]
        norm = enorm(work)
        correction = _div(_div(_div(fp, delta), norm), norm)

        if fp > 0.0:
            lower = _max(lower, par)
        elif fp < 0.0:
            upper = _min(upper, par)
        par = _max(lower, par + correction)
        iteration += 1


def minimize(residuals: Residuals, start: Sequence[float], *, ftol: float = 1e-14,
             xtol: float = 1e-14, gtol: float = 1e-14, max_calls: int = 1000,
             epsilon: float = 1e-14, step_bound: float = 100.0) -> FitResult:
    """Minimise the sum of squared `residuals` from `start`, as lmmin's `lm_minimize` does.

    The defaults are lmmin's `lm_initialize_control`. The evaluation limit is
    `max_calls * (n + 1)`. Parameters are scaled internally by the Jacobian's column norms.

    `residuals` receives the solver's own working list of parameters and may change it in place;
    the solver then carries on from the changed values (GCBM's smoother relies on this to keep
    its parameters above floors). Jacobian columns divide by the step actually taken, so a
    change during a perturbed evaluation is seen there too.
    """
    x = [float(v) for v in start]
    n = len(x)
    fvec = list(residuals(x))
    m = len(fvec)
    if n == 0 or m < n or min(ftol, xtol, gtol) < 0.0 or max_calls <= 0 or step_bound <= 0.0:
        raise ValueError("minimize needs 0 < n_params <= n_residuals and non-negative tolerances")
    max_evaluations = max_calls * (n + 1)
    step_scale = math.sqrt(_max(epsilon, MACHINE_EPSILON))  # forward-difference step
    n_evaluations = 1
    fnorm = enorm(fvec)

    par = 0.0  # Levenberg–Marquardt parameter
    delta = 0.0  # step bound
    xnorm = 0.0
    diag = [0.0] * n
    n_successes = 0  # lmmin re-initialises the scaling while no step has succeeded

    def finish(info: int) -> FitResult:
        return FitResult(tuple(x), info, n_evaluations, enorm(fvec))

    while True:  # outer loop: one Jacobian per iteration
        jacobian = []
        for j in range(n):
            saved = x[j]
            step = step_scale * abs(saved)
            if step == 0.0:
                step = step_scale
            x[j] = saved + step
            perturbed = residuals(x)
            n_evaluations += 1
            taken = x[j] - saved  # not `step`: the callback may have moved x[j]
            divide = _div if taken == 0.0 else operator.truediv
            jacobian.append([divide(perturbed[i] - fvec[i], taken) for i in range(m)])
            x[j] = saved

        pivots, rdiag, column_norms = _qr_factorize(jacobian)

        if n_successes == 0:
            # scale by the initial column norms; the first step bound is step_bound * ||D x||
            diag = [norm if norm != 0.0 else 1.0 for norm in column_norms]
            xnorm = enorm([diag[j] * x[j] for j in range(n)])
            delta = step_bound * xnorm
            if delta == 0.0:
                delta = step_bound

        # Q^T f: apply the Householder reflections; keep its first n entries; put R's diagonal
        # back in place of the Householder vectors' first entries
        qtf_full = list(fvec)
        qtf = [0.0] * n
        for j in range(n):
            column = jacobian[j]
            head = column[j]
            if head != 0.0:
                dot = 0.0
                for i in range(j, m):
                    dot += column[i] * qtf_full[i]
                scale = -dot / head
                for i in range(j, m):
                    qtf_full[i] += column[i] * scale
            column[j] = rdiag[j]
            qtf[j] = qtf_full[j]

        # largest cosine between f and a column of J
        gnorm = 0.0
        if fnorm != 0.0:
            for j in range(n):
                norm = column_norms[pivots[j]]
                if norm == 0.0:
                    continue
                dot = 0.0
                for i in range(j + 1):
                    dot += jacobian[j][i] * qtf[i] / fnorm
                gnorm = _max(gnorm, abs(dot / norm))
        if gnorm <= gtol:
            return finish(4)

        diag = [_max(diag[j], column_norms[j]) for j in range(n)]

        while True:  # inner loop: shrink the trust region until a step succeeds
            par, direction = _lm_parameter(jacobian, pivots, diag, qtf, delta, par)
            direction = [-v for v in direction]
            trial = [x[j] + direction[j] for j in range(n)]
            pnorm = enorm([diag[j] * direction[j] for j in range(n)])
            if n_evaluations <= 1 + n:
                delta = _min(delta, pnorm)  # first iteration: the step bounds the region

            trial_fvec = list(residuals(trial))  # may change `trial` in place
            n_evaluations += 1
            fnorm1 = enorm(trial_fvec)

            # scaled actual and predicted reductions, directional derivative
            if _SHRINK_MIN * fnorm1 < fnorm:
                reduction = fnorm1 / fnorm
                actred = 1.0 - reduction * reduction
            else:
                actred = -1.0
            jp = [0.0] * n
            for j in range(n):
                jp[j] = 0.0
                for i in range(j + 1):
                    jp[i] += jacobian[j][i] * direction[pivots[j]]
            temp1 = _div(enorm(jp), fnorm)
            temp2 = _div(math.sqrt(par) * pnorm, fnorm)
            prered = temp1 * temp1 + 2.0 * temp2 * temp2
            dirder = -(temp1 * temp1 + temp2 * temp2)
            ratio = actred / prered if prered != 0.0 else 0.0

            # update the step bound
            if ratio <= _LOW_RATIO:
                if actred >= 0.0:
                    shrink = _HALF
                else:
                    shrink = _div(_HALF * dirder, dirder + _HALF * actred)
                if _SHRINK_MIN * fnorm1 >= fnorm or shrink < _SHRINK_MIN:
                    shrink = _SHRINK_MIN
                delta = shrink * _min(delta, pnorm / _SHRINK_MIN)
                par /= shrink
            elif par == 0.0 or ratio >= _HIGH_RATIO:
                delta = pnorm / _HALF
                par *= _HALF

            if ratio >= _ACCEPT_RATIO:
                x = list(trial)
                fvec = trial_fvec
                xnorm = enorm([diag[j] * x[j] for j in range(n)])
                fnorm = fnorm1
                n_successes += 1

            info = 0
            if abs(actred) <= ftol and prered <= ftol and _HALF * ratio <= 1.0:
                info = 1
            if delta <= xtol * xnorm:
                info += 2
            if info != 0:
                return finish(info)

            if n_evaluations >= max_evaluations:
                info = 5
            if abs(actred) <= MACHINE_EPSILON and prered <= MACHINE_EPSILON \
                    and _HALF * ratio <= 1.0:
                info = 6
            if delta <= MACHINE_EPSILON * xnorm:
                info = 7
            if gnorm <= MACHINE_EPSILON:
                info = 8
            if info != 0:
                return finish(info)

            if not ratio < _ACCEPT_RATIO:  # written so that a NaN ratio also leaves, as in lmmin
                break
