"""Krum and Multi-Krum.

Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine Learning with Adversaries: Byzantine
Tolerant Gradient Descent", NeurIPS 2017.

Trust assumption: tolerates f Byzantine updates when n >= 2f + 3.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import AggregationError
from ledgerlearn.learning.aggregation._common import (
    Updates,
    Vector,
    as_matrix,
    require_byzantine_bound,
    squared_distances,
    weighted_row_sum,
)

__all__ = ["krum", "krum_scores", "multi_krum"]


def krum_scores(updates: Updates, num_byzantine: int) -> NDArray[np.float64]:
    """Krum score of each update: the sum of its n - f - 2 smallest squared distances.

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    num_byzantine
        ``f``; needs ``n >= 2f + 3``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` scores; lower is more central.
    """
    matrix = as_matrix(updates)
    n, f = matrix.shape[0], num_byzantine
    require_byzantine_bound("krum", n, f, 2 * f + 3, "n >= 2f + 3")
    distances = squared_distances(matrix)
    neighbours = n - f - 2
    closest = np.sort(distances, axis=1)[:, 1 : neighbours + 1]  # column 0 is the self-distance
    return closest.sum(axis=1)


def krum(updates: Updates, num_byzantine: int) -> Vector:
    """Krum (Blanchard et al. 2017): the update with the lowest Krum score.

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    num_byzantine
        ``f``; needs ``n >= 2f + 3``.

    Returns
    -------
    numpy.ndarray
        One of the inputs (ties go to the lowest index).
    """
    matrix = as_matrix(updates)
    scores = krum_scores(matrix, num_byzantine)
    return matrix[int(np.argmin(scores))].astype(np.float64)


def multi_krum(updates: Updates, num_byzantine: int, num_selected: int) -> Vector:
    """Multi-Krum: the mean of the ``m`` updates with the lowest Krum scores.

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    num_byzantine
        ``f``; needs ``n >= 2f + 3``.
    num_selected
        ``m`` in ``[1, n - f]``.

    Returns
    -------
    numpy.ndarray
        The mean of the selected updates.
    """
    matrix = as_matrix(updates)
    n = matrix.shape[0]
    if not 1 <= num_selected <= n - num_byzantine:
        raise AggregationError(
            f"multi-krum selects m in [1, n - f] = [1, {n - num_byzantine}], got {num_selected}"
        )
    scores = krum_scores(matrix, num_byzantine)
    chosen = np.argsort(scores, kind="stable")[:num_selected]
    shares = np.zeros(n)
    shares[chosen] = 1.0 / num_selected
    return weighted_row_sum(matrix, shares)
