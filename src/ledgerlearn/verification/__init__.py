"""Verification of work: zk proofs of inference (EZKL).

Trust assumption: see each module; a proof is only as sound as the SRS its keys came from.
"""

from ledgerlearn.verification.zk import (
    BN254_ORDER,
    Circuit,
    Proof,
    compile_verifier,
    input_hash,
    prove,
    setup_circuit,
    verify_proof,
)

__all__ = [
    "BN254_ORDER",
    "Circuit",
    "Proof",
    "compile_verifier",
    "input_hash",
    "prove",
    "setup_circuit",
    "verify_proof",
]
