"""Protocol: the composition root — which contracts make a deployment, and how they are wired.

:func:`deploy_protocol` deploys every contract in :data:`PROTOCOL_CONTRACTS`' order with the
parameters each layer defines (re-exported here so a deployment script needs one import),
hands every role to the timelock or a protocol module, and returns the manifest.

Trust assumption: the deployer is trusted once, during :func:`deploy_protocol`.
"""

from ledgerlearn.governance import GovernanceParameters
from ledgerlearn.oracle import OracleParameters
from ledgerlearn.protocol._deploy import PROTOCOL_CONTRACTS, deploy_protocol
from ledgerlearn.randomness import BeaconParameters
from ledgerlearn.staking import StakingParameters, TokenParameters
from ledgerlearn.verification import (
    AuditParameters,
    OptimisticParameters,
    ProofOfLearningParameters,
)

__all__ = [
    "PROTOCOL_CONTRACTS",
    "AuditParameters",
    "BeaconParameters",
    "GovernanceParameters",
    "OptimisticParameters",
    "OracleParameters",
    "ProofOfLearningParameters",
    "StakingParameters",
    "TokenParameters",
    "deploy_protocol",
]
