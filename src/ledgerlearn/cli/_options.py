"""CLI options shared by every command area (one definition each)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "AccountOption",
    "BackendOption",
    "DevAccountsOption",
    "JsonOption",
    "KeystoreOption",
    "ManifestOption",
    "PasswordFileOption",
    "RpcOption",
    "StoreRootOption",
]

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
BackendOption = Annotated[
    str | None,
    typer.Option("--backend", help="embedded, devnet or rpc (overrides [chain] backend)."),
]
RpcOption = Annotated[str | None, typer.Option("--rpc-url", help="JSON-RPC URL for --backend rpc.")]
ManifestOption = Annotated[
    Path | None, typer.Option("--manifest", help="Manifest path (overrides [deployment]).")
]
KeystoreOption = Annotated[
    Path | None, typer.Option("--keystore", help="Encrypted keystore of the signing account.")
]
PasswordFileOption = Annotated[
    Path | None, typer.Option("--password-file", help="File holding the keystore password.")
]
DevAccountsOption = Annotated[
    bool,
    typer.Option("--dev-accounts", help="Use the public dev accounts (development chains only)."),
]
AccountOption = Annotated[
    int, typer.Option("--account", help="Index of the dev account to sign with (--dev-accounts).")
]
StoreRootOption = Annotated[
    Path | None, typer.Option("--root", help="Store directory (overrides [storage] root).")
]
