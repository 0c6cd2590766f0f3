"""Verification of work: audits, zk proofs (EZKL), optimistic disputes, proof-of-learning.

Trust assumption: see each module; an audit is only as sound as its panel's honest quorum,
and a proof only as sound as the SRS its keys came from.
"""

from ledgerlearn.verification._parameters import (
    AuditParameters,
    OptimisticParameters,
    ProofOfLearningParameters,
)
from ledgerlearn.verification._zk_chain import (
    deploy_verifier,
    verifier_call,
    verify_on_chain,
)
from ledgerlearn.verification.audits import (
    AuditClient,
    Auditor,
    AuditOutcome,
    AuditView,
)
from ledgerlearn.verification.learning import (
    LearningProofClient,
    LearningVerifier,
    ProofOfLearning,
    SegmentCheck,
    check_segment,
    train_with_proof,
)
from ledgerlearn.verification.optimistic import (
    ClaimView,
    DisputeAgent,
    DisputeView,
    FixedPointNetwork,
    MerkleTree,
    OptimisticClient,
    Trace,
    input_commitment,
)
from ledgerlearn.verification.proven import (
    fetch_circuit,
    input_row,
    prove_request,
    publish_circuit,
    request_input_hash,
    verify_proven_answer,
)
from ledgerlearn.verification.zk import (
    Circuit,
    Proof,
    input_hash,
    prove,
    setup_circuit,
    verify_proof,
)

__all__ = [
    "AuditParameters",
    "OptimisticParameters",
    "ProofOfLearningParameters",
    "AuditClient",
    "AuditOutcome",
    "AuditView",
    "Auditor",
    "ClaimView",
    "DisputeAgent",
    "DisputeView",
    "FixedPointNetwork",
    "LearningProofClient",
    "LearningVerifier",
    "MerkleTree",
    "OptimisticClient",
    "ProofOfLearning",
    "SegmentCheck",
    "Trace",
    "check_segment",
    "input_commitment",
    "Circuit",
    "Proof",
    "deploy_verifier",
    "fetch_circuit",
    "input_hash",
    "input_row",
    "prove",
    "prove_request",
    "publish_circuit",
    "request_input_hash",
    "setup_circuit",
    "train_with_proof",
    "verifier_call",
    "verify_on_chain",
    "verify_proof",
    "verify_proven_answer",
]
