"""Geometric median by the smoothed Weiszfeld algorithm (RFA).

Pillutla, Kakade, Harchaoui, "Robust Aggregation for Federated Learning", IEEE Transactions
on Signal Processing 2022.

Trust assumption: breakdown point 1/2 (tolerates f < n/2 Byzantine updates).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ledgerlearn.exceptions import AggregationError
from ledgerlearn.learning.aggregation._common import Updates, Vector, as_matrix

__all__ = ["geometric_median"]


def geometric_median(
    updates: Updates,
    weights: Sequence[float] | None = None,
    *,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
    smoothing: float = 1e-6,
) -> Vector:
    """Geometric median by the smoothed Weiszfeld algorithm (RFA, Pillutla et al. 2022).

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    weights
        Non-negative weights (uniform by default).
    max_iterations
        Iteration cap.
    tolerance
        Stop when the objective improves by less than this relative amount.
    smoothing
        ``nu``: distances are floored at it so no update gets infinite weight.

    Returns
    -------
    numpy.ndarray
        An approximate minimiser of ``sum w_i ||z - u_i||``; tolerates f < n/2.
    """
    matrix = as_matrix(updates).astype(np.float64, copy=False)
    n = matrix.shape[0]
    alphas = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if alphas.shape != (n,) or np.any(alphas < 0) or alphas.sum() == 0:
        raise AggregationError("geometric median needs n non-negative weights, not all zero")
    alphas = alphas / alphas.sum()
    median = alphas @ matrix
    objective = float(alphas @ np.linalg.norm(matrix - median, axis=1))
    for _ in range(max_iterations):
        distances = np.maximum(np.linalg.norm(matrix - median, axis=1), smoothing)
        betas = alphas / distances
        median = (betas / betas.sum()) @ matrix
        previous, objective = objective, float(alphas @ np.linalg.norm(matrix - median, axis=1))
        if abs(previous - objective) <= tolerance * max(objective, 1e-30):
            break
    return median
