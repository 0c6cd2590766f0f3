"""FedAvg: the sample-weighted average of updates.

McMahan, Moore, Ramage, Hampson, Agüera y Arcas, "Communication-Efficient Learning of Deep
Networks from Decentralized Data", AISTATS 2017.

Trust assumption: no Byzantine tolerance at all; the counts come from the caller, who
verified them (e.g. against a committed data manifest), never from what a client claims.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import AggregationError
from ledgerlearn.learning.aggregation._common import Updates, Vector, as_matrix, weighted_row_sum

__all__ = ["fedavg"]


def fedavg(updates: Updates, counts: Sequence[int] | NDArray[np.integer]) -> Vector:
    """Average weighted by verified sample counts (FedAvg).

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    counts
        Positive sample counts the caller verified (e.g. from a committed data manifest).

    Returns
    -------
    numpy.ndarray
        ``sum(c_i * u_i) / sum(c_i)``.

    Raises
    ------
    AggregationError
        If counts do not match the updates or are not positive.
    """
    matrix = as_matrix(updates)
    weights = np.asarray(counts, dtype=np.float64)
    if weights.shape != (matrix.shape[0],) or np.any(weights <= 0):
        raise AggregationError(
            f"fedavg needs {matrix.shape[0]} positive counts, got {list(counts)}"
        )
    return weighted_row_sum(matrix, weights / weights.sum())
