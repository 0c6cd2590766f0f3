"""Compiled contract artifacts: what ``make contracts`` writes and the chain layer deploys.

Each artifact (``ledgerlearn/ledger/artifacts/<Contract>.json``) is produced by the pinned
solc-js from ``contracts/`` through standard JSON and committed, so installing the package
needs no Node. It records the sha256 of every source it was compiled from, which lets
:func:`find_stale_artifacts` tell when a source changed and the artifact was not rebuilt.

Trust assumption: the artifact is what the repository's sources compile to; CI recompiles
and diffs, and a deployment manifest pins each artifact's hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ledgerlearn.exceptions import ArtifactError, ArtifactNotFoundError

__all__ = [
    "Artifact",
    "ImmutableRange",
    "all_artifacts",
    "find_stale_artifacts",
    "get_artifact",
    "project_root",
]


@dataclass(frozen=True, slots=True)
class ImmutableRange:
    """Bytes of runtime code that the constructor fills (an ``immutable`` variable)."""

    start: int
    length: int


@dataclass(frozen=True, slots=True)
class Artifact:
    """One compiled contract.

    Attributes
    ----------
    name
        The contract's name.
    source_name
        Its source file, relative to the repository root.
    abi
        The ABI.
    bytecode
        Creation code.
    deployed_bytecode
        Runtime code, with zeros where immutables go.
    immutables
        Where the runtime code holds immutables.
    compiler_version
        The solc version that compiled it.
    sources
        sha256 of each source file compiled into it.
    source_hash
        sha256 over ``sources``.
    enums
        Enum name → member names in declaration order (from the compiler's AST; the ABI
        has only ``uint8``).
    """

    name: str
    source_name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    immutables: tuple[ImmutableRange, ...]
    compiler_version: str
    settings: dict[str, Any]
    sources: dict[str, str]
    source_hash: str
    enums: dict[str, list[str]] = field(default_factory=dict)

    @property
    def artifact_hash(self) -> str:
        """sha256 of the creation code: the identity a manifest pins."""
        return hashlib.sha256(self.bytecode).hexdigest()

    def runtime_matches(self, code: bytes) -> bool:
        """Return whether on-chain runtime ``code`` is this artifact's, immutables aside.

        Parameters
        ----------
        code
            The code at a contract's address (``eth_getCode``).

        Returns
        -------
        bool
            True if equal outside the immutable ranges.
        """
        if len(code) != len(self.deployed_bytecode):
            return False
        masked = bytearray(code)
        for ref in self.immutables:
            masked[ref.start : ref.start + ref.length] = bytes(ref.length)
        return bytes(masked) == self.deployed_bytecode

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        """Build an artifact from its JSON form.

        Parameters
        ----------
        data
            The parsed artifact file.

        Returns
        -------
        Artifact
            The artifact.
        """
        try:
            return cls(
                name=data["contractName"],
                source_name=data["sourceName"],
                abi=data["abi"],
                bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
                deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
                immutables=tuple(
                    ImmutableRange(ref["start"], ref["length"])
                    for ref in data.get("immutableReferences", [])
                ),
                compiler_version=data["compiler"]["version"],
                settings=data["settings"],
                sources=data["sources"],
                source_hash=data["sourceHash"],
                enums=data.get("enums", {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"malformed artifact: {exc}; run `make contracts`") from exc


def _artifact_dir() -> Any:
    return resources.files("ledgerlearn.ledger") / "artifacts"


@cache
def get_artifact(name: str) -> Artifact:
    """Load the compiled artifact of contract ``name``.

    Parameters
    ----------
    name
        Contract name, e.g. ``"LedgerToken"``.

    Returns
    -------
    Artifact
        The artifact.

    Raises
    ------
    ArtifactNotFoundError
        If no artifact of that name is packaged.
    """
    entry = _artifact_dir() / f"{name}.json"
    if not entry.is_file():
        known = ", ".join(sorted(all_artifact_names())) or "none"
        raise ArtifactNotFoundError(f"no artifact for contract {name!r} (known: {known})")
    return Artifact.from_json(json.loads(entry.read_text()))


def all_artifact_names() -> list[str]:
    """Return the names of all packaged artifacts.

    Returns
    -------
    list[str]
        Contract names, sorted.
    """
    return sorted(
        entry.name.removesuffix(".json")
        for entry in _artifact_dir().iterdir()
        if entry.name.endswith(".json")
    )


def all_artifacts() -> list[Artifact]:
    """Return every packaged artifact.

    Returns
    -------
    list[Artifact]
        All artifacts, sorted by name.
    """
    return [get_artifact(name) for name in all_artifact_names()]


def project_root() -> Path | None:
    """Return the source checkout's root when running from one, else ``None``.

    Returns
    -------
    Path | None
        The directory holding ``contracts/`` and ``package.json``.
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "contracts").is_dir() and (parent / "package.json").is_file():
            return parent
    return None


def find_stale_artifacts(root: Path) -> list[str]:
    """List problems that mean ``make contracts`` must be rerun.

    A problem is a source whose sha256 differs from what its artifact recorded, a source
    that no longer exists, or a ``.sol`` file under ``contracts/`` no artifact was built
    from.

    Parameters
    ----------
    root
        The repository root (with ``contracts/`` and ``node_modules/``).

    Returns
    -------
    list[str]
        One line per problem; empty when everything is fresh.
    """
    problems: list[str] = []
    covered: set[str] = set()
    for artifact in all_artifacts():
        for source, digest in artifact.sources.items():
            covered.add(source)
            candidates = [root / source, root / "node_modules" / source]
            found = next((path for path in candidates if path.is_file()), None)
            if found is None:
                problems.append(f"{artifact.name}: source {source} is missing")
            elif hashlib.sha256(found.read_bytes()).hexdigest() != digest:
                problems.append(f"{artifact.name}: {source} changed since it was compiled")
    for sol in sorted((root / "contracts").rglob("*.sol")):
        relative = sol.relative_to(root).as_posix()
        if relative not in covered:
            problems.append(f"{relative} has no compiled artifact")
    return problems
