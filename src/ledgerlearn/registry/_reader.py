"""Model registry reads: resolve ``name@channel``, history, lineage, and verify on pull.

:class:`RegistryReader` reads the ``ModelRegistry`` contract and a
:class:`~ledgerlearn.storage.ContentStore` (the writes are
:class:`~ledgerlearn.registry.ModelRegistryClient`'s). ``pull`` answers "is this exactly
the model the chain says?" before writing a byte:

1. the version exists and is not revoked, and its model is not paused;
2. the EIP-712 signature over the on-chain fields recovers to the recorded signer, which
   was, *at the registration block*, the publisher identity's owner key or a live delegate
   (did:ethr resolved as of that block), and the publisher then held the publisher role;
3. the manifest fetched by its CID (the store checks every byte against the CID) agrees
   with the chain: model name, format, licence, parent, weights sha256 and CID;
4. the weights fetched by their CID hash to the sha256 the chain records.

Only then are the weights and manifest moved into the destination, atomically.

Trust assumption: the chain's consensus and hashes. Storage, relayers and publishers'
claims are untrusted; every pull re-checks them against the chain.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3.contract import Contract

from ledgerlearn.exceptions import (
    ArtifactHashMismatchError,
    DestinationExistsError,
    InvalidModelArtifactError,
    ManifestMismatchError,
    ModelNotFoundError,
    ModelPausedError,
    RegistryError,
    SignatureError,
    UntrustedPublisherError,
    VersionRevokedError,
)
from ledgerlearn.identity import EthrDidResolver, address_of, ethr_did
from ledgerlearn.keys import Eip712Domain, recover_typed_data_signer
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest, receipt_events
from ledgerlearn.ledger.enums import ModelRegistryVersionStatus
from ledgerlearn.ledger.errors import ModelRegistryUnknownModel, ModelRegistryUnknownVersion
from ledgerlearn.registry._artifact import ModelManifest
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
from ledgerlearn.storage import ContentStore, cid_from_binary, cid_or_hex, parse_cid
from ledgerlearn.types import Cid

__all__ = ["RegistryReader"]

_WEIGHTS_FILE = "weights.safetensors"
_MANIFEST_FILE = "manifest.json"


class RegistryReader(ContractClient):
    """Resolve, inspect, verify and pull model versions (everything that only reads).

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The verified deployment manifest (names the ModelRegistry, IdentityRegistry and,
        for approval lookups, LedgerGovernor).
    store
        Where artifacts and manifests live; needed for verify and pull.
    """

    contract_name = "ModelRegistry"

    def __init__(
        self, chain: Chain, deployment: DeploymentManifest, store: ContentStore | None = None
    ) -> None:
        super().__init__(chain, deployment)
        self.store = store
        self.identities = EthrDidResolver(chain, deployment)
        self._governor: Contract | None = (
            chain.contract("LedgerGovernor", deployment.get_address("LedgerGovernor"))
            if "LedgerGovernor" in deployment.contracts
            else None
        )

    @property
    def domain(self) -> Eip712Domain:
        """The registry's EIP-712 domain."""
        return {
            "name": "LedgerLearn ModelRegistry",
            "version": "1",
            "chainId": self.chain.chain_id,
            "verifyingContract": self.address,
        }

    @staticmethod
    def model_id(name: str) -> bytes:
        """Return the model id (``keccak256(name)``).

        Parameters
        ----------
        name
            The model's name.

        Returns
        -------
        bytes
            32 bytes.
        """
        return keccak(text=name)

    def _store(self) -> ContentStore:
        if self.store is None:
            raise RegistryError("this operation needs a content store; pass store=")
        return self.store

    def has_role(self, name: str, role: str, identity: str, *, block: int | str = "latest") -> bool:
        """Return whether ``identity`` holds a per-model role.

        Parameters
        ----------
        name, role, identity
            As :meth:`set_role`.
        block
            The block to read at.

        Returns
        -------
        bool
            Whether the role is held.
        """
        fn = self.functions.hasModelRole(
            self.model_id(name), MODEL_ROLES[role], address_of(identity, self.chain.chain_id)
        )
        return bool(self._call(fn, block=block))  # type: ignore[arg-type]

    def _typed_message(
        self,
        name: str,
        sha256: bytes,
        artifact_cid: Cid,
        fmt: str,
        license_id: str,
        metadata_cid: Cid,
        parent: int,
        publisher: str,
    ) -> dict[str, Any]:
        return {
            "model": name,
            "artifactSha256": sha256,
            "artifactCid": parse_cid(artifact_cid).binary,
            "format": fmt,
            "license": license_id,
            "metadataCid": parse_cid(metadata_cid).binary,
            "parentVersion": parent,
            "publisher": to_checksum_address(publisher),
        }

    def get_model(self, name: str) -> dict[str, Any]:
        """Return a model's summary: versions, channels, pause flag.

        Parameters
        ----------
        name
            The model.

        Returns
        -------
        dict
            ``name``, ``modelId``, ``versionCount``, ``paused``, ``createdBlock``,
            ``channels`` (name → version).

        Raises
        ------
        ModelNotFoundError
            If no such model exists.
        """
        mid = self.model_id(name)
        info = self._model_info(name)
        names = self._call(self.functions.channelNames(mid))
        channels = {
            channel: int(self._call(self.functions.channelVersion(mid, channel)))
            for channel in names
        }
        return {
            "name": info[0],
            "modelId": "0x" + mid.hex(),
            "createdBlock": int(info[1]),
            "versionCount": int(info[2]),
            "paused": bool(info[3]),
            "channels": channels,
        }

    def _model_info(self, name: str) -> tuple[Any, ...]:
        """Return the contract's ``getModel`` tuple (name, created, versions, paused), or raise."""
        try:
            return tuple(self._call(self.functions.getModel(self.model_id(name))))
        except ModelRegistryUnknownModel as exc:
            raise ModelNotFoundError(
                f"no model named {name!r}; create it with `ledgerlearn model create`"
            ) from exc

    def get_version(
        self, name: str, version: int, *, block: int | str = "latest"
    ) -> ModelVersionRecord:
        """Return one version's on-chain record.

        Parameters
        ----------
        name
            The model.
        version
            The version number (1-based).
        block
            The block to read at.

        Returns
        -------
        ModelVersionRecord
            The record.

        Raises
        ------
        ModelNotFoundError
            If the model or version does not exist.
        """
        try:
            raw = self._call(
                self.functions.getVersion(self.model_id(name), version),
                block=block,  # type: ignore[arg-type]
            )
        except (
            ModelRegistryUnknownModel,
            ModelRegistryUnknownVersion,
        ) as exc:
            raise ModelNotFoundError(f"{name}@{version} does not exist") from exc
        return ModelVersionRecord(
            model=name,
            version=version,
            artifact_sha256=bytes(raw[0]).hex(),
            artifact_cid=cid_from_binary(raw[1]),
            format=raw[2],
            license=raw[3],
            metadata_cid=cid_from_binary(raw[4]),
            parent_version=int(raw[5]),
            publisher=to_checksum_address(raw[6]),
            signer=to_checksum_address(raw[7]),
            registered_block=int(raw[8]),
            status=ModelRegistryVersionStatus(int(raw[9])),
            signature=bytes(raw[10]),
        )

    def channel_version(self, name: str, channel: str) -> int | None:
        """Return the version a channel points at, or ``None``.

        Parameters
        ----------
        name, channel
            The model and channel.

        Returns
        -------
        int or None
            The version, ``None`` if the channel points nowhere.
        """
        version = int(self._call(self.functions.channelVersion(self.model_id(name), channel)))
        return version or None

    def resolve(self, ref: str | ModelRef) -> ModelVersionRecord:
        """Return the version ``name@channel`` or ``name@version`` names.

        Parameters
        ----------
        ref
            The reference.

        Returns
        -------
        ModelVersionRecord
            The version.

        Raises
        ------
        ModelNotFoundError
            If the model, version or channel pointer does not exist.
        """
        parsed = parse_model_ref(ref) if isinstance(ref, str) else ref
        if parsed.version is not None:
            return self.get_version(parsed.name, parsed.version)
        assert parsed.channel is not None
        self._model_info(parsed.name)
        version = self.channel_version(parsed.name, parsed.channel)
        if version is None:
            raise ModelNotFoundError(
                f"{parsed} points at no version; governance must promote one first "
                "(`ledgerlearn gov propose-promotion`)"
            )
        return self.get_version(parsed.name, version)

    def lineage(self, ref: str | ModelRef) -> list[ModelVersionRecord]:
        """Return the version and its ancestors, back to the root.

        Parameters
        ----------
        ref
            Where to start.

        Returns
        -------
        list[ModelVersionRecord]
            Starting version first, root last.
        """
        record = self.resolve(ref)
        chain = [record]
        while chain[-1].parent_version:
            chain.append(self.get_version(record.model, chain[-1].parent_version))
        return chain

    def history(self, name: str) -> list[dict[str, Any]]:
        """Return a model's events in chain order: registrations, channel moves, revocations.

        Channel moves name the governance proposal that executed them.

        Parameters
        ----------
        name
            The model.

        Returns
        -------
        list[dict]
            One entry per event with ``event``, ``block``, ``tx`` and its fields.
        """
        self._model_info(name)
        mid = self.model_id(name)
        entries: list[tuple[int, int, dict[str, Any]]] = []
        for event_name in (
            "ModelCreated",
            "ModelVersionRegistered",
            "ChannelMoved",
            "ChannelCleared",
            "VersionRevoked",
            "ModelPaused",
            "ModelUnpaused",
            "ModelRoleGranted",
            "ModelRoleRevoked",
        ):
            for log in self._logs(event_name, modelId=mid):
                args = {k: _jsonable(v) for k, v in dict(log["args"]).items() if k != "modelId"}
                entry: dict[str, Any] = {
                    "event": event_name,
                    "block": int(log["blockNumber"]),
                    "tx": "0x" + bytes(log["transactionHash"]).hex(),
                    **args,
                }
                if event_name == "ChannelMoved":
                    entry["evaluationReport"] = cid_or_hex(log["args"]["evaluationReport"])
                    entry["proposalId"] = self._executed_proposal(log["transactionHash"])
                entries.append((int(log["blockNumber"]), int(log["logIndex"]), entry))
        entries.sort(key=lambda item: (item[0], item[1]))
        return [entry for _, _, entry in entries]

    def _executed_proposal(self, tx_hash: Any) -> str | None:
        if self._governor is None:
            return None
        receipt = self.chain.w3.eth.get_transaction_receipt(tx_hash)
        executed = receipt_events(self._governor.events.ProposalExecuted, receipt)
        return str(executed[0]["args"]["proposalId"]) if executed else None

    def model_names(self) -> list[str]:
        """Return every model's name, in creation order.

        Returns
        -------
        list[str]
            The names.
        """
        logs = self._logs("ModelCreated")
        return [str(log["args"]["name"]) for log in logs]

    def find_versions(
        self,
        name: str | None = None,
        *,
        publisher: str | None = None,
        status: ModelRegistryVersionStatus | str | None = None,
        format: str | None = None,
        license: str | None = None,
    ) -> list[ModelVersionRecord]:
        """Return the versions that match every given filter.

        Parameters
        ----------
        name
            Only this model (default: all models).
        publisher
            Only versions published by this identity (address or did:ethr).
        status
            Only versions in this status (a member or its label, e.g. ``"production"``).
        format, license
            Only this artifact format / SPDX licence.

        Returns
        -------
        list[ModelVersionRecord]
            Matches, by model then version.
        """
        if isinstance(status, str):
            try:
                status = ModelRegistryVersionStatus.parse(status)
            except ValueError as exc:
                raise RegistryError(str(exc)) from exc
        wanted_publisher = address_of(publisher, self.chain.chain_id) if publisher else None
        found: list[ModelVersionRecord] = []
        for model in [name] if name else self.model_names():
            count = int(self._model_info(model)[2])
            for version in range(1, count + 1):
                record = self.get_version(model, version)
                if (
                    (wanted_publisher is None or record.publisher == wanted_publisher)
                    and (status is None or record.status == status)
                    and (format is None or record.format == format)
                    and (license is None or record.license == license)
                ):
                    found.append(record)
        return found

    def view(self, name: str) -> dict[str, Any]:
        """Return the registry's view of a model: channels and every version's status.

        Parameters
        ----------
        name
            The model.

        Returns
        -------
        dict
            :meth:`get_model`'s fields plus ``versions`` (number, status, parent, sha256).
        """
        summary = self.get_model(name)
        summary["versions"] = [
            {
                "version": record.version,
                "status": record.status.label,
                "parentVersion": record.parent_version,
                "artifactSha256": record.artifact_sha256,
                "publisher": ethr_did(self.chain.chain_id, record.publisher),
            }
            for record in (self.get_version(name, v) for v in range(1, summary["versionCount"] + 1))
        ]
        return summary

    def circuit_of(self, name: str, version: int) -> CircuitBinding | None:
        """Return the zk circuit bound to ``name@version``, or ``None``."""
        raw = self._call(self.functions.circuitOf(self.model_id(name), version))
        if int(raw[1]) == 0:  # bindCircuit refuses a zero commitment: none bound
            return None
        return CircuitBinding(
            verifier=str(raw[0]),
            weight_commitment=int(raw[1]),
            manifest_sha256=bytes(raw[2]).hex(),
            manifest_cid=cid_from_binary(bytes(raw[3])),
            weights_in_key=bool(raw[4]),
        )

    def verify(self, ref: str | ModelRef) -> VerificationReport:
        """Check a version against the chain without writing anything.

        Parameters
        ----------
        ref
            ``name@channel`` or ``name@version``.

        Returns
        -------
        VerificationReport
            The record, the manifest and the checks that passed.

        Raises
        ------
        ModelNotFoundError
            If the reference resolves to nothing.
        VersionRevokedError, UntrustedPublisherError, ManifestMismatchError,
        ArtifactHashMismatchError
            If a check fails.
        ContentNotFoundError, ContentCorruptedError
            If the store lacks or has damaged bytes.
        """
        report, chunks = self._verify_metadata(ref)
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)
        self._check_sha(report.record, digest.hexdigest())
        report.checks.append("weights sha256 matches the chain")
        return report

    def _verify_metadata(self, ref: str | ModelRef) -> tuple[VerificationReport, Iterator[bytes]]:
        record = self.resolve(ref)
        checks: list[str] = []
        if record.status is ModelRegistryVersionStatus.REVOKED:
            raise VersionRevokedError(
                f"{record.model}@{record.version} was revoked; use another version"
            )
        if self._model_info(record.model)[3]:
            raise ModelPausedError(
                f"model {record.model} is paused by its guardian; wait for governance to unpause"
            )
        checks.append(f"version {record.version} is {record.status.label}, model not paused")
        checks.append(self._check_signature(record))
        store = self._store()
        try:
            manifest = ModelManifest.from_bytes(store.get(record.metadata_cid))
        except InvalidModelArtifactError as exc:
            raise ManifestMismatchError(f"{record.model}@{record.version}: {exc}") from exc
        checks.append(f"manifest {record.metadata_cid} matches its CID")
        expected = {
            "model": (manifest.model, record.model),
            "format": (manifest.format, record.format),
            "license": (manifest.license, record.license),
            "parentVersion": (manifest.parent_version, record.parent_version),
            "weights.sha256": (manifest.weights.sha256, record.artifact_sha256),
            "weights.cid": (manifest.weights.cid, record.artifact_cid),
        }
        for field_name, (found, wanted) in expected.items():
            if found != wanted:
                raise ManifestMismatchError(
                    f"{record.model}@{record.version}: manifest {field_name} is {found!r}, "
                    f"the chain records {wanted!r}"
                )
        checks.append("manifest agrees with the chain (model, format, licence, parent, hashes)")
        return VerificationReport(record, manifest, checks), store.iter_chunks(record.artifact_cid)

    def _check_sha(self, record: ModelVersionRecord, sha: str) -> None:
        if sha != record.artifact_sha256:
            raise ArtifactHashMismatchError(
                f"{record.model}@{record.version}: weights hash to {sha}, the chain records "
                f"{record.artifact_sha256}"
            )

    def _check_signature(self, record: ModelVersionRecord) -> str:
        at = record.registered_block
        if not record.signature:
            # registerOwnVersion: the publisher (a protocol contract such as the training
            # coordinator) sent the registration itself; the chain checked its role.
            if record.signer != record.publisher or not self.has_role(
                record.model, "publisher", record.publisher, block=at
            ):
                raise UntrustedPublisherError(
                    f"{record.model}@{record.version}: unsigned version whose publisher "
                    f"{record.publisher} did not register it with the publisher role"
                )
            return (
                f"registered without a signature by publisher {record.publisher} itself "
                f"(a protocol contract holding the publisher role at block {at})"
            )
        message = self._typed_message(
            record.model,
            bytes.fromhex(record.artifact_sha256),
            record.artifact_cid,
            record.format,
            record.license,
            record.metadata_cid,
            record.parent_version,
            record.publisher,
        )
        try:
            signer = recover_typed_data_signer(
                record.signature, self.domain, MANIFEST_TYPES, "ModelManifest", message
            )
        except SignatureError as exc:
            raise UntrustedPublisherError(f"{record.model}@{record.version}: {exc}") from exc
        if signer != record.signer:
            raise UntrustedPublisherError(
                f"{record.model}@{record.version}: the signature recovers to {signer}, the "
                f"chain records signer {record.signer}"
            )
        resolution = self.identities.resolve(
            ethr_did(self.chain.chain_id, record.publisher), block=at
        )
        if not resolution.can_sign(signer):
            raise UntrustedPublisherError(
                f"{record.model}@{record.version}: {signer} was not a live key of publisher "
                f"{record.publisher} at block {at} (rotated, revoked or never added)"
            )
        if not self.has_role(record.model, "publisher", record.publisher, block=at):
            raise UntrustedPublisherError(
                f"{record.model}@{record.version}: {record.publisher} did not hold the "
                f"publisher role at block {at}"
            )
        return (
            f"manifest signed by {record.signer}, a key of publisher "
            f"{ethr_did(self.chain.chain_id, record.publisher)} at block {at}"
        )

    def pull(
        self, ref: str | ModelRef, destination: str | os.PathLike[str], *, force: bool = False
    ) -> PullResult:
        """Verify a version and write its weights and manifest into ``destination``.

        Nothing is written to ``destination`` unless every check passes: files are staged
        beside it and moved in with one rename.

        Parameters
        ----------
        ref
            ``name@channel`` or ``name@version``.
        destination
            A directory to create (``weights.safetensors`` and ``manifest.json`` go in it).
        force
            Replace an existing non-empty destination.

        Returns
        -------
        PullResult
            The verification and the written paths.

        Raises
        ------
        DestinationExistsError
            If ``destination`` exists, is not empty, and ``force`` is false.
        ArtifactVerificationError
            Subclass naming the failed check; nothing was written.
        """
        target = Path(destination)
        if target.exists() and not force and (not target.is_dir() or any(target.iterdir())):
            raise DestinationExistsError(f"{target} exists and is not empty")
        report, chunks = self._verify_metadata(ref)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            digest = hashlib.sha256()
            with (staging / _WEIGHTS_FILE).open("wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            self._check_sha(report.record, digest.hexdigest())
            report.checks.append("weights sha256 matches the chain")
            with (staging / _MANIFEST_FILE).open("wb") as out:
                out.write(report.manifest.to_bytes())
                out.flush()
                os.fsync(out.fileno())
            _swap_in(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return PullResult(report, target, target / _WEIGHTS_FILE, target / _MANIFEST_FILE)


def _swap_in(staging: Path, target: Path) -> None:
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(staging, target)
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    else:
        os.replace(staging, target)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return value
