"""Auditor: opens the audit lottery of fulfilled answers, draws panels, re-executes, finalises.

An :class:`AuditorNode` stakes and joins the auditor pool of ``InferenceAudits``, verifies
the model versions it audits against the registry before loading them, and then:

* **opens** the audit lottery of every fulfilled request for those versions (anyone may;
  the first opener wins, the others find it opened), within the audit window;
* **draws** the panel once the audit's beacon request is fulfilled, fulfilling it itself
  when its VRF key is assigned or the assigned key stayed silent (:class:`BeaconDuty`);
* **audits** — when drawn onto a panel, re-runs the request's model on its input and posts
  its verdict (:class:`~ledgerlearn.verification.Auditor`);
* **finalises** the audit once every panel member posted or the deadline passed: an
  overturned answer slashes its signers and refunds the requester on chain.

Trust assumption: fewer than a quorum of each panel is dishonest; the beacon is unbiased;
the node re-executes only verified artifacts and reads inputs checked against their hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ledgerlearn.exceptions import LedgerLearnError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.ledger.errors import (
    AuditsAlreadyAuditor,
    AuditsAlreadySubmitted,
    AuditsRequestNotFulfilled,
    AuditsWindowClosed,
    AuditsWrongStatus,
    BeaconAlreadyFulfilled,
)
from ledgerlearn.node._base import Node, NodeState
from ledgerlearn.node._beacon import BeaconDuty
from ledgerlearn.oracle import Backend, OracleClient, load_model
from ledgerlearn.randomness import BeaconClient
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.staking import StakingClient
from ledgerlearn.storage import ContentStore
from ledgerlearn.verification import AuditClient, Auditor

__all__ = ["AuditorNode", "AuditorState"]


@dataclass
class AuditorState(NodeState):
    """What an auditor persists besides its cursors.

    Attributes
    ----------
    fulfilled
        Fulfilled requests whose audit this node has not tried to open yet.
    audits
        Request → ``{}`` while its panel is being drawn, ``{"panel": [...], "deadline": n}``
        once drawn; dropped when the audit ends.
    """

    fulfilled: list[int] = field(default_factory=list)
    audits: dict[str, dict[str, Any]] = field(default_factory=dict)


class AuditorNode(Node[AuditorState]):
    """A staked auditor of inference answers.

    Parameters
    ----------
    chain, deployment, store
        Where the protocol lives (the store holds the requests' inputs).
    key
        The auditor identity's key.
    models
        Versions this node audits (``name@version`` or ``name@channel``, resolved at setup).
    state_dir
        Where the cursors and the followed audits are kept.
    stake
        Stake to hold, in token units; at least the audit module's minimum.
    open_audits
        Open the audit lottery of fulfilled requests for ``models`` (anyone may).
    vrf
        Register a VRF key and fulfil the audits' beacon requests when assigned or overdue.
    backend
        ``numpy`` or ``onnx``.
    """

    role = "auditor"
    done_reverts = (
        AuditsWrongStatus,
        AuditsAlreadyAuditor,
        AuditsAlreadySubmitted,
        AuditsWindowClosed,
        AuditsRequestNotFulfilled,
        BeaconAlreadyFulfilled,
    )

    def __init__(
        self,
        chain: Chain,
        deployment: DeploymentManifest,
        store: ContentStore,
        key: Secp256k1Key,
        models: Sequence[str],
        state_dir: str | Path,
        *,
        stake: int = 0,
        open_audits: bool = True,
        vrf: bool = True,
        backend: Backend = "numpy",
    ) -> None:
        if not models:
            raise ValueError("an auditor needs at least one model to audit (name@version)")
        super().__init__(chain, deployment, store, key, state_dir, state_type=AuditorState)
        self.model_refs = list(models)
        self.stake_amount = stake
        self.open_audits = open_audits
        self.backend: Backend = backend
        self.oracle = OracleClient(chain, deployment)
        self.audits = AuditClient(chain, deployment, self.oracle)
        self.staking = StakingClient(chain, deployment)
        self.registry = ModelRegistryClient(chain, deployment, store)
        self.beacon = BeaconClient(chain, deployment)
        self.duty = BeaconDuty(self.beacon, key) if vrf else None
        self.cursor = self.audits.cursor(
            self.state_dir / "cursor.json",
            events=("AuditOpened", "AuditorsDrawn", "AuditNotSampled", "AuditFinalized"),
        )
        self.fulfilments = (
            self.oracle.cursor(self.state_dir / "fulfilled.json", events=("InferenceFulfilled",))
            if open_audits
            else None
        )
        self.auditor: Auditor | None = None
        self._wake: dict[int, int] = {}

    # --- setup --------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether the models are loaded (once per process)."""
        return self.auditor is not None

    def setup(self) -> Auditor:
        """Stake, join the pool, register the VRF key, verify and load the models.

        Returns
        -------
        Auditor
            What re-executes requests and posts verdicts.
        """
        minimum = self.audits.parameters().min_auditor_stake
        added = self.staking.ensure_stake(self.key, minimum, top_up=self.stake_amount)
        if added:
            self.note("staked", amount=added)
        if not self.audits.is_auditor(self.address):
            self.send("join", lambda: self.audits.join(self.key))
            self.note("joined the auditor pool")
        if self.duty is not None and self.duty.register():
            self.note("vrf key registered", index=self.duty.key_index())
        loaded = []
        for ref in self.model_refs:
            record = self.registry.resolve(ref)
            loaded.append(
                load_model(self.registry, record.model, record.version, backend=self.backend)
            )
            self.note("auditing", model=record.model, version=record.version)
        self.auditor = Auditor(self.key, self.audits, self.store, loaded)
        return self.auditor

    # --- the loop -----------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        """Follow an opened audit, record a drawn panel, forget an ended audit."""
        self.metrics.events.inc()
        key = str(int(event["args"]["requestId"]))
        if event["event"] == "AuditOpened":
            self.state.audits.setdefault(key, {})
        elif event["event"] == "AuditorsDrawn":
            self.state.audits[key] = {
                "panel": list(event["args"]["auditors"]),
                "deadline": int(event["args"]["deadline"]),
            }
        else:
            self.state.audits.pop(key, None)

    def _on_fulfilled(self, event: Any) -> None:
        request_id = int(event["args"]["requestId"])
        if request_id not in self.state.fulfilled:
            self.state.fulfilled.append(request_id)

    def act(self, head: int) -> bool:
        """Open what is fulfilled, then draw, audit and finalise what is open."""
        acted = False
        if self.fulfilments is not None:
            self.fulfilments.poll(self._on_fulfilled, checkpoint=self.save, head=head)
            acted = self._open_fulfilled()
        for key in sorted(self.state.audits, key=int):
            try:
                acted |= self._act(int(key), self.state.audits[key], head)
            except (LedgerLearnError, OSError) as exc:
                self.metrics.errors.inc()
                self.note("error", request=int(key), error=f"{type(exc).__name__}: {exc}")
        return acted

    def _open_fulfilled(self) -> bool:
        assert self.auditor is not None
        acted = False
        for request_id in list(self.state.fulfilled):
            request = self.oracle.get_request(request_id)
            if (request.model_id, request.version) in self.auditor.models:
                opened = self.send_once(
                    "open", f"open:{request_id}", partial(self.audits.open, self.key, request_id)
                )
                if opened is not None:
                    self.note("opened audit", request=request_id, status=opened.label)
                    acted = True
            self.state.fulfilled.remove(request_id)
        return acted

    def _act(self, request_id: int, audit: dict[str, Any], head: int) -> bool:
        if head < self._wake.get(request_id, 0):
            return False
        if "panel" not in audit:
            return self._draw(request_id, head)
        assert self.auditor is not None
        panel = [p.lower() for p in audit["panel"]]
        deadline = int(audit["deadline"])
        acted = False
        if self.address.lower() in panel and head <= deadline:
            posted, _, _ = self.audits.verdict_of(request_id, self.address)
            if not posted:
                value = self.auditor.audit(request_id)
                self.metrics.actions.labels(kind="verdict").inc()
                self.note("audited", request=request_id, value=value)
                acted = True
        verdicts = self.audits.get_audit(request_id).verdicts
        if verdicts >= len(panel) or head > deadline:
            outcome = self.send_once(
                "finalize",
                f"finalize:{request_id}",
                lambda: self.audits.finalize(self.key, request_id),
            )
            if outcome is not None:
                self.note("finalized audit", request=request_id, status=outcome.status.label)
            self.state.audits.pop(str(request_id), None)
            return True
        return acted

    def _draw(self, request_id: int, head: int) -> bool:
        randomness = self.audits.randomness_request_id(request_id)
        if self.duty is not None:
            available, wake = self.duty.serve(randomness, head)
        else:
            available, wake = bool(self.beacon.request_state(randomness)["fulfilled"]), None
        if not available:
            if wake is not None:
                self._wake[request_id] = wake
            return False
        panel = self.send_once(
            "draw", f"draw:{request_id}", lambda: self.audits.draw(self.key, request_id)
        )
        if panel is not None:
            self.note("drew panel", request=request_id, panel=panel)
        return True
