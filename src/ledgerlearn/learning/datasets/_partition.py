"""Partitioners: split a dataset's training examples among clients, seeded.

- IID: a uniform random split.
- Dirichlet label skew: each class is spread over clients with proportions drawn from
  Dir(alpha) (Hsu, Qi, Brown, "Measuring the Effects of Non-Identical Data Distribution
  for Federated Visual Classification", 2019); small alpha means very skewed.
- Natural: one client per site or speaker (the dataset's ``groups``), as in LEAF.
- Quantity skew: client sizes drawn from Dir(alpha) with labels IID (Li et al.,
  "Federated Learning on Non-IID Data Silos: An Experimental Study", ICDE 2022).

Every partitioner is a pure function of its inputs and seed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import DatasetError
from ledgerlearn.learning.datasets._base import Dataset

__all__ = ["client_shard", "dirichlet", "iid", "natural", "partition", "quantity_skew"]

Parts = list[NDArray[np.int64]]


def iid(num_examples: int, num_clients: int, seed: int) -> Parts:
    """Split ``range(num_examples)`` uniformly at random into near-equal parts.

    Parameters
    ----------
    num_examples
        Examples to split.
    num_clients
        Parts.
    seed
        Seed.

    Returns
    -------
    list[numpy.ndarray]
        Sorted index arrays.
    """
    _check(num_examples, num_clients)
    order = np.random.default_rng(seed).permutation(num_examples)
    return [np.sort(part) for part in np.array_split(order, num_clients)]


def dirichlet(
    labels: NDArray[np.integer], num_clients: int, alpha: float, seed: int, min_size: int = 2
) -> Parts:
    """Dirichlet label skew.

    Parameters
    ----------
    labels
        Training labels.
    num_clients
        Parts.
    alpha
        Concentration; smaller is more skewed.
    seed
        Seed.
    min_size
        Redraw until every client has at least this many examples (bounded retries).

    Returns
    -------
    list[numpy.ndarray]
        Sorted index arrays.
    """
    _check(len(labels), num_clients)
    if alpha <= 0:
        raise DatasetError("dirichlet alpha must be > 0")
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    for _ in range(100):
        parts: list[list[int]] = [[] for _ in range(num_clients)]
        for cls in classes:
            members = rng.permutation(np.flatnonzero(labels == cls))
            shares = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(shares) * len(members)).astype(int)[:-1]
            for client, chunk in enumerate(np.split(members, cuts)):
                parts[client].extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]
    raise DatasetError(
        f"could not give each of {num_clients} clients {min_size} examples with alpha={alpha}; "
        "raise alpha or lower the number of clients"
    )


def natural(groups: NDArray[np.str_], max_clients: int | None = None) -> tuple[Parts, list[str]]:
    """One client per natural group (site, speaker), largest groups first.

    Parameters
    ----------
    groups
        Group of each training example.
    max_clients
        Keep only the largest groups.

    Returns
    -------
    tuple[list[numpy.ndarray], list[str]]
        Index arrays and their group names.
    """
    names, counts = np.unique(groups, return_counts=True)
    order = sorted(range(len(names)), key=lambda i: (-counts[i], str(names[i])))
    if max_clients is not None:
        order = order[:max_clients]
    chosen = [str(names[i]) for i in order]
    return [np.flatnonzero(groups == name).astype(np.int64) for name in chosen], chosen


def quantity_skew(
    num_examples: int, num_clients: int, alpha: float, seed: int, min_size: int = 2
) -> Parts:
    """Client sizes from Dir(alpha), examples assigned IID.

    Parameters
    ----------
    num_examples
        Examples to split.
    num_clients
        Parts.
    alpha
        Concentration of the size distribution.
    seed
        Seed.
    min_size
        Smallest part.

    Returns
    -------
    list[numpy.ndarray]
        Sorted index arrays.
    """
    _check(num_examples, num_clients * min_size)
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(num_clients, alpha))
    spare = num_examples - num_clients * min_size
    sizes = min_size + np.floor(shares * spare).astype(int)
    sizes[np.argmax(sizes)] += num_examples - sizes.sum()
    order = rng.permutation(num_examples)
    return [np.sort(part) for part in np.split(order, np.cumsum(sizes)[:-1])]


def partition(dataset: Dataset, spec: str, num_clients: int, seed: int) -> Parts:
    """Partition by a CLI-style spec: ``iid``, ``dirichlet:0.5``, ``natural``, ``quantity:1.0``.

    Parameters
    ----------
    dataset
        The dataset.
    spec
        The partition spec.
    num_clients
        Clients (for ``natural``, the largest groups are kept).
    seed
        Seed.

    Returns
    -------
    list[numpy.ndarray]
        Index arrays into the training set.
    """
    name, _, arg = spec.partition(":")
    n = len(dataset.y_train)
    if name == "iid":
        return iid(n, num_clients, seed)
    if name == "dirichlet":
        return dirichlet(dataset.y_train, num_clients, float(arg or 0.5), seed)
    if name == "quantity":
        return quantity_skew(n, num_clients, float(arg or 1.0), seed)
    if name == "natural":
        if dataset.groups_train is None:
            raise DatasetError(f"{dataset.name} has no natural groups; use iid or dirichlet")
        return natural(dataset.groups_train, num_clients)[0]
    raise DatasetError(f"unknown partition {spec!r}: use iid, dirichlet:A, quantity:A or natural")


def _check(num_examples: int, num_clients: int) -> None:
    if num_clients < 1 or num_examples < num_clients:
        raise DatasetError(f"cannot split {num_examples} examples among {num_clients} clients")


def client_shard(
    dataset: Dataset, spec: str, num_clients: int, index: int, seed: int
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Return client ``index``'s training examples and labels under a partition.

    Parameters
    ----------
    dataset
        The dataset.
    spec
        The partition spec (see :func:`partition`).
    num_clients
        Clients in the partition.
    index
        Which client (0-based).
    seed
        Partition seed: every client computes the same partition.

    Returns
    -------
    tuple
        ``(x, y)`` as float32 and int64.

    Raises
    ------
    DatasetError
        If ``index`` is not one of the clients.
    """
    if not 0 <= index < num_clients:
        raise DatasetError(f"client index {index} is not in 0..{num_clients - 1}")
    rows = partition(dataset, spec, num_clients, seed)[index]
    return (
        np.asarray(dataset.x_train[rows], dtype=np.float32),
        np.asarray(dataset.y_train[rows], dtype=np.int64),
    )
