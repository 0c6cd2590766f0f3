"""Governance reads: where a proposal stands, what it does, and what comes next.

:class:`GovernanceReader` reads the ``LedgerGovernor`` and its ``ProtocolTimelock``:
each proposal's state (OpenZeppelin's ``IGovernor.ProposalState``), votes, quorum, voting
window, ETA and decoded actions, with the next step. The writes are
:class:`~ledgerlearn.governance.Governance`'s.

Trust assumption: the chain's record of the governor; nothing here sends a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_abi_to_4byte_selector, keccak, to_checksum_address
from web3.contract import Contract

from ledgerlearn.exceptions import (
    GovernanceError,
    ProposalNotFoundError,
    ProposalStateError,
)
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest
from ledgerlearn.ledger.enums import LedgerGovernorProposalState as ProposalState
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.staking import TokenClient
from ledgerlearn.storage import ContentStore, cid_or_hex

__all__ = ["PARAMETERS", "GovernanceReader", "ProposalStatus"]

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

_NEXT_STEP = {
    ProposalState.PENDING: "wait for voting to open at the snapshot block",
    ProposalState.ACTIVE: "vote before the deadline block",
    ProposalState.CANCELED: "nothing: the proposal was canceled",
    ProposalState.DEFEATED: "nothing: it did not pass (too few votes for, or no quorum)",
    ProposalState.SUCCEEDED: "queue it in the timelock (`ledgerlearn gov queue ID`)",
    ProposalState.QUEUED: (
        "execute it once the timelock's ETA has passed (`ledgerlearn gov execute ID`)"
    ),
    ProposalState.EXPIRED: "nothing: it was not executed in time",
    ProposalState.EXECUTED: "nothing: it took effect",
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
        OpenZeppelin's ``IGovernor.ProposalState``.
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
    state: ProposalState
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
            "state": self.state.label,
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


class GovernanceReader(ContractClient):
    """Inspect governance proposals: state, votes, quorum, window, decoded actions.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The verified deployment manifest.
    store
        When given, cited evaluation reports must be in it.

    Attributes
    ----------
    governor
        The bound ``LedgerGovernor`` (this client's contract).
    timelock
        The bound ``ProtocolTimelock``.
    token
        The votes token.
    models
        The model registry client (promotions and rollbacks move its channels).
    """

    contract_name = "LedgerGovernor"

    def __init__(
        self, chain: Chain, deployment: DeploymentManifest, store: ContentStore | None = None
    ) -> None:
        super().__init__(chain, deployment)
        self.store = store
        self.governor: Contract = self.contract
        self.timelock: Contract = chain.contract(
            "ProtocolTimelock", deployment.get_address("ProtocolTimelock")
        )
        self.token = TokenClient(chain, deployment)
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
        # A proposal's actions never change once created; remember them by id.
        self._known: dict[int, _Proposal] = {}

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
        return int(self._call(self.token.functions.getVotes(to_checksum_address(account))))

    def _contract(self, name: str) -> Contract:
        if name not in self._contracts:
            raise GovernanceError(f"this deployment has no {name}; redeploy the protocol")
        return self._contracts[name]

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
            from_block=self.models.deploy_block,
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

    def state(self, proposal_id: int) -> ProposalState:
        """Return a proposal's state.

        Parameters
        ----------
        proposal_id
            The proposal.

        Returns
        -------
        ProposalState
            OpenZeppelin's ``IGovernor.ProposalState`` (``label`` gives ``"active"``...).
        """
        self._find(proposal_id)
        return ProposalState(self._call_int(self.functions.state(proposal_id)))

    def _require_state(self, proposal_id: int, wanted: ProposalState, step: str) -> None:
        state = self.state(proposal_id)
        if state != wanted:
            raise ProposalStateError(
                f"cannot {step} proposal {proposal_id}: it is {state}, not {wanted}; "
                f"next: {_NEXT_STEP[state]}"
            )

    def _proposals(self) -> list[_Proposal]:
        logs = self._logs("ProposalCreated")
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
        against, in_favour, abstain = self._call(self.functions.proposalVotes(proposal_id))
        snapshot = int(self._call(self.functions.proposalSnapshot(proposal_id)))
        deadline = int(self._call(self.functions.proposalDeadline(proposal_id)))
        quorum = (
            int(self._call(self.functions.quorum(snapshot)))
            if snapshot < self.chain.block_number
            else int(self._call(self.functions.quorum(self.chain.block_number - 1)))
        )
        eta = int(self._call(self.functions.proposalEta(proposal_id)))
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


def _arg_json(name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        if name == "evaluationReport":
            return cid_or_hex(value)
        return "0x" + value.hex()
    if isinstance(value, int) and abs(value) > 2**53:
        return str(value)
    return value
