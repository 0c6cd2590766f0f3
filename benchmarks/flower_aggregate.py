"""Time Flower's aggregation functions on saved inputs (runs in Flower's own virtualenv).

Flower pins dependencies (typer) that conflict with ledgerlearn's, so bench_learning.py
runs this file with benchmarks/.venv-flower/bin/python on the same inputs, in the same
benchmark run, and compares outputs and times.

    python flower_aggregate.py INPUT.npz OUTPUT.npz
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from flwr.server.strategy import aggregate as flower

SLOW = {"krum", "multi_krum", "bulyan"}
"""Pairwise-distance rules: timed once (Flower's Bulyan alone takes minutes at this size)."""


def main() -> None:
    data = np.load(sys.argv[1])
    updates, counts, f = data["updates"], data["counts"], int(data["f"])
    n = len(updates)
    layers = [[u] for u in updates]
    calls = {
        "fedavg": lambda: flower.aggregate(
            [(layer, int(c)) for layer, c in zip(layers, counts, strict=True)]
        )[0],
        "median": lambda: flower.aggregate_median([(layer, 1) for layer in layers])[0],
        "trimmed_mean": lambda: flower.aggregate_trimmed_avg(
            [(layer, 1) for layer in layers], f / n
        )[0],
        "krum": lambda: flower.aggregate_krum([(layer, 1) for layer in layers], f, 0)[0],
        "multi_krum": lambda: flower.aggregate_krum([(layer, 1) for layer in layers], f, n - f)[0],
        "bulyan": lambda: flower.aggregate_bulyan(
            [(layer, 1) for layer in layers], f, flower.aggregate_krum, to_keep=0
        )[0],
    }
    outputs, times, errors = {}, {}, {}
    for name, call in calls.items():
        try:
            best = float("inf")
            for _ in range(1 if name in SLOW else 3):
                start = time.perf_counter()
                out = call()
                best = min(best, time.perf_counter() - start)
            outputs[name] = np.asarray(out, dtype=np.float64)
            times[name] = best
        except Exception as exc:  # report signature differences instead of failing the run
            errors[name] = f"{type(exc).__name__}: {exc}"
    np.savez(sys.argv[2], **outputs)
    print(json.dumps({"times": times, "errors": errors}))


if __name__ == "__main__":
    main()
