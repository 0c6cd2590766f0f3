from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledgerlearn.exceptions import (
    InvalidDidError,
    InvalidKeyError,
    KeystoreError,
    KeystorePasswordError,
    SignatureError,
    UnsupportedDidMethodError,
)
from ledgerlearn.identity import did_key_from_key, did_key_public_key, resolve_did_key
from ledgerlearn.keys import (
    Ed25519Key,
    Secp256k1Key,
    load_keystore,
    recover_typed_data_signer,
    save_keystore,
    sign_typed_data,
    verify_ed25519,
    verify_typed_data,
)

FAST_SCRYPT = 2**10
DOMAIN = {
    "name": "ledgerlearn",
    "version": "1",
    "chainId": 31337,
    "verifyingContract": "0x" + "11" * 20,
}
TYPES = {
    "Answer": [{"name": "requestId", "type": "uint256"}, {"name": "output", "type": "bytes32"}]
}
MESSAGE = {"requestId": 7, "output": b"\x01" * 32}


def test_secp256k1_key_rejects_out_of_range_secrets() -> None:
    for secret in (b"\0" * 32, b"\xff" * 32, b"\x01" * 31):
        with pytest.raises(InvalidKeyError):
            Secp256k1Key.from_secret(secret)


def test_key_repr_never_shows_the_secret() -> None:
    key = Secp256k1Key.generate()
    assert key.unsafe_secret().hex() not in repr(key)
    ed = Ed25519Key.generate()
    assert ed.unsafe_secret().hex() not in repr(ed)


def test_ed25519_sign_and_verify() -> None:
    key = Ed25519Key.generate()
    signature = key.sign(b"update hash")
    verify_ed25519(key.public_key, b"update hash", signature)
    with pytest.raises(SignatureError):
        verify_ed25519(key.public_key, b"other", signature)
    with pytest.raises(SignatureError):
        verify_ed25519(key.public_key, b"update hash", b"short")


def test_did_key_round_trips_both_key_types() -> None:
    for key in (Ed25519Key.generate(), Secp256k1Key.generate()):
        did = did_key_from_key(key)
        key_type, public = did_key_public_key(did)
        assert (key_type, public) == (key.key_type, key.public_key)
        assert str(resolve_did_key(did).id) == did


def test_ed25519_did_document_carries_the_x25519_agreement_key() -> None:
    key = Ed25519Key.generate()
    document = resolve_did_key(did_key_from_key(key)).serialize()
    agreement = [
        m for m in document["verificationMethod"] if m["type"] == "X25519KeyAgreementKey2019"
    ]
    import base58

    assert base58.b58decode(agreement[0]["publicKeyBase58"]) == key.x25519_public_key


@pytest.mark.parametrize(
    ("did", "error"),
    [
        ("not-a-did", InvalidDidError),
        ("did:ethr:0x1234", UnsupportedDidMethodError),
        ("did:key:abc", InvalidDidError),
        ("did:key:z0OIl", InvalidDidError),
        ("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", UnsupportedDidMethodError),
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBmf", InvalidKeyError),
    ],
)
def test_bad_dids_raise_named_errors(did: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        resolve_did_key(did)


def test_keystore_round_trip_for_both_key_types(tmp_path: Path) -> None:
    for index, key in enumerate((Secp256k1Key.generate(), Ed25519Key.generate())):
        path = save_keystore(key, tmp_path / f"k{index}.json", "pw", scrypt_n=FAST_SCRYPT)
        assert path.stat().st_mode & 0o777 == 0o600
        loaded = load_keystore(path, "pw")
        assert type(loaded) is type(key) and loaded.public_key == key.public_key
        assert key.unsafe_secret().hex() not in path.read_text()


def test_keystore_wrong_password_is_a_named_error(tmp_path: Path) -> None:
    path = save_keystore(
        Secp256k1Key.generate(), tmp_path / "k.json", "right", scrypt_n=FAST_SCRYPT
    )
    with pytest.raises(KeystorePasswordError, match="wrong password"):
        load_keystore(path, "wrong")


def test_keystore_refuses_overwrite_empty_password_and_garbage(tmp_path: Path) -> None:
    key = Secp256k1Key.generate()
    path = save_keystore(key, tmp_path / "k.json", "pw", scrypt_n=FAST_SCRYPT)
    with pytest.raises(KeystoreError, match="exists"):
        save_keystore(key, path, "pw", scrypt_n=FAST_SCRYPT)
    with pytest.raises(KeystoreError, match="empty password"):
        save_keystore(key, tmp_path / "k2.json", "", scrypt_n=FAST_SCRYPT)
    (tmp_path / "junk.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(KeystoreError, match="not a Web3 Secret Storage"):
        load_keystore(tmp_path / "junk.json", "pw")
    with pytest.raises(KeystoreError, match="does not exist"):
        load_keystore(tmp_path / "missing.json", "pw")


def test_geth_style_keystore_without_ledgerlearn_marker_loads_as_secp256k1(tmp_path: Path) -> None:
    from eth_account import Account

    key = Secp256k1Key.generate()
    (tmp_path / "geth.json").write_text(
        json.dumps(Account.encrypt(key.unsafe_secret(), "pw", iterations=FAST_SCRYPT))
    )
    loaded = load_keystore(tmp_path / "geth.json", "pw")
    assert isinstance(loaded, Secp256k1Key) and loaded.address == key.address


def test_typed_data_sign_recover_verify() -> None:
    key = Secp256k1Key.generate()
    signature = sign_typed_data(key, DOMAIN, TYPES, "Answer", MESSAGE)
    assert recover_typed_data_signer(signature, DOMAIN, TYPES, "Answer", MESSAGE) == key.address
    verify_typed_data(signature, key.address, DOMAIN, TYPES, "Answer", MESSAGE)


def test_typed_data_signature_is_bound_to_chain_and_contract() -> None:
    key = Secp256k1Key.generate()
    signature = sign_typed_data(key, DOMAIN, TYPES, "Answer", MESSAGE)
    for changed in ({**DOMAIN, "chainId": 1}, {**DOMAIN, "verifyingContract": "0x" + "22" * 20}):
        with pytest.raises(SignatureError, match="signed by"):
            verify_typed_data(signature, key.address, changed, TYPES, "Answer", MESSAGE)


def test_typed_data_rejects_mismatched_message_and_bad_signature() -> None:
    key = Secp256k1Key.generate()
    with pytest.raises(SignatureError, match="does not match"):
        sign_typed_data(key, DOMAIN, TYPES, "Answer", {"requestId": "seven"})
    with pytest.raises(SignatureError, match="malformed"):
        recover_typed_data_signer(b"\0" * 10, DOMAIN, TYPES, "Answer", MESSAGE)
