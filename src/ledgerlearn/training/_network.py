"""A training network on one machine: set up a task, its trainers and aggregators, run it.

:func:`setup_network` does what an organisation and its participants do before a task runs:
publish the base version (untrained weights of the spec's architecture), grant the
TrainingCoordinator the model's publisher role, store the spec, create the task with a
reward pool, and fund the participants' accounts. :func:`run_in_process` then drives every
node in one process, stepping each in turn and mining a block whenever none had anything to
do (the deadlines are in blocks); ``ledgerlearn node run`` runs the same nodes as separate
processes against a devnet. The demo and the tests use both.

Trust assumption: the driver only schedules; every decision is a node's, from the chain.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from eth_utils import to_checksum_address
from web3.types import Wei

from ledgerlearn.identity import Secp256k1Key
from ledgerlearn.learning.datasets import Dataset, load_dataset, partition
from ledgerlearn.learning.models import weights_from_bytes
from ledgerlearn.ledger import Chain, DeploymentManifest, dev_keys
from ledgerlearn.registry import ModelCard, ModelRegistryClient
from ledgerlearn.storage import ContentStore
from ledgerlearn.training._client import TaskConfig, TrainingClient
from ledgerlearn.training._node import LocalData, TrainingNode
from ledgerlearn.training._spec import TaskSpec

__all__ = ["NetworkConfig", "NetworkSetup", "run_in_process", "setup_network", "shard"]

TOKEN = 10**18


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """The shape of a demo or test network.

    Attributes
    ----------
    model
        Registry model name.
    trainers, aggregators
        How many of each.
    attacks
        Attack specs given to the last trainers, one each (evaluation only).
    rounds, rule, byzantine
        Task rounds and aggregation rule with its ``f``.
    dataset, partition, max_train
        The data the trainers' shards are cut from.
    hidden, local
        Model hidden widths and local training settings.
    committee_size, quorum
        Committee draw.
    commit_blocks, aggregate_blocks, join_blocks
        Deadlines.
    max_rejections
        Rounds a trainer may be rejected in before it is slashable.
    seed
        Partition seed.
    """

    model: str = "mnist-mlp"
    trainers: int = 10
    aggregators: int = 3
    attacks: tuple[str, ...] = ("sign_flip:4", "gaussian:0.5")
    rounds: int = 5
    rule: str = "trimmed_mean"
    byzantine: int = 2
    dataset: str = "mnist"
    partition: str = "dirichlet:0.5"
    max_train: int | None = 20_000
    hidden: tuple[int, ...] = (128,)
    local: dict[str, Any] = field(
        default_factory=lambda: {"epochs": 1, "batch_size": 32, "learning_rate": 0.05}
    )
    committee_size: int = 3
    quorum: int = 2
    join_blocks: int = 150
    commit_blocks: int = 25
    aggregate_blocks: int = 25
    max_rejections: int = 2
    min_trainers: int = 3
    seed: int = 0


@dataclass
class NetworkSetup:
    """What :func:`setup_network` made."""

    task_id: int
    spec: TaskSpec
    spec_cid: str
    dataset: Dataset
    trainer_keys: list[Secp256k1Key]
    aggregator_keys: list[Secp256k1Key]
    attackers: dict[str, str]
    base_version: int


def shard(dataset: Dataset, spec: str, clients: int, index: int, seed: int) -> LocalData:
    """Return trainer ``index``'s shard of ``dataset`` partitioned by ``spec``."""
    parts = partition(dataset, spec, clients, seed)
    rows = parts[index]
    return LocalData(
        np.asarray(dataset.x_train[rows], dtype=np.float32), np.asarray(dataset.y_train[rows])
    )


