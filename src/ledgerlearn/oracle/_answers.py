"""Provider answers: the EIP-712 statement a provider signs, and the quorum aggregate.

A provider answers request ``r`` by signing (EIP-712, eips.ethereum.org/EIPS/eip-712)
``Answer(requestId, modelHash, inputHash, outputHash, value)`` in the domain
``("LedgerLearn InferenceOracle", "1", chainId, oracle)``: the signature names the model
artifact it ran, the input it read and the output it produced, and cannot be replayed on
another request, contract or chain. ``value`` is the number the contract aggregates: a
class index for labels, or a fixed-point number (:data:`VALUE_SCALE`) for regression.

:func:`aggregate` and :func:`agreement` are the contract's rules, so a reporter can build a
report that the contract accepts and anyone can recheck one: the lower median (element
``(n - 1) // 2`` of the sorted values) or the most frequent value (ties to the smaller),
and an answer agrees when it is within ``tolerance`` of the median, or equal to the label.

Trust assumption: none here; every signature and the aggregate are checked on chain.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import to_checksum_address

from ledgerlearn.keys import (
    Eip712Domain,
    Secp256k1Key,
    hash_typed_data,
    recover_typed_data_signer,
    sign_typed_data,
)

__all__ = [
    "ANSWER_TYPES",
    "INT256_MAX",
    "INT256_MIN",
    "VALUE_SCALE",
    "Mode",
    "SignedAnswer",
    "aggregate",
    "agreement",
    "answer_digest",
    "answer_domain",
    "decode_value",
    "encode_value",
    "recover_answer_signer",
    "sign_answer",
]

VALUE_SCALE = 10**6
"""Fixed-point scale of numeric answers: the value 1.5 travels as 1_500_000."""

INT256_MAX = 2**255 - 1
INT256_MIN = -(2**255)

ANSWER_TYPES = {
    "Answer": [
        {"name": "requestId", "type": "uint256"},
        {"name": "modelHash", "type": "bytes32"},
        {"name": "inputHash", "type": "bytes32"},
        {"name": "outputHash", "type": "bytes32"},
        {"name": "value", "type": "int256"},
    ]
}


class Mode(IntEnum):
    """How a request's answers are combined (``InferenceOracle.Mode``).

    ``PROVEN`` requests are settled by one zk proof of inference, not by a quorum; their
    result is a label, like ``MAJORITY``'s (see :mod:`ledgerlearn.verification.zk`).
    ``OPTIMISTIC`` requests are settled by one bonded claim that survives a challenge window
    (see :mod:`ledgerlearn.verification.optimistic`); their result is a label too.
    """

    MEDIAN = 0
    MAJORITY = 1
    PROVEN = 2
    OPTIMISTIC = 3

    @property
    def is_single(self) -> bool:
        """Whether one provider settles the request (``PROVEN``, ``OPTIMISTIC``), not a quorum."""
        return self >= Mode.PROVEN

    @property
    def is_label(self) -> bool:
        """Whether values are class labels (every mode but ``MEDIAN``) rather than numbers."""
        return self is not Mode.MEDIAN

    @classmethod
    def parse(cls, text: str) -> Mode:
        """Return the mode named ``median``, ``majority``, ``proven`` or ``optimistic``."""
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(
                f"unknown aggregation mode {text!r}: use median, majority, proven or optimistic"
            ) from None


@dataclass(frozen=True, slots=True)
class SignedAnswer:
    """One provider's answer to one request, as carried in a report."""

    provider: str
    output_hash: bytes
    value: int
    signature: bytes

    def to_tuple(self) -> tuple[str, bytes, int, bytes]:
        """ABI tuple of ``InferenceOracle.Answer``."""
        return (to_checksum_address(self.provider), self.output_hash, self.value, self.signature)

    def to_json(self) -> dict[str, Any]:
        """JSON form (hex bytes)."""
        return {
            "provider": to_checksum_address(self.provider),
            "outputHash": "0x" + self.output_hash.hex(),
            "value": str(self.value),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedAnswer:
        """Parse :meth:`to_json`'s form."""
        return cls(
            provider=to_checksum_address(data["provider"]),
            output_hash=bytes.fromhex(str(data["outputHash"]).removeprefix("0x")),
            value=int(data["value"]),
            signature=bytes.fromhex(str(data["signature"]).removeprefix("0x")),
        )


def answer_domain(chain_id: int, oracle: str) -> Eip712Domain:
    """Return the EIP-712 domain of the oracle at ``oracle`` on chain ``chain_id``."""
    return {
        "name": "LedgerLearn InferenceOracle",
        "version": "1",
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(oracle),
    }


def _message(
    request_id: int, model_hash: bytes, input_hash: bytes, output_hash: bytes, value: int
) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "modelHash": model_hash,
        "inputHash": input_hash,
        "outputHash": output_hash,
        "value": value,
    }


