"""Coordinate-wise median.

Yin, Chen, Ramchandran, Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal
Statistical Rates", ICML 2018.

Trust assumption: tolerates f < n/2 Byzantine updates per coordinate.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.learning.aggregation._common import (
    Updates,
    Vector,
    as_matrix,
    map_column_blocks,
)

__all__ = ["coordinate_median"]


def coordinate_median(updates: Updates) -> Vector:
    """Coordinate-wise median (Yin et al. 2018); tolerates f < n/2.

    Parameters
    ----------
    updates
        ``(n, d)`` updates.

    Returns
    -------
    numpy.ndarray
        Per-coordinate median (mean of the two middle values for even ``n``).
    """
    matrix = as_matrix(updates)
    n = matrix.shape[0]
    low_k, high_k = (n - 1) // 2, n // 2

    def reduce(block: NDArray[np.floating]) -> NDArray[np.float64]:
        block.sort(axis=1)  # SIMD sort of each coordinate's n values: faster than two selects
        low = block[:, low_k].astype(np.float64)
        return low if n % 2 else (low + block[:, high_k]) / 2.0

    return map_column_blocks(matrix, reduce)
