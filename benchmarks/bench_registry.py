"""Registry benchmarks: gas of every identity, registry and governance write; DID resolution
time; pull throughput against a plain file copy.

Writes benchmarks/results/registry.md. Run with `make bench` or
`python benchmarks/bench_registry.py [--pull-mb 500]`.

- Gas of each IdentityRegistry write (direct and signed), each ModelRegistry write, each
  governance step, and of the whole promote and rollback cycles (propose + vote + queue +
  execute), on the embedded EVM (cancun rules).
- Seconds to resolve a did:ethr whose history has 50 changes (50 log queries walking the
  ``previousChange`` pointers), median of 5, as of the latest block and as of block N.
- ``pull`` of a 500 MB artifact (verify the chain record, the signature as of the
  registration block, the manifest, every 256 KiB leaf against the CID, the whole-file
  sha256, then write and rename) against ``shutil.copyfile`` of the same file, same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file

from ledgerlearn.governance import Governance
from ledgerlearn.identity import EthrDidRegistry, EthrDidResolver, attribute_name, ethr_did
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain
from ledgerlearn.protocol import deploy_protocol
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import LocalContentStore

RESULTS = Path(__file__).parent / "results" / "registry.md"
SPEC: dict[str, Any] = {
    "framework": "numpy",
    "architecture": {"name": "mlp"},
    "inputs": [{"name": "x", "dtype": "float32", "shape": [None, 64]}],
    "outputs": [{"name": "y", "dtype": "float32", "shape": [None, 10]}],
    "license": "Apache-2.0",
}


def _gas(receipt: Any) -> int:
    return int(receipt["gasUsed"])


def _weights(path: Path, seed: int, floats: int = 1000) -> Path:
    rng = np.random.default_rng(seed)
    save_file({"w": rng.standard_normal(floats).astype(np.float32)}, str(path))
    return path


def identity_gas(chain: Chain, registry: EthrDidRegistry) -> list[tuple[str, int]]:
    alice, bob, relayer = chain.accounts[1], chain.accounts[2], chain.accounts[3]
    name, value = attribute_name("pub", "X25519", "enc"), bytes(32)
    rows = [
        ("addDelegate", _gas(registry.add_delegate(alice, alice.address, bob.address))),
        ("revokeDelegate", _gas(registry.revoke_delegate(alice, alice.address, bob.address))),
        (
            "setAttribute (32-byte key)",
            _gas(registry.set_attribute(alice, alice.address, name, value)),
        ),
        ("revokeAttribute", _gas(registry.revoke_attribute(alice, alice.address, name, value))),
    ]
    owner = Secp256k1Key.generate()
    ident = owner.address
    sig = registry.sign_add_delegate(owner, ident, bob.address)
    rows.append(
        ("addDelegateSigned", _gas(registry.add_delegate_signed(relayer, sig, bob.address)))
    )
    sig = registry.sign_revoke_delegate(owner, ident, bob.address)
    rows.append(
        ("revokeDelegateSigned", _gas(registry.revoke_delegate_signed(relayer, sig, bob.address)))
    )
    sig = registry.sign_set_attribute(owner, ident, name, value)
    rows.append(
        ("setAttributeSigned", _gas(registry.set_attribute_signed(relayer, sig, name, value)))
    )
    sig = registry.sign_revoke_attribute(owner, ident, name, value)
    rows.append(
        ("revokeAttributeSigned", _gas(registry.revoke_attribute_signed(relayer, sig, name, value)))
    )
    new_owner = Secp256k1Key.generate()
    sig = registry.sign_change_owner(owner, ident, new_owner.address)
    rows.append(
        ("changeOwnerSigned", _gas(registry.change_owner_signed(relayer, sig, new_owner.address)))
    )
    rows.append(("changeOwner", _gas(registry.change_owner(alice, alice.address, bob.address))))
    return rows


def registry_and_governance_gas(
    chain: Chain, deployment: Any, store: LocalContentStore, tmp: Path
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    deployer, alice, bob = chain.accounts[0], chain.accounts[4], chain.accounts[5]
    client = ModelRegistryClient(chain, deployment, store)
    gov = Governance(chain, deployment, store)
    send = chain.sender
    rows: list[tuple[str, int]] = []
    receipt = send(alice).transact(client.contract.functions.createModel("bench", alice.address))
    rows.append(("createModel (grants owner + publisher)", _gas(receipt)))
    receipt = send(alice).transact(
        client.contract.functions.grantModelRole(
            client.model_id("bench"),
            bytes.fromhex(client_role("publisher")),
            bob.address,
            alice.address,
        )
    )
    rows.append(("grantModelRole", _gas(receipt)))
    block = chain.block_number
    client.publish(alice, "bench", _weights(tmp / "a.safetensors", 1), **SPEC)
    rows.append(("registerVersion (root, owner key signs)", _block_gas(chain, block + 1)))
    block = chain.block_number
    client.publish(alice, "bench", _weights(tmp / "b.safetensors", 2), parent_version=1, **SPEC)
    rows.append(("registerVersion (child)", _block_gas(chain, block + 1)))

    gov.delegate(deployer)
    r1, r2 = store.put(b'{"accuracy": 0.9}'), store.put(b'{"accuracy": 0.93}')
    cycle: list[tuple[str, int]] = []

    def run_cycle(label: str, propose: Callable[[], int]) -> None:
        start = chain.block_number
        proposal = propose()
        steps = {"propose": _block_gas(chain, chain.block_number)}
        gov.advance_to_voting(proposal)
        gov.vote(deployer, proposal)
        steps["castVote"] = _block_gas(chain, chain.block_number)
        gov.advance_past_deadline(proposal)
        gov.queue(deployer, proposal)
        steps["queue"] = _block_gas(chain, chain.block_number)
        gov.advance_past_eta(proposal)
        gov.execute(deployer, proposal)
        steps["execute (moves the channel)"] = _block_gas(chain, chain.block_number)
        for step, gas in steps.items():
            cycle.append((f"{label}: {step}", gas))
        cycle.append((f"**{label}: whole cycle**", sum(steps.values())))
        assert start < chain.block_number

    run_cycle(
        "promote v1", lambda: gov.propose_promotion(deployer, "bench", 1, evaluation_report=r1)
    )
    run_cycle(
        "promote v2", lambda: gov.propose_promotion(deployer, "bench", 2, evaluation_report=r2)
    )
    run_cycle("roll back to v1", lambda: gov.propose_rollback(deployer, "bench"))
    receipt = send(deployer).transact(
        client.contract.functions.pauseModel(client.model_id("bench"))
    )
    rows.append(("pauseModel (guardian)", _gas(receipt)))
    receipt = send(deployer).transact(
        client.contract.functions.revokeVersion(client.model_id("bench"), 1, "benchmark")
    )
    rows.append(("revokeVersion (guardian, clears production)", _gas(receipt)))
    return rows, cycle


def client_role(name: str) -> str:
    from ledgerlearn.registry import MODEL_ROLES

    return MODEL_ROLES[name].hex()


def _block_gas(chain: Chain, number: int) -> int:
    block = chain.w3.eth.get_block(number, full_transactions=True)
    return sum(
        int(chain.w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"])
        for tx in block["transactions"]
    )


def resolve_time(chain: Chain, address: str) -> tuple[float, float, int]:
    registry = EthrDidRegistry.at(chain, address)
    resolver = EthrDidResolver.at(chain, address)
    alice = chain.accounts[6]
    keys = [Secp256k1Key.generate().address for _ in range(25)]
    for key in keys:
        registry.add_delegate(alice, alice.address, key)
    middle = chain.block_number
    for key in keys:
        registry.revoke_delegate(alice, alice.address, key)
    did = ethr_did(chain.chain_id, alice.address)
    assert len(resolver.history(alice.address)) == 50
    latest, older = [], []
    for _ in range(5):
        start = time.perf_counter()
        resolver.resolve(did)
        latest.append(time.perf_counter() - start)
        start = time.perf_counter()
        resolver.resolve(did, block=middle)
        older.append(time.perf_counter() - start)
    return statistics.median(latest), statistics.median(older), 50


def pull_throughput(
    chain: Chain, deployment: Any, tmp: Path, megabytes: int
) -> tuple[float, float, int]:
    store = LocalContentStore(tmp / "pull-store")
    client = ModelRegistryClient(chain, deployment, store)
    owner = chain.accounts[7]
    client.create_model(owner, "big")
    source = _weights(tmp / "big.safetensors", 9, floats=megabytes * 250_000)
    client.publish(owner, "big", source, **SPEC)
    size = source.stat().st_size
    copy_times, pull_times = [], []
    for attempt in range(3):
        start = time.perf_counter()
        shutil.copyfile(source, tmp / f"copy-{attempt}")
        with open(tmp / f"copy-{attempt}", "rb+") as handle:
            os.fsync(handle.fileno())
        copy_times.append(time.perf_counter() - start)
        (tmp / f"copy-{attempt}").unlink()
        start = time.perf_counter()
        client.pull("big@1", tmp / f"pulled-{attempt}")
        pull_times.append(time.perf_counter() - start)
        shutil.rmtree(tmp / f"pulled-{attempt}")
    return statistics.median(pull_times), statistics.median(copy_times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pull-mb", type=int, default=500, help="artifact size for pull")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as work, Chain() as chain:
        tmp = Path(work)
        deployment = deploy_protocol(chain, chain.accounts[0])
        store = LocalContentStore(tmp / "store")
        ids = EthrDidRegistry(chain, deployment)
        identity_rows = identity_gas(chain, ids)
        registry_rows, cycle_rows = registry_and_governance_gas(chain, deployment, store, tmp)
        latest, older, changes = resolve_time(chain, deployment.get_address("IdentityRegistry"))
        pull_s, copy_s, size = pull_throughput(chain, deployment, tmp, args.pull_mb)

    lines = [
        "# Registry, identity and governance",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}. Embedded py-evm (cancun), solc 0.8.28 optimizer 200.",
        "Command: `python benchmarks/bench_registry.py` (part of `make bench`).",
        "",
        "## Gas of each write",
        "",
        "| contract | write | gas |",
        "|---|---|---:|",
    ]
    lines += [f"| IdentityRegistry | {name} | {gas:,} |" for name, gas in identity_rows]
    lines += [f"| ModelRegistry | {name} | {gas:,} |" for name, gas in registry_rows]
    lines += [
        "",
        "## Promote / rollback cycles (LedgerGovernor + ProtocolTimelock + ModelRegistry)",
        "",
        "| step | gas |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {gas:,} |" for name, gas in cycle_rows]
    mb = size / 1e6
    lines += [
        "",
        f"## Resolving a did:ethr with {changes} changes",
        "",
        "| as of | seconds (median of 5) |",
        "|---|---:|",
        f"| latest block | {latest:.3f} |",
        f"| a block in the middle of the history | {older:.3f} |",
        "",
        f"## Pull of a {mb:,.0f} MB artifact vs copying the file",
        "",
        "| operation | seconds (median of 3) | MB/s |",
        "|---|---:|---:|",
        f"| `ModelRegistryClient.pull` (all checks, write, fsync, rename) | {pull_s:.2f} | "
        f"{mb / pull_s:,.0f} |",
        f"| `shutil.copyfile` + fsync | {copy_s:.2f} | {mb / copy_s:,.0f} |",
        f"| **ratio pull / copy** | **{pull_s / copy_s:.2f}x** | |",
        "",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
