"""Client for the InferenceOracle: serving declarations, requests, draws, reports, fees.

Typed wrappers over the contract's functions and views, and :func:`build_report`, which
turns a set of signed answers into the report the contract accepts (or says why none can
be built).

Trust assumption: the chain's consensus; the contract re-checks everything a report claims.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3.types import TxReceipt

from ledgerlearn.exceptions import InvalidInferenceInputError, OracleError, ReportError
from ledgerlearn.keys import Eip712Domain, Secp256k1Key
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest
from ledgerlearn.ledger.enums import InferenceOracleStatus
from ledgerlearn.oracle._answers import (
    Mode,
    SignedAnswer,
    aggregate,
    agreement,
    answer_domain,
)
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.staking import TokenClient
from ledgerlearn.storage import ContentStore, cid_from_binary, parse_cid

__all__ = [
    "OracleClient",
    "Report",
    "RequestSpec",
    "RequestView",
    "build_report",
    "selection_hash",
]


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What a requester asks (``InferenceOracle.RequestInput``).

    ``version`` 0 asks for the version ``channel`` points at when the request is made. A
    ``PROVEN`` request carries ``zk_input_hash``, the circuit's Poseidon hash of the input
    (:func:`ledgerlearn.verification.zk.input_hash`); an ``OPTIMISTIC`` one carries there the
    keccak commitment to its fixed-point input
    (:func:`ledgerlearn.verification.optimistic.input_commitment`); it is 0 for the other
    modes.
    """

    model: str
    input_sha256: bytes
    input_cid: str
    channel: str = "production"
    version: int = 0
    redundancy: int = 5
    quorum: int = 3
    mode: Mode = Mode.MAJORITY
    tolerance: int = 0
    deadline_blocks: int = 100
    fee: int = 0
    zk_input_hash: int = 0

    def to_tuple(self) -> tuple[Any, ...]:
        """ABI tuple."""
        return (
            ModelRegistryClient.model_id(self.model),
            self.channel,
            self.version,
            self.input_sha256,
            parse_cid(self.input_cid).binary,
            self.redundancy,
            self.quorum,
            int(self.mode),
            self.tolerance,
            self.deadline_blocks,
            self.fee,
            self.zk_input_hash,
        )


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request as the contract holds it.

    ``agreed`` has bit ``i`` set when the ``i``-th drawn provider signed an answer that agreed
    with the result (see :meth:`agreeing_signers`).
    """

    request_id: int
    requester: str
    status: InferenceOracleStatus
    mode: Mode
    redundancy: int
    quorum: int
    deadline: int
    model_id: bytes
    model_hash: bytes
    input_hash: bytes
    version: int
    tolerance: int
    agreed: int
    fee: int
    result: int
    selection: bytes

    def agreeing_signers(self, selected: Sequence[str]) -> list[str]:
        """Return the drawn providers (``selected``, in draw order) that agreed."""
        return [p for i, p in enumerate(selected) if self.agreed >> i & 1]


@dataclass(frozen=True, slots=True)
class Report:
    """A fulfilment: the result, the draw, and the answers, providers in ascending order."""

    request_id: int
    result: int
    selected: tuple[str, ...]
    answers: tuple[SignedAnswer, ...]
    agreeing: tuple[str, ...] = field(default=())

    def to_args(self) -> tuple[int, int, list[str], list[tuple[str, bytes, int, bytes]]]:
        """Arguments of ``fulfil``."""
        answers = [a.to_tuple() for a in self.answers]
        return self.request_id, self.result, list(self.selected), answers


def selection_hash(providers: Sequence[str]) -> bytes:
    """Return the contract's commitment to a draw (``selectionOf``)."""
    return keccak(b"".join(bytes(12) + bytes.fromhex(p[2:]) for p in providers))


def build_report(
    request: RequestView,
    selected: Sequence[str],
    answers: Sequence[SignedAnswer],
    *,
    max_answers: int | None = None,
) -> Report:
    """Build the report the contract accepts from ``answers`` (duplicates dropped).

    Every answer is included (so every deviation is recorded), sorted by provider address.
    ``selected`` is the draw, in the order of the ``ProvidersSelected`` event.

    Raises
    ------
    ReportError
        With fewer answers than the quorum, or when fewer than ``quorum`` agree with the
        aggregate.
    """
    if request.mode is Mode.PROVEN:
        raise ReportError(
            f"request {request.request_id} is settled by a zk proof, not by a quorum report; "
            "a drawn provider proves it (`ledgerlearn zk prove`)"
        )
    if request.mode is Mode.OPTIMISTIC:
        raise ReportError(
            f"request {request.request_id} is settled by a bonded claim, not by a quorum "
            "report; a drawn provider proposes it (OptimisticClient.propose)"
        )
    unique = {to_checksum_address(a.provider).lower(): a for a in answers}
    ordered = tuple(unique[k] for k in sorted(unique))[: max_answers or None]
    if len(ordered) < request.quorum:
        raise ReportError(
            f"request {request.request_id}: {len(ordered)} answers, quorum is {request.quorum}; "
            "wait for more providers or let the request expire and be refunded"
        )
    values = [a.value for a in ordered]
    result = aggregate(request.mode, values)
    agree = agreement(request.mode, values, result, request.tolerance)
    if sum(agree) < request.quorum:
        raise ReportError(
            f"request {request.request_id}: only {sum(agree)} of {len(ordered)} answers agree "
            f"on {result}; quorum is {request.quorum}"
        )
    agreeing = tuple(a.provider for a, ok in zip(ordered, agree, strict=True) if ok)
    drawn = tuple(to_checksum_address(p) for p in selected)
    if selection_hash(drawn) != request.selection:
        raise ReportError(
            f"request {request.request_id}: the providers given are not its draw; "
            "read them from the ProvidersSelected event"
        )
    return Report(request.request_id, result, drawn, ordered, agreeing)


