"""Verification of work: zk proofs of inference (EZKL).

Trust assumption: see each module; a proof is only as sound as the SRS its keys came from.
"""

from ledgerlearn.verification.zk import (
    BN254_ORDER,
    VERIFIER_ABI,
    Circuit,
    Proof,
    compile_verifier,
    deploy_verifier,
    input_hash,
    prove,
    setup_circuit,
    verifier_call,
    verify_on_chain,
    verify_proof,
)

__all__ = [
    "BN254_ORDER",
    "VERIFIER_ABI",
    "Circuit",
    "Proof",
    "compile_verifier",
    "deploy_verifier",
    "input_hash",
    "prove",
    "setup_circuit",
    "verifier_call",
    "verify_on_chain",
    "verify_proof",
]
