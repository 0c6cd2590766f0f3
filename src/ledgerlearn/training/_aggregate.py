"""Committee aggregation that honest members reproduce bit for bit.

Given a round's committed updates (decrypted), every committee member runs the same pure
computation: order by trainer address; check each update's bytes against its committed
sha256, parse and validate it (shape, dtype, finiteness, norm bound); aggregate the accepted
ones with the task's rule (float64 accumulation, float32 result); add the result to the
global weights in float32; serialise to canonical safetensors bytes and hash them. Each
trainer gets a score: zero with a reason if its update was rejected, else its cosine
agreement with the aggregate in millionths, computed from exactly rounded sums
(``math.fsum`` over float64 products of float32 values, which are exact), so the score does
not depend on the CPU's vector width. The Merkle root over ``(trainer, sha256, score)`` and
the total score complete what a member posts.

Coordinate-wise rules (FedAvg, median, trimmed mean) are elementwise IEEE operations in a
fixed order, so members on different machines agree; distance-based rules (Krum family,
geometric median, nearest-neighbour mixing) use BLAS products whose last bits may differ
between CPU types, so members of one committee should run the same build.

With client-level differential privacy (``privacy.dp`` in the spec, central placement), the
rule is FedAvg over updates clipped to L2 norm ``C``: the clipped updates are summed, Gaussian
noise of standard deviation ``z * C`` is added, and the sum is divided by the number of
accepted updates (McMahan et al. 2018). The noise comes from a ChaCha20 keystream keyed by
the sha256 of the accepted updates' content keys (each envelope's random key, which only the
trainer and the task's aggregators can open), so every member adds the same noise and nobody
outside the committee can subtract it. Every accepted update scores the same (a cosine with
the aggregate would publish a statistic of one trainer's update outside the noise's
protection). The round's cumulative epsilon goes into the record,
whose CID is part of the on-chain commitment; a round over the task's budget is refused.

Trust assumption: at least a quorum of the committee runs this code on the committed inputs.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import AggregationError
from ledgerlearn.learning.models import weights_from_bytes, weights_to_bytes
from ledgerlearn.learning.validation import validate_updates
from ledgerlearn.learning.weights import flatten, unflatten
from ledgerlearn.registry import ModelCard, ModelManifest, describe_weights
from ledgerlearn.training._merkle import MerkleTree, update_leaf
from ledgerlearn.training._spec import TaskSpec

__all__ = [
    "RECORD_SCHEMA",
    "CommittedUpdate",
    "RoundOutcome",
    "ScoredUpdate",
    "aggregate_round",
    "final_manifest",
    "round_outcome",
    "round_record",
]

RECORD_SCHEMA = "ledgerlearn/round-record/v1"
SCORE_SCALE = 1_000_000

Weights = dict[str, NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class CommittedUpdate:
    """One trainer's commit and, if it could be fetched and decrypted, its plaintext.

    Attributes
    ----------
    trainer
        Checksummed address.
    update_sha256
        The committed hash (32 bytes).
    cid
        The envelope's CID from the commit event.
    plaintext
        The decrypted update, or ``None``.
    problem
        Why there is no plaintext (unavailable, not decryptable), else ``None``.
    secret
        The envelope's content key (keys the central DP noise), if decrypted.
    """

    trainer: str
    update_sha256: bytes
    cid: str
    plaintext: bytes | None = None
    problem: str | None = None
    secret: bytes | None = None


@dataclass(frozen=True, slots=True)
class ScoredUpdate:
    """A trainer's verdict in a round."""

    trainer: str
    update_sha256: bytes
    cid: str
    score: int
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON form for the round record."""
        return {
            "trainer": self.trainer,
            "sha256": self.update_sha256.hex(),
            "cid": self.cid,
            "score": self.score,
            "rejected": self.reason,
        }


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    """What a committee member computed for a round."""

    weights: Weights
    weights_bytes: bytes
    weights_sha256: bytes
    updates: list[ScoredUpdate]
    tree: MerkleTree
    total_score: int
    skipped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _exact_dot(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    products = a.astype(np.float64) * b.astype(np.float64)  # exact for float32 inputs
    return math.fsum(products.tolist())


def aggregate_round(
    spec: TaskSpec,
    global_weights: Weights,
    commits: Sequence[CommittedUpdate],
    *,
    seed: int,
    round_number: int | None = None,
) -> RoundOutcome:
    """Compute a round's aggregate, scores and Merkle root.

    Parameters
    ----------
    spec
        The task spec.
    global_weights
        The round's starting weights.
    commits
        Every committed update of the round (any order).
    seed
        The round's public seed for randomised pre-aggregators.
    round_number
        The round (1-based); needed when the spec has DP, to account the round's epsilon.

    Returns
    -------
    RoundOutcome
        Everything a member posts, identical for identical inputs.

    Raises
    ------
    PrivacyBudgetError
        If the spec has DP and this round would exceed the task's epsilon budget.
    """
    if spec.dp is not None and round_number is None:
        raise ValueError("aggregate_round needs round_number for a task with DP")
    ordered = sorted(commits, key=lambda c: int(c.trainer, 16))
    reasons: dict[str, str] = {}
    parsed: dict[str, dict[str, NDArray[np.generic]]] = {}
    for commit in ordered:
        if commit.plaintext is None:
            reasons[commit.trainer] = commit.problem or "update unavailable"
            continue
        if hashlib.sha256(commit.plaintext).digest() != commit.update_sha256:
            reasons[commit.trainer] = "bytes do not match the committed sha256"
            continue
        try:
            parsed[commit.trainer] = dict(weights_from_bytes(commit.plaintext))
        except Exception as exc:  # safetensors raises its own error type
            reasons[commit.trainer] = f"not a safetensors update: {exc}"
    report = validate_updates(parsed, global_weights, max_norm=spec.max_norm)
    for rejection in report.rejections:
        reasons[rejection.client] = rejection.reason
    secrets = {c.trainer: c.secret for c in ordered}
    strategy = spec.strategy(
        round_number=round_number, noise_key=partial(_noise_key, report.clients, secrets)
    )
    global_vector = flatten(global_weights)
    skipped = None
    aggregate = np.zeros_like(global_vector)
    if report.clients:
        try:
            aggregate = strategy.aggregate(report.updates, None, seed=seed)
        except AggregationError as exc:
            skipped = str(exc)
    else:
        skipped = "no valid update"
    new_weights = unflatten(global_vector + aggregate, global_weights)
    scores: dict[str, int] = {}
    if skipped is None and not strategy.score_updates:
        # A private aggregate must not come with a score that depends on a trainer's data:
        # a published cosine between one update and the aggregate is a statistic of that
        # update outside the noise's protection (and against a noisy aggregate it would
        # punish honest trainers at random). Every accepted update scores the same.
        scores = dict.fromkeys(report.clients, SCORE_SCALE)
    elif skipped is None:
        aggregate_norm = math.sqrt(_exact_dot(aggregate, aggregate))
        for client, row in zip(report.clients, report.updates, strict=True):
            norm = math.sqrt(_exact_dot(row, row))
            cosine = (
                _exact_dot(row, aggregate) / (norm * aggregate_norm)
                if norm and aggregate_norm
                else 0.0
            )
            if cosine > spec.min_cosine and cosine > 0:
                scores[client] = max(1, math.floor(cosine * SCORE_SCALE))
            else:
                reasons[client] = (
                    f"cosine {cosine:.3f} with the aggregate is not above {spec.min_cosine:g}"
                )
    else:
        for client in report.clients:
            reasons[client] = f"round skipped: {skipped}"
    scored = [
        ScoredUpdate(
            c.trainer, c.update_sha256, c.cid, scores.get(c.trainer, 0), reasons.get(c.trainer)
        )
        for c in ordered
    ]
    privacy = strategy.record(len(report.clients))
    return round_outcome(new_weights, scored, skipped, {"privacy": privacy} if privacy else {})


def round_outcome(
    weights: Weights, scored: list[ScoredUpdate], skipped: str | None, extra: dict[str, Any]
) -> RoundOutcome:
    """Return the outcome of a round: canonical weight bytes, their hash, the scores' tree."""
    weights_bytes = weights_to_bytes(weights)
    return RoundOutcome(
        weights=weights,
        weights_bytes=weights_bytes,
        weights_sha256=hashlib.sha256(weights_bytes).digest(),
        updates=scored,
        tree=MerkleTree.build([update_leaf(s.trainer, s.update_sha256, s.score) for s in scored]),
        total_score=sum(s.score for s in scored),
        skipped=skipped,
        extra=extra,
    )


