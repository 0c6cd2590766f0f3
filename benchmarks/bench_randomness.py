"""Randomness benchmarks: ECVRF verification gas, prove/verify time, selection gas.

Writes benchmarks/results/randomness.md. Run with `make bench`.

- Gas to verify one ECVRF-SECP256K1-SHA256-TAI proof on chain, as a whole transaction and
  for the verification alone (transaction gas minus the 21,000 base and the calldata), side
  by side with the 200,000 gas that Chainlink's VRF coordinator budgets for proof
  verification, as a ratio; and the gas of a whole beacon fulfilment.
- Python prove and verify time for both suites.
- Weighted-selection gas as the candidate count n and the committee size k grow.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from eth_utils import keccak

from ledgerlearn.ledger import Chain
from ledgerlearn.protocol import BeaconParameters, TokenParameters, deploy_protocol
from ledgerlearn.randomness import (
    P256_SHA256_TAI,
    SECP256K1_SHA256_TAI,
    BeaconClient,
    VrfKey,
    purpose_id,
    solidity_proof,
)

RESULTS = Path(__file__).parent / "results" / "randomness.md"
CHAINLINK_BUDGET = 200_000


def _calldata_gas(data: bytes) -> int:
    return sum(4 if byte == 0 else 16 for byte in data)


def _gas_used(chain: Chain, call: object) -> tuple[int, bytes]:
    """Exact gas of running ``call`` in a real transaction (estimates are coarse)."""
    data = bytes.fromhex(call._encode_transaction_data()[2:])  # type: ignore[attr-defined]
    sender = chain.sender(chain.accounts[9])
    receipt = sender.send({"to": call.address, "data": data, "gas": 5_000_000})  # type: ignore[attr-defined]
    return int(receipt["gasUsed"]), data


def bench_gas(beacon: BeaconClient, samples: int = 20) -> tuple[list[str], int]:
    tx_gas, verify_gas = [], []
    verify = beacon.contract.functions.verifyProof
    for i in range(samples):
        key = VrfKey.from_secret(keccak(f"key-{i}".encode()))
        alpha = keccak(f"seed-{i}".encode())
        pi = key.prove(alpha)
        proof, helpers = solidity_proof(SECP256K1_SHA256_TAI.helpers(key.public_key, pi, alpha))
        call = verify([key.public_key.x, key.public_key.y], proof, alpha, helpers)
        gas, data = _gas_used(beacon.chain, call)
        tx_gas.append(gas)
        verify_gas.append(gas - 21_000 - _calldata_gas(data))
    median_tx, median_verify = statistics.median(tx_gas), statistics.median(verify_gas)
    rows = [
        f"| verify, whole transaction | {median_tx:,.0f} | {min(tx_gas):,} to {max(tx_gas):,} | "
        f"{median_tx / CHAINLINK_BUDGET:.3f} |",
        f"| verify, computation only | {median_verify:,.0f} | "
        f"{min(verify_gas):,} to {max(verify_gas):,} | "
        f"{median_verify / CHAINLINK_BUDGET:.3f} |",
    ]
    return rows, int(median_tx)


def bench_fulfil(chain: Chain, beacon: BeaconClient, rounds: int = 5) -> str:
    deployer = chain.accounts[0]
    holder = chain.accounts[1]
    chain.sender(deployer).transact(
        beacon.token.functions.transfer(holder.address, beacon.minimum_bond)
    )
    key = VrfKey.derive(holder.unsafe_secret())
    beacon.register_key(holder, key)
    gas = []
    for i in range(rounds):
        request_id = beacon.request(deployer, purpose_id("bench", i))
        gas.append(beacon.fulfil(holder, key, request_id).gas_used)
    median = statistics.median(gas)
    return (
        f"| beacon `fulfil` (1 registered key), whole transaction | {median:,.0f} | "
        f"{min(gas):,} to {max(gas):,} | {median / CHAINLINK_BUDGET:.3f} |"
    )


def _time(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1000


def bench_python(repeat: int = 200) -> list[str]:
    rows = []
    for suite, count in ((SECP256K1_SHA256_TAI, repeat), (P256_SHA256_TAI, max(10, repeat // 10))):
        key = VrfKey.from_secret(keccak(b"bench"), suite)
        alpha = b"sample"
        pi = key.prove(alpha)
        prove_ms = _time(partial(key.prove, alpha), count)
        verify_ms = _time(partial(suite.verify, key.public_key_bytes, pi, alpha), count)
        rows.append(f"| {suite.name} | {prove_ms:.2f} | {verify_ms:.2f} |")
    return rows


def bench_selection(beacon: BeaconClient) -> list[str]:
    rows = []
    select = beacon.contract.functions.select
    for n in (10, 50, 100, 200):
        cells = []
        for k in (1, 5, 10, 25):
            if k > n:
                cells.append("-")
                continue
            weights = [(i * 7919) % 1000 + 1 for i in range(n)]
            call = select(keccak(f"{n}-{k}".encode()), weights, k)
            gas, data = _gas_used(beacon.chain, call)
            cells.append(f"{gas - 21_000 - _calldata_gas(data):,}")
        rows.append(f"| {n} | " + " | ".join(cells) + " |")
    return rows


def main() -> None:
    with Chain() as chain:
        deployer = chain.accounts[0]
        manifest = deploy_protocol(
            chain,
            deployer,
            TokenParameters(),
            BeaconParameters(minimum_bond=10**18, fulfilment_window=5, unbonding_blocks=10),
        )
        beacon = BeaconClient(chain, manifest)
        gas_rows, _ = bench_gas(beacon)
        gas_rows.append(bench_fulfil(chain, beacon))
        selection_rows = bench_selection(beacon)
    python_rows = bench_python()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = (
        "# Randomness benchmarks\n\n"
        f"Machine: {machine}. Command: `make bench` (`python benchmarks/bench_randomness.py`). "
        "Gas measured on the embedded EVM (Cancun rules), median of 20 random keys and seeds.\n\n"
        "## ECVRF verification gas vs the 200,000 gas budget\n\n"
        "The peer figure is the 200,000 gas Chainlink's VRF coordinator reserves for proof "
        "verification; the ratio is ours divided by that budget (lower is better). Computation "
        "only = transaction gas - 21,000 - calldata gas.\n\n"
        "| what | median gas | range | ratio to 200k |\n|---|---|---|---|\n"
        + "\n".join(gas_rows)
        + "\n\n## Python prove and verify time (ms per call)\n\n"
        "secp256k1 scalar products run in libsecp256k1 (coincurve); P-256 in pure Python.\n\n"
        "| suite | prove | verify |\n|---|---|---|\n"
        + "\n".join(python_rows)
        + "\n\n## Weighted selection gas (computation only)\n\n"
        "`select(seed, weights, k)` on chain; rows are candidate counts n, columns committee "
        "sizes k. Cost is O(n·k).\n\n"
        "| n \\ k | 1 | 5 | 10 | 25 |\n|---|---|---|---|---|\n" + "\n".join(selection_rows) + "\n"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
