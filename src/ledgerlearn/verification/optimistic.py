"""Optimistic inference: bonded claims, challenge windows and bisection disputes.

A drawn provider settles an ``OPTIMISTIC`` oracle request by posting a bond and the Merkle
root of its *trace*: the request's input and every dense layer's output, computed in fixed
point (:class:`FixedPointNetwork`) so honest parties agree bit for bit. The claim stands
unless someone challenges it with a bond within the window. A dispute bisects over the two
traces (each round both parties reveal their leaf at the midpoint of the interval in
dispute, with a Merkle proof) until one layer is in dispute; that layer is then re-executed
on chain at one neuron where the parties' outputs differ, its weights proven against the
fixed-point weight commitment bound to the model version. The loser's bond goes to the
winner; a party that stops answering loses (``OptimisticInference``).

:class:`OptimisticClient` makes the calls; :class:`DisputeAgent` plays one side of a
dispute from its own trace: it challenges a claim whose logits differ from its own,
reveals, and re-executes when it is right.

References: Canetti, Riva and Rothblum, *Practical delegation of computation using multiple
servers* (CCS 2011) for refereed bisection; Teutsch and Reitwießner, *A scalable
verification solution for blockchains* (Truebit, 2017) for bonds, windows and timeouts.

Trust assumption: at least one honest party watches every claim within its window and can
post a bond; the fixed-point weight commitment is the artifact's (anyone can rebuild it
with :meth:`FixedPointNetwork.from_mlp` and compare, as :meth:`OptimisticClient.check_trace`
does). The answer is the argmax of *fixed-point* logits, which may differ from the float
model's on near ties.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from numpy.typing import NDArray
from web3.contract import Contract
from web3.types import TxReceipt

from ledgerlearn.exceptions import VerificationError
from ledgerlearn.identity import Secp256k1Key
from ledgerlearn.learning.models import MLP
from ledgerlearn.ledger import Chain, DeploymentManifest, OptimisticParameters, receipt_events
from ledgerlearn.oracle import OracleClient
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.verification.proven import input_row

__all__ = [
    "FRAC_BITS",
    "PHASES",
    "ClaimView",
    "DisputeAgent",
    "DisputeView",
    "FixedPointLayer",
    "FixedPointNetwork",
    "MerkleTree",
    "OptimisticClient",
    "Trace",
    "TraceModel",
    "input_commitment",
    "trace_leaf",
]

FRAC_BITS = 16
"""Fractional bits of the default fixed-point format (values are ``round(x · 2^16)``)."""

PHASES = ("none", "proposed", "bisecting", "stepping", "settled")
"""``OptimisticInference.Phase`` names, in enum order."""

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


@dataclass(frozen=True, slots=True)
class TraceModel:
    """A version's fixed-point trace model, as bound on chain."""

    weights_root: bytes
    layers: int
    frac_bits: int


@dataclass(frozen=True, slots=True)
class ClaimView:
    """A claim as ``OptimisticInference`` holds it."""

    request_id: int
    phase: str
    drawn: bool
    layers: int
    deadline: int
    provider: str
    account: str
    bond: int
    trace_root: bytes
    output_leaf: bytes
    label: int


