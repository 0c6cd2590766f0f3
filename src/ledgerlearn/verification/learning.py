"""Proof-of-learning: checkpointed training logs, beacon-sampled re-execution, slashing.

A trainer doing training work (:func:`train_with_proof`) records a checkpoint every ``k``
SGD steps, with each segment's seed and the batch indices drawn from it, stores the
checkpoints and the log in the content store, and commits the log's Merkle root with the
hash of the weights it produced (:meth:`LearningProofClient.submit`). The
``LearningProofs`` contract asks the beacon for randomness after the commitment, which
samples segments and draws a panel of staked verifiers. Each :class:`LearningVerifier`
re-executes the sampled segments from their starting checkpoints with the logged batches
(:func:`check_segment`) and posts whether the ending checkpoint was reproduced within the
tolerance; a quorum of failures slashes the trainer, the failed check on chain being the
evidence.

Reference: Jia, Yaghini, Choquette-Choo, Dullerud, Thudi, Chandrasekaran and Papernot,
*Proof-of-Learning: Definitions and Practice*, IEEE S&P 2021 (checkpoints every ``k``
steps, verification of sampled segments against a distance threshold ``δ``).

Where it applies: work whose verifiers may see the data — compute jobs, public datasets.
Private federated clients cannot be checked this way (a verifier would need their data);
their defence stays robust aggregation and reputation (:mod:`ledgerlearn.learning`).

Trust assumption: fewer than ``quorum`` of a panel are dishonest; the beacon is unbiased;
SGD is reproducible to within the tolerance on the verifiers' machines (float32 NumPy on
the same data and batches reproduces bit for bit on one platform; the tolerance absorbs
BLAS differences across platforms). A trainer that forges ``f`` of ``m`` segments escapes
``s`` sampled segments with probability about ``(1 - f/m)^s``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from numpy.typing import NDArray

from ledgerlearn.exceptions import VerificationError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.learning.models import MLP, TrainConfig, weights_from_bytes
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest
from ledgerlearn.ledger.enums import LearningProofsStatus
from ledgerlearn.storage import ContentStore
from ledgerlearn.verification.optimistic import MerkleTree

__all__ = [
    "LOG_KIND",
    "LearningProofClient",
    "LearningVerifier",
    "ProofOfLearning",
    "SegmentCheck",
    "check_segment",
    "dataset_sha256",
    "train_with_proof",
]

LOG_KIND = "ledgerlearn/proof-of-learning/1"
"""The ``kind`` field of a proof-of-learning log."""

"""``LearningProofs.Status`` names, in enum order."""

DEFAULT_TOLERANCE = 1e-4
"""Relative L2 distance a reproduced checkpoint may differ by (Jia et al.'s ``δ``)."""


def dataset_sha256(x: NDArray[Any], y: NDArray[Any]) -> str:
    """Return the sha256 binding a training set (float32 features, int64 labels)."""
    digest = hashlib.sha256(np.ascontiguousarray(x, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return digest.hexdigest()


def _segment_seed(seed: int, segment: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{segment}".encode()).digest()[:8], "big")


def _batches(seed: int, n: int, steps: int, batch_size: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [sorted(int(i) for i in rng.choice(n, batch_size, replace=False)) for _ in range(steps)]


def _segment_leaf(segment: dict[str, Any]) -> bytes:
    batches = keccak(json.dumps(segment["batches"], separators=(",", ":")).encode())
    return keccak(
        abi_encode(
            ["uint256", "bytes32", "bytes32", "uint256", "bytes32"],
            [
                segment["index"],
                bytes.fromhex(segment["start"]["sha256"]),
                bytes.fromhex(segment["end"]["sha256"]),
                segment["seed"],
                batches,
            ],
        )
    )


@dataclass
class ProofOfLearning:
    """A proof-of-learning log: the training recipe and one entry per segment.

    ``segments[i]`` has ``index``, ``seed``, ``batches`` (``k`` lists of indices into the
    training set) and ``start``/``end`` checkpoints (``cid``, ``sha256``).
    """

    architecture: dict[str, Any]
    dataset: str
    batch_size: int
    learning_rate: float
    k: int
    segments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def root(self) -> bytes:
        """The Merkle root committed on chain."""
        return MerkleTree([_segment_leaf(s) for s in self.segments]).root

    @property
    def update_sha256(self) -> str:
        """The sha256 of the weights the training produced (the last checkpoint)."""
        return str(self.segments[-1]["end"]["sha256"])

    def to_bytes(self) -> bytes:
        """Canonical JSON."""
        document = {
            "kind": LOG_KIND,
            "architecture": self.architecture,
            "dataset": self.dataset,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "k": self.k,
            "segments": self.segments,
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ProofOfLearning:
        """Parse a log.

        Raises
        ------
        VerificationError
            If ``raw`` is not a proof-of-learning log.
        """
        try:
            doc = json.loads(raw)
            if doc.get("kind") != LOG_KIND:
                raise ValueError(f"kind is {doc.get('kind')!r}, expected {LOG_KIND!r}")
            return cls(
                architecture=dict(doc["architecture"]),
                dataset=str(doc["dataset"]),
                batch_size=int(doc["batch_size"]),
                learning_rate=float(doc["learning_rate"]),
                k=int(doc["k"]),
                segments=list(doc["segments"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VerificationError(f"not a proof-of-learning log: {exc}") from exc


def _model(architecture: dict[str, Any]) -> MLP:
    return MLP(
        int(architecture["inputs"]),
        int(architecture["classes"]),
        tuple(int(h) for h in architecture.get("hidden", ())),
        seed=0,
    )


def _step(model: MLP, x: NDArray[Any], y: NDArray[Any], batch: Sequence[int], rate: float) -> None:
    # One plain SGD step on exactly this batch (fit shuffles within it; the mean gradient
    # does not depend on the order beyond float rounding, and the seed is fixed).
    index = np.asarray(batch, dtype=np.int64)
    model.fit(x[index], y[index], TrainConfig(batch_size=len(index), learning_rate=rate))


def _put(store: ContentStore, model: MLP) -> dict[str, str]:
    raw = model.to_bytes()
    return {"cid": str(store.put(raw)), "sha256": hashlib.sha256(raw).hexdigest()}


def train_with_proof(
    model: MLP,
    x: NDArray[Any],
    y: NDArray[Any],
    store: ContentStore,
    *,
    segments: int,
    k: int = 10,
    batch_size: int = 32,
    learning_rate: float = 0.1,
    seed: int = 0,
) -> ProofOfLearning:
    """Train ``model`` in place for ``segments · k`` SGD steps, recording the proof log.

    Each segment's batches are drawn from a seed derived from ``seed``; every checkpoint
    is stored in ``store``.

    Raises
    ------
    VerificationError
        If the training set is smaller than one batch.
    """
    if len(y) < batch_size or segments < 1 or k < 1:
        raise VerificationError(
            f"need segments >= 1, k >= 1 and at least {batch_size} examples, got "
            f"{segments}, {k} and {len(y)}"
        )
    log = ProofOfLearning(
        architecture={
            "kind": "mlp",
            "inputs": model.sizes[0],
            "hidden": model.sizes[1:-1],
            "classes": model.sizes[-1],
        },
        dataset=dataset_sha256(x, y),
        batch_size=batch_size,
        learning_rate=learning_rate,
        k=k,
    )
    features = np.asarray(x, dtype=np.float32)
    labels = np.asarray(y, dtype=np.int64)
    start = _put(store, model)
    for index in range(segments):
        segment_seed = _segment_seed(seed, index)
        batches = _batches(segment_seed, len(labels), k, batch_size)
        for batch in batches:
            _step(model, features, labels, batch, learning_rate)
        end = _put(store, model)
        log.segments.append(
            {"index": index, "seed": segment_seed, "batches": batches, "start": start, "end": end}
        )
        start = end
    return log


@dataclass(frozen=True, slots=True)
class SegmentCheck:
    """The outcome of re-executing one segment.

    ``distance`` is ``‖W' - W_end‖ / ‖W_end‖`` (relative L2 over all weights); ``reason``
    says why a check failed without re-executing (forged seed or batches, bad checkpoint).
    """

    segment: int
    passed: bool
    distance: float
    reason: str = ""

    @property
    def distance_ppm(self) -> int:
        """The distance in parts per million, as posted on chain (capped at 2^64)."""
        if not np.isfinite(self.distance):
            return 2**64
        return min(2**64, round(self.distance * 1e6))


def _load(store: ContentStore, checkpoint: dict[str, str]) -> dict[str, NDArray[np.float32]]:
    raw = store.get(checkpoint["cid"])
    if hashlib.sha256(raw).hexdigest() != checkpoint["sha256"]:
        raise VerificationError(f"checkpoint {checkpoint['cid']} does not hash to its sha256")
    return dict(weights_from_bytes(raw))


def check_segment(
    log: ProofOfLearning,
    index: int,
    x: NDArray[Any],
    y: NDArray[Any],
    store: ContentStore,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> SegmentCheck:
    """Re-execute segment ``index`` of ``log`` on the training set and compare.

    The segment's batches must be the ones its seed draws, its starting checkpoint the
    previous segment's end, and re-running its ``k`` steps must reproduce its ending
    checkpoint within ``tolerance``.

    Raises
    ------
    VerificationError
        If ``x``, ``y`` are not the log's dataset, or ``index`` is out of range.
    """
    if dataset_sha256(x, y) != log.dataset:
        raise VerificationError("the training set given is not the one the log names")
    if not 0 <= index < len(log.segments):
        raise VerificationError(f"segment {index} is outside a log of {len(log.segments)}")
    segment = log.segments[index]
    expected = _batches(int(segment["seed"]), len(y), log.k, log.batch_size)
    if segment["batches"] != expected:
        return SegmentCheck(index, False, float("inf"), "batches are not the seed's")
    if index > 0 and segment["start"] != log.segments[index - 1]["end"]:
        return SegmentCheck(index, False, float("inf"), "does not start at the previous end")
    try:
        start, end = _load(store, segment["start"]), _load(store, segment["end"])
    except (VerificationError, KeyError, ValueError) as exc:
        return SegmentCheck(index, False, float("inf"), f"checkpoint unreadable: {exc}")
    model = _model(log.architecture)
    model.set_weights(start)
    features = np.asarray(x, dtype=np.float32)
    labels = np.asarray(y, dtype=np.int64)
    for batch in segment["batches"]:
        _step(model, features, labels, batch, log.learning_rate)
    mine = model.get_weights()
    diff = sum(float(np.sum((mine[n] - end[n]).astype(np.float64) ** 2)) for n in end)
    norm = sum(float(np.sum(end[n].astype(np.float64) ** 2)) for n in end)
    distance = float(np.sqrt(diff / max(norm, 1e-30)))
    return SegmentCheck(index, distance <= tolerance, distance)


@dataclass(frozen=True, slots=True)
class ProofClaim:
    """A claim as ``LearningProofs`` holds it."""

    claim_id: int
    status: LearningProofsStatus
    verifiers: int
    verdicts: int
    segments: int
    deadline: int
    trainer: str
    update_hash: bytes
    log_root: bytes


class LearningProofClient(ContractClient):
    """Typed access to a deployment's ``LearningProofs``.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The deployment manifest.
    """

    contract_name = "LearningProofs"

    def __init__(self, chain: Chain, deployment: DeploymentManifest) -> None:
        if "LearningProofs" not in deployment.contracts:
            raise VerificationError("this deployment has no LearningProofs; redeploy it")
        super().__init__(chain, deployment)

    def get_claim(self, claim_id: int) -> ProofClaim:
        """Return claim ``claim_id`` (status ``none`` if unknown)."""
        raw = self._call(self.functions.getClaim(claim_id))
        return ProofClaim(
            claim_id,
            LearningProofsStatus(int(raw[0])),
            int(raw[1]),
            int(raw[2]),
            int(raw[3]),
            int(raw[4]),
            str(raw[5]),
            bytes(raw[6]),
            bytes(raw[7]),
        )

    def randomness_request_id(self, claim_id: int) -> bytes:
        """Return the beacon request that samples ``claim_id``."""
        return bytes(self._call(self.functions.randomnessRequestId(claim_id)))

    def verdict_of(self, claim_id: int, verifier: str) -> SegmentCheck | None:
        """Return the check ``verifier`` posted on ``claim_id``, or ``None``."""
        posted, passed, segment, distance = self._call(
            self.functions.verdictOf(claim_id, to_checksum_address(verifier))
        )
        if not posted:
            return None
        return SegmentCheck(int(segment), bool(passed), int(distance) / 1e6)

    def log_cid(self, claim_id: int) -> str:
        """Return the CID of ``claim_id``'s log, from its ``WorkSubmitted`` event."""
        (event,) = self._logs("WorkSubmitted", claimId=claim_id)
        return bytes(event["args"]["logCid"]).decode()

    def drawn(self, claim_id: int) -> tuple[list[str], list[int]]:
        """Return ``claim_id``'s panel and sampled segments (empty before the draw)."""
        events = self._logs("VerifiersDrawn", claimId=claim_id)
        if not events:
            return [], []
        args = events[0]["args"]
        return list(args["verifiers"]), [int(s) for s in args["segments"]]

    def submit(
        self,
        key: Secp256k1Key,
        log: ProofOfLearning,
        store: ContentStore,
        *,
        trainer: str = "",
    ) -> int:
        """Store ``log`` and commit its root with the update's hash; return the claim id."""
        cid = str(store.put(log.to_bytes()))
        who = to_checksum_address(trainer or key.address)
        function = self.functions.submit(
            who,
            bytes.fromhex(log.update_sha256),
            log.root,
            len(log.segments),
            cid.encode(),
        )
        receipt = self._transact(key, function)
        (event,) = self._receipt_events("WorkSubmitted", receipt)
        return int(event["args"]["claimId"])

    def draw(self, key: Secp256k1Key, claim_id: int) -> tuple[list[str], list[int]]:
        """Sample the segments and draw the panel; return both."""
        self._transact(key, self.functions.draw(claim_id))
        return self.drawn(claim_id)

    def submit_verdict(
        self, key: Secp256k1Key, claim_id: int, check: SegmentCheck, *, verifier: str = ""
    ) -> None:
        """Post ``verifier``'s (default ``key``'s) worst segment check on ``claim_id``."""
        who = to_checksum_address(verifier or key.address)
        panel, _ = self.drawn(claim_id)
        function = self.functions.submitVerdict(
            claim_id, who, panel, check.passed, check.segment, check.distance_ppm
        )
        self._transact(key, function)

    def finalize(self, key: Secp256k1Key, claim_id: int) -> tuple[LearningProofsStatus, int]:
        """Count the checks; return the status and the stake slashed from the trainer."""
        panel, _ = self.drawn(claim_id)
        receipt = self._transact(key, self.functions.finalize(claim_id, panel))
        (event,) = self._receipt_events("CheckFinalized", receipt)
        return LearningProofsStatus(int(event["args"]["status"])), int(event["args"]["slashed"])


class LearningVerifier:
    """Re-executes the segments it is drawn to check and posts its verdict.

    Parameters
    ----------
    key
        The verifier identity's key.
    client
        The proof-of-learning client.
    store
        Where logs and checkpoints are read.
    x, y
        The public training set the jobs use.
    tolerance
        Relative distance a reproduced checkpoint may differ by.
    """

    def __init__(
        self,
        key: Secp256k1Key,
        client: LearningProofClient,
        store: ContentStore,
        x: NDArray[Any],
        y: NDArray[Any],
        *,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> None:
        self.key = key
        self.client = client
        self.store = store
        self.x = x
        self.y = y
        self.tolerance = tolerance

    def check(self, claim_id: int) -> SegmentCheck:
        """Check ``claim_id``'s sampled segments; return the worst check (not posted).

        A log that does not hash to the committed root, or names other weights than the
        committed update, fails outright.
        """
        claim = self.client.get_claim(claim_id)
        _, sampled = self.client.drawn(claim_id)
        try:
            log = ProofOfLearning.from_bytes(self.store.get(self.client.log_cid(claim_id)))
        except (VerificationError, KeyError, ValueError) as exc:
            return SegmentCheck(0, False, float("inf"), f"log unreadable: {exc}")
        if log.root != claim.log_root or len(log.segments) != claim.segments:
            return SegmentCheck(0, False, float("inf"), "log does not match the commitment")
        if bytes.fromhex(log.update_sha256) != claim.update_hash:
            return SegmentCheck(0, False, float("inf"), "log ends at other weights")
        checks = [
            check_segment(log, s, self.x, self.y, self.store, tolerance=self.tolerance)
            for s in sorted(set(sampled))
        ]
        failed = [c for c in checks if not c.passed]
        return failed[0] if failed else max(checks, key=lambda c: c.distance)

    def verify(self, claim_id: int) -> SegmentCheck:
        """Check ``claim_id`` and post the verdict (once); return the check."""
        posted = self.client.verdict_of(claim_id, self.key.address)
        if posted is not None:  # idempotent: what was posted stands
            return posted
        result = self.check(claim_id)
        self.client.submit_verdict(self.key, claim_id, result)
        return result
