"""LedgerGovernor + ProtocolTimelock through the governance client, on the embedded EVM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from eth_utils import keccak
from safetensors.numpy import save_file

from ledgerlearn.exceptions import (
    EvaluationReportRequiredError,
    GovernanceError,
    ProposalNotFoundError,
    ProposalStateError,
)
from ledgerlearn.governance import Governance
from ledgerlearn.ledger.errors import (
    GovernorOnlyExecutor,
    GovernorUnableToCancel,
    LedgerGovernorEvaluationReportMissing,
)
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import LocalContentStore
from tests.conftest import Deployment


@pytest.fixture
def setup(deployment: Deployment, tmp_path: Path) -> tuple[Governance, LocalContentStore]:
    store = LocalContentStore(tmp_path / "store")
    registry = ModelRegistryClient(deployment.chain, deployment.manifest, store)
    registry.create_model(deployment.alice, "digits")
    path = tmp_path / "w.safetensors"
    save_file({"w": np.ones((2, 2), np.float32)}, str(path))
    registry.publish(
        deployment.alice,
        "digits",
        path,
        framework="numpy",
        architecture={"name": "mlp"},
        inputs=[],
        outputs=[],
        license="MIT",
    )
    gov = Governance(deployment.chain, deployment.manifest, store)
    gov.delegate(deployment.deployer)
    return gov, store


def test_a_promotion_without_an_evaluation_report_is_refused(
    deployment: Deployment, setup: tuple[Governance, LocalContentStore]
) -> None:
    gov, _ = setup
    with pytest.raises(EvaluationReportRequiredError, match="must cite an evaluation report"):
        gov.propose_promotion(deployment.deployer, "digits", 1, evaluation_report="")
    absent = "bafkreihzwkibb6cxgudh4b3qvhsozio2ohc25375xbg2rxxlkb6e2jlzbq"
    with pytest.raises(EvaluationReportRequiredError, match="not in the content store"):
        gov.propose_promotion(deployment.deployer, "digits", 1, evaluation_report=absent)
    # The governor itself refuses, whoever builds the calldata.
    data = gov.registry.functions.moveChannel(
        keccak(text="digits"), "production", 1, b""
    )._encode_transaction_data()
    with pytest.raises(LedgerGovernorEvaluationReportMissing):
        deployment.chain.sender(deployment.deployer).transact(
            gov.governor.functions.propose(
                [gov.registry.address], [0], [bytes.fromhex(data[2:])], "no report"
            )
        )


def test_report_is_cited_on_chain_with_the_proposal(
    deployment: Deployment, setup: tuple[Governance, LocalContentStore]
) -> None:
    gov, store = setup
    report = store.put(b'{"accuracy": 0.9}')
    pid = gov.propose_promotion(deployment.deployer, "digits", 1, evaluation_report=report)
    cited = gov.governor.events.EvaluationReportCited().get_logs(from_block=0)
    assert [(int(c["args"]["proposalId"]), int(c["args"]["version"])) for c in cited] == [(pid, 1)]
    status = gov.status(pid)
    assert status.state.label == "pending" and status.evaluation_reports == [report]
    assert status.actions[0]["function"] == "moveChannel"


def test_steps_out_of_order_say_what_comes_next(
    deployment: Deployment, setup: tuple[Governance, LocalContentStore]
) -> None:
    gov, store = setup
    pid = gov.propose_promotion(
        deployment.deployer, "digits", 1, evaluation_report=store.put(b"report")
    )
    with pytest.raises(ProposalStateError, match="pending"):
        gov.vote(deployment.deployer, pid)
    with pytest.raises(ProposalStateError, match="cannot queue"):
        gov.queue(deployment.deployer, pid)
    gov.advance_to_voting(pid)
    gov.vote(deployment.deployer, pid, "for", reason="metrics improved")
    gov.advance_past_deadline(pid)
    gov.queue(deployment.bob, pid)
    with pytest.raises(ProposalStateError, match="queued until"):
        gov.execute(deployment.bob, pid)
    gov.advance_past_eta(pid)
    gov.execute(deployment.bob, pid)
    assert gov.state(pid).label == "executed"
    with pytest.raises(ProposalNotFoundError):
        gov.status(12345)


def test_votes_against_or_without_quorum_defeat(
    deployment: Deployment, setup: tuple[Governance, LocalContentStore]
) -> None:
    gov, store = setup
    report = store.put(b"report")
    against = gov.propose_promotion(deployment.deployer, "digits", 1, evaluation_report=report)
    gov.advance_to_voting(against)
    gov.vote(deployment.deployer, against, "against")
    gov.advance_past_deadline(against)
    assert gov.state(against).label == "defeated"
    # bob holds 1 token of 1000: far below the 4 % quorum.
    gov.chain.sender(deployment.deployer).transact(
        gov.token.functions.transfer(deployment.bob.address, 10**18)
    )
    gov.delegate(deployment.bob)
    lonely = gov.propose_promotion(deployment.bob, "digits", 1, evaluation_report=report)
    gov.advance_to_voting(lonely)
    gov.vote(deployment.bob, lonely, "for")
    gov.advance_past_deadline(lonely)
    assert gov.state(lonely).label == "defeated"


def test_late_quorum_extends_the_vote(
    deployment: Deployment, setup: tuple[Governance, LocalContentStore]
) -> None:
    gov, store = setup
    pid = gov.propose_promotion(
        deployment.deployer, "digits", 1, evaluation_report=store.put(b"report")
    )
    deadline = int(gov.governor.functions.proposalDeadline(pid).call())
    gov.chain.wait_for_block(deadline - 1)
    gov.vote(deployment.deployer, pid)  # quorum reached in the last block
    extended = int(gov.governor.functions.proposalDeadline(pid).call())
    assert extended > deadline
    assert extended == gov.chain.block_number + 10


def test_parameter_change_goes_through_the_timelock(
    deployment: Deployment, setup: tuple[Governance, LocalContentStore]
) -> None:
    gov, _ = setup
    with pytest.raises(GovernanceError, match="unknown parameter"):
        gov.propose_parameter_change(deployment.deployer, "nonsense", 1)
    with pytest.raises(GovernorOnlyExecutor):
        deployment.chain.sender(deployment.deployer).transact(
            gov.governor.functions.setVotingPeriod(7)
        )
    pid = gov.propose_parameter_change(deployment.deployer, "voting_period", 77)
    gov.pass_proposal(pid, [deployment.deployer], deployment.bob)
    assert gov.governor.functions.votingPeriod().call() == 77
    pid = gov.propose_parameter_change(deployment.deployer, "timelock_delay", 60)
    gov.pass_proposal(pid, [deployment.deployer], deployment.bob)
    assert gov.timelock.functions.getMinDelay().call() == 60


def test_guardian_cancels_a_proposal(
    deployment: Deployment, setup: tuple[Governance, LocalContentStore]
) -> None:
    gov, store = setup
    pid = gov.propose_promotion(
        deployment.deployer, "digits", 1, evaluation_report=store.put(b"report")
    )
    gov.advance_to_voting(pid)
    with pytest.raises(GovernorUnableToCancel):
        gov.cancel(deployment.bob, pid)
    gov.cancel(deployment.deployer, pid)  # the deployer is the default guardian
    assert gov.state(pid).label == "canceled"


def test_rollback_needs_an_earlier_version(
    deployment: Deployment, setup: tuple[Governance, LocalContentStore]
) -> None:
    gov, _ = setup
    with pytest.raises(GovernanceError, match="never pointed"):
        gov.propose_rollback(deployment.deployer, "digits")
