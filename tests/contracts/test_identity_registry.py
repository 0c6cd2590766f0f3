"""IdentityRegistry (ERC-1056) and the did:ethr resolver, on the embedded EVM."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from ledgerlearn.exceptions import InvalidDidError, UnsupportedDidMethodError
from ledgerlearn.identity import (
    EthrDidRegistry,
    EthrDidResolver,
    attribute_name,
    ethr_did,
    parse_ethr_did,
)
from ledgerlearn.keys import Ed25519Key, Secp256k1Key
from ledgerlearn.ledger.errors import IdentityRegistryNotOwner
from tests.conftest import Deployment

ZERO = "0x" + "00" * 20


@pytest.fixture
def ids(deployment: Deployment) -> tuple[EthrDidRegistry, EthrDidResolver]:
    manifest = deployment.manifest
    return EthrDidRegistry(deployment.chain, manifest), EthrDidResolver(deployment.chain, manifest)


def test_identity_owns_itself_until_it_changes_owner(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, _ = ids
    alice, bob = deployment.alice, deployment.bob
    assert registry.owner(alice.address) == alice.address
    registry.change_owner(alice, alice.address, bob.address)
    assert registry.owner(alice.address) == bob.address
    with pytest.raises(IdentityRegistryNotOwner) as caught:
        registry.change_owner(alice, alice.address, alice.address)
    assert caught.value.arguments == {"identity": alice.address, "actor": alice.address}


def test_changed_pointer_and_events_chain_backwards(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, resolver = ids
    alice, bob = deployment.alice, deployment.bob
    blocks = []
    for _ in range(3):
        blocks.append(int(registry.add_delegate(alice, alice.address, bob.address)["blockNumber"]))
    assert registry.contract.functions.changed(alice.address).call() == blocks[-1]
    history = resolver.history(alice.address)
    assert [e.block for e in history] == blocks
    assert [e.args["previousChange"] for e in history] == [0, blocks[0], blocks[1]]


def test_valid_delegate_follows_validity_and_revocation(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, _ = ids
    alice, bob, chain = deployment.alice, deployment.bob, deployment.chain
    registry.add_delegate(alice, alice.address, bob.address, validity=100)
    assert registry.valid_delegate(alice.address, "veriKey", bob.address)
    assert not registry.valid_delegate(alice.address, "sigAuth", bob.address)
    chain.advance_time(101)
    assert not registry.valid_delegate(alice.address, "veriKey", bob.address)
    registry.add_delegate(alice, alice.address, bob.address, validity=1000)
    registry.revoke_delegate(alice, alice.address, bob.address)
    assert not registry.valid_delegate(alice.address, "veriKey", bob.address)


def test_every_signed_write_is_relayed_and_cannot_be_replayed(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, resolver = ids
    owner = Secp256k1Key.generate()  # holds no ether: a relayer pays
    relayer, delegate = deployment.alice, deployment.bob
    ident = owner.address
    sig = registry.sign_add_delegate(owner, ident, delegate.address, validity=500)
    registry.add_delegate_signed(relayer, sig, delegate.address, validity=500)
    assert registry.valid_delegate(ident, "veriKey", delegate.address)
    with pytest.raises(IdentityRegistryNotOwner):
        registry.add_delegate_signed(relayer, sig, delegate.address, validity=500)  # replay
    name, value = attribute_name("svc", "Gateway"), b"https://gw.example"
    registry.set_attribute_signed(
        relayer, registry.sign_set_attribute(owner, ident, name, value), name, value
    )
    registry.revoke_delegate_signed(
        relayer, registry.sign_revoke_delegate(owner, ident, delegate.address), delegate.address
    )
    registry.revoke_attribute_signed(
        relayer, registry.sign_revoke_attribute(owner, ident, name, value), name, value
    )
    new_owner = Secp256k1Key.generate()
    registry.change_owner_signed(
        relayer, registry.sign_change_owner(owner, ident, new_owner.address), new_owner.address
    )
    assert registry.owner(ident) == new_owner.address
    assert registry.nonce(owner.address) == 5
    assert len(resolver.history(ident)) == 5


def test_tampered_meta_transaction_is_rejected(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, _ = ids
    owner = Secp256k1Key.generate()
    sig = registry.sign_change_owner(owner, owner.address, deployment.bob.address)
    with pytest.raises(IdentityRegistryNotOwner):
        registry.change_owner_signed(deployment.alice, sig, deployment.alice.address)


def test_resolver_builds_the_did_ethr_document(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, resolver = ids
    chain, alice, bob, carol = (
        deployment.chain,
        deployment.alice,
        deployment.bob,
        deployment.chain.accounts[3],
    )
    did = ethr_did(chain.chain_id, alice.address)
    bare = resolver.resolve(did).document
    assert bare["verificationMethod"] == [
        {
            "id": f"{did}#controller",
            "type": "EcdsaSecp256k1RecoveryMethod2020",
            "controller": did,
            "blockchainAccountId": f"eip155:{chain.chain_id}:{alice.address}",
        }
    ]
    assert bare["authentication"] == [f"{did}#controller"]
    x25519 = Ed25519Key.generate().x25519_public_key
    registry.add_delegate(alice, alice.address, bob.address)  # delegate-1
    registry.add_delegate(alice, alice.address, carol.address, delegate_type="sigAuth")  # -2
    registry.set_attribute(alice, alice.address, attribute_name("pub", "X25519", "enc"), x25519)
    registry.set_attribute(
        alice, alice.address, attribute_name("pub", "Secp256k1", "veriKey"), bob.public_key
    )
    registry.set_attribute(
        alice, alice.address, attribute_name("svc", "InferenceGateway"), b"https://gw/v1"
    )
    doc = resolver.resolve(did).document
    ids_ = {vm["id"].split("#")[1]: vm for vm in doc["verificationMethod"]}
    assert set(ids_) == {"controller", "delegate-1", "delegate-2", "delegate-3", "delegate-4"}
    assert ids_["delegate-1"]["blockchainAccountId"].endswith(bob.address)
    assert f"{did}#delegate-2" in doc["authentication"]
    assert f"{did}#delegate-1" not in doc["authentication"]
    assert doc["keyAgreement"] == [f"{did}#delegate-3"]
    assert ids_["delegate-3"]["type"] == "X25519KeyAgreementKey2020"
    assert ids_["delegate-3"]["publicKeyMultibase"].startswith("z6LS")
    assert ids_["delegate-4"]["publicKeyJwk"]["crv"] == "secp256k1"
    assert doc["service"] == [
        {"id": f"{did}#service-1", "type": "InferenceGateway", "serviceEndpoint": "https://gw/v1"}
    ]


def test_rotation_and_revocation_take_effect_in_their_block_and_history_is_queryable(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, resolver = ids
    alice, bob, carol = deployment.alice, deployment.bob, deployment.chain.accounts[3]
    did = ethr_did(deployment.chain.chain_id, alice.address)
    added = int(registry.add_delegate(alice, alice.address, bob.address)["blockNumber"])
    revoked = int(registry.revoke_delegate(alice, alice.address, bob.address)["blockNumber"])
    rotated = int(registry.change_owner(alice, alice.address, carol.address)["blockNumber"])
    at_added = resolver.resolve(did, block=added)
    assert at_added.can_sign(bob.address) and at_added.owner == alice.address
    assert at_added.metadata["nextVersionId"] == str(revoked)
    assert not resolver.resolve(did, block=revoked).can_sign(bob.address)
    assert resolver.resolve(did, block=rotated - 1).owner == alice.address
    latest = resolver.resolve(did)
    assert latest.owner == carol.address and latest.can_sign(carol.address)
    assert not latest.can_sign(alice.address)
    assert latest.metadata["versionId"] == str(rotated)
    assert latest.document["controller"] == ethr_did(deployment.chain.chain_id, carol.address)
    assert resolver.resolve(f"{did}?versionId={added}").can_sign(bob.address)


def test_owner_zero_deactivates(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, resolver = ids
    alice = deployment.alice
    did = ethr_did(deployment.chain.chain_id, alice.address)
    registry.change_owner(alice, alice.address, ZERO)
    result = resolver.resolve(did)
    assert result.deactivated and result.document == {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
    }
    assert not result.can_sign(alice.address)


def test_parse_ethr_did_forms_and_errors() -> None:
    key = Secp256k1Key.generate()
    assert parse_ethr_did(f"did:ethr:0x7a69:{key.address}").chain_id == 31337
    assert parse_ethr_did(f"did:ethr:31337:{key.address.lower()}").address == key.address
    from_key = parse_ethr_did("did:ethr:0x1:0x" + key.public_key.hex())
    assert from_key.address == key.address and from_key.public_key == key.public_key
    assert parse_ethr_did(f"did:ethr:{key.address}", default_chain_id=5).chain_id == 5
    with pytest.raises(InvalidDidError, match="names no chain id"):
        parse_ethr_did(f"did:ethr:{key.address}")
    with pytest.raises(InvalidDidError, match="20-byte address"):
        parse_ethr_did("did:ethr:0x1:0x1234")
    with pytest.raises(UnsupportedDidMethodError):
        parse_ethr_did("did:key:z6Mk")


def test_resolver_refuses_a_did_of_another_chain(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    _, resolver = ids
    with pytest.raises(InvalidDidError, match="is on chain 1"):
        resolver.resolve(f"did:ethr:0x1:{deployment.alice.address}")


def test_meta_transaction_digest_is_erc1056s(
    deployment: Deployment, ids: tuple[EthrDidRegistry, EthrDidResolver]
) -> None:
    registry, _ = ids
    owner = Secp256k1Key.generate()
    sig = registry.sign_change_owner(owner, owner.address, deployment.bob.address)
    # ERC-1056: keccak256(0x19 0x00 registry nonce identity "changeOwner" newOwner)
    packed = (
        b"\x19\x00"
        + bytes.fromhex(registry.contract.address[2:])
        + (0).to_bytes(32, "big")
        + bytes.fromhex(owner.address[2:])
        + b"changeOwner"
        + bytes.fromhex(deployment.bob.address[2:])
    )
    signature = owner.sign_hash(keccak(packed))
    assert (sig.r, sig.s, sig.v) == (signature[:32], signature[32:64], signature[64])