class OracleClient(ContractClient):
    """Typed access to a deployment's InferenceOracle.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The deployment manifest (InferenceOracle, LedgerToken, ModelRegistry).

    Attributes
    ----------
    token
        The protocol token fees are paid in.
    """

    contract_name = "InferenceOracle"

    def __init__(self, chain: Chain, deployment: DeploymentManifest) -> None:
        super().__init__(chain, deployment)
        self.token = TokenClient(chain, deployment)
        # A request's draw and input never change once recorded: read each event once.
        self._selected: dict[int, list[str]] = {}
        self._input_cids: dict[int, str] = {}
        self._first_block: dict[int, int] = {}
        self._randomness: dict[int, bytes] = {}

    @property
    def domain(self) -> Eip712Domain:
        """Return the EIP-712 domain providers sign answers in."""
        return answer_domain(self.chain.chain_id, self.address)

    # --- providers ---------------------------------------------------------------------

    def serve(self, key: Secp256k1Key, model: str, version: int, *, provider: str = "") -> None:
        """Declare that identity ``provider`` (default: ``key``'s) serves ``model@version``."""
        who = to_checksum_address(provider or key.address)
        model_id = ModelRegistryClient.model_id(model)
        self._transact(key, self.functions.serve(who, model_id, version))

    def unserve(self, key: Secp256k1Key, model: str, version: int, *, provider: str = "") -> None:
        """Withdraw a serving declaration (anyone may drop one for a revoked version)."""
        who = to_checksum_address(provider or key.address)
        model_id = ModelRegistryClient.model_id(model)
        self._transact(key, self.functions.unserve(who, model_id, version))

    def providers_of(self, model: str, version: int) -> list[str]:
        """Return the identities that declared they serve ``model@version``."""
        model_id = ModelRegistryClient.model_id(model)
        return list(self._call(self.functions.providersOf(model_id, version)))

    def stats_of(self, provider: str) -> dict[str, int]:
        """Return a provider's unpaid fees, answers, deviations and last request."""
        fees, answered, deviated, last = self._call(
            self.functions.statsOf(to_checksum_address(provider))
        )
        return {
            "fees": int(fees),
            "answered": int(answered),
            "deviated": int(deviated),
            "lastRequest": int(last),
        }

    def withdraw_fees(self, key: Secp256k1Key, *, provider: str = "", to: str = "") -> int:
        """Pay a provider's fees to ``to`` (default: the caller); return the amount."""
        who = to_checksum_address(provider or key.address)
        receipt = self._transact(
            key, self.functions.withdrawFees(who, to_checksum_address(to or key.address))
        )
        return int(self._receipt_event("FeesWithdrawn", receipt)["args"]["amount"])

    # --- requests ----------------------------------------------------------------------

    def request(self, key: Secp256k1Key, spec: RequestSpec, *, approve: bool = True) -> int:
        """Approve the fee (unless ``approve`` is false), make the request, return its id.

        Concurrent requests from one account must not each approve their own fee (an
        approval replaces the previous one): approve once for many, and pass ``False``.
        """
        if spec.fee and approve:
            self.token.approve(key, self.address, spec.fee)
        receipt = self._transact(key, self.functions.request(spec.to_tuple()))
        event = self._receipt_event("InferenceRequested", receipt)
        self.note_event(event)
        return int(event["args"]["requestId"])

    def randomness_request_id(self, request_id: int) -> bytes:
        """Return the beacon request that draws ``request_id``'s providers (read once)."""
        if request_id not in self._randomness:
            call = self.functions.randomnessRequestId(request_id)
            self._randomness[request_id] = bytes(self._call(call))
        return self._randomness[request_id]

    def select(self, key: Secp256k1Key, request_id: int) -> list[str]:
        """Draw the providers once the beacon fulfilled; return them (empty if refunded)."""
        receipt = self._transact(key, self.functions.selectProviders(request_id))
        events = self._receipt_events("ProvidersSelected", receipt)
        for event in events:
            self.note_event(event)
        return list(events[0]["args"]["providers"]) if events else []

    def note_event(self, event: Any) -> None:
        """Remember what an ``InferenceRequested`` or ``ProvidersSelected`` event says.

        A request's block, input CID and draw never change, so a client that saw the event
        (in a receipt, or through an event cursor) never scans the logs for them.
        """
        request_id = int(event["args"]["requestId"])
        if event["event"] == "InferenceRequested":
            self._first_block.setdefault(request_id, int(event["blockNumber"]))
            cid = cid_from_binary(bytes(event["args"]["inputCid"]))
            self._input_cids.setdefault(request_id, cid)
        elif event["event"] == "ProvidersSelected":
            self._selected.setdefault(request_id, list(event["args"]["providers"]))

    def selected(self, request_id: int) -> list[str]:
        """Return the providers drawn for ``request_id`` (empty before the draw)."""
        if request_id not in self._selected:
            events = self.events("ProvidersSelected", requestId=request_id)
            if not events:
                return []
            self.note_event(events[0])
        return list(self._selected[request_id])

    def known_selection(self, request_id: int) -> list[str] | None:
        """Return the draw of ``request_id`` if this client has seen it, without reading."""
        drawn = self._selected.get(request_id)
        return None if drawn is None else list(drawn)

    def input_cid(self, request_id: int) -> str:
        """Return the CID of ``request_id``'s input, from its ``InferenceRequested`` event."""
        if request_id not in self._input_cids:
            events = self.events("InferenceRequested", requestId=request_id)
            if not events:
                raise OracleError(f"request {request_id} does not exist on this oracle")
            self.note_event(events[0])
        return self._input_cids[request_id]

    def read_input(self, store: ContentStore, request: RequestView) -> bytes:
        """Read ``request``'s input from ``store`` by its CID and check it against the chain.

        Raises
        ------
        InvalidInferenceInputError
            If the stored bytes do not hash to the request's input hash.
        """
        input_cid = self.input_cid(request.request_id)
        raw = store.get(input_cid)
        if hashlib.sha256(raw).digest() != request.input_hash:
            raise InvalidInferenceInputError(
                f"input {input_cid} does not hash to request {request.request_id}'s input hash"
            )
        return raw

    def get_request(self, request_id: int) -> RequestView:
        """Return the request's state (the contract raises ``OracleUnknownRequest`` if none)."""
        raw = self._call(self.functions.getRequest(request_id))
        return RequestView(
            request_id=request_id,
            requester=str(raw[0]),
            status=InferenceOracleStatus(int(raw[1])),
            mode=Mode(int(raw[2])),
            redundancy=int(raw[3]),
            quorum=int(raw[4]),
            deadline=int(raw[5]),
            model_id=bytes(raw[6]),
            model_hash=bytes(raw[7]),
            input_hash=bytes(raw[8]),
            version=int(raw[9]),
            tolerance=int(raw[10]),
            agreed=int(raw[11]),
            fee=int(raw[12]),
            result=int(raw[13]),
            selection=bytes(raw[14]),
        )

    def fulfil(self, key: Secp256k1Key, report: Report) -> TxReceipt:
        """Submit ``report``; return the receipt."""
        return self._transact(key, self.functions.fulfil(*report.to_args()))

    def zk_input_hash_of(self, request_id: int) -> int:
        """Return the input commitment of a ``PROVEN`` or ``OPTIMISTIC`` request (else 0)."""
        return int(self._call(self.functions.zkInputHashOf(request_id)))

    def fulfil_with_proof(
        self,
        key: Secp256k1Key,
        request_id: int,
        proof: bytes,
        instances: Sequence[int],
        *,
        provider: str = "",
    ) -> TxReceipt:
        """Settle a ``PROVEN`` request with drawn ``provider``'s (default ``key``'s) proof."""
        who = to_checksum_address(provider or key.address)
        function = self.functions.fulfilWithProof(
            request_id, who, self.selected(request_id), proof, list(instances)
        )
        return self._transact(key, function)

    def refund(self, key: Secp256k1Key, request_id: int) -> int:
        """Refund an expired request to its requester; return the fee."""
        receipt = self._transact(key, self.functions.refund(request_id))
        return int(self._receipt_event("RequestRefunded", receipt)["args"]["fee"])

    def events(self, name: str, **filters: Any) -> list[Any]:
        """Every ``name`` event of the oracle, filtered by indexed args.

        With a ``requestId`` filter the scan starts at the request's block when this client
        has seen it (nothing about a request is logged before it), else at deployment.
        """
        start = self.deploy_block
        if "requestId" in filters:
            start = self._first_block.get(int(filters["requestId"]), start)
        return self._logs(name, from_block=start, **filters)
