"""The gateway's work: submit requests, draw, gather signed answers, report, answer clients.

:class:`Gateway` turns one client call into an oracle request: it checks the input against
the model's manifest (so a malformed input costs no fee), stores it, makes the request on
chain (a channel is resolved by the contract at that moment), and follows it in a worker
thread: it draws the providers once the beacon's output is on chain, gathers the drawn
providers' signed answers from their DID endpoints, and submits the report. Anyone waiting
on the request is woken when it settles.

Trust assumption: the gateway is not trusted. It holds no key the contract needs beyond
paying gas and fees; every answer is verified on chain; if it stops after gathering,
every drawn provider reports the request itself after a timeout
(:class:`~ledgerlearn.oracle.ProviderNode`); if it lies to a client, the client can check
the evidence trail (:func:`~ledgerlearn.provenance.verify_inference`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_checksum_address

from ledgerlearn.exceptions import (
    ContractRevertError,
    InvalidInferenceInputError,
    LedgerLearnError,
    OracleError,
    ReportError,
    VersionRevokedError,
)
from ledgerlearn.identity import EthrDidResolver
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger.enums import InferenceOracleStatus, ModelRegistryVersionStatus
from ledgerlearn.oracle import (
    MAX_INPUT_ROWS,
    EndpointDirectory,
    Mode,
    OracleClient,
    RequestSpec,
    build_report,
    decode_value,
    gather_answers,
)
from ledgerlearn.randomness import BeaconClient
from ledgerlearn.registry import ModelManifest, ModelRegistryClient, parse_model_ref
from ledgerlearn.storage import ContentStore

__all__ = ["Gateway", "GatewayPolicy", "RequestOutcome"]

log = logging.getLogger("ledgerlearn.gateway")

SETTLED = (InferenceOracleStatus.FULFILLED, InferenceOracleStatus.REFUNDED)
ALLOWANCE_REQUESTS = 1_000
"""Fees one token approval covers (the gateway approves again when it runs low)."""


@dataclass(frozen=True, slots=True)
class GatewayPolicy:
    """What the gateway asks of the oracle for each client request, and how long it waits.

    Attributes
    ----------
    redundancy, quorum
        Providers drawn per request, and agreeing signatures needed.
    deadline_blocks
        Blocks after the request within which it must be fulfilled.
    fee
        Fee escrowed per request, in token units (paid by the gateway's account).
    wait_seconds
        Longest a ``wait`` call blocks before answering ``202`` with the request id.
    gather_timeout
        Seconds to wait for each provider's answer.
    retry_seconds
        Pause between attempts while the beacon, the draw or the answers are not there yet.
    """

    redundancy: int = 5
    quorum: int = 3
    deadline_blocks: int = 50
    fee: int = 0
    wait_seconds: float = 30.0
    gather_timeout: float = 10.0
    retry_seconds: float = 0.2


@dataclass
class RequestOutcome:
    """What the gateway knows of one request it submitted."""

    request_id: int
    model: str
    mode: Mode
    identity: str
    status: InferenceOracleStatus = InferenceOracleStatus.SELECTING
    result: int | None = None
    output: dict[str, Any] | None = None
    output_cid: str | None = None
    failures: dict[str, str] = field(default_factory=dict)
    settled: threading.Event = field(default_factory=threading.Event)

    def to_json(self) -> dict[str, Any]:
        """JSON form for clients."""
        body: dict[str, Any] = {
            "requestId": self.request_id,
            "model": self.model,
            "mode": self.mode.name.lower(),
            "status": self.status.label,
        }
        if self.result is not None:
            body["value"] = self.result
            body["result"] = decode_value(self.mode, self.result)
        if self.output is not None:
            body["output"] = self.output
            body["outputCid"] = self.output_cid
        if self.failures:
            body["unanswered"] = self.failures
        return body


class Gateway:
    """Submits, follows and reports oracle requests on behalf of authenticated clients.

    Parameters
    ----------
    oracle
        Oracle client on the gateway's chain connection.
    store
        Content store shared with the providers (inputs are written there).
    key
        The gateway's account: it sends requests, draws and reports, and pays the fees.
    policy
        Redundancy, quorum, deadline, fee and timeouts.
    """

    def __init__(
        self,
        oracle: OracleClient,
        store: ContentStore,
        key: Secp256k1Key,
        policy: GatewayPolicy | None = None,
    ) -> None:
        self.oracle = oracle
        self.chain = oracle.chain
        self.store = store
        self.key = key
        self.policy = policy or GatewayPolicy()
        self.registry = ModelRegistryClient(oracle.chain, oracle.deployment, store)
        self.resolver = EthrDidResolver(oracle.chain, oracle.deployment)
        self.beacon = BeaconClient(oracle.chain, oracle.deployment)
        self.endpoints = EndpointDirectory(self.resolver, oracle.chain.chain_id)
        self.outcomes: dict[int, RequestOutcome] = {}
        self._features: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._allowance_lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="gateway")
        self._closed = threading.Event()
        self.kill_after_gather = False
        """Fault injection: stop following a request as soon as a quorum of agreeing answers
        is gathered, without reporting (what a gateway crash at that instant leaves)."""

    def close(self) -> None:
        """Stop following requests (providers report any the gateway leaves)."""
        self._closed.set()
        self._workers.shutdown(wait=False, cancel_futures=True)

    # --- submitting ---------------------------------------------------------------------

    def _features_of(self, name: str, version: int) -> int:
        if (name, version) not in self._features:
            record = self.registry.get_version(name, version)
            manifest = ModelManifest.from_bytes(self.store.get(record.metadata_cid))
            try:
                self._features[(name, version)] = int(manifest.architecture["inputs"])
            except (KeyError, TypeError, ValueError) as exc:
                raise OracleError(
                    f"{name}@{version} has no input width in its manifest; providers serve "
                    "MLPs with inputs, hidden and classes"
                ) from exc
        return self._features[(name, version)]

    def submit(
        self,
        identity: str,
        model: str,
        rows: list[list[float]],
        *,
        mode: Mode = Mode.MAJORITY,
        tolerance: int = 0,
    ) -> RequestOutcome:
        """Check the input, store it, request inference on chain and start following it.

        Parameters
        ----------
        identity
            The authenticated client (for logs and the caller's bookkeeping).
        model
            ``name@channel`` or ``name@version``.
        rows
            Input rows of the model's input width.
        mode, tolerance
            How the answers are aggregated.

        Raises
        ------
        ModelNotFoundError
            Unknown model, version or empty channel.
        VersionRevokedError
            The version (or the channel's version) is revoked.
        InvalidInferenceInputError
            Too many rows, or rows of the wrong width.
        """
        ref = parse_model_ref(model)
        record = self.registry.resolve(ref)
        if record.status is ModelRegistryVersionStatus.REVOKED:
            raise VersionRevokedError(
                f"{record.model}@{record.version} is revoked; ask for another version"
            )
        width = self._features_of(record.model, record.version)
        if not rows or len(rows) > MAX_INPUT_ROWS:
            raise InvalidInferenceInputError(
                f"input has {len(rows)} rows; send between 1 and {MAX_INPUT_ROWS}"
            )
        bad = [i for i, row in enumerate(rows) if len(row) != width]
        if bad:
            raise InvalidInferenceInputError(
                f"row {bad[0]} has {len(rows[bad[0]])} values; "
                f"{record.model}@{record.version} takes {width}"
            )
        payload = json.dumps({"x": rows}, separators=(",", ":")).encode()
        cid = self.store.put(payload)
        spec = RequestSpec(
            model=ref.name,
            input_sha256=hashlib.sha256(payload).digest(),
            input_cid=str(cid),
            channel=ref.channel or "",
            version=ref.version or 0,
            redundancy=self.policy.redundancy,
            quorum=self.policy.quorum,
            mode=mode,
            tolerance=tolerance,
            deadline_blocks=self.policy.deadline_blocks,
            fee=self.policy.fee,
        )
        self._ensure_allowance(spec.fee)
        request_id = self.oracle.request(self.key, spec, approve=False)
        outcome = RequestOutcome(request_id, f"{record.model}@{record.version}", mode, identity)
        with self._lock:
            self.outcomes[request_id] = outcome
        log.info(json.dumps({"event": "requested", "request": request_id, "identity": identity}))
        self._workers.submit(self._follow, outcome)
        return outcome

    def _ensure_allowance(self, fee: int) -> None:
        """Keep the oracle's allowance over the gateway's tokens above one fee.

        One approval covers many requests (``ALLOWANCE_REQUESTS`` fees): concurrent calls
        each approving their own fee would overwrite each other's allowance.
        """
        if fee == 0:
            return
        with self._allowance_lock:
            token, spender = self.oracle.token, self.oracle.address
            if token.allowance(self.key.address, spender) >= fee:
                return
            token.approve(self.key, spender, fee * ALLOWANCE_REQUESTS)

    # --- following ----------------------------------------------------------------------

    def _follow(self, outcome: RequestOutcome) -> None:
        while not self._closed.is_set():
            try:
                if self.advance(outcome):
                    return
            except (LedgerLearnError, OSError) as exc:
                log.warning(
                    json.dumps({"event": "retry", "request": outcome.request_id, "error": str(exc)})
                )
            self._closed.wait(self.policy.retry_seconds)

    def advance(self, outcome: RequestOutcome) -> bool:
        """Take the request one step further; return True once it is settled or left."""
        request_id = outcome.request_id
        request = self.oracle.get_request(request_id)
        outcome.status = request.status
        if request.status in SETTLED:
            outcome.result = (
                request.result if request.status is InferenceOracleStatus.FULFILLED else None
            )
            outcome.settled.set()
            return True
        if request.status is InferenceOracleStatus.SELECTING:
            randomness = self.oracle.randomness_request_id(request_id)
            if self.beacon.request_state(randomness)["fulfilled"]:
                self._unless_moved_on(self.oracle.select, request_id)
            return False
        if self.chain.block_number > request.deadline:
            self._unless_moved_on(self.oracle.refund, request_id)
            return False
        gathered = gather_answers(
            self.oracle,
            self.resolver,
            request_id,
            timeout=self.policy.gather_timeout,
            directory=self.endpoints,
        )
        outcome.failures = dict(gathered.failures)
        try:
            answers = list(gathered.answers.values())
            report = build_report(request, self.oracle.selected(request_id), answers)
        except ReportError:
            return False  # not enough (agreeing) answers yet: ask again
        for provider in report.agreeing:  # the output clients get is one the quorum signed
            if provider in gathered.outputs:
                outcome.output = json.loads(gathered.outputs[provider])
                outcome.output_cid = str(self.store.put(gathered.outputs[provider]))
                break
        if self.kill_after_gather:
            return True  # "crash" holding a quorum of agreeing answers, never reporting
        try:
            self.oracle.fulfil(self.key, report)
        except ContractRevertError as exc:
            if type(exc).__name__ != "OracleWrongStatus":  # a provider reported first: fine
                raise
        return False  # the next step reads the settled state

    def _unless_moved_on(
        self, step: Callable[[Secp256k1Key, int], object], request_id: int
    ) -> None:
        """Draw or refund; a provider node that did it first leaves the status changed."""
        try:
            step(self.key, request_id)
        except ContractRevertError as exc:
            if type(exc).__name__ != "OracleWrongStatus":
                raise

    # --- reading ------------------------------------------------------------------------

    def wait(self, request_id: int, timeout: float) -> RequestOutcome:
        """Return the outcome once settled, or as it stands after ``timeout`` seconds."""
        outcome = self.outcome(request_id)
        outcome.settled.wait(timeout)
        return outcome

    def outcome(self, request_id: int) -> RequestOutcome:
        """Return what is known of a request (read from the chain for unknown ones).

        Raises
        ------
        ContractRevertError
            ``OracleUnknownRequest`` when the oracle has no such request.
        """
        with self._lock:
            known = self.outcomes.get(request_id)
        if known is not None:
            return known
        request = self.oracle.get_request(request_id)
        version = f"0x{request.model_id.hex()}@{request.version}"
        outcome = RequestOutcome(
            request_id, version, request.mode, to_checksum_address(request.requester)
        )
        outcome.status = request.status
        if request.status is InferenceOracleStatus.FULFILLED:
            outcome.result = request.result
        if request.status in SETTLED:
            outcome.settled.set()
        return outcome
