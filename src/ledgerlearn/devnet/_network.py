"""Training networks for demos and tests: set up a task, its trainers and aggregators, run it.

:func:`setup_network` does what an organisation and its participants do before a task runs:
publish the base version (untrained weights of the spec's architecture), grant the
TrainingCoordinator the model's publisher role, store the spec, create the task with a
reward pool, and fund the participants' accounts. :func:`run_in_process` then drives every
node in one process, stepping each in turn and mining a block whenever none had anything to
do (the deadlines are in blocks); :func:`spawn_nodes` runs the same nodes as separate OS
processes against a devnet (``python -m ledgerlearn.devnet node``, which is ``ledgerlearn
node run`` with the experiment's attackers wrapped in). The demo and the tests use both.

Trust assumption: the driver only schedules; every decision is a node's, from the chain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3.types import Wei

from ledgerlearn.devnet.experiments import byzantine_trainer
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.learning.datasets import Dataset, client_shard, load_dataset
from ledgerlearn.learning.models import weights_from_bytes
from ledgerlearn.ledger import Chain, DeploymentManifest, dev_keys
from ledgerlearn.ledger.enums import TrainingCoordinatorPhase, TrainingCoordinatorRole
from ledgerlearn.node import AggregatorNode, LocalData, TaskNode, TrainerNode
from ledgerlearn.registry import ModelCard, ModelRegistryClient
from ledgerlearn.staking import TokenClient
from ledgerlearn.storage import ContentStore
from ledgerlearn.training import TaskConfig, TaskSpec, TrainingClient

__all__ = [
    "NetworkConfig",
    "NetworkSetup",
    "NodeProcesses",
    "drive_clock",
    "evaluate_weights",
    "fund",
    "make_nodes",
    "node_config",
    "run_in_process",
    "setup_network",
    "shard",
    "spawn_nodes",
]

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
    dp
        Client-level DP settings (``privacy.dp`` JSON of the spec), or ``None``.
    secagg
        Secure-aggregation settings (``privacy.secagg`` JSON of the spec), or ``None``.
    secagg_blocks
        Blocks per secure-aggregation window (used when ``secagg`` is set). On a chain that
        mines one block per transaction (the embedded chain, anvil's automine) every
        trainer's post takes a block, so a window needs more blocks than trainers.
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
    dp: dict[str, Any] | None = None
    secagg: dict[str, Any] | None = None
    secagg_blocks: int = 25


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
    return LocalData(*client_shard(dataset, spec, clients, index, seed))


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
        privacy={
            "transport": "x25519-sealed-box",
            **({"dp": config.dp} if config.dp else {}),
            **({"secagg": config.secagg} if config.secagg is not None else {}),
        },
    )
    spec.check_rounds(config.rounds)
    secagg_blocks = config.secagg_blocks if config.secagg is not None else 0
    spec.check_secagg(secagg_blocks, config.min_trainers)
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
    registry.set_role(owner, config.model, "publisher", client.address)
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
            secagg_blocks=secagg_blocks,
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
    token = TokenClient(chain, manifest)
    sender = chain.sender(funder)
    for key in keys:
        if chain.w3.eth.get_balance(key.address) < eth // 2:
            sender.send({"to": to_checksum_address(key.address), "value": Wei(eth)}, context="fund")
        if token.balance_of(key.address) < tokens // 2:
            token.transfer(funder, key.address, tokens)


def make_nodes(
    chain: Chain,
    manifest: DeploymentManifest,
    store: ContentStore,
    setup: NetworkSetup,
    config: NetworkConfig,
    state_root: Path,
) -> list[TaskNode]:
    """Build the network's nodes (trainers first, attackers wrapped), state under ``state_root``."""
    nodes: list[TaskNode] = []
    for index, key in enumerate(setup.trainer_keys):
        data = shard(setup.dataset, config.partition, config.trainers, index, config.seed)
        args = (chain, manifest, store, key, setup.task_id, state_root / f"trainer-{index}")
        attack = setup.attackers.get(key.address)
        nodes.append(
            byzantine_trainer(attack, *args, data=data, stake=200 * TOKEN)
            if attack
            else TrainerNode(*args, data=data, stake=200 * TOKEN)
        )
    for index, key in enumerate(setup.aggregator_keys):
        nodes.append(
            AggregatorNode(
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
    nodes: list[TaskNode],
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


def node_config(
    *,
    role: str,
    rpc_url: str,
    manifest: Path,
    store_root: Path,
    state_dir: Path,
    task_id: int,
    dev_account: int,
    config: NetworkConfig,
    index: int = 0,
    metrics_port: int = 0,
) -> str:
    """Return the TOML of one node's ``ledgerlearn node run --config`` file."""
    lines = [
        "[chain]",
        'backend = "rpc"',
        f'rpc_url = "{rpc_url}"',
        "use_dev_accounts = true",
        "[deployment]",
        f'manifest = "{manifest}"',
        "[storage]",
        f'root = "{store_root}"',
        "[node]",
        f'role = "{role}"',
        f"task = {task_id}",
        f'state_dir = "{state_dir}"',
        f"dev_account = {dev_account}",
        f"stake = {200 if role == 'trainer' else 500}",
        f"metrics_port = {metrics_port}",
        "poll_seconds = 0.2",
        "[node.data]",
        f'dataset = "{config.dataset}"',
        f'partition = "{config.partition}"',
        f"clients = {config.trainers}",
        f"index = {index}",
        f"seed = {config.seed}",
    ]
    if config.max_train is not None:
        lines.append(f"max_train = {config.max_train}")
    return "\n".join(lines) + "\n"


@dataclass
class NodeProcesses:
    """Every node of a network as its own OS process.

    Honest nodes run ``ledgerlearn node run``; an attacker runs the same code through
    ``python -m ledgerlearn.devnet node --attack SPEC``, which wraps its trainer.
    """

    configs: list[Path]
    logs: Path
    attacks: dict[int, str] = field(default_factory=dict)
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, index: int) -> None:
        """Start (or restart) node ``index``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLEARN_")}
        log = (self.logs / f"node-{index}.log").open("ab")
        attack = self.attacks.get(index)
        command = (
            ["-m", "ledgerlearn.devnet", "node", "--attack", attack]
            if attack
            else ["-m", "ledgerlearn.cli", "node", "run"]
        )
        self.processes[index] = subprocess.Popen(
            [sys.executable, *command, "--config", str(self.configs[index])],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def start_all(self) -> None:
        """Start every node."""
        for index in range(len(self.configs)):
            self.start(index)

    def kill(self, index: int) -> None:
        """SIGKILL node ``index`` (no chance to clean up)."""
        process = self.processes[index]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def running(self) -> bool:
        """Whether any node is still running."""
        return any(p.poll() is None for p in self.processes.values())

    def stop_all(self) -> None:
        """Terminate every node still running."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def spawn_nodes(
    chain: Chain,
    manifest_path: Path,
    store_root: Path,
    setup: NetworkSetup,
    config: NetworkConfig,
    workdir: Path,
) -> NodeProcesses:
    """Write a config per node and return the (not yet started) processes."""
    assert chain.rpc_url is not None, "processes need an RPC chain"
    workdir.mkdir(parents=True, exist_ok=True)
    configs = []
    attacks: dict[int, str] = {}
    keys = [*setup.trainer_keys, *setup.aggregator_keys]
    all_keys = [k.address for k in dev_keys(10 + len(keys))]
    for index, key in enumerate(keys):
        role = "trainer" if index < len(setup.trainer_keys) else "aggregator"
        path = workdir / f"node-{index}.toml"
        path.write_text(
            node_config(
                role=role,
                rpc_url=chain.rpc_url,
                manifest=manifest_path,
                store_root=store_root,
                state_dir=workdir / f"state-{index}",
                task_id=setup.task_id,
                dev_account=all_keys.index(key.address),
                config=config,
                index=index,
            )
        )
        configs.append(path)
        if key.address in setup.attackers:
            attacks[index] = setup.attackers[key.address]
    return NodeProcesses(configs, workdir, attacks)


