"""Provider node: a long-running, restartable inference provider on the InferenceOracle.

:class:`ProviderNode` does everything a provider owes the network besides answering HTTP
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
* **refunds** — returns the fee of an expired request it was drawn for.

Requests it still follows are kept in ``state.json`` (written atomically) and events are
read through a resumable :class:`~ledgerlearn.ledger.EventCursor`, so a killed node resumes
where it was.

Trust assumption: the node trusts its key, its state directory and the chain; gateways,
other providers and the store are checked (answers on signatures, inputs on hashes).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import ContractRevertError, LedgerLearnError, ReportError
from ledgerlearn.identity import EthrDidResolver, Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest, EventCursor, revert_error_class
from ledgerlearn.oracle._client import OracleClient
from ledgerlearn.oracle._gather import (
    gather_answers,
    provider_endpoint,
    publish_endpoint,
    submit_report,
)
from ledgerlearn.oracle._provider import Backend, LoadedModel, Provider, load_model
from ledgerlearn.randomness import BeaconClient, VrfKey
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import ContentStore
from ledgerlearn.training import NodeMetrics, TrainingClient

__all__ = ["ProviderNode"]

log = logging.getLogger("ledgerlearn.node")

_REVOKED = 5  # ModelRegistry.VersionStatus.Revoked

_DONE = {
    # Someone (this node before a crash, a gateway, another provider) already did it.
    "BeaconAlreadyFulfilled",
    "OracleWrongStatus",
    "OracleAlreadyServing",
    "OracleNotServing",
}


class ProviderNode:
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
    dishonest
        For evaluation only: the provider lies (see :class:`Provider`).
    clock
        Monotonic clock (tests pass their own).
    """

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
        dishonest: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not models:
            raise ValueError("a provider node needs at least one model to serve (name@version)")
        self.chain = chain
        self.store = store
        self.key = key
        self.address = key.address
        self.model_refs = list(models)
        self.backend: Backend = backend
        self.stake_amount = stake
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.report_after = report_after
        self.use_vrf = vrf
        self.dishonest = dishonest
        self.clock = clock
        self.oracle = OracleClient(chain, deployment)
        self.training = TrainingClient(chain, deployment)
        self.registry = ModelRegistryClient(chain, deployment, store)
        self.beacon = BeaconClient.from_manifest(chain, deployment)
        self.resolver = EthrDidResolver(chain, deployment.get_address("IdentityRegistry"))
        self.vrf_key = VrfKey.derive(key.unsafe_secret())
        self.metrics = NodeMetrics("provider", self.address)
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.cursor = EventCursor(
            chain,
            self.oracle.oracle,
            self.state_dir / "cursor.json",
            start_block=self.oracle.start_block,
            events=[
                "InferenceRequested",
                "ProvidersSelected",
                "InferenceFulfilled",
                "RequestRefunded",
            ],
        )
        self.following: set[int] = set(self._load().get("following", []))
        self._open_since: dict[int, float] = {}
        self._wake: dict[int, int] = {}
        self._revocations_checked = -1
        self._key_index: int | None = None
        self.provider: Provider | None = None

    # --- persistence and logging --------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        path = self.state_dir / "state.json"
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def _save(self) -> None:
        state = {"following": sorted(self.following)}
        atomic_write_bytes(self.state_dir / "state.json", json.dumps(state).encode())

    def _note(self, event: str, **fields: Any) -> None:
        entry = {"node": self.address, "role": "provider", "event": event, **fields}
        log.info(json.dumps(entry, default=str))

    def _send(self, kind: str, call: Callable[[], Any]) -> bool:
        """Send; return False when the chain says it was already done."""
        try:
            call()
        except ContractRevertError as exc:
            if type(exc).__name__ in _DONE:
                return False
            raise
        self.metrics.actions.labels(kind=kind).inc()
        return True

    # --- setup --------------------------------------------------------------------------

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
        minimum = int(self.chain.call(self.oracle.oracle.functions.parameters())[4])
        wanted = max(self.stake_amount, minimum)
        held = self.training.stake_of(self.address)
        if held < wanted:
            self.training.stake(self.key, wanted - held)
            self._note("staked", amount=wanted - held)
        if self.use_vrf and self._vrf_key_index() is None:
            self.beacon.register_key(self.key, self.vrf_key)
            self._note("vrf key registered", index=self._vrf_key_index())
        if self.endpoint is not None:
            current = provider_endpoint(self.resolver, self.chain.chain_id, self.address)
            if current != self.endpoint:
                publish_endpoint(self.oracle, self.key, self.endpoint)
                self._note("endpoint published", endpoint=self.endpoint)
        loaded: list[LoadedModel] = []
        for ref in self.model_refs:
            record = self.registry.resolve(ref)
            model = load_model(self.registry, record.model, record.version, backend=self.backend)
            loaded.append(model)
            model_id = ModelRegistryClient.model_id(model.name)
            serves = self.chain.call(
                self.oracle.oracle.functions.serves(self.address, model_id, model.version)
            )
            if not serves:
                self._send("serve", partial(self.oracle.serve, self.key, model.name, model.version))
            self._note(
                "serving",
                model=model.name,
                version=model.version,
                sha256=model.artifact_sha256.hex(),
                backend=model.backend,
            )
        self.provider = Provider(
            self.key, self.oracle, self.store, loaded, dishonest=self.dishonest
        )
        return self.provider

    def _vrf_key_index(self) -> int | None:
        if self._key_index is None:
            self._key_index = self.beacon.key_index_of(self.address)
        return self._key_index

    # --- the loop -----------------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        self.metrics.events.inc()
        request_id = int(event["args"]["requestId"])
        if event["event"] in ("InferenceRequested", "ProvidersSelected"):
            self.oracle.note_event(event)  # the provider API then never scans logs for them
            if event["event"] == "InferenceRequested":
                self.following.add(request_id)
            else:
                self._wake.pop(request_id, None)  # drawn: look at it now
        else:
            self._forget(request_id)

    def step(self) -> bool:
        """Read new events and act on every followed request; return whether it acted."""
        if self.provider is None:
            self.setup()
        head = self.chain.block_number
        self.metrics.block.set(head)
        acted = False
        if head != self._revocations_checked:  # a revocation needs a block: once per block
            acted = self._drop_revoked()
            self._revocations_checked = head
        self.cursor.poll(self._on_event)
        for request_id in sorted(self.following):
            try:
                acted |= self._act(request_id, head)
            except (LedgerLearnError, OSError) as exc:
                self.metrics.errors.inc()
                self._note("error", request=request_id, error=f"{type(exc).__name__}: {exc}")
        self._save()
        return acted

    def _drop_revoked(self) -> bool:
        """Stop serving (on chain and here) any loaded version the registry revoked."""
        assert self.provider is not None
        registry = self.registry.contract.functions
        dropped = False
        for key, model in list(self.provider.models.items()):
            status = int(self.chain.call(registry.versionStatus(key[0], model.version)))
            if status != _REVOKED:
                continue
            del self.provider.models[key]
            self._send("unserve", partial(self.oracle.unserve, self.key, model.name, model.version))
            self._note("dropped revoked version", model=model.name, version=model.version)
            dropped = True
        return dropped

    def _forget(self, request_id: int) -> None:
        self.following.discard(request_id)
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
        if request.status in ("fulfilled", "refunded"):
            self._forget(request_id)
            return False
        if request.status == "selecting":
            return self._draw(request_id, head)
        if self.address.lower() not in {p.lower() for p in self.oracle.selected(request_id)}:
            self._forget(request_id)
            return False
        if head > request.deadline:
            if self._send("refund", lambda: self.oracle.refund(self.key, request_id)):
                self._note("refunded", request=request_id)
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
            if self._send("select", lambda: self.oracle.select(self.key, request_id)):
                self._note("drew providers", request=request_id)
            return True
        if not self.use_vrf:
            return False
        if head <= int(state["seedBlock"]):
            self._wake[request_id] = int(state["seedBlock"]) + 1
            return False
        mine = self._vrf_key_index()
        late = head > int(state["deadline"])
        if mine is not None and (late or self.beacon.assigned_key(randomness) == mine):
            if self._send("fulfil", lambda: self.beacon.fulfil(self.key, self.vrf_key, randomness)):
                self._note("fulfilled randomness", request=request_id)
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
            self._note("cannot report yet", request=request_id, reason=str(exc))
            return False
        except revert_error_class("OracleWrongStatus"):
            return False  # the gateway or another provider reported meanwhile
        self._note(
            "reported",
            request=request_id,
            result=report.result,
            answers=len(report.answers),
            failures=gathered.failures,
        )
        return True

    def run(self, *, poll_seconds: float = 0.5, stop: threading.Event | None = None) -> None:
        """Step until ``stop`` is set (SIGTERM in ``ledgerlearn node run``)."""
        stop = stop or threading.Event()
        if self.provider is None:
            self.setup()
        while not stop.is_set():
            try:
                acted = self.step()
            except (LedgerLearnError, OSError) as exc:  # the chain went away: wait, go on
                self.metrics.errors.inc()
                self._note("step failed", error=f"{type(exc).__name__}: {exc}")
                acted = False
            if not acted:
                stop.wait(poll_seconds)
