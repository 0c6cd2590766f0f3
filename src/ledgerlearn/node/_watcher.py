"""Watcher: checks optimistic claims and disputes the false ones until the chain decides.

A :class:`WatcherNode` holds the fixed-point networks of the model versions it watches,
each checked against the trace model bound on chain. For every claim on
``OptimisticInference`` it re-runs the request's input (read from the store, checked
against the request's hash) and, when the claimed output differs from its own, challenges
with its bond and plays the bisection (:class:`~ledgerlearn.verification.DisputeAgent`):
reveal the midpoint leaf each round, reveal its output of the layer in dispute, and
re-execute that layer on chain. It calls ``timeout`` on a dispute whose other party stopped
answering, and ``finalize`` on an unchallenged claim whose window closed, so requests
settle without anybody else.

Trust assumption: one honest watcher per claim suffices; the chain re-executes the single
disputed layer, so the watcher needs no one's trust, only its bond and liveness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledgerlearn.exceptions import LedgerLearnError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.ledger.enums import OptimisticInferencePhase
from ledgerlearn.ledger.errors import (
    OptimisticNotParty,
    OptimisticWindowClosed,
    OptimisticWindowOpen,
    OptimisticWrongPhase,
)
from ledgerlearn.node._base import Node, NodeState
from ledgerlearn.oracle import OracleClient, load_network
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import ContentStore
from ledgerlearn.verification import (
    DisputeAgent,
    FixedPointNetwork,
    OptimisticClient,
    Trace,
    input_row,
)

__all__ = ["WatcherNode", "WatcherState"]

_DISPUTED = (OptimisticInferencePhase.BISECTING, OptimisticInferencePhase.STEPPING)


@dataclass
class WatcherState(NodeState):
    """What a watcher persists besides its cursor.

    Attributes
    ----------
    claims
        Requests with a claim this node follows until it settles.
    """

    claims: list[int] = field(default_factory=list)


class WatcherNode(Node[WatcherState]):
    """A watcher of optimistic inference claims.

    Parameters
    ----------
    chain, deployment, store
        Where the protocol lives (the store holds the requests' inputs).
    key
        The account that posts challenger bonds and plays disputes.
    models
        Versions to watch (``name@version`` or ``name@channel``, resolved at setup).
    state_dir
        Where the cursor and the followed claims are kept.
    finalize
        Also settle unchallenged claims once their window closes.
    """

    role = "watcher"
    done_reverts = (
        OptimisticWrongPhase,
        OptimisticWindowClosed,
        OptimisticWindowOpen,
        OptimisticNotParty,
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
        finalize: bool = True,
    ) -> None:
        if not models:
            raise ValueError("a watcher needs at least one model to watch (name@version)")
        super().__init__(chain, deployment, store, key, state_dir, state_type=WatcherState)
        self.model_refs = list(models)
        self.finalize_claims = finalize
        self.oracle = OracleClient(chain, deployment)
        self.optimistic = OptimisticClient(chain, deployment, self.oracle)
        self.registry = ModelRegistryClient(chain, deployment, store)
        self.cursor = self.optimistic.cursor(
            self.state_dir / "cursor.json", events=("ClaimProposed", "ClaimSettled")
        )
        self.networks: dict[tuple[bytes, int], FixedPointNetwork] | None = None
        self._agents: dict[int, DisputeAgent] = {}

    # --- setup --------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether the networks are loaded (once per process)."""
        return self.networks is not None

    def setup(self) -> dict[tuple[bytes, int], FixedPointNetwork]:
        """Verify and load each watched version's network, checked against its bound trace.

        Raises
        ------
        VerificationError
            A version has no trace bound, or ours is not the one bound.
        """
        networks = {}
        for ref in self.model_refs:
            record = self.registry.resolve(ref)
            mlp, _ = load_network(self.registry, record.model, record.version)
            network = FixedPointNetwork.from_mlp(mlp)
            self.optimistic.check_trace(record.model, record.version, network)
            networks[(ModelRegistryClient.model_id(record.model), record.version)] = network
            self.note("watching", model=record.model, version=record.version)
        self.networks = networks
        return networks

    # --- the loop -----------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        """Follow a new claim; forget a settled one."""
        self.metrics.events.inc()
        request_id = int(event["args"]["requestId"])
        if event["event"] == "ClaimProposed":
            if request_id not in self.state.claims:
                self.state.claims.append(request_id)
        else:
            if request_id in self.state.claims:
                self.state.claims.remove(request_id)
            self._agents.pop(request_id, None)

    def act(self, head: int) -> bool:
        """Check, challenge, play or settle every followed claim."""
        acted = False
        for request_id in list(self.state.claims):
            try:
                acted |= self._act(request_id, head)
            except (LedgerLearnError, OSError) as exc:
                self.metrics.errors.inc()
                self.note("error", request=request_id, error=f"{type(exc).__name__}: {exc}")
        return acted

    def _agent(self, request_id: int) -> DisputeAgent | None:
        """Return this node's agent for a claim (its own trace), or ``None`` (another model)."""
        if request_id not in self._agents:
            assert self.networks is not None
            request = self.oracle.get_request(request_id)
            network = self.networks.get((request.model_id, request.version))
            if network is None:
                return None
            raw = self.oracle.read_input(self.store, request)
            trace: Trace = network.trace(network.quantise(input_row(raw, network.features)))
            self._agents[request_id] = DisputeAgent(self.key, self.optimistic, network, trace)
        return self._agents[request_id]

    def _act(self, request_id: int, head: int) -> bool:
        agent = self._agent(request_id)
        if agent is None:
            self.state.claims.remove(request_id)  # another model's claim: not ours to judge
            return False
        claim = self.optimistic.get_claim(request_id)
        if claim.phase is OptimisticInferencePhase.PROPOSED:
            if head <= claim.deadline:
                action = f"judged:{request_id}:{claim.trace_root.hex()}"
                if action in self.state.done:
                    return False
                if claim.output_leaf == agent.trace.leaf(agent.trace.layers):
                    self.mark(action)  # the claim is right: nothing to dispute
                    self.note("agreed", request=request_id, label=claim.label)
                    return False
                if self.send_once("challenge", action, lambda: agent.watch(request_id)):
                    self.note("challenged", request=request_id, label=claim.label)
                return True
            if self.finalize_claims:
                self.send_once(
                    "finalize",
                    f"finalize:{request_id}:{claim.trace_root.hex()}",
                    lambda: self.optimistic.finalize(self.key, request_id),
                )
                self.note("finalized claim", request=request_id, label=claim.label)
                return True
            return False
        if claim.phase in _DISPUTED:
            did = agent.act(request_id)
            if did != "waiting":
                self.metrics.actions.labels(kind=did).inc()
                self.note(did, request=request_id)
                return True
            dispute = self.optimistic.get_dispute(request_id)
            if dispute is not None and head > dispute.deadline:
                if self.send("timeout", lambda: self.optimistic.timeout(self.key, request_id)):
                    self.note("timed out", request=request_id)
                return True
        return False
