"""Keys: key material and signatures, with no chain.

secp256k1 keys are Ethereum accounts; Ed25519 keys sign off chain and give X25519 keys for
encryption; encrypted keystores (Web3 Secret Storage) keep either at rest; EIP-712 helpers
sign exactly what the contracts verify.

Trust assumption: a key is its holder; nothing here talks to a chain or trusts one.
"""

from ledgerlearn.keys._eip712 import (
    Eip712Domain,
    hash_typed_data,
    recover_typed_data_signer,
    sign_typed_data,
    verify_typed_data,
)
from ledgerlearn.keys._keys import Ed25519Key, KeyType, Secp256k1Key, verify_ed25519
from ledgerlearn.keys._keystore import load_keystore, save_keystore

__all__ = [
    "Ed25519Key",
    "Eip712Domain",
    "KeyType",
    "Secp256k1Key",
    "hash_typed_data",
    "load_keystore",
    "recover_typed_data_signer",
    "save_keystore",
    "sign_typed_data",
    "verify_ed25519",
    "verify_typed_data",
]
