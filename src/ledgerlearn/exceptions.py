"""Exceptions: one root, one base per layer, and a leaf per thing that can go wrong.

Every error ledgerlearn raises derives from :class:`LedgerLearnError`, and every class of
the tree lives in this module (a test checks both); the only others are the classes
generated from the contracts' custom errors in :mod:`ledgerlearn.ledger.errors`, all
subclasses of :class:`ContractRevertError`. An error that is also a ``ValueError``,
``LookupError`` or ``FileExistsError`` in meaning inherits that too, so callers can catch
it either way. Each class carries an :class:`~ledgerlearn.exit_codes.ExitCode`, which the
CLI turns into a process exit status and a one-line remedy.

The tree (a test compares it with the classes)::

    LedgerLearnError
    ├── ConfigError (ValueError)                    ledgerlearn.toml, LEDGERLEARN_* or a node TOML
    ├── LedgerError
    │   ├── ChainUnavailableError                   the RPC endpoint does not answer
    │   ├── AnvilNotFoundError                      devnet back end without the anvil binary
    │   ├── ChainIdMismatchError (ValueError)       the chain is not the manifest's chain
    │   ├── ArtifactError
    │   │   ├── ArtifactNotFoundError (LookupError)
    │   │   └── StaleArtifactError                  a source changed, artifact not rebuilt
    │   ├── ManifestError
    │   │   ├── ManifestNotFoundError (LookupError)
    │   │   ├── InvalidManifestError (ValueError)
    │   │   └── ManifestCodeMismatchError           code at an address is not the artifact's
    │   ├── TransactionError
    │   │   ├── TransactionTimeoutError             no receipt before the deadline
    │   │   ├── TransactionFailedError              reverted with no reason we can decode
    │   │   └── ContractRevertError                 reverted with a Solidity error: one
    │   │                                           generated subclass per custom error
    │   └── EventCursorError
    ├── StorageError
    │   ├── InvalidCidError (ValueError)
    │   ├── ContentNotFoundError (LookupError)
    │   └── ContentCorruptedError                   stored bytes do not hash to their CID
    ├── IdentityError
    │   ├── InvalidDidError (ValueError)
    │   ├── UnsupportedDidMethodError (ValueError)
    │   ├── InvalidKeyError (ValueError)
    │   ├── KeystoreError
    │   │   └── KeystorePasswordError (ValueError)
    │   ├── SignatureError
    │   └── VrfError
    │       └── InvalidVrfProofError (ValueError)
    ├── SelectionError (ValueError)                 too few candidates with weight to draw
    ├── RegistryError
    │   ├── ModelNotFoundError (LookupError)        no such model, version or channel pointer
    │   ├── InvalidModelArtifactError (ValueError)  cannot be published as it is
    │   ├── ArtifactVerificationError               pulled bytes or signature do not match
    │   │   ├── ArtifactHashMismatchError
    │   │   ├── ManifestMismatchError
    │   │   ├── UntrustedPublisherError
    │   │   ├── VersionRevokedError
    │   │   └── ModelPausedError
    │   └── DestinationExistsError (FileExistsError)
    ├── GovernanceError
    │   ├── EvaluationReportRequiredError (ValueError)
    │   ├── ProposalNotFoundError (LookupError)
    │   └── ProposalStateError                      not in the state a step needs
    ├── LearningError (ValueError)
    │   ├── DatasetError
    │   │   └── DatasetNotInstalledError (LookupError)
    │   ├── AggregationError
    │   │   └── ByzantineBoundError                 more Byzantine inputs than a rule tolerates
    │   ├── SecAggError
    │   │   └── SecAggDropoutError
    │   ├── PrivacyBudgetError
    │   └── SimulationError
    ├── TrainingError
    │   ├── InvalidTaskSpecError (ValueError)
    │   ├── TaskStateError                          the task is not in the phase a step needs
    │   └── EnvelopeError (ValueError)              a sealed update cannot be opened
    ├── OracleError
    │   ├── InvalidInferenceInputError (ValueError) malformed, oversized or wrong-shape input
    │   ├── ReportError                             answers that cannot settle a request
    │   ├── EvidenceError                           an evidence trail does not verify
    │   ├── AuthenticationError                     a gateway request's signature fails (401)
    │   └── RateLimitError                          an identity's rate or quota is spent (429)
    ├── VerificationError
    │   ├── ZkToolchainError
    │   ├── AuditError
    │   └── InvalidProofError (ValueError)
    └── NodeError
        └── NodeStateError                          a state file unreadable or another role's
"""

