"""Strategy: how a server (or committee member) turns a round's updates into one update.

A strategy is a thin, possibly stateful wrapper around a pure aggregation function: it
receives validated updates in canonical order, the verified sample counts and the round's
seed, and returns the aggregate update as float32. Pre-aggregators (bucketing,
nearest-neighbour mixing) wrap another strategy, as Flower wraps strategies with
differential privacy.

Trust assumption: as the wrapped rule's; ``num_byzantine`` is the task's setting.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Strategy"]


class Strategy(ABC):
    """Aggregate one round of updates.

    Subclasses implement :meth:`_aggregate`; :meth:`aggregate` fixes the dtype contract.
    """

    name: str = "strategy"
    score_updates: bool = True
    """Whether callers may score each update against the aggregate (not under DP)."""
    min_inputs: int = 1
    """The fewest updates an aggregate may be released of."""

    def aggregate(
        self,
        updates: NDArray[np.floating],
        counts: Sequence[int] | None = None,
        *,
        seed: int = 0,
    ) -> NDArray[np.float32]:
        """Aggregate ``(n, d)`` updates into one float32 update.

        Parameters
        ----------
        updates
            Validated updates, rows in canonical client order.
        counts
            Sample counts the caller verified (used by FedAvg).
        seed
            The round's public seed (used by randomised pre-aggregators).

        Returns
        -------
        numpy.ndarray
            ``(d,)`` float32.
        """
        return np.asarray(self._aggregate(updates, counts, seed), dtype=np.float64).astype(
            np.float32
        )

    @abstractmethod
    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> NDArray[np.float64]:
        """Return the float64 aggregate."""

    def state(self) -> dict[str, NDArray[np.float64]]:
        """Return the strategy's state across rounds (empty for stateless rules), for checkpoints.

        Returns
        -------
        dict[str, numpy.ndarray]
            Named float64 arrays.
        """
        return {}

    def load_state(self, state: dict[str, NDArray[np.float64]]) -> None:
        """Restore what :meth:`state` returned.

        Parameters
        ----------
        state
            Named arrays.
        """
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got {sorted(state)}")

    def record(self, inputs: int) -> dict[str, Any]:
        """Return what a round record says about this strategy's guarantees (e.g. privacy).

        Parameters
        ----------
        inputs
            How many updates the aggregate is of.

        Returns
        -------
        dict
            Empty for plain strategies.
        """
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
