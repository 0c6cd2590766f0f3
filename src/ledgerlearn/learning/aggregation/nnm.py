"""Nearest-neighbour mixing pre-aggregator.

Allouah, Farhadkhani, Guerraoui, Gupta, Pinot, Stephan, "Fixing by Mixing: A Recipe for
Optimal Byzantine ML under Heterogeneity", AISTATS 2023.

Trust assumption: tolerates f Byzantine updates when n >= 2f + 1.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.learning.aggregation._common import (
    Updates,
    as_matrix,
    require_byzantine_bound,
    squared_distances,
)

__all__ = ["nearest_neighbour_mixing"]


def nearest_neighbour_mixing(updates: Updates, num_byzantine: int) -> NDArray[np.float64]:
    """Nearest-neighbour mixing pre-aggregator (Allouah et al. 2023).

    Replaces each update by the mean of its ``n - f`` nearest updates (itself included);
    feed the result to any robust rule.

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    num_byzantine
        ``f``; needs ``n >= 2f + 1``.

    Returns
    -------
    numpy.ndarray
        ``(n, d)`` mixed updates.
    """
    matrix = as_matrix(updates)
    n, f = matrix.shape[0], num_byzantine
    require_byzantine_bound("nearest-neighbour mixing", n, f, 2 * f + 1, "n >= 2f + 1")
    distances = squared_distances(matrix)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, : n - f]
    x = matrix.astype(np.float64, copy=False)
    return np.stack([x[np.sort(row)].mean(axis=0) for row in nearest])
