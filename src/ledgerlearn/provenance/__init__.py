"""Evidence: how an output came to be, rebuilt and checked from the chain and the store.

Trust assumption: the chain's consensus and content hashes; no gateway, provider, node or
operator is trusted.
"""

from ledgerlearn.provenance._inference import (
    Check,
    InferenceEvidence,
    inference_evidence,
    verify_inference,
)

__all__ = ["Check", "InferenceEvidence", "inference_evidence", "verify_inference"]
