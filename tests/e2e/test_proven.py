"""Proven mode end to end: a circuit bound in the registry, a request settled by a zk proof.

The model is a real MLP registered in the ModelRegistry; its EZKL circuit is built, its
verifier compiled with solc-js and deployed, its files stored by CID and bound to the
version; the oracle accepts a fulfilment only with a proof its verifier accepts for the
request's input hash and the version's weight commitment.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ezkl")

from ledgerlearn.exceptions import (
    InvalidProofError,
    OracleError,
    ReportError,
    VerificationError,
)
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger.errors import (
    ModelRegistryCircuitBound,
    OracleInstanceMismatch,
    OracleInvalidProof,
    OracleInvalidRequest,
    OracleNoCircuit,
    OracleProviderNotSelected,
    OracleWrongMode,
)
from ledgerlearn.oracle import Mode, build_report, load_network
from ledgerlearn.registry import CircuitBinding
from ledgerlearn.verification import proven, zk
from tests.oracle_env import TOKEN, Env, build_oracle_env
from tests.oracle_net import publish_mlp

pytestmark = pytest.mark.slow

ROWS = np.random.default_rng(7).normal(size=(8, 4)).astype(np.float32)


@dataclass
class Proven:
    env: Env
    version: int
    circuit: zk.Circuit
    binding: CircuitBinding

    def request(self, row: np.ndarray, *, zk_hash: int | None = None, **changes: object) -> int:
        env = self.env
        payload = json.dumps({"x": [[float(v) for v in row]]}).encode()
        fields: dict[str, object] = {
            "version": self.version,
            "mode": Mode.PROVEN,
            "redundancy": 2,
            "quorum": 1,
            "input_sha256": hashlib.sha256(payload).digest(),
            "input_cid": str(env.store.put(payload)),
            "zk_input_hash": proven.request_input_hash(self.circuit, payload)
            if zk_hash is None
            else zk_hash,
        }
        spec = env.spec(**{**fields, **changes})
        request_id = env.oracle.request(env.client, spec)
        env.beacon.fulfil(env.vrf_holder, env.vrf, env.oracle.randomness_request_id(request_id))
        env.oracle.select(env.client, request_id)
        return request_id

    def drawn(self, request_id: int) -> list[Secp256k1Key]:
        chosen = set(self.env.oracle.selected(request_id))
        return [k for k in self.env.providers if k.address in chosen]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proven]:
    tmp = tmp_path_factory.mktemp("proven")
    env = build_oracle_env(tmp)
    version = publish_mlp(env, tmp)
    for key in env.providers:
        env.oracle.serve(key, "digits", version)
    network, _ = load_network(env.registry, "digits", version)
    built = zk.setup_circuit(network, ROWS, tmp / "built")
    binding = proven.publish_circuit(env.chain, env.registry, env.owner, "digits", version, built)
    # A provider rebuilds the circuit from the chain and the store alone.
    circuit = proven.fetch_circuit(
        env.chain, env.registry, "digits", version, tmp / "fetched", audit=True
    )
    yield Proven(env, version, circuit, binding)
    env.chain.close()


def test_the_binding_is_on_chain_and_the_circuit_rebuilds_from_it(
    net: Proven, tmp_path: Path
) -> None:
    env = net.env
    assert env.registry.circuit_of("digits", net.version) == net.binding
    assert env.registry.circuit_of("digits", 1) is None
    assert net.circuit.weight_commitment == net.binding.weight_commitment
    assert (net.circuit.path("vk.key").read_bytes()) and net.circuit.local_srs
    manifest = json.loads(env.store.get(net.binding.manifest_cid))
    assert set(manifest["files"]) == set(proven.CIRCUIT_FILES)
    # Bound once: a second binding (say, a verifier that accepts anything) is refused.
    with pytest.raises(ModelRegistryCircuitBound):
        env.registry.bind_circuit(env.owner, "digits", net.version, net.binding)
    # publish_circuit says so before it deploys a verifier that could never be bound.
    blocks = env.chain.block_number
    with pytest.raises(VerificationError, match="already has a circuit bound"):
        proven.publish_circuit(
            env.chain, env.registry, env.owner, "digits", net.version, net.circuit
        )
    assert env.chain.block_number == blocks
    with pytest.raises(VerificationError, match="no zk circuit bound"):
        proven.fetch_circuit(env.chain, env.registry, "digits", 1, tmp_path / "x")


def test_a_proven_request_settles_with_a_proof_verified_on_chain(net: Proven) -> None:
    env = net.env
    network, _ = load_network(env.registry, "digits", net.version)
    row = ROWS[3]
    request_id = net.request(row)
    assert env.oracle.zk_input_hash_of(request_id) == zk.input_hash(net.circuit, row)
    request = env.oracle.get_request(request_id)
    with pytest.raises(ReportError, match="settled by a zk proof"):
        build_report(request, env.oracle.selected(request_id), [])
    prover = net.drawn(request_id)[0]
    before = env.oracle.stats_of(prover.address)["fees"]
    proof = proven.prove_request(env.oracle, env.store, net.circuit, prover, request_id)
    done = env.oracle.get_request(request_id)
    assert done.status.label == "fulfilled"
    assert done.result == proof.label == int(np.argmax(network.predict_proba(row[None])[0]))
    (accepted,) = env.oracle.events("ProofAccepted", requestId=request_id)
    assert accepted["args"]["verifier"] == net.binding.verifier
    assert env.oracle.stats_of(prover.address)["fees"] == before + 10 * TOKEN
    assert int(accepted["args"]["label"]) == proof.label
    # Anyone re-checks the settled answer from the chain and the store alone.
    assert proven.verify_proven_answer(env.oracle, env.store, net.circuit, request_id) == proof
    with pytest.raises(OracleError, match="only fulfilled proven requests"):
        proven.verify_proven_answer(env.oracle, env.store, net.circuit, net.request(row))


def test_proofs_for_another_input_another_model_or_tampered_are_refused(net: Proven) -> None:
    env = net.env
    first = net.request(ROWS[0])
    other = net.request(ROWS[1])
    prover = net.drawn(first)[0]
    proof = zk.prove(net.circuit, ROWS[1])  # a valid proof, of the other request's input
    send = env.oracle.fulfil_with_proof
    with pytest.raises(OracleInstanceMismatch):
        send(prover, first, proof.proof, proof.instances)
    # Claiming this request's input hash with that proof fails in the pairing check.
    forged = (env.oracle.zk_input_hash_of(first), *proof.instances[1:])
    with pytest.raises(OracleInvalidProof):
        send(prover, first, proof.proof, forged)
    # Another model's weights: the commitment instance is not the bound one.
    other_weights = (proof.instances[0], proof.instances[1] ^ 1, *proof.instances[2:])
    with pytest.raises(OracleInstanceMismatch):
        send(prover, first, proof.proof, other_weights)
    # A tampered proof byte, and a forged logit.
    own = zk.prove(net.circuit, ROWS[0])
    tampered = bytearray(own.proof)
    tampered[100] ^= 1
    with pytest.raises(OracleInvalidProof):
        send(prover, first, bytes(tampered), own.instances)
    logits = list(own.instances)
    logits[2] = (logits[2] + 1) % zk.BN254_ORDER
    with pytest.raises(OracleInvalidProof):
        send(prover, first, own.proof, logits)
    # A provider that was not drawn cannot settle it; the quorum path is closed.
    outsider = next(k for k in env.providers if k.address not in env.oracle.selected(first))
    with pytest.raises(OracleProviderNotSelected):
        send(outsider, first, own.proof, own.instances)
    with pytest.raises(OracleWrongMode):
        env.chain.sender(prover).transact(
            env.oracle.contract.functions.fulfil(first, 0, env.oracle.selected(first), [])
        )
    send(prover, first, own.proof, own.instances)
    assert env.oracle.get_request(first).status.label == "fulfilled"
    assert env.oracle.get_request(other).status.label == "open"


def test_a_wrong_input_hash_is_caught_before_proving(net: Proven) -> None:
    env = net.env
    with pytest.raises(OracleInvalidRequest, match="zkInputHash"):
        net.request(ROWS[2], zk_hash=zk.BN254_ORDER)
    with pytest.raises(OracleNoCircuit):
        net.request(ROWS[2], version=1, zk_hash=1)
    request_id = net.request(ROWS[2], zk_hash=12345)
    prover = net.drawn(request_id)[0]
    with pytest.raises(InvalidProofError, match="no proof can settle it"):
        proven.prove_request(env.oracle, env.store, net.circuit, prover, request_id)


def test_a_circuit_with_the_weights_in_its_key_settles_and_refuses_other_proofs(
    net: Proven, tmp_path: Path
) -> None:
    """``weights="fixed"``: no commitment instance; the bound verifier's key is the commitment."""
    env = net.env
    version = publish_mlp(env, tmp_path, seed=11)
    for key in env.providers:
        env.oracle.serve(key, "digits", version)
    network, _ = load_network(env.registry, "digits", version)
    built = zk.setup_circuit(network, ROWS, tmp_path / "built", weights="fixed")
    assert built.weights_in_key and built.instance_count == 1 + 3
    assert built.weight_commitment == zk.key_commitment(built.path("vk.key"))
    binding = proven.publish_circuit(env.chain, env.registry, env.owner, "digits", version, built)
    assert binding.weights_in_key and env.registry.circuit_of("digits", version) == binding
    # Fetched and rebuilt from the registered weights: ONNX and verifying key.
    circuit = proven.fetch_circuit(
        env.chain, env.registry, "digits", version, tmp_path / "f", audit=True
    )
    assert circuit.weights == "fixed"
    # The audit refuses another version's weights, and a key its circuit does not generate.
    with pytest.raises(VerificationError, match=r"model\.onnx is not the ONNX export"):
        zk.audit_circuit(load_network(env.registry, "digits", net.version)[0], circuit)
    forged = tmp_path / "forged"
    shutil.copytree(circuit.directory, forged)
    (forged / "vk.key").write_bytes(net.circuit.path("vk.key").read_bytes())
    with pytest.raises(VerificationError, match=r"vk\.key is not the key"):
        zk.audit_circuit(network, zk.Circuit.load(forged))
    fixed = Proven(env, version, circuit, binding)

    request_id = fixed.request(ROWS[5])
    prover = fixed.drawn(request_id)[0]
    send = env.oracle.fulfil_with_proof
    # A proof from the hashed-weights circuit of another version carries that version's
    # commitment and its logits: this version's verifier refuses it.
    other = zk.prove(net.circuit, ROWS[5])
    with pytest.raises(OracleInvalidProof):
        send(prover, request_id, other.proof, (other.instances[0], *other.logit_instances))
    own = zk.prove(circuit, ROWS[5])
    assert len(own.instances) == 4 and own.weight_commitment is None
    forged = list(own.instances)
    forged[1] = (forged[1] + 1) % zk.BN254_ORDER
    with pytest.raises(OracleInvalidProof):
        send(prover, request_id, own.proof, forged)
    with pytest.raises(InvalidProofError, match="hashed weights"):
        zk.verify_proof(circuit, other)
    proof = proven.prove_request(env.oracle, env.store, circuit, prover, request_id)
    done = env.oracle.get_request(request_id)
    assert done.status.label == "fulfilled"
    assert done.result == proof.label == int(np.argmax(network.predict_proba(ROWS[5][None])[0]))
    assert proven.verify_proven_answer(env.oracle, env.store, circuit, request_id) == proof
    assert zk.Proof.from_json(proof.to_json()) == proof
