"""Coordinate-wise trimmed mean.

Yin, Chen, Ramchandran, Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal
Statistical Rates", ICML 2018.

Trust assumption: tolerates f Byzantine updates when n >= 2f + 1.
"""

from __future__ import annotations

import numpy as np

from ledgerlearn.learning.aggregation._common import (
    Updates,
    Vector,
    as_matrix,
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
    if f == 0:
        return matrix.astype(np.float64).mean(axis=0)
    ordered = np.sort(matrix, axis=0)
    return ordered[f : n - f].astype(np.float64).mean(axis=0)
