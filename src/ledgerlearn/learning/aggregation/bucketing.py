"""Bucketing pre-aggregator.

Karimireddy, He, Jaggi, "Byzantine-Robust Learning on Heterogeneous Datasets via
Bucketing", ICLR 2022.

Trust assumption: a Byzantine update spoils at most its own bucket; the bucket order comes
from a seed nobody chooses (the round's beacon output).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import AggregationError
from ledgerlearn.learning.aggregation._common import Updates, as_matrix

__all__ = ["bucketing"]


def bucketing(updates: Updates, bucket_size: int, seed: int) -> NDArray[np.float64]:
    """Bucketing pre-aggregator (Karimireddy et al. 2022).

    Shuffles the updates with a seeded permutation, splits them into buckets of
    ``bucket_size`` and returns each bucket's mean; feed the result to any robust rule (with
    its ``f`` scaled to the number of buckets a Byzantine client can spoil, at most ``f``).

    Parameters
    ----------
    updates
        ``(n, d)`` updates.
    bucket_size
        ``s >= 1``.
    seed
        Permutation seed (from the round's beacon output, so nobody chooses buckets).

    Returns
    -------
    numpy.ndarray
        ``(ceil(n / s), d)`` bucket means.
    """
    matrix = as_matrix(updates)
    if bucket_size < 1:
        raise AggregationError("bucket_size must be >= 1")
    order = np.random.default_rng(seed).permutation(matrix.shape[0])
    shuffled = matrix[order].astype(np.float64)
    return np.stack(
        [shuffled[i : i + bucket_size].mean(axis=0) for i in range(0, len(order), bucket_size)]
    )
