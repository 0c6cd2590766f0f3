"""Chain back ends: where the EVM runs. One API, three places.

- :class:`~ledgerlearn.ledger._embedded.EmbeddedBackend` (in its own module) — py-evm
  through eth-tester, inside this process; every transaction is mined at once. The
  default: nothing to install or start.
- :class:`DevnetBackend` — anvil (from the npm package ``@foundry-rs/anvil-linux-amd64``)
  started on a free loopback port, waited for, and stopped with its owner, including when
  the owner dies (``PR_SET_PDEATHSIG``). Separate processes share it over JSON-RPC.
- :class:`RpcBackend` — any JSON-RPC URL (geth, reth, an L2, a shared anvil).

Embedded and devnet fund the same ten development accounts (anvil's public test mnemonic),
so a script behaves the same on both. Those keys are public knowledge: they are for local
chains only and are refused on a chain id that is not a known development chain.

Trust assumption: the back end's node is trusted to report the chain faithfully; a real
deployment points ``rpc`` at a node the operator runs or trusts.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from ledgerlearn.exceptions import AnvilNotFoundError, ChainUnavailableError, LedgerError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger._artifacts import project_root
from ledgerlearn.ledger._tx import RetryPolicy, with_retries

__all__ = [
    "DEV_CHAIN_IDS",
    "DEV_MNEMONIC",
    "ChainBackend",
    "DevnetBackend",
    "RpcBackend",
    "dev_keys",
    "find_anvil",
]

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's and hardhat's public development mnemonic. Never for real funds."""

DEV_CHAIN_IDS = frozenset({31337, 1337, 131277322940537})
"""Chain ids of local development chains (anvil, hardhat/ganache, eth-tester)."""

_DEV_ACCOUNTS = 10


def dev_keys(count: int = _DEV_ACCOUNTS) -> list[Secp256k1Key]:
    """Derive the development keys (BIP-44 ``m/44'/60'/0'/0/i``) of :data:`DEV_MNEMONIC`.

    Parameters
    ----------
    count
        How many accounts.

    Returns
    -------
    list[Secp256k1Key]
        The keys; account 0 is ``0xf39F...2266``.
    """
    return list(_derive_dev_keys(count))


@cache
def _derive_dev_keys(count: int) -> tuple[Secp256k1Key, ...]:
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        Secp256k1Key(Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}"))
        for i in range(count)
    )


class ChainBackend(ABC):
    """Where the chain runs; gives a connected :class:`~web3.Web3`.

    Subclasses set ``name`` and implement :meth:`start`; :meth:`stop` releases anything
    started.
    """

    name: ClassVar[str]

    @abstractmethod
    def start(self) -> Web3:
        """Start or connect to the chain.

        Returns
        -------
        Web3
            A connected instance.
        """

    def stop(self) -> None:  # noqa: B027 - optional hook, most back ends hold nothing
        """Release what :meth:`start` acquired (processes, connections)."""

    def dev_accounts(self) -> list[Secp256k1Key]:
        """Return funded development accounts, or an empty list on real chains.

        Returns
        -------
        list[Secp256k1Key]
            Keys of accounts funded at genesis.
        """
        return []

    @property
    def rpc_url(self) -> str | None:
        """The JSON-RPC URL other processes can use, if the chain has one."""
        return None

    def mine(self, w3: Web3, blocks: int) -> None:
        """Mine ``blocks`` empty blocks on a development chain.

        Parameters
        ----------
        w3
            The connection :meth:`start` returned.
        blocks
            How many.

        Raises
        ------
        LedgerError
            On chains that cannot be told to mine (real networks).
        """
        try:
            w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]
        except Exception as exc:
            raise LedgerError(
                f"the {self.name} chain cannot mine on request ({exc}); wait for blocks instead"
            ) from exc

    def advance_time(self, w3: Web3, seconds: int) -> None:
        """Move a development chain's clock forward and mine one block at the new time.

        Parameters
        ----------
        w3
            The connection :meth:`start` returned.
        seconds
            How far; the next block's timestamp is the head's plus this.

        Raises
        ------
        LedgerError
            On chains whose clock cannot be moved (real networks).
        """
        head = int(w3.eth.get_block("latest")["timestamp"])
        try:
            w3.provider.make_request(
                RPCEndpoint("evm_setNextBlockTimestamp"), [hex(head + seconds)]
            )
            w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        except Exception as exc:
            raise LedgerError(
                f"the {self.name} chain's clock cannot be moved ({exc}); wait instead"
            ) from exc

    def snapshot(self, w3: Web3) -> Any:
        """Record the chain's state on a development chain; :meth:`revert` returns to it.

        Parameters
        ----------
        w3
            The connection :meth:`start` returned.

        Returns
        -------
        Any
            An opaque snapshot id (anvil's ``evm_snapshot``), used once.

        Raises
        ------
        LedgerError
            On chains that cannot snapshot (real networks).
        """
        try:
            response = w3.provider.make_request(RPCEndpoint("evm_snapshot"), [])
        except Exception as exc:
            raise LedgerError(f"the {self.name} chain cannot take snapshots ({exc})") from exc
        if "result" not in response:
            raise LedgerError(f"the {self.name} chain refused evm_snapshot: {response}")
        return response["result"]

    def revert(self, w3: Web3, snapshot: Any) -> None:
        """Return a development chain to ``snapshot`` (which is then used up).

        Parameters
        ----------
        w3
            The connection :meth:`start` returned.
        snapshot
            What :meth:`snapshot` returned.

        Raises
        ------
        LedgerError
            If the chain cannot revert or does not know the snapshot.
        """
        try:
            response = w3.provider.make_request(RPCEndpoint("evm_revert"), [snapshot])
        except Exception as exc:
            raise LedgerError(f"the {self.name} chain cannot revert ({exc})") from exc
        if response.get("result") is not True:
            raise LedgerError(f"the {self.name} chain did not revert to {snapshot}: {response}")