@dataclass(frozen=True, slots=True)
class DisputeView:
    """An open dispute: leaves ``lo`` agree, leaves ``hi`` differ.

    ``revealed`` has bit 1 when the claimant revealed this round, bit 2 the challenger.
    """

    challenger: str
    lo: int
    hi: int
    rounds: int
    revealed: int
    deadline: int
    bond: int
    trace_root: bytes
    label: int

    @property
    def midpoint(self) -> int:
        """The leaf both parties reveal this round."""
        return (self.lo + self.hi) // 2


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a dispute ended (``DisputeResolved``); zero winner when both lost."""

    winner: str
    loser: str
    rounds: int
    how: str


class OptimisticClient:
    """Typed access to a deployment's ``OptimisticInference``.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The deployment manifest.
    oracle
        An oracle client to share; one is made if not given.
    """

    def __init__(
        self, chain: Chain, deployment: DeploymentManifest, oracle: OracleClient | None = None
    ) -> None:
        if "OptimisticInference" not in deployment.contracts:
            raise VerificationError(
                "this deployment has no OptimisticInference; redeploy the protocol"
            )
        self.chain = chain
        self.oracle = oracle or OracleClient(chain, deployment)
        self.contract: Contract = chain.contract(
            "OptimisticInference", deployment.get_address("OptimisticInference")
        )
        self.start_block = deployment.contracts["OptimisticInference"].block

    def _transact(self, key: Secp256k1Key, function: Any) -> TxReceipt:
        return self.chain.sender(key).transact(function)

    def _approve(self, key: Secp256k1Key, amount: int) -> None:
        if amount:
            token = self.oracle.token.functions
            self._transact(key, token.approve(self.contract.address, amount))

    # --- views -------------------------------------------------------------------------

    def parameters(self) -> OptimisticParameters:
        """Return the bonds and windows new claims and challenges use."""
        raw = self.chain.call(self.contract.functions.parameters())
        return OptimisticParameters(*(int(v) for v in raw))

    def trace_of(self, model: str, version: int) -> TraceModel | None:
        """Return the trace model bound to ``model@version``, or ``None``."""
        raw = self.chain.call(
            self.contract.functions.traceOf(ModelRegistryClient.model_id(model), version)
        )
        if int(raw[1]) == 0:
            return None
        return TraceModel(bytes(raw[0]), int(raw[1]), int(raw[2]))

    def check_trace(self, model: str, version: int, network: FixedPointNetwork) -> None:
        """Check that ``network`` is what ``model@version`` is bound to.

        Raises
        ------
        VerificationError
            If nothing is bound, or the bound commitment differs from ``network``'s.
        """
        bound = self.trace_of(model, version)
        if bound is None:
            raise VerificationError(
                f"{model}@{version} has no fixed-point trace model bound; its publisher binds "
                "one with OptimisticClient.bind_trace"
            )
        mine = TraceModel(network.weights_root, len(network.layers), network.frac_bits)
        if bound != mine:
            raise VerificationError(
                f"{model}@{version} is bound to weights root 0x{bound.weights_root.hex()} "
                f"({bound.layers} layers, {bound.frac_bits} bits), not to this network's "
                f"0x{mine.weights_root.hex()}: the artifact and the binding disagree"
            )

    def get_claim(self, request_id: int) -> ClaimView:
        """Return the claim on ``request_id`` (phase ``none`` if none)."""
        raw = self.chain.call(self.contract.functions.getClaim(request_id))
        return ClaimView(
            request_id=request_id,
            phase=PHASES[int(raw[0])],
            drawn=bool(raw[1]),
            layers=int(raw[2]),
            deadline=int(raw[3]),
            provider=str(raw[4]),
            account=str(raw[5]),
            bond=int(raw[6]),
            trace_root=bytes(raw[7]),
            output_leaf=bytes(raw[8]),
            label=int(raw[9]),
        )

    def get_dispute(self, request_id: int) -> DisputeView | None:
        """Return the open dispute of ``request_id``'s claim, or ``None``."""
        raw = self.chain.call(self.contract.functions.getDispute(request_id))
        challenger = str(raw[0])
        if int(challenger, 16) == 0:
            return None
        return DisputeView(
            challenger=challenger,
            lo=int(raw[1]),
            hi=int(raw[2]),
            rounds=int(raw[3]),
            revealed=int(raw[4]),
            deadline=int(raw[5]),
            bond=int(raw[6]),
            trace_root=bytes(raw[7]),
            label=int(raw[9]),
        )

    def revealed_output(self, request_id: int, party: str) -> list[int] | None:
        """Return the output vector ``party`` revealed in ``request_id``'s current dispute.

        Only reveals since the latest challenge count: a request whose claim was taken over
        by a winning challenger can be disputed again, and an older dispute's vector is not
        an answer in the new one.
        """
        challenges = self.contract.events.ClaimChallenged().get_logs(
            from_block=self.start_block, argument_filters={"requestId": request_id}
        )
        if not challenges:
            return None
        events = self.contract.events.OutputRevealed().get_logs(
            from_block=challenges[-1]["blockNumber"],
            argument_filters={"requestId": request_id, "party": to_checksum_address(party)},
        )
        if not events:
            return None
        return [int(v) for v in events[-1]["args"]["vector"]]

    # --- binding -----------------------------------------------------------------------

    def bind_trace(
        self,
        key: Secp256k1Key,
        model: str,
        version: int,
        network: FixedPointNetwork,
        *,
        publisher: str = "",
    ) -> TraceModel:
        """Bind ``model@version`` to ``network``'s fixed-point commitment (once)."""
        who = to_checksum_address(publisher or key.address)
        bound = TraceModel(network.weights_root, len(network.layers), network.frac_bits)
        model_id = ModelRegistryClient.model_id(model)
        function = self.contract.functions.bindTrace(
            model_id, version, (bound.weights_root, bound.layers, bound.frac_bits), who
        )
        self._transact(key, function)
        return bound

    # --- claims and disputes -----------------------------------------------------------

    def propose(
        self, key: Secp256k1Key, request_id: int, trace: Trace, *, provider: str = ""
    ) -> ClaimView:
        """Claim ``request_id`` for drawn ``provider`` (default ``key``'s) with ``trace``."""
        who = to_checksum_address(provider or key.address)
        self._approve(key, self.parameters().proposer_bond)
        selected = self.oracle.selected(request_id)
        function = self.contract.functions.propose(request_id, who, selected, trace.commitment())
        self._transact(key, function)
        return self.get_claim(request_id)

    def challenge(self, key: Secp256k1Key, request_id: int, trace: Trace) -> DisputeView:
        """Challenge ``request_id``'s claim with ``trace`` (whose logits must differ)."""
        self._approve(key, self.parameters().challenger_bond)
        self._transact(key, self.contract.functions.challenge(request_id, trace.commitment()))
        dispute = self.get_dispute(request_id)
        assert dispute is not None  # the transaction succeeded
        return dispute

    def reveal(self, key: Secp256k1Key, request_id: int, trace: Trace) -> DisputeView | None:
        """Reveal ``trace``'s leaf at the dispute's midpoint; return the dispute after."""
        dispute = self._dispute(request_id)
        mid = dispute.midpoint
        function = self.contract.functions.reveal(
            request_id, trace.leaf(mid), trace.tree.proof(mid)
        )
        self._transact(key, function)
        return self.get_dispute(request_id)

    def reveal_output(self, key: Secp256k1Key, request_id: int, trace: Trace) -> None:
        """Reveal ``trace``'s output vector of the one layer in dispute."""
        dispute = self._dispute(request_id)
        function = self.contract.functions.revealOutput(request_id, trace.vectors[dispute.hi])
        self._transact(key, function)

    def resolve(
        self, key: Secp256k1Key, request_id: int, network: FixedPointNetwork, trace: Trace
    ) -> Resolution:
        """Re-execute the layer in dispute on chain, from the revealed outputs and ``trace``.

        ``trace`` supplies the agreed input vector (leaf ``lo``); the neuron chosen is the
        first where the two revealed outputs differ.

        Raises
        ------
        VerificationError
            If an output is not revealed yet or the revealed outputs are equal.
        """
        dispute = self._dispute(request_id)
        claim = self.get_claim(request_id)
        proposed = self.revealed_output(request_id, claim.account)
        challenged = self.revealed_output(request_id, dispute.challenger)
        if proposed is None or challenged is None:
            raise VerificationError(
                f"request {request_id}: both parties must reveal their outputs of layer "
                f"{dispute.hi} first (reveal_output)"
            )
        differ = [j for j, (a, b) in enumerate(zip(proposed, challenged, strict=False)) if a != b]
        if not differ and len(proposed) == len(challenged):
            raise VerificationError(f"request {request_id}: the revealed outputs are equal")
        # With different widths neuron 0 decides: a vector of the wrong width is never right.
        neuron = differ[0] if differ else 0
        layer = dispute.hi - 1
        bias, weights, row_proof = network.neuron(layer, neuron)
        step = (
            trace.vectors[dispute.lo],
            proposed,
            challenged,
            neuron,
            bias,
            weights,
            row_proof,
            network.layer_argument(layer),
        )
        receipt = self._transact(key, self.contract.functions.resolve(request_id, step))
        return self._resolution(receipt)

    def timeout(self, key: Secp256k1Key, request_id: int) -> Resolution:
        """End ``request_id``'s dispute whose deadline passed, for the side that answered."""
        receipt = self._transact(key, self.contract.functions.timeout(request_id))
        return self._resolution(receipt)

    def finalize(self, key: Secp256k1Key, request_id: int) -> ClaimView:
        """Settle ``request_id`` with the claim that stood through its window."""
        self._transact(key, self.contract.functions.finalize(request_id))
        return self.get_claim(request_id)

    def _dispute(self, request_id: int) -> DisputeView:
        dispute = self.get_dispute(request_id)
        if dispute is None:
            raise VerificationError(f"request {request_id}'s claim is not disputed")
        return dispute

    def _resolution(self, receipt: TxReceipt) -> Resolution:
        (event,) = receipt_events(self.contract.events.DisputeResolved, receipt)
        args = event["args"]
        return Resolution(str(args["winner"]), str(args["loser"]), int(args["rounds"]), args["how"])