from __future__ import annotations

from typing import Any, ClassVar

from ledgerlearn.exit_codes import ExitCode

__all__ = [
    "AggregationError",
    "AnvilNotFoundError",
    "ArtifactError",
    "ArtifactHashMismatchError",
    "ArtifactNotFoundError",
    "ArtifactVerificationError",
    "AuditError",
    "AuthenticationError",
    "ByzantineBoundError",
    "ChainIdMismatchError",
    "ChainUnavailableError",
    "ConfigError",
    "ContentCorruptedError",
    "ContentNotFoundError",
    "ContractRevertError",
    "DatasetError",
    "DatasetNotInstalledError",
    "DestinationExistsError",
    "EnvelopeError",
    "EvaluationReportRequiredError",
    "EventCursorError",
    "EvidenceError",
    "GovernanceError",
    "IdentityError",
    "InvalidCidError",
    "InvalidDidError",
    "InvalidInferenceInputError",
    "InvalidKeyError",
    "InvalidManifestError",
    "InvalidModelArtifactError",
    "InvalidProofError",
    "InvalidTaskSpecError",
    "InvalidVrfProofError",
    "KeystoreError",
    "KeystorePasswordError",
    "LearningError",
    "LedgerError",
    "LedgerLearnError",
    "ManifestCodeMismatchError",
    "ManifestError",
    "ManifestMismatchError",
    "ManifestNotFoundError",
    "ModelNotFoundError",
    "ModelPausedError",
    "NodeError",
    "NodeStateError",
    "OracleError",
    "PrivacyBudgetError",
    "ProposalNotFoundError",
    "ProposalStateError",
    "RateLimitError",
    "RegistryError",
    "ReportError",
    "SecAggDropoutError",
    "SecAggError",
    "SelectionError",
    "SignatureError",
    "SimulationError",
    "StaleArtifactError",
    "StorageError",
    "TaskStateError",
    "TrainingError",
    "TransactionError",
    "TransactionFailedError",
    "TransactionTimeoutError",
    "UnsupportedDidMethodError",
    "UntrustedPublisherError",
    "VerificationError",
    "VersionRevokedError",
    "VrfError",
    "ZkToolchainError",
]


class LedgerLearnError(Exception):
    """Root of every error ledgerlearn raises."""

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL


class ConfigError(LedgerLearnError, ValueError):
    """The configuration (``ledgerlearn.toml`` or ``LEDGERLEARN_*``) is invalid."""

    exit_code = ExitCode.CONFIG


# --- ledger -----------------------------------------------------------------------------


class LedgerError(LedgerLearnError):
    """Base of errors talking to an EVM chain."""

    exit_code = ExitCode.CHAIN


class ChainUnavailableError(LedgerError):
    """The chain's JSON-RPC endpoint cannot be reached or does not answer."""

    exit_code = ExitCode.CHAIN_UNAVAILABLE


class AnvilNotFoundError(LedgerError):
    """The devnet back end needs the anvil binary and it is not installed."""

    exit_code = ExitCode.ANVIL_MISSING


class ChainIdMismatchError(LedgerError, ValueError):
    """The connected chain is not the chain a manifest or setting names."""

    exit_code = ExitCode.CHAIN_MISMATCH


class ArtifactError(LedgerError):
    """Base of errors about compiled contract artifacts."""

    exit_code = ExitCode.ARTIFACT


class ArtifactNotFoundError(ArtifactError, LookupError):
    """No compiled artifact exists for the named contract."""


class StaleArtifactError(ArtifactError):
    """A contract source changed after its artifact was compiled."""


class ManifestError(LedgerError):
    """Base of errors about deployment manifests."""

    exit_code = ExitCode.MANIFEST


class ManifestNotFoundError(ManifestError, LookupError):
    """The deployment manifest file does not exist."""


class InvalidManifestError(ManifestError, ValueError):
    """The deployment manifest is malformed or lacks a required contract."""


class ManifestCodeMismatchError(ManifestError):
    """The code deployed at a manifest address is not the artifact the manifest names."""


class TransactionError(LedgerError):
    """Base of errors sending a transaction."""

    exit_code = ExitCode.TRANSACTION


class TransactionTimeoutError(TransactionError):
    """No receipt arrived before the timeout; the transaction may still be mined."""

    exit_code = ExitCode.TRANSACTION_TIMEOUT


