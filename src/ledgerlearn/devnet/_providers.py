"""Provider nodes in one process: for demos, benchmarks and tests on a development chain.

:class:`LocalProviders` runs several :class:`~ledgerlearn.node.ProviderNode` s the way
``ledgerlearn node run --role provider`` runs one: each answers behind its own HTTP server
on loopback (its endpoint published in its DID document), one thread steps them all, and a
clock thread mines a block every ``block_seconds`` — development chains mine only on
transactions, while seed blocks and deadlines count blocks. Deployments run one node per
machine instead.

Trust assumption: as :class:`~ledgerlearn.node.ProviderNode`'s; the nodes share this
process, not their keys' authority.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from types import TracebackType

from ledgerlearn._http import HttpServer, free_port
from ledgerlearn.devnet.experiments import LyingProvider
from ledgerlearn.exceptions import LedgerLearnError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.node import ProviderNode
from ledgerlearn.oracle import Provider, provider_app
from ledgerlearn.storage import ContentStore

__all__ = ["LocalProviders"]


class LocalProviders:
    """Provider nodes, their HTTP servers, a stepping thread and a block clock.

    Parameters
    ----------
    chain, deployment, store
        A development chain, its deployment and the shared content store.
    keys
        One provider identity per node.
    models
        Versions every node serves (``name@channel`` or ``name@version``).
    state_root
        Node ``i`` keeps its state in ``state_root / f"p{i}"``.
    stake, report_after
        As :class:`ProviderNode`'s.
    dishonest
        Indices of nodes that lie (:class:`~ledgerlearn.devnet.LyingProvider`).
    block_seconds
        Seconds between mined blocks; ``None`` mines nothing (the chain makes its own).
    poll_seconds
        Pause between two passes over the nodes.
    """

    def __init__(
        self,
        chain: Chain,
        deployment: DeploymentManifest,
        store: ContentStore,
        keys: Sequence[Secp256k1Key],
        models: Sequence[str],
        state_root: Path,
        *,
        stake: int = 0,
        report_after: float = 10.0,
        dishonest: Collection[int] = (),
        block_seconds: float | None = 0.25,
        poll_seconds: float = 0.2,
    ) -> None:
        self.chain = chain
        self.block_seconds = block_seconds
        self.poll_seconds = poll_seconds
        self.nodes: list[ProviderNode] = []
        self.servers: dict[str, HttpServer] = {}
        self.paused: set[str] = set()
        """Addresses of nodes the stepping thread skips (a provider gone quiet)."""
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        for i, key in enumerate(keys):
            port = free_port()
            node = ProviderNode(
                chain,
                deployment,
                store,
                key,
                models,
                state_root / f"p{i}",
                stake=stake,
                endpoint=f"http://127.0.0.1:{port}",
                report_after=report_after,
                provider_type=LyingProvider if i in dishonest else Provider,
            )
            self.nodes.append(node)
            self.servers[key.address] = HttpServer(provider_app(node.setup()), port=port)

    def start(self) -> LocalProviders:
        """Start the servers, the stepping thread and the clock; return self."""
        for server in self.servers.values():
            server.start()
        targets = [self._step]
        if self.block_seconds is not None:
            targets.append(self._clock)
        self._threads = [threading.Thread(target=t, daemon=True) for t in targets]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop stepping and mining, and every server."""
        self.stopping.set()
        for thread in self._threads:
            thread.join(30)
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> LocalProviders:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _step(self) -> None:
        while not self.stopping.is_set():
            for node in self.nodes:
                if self.stopping.is_set():
                    return
                if node.address not in self.paused:
                    with contextlib.suppress(LedgerLearnError, OSError):  # retried, as node run
                        node.step()
            self.stopping.wait(self.poll_seconds)

    def _clock(self) -> None:
        assert self.block_seconds is not None
        while not self.stopping.wait(self.block_seconds):
            self.chain.mine(1)
