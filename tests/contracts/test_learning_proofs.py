"""Proof-of-learning on the embedded EVM: honest logs pass, forged segments fail and slash.

Training is real (NumPy SGD on a fixed synthetic public dataset), checkpoints are real files
in the content store, the log's Merkle root is committed on chain, the beacon samples the
segments and draws the verifiers from the staked auditor pool, and the verifiers really
re-execute the sampled segments.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ledgerlearn.exceptions import VerificationError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.learning.models import MLP, weights_from_bytes
from ledgerlearn.ledger.errors import (
    LearningDeadlinePassed,
    LearningInsufficientStake,
    LearningNotActor,
    LearningNotOnPanel,
    LearningRandomnessPending,
    LearningVerdictsPending,
)
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import TrainingClient
from ledgerlearn.verification import (
    AuditClient,
    LearningProofClient,
    LearningVerifier,
    ProofOfLearning,
    check_segment,
    train_with_proof,
)
from tests.oracle_env import TOKEN, Env, build_oracle_env

SLASH = 50 * TOKEN  # ProofOfLearningParameters().slash_amount


def dataset() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(240, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return x, y


@dataclass
class Net:
    env: Env
    client: LearningProofClient
    verifiers: list[Secp256k1Key]
    training: TrainingClient
    x: np.ndarray[Any, Any]
    y: np.ndarray[Any, Any]

    @property
    def store(self) -> LocalContentStore:
        return self.env.store

    def stake_of(self, address: str) -> int:
        return int(self.training.staking.functions.stakeOf(address).call())

    def log(self, seed: int = 0) -> ProofOfLearning:
        model = MLP(4, 3, (8,), seed=1)
        return train_with_proof(
            model, self.x, self.y, self.store, segments=4, k=5, batch_size=16, seed=seed
        )

    def drawn(self, claim_id: int) -> tuple[list[str], list[int]]:
        env = self.env
        env.beacon.fulfil(env.vrf_holder, env.vrf, self.client.randomness_request_id(claim_id))
        return self.client.draw(env.client, claim_id)

    def verifier(self, address: str) -> LearningVerifier:
        (key,) = [k for k in self.verifiers if k.address == address]
        return LearningVerifier(key, self.client, self.store, self.x, self.y)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Net:
    return build_pol_net(tmp_path_factory.mktemp("pol"))


def build_pol_net(tmp_path: Path) -> Net:
    """An oracle environment with four staked verifiers in the pool and a trainer."""
    env = build_oracle_env(tmp_path)
    training = TrainingClient(env.chain, env.oracle.deployment)
    audits = AuditClient(env.chain, env.oracle.deployment, env.oracle)
    token = training.token.functions
    verifiers = [
        Secp256k1Key.from_secret(hashlib.sha256(f"verifier {i}".encode()).digest())
        for i in range(4)
    ]
    for key in verifiers:
        env.chain.sender(env.deployer).send({"to": key.address, "value": 10**20})
        env.chain.sender(env.deployer).transact(token.transfer(key.address, 1_000 * TOKEN))
        training.staking.stake(key, 200 * TOKEN)
        audits.join(key)
    # the trainer is in the pool too, with the largest stake: it must never check itself
    training.staking.stake(env.providers[0], 800 * TOKEN)
    audits.join(env.providers[0])
    x, y = dataset()
    return Net(
        env, LearningProofClient(env.chain, env.oracle.deployment), verifiers, training, x, y
    )


def forge(log: ProofOfLearning, store: LocalContentStore, segments: list[int]) -> ProofOfLearning:
    """Return a lazy trainer's log: the ending checkpoints of ``segments`` are made up.

    Each is its start scaled by 1.01, not trained; the chain of checkpoints stays consistent.
    """
    forged = replace(log, segments=[dict(s) for s in log.segments])
    for i in segments:
        segment = forged.segments[i]
        start = MLP(4, 3, (8,), seed=0)
        start.set_weights(dict(weights_from_bytes(store.get(segment["start"]["cid"]))))
        weights = {n: v * 1.01 for n, v in start.get_weights().items()}
        start.set_weights(weights)
        raw = start.to_bytes()
        end = {"cid": str(store.put(raw)), "sha256": hashlib.sha256(raw).hexdigest()}
        segment["end"] = end
        if i + 1 < len(forged.segments):
            forged.segments[i + 1] = dict(forged.segments[i + 1], start=end)
    return forged


def test_an_honest_log_reproduces_bit_for_bit(net: Net) -> None:
    log = net.log()
    assert len(log.segments) == 4 and log.root == ProofOfLearning.from_bytes(log.to_bytes()).root
    for i in range(4):
        check = check_segment(log, i, net.x, net.y, net.store)
        assert check.passed and check.distance == 0.0
    with pytest.raises(VerificationError, match="not the one the log names"):
        check_segment(log, 0, net.x[:-1], net.y[:-1], net.store)


def test_a_forged_segment_fails_its_check_and_only_it(net: Net) -> None:
    forged = forge(net.log(), net.store, [2])
    checks = [check_segment(forged, i, net.x, net.y, net.store) for i in range(4)]
    assert [c.passed for c in checks] == [True, True, False, False]  # 3 starts at the forgery
    assert checks[2].distance > 1e-3 and checks[2].reason == ""
    other = replace(forged, segments=[dict(s) for s in forged.segments])
    other.segments[1] = dict(other.segments[1], batches=[[0] * 16] * 5)
    assert check_segment(other, 1, net.x, net.y, net.store).reason == "batches are not the seed's"


def test_honest_work_passes_and_keeps_its_stake(net: Net) -> None:
    env, trainer = net.env, net.env.providers[0]
    log = net.log(seed=1)
    claim_id = net.client.submit(trainer, log, net.store)
    assert net.client.get_claim(claim_id).status.label == "drawing"
    panel, sampled = net.drawn(claim_id)
    assert len(panel) == 3 and trainer.address not in panel and len(sampled) == 2
    stake = net.stake_of(trainer.address)
    for address in panel:
        assert net.verifier(address).verify(claim_id).passed
    assert net.verifier(panel[0]).verify(claim_id).passed  # idempotent
    status, slashed = net.client.finalize(env.outsider, claim_id)
    assert (status.label, slashed) == ("passed", 0)
    assert net.stake_of(trainer.address) == stake


def test_a_lazy_trainer_is_caught_and_slashed(net: Net) -> None:
    env, trainer = net.env, net.env.providers[0]
    forged = forge(net.log(seed=2), net.store, [0, 1, 2, 3])
    claim_id = net.client.submit(trainer, forged, net.store)
    panel, _ = net.drawn(claim_id)
    stake = net.stake_of(trainer.address)
    checks = [net.verifier(address).verify(claim_id) for address in panel]
    assert not any(c.passed for c in checks)
    status, slashed = net.client.finalize(env.outsider, claim_id)
    assert (status.label, slashed) == ("failed", SLASH)
    assert net.stake_of(trainer.address) == stake - SLASH


def test_a_log_that_is_not_the_commitment_fails(net: Net) -> None:
    env, trainer = net.env, net.env.providers[0]
    honest, other = net.log(seed=3), net.log(seed=4)
    cid = str(net.store.put(other.to_bytes()))
    send = env.chain.sender(trainer).transact
    receipt = send(
        net.client.contract.functions.submit(
            trainer.address, bytes.fromhex(honest.update_sha256), honest.root, 4, cid.encode()
        )
    )
    assert receipt["status"] == 1
    claim_id = net.client.contract.functions.claimCount().call() - 1
    panel, _ = net.drawn(claim_id)
    check = net.verifier(panel[0]).check(claim_id)
    assert not check.passed and check.reason == "log does not match the commitment"


def test_bad_submissions_and_verdicts_are_refused(net: Net) -> None:
    env, trainer = net.env, net.env.providers[0]
    log = net.log(seed=5)
    with pytest.raises(LearningNotActor):
        net.client.submit(env.outsider, log, net.store, trainer=trainer.address)
    # Work with nothing at stake could not be slashed: it is not accepted for checking.
    assert net.stake_of(env.outsider.address) == 0
    with pytest.raises(LearningInsufficientStake):
        net.client.submit(env.outsider, log, net.store)
    claim_id = net.client.submit(trainer, log, net.store)
    with pytest.raises(LearningRandomnessPending):
        net.client.draw(env.client, claim_id)
    panel, _ = net.drawn(claim_id)
    outsider = next(k for k in net.verifiers if k.address not in panel)
    check = net.verifier(panel[0]).check(claim_id)
    with pytest.raises(LearningNotOnPanel):
        net.client.submit_verdict(outsider, claim_id, check)
    with pytest.raises(LearningVerdictsPending):
        net.client.finalize(env.outsider, claim_id)
    env.chain.mine(51)
    with pytest.raises(LearningDeadlinePassed):
        net.verifier(panel[0]).verify(claim_id)
    status, slashed = net.client.finalize(env.outsider, claim_id)
    assert (status.label, slashed) == ("inconclusive", 0)
