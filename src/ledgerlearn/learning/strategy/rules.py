"""Strategies for each aggregation rule: thin wrappers over :mod:`..aggregation`.

Each class cites its rule's paper through the function it calls; see
:mod:`ledgerlearn.learning.aggregation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.learning import aggregation as agg
from ledgerlearn.learning.strategy._base import Strategy

__all__ = [
    "Bucketing",
    "Bulyan",
    "CenteredClipping",
    "FedAvg",
    "GeometricMedian",
    "Krum",
    "Median",
    "MultiKrum",
    "NearestNeighbourMixing",
    "TrimmedMean",
]

F64 = NDArray[np.float64]


class FedAvg(Strategy):
    """Sample-weighted mean (McMahan et al. 2017); uniform when no counts are given."""

    name = "fedavg"

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        return agg.fedavg(updates, counts if counts is not None else [1] * len(updates))


class Median(Strategy):
    """Coordinate-wise median (Yin et al. 2018)."""

    name = "median"

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        return agg.coordinate_median(updates)


@dataclass(repr=True)
class TrimmedMean(Strategy):
    """Coordinate-wise trimmed mean (Yin et al. 2018)."""

    num_byzantine: int
    name: str = field(default="trimmed_mean", init=False)

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        return agg.trimmed_mean(updates, self.num_byzantine)


@dataclass(repr=True)
class Krum(Strategy):
    """Krum (Blanchard et al. 2017)."""

    num_byzantine: int
    name: str = field(default="krum", init=False)

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        return agg.krum(updates, self.num_byzantine)


@dataclass(repr=True)
class MultiKrum(Strategy):
    """Multi-Krum: mean of the ``num_selected`` best Krum scores (Blanchard et al. 2017)."""

    num_byzantine: int
    num_selected: int | None = None
    name: str = field(default="multi_krum", init=False)

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        m = self.num_selected or len(updates) - self.num_byzantine
        return agg.multi_krum(updates, self.num_byzantine, m)


@dataclass(repr=True)
class Bulyan(Strategy):
    """Bulyan over Krum (El Mhamdi et al. 2018)."""

    num_byzantine: int
    name: str = field(default="bulyan", init=False)

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        return agg.bulyan(updates, self.num_byzantine)


class GeometricMedian(Strategy):
    """Geometric median by smoothed Weiszfeld (Pillutla et al. 2022)."""

    name = "geometric_median"

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        return agg.geometric_median(updates)


@dataclass(repr=True)
class CenteredClipping(Strategy):
    """Centered clipping around the previous aggregate (Karimireddy et al. 2021).

    Stateful: the centre is the server momentum ``m <- beta * m + (1 - beta) * aggregate``
    of past rounds (zero at first), as in the paper's "learning from history".
    """

    clip_radius: float | None = 1.0
    iterations: int = 3
    momentum: float = 0.9
    name: str = field(default="centered_clipping", init=False)
    _centre: F64 | None = field(default=None, init=False, repr=False)

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        d = np.shape(updates)[1]
        centre = self._centre if self._centre is not None else np.zeros(d)
        result = agg.centered_clipping(
            updates, centre, clip_radius=self.clip_radius, iterations=self.iterations
        )
        self._centre = self.momentum * centre + (1 - self.momentum) * result
        return result

    def state(self) -> dict[str, NDArray[np.float64]]:
        """Return the momentum centre, for checkpoints."""
        return {} if self._centre is None else {"centre": self._centre.copy()}

    def load_state(self, state: dict[str, NDArray[np.float64]]) -> None:
        """Restore :meth:`state`."""
        self._centre = state["centre"].copy() if "centre" in state else None


@dataclass(repr=True)
class Bucketing(Strategy):
    """Bucketing (Karimireddy et al. 2022) before any inner strategy."""

    inner: Strategy
    bucket_size: int = 2
    name: str = field(default="bucketing", init=False)

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        buckets = agg.bucketing(updates, self.bucket_size, seed)
        return self.inner.aggregate(buckets, None, seed=seed).astype(np.float64)

    def state(self) -> dict[str, NDArray[np.float64]]:
        """Return the inner strategy's state."""
        return self.inner.state()

    def load_state(self, state: dict[str, NDArray[np.float64]]) -> None:
        """Restore the inner strategy's state."""
        self.inner.load_state(state)


@dataclass(repr=True)
class NearestNeighbourMixing(Strategy):
    """Nearest-neighbour mixing (Allouah et al. 2023) before any inner strategy."""

    inner: Strategy
    num_byzantine: int
    name: str = field(default="nnm", init=False)

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> F64:
        mixed = agg.nearest_neighbour_mixing(updates, self.num_byzantine)
        return self.inner.aggregate(mixed, counts, seed=seed).astype(np.float64)

    def state(self) -> dict[str, NDArray[np.float64]]:
        """Return the inner strategy's state."""
        return self.inner.state()

    def load_state(self, state: dict[str, NDArray[np.float64]]) -> None:
        """Restore the inner strategy's state."""
        self.inner.load_state(state)
