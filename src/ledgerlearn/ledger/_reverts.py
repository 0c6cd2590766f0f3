"""Revert decoding: Solidity errors become Python exceptions of the same name.

Revert data is ``selector || abi.encode(args)``. The selectors of every custom error in every
packaged artifact, plus ``Error(string)`` and ``Panic(uint256)``, map to decoders. A custom
error ``LedgerTokenCapExceeded(uint256 requestedSupply, uint256 maxSupply)`` is raised as an
instance of the generated class :class:`ledgerlearn.ledger.errors.LedgerTokenCapExceeded`
(a :class:`~ledgerlearn.exceptions.ContractRevertError`), whose ``arguments`` are
``{"requestedSupply": ..., ...}``; ``Error`` and ``Panic`` raise ``SolidityError`` and
``SolidityPanic``.

Trust assumption: none; decoding only reads what the chain returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from ledgerlearn.exceptions import TransactionError, TransactionFailedError
from ledgerlearn.ledger._artifacts import all_artifacts
from ledgerlearn.ledger.errors import SOLIDITY_ERRORS

__all__ = ["PANIC_REASONS", "decode_revert"]

PANIC_REASONS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "invalid storage byte array",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an invalid internal function",
}


@dataclass(frozen=True, slots=True)
class _ErrorAbi:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    contract: str | None


def _canonical_type(item: dict[str, Any]) -> str:
    kind: str = item["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(component) for component in item["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@cache
def _selectors() -> dict[bytes, _ErrorAbi]:
    table: dict[bytes, _ErrorAbi] = {
        keccak(text="Error(string)")[:4]: _ErrorAbi("Error", ("reason",), ("string",), None),
        keccak(text="Panic(uint256)")[:4]: _ErrorAbi("Panic", ("code",), ("uint256",), None),
    }
    for artifact in all_artifacts():
        for item in artifact.abi:
            if item.get("type") != "error":
                continue
            types = tuple(_canonical_type(arg) for arg in item["inputs"])
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            names = tuple(arg["name"] or f"arg{i}" for i, arg in enumerate(item["inputs"]))
            table.setdefault(selector, _ErrorAbi(item["name"], names, types, artifact.name))
    return table


def decode_revert(data: bytes | str | None, context: str = "") -> TransactionError:
    """Turn revert data into the exception to raise.

    Parameters
    ----------
    data
        The revert payload (bytes or 0x-hex); ``None`` or empty for a bare ``revert()``.
    context
        What was being done, for the message of undecodable reverts.

    Returns
    -------
    TransactionError
        A :class:`ContractRevertError` subclass named after the Solidity error, or
        :class:`TransactionFailedError` when the data is empty or unknown.
    """
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else (data or b"")
    where = f" ({context})" if context else ""
    if len(raw) < 4:
        return TransactionFailedError(f"transaction reverted without a reason{where}")
    entry = _selectors().get(raw[:4])
    if entry is None:
        return TransactionFailedError(
            f"transaction reverted with unknown error 0x{raw[:4].hex()}{where}"
        )
    try:
        values = abi_decode(list(entry.types), raw[4:])
    except Exception as exc:  # eth-abi raises many decoding error types
        return TransactionFailedError(f"{entry.name} revert with malformed data{where}: {exc}")
    readable = [
        to_checksum_address(value) if kind == "address" else value
        for kind, value in zip(entry.types, values, strict=True)
    ]
    arguments = dict(zip(entry.names, readable, strict=True))
    if entry.name == "Panic":
        arguments["reason"] = PANIC_REASONS.get(int(arguments["code"]), "unknown panic")
    return SOLIDITY_ERRORS[entry.name](entry.name, arguments, entry.contract)
