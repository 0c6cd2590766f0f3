"""Verification of work: audits of inference answers and zk proofs of inference (EZKL).

Trust assumption: see each module; an audit is only as sound as its panel's honest quorum,
and a proof only as sound as the SRS its keys came from.
"""

from ledgerlearn.verification.audits import (
    AUDIT_STATUSES,
    AuditClient,
    Auditor,
    AuditOutcome,
    AuditView,
)
from ledgerlearn.verification.proven import (
    CIRCUIT_FILES,
    fetch_circuit,
    input_row,
    prove_request,
    publish_circuit,
    request_input_hash,
    verify_proven_answer,
)
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
    "AUDIT_STATUSES",
    "AuditClient",
    "AuditOutcome",
    "AuditView",
    "Auditor",
    "BN254_ORDER",
    "CIRCUIT_FILES",
    "VERIFIER_ABI",
    "Circuit",
    "Proof",
    "compile_verifier",
    "deploy_verifier",
    "fetch_circuit",
    "input_hash",
    "input_row",
    "prove",
    "prove_request",
    "publish_circuit",
    "request_input_hash",
    "setup_circuit",
    "verifier_call",
    "verify_on_chain",
    "verify_proof",
    "verify_proven_answer",
]
