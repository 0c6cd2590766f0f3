"""Model registry client: create models, grant roles, publish versions, guard, bind circuits.

:class:`ModelRegistryClient` adds the registry's writes to :class:`RegistryReader`:
``publish`` stores the weights and the manifest, has the publisher's key sign the on-chain
fields (EIP-712) and registers the version; the guardian pauses models and revokes
versions; a model's publisher binds a zk circuit to a version.

Trust assumption: the contract checks every role and signature; this module only asks.
"""

from __future__ import annotations

import os
from typing import Any

from ledgerlearn.exceptions import (
    InvalidModelArtifactError,
    RegistryError,
)
from ledgerlearn.identity import address_of
from ledgerlearn.keys import Secp256k1Key, sign_typed_data
from ledgerlearn.registry._artifact import ModelCard, ModelManifest, TensorSpec, describe_weights
from ledgerlearn.registry._reader import RegistryReader
from ledgerlearn.registry._records import (
    MANIFEST_TYPES,
    MODEL_ROLES,
    CircuitBinding,
    ModelVersionRecord,
)
from ledgerlearn.types import Address

__all__ = ["ModelRegistryClient"]


class ModelRegistryClient(RegistryReader):
    """Publish, resolve, verify and pull model versions.

    Parameters are :class:`RegistryReader`'s (``store`` is needed for publish too); this
    class adds the writes.
    """

    def _identity(self, identity: str | None, key: Secp256k1Key) -> Address:
        return address_of(identity, self.chain.chain_id) if identity else key.address

    def create_model(self, actor: Secp256k1Key, name: str, *, owner: str | None = None) -> bytes:
        """Create model ``name``, owned and publishable by identity ``owner``.

        Parameters
        ----------
        actor
            A key that acts for ``owner`` (its owner key or a ``sigAuth`` delegate).
        name
            1 to 64 bytes, unique.
        owner
            The owning identity (default: the actor's own address).

        Returns
        -------
        bytes
            The model id.
        """
        self._transact(actor, self.functions.createModel(name, self._identity(owner, actor)))
        return self.model_id(name)

    def set_role(
        self,
        actor: Secp256k1Key,
        name: str,
        role: str,
        identity: str,
        *,
        granted: bool = True,
        as_owner: str | None = None,
    ) -> None:
        """Grant or revoke a per-model role.

        Parameters
        ----------
        actor
            A key acting for an owner identity of the model.
        name
            The model.
        role
            ``owner`` or ``publisher``.
        identity
            The identity (address or did:ethr) receiving or losing the role.
        granted
            Grant (True) or revoke (False).
        as_owner
            The owner identity the actor acts for (default: the actor's address).

        Raises
        ------
        RegistryError
            If the role name is unknown.
        """
        if role not in MODEL_ROLES:
            raise RegistryError(f"unknown model role {role!r}; use one of {sorted(MODEL_ROLES)}")
        target = address_of(identity, self.chain.chain_id)
        fn = self.functions.grantModelRole if granted else self.functions.revokeModelRole
        self._transact(
            actor,
            fn(self.model_id(name), MODEL_ROLES[role], target, self._identity(as_owner, actor)),
        )

    def publish(
        self,
        signer: Secp256k1Key,
        name: str,
        weights: str | os.PathLike[str],
        *,
        framework: str,
        architecture: dict[str, Any],
        inputs: list[TensorSpec],
        outputs: list[TensorSpec],
        license: str,
        preprocessing: dict[str, Any] | None = None,
        card: ModelCard | None = None,
        parent_version: int = 0,
        publisher: str | None = None,
        relayer: Secp256k1Key | None = None,
    ) -> ModelVersionRecord:
        """Store weights and manifest, sign, and register a new version.

        Parameters
        ----------
        signer
            The publisher identity's owner key or a live ``veriKey`` delegate.
        name
            The model.
        weights
            The safetensors file.
        framework, architecture, inputs, outputs, license, preprocessing, card
            Manifest fields (see :class:`~ledgerlearn.registry.ModelManifest`).
        parent_version
            The version these weights derive from (0 for a root).
        publisher
            The publishing identity (default: the signer's address).
        relayer
            Who sends the transaction (default: the signer).

        Returns
        -------
        ModelVersionRecord
            The registered version.

        Raises
        ------
        InvalidModelArtifactError
            If the weights file is missing or not safetensors.
        ContractRevertError
            ``ModelRegistryMissingModelRole``, ``ModelRegistryArtifactAlreadyRegistered``,
            ``ModelRegistryInvalidManifestSignature`` ... as the contract decides.
        """
        store = self._store()
        if not license or not license.strip():
            raise InvalidModelArtifactError("license must be an SPDX identifier, e.g. Apache-2.0")
        publisher_address = self._identity(publisher, signer)
        info = describe_weights(weights)
        manifest = ModelManifest(
            model=name,
            framework=framework,
            architecture=architecture,
            inputs=inputs,
            outputs=outputs,
            preprocessing=preprocessing or {},
            weights=info,
            license=license,
            parent_version=parent_version,
            card=card or ModelCard(),
        )
        artifact_cid = store.put_file(weights)
        if artifact_cid != info.cid:
            raise InvalidModelArtifactError(f"{weights} changed while it was being published")
        metadata_cid = store.put(manifest.to_bytes())
        sha = bytes.fromhex(info.sha256)
        message = self._typed_message(
            name,
            sha,
            artifact_cid,
            manifest.format,
            license,
            metadata_cid,
            parent_version,
            publisher_address,
        )
        signature = sign_typed_data(signer, self.domain, MANIFEST_TYPES, "ModelManifest", message)
        version_input = (
            sha,
            message["artifactCid"],
            manifest.format,
            license,
            message["metadataCid"],
            parent_version,
        )
        receipt = self.chain.sender(relayer or signer).transact(
            self.functions.registerVersion(name, version_input, publisher_address, signature)
        )
        events = self._receipt_events("ModelVersionRegistered", receipt)
        return self.get_version(name, int(events[0]["args"]["version"]))

    def pause(self, guardian: Secp256k1Key, name: str) -> None:
        """Pause a model (guardian or governance only).

        Parameters
        ----------
        guardian
            A key with ``GUARDIAN_ROLE``.
        name
            The model.
        """
        self._transact(guardian, self.functions.pauseModel(self.model_id(name)))

    def revoke(self, guardian: Secp256k1Key, name: str, version: int, reason: str) -> None:
        """Revoke a version for good (guardian or governance only).

        Parameters
        ----------
        guardian
            A key with ``GUARDIAN_ROLE``.
        name, version
            Which version.
        reason
            Recorded in the event.
        """
        self._transact(guardian, self.functions.revokeVersion(self.model_id(name), version, reason))

    def bind_circuit(
        self,
        actor: Secp256k1Key,
        name: str,
        version: int,
        binding: CircuitBinding,
        *,
        publisher: str | None = None,
    ) -> None:
        """Bind a zk circuit to ``name@version``, once (``ModelRegistry.bindCircuit``).

        Parameters
        ----------
        actor
            A key that acts for ``publisher``.
        name, version
            Which version.
        binding
            The verifier, weight commitment and circuit manifest.
        publisher
            The identity that owns or publishes the model (default: the actor's address).
        """
        function = self.functions.bindCircuit(
            self.model_id(name), version, binding.to_tuple(), self._identity(publisher, actor)
        )
        self._transact(actor, function)
