"""Random values of ABI parameters, for comparing our decoders with web3's."""

from __future__ import annotations

import random
import re
from typing import Any

from eth_utils import to_checksum_address


def value_for(item: dict[str, Any], rng: random.Random) -> Any:
    """A random value of an ABI parameter (structs as tuples)."""
    type_str = item["type"]
    array = re.search(r"\[(\d*)\]$", type_str)
    if array:
        inner = {**item, "type": type_str[: array.start()]}
        return [value_for(inner, rng) for _ in range(int(array.group(1) or rng.randint(0, 3)))]
    if type_str == "tuple":
        return tuple(value_for(c, rng) for c in item["components"])
    if type_str == "address":
        return to_checksum_address(rng.randbytes(20))
    if type_str == "bool":
        return rng.random() < 0.5
    if type_str == "string":
        return "".join(rng.choice("abcé😀 ") for _ in range(rng.randint(0, 40)))
    if type_str == "bytes":
        return rng.randbytes(rng.randint(0, 70))
    if type_str.startswith("bytes"):
        return rng.randbytes(int(type_str[5:]))
    bits = int(type_str.lstrip("uint") or 256)
    if type_str.startswith("int"):
        return rng.randint(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return rng.randint(0, 2**bits - 1)