def wait_for_joins(
    client: TrainingClient,
    task_id: int,
    accounts: list[str],
    *,
    timeout: float = 300.0,
    poll: float = 0.5,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Wait, without mining, until every one of ``accounts`` has joined task ``task_id``.

    Node processes take seconds to import and start; the join window is counted in blocks,
    so a driver must not mine until every node is in, however slow the machine.

    Raises
    ------
    TimeoutError
        If some account has not joined within ``timeout`` seconds (the message names them),
        or ``alive`` reports that the node processes have died.
    """
    deadline = time.monotonic() + timeout
    while True:
        missing = [
            account
            for account in accounts
            if client.role_of(task_id, account) is TrainingCoordinatorRole.NONE
        ]
        if not missing:
            return
        if time.monotonic() > deadline or (alive is not None and not alive()):
            raise TimeoutError(
                f"{len(missing)} node(s) did not join task {task_id} within {timeout:.0f} s: "
                + ", ".join(missing)
            )
        time.sleep(poll)


def drive_clock(
    chain: Chain,
    client: TrainingClient,
    task_id: int,
    *,
    tick: float = 0.25,
    timeout: float = 900.0,
    on_tick: Callable[[], None] | None = None,
) -> TrainingCoordinatorPhase:
    """Mine a block every ``tick`` seconds until the task ends; return its final phase.

    Deadlines are counted in blocks; on a devnet with automine, blocks only come with
    transactions, so something must keep the clock going while nodes wait.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        phase = client.task(task_id).phase
        if phase in (TrainingCoordinatorPhase.COMPLETED, TrainingCoordinatorPhase.ABORTED):
            return phase
        chain.mine(1)
        if on_tick is not None:
            on_tick()
        time.sleep(tick)
    raise TimeoutError(f"task {task_id} did not end within {timeout:.0f} s")
