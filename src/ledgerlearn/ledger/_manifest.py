"""Deployment manifest: which contracts live where, on which chain, built from what.

A manifest is the JSON file ``ledgerlearn deploy`` writes: the chain id, the deploy block,
and per contract its address, the transaction and block that created it, the sha256 of the
artifact it was created from and the keccak256 of the runtime code that resulted. Every
process of a deployment loads the same manifest; :meth:`DeploymentManifest.verify` refuses
another chain and code that is not the artifact's.

Trust assumption: the manifest file itself is not trusted; loading it against a chain
checks every address's code, so a tampered manifest is caught.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import is_address, keccak, to_checksum_address

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import (
    ChainIdMismatchError,
    InvalidManifestError,
    ManifestCodeMismatchError,
    ManifestNotFoundError,
)
from ledgerlearn.ledger._artifacts import get_artifact
from ledgerlearn.types import Address

if TYPE_CHECKING:
    from ledgerlearn.ledger._chain import Chain

__all__ = ["MANIFEST_VERSION", "ContractRecord", "DeploymentManifest"]

MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class ContractRecord:
    """One deployed contract.

    Attributes
    ----------
    address
        Where it lives.
    block
        The block of its creation.
    tx_hash
        The creating transaction.
    artifact_hash
        sha256 of the artifact's creation code.
    code_hash
        keccak256 of the runtime code at ``address`` right after deployment.
    """

    address: Address
    block: int
    tx_hash: str
    artifact_hash: str
    code_hash: str


@dataclass(frozen=True, slots=True)
class DeploymentManifest:
    """The contracts of one deployment.

    Attributes
    ----------
    chain_id
        The chain they are on.
    deployer
        The account that deployed them.
    contracts
        Records by contract name.
    created_at
        ISO 8601 UTC time of the deployment.
    """

    chain_id: int
    deployer: Address
    contracts: Mapping[str, ContractRecord]
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    version: int = MANIFEST_VERSION

    @property
    def deploy_block(self) -> int:
        """The first block of the deployment; event readers start here."""
        return min((record.block for record in self.contracts.values()), default=0)

    def get_address(self, name: str) -> Address:
        """Return the address of contract ``name``.

        Parameters
        ----------
        name
            Contract name.

        Returns
        -------
        Address
            Its address.

        Raises
        ------
        InvalidManifestError
            If the manifest has no such contract.
        """
        try:
            return self.contracts[name].address
        except KeyError as exc:
            known = ", ".join(sorted(self.contracts)) or "none"
            raise InvalidManifestError(
                f"the manifest has no {name!r} (it has: {known}); "
                "redeploy with `ledgerlearn deploy`"
            ) from exc

    def to_json(self) -> dict[str, Any]:
        """Return the manifest as JSON-ready data.

        Returns
        -------
        dict[str, Any]
            The manifest, with ``deployBlock`` for readers.
        """
        return {
            "version": self.version,
            "chainId": self.chain_id,
            "deployer": self.deployer,
            "createdAt": self.created_at,
            "deployBlock": self.deploy_block,
            "contracts": {
                name: {
                    "address": r.address,
                    "block": r.block,
                    "txHash": r.tx_hash,
                    "artifactHash": r.artifact_hash,
                    "codeHash": r.code_hash,
                }
                for name, r in sorted(self.contracts.items())
            },
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "manifest") -> DeploymentManifest:
        """Parse and validate manifest data.

        Parameters
        ----------
        data
            Parsed JSON.
        source
            Where it came from, for messages.

        Returns
        -------
        DeploymentManifest
            The manifest.

        Raises
        ------
        InvalidManifestError
            If a field is missing or malformed.
        """
        try:
            if data["version"] != MANIFEST_VERSION:
                raise InvalidManifestError(
                    f"{source}: manifest version {data['version']} is not {MANIFEST_VERSION}"
                )
            contracts = {}
            for name, item in data["contracts"].items():
                if not is_address(item["address"]):
                    raise InvalidManifestError(f"{source}: {name} address is not an address")
                contracts[name] = ContractRecord(
                    address=to_checksum_address(item["address"]),
                    block=int(item["block"]),
                    tx_hash=str(item["txHash"]),
                    artifact_hash=str(item["artifactHash"]),
                    code_hash=str(item["codeHash"]),
                )
            return cls(
                chain_id=int(data["chainId"]),
                deployer=to_checksum_address(data["deployer"]),
                contracts=contracts,
                created_at=str(data["createdAt"]),
            )
        except InvalidManifestError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidManifestError(
                f"{source} is not a valid deployment manifest: {exc!r}"
            ) from exc

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the manifest atomically.

        Parameters
        ----------
        path
            Destination file.

        Returns
        -------
        Path
            The written file.
        """
        return atomic_write_bytes(path, (json.dumps(self.to_json(), indent=2) + "\n").encode())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DeploymentManifest:
        """Read a manifest file.

        Parameters
        ----------
        path
            The file.

        Returns
        -------
        DeploymentManifest
            The manifest (not yet checked against a chain; see :meth:`verify`).

        Raises
        ------
        ManifestNotFoundError
            If the file does not exist.
        InvalidManifestError
            If it is not a valid manifest.
        """
        source = Path(path)
        try:
            data = json.loads(source.read_text())
        except FileNotFoundError as exc:
            raise ManifestNotFoundError(
                f"no deployment manifest at {source}; create one with `ledgerlearn deploy`"
            ) from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidManifestError(f"{source} is not valid JSON: {exc}") from exc
        return cls.from_json(data, str(source))

    def verify(self, chain: Chain) -> None:
        """Check the manifest against a live chain.

        Parameters
        ----------
        chain
            The connected chain.

        Raises
        ------
        ChainIdMismatchError
            If the chain is not the manifest's.
        ManifestCodeMismatchError
            If any address holds code other than what its artifact deploys.
        """
        if chain.chain_id != self.chain_id:
            raise ChainIdMismatchError(
                f"the manifest is for chain {self.chain_id} but the connected chain is "
                f"{chain.chain_id}"
            )
        for name, record in sorted(self.contracts.items()):
            artifact = get_artifact(name)
            code = chain.code_at(record.address)
            if not code:
                raise ManifestCodeMismatchError(
                    f"{name}: no code at {record.address} on chain {chain.chain_id}; "
                    "was the chain reset? Redeploy with `ledgerlearn deploy`"
                )
            if "0x" + keccak(code).hex() != record.code_hash:
                raise ManifestCodeMismatchError(
                    f"{name}: code at {record.address} is not the code recorded at deployment"
                )
            if record.artifact_hash != artifact.artifact_hash or not artifact.runtime_matches(code):
                raise ManifestCodeMismatchError(
                    f"{name}: code at {record.address} was built from another version of "
                    f"{artifact.source_name}; redeploy with `ledgerlearn deploy`"
                )

    def with_contract(self, name: str, record: ContractRecord) -> DeploymentManifest:
        """Return a copy with ``name`` added or replaced.

        Parameters
        ----------
        name
            Contract name.
        record
            Its deployment record.

        Returns
        -------
        DeploymentManifest
            The new manifest.
        """
        contracts = dict(self.contracts)
        contracts[name] = record
        return replace(self, contracts=contracts)