class TransactionFailedError(TransactionError):
    """The transaction reverted and its revert data could not be decoded."""


class ContractRevertError(TransactionError):
    """A call reverted with a decoded Solidity error.

    ``error_name`` is the Solidity name (``Error`` for ``require`` strings, ``Panic`` for
    assertion failures, or the custom error's name) and ``arguments`` its decoded values.
    For a custom error, the raised exception is a subclass with the custom error's name, so
    ``except LedgerTokenCapExceeded`` catches exactly that error.
    """

    def __init__(
        self, error_name: str, arguments: dict[str, Any], contract: str | None = None
    ) -> None:
        self.error_name = error_name
        self.arguments = arguments
        self.contract = contract
        rendered = ", ".join(
            f"{key}=0x{value.hex()}" if isinstance(value, bytes) else f"{key}={value!r}"
            for key, value in arguments.items()
        )
        where = f" in {contract}" if contract else ""
        super().__init__(f"{error_name}({rendered}){where}")


class EventCursorError(LedgerError):
    """The event cursor's state file is unreadable or belongs to another chain."""


# --- storage ----------------------------------------------------------------------------


class StorageError(LedgerLearnError):
    """Base of content store errors."""

    exit_code = ExitCode.STORAGE


class InvalidCidError(StorageError, ValueError):
    """A string or byte sequence is not a CID ledgerlearn can use."""

    exit_code = ExitCode.INVALID_CID


class ContentNotFoundError(StorageError, LookupError):
    """The store holds no content for the CID."""

    exit_code = ExitCode.CONTENT_NOT_FOUND


class ContentCorruptedError(StorageError):
    """Stored bytes do not hash to the CID they are stored under."""

    exit_code = ExitCode.CONTENT_CORRUPTED


# --- identity ---------------------------------------------------------------------------


class IdentityError(LedgerLearnError):
    """Base of key, DID and signature errors."""

    exit_code = ExitCode.IDENTITY


class InvalidDidError(IdentityError, ValueError):
    """A string is not a well-formed DID of a supported method."""


class UnsupportedDidMethodError(IdentityError, ValueError):
    """The DID's method or key type is not one ledgerlearn resolves."""


class InvalidKeyError(IdentityError, ValueError):
    """Key material is malformed (wrong length, not on the curve, unknown type)."""


class KeystoreError(IdentityError):
    """An encrypted keystore file is missing, unreadable or malformed."""

    exit_code = ExitCode.KEYSTORE


class KeystorePasswordError(KeystoreError, ValueError):
    """The password does not decrypt the keystore file."""

    exit_code = ExitCode.KEYSTORE_PASSWORD


class SignatureError(IdentityError):
    """A signature is malformed or was not made by the expected signer."""


class VrfError(IdentityError):
    """Base of VRF errors (key material and proofs are identity matters)."""


class InvalidVrfProofError(VrfError, ValueError):
    """A proof is malformed or does not verify for the key and input."""


# --- randomness ---------------------------------------------------------------------------


class SelectionError(LedgerLearnError, ValueError):
    """The selection cannot be made (too few candidates with positive weight)."""


# --- registry ------------------------------------------------------------------------------


class RegistryError(LedgerLearnError):
    """Base of model-registry errors."""

    exit_code = ExitCode.REGISTRY


class ModelNotFoundError(RegistryError, LookupError):
    """No such model or version, or the channel points at no version."""

    exit_code = ExitCode.MODEL_NOT_FOUND


class InvalidModelArtifactError(RegistryError, ValueError):
    """A manifest or artifact that cannot be published as it is (bad field, bad file)."""


class ArtifactVerificationError(RegistryError):
    """Pulled content does not match what the chain records; nothing was written."""

    exit_code = ExitCode.ARTIFACT_VERIFICATION


class ArtifactHashMismatchError(ArtifactVerificationError):
    """The artifact's sha256 is not the one registered on chain."""


class ManifestMismatchError(ArtifactVerificationError):
    """The manifest contradicts the on-chain record (hashes, CIDs, format, model)."""


class UntrustedPublisherError(ArtifactVerificationError):
    """The manifest's signer was not the publisher's key, or the publisher lacked the role."""


class VersionRevokedError(ArtifactVerificationError):
    """The version was revoked by the guardian or governance."""


class ModelPausedError(ArtifactVerificationError):
    """The guardian paused the model; its versions are not to be used until governance unpauses."""


