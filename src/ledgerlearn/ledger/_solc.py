"""Compile Solidity generated at run time with the pinned solc-js.

The shipped contracts are compiled ahead of time (``make contracts``) and their artifacts
committed. Some contracts only exist at run time — EZKL writes a Halo2 verifier per circuit —
and they must be compiled by the same pinned compiler with the same settings, never by a
solc binary fetched from the internet (EZKL's own path downloads one through ``svm``). This
module runs ``scripts/solc-standard-json.mjs`` (solc-js from ``node_modules``, with the
settings of ``scripts/solc-settings.mjs``) on a standard-JSON input.

Trust assumption: the local Node install and ``node_modules`` (installed by ``npm ci`` from
the committed lockfile) are the operator's own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from ledgerlearn.exceptions import ArtifactError
from ledgerlearn.ledger._artifacts import project_root

__all__ = ["CompiledContract", "compile_solidity"]


@dataclass(frozen=True, slots=True)
class CompiledContract:
    """ABI and bytecode of one contract compiled at run time."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes


def compile_solidity(
    source: str, name: str, *, filename: str = "Generated.sol"
) -> CompiledContract:
    """Compile one Solidity source with the pinned solc-js and return contract ``name``.

    Parameters
    ----------
    source
        The Solidity source (no imports).
    name
        The contract to return.
    filename
        The source's name in the compiler's input (appears in messages).

    Returns
    -------
    CompiledContract
        The ABI and bytecode.

    Raises
    ------
    ArtifactError
        If Node or solc-js is missing, or the source does not compile (solc's messages are
        included).
    """
    root = project_root()
    node = shutil.which("node")
    if node is None or root is None or not (root / "node_modules" / "solc").is_dir():
        raise ArtifactError(
            "compiling a generated contract needs Node and the pinned solc-js: run from the "
            "source checkout after `make setup` (npm ci)"
        )
    request = {
        "language": "Solidity",
        "sources": {filename: {"content": source}},
        "settings": {
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }
    done = subprocess.run(
        [node, str(root / "scripts" / "solc-standard-json.mjs")],
        input=json.dumps(request).encode(),
        capture_output=True,
        cwd=root,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise ArtifactError(f"solc-js failed: {done.stderr.decode(errors='replace')[-2000:]}")
    output = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        messages = "; ".join(e.get("formattedMessage", e.get("message", "")) for e in errors)
        raise ArtifactError(f"{filename} does not compile: {messages[:4000]}")
    contract = output.get("contracts", {}).get(filename, {}).get(name)
    if contract is None:
        found = ", ".join(output.get("contracts", {}).get(filename, {})) or "none"
        raise ArtifactError(f"{filename} defines no contract {name!r} (it defines: {found})")
    return CompiledContract(
        name=name,
        abi=contract["abi"],
        bytecode=bytes.fromhex(contract["evm"]["bytecode"]["object"]),
        deployed_bytecode=bytes.fromhex(contract["evm"]["deployedBytecode"]["object"]),
    )
