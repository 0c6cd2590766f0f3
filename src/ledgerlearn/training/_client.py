"""Client for the StakeVault and the TrainingCoordinator: stakes, tasks, rounds, rewards.

Thin, typed wrappers over the contracts' functions and views, plus the event reads a node
needs (commits with their CIDs, finalised rounds with their aggregate and record CIDs).

Trust assumption: the chain's consensus; every value read here is what the contracts hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.types import BlockIdentifier, FilterParams

from ledgerlearn.identity import Secp256k1Key
from ledgerlearn.ledger import (
    Chain,
    DeploymentManifest,
    LogDecoder,
    event_topic,
    receipt_events,
)
from ledgerlearn.storage import cid_from_binary, parse_cid

__all__ = [
    "PHASES",
    "ROLES",
    "AggregatePost",
    "RoundView",
    "TaskConfig",
    "TaskView",
    "TrainingClient",
]

PHASES = ("commit", "selecting", "aggregating", "completed", "aborted")
ROLES = ("none", "trainer", "aggregator")
FAULTS = ("none", "disagreed", "missed")


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
    phase: str
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


class TrainingClient:
    """Stakes and training tasks on one deployment.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The deployment manifest (StakeVault, TrainingCoordinator, LedgerToken).
    """

    def __init__(self, chain: Chain, deployment: DeploymentManifest) -> None:
        self.chain = chain
        self.deployment = deployment
        self.vault: Contract = chain.contract("StakeVault", deployment.get_address("StakeVault"))
        self.coordinator: Contract = chain.contract(
            "TrainingCoordinator", deployment.get_address("TrainingCoordinator")
        )
        self.token: Contract = chain.contract("LedgerToken", deployment.get_address("LedgerToken"))
        self.start_block = deployment.contracts["TrainingCoordinator"].block
        self.gas: Counter[str] = Counter()
        """Gas used by this client's transactions, by contract function."""
        self.calls: Counter[str] = Counter()
        """Transactions sent by this client, by contract function."""
        self._topics: dict[bytes, str] = {}
        self._secagg_decoder = LogDecoder(self.coordinator.events.SecAggPosted())

    def _transact(self, key: Secp256k1Key, function: Any) -> Any:
        receipt = self.chain.sender(key).transact(function)
        self.gas[function.fn_name] += int(receipt["gasUsed"])
        self.calls[function.fn_name] += 1
        return receipt

    # --- stakes ------------------------------------------------------------------------

    def stake(self, key: Secp256k1Key, amount: int) -> None:
        """Approve and stake ``amount`` token units from ``key``'s account."""
        send = partial(self._transact, key)
        send(self.token.functions.approve(self.vault.address, amount))
        send(self.vault.functions.stake(amount))

    def unbond(self, key: Secp256k1Key, amount: int) -> int:
        """Start unbonding; return the block from which it can be withdrawn."""
        receipt = self._transact(key, self.vault.functions.unbond(amount))
        return int(
            receipt_events(self.vault.events.UnbondingStarted, receipt)[0]["args"]["releaseBlock"]
        )

    def withdraw(self, key: Secp256k1Key) -> int:
        """Withdraw every released unbonding entry; return the amount."""
        receipt = self._transact(key, self.vault.functions.withdraw())
        return int(receipt_events(self.vault.events.Withdrawn, receipt)[0]["args"]["amount"])

    def stake_of(self, account: str) -> int:
        """Active stake of ``account``."""
        return int(self.chain.call(self.vault.functions.stakeOf(to_checksum_address(account))))

    def vault_totals(self) -> dict[str, int]:
        """Return the vault's accounting totals."""
        f = self.vault.functions
        return {
            name: int(self.chain.call(getattr(f, name)()))
            for name in (
                "totalDeposited",
                "totalActive",
                "totalUnbonding",
                "totalWithdrawn",
                "totalSlashed",
            )
        }

    # --- tasks -------------------------------------------------------------------------

    def create_task(
        self, creator: Secp256k1Key, config: TaskConfig, *, owner: str | None = None
    ) -> int:
        """Approve the reward pool and create a task; return its id."""
        send = partial(self._transact, creator)
        if config.reward_pool:
            send(self.token.functions.approve(self.coordinator.address, config.reward_pool))
        receipt = send(
            self.coordinator.functions.createTask(
                config.to_tuple(), to_checksum_address(owner or creator.address)
            )
        )
        return int(
            receipt_events(self.coordinator.events.TaskCreated, receipt)[0]["args"]["taskId"]
        )

    def task(self, task_id: int, *, block: BlockIdentifier = "latest") -> TaskView:
        """Read a task."""
        raw = self.chain.call(self.coordinator.functions.getTask(task_id), block=block)
        return TaskView(
            task_id=task_id,
            config=TaskConfig.from_tuple(raw[0]),
            creator=raw[1],
            created_block=int(raw[2]),
            join_deadline=int(raw[3]),
            trainers=int(raw[4]),
            round=int(raw[5]),
            phase=PHASES[int(raw[6])],
            paid_out=int(raw[7]),
            registered_version=int(raw[8]),
        )

    def round(self, task_id: int, round_number: int) -> RoundView:
        """Read a round's clock and counters."""
        raw = self.chain.call(self.coordinator.functions.getRound(task_id, round_number))
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

    def role_of(self, task_id: int, account: str) -> str:
        """``none``, ``trainer`` or ``aggregator``."""
        return ROLES[
            int(
                self.chain.call(
                    self.coordinator.functions.roleOf(task_id, to_checksum_address(account))
                )
            )
        ]

    def aggregators(self, task_id: int) -> list[str]:
        """Return the task's aggregators."""
        return list(self.chain.call(self.coordinator.functions.aggregators(task_id)))

    def commit_of(self, task_id: int, round_number: int, trainer: str) -> bytes:
        """Return the hash ``trainer`` committed (32 zero bytes if none)."""
        return bytes(
            self.chain.call(
                self.coordinator.functions.commitOf(
                    task_id, round_number, to_checksum_address(trainer)
                )
            )
        )

    def committee(self, task_id: int, round_number: int) -> list[str]:
        """Return a round's committee."""
        return list(self.chain.call(self.coordinator.functions.committee(task_id, round_number)))

    def post_of(self, task_id: int, round_number: int, member: str) -> bytes:
        """Return the commitment ``member`` posted (zero if none)."""
        return bytes(
            self.chain.call(
                self.coordinator.functions.postOf(
                    task_id, round_number, to_checksum_address(member)
                )
            )
        )

    def result(self, task_id: int, round_number: int) -> dict[str, Any]:
        """Return a finalised round's on-chain result."""
        raw = self.chain.call(self.coordinator.functions.getResult(task_id, round_number))
        return {
            "commitment": bytes(raw[0]),
            "aggregateSha256": bytes(raw[1]),
            "updatesRoot": bytes(raw[2]),
            "totalScore": int(raw[3]),
            "reward": int(raw[4]),
            "finalisedBlock": int(raw[5]),
        }

    def fault_of(self, task_id: int, round_number: int, member: str) -> str:
        """``none``, ``disagreed`` or ``missed``."""
        return FAULTS[
            int(
                self.chain.call(
                    self.coordinator.functions.faultOf(
                        task_id, round_number, to_checksum_address(member)
                    )
                )
            )
        ]

    def claimed(self, task_id: int, round_number: int, trainer: str) -> bool:
        """Whether ``trainer`` claimed a round's reward."""
        return bool(
            self.chain.call(
                self.coordinator.functions.claimed(
                    task_id, round_number, to_checksum_address(trainer)
                )
            )
        )

    def committee_request_id(self, task_id: int, round_number: int) -> bytes:
        """Return the beacon request id of a round's committee draw."""
        return bytes(
            self.chain.call(self.coordinator.functions.committeeRequestId(task_id, round_number))
        )

    # --- participants ------------------------------------------------------------------

    def join(self, key: Secp256k1Key, task_id: int, role: str) -> None:
        """Join as ``trainer`` or ``aggregator``."""
        self._transact(key, self.coordinator.functions.join(task_id, ROLES.index(role)))

    def commit(
        self, key: Secp256k1Key, task_id: int, round_number: int, sha256: bytes, cid: str
    ) -> int:
        """Commit an update; return the gas used."""
        receipt = self._transact(
            key,
            self.coordinator.functions.commitUpdate(
                task_id, round_number, sha256, parse_cid(cid).binary
            ),
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
            self.coordinator.functions.postSecAgg(
                task_id, round_number, step, sha256, parse_cid(cid).binary
            ),
        )

    def secagg_steps(self, task_id: int, round_number: int, trainer: str) -> set[int]:
        """Return the secure-aggregation steps ``trainer`` posted in a round."""
        bits = int(
            self.chain.call(
                self.coordinator.functions.secAggSteps(
                    task_id, round_number, to_checksum_address(trainer)
                )
            )
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
        first, last = blocks if blocks is not None else (self.start_block, None)
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
            "address": self.coordinator.address,
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
                cid_from_binary(bytes(args["cid"])),
            )
        return found

    def advance(self, key: Secp256k1Key, task_id: int) -> list[str]:
        """Move the task on; return the names of the events it emitted."""
        receipt = self._transact(key, self.coordinator.functions.advance(task_id))
        return self._event_names(receipt)

    def post(
        self, key: Secp256k1Key, task_id: int, round_number: int, post: AggregatePost
    ) -> list[str]:
        """Post an aggregate; return the names of the events it emitted."""
        receipt = self._transact(
            key, self.coordinator.functions.postAggregate(task_id, round_number, post.to_tuple())
        )
        return self._event_names(receipt)

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
            key, self.coordinator.functions.claimReward(task_id, round_number, sha256, score, proof)
        )
        return int(
            receipt_events(self.coordinator.events.RewardClaimed, receipt)[0]["args"]["amount"]
        )

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
            self.coordinator.functions.slashTrainer(
                task_id, to_checksum_address(trainer), rounds, hashes, proofs
            ),
        )
        return int(
            receipt_events(self.coordinator.events.TrainerSlashed, receipt)[0]["args"]["amount"]
        )

    def slash_aggregator(
        self, key: Secp256k1Key, task_id: int, round_number: int, member: str
    ) -> int:
        """Slash a faulty committee member; return the amount taken."""
        receipt = self._transact(
            key,
            self.coordinator.functions.slashAggregator(
                task_id, round_number, to_checksum_address(member)
            ),
        )
        return int(
            receipt_events(self.coordinator.events.AggregatorSlashed, receipt)[0]["args"]["amount"]
        )

    # --- events ------------------------------------------------------------------------

    def events(self, name: str, task_id: int, **filters: Any) -> list[Any]:
        """Every ``name`` event of ``task_id`` since the coordinator was deployed."""
        event = getattr(self.coordinator.events, name)
        return list(
            event().get_logs(
                from_block=self.start_block, argument_filters={"taskId": task_id, **filters}
            )
        )

    def commits(self, task_id: int, round_number: int) -> dict[str, tuple[bytes, str]]:
        """Trainer → (committed sha256, envelope CID) of a round, from the commit events."""
        found: dict[str, tuple[bytes, str]] = {}
        for log in self.events("UpdateCommitted", task_id):
            args = log["args"]
            if int(args["round"]) != round_number:
                continue
            found[args["trainer"]] = (
                bytes(args["updateSha256"]),
                cid_from_binary(bytes(args["cid"])),
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

    def _event_names(self, receipt: Any) -> list[str]:
        if not self._topics:
            for item in self.coordinator.abi:
                entry = cast(dict[str, Any], item)
                if entry.get("type") == "event":
                    event = getattr(self.coordinator.events, entry["name"])
                    self._topics[event_topic(event)] = entry["name"]
        return [
            self._topics[bytes(log["topics"][0])]
            for log in receipt["logs"]
            if log["address"] == self.coordinator.address
            and bytes(log["topics"][0]) in self._topics
        ]
