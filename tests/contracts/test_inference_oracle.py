"""InferenceOracle on the embedded EVM: draws, quorum reports, fees, deviations, reviews."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerlearn.exceptions import ReportError
from ledgerlearn.identity import EthrDidRegistry
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger.errors import (
    OracleDeadlineNotPassed,
    OracleDeadlinePassed,
    OracleInvalidRequest,
    OracleInvalidSignature,
    OracleNoAgreement,
    OracleNotActor,
    OracleNothingToWithdraw,
    OracleProviderNotSelected,
    OracleProvidersNotAscending,
    OracleResultMismatch,
    OracleSelectionMismatch,
    OracleTooFewAnswers,
    OracleUnknownChannel,
    OracleVersionRevoked,
    OracleWrongStatus,
)
from ledgerlearn.oracle import (
    Mode,
    SignedAnswer,
    aggregate,
    build_report,
    sign_answer,
)
from ledgerlearn.oracle._answers import answer_digest
from tests.oracle_env import TOKEN, Env, build_oracle_env, pass_proposal
from tests.snapshots import reverting


@pytest.fixture(scope="module")
def _built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    built = build_oracle_env(tmp_path_factory.mktemp("oracle"))
    yield built
    built.chain.close()


@pytest.fixture
def env(_built: Env, tmp_path: Path) -> Iterator[Env]:
    with reverting(_built.chain):
        yield _built.fork(tmp_path / "store")


def test_answer_digest_matches_the_contract(env: Env) -> None:
    request_id, _ = env.drawn(env.spec())
    request = env.oracle.get_request(request_id)
    output = hashlib.sha256(b"out").digest()
    on_chain = env.chain.call(env.oracle.contract.functions.answerDigest(request_id, output, -42))
    ours = answer_digest(
        env.oracle.domain, request_id, request.model_hash, request.input_hash, output, -42
    )
    assert bytes(on_chain) == ours


def test_a_quorum_report_settles_pays_the_agreeing_and_records_the_liar(env: Env) -> None:
    before = env.oracle.token.functions.balanceOf(env.client.address).call()
    request_id, drawn = env.drawn(env.spec(mode=Mode.MAJORITY))
    assert len(drawn) == 5
    request = env.oracle.get_request(request_id)
    assert request.status.label == "open" and request.version == 1
    liar = drawn[2]
    answers = [env.answer(k, request_id, 3 if k.address == liar.address else 7) for k in drawn]
    report = build_report(request, env.oracle.selected(request_id), answers)
    assert report.result == 7 and len(report.agreeing) == 4
    receipt = env.oracle.fulfil(env.outsider, report)  # any reporter will do
    assert env.oracle.gas["fulfil"] == int(receipt["gasUsed"])
    done = env.oracle.get_request(request_id)
    assert (done.status.label, done.result) == ("fulfilled", 7)
    (fulfilled,) = env.oracle.events("InferenceFulfilled", requestId=request_id)
    assert bytes(fulfilled["args"]["outputHash"]) == hashlib.sha256(b"7").digest()
    recorded = {
        e["args"]["provider"]: (e["args"]["agreed"], int(e["args"]["deviation"]))
        for e in env.oracle.events("AnswerRecorded", requestId=request_id)
    }
    assert recorded[liar.address] == (False, 4)
    assert sum(agreed for agreed, _ in recorded.values()) == 4
    stats = {k.address: env.oracle.stats_of(k.address) for k in drawn}
    assert stats[liar.address]["fees"] == 0 and stats[liar.address]["deviated"] == 1
    paid = [stats[k.address]["fees"] for k in drawn if k.address != liar.address]
    assert sum(paid) == 10 * TOKEN and max(paid) - min(paid) <= 3
    assert env.oracle.events("ReviewRequested") == []  # one liar in five is no split
    after = env.oracle.token.functions.balanceOf(env.client.address).call()
    assert before - after == 10 * TOKEN
    honest = next(k for k in drawn if k.address != liar.address)
    amount = env.oracle.withdraw_fees(honest)
    assert amount == stats[honest.address]["fees"]
    with pytest.raises(OracleNothingToWithdraw):
        env.oracle.withdraw_fees(honest)
    with pytest.raises(OracleNotActor):
        env.oracle.withdraw_fees(env.outsider, provider=drawn[0].address)


def test_median_with_tolerance_and_an_offline_provider(env: Env) -> None:
    request_id, drawn = env.drawn(env.spec(mode=Mode.MEDIAN, tolerance=2))
    values = [100, 101, 5_000, 99]  # the fifth provider is offline
    answers = [env.answer(k, request_id, v) for k, v in zip(drawn, values, strict=False)]
    report = build_report(
        env.oracle.get_request(request_id), env.oracle.selected(request_id), answers
    )
    assert report.result == aggregate(Mode.MEDIAN, values) == 100
    env.oracle.fulfil(env.client, report)
    deviations = sorted(int(e["args"]["deviation"]) for e in env.oracle.events("AnswerRecorded"))
    assert deviations == [0, 1, 1, 4_900]


def test_bad_reports_are_refused(env: Env) -> None:
    request_id, drawn = env.drawn(env.spec())
    other_id, _ = env.drawn(env.spec())
    request = env.oracle.get_request(request_id)
    good = [env.answer(k, request_id, 7) for k in drawn]
    selected = env.oracle.selected(request_id)

    def fulfil(result: int, answers: list[SignedAnswer]) -> None:
        ordered = sorted(answers, key=lambda a: a.provider.lower())
        env.chain.sender(env.client).transact(
            env.oracle.contract.functions.fulfil(
                request_id, result, selected, [a.to_tuple() for a in ordered]
            )
        )

    not_drawn = next(k for k in env.providers if k.address not in {d.address for d in drawn})
    with pytest.raises(OracleProviderNotSelected):
        fulfil(7, [*good[:3], env.answer(not_drawn, request_id, 7)])
    replayed = env.answer(drawn[0], other_id, 7)  # signed for another request
    with pytest.raises(OracleInvalidSignature):
        fulfil(7, [replayed, *good[1:]])
    forged = SignedAnswer(drawn[0].address, good[1].output_hash, 7, good[1].signature)
    with pytest.raises(OracleInvalidSignature):
        fulfil(7, [forged, *good[2:]])
    with pytest.raises(OracleResultMismatch):
        fulfil(8, good)
    with pytest.raises(OracleTooFewAnswers):
        fulfil(7, good[:2])
    with pytest.raises(OracleProvidersNotAscending):
        env.chain.sender(env.client).transact(
            env.oracle.contract.functions.fulfil(
                request_id,
                7,
                selected,
                [good[0].to_tuple(), good[0].to_tuple(), good[1].to_tuple()],
            )
        )
    report = build_report(request, selected, good)
    with pytest.raises(ReportError, match="not its draw"):
        build_report(request, selected[:4], good)
    with pytest.raises(OracleSelectionMismatch):
        env.chain.sender(env.client).transact(
            env.oracle.contract.functions.fulfil(
                request_id, 7, selected[::-1], [a.to_tuple() for a in report.answers]
            )
        )
    split = [env.answer(k, request_id, v) for k, v in zip(drawn, [1, 1, 2, 2, 3], strict=True)]
    with pytest.raises(ReportError, match="only 2 of 5 answers agree"):
        build_report(request, env.oracle.selected(request_id), split)
    with pytest.raises(OracleNoAgreement):
        fulfil(1, split)
    assert env.oracle.get_request(request_id).status.label == "open"  # nothing settled


def test_a_report_after_the_deadline_is_refused_and_the_fee_refunded(env: Env) -> None:
    request_id, drawn = env.drawn(env.spec(deadline_blocks=20))
    report = build_report(
        env.oracle.get_request(request_id),
        env.oracle.selected(request_id),
        [env.answer(k, request_id, 7) for k in drawn],
    )
    with pytest.raises(OracleDeadlineNotPassed):
        env.oracle.refund(env.outsider, request_id)
    env.chain.mine(25)
    with pytest.raises(OracleDeadlinePassed):
        env.oracle.fulfil(env.client, report)
    before = env.oracle.token.functions.balanceOf(env.client.address).call()
    assert env.oracle.refund(env.outsider, request_id) == 10 * TOKEN
    after = env.oracle.token.functions.balanceOf(env.client.address).call()
    assert after - before == 10 * TOKEN
    with pytest.raises(OracleWrongStatus):
        env.oracle.refund(env.outsider, request_id)


def test_a_revoked_version_is_dropped(env: Env) -> None:
    pending = env.oracle.request(env.client, env.spec())
    env.registry.revoke(env.deployer, "digits", 1, "poisoned")  # deployer is the guardian
    with pytest.raises(OracleVersionRevoked):
        env.oracle.request(env.client, env.spec())
    with pytest.raises(OracleVersionRevoked):
        env.oracle.serve(env.outsider, "digits", 1)
    # A request made before the revocation is refunded when its providers are drawn.
    env.beacon.fulfil(env.vrf_holder, env.vrf, env.oracle.randomness_request_id(pending))
    assert env.oracle.select(env.client, pending) == []
    assert env.oracle.get_request(pending).status.label == "refunded"
    # Anyone may drop declarations for a revoked version.
    env.oracle.unserve(env.outsider, "digits", 1, provider=env.providers[0].address)
    assert env.providers[0].address not in env.oracle.providers_of("digits", 1)


def test_a_channel_is_resolved_when_the_request_is_made(env: Env) -> None:
    with pytest.raises(OracleUnknownChannel):
        env.oracle.request(env.client, env.spec(version=0, channel="production"))
    report = env.store.put(b'{"accuracy": 0.9}')
    proposal = env.governance.propose_promotion(env.deployer, "digits", 1, evaluation_report=report)
    pass_proposal(env.governance, env.deployer, proposal)
    request_id = env.oracle.request(env.client, env.spec(version=0, channel="production"))
    assert env.oracle.get_request(request_id).version == 1


def test_threshold_and_split_votes_ask_for_review(env: Env) -> None:
    proposal = env.governance.propose_review_threshold(env.deployer, "digits", 9)
    pass_proposal(env.governance, env.deployer, proposal)
    request_id, drawn = env.drawn(env.spec(deadline_blocks=60))
    answers = [env.answer(k, request_id, v) for k, v in zip(drawn, [9, 9, 9, 4, 4], strict=True)]
    env.oracle.fulfil(
        env.client,
        build_report(env.oracle.get_request(request_id), env.oracle.selected(request_id), answers),
    )
    reasons = sorted(e["args"]["reason"] for e in env.oracle.events("ReviewRequested"))
    assert reasons == ["split vote", "threshold"]


def test_a_veri_key_delegate_signs_for_its_provider(env: Env) -> None:
    request_id, drawn = env.drawn(env.spec())
    identity = drawn[0]
    hot = Secp256k1Key.generate()
    EthrDidRegistry(env.chain, env.oracle.deployment).add_delegate(
        identity, identity.address, hot.address, validity=10_000
    )
    request = env.oracle.get_request(request_id)
    delegated = sign_answer(
        hot,
        env.oracle.domain,
        request_id,
        request.model_hash,
        request.input_hash,
        hashlib.sha256(b"7").digest(),
        7,
        provider=identity.address,
    )
    answers = [delegated, *(env.answer(k, request_id, 7) for k in drawn[1:3])]
    env.oracle.fulfil(env.client, build_report(request, env.oracle.selected(request_id), answers))
    assert env.oracle.get_request(request_id).status.label == "fulfilled"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"redundancy": 0}, "redundancy"),
        ({"redundancy": 17, "quorum": 9}, "redundancy"),
        ({"redundancy": 4, "quorum": 2}, "quorum"),
        ({"redundancy": 3, "quorum": 4}, "quorum"),
        ({"deadline_blocks": 0}, "deadlineBlocks"),
        ({"input_sha256": b"\0" * 32}, "inputHash"),
    ],
)
def test_malformed_requests_name_the_field(
    env: Env, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(OracleInvalidRequest, match=field):
        env.oracle.request(env.client, env.spec(**changes))
