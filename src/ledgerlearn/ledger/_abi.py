"""ABI return values as web3 returns them, decoded straight with ``eth_abi``.

web3 decodes call results and event logs with ``eth_abi`` and then walks the values through
its generic formatter stack to checksum addresses and turn arrays into lists. That walk
costs far more than the decoding; :func:`normaliser` builds the same transformation once
per ABI type, and :func:`decode_return` applies it to a call's return data. Tests compare
the results with web3's on every function and event of every contract we ship.

Trust assumption: none; this is a pure function of the ABI and the bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eth_abi import decode
from eth_abi.grammar import BasicType, TupleType, parse
from eth_utils import keccak, to_checksum_address

__all__ = ["abi_type", "checksum", "decode_return", "normaliser", "signature_topic"]

Normaliser = Callable[[Any], Any]


@functools.lru_cache(maxsize=65_536)
def checksum(value: str) -> str:
    """Return ``value`` as an EIP-55 checksummed address (memoised: addresses repeat)."""
    return str(to_checksum_address(value))


def _identity(value: Any) -> Any:
    return value


def abi_type(item: Mapping[str, Any]) -> str:
    """Return an ABI parameter's canonical type, spelling structs out as tuples.

    Parameters
    ----------
    item
        One entry of an ABI's ``inputs`` or ``outputs``.
    """
    type_str = str(item["type"])
    if not type_str.startswith("tuple"):
        return type_str
    inner = ",".join(abi_type(component) for component in item["components"])
    return f"({inner}){type_str[len('tuple') :]}"


def signature_topic(abi: Mapping[str, Any]) -> bytes:
    """Return keccak256 of an event's canonical signature, its topic 0.

    Struct arguments are spelled out as tuples (``E((uint256,address))``), as Solidity does.

    Parameters
    ----------
    abi
        The event's ABI entry.
    """
    types = ",".join(abi_type(item) for item in abi["inputs"])
    return bytes(keccak(text=f"{abi['name']}({types})"))


@functools.lru_cache(maxsize=1_024)
def normaliser(type_str: str) -> Normaliser:
    """Return the function web3 applies to a decoded value of ``type_str``.

    Addresses become checksummed strings and arrays lists, at any depth; tuples stay tuples.

    Parameters
    ----------
    type_str
        A canonical ABI type, e.g. ``address[]`` or ``(uint256,address)[2]``.
    """
    parsed = parse(type_str)
    if parsed.is_array:
        item = normaliser(parsed.item_type.to_type_str())
        return lambda value: [item(v) for v in value]
    if isinstance(parsed, TupleType):
        parts = [normaliser(c.to_type_str()) for c in parsed.components]
        if all(part is _identity for part in parts):
            return _identity
        return lambda value: tuple(part(v) for part, v in zip(parts, value, strict=True))
    assert isinstance(parsed, BasicType)
    return checksum if parsed.base == "address" else _identity


def decode_return(outputs: Sequence[Mapping[str, Any]], data: bytes) -> Any:
    """Decode a call's return data as web3's ``ContractFunction.call`` returns it.

    One output is returned bare, several as a list.

    Parameters
    ----------
    outputs
        The function ABI's ``outputs``.
    data
        The bytes ``eth_call`` returned.

    Raises
    ------
    eth_abi.exceptions.DecodingError
        If the bytes are not an encoding of the outputs (e.g. no contract at the address).
    """
    types = [abi_type(item) for item in outputs]
    values = [normaliser(t)(v) for t, v in zip(types, decode(types, data), strict=True)]
    return values[0] if len(values) == 1 else values
