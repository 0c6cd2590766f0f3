"""Bulyan over Krum.

El Mhamdi, Guerraoui, Rouault, "The Hidden Vulnerability of Distributed Learning in
Byzantium", ICML 2018.

Trust assumption: tolerates f Byzantine updates when n >= 4f + 3.
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
    squared_distances,
)

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
    chosen = matrix[np.sort(selected)]
    low_k, high_k = (theta - 1) // 2, theta // 2

    def reduce(block: NDArray[np.floating]) -> NDArray[np.float64]:
        # Median and distances in the updates' own precision (as Flower computes them), so
        # both pick the same beta values; only the final mean is accumulated in float64.
        # Once a coordinate's theta values are sorted, its beta values closest to the median
        # are a window of consecutive values: the window starts at the number of positions
        # s where the value after the window, x[s + beta], is closer to the median than
        # x[s] (a condition that holds for a prefix of s). Ties keep the lower values.
        block.sort(axis=1)
        median = (block[:, low_k] + block[:, high_k]) / block.dtype.type(2)
        slack = theta - beta
        if slack:
            right = block[:, beta:] - median[:, None]
            left = median[:, None] - block[:, :slack]
            start = np.count_nonzero(right < left, axis=1)
        else:
            start = np.zeros(block.shape[0], dtype=np.intp)
        window = np.take_along_axis(block, start[:, None] + np.arange(beta), axis=1)
        return np.add.reduce(window, axis=1, dtype=np.float64) / beta

    return map_column_blocks(chosen, reduce)
