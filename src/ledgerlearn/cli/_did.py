"""``ledgerlearn did``: identities — did:key locally, did:ethr on the IdentityRegistry.

``did new`` makes a key pair and its DID (kept encrypted with ``--keystore``); ``did
resolve`` returns a DID document (did:ethr as of any block); ``rotate``, ``delegate`` and
``revoke`` write to a did:ethr with the global signing key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlearn.cli._common import JsonOption, Session, group, password, reading, session
from ledgerlearn.cli._output import Output
from ledgerlearn.identity import did_key_document, did_key_from_key, ethr_did
from ledgerlearn.keys import Ed25519Key, Secp256k1Key, save_keystore

__all__ = ["app"]

app = group("Decentralized identifiers: did:key locally, did:ethr on the IdentityRegistry.")


@app.command("new")
def did_new(
    key_type: Annotated[str, typer.Option("--type", help="ed25519 or secp256k1.")] = "ed25519",
    method: Annotated[
        str, typer.Option(help="key (did:key) or ethr (did:ethr, secp256k1, needs --chain-id).")
    ] = "key",
    chain_id: Annotated[int | None, typer.Option(help="Chain id for did:ethr.")] = None,
    keystore: Annotated[
        Path | None, typer.Option("--keystore", help="Save the key, encrypted, to this file.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a key pair and print its did:key (the key is kept only if --keystore is given)."""
    if key_type not in ("ed25519", "secp256k1"):
        raise typer.BadParameter("--type must be ed25519 or secp256k1")
    key: Ed25519Key | Secp256k1Key = (
        Ed25519Key.generate() if key_type == "ed25519" else Secp256k1Key.generate()
    )
    did = did_key_from_key(key)
    if method == "ethr":
        if not isinstance(key, Secp256k1Key) or chain_id is None:
            raise typer.BadParameter("--method ethr needs --type secp256k1 and --chain-id")
        did = ethr_did(chain_id, key.address)
    elif method != "key":
        raise typer.BadParameter("--method must be key or ethr")
    data: dict[str, Any] = {"did": did, "type": key_type}
    if isinstance(key, Secp256k1Key):
        data["address"] = key.address
    if keystore is not None:
        save_keystore(key, keystore, password(confirm=True))
        data["keystore"] = str(keystore)
    human = did + (
        f"\nkey saved (encrypted) to {keystore}"
        if keystore
        else "\nkey not saved: pass --keystore FILE to keep it"
    )
    Output(json_output).result(data, human)


@app.command("resolve")
def did_resolve(
    did: str,
    block: Annotated[
        int | None, typer.Option(help="did:ethr: resolve as of this block (default: latest).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Resolve a DID to its DID document (did:key locally, did:ethr from the chain)."""
    if did.startswith("did:ethr:"):
        from ledgerlearn.identity import EthrDidResolver

        with reading() as s:
            resolver = EthrDidResolver(s.chain, s.deployment)
            result = resolver.resolve(did, block=block if block is not None else "latest")
        Output(json_output).result(
            {"didDocument": result.document, "didDocumentMetadata": result.metadata}
        )
        return
    document = did_key_document(did)
    Output(json_output).result(document)


@app.command("rotate")
def did_rotate(
    new_owner: Annotated[str, typer.Argument(help="Address of the new owner key.")],
    identity: Annotated[
        str | None, typer.Option(help="The identity (default: the signing account).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Rotate a did:ethr's owner key (0x000…0 deactivates the DID for good)."""
    from ledgerlearn.identity import EthrDidRegistry

    with session() as s:
        registry = EthrDidRegistry(s.chain, s.deployment)
        target = _address(identity, s) if identity else s.signer.address
        receipt = registry.change_owner(s.signer, target, new_owner)
        data = {
            "did": registry.did(target),
            "newOwner": new_owner,
            "block": int(receipt["blockNumber"]),
        }
    Output(json_output).result(
        data, f"{data['did']} is now owned by {new_owner} (block {data['block']})"
    )


@app.command("delegate")
def did_delegate(
    delegate: Annotated[str, typer.Argument(help="Address of the delegate key.")],
    delegate_type: Annotated[
        str, typer.Option("--type", help="veriKey (signs) or sigAuth (signs, authenticates).")
    ] = "veriKey",
    validity: Annotated[int, typer.Option(help="Seconds the delegate stays valid.")] = 31_536_000,
    identity: Annotated[
        str | None, typer.Option(help="The identity (default: the signing account).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Add a delegate key to a did:ethr for a period."""
    from ledgerlearn.identity import EthrDidRegistry

    if delegate_type not in ("veriKey", "sigAuth"):
        raise typer.BadParameter("--type must be veriKey or sigAuth")
    with session() as s:
        registry = EthrDidRegistry(s.chain, s.deployment)
        target = _address(identity, s) if identity else s.signer.address
        receipt = registry.add_delegate(
            s.signer, target, delegate, delegate_type=delegate_type, validity=validity
        )
        data = {
            "did": registry.did(target),
            "delegate": delegate,
            "type": delegate_type,
            "validity": validity,
            "block": int(receipt["blockNumber"]),
        }
    Output(json_output).result(
        data, f"{delegate} is a {delegate_type} delegate of {data['did']} for {validity} s"
    )


@app.command("revoke")
def did_revoke(
    delegate: Annotated[str, typer.Argument(help="Address of the delegate key.")],
    delegate_type: Annotated[str, typer.Option("--type", help="veriKey or sigAuth.")] = "veriKey",
    identity: Annotated[
        str | None, typer.Option(help="The identity (default: the signing account).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Revoke a delegate key of a did:ethr from this block on."""
    from ledgerlearn.identity import EthrDidRegistry

    with session() as s:
        registry = EthrDidRegistry(s.chain, s.deployment)
        target = _address(identity, s) if identity else s.signer.address
        receipt = registry.revoke_delegate(s.signer, target, delegate, delegate_type=delegate_type)
        data = {
            "did": registry.did(target),
            "revoked": delegate,
            "type": delegate_type,
            "block": int(receipt["blockNumber"]),
        }
    Output(json_output).result(
        data, f"{delegate} revoked from {data['did']} at block {data['block']}"
    )


def _address(identity: str, session: Session) -> str:
    from ledgerlearn.identity import address_of

    return address_of(identity, session.chain.chain_id)
