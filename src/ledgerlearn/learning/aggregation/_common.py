"""Shared checks for aggregation rules: stacking, shapes and Byzantine bounds.

Every rule takes ``updates`` as an ``(n, d)`` array, one row per client in the canonical
order the caller fixed (ledgerlearn orders by client address), accumulates in float64 and
returns a float64 vector of length ``d``. Rules that tolerate at most ``f`` Byzantine
inputs check their bound and raise :class:`ByzantineBoundError` when it does not hold.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import AggregationError, ByzantineBoundError
from ledgerlearn.learning.aggregation._kernels import weighted_row_sum_kernel

__all__ = [
    "COLUMN_BLOCK",
    "AggregationError",
    "ByzantineBoundError",
    "as_matrix",
    "column_blocks",
    "map_column_blocks",
    "weighted_row_sum",
    "require_byzantine_bound",
    "squared_distances",
]

Matrix = NDArray[np.floating]
Vector = NDArray[np.float64]
Updates = NDArray[np.floating] | Sequence[NDArray[np.floating]]


def as_matrix(updates: NDArray[np.floating] | Sequence[NDArray[np.floating]]) -> Matrix:
    """Stack updates into a 2-D array without copying when already stacked.

    Parameters
    ----------
    updates
        An ``(n, d)`` array or a sequence of ``n`` vectors of length ``d``.

    Returns
    -------
    numpy.ndarray
        The ``(n, d)`` matrix.

    Raises
    ------
    AggregationError
        If there are no updates, shapes differ, or a value is not finite.
    """
    matrix = (
        updates if isinstance(updates, np.ndarray) else np.stack([np.ravel(u) for u in updates])
    )
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise AggregationError(
            f"expected a non-empty (n, d) stack of updates, got shape {matrix.shape}"
        )
    if not np.issubdtype(matrix.dtype, np.floating):
        raise AggregationError(f"updates must be floating point, got {matrix.dtype}")
    return matrix


def require_byzantine_bound(rule: str, n: int, f: int, minimum_n: int, formula: str) -> None:
    """Raise unless ``n >= minimum_n`` for ``f`` Byzantine inputs.

    Parameters
    ----------
    rule
        The rule's name, for the message.
    n
        Number of updates.
    f
        Number of Byzantine updates to tolerate.
    minimum_n
        The smallest ``n`` the rule needs for ``f``.
    formula
        The bound as text, e.g. ``"n >= 2f + 3"``.

    Raises
    ------
    ByzantineBoundError
        If ``f`` is negative or ``n < minimum_n``.
    """
    if f < 0:
        raise ByzantineBoundError(f"{rule}: the number of Byzantine clients must be >= 0, got {f}")
    if n < minimum_n:
        raise ByzantineBoundError(
            f"{rule} needs {formula} to tolerate f={f} Byzantine updates, but n={n}; "
            f"lower f to at most {max_f_hint(rule, n)} or gather more updates"
        )


def max_f_hint(rule: str, n: int) -> int:
    """Return the largest ``f`` the rule tolerates for ``n`` updates (for messages)."""
    bounds = {
        "krum": (n - 3) // 2,
        "multi-krum": (n - 3) // 2,
        "bulyan": (n - 3) // 4,
        "trimmed mean": (n - 1) // 2,
        "nearest-neighbour mixing": (n - 1) // 2,
    }
    return max(0, bounds.get(rule, n - 1))


COLUMN_BLOCK = 1 << 15
"""Columns per block in column-wise rules: a block of n rows x 32,768 float32 values stays in
cache once transposed, so per-coordinate selection runs on contiguous memory."""


def column_blocks(matrix: Matrix) -> Iterator[tuple[slice, NDArray[np.floating]]]:
    """Yield ``(columns, block)`` with ``block`` the columns transposed and contiguous.

    Parameters
    ----------
    matrix
        ``(n, d)`` updates.

    Yields
    ------
    tuple[slice, numpy.ndarray]
        The column slice and a ``(width, n)`` C-contiguous copy.
    """
    d = matrix.shape[1]
    for start in range(0, d, COLUMN_BLOCK):
        columns = slice(start, min(start + COLUMN_BLOCK, d))
        yield columns, np.ascontiguousarray(matrix[:, columns].T)


def map_column_blocks(
    matrix: Matrix, reduce: Callable[[NDArray[np.floating]], NDArray[np.float64]]
) -> NDArray[np.float64]:
    """Apply a per-coordinate reduction to column blocks on all cores, in a fixed layout.

    Each block's result lands in its own slice, so the output does not depend on thread
    scheduling: the result is bit-for-bit the same as a serial loop.

    Parameters
    ----------
    matrix
        ``(n, d)`` updates.
    reduce
        Maps a ``(width, n)`` contiguous block to ``(width,)`` float64 values.

    Returns
    -------
    numpy.ndarray
        ``(d,)`` float64.
    """
    result = np.empty(matrix.shape[1], dtype=np.float64)

    def work(item: tuple[slice, NDArray[np.floating]]) -> None:
        columns, block = item
        result[columns] = reduce(block)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for _ in pool.map(work, column_blocks(matrix)):
            pass
    return result


def weighted_row_sum(matrix: Matrix, shares: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return ``sum_i shares[i] * matrix[i]`` accumulated in float64, rows in order.

    A compiled kernel (:mod:`._kernels`) splits the columns between cores; within a column
    rows are added in index order, so the result is bit-for-bit independent of threading
    and of the CPU, and needs no float64 copy of the input.

    Parameters
    ----------
    matrix
        ``(n, d)`` updates.
    shares
        ``(n,)`` weights.

    Returns
    -------
    numpy.ndarray
        ``(d,)`` float64.
    """
    return weighted_row_sum_kernel(matrix, np.asarray(shares, dtype=np.float64))


def squared_distances(matrix: Matrix) -> NDArray[np.float64]:
    """Pairwise squared Euclidean distances via the Gram matrix.

    Products are taken in float64 per block of 32,768 columns (float32 inputs multiply
    exactly in float64), which keeps memory flat: no float64 copy of the whole stack.
    Near-ties between Krum scores are decided as an exact computation would decide them.

    Parameters
    ----------
    matrix
        ``(n, d)`` updates.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` symmetric, zero diagonal, non-negative.
    """
    n = matrix.shape[0]
    gram = np.zeros((n, n), dtype=np.float64)
    for start in range(0, matrix.shape[1], COLUMN_BLOCK):
        block = matrix[:, start : start + COLUMN_BLOCK].astype(np.float64)
        gram += block @ block.T
    norms = np.diag(gram).copy()
    distances = norms[:, None] + norms[None, :] - 2.0 * gram
    np.maximum(distances, 0.0, out=distances)
    np.fill_diagonal(distances, 0.0)
    return distances