class DestinationExistsError(RegistryError, FileExistsError):
    """Pulling would overwrite an existing file or directory."""

    exit_code = ExitCode.DESTINATION_EXISTS


# --- governance ----------------------------------------------------------------------------


class GovernanceError(LedgerLearnError):
    """Base of governance errors."""

    exit_code = ExitCode.GOVERNANCE


class EvaluationReportRequiredError(GovernanceError, ValueError):
    """A proposal to move a model channel must cite an evaluation report CID."""


class ProposalNotFoundError(GovernanceError, LookupError):
    """No proposal with that id was created on this governor."""


class ProposalStateError(GovernanceError):
    """The proposal is not in the state the requested step needs."""

    exit_code = ExitCode.PROPOSAL_STATE


# --- learning ----------------------------------------------------------------------------


class LearningError(LedgerLearnError, ValueError):
    """Base of federated-learning errors (datasets, aggregation, privacy, simulation)."""

    exit_code = ExitCode.LEARNING


class DatasetError(LearningError):
    """A dataset or partition request is invalid."""


class DatasetNotInstalledError(DatasetError, LookupError):
    """The dataset's package is not installed; the message names the install command."""

    exit_code = ExitCode.DATASET_MISSING


class AggregationError(LearningError):
    """Updates cannot be aggregated as given (empty, ragged, non-finite)."""


class ByzantineBoundError(AggregationError):
    """A rule was asked to tolerate more Byzantine inputs than it can."""


class SecAggError(LearningError):
    """A secure-aggregation message is invalid or arrives in the wrong phase."""


class SecAggDropoutError(SecAggError):
    """Too many clients dropped out for the sum to be unmasked."""


class PrivacyBudgetError(LearningError):
    """A schedule that would spend more than the privacy budget, or cannot reach it."""

    exit_code = ExitCode.PRIVACY_BUDGET


class SimulationError(LearningError):
    """The simulation cannot run or resume as configured."""


# --- training -----------------------------------------------------------------------------


class TrainingError(LedgerLearnError):
    """Base of ledger-coordinated training errors."""

    exit_code = ExitCode.TRAINING


class InvalidTaskSpecError(TrainingError, ValueError):
    """A task spec is malformed or names something ledgerlearn cannot build."""


class TaskStateError(TrainingError):
    """A task is not in the phase an operation needs."""

    exit_code = ExitCode.TASK_STATE


class EnvelopeError(TrainingError, ValueError):
    """An encrypted update cannot be opened (not for us, tampered, or malformed)."""


# --- oracle -------------------------------------------------------------------------------


class OracleError(LedgerLearnError):
    """Base of inference oracle errors."""

    exit_code = ExitCode.ORACLE


class InvalidInferenceInputError(OracleError, ValueError):
    """An inference input is malformed, too large, or of the wrong shape for the model."""

    exit_code = ExitCode.INVALID_INFERENCE_INPUT


class ReportError(OracleError):
    """Signed answers do not make a report the contract would accept (too few, no agreement)."""


class EvidenceError(OracleError):
    """An evidence trail does not verify: a hash or signature does not match the chain."""

    exit_code = ExitCode.EVIDENCE


class AuthenticationError(OracleError):
    """A gateway request's DID signature is missing or does not hold (HTTP 401)."""


class RateLimitError(OracleError):
    """An identity exceeded its request rate or quota (HTTP 429).

    Parameters
    ----------
    message
        What was exceeded.
    retry_after
        Seconds until the identity may send again.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- verification -------------------------------------------------------------------------


class VerificationError(LedgerLearnError):
    """Base of verification errors (audits, zk proofs, disputes, proof-of-learning)."""

    exit_code = ExitCode.VERIFICATION


class ZkToolchainError(VerificationError):
    """EZKL or solc-js is missing or failed; the message names what to install or fix."""

    exit_code = ExitCode.ZK_TOOLCHAIN


class AuditError(VerificationError):
    """An audit step cannot be taken: wrong phase, not on the panel, or input mismatch."""


class InvalidProofError(VerificationError, ValueError):
    """A zk proof does not verify, or proves another model or input than the one claimed."""

    exit_code = ExitCode.INVALID_PROOF


# --- nodes ------------------------------------------------------------------------------


class NodeError(LedgerLearnError):
    """Base of errors of a long-running node (configuration, state directory)."""

    exit_code = ExitCode.NODE


class NodeStateError(NodeError):
    """A node's state file is unreadable or belongs to another role."""
