from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ledgerlearn.exceptions import SimulationError
from ledgerlearn.learning.models import TrainConfig, weights_to_bytes
from ledgerlearn.learning.simulation import SimulationConfig, run_simulation

LOCAL = TrainConfig(epochs=3, batch_size=16, learning_rate=0.1)
FAST = SimulationConfig(
    dataset="digits", clients=8, rounds=4, rule="median", partition="iid", local=LOCAL
)


def test_resume_after_interruption_gives_identical_weights(tmp_path: Path) -> None:
    uninterrupted = run_simulation(FAST, tmp_path / "a")
    partial = run_simulation(FAST, tmp_path / "b", stop_after=2)
    assert len(partial.rounds) == 2
    resumed = run_simulation(FAST, tmp_path / "b")
    assert [m.round for m in resumed.rounds] == [1, 2, 3, 4]
    assert weights_to_bytes(resumed.weights) == weights_to_bytes(uninterrupted.weights)
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["round"] for line in lines] == [1, 2, 3, 4]


def test_resume_refuses_another_configuration(tmp_path: Path) -> None:
    run_simulation(FAST, tmp_path, stop_after=1)
    with pytest.raises(SimulationError, match="another configuration"):
        run_simulation(
            SimulationConfig(dataset="digits", clients=8, rounds=4, rule="krum"), tmp_path
        )


def test_dropouts_and_deadlines_shrink_rounds_and_are_reported() -> None:
    config = SimulationConfig(
        dataset="digits",
        clients=10,
        rounds=2,
        partition="iid",
        rule="fedavg",
        dropout=0.3,
        deadline=1.2,
    )
    result = run_simulation(config)
    for metrics in result.rounds:
        assert metrics.participants + len(metrics.dropped) == 10 and metrics.dropped


def test_too_few_updates_skip_the_round_with_a_reason() -> None:
    config = SimulationConfig(
        dataset="digits", clients=6, rounds=1, partition="iid", rule="krum", num_byzantine=2
    )
    metrics = run_simulation(config).rounds[0]
    assert metrics.skipped is not None and "n >= 2f + 3" in metrics.skipped


def test_invalid_updates_are_rejected_with_reasons() -> None:
    config = SimulationConfig(
        dataset="digits",
        clients=6,
        rounds=1,
        partition="iid",
        rule="fedavg",
        attack="gaussian",
        attack_fraction=0.34,
        max_norm=5.0,
    )
    metrics = run_simulation(config).rounds[0]
    assert set(metrics.rejected) == {"client-000", "client-001"}
    assert all("exceeds the bound" in reason for reason in metrics.rejected.values())


def test_attacks_hurt_fedavg_and_robust_rules_resist() -> None:
    base = dict(
        dataset="digits",
        clients=10,
        rounds=6,
        partition="iid",
        attack="sign_flip",
        attack_fraction=0.2,
        local=LOCAL,
    )
    fedavg = run_simulation(SimulationConfig(rule="fedavg", **base)).final_accuracy  # type: ignore[arg-type]
    robust = run_simulation(SimulationConfig(rule="trimmed_mean", **base)).final_accuracy  # type: ignore[arg-type]
    assert robust > fedavg + 0.2 and robust > 0.8
    assert np.isfinite(fedavg)


def test_resume_restores_the_state_of_stateful_rules(tmp_path: Path) -> None:
    config = SimulationConfig(
        dataset="digits",
        clients=8,
        rounds=4,
        partition="iid",
        local=LOCAL,
        rule="nnm+centered_clipping:auto",
        attack="alie",
        attack_fraction=0.25,
    )
    clean = run_simulation(config, tmp_path / "clean")
    run_simulation(config, tmp_path / "resumed", stop_after=2)
    resumed = run_simulation(config, tmp_path / "resumed")
    assert weights_to_bytes(resumed.weights) == weights_to_bytes(clean.weights)
