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

from dataclasses import dataclass, field
from typing import Any, Literal

from eth_abi import decode as abi_decode
from eth_utils import function_abi_to_4byte_selector, keccak, to_checksum_address
from web3.contract import Contract

from ledgerlearn.exceptions import (
    EvaluationReportRequiredError,
    GovernanceError,
    ProposalNotFoundError,
    ProposalStateError,
)
from ledgerlearn.identity import Secp256k1Key
from ledgerlearn.ledger import (
    Chain,
    DeploymentManifest,
    receipt_events,
)
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import ContentStore, cid_or_hex, parse_cid
from ledgerlearn.types import Cid

__all__ = [
    "PARAMETERS",
    "PROPOSAL_STATES",
    "Governance",
    "ProposalStatus",
]

PROPOSAL_STATES = (
    "pending",
    "active",
    "canceled",
    "defeated",
    "succeeded",
    "queued",
    "expired",
    "executed",
)
"""OpenZeppelin ``IGovernor.ProposalState`` names, in enum order."""

PARAMETERS: dict[str, tuple[str, str]] = {
    "voting_delay": ("LedgerGovernor", "setVotingDelay"),
    "voting_period": ("LedgerGovernor", "setVotingPeriod"),
    "proposal_threshold": ("LedgerGovernor", "setProposalThreshold"),
    "quorum_fraction": ("LedgerGovernor", "updateQuorumNumerator"),
    "late_quorum_extension": ("LedgerGovernor", "setLateQuorumVoteExtension"),
    "proposal_guardian": ("LedgerGovernor", "setProposalGuardian"),
    "timelock_delay": ("ProtocolTimelock", "updateDelay"),
    "min_provider_stake": ("InferenceOracle", "setMinProviderStake"),
}
"""Parameters a proposal can change: name → (contract, setter). Each setter is callable only
by governance (the timelock)."""

_SUPPORT = {"against": 0, "for": 1, "abstain": 2}
_NEXT_STEP = {
    "pending": "wait for voting to open at the snapshot block",
    "active": "vote before the deadline block",
    "canceled": "nothing: the proposal was canceled",
    "defeated": "nothing: it did not pass (too few votes for, or no quorum)",
    "succeeded": "queue it in the timelock (`ledgerlearn gov queue ID`)",
    "queued": "execute it once the timelock's ETA has passed (`ledgerlearn gov execute ID`)",
    "expired": "nothing: it was not executed in time",
    "executed": "nothing: it took effect",
}


@dataclass(frozen=True, slots=True)
class _Proposal:
    proposal_id: int
    proposer: str
    targets: list[str]
    values: list[int]
    calldatas: list[bytes]
    description: str
    block: int

    @property
    def call_args(self) -> tuple[list[str], list[int], list[bytes], bytes]:
        """(targets, values, calldatas, description hash): what queue/execute/cancel take."""
        return self.targets, self.values, self.calldatas, keccak(text=self.description)


