"""Bulyan over Krum.

El Mhamdi, Guerraoui, Rouault, "The Hidden Vulnerability of Distributed Learning in
Byzantium", ICML 2018.

Trust assumption: tolerates f Byzantine updates when n >= 4f + 3.
"""

from __future__ import annotations

import numpy as np

from ledgerlearn.learning.aggregation._common import (
    Updates,
    Vector,
    as_matrix,
    require_byzantine_bound,
    squared_distances,
)
from ledgerlearn.learning.aggregation.median import coordinate_median

__all__ = ["bulyan"]


def bulyan(updates: Updates, num_byzantine: int) -> Vector:
    """Bulyan (El Mhamdi et al. 2018) over Krum.

    Selects ``theta = n - 2f`` updates by repeatedly taking the Krum winner of those left,
    then averages, per coordinate, the ``beta = theta - 2f`` selected values closest to the
    coordinate's median.

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    num_byzantine
        ``f``; needs ``n >= 4f + 3``.

    Returns
    -------
    numpy.ndarray
        The Bulyan aggregate.
    """
    matrix = as_matrix(updates)
    n, f = matrix.shape[0], num_byzantine
    require_byzantine_bound("bulyan", n, f, 4 * f + 3, "n >= 4f + 3")
    theta = n - 2 * f
    beta = theta - 2 * f
    distances = squared_distances(matrix)
    remaining = list(range(n))
    selected: list[int] = []
    while len(selected) < theta:
        m = len(remaining)
        sub = distances[np.ix_(remaining, remaining)]
        neighbours = max(m - f - 2, 1)
        scores = np.sort(sub, axis=1)[:, 1 : neighbours + 1].sum(axis=1)
        winner = remaining[int(np.argmin(scores))]
        selected.append(winner)
        remaining.remove(winner)
    chosen = matrix[np.sort(selected)].astype(np.float64)
    median = coordinate_median(chosen)
    order = np.argsort(np.abs(chosen - median), axis=0, kind="stable")[:beta]
    return np.take_along_axis(chosen, order, axis=0).mean(axis=0)
