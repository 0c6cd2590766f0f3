"""Provider: a long-running, restartable inference provider on the InferenceOracle.

A :class:`ProviderNode` does everything a provider owes the network besides answering HTTP
calls (which :func:`~ledgerlearn.oracle.provider_app` does with the same
:class:`~ledgerlearn.oracle.Provider`):

* **setup** — stakes up to the oracle's minimum, registers a VRF key with the beacon,
  publishes its endpoint as a service entry in its did:ethr document, verifies each
  configured model version against the registry before loading it (channels are resolved
  at start), and declares on chain the versions it serves; every step is skipped when the
  chain already shows it done, so a restart repeats nothing;
* **draws** — fulfils the beacon request of an oracle request when the beacon assigned
  its key (or the assigned key missed its window), and draws the providers once the
  beacon's output is there, so requests settle even without a gateway;
* **fallback reports** — when it was drawn for a request that is still open
  ``report_after`` seconds after it first saw it open, it gathers the other drawn
  providers' answers from their DID endpoints, adds its own and submits the report
  itself: the gateway is not trusted to report;
* **refunds** — returns the fee of an expired request it was drawn for;
* **revocations** — stops serving (on chain and in memory) a version the registry revoked.

Requests it still follows are kept in its :class:`ProviderState`; events come through a
resumable cursor, so a killed node resumes where it was. Its models are loaded again at
each start (verified against the registry first).

Trust assumption: the node trusts its key, its state directory and the chain; gateways,
other providers and the store are checked (answers on signatures, inputs on hashes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from ledgerlearn.exceptions import LedgerLearnError, ReportError
from ledgerlearn.identity import EthrDidResolver
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.ledger.enums import InferenceOracleStatus, ModelRegistryVersionStatus
from ledgerlearn.ledger.errors import (
    BeaconAlreadyFulfilled,
    OracleAlreadyServing,
    OracleNotServing,
    OracleWrongStatus,
)
from ledgerlearn.node._base import Node, NodeState
from ledgerlearn.oracle import (
    Backend,
    LoadedModel,
    OracleClient,
    Provider,
    gather_answers,
    load_model,
    provider_endpoint,
    publish_endpoint,
    submit_report,
)
from ledgerlearn.randomness import BeaconClient, VrfKey
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.staking import StakingClient
from ledgerlearn.storage import ContentStore

__all__ = ["ProviderNode", "ProviderState"]

_SETTLED = (InferenceOracleStatus.FULFILLED, InferenceOracleStatus.REFUNDED)


@dataclass
class ProviderState(NodeState):
    """What a provider persists besides its event cursor.

    Attributes
    ----------
    following
        Requests it has seen and may still owe something (ascending ids).
    """

    following: list[int] = field(default_factory=list)


class ProviderNode(Node[ProviderState]):
    """An inference provider following the oracle: setup, draws, fallback reports, refunds.

    Parameters
    ----------
    chain, deployment, store
        Chain, deployment manifest and content store.
    key
        The provider identity's key.
    models
        Versions to serve, as ``name@version`` or ``name@channel`` (resolved at setup).
    state_dir
        Where the event cursor and followed requests are kept.
    backend
        ``numpy`` or ``onnx`` (onnxruntime).
    stake
        Stake to hold in the StakeVault, in token units; at least the oracle's minimum.
    endpoint
        The public URL of this provider's HTTP API, published in its DID document.
    report_after
        Seconds a drawn request may stay open before this node reports it itself.
    vrf
        Register a VRF key and fulfil beacon draws assigned to it.
    provider_type
        The class that computes and signs answers (experiments pass a subclass).
    clock
        Monotonic clock (tests pass their own).
    """

    role = "provider"
    done_reverts = (
        # Someone (this node before a crash, a gateway, another provider) already did it.
        BeaconAlreadyFulfilled,
        OracleWrongStatus,
        OracleAlreadyServing,
        OracleNotServing,
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
        backend: Backend = "numpy",
        stake: int = 0,
        endpoint: str | None = None,
        report_after: float = 10.0,
        vrf: bool = True,
        provider_type: type[Provider] = Provider,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not models:
            raise ValueError("a provider node needs at least one model to serve (name@version)")
        super().__init__(chain, deployment, store, key, state_dir, state_type=ProviderState)
        self.model_refs = list(models)
        self.backend: Backend = backend
        self.stake_amount = stake
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.report_after = report_after
        self.use_vrf = vrf
        self.provider_type = provider_type
        self.clock = clock
        self.oracle = OracleClient(chain, deployment)
        self.staking = StakingClient(chain, deployment)
        self.registry = ModelRegistryClient(chain, deployment, store)
        self.beacon = BeaconClient(chain, deployment)
        self.resolver = EthrDidResolver(chain, deployment)
        self.vrf_key = VrfKey.derive(key.unsafe_secret())
        self.cursor = self.oracle.cursor(
            self.state_dir / "cursor.json",
            events=(
                "InferenceRequested",
                "ProvidersSelected",
                "InferenceFulfilled",
                "RequestRefunded",
            ),
        )
        self._open_since: dict[int, float] = {}
        self._wake: dict[int, int] = {}
        self._revocations_checked = -1
        self._key_index: int | None = None
        self.provider: Provider | None = None

    @property
    def following(self) -> set[int]:
        """Requests this node still follows."""
        return set(self.state.following)

    # --- setup --------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether the models are loaded (once per process)."""
        return self.provider is not None

    def setup(self) -> Provider:
        """Stake, register the VRF key, publish the endpoint, load and declare the models.

        Returns
        -------
        Provider
            The provider that answers HTTP calls.

        Raises
        ------
        ArtifactVerificationError
            A configured model does not verify against the registry (nothing is served).
        """
        minimum = int(self.chain.call(self.oracle.functions.parameters())[4])
        added = self.staking.ensure_stake(self.key, max(self.stake_amount, minimum))
        if added:
            self.note("staked", amount=added)
        if self.use_vrf and self._vrf_key_index() is None:
            self.beacon.register_key(self.key, self.vrf_key)
            self._key_index = None
            self.note("vrf key registered", index=self._vrf_key_index())
        if self.endpoint is not None:
            current = provider_endpoint(self.resolver, self.chain.chain_id, self.address)
            if current != self.endpoint:
                publish_endpoint(self.oracle, self.key, self.endpoint)
                self.note("endpoint published", endpoint=self.endpoint)
        loaded: list[LoadedModel] = []
        for ref in self.model_refs:
            record = self.registry.resolve(ref)
            model = load_model(self.registry, record.model, record.version, backend=self.backend)
            loaded.append(model)
            model_id = ModelRegistryClient.model_id(model.name)
            serves = self.chain.call(
                self.oracle.functions.serves(self.address, model_id, model.version)
            )
            if not serves:
                self.send("serve", partial(self.oracle.serve, self.key, model.name, model.version))
            self.note(
                "serving",
                model=model.name,
                version=model.version,
                sha256=model.artifact_sha256.hex(),
                backend=model.backend,
            )
        self.provider = self.provider_type(self.key, self.oracle, self.store, loaded)
        return self.provider

    def _vrf_key_index(self) -> int | None:
        if self._key_index is None:
            self._key_index = self.beacon.key_index_of(self.address)
        return self._key_index

    # --- the loop -----------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        """Follow a new request, note a draw, forget a settled request."""
        self.metrics.events.inc()
        request_id = int(event["args"]["requestId"])
        if event["event"] in ("InferenceRequested", "ProvidersSelected"):
            self.oracle.note_event(event)  # the provider API then never scans logs for them
            if event["event"] == "InferenceRequested":
                if request_id not in self.state.following:
                    self.state.following = sorted({*self.state.following, request_id})
            else:
                self._wake.pop(request_id, None)  # drawn: look at it now
        else:
            self._forget(request_id)

    def act(self, head: int) -> bool:
        """Drop revoked versions (once per block), then act on every followed request."""
        acted = False
        if head != self._revocations_checked:  # a revocation needs a block: once per block
            acted = self._drop_revoked()
            self._revocations_checked = head
        for request_id in list(self.state.following):
            try:
                acted |= self._act(request_id, head)
            except (LedgerLearnError, OSError) as exc:
                self.metrics.errors.inc()
                self.note("error", request=request_id, error=f"{type(exc).__name__}: {exc}")
        return acted

    def _drop_revoked(self) -> bool:
        """Stop serving (on chain and here) any loaded version the registry revoked."""
        assert self.provider is not None
        registry = self.registry.functions
        dropped = False
        for key, model in list(self.provider.models.items()):
            status = int(self.chain.call(registry.versionStatus(key[0], model.version)))
            if status != ModelRegistryVersionStatus.REVOKED:
                continue
            del self.provider.models[key]
            self.send("unserve", partial(self.oracle.unserve, self.key, model.name, model.version))
            self.note("dropped revoked version", model=model.name, version=model.version)
            dropped = True
        return dropped

    def _forget(self, request_id: int) -> None:
        if request_id in self.state.following:
            self.state.following = [r for r in self.state.following if r != request_id]
        self._open_since.pop(request_id, None)
        self._wake.pop(request_id, None)

    def _act(self, request_id: int, head: int) -> bool:
        """Do what ``request_id`` needs of this node now (no chain read when nothing can)."""
        if head < self._wake.get(request_id, 0):
            return False  # waiting for a seed block or for the assigned key's window
        drawn = self.oracle.known_selection(request_id)
        if drawn is not None:
            if self.address.lower() not in {p.lower() for p in drawn}:
                self._forget(request_id)  # others' business from here on
                return False
            first_seen = self._open_since.setdefault(request_id, self.clock())
            if self.clock() - first_seen < self.report_after:
                return False  # the gateway reports; a settled event drops the request
        request = self.oracle.get_request(request_id)
        if request.status in _SETTLED:
            self._forget(request_id)
            return False
        if request.status is InferenceOracleStatus.SELECTING:
            return self._draw(request_id, head)
        if self.address.lower() not in {p.lower() for p in self.oracle.selected(request_id)}:
            self._forget(request_id)
            return False
        if head > request.deadline:
            if self.send("refund", lambda: self.oracle.refund(self.key, request_id)):
                self.note("refunded", request=request_id)
            return True
        first_seen = self._open_since.setdefault(request_id, self.clock())
        if self.clock() - first_seen < self.report_after:
            return False
        if self._report(request_id):
            return True
        self._open_since[request_id] = self.clock()  # not reportable yet: wait another period
        return False

    def _draw(self, request_id: int, head: int) -> bool:
        randomness = self.oracle.randomness_request_id(request_id)
        state = self.beacon.request_state(randomness)
        if state["fulfilled"]:
            if self.send("select", lambda: self.oracle.select(self.key, request_id)):
                self.note("drew providers", request=request_id)
            return True
        if not self.use_vrf:
            return False
        if head <= int(state["seedBlock"]):
            self._wake[request_id] = int(state["seedBlock"]) + 1
            return False
        mine = self._vrf_key_index()
        late = head > int(state["deadline"])
        if mine is not None and (late or self.beacon.assigned_key(randomness) == mine):
            if self.send("fulfil", lambda: self.beacon.fulfil(self.key, self.vrf_key, randomness)):
                self.note("fulfilled randomness", request=request_id)
            return True
        # The assigned key's window: it fulfils and draws (or the gateway draws); this node
        # looks again once the window is over, to fulfil or draw itself if nobody did.
        self._wake[request_id] = int(state["deadline"]) + 1
        return False

    def _report(self, request_id: int) -> bool:
        assert self.provider is not None
        own = self.provider.answer(request_id)
        gathered = gather_answers(
            self.oracle,
            self.resolver,
            request_id,
            own={to_checksum_address(self.address): own.answer},
        )
        try:
            report = submit_report(self.oracle, self.key, gathered, request_id)
        except ReportError as exc:
            self.note("cannot report yet", request=request_id, reason=str(exc))
            return False
        except OracleWrongStatus:
            return False  # the gateway or another provider reported meanwhile
        self.note(
            "reported",
            request=request_id,
            result=report.result,
            answers=len(report.answers),
            failures=gathered.failures,
        )
        return True
