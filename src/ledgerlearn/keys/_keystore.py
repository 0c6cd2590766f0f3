"""Keystores: keys encrypted at rest in the Web3 Secret Storage format (v3).

secp256k1 and Ed25519 secrets are both 32 bytes, so both use eth-account's scrypt +
AES-128-CTR keystore (the format geth and every Ethereum wallet read). An Ed25519 keystore
carries ``"ledgerlearn": {"keyType": "ed25519"}`` and no Ethereum address.

Trust assumption: the file may be copied by an attacker; only the password protects it.
A private key is never written anywhere else, and never logged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from eth_account import Account

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import KeystoreError, KeystorePasswordError
from ledgerlearn.keys._keys import Ed25519Key, Secp256k1Key

__all__ = ["load_keystore", "save_keystore"]


def save_keystore(
    key: Secp256k1Key | Ed25519Key,
    path: str | os.PathLike[str],
    password: str,
    *,
    scrypt_n: int = 2**18,
    overwrite: bool = False,
) -> Path:
    """Encrypt ``key`` to a keystore file, atomically and readable only by its owner.

    Parameters
    ----------
    key
        The key to store.
    path
        Destination file.
    password
        The encryption password; must not be empty.
    scrypt_n
        scrypt cost; the default matches geth's standard setting.
    overwrite
        Replace an existing file; refused by default so no key is lost.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    KeystoreError
        If the password is empty or the file exists and ``overwrite`` is false.
    """
    target = Path(path)
    if not password:
        raise KeystoreError("refusing to write a keystore with an empty password")
    if target.exists() and not overwrite:
        raise KeystoreError(f"{target} exists; choose another path or pass overwrite")
    document: dict[str, Any] = dict(
        Account.encrypt(key.unsafe_secret(), password, kdf="scrypt", iterations=scrypt_n)
    )
    if isinstance(key, Ed25519Key):
        document.pop("address", None)
        document["ledgerlearn"] = {"keyType": "ed25519"}
    else:
        document["ledgerlearn"] = {"keyType": "secp256k1"}
    return atomic_write_bytes(target, json.dumps(document).encode(), mode=0o600)


def load_keystore(path: str | os.PathLike[str], password: str) -> Secp256k1Key | Ed25519Key:
    """Decrypt a keystore file.

    Parameters
    ----------
    path
        The keystore file.
    password
        Its password.

    Returns
    -------
    Secp256k1Key | Ed25519Key
        The key, by the type recorded in the file (secp256k1 when unmarked, as in files
        written by other Ethereum tools).

    Raises
    ------
    KeystoreError
        If the file is missing or not a keystore.
    KeystorePasswordError
        If the password is wrong.
    """
    source = Path(path)
    try:
        document = json.loads(source.read_text())
    except FileNotFoundError as exc:
        raise KeystoreError(f"keystore {source} does not exist") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise KeystoreError(f"{source} is not a readable keystore file: {exc}") from exc
    if not isinstance(document, dict) or ("crypto" not in document and "Crypto" not in document):
        raise KeystoreError(f"{source} is not a Web3 Secret Storage (v3) keystore")
    try:
        secret = bytes(Account.decrypt(document, password))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise KeystorePasswordError(f"wrong password for keystore {source}") from exc
        raise KeystoreError(f"{source}: {exc}") from exc
    key_type = document.get("ledgerlearn", {}).get("keyType", "secp256k1")
    if key_type == "ed25519":
        return Ed25519Key.from_secret(secret)
    return Secp256k1Key.from_secret(secret)
