"""CLI areas for ledger-coordinated training: ``stake``, ``task`` and ``node``.

``node run --config FILE`` is the long-running trainer or aggregator: it reads ``[chain]``,
``[deployment]``, ``[storage]`` and ``[node]`` from the file, serves Prometheus metrics on
``[node] metrics_port`` and logs one JSON object per line.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledgerlearn._logging import configure_json_logging
from ledgerlearn.cli._options import (
    AccountOption,
    BackendOption,
    DevAccountsOption,
    JsonOption,
    KeystoreOption,
    ManifestOption,
    PasswordFileOption,
    RpcOption,
    StoreRootOption,
)
from ledgerlearn.cli._output import Output
from ledgerlearn.cli._registry import _options, _reading, _session

if TYPE_CHECKING:
    from ledgerlearn.config import Settings
    from ledgerlearn.identity import Secp256k1Key
    from ledgerlearn.ledger import Chain

__all__ = ["node_app", "stake_app", "task_app"]

TOKEN = 10**18

stake_app = typer.Typer(help="Stakes in the StakeVault.", no_args_is_help=True)
task_app = typer.Typer(help="Training tasks on the TrainingCoordinator.", no_args_is_help=True)
node_app = typer.Typer(help="Run a trainer or aggregator node.", no_args_is_help=True)


def _client(session: Any) -> Any:
    from ledgerlearn.training import TrainingClient

    return TrainingClient(session.chain, session.deployment)


@stake_app.command("deposit")
def stake_deposit(
    amount: Annotated[float, typer.Argument(help="Whole tokens (LLT) to stake.")],
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Approve and stake AMOUNT tokens from your account."""
    out = Output(json_output)
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        client = _client(s)
        client.stake(s.key, int(amount * TOKEN))
        out.result({"account": s.key.address, "stake": client.stake_of(s.key.address)})


