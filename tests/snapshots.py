"""Sharing built chains between tests: snapshot before a test, revert after it.

Building an environment (deploying the protocol, publishing models, staking providers)
costs seconds; a test changes it in milliseconds. Module- or session-scoped fixtures build
once, and each test runs inside :func:`reverting`, so it sees the state the fixture built
and leaves nothing behind (eth-tester snapshots on the embedded chain, ``evm_snapshot`` on
anvil).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ledgerlearn.ledger import Chain

__all__ = ["reverting"]


@contextmanager
def reverting(chain: Chain) -> Iterator[None]:
    """Run the block on ``chain`` and put the chain back as it was before."""
    snapshot = chain.snapshot()
    try:
        yield
    finally:
        chain.revert(snapshot)
