"""``ledgerlearn vrf``: ECVRF (RFC 9381) keys, proofs and verification."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlearn.cli._common import JsonOption, group, password
from ledgerlearn.cli._output import Output
from ledgerlearn.keys import load_keystore

__all__ = ["app"]

app = group("Verifiable random functions (ECVRF, RFC 9381).")


def _vrf_key(keystore: Path) -> Any:
    from ledgerlearn.randomness import VrfKey

    return VrfKey.derive(load_keystore(keystore, password()).unsafe_secret())


def _hex(value: str, what: str) -> bytes:
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError as exc:
        raise typer.BadParameter(f"{what} must be hex") from exc


KeystoreArg = Annotated[
    Path, typer.Option("--keystore", help="Identity keystore the VRF key derives from.")
]


@app.command("key")
def vrf_key(keystore: KeystoreArg, json_output: JsonOption = False) -> None:
    """Print the VRF public key derived from an identity's keystore."""
    key = _vrf_key(keystore)
    data = {
        "suite": key.suite.name,
        "publicKey": key.public_key_bytes.hex(),
        "x": hex(key.public_key.x),
        "y": hex(key.public_key.y),
    }
    Output(json_output).result(data, key.public_key_bytes.hex())


@app.command("prove")
def vrf_prove(
    alpha: Annotated[str, typer.Argument(help="The input, hex.")],
    keystore: KeystoreArg,
    json_output: JsonOption = False,
) -> None:
    """Prove the VRF on ALPHA; print the proof and the output."""
    key = _vrf_key(keystore)
    beta, pi = key.evaluate(_hex(alpha, "ALPHA"))
    data = {"publicKey": key.public_key_bytes.hex(), "pi": pi.hex(), "beta": beta.hex()}
    Output(json_output).result(data, f"pi   {pi.hex()}\nbeta {beta.hex()}")


@app.command("verify")
def vrf_verify(
    public_key: Annotated[str, typer.Argument(help="Compressed public key, hex.")],
    pi: Annotated[str, typer.Argument(help="The proof, hex.")],
    alpha: Annotated[str, typer.Argument(help="The input, hex.")],
    json_output: JsonOption = False,
) -> None:
    """Verify a proof; print the output (exit 30 if it does not verify)."""
    from ledgerlearn.randomness import SECP256K1_SHA256_TAI

    beta = SECP256K1_SHA256_TAI.verify(
        _hex(public_key, "PUBLIC_KEY"), _hex(pi, "PI"), _hex(alpha, "ALPHA")
    )
    Output(json_output).result({"valid": True, "beta": beta.hex()}, f"valid; beta {beta.hex()}")
