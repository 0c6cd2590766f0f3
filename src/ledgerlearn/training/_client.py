"""Client of the TrainingCoordinator: tasks, rounds, commits, posts, rewards and slashes.

Thin, typed wrappers over the contract's functions and views, plus the event reads a node
needs (commits with their CIDs, finalised rounds with their aggregate and record CIDs).
Stakes are the :mod:`ledgerlearn.staking` layer's (:attr:`TrainingClient.staking`).

Trust assumption: the chain's consensus; every value read here is what the contracts hold.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_utils import to_checksum_address
from web3.types import BlockIdentifier, EventData, FilterParams

from ledgerlearn.exceptions import InvalidCidError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest, LogDecoder
from ledgerlearn.ledger.enums import (
    TrainingCoordinatorFault,
    TrainingCoordinatorPhase,
    TrainingCoordinatorRole,
)
from ledgerlearn.staking import StakingClient, TokenClient
from ledgerlearn.storage import cid_from_binary, parse_cid

__all__ = [
    "AggregatePost",
    "RoundResult",
    "RoundView",
    "TaskConfig",
    "TaskView",
    "TrainingClient",
    "event_cid",
]


def event_cid(raw: bytes) -> str:
    """Return the CID a participant posted in an event, or a marker when it is not one.

    The coordinator only checks that a posted CID is not empty, so any trainer can post
    bytes that are no CID. Those are that trainer's unusable update or message, never a
    reason for everyone else to stop reading events: the marker ``invalid-cid:<hex>``
    fails to parse when fetched, and the update is rejected as unavailable.

    Parameters
    ----------
    raw
        The binary CID from the event.
    """
    try:
        return str(cid_from_binary(raw))
    except InvalidCidError:
        return f"invalid-cid:{raw.hex()}"


@dataclass(frozen=True, slots=True)
class TaskConfig:
    """The on-chain half of a task (see ``TrainingCoordinator.TaskConfig``)."""

    model: str
    base_version: int
    spec_cid: str
    license: str = "Apache-2.0"
    rounds: int = 5
    min_trainers: int = 3
    committee_size: int = 3
    quorum: int = 2
    join_blocks: int = 60
    commit_blocks: int = 30
    aggregate_blocks: int = 30
    max_rejections: int = 2
    min_stake: int = 100 * 10**18
    reward_pool: int = 1_000 * 10**18
    slash_amount: int = 50 * 10**18
    secagg_blocks: int = 0
    """Blocks per secure-aggregation window (0: the task does not use secure aggregation)."""

    def to_tuple(self) -> tuple[Any, ...]:
        """ABI tuple."""
        return (
            self.model,
            self.base_version,
            parse_cid(self.spec_cid).binary,
            self.license,
            self.rounds,
            self.min_trainers,
            self.committee_size,
            self.quorum,
            self.join_blocks,
            self.commit_blocks,
            self.aggregate_blocks,
            self.max_rejections,
            self.min_stake,
            self.reward_pool,
            self.slash_amount,
            self.secagg_blocks,
        )

    @classmethod
    def from_tuple(cls, raw: Sequence[Any]) -> TaskConfig:
        """Parse the ABI tuple."""
        return cls(
            model=raw[0],
            base_version=int(raw[1]),
            spec_cid=cid_from_binary(bytes(raw[2])),
            license=raw[3],
            rounds=int(raw[4]),
            min_trainers=int(raw[5]),
            committee_size=int(raw[6]),
            quorum=int(raw[7]),
            join_blocks=int(raw[8]),
            commit_blocks=int(raw[9]),
            aggregate_blocks=int(raw[10]),
            max_rejections=int(raw[11]),
            min_stake=int(raw[12]),
            reward_pool=int(raw[13]),
            slash_amount=int(raw[14]),
            secagg_blocks=int(raw[15]),
        )


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task's state."""

    task_id: int
    config: TaskConfig
    creator: str
    created_block: int
    join_deadline: int
    trainers: int
    round: int
    phase: TrainingCoordinatorPhase
    paid_out: int
    registered_version: int


