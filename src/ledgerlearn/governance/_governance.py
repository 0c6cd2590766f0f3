"""Governance: proposals to promote or roll back model versions and to change parameters.

Wraps the ``LedgerGovernor`` (OpenZeppelin Governor: settings, simple counting, ERC20Votes
from the protocol token, quorum fraction, timelock control, late-quorum protection,
proposal guardian) and its ``ProtocolTimelock``. A proposal's life:
``propose → (voting delay) → vote → (voting period) → queue → (timelock delay) → execute``.
:meth:`Governance.status` says where a proposal is and what comes next; on development
chains :meth:`Governance.advance_blocks` and :meth:`Governance.advance_time` move the clock.

Promotions and rollbacks must cite an evaluation report CID: this client refuses without
one (and checks the content store holds it when a store is given), and the governor
contract refuses such a proposal too and emits the citation (``EvaluationReportCited``).

Trust assumption: token holders' majority (with quorum) decides; the timelock delay gives
everyone time to react; the guardian can cancel but never promote. Voting power is the
ERC20Votes checkpoint at the proposal's snapshot block, so tokens bought after a proposal
do not vote on it.
"""

from __future__ import annotations

from typing import Any, Literal

from eth_utils import keccak, to_checksum_address

from ledgerlearn.exceptions import (
    EvaluationReportRequiredError,
    GovernanceError,
    ProposalStateError,
)
from ledgerlearn.governance._reader import _NEXT_STEP, PARAMETERS, GovernanceReader
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger.enums import LedgerGovernorProposalState as ProposalState
from ledgerlearn.ledger.enums import LedgerGovernorVoteType as VoteType
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import parse_cid
from ledgerlearn.types import Cid

__all__ = ["Governance"]