class DisputeAgent:
    """Plays one side of optimistic disputes from its own, honestly computed trace.

    As the claimant it defends its claim; as a watcher it challenges a claim whose logits
    differ from its own trace's. Each :meth:`act` does what the current phase asks of it
    (reveal a leaf, reveal its output, re-execute), and nothing when it has nothing to do.

    Parameters
    ----------
    key
        The account that posts the bond and plays.
    client
        The optimistic client.
    network
        The fixed-point network of the request's model version.
    trace
        This agent's trace of the request.
    """

    def __init__(
        self, key: Secp256k1Key, client: OptimisticClient, network: FixedPointNetwork, trace: Trace
    ) -> None:
        self.key = key
        self.client = client
        self.network = network
        self.trace = trace

    def watch(self, request_id: int) -> bool:
        """Challenge ``request_id``'s claim if its logits differ from this agent's.

        Returns whether a challenge was posted.
        """
        claim = self.client.get_claim(request_id)
        if claim.phase != "proposed" or claim.output_leaf == self.trace.leaf(self.trace.layers):
            return False
        self.client.challenge(self.key, request_id, self.trace)
        return True

    def act(self, request_id: int) -> str:
        """Take this agent's next step in ``request_id``'s dispute; return what it did.

        ``revealed`` (a midpoint leaf), ``output`` (its output of the layer in dispute),
        ``resolved`` (it re-executed the layer), or ``waiting``.
        """
        claim = self.client.get_claim(request_id)
        dispute = self.client.get_dispute(request_id)
        if dispute is None or claim.phase not in ("bisecting", "stepping"):
            return "waiting"
        me = to_checksum_address(self.key.address)
        bit = 1 if me == claim.account else 2 if me == dispute.challenger else 0
        if not bit:
            return "waiting"
        if dispute.revealed & bit == 0:
            if claim.phase == "bisecting":
                self.client.reveal(self.key, request_id, self.trace)
                return "revealed"
            self.client.reveal_output(self.key, request_id, self.trace)
            return "output"
        if claim.phase == "stepping" and dispute.revealed == 3:
            mine = self.trace.vectors[dispute.hi]
            truth = self.network.layer_output(dispute.hi - 1, self.trace.vectors[dispute.lo])
            if mine == truth:
                self.client.resolve(self.key, request_id, self.network, self.trace)
                return "resolved"
        return "waiting"