@stake_app.command("unbond")
def stake_unbond(
    amount: Annotated[float, typer.Argument(help="Whole tokens to start unbonding.")],
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Start unbonding AMOUNT tokens (still slashable until released)."""
    out = Output(json_output)
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        release = _client(s).unbond(s.key, int(amount * TOKEN))
        out.result({"account": s.key.address, "releaseBlock": release})


@stake_app.command("withdraw")
def stake_withdraw(
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Withdraw every released unbonding entry."""
    out = Output(json_output)
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        amount = _client(s).withdraw(s.key)
        out.result({"account": s.key.address, "withdrawn": amount})


@stake_app.command("show")
def stake_show(
    address: Annotated[str, typer.Argument(help="Account to show.")],
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show an account's active, unbonding and slashed stake, and the vault's totals."""
    out = Output(json_output)
    with _reading(backend, rpc_url, manifest) as s:
        client = _client(s)
        f = client.vault.functions
        out.result(
            {
                "account": address,
                "active": client.stake_of(address),
                "unbonding": int(s.chain.call(f.unbondingOf(address))),
                "slashed": int(s.chain.call(f.slashedOf(address))),
                "vault": client.vault_totals(),
            }
        )


@task_app.command("create")
def task_create(
    model: Annotated[str, typer.Option(help="Registry model name.")],
    base_version: Annotated[int, typer.Option(help="Registry version to start from.")],
    spec: Annotated[Path, typer.Option(help="Task spec JSON (see docs/training.md).")],
    rounds: Annotated[int, typer.Option(min=1)] = 5,
    min_trainers: Annotated[int, typer.Option(min=1)] = 3,
    committee_size: Annotated[int, typer.Option(min=1)] = 3,
    quorum: Annotated[int, typer.Option(min=1)] = 2,
    join_blocks: Annotated[int, typer.Option(min=1)] = 150,
    commit_blocks: Annotated[int, typer.Option(min=1)] = 25,
    aggregate_blocks: Annotated[int, typer.Option(min=1)] = 25,
    max_rejections: Annotated[int, typer.Option(min=0)] = 2,
    secagg_blocks: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Blocks per secure-aggregation window (default 25 when the spec has "
            "privacy.secagg, else 0).",
        ),
    ] = None,
    min_stake: Annotated[float, typer.Option(help="Whole tokens.")] = 100,
    reward_pool: Annotated[float, typer.Option(help="Whole tokens.")] = 1_000,
    slash_amount: Annotated[float, typer.Option(help="Whole tokens.")] = 50,
    license: Annotated[str, typer.Option(help="SPDX licence of the result.")] = "Apache-2.0",
    owner: Annotated[str | None, typer.Option(help="Owner identity (default: you).")] = None,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Store a task spec and create a task with a reward pool (you must own the model)."""
    from ledgerlearn.training import TaskConfig, TaskSpec

    out = Output(json_output)
    parsed = TaskSpec.from_bytes(spec.read_bytes())
    parsed.check_rounds(rounds)  # a DP task whose rounds overspend its budget is refused
    if secagg_blocks is None:
        secagg_blocks = 25 if parsed.secagg is not None else 0
    parsed.check_secagg(secagg_blocks, min_trainers)
    opts = _options(
        backend, rpc_url, manifest, keystore, password_file, dev_accounts, account, root
    )
    with _session(opts) as s:
        spec_cid = str(s.store.put(parsed.to_bytes()))
        config = TaskConfig(
            model=model,
            base_version=base_version,
            spec_cid=spec_cid,
            license=license,
            rounds=rounds,
            min_trainers=min_trainers,
            committee_size=committee_size,
            quorum=quorum,
            join_blocks=join_blocks,
            commit_blocks=commit_blocks,
            aggregate_blocks=aggregate_blocks,
            max_rejections=max_rejections,
            min_stake=int(min_stake * TOKEN),
            reward_pool=int(reward_pool * TOKEN),
            slash_amount=int(slash_amount * TOKEN),
            secagg_blocks=secagg_blocks,
        )
        task_id = _client(s).create_task(s.key, config, owner=owner)
        out.result({"task": task_id, "spec": spec_cid})


@task_app.command("status")
def task_status(
    task_id: Annotated[int, typer.Argument(help="The task.")],
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a task's phase, round, deadlines, committee and finalised rounds."""
    from dataclasses import asdict

    out = Output(json_output)
    with _reading(backend, rpc_url, manifest) as s:
        client = _client(s)
        task = client.task(task_id)
        state = client.round(task_id, task.round)
        finals = client.finalised(task_id)
        out.result(
            {
                "task": task_id,
                "phase": task.phase,
                "round": task.round,
                "block": s.chain.block_number,
                "joinDeadline": task.join_deadline,
                "trainers": task.trainers,
                "aggregators": client.aggregators(task_id),
                "currentRound": asdict(state),
                "committee": client.committee(task_id, task.round),
                "finalised": {
                    str(r): {"aggregateCid": f["aggregateCid"], "recordCid": f["recordCid"]}
                    for r, f in finals.items()
                },
                "registeredVersion": task.registered_version,
                "config": asdict(task.config),
            }
        )


@task_app.command("trail")
def task_trail(
    task_id: Annotated[int, typer.Argument(help="The task.")],
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Verify a task's round records against the chain and print the evidence trail."""
    from ledgerlearn.training import training_trail

    out = Output(json_output)
    with _reading(backend, rpc_url, manifest, root) as s:
        trail = training_trail(_client(s), s.store, task_id)
        out.result({"task": task_id, "rounds": [row.to_json() for row in trail]})


def _connect_waiting(settings: Settings, keys: list[Secp256k1Key], chain_id: int) -> Chain:
    """Open the chain, waiting up to ``[node] connect_wait_seconds`` for it to answer.

    A node restarted while its RPC endpoint is briefly down (a devnet restart, a provider
    outage) waits for it, logging each attempt, instead of exiting.
    """
    from ledgerlearn.exceptions import ChainUnavailableError
    from ledgerlearn.ledger import open_chain

    deadline = time.monotonic() + settings.node.connect_wait_seconds
    delay = 0.5
    while True:
        try:
            return open_chain(settings.chain, keys=keys, expected_chain_id=chain_id)
        except ChainUnavailableError as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            logging.getLogger("ledgerlearn.node").warning(
                json.dumps({"event": "waiting for chain", "error": str(exc), "left": round(left)})
            )
            time.sleep(min(delay, left))
            delay = min(delay * 2, 5.0)


def _node_key(settings: Settings, keys: list[Secp256k1Key], dev_account: int | None) -> Any:
    """Return the node's signing key: the keystore's, or a dev account on a dev chain."""
    from ledgerlearn.exceptions import KeystoreError

    if keys:
        return keys[0]
    if dev_account is not None and settings.chain.use_dev_accounts:
        from ledgerlearn.ledger import dev_keys

        return dev_keys(dev_account + 1)[dev_account]
    raise KeystoreError(
        "no signing key: set [chain] keystore, or a dev_account with "
        "[chain] use_dev_accounts = true on a development chain"
    )


def _keystore_keys(settings: Settings, password_file: Path | None) -> list[Secp256k1Key]:
    from ledgerlearn.cli._app import _password
    from ledgerlearn.exceptions import KeystoreError
    from ledgerlearn.identity import Secp256k1Key, load_keystore

    if settings.chain.keystore is None:
        return []
    loaded = load_keystore(settings.chain.keystore, _password(password_file))
    if not isinstance(loaded, Secp256k1Key):
        raise KeystoreError(f"{settings.chain.keystore} holds an Ed25519 key; use secp256k1")
    return [loaded]


@node_app.command("run")
def node_run(
    config: Annotated[
        Path,
        typer.Option("--config", help="TOML with chain, deployment, storage and node sections."),
    ],
    role: Annotated[
        str | None,
        typer.Option(help="trainer, aggregator or provider (overrides the node section's role)."),
    ] = None,
    password_file: PasswordFileOption = None,
) -> None:
    """Run a trainer or aggregator until its task ends, or a provider until stopped.

    Safe to kill and restart: each resumes from its state directory and the chain.
    """
    from ledgerlearn.config import load_settings
    from ledgerlearn.exceptions import ConfigError
    from ledgerlearn.ledger import DeploymentManifest

    settings = load_settings(config)
    node = settings.node
    chosen = role or node.role
    if chosen not in ("trainer", "aggregator", "provider"):
        raise typer.BadParameter("--role must be trainer, aggregator or provider")
    if settings.chain.backend == "embedded":
        raise ConfigError("a node needs a lasting chain: set [chain] backend = 'rpc' and rpc_url")
    # JSON lines at INFO (DEBUG under --debug), replacing the CLI's plain WARNING default.
    configure_json_logging(min(logging.INFO, logging.getLogger().level))
    deployment = DeploymentManifest.load(settings.deployment.manifest)
    keys = _keystore_keys(settings, password_file)
    with _connect_waiting(settings, keys, deployment.chain_id) as chain:
        deployment.verify(chain)
        key = _node_key(settings, keys, node.dev_account)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        if chosen == "provider":
            _run_provider(settings, chain, deployment, key, stop)
            return
        _run_training(settings, chosen, chain, deployment, key, stop)


def _run_provider(settings: Settings, chain: Chain, deployment: Any, key: Any, stop: Any) -> None:
    from ledgerlearn._http import HttpServer
    from ledgerlearn.exceptions import ConfigError
    from ledgerlearn.oracle import ProviderNode, provider_app
    from ledgerlearn.storage import LocalContentStore

    node, options = settings.node, settings.node.provider
    if not options.models:
        raise ConfigError(
            "a provider serves at least one model: set [node.provider] models = "
            '["name@production"] (or name@version)'
        )
    endpoint = options.endpoint or f"http://{options.http_address}:{options.http_port}"
    runner = ProviderNode(
        chain,
        deployment,
        LocalContentStore(settings.storage.root),
        key,
        options.models,
        node.state_dir,
        backend=options.backend,
        stake=node.stake * TOKEN,
        endpoint=endpoint,
        report_after=options.report_after_seconds,
        dishonest=options.dishonest,
    )
    provider = runner.setup()
    server = HttpServer(provider_app(provider), options.http_address, options.http_port).start()
    if node.metrics_port:
        runner.metrics.serve(node.metrics_port, node.metrics_address)
    try:
        runner.run(poll_seconds=node.poll_seconds, stop=stop)
    finally:
        server.stop()
    typer.echo(json.dumps({"node": key.address, "role": "provider", "endpoint": endpoint}))


def _run_training(
    settings: Settings, chosen: str, chain: Chain, deployment: Any, key: Any, stop: Any
) -> None:
    from ledgerlearn.learning.datasets import load_dataset
    from ledgerlearn.storage import LocalContentStore
    from ledgerlearn.training import LocalData, TrainingNode
    from ledgerlearn.training._network import shard

    node = settings.node
    data = None
    if chosen == "trainer":
        dataset = load_dataset(node.data.dataset)
        if node.data.max_train is not None:
            dataset = dataset.subset(node.data.max_train)
        part = shard(
            dataset, node.data.partition, node.data.clients, node.data.index, node.data.seed
        )
        data = LocalData(part.x, part.y, node.data.attack)
    runner = TrainingNode(
        chosen,
        chain,
        deployment,
        LocalContentStore(settings.storage.root),
        key,
        node.task,
        node.state_dir,
        data=data,
        stake=node.stake * TOKEN,
    )
    if node.metrics_port:
        runner.metrics.serve(node.metrics_port, node.metrics_address)
    runner.run(poll_seconds=node.poll_seconds, stop=stop)
    typer.echo(
        json.dumps(
            {"node": key.address, "role": chosen, "task": node.task, "done": runner.finished}
        )
    )
