"""The chain the heavy tests run on.

Tests that send hundreds of transactions (training tasks, oracle networks, disputes) run
on a fresh anvil: it settles a transaction several times faster than py-evm in process
(a ten-trainer task: 27 s on py-evm, 4.5 s on anvil). The embedded chain keeps the tests
that are about it: the ``deployment`` fixture's contract tests, the CLI, the demo.
"""

from __future__ import annotations

from ledgerlearn.ledger import Chain, DevnetBackend

__all__ = ["fresh_chain"]


def fresh_chain() -> Chain:
    """Start a new anvil (stopped by ``Chain.close``) and return its chain."""
    return Chain(DevnetBackend())