@dataclass(frozen=True, slots=True)
class ProposalStatus:
    """Where a proposal stands.

    Attributes
    ----------
    proposal_id
        The governor's id.
    state
        One of :data:`PROPOSAL_STATES`.
    description
        The proposal's text.
    proposer
        Who proposed it.
    actions
        Decoded calls (contract, function, arguments).
    snapshot, deadline
        Voting window, in blocks.
    votes
        ``for``, ``against``, ``abstain`` (token units).
    quorum
        Votes needed (for + abstain) at the snapshot.
    eta
        Timestamp after which a queued proposal can execute (0 if not queued).
    evaluation_reports
        CIDs cited by channel moves.
    next_step
        What to do next.
    """

    proposal_id: int
    state: str
    description: str
    proposer: str
    actions: list[dict[str, Any]]
    snapshot: int
    deadline: int
    votes: dict[str, int]
    quorum: int
    eta: int
    evaluation_reports: list[str] = field(default_factory=list)
    next_step: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the status as JSON (the id as a decimal string).

        Returns
        -------
        dict
            camelCase fields.
        """
        return {
            "proposalId": str(self.proposal_id),
            "state": self.state,
            "description": self.description,
            "proposer": self.proposer,
            "actions": self.actions,
            "snapshot": self.snapshot,
            "deadline": self.deadline,
            "votes": {k: str(v) for k, v in self.votes.items()},
            "quorum": str(self.quorum),
            "eta": self.eta,
            "evaluationReports": self.evaluation_reports,
            "nextStep": self.next_step,
        }


class Governance:
    """Propose, vote, queue, execute and inspect governance proposals.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The verified deployment manifest.
    store
        When given, cited evaluation reports must be in it.
    """

    def __init__(
        self, chain: Chain, deployment: DeploymentManifest, store: ContentStore | None = None
    ) -> None:
        self.chain = chain
        self.store = store
        self.governor: Contract = chain.contract(
            "LedgerGovernor", deployment.get_address("LedgerGovernor")
        )
        self.timelock: Contract = chain.contract(
            "ProtocolTimelock", deployment.get_address("ProtocolTimelock")
        )
        self.token: Contract = chain.contract("LedgerToken", deployment.get_address("LedgerToken"))
        self.models = ModelRegistryClient(chain, deployment, store)
        self.registry: Contract = self.models.contract
        self._contracts = {
            "LedgerGovernor": self.governor,
            "ProtocolTimelock": self.timelock,
            "ModelRegistry": self.registry,
        }
        for name in ("InferenceOracle", "InferenceAudits"):
            if name in deployment.contracts:
                self._contracts[name] = chain.contract(name, deployment.get_address(name))
        self._start_block = deployment.contracts["LedgerGovernor"].block
        # A proposal's actions never change once created; remember them by id.
        self._known: dict[int, _Proposal] = {}

    # --- voting power ----------------------------------------------------------------------

    def delegate(self, holder: Secp256k1Key, to: str | None = None) -> None:
        """Delegate ``holder``'s votes (to itself by default); needed once before voting.

        Parameters
        ----------
        holder
            A token holder.
        to
            The delegatee (default: the holder).
        """
        self.chain.sender(holder).transact(
            self.token.functions.delegate(to_checksum_address(to or holder.address))
        )

    def votes(self, account: str) -> int:
        """Return an account's current voting power.

        Parameters
        ----------
        account
            The account.

        Returns
        -------
        int
            Votes (token units).
        """
        return int(self.chain.call(self.token.functions.getVotes(to_checksum_address(account))))

    # --- proposing -------------------------------------------------------------------------

    def _propose(self, proposer: Secp256k1Key, calls: list[Any], description: str) -> int:
        """Propose the bound contract ``calls`` (executed by the timelock, in order)."""
        description = f"{description}\n\n(proposed at block {self.chain.block_number})"
        targets = [call.address for call in calls]
        values = [0] * len(calls)
        calldatas = [bytes.fromhex(call._encode_transaction_data()[2:]) for call in calls]
        receipt = self.chain.sender(proposer).transact(
            self.governor.functions.propose(targets, values, calldatas, description)
        )
        created = receipt_events(self.governor.events.ProposalCreated, receipt)
        return int(created[0]["args"]["proposalId"])

    def _contract(self, name: str) -> Contract:
        if name not in self._contracts:
            raise GovernanceError(f"this deployment has no {name}; redeploy the protocol")
        return self._contracts[name]

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

    def channel_moves(self, model: str, channel: str) -> list[dict[str, Any]]:
        """Return a channel's moves, oldest first.

        Parameters
        ----------
        model, channel
            Which channel.

        Returns
        -------
        list[dict]
            ``version``, ``previousVersion``, ``evaluationReport``, ``block`` per move.
        """
        logs = self.registry.events.ChannelMoved().get_logs(
            from_block=self._start_block,
            argument_filters={"modelId": keccak(text=model), "channelHash": keccak(text=channel)},
        )
        return [
            {
                "version": int(log["args"]["version"]),
                "previousVersion": int(log["args"]["previousVersion"]),
                "evaluationReport": cid_or_hex(log["args"]["evaluationReport"]),
                "block": int(log["blockNumber"]),
            }
            for log in logs
        ]

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

    # --- voting and execution --------------------------------------------------------------

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
        if support not in _SUPPORT:
            raise GovernanceError(f"support must be for, against or abstain, not {support!r}")
        state = self.state(proposal_id)
        if state != "active":
            raise ProposalStateError(
                f"proposal {proposal_id} is {state}; votes count only while it is active "
                f"({_NEXT_STEP[state]})"
            )
        fn = (
            self.governor.functions.castVoteWithReason(proposal_id, _SUPPORT[support], reason)
            if reason
            else self.governor.functions.castVote(proposal_id, _SUPPORT[support])
        )
        receipt = self.chain.sender(voter).transact(fn)
        cast = receipt_events(self.governor.events.VoteCast, receipt)
        return int(cast[0]["args"]["weight"])

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
        self._require_state(proposal_id, "succeeded", "queue")
        p = self._find(proposal_id)
        self.chain.sender(sender).transact(self.governor.functions.queue(*p.call_args))
        return int(self.chain.call(self.governor.functions.proposalEta(proposal_id)))

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
        self._require_state(proposal_id, "queued", "execute")
        eta = int(self.chain.call(self.governor.functions.proposalEta(proposal_id)))
        now = self.chain.timestamp()
        if now < eta:
            raise ProposalStateError(
                f"proposal {proposal_id} is queued until timestamp {eta} ({eta - now} s from "
                "the latest block); execute it after that"
            )
        p = self._find(proposal_id)
        self.chain.sender(sender).transact(self.governor.functions.execute(*p.call_args))

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
        self.chain.sender(guardian).transact(self.governor.functions.cancel(*p.call_args))

    # --- inspection ------------------------------------------------------------------------

    def state(self, proposal_id: int) -> str:
        """Return a proposal's state name.

        Parameters
        ----------
        proposal_id
            The proposal.

        Returns
        -------
        str
            One of :data:`PROPOSAL_STATES`.
        """
        self._find(proposal_id)
        return PROPOSAL_STATES[int(self.chain.call(self.governor.functions.state(proposal_id)))]

    def _require_state(self, proposal_id: int, wanted: str, step: str) -> None:
        state = self.state(proposal_id)
        if state != wanted:
            raise ProposalStateError(
                f"cannot {step} proposal {proposal_id}: it is {state}, not {wanted}; "
                f"next: {_NEXT_STEP[state]}"
            )

    def _proposals(self) -> list[_Proposal]:
        logs = self.governor.events.ProposalCreated().get_logs(from_block=self._start_block)
        found = [
            _Proposal(
                proposal_id=int(log["args"]["proposalId"]),
                proposer=to_checksum_address(log["args"]["proposer"]),
                targets=[to_checksum_address(t) for t in log["args"]["targets"]],
                values=[int(v) for v in log["args"]["values"]],
                calldatas=[bytes(c) for c in log["args"]["calldatas"]],
                description=str(log["args"]["description"]),
                block=int(log["blockNumber"]),
            )
            for log in logs
        ]
        self._known.update((p.proposal_id, p) for p in found)
        return found

    def _find(self, proposal_id: int) -> _Proposal:
        if proposal_id not in self._known:
            self._proposals()
        if proposal_id in self._known:
            return self._known[proposal_id]
        raise ProposalNotFoundError(
            f"no proposal {proposal_id} on governor {self.governor.address}; "
            "list them with `ledgerlearn gov status`"
        )

    def proposal_ids(self) -> list[int]:
        """Return every proposal's id, oldest first.

        Returns
        -------
        list[int]
            The ids.
        """
        return [p.proposal_id for p in self._proposals()]

    def status(self, proposal_id: int) -> ProposalStatus:
        """Return everything about a proposal, with the next step.

        Parameters
        ----------
        proposal_id
            The proposal.

        Returns
        -------
        ProposalStatus
            State, votes, quorum, window, ETA, decoded actions and cited reports.
        """
        p = self._find(proposal_id)
        state = self.state(proposal_id)
        against, in_favour, abstain = self.chain.call(
            self.governor.functions.proposalVotes(proposal_id)
        )
        snapshot = int(self.chain.call(self.governor.functions.proposalSnapshot(proposal_id)))
        deadline = int(self.chain.call(self.governor.functions.proposalDeadline(proposal_id)))
        quorum = (
            int(self.chain.call(self.governor.functions.quorum(snapshot)))
            if snapshot < self.chain.block_number
            else int(self.chain.call(self.governor.functions.quorum(self.chain.block_number - 1)))
        )
        eta = int(self.chain.call(self.governor.functions.proposalEta(proposal_id)))
        actions = [self._decode(t, d) for t, d in zip(p.targets, p.calldatas, strict=True)]
        reports = [
            a["arguments"]["evaluationReport"] for a in actions if a["function"] == "moveChannel"
        ]
        return ProposalStatus(
            proposal_id=proposal_id,
            state=state,
            description=p.description,
            proposer=p.proposer,
            actions=actions,
            snapshot=snapshot,
            deadline=deadline,
            votes={"for": int(in_favour), "against": int(against), "abstain": int(abstain)},
            quorum=quorum,
            eta=eta,
            evaluation_reports=reports,
            next_step=_NEXT_STEP[state],
        )

    def _decode(self, target: str, data: bytes) -> dict[str, Any]:
        for name, contract in self._contracts.items():
            if to_checksum_address(contract.address) != target:
                continue
            for raw_entry in contract.abi:
                entry: dict[str, Any] = dict(raw_entry)
                if entry.get("type") != "function":
                    continue
                if function_abi_to_4byte_selector(raw_entry) != data[:4]:
                    continue
                types = [i["type"] for i in entry["inputs"]]
                values = abi_decode(types, data[4:])
                arguments = {
                    i["name"]: _arg_json(i["name"], v)
                    for i, v in zip(entry["inputs"], values, strict=True)
                }
                return {"contract": name, "function": entry["name"], "arguments": arguments}
        return {"contract": target, "function": "0x" + data[:4].hex(), "arguments": {}}

    # --- development chains ----------------------------------------------------------------

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
        snapshot = int(self.chain.call(self.governor.functions.proposalSnapshot(proposal_id)))
        self.chain.wait_for_block(snapshot + 1)

    def advance_past_deadline(self, proposal_id: int) -> None:
        """Mine until the proposal's voting period is over (development chains).

        Parameters
        ----------
        proposal_id
            The proposal.
        """
        deadline = int(self.chain.call(self.governor.functions.proposalDeadline(proposal_id)))
        self.chain.wait_for_block(deadline + 1)

    def advance_past_eta(self, proposal_id: int) -> None:
        """Move time past a queued proposal's ETA (development chains).

        Parameters
        ----------
        proposal_id
            The proposal.
        """
        eta = int(self.chain.call(self.governor.functions.proposalEta(proposal_id)))
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


def _arg_json(name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        if name == "evaluationReport":
            return cid_or_hex(value)
        return "0x" + value.hex()
    if isinstance(value, int) and abs(value) > 2**53:
        return str(value)
    return value
