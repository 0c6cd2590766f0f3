"""``ledgerlearn simulate``: federated training in this process, with attackers and a rule."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from ledgerlearn.cli._common import JsonOption
from ledgerlearn.cli._output import Output
from ledgerlearn.exceptions import LedgerLearnError

__all__ = ["simulate"]


def simulate(
    dataset: Annotated[
        str, typer.Option(help="digits, mnist, fashion_mnist, churn or shakespeare.")
    ] = "mnist",
    partition: Annotated[
        str, typer.Option(help="iid, dirichlet:A, quantity:A or natural.")
    ] = "dirichlet:0.5",
    clients: Annotated[int, typer.Option(help="Number of clients.")] = 20,
    rule: Annotated[
        str | None, typer.Option(help="Aggregation rule spec, e.g. krum, nnm+median.")
    ] = None,
    attack: Annotated[
        str | None,
        typer.Option(
            help="NAME[=STRENGTH]:FRACTION, e.g. alie:0.2 (the paper's z) or alie=1.5:0.2."
        ),
    ] = None,
    rounds: Annotated[int, typer.Option(help="Rounds.")] = 30,
    model: Annotated[str, typer.Option(help="mlp, logreg, cnn or lstm (torch extra).")] = "mlp",
    epochs: Annotated[int, typer.Option(help="Local epochs.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Local batch size.")] = 32,
    learning_rate: Annotated[float, typer.Option(help="Local learning rate.")] = 0.05,
    proximal_mu: Annotated[float, typer.Option(help="FedProx mu (0 = FedAvg).")] = 0.0,
    momentum: Annotated[float, typer.Option(help="Client heavy-ball momentum.")] = 0.0,
    max_steps: Annotated[
        int | None,
        typer.Option(
            min=1, metavar="<int>", help="Stop local training after this many steps (1 = FedSGD)."
        ),
    ] = None,
    dropout: Annotated[float, typer.Option(help="Per-round crash probability.")] = 0.0,
    max_train: Annotated[
        int | None, typer.Option(help="Use only this many training examples.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Root seed.")] = 0,
    workdir: Annotated[
        Path | None, typer.Option(help="Checkpoint and metrics.jsonl here; resumes if present.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Simulate federated training in process: clients, a rule, an attack, rounds."""
    from ledgerlearn.learning.attacks import make_attack
    from ledgerlearn.learning.models import TrainConfig
    from ledgerlearn.learning.simulation import DEFAULT_RULE, SimulationConfig, run_simulation

    attack_name, fraction = None, 0.0
    if attack:
        attack_name, _, share = attack.partition(":")
        try:
            fraction = float(share or 0.2)
            make_attack(attack_name)
        except ValueError as exc:
            raise typer.BadParameter(
                f"--attack is NAME[=STRENGTH]:FRACTION, e.g. alie:0.2 or alie=1.5:0.2 ({exc})"
            ) from exc
    try:
        local = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            proximal_mu=proximal_mu,
            momentum=momentum,
            max_steps=max_steps,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    config = SimulationConfig(
        dataset=dataset,
        partition=partition,
        clients=clients,
        rule=rule or DEFAULT_RULE,
        attack=attack_name,
        attack_fraction=fraction,
        rounds=rounds,
        model=model,
        local=local,
        dropout=dropout,
        max_train=max_train,
        seed=seed,
    )
    out = Output(json_output)
    try:
        result = run_simulation(config, workdir, progress=not json_output)
    except ValueError as exc:
        if isinstance(exc, LedgerLearnError):
            raise
        raise typer.BadParameter(str(exc)) from exc
    data = {
        "config": {**asdict(config), "local": asdict(config.local)},
        "finalAccuracy": result.final_accuracy,
        "rounds": [asdict(m) for m in result.rounds],
        "workdir": str(workdir) if workdir else None,
    }
    last = result.rounds[-1] if result.rounds else None
    human = (
        f"{len(result.rounds)} rounds; final test accuracy {result.final_accuracy:.4f}"
        + (f" (last round: {last.participants} updates aggregated)" if last else "")
        + (f"; metrics in {workdir / 'metrics.jsonl'}" if workdir else "")
    )
    out.result(data, human)
