"""Weighted selection: k distinct members with probability proportional to weight.

The Python twin of ``contracts/randomness/WeightedSelection.sol``; both return the same
indices bit for bit (a property test compares them on random inputs). Draw ``j`` takes
``r = keccak256(abi.encode(seed, j)) mod W`` with ``W`` the weight not yet drawn, then walks
the remaining weights in index order.

Bias bound: each draw picks candidate ``i`` with probability ``w_i / W`` up to ``W / 2^256``
(the modulo bias of a 256-bit hash) — exact for any realistic stake total. Successive draws
are proportional among the members not yet drawn (Plackett-Luce order), so with unequal
weights a member's overall inclusion probability is not exactly ``k * w_i / W``.

Trust assumption: the seed is unbiasable (a verified beacon output); given it, anyone
recomputes the selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from eth_abi import encode
from eth_utils import keccak

from ledgerlearn.exceptions import SelectionError

__all__ = ["SelectionError", "select", "select_indices"]

T = TypeVar("T")


def select_indices(seed: bytes, weights: Sequence[int], k: int) -> list[int]:
    """Return ``k`` distinct indices of ``weights`` in draw order.

    Parameters
    ----------
    seed
        32 bytes of randomness (a beacon output).
    weights
        Non-negative integer weights (stakes); zero never gets picked.
    k
        How many to pick.

    Returns
    -------
    list[int]
        Indices into ``weights``.

    Raises
    ------
    SelectionError
        If fewer than ``k`` weights are positive, a weight is negative, or the seed is not
        32 bytes.
    """
    if len(seed) != 32:
        raise SelectionError(f"the seed must be 32 bytes, got {len(seed)}")
    if any(weight < 0 for weight in weights):
        raise SelectionError("weights must be non-negative")
    if k < 0:
        raise SelectionError("k must be non-negative")
    remaining = list(weights)
    total = sum(remaining)
    eligible = sum(1 for weight in remaining if weight > 0)
    if k > eligible:
        raise SelectionError(f"asked for {k} members but only {eligible} have positive weight")
    chosen: list[int] = []
    for draw in range(k):
        r = int.from_bytes(keccak(encode(["bytes32", "uint256"], [seed, draw])), "big") % total
        cumulative = 0
        for index, weight in enumerate(remaining):
            if weight == 0:
                continue
            cumulative += weight
            if r < cumulative:
                chosen.append(index)
                total -= weight
                remaining[index] = 0
                break
    return chosen


def select(seed: bytes, candidates: Sequence[T], weights: Sequence[int], k: int) -> list[T]:
    """Pick ``k`` distinct candidates with probability proportional to their weights.

    Parameters
    ----------
    seed
        32 bytes of randomness.
    candidates
        The members, e.g. addresses.
    weights
        Their weights, in the same order.
    k
        How many to pick.

    Returns
    -------
    list[T]
        The chosen candidates in draw order.

    Raises
    ------
    SelectionError
        As :func:`select_indices`, or if the two sequences differ in length.
    """
    if len(candidates) != len(weights):
        raise SelectionError(f"{len(candidates)} candidates but {len(weights)} weights")
    return [candidates[i] for i in select_indices(seed, weights, k)]
