"""``ledgerlearn gov``: governance — delegate, propose, vote, queue, execute, status.

Promotions cite an evaluation report; the timelock executes what passes; on development
chains ``gov advance`` mines blocks and moves time.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ledgerlearn.cli._common import JsonOption, Session, group, reading, session
from ledgerlearn.cli._output import Output

__all__ = ["app"]

app = group("Governance: proposals, votes, the timelock.")


def _governance(session: Session) -> Any:
    from ledgerlearn.governance import Governance

    return Governance(session.chain, session.deployment, session.store)


def _status_human(status: Any) -> str:
    v = status.votes
    return (
        f"proposal {status.proposal_id}\n  state: {status.state}\n"
        f"  {status.description.splitlines()[0]}\n"
        f"  votes: for {v['for']}, against {v['against']}, abstain {v['abstain']} "
        f"(quorum {status.quorum})\n  voting blocks {status.snapshot}..{status.deadline}"
        + (f", eta {status.eta}" if status.eta else "")
        + f"\n  next: {status.next_step}"
    )


@app.command("delegate")
def gov_delegate(
    to: Annotated[str | None, typer.Argument(help="Delegatee (default: yourself).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Delegate your token votes (needed once before your tokens can vote)."""
    with session() as s:
        gov = _governance(s)
        gov.delegate(s.signer, to)
        votes = gov.votes(to or s.signer.address)
    Output(json_output).result(
        {"delegatee": to or s.signer.address, "votes": str(votes)},
        f"votes delegated; {to or s.signer.address} now has {votes} votes",
    )


def _proposed(proposal_id: int, session: Session, json_output: bool) -> None:
    status = _governance(session).status(proposal_id)
    Output(json_output).result(status.to_json(), _status_human(status))


@app.command("propose-promotion")
def gov_propose_promotion(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION to promote.")],
    report: Annotated[str, typer.Option("--report", help="CID of the evaluation report.")],
    channel: Annotated[str, typer.Option(help="Channel to move.")] = "production",
    json_output: JsonOption = False,
) -> None:
    """Propose pointing a channel at a version, citing an evaluation report."""
    from ledgerlearn.registry import parse_model_ref

    parsed = parse_model_ref(ref)
    if parsed.version is None:
        raise typer.BadParameter("REF must name a version: NAME@VERSION")
    with session() as s:
        pid = _governance(s).propose_promotion(
            s.signer, parsed.name, parsed.version, evaluation_report=report, channel=channel
        )
        _proposed(pid, s, json_output)


@app.command("propose-rollback")
def gov_propose_rollback(
    name: str,
    channel: Annotated[str, typer.Option(help="Channel to move back.")] = "production",
    to_version: Annotated[
        int | None, typer.Option(help="Version to return to (default: the previous one).")
    ] = None,
    report: Annotated[
        str | None, typer.Option("--report", help="Report CID (default: the one cited before).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Propose pointing a channel back at its previous version."""
    with session() as s:
        pid = _governance(s).propose_rollback(
            s.signer, name, channel=channel, to_version=to_version, evaluation_report=report
        )
        _proposed(pid, s, json_output)


@app.command("propose-parameter")
def gov_propose_parameter(
    parameter: Annotated[str, typer.Argument(help="e.g. voting_period, timelock_delay.")],
    value: str,
    json_output: JsonOption = False,
) -> None:
    """Propose changing a governance parameter."""
    with session() as s:
        pid = _governance(s).propose_parameter_change(s.signer, parameter, value)
        _proposed(pid, s, json_output)


def _proposal_id(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError as exc:
        raise typer.BadParameter("PROPOSAL_ID is the decimal id `gov status` prints") from exc


@app.command("vote")
def gov_vote(
    proposal_id: str,
    support: Annotated[str, typer.Argument(help="for, against or abstain.")] = "for",
    reason: Annotated[str, typer.Option(help="Reason, recorded on chain.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Vote on an active proposal."""
    if support not in ("for", "against", "abstain"):
        raise typer.BadParameter("SUPPORT must be for, against or abstain")
    with session() as s:
        weight = _governance(s).vote(s.signer, _proposal_id(proposal_id), support, reason=reason)
    Output(json_output).result(
        {"proposalId": proposal_id, "support": support, "weight": str(weight)},
        f"voted {support} with {weight} votes",
    )


@app.command("queue")
def gov_queue(
    proposal_id: str,
    json_output: JsonOption = False,
) -> None:
    """Queue a succeeded proposal in the timelock."""
    with session() as s:
        eta = _governance(s).queue(s.signer, _proposal_id(proposal_id))
    Output(json_output).result(
        {"proposalId": proposal_id, "eta": eta}, f"queued; executable after timestamp {eta}"
    )


@app.command("execute")
def gov_execute(
    proposal_id: str,
    json_output: JsonOption = False,
) -> None:
    """Execute a queued proposal whose timelock delay has passed."""
    with session() as s:
        gov = _governance(s)
        gov.execute(s.signer, _proposal_id(proposal_id))
        status = gov.status(_proposal_id(proposal_id))
    Output(json_output).result(status.to_json(), _status_human(status))


@app.command("status")
def gov_status(
    proposal_id: Annotated[str | None, typer.Argument(help="Default: list every proposal.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Show a proposal's state, votes and next step (or list all proposals)."""
    with reading() as s:
        gov = _governance(s)
        ids = [_proposal_id(proposal_id)] if proposal_id else gov.proposal_ids()
        statuses = [gov.status(pid) for pid in ids]
    if proposal_id:
        Output(json_output).result(statuses[0].to_json(), _status_human(statuses[0]))
    else:
        Output(json_output).result(
            {"proposals": [st.to_json() for st in statuses]},
            "\n".join(_status_human(st) for st in statuses) or "no proposals yet",
        )


@app.command("advance")
def gov_advance(
    blocks: Annotated[int, typer.Option(help="Blocks to mine.")] = 0,
    seconds: Annotated[int, typer.Option(help="Seconds to move the clock.")] = 0,
    json_output: JsonOption = False,
) -> None:
    """Mine blocks and move time on a development chain (to reach vote ends and ETAs)."""
    with reading() as s:
        if blocks:
            s.chain.mine(blocks)
        if seconds:
            s.chain.advance_time(seconds)
        data = {"block": s.chain.block_number, "timestamp": s.chain.timestamp()}
    Output(json_output).result(data, f"head is block {data['block']} at {data['timestamp']}")
