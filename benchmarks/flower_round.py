"""One plain Flower round of the same model and clients (runs in Flower's own virtualenv).

Ten ``flwr.client.NumPyClient`` objects wrap ledgerlearn's NumPy MLP (imported from src/,
the same training code and settings the ledger nodes run); Flower's ``FedAvg`` strategy
configures the round and aggregates the ``FitRes`` messages (parameters serialised with
Flower's ``ndarrays_to_parameters``). Everything is in one process: no ledger, no
encryption, no network, no Ray (not installable here), so this is a lower bound for a
Flower round.

    python flower_round.py INPUT.npz   → prints {"seconds": ...} as JSON
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from flwr.client import NumPyClient
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server.strategy import FedAvg

from ledgerlearn.learning.models import MLP, TrainConfig


class MlpClient(NumPyClient):  # type: ignore[misc]
    def __init__(self, x: np.ndarray, y: np.ndarray, names: list[str], hidden: int) -> None:
        self.x, self.y, self.names = x, y, names
        self.model = MLP(x.shape[1], 10, (hidden,), seed=0)

    def fit(self, parameters: list[np.ndarray], config: dict) -> tuple:
        self.model.set_weights(dict(zip(self.names, parameters, strict=True)))
        self.model.fit(self.x, self.y, TrainConfig(**json.loads(config["local"])))
        weights = self.model.get_weights()
        return [weights[n] for n in self.names], len(self.y), {}


def main() -> None:
    data = np.load(sys.argv[1])
    names = [str(n) for n in data["names"]]
    initial = [data[f"w_{n}"] for n in names]
    clients = [
        MlpClient(data[f"x{i}"], data[f"y{i}"], names, int(data["hidden"]))
        for i in range(int(data["clients"]))
    ]
    local = str(data["local"])
    strategy = FedAvg(min_fit_clients=len(clients), min_available_clients=len(clients))
    started = time.perf_counter()
    parameters = ndarrays_to_parameters(initial)
    results = []
    for client in clients:
        arrays, count, metrics = client.fit(parameters_to_ndarrays(parameters), {"local": local})
        fit = FitRes(Status(Code.OK, ""), ndarrays_to_parameters(arrays), count, metrics)
        results.append((None, fit))  # FedAvg.aggregate_fit reads only the FitRes
    aggregated, _ = strategy.aggregate_fit(1, results, [])
    parameters_to_ndarrays(aggregated)
    print(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
