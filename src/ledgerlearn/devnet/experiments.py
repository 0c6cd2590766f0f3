"""Experiments: Byzantine participants for evaluation, made by wrapping honest ones.

Production nodes know nothing of attacks (the house style: experiments wrap a node from
outside). This module makes the dishonest variants the demo, the tests and the benchmarks
play against the protocol:

- :func:`byzantine_trainer` — a :class:`~ledgerlearn.node.TrainerNode` whose local update a
  :class:`~ledgerlearn.learning.attacks.Attack` forges (sign flip, Gaussian noise, scaling,
  free riding: Baruch et al., Fang et al.), or whose labels are flipped before it trains
  (label flipping, Tolpegin et al.);
- :class:`LyingProvider` — a :class:`~ledgerlearn.oracle.Provider` that answers with its
  class probabilities rotated by one (so the top label is the next one) and signs that
  answer like an honest one.

Trust assumption: none; these are the adversaries the rest of the system must withstand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.learning.attacks import flip_labels, make_attack
from ledgerlearn.node import LocalData, TrainerNode
from ledgerlearn.oracle import LoadedModel, Provider

__all__ = ["LyingProvider", "byzantine_trainer", "parse_attack"]


def parse_attack(spec: str) -> tuple[str, float | None]:
    """Split an attack spec ``name[:strength]`` (``sign_flip:4``, ``label_flip``).

    Parameters
    ----------
    spec
        The spec.

    Returns
    -------
    tuple
        The attack's name and its strength (``None``: the attack's default).

    Raises
    ------
    ValueError
        If the strength is not a number.
    """
    name, _, strength = spec.partition(":")
    try:
        return name, float(strength) if strength else None
    except ValueError as exc:
        raise ValueError(f"attack {spec!r}: the strength after ':' must be a number") from exc


def byzantine_trainer(attack: str, *args: Any, data: LocalData, **kwargs: Any) -> TrainerNode:
    """Return a trainer node that attacks the task with ``attack``.

    Parameters
    ----------
    attack
        ``name[:strength]`` of :func:`~ledgerlearn.learning.attacks.make_attack`.
    *args, data, **kwargs
        :class:`~ledgerlearn.node.TrainerNode`'s arguments.

    Returns
    -------
    TrainerNode
        For a data-poisoning attack, an honest node given flipped labels; else a node
        whose every local update is forged from its honest one.
    """
    forger = make_attack(*parse_attack(attack))
    if forger.poisons_data:

        class LabelFlippingTrainer(TrainerNode):
            """A trainer that trains on flipped labels (evaluation only)."""

            def local_update(
                self, round_number: int
            ) -> tuple[NDArray[np.float32], dict[str, NDArray[np.float32]]]:
                honest = self.data
                classes = int(self.spec.architecture["classes"])
                self.data = LocalData(honest.x, flip_labels(honest.y, classes))
                try:
                    return super().local_update(round_number)
                finally:
                    self.data = honest

        return LabelFlippingTrainer(*args, data=data, **kwargs)

    class ByzantineTrainer(TrainerNode):
        """A trainer that forges its update (evaluation only)."""

        def local_update(
            self, round_number: int
        ) -> tuple[NDArray[np.float32], dict[str, NDArray[np.float32]]]:
            delta, weights = super().local_update(round_number)
            rng = np.random.default_rng(self.local_seed(round_number))
            forged = forger.forge(np.zeros((0, delta.size)), delta[None, :].astype(np.float64), rng)
            return np.asarray(forged[0], dtype=np.float32), weights

    return ByzantineTrainer(*args, data=data, **kwargs)


class LyingProvider(Provider):
    """A provider that answers with its probabilities rotated by one class (evaluation only).

    It signs the lie and its output like an honest answer: the contract cannot tell, only a
    quorum of honest providers, an audit or a proof can.
    """

    def compute(self, model: LoadedModel, raw: bytes) -> NDArray[np.float32]:
        """Return the honest probabilities rolled by one class."""
        return np.roll(super().compute(model, raw), 1, axis=1)
