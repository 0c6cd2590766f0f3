"""Registry: models and versions — publish, resolve ``name@channel``, verify on pull, lineage.

The ``ModelRegistry`` contract records every version's hashes, CIDs, licence, parent,
publisher and signature, and the channel pointers governance moves. This package stores
artifacts (safetensors weights + a canonical JSON manifest) in the content store, registers
them, and checks everything again on every pull.

Trust assumption: the chain's consensus and hashes; stores, relayers and publishers are
checked, never trusted.
"""

from ledgerlearn.registry._artifact import (
    MANIFEST_SCHEMA,
    ModelCard,
    ModelManifest,
    TensorSpec,
    WeightsInfo,
    describe_weights,
)
from ledgerlearn.registry._client import ModelRegistryClient
from ledgerlearn.registry._reader import RegistryReader
from ledgerlearn.registry._records import (
    MANIFEST_TYPES,
    MODEL_ROLES,
    CircuitBinding,
    ModelRef,
    ModelVersionRecord,
    PullResult,
    VerificationReport,
    parse_model_ref,
)

__all__ = [
    "MANIFEST_SCHEMA",
    "MANIFEST_TYPES",
    "MODEL_ROLES",
    "CircuitBinding",
    "ModelCard",
    "ModelManifest",
    "ModelRef",
    "ModelRegistryClient",
    "ModelVersionRecord",
    "PullResult",
    "RegistryReader",
    "TensorSpec",
    "VerificationReport",
    "WeightsInfo",
    "describe_weights",
    "parse_model_ref",
]
