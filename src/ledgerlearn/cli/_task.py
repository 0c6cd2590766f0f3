"""``ledgerlearn task``: training tasks — create one, watch it, check its evidence trail."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlearn.cli._common import JsonOption, Session, group, reading, session, tokens
from ledgerlearn.cli._output import Output

__all__ = ["app"]

app = group("Training tasks on the TrainingCoordinator.")


def _client(session: Session) -> Any:
    from ledgerlearn.training import TrainingClient

    return TrainingClient(session.chain, session.deployment)


@app.command("create")
def task_create(
    model: Annotated[str, typer.Option(help="Registry model name.")],
    base_version: Annotated[int, typer.Option(help="Registry version to start from.")],
    spec: Annotated[Path, typer.Option(help="Task spec JSON (see docs/training.md).")],
    rounds: Annotated[int, typer.Option(min=1, metavar="<int>")] = 5,
    min_trainers: Annotated[int, typer.Option(min=1, metavar="<int>")] = 3,
    committee_size: Annotated[int, typer.Option(min=1, metavar="<int>")] = 3,
    quorum: Annotated[int, typer.Option(min=1, metavar="<int>")] = 2,
    join_blocks: Annotated[int, typer.Option(min=1, metavar="<int>")] = 150,
    commit_blocks: Annotated[int, typer.Option(min=1, metavar="<int>")] = 25,
    aggregate_blocks: Annotated[int, typer.Option(min=1, metavar="<int>")] = 25,
    max_rejections: Annotated[int, typer.Option(min=0, metavar="<int>")] = 2,
    secagg_blocks: Annotated[
        int | None,
        typer.Option(
            min=0,
            metavar="<int>",
            help="Blocks per secure-aggregation window (default 25 when the spec has "
            "privacy.secagg, else 0).",
        ),
    ] = None,
    min_stake: Annotated[float, typer.Option(help="Whole tokens.")] = 100,
    reward_pool: Annotated[float, typer.Option(help="Whole tokens.")] = 1_000,
    slash_amount: Annotated[float, typer.Option(help="Whole tokens.")] = 50,
    license: Annotated[str, typer.Option(help="SPDX licence of the result.")] = "Apache-2.0",
    owner: Annotated[str | None, typer.Option(help="Owner identity (default: you).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Store a task spec and create a task with a reward pool (you must own the model)."""
    from ledgerlearn.training import TaskConfig, TaskSpec

    out = Output(json_output)
    parsed = TaskSpec.from_bytes(spec.read_bytes())
    parsed.check_rounds(rounds)  # a DP task whose rounds overspend its budget is refused
    if secagg_blocks is None:
        secagg_blocks = 25 if parsed.secagg is not None else 0
    parsed.check_secagg(secagg_blocks, min_trainers)
    with session() as s:
        spec_cid = str(s.store.put(parsed.to_bytes()))
        config = TaskConfig(
            model=model,
            base_version=base_version,
            spec_cid=spec_cid,
            license=license,
            rounds=rounds,
            min_trainers=min_trainers,
            committee_size=committee_size,
            quorum=quorum,
            join_blocks=join_blocks,
            commit_blocks=commit_blocks,
            aggregate_blocks=aggregate_blocks,
            max_rejections=max_rejections,
            min_stake=tokens(min_stake),
            reward_pool=tokens(reward_pool),
            slash_amount=tokens(slash_amount),
            secagg_blocks=secagg_blocks,
        )
        task_id = _client(s).create_task(s.signer, config, owner=owner)
        out.result({"task": task_id, "spec": spec_cid})


@app.command("status")
def task_status(
    task_id: Annotated[int, typer.Argument(help="The task.")],
    json_output: JsonOption = False,
) -> None:
    """Show a task's phase, round, deadlines, committee and finalised rounds."""
    from dataclasses import asdict

    out = Output(json_output)
    with reading() as s:
        client = _client(s)
        task = client.task(task_id)
        state = client.round(task_id, task.round)
        finals = client.finalised(task_id)
        out.result(
            {
                "task": task_id,
                "phase": task.phase.label,
                "round": task.round,
                "block": s.chain.block_number,
                "joinDeadline": task.join_deadline,
                "trainers": task.trainers,
                "aggregators": client.aggregators(task_id),
                "currentRound": asdict(state),
                "committee": client.committee(task_id, task.round),
                "finalised": {
                    str(r): {"aggregateCid": f["aggregateCid"], "recordCid": f["recordCid"]}
                    for r, f in finals.items()
                },
                "registeredVersion": task.registered_version,
                "config": asdict(task.config),
            }
        )


@app.command("trail")
def task_trail(
    task_id: Annotated[int, typer.Argument(help="The task.")],
    json_output: JsonOption = False,
) -> None:
    """Verify a task's round records against the chain and print the evidence trail."""
    from ledgerlearn.training import training_trail

    out = Output(json_output)
    with reading() as s:
        trail = training_trail(_client(s), s.store, task_id)
        out.result({"task": task_id, "rounds": [row.to_json() for row in trail]})
