"""Coordinate-wise median.

Yin, Chen, Ramchandran, Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal
Statistical Rates", ICML 2018.

Trust assumption: tolerates f < n/2 Byzantine updates per coordinate.
"""

from __future__ import annotations

import numpy as np

from ledgerlearn.learning.aggregation._common import (
    Updates,
    Vector,
    as_matrix,
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
    ordered = np.partition(matrix, [(n - 1) // 2, n // 2], axis=0)
    low = ordered[(n - 1) // 2].astype(np.float64)
    if n % 2:
        return low
    return (low + ordered[n // 2].astype(np.float64)) / 2.0
