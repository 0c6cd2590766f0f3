"""Secure aggregation inside training rounds: messages, their public routing, and the unmasking.

The protocol is :mod:`ledgerlearn.learning.secagg` (Bonawitz et al. 2017 with SecAgg+'s
sparse graph, Bell et al. 2020); this module runs it over the chain and the content store,
with no server routing anything. Each message is a blob in the store whose sha256 and CID a
trainer posts on chain inside the message's window (TrainingCoordinator ``postSecAgg``):

0. the **advert** (public keys, self-mask seed commitment) is the trainer's commit;
1. **shares**: one ChaCha20-Poly1305 box per graph neighbour (only that neighbour opens it);
2. **masked**: the quantised, clipped (and, with distributed DP, noised) update plus masks,
   uniform in Z_(2^32) to anyone without the masks;
3. **unmask**: the survivor's shares of its neighbours' seeds or keys.

The participants are the round's committers in address order, and the neighbour graph is
seeded by the beacon output of the round's committee draw, so no party chooses it. Every
reader applies :func:`load_messages`, the same validity rules on the same public data, so a
trainer's inbox is exactly what the committee's unmasking assumes it masked with, and the
survivor list is the set of step-2 posts the chain accepted by the window's end. A committee
member unmasks the exact field sum and posts the hash of the resulting weights, as in #6.

Trust assumption: the chain orders posts and enforces the windows; fewer than ``t`` of any
trainer's neighbours collude with whoever reads the store; trainers follow the protocol (a
malicious trainer can corrupt the sum, which secure aggregation cannot detect).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from eth_abi import encode as abi_encode
from eth_utils import keccak
from numpy.typing import NDArray

from ledgerlearn.exceptions import SecAggDropoutError, SecAggError
from ledgerlearn.learning.secagg import AdvertiseKeys, SecAggConfig, SecAggServer, UnmaskShares
from ledgerlearn.learning.weights import flatten, unflatten
from ledgerlearn.training._aggregate import (
    SCORE_SCALE,
    RoundOutcome,
    ScoredUpdate,
    round_outcome,
)
from ledgerlearn.training._spec import TaskSpec

__all__ = [
    "MASKED_MAGIC",
    "RoundMessages",
    "decode_advert",
    "encode_advert",
    "encode_masked",
    "encode_shares",
    "encode_unmask",
    "load_messages",
    "read_masked",
    "round_config",
    "round_context",
    "secagg_input",
    "secagg_round",
]

ADVERT_SCHEMA = "ledgerlearn/secagg-advert/v1"
SHARES_SCHEMA = "ledgerlearn/secagg-shares/v1"
UNMASK_SCHEMA = "ledgerlearn/secagg-unmask/v1"
MASKED_MAGIC = b"ledgerlearn/secagg-masked/v1\n"

Weights = dict[str, NDArray[np.float32]]
Fetch = Callable[[str], bytes]


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def round_context(chain_id: int, coordinator: str, task: int, round_number: int) -> bytes:
    """Return the round id every key and mask of a round is bound to."""
    return keccak(
        abi_encode(
            ["string", "uint256", "address", "uint256", "uint256"],
            ["ledgerlearn.secagg", chain_id, coordinator, task, round_number],
        )
    )


def round_config(
    spec: TaskSpec,
    *,
    round_id: bytes,
    participants: Sequence[str],
    seed: bytes,
    dimension: int,
    min_clients: int,
) -> SecAggConfig:
    """Return the protocol settings of one round, the same for every reader.

    Parameters
    ----------
    spec
        The task spec (``privacy.secagg``, and ``privacy.dp`` for the noise range).
    round_id
        :func:`round_context`.
    participants
        The round's committers.
    seed
        The beacon output of the round's committee draw.
    dimension
        Parameters in the model.
    min_clients
        The task's ``minTrainers``: the fewest clients whose noise shares make up the DP noise.
    """
    settings = spec.secagg
    if settings is None:
        raise SecAggError("the task's spec does not ask for secure aggregation")
    dp = spec.dp
    noise = dp.client_noise_std(min_clients) if dp is not None else 0.0
    return SecAggConfig(
        round_id=round_id,
        participants=tuple(sorted(participants, key=lambda a: int(a, 16))),
        seed=seed,
        dimension=dimension,
        quantizer=settings.quantizer(spec.update_clip, noise),
        degree=_fit_degree(settings.degree, len(participants)),
        threshold=settings.threshold,
    )


def _fit_degree(degree: int | None, n: int) -> int | None:
    """Cap a configured degree at the complete graph (fewer committers than planned)."""
    if degree is None or degree < n - 1:
        return degree
    return n - 1


def secagg_input(
    spec: TaskSpec, delta: NDArray[np.floating], noise_key: bytes, min_clients: int
) -> NDArray[np.float64]:
    """Return what a trainer masks: its update clipped to the task's L2 bound, plus its noise.

    Parameters
    ----------
    spec
        The task spec.
    delta
        The flat local update.
    noise_key
        A secret 32-byte key for this trainer and round (keys its DP noise share).
    min_clients
        The task's ``minTrainers``.
    """
    return spec.client_update(delta, noise_key=noise_key, min_clients=min_clients)


# --- message encoding -----------------------------------------------------------------


def encode_advert(advert: AdvertiseKeys) -> bytes:
    """Return an advert's canonical bytes (what a trainer commits)."""
    return _canonical(
        {
            "schema": ADVERT_SCHEMA,
            "trainer": advert.client,
            "encryptionKey": advert.encryption_key.hex(),
            "maskKey": advert.mask_key.hex(),
            "seedCommitment": advert.seed_commitment.hex(),
        }
    )


