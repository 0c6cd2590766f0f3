"""CLI for inference: ``gateway`` (the HTTP front door) and ``evidence show|verify ID``.

Both rebuild a request's trail from the chain and the content store alone (the store root
from ``--root`` or ``[storage]``); ``verify`` re-checks every hash and signature, prints one
line per check and exits with status 82 if any fails.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlearn.cli._options import (
    BackendOption,
    JsonOption,
    ManifestOption,
    PasswordFileOption,
    RpcOption,
    StoreRootOption,
)
from ledgerlearn.cli._output import Output
from ledgerlearn.cli._registry import _reading

__all__ = ["evidence_app", "gateway_command"]

evidence_app = typer.Typer(
    help="Evidence of inference answers, from the chain and the store alone.",
    no_args_is_help=True,
)

RequestArgument = Annotated[int, typer.Argument(help="The oracle request id.")]


def _human(evidence: Any) -> str:
    lines = [
        f"request {evidence.request_id}: {evidence.status}, asked {evidence.asked} by "
        f"{evidence.requester} (block {evidence.request_block}, tx {evidence.request_tx})",
        f"model {evidence.model}@{evidence.version} sha256 {evidence.model_hash} "
        f"cid {evidence.artifact_cid}, published by {evidence.publisher} (signer "
        f"{evidence.signer})",
    ]
    if evidence.channel_move:
        move = evidence.channel_move
        lines.append(
            f"channel {move['channel']} moved to it in block {move['block']} by proposal "
            f"{move['proposalId']} (evaluation report {move['evaluationReport']})"
        )
    lines.append(
        f"input sha256 {evidence.input_sha256} cid {evidence.input_cid}; {evidence.mode}, "
        f"k={evidence.redundancy}, quorum {evidence.quorum}, tolerance {evidence.tolerance}, "
        f"deadline block {evidence.deadline}, fee {evidence.fee}"
    )
    if evidence.selected:
        lines.append(f"drawn: {', '.join(evidence.selected)}")
    for answer in evidence.answers:
        mark = "agrees" if answer["agreed"] else "DEVIATES"
        lines.append(
            f"  {answer['provider']}: value {answer['value']} {mark} (deviation "
            f"{answer['deviation']}), output {answer['outputHash'][:18]}…"
        )
    if evidence.fulfilment:
        f = evidence.fulfilment
        lines.append(
            f"result {f['result']} (output {f['outputHash']}), {f['agreeing']} agreeing, "
            f"reported by {f['reporter']} in tx {f['tx']} (block {f['block']})"
        )
    for review in evidence.reviews:
        lines.append(f"review requested: {review['reason']} (result {review['result']})")
    if evidence.refund:
        lines.append(f"refunded: {evidence.refund['reason']}")
    return "\n".join(lines)


@evidence_app.command("show")
def evidence_show(
    request_id: RequestArgument,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Rebuild and print an answer's evidence trail."""
    from ledgerlearn.provenance import inference_evidence

    out = Output(json_output)
    with _reading(backend, rpc_url, manifest, root) as s:
        evidence = inference_evidence(s.chain, s.deployment, s.store, request_id)
    out.result(evidence.to_json(), _human(evidence))


@evidence_app.command("verify")
def evidence_verify(
    request_id: RequestArgument,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Re-check every hash and signature of an answer; exit 82 if anything fails."""
    from ledgerlearn.exceptions import EvidenceError
    from ledgerlearn.exit_codes import ExitCode
    from ledgerlearn.provenance import verify_inference

    out = Output(json_output)
    with _reading(backend, rpc_url, manifest, root) as s:
        _, checks = verify_inference(s.chain, s.deployment, s.store, request_id)
    failed = [c for c in checks if not c.ok]
    out.result(
        {
            "request": request_id,
            "ok": not failed,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        },
        "\n".join(f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in checks),
    )
    if failed:
        if json_output:  # the document above says what failed; one document only
            raise typer.Exit(int(ExitCode.EVIDENCE))
        names = ", ".join(c.name for c in failed)
        raise EvidenceError(f"request {request_id}: {len(failed)} check(s) failed: {names}")


def gateway_command(
    config: Annotated[
        Path,
        typer.Option("--config", help="TOML with chain, deployment, storage and gateway sections."),
    ],
    password_file: PasswordFileOption = None,
) -> None:
    """Run the inference gateway (HTTP, DID-signed calls) until stopped.

    It listens on the gateway section's address and port, pays requests from the chain
    section's keystore account (or the gateway section's dev_account on a development
    chain) and writes inputs to the content store the providers read.
    """
    import uvicorn

    from ledgerlearn._logging import configure_json_logging
    from ledgerlearn.cli._training import _connect_waiting, _keystore_keys, _node_key
    from ledgerlearn.config import load_settings
    from ledgerlearn.exceptions import ConfigError
    from ledgerlearn.gateway import Gateway, GatewayPolicy, gateway_app
    from ledgerlearn.identity import EthrDidResolver
    from ledgerlearn.ledger import DeploymentManifest
    from ledgerlearn.oracle import OracleClient, Quota, RateLimiter, RequestVerifier
    from ledgerlearn.storage import LocalContentStore

    settings = load_settings(config)
    options = settings.gateway
    if settings.chain.backend == "embedded":
        raise ConfigError(
            "the gateway needs a lasting chain: set [chain] backend = 'rpc' and rpc_url"
        )
    configure_json_logging(min(logging.INFO, logging.getLogger().level))
    deployment = DeploymentManifest.load(settings.deployment.manifest)
    keys = _keystore_keys(settings, password_file)
    with _connect_waiting(settings, keys, deployment.chain_id) as chain:
        deployment.verify(chain)
        key = _node_key(settings, keys, options.dev_account)
        policy = GatewayPolicy(
            redundancy=options.redundancy,
            quorum=options.quorum,
            deadline_blocks=options.deadline_blocks,
            fee=int(options.fee * 10**18),
            wait_seconds=options.wait_seconds,
            gather_timeout=options.gather_timeout,
        )
        gateway = Gateway(
            OracleClient(chain, deployment), LocalContentStore(settings.storage.root), key, policy
        )
        verifier = RequestVerifier(
            resolver=EthrDidResolver(chain, deployment.get_address("IdentityRegistry")),
            chain_id=chain.chain_id,
            max_lifetime=options.max_signature_lifetime,
            cache_seconds=options.did_cache_seconds,
        )
        app = gateway_app(
            gateway,
            verifier,
            RateLimiter(rate=options.rate, burst=options.burst),
            Quota(limit=options.quota, window=options.quota_window_seconds),
        )
        logging.getLogger("ledgerlearn.gateway").info(
            json.dumps(
                {
                    "event": "listening",
                    "url": f"http://{options.address}:{options.port}",
                    "gateway": key.address,
                }
            )
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app, host=options.address, port=options.port, log_level="warning", ws="none"
            )
        )
        try:
            server.run()
        finally:
            gateway.close()
