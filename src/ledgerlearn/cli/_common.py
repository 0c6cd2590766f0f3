"""What every command area shares: the global options, settings, keys and chain sessions.

The root command takes the chain options once (``ledgerlearn --backend rpc --rpc-url URL
--manifest deployment.json model show NAME``); :data:`options` holds them for the command
that runs. :func:`settings` merges them over the environment and the TOML file,
:func:`session` opens the chain with its verified deployment, the signing key and the
content store, and :func:`reading` does the same without a key.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlearn.config import Settings, load_settings
from ledgerlearn.exceptions import ConfigError, KeystoreError
from ledgerlearn.keys import Secp256k1Key, load_keystore
from ledgerlearn.ledger import Chain, DeploymentManifest, open_chain
from ledgerlearn.storage import LocalContentStore

__all__ = [
    "TOKEN",
    "GlobalOptions",
    "JsonOption",
    "Session",
    "group",
    "options",
    "password",
    "reading",
    "session",
    "settings",
    "signing_keys",
    "store",
    "tokens",
]

TOKEN = 10**18

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def group(help_text: str) -> typer.Typer:
    """Return a command group: plain help (brackets kept, no metavars on flags)."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


@dataclass
class GlobalOptions:
    """The root command's options (see ``ledgerlearn --help``)."""

    config: Path | None = None
    debug: bool = False
    backend: str | None = None
    rpc_url: str | None = None
    manifest: Path | None = None
    keystore: Path | None = None
    password_file: Path | None = None
    dev_accounts: bool = False
    account: int = 0
    store_root: Path | None = None
    config_name: str = "ledgerlearn.toml"
    """The file remedies point at (a node's or gateway's TOML under ``--config``)."""


options = GlobalOptions()
"""The options of the command that runs (set by the root callback)."""


def settings(config: Path | None = None, **chain: Any) -> Settings:
    """Return the settings: global options over the environment over the TOML file.

    Parameters
    ----------
    config
        A process's own TOML (``node run --config``, ``gateway --config``) instead of
        the root ``--config``; the global options still win over it.
    **chain
        Extra ``[chain]`` overrides (``None``/``False`` values are ignored).
    """
    overrides = {
        "backend": options.backend,
        "rpc_url": options.rpc_url,
        "keystore": options.keystore,
        "use_dev_accounts": options.dev_accounts,
        **chain,
    }
    sections: dict[str, dict[str, Any]] = {
        "chain": {k: v for k, v in overrides.items() if v not in (None, False)}
    }
    if options.manifest is not None:
        sections["deployment"] = {"manifest": options.manifest}
    if options.store_root is not None:
        sections["storage"] = {"root": options.store_root}
    return load_settings(config or options.config, **sections)


def password(*, confirm: bool = False) -> str:
    """Return the keystore password: ``--password-file``, the environment, or a prompt.

    Raises
    ------
    KeystoreError
        If no password can be had (no file, no variable, no terminal).
    """
    if options.password_file is not None:
        try:
            return options.password_file.read_text().rstrip("\n")
        except OSError as exc:
            raise KeystoreError(
                f"cannot read password file {options.password_file}: {exc}"
            ) from exc
    from_env = os.environ.get("LEDGERLEARN_KEYSTORE_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise KeystoreError(
            "no keystore password: set LEDGERLEARN_KEYSTORE_PASSWORD or pass --password-file"
        )
    typed = getpass.getpass("keystore password: ")
    if confirm and getpass.getpass("repeat password: ") != typed:
        raise KeystoreError("the two passwords differ")
    return typed


def signing_keys(config: Settings) -> list[Secp256k1Key]:
    """Return the keystore's key (``[chain] keystore`` or ``--keystore``), if one is set.

    Raises
    ------
    KeystoreError
        If the keystore holds an Ed25519 key (accounts are secp256k1).
    """
    if config.chain.keystore is None:
        return []
    key = load_keystore(config.chain.keystore, password())
    if not isinstance(key, Secp256k1Key):
        raise KeystoreError(f"{config.chain.keystore} holds an Ed25519 key; accounts are secp256k1")
    return [key]


def store(config: Settings | None = None) -> LocalContentStore:
    """Return the content store (``--store-root`` or ``[storage] root``)."""
    return LocalContentStore(options.store_root or (config or settings()).storage.root)


def tokens(amount: float) -> int:
    """Whole tokens (as typed) to the token's smallest unit.

    Raises
    ------
    typer.BadParameter
        If the amount is negative.
    """
    if amount < 0:
        raise typer.BadParameter("amounts are whole tokens and must not be negative")
    return round(amount * TOKEN)


@dataclass
class Session:
    """An open chain with its verified deployment, a signing key and the content store."""

    chain: Chain
    deployment: DeploymentManifest
    key: Secp256k1Key | None
    store: LocalContentStore

    @property
    def signer(self) -> Secp256k1Key:
        """The signing key (a session opened with ``need_key`` always has one)."""
        assert self.key is not None
        return self.key


@contextmanager
def session(*, need_key: bool = True) -> Iterator[Session]:
    """Open the configured chain, check the manifest against it, pick the signing key.

    Parameters
    ----------
    need_key
        Refuse to open without a signing key (``--keystore`` or ``--dev-accounts``).

    Raises
    ------
    ConfigError
        On the embedded back end: these commands act on a lasting chain.
    KeystoreError
        If a key is needed and none is configured.
    """
    config = settings()
    if config.chain.backend == "embedded":
        raise ConfigError(
            "this command needs a lasting chain: run `ledgerlearn chain up --deploy` and pass "
            "--backend rpc --rpc-url URL (the embedded chain lives only inside one process)"
        )
    deployment = DeploymentManifest.load(options.manifest or config.deployment.manifest)
    keys = signing_keys(config)
    with open_chain(config.chain, keys=keys, expected_chain_id=deployment.chain_id) as chain:
        deployment.verify(chain)
        key = keys[0] if keys else None
        if key is None and (options.dev_accounts or config.chain.use_dev_accounts):
            key = dev_account(chain)
        if need_key and key is None:
            raise KeystoreError(
                "no signing key: pass --keystore FILE (or --dev-accounts --account N on a "
                "development chain) before the command, e.g. `ledgerlearn --keystore K.json "
                "model create NAME`"
            )
        yield Session(chain, deployment, key, store(config))


def dev_account(chain: Chain) -> Secp256k1Key | None:
    """Return development account ``--account`` if the chain offers development accounts.

    Raises
    ------
    typer.BadParameter
        If ``--account`` is out of range.
    """
    offered = chain.backend.dev_accounts()
    if not offered:
        return None
    if not 0 <= options.account < len(offered):
        raise typer.BadParameter(f"--account must be 0..{len(offered) - 1}")
    return offered[options.account]


def reading() -> Any:
    """Open a session that only reads (no signing key); a context manager."""
    return session(need_key=False)
