"""The demo's shared context: where it runs, how it prints, what it records.

Trust assumption: none; this only carries the demo's own objects between its sections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledgerlearn.ledger import Chain, DeploymentManifest, SolidityEnum

__all__ = ["DemoContext", "DemoReport"]


@dataclass
class DemoReport:
    """What the demo did, step by step, with the evidence of each step."""

    steps: list[dict[str, Any]] = field(default_factory=list)

    def add(self, title: str, **facts: Any) -> None:
        """Record a step.

        Parameters
        ----------
        title
            What was done.
        **facts
            Evidence (addresses, hashes, CIDs, counts); Solidity enum members are kept as
            their labels (``"overturned"``), as every JSON document of the CLI has them.
        """
        self.steps.append({"step": title, **{k: _plain(v) for k, v in facts.items()}})


def _plain(value: Any) -> Any:
    """``value`` with every :class:`SolidityEnum` member, however nested, as its label."""
    if isinstance(value, SolidityEnum):
        return value.label
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class DemoContext:
    """What every section of the demo works with.

    Attributes
    ----------
    chain
        The chain the protocol is deployed on.
    manifest
        Its deployment manifest.
    workdir
        Where files go (the content store under ``store/``).
    say
        Prints one line of progress.
    report
        Collects each step's evidence.
    """

    chain: Chain
    manifest: DeploymentManifest
    workdir: Path
    say: Callable[[str], None]
    report: DemoReport

    def parts(
        self,
    ) -> tuple[Chain, DeploymentManifest, Path, Callable[[str], None], DemoReport]:
        """Return ``(chain, manifest, workdir, say, report)``, the way sections unpack it."""
        return self.chain, self.manifest, self.workdir, self.say, self.report
