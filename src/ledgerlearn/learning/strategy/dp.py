"""Differential privacy as a wrapper: client-level DP-FedAvg around any strategy.

McMahan, Ramage, Talwar, Zhang, "Learning Differentially Private Recurrent Language
Models", ICLR 2018 (DP-FedAvg with fixed clipping). As in Flower's
``DifferentialPrivacyServerSideFixedClipping`` / ``...ClientSideFixedClipping``, privacy
is not a branch inside a strategy but a strategy around another:

- **client side** — :meth:`DifferentialPrivacy.client_update` clips a client's update to
  L2 norm ``C``, and under ``distributed`` placement (secure aggregation) adds the client's
  share of the noise, ``N(0, (zC)^2 / t)`` per coordinate for ``t`` guaranteed clients;
- **server side** — :class:`DifferentialPrivacy` clips every update to ``C`` again (a
  client may not have), aggregates the clipped updates with the wrapped strategy (FedAvg
  for DP-FedAvg: the noise is calibrated to a sum of clipped updates) and adds
  ``N(0, (zC)^2)`` to the sum, i.e. ``N(0, (zC / n)^2)`` to the mean of ``n`` updates, from
  a ChaCha20 keystream (:func:`~ledgerlearn.learning.privacy.secure_gaussian`); under
  ``distributed`` placement the noise is already in the inputs and nothing is added;
- **accounting** — built for a round, it checks the round's cumulative epsilon against the
  budget before anything is aggregated (:class:`~ledgerlearn.exceptions.PrivacyBudgetError`)
  and :meth:`DifferentialPrivacy.record` says what the round spent and did.

A private aggregate must not come with per-client statistics of the data, so
:attr:`DifferentialPrivacy.score_updates` is false: callers give every accepted update the
same score.

Trust assumption: the noise key is secret to the aggregators (the committee derives it from
the updates' content keys, which only they and each trainer can open); with ``None`` the
noise is drawn from the operating system's randomness. Robust rules are not private: their
sensitivity is not ``C``, which is why a task spec allows DP only with FedAvg.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import AggregationError
from ledgerlearn.learning.privacy import DpSettings, clip_rows, clip_update, secure_gaussian
from ledgerlearn.learning.strategy._base import Strategy

__all__ = ["DifferentialPrivacy"]


class DifferentialPrivacy(Strategy):
    """Client-level DP around ``strategy`` (DP-FedAvg when ``strategy`` is FedAvg).

    Parameters
    ----------
    strategy
        The wrapped strategy; it aggregates the clipped updates.
    settings
        ``C``, ``z``, the budget, the accountant and the placement.
    round_number
        The round (1-based) this strategy aggregates; its cumulative epsilon is checked
        against the budget at once. ``None`` skips accounting (simulations that account
        themselves).
    noise_key
        Returns the 32 secret bytes that key the noise (called once per aggregation, so it
        may derive them from what the caller knows only then); ``None`` draws a fresh key
        from the operating system.
    min_clients
        Under ``distributed`` placement, the fewest clients whose noise shares make up the
        noise: fewer inputs must not be released.
    expected_inputs
        With client sampling, divide the noisy sum by this expected number of participants
        (the fixed-denominator estimator of McMahan et al.): the actual number depends on
        who took part, which the release must not reveal. ``None`` divides by the actual
        number (every client takes part each round).

    Raises
    ------
    PrivacyBudgetError
        If ``round_number`` would spend more than the budget.
    """

    name = "dp"
    score_updates = False

    def __init__(
        self,
        strategy: Strategy,
        settings: DpSettings,
        *,
        round_number: int | None = None,
        noise_key: Callable[[], bytes] | None = None,
        min_clients: int = 1,
        expected_inputs: float | None = None,
    ) -> None:
        self.strategy = strategy
        self.expected_inputs = expected_inputs
        self.settings = settings
        self.round_number = round_number
        self.min_clients = min_clients
        self.min_inputs = min_clients if settings.placement == "distributed" else 1
        """The fewest inputs an aggregate may be released of (``t`` when distributed)."""
        self._noise_key = noise_key
        self.epsilon = (
            settings.accounting().check(round_number) if round_number is not None else None
        )
        self.clipped = 0
        """Updates the last aggregation scaled down to norm ``C``."""

    @staticmethod
    def client_update(
        update: NDArray[np.floating],
        settings: DpSettings,
        *,
        noise_key: bytes | None = None,
        min_clients: int = 1,
    ) -> NDArray[np.float64]:
        """Return what a client sends: its update clipped to ``C``, plus its noise share.

        Parameters
        ----------
        update
            The flat local update.
        settings
            The task's DP settings.
        noise_key
            32 secret bytes of this client and round, keying its noise share (needed under
            ``distributed`` placement only).
        min_clients
            ``t``: the guaranteed clients whose shares make up the noise.

        Returns
        -------
        numpy.ndarray
            float64, bit-identical on every machine for the same inputs.
        """
        clipped = clip_update(update, settings.clip)
        if settings.placement != "distributed":
            return clipped
        if noise_key is None:
            raise ValueError("a distributed-DP client needs its secret noise key")
        return clipped + secure_gaussian(
            noise_key, clipped.size, settings.client_noise_std(min_clients)
        )

    def _aggregate(
        self, updates: NDArray[np.floating], counts: Sequence[int] | None, seed: int
    ) -> NDArray[np.float64]:
        rows = np.asarray(updates, dtype=np.float64)
        if rows.shape[0] < self.min_inputs:
            raise AggregationError(
                f"{rows.shape[0]} inputs, fewer than the {self.min_inputs} whose noise shares "
                "make up the DP noise"
            )
        if self.settings.placement == "distributed":
            # The clients clipped and noised their inputs; the sum already holds the noise.
            return np.asarray(self.strategy._aggregate(rows, counts, seed), dtype=np.float64)
        clipped, self.clipped = clip_rows(rows, self.settings.clip)
        mean = np.asarray(self.strategy._aggregate(clipped, counts, seed), dtype=np.float64)
        key = self._noise_key() if self._noise_key is not None else os.urandom(32)
        noise = secure_gaussian(key, rows.shape[1], self.settings.noise_std)
        if self.expected_inputs is None:
            return mean + noise / rows.shape[0]
        return (mean * rows.shape[0] + noise) / self.expected_inputs

    def record(self, inputs: int) -> dict[str, Any]:
        """Return what the round's record says about its privacy.

        Parameters
        ----------
        inputs
            How many updates (or secure-aggregation survivors) the aggregate is of.

        Returns
        -------
        dict
            Epsilon spent so far (when accounted), delta, ``z``, ``C``, the accountant, the
            placement, the noise on the sum, and the clipped count (central) or the
            survivors and each client's noise share (distributed).
        """
        settings = self.settings
        record: dict[str, Any] = {
            "delta": settings.delta,
            "noiseMultiplier": settings.noise_multiplier,
            "clip": settings.clip,
            "accountant": settings.accountant,
            "placement": settings.placement,
            "noiseStd": settings.noise_std,
        }
        if self.epsilon is not None:
            record["epsilon"] = self.epsilon
        if settings.placement == "distributed":
            record["survivors"] = inputs
            record["clientNoiseStd"] = settings.client_noise_std(self.min_clients)
        else:
            record["clippedUpdates"] = self.clipped
        return record

    def __repr__(self) -> str:
        return f"DifferentialPrivacy({self.strategy!r}, {self.settings!r})"
