"""The verification roles as nodes: auditors, watchers and verifiers act on their own.

Each test plays a dishonest party against nodes that only follow the chain's events: a
lying quorum is audited and overturned, a lying optimistic claim is disputed and lost, a
lazy trainer's proof-of-learning log is checked and slashed. Nobody drives the protocol's
steps but the nodes (and the chain's clock, mined when every node waits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgerlearn.ledger import Chain
from ledgerlearn.ledger.enums import (
    InferenceAuditsStatus,
    InferenceOracleStatus,
    LearningProofsStatus,
    OptimisticInferencePhase,
)
from ledgerlearn.node import AuditorNode, VerifierNode, WatcherNode
from ledgerlearn.verification import DisputeAgent
from tests.contracts.test_inference_audits import SLASH, build_audits
from tests.contracts.test_learning_proofs import build_pol_net, forge
from tests.contracts.test_optimistic_inference import LIE, build_net


@dataclass
class _Party:
    """A scripted party stepped beside the nodes (the liar of a dispute)."""

    act: Callable[[], bool]
    wake_block: int | None = None
    finished: bool = False

    def step(self) -> bool:
        return self.act()


def drive(chain: Chain, nodes: Sequence[Any], done: Callable[[], bool], blocks: int = 600) -> None:
    """Step every node until ``done``; mine up to the earliest wake when all wait."""
    mined = 0
    while not done():
        acted = any([node.step() for node in nodes])
        if acted:
            continue
        wakes = [n.wake_block for n in nodes if n.wake_block is not None]
        step = max(1, min(wakes) - chain.block_number) if wakes else 1
        chain.mine(step)
        mined += step
        assert mined <= blocks, "the nodes made no progress"


def test_auditor_nodes_overturn_a_lying_quorum_and_survive_a_restart(tmp_path: Path) -> None:
    net = build_audits(tmp_path)
    env = net.env
    manifest = env.oracle.deployment
    request_id, drawn = net.fulfilled(liars=3)
    liars = [k.address for k in drawn[:3]]
    before = {a: net.stake_of(a) for a in liars}
    refs = [f"digits@{net.version}"]

    def nodes() -> list[AuditorNode]:
        return [
            AuditorNode(env.chain, manifest, env.store, key, refs, tmp_path / f"auditor-{i}")
            for i, key in enumerate(net.auditors)
        ]

    first = nodes()
    drive(env.chain, first, lambda: bool(net.audits.panel(request_id)))
    # every node is rebuilt from its state directory (a crash after the draw)
    second = nodes()
    audit = net.audits.get_audit
    drive(env.chain, second, lambda: audit(request_id).status is InferenceAuditsStatus.OVERTURNED)
    assert {a: before[a] - net.stake_of(a) for a in liars} == dict.fromkeys(liars, SLASH)
    request = env.oracle.get_request(request_id)
    assert request.status is InferenceOracleStatus.OVERTURNED
    panel = net.audits.panel(request_id)
    posted = [net.audits.verdict_of(request_id, a)[0] for a in panel]
    assert all(posted) and len(panel) == 3
    # one node opened and one drew; the rebuilt nodes resent neither
    assert sum(f"open:{request_id}" in n.sent for n in first) == 1
    assert sum(f"draw:{request_id}" in n.sent for n in first) == 1
    assert not [a for n in second for a in n.sent if a.startswith(("open:", "draw:"))]


def test_a_watcher_node_wins_a_dispute_and_settles_the_request(tmp_path: Path) -> None:
    net = build_net(tmp_path)
    env, client = net.env, net.client
    request_id, drawn = net.requested()
    liar_key = net.key_of(drawn[0])
    honest = net.honest()
    lie = honest.tampered(2, neuron=1, delta=LIE, network=net.network)
    client.propose(liar_key, request_id, lie)
    liar = DisputeAgent(liar_key, client, net.network, lie)
    watcher = WatcherNode(
        env.chain,
        env.oracle.deployment,
        env.store,
        env.outsider,
        [f"digits@{net.version}"],
        tmp_path / "watcher",
    )
    request = env.oracle.get_request
    drive(
        env.chain,
        [watcher, _Party(lambda: liar.act(request_id) != "waiting")],
        lambda: request(request_id).status is InferenceOracleStatus.FULFILLED,
    )
    assert request(request_id).result == honest.label
    claim = client.get_claim(request_id)
    assert claim.phase is OptimisticInferencePhase.SETTLED
    assert claim.provider == env.outsider.address
    assert any(e["event"] == "challenged" for e in watcher.state.log)


def test_verifier_nodes_catch_and_slash_a_lazy_trainer(tmp_path: Path) -> None:
    net = build_pol_net(tmp_path)
    env, trainer = net.env, net.env.providers[0]
    lazy = forge(net.log(seed=3), net.store, [0, 1, 2, 3])
    claim_id = net.client.submit(trainer, lazy, net.store)
    stake = net.stake_of(trainer.address)
    nodes = [
        VerifierNode(
            env.chain,
            env.oracle.deployment,
            env.store,
            key,
            net.x,
            net.y,
            tmp_path / f"verifier-{i}",
        )
        for i, key in enumerate(net.verifiers)
    ]
    status = net.client.get_claim
    drive(env.chain, nodes, lambda: status(claim_id).status is LearningProofsStatus.FAILED)
    assert net.stake_of(trainer.address) < stake
    panel, _ = net.client.drawn(claim_id)
    assert trainer.address not in panel and len(panel) == 3