@dataclass(frozen=True, slots=True)
class RoundView:
    """A round's clock and counters."""

    commit_deadline: int
    aggregate_deadline: int
    commits: int
    commit_extended: bool
    aggregate_extended: bool
    finalised: bool
    secagg_start: int = 0
    """Block the committee was drawn at: the secure-aggregation windows start after it."""
    masked_inputs: int = 0
    """Secure-aggregation step-2 posts so far: the round's survivors."""

    def secagg_window(self, step: int, blocks: int) -> tuple[int, int]:
        """Return ``(opens_after, closes_at)`` of secure-aggregation step 1, 2 or 3."""
        opens_after = self.secagg_start + (step - 1) * blocks
        return opens_after, opens_after + blocks


@dataclass(frozen=True, slots=True)
class AggregatePost:
    """What a committee member posts."""

    aggregate_sha256: bytes
    aggregate_cid: str
    updates_root: bytes
    total_score: int
    record_cid: str
    manifest_cid: str | None = None

    def to_tuple(self) -> tuple[Any, ...]:
        """ABI tuple."""
        return (
            self.aggregate_sha256,
            parse_cid(self.aggregate_cid).binary,
            self.updates_root,
            self.total_score,
            parse_cid(self.record_cid).binary,
            parse_cid(self.manifest_cid).binary if self.manifest_cid else b"",
        )


@dataclass(frozen=True, slots=True)
class RoundResult:
    """A finalised round's on-chain result (``TrainingCoordinator.getResult``)."""

    commitment: bytes
    aggregate_sha256: bytes
    updates_root: bytes
    total_score: int
    reward: int
    finalised_block: int