def _noise_key(clients: Sequence[str], secrets: dict[str, bytes | None]) -> bytes:
    """Key the central DP noise by the accepted updates' content keys (committee-only)."""
    missing = [c for c in clients if secrets.get(c) is None]
    if missing:
        raise AggregationError(f"no content key for {missing}: cannot key the DP noise")
    return hashlib.sha256(
        b"ledgerlearn/dp-noise/v1" + b"".join(secrets[c] or b"" for c in clients)
    ).digest()


def round_record(
    *,
    chain_id: int,
    coordinator: str,
    task: int,
    round_number: int,
    spec_cid: str,
    rule: str,
    global_sha256: bytes,
    global_cid: str,
    previous_record: str | None,
    outcome: RoundOutcome,
    aggregate_cid: str,
) -> bytes:
    """Return a round record's canonical bytes: the evidence of what the committee did.

    Records chain: each names the previous round's record, so the final record's CID leads
    back through every round of the task.

    Returns
    -------
    bytes
        Canonical JSON.
    """
    record = {
        "schema": RECORD_SCHEMA,
        "chainId": chain_id,
        "coordinator": coordinator,
        "task": task,
        "round": round_number,
        "spec": spec_cid,
        "rule": rule,
        "previousRecord": previous_record,
        "global": {"sha256": global_sha256.hex(), "cid": global_cid},
        "updates": [s.to_json() for s in outcome.updates],
        "updatesRoot": outcome.tree.root.hex(),
        "totalScore": outcome.total_score,
        "skipped": outcome.skipped,
        "aggregate": {"sha256": outcome.weights_sha256.hex(), "cid": aggregate_cid},
    }
    for name in ("privacy", "secureAggregation"):
        if name in outcome.extra:
            record[name] = outcome.extra[name]
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def final_manifest(
    base: ModelManifest,
    weights_bytes: bytes,
    *,
    base_version: int,
    task: int,
    coordinator: str,
    record_cid: str,
    rounds: int,
    rule: str,
) -> ModelManifest:
    """Return the manifest of the version a task registers: the base's, with new weights.

    Parameters
    ----------
    base
        The base version's manifest.
    weights_bytes
        The final aggregate's canonical bytes.
    base_version
        The parent version.
    task, coordinator, record_cid, rounds, rule
        The training provenance written into the model card.

    Returns
    -------
    ModelManifest
        Identical for every honest member.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "weights.safetensors"
        path.write_bytes(weights_bytes)
        weights = describe_weights(path)
    card = ModelCard(
        summary=base.card.summary,
        training={
            "method": "ledger-coordinated federated learning",
            "coordinator": coordinator,
            "task": task,
            "rounds": rounds,
            "rule": rule,
            "trainingRecord": record_cid,
        },
        evaluation={},
        data_manifests=[],
    )
    return replace(base, weights=weights, parent_version=base_version, card=card)