def decode_advert(raw: bytes, trainer: str) -> AdvertiseKeys:
    """Parse an advert committed by ``trainer``.

    Raises
    ------
    SecAggError
        If it is not a well-formed advert of that trainer.
    """
    data = _json(raw, ADVERT_SCHEMA)
    if data.get("trainer") != trainer:
        raise SecAggError(f"advert names {data.get('trainer')!r}, committed by {trainer}")
    keys = [_hex32(data, name) for name in ("encryptionKey", "maskKey", "seedCommitment")]
    return AdvertiseKeys(trainer, *keys)


def encode_shares(trainer: str, boxes: Mapping[str, bytes]) -> bytes:
    """Return a step-1 message: the share boxes by recipient."""
    return _canonical(
        {
            "schema": SHARES_SCHEMA,
            "trainer": trainer,
            "boxes": {to: box.hex() for to, box in sorted(boxes.items())},
        }
    )


def encode_masked(masked: NDArray[np.uint32]) -> bytes:
    """Return a step-2 message: the masked input as little-endian 32-bit words."""
    return MASKED_MAGIC + np.asarray(masked, dtype="<u4").tobytes()


def encode_unmask(response: UnmaskShares) -> bytes:
    """Return a step-3 message: the y-values of the revealed shares by neighbour."""
    return _canonical(
        {
            "schema": UNMASK_SCHEMA,
            "trainer": response.client,
            "seedShares": {n: format(y, "x") for n, (_, y) in sorted(response.seed_shares.items())},
            "keyShares": {n: format(y, "x") for n, (_, y) in sorted(response.key_shares.items())},
        }
    )


