"""``ledgerlearn evidence``: an answer's evidence trail, from the chain and the store alone.

``show`` rebuilds the trail (request, model version and the proposal that put it on the
channel, beacon draw, signed answers, fulfilment, reviews); ``verify`` re-checks every hash
and signature, prints one line per check and exits with status 82 if any fails.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ledgerlearn.cli._common import JsonOption, group, reading
from ledgerlearn.cli._output import Output

__all__ = ["app"]

app = group("Evidence of inference answers, from the chain and the store alone.")

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


@app.command("show")
def evidence_show(
    request_id: RequestArgument,
    json_output: JsonOption = False,
) -> None:
    """Rebuild and print an answer's evidence trail."""
    from ledgerlearn.provenance import inference_evidence

    out = Output(json_output)
    with reading() as s:
        evidence = inference_evidence(s.chain, s.deployment, s.store, request_id)
    out.result(evidence.to_json(), _human(evidence))


@app.command("verify")
def evidence_verify(
    request_id: RequestArgument,
    json_output: JsonOption = False,
) -> None:
    """Re-check every hash and signature of an answer; exit 82 if anything fails."""
    from ledgerlearn.exceptions import EvidenceError
    from ledgerlearn.exit_codes import ExitCode
    from ledgerlearn.provenance import verify_inference

    out = Output(json_output)
    with reading() as s:
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
