"""Evidence trail of one inference answer, rebuilt from the chain and the content store.

For an oracle request id, :func:`inference_evidence` gathers: the request (who asked, which
input by sha256 and CID, which channel or version), the model version it resolved to (hash,
CID, publisher, signer) and the governance action that put that version on the channel, the
beacon draw and the providers it picked, every signed answer (decoded from the fulfilment
transaction's calldata) with its recorded deviation, the aggregate, the fulfilment
transaction, reviews and refunds. :func:`verify_inference` then re-checks every hash and
signature and recomputes the draw and the aggregate, and reports each check by name, so a
failure says exactly what does not hold.

Trust assumption: the chain's consensus and the content store's hashes, nothing else; the
gateway, the providers and whoever submitted the report are not trusted. Historical state
(stakes at the draw, delegates at fulfilment) is read at the block before the transaction,
which needs a node that keeps history (an archive node; anvil and the embedded chain do).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from ledgerlearn.exceptions import ContractRevertError, LedgerLearnError, OracleError
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.oracle import (
    Mode,
    OracleClient,
    SignedAnswer,
    aggregate,
    agreement,
    recover_answer_signer,
    selection_hash,
)
from ledgerlearn.randomness import BeaconClient, select_indices
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import ContentStore, cid_from_binary, cid_or_hex

__all__ = ["Check", "InferenceEvidence", "inference_evidence", "verify_inference"]


@dataclass(frozen=True, slots=True)
class Check:
    """One verified statement about an answer's evidence."""

    name: str
    ok: bool
    detail: str


@dataclass
class InferenceEvidence:
    """Everything the chain and the store say about one request."""

    request_id: int
    status: str
    requester: str
    request_block: int
    request_tx: str
    model: str
    version: int
    asked: str
    channel: str | None
    model_hash: str
    artifact_cid: str
    publisher: str
    signer: str
    channel_move: dict[str, Any] | None
    input_sha256: str
    input_cid: str
    mode: str
    redundancy: int
    quorum: int
    tolerance: int
    deadline: int
    fee: int
    randomness: dict[str, Any] | None = None
    selected: list[str] = field(default_factory=list)
    selection_block: int | None = None
    fulfilment: dict[str, Any] | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    refund: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def inference_evidence(
    chain: Chain,
    deployment: DeploymentManifest,
    store: ContentStore,
    request_id: int,
    *,
    oracle: OracleClient | None = None,
) -> InferenceEvidence:
    """Rebuild the evidence of request ``request_id``.

    ``oracle`` is a client to reuse (a gateway's, which already knows the blocks of the
    requests it made, so the logs are read from there on); a fresh one by default.

    Raises
    ------
    OracleError
        If the request does not exist.
    """
    oracle = oracle or OracleClient(chain, deployment)
    return _evidence(oracle, ModelRegistryClient(chain, deployment, store), request_id)


