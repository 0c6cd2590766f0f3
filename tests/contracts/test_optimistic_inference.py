"""OptimisticInference on the embedded EVM: claims, challenges, bisection, timeouts.

The model is a real three-layer MLP registered in the registry; traces are computed in
fixed point from the verified artifact; liars are consistent (wrong at one layer, the rest
recomputed from the lie), so the bisection must find the layer and the chain must decide by
re-executing it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ledgerlearn.exceptions import VerificationError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger.errors import (
    ModelRegistryMissingModelRole,
    OptimisticBadProof,
    OptimisticNotParty,
    OptimisticSameOutput,
    OptimisticTraceBound,
    OptimisticWindowClosed,
    OptimisticWindowOpen,
    OracleProviderNotSelected,
    OracleWrongMode,
    OracleWrongStatus,
)
from ledgerlearn.oracle import Mode, Report, load_network
from ledgerlearn.training import TrainingClient
from ledgerlearn.verification import (
    DisputeAgent,
    FixedPointNetwork,
    MerkleTree,
    OptimisticClient,
    Trace,
    input_commitment,
)
from ledgerlearn.verification.optimistic import FixedPointLayer, trace_leaf
from tests.oracle_env import TOKEN, Env, build_oracle_env
from tests.oracle_net import ROW, publish_traced_mlp

BOND = 20 * TOKEN  # OptimisticParameters() bonds
FEE = 10 * TOKEN
LIE = 40 << 16  # a large shift in fixed point


@dataclass
class Net:
    env: Env
    client: OptimisticClient
    network: FixedPointNetwork
    version: int
    training: TrainingClient

    def balance(self, address: str) -> int:
        return int(self.env.oracle.token.functions.balanceOf(address).call())

    def honest(self) -> Trace:
        return self.network.trace(self.network.quantise(ROW))

    def requested(self) -> tuple[int, list[str]]:
        env = self.env
        payload = json.dumps({"x": [ROW]}).encode()
        spec = env.spec(
            version=self.version,
            mode=Mode.OPTIMISTIC,
            redundancy=3,
            quorum=1,
            input_sha256=hashlib.sha256(payload).digest(),
            input_cid=str(env.store.put(payload)),
            zk_input_hash=input_commitment(self.network, payload),
            fee=FEE,
        )
        request_id, drawn = env.drawn(spec)
        return request_id, [k.address for k in drawn]

    def key_of(self, address: str) -> Secp256k1Key:
        (key,) = [k for k in self.env.providers if k.address == address]
        return key

    def play(self, request_id: int, *agents: DisputeAgent) -> None:
        """Let the agents act until the dispute ends."""
        for _ in range(20):
            if self.client.get_claim(request_id).phase.label not in ("bisecting", "stepping"):
                return
            for agent in agents:
                agent.act(request_id)
        raise AssertionError("the dispute did not end")


def build_net(tmp_path: Path) -> Net:
    env = build_oracle_env(tmp_path)
    version, network, client = publish_traced_mlp(env, tmp_path, hidden=(8, 6), seed=5)
    return Net(env, client, network, version, TrainingClient(env.chain, env.oracle.deployment))


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Net:
    return build_net(tmp_path_factory.mktemp("optimistic"))


def test_the_fixed_point_trace_is_the_float_model_to_within_its_resolution(net: Net) -> None:
    model, _ = load_network(net.env.registry, "digits", net.version)
    logits = model._forward(np.asarray([ROW], dtype=np.float32))[-1][0]
    trace = net.honest()
    assert trace.layers == 3 and [len(v) for v in trace.vectors] == [4, 8, 6, 3]
    assert max(abs(a / 2**16 - float(b)) for a, b in zip(trace.logits, logits, strict=True)) < 1e-3
    assert trace.label == int(logits.argmax())
    net.client.check_trace("digits", net.version, net.network)
    tree = MerkleTree([trace_leaf(i, v) for i, v in enumerate(trace.vectors)])
    assert all(MerkleTree.verify(tree.root, i, tree.leaf(i), tree.proof(i)) for i in range(4))
    assert not MerkleTree.verify(tree.root, 1, tree.leaf(2), tree.proof(1))


def test_an_unchallenged_claim_settles_after_its_window(net: Net) -> None:
    env, client = net.env, net.client
    request_id, drawn = net.requested()
    proposer = net.key_of(drawn[0])
    before = net.balance(proposer.address)
    trace = net.honest()
    claim = client.propose(proposer, request_id, trace)
    assert (claim.phase.label, claim.label, claim.provider) == (
        "proposed",
        trace.label,
        proposer.address,
    )
    assert env.oracle.get_request(request_id).status.label == "claimed"
    assert net.balance(proposer.address) == before - BOND
    with pytest.raises(OptimisticWindowOpen):
        client.finalize(env.outsider, request_id)
    with pytest.raises(OracleWrongStatus):  # no refund once claimed
        env.chain.mine(40)
        env.oracle.refund(env.outsider, request_id)
    assert client.finalize(env.outsider, request_id).phase.label == "settled"
    request = env.oracle.get_request(request_id)
    assert (request.status.label, request.result) == ("fulfilled", trace.label)
    assert request.agreeing_signers(env.oracle.selected(request_id)) == [proposer.address]
    assert net.balance(proposer.address) == before
    assert env.oracle.stats_of(proposer.address)["fees"] >= FEE


def test_a_lying_claim_loses_its_bond_to_the_honest_challenger(net: Net) -> None:
    env, client = net.env, net.client
    request_id, drawn = net.requested()
    liar_key, watcher_key = net.key_of(drawn[0]), env.outsider
    honest = net.honest()
    lie = honest.tampered(2, neuron=1, delta=LIE, network=net.network)
    assert lie.logits != honest.logits
    client.propose(liar_key, request_id, lie)
    liar, watcher = (
        DisputeAgent(liar_key, client, net.network, lie),
        DisputeAgent(watcher_key, client, net.network, honest),
    )
    assert not liar.watch(request_id)  # its own claim
    balances = (net.balance(liar_key.address), net.balance(watcher_key.address))
    assert watcher.watch(request_id)
    assert client.get_claim(request_id).phase.label == "bisecting"
    net.play(request_id, liar, watcher)
    claim = client.get_claim(request_id)
    # the challenger's trace is now the claim, open to challenge in turn
    assert (claim.phase.label, claim.provider, claim.label, claim.drawn) == (
        "proposed",
        watcher_key.address,
        honest.label,
        False,
    )
    (resolved,) = client.contract.events.DisputeResolved().get_logs(
        from_block=client.deploy_block, argument_filters={"requestId": request_id}
    )
    assert resolved["args"]["winner"] == watcher_key.address
    assert resolved["args"]["how"] == "re-execution"
    assert resolved["args"]["rounds"] == 2  # leaves 0..3: midpoints 1, then 2
    (step,) = client.contract.events.LayerReexecuted().get_logs(
        from_block=client.deploy_block, argument_filters={"requestId": request_id}
    )
    assert step["args"]["layer"] == 1  # dense layer 1 makes trace leaf 2, where the lie is
    assert net.balance(liar_key.address) == balances[0]  # its bond is gone
    assert net.balance(watcher_key.address) == balances[1] - BOND + BOND  # won the liar's
    # The new claim is challenged in turn: the first dispute's reveals do not count in it.
    assert client.revealed_output(request_id, watcher_key.address) is not None
    second = DisputeAgent(net.key_of(drawn[1]), client, net.network, lie)
    assert second.watch(request_id)
    assert client.revealed_output(request_id, watcher_key.address) is None
    net.play(request_id, second, watcher)
    assert client.get_claim(request_id).provider == watcher_key.address
    assert net.balance(watcher_key.address) == balances[1] - BOND + 2 * BOND
    env.chain.mine(25)
    client.finalize(env.client, request_id)
    request = env.oracle.get_request(request_id)
    assert (request.status.label, request.result) == ("fulfilled", honest.label)
    assert request.agreeing_signers(env.oracle.selected(request_id)) == []
    assert net.balance(watcher_key.address) == balances[1] + 2 * BOND  # its own bond back


def test_a_lying_challenger_loses_to_the_honest_claimant(net: Net) -> None:
    env, client = net.env, net.client
    request_id, drawn = net.requested()
    proposer_key, liar_key = net.key_of(drawn[0]), env.outsider
    honest = net.honest()
    lie = honest.tampered(3, neuron=0, delta=LIE)  # wrong logits only
    client.propose(proposer_key, request_id, honest)
    before = net.balance(proposer_key.address)
    proposer = DisputeAgent(proposer_key, client, net.network, honest)
    liar = DisputeAgent(liar_key, client, net.network, lie)
    assert liar.watch(request_id)
    net.play(request_id, liar, proposer)
    claim = client.get_claim(request_id)
    assert (claim.phase.label, claim.provider, claim.label) == (
        "proposed",
        proposer_key.address,
        honest.label,
    )
    assert net.balance(proposer_key.address) == before + BOND
    env.chain.mine(25)
    client.finalize(env.client, request_id)
    assert env.oracle.get_request(request_id).result == honest.label


def test_a_challenger_who_stops_answering_loses(net: Net) -> None:
    env, client = net.env, net.client
    request_id, drawn = net.requested()
    proposer_key = net.key_of(drawn[0])
    honest = net.honest()
    client.propose(proposer_key, request_id, honest)
    client.challenge(env.outsider, request_id, honest.tampered(1, delta=LIE, network=net.network))
    proposer = DisputeAgent(proposer_key, client, net.network, honest)
    assert proposer.act(request_id) == "revealed"
    assert proposer.act(request_id) == "waiting"
    with pytest.raises(OptimisticWindowOpen):
        client.timeout(env.client, request_id)
    env.chain.mine(11)
    with pytest.raises(OptimisticWindowClosed):
        client.reveal(env.outsider, request_id, honest)
    resolution = client.timeout(env.client, request_id)
    assert (resolution.winner, resolution.how) == (proposer_key.address, "timeout: no reveal")
    assert client.get_claim(request_id).provider == proposer_key.address


def test_a_proposer_who_stops_answering_loses(net: Net) -> None:
    env, client = net.env, net.client
    request_id, drawn = net.requested()
    proposer_key = net.key_of(drawn[0])
    honest = net.honest()
    lie = honest.tampered(1, delta=LIE, network=net.network)
    client.propose(proposer_key, request_id, lie)
    watcher = DisputeAgent(env.outsider, client, net.network, honest)
    assert watcher.watch(request_id)
    assert watcher.act(request_id) == "revealed"  # the liar never answers
    env.chain.mine(11)
    resolution = client.timeout(env.client, request_id)
    assert (resolution.winner, resolution.loser) == (env.outsider.address, proposer_key.address)
    claim = client.get_claim(request_id)
    assert (claim.provider, claim.label) == (env.outsider.address, honest.label)


def test_both_silent_forfeit_both_bonds_and_the_request_is_refunded(net: Net) -> None:
    env, client = net.env, net.client
    request_id, drawn = net.requested()
    honest = net.honest()
    client.propose(net.key_of(drawn[0]), request_id, honest)
    client.challenge(env.outsider, request_id, honest.tampered(3, delta=LIE))
    treasury = env.oracle.deployment.get_address("ProtocolTimelock")
    before = (net.balance(treasury), net.balance(env.client.address))
    env.chain.mine(11)
    resolution = client.timeout(env.client, request_id)
    assert resolution.winner == "0x" + "00" * 20
    assert net.balance(treasury) == before[0] + 2 * BOND
    assert net.balance(env.client.address) == before[1] + FEE
    assert env.oracle.get_request(request_id).status.label == "refunded"


def test_bad_claims_challenges_and_steps_are_refused(net: Net) -> None:
    env, client = net.env, net.client
    request_id, drawn = net.requested()
    outsider = next(k for k in env.providers if k.address not in drawn)
    honest = net.honest()
    with pytest.raises(OracleProviderNotSelected):
        client.propose(outsider, request_id, honest)
    other_input = net.network.trace(net.network.quantise([1.0, 1.0, 1.0, 1.0]))
    with pytest.raises(OptimisticBadProof):  # a trace of another input
        client.propose(net.key_of(drawn[0]), request_id, other_input)
    with pytest.raises(OracleWrongMode):
        env.oracle.fulfil(env.outsider, _empty_report(env, request_id))
    proposer_key = net.key_of(drawn[0])
    client.propose(proposer_key, request_id, honest)
    with pytest.raises(OptimisticNotParty):  # challenge oneself
        client.challenge(proposer_key, request_id, honest.tampered(3, delta=LIE))
    with pytest.raises(OptimisticSameOutput):
        client.challenge(env.outsider, request_id, honest.tampered(1, delta=1))
    lie = honest.tampered(3, delta=LIE)
    client.challenge(env.outsider, request_id, lie)
    with pytest.raises(OptimisticBadProof):  # a leaf from another trace
        mid = client.get_dispute(request_id).midpoint  # type: ignore[union-attr]
        send = env.chain.sender(env.outsider).transact
        send(
            client.contract.functions.reveal(request_id, lie.leaf(mid), honest.tree.proof(mid - 1))
        )
    with pytest.raises(OptimisticNotParty):
        client.reveal(env.client, request_id, honest)
    proposer = DisputeAgent(proposer_key, client, net.network, honest)
    liar = DisputeAgent(env.outsider, client, net.network, lie)
    for _ in range(2):  # both reveal twice: down to the last layer
        proposer.act(request_id)
        liar.act(request_id)
    assert client.get_claim(request_id).phase.label == "stepping"
    with pytest.raises(VerificationError, match="must reveal their outputs"):
        client.resolve(env.client, request_id, net.network, honest)
    proposer.act(request_id)
    liar.act(request_id)
    forged = FixedPointNetwork(
        [*net.network.layers[:2], _scaled(net.network.layers[2])], net.network.frac_bits
    )
    with pytest.raises(OptimisticBadProof):  # weights not committed
        client.resolve(env.client, request_id, forged, honest)
    resolution = client.resolve(env.client, request_id, net.network, honest)
    assert resolution.winner == proposer_key.address
    with pytest.raises(OptimisticTraceBound):
        client.bind_trace(env.owner, "digits", net.version, net.network)
    with pytest.raises(ModelRegistryMissingModelRole):
        client.bind_trace(env.outsider, "digits", 1, net.network)


def _scaled(layer: FixedPointLayer) -> FixedPointLayer:
    return FixedPointLayer(layer.weights * 2, layer.bias, layer.relu)


def _empty_report(env: Env, request_id: int) -> Report:
    return Report(request_id, 0, tuple(env.oracle.selected(request_id)), ())
