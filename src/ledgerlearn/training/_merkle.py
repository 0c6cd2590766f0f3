"""Merkle trees over a round's updates, verifiable by OpenZeppelin's ``MerkleProof``.

Leaves are ``keccak256(keccak256(abi.encode(trainer, updateSha256, score)))`` (the double
hash OpenZeppelin's StandardMerkleTree uses, so a leaf can never pass for an inner node);
inner nodes hash their two children in sorted order (OpenZeppelin's commutative pair hash),
so proofs need no left/right flags. Leaves are kept in canonical (trainer address) order;
a node without a sibling moves up unchanged.

Trust assumption: keccak256 is collision resistant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

__all__ = ["MerkleTree", "record_tree", "update_leaf"]


def update_leaf(trainer: str, update_sha256: bytes, score: int) -> bytes:
    """Return the leaf ``TrainingCoordinator.updateLeaf`` computes.

    Parameters
    ----------
    trainer
        The trainer's address.
    update_sha256
        The 32-byte hash it committed.
    score
        The committee's score (0 = rejected).

    Returns
    -------
    bytes
        32 bytes.
    """
    inner = keccak(
        encode(
            ["address", "bytes32", "uint256"], [to_checksum_address(trainer), update_sha256, score]
        )
    )
    return keccak(inner)


def record_tree(entries: Sequence[Mapping[str, Any]]) -> MerkleTree:
    """Rebuild a round's updates tree from its record's ``updates`` entries.

    Parameters
    ----------
    entries
        ``{"trainer", "sha256" (hex), "score"}`` objects in the record's (canonical) order.

    Returns
    -------
    MerkleTree
        The tree whose root the committee posted.
    """
    return MerkleTree.build(
        [update_leaf(e["trainer"], bytes.fromhex(e["sha256"]), e["score"]) for e in entries]
    )


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True, slots=True)
class MerkleTree:
    """A tree over leaves in the given order.

    Attributes
    ----------
    levels
        ``levels[0]`` the leaves, the last level the root alone.
    """

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def build(cls, leaves: Sequence[bytes]) -> MerkleTree:
        """Build the tree.

        Parameters
        ----------
        leaves
            32-byte leaves, at least one.

        Returns
        -------
        MerkleTree
            The tree.

        Raises
        ------
        ValueError
            If there are no leaves.
        """
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        levels = [tuple(leaves)]
        while len(levels[-1]) > 1:
            level = levels[-1]
            parents = [_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                parents.append(level[-1])
            levels.append(tuple(parents))
        return cls(tuple(levels))

    @property
    def root(self) -> bytes:
        """The root (the only leaf when there is one)."""
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """Return the sibling path of leaf ``index``, bottom up.

        Parameters
        ----------
        index
            The leaf's position.

        Returns
        -------
        list[bytes]
            Siblings for ``MerkleProof.verify``.
        """
        path: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index //= 2
        return path

    @staticmethod
    def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
        """Check a proof as OpenZeppelin's ``MerkleProof.verify`` does.

        Parameters
        ----------
        proof
            Sibling path.
        root
            Expected root.
        leaf
            The leaf.

        Returns
        -------
        bool
            Whether the path leads from ``leaf`` to ``root``.
        """
        node = leaf
        for sibling in proof:
            node = _pair(node, sibling)
        return node == root
