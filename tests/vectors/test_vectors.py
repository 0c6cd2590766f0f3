"""Every published test vector, run by one parametrised test per kind of vector file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from ledgerlearn.identity import did_key_from_key, resolve_did_key
from ledgerlearn.keys import Ed25519Key, Secp256k1Key, hash_typed_data, sign_typed_data
from ledgerlearn.randomness import P256_SHA256_TAI, SECP256K1_SHA256_TAI, VrfKey
from ledgerlearn.storage import compute_cid

HERE = Path(__file__).parent


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / name).read_text())
    return data


def _pattern(size: int) -> bytes:
    block = bytes(i % 251 for i in range(251))
    return (block * (size // 251 + 1))[:size]


def _cases() -> list[Any]:
    cases = []
    for v in _load("cid.json")["vectors"]:
        cases.append(pytest.param("cid", v, id=f"cid-{v['size']}"))
    did = _load("did_key.json")
    for kind in ("ed25519", "secp256k1"):
        for v in did[kind]:
            cases.append(pytest.param(f"did-{kind}", v, id=f"did-{v['did'][8:20]}"))
    for did_id, document in did["documents"].items():
        cases.append(
            pytest.param(
                "did-document", {"did": did_id, "document": document}, id=f"doc-{did_id[8:20]}"
            )
        )
    for v in _load("eip712.json")["vectors"]:
        cases.append(pytest.param("eip712", v, id="eip712-mail"))
    ecvrf = _load("ecvrf.json")
    for index, v in enumerate(ecvrf["p256"]):
        cases.append(pytest.param("ecvrf-p256", v, id=f"ecvrf-p256-rfc9381-{10 + index}"))
    for sk, pk, pi, beta in ecvrf["secp256k1"]:
        v = {"sk": sk, "pk": pk, "alpha": "73616d706c65", "pi": pi, "beta": beta}
        cases.append(pytest.param("ecvrf-secp256k1", v, id=f"ecvrf-secp256k1-{sk[:16]}"))
    return cases


@pytest.mark.parametrize(("kind", "vector"), _cases())
def test_vector(kind: str, vector: dict[str, Any]) -> None:
    if kind == "cid":
        assert compute_cid(_pattern(vector["size"])) == vector["cid"]
    elif kind == "did-ed25519":
        key = Ed25519Key.from_secret(bytes.fromhex(vector["seed"]))
        assert did_key_from_key(key) == vector["did"]
        document = resolve_did_key(vector["did"]).serialize()
        methods = {
            m["id"].split("#")[1]: m["publicKeyBase58"] for m in document["verificationMethod"]
        }
        assert methods[vector["keyAgreementId"][1:]] == vector["keyAgreementBase58"]
        assert methods[vector["did"][8:]] == vector["publicKeyBase58"]
    elif kind == "did-secp256k1":
        key = Secp256k1Key.from_secret(bytes.fromhex(vector["seed"]))
        assert did_key_from_key(key) == vector["did"]
        document = resolve_did_key(vector["did"]).serialize()
        assert document["verificationMethod"][0]["publicKeyBase58"] == vector["publicKeyBase58"]
    elif kind == "did-document":
        assert resolve_did_key(vector["did"]).serialize() == vector["document"]
    elif kind == "eip712":
        key = Secp256k1Key.from_secret(keccak(text=vector["secret_keccak_of"]))
        assert key.address == vector["address"]
        args = (vector["domain"], vector["types"], vector["primaryType"], vector["message"])
        assert "0x" + hash_typed_data(*args).hex() == vector["digest"]
        signature = sign_typed_data(key, *args)
        sig = vector["signature"]
        assert signature == bytes.fromhex(sig["r"][2:] + sig["s"][2:]) + bytes([sig["v"]])
    elif kind in ("ecvrf-p256", "ecvrf-secp256k1"):
        suite = P256_SHA256_TAI if kind == "ecvrf-p256" else SECP256K1_SHA256_TAI
        key = VrfKey.from_secret(int(vector["sk"], 16), suite)
        alpha = bytes.fromhex(vector["alpha"])
        assert key.public_key_bytes.hex() == vector["pk"]
        assert key.prove(alpha).hex() == vector["pi"]
        beta = suite.verify(bytes.fromhex(vector["pk"]), bytes.fromhex(vector["pi"]), alpha)
        assert beta.hex() == vector["beta"]
    else:  # pragma: no cover - a new vector file without a branch
        pytest.fail(f"no check for vector kind {kind}")
