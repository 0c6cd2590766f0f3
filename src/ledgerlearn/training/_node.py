"""Trainer and aggregator nodes: long-running, restartable participants of training tasks.

A node follows the TrainingCoordinator's events through a resumable
:class:`~ledgerlearn.ledger.EventCursor` and keeps what it learned (commits and their CIDs,
committees, finalised rounds) in a state file written atomically. Every action is decided
from the chain's current state and is idempotent: before committing, posting, claiming or
slashing, the node asks the contract whether it already happened, and a "already done"
revert after a crash between sending and recording is treated as done. Training and
aggregation are deterministic for their inputs, so a node killed at any instant and
restarted recomputes the same bytes, finds them already stored or committed, and goes on;
nothing is lost and nothing counted twice.

Roles:

- **trainer** — stakes and joins; each round trains the current global model on its own
  data (seeded by task, round and address), seals the update to the task's aggregators'
  key-agreement keys, stores the envelope, commits its sha256 and CID; claims rewards. In a
  task with secure aggregation it commits a key advert instead and, once the committee is
  drawn, posts its share bundles, masked update and unmask shares in their windows (keys
  derived from its account key and the round, so a restart replays the same bytes).
- **aggregator** — stakes, registers a VRF key with the beacon and publishes an X25519
  key in its did:ethr document, then joins; fulfils committee draws assigned to its key,
  moves the task on when a phase is due, and when on the committee decrypts the round's
  updates (or, under secure aggregation, unmasks their sum after the last window),
  aggregates them deterministically and posts the result; slashes committee
  members that disagreed with a finalised round and trainers rejected too often.

Trust assumption: the node's keys and local state directory are its own; the chain and the
content store are shared and checked (hashes against commitments, CIDs against bytes).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from eth_utils import keccak
from numpy.typing import NDArray
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import ContractRevertError, LedgerLearnError, TrainingError
from ledgerlearn.identity import (
    EthrDidRegistry,
    EthrDidResolver,
    Secp256k1Key,
    attribute_name,
    ethr_did,
)
from ledgerlearn.learning._weights import flatten, unflatten
from ledgerlearn.learning.attacks import flip_labels, make_attack
from ledgerlearn.learning.models import weights_from_bytes, weights_to_bytes
from ledgerlearn.learning.privacy import PrivacyBudgetError, clip_update
from ledgerlearn.learning.secagg import SecAggClient, SecAggConfig, SecAggError, SecAggKeys
from ledgerlearn.ledger import Chain, DeploymentManifest, EventCursor
from ledgerlearn.randomness import BeaconClient, VrfKey
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import ContentStore, cid_from_binary
from ledgerlearn.training._aggregate import (
    CommittedUpdate,
    RoundOutcome,
    aggregate_round,
    final_manifest,
    round_record,
)
from ledgerlearn.training._client import AggregatePost, RoundView, TrainingClient
from ledgerlearn.training._merkle import record_tree
from ledgerlearn.training._secagg import (
    encode_advert,
    encode_masked,
    encode_shares,
    encode_unmask,
    load_messages,
    read_masked,
    round_config,
    round_context,
    secagg_input,
    secagg_round,
)
from ledgerlearn.training._spec import TaskSpec
from ledgerlearn.training._transport import (
    EnvelopeError,
    UpdateContext,
    derive_agreement_key,
    key_agreement_keys,
    open_update_keyed,
    seal_update,
)

__all__ = ["LocalData", "NodeMetrics", "TrainingNode"]

log = logging.getLogger("ledgerlearn.node")

_DONE_REVERTS = {
    # Someone (this node before a crash, or another node) already did it.
    "CoordinatorNothingToAdvance",
    "CoordinatorWrongPhase",
    "BeaconAlreadyFulfilled",
    "CoordinatorAlreadyCommitted",
    "CoordinatorAlreadyPosted",
    "CoordinatorAlreadyClaimed",
    "CoordinatorAlreadySlashed",
    "CoordinatorAlreadyJoined",
    "CoordinatorSecAggOrder",  # this step is already posted (earlier ones are checked first)
}


@dataclass(frozen=True, slots=True)
class LocalData:
    """A trainer's private data: features and labels it never shares.

    Attributes
    ----------
    x, y
        Training examples and labels.
    attack
        For evaluation only: ``sign_flip[:s]``, ``gaussian[:s]``, ``scaling[:s]``,
        ``label_flip`` or ``free_rider`` makes this node a Byzantine trainer.
    """

    x: NDArray[np.float32]
    y: NDArray[np.int64]
    attack: str | None = None


class NodeMetrics:
    """Prometheus metrics of one node (served on ``/metrics`` by :meth:`serve`)."""

    def __init__(self, role: str, account: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"role": role, "account": account}
        self.events = Counter(
            "ledgerlearn_node_events", "Coordinator events handled", registry=self.registry
        )
        self.actions = Counter(
            "ledgerlearn_node_actions",
            "Transactions sent, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.errors = Counter(
            "ledgerlearn_node_errors", "Step errors (retried)", registry=self.registry
        )
        self.block = Gauge(
            "ledgerlearn_node_block", "Last block the node looked at", registry=self.registry
        )
        self.round = Gauge("ledgerlearn_node_round", "Current task round", registry=self.registry)
        self.info = Gauge(
            "ledgerlearn_node_info", "Node identity", list(labels), registry=self.registry
        )
        self.info.labels(**labels).set(1)

    def serve(self, port: int, address: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` over HTTP in a daemon thread."""
        start_http_server(port, addr=address, registry=self.registry)


