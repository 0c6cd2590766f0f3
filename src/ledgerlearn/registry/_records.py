"""Registry records: model references, on-chain version records, circuit bindings, reports.

Value objects the registry client returns and takes; ``MANIFEST_TYPES`` is the EIP-712
struct a publisher signs and ``MODEL_ROLES`` the per-model roles by their CLI names.

Trust assumption: none; these only carry what the chain and the store said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from ledgerlearn.exceptions import (
    ModelNotFoundError,
)
from ledgerlearn.identity import ethr_did
from ledgerlearn.ledger.enums import ModelRegistryVersionStatus
from ledgerlearn.registry._artifact import ModelManifest
from ledgerlearn.storage import parse_cid
from ledgerlearn.types import Address, Cid

__all__ = [
    "MANIFEST_TYPES",
    "MODEL_ROLES",
    "CircuitBinding",
    "ModelRef",
    "ModelVersionRecord",
    "PullResult",
    "VerificationReport",
    "parse_model_ref",
]

MODEL_ROLES = {
    "owner": keccak(text="MODEL_OWNER_ROLE"),
    "publisher": keccak(text="MODEL_PUBLISHER_ROLE"),
}
"""Per-model roles by their CLI names."""

MANIFEST_TYPES = {
    "ModelManifest": [
        {"name": "model", "type": "string"},
        {"name": "artifactSha256", "type": "bytes32"},
        {"name": "artifactCid", "type": "bytes"},
        {"name": "format", "type": "string"},
        {"name": "license", "type": "string"},
        {"name": "metadataCid", "type": "bytes"},
        {"name": "parentVersion", "type": "uint256"},
        {"name": "publisher", "type": "address"},
    ]
}
"""EIP-712 types of the manifest signature (``ModelRegistry.MANIFEST_TYPEHASH``)."""

_REF_RE = re.compile(r"^(?P<name>[^@]{1,64})(?:@(?P<selector>[^@]{1,32}))?$")
_WEIGHTS_FILE = "weights.safetensors"
_MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True, slots=True)
class ModelRef:
    """``name@channel`` or ``name@version``.

    Attributes
    ----------
    name
        The model's name.
    channel
        A channel name, when the reference names one.
    version
        A version number, when the reference names one.
    """

    name: str
    channel: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.name}@{self.version if self.version is not None else self.channel}"


def parse_model_ref(text: str) -> ModelRef:
    """Parse ``name``, ``name@channel`` or ``name@<version number>``.

    Parameters
    ----------
    text
        The reference; a bare name means its ``production`` channel.

    Returns
    -------
    ModelRef
        The parsed reference.

    Raises
    ------
    ModelNotFoundError
        If the text is not a reference.
    """
    match = _REF_RE.match(text)
    if match is None:
        raise ModelNotFoundError(
            f"{text!r} is not a model reference; write NAME@CHANNEL or NAME@VERSION"
        )
    selector = match.group("selector") or "production"
    if selector.isdigit():
        return ModelRef(match.group("name"), version=int(selector))
    return ModelRef(match.group("name"), channel=selector)


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    """One registered version, as the chain records it.

    Attributes
    ----------
    model, version
        Which version.
    artifact_sha256
        Hex sha256 of the weights file.
    artifact_cid, metadata_cid
        CIDs of the weights and the manifest.
    format, license
        Artifact format and SPDX licence.
    parent_version
        The version it derives from (0 for a root).
    publisher
        The publishing identity (did:ethr address).
    signer
        The key that signed the manifest.
    registered_block
        Block of registration.
    status
        Its :class:`~ledgerlearn.ledger.enums.ModelRegistryVersionStatus`.
    signature
        The EIP-712 signature.
    """

    model: str
    version: int
    artifact_sha256: str
    artifact_cid: Cid
    format: str
    license: str
    metadata_cid: Cid
    parent_version: int
    publisher: Address
    signer: Address
    registered_block: int
    status: ModelRegistryVersionStatus
    signature: bytes

    def to_json(self, chain_id: int) -> dict[str, Any]:
        """Return the record as JSON, with the publisher's DID.

        Parameters
        ----------
        chain_id
            The chain, for the DID.

        Returns
        -------
        dict
            camelCase fields.
        """
        return {
            "model": self.model,
            "version": self.version,
            "status": self.status.label,
            "artifactSha256": self.artifact_sha256,
            "artifactCid": self.artifact_cid,
            "metadataCid": self.metadata_cid,
            "format": self.format,
            "license": self.license,
            "parentVersion": self.parent_version,
            "publisher": ethr_did(chain_id, self.publisher),
            "signer": self.signer,
            "registeredBlock": self.registered_block,
            "signature": "0x" + self.signature.hex(),
        }


@dataclass(frozen=True, slots=True)
class CircuitBinding:
    """A zk circuit bound to a model version (``ModelRegistry.Circuit``).

    Attributes
    ----------
    verifier
        Address of the deployed Halo2 verifier.
    weight_commitment
        The circuit's Poseidon commitment to the weights (a proof's second instance), or the
        keccak256 of its verifying key when ``weights_in_key``.
    manifest_sha256
        Hex sha256 of the circuit manifest.
    manifest_cid
        CID of the circuit manifest (which lists the settings', keys' and circuit's CIDs).
    weights_in_key
        The weights are constants of the circuit, committed by the verifying key the
        verifier embeds; proofs then carry no weight commitment instance.
    """

    verifier: str
    weight_commitment: int
    manifest_sha256: str
    manifest_cid: str
    weights_in_key: bool = False

    def to_tuple(self) -> tuple[str, int, bytes, bytes, bool]:
        """ABI tuple."""
        return (
            to_checksum_address(self.verifier),
            self.weight_commitment,
            bytes.fromhex(self.manifest_sha256),
            parse_cid(self.manifest_cid).binary,
            self.weights_in_key,
        )


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """What :meth:`ModelRegistryClient.verify` checked, all of which passed.

    Attributes
    ----------
    record
        The on-chain version.
    manifest
        The manifest, fetched and checked.
    checks
        Human-readable list of the checks that passed.
    """

    record: ModelVersionRecord
    manifest: ModelManifest
    checks: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PullResult:
    """Where a pulled version was written.

    Attributes
    ----------
    report
        The verification that preceded the write.
    directory
        The destination directory.
    weights, manifest
        The two files in it.
    """

    report: VerificationReport
    directory: Path
    weights: Path
    manifest: Path