class Governance(GovernanceReader):
    """Propose, vote, queue, execute and inspect governance proposals.

    Parameters and attributes are :class:`GovernanceReader`'s; this class adds the writes.
    """

    def delegate(self, holder: Secp256k1Key, to: str | None = None) -> None:
        """Delegate ``holder``'s votes (to itself by default); needed once before voting.

        Parameters
        ----------
        holder
            A token holder.
        to
            The delegatee (default: the holder).
        """
        self._transact(
            holder, self.token.functions.delegate(to_checksum_address(to or holder.address))
        )

    def _propose(self, proposer: Secp256k1Key, calls: list[Any], description: str) -> int:
        """Propose the bound contract ``calls`` (executed by the timelock, in order)."""
        description = f"{description}\n\n(proposed at block {self.chain.block_number})"
        targets = [call.address for call in calls]
        values = [0] * len(calls)
        calldatas = [bytes.fromhex(call._encode_transaction_data()[2:]) for call in calls]
        receipt = self._transact(
            proposer, self.functions.propose(targets, values, calldatas, description)
        )
        return int(self._receipt_event("ProposalCreated", receipt)["args"]["proposalId"])

    def _report(self, evaluation_report: str | None) -> bytes:
        if not evaluation_report:
            raise EvaluationReportRequiredError(
                "a proposal that moves a model channel must cite an evaluation report: store "
                "the report (`ledgerlearn store put REPORT`) and pass its CID"
            )
        parsed = parse_cid(evaluation_report)
        if self.store is not None and not self.store.has(Cid(evaluation_report)):
            raise EvaluationReportRequiredError(
                f"evaluation report {evaluation_report} is not in the content store; put it "
                "there first so voters can read it"
            )
        return parsed.binary

    def propose_promotion(
        self,
        proposer: Secp256k1Key,
        model: str,
        version: int,
        *,
        evaluation_report: str,
        channel: str = "production",
        description: str | None = None,
    ) -> int:
        """Propose pointing ``model``'s ``channel`` at ``version``.

        Parameters
        ----------
        proposer
            An account with at least the proposal threshold of votes.
        model, version
            What to promote.
        evaluation_report
            CID of the evaluation report voters should read (required).
        channel
            ``production`` (default), ``staging`` or another channel.
        description
            The proposal's text (a default names the model, version and report).

        Returns
        -------
        int
            The proposal id.

        Raises
        ------
        EvaluationReportRequiredError
            Without a report CID, or if the store lacks it.
        ModelNotFoundError
            If the version does not exist.
        """
        report = self._report(evaluation_report)
        self.models.get_version(model, version)  # raises ModelNotFoundError
        call = self.registry.functions.moveChannel(keccak(text=model), channel, version, report)
        text = description or (
            f"Promote {model}@{version} to {channel}\n\nEvaluation report: {evaluation_report}"
        )
        return self._propose(proposer, [call], text)

    def propose_rollback(
        self,
        proposer: Secp256k1Key,
        model: str,
        *,
        channel: str = "production",
        to_version: int | None = None,
        evaluation_report: str | None = None,
        description: str | None = None,
    ) -> int:
        """Propose pointing ``channel`` back at the version it pointed to before.

        Parameters
        ----------
        proposer
            An account with at least the proposal threshold of votes.
        model, channel
            Which channel.
        to_version
            The version to return to (default: the channel's previous version).
        evaluation_report
            The report to cite (default: the one cited when that version last held the
            channel).
        description
            The proposal's text.

        Returns
        -------
        int
            The proposal id.

        Raises
        ------
        GovernanceError
            If the channel has no earlier version to return to.
        """
        moves = self.channel_moves(model, channel)
        if not moves:
            raise GovernanceError(
                f"{model}@{channel} has never pointed anywhere; nothing to roll back"
            )
        current = moves[-1]["version"]
        target = to_version or moves[-1]["previousVersion"]
        if not target or target == current:
            raise GovernanceError(
                f"{model}@{channel} has no earlier version to roll back to; pass to_version"
            )
        if evaluation_report is None:
            cited = [m["evaluationReport"] for m in moves if m["version"] == target]
            evaluation_report = cited[-1] if cited else None
        report = self._report(evaluation_report)
        self.models.get_version(model, target)
        call = self.registry.functions.moveChannel(keccak(text=model), channel, target, report)
        text = description or (
            f"Roll back {model}@{channel} from version {current} to version {target}\n\n"
            f"Evaluation report: {evaluation_report}"
        )
        return self._propose(proposer, [call], text)

    def propose_parameter_change(
        self,
        proposer: Secp256k1Key,
        parameter: str,
        value: int | str,
        *,
        description: str | None = None,
    ) -> int:
        """Propose changing one governance parameter (see :data:`PARAMETERS`).

        Parameters
        ----------
        proposer
            An account with at least the proposal threshold of votes.
        parameter
            A key of :data:`PARAMETERS`.
        value
            The new value (an address for ``proposal_guardian``).
        description
            The proposal's text.

        Returns
        -------
        int
            The proposal id.

        Raises
        ------
        GovernanceError
            If the parameter is unknown.
        """
        if parameter not in PARAMETERS:
            raise GovernanceError(
                f"unknown parameter {parameter!r}; choose one of {sorted(PARAMETERS)}"
            )
        contract_name, setter = PARAMETERS[parameter]
        contract = self._contract(contract_name)
        argument: int | str = (
            to_checksum_address(str(value)) if parameter == "proposal_guardian" else int(value)
        )
        call = getattr(contract.functions, setter)(argument)
        return self._propose(proposer, [call], description or f"Set {parameter} to {value}")

    def propose_review_threshold(
        self,
        proposer: Secp256k1Key,
        model: str,
        threshold: int | None,
        *,
        description: str | None = None,
    ) -> int:
        """Propose that oracle results of ``model`` at or above ``threshold`` ask for review.

        Parameters
        ----------
        proposer
            An account with at least the proposal threshold of votes.
        model
            The model's name.
        threshold
            The least result (in the oracle's value units) that emits ``ReviewRequested``;
            ``None`` switches the check off.
        description
            The proposal's text.

        Returns
        -------
        int
            The proposal id.
        """
        call = self._contract("InferenceOracle").functions.setReviewThreshold(
            ModelRegistryClient.model_id(model), threshold is not None, threshold or 0
        )
        text = description or (
            f"Review {model} results at or above {threshold}"
            if threshold is not None
            else f"Stop threshold reviews of {model}"
        )
        return self._propose(proposer, [call], text)

    def propose_audit_rate(
        self,
        proposer: Secp256k1Key,
        model: str,
        rate_bps: int,
        *,
        description: str | None = None,
    ) -> int:
        """Propose the share of ``model``'s fulfilled requests that are audited.

        Parameters
        ----------
        proposer
            An account with at least the proposal threshold of votes.
        model
            The model's name.
        rate_bps
            Basis points of fulfilled requests sampled for audit (0 switches audits off,
            10000 audits every opened request).
        description
            The proposal's text.

        Returns
        -------
        int
            The proposal id.

        Raises
        ------
        GovernanceError
            If ``rate_bps`` is outside 0 .. 10000.
        """
        if not 0 <= rate_bps <= 10_000:
            raise GovernanceError(f"audit rate {rate_bps} is not in 0 .. 10000 basis points")
        call = self._contract("InferenceAudits").functions.setAuditRate(
            ModelRegistryClient.model_id(model), rate_bps
        )
        text = description or f"Audit {rate_bps / 100:g} % of {model}'s fulfilled requests"
        return self._propose(proposer, [call], text)

    def vote(
        self,
        voter: Secp256k1Key,
        proposal_id: int,
        support: Literal["for", "against", "abstain"] = "for",
        *,
        reason: str = "",
    ) -> int:
        """Cast ``voter``'s vote.

        Parameters
        ----------
        voter
            An account with delegated votes at the snapshot.
        proposal_id
            The proposal.
        support
            ``for``, ``against`` or ``abstain``.
        reason
            Recorded on chain with the vote.

        Returns
        -------
        int
            The weight counted.

        Raises
        ------
        ProposalStateError
            If voting is not open.
        """
        try:
            vote_type = VoteType.parse(support)
        except ValueError as exc:
            raise GovernanceError(
                f"support must be for, against or abstain, not {support!r}"
            ) from exc
        state = self.state(proposal_id)
        if state is not ProposalState.ACTIVE:
            raise ProposalStateError(
                f"proposal {proposal_id} is {state}; votes count only while it is active "
                f"({_NEXT_STEP[state]})"
            )
        fn = (
            self.functions.castVoteWithReason(proposal_id, vote_type, reason)
            if reason
            else self.functions.castVote(proposal_id, vote_type)
        )
        receipt = self._transact(voter, fn)
        return int(self._receipt_event("VoteCast", receipt)["args"]["weight"])

    def queue(self, sender: Secp256k1Key, proposal_id: int) -> int:
        """Queue a succeeded proposal in the timelock.

        Parameters
        ----------
        sender
            Anyone.
        proposal_id
            The proposal.

        Returns
        -------
        int
            The ETA timestamp.

        Raises
        ------
        ProposalStateError
            If it has not succeeded.
        """
        self._require_state(proposal_id, ProposalState.SUCCEEDED, "queue")
        p = self._find(proposal_id)
        self._transact(sender, self.functions.queue(*p.call_args))
        return int(self._call(self.functions.proposalEta(proposal_id)))

    def execute(self, sender: Secp256k1Key, proposal_id: int) -> None:
        """Execute a queued proposal whose timelock delay has passed.

        Parameters
        ----------
        sender
            Anyone.
        proposal_id
            The proposal.

        Raises
        ------
        ProposalStateError
            If it is not queued or its ETA has not passed.
        """
        self._require_state(proposal_id, ProposalState.QUEUED, "execute")
        eta = int(self._call(self.functions.proposalEta(proposal_id)))
        now = self.chain.timestamp()
        if now < eta:
            raise ProposalStateError(
                f"proposal {proposal_id} is queued until timestamp {eta} ({eta - now} s from "
                "the latest block); execute it after that"
            )
        p = self._find(proposal_id)
        self._transact(sender, self.functions.execute(*p.call_args))

    def cancel(self, guardian: Secp256k1Key, proposal_id: int) -> None:
        """Cancel a proposal (the proposal guardian, or its proposer while pending).

        Parameters
        ----------
        guardian
            The proposal guardian (or the proposer).
        proposal_id
            The proposal.
        """
        p = self._find(proposal_id)
        self._transact(guardian, self.functions.cancel(*p.call_args))

    def advance_blocks(self, blocks: int) -> int:
        """Mine ``blocks`` blocks (embedded and devnet chains only).

        Parameters
        ----------
        blocks
            How many.

        Returns
        -------
        int
            The new head.
        """
        return self.chain.mine(blocks)

    def advance_time(self, seconds: int) -> int:
        """Move the chain's clock forward (embedded and devnet chains only).

        Parameters
        ----------
        seconds
            How far.

        Returns
        -------
        int
            The new head's timestamp.
        """
        return self.chain.advance_time(seconds)

    def advance_to_voting(self, proposal_id: int) -> None:
        """Mine until voting on the proposal is open (development chains).

        Parameters
        ----------
        proposal_id
            The proposal.
        """
        snapshot = int(self._call(self.functions.proposalSnapshot(proposal_id)))
        self.chain.wait_for_block(snapshot + 1)

    def advance_past_deadline(self, proposal_id: int) -> None:
        """Mine until the proposal's voting period is over (development chains).

        Parameters
        ----------
        proposal_id
            The proposal.
        """
        deadline = int(self._call(self.functions.proposalDeadline(proposal_id)))
        self.chain.wait_for_block(deadline + 1)

    def advance_past_eta(self, proposal_id: int) -> None:
        """Move time past a queued proposal's ETA (development chains).

        Parameters
        ----------
        proposal_id
            The proposal.
        """
        eta = int(self._call(self.functions.proposalEta(proposal_id)))
        now = self.chain.timestamp()
        if now < eta:
            self.chain.advance_time(eta - now)

    def pass_proposal(
        self, proposal_id: int, voters: list[Secp256k1Key], executor: Secp256k1Key
    ) -> None:
        """Drive a proposal through voting, queue and execution (development chains).

        Parameters
        ----------
        proposal_id
            The proposal.
        voters
            Accounts that vote for it.
        executor
            Who sends queue and execute.
        """
        self.advance_to_voting(proposal_id)
        for voter in voters:
            self.vote(voter, proposal_id, "for")
        self.advance_past_deadline(proposal_id)
        self.queue(executor, proposal_id)
        self.advance_past_eta(proposal_id)
        self.execute(executor, proposal_id)
