"""The compiled aggregation kernels compute exactly what the serial NumPy loop computes."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from ledgerlearn.exceptions import AggregationError
from ledgerlearn.learning.aggregation import fedavg
from ledgerlearn.learning.aggregation._kernels import weighted_row_sum_kernel


def _serial(matrix: np.ndarray, shares: np.ndarray) -> np.ndarray:
    total = np.zeros(matrix.shape[1])
    for row, share in zip(matrix, shares, strict=True):
        if share:
            total += row.astype(np.float64) * share
    return total


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 2047, 2048, 2049, 70_001])
def test_weighted_row_sum_is_the_serial_loop_bit_for_bit(dtype: type, d: int) -> None:
    rng = np.random.default_rng(d)
    matrix = (rng.normal(size=(13, d)) * rng.uniform(1e-3, 1e3, size=(13, 1))).astype(dtype)
    shares = rng.dirichlet(np.ones(13))
    shares[4] = 0.0  # a zero share skips its row
    assert np.array_equal(weighted_row_sum_kernel(matrix, shares), _serial(matrix, shares))


def test_weighted_row_sum_does_not_depend_on_the_thread_count() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.normal(size=(20, 50_000)).astype(np.float32)
    shares = rng.dirichlet(np.ones(20))
    results = []
    for threads in range(1, numba.config.NUMBA_NUM_THREADS + 1):
        numba.set_num_threads(threads)
        try:
            results.append(weighted_row_sum_kernel(matrix, shares))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert all(np.array_equal(results[0], other) for other in results)


def test_fedavg_accepts_strided_rows_and_refuses_integers() -> None:
    rng = np.random.default_rng(3)
    wide = rng.normal(size=(6, 40)).astype(np.float32)
    view = wide[:, ::2]  # strided rows
    counts = [5, 1, 2, 8, 3, 4]
    expected = _serial(np.ascontiguousarray(view), np.array(counts) / sum(counts))
    assert np.array_equal(fedavg(view, counts), expected)
    with pytest.raises(AggregationError, match="floating point"):
        fedavg(np.arange(12).reshape(3, 4), [1, 1, 2])
