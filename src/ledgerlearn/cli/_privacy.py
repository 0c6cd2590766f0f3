"""``ledgerlearn privacy``: plan and check the differential-privacy budget of a training task."""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerlearn.cli._common import JsonOption, group
from ledgerlearn.cli._output import Output

__all__ = ["app"]

app = group("Differential privacy: noise planning and epsilon accounting (dp-accounting).")

Delta = Annotated[float, typer.Option(help="Target delta (about 1 / number of clients or less).")]
Rounds = Annotated[int, typer.Option(min=1, metavar="<int>", help="Rounds the task runs.")]
SampleRate = Annotated[
    float, typer.Option(help="Probability a client takes part in a round (1 = all, every round).")
]
Accountant = Annotated[
    str, typer.Option(help="rdp (Renyi DP) or pld (privacy loss distributions).")
]


def _schedule(
    z: float, rounds: int, delta: float, sample_rate: float, accountant: str
) -> list[dict[str, float]]:
    from ledgerlearn.learning.privacy import epsilon_for

    shown = sorted({1, *range(max(1, rounds // 10), rounds + 1, max(1, rounds // 10)), rounds})
    return [
        {"round": r, "epsilon": epsilon_for(z, r, delta, sample_rate, accountant)} for r in shown
    ]


def _lines(schedule: list[dict[str, float]]) -> list[str]:
    return [f"  after round {s['round']:>5}: epsilon {s['epsilon']:.4f}" for s in schedule]


def _check_accountant(accountant: str) -> None:
    from ledgerlearn.learning.privacy import ACCOUNTANTS

    if accountant not in ACCOUNTANTS:
        raise typer.BadParameter(f"--accountant must be {' or '.join(ACCOUNTANTS)}")


@app.command("plan")
def plan(
    epsilon: Annotated[float, typer.Option(help="Target epsilon for the whole task.")],
    rounds: Rounds = 20,
    delta: Delta = 1e-5,
    sample_rate: SampleRate = 1.0,
    accountant: Accountant = "rdp",
    clip: Annotated[
        float | None, typer.Option(help="Clipping norm C; also print the noise std z*C.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Say how much noise (multiplier z) a target epsilon needs for a schedule of rounds."""
    from ledgerlearn.exceptions import PrivacyBudgetError
    from ledgerlearn.learning.privacy import plan_noise

    _check_accountant(accountant)
    try:
        z = plan_noise(epsilon, delta, rounds, sample_rate, accountant)
    except PrivacyBudgetError:
        raise  # exit 42 with its own remedy
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    schedule = _schedule(z, rounds, delta, sample_rate, accountant)
    data = {
        "noiseMultiplier": z,
        "noiseStd": z * clip if clip else None,
        "epsilon": epsilon,
        "delta": delta,
        "rounds": rounds,
        "sampleRate": sample_rate,
        "accountant": accountant,
        "schedule": schedule,
    }
    lines = [
        f"noise multiplier z = {z:.4f}"
        + (f" (noise std {z * clip:.4g} on the sum for clip {clip:g})" if clip else ""),
        f"{rounds} rounds, sample rate {sample_rate:g}, delta {delta:g}, {accountant} accountant",
        *_lines(schedule),
        'spec: "privacy": {"dp": {"clip": C, "noiseMultiplier": '
        f'{z:.4f}, "epsilon": {epsilon:g}, "delta": {delta:g}}}}}',
    ]
    Output(json_output).result(data, "\n".join(lines))


@app.command("spend")
def spend(
    noise_multiplier: Annotated[float, typer.Option(help="Noise std over the clipping norm.")],
    rounds: Rounds = 20,
    delta: Delta = 1e-5,
    sample_rate: SampleRate = 1.0,
    accountant: Accountant = "rdp",
    json_output: JsonOption = False,
) -> None:
    """Say how much epsilon a schedule spends, round by round."""
    _check_accountant(accountant)
    try:
        schedule = _schedule(noise_multiplier, rounds, delta, sample_rate, accountant)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    Output(json_output).result(
        {"noiseMultiplier": noise_multiplier, "delta": delta, "schedule": schedule},
        "\n".join(_lines(schedule)),
    )