def _evidence(
    oracle: OracleClient, registry: ModelRegistryClient, request_id: int
) -> InferenceEvidence:
    chain, deployment = oracle.chain, oracle.deployment
    try:
        request = oracle.get_request(request_id)
    except ContractRevertError as exc:
        raise OracleError(f"request {request_id} does not exist on this oracle") from exc
    (requested,) = oracle.events("InferenceRequested", requestId=request_id)
    oracle.note_event(requested)  # later scans for this request start at its block
    request_tx = chain.w3.eth.get_transaction(requested["transactionHash"])
    _, params = oracle.contract.decode_function_input(request_tx["input"])
    asked_input = params["input"]
    channel, asked_version = str(asked_input["channel"]), int(asked_input["version"])
    name = str(chain.call(registry.contract.functions.getModel(request.model_id))[0])
    record = registry.get_version(name, request.version)
    evidence = InferenceEvidence(
        request_id=request_id,
        status=request.status.label,
        requester=request.requester,
        request_block=int(requested["blockNumber"]),
        request_tx=_hex(requested["transactionHash"]),
        model=name,
        version=request.version,
        asked=f"{name}@{channel}" if asked_version == 0 else f"{name}@{asked_version}",
        channel=channel if asked_version == 0 else None,
        model_hash=_hex(request.model_hash),
        artifact_cid=str(record.artifact_cid),
        publisher=record.publisher,
        signer=record.signer,
        channel_move=_channel_move(chain, deployment, registry, request, channel, requested)
        if asked_version == 0
        else None,
        input_sha256=_hex(request.input_hash),
        input_cid=cid_from_binary(bytes(requested["args"]["inputCid"])),
        mode=request.mode.name.lower(),
        redundancy=request.redundancy,
        quorum=request.quorum,
        tolerance=request.tolerance,
        deadline=request.deadline,
        fee=request.fee,
    )
    beacon = BeaconClient(chain, deployment)
    randomness_id = oracle.randomness_request_id(request_id)
    state = beacon.request_state(randomness_id)
    if state["fulfilled"]:
        evidence.randomness = {
            "requestId": _hex(randomness_id),
            "output": _hex(beacon.output_of(randomness_id)),
        }
    for log in oracle.events("ProvidersSelected", requestId=request_id):
        evidence.selected = list(log["args"]["providers"])
        evidence.selection_block = int(log["blockNumber"])
    recorded = {
        log["args"]["provider"]: log["args"]
        for log in oracle.events("AnswerRecorded", requestId=request_id)
    }
    for log in oracle.events("InferenceFulfilled", requestId=request_id):
        tx = chain.w3.eth.get_transaction(log["transactionHash"])
        _, fulfil = oracle.contract.decode_function_input(tx["input"])
        evidence.fulfilment = {
            "tx": _hex(log["transactionHash"]),
            "block": int(log["blockNumber"]),
            "reporter": log["args"]["reporter"],
            "result": int(log["args"]["result"]),
            "outputHash": _hex(log["args"]["outputHash"]),
            "agreeing": int(log["args"]["agreeing"]),
            "reportedSelection": list(fulfil["selected"]),
        }
        for item in fulfil["answers"]:
            row = SignedAnswer(
                item["provider"],
                bytes(item["outputHash"]),
                int(item["value"]),
                bytes(item["signature"]),
            )
            args = recorded.get(row.provider, {})
            evidence.answers.append(
                {
                    **row.to_json(),
                    "deviation": int(args["deviation"]) if args else None,
                    "agreed": bool(args["agreed"]) if args else None,
                }
            )
    evidence.reviews = [
        {"reason": log["args"]["reason"], "result": int(log["args"]["result"])}
        for log in oracle.events("ReviewRequested", requestId=request_id)
    ]
    for log in oracle.events("RequestRefunded", requestId=request_id):
        evidence.refund = {"reason": log["args"]["reason"], "fee": int(log["args"]["fee"])}
    return evidence


def _channel_move(
    chain: Chain,
    deployment: DeploymentManifest,
    registry: ModelRegistryClient,
    request: Any,
    channel: str,
    requested: Any,
) -> dict[str, Any] | None:
    """Return the last move of ``channel`` to the request's version before the request."""
    moves = registry.contract.events.ChannelMoved().get_logs(
        from_block=deployment.contracts["ModelRegistry"].block,
        to_block=int(requested["blockNumber"]),
        argument_filters={"modelId": request.model_id, "channelHash": keccak(text=channel)},
    )
    moves = [m for m in moves if int(m["args"]["version"]) == request.version]
    if not moves:
        return None
    move = moves[-1]
    governor = chain.contract("LedgerGovernor", deployment.get_address("LedgerGovernor"))
    executed = [
        int(e["args"]["proposalId"])
        for e in governor.events.ProposalExecuted().get_logs(
            from_block=int(move["blockNumber"]), to_block=int(move["blockNumber"])
        )
        if e["transactionHash"] == move["transactionHash"]
    ]
    report = bytes(move["args"]["evaluationReport"])
    return {
        "channel": channel,
        "block": int(move["blockNumber"]),
        "tx": _hex(move["transactionHash"]),
        "proposalId": str(executed[0]) if executed else None,
        "evaluationReport": cid_or_hex(report),
    }


