"""Coordinate-wise trimmed mean.

Yin, Chen, Ramchandran, Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal
Statistical Rates", ICML 2018.

Trust assumption: tolerates f Byzantine updates when n >= 2f + 1.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.learning.aggregation._common import (
    Updates,
    Vector,
    as_matrix,
    map_column_blocks,
    require_byzantine_bound,
)

__all__ = ["trimmed_mean"]


def trimmed_mean(updates: Updates, num_byzantine: int) -> Vector:
    """Coordinate-wise trimmed mean (Yin et al. 2018): drop the f largest and f smallest.

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    num_byzantine
        ``f``; needs ``n >= 2f + 1``.

    Returns
    -------
    numpy.ndarray
        Mean of the middle ``n - 2f`` values per coordinate.
    """
    matrix = as_matrix(updates)
    n, f = matrix.shape[0], num_byzantine
    require_byzantine_bound("trimmed mean", n, f, 2 * f + 1, "n >= 2f + 1")

    def reduce(block: NDArray[np.floating]) -> NDArray[np.float64]:
        if f:
            block.sort(axis=1)  # SIMD sort of each coordinate's n values: faster than two selects
        middle = block[:, f : n - f]
        return np.add.reduce(middle, axis=1, dtype=np.float64) / (n - 2 * f)

    return map_column_blocks(matrix, reduce)
