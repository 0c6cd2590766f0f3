"""Model adapters: one interface over NumPy and PyTorch models.

A :class:`ModelAdapter` exchanges named float32 arrays (``get_weights``/``set_weights``),
trains on local data with a :class:`TrainConfig` (``fit``) and reports metrics
(``evaluate``). Weights serialise to safetensors with names in sorted order, so the same
weights always give the same bytes (and CID).

Trust assumption: the adapter runs on the client's own machine over its own data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

from ledgerlearn.learning.weights import Weights

__all__ = ["FitResult", "ModelAdapter", "TrainConfig", "weights_from_bytes", "weights_to_bytes"]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Local training settings.

    Attributes
    ----------
    epochs
        Passes over the local data.
    batch_size
        Examples per step.
    learning_rate
        Base step size.
    schedule
        ``constant``, ``step`` (halve every ``step_every`` epochs) or ``cosine`` (over all
        steps of the call).
    step_every
        Epochs between halvings for ``step``.
    momentum
        Client-side heavy-ball momentum (0 disables).
    proximal_mu
        FedProx's ``mu``: adds ``mu/2 ||w - w_global||^2`` to the loss (Li et al.,
        "Federated Optimization in Heterogeneous Networks", MLSys 2020); 0 is FedAvg.
    weight_decay
        L2 penalty.
    max_steps
        Stop after this many steps (``None``: run all epochs). ``max_steps=1`` makes the
        update one mini-batch gradient step, FedSGD (McMahan et al. 2017), the setting of
        the per-step attack papers.
    seed
        Seeds batch order; with the same inputs, training is bit-for-bit reproducible.
    """

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 0.1
    schedule: Literal["constant", "step", "cosine"] = "constant"
    step_every: int = 1
    momentum: float = 0.0
    proximal_mu: float = 0.0
    weight_decay: float = 0.0
    max_steps: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs ({self.epochs}) and batch_size ({self.batch_size}) must be at least 1"
            )
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be at least 1 or None, not {self.max_steps}")

    def total_steps(self, num_examples: int) -> int:
        """Return the steps one ``fit`` call takes on ``num_examples`` examples.

        Parameters
        ----------
        num_examples
            Local examples.

        Returns
        -------
        int
            ``ceil(n / batch_size) * epochs``, capped at ``max_steps``.
        """
        total = -(-num_examples // self.batch_size) * self.epochs
        return total if self.max_steps is None else min(total, self.max_steps)

    def rate(self, epoch: int, step: int, total_steps: int) -> float:
        """Learning rate at a step.

        Parameters
        ----------
        epoch
            Current epoch (0-based).
        step
            Global step within this call (0-based).
        total_steps
            Steps in this call.

        Returns
        -------
        float
            The step size.
        """
        if self.schedule == "step":
            return self.learning_rate * 0.5 ** (epoch // max(self.step_every, 1))
        if self.schedule == "cosine":
            return self.learning_rate * 0.5 * (1 + np.cos(np.pi * step / max(total_steps, 1)))
        return self.learning_rate


@dataclass(frozen=True, slots=True)
class FitResult:
    """What local training reports: examples seen and the mean training loss."""

    num_examples: int
    loss: float


class ModelAdapter(ABC):
    """A trainable classifier with named float32 weights."""

    @abstractmethod
    def get_weights(self) -> Weights:
        """Return a copy of the weights."""

    @abstractmethod
    def set_weights(self, weights: Weights) -> None:
        """Replace the weights (names and shapes must match)."""

    @abstractmethod
    def fit(self, x: NDArray[np.generic], y: NDArray[np.int64], config: TrainConfig) -> FitResult:
        """Train locally, starting from the current weights (the global model)."""

    @abstractmethod
    def predict_proba(self, x: NDArray[np.generic]) -> NDArray[np.float32]:
        """Class probabilities, ``(n, classes)``."""

    def evaluate(self, x: NDArray[np.generic], y: NDArray[np.int64]) -> dict[str, float]:
        """Mean cross-entropy loss and accuracy.

        Parameters
        ----------
        x
            Features.
        y
            Labels.

        Returns
        -------
        dict[str, float]
            ``{"loss": ..., "accuracy": ...}``.
        """
        proba = self.predict_proba(x).astype(np.float64)
        picked = np.clip(proba[np.arange(len(y)), y], 1e-12, 1.0)
        return {
            "loss": float(-np.log(picked).mean()),
            "accuracy": float((proba.argmax(axis=1) == y).mean()),
        }

    def to_bytes(self) -> bytes:
        """Serialise the weights as canonical safetensors bytes."""
        return weights_to_bytes(self.get_weights())


def weights_to_bytes(weights: Weights) -> bytes:
    """Canonical safetensors bytes: sorted names, float32, no metadata.

    Parameters
    ----------
    weights
        Named arrays.

    Returns
    -------
    bytes
        The same bytes for the same weights on every machine.
    """
    ordered = {
        name: np.ascontiguousarray(weights[name], dtype=np.float32) for name in sorted(weights)
    }
    return bytes(save_safetensors(ordered))


def weights_from_bytes(data: bytes) -> Weights:
    """Parse safetensors bytes into named float32 arrays.

    Parameters
    ----------
    data
        safetensors bytes.

    Returns
    -------
    Weights
        The arrays.
    """
    return {
        name: np.asarray(value, dtype=np.float32) for name, value in load_safetensors(data).items()
    }
