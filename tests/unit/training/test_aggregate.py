"""Committee aggregation: deterministic bytes, named rejections, Merkle proofs, two processes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ledgerlearn.exceptions import InvalidTaskSpecError
from ledgerlearn.learning.models import MLP, weights_to_bytes
from ledgerlearn.training import (
    CommittedUpdate,
    MerkleTree,
    TaskSpec,
    aggregate_round,
    update_leaf,
)

SPEC = TaskSpec(
    architecture={"kind": "mlp", "inputs": 8, "hidden": [4], "classes": 3},
    rule="trimmed_mean",
    byzantine=1,
    max_norm=5.0,
)


def _global() -> dict:
    return dict(MLP(8, 3, (4,), seed=1).get_weights())


def _update(seed: int, scale: float = 0.1) -> bytes:
    rng = np.random.default_rng(seed)
    template = _global()
    return weights_to_bytes(
        {k: (rng.normal(0, scale, v.shape) + 0.05).astype(np.float32) for k, v in template.items()}
    )


def _commit(index: int, data: bytes, committed: bytes | None = None) -> CommittedUpdate:
    trainer = "0x" + f"{index:040x}"
    sha = committed or hashlib.sha256(data).digest()
    return CommittedUpdate(trainer, sha, f"cid-{index}", data)


def _commits() -> list[CommittedUpdate]:
    honest = [_commit(i, _update(i)) for i in range(1, 6)]
    flipped = _commit(6, weights_to_bytes({k: -4 * v for k, v in _parse(_update(6)).items()}))
    mismatch = _commit(7, _update(7), committed=b"\x01" * 32)
    bad_bytes = _commit(8, b"not safetensors")
    nan = dict(_parse(_update(9)))
    nan["layer0.bias"] = nan["layer0.bias"].copy()
    nan["layer0.bias"][0] = np.nan
    non_finite = _commit(9, weights_to_bytes(nan))
    huge = _commit(10, _update(10, scale=50.0))
    missing = CommittedUpdate("0x" + f"{11:040x}", b"\x02" * 32, "cid-11", None, "unavailable")
    return [*honest, flipped, mismatch, bad_bytes, non_finite, huge, missing]


def _parse(data: bytes) -> dict:
    from ledgerlearn.learning.models import weights_from_bytes

    return dict(weights_from_bytes(data))


def test_rejections_carry_reasons_and_scores_feed_the_merkle_root() -> None:
    outcome = aggregate_round(SPEC, _global(), list(reversed(_commits())), seed=3)
    by_trainer = {u.trainer[-2:]: u for u in outcome.updates}
    assert [u.trainer for u in outcome.updates] == sorted(u.trainer for u in outcome.updates)
    assert all(by_trainer[f"{i:02x}"].score > 0 for i in range(1, 6))
    assert "cosine" in by_trainer["06"].reason
    assert by_trainer["07"].reason == "bytes do not match the committed sha256"
    assert "not a safetensors update" in by_trainer["08"].reason
    assert "non-finite" in by_trainer["09"].reason or "NaN" in by_trainer["09"].reason
    assert "exceeds the bound" in by_trainer["0a"].reason
    assert by_trainer["0b"].reason == "unavailable"
    assert outcome.total_score == sum(u.score for u in outcome.updates)
    for index, update in enumerate(outcome.updates):
        leaf = update_leaf(update.trainer, update.update_sha256, update.score)
        assert MerkleTree.verify(outcome.tree.proof(index), outcome.tree.root, leaf)
    assert not MerkleTree.verify(
        outcome.tree.proof(0),
        outcome.tree.root,
        update_leaf(outcome.updates[0].trainer, b"\0" * 32, 1),
    )
    assert hashlib.sha256(outcome.weights_bytes).digest() == outcome.weights_sha256


def test_same_inputs_in_any_order_give_the_same_bytes() -> None:
    commits = _commits()
    first = aggregate_round(SPEC, _global(), commits, seed=3)
    second = aggregate_round(SPEC, _global(), list(reversed(commits)), seed=3)
    assert first.weights_bytes == second.weights_bytes
    assert first.tree.root == second.tree.root


def test_a_round_with_no_valid_update_keeps_the_global_model() -> None:
    outcome = aggregate_round(SPEC, _global(), [_commit(1, b"junk")], seed=0)
    assert outcome.skipped == "no valid update"
    assert outcome.weights_bytes == weights_to_bytes(_global())
    assert outcome.total_score == 0


_WORKER = """
import hashlib, json, pickle, sys
from tests.unit.training.test_aggregate import SPEC, _commits, _global
from ledgerlearn.training import aggregate_round
outcome = aggregate_round(SPEC, _global(), _commits(), seed=3)
print(json.dumps({"sha": outcome.weights_sha256.hex(), "root": outcome.tree.root.hex()}))
"""


def test_two_members_in_separate_processes_agree_bit_for_bit() -> None:
    root = Path(__file__).resolve().parents[3]
    results = [
        subprocess.run(
            [sys.executable, "-c", _WORKER], capture_output=True, text=True, check=True, cwd=root
        )
        for _ in range(2)
    ]
    first, second = (json.loads(r.stdout) for r in results)
    assert first == second
    local = aggregate_round(SPEC, _global(), _commits(), seed=3)
    assert first["sha"] == local.weights_sha256.hex()


def test_spec_round_trips_and_refuses_stateful_or_unknown_rules() -> None:
    assert TaskSpec.from_bytes(SPEC.to_bytes()) == SPEC
    with pytest.raises(InvalidTaskSpecError, match="stateless rule"):
        TaskSpec(architecture=SPEC.architecture, rule="centered_clipping")
    with pytest.raises(InvalidTaskSpecError, match="not supported"):
        TaskSpec(architecture={"kind": "cnn", "inputs": 1, "classes": 2})
    with pytest.raises(InvalidTaskSpecError, match="schema"):
        TaskSpec.from_bytes(b'{"schema": "other"}')
    with pytest.raises(InvalidTaskSpecError, match="not JSON"):
        TaskSpec.from_bytes(b"\xff")
    with pytest.raises(InvalidTaskSpecError, match=r"local training settings: .*batch_size"):
        TaskSpec(architecture=SPEC.architecture, local={"batch_size": 0})
    with pytest.raises(InvalidTaskSpecError, match=r"local training settings: .*epoch"):
        TaskSpec(architecture=SPEC.architecture, local={"epoch": 1})  # a misspelt key