def verify_inference(
    chain: Chain, deployment: DeploymentManifest, store: ContentStore, request_id: int
) -> tuple[InferenceEvidence, list[Check]]:
    """Rebuild request ``request_id``'s evidence and re-check every hash and signature.

    Returns
    -------
    tuple[InferenceEvidence, list[Check]]
        The evidence and each check, passed or failed, by name.
    """
    oracle = OracleClient(chain, deployment)
    registry = ModelRegistryClient(chain, deployment, store)
    evidence = _evidence(oracle, registry, request_id)
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name, ok, detail))

    try:
        data = store.get(evidence.input_cid)
        digest = "0x" + hashlib.sha256(data).hexdigest()
        check(
            "input",
            digest == evidence.input_sha256,
            f"{len(data)} bytes at {evidence.input_cid} hash to {digest}",
        )
    except LedgerLearnError as exc:
        check("input", False, f"input {evidence.input_cid}: {exc}")
    try:
        report = registry.verify(f"{evidence.model}@{evidence.version}")
        same = "0x" + report.record.artifact_sha256 == evidence.model_hash
        check(
            "model",
            same,
            f"{evidence.model}@{evidence.version}: " + "; ".join(report.checks)
            if same
            else "the request's model hash is not the registered artifact's",
        )
    except LedgerLearnError as exc:
        check("model", False, f"{evidence.model}@{evidence.version}: {exc}")
    if evidence.channel is not None:
        channel = evidence.channel
        pointed = int(
            chain.call(
                registry.contract.functions.channelVersion(
                    ModelRegistryClient.model_id(evidence.model), channel
                ),
                block=evidence.request_block - 1,
            )
        )
        move = evidence.channel_move
        check(
            "channel",
            pointed == evidence.version and move is not None,
            f"{channel} pointed at version {pointed} when requested"
            + (f" (moved by proposal {move['proposalId']})" if move else ", no move found"),
        )
    if evidence.selected:
        _check_draw(oracle, evidence, check)
    if evidence.fulfilment is not None:
        _check_answers(chain, oracle, registry, evidence, check)
    return evidence, checks


def _check_draw(oracle: OracleClient, evidence: InferenceEvidence, check: Any) -> None:
    chain, deployment = oracle.chain, oracle.deployment
    vault = chain.contract("StakeVault", deployment.get_address("StakeVault"))
    assert evidence.selection_block is not None and evidence.randomness is not None
    block = evidence.selection_block - 1
    try:
        model_id = ModelRegistryClient.model_id(evidence.model)
        candidates = list(
            chain.call(
                oracle.contract.functions.providersOf(model_id, evidence.version), block=block
            )
        )
        min_stake = int(chain.call(oracle.contract.functions.parameters(), block=block)[4])
        stakes = [int(chain.call(vault.functions.stakeOf(c), block=block)) for c in candidates]
    except (LedgerLearnError, ValueError) as exc:
        check("draw", False, f"state at block {block} is unavailable ({exc}); use an archive node")
        return
    weights = [s if s >= min_stake and s > 0 else 0 for s in stakes]
    size = min(evidence.redundancy, sum(1 for w in weights if w))
    output = bytes.fromhex(evidence.randomness["output"][2:])
    seed = keccak(encode(["bytes32", "string"], [output, "providers"]))
    drawn = [candidates[i] for i in select_indices(seed, weights, size)]
    check(
        "draw",
        drawn == evidence.selected,
        f"beacon output {evidence.randomness['output'][:18]}… over {len(candidates)} serving "
        f"providers' stakes at block {block} draws {len(drawn)}: "
        + ("the same providers" if drawn == evidence.selected else f"{drawn}, not the recorded"),
    )


def _check_answers(
    chain: Chain,
    oracle: OracleClient,
    registry: ModelRegistryClient,
    evidence: InferenceEvidence,
    check: Any,
) -> None:
    fulfilment = evidence.fulfilment
    assert fulfilment is not None
    request = oracle.get_request(evidence.request_id)
    check(
        "selection",
        selection_hash(fulfilment["reportedSelection"]) == request.selection
        and fulfilment["reportedSelection"] == evidence.selected,
        "the report repeats the recorded draw",
    )
    block = int(fulfilment["block"]) - 1
    domain = oracle.domain
    for row in evidence.answers:
        answer = SignedAnswer.from_json(row)
        signer = recover_answer_signer(
            domain, evidence.request_id, request.model_hash, request.input_hash, answer
        )
        allowed = bool(
            chain.call(registry.contract.functions.isSigner(answer.provider, signer), block=block)
        )
        drawn = answer.provider in evidence.selected
        check(
            f"answer {answer.provider}",
            allowed and drawn,
            f"signed by {signer}"
            + ("" if allowed else ", not a key of this provider")
            + ("" if drawn else "; not drawn for this request")
            + f"; value {answer.value}, deviation {row['deviation']}",
        )
    values = [int(a["value"]) for a in evidence.answers]
    mode = Mode.parse(evidence.mode)
    result = aggregate(mode, values) if values else None
    agree = agreement(mode, values, result, evidence.tolerance) if result is not None else []
    recorded = [a["agreed"] for a in evidence.answers]
    check(
        "aggregate",
        result == fulfilment["result"] and agree == recorded and sum(agree) >= evidence.quorum,
        f"{evidence.mode} of {values} is {result}; {sum(agree)} agree, quorum {evidence.quorum}",
    )
    check(
        "deadline",
        int(fulfilment["block"]) <= evidence.deadline,
        f"fulfilled in block {fulfilment['block']}, deadline {evidence.deadline}",
    )
