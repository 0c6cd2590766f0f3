"""Domain types: NewTypes for values that must not be mixed up.

A ``Cid`` is not any ``str`` and a ``Wei`` is not any ``int``; mypy keeps them apart.
"""

from __future__ import annotations

from typing import NewType

from eth_typing import ChecksumAddress

__all__ = ["Address", "BlockNumber", "ChainId", "Cid", "Did", "TxHash", "Wei"]

Cid = NewType("Cid", str)
"""A CIDv1 in its canonical base32 string form (``bafy...`` or ``bafk...``)."""

Did = NewType("Did", str)
"""A decentralized identifier, e.g. ``did:key:z6Mk...`` or ``did:ethr:31337:0x...``."""

Wei = NewType("Wei", int)
"""An amount of the chain's native currency or of a token, in its smallest unit."""

ChainId = NewType("ChainId", int)
"""An EIP-155 chain id."""

BlockNumber = NewType("BlockNumber", int)
"""A block height."""

TxHash = NewType("TxHash", str)
"""A transaction hash as 0x-prefixed hex."""

Address = ChecksumAddress
"""An EIP-55 checksummed account or contract address."""