class TrainingClient(ContractClient):
    """Training tasks on one deployment.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The deployment manifest (TrainingCoordinator, StakeVault, LedgerToken).

    Attributes
    ----------
    staking
        The StakeVault client (trainers and aggregators stake there).
    token
        The protocol token (reward pools are approved to the coordinator).
    """

    contract_name = "TrainingCoordinator"

    def __init__(self, chain: Chain, deployment: DeploymentManifest) -> None:
        super().__init__(chain, deployment)
        self.staking = StakingClient(chain, deployment)
        self.token: TokenClient = self.staking.token
        self._secagg_decoder = LogDecoder(self.contract.events.SecAggPosted())

    # --- tasks -------------------------------------------------------------------------

    def create_task(
        self, creator: Secp256k1Key, config: TaskConfig, *, owner: str | None = None
    ) -> int:
        """Approve the reward pool and create a task; return its id."""
        if config.reward_pool:
            self.token.approve(creator, self.address, config.reward_pool)
        receipt = self._transact(
            creator,
            self.functions.createTask(
                config.to_tuple(), to_checksum_address(owner or creator.address)
            ),
        )
        return int(self._receipt_event("TaskCreated", receipt)["args"]["taskId"])

    def task(self, task_id: int, *, block: BlockIdentifier = "latest") -> TaskView:
        """Read a task."""
        raw = self._call(self.functions.getTask(task_id), block=block)
        return TaskView(
            task_id=task_id,
            config=TaskConfig.from_tuple(raw[0]),
            creator=raw[1],
            created_block=int(raw[2]),
            join_deadline=int(raw[3]),
            trainers=int(raw[4]),
            round=int(raw[5]),
            phase=TrainingCoordinatorPhase(int(raw[6])),
            paid_out=int(raw[7]),
            registered_version=int(raw[8]),
        )

    def round(self, task_id: int, round_number: int) -> RoundView:
        """Read a round's clock and counters."""
        raw = self._call(self.functions.getRound(task_id, round_number))
        return RoundView(
            int(raw[0]),
            int(raw[1]),
            int(raw[2]),
            bool(raw[3]),
            bool(raw[4]),
            bool(raw[5]),
            int(raw[6]),
            int(raw[7]),
        )

    def role_of(self, task_id: int, account: str) -> TrainingCoordinatorRole:
        """Return ``account``'s role in a task (``NONE`` if it did not join)."""
        return TrainingCoordinatorRole(
            self._call_int(self.functions.roleOf(task_id, to_checksum_address(account)))
        )

    def aggregators(self, task_id: int) -> list[str]:
        """Return the task's aggregators."""
        return list(self._call_addresses(self.functions.aggregators(task_id)))

    def commit_of(self, task_id: int, round_number: int, trainer: str) -> bytes:
        """Return the hash ``trainer`` committed (32 zero bytes if none)."""
        return self._call_bytes(
            self.functions.commitOf(task_id, round_number, to_checksum_address(trainer))
        )

    def committee(self, task_id: int, round_number: int) -> list[str]:
        """Return a round's committee."""
        return list(self._call_addresses(self.functions.committee(task_id, round_number)))

    def post_of(self, task_id: int, round_number: int, member: str) -> bytes:
        """Return the commitment ``member`` posted (zero if none)."""
        return self._call_bytes(
            self.functions.postOf(task_id, round_number, to_checksum_address(member))
        )

    def result(self, task_id: int, round_number: int) -> RoundResult:
        """Return a finalised round's on-chain result."""
        raw = self._call(self.functions.getResult(task_id, round_number))
        return RoundResult(
            commitment=bytes(raw[0]),
            aggregate_sha256=bytes(raw[1]),
            updates_root=bytes(raw[2]),
            total_score=int(raw[3]),
            reward=int(raw[4]),
            finalised_block=int(raw[5]),
        )

    def fault_of(self, task_id: int, round_number: int, member: str) -> TrainingCoordinatorFault:
        """Return a committee member's fault in a round (``NONE``, ``DISAGREED``, ``MISSED``)."""
        return TrainingCoordinatorFault(
            self._call_int(
                self.functions.faultOf(task_id, round_number, to_checksum_address(member))
            )
        )

    def claimed(self, task_id: int, round_number: int, trainer: str) -> bool:
        """Whether ``trainer`` claimed a round's reward."""
        return self._call_bool(
            self.functions.claimed(task_id, round_number, to_checksum_address(trainer))
        )

    def committee_request_id(self, task_id: int, round_number: int) -> bytes:
        """Return the beacon request id of a round's committee draw."""
        return self._call_bytes(self.functions.committeeRequestId(task_id, round_number))

    # --- participants ------------------------------------------------------------------

    def join(self, key: Secp256k1Key, task_id: int, role: TrainingCoordinatorRole) -> None:
        """Join a task as ``TRAINER`` or ``AGGREGATOR``."""
        self._transact(key, self.functions.join(task_id, int(role)))

    def commit(
        self, key: Secp256k1Key, task_id: int, round_number: int, sha256: bytes, cid: str
    ) -> int:
        """Commit an update; return the gas used."""
        receipt = self._transact(
            key,
            self.functions.commitUpdate(task_id, round_number, sha256, parse_cid(cid).binary),
        )
        return int(receipt["gasUsed"])

    def post_secagg(
        self,
        key: Secp256k1Key,
        task_id: int,
        round_number: int,
        step: int,
        sha256: bytes,
        cid: str,
    ) -> None:
        """Post the sha256 and CID of a secure-aggregation message (step 1, 2 or 3)."""
        self._transact(
            key,
            self.functions.postSecAgg(task_id, round_number, step, sha256, parse_cid(cid).binary),
        )

    def secagg_steps(self, task_id: int, round_number: int, trainer: str) -> set[int]:
        """Return the secure-aggregation steps ``trainer`` posted in a round."""
        bits = self._call_int(
            self.functions.secAggSteps(task_id, round_number, to_checksum_address(trainer))
        )
        return {step for step in (1, 2, 3) if bits >> (step - 1) & 1}

    def secagg_posts(
        self,
        task_id: int,
        round_number: int,
        *,
        trainers: Collection[str] | None = None,
        blocks: tuple[int, int] | None = None,
    ) -> dict[int, dict[str, tuple[bytes, str]]]:
        """Step → trainer → (message sha256, CID) of a round's secure-aggregation posts.

        Parameters
        ----------
        task_id, round_number
            The round.
        trainers
            Only these senders' posts: the node filters by the indexed ``trainer`` topic,
            so a SecAgg+ trainer reads its O(log n) neighbours, not all n.
        blocks
            ``(first, last)`` blocks to search (the round's windows); since the
            coordinator's deployment to the head when omitted.
        """
        decoder = self._secagg_decoder
        first, last = blocks if blocks is not None else (self.deploy_block, None)
        topics: list[Any] = [
            "0x" + decoder.topic.hex(),
            "0x" + task_id.to_bytes(32, "big").hex(),
            "0x" + round_number.to_bytes(32, "big").hex(),
        ]
        if trainers is not None:
            if not trainers:
                return {1: {}, 2: {}, 3: {}}
            topics.append(["0x" + bytes(12).hex() + t.lower()[2:] for t in sorted(trainers)])
        params: dict[str, Any] = {
            "address": self.address,
            "fromBlock": first,
            "toBlock": "latest" if last is None else last,
            "topics": topics,
        }
        logs = self.chain.get_logs(cast(FilterParams, params))
        found: dict[int, dict[str, tuple[bytes, str]]] = {1: {}, 2: {}, 3: {}}
        for log in sorted(logs, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"]))):
            args = decoder.decode(log)["args"]
            found[int(args["step"])][args["trainer"]] = (
                bytes(args["messageSha256"]),
                event_cid(bytes(args["cid"])),
            )
        return found

    def advance(self, key: Secp256k1Key, task_id: int) -> list[str]:
        """Move the task on; return the names of the events it emitted."""
        receipt = self._transact(key, self.functions.advance(task_id))
        return self.event_names(receipt)

    def post(
        self, key: Secp256k1Key, task_id: int, round_number: int, post: AggregatePost
    ) -> list[str]:
        """Post an aggregate; return the names of the events it emitted."""
        receipt = self._transact(
            key, self.functions.postAggregate(task_id, round_number, post.to_tuple())
        )
        return self.event_names(receipt)

    def claim(
        self,
        key: Secp256k1Key,
        task_id: int,
        round_number: int,
        sha256: bytes,
        score: int,
        proof: list[bytes],
    ) -> int:
        """Claim a round's reward; return the amount paid."""
        receipt = self._transact(
            key, self.functions.claimReward(task_id, round_number, sha256, score, proof)
        )
        return int(self._receipt_event("RewardClaimed", receipt)["args"]["amount"])

    def slash_trainer(
        self,
        key: Secp256k1Key,
        task_id: int,
        trainer: str,
        rounds: list[int],
        hashes: list[bytes],
        proofs: list[list[bytes]],
    ) -> int:
        """Slash a repeatedly rejected trainer; return the amount taken."""
        receipt = self._transact(
            key,
            self.functions.slashTrainer(
                task_id, to_checksum_address(trainer), rounds, hashes, proofs
            ),
        )
        return int(self._receipt_event("TrainerSlashed", receipt)["args"]["amount"])

    def slash_aggregator(
        self, key: Secp256k1Key, task_id: int, round_number: int, member: str
    ) -> int:
        """Slash a faulty committee member; return the amount taken."""
        receipt = self._transact(
            key,
            self.functions.slashAggregator(task_id, round_number, to_checksum_address(member)),
        )
        return int(self._receipt_event("AggregatorSlashed", receipt)["args"]["amount"])

    # --- events ------------------------------------------------------------------------

    def events(self, name: str, task_id: int, **filters: Any) -> list[EventData]:
        """Every ``name`` event of ``task_id`` since the coordinator was deployed."""
        return self._logs(name, taskId=task_id, **filters)

    def commits(self, task_id: int, round_number: int) -> dict[str, tuple[bytes, str]]:
        """Trainer → (committed sha256, envelope CID) of a round, from the commit events."""
        found: dict[str, tuple[bytes, str]] = {}
        for log in self.events("UpdateCommitted", task_id):
            args = log["args"]
            if int(args["round"]) != round_number:
                continue
            found[args["trainer"]] = (
                bytes(args["updateSha256"]),
                event_cid(bytes(args["cid"])),
            )
        return found

    def finalised(self, task_id: int) -> dict[int, dict[str, Any]]:
        """Round → its RoundFinalised arguments (CIDs as strings)."""
        rounds: dict[int, dict[str, Any]] = {}
        for log in self.events("RoundFinalised", task_id):
            args = dict(log["args"])
            args["aggregateCid"] = cid_from_binary(bytes(args["aggregateCid"]))
            args["recordCid"] = cid_from_binary(bytes(args["recordCid"]))
            args["block"] = int(log["blockNumber"])
            rounds[int(args["round"])] = args
        return rounds
