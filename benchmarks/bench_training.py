"""Benchmarks for ledger-coordinated training (issue #6).

1. Gas per round as trainers grow (10, 50, 100): the mean per-trainer ``commitUpdate`` and
   the gas of the committee draw, committee selection and the finalising post (which must
   not grow with the number of trainers).
2. Wall time of one round on a devnet (anvil) with 10 trainers and a 100k-parameter MNIST
   MLP, every node in this process, beside one plain Flower round of the same model and
   clients (``flower_round.py`` in Flower's virtualenv), in the same run.

Writes benchmarks/results/training.md.

    python benchmarks/bench_training.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean

import numpy as np
from eth_utils import keccak

from ledgerlearn.devnet import (
    NetworkConfig,
    make_nodes,
    setup_network,
    shard,
)
from ledgerlearn.learning.datasets import load_dataset
from ledgerlearn.ledger import Chain, DevnetBackend
from ledgerlearn.ledger.enums import TrainingCoordinatorRole
from ledgerlearn.node import AggregatorNode
from ledgerlearn.protocol import deploy_protocol
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import AggregatePost, TaskSpec, TrainingClient

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "training.md"
TOKEN = 10**18


def gas_for(trainers: int) -> dict[str, float]:
    """Run one round with ``trainers`` commits at contract level and return gas figures."""
    with Chain() as chain, tempfile.TemporaryDirectory() as tmp:
        owner = chain.accounts[0]
        manifest = deploy_protocol(chain, owner)
        store = LocalContentStore(Path(tmp) / "store")
        config = NetworkConfig(
            model="digits-mlp",
            trainers=trainers,
            aggregators=3,
            attacks=(),
            dataset="digits",
            partition="iid",
            max_train=None,
            hidden=(16,),
            rounds=2,
            join_blocks=10 * trainers + 60,
            commit_blocks=trainers + 10,
            min_trainers=1,
        )
        setup = setup_network(chain, manifest, store, owner, config)
        client = TrainingClient(chain, manifest)
        for key in setup.trainer_keys:
            client.staking.stake(key, 100 * TOKEN)
            client.join(key, setup.task_id, TrainingCoordinatorRole.TRAINER)
        members = [
            AggregatorNode(chain, manifest, store, key, setup.task_id, Path(tmp) / key.address)
            for key in setup.aggregator_keys
        ]
        for member in members:
            member.setup()
        chain.mine(max(0, client.task(setup.task_id).join_deadline - chain.block_number))
        cid = setup.spec_cid
        commit_gas = [
            client.commit(key, setup.task_id, 1, keccak(text=key.address), cid)
            for key in setup.trainer_keys
        ]
        chain.mine(client.round(setup.task_id, 1).commit_deadline - chain.block_number + 1)
        before = dict(client.gas)
        client.advance(owner, setup.task_id)
        request_gas = client.gas["advance"] - before.get("advance", 0)
        request = client.committee_request_id(setup.task_id, 1)
        chain.mine(2)
        assigned = members[0].beacon.assigned_key(request)
        holder = next(
            m
            for m in members
            if m.beacon.contract.functions.keyIndexOf(m.address).call() == assigned
        )
        fulfil = holder.beacon.fulfil(holder.key, holder.vrf_key, request)
        client.advance(owner, setup.task_id)
        select_gas = client.gas["advance"] - before.get("advance", 0) - request_gas
        post = AggregatePost(b"\x01" * 32, cid, b"\x02" * 32, trainers * 10**6, cid)
        committee = client.committee(setup.task_id, 1)
        by_address = {k.address: k for k in setup.aggregator_keys}
        posts = []
        for member in committee[:2]:
            start = client.gas["postAggregate"]
            client.post(by_address[member], setup.task_id, 1, post)
            posts.append(client.gas["postAggregate"] - start)
        return {
            "commit": mean(commit_gas),
            "commit_max": max(commit_gas),
            "request": request_gas,
            "fulfil": fulfil.gas_used,
            "select": select_gas,
            "post": posts[0],
            "finalise": posts[1],
        }


def ledger_round() -> tuple[float, int]:
    """Seconds of round 2 on anvil with 10 trainers (in-process nodes), and the parameter count."""
    config = NetworkConfig(attacks=(), rounds=2, commit_blocks=25, aggregate_blocks=25)
    with Chain(DevnetBackend()) as chain, tempfile.TemporaryDirectory() as tmp:
        owner = chain.accounts[0]
        manifest = deploy_protocol(chain, owner)
        store = LocalContentStore(Path(tmp) / "store")
        setup = setup_network(chain, manifest, store, owner, config)
        nodes = make_nodes(chain, manifest, store, setup, config, Path(tmp) / "nodes")
        client = TrainingClient(chain, manifest)
        started = None
        while True:
            acted = False
            for node in nodes:
                acted = node.step() or acted
            task = client.task(setup.task_id)
            if started is None and task.round == 2:
                started = time.perf_counter()
            if started is not None and (task.phase.label == "completed" or task.round > 2):
                elapsed = time.perf_counter() - started
                break
            if not acted:
                wakes = [n.wake_block for n in nodes if n.wake_block is not None]
                chain.mine(max(1, min(wakes) - chain.block_number) if wakes else 1)
        parameters = sum(
            int(np.prod(v.shape)) for v in setup.spec.build_model().get_weights().values()
        )
        return elapsed, parameters


def flower_rounds() -> dict[str, float] | None:
    """Time Flower on the same model and clients: in-process strategy round, and a simulation.

    Returns ``None`` when Flower's virtualenv is missing (``make bench`` creates it).
    """
    python = HERE / ".venv-flower" / "bin" / "python"
    if not python.exists():
        return None
    config = NetworkConfig(attacks=())
    dataset = load_dataset(config.dataset).subset(config.max_train)
    model = TaskSpec(
        architecture={"kind": "mlp", "inputs": 784, "hidden": list(config.hidden), "classes": 10},
        local=dict(config.local),
    ).build_model()
    weights = model.get_weights()
    arrays: dict[str, np.ndarray] = {f"w_{n}": v for n, v in weights.items()}
    for index in range(config.trainers):
        part = shard(dataset, config.partition, config.trainers, index, config.seed)
        arrays[f"x{index}"], arrays[f"y{index}"] = part.x, part.y
    local = json.dumps({**config.local, "seed": 0})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "round.npz"
        np.savez(
            path,
            names=np.array(sorted(weights)),
            clients=config.trainers,
            hidden=config.hidden[0],
            local=local,
            **arrays,
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(HERE.parent / "src"),
            "LEDGERLEARN_FLOWER_INPUT": str(path),
            "LEDGERLEARN_FLOWER_OUTPUT": str(Path(tmp) / "out.json"),
        }
        plain = subprocess.run(
            [str(python), str(HERE / "flower_round.py"), str(path)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        simulated = subprocess.run(
            [str(python), str(HERE / "flower_sim_round.py")],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    sim = json.loads(simulated.stdout.strip().splitlines()[-1])
    return {
        "inprocess": float(json.loads(plain.stdout.strip().splitlines()[-1])["seconds"]),
        "simulation": float(sim["round"]),
        "simulation_total": float(sim["total"]),
    }


def main() -> None:
    rows = []
    for trainers in (10, 50, 100):
        figures = gas_for(trainers)
        rows.append((trainers, figures))
        print(trainers, figures, flush=True)
    ours, parameters = ledger_round()
    flower = flower_rounds()
    print("ledger round", ours, "flower", flower, flush=True)
    lines = [
        "# Ledger-coordinated training",
        "",
        f"Machine: {os.cpu_count()} cores. Command: `python benchmarks/bench_training.py`.",
        "",
        "## Gas per round as trainers grow",
        "",
        "Per-trainer `commitUpdate` (target ≤ 60,000) and the round's fixed costs: closing",
        "commits and requesting the committee draw, the beacon fulfilment, selecting the",
        "committee, a member's post, and the post that reaches quorum and finalises (target:",
        "independent of the number of trainers).",
        "",
        "| trainers | commit (mean) | commit (max) | close + request | fulfil | select committee "
        "| post | finalising post |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for trainers, f in rows:
        lines.append(
            f"| {trainers} | {f['commit']:,.0f} | {f['commit_max']:,.0f} | {f['request']:,.0f} | "
            f"{f['fulfil']:,.0f} | {f['select']:,.0f} | {f['post']:,.0f} | {f['finalise']:,.0f} |"
        )
    lines += [
        "",
        "## Wall time of one round",
        "",
        f"10 trainers, MNIST MLP with {parameters:,} parameters, Dirichlet 0.5 shards of 20,000",
        "examples, one local epoch, the same NumPy training code everywhere. Ledger: round 2 on",
        "anvil, every node in one process, from the round opening to the finalising post",
        "(training, sealing and storing 10 updates, 10 commit transactions, the committee draw",
        "and its VRF fulfilment, 3 members decrypting, aggregating and posting; blocks mined as",
        "soon as every node waits for a deadline). Flower simulation: `run_simulation` with",
        "`FedAvg` over ten `NumPyClient`s on Ray (round timed inside the strategy, from",
        "`configure_fit` to the end of `aggregate_fit`). Flower in-process: the same clients and",
        "strategy called directly, with no transport at all (a lower bound).",
        "",
        "| system | seconds per round | ours / it |",
        "|---|---:|---:|",
        f"| ledgerlearn on anvil | {ours:.2f} | 1.00 |",
    ]
    if flower:
        lines += [
            f"| Flower simulation (Ray, 1 round; {flower['simulation_total']:.1f} s with "
            f"start-up) | {flower['simulation']:.2f} | {ours / flower['simulation']:.2f} |",
            f"| Flower in-process (no transport) | {flower['inprocess']:.2f} | "
            f"{ours / flower['inprocess']:.2f} |",
        ]
    else:
        lines.append("| Flower | not installed (`make bench` creates it) | |")
    lines.append("")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
