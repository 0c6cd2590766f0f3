from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ledgerlearn.exceptions import AggregationError, ByzantineBoundError
from ledgerlearn.learning import aggregation as agg
from ledgerlearn.learning.strategy import make_strategy

finite = st.floats(-100, 100, allow_nan=False, width=32)


def stacks(min_n: int = 1, max_n: int = 12) -> st.SearchStrategy[np.ndarray]:
    return st.tuples(st.integers(min_n, max_n), st.integers(1, 6)).flatmap(
        lambda shape: arrays(np.float32, shape, elements=finite)
    )


@given(stacks(min_n=5))
@settings(max_examples=60, deadline=None)
def test_krum_output_is_one_of_its_inputs(updates: np.ndarray) -> None:
    f = (len(updates) - 3) // 2
    result = agg.krum(updates, f)
    assert any(np.array_equal(result, row.astype(np.float64)) for row in updates)


@given(stacks())
@settings(max_examples=60, deadline=None)
def test_median_and_trimmed_mean_stay_within_coordinate_range(updates: np.ndarray) -> None:
    low, high = updates.min(axis=0), updates.max(axis=0)
    for result in (
        agg.coordinate_median(updates),
        agg.trimmed_mean(updates, (len(updates) - 1) // 2),
    ):
        assert np.all(result >= low - 1e-9) and np.all(result <= high + 1e-9)


@given(stacks(min_n=2), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_rules_are_permutation_invariant_where_the_paper_says_so(
    updates: np.ndarray, seed: int
) -> None:
    shuffled = updates[np.random.default_rng(seed).permutation(len(updates))]
    np.testing.assert_allclose(agg.coordinate_median(updates), agg.coordinate_median(shuffled))
    np.testing.assert_allclose(
        agg.fedavg(updates, [1] * len(updates)), agg.fedavg(shuffled, [1] * len(updates)), atol=1e-9
    )


@given(stacks(min_n=1))
@settings(max_examples=40, deadline=None)
def test_identical_updates_aggregate_to_themselves(updates: np.ndarray) -> None:
    same = np.repeat(updates[:1], max(len(updates), 7), axis=0)
    expected = same[0].astype(np.float64)
    for rule in (
        "fedavg",
        "median",
        "trimmed_mean",
        "krum",
        "multi_krum",
        "bulyan",
        "geometric_median",
        "nnm+median",
        "bucketing:2+median",
    ):
        result = make_strategy(rule, 1).aggregate(same, [3] * len(same), seed=1)
        np.testing.assert_allclose(result, expected.astype(np.float32), rtol=1e-5, atol=1e-5)


def test_rules_are_deterministic_bit_for_bit() -> None:
    updates = np.random.default_rng(0).normal(size=(15, 50)).astype(np.float32)
    for rule in (
        "fedavg",
        "median",
        "trimmed_mean",
        "krum",
        "multi_krum",
        "bulyan",
        "geometric_median",
        "centered_clipping:0.5",
        "nnm+krum",
        "bucketing:3+median",
    ):
        first = make_strategy(rule, 3).aggregate(updates, list(range(1, 16)), seed=9)
        second = make_strategy(rule, 3).aggregate(updates.copy(), list(range(1, 16)), seed=9)
        assert first.dtype == np.float32 and first.tobytes() == second.tobytes(), rule


def test_robust_rules_resist_a_minority_of_outliers() -> None:
    rng = np.random.default_rng(1)
    honest = rng.normal(1.0, 0.1, size=(16, 20))
    updates = np.vstack([honest, np.full((4, 20), 1e6)]).astype(np.float32)
    for rule in (
        "median",
        "trimmed_mean",
        "krum",
        "multi_krum",
        "bulyan",
        "geometric_median",
        "nnm+median",
    ):
        result = make_strategy(rule, 4).aggregate(updates)
        assert np.all(np.abs(result - 1.0) < 0.5), rule
    assert np.all(make_strategy("fedavg", 0).aggregate(updates) > 1e4)  # fedavg is not robust


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda u: agg.krum(u, 3), "n >= 2f \\+ 3"),
        (lambda u: agg.bulyan(u, 1), "n >= 4f \\+ 3"),
        (lambda u: agg.trimmed_mean(u, 3), "n >= 2f \\+ 1"),
        (lambda u: agg.nearest_neighbour_mixing(u, 3), "n >= 2f \\+ 1"),
        (lambda u: agg.krum(u, -1), ">= 0"),
    ],
)
def test_byzantine_bounds_raise_named_errors(call: object, fragment: str) -> None:
    updates = np.zeros((5, 3), dtype=np.float32)
    with pytest.raises(ByzantineBoundError, match=fragment):
        call(updates)  # type: ignore[operator]