@dataclass
class _State:
    """What a node persists besides its event cursor."""

    joined: bool = False
    commits: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)
    prepared: dict[str, dict[str, str]] = field(default_factory=dict)
    rejections: dict[str, list[int]] = field(default_factory=dict)
    secagg: dict[str, dict[str, dict[str, list[str]]]] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)


class TrainingNode:
    """One participant of one task.

    Parameters
    ----------
    role
        ``trainer`` or ``aggregator``.
    chain, deployment, store
        Where the protocol lives.
    key
        The node's account (its did:ethr identity).
    task_id
        The task to take part in.
    state_dir
        Where the node keeps its cursor and state; reused on restart.
    data
        A trainer's local data.
    stake
        Tokens to stake if the account's stake is below the task's minimum.
    """

    def __init__(
        self,
        role: str,
        chain: Chain,
        deployment: DeploymentManifest,
        store: ContentStore,
        key: Secp256k1Key,
        task_id: int,
        state_dir: str | Path,
        *,
        data: LocalData | None = None,
        stake: int = 0,
    ) -> None:
        if role not in ("trainer", "aggregator"):
            raise ValueError(f"role must be 'trainer' or 'aggregator', not {role!r}")
        if role == "trainer" and data is None:
            raise ValueError("a trainer node needs its local data")
        self.role = role
        self.chain = chain
        self.store = store
        self.key = key
        self.address = key.address
        self.task_id = task_id
        self.data = data
        self.stake_amount = stake
        self.client = TrainingClient(chain, deployment)
        self.registry = ModelRegistryClient(chain, deployment, store)
        self.beacon = BeaconClient.from_manifest(chain, deployment)
        self.identities = EthrDidRegistry(chain, deployment.get_address("IdentityRegistry"))
        self.resolver = EthrDidResolver(chain, deployment.get_address("IdentityRegistry"))
        self.vrf_key = VrfKey.derive(key.unsafe_secret())
        self.agreement_key = derive_agreement_key(key.unsafe_secret())
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = NodeMetrics(role, self.address)
        self._state = self._load()
        self._saved = b""  # the state.json bytes this node last wrote
        self.cursor = EventCursor(
            chain,
            self.client.coordinator,
            self.state_dir / "cursor.json",
            start_block=self.client.start_block,
            # A trainer reads secure-aggregation posts per step, its neighbours' only
            # (_secagg_post); the committee follows everyone's.
            events=["UpdateCommitted", "RoundFinalised"]
            + (["SecAggPosted"] if role == "aggregator" else []),
            idle_save_blocks=1_000,
        )
        self._spec: TaskSpec | None = None
        self._key_index: int | None = None
        self.wake_block: int | None = None
        """After an idle :meth:`step`: the block at which this node will act next on its own
        (a deadline it waits for), or ``None`` when it waits for other nodes."""
        # Per-round secure-aggregation reads that cannot change once made: the round's
        # clock (after the draw), its protocol settings, and its small content-addressed
        # messages (adverts, share bundles), so each step does not read them again.
        self._secagg_cache: dict[int, tuple[RoundView, SecAggConfig, dict[str, bytes]]] = {}
        self._globals: dict[int, tuple[dict[str, NDArray[np.float32]], bytes, str]] = {}
        self._head: int | None = None
        """The head :meth:`step` read (log entries carry it; a step's reads refer to it)."""
        self._window_posts: dict[int, dict[str, tuple[bytes, str]]] = {}
        """Step → this trainer's neighbours' posts in that closed window, of the round in
        ``_secagg_cache`` (reset with it)."""
        self._sent: set[str] = set()
        """Actions whose transaction this process saw succeed (not kept across restarts)."""

    # --- persistence -------------------------------------------------------------------

    def _load(self) -> _State:
        path = self.state_dir / "state.json"
        if not path.exists():
            return _State()
        raw = json.loads(path.read_text())
        return _State(**raw)

    def _save(self) -> None:
        state = {
            "joined": self._state.joined,
            "commits": self._state.commits,
            "finals": self._state.finals,
            "prepared": self._state.prepared,
            "rejections": self._state.rejections,
            "secagg": self._state.secagg,
            "done": self._state.done,
            "log": self._state.log[-500:],
        }
        # Compact JSON goes through the C encoder; an unchanged state is not written again
        # (a node checkpoints after every poll, and most polls of a 100-trainer round
        # bring nothing for it).
        raw = json.dumps(state, separators=(",", ":")).encode()
        if raw == self._saved:
            return
        atomic_write_bytes(self.state_dir / "state.json", raw)
        self._saved = raw

    def _on_event(self, event: Any) -> None:
        """Record a coordinator event of this task (idempotent: keyed by round and trainer).

        The state is saved once per polled block range (the cursor's ``checkpoint``), not
        per event: a round of secure aggregation brings three events per trainer.
        """
        self.metrics.events.inc()
        args = event["args"]
        if int(args["taskId"]) != self.task_id:
            return
        round_key = str(int(args["round"]))
        if event["event"] == "UpdateCommitted":
            self._state.commits.setdefault(round_key, {})[args["trainer"]] = [
                bytes(args["updateSha256"]).hex(),
                cid_from_binary(bytes(args["cid"])),
            ]
        elif event["event"] == "SecAggPosted":
            steps = self._state.secagg.setdefault(round_key, {})
            steps.setdefault(str(int(args["step"])), {})[args["trainer"]] = [
                bytes(args["messageSha256"]).hex(),
                cid_from_binary(bytes(args["cid"])),
            ]
        elif event["event"] == "RoundFinalised":
            self._state.finals[round_key] = {
                "aggregateSha256": bytes(args["aggregateSha256"]).hex(),
                "aggregateCid": cid_from_binary(bytes(args["aggregateCid"])),
                "recordCid": cid_from_binary(bytes(args["recordCid"])),
                "commitment": bytes(args["commitment"]).hex(),
                "totalScore": int(args["totalScore"]),
                "reward": int(args["reward"]),
            }

    def finalised(self) -> dict[int, dict[str, Any]]:
        """Finalised rounds this node has seen, by round."""
        return {int(k): v for k, v in self._state.finals.items()}

    def commits(self, round_number: int) -> dict[str, tuple[bytes, str]]:
        """Trainer → (sha256, CID) of a round's commits this node has seen."""
        return {
            trainer: (bytes.fromhex(sha), cid)
            for trainer, (sha, cid) in self._state.commits.get(str(round_number), {}).items()
        }

    def secagg_posts(self, round_number: int) -> dict[int, dict[str, tuple[bytes, str]]]:
        """Step → trainer → (sha256, CID) of a round's secure-aggregation posts seen so far.

        A committee member's view, from its event cursor; trainers do not follow these
        events but read their neighbours' posts per step.
        """
        seen = self._state.secagg.get(str(round_number), {})
        return {
            step: {
                trainer: (bytes.fromhex(sha), cid)
                for trainer, (sha, cid) in seen.get(str(step), {}).items()
            }
            for step in (1, 2, 3)
        }

    def _note(self, event: str, **fields: Any) -> None:
        block = self._head if self._head is not None else self.chain.block_number
        entry = {"event": event, "block": block, **fields}
        self._state.log.append(entry)
        log.info(json.dumps({"node": self.address, "role": self.role, **entry}, default=str))

    def _mark(self, action: str) -> None:
        if action not in self._state.done:
            self._state.done.append(action)
        self._save()

    def _send(self, kind: str, action: str, call: Callable[[], Any]) -> Any:
        """Send once: skip if recorded, treat 'already done' reverts as done."""
        if action in self._state.done:
            return None
        try:
            result = call()
        except ContractRevertError as exc:
            if type(exc).__name__ in _DONE_REVERTS:
                self._mark(action)
                return None
            raise
        self.metrics.actions.labels(kind=kind).inc()
        self._sent.add(action)
        self._mark(action)
        return result

    # --- shared reads ------------------------------------------------------------------

    @property
    def spec(self) -> TaskSpec:
        """The task's spec, fetched once from the store."""
        if self._spec is None:
            cid = self.client.task(self.task_id).config.spec_cid
            self._spec = TaskSpec.from_bytes(self.store.get(cid))
        return self._spec

    def global_weights(
        self, round_number: int
    ) -> tuple[dict[str, NDArray[np.float32]], bytes, str]:
        """Return the weights round ``round_number`` starts from, their sha256 and CID.

        Round 1 starts from the base version (verified against the registry); later rounds
        from the previous round's agreed aggregate, checked against its on-chain sha256.
        """
        if round_number in self._globals:
            return self._globals[round_number]
        task = self.client.task(self.task_id)
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
            raise LedgerLearnError(f"global weights of round {round_number} do not match the chain")
        weights = dict(weights_from_bytes(raw))
        self._globals = {round_number: (weights, sha, cid)}
        return weights, sha, cid

    # --- lifecycle ---------------------------------------------------------------------

    def setup(self) -> None:
        """Stake, publish keys and join the task (each step skipped when already done)."""
        task = self.client.task(self.task_id)
        if self.client.role_of(self.task_id, self.address) != "none":
            self._state.joined = True
            self._save()
            return
        minimum = task.config.min_stake
        have = self.client.stake_of(self.address)
        if have < minimum:
            self._send(
                "stake",
                "stake",
                lambda: self.client.stake(self.key, max(self.stake_amount, minimum - have)),
            )
        if self.role == "aggregator":
            self._publish_keys()
        self._send(
            "join",
            f"join:{self.task_id}",
            lambda: self.client.join(self.key, self.task_id, self.role),
        )
        self._state.joined = True
        self._save()
        self._note("joined", task=self.task_id)

    def _publish_keys(self) -> None:
        did = ethr_did(self.chain.chain_id, self.address)
        document = self.resolver.resolve(did).document
        public = bytes(self.agreement_key.public_key)
        if public not in key_agreement_keys(document).values():
            name = attribute_name("pub", "X25519", "enc", "base64")
            self._send(
                "did",
                "did:x25519",
                lambda: self.identities.set_attribute(
                    self.key, self.address, name, public, validity=10**9
                ),
            )
        if self._vrf_key_index() is None:
            bond = self.beacon.minimum_bond
            token = self.client.token
            self._send(
                "vrf",
                "vrf:approve",
                lambda: self.chain.sender(self.key).transact(
                    token.functions.approve(self.beacon.contract.address, bond)
                ),
            )
            self._send(
                "vrf",
                "vrf:register",
                lambda: self.beacon.register_key(self.key, self.vrf_key, bond),
            )

    def step(self) -> bool:
        """Handle new events and do whatever the task's state calls for now.

        Returns
        -------
        bool
            Whether the node did something (sent a transaction or stored something).
        """
        self.wake_block = None
        self._head = None
        # Read the task before the events: every event behind the state read is then in
        # the poll (read after, a round could finalise in between and its event be missed
        # until the next step, while the task already says the next round).
        task = self.client.task(self.task_id)
        head = self._head = self.chain.block_number
        self.metrics.block.set(head)
        self.cursor.poll(self._on_event, checkpoint=self._save, head=head)
        if not self._state.joined:
            self.setup()
            return True
        self.metrics.round.set(task.round)
        if self.role == "trainer":
            return self._trainer_step(task)
        return self._aggregator_step(task)

    @property
    def finished(self) -> bool:
        """Whether the task ended and this node has nothing left to do.

        Set by a :meth:`step` that saw the task completed or aborted and did its last work
        (claims, slashes); reading it costs no chain call.
        """
        return "finished" in self._state.done

    def run(self, *, poll_seconds: float = 0.5, stop: threading.Event | None = None) -> None:
        """Step until the task is over (or ``stop`` is set), retrying transient errors."""
        while not (stop and stop.is_set()):
            try:
                acted = self.step()
                if self.finished:
                    return
            except (LedgerLearnError, OSError) as exc:
                self.metrics.errors.inc()
                log.warning(json.dumps({"node": self.address, "error": str(exc)}))
                acted = False
            if not acted:
                time.sleep(poll_seconds)

    # --- trainer -----------------------------------------------------------------------

    def _trainer_step(self, task: Any) -> bool:
        if task.phase in ("completed", "aborted"):
            acted = self._claim_all(task)
            self._mark("finished")
            return acted
        acted = self._claim_all(task)
        if task.phase == "aggregating" and task.config.secagg_blocks:
            return self._secagg_step(task) or acted
        if task.phase != "commit":
            return acted
        block = self.chain.block_number
        state = self.client.round(self.task_id, task.round)
        if block <= task.join_deadline:
            # Commits open after the join deadline; some nodes (anvil) estimate gas at the
            # latest block rather than the next, so wait until the deadline is behind us.
            self.wake_block = task.join_deadline + 1
            return acted
        if block >= state.commit_deadline:
            return acted
        action = f"commit:{task.round}"
        dp = self.spec.dp
        accountant = dp.accounting() if dp is not None else None
        if accountant is not None and not accountant.allows(task.round):
            # The round would spend more epsilon than the task's budget: it must not start,
            # so this trainer does not train or commit (the round then aborts for want of
            # commits, and the task with it).
            if f"budget:{task.round}" not in self._state.done:
                self._note(
                    "privacy-budget-exhausted",
                    round=task.round,
                    epsilon=accountant.spent(task.round),
                    budget=accountant.budget,
                )
                self._mark(f"budget:{task.round}")
            return acted
        if action in self._state.done or any(
            self.client.commit_of(self.task_id, task.round, self.address)
        ):
            self._mark(action)
            return acted
        prepared = self._state.prepared.get(str(task.round))
        if prepared is None:
            if self._secagg_task(task):
                # Train now (the commit window is the training window) and keep the input
                # to mask; the commit is the key advert.
                self._secagg_vector(task, task.round)
                keys = self._secagg_keys(task.round)
                envelope = encode_advert(SecAggClient.advert_for(self.address, keys))
                sha = hashlib.sha256(envelope).digest()
            else:
                update = self._train(task.round)
                sha = hashlib.sha256(update).digest()
                envelope = seal_update(update, self._context(task.round), self._readers())
            cid = str(self.store.put(envelope))
            prepared = {"sha256": sha.hex(), "cid": cid}
            self._state.prepared[str(task.round)] = prepared
            self._save()
            self._note("trained", round=task.round, sha256=sha.hex(), cid=cid)
        self._send(
            "commit",
            action,
            lambda: self.client.commit(
                self.key,
                self.task_id,
                task.round,
                bytes.fromhex(prepared["sha256"]),
                prepared["cid"],
            ),
        )
        self._note("committed", round=task.round)
        return True

    def _train(self, round_number: int) -> bytes:
        delta, weights = self._local_delta(round_number)
        dp = self.spec.dp
        if dp is not None:  # DP-FedAvg: the client clips (the committee clips again)
            delta = clip_update(delta, dp.clip).astype(np.float32)
        return weights_to_bytes(unflatten(delta, weights))

    def _local_delta(
        self, round_number: int
    ) -> tuple[NDArray[np.float32], dict[str, NDArray[np.float32]]]:
        """Train on the local data from the round's global weights; return the flat update."""
        assert self.data is not None
        spec = self.spec
        weights, _, _ = self.global_weights(round_number)
        model = spec.build_model()
        model.set_weights(weights)
        x, y = self.data.x, self.data.y
        attack = make_attack(*_attack_args(self.data.attack)) if self.data.attack else None
        if attack is not None and attack.poisons_data:
            y = flip_labels(y, spec.architecture["classes"])
        seed = int.from_bytes(
            keccak(text=f"{self.task_id}:{round_number}:{self.address.lower()}")[:4], "big"
        )
        model.fit(x, y, spec.train_config(seed))
        delta = (flatten(model.get_weights()) - flatten(weights)).astype(np.float32)
        if attack is not None and not attack.poisons_data:
            rng = np.random.default_rng(seed)
            forged = attack.forge(np.zeros((0, delta.size)), delta[None, :].astype(np.float64), rng)
            delta = np.asarray(forged[0], dtype=np.float32)
        return delta, weights

    # --- secure aggregation (trainer) --------------------------------------------------

    def _secagg_task(self, task: Any) -> bool:
        """Whether the task runs secure aggregation (spec and chain must agree)."""
        wanted = self.spec.secagg is not None
        if wanted != bool(task.config.secagg_blocks):
            raise TrainingError(
                f"task {self.task_id}: the spec {'asks' if wanted else 'does not ask'} for "
                f"secure aggregation but secaggBlocks is {task.config.secagg_blocks}; "
                "recreate the task with matching settings"
            )
        return wanted

    def _secagg_keys(self, round_number: int) -> SecAggKeys:
        context = round_context(
            self.chain.chain_id, self.client.coordinator.address, self.task_id, round_number
        )
        return SecAggKeys.derive(self.key.unsafe_secret(), context)

    def _secagg_vector(self, task: Any, round_number: int) -> NDArray[np.float64]:
        """Return what this trainer masks in a round, kept in the state directory."""
        path = self.state_dir / f"secagg-input-{round_number}.npy"
        if path.exists():
            return np.asarray(np.load(path), dtype=np.float64)
        delta, _ = self._local_delta(round_number)
        noise_key = self._secagg_keys(round_number).sharing
        vector = secagg_input(
            self.spec,
            delta,
            hashlib.sha256(b"ledgerlearn/dp-noise-share/v1" + noise_key).digest(),
            task.config.min_trainers,
        )
        buffer = io.BytesIO()
        np.save(buffer, vector)
        atomic_write_bytes(path, buffer.getvalue())
        return vector

    def _secagg_config(self, task: Any, round_number: int) -> SecAggConfig:
        weights, _, _ = self.global_weights(round_number)
        request_id = self.client.committee_request_id(self.task_id, round_number)
        return round_config(
            self.spec,
            round_id=round_context(
                self.chain.chain_id, self.client.coordinator.address, self.task_id, round_number
            ),
            participants=list(self.commits(round_number)),
            seed=self.beacon.output_of(request_id),
            dimension=int(sum(w.size for w in weights.values())),
            min_clients=task.config.min_trainers,
        )

    def _secagg_round(
        self, task: Any, round_number: int
    ) -> tuple[RoundView, SecAggConfig, dict[str, bytes]] | None:
        """Return a round's clock, protocol settings and message cache, once drawn.

        ``None`` until the committee draw (which seeds the graph) is behind this node's
        event cursor, so the participants (the commits it has seen) are final.
        """
        cached = self._secagg_cache.get(round_number)
        if cached is not None:
            return cached
        state = self.client.round(self.task_id, round_number)
        if not state.secagg_start or self.cursor.position.block < state.secagg_start:
            return None
        config = self._secagg_config(task, round_number)
        self._secagg_cache = {round_number: (state, config, {})}  # older rounds are over
        self._window_posts = {}
        return self._secagg_cache[round_number]

    def _secagg_step(self, task: Any) -> bool:
        """Post this trainer's next secure-aggregation message when its window is open.

        Idle steps cost one block-number read: the round's clock is cached once drawn,
        and the chain is asked which steps this trainer posted only before posting.
        """
        round_number = task.round
        committed = f"commit:{round_number}" in self._state.done
        if not committed and self.address not in self._state.commits.get(str(round_number), {}):
            return False
        drawn = self._secagg_round(task, round_number)
        if drawn is None:
            return False
        state = drawn[0]
        block = self._head  # read by step(), the only caller
        assert block is not None
        for step in (1, 2, 3):
            opens_after, closes_at = state.secagg_window(step, task.config.secagg_blocks)
            if block <= opens_after:
                self.wake_block = opens_after + 1
                return False
            action = f"secagg:{round_number}:{step}"
            if action in self._state.done or block >= closes_at:
                continue
            previous = f"secagg:{round_number}:{step - 1}" if step > 1 else f"commit:{round_number}"
            if previous not in self._sent:
                # After a restart, or when the previous step was refused: ask the chain.
                posted = self.client.secagg_steps(self.task_id, round_number, self.address)
                if step in posted:
                    self._mark(action)
                    continue
                if step > 1 and step - 1 not in posted:
                    return False  # missed an earlier window: dropped out of this round
            return self._secagg_post(task, round_number, step, action)
        return False

    def _neighbour_posts(
        self, task: Any, round_number: int, state: RoundView, senders: set[str], *, upto: int
    ) -> dict[int, dict[str, tuple[bytes, str]]]:
        """Step → sender → (sha256, CID) of ``senders``' posts in the closed windows 1..upto.

        Each window is read once (by the trainer topic) and kept: what the chain holds for
        a closed window is final.
        """
        posts: dict[int, dict[str, tuple[bytes, str]]] = {1: {}, 2: {}, 3: {}}
        for step in range(1, upto + 1):
            if step not in self._window_posts:
                first, last = state.secagg_window(step, task.config.secagg_blocks)
                found = self.client.secagg_posts(
                    self.task_id, round_number, trainers=senders, blocks=(first + 1, last)
                )
                self._window_posts[step] = found[step]
            posts[step] = self._window_posts[step]
        return posts

    def _secagg_post(self, task: Any, round_number: int, step: int, action: str) -> bool:
        drawn = self._secagg_round(task, round_number)
        assert drawn is not None  # _secagg_step checked
        state, config, blobs = drawn
        client = SecAggClient(self.address, config, self._secagg_keys(round_number))
        commits = self.commits(round_number)
        # A trainer reads itself and its neighbours only: SecAgg+ needs nothing else from
        # it, and reading all n trainers' messages made each post cost O(n). The earlier
        # windows are closed, so what the chain holds for them is final.
        senders = {self.address, *config.graph.get(self.address, ())}
        posts = self._neighbour_posts(task, round_number, state, senders, upto=step - 1)

        def fetch(cid: str) -> bytes:
            # Content-addressed, so a cached read can never be stale; load_messages still
            # checks every message against its posted sha256.
            if cid not in blobs:
                blobs[cid] = self.store.get(cid)
            return blobs[cid]

        messages = load_messages(config, commits, posts, fetch, upto=step - 1, senders=senders)
        try:
            if step == 1:
                message = encode_shares(self.address, client.share_keys(messages.adverts))
            else:
                client.receive_adverts(messages.adverts)
                client.open_inbox(messages.inbox(self.address))
                if client.unreadable:
                    self._note("secagg-unreadable", round=round_number, senders=client.unreadable)
                if step == 2:
                    message = encode_masked(client.mask(self._secagg_vector(task, round_number)))
                else:
                    if self.spec.dp is not None:
                        # Survivors across the round, by the chain's count of masked-input
                        # posts (this trainer validated only its neighbours' messages; the
                        # committee validates everyone's).
                        posted = self.client.round(self.task_id, round_number).masked_inputs
                        if posted < task.config.min_trainers:
                            raise SecAggError(
                                f"only {posted} survivors: fewer than the "
                                f"{task.config.min_trainers} whose noise shares make up the DP "
                                "noise"
                            )
                    message = encode_unmask(client.unmask(messages.survivors))
        except SecAggError as exc:
            # Not retried: the round's public messages will not change.
            self._note("secagg-refused", round=round_number, step=step, reason=str(exc))
            self._mark(action)
            return True
        cid = str(self.store.put(message))
        sha = hashlib.sha256(message).digest()
        self._send(
            "secagg",
            action,
            partial(self.client.post_secagg, self.key, self.task_id, round_number, step, sha, cid),
        )
        self._note("secagg-posted", round=round_number, step=step, cid=cid)
        return True

    def _context(self, round_number: int) -> UpdateContext:
        return UpdateContext(
            self.chain.chain_id,
            self.client.coordinator.address,
            self.task_id,
            round_number,
            self.address,
        )

    def _readers(self) -> dict[str, bytes]:
        readers: dict[str, bytes] = {}
        for aggregator in self.client.aggregators(self.task_id):
            document = self.resolver.resolve(ethr_did(self.chain.chain_id, aggregator)).document
            readers.update(key_agreement_keys(document))
        return readers

    def _claim_all(self, task: Any) -> bool:
        acted = False
        for round_number, final in sorted(self.finalised().items()):
            action = f"claim:{round_number}"
            if action in self._state.done:
                continue
            record = json.loads(self.store.get(final["recordCid"]))
            entries = record["updates"]
            mine = [i for i, e in enumerate(entries) if e["trainer"] == self.address]
            if not mine:
                self._mark(action)
                continue
            entry = entries[mine[0]]
            if entry["score"] == 0:
                self._note("rejected", round=round_number, reason=entry["rejected"])
                self._mark(action)
                continue
            tree = record_tree(entries)
            sha, score, proof = bytes.fromhex(entry["sha256"]), entry["score"], tree.proof(mine[0])
            amount = self._send(
                "claim",
                action,
                partial(self.client.claim, self.key, self.task_id, round_number, sha, score, proof),
            )
            self._note("claimed", round=round_number, amount=amount)
            acted = True
        return acted

    # --- aggregator --------------------------------------------------------------------

    def _aggregator_step(self, task: Any) -> bool:
        acted = self._watchdog(task)
        # A member that was not among the first `quorum` posters still posts until the
        # deadline: an honest but slower member is not a fault.
        acted = self._late_posts(task) or acted
        if task.phase in ("completed", "aborted"):
            self._mark("finished")
            return acted
        block = self.chain.block_number
        state = self.client.round(self.task_id, task.round)
        if task.phase == "commit":
            if block > state.commit_deadline:
                return (
                    self._advance(f"advance:{task.round}:commit:{state.commit_deadline}") or acted
                )
            self.wake_block = state.commit_deadline + 1
        elif task.phase == "selecting":
            return self._select(task) or acted
        elif task.phase == "aggregating":
            secagg_end = state.secagg_start + 3 * task.config.secagg_blocks
            if task.config.secagg_blocks and block <= secagg_end:
                self.wake_block = secagg_end + 1  # the committee posts after the last window
                return acted
            if self._owes_post(task.round):
                self._post(task, task.round)
                return True
            if block > state.aggregate_deadline:
                return (
                    self._advance(f"advance:{task.round}:aggregate:{state.aggregate_deadline}")
                    or acted
                )
            self.wake_block = state.aggregate_deadline + 1
        return acted

    def _owes_post(self, round_number: int) -> bool:
        if f"post:{round_number}" in self._state.done:
            return False
        if self.address not in self.client.committee(self.task_id, round_number):
            return False
        return not any(self.client.post_of(self.task_id, round_number, self.address))

    def _late_posts(self, task: Any) -> bool:
        acted = False
        for round_number in sorted(self.finalised()):
            if (
                f"post:{round_number}" in self._state.done
                or f"late:{round_number}" in self._state.done
            ):
                continue
            state = self.client.round(self.task_id, round_number)
            if self.chain.block_number >= state.aggregate_deadline or not self._owes_post(
                round_number
            ):
                self._mark(f"late:{round_number}")
                continue
            self._post(task, round_number)
            acted = True
        return acted

    def _advance(self, action: str) -> bool:
        self._send("advance", action, lambda: self.client.advance(self.key, self.task_id))
        return True

    def _select(self, task: Any) -> bool:
        request_id = self.client.committee_request_id(self.task_id, task.round)
        request = self.beacon.request_state(request_id)
        if request["fulfilled"]:
            return self._advance(f"advance:{task.round}:select")
        if self.chain.block_number <= request["seedBlock"]:
            self.wake_block = int(request["seedBlock"]) + 1
            return False
        assigned = self.beacon.assigned_key(request_id)
        if assigned == self._vrf_key_index() or self.chain.block_number > request["deadline"]:
            self._send(
                "fulfil",
                f"fulfil:{task.round}",
                lambda: self.beacon.fulfil(self.key, self.vrf_key, request_id),
            )
            return True
        self.wake_block = int(request["deadline"]) + 1  # fall back if the assigned key is silent
        return False

    def _vrf_key_index(self) -> int | None:
        """Return the node's key index in the beacon (``None`` before registering), cached."""
        if self._key_index is None:
            self._key_index = self.beacon.key_index_of(self.address)
        return self._key_index

    def compute_round(self, round_number: int) -> tuple[RoundOutcome, bytes, str]:
        """Decrypt and aggregate a round's committed updates (what a member posts).

        Returns
        -------
        tuple
            The outcome, the round's starting sha256 and CID.
        """
        weights, global_sha, global_cid = self.global_weights(round_number)
        task = self.client.task(self.task_id)
        if self._secagg_task(task):
            config = self._secagg_config(task, round_number)
            committed = self.commits(round_number)
            posts = self.secagg_posts(round_number)
            messages = load_messages(config, committed, posts, self.store.get)
            outcome = secagg_round(
                self.spec,
                weights,
                config,
                committed,
                messages,
                min_clients=task.config.min_trainers,
                round_number=round_number,
                read=partial(read_masked, config, messages, posts, self.store.get),
            )
            return outcome, global_sha, global_cid
        commits = []
        for trainer, (sha, cid) in sorted(self.commits(round_number).items()):
            try:
                envelope = self.store.get(cid)
                plaintext, secret = open_update_keyed(
                    envelope, self._context_for(round_number, trainer), self.agreement_key
                )
                commits.append(CommittedUpdate(trainer, sha, cid, plaintext, secret=secret))
            except (LedgerLearnError, OSError) as exc:
                reason = (
                    f"envelope unusable: {exc}"
                    if isinstance(exc, EnvelopeError)
                    else f"unavailable: {exc}"
                )
                commits.append(CommittedUpdate(trainer, sha, cid, None, reason))
        seed = int.from_bytes(keccak(text=f"round-seed:{self.task_id}:{round_number}")[:4], "big")
        outcome = aggregate_round(self.spec, weights, commits, seed=seed, round_number=round_number)
        return outcome, global_sha, global_cid

    def _context_for(self, round_number: int, trainer: str) -> UpdateContext:
        return UpdateContext(
            self.chain.chain_id,
            self.client.coordinator.address,
            self.task_id,
            round_number,
            trainer,
        )

    def _post(self, task: Any, round_number: int) -> None:
        try:
            outcome, global_sha, global_cid = self.compute_round(round_number)
        except PrivacyBudgetError as exc:
            # Trainers do not commit in such a round; should some do anyway, the committee
            # does not release an aggregate that would overspend the budget.
            self._note("privacy-budget-exhausted", round=round_number, reason=str(exc))
            self._mark(f"post:{round_number}")
            return
        aggregate_cid = str(self.store.put(outcome.weights_bytes))
        finals = self.finalised()
        previous = str(finals[round_number - 1]["recordCid"]) if round_number > 1 else None
        record = round_record(
            chain_id=self.chain.chain_id,
            coordinator=self.client.coordinator.address,
            task=self.task_id,
            round_number=round_number,
            spec_cid=task.config.spec_cid,
            rule=self.spec.rule,
            global_sha256=global_sha,
            global_cid=global_cid,
            previous_record=previous,
            outcome=outcome,
            aggregate_cid=aggregate_cid,
        )
        record_cid = str(self.store.put(record))
        manifest_cid = None
        if round_number == task.config.rounds:
            base = self.registry.verify(f"{task.config.model}@{task.config.base_version}").manifest
            manifest = final_manifest(
                base,
                outcome.weights_bytes,
                base_version=task.config.base_version,
                task=self.task_id,
                coordinator=self.client.coordinator.address,
                record_cid=record_cid,
                rounds=task.config.rounds,
                rule=self.spec.rule,
            )
            manifest_cid = str(self.store.put(manifest.to_bytes()))
        post = AggregatePost(
            outcome.weights_sha256,
            aggregate_cid,
            outcome.tree.root,
            outcome.total_score,
            record_cid,
            manifest_cid,
        )
        events = self._send(
            "post",
            f"post:{round_number}",
            lambda: self.client.post(self.key, self.task_id, round_number, post),
        )
        self._note(
            "posted",
            round=round_number,
            aggregate=outcome.weights_sha256.hex(),
            record=record_cid,
            rejected={u.trainer: u.reason for u in outcome.updates if u.score == 0},
            events=events,
        )

    def _watchdog(self, task: Any) -> bool:
        """Slash committee faults and repeatedly rejected trainers (once each)."""
        acted = False
        finals = self.finalised()
        for round_number, final in sorted(finals.items()):
            action = f"watch:{round_number}"
            if action in self._state.done:
                continue
            committee = self.client.committee(self.task_id, round_number)
            state = self.client.round(self.task_id, round_number)
            deadline_passed = self.chain.block_number > state.aggregate_deadline
            for member in committee:
                if member == self.address:
                    continue
                fault = self.client.fault_of(self.task_id, round_number, member)
                if fault != "none":
                    taken = self._send(
                        "slash",
                        f"slash:{round_number}:{member}",
                        partial(
                            self.client.slash_aggregator,
                            self.key,
                            self.task_id,
                            round_number,
                            member,
                        ),
                    )
                    self._note(
                        "slashed-aggregator",
                        round=round_number,
                        member=member,
                        fault=fault,
                        amount=taken,
                    )
                    acted = True
            if f"rejections:{round_number}" not in self._state.done:
                record = json.loads(self.store.get(final["recordCid"]))
                for entry in record["updates"]:
                    if entry["score"] == 0:
                        rounds = self._state.rejections.setdefault(entry["trainer"], [])
                        if round_number not in rounds:
                            rounds.append(round_number)
                self._mark(f"rejections:{round_number}")
            if deadline_passed:
                self._mark(action)
        limit = task.config.max_rejections
        for trainer, rounds in sorted(self._state.rejections.items()):
            if not limit or len(rounds) < limit or f"slash-trainer:{trainer}" in self._state.done:
                continue
            chosen = sorted(rounds)[:limit]
            hashes, proofs = [], []
            for round_number in chosen:
                record = json.loads(self.store.get(finals[round_number]["recordCid"]))
                entries = record["updates"]
                index = next(i for i, e in enumerate(entries) if e["trainer"] == trainer)
                tree = record_tree(entries)
                hashes.append(bytes.fromhex(entries[index]["sha256"]))
                proofs.append(tree.proof(index))
            taken = self._send(
                "slash",
                f"slash-trainer:{trainer}",
                partial(
                    self.client.slash_trainer,
                    self.key,
                    self.task_id,
                    trainer,
                    chosen,
                    hashes,
                    proofs,
                ),
            )
            self._note("slashed-trainer", trainer=trainer, rounds=chosen, amount=taken)
            acted = True
        self._save()
        return acted


def _attack_args(spec: str) -> tuple[str, float | None]:
    name, _, strength = spec.partition(":")
    return name, float(strength) if strength else None
