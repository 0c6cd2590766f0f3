"""Verifier: re-runs the sampled segments of proof-of-learning logs it is drawn to check.

A :class:`VerifierNode` is a staked member of the auditor pool that ``LearningProofs`` draws
its panels from. For every submitted claim it draws the panel once the claim's beacon
request is fulfilled (fulfilling it itself when assigned or overdue, :class:`BeaconDuty`);
when drawn, it re-runs the beacon-sampled segments of the claim's log on the public
training set and posts the worst check
(:class:`~ledgerlearn.verification.LearningVerifier`); once every panel member posted, or
the deadline passed, it finalises the claim, which slashes a trainer whose check failed.

Trust assumption: fewer than a quorum of each panel is dishonest; the beacon is unbiased;
segments are re-run bit for bit from the checkpoints in the store (checked by hash).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import LedgerLearnError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.ledger.enums import LearningProofsStatus
from ledgerlearn.ledger.errors import (
    AuditsAlreadyAuditor,
    BeaconAlreadyFulfilled,
    LearningAlreadyPosted,
    LearningWrongStatus,
)
from ledgerlearn.node._base import Node, NodeState
from ledgerlearn.node._beacon import BeaconDuty
from ledgerlearn.oracle import OracleClient
from ledgerlearn.randomness import BeaconClient
from ledgerlearn.staking import StakingClient
from ledgerlearn.storage import ContentStore
from ledgerlearn.verification import AuditClient, LearningProofClient, LearningVerifier

__all__ = ["VerifierNode", "VerifierState"]


@dataclass
class VerifierState(NodeState):
    """What a verifier persists besides its cursor.

    Attributes
    ----------
    claims
        Claims this node follows until they are finalised.
    """

    claims: list[int] = field(default_factory=list)


class VerifierNode(Node[VerifierState]):
    """A proof-of-learning verifier.

    Parameters
    ----------
    chain, deployment, store
        Where the protocol lives (the store holds the logs and checkpoints).
    key
        The verifier identity's key.
    x, y
        The public training set the checked jobs train on.
    state_dir
        Where the cursor and the followed claims are kept.
    stake
        Stake to hold, in token units; at least the auditor pool's minimum.
    vrf
        Register a VRF key and fulfil the claims' beacon requests when assigned or overdue.
    """

    role = "verifier"
    done_reverts = (
        LearningWrongStatus,
        LearningAlreadyPosted,
        AuditsAlreadyAuditor,
        BeaconAlreadyFulfilled,
    )

    def __init__(
        self,
        chain: Chain,
        deployment: DeploymentManifest,
        store: ContentStore,
        key: Secp256k1Key,
        x: NDArray[np.floating[Any]],
        y: NDArray[np.integer[Any]],
        state_dir: str | Path,
        *,
        stake: int = 0,
        vrf: bool = True,
    ) -> None:
        super().__init__(chain, deployment, store, key, state_dir, state_type=VerifierState)
        self.stake_amount = stake
        self.proofs = LearningProofClient(chain, deployment)
        self.audits = AuditClient(chain, deployment, OracleClient(chain, deployment))
        self.staking = StakingClient(chain, deployment)
        self.beacon = BeaconClient(chain, deployment)
        self.duty = BeaconDuty(self.beacon, key) if vrf else None
        self.verifier = LearningVerifier(key, self.proofs, store, x, y)
        self.cursor = self.proofs.cursor(
            self.state_dir / "cursor.json", events=("WorkSubmitted", "CheckFinalized")
        )
        self._ready = False

    @property
    def ready(self) -> bool:
        """Whether the stake, the pool membership and the VRF key are in place."""
        return self._ready

    def setup(self) -> None:
        """Stake up to the pool's minimum, join the pool, register the VRF key."""
        minimum = self.audits.parameters().min_auditor_stake
        added = self.staking.ensure_stake(self.key, minimum, top_up=self.stake_amount)
        if added:
            self.note("staked", amount=added)
        if not self.audits.is_auditor(self.address):
            self.send("join", lambda: self.audits.join(self.key))
            self.note("joined the verifier pool")
        if self.duty is not None and self.duty.register():
            self.note("vrf key registered", index=self.duty.key_index())
        self._ready = True

    def on_event(self, event: Any) -> None:
        """Follow a submitted claim; forget a finalised one."""
        self.metrics.events.inc()
        claim_id = int(event["args"]["claimId"])
        if event["event"] == "WorkSubmitted":
            if claim_id not in self.state.claims:
                self.state.claims.append(claim_id)
        elif claim_id in self.state.claims:
            self.state.claims.remove(claim_id)

    def act(self, head: int) -> bool:
        """Draw, check and finalise every followed claim."""
        acted = False
        for claim_id in list(self.state.claims):
            try:
                acted |= self._act(claim_id, head)
            except (LedgerLearnError, OSError) as exc:
                self.metrics.errors.inc()
                self.note("error", claim=claim_id, error=f"{type(exc).__name__}: {exc}")
        return acted

    def _act(self, claim_id: int, head: int) -> bool:
        claim = self.proofs.get_claim(claim_id)
        if claim.status is LearningProofsStatus.DRAWING:
            randomness = self.proofs.randomness_request_id(claim_id)
            if self.duty is not None:
                available, _ = self.duty.serve(randomness, head)
            else:
                available = bool(self.beacon.request_state(randomness)["fulfilled"])
            if not available:
                return False
            drawn = self.send_once(
                "draw", f"draw:{claim_id}", lambda: self.proofs.draw(self.key, claim_id)
            )
            if drawn is not None:
                self.note("drew panel", claim=claim_id, panel=drawn[0], segments=drawn[1])
            return True
        if claim.status is not LearningProofsStatus.CHECKING:
            self.state.claims.remove(claim_id)  # finished before this node looked
            return False
        panel, _ = self.proofs.drawn(claim_id)
        acted = False
        on_panel = self.address.lower() in {p.lower() for p in panel}
        if (
            on_panel
            and head <= claim.deadline
            and self.proofs.verdict_of(claim_id, self.address) is None
        ):
            check = self.verifier.verify(claim_id)
            self.metrics.actions.labels(kind="check").inc()
            self.note("checked", claim=claim_id, passed=check.passed, segment=check.segment)
            acted = True
            claim = self.proofs.get_claim(claim_id)
        if claim.verdicts >= len(panel) or head > claim.deadline:
            outcome = self.send_once(
                "finalize",
                f"finalize:{claim_id}",
                lambda: self.proofs.finalize(self.key, claim_id),
            )
            if outcome is not None:
                self.note(
                    "finalized claim", claim=claim_id, status=outcome[0].label, slashed=outcome[1]
                )
            return True
        return acted
