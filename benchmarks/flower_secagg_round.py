"""One Flower simulation round, plain or with SecAgg+ (runs in Flower's own virtualenv).

``flwr.simulation.run_simulation`` with a ``ServerApp`` whose main runs Flower's
``DefaultWorkflow`` for one round of ``FedAvg``: plain, or with
``SecAggPlusWorkflow`` as the fit workflow and ``secaggplus_mod`` on the ``ClientApp``.
Each client's ``NumPyClient`` returns a fixed update of the benchmark's size (the same for
both variants), so the two rounds differ only by secure aggregation. The round is timed
around the workflow call inside the ServerApp, so Ray's start-up is not in it.

Flower's SecAgg+ expands its masks with ``numpy.random.RandomState`` (Mersenne Twister)
seeded with 32 bits of the shared secret (``flwr.common.secure_aggregation.secaggplus_utils
.pseudo_rand_gen``); ledgerlearn uses the ChaCha20 keystream. That difference is part of
what the benchmark compares.

    LEDGERLEARN_FLOWER_OUTPUT=out.json python flower_secagg_round.py CLIENTS PARAMS plain|secagg
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np
from flwr.client import ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.common import Context, ndarrays_to_parameters
from flwr.server import Grid, LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.simulation import run_simulation

CLIENTS, PARAMS, MODE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


class FixedClient(NumPyClient):  # type: ignore[misc]
    def __init__(self, index: int) -> None:
        rng = np.random.default_rng(index)
        self.update = rng.uniform(-0.1, 0.1, PARAMS).astype(np.float32)

    def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[Any, ...]:
        return [self.update], 1, {}


def client_fn(context: Context) -> Any:
    return FixedClient(int(context.node_config["partition-id"])).to_client()


server = ServerApp()


@server.main()
def main(grid: Grid, context: Context) -> None:
    strategy = FedAvg(
        fraction_fit=1.0,
        fraction_evaluate=0.0,
        min_fit_clients=CLIENTS,
        min_available_clients=CLIENTS,
        initial_parameters=ndarrays_to_parameters([np.zeros(PARAMS, np.float32)]),
    )
    legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=1), strategy=strategy)
    if MODE == "secagg":
        # SecAgg+'s default sparse graph: shares to a fraction of the clients; ledgerlearn's
        # 2 ceil(log2 n) + 2 neighbours are matched below for a like-for-like degree.
        degree = min(CLIENTS - 1, 2 * int(np.ceil(np.log2(CLIENTS))) + 2)
        fit = SecAggPlusWorkflow(
            num_shares=degree + 1, reconstruction_threshold=degree // 2 + 1, timeout=None
        )
        workflow = DefaultWorkflow(fit_workflow=fit)
    else:
        workflow = DefaultWorkflow()
    started = time.perf_counter()
    workflow(grid, legacy)
    seconds = time.perf_counter() - started
    with open(os.environ["LEDGERLEARN_FLOWER_OUTPUT"], "w") as handle:
        json.dump({"round": seconds}, handle)


def run() -> None:
    mods = [secaggplus_mod] if MODE == "secagg" else []
    started = time.perf_counter()
    run_simulation(
        server_app=server,
        client_app=ClientApp(client_fn=client_fn, mods=mods),
        num_supernodes=CLIENTS,
        backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}},
    )
    with open(os.environ["LEDGERLEARN_FLOWER_OUTPUT"]) as handle:
        result = json.load(handle)
    print(json.dumps({**result, "total": time.perf_counter() - started}))


if __name__ == "__main__":
    run()
