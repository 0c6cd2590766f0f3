"""One Flower simulation round of the same model and clients (runs in Flower's virtualenv).

``flwr.simulation.run_simulation`` with a ``ServerApp`` running ``FedAvg`` for one round and
a ``ClientApp`` whose ``NumPyClient`` wraps ledgerlearn's NumPy MLP (imported from src/, the
same training code and settings the ledger nodes run), on Ray's local backend. The round is
timed inside the strategy, from ``configure_fit`` to the end of ``aggregate_fit``, so Ray's
start-up is reported separately.

    python flower_sim_round.py INPUT.npz   → prints {"round": s, "total": s} as JSON
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np
from flwr.client import ClientApp, NumPyClient
from flwr.common import Context, ndarrays_to_parameters
from flwr.server import ServerApp, ServerAppComponents, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.simulation import run_simulation

from ledgerlearn.learning.models import MLP, TrainConfig

DATA = np.load(os.environ["LEDGERLEARN_FLOWER_INPUT"])
NAMES = [str(n) for n in DATA["names"]]
TIMES: dict[str, float] = {}


class MlpClient(NumPyClient):  # type: ignore[misc]
    def __init__(self, index: int) -> None:
        self.x, self.y = DATA[f"x{index}"], DATA[f"y{index}"]
        self.model = MLP(self.x.shape[1], 10, (int(DATA["hidden"]),), seed=0)

    def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[Any, ...]:
        self.model.set_weights(dict(zip(NAMES, parameters, strict=True)))
        self.model.fit(self.x, self.y, TrainConfig(**json.loads(str(DATA["local"]))))
        weights = self.model.get_weights()
        return [weights[n] for n in NAMES], len(self.y), {}


class TimedFedAvg(FedAvg):  # type: ignore[misc]
    def configure_fit(self, server_round: int, parameters: Any, client_manager: Any) -> Any:
        TIMES["start"] = time.perf_counter()
        return super().configure_fit(server_round, parameters, client_manager)

    def aggregate_fit(self, server_round: int, results: Any, failures: Any) -> Any:
        out = super().aggregate_fit(server_round, results, failures)
        TIMES["end"] = time.perf_counter()
        path = os.environ["LEDGERLEARN_FLOWER_OUTPUT"]
        with open(path, "w") as handle:
            json.dump({"round": TIMES["end"] - TIMES["start"], "results": len(results)}, handle)
        return out


def client_fn(context: Context) -> Any:
    return MlpClient(int(context.node_config["partition-id"])).to_client()


def server_fn(context: Context) -> ServerAppComponents:
    clients = int(DATA["clients"])
    strategy = TimedFedAvg(
        fraction_fit=1.0,
        fraction_evaluate=0.0,
        min_fit_clients=clients,
        min_available_clients=clients,
        initial_parameters=ndarrays_to_parameters([DATA[f"w_{n}"] for n in NAMES]),
    )
    return ServerAppComponents(strategy=strategy, config=ServerConfig(num_rounds=1))


def main() -> None:
    started = time.perf_counter()
    run_simulation(
        server_app=ServerApp(server_fn=server_fn),
        client_app=ClientApp(client_fn=client_fn),
        num_supernodes=int(DATA["clients"]),
        backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}},
    )
    total = time.perf_counter() - started
    with open(os.environ["LEDGERLEARN_FLOWER_OUTPUT"]) as handle:
        result = json.load(handle)
    print(json.dumps({**result, "total": total}))


if __name__ == "__main__":
    sys.exit(main())
