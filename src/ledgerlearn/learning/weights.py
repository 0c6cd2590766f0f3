"""Weights: named float32 arrays, flattened to one vector in canonical (sorted-name) order.

Models exchange ``dict[str, numpy.ndarray]``; aggregation works on flat vectors. Flattening
always walks names in sorted order so every party builds the same vector.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

__all__ = ["Weights", "flatten", "unflatten", "zeros_like"]

Weights = dict[str, NDArray[np.float32]]


def flatten(weights: Mapping[str, NDArray[np.floating]]) -> NDArray[np.float32]:
    """Concatenate arrays in sorted-name order into one float32 vector.

    Parameters
    ----------
    weights
        Named arrays.

    Returns
    -------
    numpy.ndarray
        1-D float32.
    """
    return np.concatenate(
        [np.asarray(weights[name], dtype=np.float32).ravel() for name in sorted(weights)]
    )


def unflatten(
    vector: NDArray[np.floating], template: Mapping[str, NDArray[np.floating]]
) -> Weights:
    """Split a vector back into named float32 arrays shaped like ``template``.

    Parameters
    ----------
    vector
        1-D, as long as the template's total size.
    template
        Names and shapes.

    Returns
    -------
    Weights
        New float32 arrays.
    """
    out: Weights = {}
    offset = 0
    for name in sorted(template):
        shape = np.shape(template[name])
        size = int(np.prod(shape))
        out[name] = np.asarray(vector[offset : offset + size], dtype=np.float32).reshape(shape)
        offset += size
    if offset != vector.size:
        raise ValueError(f"vector has {vector.size} values, template needs {offset}")
    return out


def zeros_like(template: Mapping[str, NDArray[np.floating]]) -> Weights:
    """Return float32 zeros with the template's names and shapes.

    Parameters
    ----------
    template
        Names and shapes.

    Returns
    -------
    Weights
        Zero arrays.
    """
    return {name: np.zeros(np.shape(value), dtype=np.float32) for name, value in template.items()}