def test_fedavg_uses_verified_counts_and_rejects_bad_ones() -> None:
    updates = np.array([[0.0], [10.0]], dtype=np.float32)
    assert agg.fedavg(updates, [3, 1])[0] == pytest.approx(2.5)
    with pytest.raises(AggregationError, match="positive counts"):
        agg.fedavg(updates, [1, 0])
    with pytest.raises(AggregationError, match="non-empty"):
        agg.fedavg(np.zeros((0, 3), dtype=np.float32), [])


def test_geometric_median_beats_mean_under_outliers() -> None:
    updates = np.vstack([np.zeros((7, 2)), np.full((3, 2), 100.0)])
    assert np.linalg.norm(agg.geometric_median(updates)) < 1.0


def test_centered_clipping_moves_at_most_the_radius_per_iteration() -> None:
    updates = np.full((4, 3), 50.0)
    result = agg.centered_clipping(updates, np.zeros(3), clip_radius=1.0, iterations=2)
    assert np.linalg.norm(result) == pytest.approx(2.0)


def test_bucketing_is_seeded_and_preserves_the_mean() -> None:
    updates = np.arange(12, dtype=np.float32).reshape(6, 2)
    first, second = agg.bucketing(updates, 2, 7), agg.bucketing(updates, 2, 7)
    assert first.shape == (3, 2) and np.array_equal(first, second)
    np.testing.assert_allclose(first.mean(axis=0), updates.mean(axis=0))


def test_unknown_rule_spec_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        make_strategy("magic", 0)
    with pytest.raises(ValueError, match="pre-aggregator"):
        make_strategy("shuffle+median", 0)


def test_blocked_column_rules_match_numpy_references_across_blocks() -> None:
    rng = np.random.default_rng(5)
    updates = rng.normal(size=(9, agg.COLUMN_BLOCK + 123)).astype(np.float32)
    np.testing.assert_allclose(
        agg.coordinate_median(updates), np.median(updates.astype(np.float64), axis=0)
    )
    np.testing.assert_allclose(
        agg.coordinate_median(updates[:8]), np.median(updates[:8].astype(np.float64), axis=0)
    )
    expected = np.sort(updates.astype(np.float64), axis=0)[2:7].mean(axis=0)
    np.testing.assert_allclose(agg.trimmed_mean(updates, 2), expected, rtol=1e-12, atol=1e-12)
    weights = rng.integers(1, 50, size=9)
    np.testing.assert_allclose(
        agg.fedavg(updates, weights), weights @ updates.astype(np.float64) / weights.sum()
    )


def test_adaptive_centered_clipping_uses_the_median_distance() -> None:
    honest = np.full((4, 2), 1.0)
    outlier = np.full((1, 2), 1000.0)
    result = agg.centered_clipping(
        np.vstack([honest, outlier]), np.zeros(2), clip_radius=None, iterations=1
    )
    # every update is clipped to the median distance sqrt(2): the outlier counts as an honest one
    np.testing.assert_allclose(result, np.full(2, 1.0))
    assert make_strategy("centered_clipping:auto", 0).aggregate(
        np.vstack([honest, outlier])
    ).shape == (2,)
