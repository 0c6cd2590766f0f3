"""A training network on anvil: every node in-process, real contracts and crypto.

Covers the issue's faults: a trainer that attacks (rejected with reasons, loses rewards, is
slashed), a committee member that posts a wrong aggregate (finalisation by the honest
quorum, fault recorded and slashed), nodes rebuilt from their state mid-round (the task
completes, nothing is counted twice), plus the contract's named errors for a join without
stake, a commit after the deadline, too few commits (extend once, then abort) and bad
proofs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ledgerlearn.devnet import (
    fund,
    make_nodes,
    run_in_process,
    setup_network,
)
from ledgerlearn.ledger import Chain, DeploymentManifest, dev_keys
from ledgerlearn.ledger.enums import (
    ModelRegistryVersionStatus,
    TrainingCoordinatorFault,
    TrainingCoordinatorPhase,
    TrainingCoordinatorRole,
)
from ledgerlearn.ledger.errors import (
    CoordinatorAlreadyClaimed,
    CoordinatorAlreadyCommitted,
    CoordinatorAlreadySlashed,
    CoordinatorDeadlinePassed,
    CoordinatorInsufficientStake,
    CoordinatorInvalidConfig,
    CoordinatorInvalidProof,
    CoordinatorNotCommitteeMember,
    CoordinatorNothingToAdvance,
    CoordinatorNotModelOwner,
    CoordinatorWrongPhase,
)
from ledgerlearn.node import AggregatorNode
from ledgerlearn.protocol import deploy_protocol
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import (
    AggregatePost,
    TaskConfig,
    TrainingClient,
    training_trail,
)
from tests.chains import fresh_chain
from tests.integration.digits_network import DIGITS

TOKEN = 10**18
CONFIG = replace(DIGITS, attacks=("sign_flip:4",), byzantine=1)


class LyingAggregator(AggregatorNode):
    """Posts an aggregate whose hash is not what the rule computes."""

    def compute_round(self, round_number: int) -> Any:
        outcome, sha, cid = super().compute_round(round_number)
        forged = replace(outcome, weights_sha256=bytes(32 * [0xAB]))
        return forged, sha, cid


def _network(tmp_path: Path) -> tuple[Chain, DeploymentManifest, LocalContentStore, Any]:
    chain = fresh_chain()
    manifest = deploy_protocol(chain, chain.accounts[0])
    store = LocalContentStore(tmp_path / "store")
    setup = setup_network(chain, manifest, store, chain.accounts[0], CONFIG)
    return chain, manifest, store, setup


def test_network_trains_rejects_slashes_and_registers_a_verified_version(tmp_path: Path) -> None:
    chain, manifest, store, setup = _network(tmp_path)
    with chain:
        nodes = make_nodes(chain, manifest, store, setup, CONFIG, tmp_path / "nodes")
        liar_key = setup.aggregator_keys[0]
        nodes[CONFIG.trainers] = LyingAggregator(
            chain,
            manifest,
            store,
            liar_key,
            setup.task_id,
            tmp_path / "nodes" / "liar",
            stake=500 * TOKEN,
        )
        # The liar posts first each round, so finalisation needs both honest members.
        nodes = [nodes[CONFIG.trainers], *nodes[: CONFIG.trainers], *nodes[CONFIG.trainers + 1 :]]
        run_in_process(chain, nodes)

        client = TrainingClient(chain, manifest)
        task = client.task(setup.task_id)
        assert task.phase is TrainingCoordinatorPhase.COMPLETED
        assert task.registered_version == setup.base_version + 1
        registry = ModelRegistryClient(chain, manifest, store)
        report = registry.verify(f"{CONFIG.model}@{task.registered_version}")
        assert report.record.parent_version == setup.base_version
        # awaiting governance; no channel moved
        assert report.record.status is ModelRegistryVersionStatus.STAGED
        trail = training_trail(client, store, setup.task_id)
        assert [row.round for row in trail] == [1, 2]
        assert report.manifest.card.training["trainingRecord"] == trail[-1].record_cid

        attacker = next(iter(setup.attackers))
        for row in trail:
            assert "cosine" in row.rejected[attacker]
            assert len(row.included) == CONFIG.trainers - 1
            assert liar_key.address in row.committee
            fault = client.fault_of(setup.task_id, row.round, liar_key.address)
            assert fault is TrainingCoordinatorFault.DISAGREED
        slashed = {log["args"]["trainer"] for log in client.events("TrainerSlashed", setup.task_id)}
        assert slashed == {attacker}
        punished = Counter(
            log["args"]["member"] for log in client.events("AggregatorSlashed", setup.task_id)
        )
        assert punished == {liar_key.address: 2}
        claims = Counter(
            (log["args"]["trainer"], log["args"]["round"])
            for log in client.events("RewardClaimed", setup.task_id)
        )
        honest = {k.address for k in setup.trainer_keys} - {attacker}
        assert set(claims) == {(t, r) for t in honest for r in (1, 2)}
        assert set(claims.values()) == {1}
        paid = sum(
            int(log["args"]["amount"]) for log in client.events("RewardClaimed", setup.task_id)
        )
        assert TaskConfig(CONFIG.model, 1, setup.spec_cid).reward_pool - len(honest) * 2 <= paid
        totals = client.staking.totals()
        assert totals.deposited == (
            totals.active + totals.unbonding + totals.withdrawn + totals.slashed
        )
        with pytest.raises(CoordinatorAlreadySlashed):
            client.slash_aggregator(chain.accounts[0], setup.task_id, 1, liar_key.address)
        attacker_key = next(k for k in setup.trainer_keys if k.address == attacker)
        with pytest.raises(CoordinatorInvalidProof):
            client.claim(attacker_key, setup.task_id, 1, b"\x00" * 32, 10**6, [])
        with pytest.raises(CoordinatorAlreadyClaimed):
            client.claim(setup.trainer_keys[0], setup.task_id, 1, b"\x00" * 32, 10**6, [])


def test_nodes_rebuilt_from_their_state_mid_round_finish_the_task_once(tmp_path: Path) -> None:
    chain, manifest, store, setup = _network(tmp_path)
    with chain:
        nodes = make_nodes(chain, manifest, store, setup, CONFIG, tmp_path / "nodes")
        client = TrainingClient(chain, manifest)

        def mid_round() -> bool:
            task = client.task(setup.task_id)
            return (
                task.phase is TrainingCoordinatorPhase.AGGREGATING
                and task.round == 1
                and any(
                    any(client.post_of(setup.task_id, 1, k.address)) for k in setup.aggregator_keys
                )
            )

        while not mid_round():
            if not any(node.step() for node in nodes):
                chain.mine(1)
        # Every process "dies" here and restarts from its state directory.
        reborn = make_nodes(chain, manifest, store, setup, CONFIG, tmp_path / "nodes")
        run_in_process(chain, reborn)
        task = client.task(setup.task_id)
        assert task.phase is TrainingCoordinatorPhase.COMPLETED
        commits = Counter(
            (log["args"]["trainer"], log["args"]["round"])
            for log in client.events("UpdateCommitted", setup.task_id)
        )
        assert set(commits.values()) == {1} and len(commits) == 2 * CONFIG.trainers
        claims = Counter(
            (log["args"]["trainer"], log["args"]["round"])
            for log in client.events("RewardClaimed", setup.task_id)
        )
        assert set(claims.values()) == {1}
        assert len(training_trail(client, store, setup.task_id)) == 2


def test_contract_refuses_bad_participants_and_never_hangs(tmp_path: Path) -> None:
    chain, manifest, _store, setup = _network(tmp_path)
    with chain:
        client = TrainingClient(chain, manifest)
        owner = chain.accounts[0]
        broke = dev_keys(40)[39]
        fund(chain, manifest, owner, [broke], eth=10 * TOKEN, tokens=10 * TOKEN)
        with pytest.raises(CoordinatorInsufficientStake) as caught:
            client.join(broke, setup.task_id, TrainingCoordinatorRole.TRAINER)
        assert caught.value.arguments["minimum"] == 100 * TOKEN

        base = TaskConfig(CONFIG.model, setup.base_version, setup.spec_cid)
        with pytest.raises(CoordinatorInvalidConfig):
            client.create_task(owner, replace(base, committee_size=4, quorum=2))
        with pytest.raises(CoordinatorNotModelOwner):
            client.create_task(broke, replace(base, reward_pool=0))

        # A task nobody commits to: extended once, then aborted with the pool refunded.
        trainer = setup.trainer_keys[0]
        client.staking.stake(trainer, 100 * TOKEN)
        lonely = client.create_task(
            owner, replace(base, join_blocks=2, commit_blocks=3, min_trainers=2)
        )
        client.join(trainer, lonely, TrainingCoordinatorRole.TRAINER)
        chain.mine(8)
        with pytest.raises(CoordinatorDeadlinePassed):
            client.commit(trainer, lonely, 1, b"\x01" * 32, setup.spec_cid)
        assert client.advance(owner, lonely) == ["RoundExtended"]
        client.commit(trainer, lonely, 1, b"\x01" * 32, setup.spec_cid)
        with pytest.raises(CoordinatorAlreadyCommitted):
            client.commit(trainer, lonely, 1, b"\x01" * 32, setup.spec_cid)
        with pytest.raises(CoordinatorNothingToAdvance):
            client.advance(owner, lonely)
        chain.mine(4)
        before = client.token.functions.balanceOf(owner.address).call()
        assert client.advance(owner, lonely) == ["TaskAborted"]
        assert client.token.functions.balanceOf(owner.address).call() == before + base.reward_pool
        assert client.task(lonely).phase.label == "aborted"
        with pytest.raises(CoordinatorWrongPhase):
            client.advance(owner, lonely)
        with pytest.raises(CoordinatorNotCommitteeMember):
            client.post(
                trainer,
                lonely,
                1,
                AggregatePost(b"\x01" * 32, setup.spec_cid, b"\x02" * 32, 1, setup.spec_cid),
            )


def test_a_node_started_after_the_join_window_finishes_without_staking(tmp_path: Path) -> None:
    chain, manifest, store, setup = _network(tmp_path)
    with chain:
        client = TrainingClient(chain, manifest)
        chain.mine(client.task(setup.task_id).join_deadline - chain.block_number)
        late = make_nodes(chain, manifest, store, setup, CONFIG, tmp_path / "nodes")[0]
        staked = client.staking.stake_of(late.address)
        late.step()
        assert late.finished
        assert [entry["event"] for entry in late.state.log] == ["join-closed"]
        assert client.staking.stake_of(late.address) == staked
        assert client.role_of(setup.task_id, late.address) is TrainingCoordinatorRole.NONE
