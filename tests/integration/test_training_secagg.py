"""Secure aggregation inside training rounds: chain windows, store blobs, the exact unmasked sum."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ledgerlearn.devnet import (
    NetworkConfig,
    make_nodes,
    run_in_process,
    setup_network,
)
from ledgerlearn.exceptions import ContractRevertError, InvalidTaskSpecError
from ledgerlearn.learning.models import weights_from_bytes
from ledgerlearn.learning.privacy import epsilon_for
from ledgerlearn.learning.weights import flatten, unflatten
from ledgerlearn.ledger import Chain
from ledgerlearn.node import TaskNode, TrainerNode
from ledgerlearn.protocol import deploy_protocol
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import TaskSpec, TrainingClient, training_trail
from ledgerlearn.training._secagg import MASKED_MAGIC, round_config, round_context
from tests.chains import fresh_chain
from tests.integration.digits_network import DIGITS

DP = {"clip": 1.0, "noiseMultiplier": 1.0, "epsilon": 8.0, "placement": "distributed"}
CONFIG = replace(
    DIGITS,
    model="digits-secagg",
    rule="fedavg",
    min_trainers=3,
    dp=DP,
    secagg={"bits": 24},
    secagg_blocks=6,
)


def _drop_at_step(node: TaskNode, step: int) -> None:
    """Make ``node`` go silent from secure-aggregation ``step`` on (a dropout)."""
    assert isinstance(node, TrainerNode)
    original = node._secagg_post

    def post(task: Any, round_number: int, at: int, action: str) -> bool:
        if at >= step:
            node.mark(action)
            return True
        return original(task, round_number, at, action)

    node._secagg_post = post  # type: ignore[method-assign]


_OPENED: list[Chain] = []


@pytest.fixture(autouse=True)
def _close_chains() -> Iterator[None]:
    """Stop the anvil each test's network ran on, after the test has read it."""
    yield
    while _OPENED:
        _OPENED.pop().close()


def _run(tmp_path: Path, config: NetworkConfig, drop: dict[int, int]) -> tuple[Any, ...]:
    chain = fresh_chain()
    _OPENED.append(chain)
    manifest = deploy_protocol(chain, chain.accounts[0])
    store = LocalContentStore(tmp_path / "store")
    setup = setup_network(chain, manifest, store, chain.accounts[0], config)
    nodes = make_nodes(chain, manifest, store, setup, config, tmp_path / "nodes")
    for index, step in drop.items():
        _drop_at_step(nodes[index], step)
    run_in_process(chain, nodes)
    return chain, manifest, store, setup, nodes


def test_secagg_round_posts_the_exact_unmasked_mean_with_a_dropout(tmp_path: Path) -> None:
    chain, manifest, store, setup, nodes = _run(tmp_path, CONFIG, {4: 2})
    client = TrainingClient(chain, manifest)
    assert client.task(setup.task_id).phase.label == "completed"
    trail = training_trail(client, store, setup.task_id)  # re-derives each epsilon
    assert [row.privacy["epsilon"] for row in trail if row.privacy] == [
        epsilon_for(1.0, r, 1e-5) for r in (1, 2)
    ]
    dropped = setup.trainer_keys[4].address
    for round_number in (1, 2):
        final = client.finalised(setup.task_id)[round_number]
        record = json.loads(store.get(final["recordCid"]))
        secure = record["secureAggregation"]
        survivors = [k.address for k in setup.trainer_keys if k.address != dropped]
        assert secure["survivors"] == sorted(survivors) and record["skipped"] is None
        scores = {u["trainer"]: (u["score"], u["rejected"]) for u in record["updates"]}
        assert scores[dropped] == (0, "no step-2 message")
        assert {scores[a][0] for a in survivors} == {1_000_000}
        assert record["privacy"]["survivors"] == 4
        assert record["privacy"]["clientNoiseStd"] == pytest.approx(1.0 / np.sqrt(3))
        # The committee's weights are exactly the global weights plus the mean of what the
        # survivors masked (their clipped, noised updates, kept in their state directories).
        start = dict(weights_from_bytes(store.get(record["global"]["cid"])))
        config = round_config(
            setup.spec,
            round_id=round_context(chain.chain_id, client.address, setup.task_id, round_number),
            participants=[k.address for k in setup.trainer_keys],
            seed=nodes[0].beacon.output_of(
                client.committee_request_id(setup.task_id, round_number)
            ),
            dimension=flatten(start).size,
            min_clients=CONFIG.min_trainers,
        )
        quantizer = config.quantizer
        inputs = [
            np.load(nodes[i].state_dir / f"secagg-input-{round_number}.npy") for i in range(4)
        ]
        total = sum((quantizer.quantize(v) for v in inputs), np.zeros(config.dimension, np.uint32))
        mean = (quantizer.dequantize_sum(total, 4) / 4).astype(np.float32)
        expected = unflatten(flatten(start) + mean, start)
        aggregate = dict(weights_from_bytes(store.get(final["aggregateCid"])))
        assert all(np.array_equal(aggregate[k], expected[k]) for k in expected)
        # Every message went through the chain inside its window; masked inputs look random.
        state = client.round(setup.task_id, round_number)
        assert state.masked_inputs == 4  # the survivors trainers count before unmasking
        posts = client.events("SecAggPosted", setup.task_id, round=round_number)
        assert len(posts) == 5 + 4 + 4
        # A trainer's read: its chosen senders' posts in the windows, by topic filter.
        everyone = client.secagg_posts(setup.task_id, round_number)
        chosen = {setup.trainer_keys[0].address, dropped}
        _, closed = state.secagg_window(2, 6)
        filtered = client.secagg_posts(
            setup.task_id, round_number, trainers=chosen, blocks=(state.secagg_start, closed)
        )
        assert filtered == {
            1: {t: everyone[1][t] for t in chosen},
            2: {t: everyone[2][t] for t in chosen if t in everyone[2]},
            3: {},
        }
        assert filtered[2] and dropped not in filtered[2]
        for event in posts:
            opens_after, closes_at = state.secagg_window(event["args"]["step"], 6)
            assert opens_after < event["blockNumber"] <= closes_at
            if event["args"]["step"] == 2:
                from ledgerlearn.storage import cid_from_binary

                blob = store.get(cid_from_binary(bytes(event["args"]["cid"])))
                words = np.frombuffer(blob[len(MASKED_MAGIC) :], dtype="<u4")
                assert abs(words.mean() / 2**32 - 0.5) < 0.02
    with pytest.raises(ContractRevertError, match="WrongPhase"):  # the task is over
        client.post_secagg(
            setup.trainer_keys[0], setup.task_id, 2, 1, b"\x01" * 32, final["recordCid"]
        )


