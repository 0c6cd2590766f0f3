"""Fixed-point traces: the computation optimistic claims commit to, bit for bit.

A :class:`FixedPointNetwork` is a dense network in fixed point (values ``round(x · 2^f)``,
integer accumulators, ReLU and a right shift per layer), so every honest party computes the
same integers on any machine. A :class:`Trace` is a request's input and each layer's output
vector; its Merkle root (:class:`MerkleTree`, ``keccak256`` leaves as ``OptimisticInference``
hashes them) is what a claim commits to, and the weights' Merkle root is what the registry
binds to the model version.

Trust assumption: none; this is arithmetic both sides of a dispute and the contract redo.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from eth_abi import encode as abi_encode
from eth_utils import keccak
from numpy.typing import NDArray

from ledgerlearn.exceptions import VerificationError
from ledgerlearn.learning.models import MLP
from ledgerlearn.verification.proven import input_row

__all__ = [
    "FRAC_BITS",
    "FixedPointLayer",
    "FixedPointNetwork",
    "MerkleTree",
    "Trace",
    "input_commitment",
    "trace_leaf",
]

FRAC_BITS = 16
"""Fractional bits of the default fixed-point format (values are ``round(x · 2^16)``)."""

_ZERO = b"\x00" * 32
_LIMIT = 2**62  # |accumulator| bound: int64 in numpy, far inside int256 on chain


def _word(value: int) -> bytes:
    return int(value).to_bytes(32, "big", signed=True)


def trace_leaf(index: int, vector: Sequence[int]) -> bytes:
    """Return trace leaf ``index``: ``keccak256(abi.encodePacked(uint256 index, int256[] v))``."""
    return keccak(index.to_bytes(32, "big") + b"".join(_word(v) for v in vector))


class MerkleTree:
    """A positional binary Merkle tree (keccak256), padded with zero leaves to a power of two.

    Parameters
    ----------
    leaves
        32-byte leaves, at least one.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        self.size = len(leaves)
        self.depth = max(0, (len(leaves) - 1).bit_length())
        level = list(leaves) + [_ZERO] * ((1 << self.depth) - len(leaves))
        self.levels = [level]
        while len(level) > 1:
            level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
            self.levels.append(level)

    @property
    def root(self) -> bytes:
        """The root."""
        return self.levels[-1][0]

    def leaf(self, index: int) -> bytes:
        """Return leaf ``index``."""
        return self.levels[0][index]

    def proof(self, index: int) -> list[bytes]:
        """Return the siblings of leaf ``index``, bottom up."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is outside a tree of {self.size} leaves")
        return [self.levels[d][(index >> d) ^ 1] for d in range(self.depth)]

    @staticmethod
    def verify(root: bytes, index: int, leaf: bytes, proof: Sequence[bytes]) -> bool:
        """Return whether ``leaf`` is at ``index`` under ``root`` (what the contract checks)."""
        node = leaf
        for d, sibling in enumerate(proof):
            node = keccak(node + sibling) if (index >> d) & 1 == 0 else keccak(sibling + node)
        return node == root


@dataclass(frozen=True)
class FixedPointLayer:
    """One dense layer in fixed point: ``weights`` is ``(outputs, inputs)``, one row per neuron."""

    weights: NDArray[np.int64]
    bias: NDArray[np.int64]
    relu: bool

    @property
    def inputs(self) -> int:
        """Input width."""
        return int(self.weights.shape[1])

    @property
    def outputs(self) -> int:
        """Output width (neurons)."""
        return int(self.weights.shape[0])

    @cached_property
    def rows(self) -> MerkleTree:
        """The tree over neuron leaves ``keccak256(abi.encodePacked(j, bias_j, weights_j))``."""
        return MerkleTree(
            [
                keccak(
                    j.to_bytes(32, "big")
                    + _word(int(self.bias[j]))
                    + b"".join(_word(int(w)) for w in self.weights[j])
                )
                for j in range(self.outputs)
            ]
        )

    def leaf(self, index: int) -> bytes:
        """Return this layer's leaf in the weight commitment, as layer ``index``."""
        return keccak(
            abi_encode(
                ["uint256", "uint256", "uint256", "bool", "bytes32"],
                [index, self.inputs, self.outputs, self.relu, self.rows.root],
            )
        )


