"""Trainer: trains on its own data each round, commits its update, claims its rewards.

Each round a :class:`TrainerNode` trains the current global model on its local data (seeded
by task, round and address, so a restart recomputes the same bytes), seals the update to the
task's aggregators' key-agreement keys, stores the envelope, and commits its sha256 and CID
before the deadline; after each finalised round it claims its reward with a Merkle proof
from the round record. Under differential privacy it clips its update first (DP-FedAvg,
``DifferentialPrivacy.client_update`` in :mod:`ledgerlearn.learning.strategy`) and does
not train in a round that would overspend the task's budget. In a task with secure
aggregation it commits a key advert instead and, once the committee is drawn, posts its
share bundles, masked update and unmask shares in their windows (SecAgg+, Bell et al.
2020), reading only its graph neighbours' messages.

Attacks for evaluation wrap a trainer from outside (:mod:`ledgerlearn.devnet`): they
override :meth:`TrainerNode.local_update` or hand it poisoned :class:`LocalData`.

Trust assumption: the trainer's data and key are its own; the committee is trusted only as
a quorum (its posted record is checked against the on-chain root before claiming).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from eth_utils import keccak
from numpy.typing import NDArray

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import SecAggError
from ledgerlearn.identity import ethr_did
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.learning.models import weights_to_bytes
from ledgerlearn.learning.secagg import SecAggClient, SecAggConfig, SecAggKeys
from ledgerlearn.learning.weights import flatten, unflatten
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.ledger.enums import TrainingCoordinatorPhase, TrainingCoordinatorRole
from ledgerlearn.node._task import ENDED, TaskNode
from ledgerlearn.storage import ContentStore
from ledgerlearn.training import (
    RoundView,
    TaskView,
    UpdateContext,
    encode_advert,
    encode_masked,
    encode_shares,
    encode_unmask,
    key_agreement_keys,
    load_messages,
    record_tree,
    seal_update,
    secagg_input,
)

__all__ = ["LocalData", "TrainerNode"]


@dataclass(frozen=True, slots=True)
class LocalData:
    """A trainer's private data: features and labels it never shares.

    Attributes
    ----------
    x, y
        Training examples and labels.
    """

    x: NDArray[np.float32]
    y: NDArray[np.int64]


class TrainerNode(TaskNode):
    """A trainer of one task.

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
    data
        The trainer's local data.
    stake
        Tokens to stake if the account's stake is below the task's minimum.
    """

    role = "trainer"
    join_as = TrainingCoordinatorRole.TRAINER

    def __init__(
        self,
        chain: Chain,
        deployment: DeploymentManifest,
        store: ContentStore,
        key: Secp256k1Key,
        task_id: int,
        state_dir: str | Path,
        *,
        data: LocalData,
        stake: int = 0,
    ) -> None:
        # A trainer reads secure-aggregation posts per step, its neighbours' only; the
        # committee follows everyone's.
        super().__init__(chain, deployment, store, key, task_id, state_dir, stake=stake)
        self.data = data
        # Per-round secure-aggregation reads that cannot change once made: the round's
        # clock (after the draw), its protocol settings, and its small content-addressed
        # messages (adverts, share bundles), so each step does not read them again.
        self._secagg_cache: dict[int, tuple[RoundView, SecAggConfig, dict[str, bytes]]] = {}
        self._window_posts: dict[int, dict[str, tuple[bytes, str]]] = {}
        """Step → this trainer's neighbours' posts in that closed window, of the round in
        ``_secagg_cache`` (reset with it)."""

    # --- the role ----------------------------------------------------------------------

    def act_on(self, task: TaskView, head: int) -> bool:
        """Claim what is claimable; commit (or post secure-aggregation steps) when due."""
        acted = self._claim_all()
        if task.phase in ENDED:
            self.mark("finished")
            return acted
        if task.phase is TrainingCoordinatorPhase.AGGREGATING and task.config.secagg_blocks:
            return self._secagg_step(task, head) or acted
        if task.phase is not TrainingCoordinatorPhase.COMMIT:
            return acted
        state = self.client.round(self.task_id, task.round)
        if head <= task.join_deadline:
            # Commits open after the join deadline; some nodes (anvil) estimate gas at the
            # latest block rather than the next, so wait until the deadline is behind us.
            self.wake_block = task.join_deadline + 1
            return acted
        if head >= state.commit_deadline:
            return acted
        return self._commit(task) or acted

    def _commit(self, task: TaskView) -> bool:
        action = f"commit:{task.round}"
        dp = self.spec.dp
        accountant = dp.accounting() if dp is not None else None
        if accountant is not None and not accountant.allows(task.round):
            # The round would spend more epsilon than the task's budget: it must not start,
            # so this trainer does not train or commit (the round then aborts for want of
            # commits, and the task with it).
            if f"budget:{task.round}" not in self.state.done:
                self.note(
                    "privacy-budget-exhausted",
                    round=task.round,
                    epsilon=accountant.spent(task.round),
                    budget=accountant.budget,
                )
                self.mark(f"budget:{task.round}")
            return False
        if action in self.state.done or any(
            self.client.commit_of(self.task_id, task.round, self.address)
        ):
            self.mark(action)
            return False
        prepared = self.state.prepared.get(str(task.round))
        if prepared is None:
            if self.uses_secagg(task):
                # Train now (the commit window is the training window) and keep the input
                # to mask; the commit is the key advert.
                self._secagg_vector(task, task.round)
                keys = self._secagg_keys(task.round)
                envelope = encode_advert(SecAggClient.advert_for(self.address, keys))
                sha = hashlib.sha256(envelope).digest()
            else:
                update = self._update_bytes(task.round)
                sha = hashlib.sha256(update).digest()
                envelope = seal_update(update, self._context(task.round), self._readers())
            cid = str(self.store.put(envelope))
            prepared = {"sha256": sha.hex(), "cid": cid}
            self.state.prepared[str(task.round)] = prepared
            self.save()
            self.note("trained", round=task.round, sha256=sha.hex(), cid=cid)
        self.send_once(
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
        self.note("committed", round=task.round)
        return True

    # --- local training ----------------------------------------------------------------

    def local_seed(self, round_number: int) -> int:
        """Return the seed of this trainer's local training in a round (task, round, address)."""
        return int.from_bytes(
            keccak(text=f"{self.task_id}:{round_number}:{self.address.lower()}")[:4], "big"
        )

    def local_update(
        self, round_number: int
    ) -> tuple[NDArray[np.float32], dict[str, NDArray[np.float32]]]:
        """Train on the local data from the round's global weights.

        Returns
        -------
        tuple
            The flat update (trained minus global weights) and the global weights.
        """
        spec = self.spec
        weights, _, _ = self.global_weights(round_number)
        model = spec.build_model()
        model.set_weights(weights)
        model.fit(self.data.x, self.data.y, spec.train_config(self.local_seed(round_number)))
        delta = (flatten(model.get_weights()) - flatten(weights)).astype(np.float32)
        return delta, weights

    def _update_bytes(self, round_number: int) -> bytes:
        delta, weights = self.local_update(round_number)
        # Under DP-FedAvg the client clips (DifferentialPrivacy.client_update); the
        # committee clips again.
        sent = self.spec.client_update(delta).astype(np.float32)
        return weights_to_bytes(unflatten(sent, weights))

    def _context(self, round_number: int) -> UpdateContext:
        return UpdateContext(
            self.chain.chain_id, self.client.address, self.task_id, round_number, self.address
        )

    def _readers(self) -> dict[str, bytes]:
        readers: dict[str, bytes] = {}
        for aggregator in self.client.aggregators(self.task_id):
            document = self.resolver.resolve(ethr_did(self.chain.chain_id, aggregator)).document
            readers.update(key_agreement_keys(document))
        return readers

    # --- rewards -----------------------------------------------------------------------

    def _claim_all(self) -> bool:
        acted = False
        for round_number, final in sorted(self.finalised().items()):
            action = f"claim:{round_number}"
            if action in self.state.done:
                continue
            record = json.loads(self.store.get(final["recordCid"]))
            entries = record["updates"]
            mine = [i for i, e in enumerate(entries) if e["trainer"] == self.address]
            if not mine:
                self.mark(action)
                continue
            entry = entries[mine[0]]
            if entry["score"] == 0:
                self.note("rejected", round=round_number, reason=entry["rejected"])
                self.mark(action)
                continue
            tree = record_tree(entries)
            sha, score, proof = bytes.fromhex(entry["sha256"]), entry["score"], tree.proof(mine[0])
            amount = self.send_once(
                "claim",
                action,
                partial(self.client.claim, self.key, self.task_id, round_number, sha, score, proof),
            )
            self.note("claimed", round=round_number, amount=amount)
            acted = True
        return acted

    # --- secure aggregation ------------------------------------------------------------

    def _secagg_keys(self, round_number: int) -> SecAggKeys:
        return SecAggKeys.derive(self.key.unsafe_secret(), self.round_id(round_number))

    def _secagg_vector(self, task: TaskView, round_number: int) -> NDArray[np.float64]:
        """Return what this trainer masks in a round, kept in the state directory."""
        path = self.state_dir / f"secagg-input-{round_number}.npy"
        if path.exists():
            return np.asarray(np.load(path), dtype=np.float64)
        delta, _ = self.local_update(round_number)
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

    def _secagg_round(
        self, task: TaskView, round_number: int
    ) -> tuple[RoundView, SecAggConfig, dict[str, bytes]] | None:
        """Return a round's clock, protocol settings and message cache, once drawn.

        ``None`` until the committee draw (which seeds the graph) is behind this node's
        event cursor, so the participants (the commits it has seen) are final.
        """
        cached = self._secagg_cache.get(round_number)
        if cached is not None:
            return cached
        state = self.client.round(self.task_id, round_number)
        assert self.cursor is not None
        if not state.secagg_start or self.cursor.position.block < state.secagg_start:
            return None
        config = self.secagg_config(task, round_number)
        self._secagg_cache = {round_number: (state, config, {})}  # older rounds are over
        self._window_posts = {}
        return self._secagg_cache[round_number]

    def _secagg_step(self, task: TaskView, block: int) -> bool:
        """Post this trainer's next secure-aggregation message when its window is open.

        Idle steps cost one block-number read: the round's clock is cached once drawn,
        and the chain is asked which steps this trainer posted only before posting.
        """
        round_number = task.round
        committed = f"commit:{round_number}" in self.state.done
        if not committed and self.address not in self.state.commits.get(str(round_number), {}):
            return False
        drawn = self._secagg_round(task, round_number)
        if drawn is None:
            return False
        state = drawn[0]
        for step in (1, 2, 3):
            opens_after, closes_at = state.secagg_window(step, task.config.secagg_blocks)
            if block <= opens_after:
                self.wake_block = opens_after + 1
                return False
            action = f"secagg:{round_number}:{step}"
            if action in self.state.done or block >= closes_at:
                continue
            previous = f"secagg:{round_number}:{step - 1}" if step > 1 else f"commit:{round_number}"
            if previous not in self.sent:
                # After a restart, or when the previous step was refused: ask the chain.
                posted = self.client.secagg_steps(self.task_id, round_number, self.address)
                if step in posted:
                    self.mark(action)
                    continue
                if step > 1 and step - 1 not in posted:
                    return False  # missed an earlier window: dropped out of this round
            return self._secagg_post(task, round_number, step, action)
        return False

    def _neighbour_posts(
        self, task: TaskView, round_number: int, state: RoundView, senders: set[str], *, upto: int
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

    def _secagg_post(self, task: TaskView, round_number: int, step: int, action: str) -> bool:
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
                    self.note("secagg-unreadable", round=round_number, senders=client.unreadable)
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
            self.note("secagg-refused", round=round_number, step=step, reason=str(exc))
            self.mark(action)
            return True
        cid = str(self.store.put(message))
        sha = hashlib.sha256(message).digest()
        self.send_once(
            "secagg",
            action,
            partial(self.client.post_secagg, self.key, self.task_id, round_number, step, sha, cid),
        )
        self.note("secagg-posted", round=round_number, step=step, cid=cid)
        return True