def test_too_many_dropouts_skip_the_round_explicitly(tmp_path: Path) -> None:
    config = replace(
        CONFIG, trainers=4, rounds=1, dp=None, min_trainers=2, model="digits-secagg-drop"
    )
    # 4 committers: complete graph, threshold 2; three go silent after sharing keys.
    chain, manifest, store, setup, _ = _run(tmp_path, config, {1: 2, 2: 2, 3: 2})
    client = TrainingClient(chain, manifest)
    assert client.task(setup.task_id).phase.label == "completed"
    final = client.finalised(setup.task_id)[1]
    record = json.loads(store.get(final["recordCid"]))
    assert record["skipped"].startswith("secure aggregation failed: cannot unmask")
    # The survivor keeps its score (the dropouts failed the round); the dropouts score zero.
    assert final["totalScore"] == 1_000_000
    assert sorted(u["score"] for u in record["updates"]) == [0, 0, 0, 1_000_000]
    start = store.get(record["global"]["cid"])
    assert store.get(final["aggregateCid"]) == start  # nothing released


def test_trainers_refuse_to_unmask_when_too_few_survive_for_the_dp_noise(tmp_path: Path) -> None:
    # Distributed DP with minTrainers 3: three of five go silent after sharing keys, so the
    # two masked inputs carry two noise shares where three make up the planned noise.
    config = replace(CONFIG, rounds=1, model="digits-secagg-dp-short")
    chain, manifest, store, setup, nodes = _run(tmp_path, config, {2: 2, 3: 2, 4: 2})
    client = TrainingClient(chain, manifest)
    assert client.round(setup.task_id, 1).masked_inputs == 2
    for node in nodes[:2]:
        refusals = [e for e in node.state.log if e["event"] == "secagg-refused"]
        assert [e["step"] for e in refusals] == [3]
        assert "only 2 survivors" in refusals[0]["reason"]
    assert client.secagg_posts(setup.task_id, 1)[3] == {}  # nobody helped unmask
    final = client.finalised(setup.task_id)[1]
    record = json.loads(store.get(final["recordCid"]))
    assert record["skipped"].startswith("secure aggregation failed")
    assert store.get(final["aggregateCid"]) == store.get(record["global"]["cid"])


def test_spec_and_task_must_agree_on_secure_aggregation() -> None:
    arch = {"kind": "mlp", "inputs": 8, "classes": 3}
    with pytest.raises(InvalidTaskSpecError, match="secagg needs rule 'fedavg'"):
        TaskSpec(architecture=arch, rule="median", privacy={"secagg": {}})
    with pytest.raises(InvalidTaskSpecError, match="needs secure aggregation"):
        TaskSpec(architecture=arch, rule="fedavg", privacy={"dp": DP})
    with pytest.raises(InvalidTaskSpecError, match=r"cannot go with privacy\.secagg"):
        TaskSpec(
            architecture=arch,
            rule="fedavg",
            privacy={"dp": {**DP, "placement": "central"}, "secagg": {}},
        )
    with pytest.raises(InvalidTaskSpecError, match="unknown fields"):
        TaskSpec(architecture=arch, rule="fedavg", privacy={"secagg": {"bitz": 3}})
    spec = TaskSpec(architecture=arch, rule="fedavg", privacy={"secagg": {"bits": 20}})
    spec.check_secagg(5, 3)
    with pytest.raises(InvalidTaskSpecError, match="secaggBlocks > 0"):
        spec.check_secagg(0, 3)
    with pytest.raises(InvalidTaskSpecError, match="minTrainers >= 2"):
        spec.check_secagg(5, 1)
    plain = TaskSpec(architecture=arch, rule="fedavg")
    with pytest.raises(InvalidTaskSpecError, match="set secaggBlocks to 0"):
        plain.check_secagg(5, 3)
    assert TaskSpec.from_bytes(spec.to_bytes()).secagg == spec.secagg