class FixedPointNetwork:
    """An MLP in fixed point, with its trace and its weight commitment.

    A neuron is ``(bias · 2^f + Σ w·x) >> f`` (arithmetic shift: floor), then ``max(0, ·)``
    on every layer but the last, exactly as ``OptimisticInference`` re-executes it.

    Parameters
    ----------
    layers
        The dense layers, input to output.
    frac_bits
        Fractional bits ``f`` of every value.
    """

    def __init__(self, layers: Sequence[FixedPointLayer], frac_bits: int = FRAC_BITS) -> None:
        if not layers:
            raise VerificationError("a fixed-point network needs at least one layer")
        for a, b in itertools.pairwise(layers):
            if a.outputs != b.inputs:
                raise VerificationError(f"layer widths do not chain: {a.outputs} → {b.inputs}")
        self.layers = list(layers)
        self.frac_bits = frac_bits

    @classmethod
    def from_mlp(cls, model: MLP, frac_bits: int = FRAC_BITS) -> FixedPointNetwork:
        """Quantise ``model``'s weights (round half to even) into a fixed-point network."""
        weights = model.get_weights()
        scale = float(2**frac_bits)
        layers = []
        for i in range(model.num_layers):
            w = np.round(weights[f"layer{i}.weight"].astype(np.float64) * scale).astype(np.int64)
            b = np.round(weights[f"layer{i}.bias"].astype(np.float64) * scale).astype(np.int64)
            layers.append(FixedPointLayer(w.T.copy(), b, relu=i < model.num_layers - 1))
        return cls(layers, frac_bits)

    @property
    def features(self) -> int:
        """Input width."""
        return self.layers[0].inputs

    @cached_property
    def weights_tree(self) -> MerkleTree:
        """The weight commitment's tree over layer leaves."""
        return MerkleTree([layer.leaf(i) for i, layer in enumerate(self.layers)])

    @property
    def weights_root(self) -> bytes:
        """The weight commitment (bound to the version in ``OptimisticInference``)."""
        return self.weights_tree.root

    def quantise(self, row: Sequence[float] | NDArray[np.floating[Any]]) -> list[int]:
        """Return ``row`` in fixed point (round half to even)."""
        values = np.asarray(row, dtype=np.float64)
        if values.shape != (self.features,) or not np.all(np.isfinite(values)):
            raise VerificationError(
                f"an input must be {self.features} finite numbers, got shape {values.shape}"
            )
        return [int(v) for v in np.round(values * float(2**self.frac_bits))]

    def layer_output(self, index: int, x: Sequence[int]) -> list[int]:
        """Return dense layer ``index``'s fixed-point output on ``x``."""
        layer = self.layers[index]
        vector = np.asarray(x, dtype=np.int64)
        bound = np.abs(layer.weights).astype(np.float64) @ np.abs(vector).astype(np.float64)
        if vector.shape != (layer.inputs,) or float(bound.max(initial=0.0)) >= _LIMIT / 2:
            raise VerificationError(f"layer {index}: input out of range for fixed point")
        acc = layer.weights @ vector + (layer.bias << self.frac_bits)
        out = acc >> self.frac_bits
        if layer.relu:
            out = np.maximum(out, 0)
        return [int(v) for v in out]

    def trace(self, x: Sequence[int]) -> Trace:
        """Run the network on fixed-point input ``x``; return the committed trace."""
        vectors = [list(x)]
        for i in range(len(self.layers)):
            vectors.append(self.layer_output(i, vectors[-1]))
        return Trace(vectors)

    def neuron(self, layer: int, neuron: int) -> tuple[int, list[int], list[bytes]]:
        """Return neuron ``neuron`` of ``layer``: bias, weights and proof against its rows root."""
        dense = self.layers[layer]
        return (
            int(dense.bias[neuron]),
            [int(w) for w in dense.weights[neuron]],
            dense.rows.proof(neuron),
        )

    def layer_argument(self, index: int) -> tuple[int, int, bool, bytes, list[bytes]]:
        """Return the ``Layer`` struct of dense layer ``index`` with its commitment proof."""
        layer = self.layers[index]
        return (
            layer.inputs,
            layer.outputs,
            layer.relu,
            layer.rows.root,
            self.weights_tree.proof(index),
        )


class Trace:
    """A committed trace: vector 0 is the input, vector ``i`` dense layer ``i``'s output.

    Parameters
    ----------
    vectors
        The fixed-point vectors, input first, logits last.
    """

    def __init__(self, vectors: Sequence[Sequence[int]]) -> None:
        self.vectors = [[int(v) for v in vector] for vector in vectors]
        self.tree = MerkleTree([trace_leaf(i, v) for i, v in enumerate(self.vectors)])

    @property
    def root(self) -> bytes:
        """The trace commitment."""
        return self.tree.root

    @property
    def layers(self) -> int:
        """Dense layers traced."""
        return len(self.vectors) - 1

    @property
    def logits(self) -> list[int]:
        """The last layer's output."""
        return self.vectors[-1]

    @property
    def label(self) -> int:
        """The argmax of the logits (the first on a tie), as the contract computes it."""
        return max(range(len(self.logits)), key=self.logits.__getitem__)

    def leaf(self, index: int) -> bytes:
        """Return leaf ``index``."""
        return self.tree.leaf(index)

    def commitment(self) -> tuple[bytes, list[int], list[bytes], list[bytes]]:
        """Return the ``Commitment`` struct: root, logits, proofs of leaves 0 and ``layers``."""
        return (self.root, self.logits, self.tree.proof(0), self.tree.proof(self.layers))

    def tampered(
        self,
        layer: int,
        neuron: int = 0,
        delta: int = 1,
        network: FixedPointNetwork | None = None,
    ) -> Trace:
        """Return a liar's copy with ``vectors[layer][neuron]`` shifted by ``delta``.

        With ``network``, the later layers are recomputed from the lie (a consistent liar,
        wrong at exactly one layer); without, they are left as they were.
        """
        vectors = [list(v) for v in self.vectors]
        vectors[layer][neuron] += delta
        if network is not None:
            for i in range(layer, len(network.layers)):
                vectors[i + 1] = network.layer_output(i, vectors[i])
        return Trace(vectors)


def input_commitment(network: FixedPointNetwork, raw: bytes) -> int:
    """Return an ``OPTIMISTIC`` request's input commitment for input document ``raw``.

    ``raw`` is ``{"x": [[...]]}`` with one row; the commitment is trace leaf 0 of its
    fixed-point form, as an integer (what :class:`~ledgerlearn.oracle.RequestSpec` carries
    in ``zk_input_hash``).

    Raises
    ------
    VerificationError
        If the document is not one row of ``network.features`` numbers.
    """
    return int.from_bytes(trace_leaf(0, network.quantise(input_row(raw, network.features))))