def setup_network(
    chain: Chain,
    manifest: DeploymentManifest,
    store: ContentStore,
    owner: Secp256k1Key,
    config: NetworkConfig,
) -> NetworkSetup:
    """Publish the base version, create the task and fund its participants.

    Parameters
    ----------
    chain, manifest, store
        The deployed protocol and the content store.
    owner
        The organisation's account: it owns the model and pays the reward pool and the
        participants' stakes (it holds the token supply on a fresh deployment).
    config
        The network's shape.

    Returns
    -------
    NetworkSetup
        The task and the participants' keys.
    """
    dataset = load_dataset(config.dataset)
    if config.max_train is not None:
        dataset = dataset.subset(config.max_train)
    spec = TaskSpec(
        architecture={
            "kind": "mlp",
            "inputs": int(dataset.num_features),
            "hidden": list(config.hidden),
            "classes": int(dataset.num_classes),
        },
        local=dict(config.local),
        rule=config.rule,
        byzantine=config.byzantine,
        dataset=config.dataset,
    )
    spec_cid = str(store.put(spec.to_bytes()))
    registry = ModelRegistryClient(chain, manifest, store)
    client = TrainingClient(chain, manifest)
    if config.model not in registry.model_names():
        registry.create_model(owner, config.model)
    base = spec.build_model()
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "base.safetensors"
        weights.write_bytes(base.to_bytes())
        record = registry.publish(
            owner,
            config.model,
            weights,
            framework="numpy",
            architecture=spec.architecture,
            inputs=[
                {"name": "x", "dtype": "float32", "shape": [None, spec.architecture["inputs"]]}
            ],
            outputs=[
                {
                    "name": "logits",
                    "dtype": "float32",
                    "shape": [None, spec.architecture["classes"]],
                }
            ],
            license="Apache-2.0",
            preprocessing={"dataset": config.dataset, "scale": "as the ledgerlearn loader"},
            card=ModelCard(summary=f"{config.dataset} classifier trained on the ledger"),
        )
    registry.set_role(owner, config.model, "publisher", client.coordinator.address)
    keys = dev_keys(10 + config.trainers + config.aggregators)[10:]
    trainer_keys, aggregator_keys = keys[: config.trainers], keys[config.trainers :]
    fund(chain, manifest, owner, keys, eth=10 * TOKEN, tokens=2_000 * TOKEN)
    task_id = client.create_task(
        owner,
        TaskConfig(
            model=config.model,
            base_version=record.version,
            spec_cid=spec_cid,
            rounds=config.rounds,
            min_trainers=config.min_trainers,
            committee_size=config.committee_size,
            quorum=config.quorum,
            join_blocks=config.join_blocks,
            commit_blocks=config.commit_blocks,
            aggregate_blocks=config.aggregate_blocks,
            max_rejections=config.max_rejections,
        ),
    )
    attackers: dict[str, str] = {
        str(key.address): attack
        for key, attack in zip(
            trainer_keys[config.trainers - len(config.attacks) :], config.attacks, strict=True
        )
    }
    return NetworkSetup(
        task_id, spec, spec_cid, dataset, trainer_keys, aggregator_keys, attackers, record.version
    )


def fund(
    chain: Chain,
    manifest: DeploymentManifest,
    funder: Secp256k1Key,
    keys: list[Secp256k1Key],
    *,
    eth: int,
    tokens: int,
) -> None:
    """Send gas money and tokens to each of ``keys`` (skipping what they already have)."""
    token = chain.contract("LedgerToken", manifest.get_address("LedgerToken"))
    sender = chain.sender(funder)
    for key in keys:
        if chain.w3.eth.get_balance(key.address) < eth // 2:
            sender.send({"to": to_checksum_address(key.address), "value": Wei(eth)}, context="fund")
        if int(token.functions.balanceOf(key.address).call()) < tokens // 2:
            sender.transact(token.functions.transfer(key.address, tokens))


def make_nodes(
    chain: Chain,
    manifest: DeploymentManifest,
    store: ContentStore,
    setup: NetworkSetup,
    config: NetworkConfig,
    state_root: Path,
) -> list[TrainingNode]:
    """Build the network's nodes (trainers first), state under ``state_root``."""
    nodes = []
    for index, key in enumerate(setup.trainer_keys):
        data = shard(setup.dataset, config.partition, config.trainers, index, config.seed)
        data = LocalData(data.x, data.y, setup.attackers.get(key.address))
        nodes.append(
            TrainingNode(
                "trainer",
                chain,
                manifest,
                store,
                key,
                setup.task_id,
                state_root / f"trainer-{index}",
                data=data,
                stake=200 * TOKEN,
            )
        )
    for index, key in enumerate(setup.aggregator_keys):
        nodes.append(
            TrainingNode(
                "aggregator",
                chain,
                manifest,
                store,
                key,
                setup.task_id,
                state_root / f"aggregator-{index}",
                stake=500 * TOKEN,
            )
        )
    return nodes


def run_in_process(
    chain: Chain,
    nodes: list[TrainingNode],
    *,
    max_idle_blocks: int = 2_000,
    on_step: Callable[[], None] | None = None,
) -> None:
    """Step every node until all are finished, mining a block whenever all are idle.

    Parameters
    ----------
    chain
        The chain the nodes use.
    nodes
        The nodes.
    max_idle_blocks
        Give up (RuntimeError) after mining this many idle blocks in a row without progress.
    on_step
        Called after every sweep over the nodes (progress reporting).
    """
    idle = 0
    while not all(node.finished for node in nodes):
        acted = False
        for node in nodes:
            if not node.finished:
                acted = node.step() or acted
        if on_step is not None:
            on_step()
        if acted:
            idle = 0
            continue
        # Nobody can act before a deadline passes: mine up to the earliest one.
        wakes = [n.wake_block for n in nodes if n.wake_block is not None and not n.finished]
        head = chain.block_number
        blocks = max(1, min(wakes) - head) if wakes else 1
        chain.mine(blocks)
        idle += blocks
        if idle > max_idle_blocks:
            raise RuntimeError(f"no node made progress in {max_idle_blocks} blocks")


def evaluate_weights(spec: TaskSpec, raw: bytes, dataset: Dataset) -> float:
    """Test accuracy of safetensors ``raw`` weights on ``dataset``."""
    model = spec.build_model()
    model.set_weights(dict(weights_from_bytes(raw)))
    return float(model.evaluate(dataset.x_test, dataset.y_test)["accuracy"])
