"""Centered clipping.

Karimireddy, He, Jaggi, "Learning from History for Byzantine Robust Optimization",
ICML 2021.

Trust assumption: a minority of Byzantine updates moves the aggregate at most by a
bounded amount per iteration (clip radius times their fraction).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import AggregationError
from ledgerlearn.learning.aggregation._common import Updates, Vector, as_matrix

__all__ = ["centered_clipping"]


def centered_clipping(
    updates: Updates,
    reference: NDArray[np.floating],
    *,
    clip_radius: float | None,
    iterations: int = 1,
) -> Vector:
    """Centered clipping (Karimireddy et al. 2021).

    ``v <- v + mean_i clip(u_i - v, tau)`` repeated ``iterations`` times, starting from
    ``reference`` (the previous round's aggregate or server momentum), where
    ``clip(x, tau) = x * min(1, tau / ||x||)``.

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    reference
        The centre to start from, length ``d``.
    clip_radius
        ``tau > 0``; ``None`` takes, at each iteration, the median distance of the updates
        from the centre (adaptive, so Byzantine updates never pull harder than a typical
        honest one however small honest updates become late in training).
    iterations
        ``L >= 1``.

    Returns
    -------
    numpy.ndarray
        The clipped aggregate.
    """
    matrix = as_matrix(updates).astype(np.float64, copy=False)
    centre = np.asarray(reference, dtype=np.float64).copy()
    if centre.shape != (matrix.shape[1],):
        raise AggregationError(
            f"reference has shape {centre.shape}, updates have d={matrix.shape[1]}"
        )
    if (clip_radius is not None and clip_radius <= 0) or iterations < 1:
        raise AggregationError("centered clipping needs clip_radius > 0 and iterations >= 1")
    for _ in range(iterations):
        deltas = matrix - centre
        norms = np.linalg.norm(deltas, axis=1)
        radius = float(np.median(norms)) if clip_radius is None else clip_radius
        scale = np.minimum(1.0, radius / np.maximum(norms, 1e-30))
        centre = centre + (scale[:, None] * deltas).mean(axis=0)
    return centre
