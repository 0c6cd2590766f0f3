"""Aggregator: draws committees, aggregates rounds it sits on, and watches the others.

An :class:`AggregatorNode` stakes, registers a VRF key with the beacon and publishes an X25519
key in its did:ethr document, then joins. It fulfils committee draws assigned to its key
(or any draw whose assigned key stayed silent past its window), moves the task on when a
phase is due, and when on a round's committee decrypts the round's updates (or, under
secure aggregation, unmasks their sum after the last window), aggregates them
deterministically (:func:`~ledgerlearn.training.aggregate_round`) and posts the result.
Its watchdog slashes committee members that disagreed with a finalised round or stayed
silent, and trainers rejected in too many rounds, each with the on-chain evidence.

Trust assumption: a quorum of each committee is honest; trainers may lie or crash; this
node checks every envelope against its commitment before using it.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from eth_utils import keccak

from ledgerlearn.exceptions import EnvelopeError, LedgerLearnError, PrivacyBudgetError
from ledgerlearn.identity import attribute_name, ethr_did
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.ledger.enums import (
    TrainingCoordinatorFault,
    TrainingCoordinatorPhase,
    TrainingCoordinatorRole,
)
from ledgerlearn.node._task import ENDED, TaskNode
from ledgerlearn.storage import ContentStore
from ledgerlearn.training import (
    AggregatePost,
    CommittedUpdate,
    RoundOutcome,
    TaskView,
    UpdateContext,
    aggregate_round,
    derive_agreement_key,
    final_manifest,
    key_agreement_keys,
    load_messages,
    open_update_keyed,
    read_masked,
    record_tree,
    round_record,
    secagg_round,
)

__all__ = ["AggregatorNode"]


class AggregatorNode(TaskNode):
    """An aggregator (committee candidate and watchdog) of one task.

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

    role = "aggregator"
    join_as = TrainingCoordinatorRole.AGGREGATOR

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
    ) -> None:
        super().__init__(
            chain,
            deployment,
            store,
            key,
            task_id,
            state_dir,
            stake=stake,
            events=("UpdateCommitted", "RoundFinalised", "SecAggPosted"),
        )
        self.agreement_key = derive_agreement_key(key.unsafe_secret())

    # --- setup -------------------------------------------------------------------------

    def before_join(self) -> None:
        """Publish the X25519 key trainers seal updates to, and register a VRF key."""
        did = ethr_did(self.chain.chain_id, self.address)
        document = self.resolver.resolve(did).document
        public = bytes(self.agreement_key.public_key)
        if public not in key_agreement_keys(document).values():
            name = attribute_name("pub", "X25519", "enc", "base64")
            self.send_once(
                "did",
                "did:x25519",
                lambda: self.identities.set_attribute(
                    self.key, self.address, name, public, validity=10**9
                ),
            )
        if self.vrf_key_index() is None:
            bond = self.beacon.minimum_bond
            self.send_once(
                "vrf",
                "vrf:approve",
                lambda: self.beacon.token.approve(self.key, self.beacon.address, bond),
            )
            self.send_once(
                "vrf",
                "vrf:register",
                lambda: self.beacon.register_key(self.key, self.vrf_key, bond),
            )

    # --- the role ----------------------------------------------------------------------

    def act_on(self, task: TaskView, head: int) -> bool:
        """Watch finished rounds, post late, draw, advance and aggregate when due."""
        acted = self._watchdog(task, head)
        # A member that was not among the first `quorum` posters still posts until the
        # deadline: an honest but slower member is not a fault.
        acted = self._late_posts(task, head) or acted
        if task.phase in ENDED:
            self.mark("finished")
            return acted
        state = self.client.round(self.task_id, task.round)
        if task.phase is TrainingCoordinatorPhase.COMMIT:
            if head > state.commit_deadline:
                return (
                    self._advance(f"advance:{task.round}:commit:{state.commit_deadline}") or acted
                )
            self.wake_block = state.commit_deadline + 1
        elif task.phase is TrainingCoordinatorPhase.SELECTING:
            return self._select(task, head) or acted
        elif task.phase is TrainingCoordinatorPhase.AGGREGATING:
            secagg_end = state.secagg_start + 3 * task.config.secagg_blocks
            if task.config.secagg_blocks and head <= secagg_end:
                self.wake_block = secagg_end + 1  # the committee posts after the last window
                return acted
            # A post is mined in a later block than the head; past the deadline it would
            # revert on every step, and the round must be advanced instead.
            if head < state.aggregate_deadline and self._owes_post(task.round):
                self._post(task, task.round)
                return True
            if head > state.aggregate_deadline:
                return (
                    self._advance(f"advance:{task.round}:aggregate:{state.aggregate_deadline}")
                    or acted
                )
            self.wake_block = state.aggregate_deadline + 1
        return acted

    def _owes_post(self, round_number: int) -> bool:
        if f"post:{round_number}" in self.state.done:
            return False
        if self.address not in self.client.committee(self.task_id, round_number):
            return False
        return not any(self.client.post_of(self.task_id, round_number, self.address))

    def _late_posts(self, task: TaskView, head: int) -> bool:
        acted = False
        for round_number in sorted(self.finalised()):
            if (
                f"post:{round_number}" in self.state.done
                or f"late:{round_number}" in self.state.done
            ):
                continue
            state = self.client.round(self.task_id, round_number)
            if head >= state.aggregate_deadline or not self._owes_post(round_number):
                self.mark(f"late:{round_number}")
                continue
            self._post(task, round_number)
            acted = True
        return acted

    def _advance(self, action: str) -> bool:
        self.send_once("advance", action, lambda: self.client.advance(self.key, self.task_id))
        return True

    def _select(self, task: TaskView, head: int) -> bool:
        request_id = self.client.committee_request_id(self.task_id, task.round)
        request = self.beacon.request_state(request_id)
        if request["fulfilled"]:
            return self._advance(f"advance:{task.round}:select")
        if head <= request["seedBlock"]:
            self.wake_block = int(request["seedBlock"]) + 1
            return False
        assigned = self.beacon.assigned_key(request_id)
        if assigned == self.vrf_key_index() or head > request["deadline"]:
            self.send_once(
                "fulfil",
                f"fulfil:{task.round}",
                lambda: self.beacon.fulfil(self.key, self.vrf_key, request_id),
            )
            return True
        self.wake_block = int(request["deadline"]) + 1  # fall back if the assigned key is silent
        return False

    # --- aggregation -------------------------------------------------------------------

    def compute_round(self, round_number: int) -> tuple[RoundOutcome, bytes, str]:
        """Decrypt (or unmask) and aggregate a round's committed updates (what a member posts).

        Returns
        -------
        tuple
            The outcome, the round's starting sha256 and CID.
        """
        weights, global_sha, global_cid = self.global_weights(round_number)
        task = self._task()
        if self.uses_secagg(task):
            config = self.secagg_config(task, round_number)
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
            self.chain.chain_id, self.client.address, self.task_id, round_number, trainer
        )

    def _post(self, task: TaskView, round_number: int) -> None:
        try:
            outcome, global_sha, global_cid = self.compute_round(round_number)
        except PrivacyBudgetError as exc:
            # Trainers do not commit in such a round; should some do anyway, the committee
            # does not release an aggregate that would overspend the budget.
            self.note("privacy-budget-exhausted", round=round_number, reason=str(exc))
            self.mark(f"post:{round_number}")
            return
        aggregate_cid = str(self.store.put(outcome.weights_bytes))
        finals = self.finalised()
        previous = str(finals[round_number - 1]["recordCid"]) if round_number > 1 else None
        record = round_record(
            chain_id=self.chain.chain_id,
            coordinator=self.client.address,
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
                coordinator=self.client.address,
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
        events = self.send_once(
            "post",
            f"post:{round_number}",
            lambda: self.client.post(self.key, self.task_id, round_number, post),
        )
        self.note(
            "posted",
            round=round_number,
            aggregate=outcome.weights_sha256.hex(),
            record=record_cid,
            rejected={u.trainer: u.reason for u in outcome.updates if u.score == 0},
            events=events,
        )

    # --- watchdog ----------------------------------------------------------------------

    def _watchdog(self, task: TaskView, head: int) -> bool:
        """Slash committee faults and repeatedly rejected trainers (once each)."""
        acted = False
        finals = self.finalised()
        for round_number, final in sorted(finals.items()):
            action = f"watch:{round_number}"
            if action in self.state.done:
                continue
            committee = self.client.committee(self.task_id, round_number)
            state = self.client.round(self.task_id, round_number)
            deadline_passed = head > state.aggregate_deadline
            for member in committee:
                if member == self.address:
                    continue
                fault = self.client.fault_of(self.task_id, round_number, member)
                if fault is not TrainingCoordinatorFault.NONE:
                    taken = self.send_once(
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
                    self.note(
                        "slashed-aggregator",
                        round=round_number,
                        member=member,
                        fault=fault.label,
                        amount=taken,
                    )
                    acted = True
            if f"rejections:{round_number}" not in self.state.done:
                record = json.loads(self.store.get(final["recordCid"]))
                for entry in record["updates"]:
                    if entry["score"] == 0:
                        rounds = self.state.rejections.setdefault(entry["trainer"], [])
                        if round_number not in rounds:
                            rounds.append(round_number)
                self.mark(f"rejections:{round_number}")
            if deadline_passed:
                self.mark(action)
        limit = task.config.max_rejections
        for trainer, rounds in sorted(self.state.rejections.items()):
            if not limit or len(rounds) < limit or f"slash-trainer:{trainer}" in self.state.done:
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
            taken = self.send_once(
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
            self.note("slashed-trainer", trainer=trainer, rounds=chosen, amount=taken)
            acted = True
        return acted
