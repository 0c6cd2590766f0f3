"""The training network with every node in its own OS process against anvil.

Trainers and aggregators are ``ledgerlearn node run`` processes meeting only through the
devnet and the content store. Mid-run a trainer and a committee member are SIGKILLed and
restarted from their state directories, and anvil itself is stopped and restarted under the
running nodes (its state kept in a file); the task still completes, every commit and claim
happens exactly once, and the evidence trail verifies.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from ledgerlearn.devnet import (
    NetworkConfig,
    drive_clock,
    setup_network,
    spawn_nodes,
    wait_for_joins,
)
from ledgerlearn.ledger import Chain, DevnetBackend
from ledgerlearn.ledger.enums import TrainingCoordinatorPhase
from ledgerlearn.protocol import deploy_protocol
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import TrainingClient, training_trail

CONFIG = NetworkConfig(
    model="digits-mlp",
    trainers=4,
    aggregators=3,
    attacks=("sign_flip:4",),
    rounds=2,
    byzantine=1,
    dataset="digits",
    partition="iid",
    max_train=None,
    hidden=(16,),
    join_blocks=80,
    commit_blocks=60,  # room for nodes slowed by the chain's restart on a loaded machine
    aggregate_blocks=30,
    min_trainers=2,
)


def history(client: TrainingClient, task_id: int) -> str:
    """The task's coordinator events in block order, one line each, for failure messages."""
    names = (
        "RoundOpened",
        "UpdateCommitted",
        "RoundExtended",
        "CommitteeRequested",
        "CommitteeSelected",
        "AggregatePosted",
        "RoundFinalised",
        "CommitteeFault",
        "TaskAborted",
        "TaskCompleted",
    )
    rows = sorted(
        (log["blockNumber"], log["logIndex"], name, dict(log["args"]))
        for name in names
        for log in client.events(name, task_id)
    )
    return "\n".join(f"block {block}: {name} {args}" for block, _, name, args in rows)


@pytest.mark.slow
def test_nodes_as_processes_survive_sigkill_and_finish_the_task(tmp_path: Path) -> None:
    backend = DevnetBackend(state_path=tmp_path / "anvil-state.json")
    with Chain(backend) as chain:
        manifest = deploy_protocol(chain, chain.accounts[0])
        manifest_path = manifest.save(tmp_path / "deployment.json")
        store = LocalContentStore(tmp_path / "store")
        setup = setup_network(chain, manifest, store, chain.accounts[0], CONFIG)
        client = TrainingClient(chain, manifest)
        nodes = spawn_nodes(
            chain, manifest_path, tmp_path / "store", setup, CONFIG, tmp_path / "nodes"
        )
        nodes.start_all()
        killed: set[str] = set()
        trainer, member_index = 0, CONFIG.trainers  # first trainer, first aggregator

        def chaos() -> None:
            task = client.task(setup.task_id)
            if "anvil" not in killed and task.round == 2:
                backend.stop()  # every node loses the chain for a few seconds
                killed.add("anvil")
                time.sleep(3.0)
                backend.start()
            if (
                "trainer" not in killed
                and task.round == 1
                and client.round(setup.task_id, 1).commits >= 1
            ):
                nodes.kill(trainer)
                killed.add("trainer")
                time.sleep(1.0)
                nodes.start(trainer)
            if "member" not in killed and task.phase.label in ("selecting", "aggregating"):
                nodes.kill(member_index)
                killed.add("member")
                time.sleep(1.0)
                nodes.start(member_index)

        try:
            members = [k.address for k in (*setup.trainer_keys, *setup.aggregator_keys)]
            # Processes take seconds to start on a loaded machine; the join window counts
            # blocks, so nothing is mined until every node is in.
            wait_for_joins(client, setup.task_id, members, timeout=300, alive=nodes.running)
            phase = drive_clock(chain, client, setup.task_id, tick=0.4, timeout=600, on_tick=chaos)
            deadline = time.monotonic() + 120  # let trainers claim the last round
            while time.monotonic() < deadline and any(
                p.poll() is None for p in nodes.processes.values()
            ):
                chain.mine(1)
                time.sleep(0.4)
        finally:
            nodes.stop_all()
        logs = "\n".join(
            p.read_text(errors="replace")[-2000:] for p in (tmp_path / "nodes").glob("*.log")
        )
        assert phase is TrainingCoordinatorPhase.COMPLETED, (
            history(client, setup.task_id) + "\n" + logs
        )
        assert killed == {"trainer", "member", "anvil"}
        commits = Counter(
            (log["args"]["trainer"], log["args"]["round"])
            for log in client.events("UpdateCommitted", setup.task_id)
        )
        assert set(commits.values()) == {1}
        claims = Counter(
            (log["args"]["trainer"], log["args"]["round"])
            for log in client.events("RewardClaimed", setup.task_id)
        )
        assert claims and set(claims.values()) == {1}, logs
        for index in range(CONFIG.trainers + CONFIG.aggregators):
            # Structured logs: every line a JSON object; trainers log each commit.
            lines = (tmp_path / "nodes" / f"node-{index}.log").read_text().splitlines()
            records = [json.loads(line) for line in lines if line.strip()]
            assert all(isinstance(r, dict) for r in records)
            if index < CONFIG.trainers:
                assert any(r.get("event") == "committed" and r["level"] == "info" for r in records)
        trail = training_trail(client, store, setup.task_id)
        assert [row.round for row in trail] == [1, 2]
        assert client.task(setup.task_id).registered_version == setup.base_version + 1
