"""zk verifiers on chain: EZKL's Solidity verifier compiled, deployed and called.

A circuit's ``Verifier.sol`` (EZKL renders it from the verifying key) is compiled with the
pinned solc-js, deployed like any contract, and called with a proof and its instances
(``verifyProof(bytes, uint256[])``); :func:`verify_on_chain` asks a deployed verifier.

Trust assumption: the verifier is as sound as the verifying key it was rendered from; the
registry binds its address and code to a model version.
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from web3.contract.contract import ContractFunction

from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, CompiledContract, compile_solidity
from ledgerlearn.verification.zk import _VERIFIER_CONTRACT, Circuit, Proof

__all__ = [
    "VERIFIER_ABI",
    "compile_verifier",
    "deploy_verifier",
    "verifier_call",
    "verify_on_chain",
]


def compile_verifier(circuit: Circuit) -> CompiledContract:
    """Compile the circuit's Solidity verifier with the pinned solc-js.

    Parameters
    ----------
    circuit
        The circuit.

    Returns
    -------
    ledgerlearn.ledger.CompiledContract
        ABI and bytecode of ``Halo2Verifier`` (``verifyProof(bytes, uint256[])``).
    """
    return compile_solidity(
        circuit.path("Verifier.sol").read_text(), _VERIFIER_CONTRACT, filename="Verifier.sol"
    )


def deploy_verifier(chain: Chain, circuit: Circuit, sender: Secp256k1Key) -> str:
    """Compile and deploy the circuit's verifier; return its address.

    Parameters
    ----------
    chain
        A :class:`ledgerlearn.ledger.Chain`.
    circuit
        The circuit.
    sender
        The deploying key.

    Returns
    -------
    str
        The verifier's checksummed address.
    """
    address, _ = chain.deploy_code(
        compile_verifier(circuit).bytecode, sender=sender, name=_VERIFIER_CONTRACT
    )
    return str(address)


VERIFIER_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "verifyProof",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "proof", "type": "bytes"},
            {"name": "instances", "type": "uint256[]"},
        ],
        "outputs": [{"name": "", "type": "bool"}],
    }
]
"""The entry point every EZKL Halo2 verifier has: ``verifyProof(bytes, uint256[])``."""


def verifier_call(
    chain: Chain, verifier: str, proof: Proof, *, weight_commitment: int | None, input_digest: int
) -> ContractFunction:
    """Return the bound ``verifyProof`` call for ``proof`` with the *claimed* instances.

    The instances sent are the claim's, not the proof's: a proof made for other weights or
    another input then fails inside the pairing check, on chain.

    Parameters
    ----------
    chain
        A :class:`ledgerlearn.ledger.Chain`.
    verifier
        The verifier's address.
    proof
        The proof (its logits are the answer being claimed).
    weight_commitment
        The registered weight commitment of the model version; ``None`` for a circuit whose
        verifying key commits to the weights (the verifier is then the commitment).
    input_digest
        The circuit's hash of the request's input.

    Returns
    -------
    web3.contract.contract.ContractFunction
        For :meth:`ledgerlearn.ledger.Chain.call`, a gas estimate or a transaction.
    """
    contract = chain.w3.eth.contract(address=to_checksum_address(verifier), abi=VERIFIER_ABI)
    commitments = [] if weight_commitment is None else [weight_commitment]
    instances = [input_digest, *commitments, *proof.logit_instances]
    call: ContractFunction = contract.functions.verifyProof(proof.proof, instances)
    return call


def verify_on_chain(
    chain: Chain, verifier: str, proof: Proof, *, weight_commitment: int | None, input_digest: int
) -> bool:
    """Ask the deployed verifier whether ``proof`` holds for the claimed model and input.

    Parameters
    ----------
    chain
        A :class:`ledgerlearn.ledger.Chain`.
    verifier
        The verifier's address.
    proof
        The proof.
    weight_commitment
        The registered weight commitment (``None`` when the key commits to the weights).
    input_digest
        The circuit's hash of the request's input.

    Returns
    -------
    bool
        True only when the contract returns true; a revert (EZKL's verifier reverts on a
        malformed or false proof) is False.
    """
    from ledgerlearn.exceptions import TransactionError

    call = verifier_call(
        chain, verifier, proof, weight_commitment=weight_commitment, input_digest=input_digest
    )
    try:
        return bool(chain.call(call))
    except TransactionError:
        return False