def _json(raw: bytes, schema: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SecAggError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != schema:
        raise SecAggError(f"schema must be {schema!r}")
    return data


def _hex32(data: dict[str, Any], name: str) -> bytes:
    try:
        value = bytes.fromhex(data[name])
    except (KeyError, TypeError, ValueError) as exc:
        raise SecAggError(f"{name} missing or not hex") from exc
    if len(value) != 32:
        raise SecAggError(f"{name} must be 32 bytes")
    return value


# --- reading a round ------------------------------------------------------------------


@dataclass
class RoundMessages:
    """The valid messages of a round, as every reader sees them.

    Attributes
    ----------
    adverts
        Step 0, by trainer.
    shares
        Step 1: sender → recipient → box.
    survivors
        Step 2: trainers with a valid step-1 message that posted a masked input on chain.
        The chain's record alone decides it, so a trainer learns the list without
        downloading every masked input; a survivor whose masked input then turns out
        unavailable or malformed makes the round fail (like a wrong masked input would
        corrupt it, which secure aggregation cannot prevent either).
    masked
        Step 2 inputs, by trainer (read only when ``upto`` is 3).
    unmask
        Step 3, by trainer.
    problems
        Trainer → why its first invalid or missing message does not count.
    """

    adverts: dict[str, AdvertiseKeys] = field(default_factory=dict)
    shares: dict[str, dict[str, bytes]] = field(default_factory=dict)
    survivors: list[str] = field(default_factory=list)
    masked: dict[str, NDArray[np.uint32]] = field(default_factory=dict)
    unmask: dict[str, UnmaskShares] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def inbox(self, trainer: str) -> dict[str, bytes]:
        """Return the share boxes addressed to ``trainer``, by sender."""
        return {
            sender: boxes[trainer]
            for sender, boxes in sorted(self.shares.items())
            if trainer in boxes
        }


def _fetch_checked(fetch: Fetch, sha: bytes, cid: str) -> bytes:
    try:
        raw = fetch(cid)
    except Exception as exc:  # store errors of any kind make the message unavailable
        raise SecAggError(f"unavailable: {exc}") from exc
    if hashlib.sha256(raw).digest() != sha:
        raise SecAggError("bytes do not match the posted sha256")
    return raw


def load_messages(
    config: SecAggConfig,
    commits: Mapping[str, tuple[bytes, str]],
    posts: Mapping[int, Mapping[str, tuple[bytes, str]]],
    fetch: Fetch,
    *,
    upto: int = 3,
    senders: Collection[str] | None = None,
) -> RoundMessages:
    """Read and validate a round's messages up to step ``upto`` (0-3).

    A trainer's step-``k`` message counts only if its step ``k - 1`` message counted; a
    message counts if its bytes match the posted sha256 and it is well formed for its
    sender (boxes and shares only for graph neighbours). Step 2 counts by its post alone
    (:attr:`RoundMessages.survivors`); :func:`read_masked` reads the inputs.

    Whether a sender's messages count depends on its own messages only, so reading a
    subset of senders gives the same verdicts for them. A trainer reads itself and its
    graph neighbours, O(log n) senders in SecAgg+, where the committee reads everyone.

    Parameters
    ----------
    config
        The round's protocol settings.
    commits
        Trainer → (advert sha256, CID), the round's commits.
    posts
        Step → trainer → (message sha256, CID), the round's ``SecAggPosted`` events.
    fetch
        Reads a CID from the content store.
    upto
        The last step to read.
    senders
        Read only these trainers' messages (all participants when omitted).
    """
    messages = RoundMessages()
    for trainer in config.participants:
        if senders is not None and trainer not in senders:
            continue
        try:
            sha, cid = commits[trainer]
            messages.adverts[trainer] = decode_advert(_fetch_checked(fetch, sha, cid), trainer)
        except (KeyError, SecAggError) as exc:
            messages.problems[trainer] = f"advert: {exc}"
    counted: set[str] = set(messages.adverts)
    for step in range(1, upto + 1):
        posted = posts.get(step, {})
        now: set[str] = set()
        for trainer in sorted(counted):
            if trainer not in posted:
                messages.problems.setdefault(trainer, f"no step-{step} message")
                continue
            if step == 2:
                now.add(trainer)  # the post decides; the bytes are read for step 3 below
                continue
            try:
                raw = _fetch_checked(fetch, *posted[trainer])
                if step == 1:
                    _read_shares(config, messages, trainer, raw)
                else:
                    _read_unmask(config, messages, trainer, raw)
                now.add(trainer)
            except SecAggError as exc:
                messages.problems.setdefault(trainer, f"step {step}: {exc}")
        if step == 2:
            messages.survivors = sorted(now, key=lambda a: int(a, 16))
        counted = now
    return messages


def read_masked(
    config: SecAggConfig,
    messages: RoundMessages,
    posts: Mapping[int, Mapping[str, tuple[bytes, str]]],
    fetch: Fetch,
) -> None:
    """Read every survivor's masked input into ``messages.masked``.

    Raises
    ------
    SecAggError
        If a survivor's masked input is unavailable or malformed: the sum cannot be
        unmasked without it.
    """
    for trainer in messages.survivors:
        try:
            raw = _fetch_checked(fetch, *posts[2][trainer])
            _read_masked(config, messages, trainer, raw)
        except SecAggError as exc:
            raise SecAggError(f"the masked input of survivor {trainer} is unusable: {exc}") from exc


def _read_shares(config: SecAggConfig, messages: RoundMessages, trainer: str, raw: bytes) -> None:
    data = _json(raw, SHARES_SCHEMA)
    boxes = data.get("boxes")
    if data.get("trainer") != trainer or not isinstance(boxes, dict):
        raise SecAggError("malformed share message")
    neighbours = config.graph[trainer]
    try:
        decoded = {to: bytes.fromhex(box) for to, box in boxes.items()}
    except (TypeError, ValueError) as exc:
        raise SecAggError("a share box is not hex") from exc
    if not set(decoded) <= neighbours:
        raise SecAggError("shares addressed to non-neighbours")
    messages.shares[trainer] = decoded


def _read_masked(config: SecAggConfig, messages: RoundMessages, trainer: str, raw: bytes) -> None:
    body = raw[len(MASKED_MAGIC) :]
    if not raw.startswith(MASKED_MAGIC) or len(body) != 4 * config.dimension:
        raise SecAggError(f"a masked input must be {config.dimension} 32-bit words")
    messages.masked[trainer] = np.frombuffer(body, dtype="<u4").astype(np.uint32)


def _read_unmask(config: SecAggConfig, messages: RoundMessages, trainer: str, raw: bytes) -> None:
    data = _json(raw, UNMASK_SCHEMA)
    neighbours = config.graph[trainer]
    point = config.point(trainer)
    parsed: list[dict[str, tuple[int, int]]] = []
    for name in ("seedShares", "keyShares"):
        values = data.get(name)
        if data.get("trainer") != trainer or not isinstance(values, dict):
            raise SecAggError("malformed unmask message")
        if not set(values) <= neighbours:
            raise SecAggError("shares about non-neighbours")
        try:
            parsed.append({about: (point, int(y, 16)) for about, y in values.items()})
        except (TypeError, ValueError) as exc:
            raise SecAggError("a share is not hex") from exc
    messages.unmask[trainer] = UnmaskShares(trainer, parsed[0], parsed[1])


# --- the committee's computation ------------------------------------------------------


def unmask_sum(config: SecAggConfig, messages: RoundMessages) -> tuple[NDArray[np.float64], int]:
    """Return the float sum of the survivors' inputs and their number.

    Raises
    ------
    SecAggDropoutError
        If too few shares arrived to unmask (too many dropouts).
    SecAggError
        If a rebuilt secret does not match its owner's advert.
    """
    server = SecAggServer(config)
    for advert in messages.adverts.values():
        server.receive_advert(advert)
    for sender, boxes in sorted(messages.shares.items()):
        server.receive_shares(sender, boxes)
    for trainer in messages.survivors:
        if trainer not in messages.masked:
            raise SecAggError(f"the masked input of {trainer} was not read (read_masked)")
        server.inbox(trainer)
        server.receive_masked(trainer, messages.masked[trainer])
    if not messages.survivors:
        raise SecAggDropoutError("no trainer sent a masked input")
    return server.aggregate(list(messages.unmask.values()))


def secagg_round(
    spec: TaskSpec,
    global_weights: Weights,
    config: SecAggConfig,
    commits: Mapping[str, tuple[bytes, str]],
    messages: RoundMessages,
    *,
    min_clients: int,
    round_number: int,
    read: Callable[[], None] | None = None,
) -> RoundOutcome:
    """Compute a secure-aggregation round's aggregate, scores and Merkle root.

    The new weights are the global weights plus the mean of the survivors' inputs (the
    unmasked sum over their number). Each survivor scores the same; a committer that
    dropped out scores zero with the reason. If the sum cannot be unmasked, or under
    distributed DP fewer than ``min_clients`` survived, the round is skipped (weights
    unchanged) and the record says why; the survivors keep their score, since the failure
    is the dropouts' doing, not theirs (a zero would count towards their slashing).

    ``read`` loads the survivors' masked inputs (:func:`read_masked`) once the round is
    known to need them.

    Raises
    ------
    PrivacyBudgetError
        If the spec has DP and this round would exceed the task's epsilon budget.
    """
    strategy = spec.strategy(round_number=round_number, min_clients=min_clients)
    global_vector = flatten(global_weights)
    survivors = messages.survivors
    skipped: str | None = None
    aggregate = np.zeros_like(global_vector)
    try:
        if len(survivors) < strategy.min_inputs:
            raise SecAggDropoutError(
                f"{len(survivors)} survivors, fewer than the {strategy.min_inputs} whose noise "
                "shares make up the DP noise"
            )
        if read is not None:
            read()
        total, count = unmask_sum(config, messages)
        aggregate = (total / count).astype(np.float32)
    except SecAggError as exc:
        skipped = f"secure aggregation failed: {exc}"
    privacy = strategy.record(len(survivors))
    secure = {
        "protocol": "secagg+ (Bonawitz et al. 2017; Bell et al. 2020)",
        "participants": len(config.participants),
        "survivors": survivors,
        "degree": len(config.graph[config.participants[0]]),
        "threshold": config.share_threshold,
        "bits": config.quantizer.bits,
        "range": config.quantizer.clip,
    }
    new_weights = unflatten(global_vector + aggregate, global_weights)
    ordered = sorted(config.participants, key=lambda a: int(a, 16))
    scored = []
    for trainer in ordered:
        sha, cid = commits[trainer]
        if trainer in messages.survivors:
            scored.append(ScoredUpdate(trainer, sha, cid, SCORE_SCALE, None))
        else:
            reason = messages.problems.get(trainer, "dropped out")
            scored.append(ScoredUpdate(trainer, sha, cid, 0, reason))
    extra: dict[str, Any] = {"secureAggregation": secure}
    if privacy:
        extra["privacy"] = privacy
    return round_outcome(new_weights, scored, skipped, extra)
