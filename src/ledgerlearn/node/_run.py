"""Running a node from its configuration: connect, pick the key, build the role, run it.

:func:`run_configured_node` is what ``ledgerlearn node run --config NODE.toml`` does: it
waits for the chain to answer (a node may start before its chain), checks the deployment
manifest against the chain, takes its key from a keystore (or a development account on a
development chain), builds the role the ``[node]`` section names (:func:`build_node`),
serves a provider's HTTP API and the Prometheus endpoint when configured, and runs the node
until its work is over or ``stop`` is set. Experiments reuse it with their own trainer and
provider classes (:mod:`ledgerlearn.devnet`).

Trust assumption: the configuration and the keystore are the operator's; the chain's
answers are checked against the manifest before anything is sent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ledgerlearn._http import HttpServer
from ledgerlearn.config import Settings
from ledgerlearn.exceptions import ChainUnavailableError, ConfigError, KeystoreError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.learning.datasets import client_shard, load_dataset
from ledgerlearn.ledger import Chain, DeploymentManifest, dev_keys, open_chain
from ledgerlearn.node._aggregator import AggregatorNode
from ledgerlearn.node._auditor import AuditorNode
from ledgerlearn.node._base import Node
from ledgerlearn.node._provider import ProviderNode
from ledgerlearn.node._trainer import LocalData, TrainerNode
from ledgerlearn.node._verifier import VerifierNode
from ledgerlearn.node._watcher import WatcherNode
from ledgerlearn.oracle import Provider, provider_app
from ledgerlearn.storage import LocalContentStore

__all__ = ["ROLES", "build_node", "connect_waiting", "node_key", "run_configured_node"]

log = logging.getLogger("ledgerlearn.node")

TOKEN = 10**18
ROLES = ("trainer", "aggregator", "provider", "auditor", "watcher", "verifier")
"""Roles ``ledgerlearn node run`` can run."""

TrainerFactory = Callable[..., TrainerNode]


def connect_waiting(settings: Settings, keys: Sequence[Secp256k1Key], chain_id: int) -> Chain:
    """Open the chain, waiting up to ``[node] connect_wait_seconds`` for it to answer.

    Raises
    ------
    ChainUnavailableError
        If the chain does not answer in time.
    ChainIdMismatchError
        If it is not the manifest's chain.
    """
    deadline = time.monotonic() + settings.node.connect_wait_seconds
    delay = 0.5
    while True:
        try:
            return open_chain(settings.chain, keys=keys, expected_chain_id=chain_id)
        except ChainUnavailableError as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            log.warning(
                json.dumps({"event": "waiting for chain", "error": str(exc), "left": round(left)})
            )
            time.sleep(min(delay, left))
            delay = min(delay * 2, 5.0)


def node_key(
    settings: Settings, keys: Sequence[Secp256k1Key], dev_account: int | None, chain: Chain
) -> Secp256k1Key:
    """Return a process's signing key: the keystore's, or a dev account on a dev chain.

    Parameters
    ----------
    settings
        The process's settings (``[chain] use_dev_accounts``).
    keys
        Keys from ``[chain] keystore``.
    dev_account
        The development account's index (``[node] dev_account``, ``[gateway] dev_account``).
    chain
        The connected chain: development accounts are public keys, and only a
        development chain id offers them.

    Raises
    ------
    KeystoreError
        If the configuration names neither.
    """
    if keys:
        return keys[0]
    account = dev_account
    if account is not None and settings.chain.use_dev_accounts:
        if chain.backend.dev_accounts():  # offered on development chain ids only
            return dev_keys(account + 1)[account]
        raise KeystoreError(
            f"dev_account {account} refused: chain id {chain.chain_id} is not a development "
            "chain, and development keys are public; set [chain] keystore in the process's TOML"
        )
    raise KeystoreError(
        "no signing key: set [chain] keystore in the process's TOML, or a dev_account "
        "([node] or [gateway]) with [chain] use_dev_accounts = true on a development chain"
    )


def build_node(
    settings: Settings,
    chain: Chain,
    deployment: DeploymentManifest,
    key: Secp256k1Key,
    *,
    role: str | None = None,
    trainer: TrainerFactory = TrainerNode,
    provider_type: type[Provider] = Provider,
) -> Node[Any]:
    """Build the node the ``[node]`` settings describe.

    Parameters
    ----------
    settings
        The node's settings (its TOML).
    chain, deployment
        The connected chain and its verified manifest.
    key
        The node's key.
    role
        Overrides ``[node] role``.
    trainer
        Builds a trainer (experiments pass one that attacks).
    provider_type
        Computes a provider's answers (experiments pass one that lies).

    Raises
    ------
    ConfigError
        If the role is unknown or its section is incomplete.
    """
    node = settings.node
    chosen = role or node.role
    store = LocalContentStore(settings.storage.root)
    stake = node.stake * TOKEN
    if chosen == "trainer":
        dataset = load_dataset(node.data.dataset)
        if node.data.max_train is not None:
            dataset = dataset.subset(node.data.max_train)
        x, y = client_shard(
            dataset, node.data.partition, node.data.clients, node.data.index, node.data.seed
        )
        return trainer(
            chain,
            deployment,
            store,
            key,
            node.task,
            node.state_dir,
            data=LocalData(x, y),
            stake=stake,
        )
    if chosen == "aggregator":
        return AggregatorNode(chain, deployment, store, key, node.task, node.state_dir, stake=stake)
    if chosen == "provider":
        options = node.provider
        if not options.models:
            raise ConfigError(
                "a provider serves at least one model: set [node.provider] models = "
                '["name@production"] (or name@version) in the node\'s TOML'
            )
        return ProviderNode(
            chain,
            deployment,
            store,
            key,
            options.models,
            node.state_dir,
            backend=options.backend,
            stake=stake,
            endpoint=options.endpoint or f"http://{options.http_address}:{options.http_port}",
            report_after=options.report_after_seconds,
            provider_type=provider_type,
        )
    if chosen == "auditor":
        audit = node.auditor
        return AuditorNode(
            chain,
            deployment,
            store,
            key,
            _models(audit.models, "auditor"),
            node.state_dir,
            stake=stake,
            open_audits=audit.open_audits,
            vrf=audit.vrf,
            backend=audit.backend,
        )
    if chosen == "watcher":
        return WatcherNode(
            chain,
            deployment,
            store,
            key,
            _models(node.watcher.models, "watcher"),
            node.state_dir,
            finalize=node.watcher.finalize,
        )
    if chosen == "verifier":
        public = load_dataset(node.verifier.dataset)
        if node.verifier.max_train is not None:
            public = public.subset(node.verifier.max_train)
        return VerifierNode(
            chain,
            deployment,
            store,
            key,
            np.asarray(public.x_train, dtype=np.float32),
            np.asarray(public.y_train, dtype=np.int64),
            node.state_dir,
            stake=stake,
            vrf=node.verifier.vrf,
        )
    raise ConfigError(
        f"[node] role {chosen!r} is not one of {', '.join(ROLES)}; fix it in the node's TOML"
    )


def _models(models: Sequence[str], role: str) -> list[str]:
    if not models:
        raise ConfigError(
            f"an {role} needs the versions it checks: set [node.{role}] models = "
            '["name@production"] (or name@version) in the node\'s TOML'
        )
    return list(models)


def run_configured_node(
    settings: Settings,
    *,
    keys: Sequence[Secp256k1Key] = (),
    role: str | None = None,
    stop: threading.Event | None = None,
    trainer: TrainerFactory = TrainerNode,
    provider_type: type[Provider] = Provider,
) -> dict[str, Any]:
    """Connect, build and run the configured node until it finishes or ``stop`` is set.

    Parameters
    ----------
    settings
        The node's settings.
    keys
        Keys from a keystore (the first signs); empty to use ``[node] dev_account``.
    role
        Overrides ``[node] role``.
    stop
        Set it (a SIGTERM handler does) to end the run after the current step.
    trainer, provider_type
        As :func:`build_node`.

    Returns
    -------
    dict
        ``node``, ``role`` and, for a task participant, ``task`` and ``done``; for a
        provider, ``endpoint``.

    Raises
    ------
    ConfigError
        On the embedded back end (other processes cannot reach it) or a bad role.
    """
    if settings.chain.backend == "embedded":
        raise ConfigError(
            "a node needs a lasting chain: set [chain] backend = 'rpc' and rpc_url in the "
            "node's TOML"
        )
    stop = stop or threading.Event()
    deployment = DeploymentManifest.load(settings.deployment.manifest)
    with connect_waiting(settings, keys, deployment.chain_id) as chain:
        deployment.verify(chain)
        key = node_key(settings, keys, settings.node.dev_account, chain)
        node = build_node(
            settings,
            chain,
            deployment,
            key,
            role=role,
            trainer=trainer,
            provider_type=provider_type,
        )
        server: HttpServer | None = None
        summary: dict[str, Any] = {"node": key.address, "role": node.role}
        node.settle_unconfirmed()  # before setup sends anything
        if isinstance(node, ProviderNode):
            options = settings.node.provider
            server = HttpServer(
                provider_app(node.setup()), options.http_address, options.http_port
            ).start()
            summary["endpoint"] = node.endpoint
        if settings.node.metrics_port:
            node.metrics.serve(settings.node.metrics_port, settings.node.metrics_address)
        try:
            node.run(poll_seconds=settings.node.poll_seconds, stop=stop)
        finally:
            if server is not None:
                server.stop()
        if isinstance(node, TrainerNode | AggregatorNode):
            summary.update(task=node.task_id, done=node.finished)
        return summary
