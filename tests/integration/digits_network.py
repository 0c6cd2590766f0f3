"""The small digits task the training-network tests share (5 trainers, 3 aggregators)."""

from __future__ import annotations

from ledgerlearn.devnet import NetworkConfig

DIGITS = NetworkConfig(
    model="digits-mlp",
    trainers=5,
    aggregators=3,
    attacks=(),
    rounds=2,
    byzantine=0,
    dataset="digits",
    partition="iid",
    max_train=None,
    hidden=(16,),
    commit_blocks=12,
    aggregate_blocks=12,
    join_blocks=60,
)
"""Digits MLP, IID, short windows; tests ``replace`` what they vary."""
