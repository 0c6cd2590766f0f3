"""Datasets and partitions, all offline and seeded.

Trust assumption: raw data stays with its client; only indices are shared here.
"""

from ledgerlearn.learning.datasets._base import Dataset, train_test_split
from ledgerlearn.learning.datasets._loaders import (
    LOADERS,
    SHAKESPEARE_VOCAB,
    load_churn,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_shakespeare,
)
from ledgerlearn.learning.datasets._partition import (
    client_shard,
    dirichlet,
    iid,
    natural,
    partition,
    quantity_skew,
)

__all__ = [
    "LOADERS",
    "SHAKESPEARE_VOCAB",
    "Dataset",
    "client_shard",
    "dirichlet",
    "iid",
    "load_churn",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_shakespeare",
    "natural",
    "partition",
    "quantity_skew",
    "train_test_split",
]
