"""did:ethr resolution: DID documents rebuilt from an IdentityRegistry's events (ERC-1056).

Reads ``changed(identity)`` at the requested block, walks the ``previousChange`` pointers
backwards one log query per block, then replays the history forwards into a DID document
(:mod:`ledgerlearn.identity._ethr` builds it).

Trust assumption: the chain's consensus, and a node that serves historical logs and state
for the blocks it reads (an archive node for old blocks).
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from web3.types import BlockIdentifier

from ledgerlearn.exceptions import InvalidDidError
from ledgerlearn.identity._ethr import DidEthrResolution, _build, _Event, parse_ethr_did
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest, event_topic
from ledgerlearn.types import Address

__all__ = ["EthrDidResolver"]


class EthrDidResolver(ContractClient):
    """Resolve did:ethr DIDs from an IdentityRegistry's events.

    Parameters
    ----------
    chain
        The chain the registry is on.
    deployment
        The deployment manifest naming the IdentityRegistry; :meth:`at` binds a registry
        outside a manifest.
    """

    contract_name = "IdentityRegistry"

    def __init__(self, chain: Chain, deployment: DeploymentManifest) -> None:
        super().__init__(chain, deployment)
        self._decoders: dict[bytes, Any] = {
            event_topic(getattr(self.contract.events, name)): getattr(self.contract.events, name)()
            for name in ("DIDOwnerChanged", "DIDDelegateChanged", "DIDAttributeChanged")
        }

    @property
    def registry_address(self) -> Address:
        """The IdentityRegistry read from."""
        return self.address

    def history(self, address: str, *, block: BlockIdentifier = "latest") -> list[_Event]:
        """Return the identity's registry events up to ``block``, oldest first.

        Parameters
        ----------
        address
            The identity.
        block
            The last block to include.

        Returns
        -------
        list
            Decoded events (name, block, log index, arguments).

        Raises
        ------
        InvalidDidError
            If a ``previousChange`` pointer leads to a block without the identity's events
            (a node without historical logs).
        """
        identity = to_checksum_address(address)
        pointer = self._call_int(self.functions.changed(identity), block=block)
        topic = "0x" + "00" * 12 + identity[2:].lower()
        events: list[_Event] = []
        while pointer:
            logs = self.chain.w3.eth.get_logs(
                {
                    "address": self.address,
                    "fromBlock": pointer,
                    "toBlock": pointer,
                    "topics": [None, topic],
                }
            )
            if not logs:
                raise InvalidDidError(
                    f"block {pointer} holds no registry event for {identity} although the "
                    "registry points there; use a node that keeps historical logs"
                )
            batch = []
            for log in logs:
                decoder = self._decoders.get(bytes(log["topics"][0]))
                if decoder is None:
                    continue
                decoded = decoder.process_log(log)
                batch.append(
                    _Event(decoded["event"], pointer, int(log["logIndex"]), dict(decoded["args"]))
                )
            batch.sort(key=lambda e: e.log_index)
            events[:0] = batch
            pointer = int(batch[0].args["previousChange"]) if batch else 0
        return events

    def resolve(self, did: str, *, block: BlockIdentifier = "latest") -> DidEthrResolution:
        """Resolve ``did`` as of ``block`` (default: the latest block).

        Parameters
        ----------
        did
            A did:ethr on this chain (``?versionId=<block>`` is honoured too).
        block
            The block to resolve at; keys revoked or expired by then are absent.

        Returns
        -------
        DidEthrResolution
            The document and its metadata.

        Raises
        ------
        InvalidDidError
            If the DID is malformed or names another chain.
        """
        if "?versionId=" in did and block == "latest":
            version = did.split("?versionId=", 1)[1].split("&", 1)[0].split("#", 1)[0]
            if not version.isdigit():
                raise InvalidDidError(f"{did!r}: versionId must be a block number")
            block = int(version)
        parsed = parse_ethr_did(did, default_chain_id=self.chain.chain_id)
        if parsed.chain_id != self.chain.chain_id:
            raise InvalidDidError(
                f"{did} is on chain {parsed.chain_id}, but this resolver reads chain "
                f"{self.chain.chain_id}; connect to that chain"
            )
        head = self.chain.w3.eth.get_block(block)
        height, now = int(head["number"]), int(head["timestamp"])
        history = self.history(parsed.address)  # one walk; later changes only set nextVersionId
        events = [e for e in history if e.block <= height]
        later = [e.block for e in history if e.block > height]
        return _build(parsed, events, height, now, later[0] if later else None, self.chain)
