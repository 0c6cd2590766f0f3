"""Client-level DP in training rounds: noise the committee agrees on, epsilon on chain, budget."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ledgerlearn.devnet import (
    make_nodes,
    run_in_process,
    setup_network,
)
from ledgerlearn.exceptions import PrivacyBudgetError
from ledgerlearn.learning.models import weights_from_bytes, weights_to_bytes
from ledgerlearn.learning.privacy import clip_update, epsilon_for
from ledgerlearn.learning.weights import flatten
from ledgerlearn.protocol import deploy_protocol
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import CommittedUpdate, TaskSpec, TrainingClient, aggregate_round
from tests.chains import fresh_chain
from tests.integration.digits_network import DIGITS

DP = {"clip": 1.0, "noiseMultiplier": 1.0, "epsilon": 8.0, "delta": 1e-5}
CONFIG = replace(DIGITS, model="digits-dp", trainers=4, rule="fedavg", dp=DP)


def _spec(**dp: float) -> TaskSpec:
    return TaskSpec(
        architecture={"kind": "mlp", "inputs": 8, "hidden": [4], "classes": 3},
        rule="fedavg",
        byzantine=0,
        privacy={"transport": "x25519-sealed-box", "dp": {**DP, **dp}},
    )


def _commits(spec: TaskSpec, n: int, scale: float) -> tuple[dict, list[CommittedUpdate]]:
    import hashlib

    from ledgerlearn.learning.weights import unflatten

    model = spec.build_model()
    weights = model.get_weights()
    rng = np.random.default_rng(1)
    commits = []
    for i in range(n):
        vector = rng.normal(0, scale, flatten(weights).size).astype(np.float32)
        raw = weights_to_bytes(unflatten(vector, weights))
        trainer = f"0x{i + 1:040x}"
        commits.append(
            CommittedUpdate(
                trainer, hashlib.sha256(raw).digest(), "cid", raw, secret=bytes([i]) * 32
            )
        )
    return weights, commits


def test_committee_adds_keyed_noise_to_the_mean_of_clipped_updates() -> None:
    spec = _spec()
    weights, commits = _commits(spec, 5, scale=0.5)  # norms about 4: every update is clipped
    first = aggregate_round(spec, weights, commits, seed=1, round_number=1)
    again = aggregate_round(spec, weights, commits, seed=1, round_number=1)
    assert first.weights_sha256 == again.weights_sha256  # members agree bit for bit
    rekeyed = [replace(c, secret=bytes(32)) for c in commits]
    other = aggregate_round(spec, weights, rekeyed, seed=1, round_number=1)
    assert other.weights_sha256 != first.weights_sha256  # the noise is keyed by the envelopes
    privacy = first.extra["privacy"]
    assert privacy["epsilon"] == epsilon_for(1.0, 1, 1e-5) and privacy["clippedUpdates"] == 5
    assert {u.score for u in first.updates} == {1_000_000}  # data-independent scores under DP
    rows = [flatten(dict(weights_from_bytes(c.plaintext or b""))) for c in commits]
    clipped_mean = np.mean([clip_update(r, 1.0) for r in rows], axis=0)
    noise = (flatten(first.weights) - flatten(weights)) - clipped_mean
    # noise on the mean: std z * C / n = 0.2 per coordinate
    assert noise.std() == pytest.approx(0.2, rel=0.25)
    with pytest.raises(ValueError, match="round_number"):
        aggregate_round(spec, weights, commits, seed=1)


def test_spec_refuses_dp_with_a_robust_rule_and_rounds_over_budget() -> None:
    from ledgerlearn.exceptions import InvalidTaskSpecError

    with pytest.raises(InvalidTaskSpecError, match="fedavg"):
        TaskSpec(
            architecture={"kind": "mlp", "inputs": 8, "classes": 3},
            rule="median",
            privacy={"dp": DP},
        )
    with pytest.raises(InvalidTaskSpecError, match="noiseMultiplier"):
        TaskSpec(
            architecture={"kind": "mlp", "inputs": 8, "classes": 3},
            rule="fedavg",
            privacy={"dp": {"clip": 1.0}},
        )
    spec = _spec(epsilon=4.0)
    limit = spec.dp.accounting().max_rounds()  # type: ignore[union-attr]
    assert spec.check_rounds(limit) == pytest.approx(epsilon_for(1.0, limit, 1e-5))
    with pytest.raises(PrivacyBudgetError, match=f"at most {limit} rounds"):
        spec.check_rounds(limit + 1)


def test_dp_task_records_epsilon_per_round_and_stops_at_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = fresh_chain()
    manifest = deploy_protocol(chain, chain.accounts[0])
    store = LocalContentStore(tmp_path / "store")
    # Budget for one round only: setup refuses a 2-round task ...
    over = replace(CONFIG, dp={**DP, "epsilon": 6.0})
    assert epsilon_for(1.0, 1, 1e-5) <= 6.0 < epsilon_for(1.0, 2, 1e-5)
    with pytest.raises(PrivacyBudgetError):
        setup_network(chain, manifest, store, chain.accounts[0], over)
    # ... and should one be created anyway (here by skipping the check), round 2 never starts.
    monkeypatch.setattr(TaskSpec, "check_rounds", lambda self, rounds: None)
    setup = setup_network(chain, manifest, store, chain.accounts[0], over)
    monkeypatch.undo()
    with chain:
        nodes = make_nodes(chain, manifest, store, setup, over, tmp_path / "nodes")
        run_in_process(chain, nodes)
        client = TrainingClient(chain, manifest)
        task = client.task(setup.task_id)
        assert task.phase.label == "aborted"
        assert [e["args"]["reason"] for e in client.events("TaskAborted", setup.task_id)] == [
            "too few commits"
        ]
        assert not [
            e for e in client.events("UpdateCommitted", setup.task_id) if e["args"]["round"] == 2
        ]
        from ledgerlearn.training import training_trail

        trail = training_trail(client, store, setup.task_id)
        assert len(trail) == 1 and trail[0].privacy is not None
        assert trail[0].privacy["epsilon"] == epsilon_for(1.0, 1, 1e-5)


def test_dp_task_completes_with_epsilon_in_each_round_record(tmp_path: Path) -> None:
    from ledgerlearn.training import training_trail

    chain = fresh_chain()
    manifest = deploy_protocol(chain, chain.accounts[0])
    store = LocalContentStore(tmp_path / "store")
    setup = setup_network(chain, manifest, store, chain.accounts[0], CONFIG)
    with chain:
        run_in_process(chain, make_nodes(chain, manifest, store, setup, CONFIG, tmp_path / "n"))
        client = TrainingClient(chain, manifest)
        assert client.task(setup.task_id).phase.label == "completed"
        trail = training_trail(client, store, setup.task_id)  # re-derives each epsilon
        spent = [row.privacy["epsilon"] for row in trail if row.privacy]
        assert spent == [epsilon_for(1.0, r, 1e-5) for r in (1, 2)]
        assert spent[-1] <= DP["epsilon"]
        assert all(len(row.included) == CONFIG.trainers for row in trail)
