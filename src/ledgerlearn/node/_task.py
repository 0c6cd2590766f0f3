"""Task participants: what trainers and aggregators of a training task share.

A :class:`TaskNode` follows the TrainingCoordinator's events of its task through a resumable
cursor and keeps what it learned (commits and their CIDs, secure-aggregation posts,
finalised rounds) in its :class:`TaskState`. Each step it first reads the task, then the
events: every event behind that read is then in the poll (read after, a round could
finalise in between and its event be missed while the task already says the next round).
It stakes and joins once, reads the spec from the store, and verifies the weights a round
starts from against the chain (the registry for round 1, the previous round's on-chain
sha256 after).

Trust assumption: the node's key and state directory are its own; the chain and the
content store are shared and checked (hashes against commitments, CIDs against bytes).
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import ArtifactVerificationError, TrainingError
from ledgerlearn.identity import EthrDidRegistry, EthrDidResolver
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.learning.models import weights_from_bytes
from ledgerlearn.learning.secagg import SecAggConfig
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.ledger.enums import TrainingCoordinatorPhase, TrainingCoordinatorRole
from ledgerlearn.ledger.errors import (
    BeaconAlreadyFulfilled,
    CoordinatorAlreadyClaimed,
    CoordinatorAlreadyCommitted,
    CoordinatorAlreadyJoined,
    CoordinatorAlreadyPosted,
    CoordinatorAlreadySlashed,
    CoordinatorJoinClosed,
    CoordinatorNothingToAdvance,
    CoordinatorSecAggOrder,
    CoordinatorWrongPhase,
)
from ledgerlearn.node._base import Node, NodeState
from ledgerlearn.randomness import BeaconClient, VrfKey
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import ContentStore, cid_from_binary
from ledgerlearn.training import (
    TaskSpec,
    TaskView,
    TrainingClient,
    event_cid,
    round_config,
    round_context,
)

__all__ = ["TaskNode", "TaskState"]

ENDED = (TrainingCoordinatorPhase.COMPLETED, TrainingCoordinatorPhase.ABORTED)


@dataclass
class TaskState(NodeState):
    """What a trainer or aggregator persists besides its event cursor.

    Attributes
    ----------
    joined
        Whether the node joined its task.
    commits
        Round → trainer → [sha256 hex, CID] of the commits seen.
    finals
        Round → the round's ``RoundFinalised`` arguments (hex and CIDs).
    prepared
        Round → the trainer's own prepared commit (sha256 hex, CID), kept before sending.
    rejections
        Trainer → rounds it was rejected in (an aggregator's watchdog).
    secagg
        Round → step → trainer → [sha256 hex, CID] of secure-aggregation posts seen.
    """

    joined: bool = False
    commits: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)
    prepared: dict[str, dict[str, str]] = field(default_factory=dict)
    rejections: dict[str, list[int]] = field(default_factory=dict)
    secagg: dict[str, dict[str, dict[str, list[str]]]] = field(default_factory=dict)


class TaskNode(Node[TaskState]):
    """A participant of one training task (base of trainers and aggregators).

    Parameters
    ----------
    chain, deployment, store
        Where the protocol lives.
    key
        The node's account (its did:ethr identity).
    task_id
        The task to take part in.
    state_dir
        Where the node keeps its cursor and state; reused on restart.
    stake
        Tokens to stake if the account's stake is below the task's minimum.
    """

    join_as: TrainingCoordinatorRole
    done_reverts = (
        CoordinatorNothingToAdvance,
        CoordinatorWrongPhase,
        BeaconAlreadyFulfilled,
        CoordinatorAlreadyCommitted,
        CoordinatorAlreadyPosted,
        CoordinatorAlreadyClaimed,
        CoordinatorAlreadySlashed,
        CoordinatorAlreadyJoined,
        CoordinatorSecAggOrder,  # this step is already posted (earlier ones are checked first)
    )

    def __init__(
        self,
        chain: Chain,
        deployment: DeploymentManifest,
        store: ContentStore,
        key: Secp256k1Key,
        task_id: int,
        state_dir: str | Path,
        *,
        stake: int = 0,
        events: tuple[str, ...] = ("UpdateCommitted", "RoundFinalised"),
    ) -> None:
        super().__init__(chain, deployment, store, key, state_dir, state_type=TaskState)
        self.task_id = task_id
        self.stake_amount = stake
        self.client = TrainingClient(chain, deployment)
        self.registry = ModelRegistryClient(chain, deployment, store)
        self.beacon = BeaconClient(chain, deployment)
        self.identities = EthrDidRegistry(chain, deployment)
        self.resolver = EthrDidResolver(chain, deployment)
        self.vrf_key = VrfKey.derive(key.unsafe_secret())
        self.cursor = self.client.cursor(
            self.state_dir / "cursor.json", events=events, idle_save_blocks=1_000
        )
        self.task: TaskView | None = None
        """The task as :meth:`prepare` read it this step."""
        self._spec: TaskSpec | None = None
        self._key_index: int | None = None
        self._globals: dict[int, tuple[dict[str, NDArray[np.float32]], bytes, str]] = {}

    # --- the template ------------------------------------------------------------------

    def prepare(self) -> None:
        """Read the task before the head and the events."""
        self.task = self.client.task(self.task_id)

    def on_event(self, event: Any) -> None:
        """Record a coordinator event of this task (idempotent: keyed by round and trainer)."""
        self.metrics.events.inc()
        args = event["args"]
        if int(args["taskId"]) != self.task_id:
            return
        round_key = str(int(args["round"]))
        if event["event"] == "UpdateCommitted":
            self.state.commits.setdefault(round_key, {})[args["trainer"]] = [
                bytes(args["updateSha256"]).hex(),
                event_cid(bytes(args["cid"])),
            ]
        elif event["event"] == "SecAggPosted":
            steps = self.state.secagg.setdefault(round_key, {})
            steps.setdefault(str(int(args["step"])), {})[args["trainer"]] = [
                bytes(args["messageSha256"]).hex(),
                event_cid(bytes(args["cid"])),
            ]
        elif event["event"] == "RoundFinalised":
            self.state.finals[round_key] = {
                "aggregateSha256": bytes(args["aggregateSha256"]).hex(),
                "aggregateCid": cid_from_binary(bytes(args["aggregateCid"])),
                "recordCid": cid_from_binary(bytes(args["recordCid"])),
                "commitment": bytes(args["commitment"]).hex(),
                "totalScore": int(args["totalScore"]),
                "reward": int(args["reward"]),
            }

    @property
    def ready(self) -> bool:
        """Whether the node joined its task."""
        return self.state.joined

    def setup(self) -> None:
        """Stake, publish keys and join the task (each step skipped when already done)."""
        task = self._task()
        if self.client.role_of(self.task_id, self.address) is not TrainingCoordinatorRole.NONE:
            self.state.joined = True
            return
        head = self.head if self.head is not None else self.chain.block_number
        if head >= task.join_deadline or task.phase in (
            TrainingCoordinatorPhase.COMPLETED,
            TrainingCoordinatorPhase.ABORTED,
        ):
            self.closed(task.join_deadline)
            return
        minimum = task.config.min_stake
        self.send_once(
            "stake",
            "stake",
            lambda: self.client.staking.ensure_stake(self.key, minimum, top_up=self.stake_amount),
        )
        self.before_join()
        role = self.join_as
        try:
            self.send_once(
                "join",
                f"join:{self.task_id}",
                lambda: self.client.join(self.key, self.task_id, role),
            )
        except CoordinatorJoinClosed:
            self.closed(task.join_deadline)
            return
        self.state.joined = True
        self.note("joined", task=self.task_id)

    def closed(self, deadline: int) -> None:
        """Give up on a task whose join window closed before this node joined.

        Nothing else can happen for this node in this task, so it finishes instead of
        retrying; any stake it already locked stays withdrawable (``stake unbond``).
        """
        self.note(
            "join-closed",
            task=self.task_id,
            join_deadline=deadline,
            hint="start nodes before the join window closes, or configure a newer task",
        )
        self.mark("finished")

    def before_join(self) -> None:
        """Publish what others need before this node joins (an aggregator's keys)."""

    def act(self, head: int) -> bool:
        """Act on the task as :meth:`prepare` read it."""
        task = self._task()
        self.metrics.round.set(task.round)
        return self.act_on(task, head)

    @abstractmethod
    def act_on(self, task: TaskView, head: int) -> bool:
        """Decide and act for ``task`` at ``head`` (the role's logic)."""

    def _task(self) -> TaskView:
        if self.task is None:
            self.task = self.client.task(self.task_id)
        return self.task

    # --- what the node has seen --------------------------------------------------------

    def finalised(self) -> dict[int, dict[str, Any]]:
        """Finalised rounds this node has seen, by round."""
        return {int(k): v for k, v in self.state.finals.items()}

    def commits(self, round_number: int) -> dict[str, tuple[bytes, str]]:
        """Trainer → (sha256, CID) of a round's commits this node has seen."""
        return {
            trainer: (bytes.fromhex(sha), cid)
            for trainer, (sha, cid) in self.state.commits.get(str(round_number), {}).items()
        }

    def secagg_posts(self, round_number: int) -> dict[int, dict[str, tuple[bytes, str]]]:
        """Step → trainer → (sha256, CID) of a round's secure-aggregation posts seen so far.

        A committee member's view, from its event cursor; trainers do not follow these
        events but read their neighbours' posts per step.
        """
        seen = self.state.secagg.get(str(round_number), {})
        return {
            step: {
                trainer: (bytes.fromhex(sha), cid)
                for trainer, (sha, cid) in seen.get(str(step), {}).items()
            }
            for step in (1, 2, 3)
        }

    # --- shared reads ------------------------------------------------------------------

    @property
    def spec(self) -> TaskSpec:
        """The task's spec, fetched once from the store."""
        if self._spec is None:
            cid = self._task().config.spec_cid
            self._spec = TaskSpec.from_bytes(self.store.get(cid))
        return self._spec

    def global_weights(
        self, round_number: int
    ) -> tuple[dict[str, NDArray[np.float32]], bytes, str]:
        """Return the weights round ``round_number`` starts from, their sha256 and CID.

        Round 1 starts from the base version (verified against the registry); later rounds
        from the previous round's agreed aggregate, checked against its on-chain sha256.

        Raises
        ------
        TrainingError
            If the previous round's result is not among this node's events yet.
        ArtifactVerificationError
            If the stored bytes do not hash to what the chain records.
        """
        if round_number in self._globals:
            return self._globals[round_number]
        task = self._task()
        if round_number == 1:
            record = self.registry.verify(f"{task.config.model}@{task.config.base_version}").record
            raw = self.store.get(record.artifact_cid)
            sha, cid = bytes.fromhex(record.artifact_sha256), str(record.artifact_cid)
        else:
            final = self.finalised().get(round_number - 1)
            if final is None:  # not expected since step() polls after reading the task
                raise TrainingError(
                    f"round {round_number - 1}'s result is not among this node's events yet"
                )
            raw = self.store.get(final["aggregateCid"])
            sha, cid = bytes.fromhex(final["aggregateSha256"]), str(final["aggregateCid"])
        if hashlib.sha256(raw).digest() != sha:
            raise ArtifactVerificationError(
                f"global weights of round {round_number} do not match the chain"
            )
        weights = dict(weights_from_bytes(raw))
        self._globals = {round_number: (weights, sha, cid)}
        return weights, sha, cid

    def vrf_key_index(self) -> int | None:
        """Return the node's key index in the beacon (``None`` before registering), cached."""
        if self._key_index is None:
            self._key_index = self.beacon.key_index_of(self.address)
        return self._key_index

    # --- secure aggregation ------------------------------------------------------------

    def uses_secagg(self, task: TaskView) -> bool:
        """Whether the task runs secure aggregation (spec and chain must agree).

        Raises
        ------
        TrainingError
            If the spec and the on-chain config disagree.
        """
        wanted = self.spec.secagg is not None
        if wanted != bool(task.config.secagg_blocks):
            raise TrainingError(
                f"task {self.task_id}: the spec {'asks' if wanted else 'does not ask'} for "
                f"secure aggregation but secaggBlocks is {task.config.secagg_blocks}; "
                "recreate the task with matching settings"
            )
        return wanted

    def round_id(self, round_number: int) -> bytes:
        """Return the secure-aggregation context of a round (chain, coordinator, task, round)."""
        return round_context(self.chain.chain_id, self.client.address, self.task_id, round_number)

    def secagg_config(self, task: TaskView, round_number: int) -> SecAggConfig:
        """Return a round's secure-aggregation settings (graph seeded by the committee draw)."""
        weights, _, _ = self.global_weights(round_number)
        request_id = self.client.committee_request_id(self.task_id, round_number)
        return round_config(
            self.spec,
            round_id=self.round_id(round_number),
            participants=list(self.commits(round_number)),
            seed=self.beacon.output_of(request_id),
            dimension=int(sum(w.size for w in weights.values())),
            min_clients=task.config.min_trainers,
        )
