"""Update validation: check every client update before it reaches an aggregation rule.

Each update must have exactly the expected names, shapes and dtype (float32), contain only
finite values, differ from the global model (an all-zero update means no training happened:
a free rider, Lin et al. 2019), and — when the task sets one — have an L2 norm within the
bound. Rejected
updates come back with a reason per client; nothing is dropped silently.

Trust assumption: clients are untrusted; validation is the first line, robust aggregation
the second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.learning.weights import flatten

__all__ = ["Rejection", "ValidationReport", "validate_updates"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one client's update was refused."""

    client: str
    reason: str


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating a round's updates.

    Attributes
    ----------
    clients
        Accepted clients, in canonical (sorted) order.
    updates
        Their flattened updates, one row each, float32.
    rejections
        Refused clients with reasons, sorted by client.
    """

    clients: list[str]
    updates: NDArray[np.float32]
    rejections: list[Rejection] = field(default_factory=list)


def validate_updates(
    updates: Mapping[str, Mapping[str, NDArray[np.generic]]],
    template: Mapping[str, NDArray[np.floating]],
    *,
    max_norm: float | None = None,
) -> ValidationReport:
    """Validate updates against the model's template.

    Parameters
    ----------
    updates
        Client id to named arrays.
    template
        The expected names and shapes (the global model).
    max_norm
        Largest allowed L2 norm of a whole update; no bound when ``None``.

    Returns
    -------
    ValidationReport
        Accepted updates stacked in sorted client order, and the rejections.
    """
    accepted: list[str] = []
    rows: list[NDArray[np.float32]] = []
    rejections: list[Rejection] = []
    expected = {name: tuple(np.shape(value)) for name, value in template.items()}
    dimension = sum(int(np.prod(shape)) for shape in expected.values())
    for client in sorted(updates):
        reason = _problem(updates[client], expected, max_norm)
        if reason is None:
            accepted.append(client)
            rows.append(flatten(updates[client]))  # type: ignore[arg-type]
        else:
            rejections.append(Rejection(client, reason))
    stacked = np.stack(rows) if rows else np.zeros((0, dimension), dtype=np.float32)
    return ValidationReport(accepted, stacked, rejections)


def _problem(
    update: Mapping[str, NDArray[np.generic]],
    expected: Mapping[str, tuple[int, ...]],
    max_norm: float | None,
) -> str | None:
    missing = sorted(set(expected) - set(update))
    extra = sorted(set(update) - set(expected))
    if missing or extra:
        return f"names differ from the model: missing {missing}, unexpected {extra}"
    squared = 0.0
    for name, shape in expected.items():
        array = np.asarray(update[name])
        if array.dtype != np.float32:
            return f"{name} has dtype {array.dtype}, expected float32"
        if array.shape != shape:
            return f"{name} has shape {array.shape}, expected {shape}"
        if not np.all(np.isfinite(array)):
            return f"{name} contains NaN or infinite values"
        squared += float(np.dot(array.ravel().astype(np.float64), array.ravel().astype(np.float64)))
    norm = squared**0.5
    if norm == 0.0:
        return "update is exactly the global model (a free rider: no training happened)"
    if max_norm is not None and norm > max_norm:
        return f"L2 norm {norm:.4g} exceeds the bound {max_norm:.4g}"
    return None
