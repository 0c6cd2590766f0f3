from __future__ import annotations

from collections import Counter

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlearn.exceptions import SelectionError
from ledgerlearn.randomness import select, select_indices

weights_strategy = st.lists(st.integers(min_value=0, max_value=10**24), min_size=1, max_size=25)


@given(seed=st.binary(min_size=32, max_size=32), weights=weights_strategy, data=st.data())
@settings(max_examples=100, deadline=None)
def test_selection_invariants(seed: bytes, weights: list[int], data: st.DataObject) -> None:
    eligible = sum(1 for w in weights if w > 0)
    k = data.draw(st.integers(min_value=0, max_value=eligible))
    chosen = select_indices(seed, weights, k)
    assert len(chosen) == len(set(chosen)) == k
    assert all(weights[i] > 0 for i in chosen)
    assert select_indices(seed, weights, k) == chosen
    assert chosen == select_indices(seed, weights, eligible)[:k]  # prefixes are stable


def test_first_draw_is_proportional_to_weight() -> None:
    weights = [1, 2, 3, 4]
    counts = Counter(
        select_indices(keccak(i.to_bytes(8, "big")), weights, 1)[0] for i in range(4000)
    )
    for index, weight in enumerate(weights):
        assert abs(counts[index] / 4000 - weight / 10) < 0.03


def test_select_maps_candidates() -> None:
    seed = keccak(b"x")
    assert sorted(select(seed, ["a", "b", "c"], [1, 1, 1], 3)) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("seed", "weights", "k", "fragment"),
    [
        (b"\x00" * 32, [1, 0, 2], 3, "only 2"),
        (b"\x00" * 31, [1], 1, "32 bytes"),
        (b"\x00" * 32, [1, -1], 1, "non-negative"),
    ],
)
def test_impossible_selections_raise(
    seed: bytes, weights: list[int], k: int, fragment: str
) -> None:
    with pytest.raises(SelectionError, match=fragment):
        select_indices(seed, weights, k)


def test_candidates_and_weights_must_align() -> None:
    with pytest.raises(SelectionError, match="2 candidates but 1 weights"):
        select(b"\x00" * 32, ["a", "b"], [1], 1)
