"""Foundation benchmarks: ledger-layer overhead vs raw web3.py, CID throughput vs sha256sum.

Writes benchmarks/results/foundation.md. Run with `make bench`.

- Transactions per second of ``TransactionSender.transact`` against the idiomatic raw web3.py
  path with local signing (``build_transaction`` + ``sign_transaction`` +
  ``send_raw_transaction`` + ``wait_for_transaction_receipt`` polling every 2 ms, which is
  as fast as our first poll) on the same ERC-20 transfer, on the embedded chain and on
  anvil. Runs alternate in rounds so drift hits both alike.
- CID of a 1 GiB file vs ``sha256sum`` of the same file, and the peak memory of storing and
  reading it back verified through ``LocalContentStore``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from web3 import Web3

from ledgerlearn.ledger import Chain, DevnetBackend, EmbeddedBackend
from ledgerlearn.protocol import TokenParameters, deploy_protocol
from ledgerlearn.storage import compute_file_cid

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "foundation.md"
DATA = HERE / ".data"


def _tps_pair(chain: Chain, per_round: int, rounds: int) -> tuple[float, float]:
    deployer, alice, bob = chain.accounts[:3]
    manifest = deploy_protocol(
        chain, deployer, TokenParameters(initial_supply=10**30, max_supply=10**30)
    )
    token = chain.contract("LedgerToken", manifest.get_address("LedgerToken"))
    sender = chain.sender(deployer)
    chain.sender(deployer).transact(token.functions.transfer(alice.address, 10**24))
    w3: Web3 = chain.w3

    def ours() -> None:
        sender.transact(token.functions.transfer(bob.address, 1))

    raw_nonce = {"next": w3.eth.get_transaction_count(alice.address)}

    def raw() -> None:
        tx = token.functions.transfer(bob.address, 1).build_transaction(
            {"from": alice.address, "nonce": raw_nonce["next"], "chainId": chain.chain_id}
        )
        signed = alice.account.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.002)
        assert receipt["status"] == 1
        raw_nonce["next"] += 1

    def rate(fn: Callable[[], None]) -> float:
        start = time.perf_counter()
        for _ in range(per_round):
            fn()
        return per_round / (time.perf_counter() - start)

    ours(), raw()  # warm up caches on both paths
    ours_rates, raw_rates = [], []
    for index in range(rounds):
        first, second = (ours, raw) if index % 2 == 0 else (raw, ours)
        a, b = rate(first), rate(second)
        ours_rates.append(a if first is ours else b)
        raw_rates.append(b if first is ours else a)
    return statistics.median(ours_rates), statistics.median(raw_rates)


def bench_transactions(per_round: int, rounds: int) -> list[str]:
    rows = []
    for name, make in (("embedded (py-evm)", EmbeddedBackend), ("devnet (anvil)", DevnetBackend)):
        with Chain(make()) as chain:
            ours, raw = _tps_pair(chain, per_round, rounds)
        overhead = raw / ours - 1
        rows.append(
            f"| {name} | {ours:.1f} | {raw:.1f} | {ours / raw:.3f} | {overhead * 100:+.1f} % |"
        )
        print(rows[-1], flush=True)
    return rows


_MEMORY_PROBE = textwrap.dedent(
    """
    import resource, sys, time
    from ledgerlearn.storage import LocalContentStore
    store = LocalContentStore(sys.argv[2])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter(); cid = store.put_file(sys.argv[1]); put = time.perf_counter() - t
    t = time.perf_counter()
    n = sum(len(c) for c in store.iter_chunks(cid))
    get = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(cid, n, put, get, base, peak)
    """
)


def bench_cid(size_mib: int) -> list[str]:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"random-{size_mib}MiB.bin"
    if not path.exists() or path.stat().st_size != size_mib << 20:
        with path.open("wb") as out:
            for _ in range(size_mib):
                out.write(os.urandom(1 << 20))
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm page cache
    sha_times, cid_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(["sha256sum", str(path)], stdout=subprocess.DEVNULL, check=True)
        sha_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        with path.open("rb") as stream:
            cid = compute_file_cid(stream).cid
        cid_times.append(time.perf_counter() - start)
    sha, ours = min(sha_times), min(cid_times)
    mib = size_mib
    rows = [
        f"| `sha256sum` | {sha:.2f} | {mib / sha:.0f} | 1.00 |",
        f"| `compute_file_cid` ({cid[:16]}…) | {ours:.2f} | {mib / ours:.0f} | {ours / sha:.2f} |",
    ]
    store = DATA / "store"
    probe = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path), str(store)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    _, n, put, get, base, peak = probe
    assert int(n) == size_mib << 20
    for label, seconds in (
        ("`LocalContentStore.put_file`", float(put)),
        ("verified read", float(get)),
    ):
        rows.append(f"| {label} | {seconds:.2f} | {mib / seconds:.0f} | {seconds / sha:.2f} |")
    memory = (int(peak) - int(base)) / 1024
    for row in rows:
        print(row, flush=True)
    subprocess.run(["rm", "-rf", str(store)], check=True)
    return [
        *rows,
        "",
        f"Peak RSS of the put + verified read of {mib} MiB: {int(peak) / 1024:.0f} MiB "
        f"({memory:.1f} MiB above the {int(base) / 1024:.0f} MiB the interpreter and "
        "imports take).",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tx", type=int, default=100, help="transactions per round and path")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mib", type=int, default=1024, help="file size for the CID benchmark")
    args = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    tx_rows = bench_transactions(args.tx, args.rounds)
    cid_rows = bench_cid(args.mib)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        "# Foundation benchmarks\n\n"
        f"Machine: {machine}. Command: `make bench` "
        f"(`python benchmarks/bench_foundation.py --tx {args.tx} --rounds {args.rounds} "
        f"--mib {args.mib}`).\n\n"
        "## Transactions: ledgerlearn `TransactionSender` vs raw web3.py\n\n"
        "Same ERC-20 `transfer` on LedgerToken, signed locally, waited for its receipt. Median "
        f"of {args.rounds} alternating rounds of {args.tx} transactions per path.\n\n"
        "| chain | ledgerlearn tx/s | raw web3.py tx/s | ratio (ours / raw) | our overhead |\n"
        "|---|---|---|---|---|\n" + "\n".join(tx_rows) + "\n\n"
        f"## CID of a {args.mib} MiB file vs sha256sum\n\n"
        "Page cache warm; best of 3 for the first two rows.\n\n"
        "| what | seconds | MiB/s | ratio to sha256sum |\n|---|---|---|---|\n"
        + "\n".join(cid_rows)
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
