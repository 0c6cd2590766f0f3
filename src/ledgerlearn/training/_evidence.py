"""The evidence trail of a trained model: from the registry version back through every round.

:func:`training_trail` starts at a task's final round and walks the chained round records
in the content store back to round 1. For each round it checks the record's CID against the
one the chain finalised, re-derives the Merkle root over ``(trainer, sha256, score)`` from the
record's entries and compares it, the aggregate sha256 and the total score with the chain's
result, and checks that the round started from the previous round's aggregate. Anyone with
the chain and the store can run it; nothing is taken on a node's word.

Trust assumption: the chain's consensus and sha256/keccak256; the store may lie (it is
checked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ledgerlearn.exceptions import TrainingError
from ledgerlearn.storage import ContentStore
from ledgerlearn.training._client import TrainingClient
from ledgerlearn.training._merkle import record_tree
from ledgerlearn.training._spec import TaskSpec

__all__ = ["RoundEvidence", "training_trail"]


@dataclass(frozen=True, slots=True)
class RoundEvidence:
    """One verified round of a task."""

    round: int
    record_cid: str
    aggregate_sha256: str
    commitment: str
    included: list[str]
    rejected: dict[str, str]
    committee: list[str]
    privacy: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "round": self.round,
            "record": self.record_cid,
            "aggregateSha256": self.aggregate_sha256,
            "commitment": self.commitment,
            "included": self.included,
            "rejected": self.rejected,
            "committee": self.committee,
            "privacy": self.privacy,
        }


def training_trail(
    client: TrainingClient, store: ContentStore, task_id: int
) -> list[RoundEvidence]:
    """Verify and return a task's rounds, first to last.

    Parameters
    ----------
    client
        The training client.
    store
        The content store holding the round records.
    task_id
        The task.

    Returns
    -------
    list[RoundEvidence]
        One entry per finalised round.

    Raises
    ------
    TrainingError
        If a record disagrees with the chain or the chain of records is broken.
    """
    finals = client.finalised(task_id)
    spec = TaskSpec.from_bytes(store.get(client.task(task_id).config.spec_cid))
    dp = spec.dp
    trail: list[RoundEvidence] = []
    previous_aggregate: str | None = None
    for number in sorted(finals):
        final = finals[number]
        record = json.loads(store.get(final["recordCid"]))
        result = client.result(task_id, number)
        entries = record["updates"]
        root = record_tree(entries).root
        problems = []
        if record.get("task") != task_id or record.get("round") != number:
            problems.append("record names another task or round")
        if root != result.updates_root:
            problems.append("entries do not rebuild the on-chain updates root")
        if bytes.fromhex(record["aggregate"]["sha256"]) != result.aggregate_sha256:
            problems.append("aggregate sha256 differs from the chain")
        if (
            record["totalScore"] != result.total_score
            or sum(e["score"] for e in entries) != result.total_score
        ):
            problems.append("total score differs from the chain")
        expected_previous = str(finals[number - 1]["recordCid"]) if number > 1 else None
        if record.get("previousRecord") != expected_previous:
            problems.append("previous record link is broken")
        if previous_aggregate is not None and record["global"]["sha256"] != previous_aggregate:
            problems.append("round did not start from the previous aggregate")
        if dp is not None:
            # Anyone can recompute what the round spent from the spec alone.
            spent = dp.accounting().spent(number)
            claimed = (record.get("privacy") or {}).get("epsilon")
            if claimed is None or abs(claimed - spent) > 1e-9 * max(1.0, spent):
                problems.append(f"recorded epsilon {claimed} is not the accountant's {spent}")
            elif spent > dp.epsilon:
                problems.append(f"epsilon {spent} exceeds the task's budget {dp.epsilon}")
        if problems:
            raise TrainingError(f"task {task_id} round {number}: " + "; ".join(problems))
        previous_aggregate = record["aggregate"]["sha256"]
        trail.append(
            RoundEvidence(
                round=number,
                record_cid=str(final["recordCid"]),
                aggregate_sha256=record["aggregate"]["sha256"],
                commitment=result.commitment.hex(),
                included=[e["trainer"] for e in entries if e["score"] > 0],
                rejected={e["trainer"]: e["rejected"] for e in entries if e["score"] == 0},
                committee=client.committee(task_id, number),
                privacy=record.get("privacy"),
            )
        )
    return trail
