"""Time Flower's aggregation on saved inputs (runs in Flower's own virtualenv).

Flower pins dependencies (typer) that conflict with ledgerlearn's, so bench_learning.py
runs this file with benchmarks/.venv-flower/bin/python on the same inputs, in the same
benchmark run, and compares outputs and times.

Two Flower code paths are timed for each rule:

- ``strategy``: the ``flwr.serverapp.strategy`` class (Flower 1.4x's Message API) —
  ``aggregate_train`` on one reply Message per client, each carrying an ``ArrayRecord`` with
  the update and a ``MetricRecord`` with its example count, as a ServerApp receives them.
  The Messages are built before the clock starts; reading the arrays out of their records
  is part of what the strategy does, so it is timed.
- ``function``: the NumPy functions of ``flwr.server.strategy.aggregate`` (the legacy
  strategies' code) on plain arrays, which is the closest like-for-like to our rules.

    python flower_aggregate.py INPUT.npz OUTPUT.npz
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from flwr.server.strategy import aggregate as legacy
from flwr.serverapp import strategy as serverapp
from flwr.supercore.task_identity import TaskIdentity

SLOW = {"krum", "multi_krum", "bulyan"}
"""Pairwise-distance rules: timed once (Flower's legacy Bulyan alone takes minutes)."""


def _replies(updates: np.ndarray, counts: np.ndarray) -> list[Message]:
    """One reply Message per client, as a ServerApp's grid returns them."""
    TaskIdentity.run_id, TaskIdentity.task_id, TaskIdentity.node_id = 1, 1, 0
    replies = []
    for node, (update, count) in enumerate(zip(updates, counts, strict=True), start=1):
        query = Message(
            RecordDict({"config": ConfigRecord({"server-round": 1})}),
            dst_node_id=node,
            message_type="train",
        )
        content = RecordDict(
            {
                "arrays": ArrayRecord({"update": Array(update)}),
                "metrics": MetricRecord({"num-examples": int(count)}),
            }
        )
        replies.append(Message(content, reply_to=query))
    return replies


def main() -> None:
    logging.getLogger("flwr").setLevel(logging.WARNING)
    data = np.load(sys.argv[1])
    updates, counts, f = data["updates"], data["counts"], int(data["f"])
    n = len(updates)
    ones = np.ones(n, dtype=np.int64)  # rules that ignore counts get equal weights on both sides
    layers = [[u] for u in updates]
    strategies = {
        "fedavg": (serverapp.FedAvg(), counts),
        "median": (serverapp.FedMedian(), ones),
        "trimmed_mean": (serverapp.FedTrimmedAvg(beta=f / n), ones),
        "krum": (serverapp.Krum(num_malicious_nodes=f), ones),
        "multi_krum": (
            serverapp.MultiKrum(num_malicious_nodes=f, num_nodes_to_select=n - f),
            ones,
        ),
        "bulyan": (serverapp.Bulyan(num_malicious_nodes=f), ones),
    }
    functions: dict[str, Callable[[], object]] = {
        "fedavg": lambda: legacy.aggregate(
            [(layer, int(c)) for layer, c in zip(layers, counts, strict=True)]
        )[0],
        "median": lambda: legacy.aggregate_median([(layer, 1) for layer in layers])[0],
        "trimmed_mean": lambda: legacy.aggregate_trimmed_avg(
            [(layer, 1) for layer in layers], f / n
        )[0],
        "krum": lambda: legacy.aggregate_krum([(layer, 1) for layer in layers], f, 0)[0],
        "multi_krum": lambda: legacy.aggregate_krum([(layer, 1) for layer in layers], f, n - f)[0],
        "bulyan": lambda: legacy.aggregate_bulyan(
            [(layer, 1) for layer in layers], f, legacy.aggregate_krum, to_keep=0
        )[0],
    }
    outputs: dict[str, np.ndarray] = {}
    times: dict[str, dict[str, float]] = {}
    errors: dict[str, str] = {}
    for name, (strategy, weights) in strategies.items():
        repeats = 1 if name in SLOW else 3
        # (untimed preparation, timed call): strategies consume their replies' records, so
        # fresh Messages are built before each timed call
        plans: dict[str, tuple[Callable[[], object], Callable[[object], object]]] = {
            "strategy": (
                lambda weights=weights: _replies(updates, weights),
                lambda replies, strategy=strategy: strategy.aggregate_train(1, replies)[0][
                    "update"
                ].numpy(),
            ),
            "function": (lambda: None, lambda _, name=name: functions[name]()),
        }
        for path, (prepare, timed) in plans.items():
            try:
                best = float("inf")
                for _ in range(repeats):
                    prepared = prepare()
                    start = time.perf_counter()
                    out = timed(prepared)
                    best = min(best, time.perf_counter() - start)
                outputs[f"{name}.{path}"] = np.asarray(out, dtype=np.float64)
                times.setdefault(name, {})[path] = best
            except Exception as exc:  # report API differences instead of failing the run
                errors[f"{name}.{path}"] = f"{type(exc).__name__}: {exc}"
            print(f"flower {name:14s} {path:9s} {times.get(name, {}).get(path)}", file=sys.stderr)
    np.savez(sys.argv[2], **outputs)
    print(json.dumps({"times": times, "errors": errors}))


if __name__ == "__main__":
    main()
