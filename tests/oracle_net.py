"""A running provider network for gateway tests: nodes, HTTP servers, a block clock.

On top of :func:`tests.oracle_env.build_oracle_env`: version 3 of ``digits`` is a real MLP
(4 features, 3 classes); five provider nodes serve it, each behind a uvicorn server on
loopback with its endpoint in its DID document; one thread steps the nodes, another mines a
block every ``block_seconds`` (the embedded chain only mines on transactions).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from ledgerlearn._http import HttpServer
from ledgerlearn.devnet import LocalProviders
from ledgerlearn.gateway import Gateway, GatewayPolicy
from ledgerlearn.learning.models import MLP
from ledgerlearn.node import ProviderNode
from ledgerlearn.oracle import load_network
from ledgerlearn.verification import FixedPointNetwork, OptimisticClient
from tests.oracle_env import TOKEN, Env

ROW = [0.5, -1.0, 2.0, 0.25]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    server = HttpServer(app).start()
    try:
        yield server.url
    finally:
        server.stop()


def publish_mlp(
    env: Env,
    tmp_path: Path,
    *,
    features: int = 4,
    hidden: tuple[int, ...] = (8,),
    classes: int = 3,
    seed: int = 3,
) -> int:
    """Register a real MLP (4 features, 8 hidden, 3 classes by default) as ``digits``' next
    version; return the version."""
    weights = tmp_path / "mlp.safetensors"
    weights.write_bytes(MLP(features, classes, hidden, seed=seed).to_bytes())
    record = env.registry.publish(
        env.owner,
        "digits",
        weights,
        framework="numpy",
        architecture={
            "kind": "mlp",
            "inputs": features,
            "hidden": list(hidden),
            "classes": classes,
        },
        inputs=[{"name": "x", "dtype": "float32", "shape": [None, features]}],
        outputs=[{"name": "probabilities", "dtype": "float32", "shape": [None, classes]}],
        license="MIT",
    )
    return record.version


def publish_traced_mlp(
    env: Env, tmp_path: Path, **mlp: Any
) -> tuple[int, FixedPointNetwork, OptimisticClient]:
    """Publish an MLP (``publish_mlp``'s options), have every provider serve it and bind its
    fixed-point trace model; return the version, the network and an optimistic client."""
    version = publish_mlp(env, tmp_path, **mlp)
    for key in env.providers:
        env.oracle.serve(key, "digits", version)
    model, _ = load_network(env.registry, "digits", version)
    network = FixedPointNetwork.from_mlp(model)
    client = OptimisticClient(env.chain, env.oracle.deployment, env.oracle)
    client.bind_trace(env.owner, "digits", version, network)
    return version, network, client


@dataclass
class Net:
    env: Env
    version: int
    providers: LocalProviders

    @property
    def nodes(self) -> list[ProviderNode]:
        return self.providers.nodes

    @property
    def servers(self) -> dict[str, HttpServer]:
        return self.providers.servers

    @property
    def paused(self) -> set[str]:
        return self.providers.paused

    @property
    def stop(self) -> threading.Event:
        return self.providers.stopping

    def gateway(self, **policy: object) -> Gateway:
        fields: dict[str, object] = {
            "redundancy": 5,
            "quorum": 3,
            "deadline_blocks": 400,
            "fee": 5 * TOKEN,
            "wait_seconds": 60.0,
            "gather_timeout": 10.0,
        }
        fields.update(policy)
        key = self.env.client
        return Gateway(self.env.oracle, self.env.store, key, GatewayPolicy(**fields))  # type: ignore[arg-type]


@contextmanager
def provider_net(
    env: Env,
    tmp_path: Path,
    *,
    liars: int = 0,
    report_after: float = 2.0,
    block_seconds: float = 0.2,
) -> Iterator[Net]:
    """Start five provider nodes on ``digits@3`` (the first ``liars`` lie) and the clocks."""
    version = publish_mlp(env, tmp_path)
    providers = LocalProviders(
        env.chain,
        env.oracle.deployment,
        env.store,
        env.providers[:5],
        [f"digits@{version}"],
        tmp_path,
        stake=100 * TOKEN,
        report_after=report_after,
        dishonest=range(liars),
        block_seconds=block_seconds,
    )
    with providers:
        yield Net(env, version, providers)
