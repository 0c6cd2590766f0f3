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

from dataclasses import dataclass

from eth_utils import to_checksum_address
from web3.types import TxReceipt

from ledgerlearn.exceptions import VerificationError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest
from ledgerlearn.ledger.enums import OptimisticInferencePhase
from ledgerlearn.oracle import OracleClient
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.verification._parameters import OptimisticParameters
from ledgerlearn.verification._trace import (
    FRAC_BITS,
    FixedPointLayer,
    FixedPointNetwork,
    MerkleTree,
    Trace,
    input_commitment,
    trace_leaf,
)

__all__ = [
    "FRAC_BITS",
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
    phase: OptimisticInferencePhase
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


class OptimisticClient(ContractClient):
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

    contract_name = "OptimisticInference"

    def __init__(
        self, chain: Chain, deployment: DeploymentManifest, oracle: OracleClient | None = None
    ) -> None:
        if "OptimisticInference" not in deployment.contracts:
            raise VerificationError(
                "this deployment has no OptimisticInference; redeploy the protocol"
            )
        super().__init__(chain, deployment)
        self.oracle = oracle or OracleClient(chain, deployment)

    def _approve(self, key: Secp256k1Key, amount: int) -> None:
        if amount:
            self.oracle.token.approve(key, self.address, amount)

    # --- views -------------------------------------------------------------------------

    def parameters(self) -> OptimisticParameters:
        """Return the bonds and windows new claims and challenges use."""
        raw = self._call(self.functions.parameters())
        return OptimisticParameters(*(int(v) for v in raw))

    def trace_of(self, model: str, version: int) -> TraceModel | None:
        """Return the trace model bound to ``model@version``, or ``None``."""
        raw = self._call(self.functions.traceOf(ModelRegistryClient.model_id(model), version))
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
        raw = self._call(self.functions.getClaim(request_id))
        return ClaimView(
            request_id=request_id,
            phase=OptimisticInferencePhase(int(raw[0])),
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
        raw = self._call(self.functions.getDispute(request_id))
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
        challenges = self._logs("ClaimChallenged", requestId=request_id)
        if not challenges:
            return None
        events = self._logs(
            "OutputRevealed",
            from_block=int(challenges[-1]["blockNumber"]),
            requestId=request_id,
            party=to_checksum_address(party),
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
        function = self.functions.bindTrace(
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
        function = self.functions.propose(request_id, who, selected, trace.commitment())
        self._transact(key, function)
        return self.get_claim(request_id)

    def challenge(self, key: Secp256k1Key, request_id: int, trace: Trace) -> DisputeView:
        """Challenge ``request_id``'s claim with ``trace`` (whose logits must differ)."""
        self._approve(key, self.parameters().challenger_bond)
        self._transact(key, self.functions.challenge(request_id, trace.commitment()))
        dispute = self.get_dispute(request_id)
        assert dispute is not None  # the transaction succeeded
        return dispute

    def reveal(self, key: Secp256k1Key, request_id: int, trace: Trace) -> DisputeView | None:
        """Reveal ``trace``'s leaf at the dispute's midpoint; return the dispute after."""
        dispute = self._dispute(request_id)
        mid = dispute.midpoint
        function = self.functions.reveal(request_id, trace.leaf(mid), trace.tree.proof(mid))
        self._transact(key, function)
        return self.get_dispute(request_id)

    def reveal_output(self, key: Secp256k1Key, request_id: int, trace: Trace) -> None:
        """Reveal ``trace``'s output vector of the one layer in dispute."""
        dispute = self._dispute(request_id)
        function = self.functions.revealOutput(request_id, trace.vectors[dispute.hi])
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
        receipt = self._transact(key, self.functions.resolve(request_id, step))
        return self._resolution(receipt)

    def timeout(self, key: Secp256k1Key, request_id: int) -> Resolution:
        """End ``request_id``'s dispute whose deadline passed, for the side that answered."""
        receipt = self._transact(key, self.functions.timeout(request_id))
        return self._resolution(receipt)

    def finalize(self, key: Secp256k1Key, request_id: int) -> ClaimView:
        """Settle ``request_id`` with the claim that stood through its window."""
        self._transact(key, self.functions.finalize(request_id))
        return self.get_claim(request_id)

    def _dispute(self, request_id: int) -> DisputeView:
        dispute = self.get_dispute(request_id)
        if dispute is None:
            raise VerificationError(f"request {request_id}'s claim is not disputed")
        return dispute

    def _resolution(self, receipt: TxReceipt) -> Resolution:
        (event,) = self._receipt_events("DisputeResolved", receipt)
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
        if (
            claim.phase is not OptimisticInferencePhase.PROPOSED
            or claim.output_leaf == self.trace.leaf(self.trace.layers)
        ):
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
        if dispute is None or claim.phase not in (
            OptimisticInferencePhase.BISECTING,
            OptimisticInferencePhase.STEPPING,
        ):
            return "waiting"
        me = to_checksum_address(self.key.address)
        bit = 1 if me == claim.account else 2 if me == dispute.challenger else 0
        if not bit:
            return "waiting"
        if dispute.revealed & bit == 0:
            if claim.phase is OptimisticInferencePhase.BISECTING:
                self.client.reveal(self.key, request_id, self.trace)
                return "revealed"
            self.client.reveal_output(self.key, request_id, self.trace)
            return "output"
        if claim.phase is OptimisticInferencePhase.STEPPING and dispute.revealed == 3:
            mine = self.trace.vectors[dispute.hi]
            truth = self.network.layer_output(dispute.hi - 1, self.trace.vectors[dispute.lo])
            if mine == truth:
                self.client.resolve(self.key, request_id, self.network, self.trace)
                return "resolved"
        return "waiting"