class _DevChainBackend(ChainBackend):
    """A local development chain funding the ten :data:`DEV_MNEMONIC` accounts."""

    def dev_accounts(self) -> list[Secp256k1Key]:
        """Return the ten funded development accounts.

        Returns
        -------
        list[Secp256k1Key]
            Keys of the genesis accounts.
        """
        return dev_keys()


def find_anvil(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Locate the anvil binary.

    Looks at ``explicit``, then ``node_modules/.bin/anvil`` of the source checkout, then
    ``PATH``.

    Parameters
    ----------
    explicit
        A configured path (``[chain] anvil_path``).

    Returns
    -------
    Path
        The executable.

    Raises
    ------
    AnvilNotFoundError
        If none is found; the message names ``make setup``.
    """
    if explicit:
        path = Path(explicit)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise AnvilNotFoundError(
            f"anvil_path {path} is not an executable file; fix it, or unset it and run "
            "`make setup` to install anvil with npm ci"
        )
    candidates: list[Path] = []
    root = project_root()
    if root is not None:
        candidates.append(root / "node_modules" / ".bin" / "anvil")
    on_path = shutil.which("anvil")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    looked = ", ".join(str(c) for c in candidates) or "PATH"
    raise AnvilNotFoundError(
        f"anvil not found (looked in {looked}); run `make setup` to install it with npm ci"
    )


def _http_provider(url: str, *, timeout: float) -> HTTPProvider:
    """Return an HTTP provider that asks for the chain id once.

    web3's validation middleware reads ``eth_chainId`` before every call and transaction;
    a connection's chain id cannot change, so caching it (web3's own request cache, limited
    to that method) saves a round trip per request.
    """
    return HTTPProvider(
        url,
        request_kwargs={"timeout": timeout},
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this child when its parent dies (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)


class DevnetBackend(_DevChainBackend):
    """anvil on a free loopback port, owned by this object.

    Parameters
    ----------
    anvil_path
        The anvil binary; found by :func:`find_anvil` when omitted.
    port
        Port to listen on; a free one when omitted.
    chain_id
        The chain id anvil reports.
    block_time
        Seconds per block; ``None`` mines each transaction at once (automine).
    startup_timeout
        Seconds to wait for anvil to answer.
    state_path
        Keep the chain in this file across restarts (anvil ``--state``: loaded at start if
        it exists, written when anvil stops), so a stopped and restarted devnet resumes.
    """

    name = "devnet"

    def __init__(
        self,
        anvil_path: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        chain_id: int = 31337,
        block_time: float | None = None,
        startup_timeout: float = 20.0,
        state_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self._anvil = find_anvil(anvil_path)
        self._state_path = None if state_path is None else Path(state_path)
        self._requested_port = port
        self._port: int | None = None
        self._last_port: int | None = None  # a restart listens where clients already point
        self._chain_id = chain_id
        self._block_time = block_time
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str | None:
        """``http://127.0.0.1:<port>`` once started."""
        return None if self._port is None else f"http://127.0.0.1:{self._port}"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The anvil process, while running."""
        return self._process

    def start(self) -> Web3:
        """Start anvil and wait until it answers ``eth_chainId``.

        Returns
        -------
        Web3
            Connected over HTTP.

        Raises
        ------
        ChainUnavailableError
            If anvil exits or does not answer within ``startup_timeout``.
        """
        attempts = 1 if self._requested_port or self._last_port else 3
        last_error = ""
        for _ in range(attempts):
            port = self._requested_port or self._last_port or _free_port()
            command = [
                str(self._anvil),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--chain-id",
                str(self._chain_id),
                "--mnemonic",
                DEV_MNEMONIC,
                "--accounts",
                str(_DEV_ACCOUNTS),
                # The EVM the contracts are compiled for (solc evmVersion). Under anvil
                # 1.7.1's default, Prague, each mined block costs time in proportion to the
                # chain's length (the EIP-2935 history contract; fixed upstream after 1.7.1,
                # foundry-rs/foundry#15715): 2,500 blocks in ~5 s instead of ~0.3 s.
                "--hardfork",
                "cancun",
                "--silent",
            ]
            if self._block_time:
                command += ["--block-time", str(self._block_time)]
            if self._state_path is not None:
                command += ["--state", str(self._state_path), "--preserve-historical-states"]
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=_die_with_parent,
            )
            w3 = Web3(_http_provider(f"http://127.0.0.1:{port}", timeout=10))
            deadline = time.monotonic() + self._startup_timeout
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    stderr = (
                        process.stderr.read().decode(errors="replace") if process.stderr else ""
                    )
                    last_error = f"anvil exited with {process.returncode}: {stderr.strip()}"
                    break
                with contextlib.suppress(Exception):
                    if w3.eth.chain_id == self._chain_id:
                        self._process, self._port = process, port
                        self._last_port = port
                        return w3
                time.sleep(0.05)
            else:
                last_error = f"anvil did not answer within {self._startup_timeout} s"
            _terminate(process)
        raise ChainUnavailableError(f"could not start anvil: {last_error}")

    def stop(self) -> None:
        """Stop anvil (SIGTERM, then SIGKILL if it does not exit).

        With a ``state_path``, mining is switched off first: anvil writes its state file
        while still answering requests, and a block mined during that write would be
        acknowledged to its sender but missing after the restart. With mining off, a
        transaction sent in that window stays unmined, its sender sees no receipt and sends
        it again to the restarted devnet.
        """
        if self._process is None:
            return
        if self._state_path is not None and self._port is not None:
            w3 = Web3(_http_provider(f"http://127.0.0.1:{self._port}", timeout=5))
            with contextlib.suppress(Exception):  # a dead anvil has nothing left to mine
                w3.provider.make_request(RPCEndpoint("evm_setIntervalMining"), [0])
                w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
        # Writing a large state file can take a while on a loaded machine; a SIGKILL
        # mid-write would lose the chain, so give it longer than a plain anvil.
        _terminate(self._process, grace=60.0 if self._state_path is not None else 5.0)
        self._process = None
        self._port = None


def _terminate(process: subprocess.Popen[Any], *, grace: float = 5.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    if process.stderr:
        process.stderr.close()


class RpcBackend(ChainBackend):
    """Any JSON-RPC endpoint.

    Parameters
    ----------
    url
        ``http(s)://`` URL of the node.
    timeout
        Seconds per request.
    use_dev_accounts
        Offer the public development accounts; only honoured on a development chain id.
    retry
        Policy for transient failures while connecting.
    """

    name = "rpc"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        use_dev_accounts: bool = False,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ChainUnavailableError(f"rpc_url {url!r} must start with http:// or https://")
        self._url = url
        self._timeout = timeout
        self._use_dev_accounts = use_dev_accounts
        self._retry = retry or RetryPolicy(attempts=3)
        self._chain_id: int | None = None

    @property
    def rpc_url(self) -> str | None:
        """The endpoint URL."""
        return self._url

    def start(self) -> Web3:
        """Connect and read the chain id.

        Returns
        -------
        Web3
            Connected over HTTP.

        Raises
        ------
        ChainUnavailableError
            If the endpoint does not answer.
        """
        w3 = Web3(_http_provider(self._url, timeout=self._timeout))
        try:
            self._chain_id = int(with_retries(lambda: w3.eth.chain_id, self._retry, "eth_chainId"))
        except ChainUnavailableError as exc:
            raise ChainUnavailableError(f"cannot reach {self._url}: {exc.__cause__}") from exc
        except Exception as exc:  # JSON and provider errors alike
            raise ChainUnavailableError(f"cannot reach {self._url}: {exc}") from exc
        return w3

    def dev_accounts(self) -> list[Secp256k1Key]:
        """Return the development accounts when asked for on a development chain.

        Returns
        -------
        list[Secp256k1Key]
            Keys, or an empty list.
        """
        if self._use_dev_accounts and self._chain_id in DEV_CHAIN_IDS:
            return dev_keys()
        return []
