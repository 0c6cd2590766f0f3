"""InferenceAudits on the embedded EVM: sampling, panels, verdicts, slashing and refunds.

The model is a real MLP (deterministic), answered by real :class:`Provider` objects, some
of them lying (``LyingProvider`` rotates the class probabilities), and audited by real
:class:`Auditor` objects that re-run the registered artifact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from eth_utils import keccak

from ledgerlearn.devnet import LyingProvider
from ledgerlearn.exceptions import AuditError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger.errors import (
    AccessControlUnauthorizedAccount,
    AuditsAlreadyAuditor,
    AuditsDeadlinePassed,
    AuditsInsufficientStake,
    AuditsNotActor,
    AuditsNotOnPanel,
    AuditsRandomnessPending,
    AuditsRequestNotFulfilled,
    AuditsSelectionMismatch,
    AuditsVerdictsPending,
    AuditsWindowClosed,
    AuditsWrongStatus,
)
from ledgerlearn.oracle import LoadedModel, Mode, Provider, build_report, load_model
from ledgerlearn.training import TrainingClient
from ledgerlearn.verification import AuditClient, Auditor
from tests.oracle_env import TOKEN, Env, build_oracle_env, pass_proposal
from tests.oracle_net import ROW, publish_mlp
from tests.snapshots import reverting

SLASH = 50 * TOKEN  # AuditParameters().slash_amount


@dataclass
class Audits:
    env: Env
    audits: AuditClient
    model: LoadedModel
    version: int
    auditors: list[Secp256k1Key]
    training: TrainingClient

    def stake_of(self, address: str) -> int:
        return int(self.training.staking.functions.stakeOf(address).call())

    def slashed_of(self, address: str) -> int:
        return int(self.training.staking.functions.slashedOf(address).call())

    def balance(self, address: str) -> int:
        return int(self.env.oracle.token.functions.balanceOf(address).call())

    def fulfilled(self, liars: int = 0, *, fee: int = 10 * TOKEN) -> tuple[int, list[Secp256k1Key]]:
        """Fulfil one request whose first ``liars`` drawn providers lie; return id and draw."""
        env = self.env
        payload = json.dumps({"x": [ROW]}).encode()
        spec = env.spec(
            version=self.version,
            mode=Mode.MAJORITY,
            input_sha256=hashlib.sha256(payload).digest(),
            input_cid=str(env.store.put(payload)),
            fee=fee,
        )
        request_id, drawn = env.drawn(spec)
        answers = [
            (LyingProvider if i < liars else Provider)(k, env.oracle, env.store, [self.model])
            .answer(request_id)
            .answer
            for i, k in enumerate(drawn)
        ]
        request = env.oracle.get_request(request_id)
        report = build_report(request, env.oracle.selected(request_id), answers)
        env.oracle.fulfil(env.outsider, report)
        return request_id, drawn

    def opened(self, request_id: int) -> list[str]:
        """Open the audit, fulfil its randomness, draw; return the panel."""
        env = self.env
        assert self.audits.open(env.client, request_id).label == "drawing"
        env.beacon.fulfil(env.vrf_holder, env.vrf, self.audits.randomness_request_id(request_id))
        return self.audits.draw(env.client, request_id)

    def auditor(self, address: str) -> Auditor:
        (key,) = [k for k in self.auditors if k.address == address]
        return Auditor(key, self.audits, self.env.store, [self.model])


def build_audits(tmp_path: Path, rate_bps: int = 10_000) -> Audits:
    env = build_oracle_env(tmp_path)
    version = publish_mlp(env, tmp_path)
    for key in env.providers:
        env.oracle.serve(key, "digits", version)
    model = load_model(env.registry, "digits", version)
    training = TrainingClient(env.chain, env.oracle.deployment)
    token = training.token.functions
    auditors = [
        Secp256k1Key.from_secret(hashlib.sha256(f"auditor {i}".encode()).digest()) for i in range(4)
    ]
    audits = AuditClient(env.chain, env.oracle.deployment, env.oracle)
    for key in auditors:
        env.chain.sender(env.deployer).send({"to": key.address, "value": 10**20})
        env.chain.sender(env.deployer).transact(token.transfer(key.address, 1_000 * TOKEN))
        training.staking.stake(key, 200 * TOKEN)
        audits.join(key)
    proposal = env.governance.propose_audit_rate(env.deployer, "digits", rate_bps)
    pass_proposal(env.governance, env.deployer, proposal)
    return Audits(env, audits, model, version, auditors, training)


@pytest.fixture(scope="module")
def _built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audits]:
    built = build_audits(tmp_path_factory.mktemp("audits"))
    yield built
    built.env.chain.close()


@pytest.fixture
def net(_built: Audits, tmp_path: Path) -> Iterator[Audits]:
    with reverting(_built.env.chain):
        env = _built.env.fork(tmp_path / "store")
        manifest = env.oracle.deployment
        yield replace(
            _built,
            env=env,
            audits=AuditClient(env.chain, manifest, env.oracle),
            training=TrainingClient(env.chain, manifest),
        )


def test_an_honest_quorum_is_confirmed_and_nobody_loses_stake(net: Audits) -> None:
    env = net.env
    assert net.audits.audit_rate("digits") == 10_000
    request_id, drawn = net.fulfilled(liars=0)
    stakes = {k.address: net.stake_of(k.address) for k in env.providers}
    panel = net.opened(request_id)
    assert len(panel) == 3 and not {k.address for k in drawn} & set(panel)
    for address in panel:
        net.auditor(address).audit(request_id)
    outcome = net.audits.finalize(env.outsider, request_id)
    assert (outcome.status.label, outcome.agreeing, outcome.contradicting) == ("confirmed", 3, 0)
    assert outcome.slashed == {} and outcome.missed == ()
    assert {k.address: net.stake_of(k.address) for k in env.providers} == stakes
    assert all(net.slashed_of(k.address) == 0 for k in env.providers)
    assert env.oracle.get_request(request_id).status.label == "fulfilled"


def test_a_lying_quorum_is_overturned_slashed_and_the_requester_refunded(net: Audits) -> None:
    env = net.env
    before = net.balance(env.client.address)
    request_id, drawn = net.fulfilled(liars=3)
    liars, honest = drawn[:3], drawn[3:]
    lie = env.oracle.get_request(request_id).result
    assert net.balance(env.client.address) == before - 10 * TOKEN
    assert sorted(
        env.oracle.get_request(request_id).agreeing_signers(env.oracle.selected(request_id))
    ) == sorted(k.address for k in liars)
    honest_stakes = {k.address: net.stake_of(k.address) for k in honest}
    liar_stakes = {k.address: net.stake_of(k.address) for k in liars}

    panel = net.opened(request_id)
    values = {net.auditor(a).audit(request_id) for a in panel}
    assert len(values) == 1 and lie not in values
    outcome = net.audits.finalize(env.outsider, request_id)

    assert (outcome.status.label, outcome.contradicting) == ("overturned", 3)
    assert outcome.corrected == values.pop()
    assert outcome.slashed == {k.address: SLASH for k in liars}
    assert {a: net.stake_of(a) for a in liar_stakes} == {
        a: s - SLASH for a, s in liar_stakes.items()
    }
    assert {k.address: net.stake_of(k.address) for k in honest} == honest_stakes
    # The fee was still held: all of it comes back, and nobody keeps a share.
    assert outcome.compensated == 0
    assert net.balance(env.client.address) == before
    assert all(env.oracle.stats_of(k.address)["fees"] == 0 for k in drawn)
    request = env.oracle.get_request(request_id)
    assert (request.status.label, request.result) == ("overturned", outcome.corrected)
    (flag,) = env.oracle.events("RequestOverturned", requestId=request_id)
    assert sorted(flag["args"]["signers"]) == sorted(k.address for k in liars)
    # Settled once: a second finalize, or a second audit, is refused.
    with pytest.raises(AuditsWrongStatus):
        net.audits.finalize(env.outsider, request_id)
    with pytest.raises(AuditsRequestNotFulfilled):
        net.audits.open(env.client, request_id)


def test_fees_already_withdrawn_are_paid_back_out_of_slashed_stake(net: Audits) -> None:
    env = net.env
    before = net.balance(env.client.address)
    treasury = env.oracle.deployment.get_address("ProtocolTimelock")
    treasury_before = net.balance(treasury)
    request_id, drawn = net.fulfilled(liars=3)
    for key in drawn[:3]:
        env.oracle.withdraw_fees(key)
    panel = net.opened(request_id)
    for address in panel:
        net.auditor(address).audit(request_id)
    outcome = net.audits.finalize(env.outsider, request_id)
    assert outcome.status.label == "overturned"
    assert outcome.compensated == 10 * TOKEN
    assert net.balance(env.client.address) == before
    assert net.balance(treasury) == treasury_before + 3 * SLASH - 10 * TOKEN


def test_a_provider_of_the_request_is_never_on_its_panel(net: Audits) -> None:
    env = net.env
    # Every provider also registers as an auditor, with far more stake than the others.
    for key in env.providers:
        net.training.staking.stake(key, 500 * TOKEN)
        net.audits.join(key)
    request_id, drawn = net.fulfilled(liars=0)
    panel = net.opened(request_id)
    assert not {k.address for k in drawn} & set(panel)
    (idle,) = {k.address for k in env.providers} - {k.address for k in drawn}
    assert set(panel) <= {k.address for k in net.auditors} | {idle}
    insider = drawn[0]
    with pytest.raises(AuditError, match="not on the panel"):
        net.audits.submit_verdict(insider, request_id, 0, bytes(32))
    send = env.chain.sender(insider).transact
    call = net.audits.contract.functions.submitVerdict(
        request_id, insider.address, panel, 0, bytes(32)
    )
    with pytest.raises(AuditsNotOnPanel):
        send(call)


def test_silent_auditors_leave_the_audit_inconclusive_after_the_deadline(net: Audits) -> None:
    env = net.env
    request_id, _ = net.fulfilled(liars=3)
    panel = net.opened(request_id)
    net.auditor(panel[0]).audit(request_id)
    assert (
        net.auditor(panel[0]).audit(request_id) == net.audits.verdict_of(request_id, panel[0])[1]
    )  # posting again is a no-op
    with pytest.raises(AuditsVerdictsPending):
        net.audits.finalize(env.outsider, request_id)
    env.chain.mine(net.audits.parameters().verdict_blocks + 1)
    with pytest.raises(AuditsDeadlinePassed):
        net.auditor(panel[1]).audit(request_id)
    outcome = net.audits.finalize(env.outsider, request_id)
    assert (outcome.status.label, outcome.contradicting) == ("inconclusive", 1)
    assert set(outcome.missed) == set(panel[1:])
    assert outcome.slashed == {}
    assert env.oracle.get_request(request_id).status.label == "fulfilled"


def test_the_beacon_samples_requests_at_the_models_rate(net: Audits) -> None:
    env = net.env
    proposal = env.governance.propose_audit_rate(env.deployer, "digits", 5_000)
    pass_proposal(env.governance, env.deployer, proposal)
    outcomes = []
    for _ in range(4):
        request_id, _ = net.fulfilled(liars=0)
        assert net.audits.open(env.client, request_id).label == "drawing"
        beacon_id = net.audits.randomness_request_id(request_id)
        randomness = env.beacon.fulfil(env.vrf_holder, env.vrf, beacon_id).output
        panel = net.audits.draw(env.client, request_id)
        sampled = int.from_bytes(keccak(randomness + _pad("sample")), "big") % 10_000 < 5_000
        status = net.audits.get_audit(request_id).status
        assert status.label == ("auditing" if sampled else "not-sampled")
        assert bool(panel) == sampled
        outcomes.append(sampled)
    assert net.audits.auditors() and len(outcomes) == 4


def _pad(text: str) -> bytes:
    """``abi.encode(bytes32, string)`` tail for a short string: offset, length, data."""
    data = text.encode()
    return (64).to_bytes(32, "big") + len(data).to_bytes(32, "big") + data.ljust(32, b"\0")


def test_bad_calls_are_refused(net: Audits) -> None:
    env = net.env
    request_id, drawn = net.fulfilled(liars=0)
    with pytest.raises(AccessControlUnauthorizedAccount):
        env.chain.sender(env.deployer).transact(
            net.audits.contract.functions.setAuditRate(bytes(32), 1)
        )
    with pytest.raises(AccessControlUnauthorizedAccount):
        env.chain.sender(env.deployer).transact(
            env.oracle.contract.functions.overturn(request_id, 0, [], keccak(b"x"))
        )
    with pytest.raises(AuditsAlreadyAuditor):
        net.audits.join(net.auditors[0])
    poor = env.outsider
    with pytest.raises(AuditsInsufficientStake):
        net.audits.join(poor)
    with pytest.raises(AuditsNotActor):
        net.audits.join(poor, auditor=net.auditors[0].address)
    assert net.audits.open(env.client, request_id).label == "drawing"
    with pytest.raises(AuditsWrongStatus):
        net.audits.open(env.client, request_id)
    with pytest.raises(AuditsRandomnessPending):
        net.audits.draw(env.client, request_id)
    env.beacon.fulfil(env.vrf_holder, env.vrf, net.audits.randomness_request_id(request_id))
    wrong = list(reversed(env.oracle.selected(request_id)))
    with pytest.raises(AuditsSelectionMismatch):
        env.chain.sender(env.client).transact(net.audits.contract.functions.draw(request_id, wrong))
    # The window to open an audit closes openWindow blocks after the request's deadline.
    late_id, _ = net.fulfilled(liars=0)
    deadline = env.oracle.get_request(late_id).deadline
    env.chain.mine(deadline + net.audits.parameters().open_window - env.chain.block_number + 1)
    with pytest.raises(AuditsWindowClosed):
        net.audits.open(env.client, late_id)
    assert drawn
