"""Proven inference on the oracle: circuits bound to model versions, requests settled by proof.

:mod:`ledgerlearn.verification.zk` makes a circuit and proofs; this module puts them on the
ledger. :func:`publish_circuit` deploys the circuit's verifier, stores the circuit's files
(settings, compiled circuit, keys, SRS, ONNX export, verifier source) by CID under one
manifest, and binds verifier, weight commitment and manifest to the model version in the
``ModelRegistry``. :func:`fetch_circuit` rebuilds the circuit directory from the registry
and the content store alone, checking every hash. A requester asks in ``PROVEN`` mode with
the circuit's hash of its input (:func:`request_input_hash`); a drawn provider proves the
inference and settles the request with :func:`prove_request`, and the ``InferenceOracle``
accepts it only if the bound verifier accepts the proof with the request's input hash and
the version's weight commitment as public inputs (or, for a circuit built with
``weights="fixed"``, with the input hash alone: the bound verifier's key commits to the
weights).

References: EZKL (zkonduit/ezkl); the oracle's proven mode (``InferenceOracle``).

Trust assumption: the SRS (see :mod:`ledgerlearn.verification.zk`), and the publisher for
the binding itself — the registry accepts the verifier and commitment its owner or publisher
binds, once; :func:`fetch_circuit` lets anyone check the verifier's code is the one its
manifest's source compiles to and the commitment is the one the circuit computes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from eth_utils import keccak

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import (
    InvalidInferenceInputError,
    InvalidProofError,
    OracleError,
    VerificationError,
)
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger.enums import InferenceOracleStatus
from ledgerlearn.oracle import Mode, OracleClient
from ledgerlearn.registry import CircuitBinding, ModelRegistryClient, RegistryReader
from ledgerlearn.storage import ContentStore
from ledgerlearn.verification._zk_chain import compile_verifier, deploy_verifier
from ledgerlearn.verification.zk import (
    Circuit,
    Proof,
    audit_circuit,
    input_hash,
    install_directory,
    key_commitment,
    prove,
    verify_proof,
)

__all__ = [
    "CIRCUIT_FILES",
    "MANIFEST_KIND",
    "check_unbound",
    "fetch_circuit",
    "input_row",
    "prove_request",
    "publish_circuit",
    "request_input_hash",
    "verify_proven_answer",
]

MANIFEST_KIND = "ledgerlearn/zk-circuit/1"
"""The ``kind`` field of a circuit manifest."""

CIRCUIT_FILES = (
    "settings.json",
    "model.compiled",
    "vk.key",
    "pk.key",
    "kzg.srs",
    "model.onnx",
    "Verifier.sol",
)
"""The circuit files a manifest stores by CID (everything a prover and a checker need)."""


def check_unbound(registry: RegistryReader, name: str, version: int) -> None:
    """Refuse a version that already has a circuit: a binding is final.

    Called before a circuit is built (minutes of EZKL work) and before its verifier is
    deployed, so that neither is spent on a version that already has its circuit. Other
    refusals (a signer without the publisher's role, a revoked version) still come from
    the binding transaction itself.

    Parameters
    ----------
    registry
        Any registry reader.
    name, version
        The model version.

    Raises
    ------
    VerificationError
        If ``name@version`` has a circuit bound, naming its verifier.
    """
    bound = registry.circuit_of(name, version)
    if bound is not None:
        raise VerificationError(
            f"{name}@{version} already has a circuit bound (verifier {bound.verifier}, "
            f"manifest {bound.manifest_cid}); a binding is final: publish a new version to "
            "bind another circuit, or use `ledgerlearn zk fetch` to get this one"
        )


def publish_circuit(
    chain: Any,
    registry: ModelRegistryClient,
    key: Secp256k1Key,
    name: str,
    version: int,
    circuit: Circuit,
    *,
    publisher: str | None = None,
) -> CircuitBinding:
    """Deploy the circuit's verifier, store its files and bind it to ``name@version``.

    Parameters
    ----------
    chain
        The :class:`ledgerlearn.ledger.Chain`.
    registry
        A registry client with a content store.
    key
        Deploys the verifier and acts for ``publisher``.
    name, version
        The model version the circuit was built from.
    circuit
        The circuit (:func:`ledgerlearn.verification.zk.setup_circuit`).
    publisher
        The identity that owns or publishes the model (default: ``key``'s address).

    Returns
    -------
    CircuitBinding
        What the registry now records.
    """
    store = registry.store
    if store is None:
        raise VerificationError("publishing a circuit needs a registry client with a store")
    record = registry.get_version(name, version)
    check_unbound(registry, name, version)
    verifier = deploy_verifier(chain, circuit, key)
    runtime = bytes(chain.w3.eth.get_code(verifier))
    files = {n: str(store.put_file(circuit.path(n))) for n in CIRCUIT_FILES}
    manifest = {
        "kind": MANIFEST_KIND,
        "model": name,
        "version": version,
        "artifactSha256": record.artifact_sha256,
        "circuit": circuit.to_json(),
        "files": files,
        "verifier": {"address": verifier, "codeKeccak256": "0x" + keccak(runtime).hex()},
    }
    raw = json.dumps(manifest, indent=1, sort_keys=True).encode()
    binding = CircuitBinding(
        verifier=verifier,
        weight_commitment=circuit.weight_commitment,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        manifest_cid=str(store.put(raw)),
        weights_in_key=circuit.weights_in_key,
    )
    registry.bind_circuit(key, name, version, binding, publisher=publisher)
    return binding


def fetch_circuit(
    chain: Any,
    registry: ModelRegistryClient,
    name: str,
    version: int,
    directory: str | Path,
    *,
    check_verifier: bool = True,
    audit: bool = False,
) -> Circuit:
    """Rebuild ``name@version``'s circuit directory from the registry and the store.

    Every file is read by the CID the manifest names (the store checks each block), the
    manifest by the hash the registry holds, and the circuit's weight commitment against
    the binding (for a circuit whose key holds the weights, the key's keccak256). With
    ``check_verifier`` the deployed verifier's code must be what the manifest's
    ``Verifier.sol`` compiles to with the pinned solc-js. With ``audit`` the circuit is
    also rebuilt from the registered weights (:func:`ledgerlearn.verification.zk.audit_circuit`),
    which ties the verifier to *this version's* weights rather than to its publisher's word.

    Raises
    ------
    VerificationError
        If no circuit is bound, or a hash, commitment or the verifier's code does not match.
    """
    store = registry.store
    if store is None:
        raise VerificationError("fetching a circuit needs a registry client with a store")
    binding = registry.circuit_of(name, version)
    if binding is None:
        raise VerificationError(
            f"{name}@{version} has no zk circuit bound; its publisher runs `ledgerlearn zk setup`"
        )
    raw = store.get(binding.manifest_cid)
    if hashlib.sha256(raw).hexdigest() != binding.manifest_sha256:
        raise VerificationError(f"the circuit manifest of {name}@{version} does not match its hash")
    manifest = json.loads(raw)
    if manifest.get("kind") != MANIFEST_KIND:
        raise VerificationError(f"{binding.manifest_cid} is not a {MANIFEST_KIND} manifest")
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for file_name in CIRCUIT_FILES:
            store.get_to_file(manifest["files"][file_name], work / file_name)
        atomic_write_bytes(work / "circuit.json", json.dumps(manifest["circuit"]).encode())
        circuit = Circuit.load(work)
        if (
            circuit.weight_commitment != binding.weight_commitment
            or circuit.weights_in_key != binding.weights_in_key
        ):
            raise VerificationError(
                f"the circuit of {name}@{version} commits to other weights than its binding"
            )
        if circuit.weights_in_key and key_commitment(circuit.path("vk.key")) != (
            binding.weight_commitment
        ):
            raise VerificationError(
                f"the verifying key of {name}@{version} is not the one its binding commits to"
            )
        if audit:
            from ledgerlearn.oracle import load_network

            audit_circuit(load_network(registry, name, version)[0], circuit)
        if check_verifier:
            compiled = compile_verifier(circuit)
            deployed = bytes(chain.w3.eth.get_code(binding.verifier))
            if deployed != compiled.deployed_bytecode:
                raise VerificationError(
                    f"the verifier bound to {name}@{version} is not the one its circuit's "
                    "Verifier.sol compiles to; do not trust proofs it accepts"
                )
        install_directory(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dataclasses.replace(circuit, directory=target)


def input_row(raw: bytes, features: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Read the single row of a proven or optimistic request's input (``{"x": [[...]]}``).

    The values are kept as float64, as written; the circuit reads them as float32, the
    fixed-point trace rounds them from float64.

    Raises
    ------
    VerificationError
        If the document is not JSON with one row of ``features`` numbers.
    """
    try:
        rows = json.loads(raw)["x"]
        row = np.asarray(rows, dtype=np.float64)
    except (ValueError, KeyError, TypeError) as exc:
        raise VerificationError(
            f'a proven or optimistic request\'s input must be {{"x": [[...]]}}: {exc}'
        ) from exc
    if row.shape != (1, features):
        raise VerificationError(
            f"a proven or optimistic request's input must be one row of {features} numbers, "
            f"got shape {row.shape}"
        )
    first: np.ndarray[Any, np.dtype[np.float64]] = row[0]
    return first


def request_input_hash(circuit: Circuit, raw: bytes) -> int:
    """Return the circuit's hash of request input ``raw`` (what a ``PROVEN`` request carries)."""
    return input_hash(circuit, input_row(raw, circuit.features))


def prove_request(
    oracle: OracleClient,
    store: ContentStore,
    circuit: Circuit,
    key: Secp256k1Key,
    request_id: int,
    *,
    provider: str = "",
) -> Proof:
    """Prove ``request_id``'s inference and settle it on chain as drawn ``provider``.

    Parameters
    ----------
    oracle
        The oracle client.
    store
        Where the request's input is read.
    circuit
        The circuit of the request's model version (:func:`fetch_circuit`).
    key
        The provider's key (owner or ``sigAuth`` delegate of ``provider``).
    request_id
        A ``PROVEN`` request this provider was drawn for.
    provider
        The provider identity (default: ``key``'s address).

    Returns
    -------
    Proof
        The proof the oracle accepted.

    Raises
    ------
    OracleError
        If the request is not an open proven request this provider was drawn for.
    InvalidInferenceInputError
        If the stored input does not hash to the request's input hash.
    InvalidProofError
        If the request's input hash is not the circuit's hash of its input (the requester
        gave a wrong one: nothing can settle it; let it expire and be refunded).
    """
    who = provider or key.address
    request = oracle.get_request(request_id)
    if request.mode is not Mode.PROVEN or request.status is not InferenceOracleStatus.OPEN:
        raise OracleError(
            f"request {request_id} is a {request.mode.name.lower()} request in status "
            f"{request.status}; only open proven requests are settled by proof"
        )
    if who.lower() not in {p.lower() for p in oracle.selected(request_id)}:
        raise OracleError(f"provider {who} was not drawn for request {request_id}")
    raw = oracle.read_input(store, request)
    expected = oracle.zk_input_hash_of(request_id)
    row = input_row(raw, circuit.features)
    actual = input_hash(circuit, row)
    if actual != expected:
        raise InvalidProofError(
            f"request {request_id} names zk input hash {expected:#x}, but its input hashes to "
            f"{actual:#x} in this circuit; no proof can settle it, let it expire"
        )
    proof = prove(circuit, row)
    oracle.fulfil_with_proof(key, request_id, proof.proof, proof.instances, provider=who)
    return proof


def verify_proven_answer(
    oracle: OracleClient, store: ContentStore, circuit: Circuit, request_id: int
) -> Proof:
    """Re-check a settled ``PROVEN`` request from the chain and the store alone.

    Reads the proof from the settling transaction's calldata, then checks off chain that it
    verifies against the circuit's key, that its input hash is the circuit's hash of the
    input stored under the request's CID (and the one the request named), that it commits
    to the circuit's weights, and that its label is the recorded result.

    Raises
    ------
    InvalidProofError
        If any check fails.
    OracleError
        If the request is not a fulfilled proven request.
    """
    request = oracle.get_request(request_id)
    if request.mode is not Mode.PROVEN or request.status is not InferenceOracleStatus.FULFILLED:
        raise OracleError(
            f"request {request_id} is a {request.mode.name.lower()} request in status "
            f"{request.status}; only fulfilled proven requests carry a proof"
        )
    (event,) = oracle.events("ProofAccepted", requestId=request_id)
    tx = oracle.chain.w3.eth.get_transaction(event["transactionHash"])
    _, args = oracle.contract.decode_function_input(tx["input"])
    proof = Proof(
        proof=bytes(args["proof"]),
        instances=tuple(int(v) for v in args["instances"]),
        output_scale=circuit.output_scale,
        weights_in_key=circuit.weights_in_key,
    )
    if proof.input_hash != oracle.zk_input_hash_of(request_id):
        raise InvalidProofError(f"request {request_id}'s proof is over another input hash")
    try:
        raw = oracle.read_input(store, request)
    except InvalidInferenceInputError as exc:
        raise InvalidProofError(str(exc)) from exc
    verify_proof(circuit, proof, input_row(raw, circuit.features))
    if proof.label != request.result:
        raise InvalidProofError(
            f"request {request_id} records result {request.result}; its proof says {proof.label}"
        )
    return proof
