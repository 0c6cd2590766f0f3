"""The sparse neighbour graph of SecAgg+, derived from public randomness.

Bell, Bonawitz, Gascón, Lepoint, Raykova, "Secure Single-Server Aggregation with
(Poly)Logarithmic Overhead", CCS 2020: instead of every pair of clients sharing masks, each
client shares with its ``k = O(log n)`` neighbours in a random Harary graph — clients placed
on a ring in a random order, each joined to the ``k/2`` nearest on either side. The order
comes from the randomness beacon's output, so no party (least of all the server) picks who
neighbours whom.

Trust assumption: the seed is unpredictable until the participants are fixed (the beacon's
property); then the graph is a uniformly random Harary graph.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

__all__ = ["default_degree", "neighbour_graph"]


def default_degree(n: int) -> int:
    """Return ``k = 2 * ceil(log2 n) + 2`` (even), or ``n - 1`` (everyone) when that is smaller.

    Parameters
    ----------
    n
        Participants.

    Returns
    -------
    int
        Neighbours per client.
    """
    if n <= 1:
        return 0
    k = 2 * math.ceil(math.log2(n)) + 2
    return n - 1 if k >= n - 1 else k


def _shuffled(participants: Sequence[str], seed: bytes) -> list[str]:
    """Fisher-Yates with draws from SHA-256(seed || counter): anyone can recompute it."""
    order = sorted(participants)
    counter = 0
    for i in range(len(order) - 1, 0, -1):
        bound = i + 1
        limit = (1 << 256) - (1 << 256) % bound  # reject to avoid modulo bias
        while True:
            draw = int.from_bytes(hashlib.sha256(seed + counter.to_bytes(8, "big")).digest(), "big")
            counter += 1
            if draw < limit:
                break
        j = draw % bound
        order[i], order[j] = order[j], order[i]
    return order


def neighbour_graph(
    participants: Sequence[str], seed: bytes, degree: int | None = None
) -> dict[str, frozenset[str]]:
    """Return each participant's neighbours in the seeded Harary graph.

    Parameters
    ----------
    participants
        Distinct client ids.
    seed
        Public randomness (the beacon's output for the round).
    degree
        Neighbours per client ``k``; even, or ``n - 1`` for the complete graph.
        Defaults to :func:`default_degree`.

    Returns
    -------
    dict[str, frozenset[str]]
        Symmetric adjacency.

    Raises
    ------
    ValueError
        If ids repeat or the degree does not fit.
    """
    n = len(participants)
    if len(set(participants)) != n:
        raise ValueError("participant ids must be distinct")
    k = default_degree(n) if degree is None else degree
    if not (0 <= k <= n - 1) or (k % 2 and k != n - 1):
        raise ValueError(f"degree {k} must be even and at most {n - 1} (or exactly {n - 1})")
    if k == n - 1:
        return {p: frozenset(q for q in participants if q != p) for p in participants}
    ring = _shuffled(participants, seed)
    half = k // 2
    return {
        ring[i]: frozenset(ring[(i + step) % n] for step in range(-half, half + 1) if step)
        for i in range(n)
    }