def answer_digest(
    domain: Eip712Domain,
    request_id: int,
    model_hash: bytes,
    input_hash: bytes,
    output_hash: bytes,
    value: int,
) -> bytes:
    """Return the EIP-712 digest of an answer (what ``answerDigest`` returns on chain)."""
    message = _message(request_id, model_hash, input_hash, output_hash, value)
    return hash_typed_data(domain, ANSWER_TYPES, "Answer", message)


def sign_answer(
    key: Secp256k1Key,
    domain: Eip712Domain,
    request_id: int,
    model_hash: bytes,
    input_hash: bytes,
    output_hash: bytes,
    value: int,
    *,
    provider: str | None = None,
) -> SignedAnswer:
    """Sign an answer with ``key`` for identity ``provider`` (default: the key's address).

    Parameters
    ----------
    key
        The provider identity's owner key or a live ``veriKey`` delegate.
    domain
        :func:`answer_domain` of the oracle.
    request_id, model_hash, input_hash
        The request as recorded on chain.
    output_hash
        sha256 of the provider's full output bytes.
    value
        The aggregated number (:func:`encode_value`).
    provider
        The identity answering, when ``key`` is its delegate.

    Returns
    -------
    SignedAnswer
        Ready for a report.
    """
    if not INT256_MIN <= value <= INT256_MAX:
        raise ValueError(f"answer value {value} does not fit in int256")
    message = _message(request_id, model_hash, input_hash, output_hash, value)
    signature = sign_typed_data(key, domain, ANSWER_TYPES, "Answer", message)
    return SignedAnswer(provider or key.address, output_hash, value, signature)


def recover_answer_signer(
    domain: Eip712Domain,
    request_id: int,
    model_hash: bytes,
    input_hash: bytes,
    answer: SignedAnswer,
) -> str:
    """Return the address that signed ``answer`` for this request (checksummed)."""
    message = _message(request_id, model_hash, input_hash, answer.output_hash, answer.value)
    return str(recover_typed_data_signer(answer.signature, domain, ANSWER_TYPES, "Answer", message))


def encode_value(mode: Mode, output: float | int) -> int:
    """Turn a model output into the int256 the contract aggregates.

    Parameters
    ----------
    mode
        ``MAJORITY`` or ``PROVEN``: ``output`` is a class index, kept as it is. ``MEDIAN``:
        ``output`` is a number, scaled by :data:`VALUE_SCALE` and rounded half to even.
    output
        The model's answer.

    Returns
    -------
    int
        The value to sign.
    """
    if mode.is_label:
        if isinstance(output, float) and not output.is_integer():
            raise ValueError(f"a label must be a whole number, got {output}")
        return int(output)
    if not math.isfinite(float(output)):
        raise ValueError(f"a numeric answer must be finite, got {output}")
    return round(float(output) * VALUE_SCALE)


def decode_value(mode: Mode, value: int) -> float | int:
    """Inverse of :func:`encode_value` (a label stays an int)."""
    return value if mode.is_label else value / VALUE_SCALE


def aggregate(mode: Mode, values: Sequence[int]) -> int:
    """Return the aggregate the contract computes from ``values``.

    Raises
    ------
    ValueError
        With no values.
    """
    if not values:
        raise ValueError("cannot aggregate no answers")
    if mode is Mode.MEDIAN:
        return sorted(values)[(len(values) - 1) // 2]
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], v))


def agreement(mode: Mode, values: Sequence[int], result: int, tolerance: int) -> list[bool]:
    """Return, per value, whether it agrees with ``result`` under the contract's rule."""
    allowed = tolerance if mode is Mode.MEDIAN else 0
    return [abs(v - result) <= allowed for v in values]
