"""Compiled inner loops of the aggregation rules (Numba), in a fixed summation order.

Concept: a weighted sum of ``n`` rows accumulated in float64, rows added in index order for
every coordinate. Column blocks run in parallel, each block written by one thread to its own
slice, so the result is bit-for-bit the same as the serial loop
``total += float64(row) * share`` for any number of threads and on any x86-64 or ARM CPU:
Numba compiles without fast-math, so products are rounded before they are added (no fused
multiply-add) and additions are never reassociated.

Reference: Lam, Pitrou, Seibert, "Numba: a LLVM-based Python JIT compiler", LLVM-HPC 2015.

Trust assumption: none beyond NumPy's: the kernels compute exactly what the NumPy
expression in each docstring computes (``tests/unit/learning/test_kernels.py`` checks bit
equality); callers check shapes and finiteness first.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["weighted_row_sum_kernel"]

_BLOCK = 2048
"""Columns per parallel block: the float64 accumulator (16 KiB) stays in L1 while the rows
stream through once."""

_LOCK = threading.Lock()
"""Numba's fallback threading layer (workqueue) must not be entered by two Python threads
at once; the kernel already uses every core, so calls are serialised."""

_Kernel = Callable[[NDArray[np.floating], NDArray[np.float64]], NDArray[np.float64]]


@functools.cache
def _weighted_row_sum() -> _Kernel:
    """Return the compiled kernel, importing Numba on first use.

    Processes that never aggregate (trainers, providers) do not pay Numba's import; the
    compiled code is cached on disk.
    """
    import numba

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=False)
    def kernel(matrix: NDArray[np.floating], shares: NDArray[np.float64]) -> NDArray[np.float64]:
        n, d = matrix.shape
        out = np.zeros(d)
        blocks = (d + _BLOCK - 1) // _BLOCK
        for block in numba.prange(blocks):
            low = block * _BLOCK
            high = min(low + _BLOCK, d)
            total = np.zeros(high - low)
            for i in range(n):
                share = shares[i]
                if share != 0.0:
                    row = matrix[i, low:high]
                    for j in range(high - low):
                        total[j] += np.float64(row[j]) * share
            out[low:high] = total
        return out

    return kernel


def weighted_row_sum_kernel(
    matrix: NDArray[np.floating], shares: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return ``sum_i shares[i] * matrix[i]`` in float64, rows added in index order.

    Equal bit for bit to ``total = 0; for row, s in zip(matrix, shares): total += row * s``
    evaluated in float64.

    Parameters
    ----------
    matrix
        ``(n, d)`` float32 or float64, C-contiguous rows.
    shares
        ``(n,)`` float64 weights; a zero share skips its row.

    Returns
    -------
    numpy.ndarray
        ``(d,)`` float64.
    """
    if matrix.dtype not in (np.float32, np.float64):
        matrix = matrix.astype(np.float64)
    data = np.ascontiguousarray(matrix)
    weights = np.ascontiguousarray(shares, dtype=np.float64)
    with _LOCK:
        result = _weighted_row_sum()(data, weights)
    return result
