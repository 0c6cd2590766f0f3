"""Benchmarks for the inference oracle (issue #7).

1. Gas of ``request``, ``selectProviders`` and ``fulfil`` as the redundancy k grows, on the
   embedded EVM, every drawn provider answering and agreeing (quorum = k // 2 + 1). Target:
   fulfil <= 200,000 gas at k = 5. "first" is a provider's first paid answer (its stats slot
   goes from zero to non-zero); "steady" is every later one.
2. Settlement latency on a devnet (anvil): request -> beacon draw -> selection -> five
   signed answers -> fulfil, p50 / p95 over 20 requests: the on-chain path alone.
3. End to end through the gateway on a devnet: five provider nodes (HTTP servers, VRF
   keys, a real MLP) and the gateway, DID-signed client calls that wait for the settled
   answer; p50 / p95 of one request at k = 5 beside a direct call to one provider's answer
   API (the ratio is the price of the quorum), then 20 concurrent clients' throughput.

Writes benchmarks/results/oracle.md.

    python benchmarks/bench_oracle.py
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median, quantiles

import httpx
import numpy as np
from safetensors.numpy import save_file

from ledgerlearn._http import HttpServer
from ledgerlearn.devnet import LocalProviders
from ledgerlearn.gateway import Gateway, GatewayPolicy, gateway_app
from ledgerlearn.identity import EthrDidResolver
from ledgerlearn.keys import Ed25519Key, Secp256k1Key
from ledgerlearn.learning.models import MLP
from ledgerlearn.ledger import Chain, ChainBackend, DevnetBackend, EmbeddedBackend
from ledgerlearn.oracle import (
    Mode,
    OracleClient,
    Quota,
    RateLimiter,
    RequestSpec,
    RequestVerifier,
    build_report,
    sign_answer,
    sign_request,
)
from ledgerlearn.protocol import (
    BeaconParameters,
    OracleParameters,
    TokenParameters,
    deploy_protocol,
)
from ledgerlearn.randomness import BeaconClient, VrfKey
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import TrainingClient

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "oracle.md"
TOKEN = 10**18
PROVIDERS = 16
INPUT = b'{"x": [[0, 1, 2, 3]]}'


class Network:
    """A deployment with one registered model, PROVIDERS staked providers and a VRF key."""

    def __init__(self, backend: ChainBackend, tmp: Path) -> None:
        self.chain = Chain(backend)
        deployer, owner, self.client, self.vrf_holder = self.chain.accounts[:4]
        manifest = deploy_protocol(
            self.chain,
            deployer,
            TokenParameters(),
            BeaconParameters(minimum_bond=10 * TOKEN, fulfilment_window=5, unbonding_blocks=10),
            oracle=OracleParameters(min_provider_stake=50 * TOKEN),
        )
        self.manifest = manifest
        self.owner = owner
        self.store = LocalContentStore(tmp / "store")
        self.registry = registry = ModelRegistryClient(self.chain, manifest, self.store)
        registry.create_model(owner, "bench")
        weights = tmp / "w.safetensors"
        save_file({"w": np.ones((4, 2), np.float32)}, str(weights))
        registry.publish(
            owner,
            "bench",
            weights,
            framework="numpy",
            architecture={"name": "mlp"},
            inputs=[],
            outputs=[],
            license="MIT",
        )
        training = TrainingClient(self.chain, manifest)
        send = self.chain.sender(deployer)
        self.providers = [
            Secp256k1Key.from_secret(hashlib.sha256(f"bench provider {i}".encode()).digest())
            for i in range(PROVIDERS)
        ]
        token = training.token.functions
        for key in [*self.providers, self.client, self.vrf_holder]:
            send.send({"to": key.address, "value": 10**20})
            send.transact(token.transfer(key.address, 1_000 * TOKEN))
        self.oracle = OracleClient(self.chain, manifest)
        for key in self.providers:
            training.stake(key, 100 * TOKEN)
            self.oracle.serve(key, "bench", 1)
        self.beacon = BeaconClient(self.chain, manifest)
        self.vrf = VrfKey.from_secret(hashlib.sha256(b"bench vrf").digest())
        self.chain.sender(self.vrf_holder).transact(
            token.approve(self.beacon.contract.address, 10 * TOKEN)
        )
        self.beacon.register_key(self.vrf_holder, self.vrf, 10 * TOKEN)
        self.by_address = {k.address: k for k in self.providers}
        self.input_cid = str(self.store.put(INPUT))

    def settle(self, k: int) -> dict[str, int]:
        """Run one request with redundancy k to fulfilment; return the gas of each step."""
        spec = RequestSpec(
            model="bench",
            input_sha256=hashlib.sha256(INPUT).digest(),
            input_cid=self.input_cid,
            version=1,
            redundancy=k,
            quorum=k // 2 + 1,
            mode=Mode.MAJORITY,
            deadline_blocks=200,
            fee=10 * TOKEN,
        )
        request_id = self.oracle.request(self.client, spec)
        gas = {"request": self.oracle.gas["request"]}
        self.beacon.fulfil(self.vrf_holder, self.vrf, self.oracle.randomness_request_id(request_id))
        drawn = self.oracle.select(self.client, request_id)
        gas["select"] = self.oracle.gas["selectProviders"]
        request = self.oracle.get_request(request_id)
        output = hashlib.sha256(b"label 7").digest()
        answers = [
            sign_answer(
                self.by_address[p],
                self.oracle.domain,
                request_id,
                request.model_hash,
                request.input_hash,
                output,
                7,
            )
            for p in drawn
        ]
        self.oracle.fulfil(self.client, build_report(request, drawn, answers))
        gas["fulfil"] = self.oracle.gas["fulfil"]
        return gas


def gas_table() -> tuple[list[str], int]:
    """Steady gas rows per k, and the gas of a k = 5 fulfilment by first-time providers."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        net = Network(EmbeddedBackend(), Path(tmp))
        first = net.settle(5)["fulfil"]  # five providers paid for the first time
        net.settle(PROVIDERS)  # k = 16 draws all sixteen: every stats slot is now in use
        for k in (1, 3, 5, 7, 9, 12, 16):
            steady = [net.settle(k) for _ in range(3)]
            fulfil = int(median(g["fulfil"] for g in steady))
            target = " (target ≤ 200,000)" if k == 5 else ""
            rows.append(
                f"| {k} | {k // 2 + 1} | {int(median(g['request'] for g in steady)):,} | "
                f"{int(median(g['select'] for g in steady)):,} | "
                f"{fulfil:,}{target} | {fulfil / 200_000:.2f} |"
            )
        net.chain.close()
    return rows, first


def latency_rows() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        net = Network(DevnetBackend(), Path(tmp))
        net.settle(5)  # warm up
        times = []
        for _ in range(20):
            start = time.perf_counter()
            net.settle(5)
            times.append(time.perf_counter() - start)
        net.chain.close()
    p50 = median(times)
    p95 = quantiles(times, n=20)[-1]
    return [f"| on-chain path, k = 5, devnet | {p50 * 1000:.0f} | {p95 * 1000:.0f} | 20 |"]


ROW = [0.5, -1.0, 2.0, 0.25]


def _percentiles(times: list[float]) -> tuple[float, float]:
    return median(times), quantiles(times, n=20)[-1]


def gateway_rows(requests: int = 20, clients: int = 20, per_client: int = 3) -> list[str]:
    """Gateway latency beside a direct provider call, and throughput of concurrent clients."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        net = Network(DevnetBackend(), tmp)
        weights = tmp / "mlp.safetensors"
        weights.write_bytes(MLP(4, 3, (8,), seed=3).to_bytes())
        version = net.registry.publish(
            net.owner,
            "bench",
            weights,
            framework="numpy",
            architecture={"kind": "mlp", "inputs": 4, "hidden": [8], "classes": 3},
            inputs=[{"name": "x", "dtype": "float32", "shape": [None, 4]}],
            outputs=[{"name": "probabilities", "dtype": "float32", "shape": [None, 3]}],
            license="MIT",
        ).version
        providers = LocalProviders(
            net.chain,
            net.manifest,
            net.store,
            net.providers[:5],
            [f"bench@{version}"],
            tmp,
            report_after=120.0,  # the gateway reports; nodes only draw
            block_seconds=0.1,
            poll_seconds=0.1,
        ).start()
        gateway = Gateway(
            net.oracle,
            net.store,
            net.client,
            GatewayPolicy(fee=TOKEN, deadline_blocks=3_000, wait_seconds=120, retry_seconds=0.1),
        )
        resolver = EthrDidResolver(net.chain, net.manifest)
        app = gateway_app(
            gateway,
            RequestVerifier(resolver=resolver, chain_id=net.chain.chain_id),
            RateLimiter(rate=1_000, burst=1_000),
            Quota(limit=1_000_000),
        )
        front = HttpServer(app).start()
        body = json.dumps({"model": f"bench@{version}", "input": {"x": [ROW]}}).encode()

        def ask(key: Ed25519Key, http: httpx.Client) -> float:
            headers = sign_request(key, "POST", "/v1/inference", body)
            headers["content-type"] = "application/json"
            start = time.perf_counter()
            response = http.post(f"{front.url}/v1/inference", content=body, headers=headers)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "fulfilled", response.text
            return elapsed

        try:
            client_key = Ed25519Key.generate()
            with httpx.Client(timeout=180) as http:
                ask(client_key, http)  # warm up
                via_gateway = [ask(client_key, http) for _ in range(requests)]
                # A direct call: one provider's answer to an open request it was drawn for.
                gateway.kill_after_gather = True  # leave one request open (nobody reports)
                outcome = gateway.submit("bench", f"bench@{version}", [ROW])
                while outcome.output is None:
                    time.sleep(0.05)
                # Hold the nodes while measuring, or their fallback report (10 s after they
                # first saw the request open) settles it mid-measurement.
                providers.paused.update(node.address for node in providers.nodes)
                drawn = net.oracle.selected(outcome.request_id)
                url = f"{providers.servers[drawn[0]].url}/v1/answers"
                direct = []
                for _ in range(requests + 1):
                    start = time.perf_counter()
                    response = http.post(url, json={"requestId": outcome.request_id})
                    direct.append(time.perf_counter() - start)
                    assert response.status_code == 200, response.text
                direct = direct[1:]
                # Only now: the gateway sets the output before it reads this flag.
                gateway.kill_after_gather = False
                providers.paused.clear()

            def one_client(_: int) -> list[float]:
                key = Ed25519Key.generate()
                with httpx.Client(timeout=300) as http:
                    return [ask(key, http) for _ in range(per_client)]

            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=clients) as pool:
                loaded = [t for ts in pool.map(one_client, range(clients)) for t in ts]
            wall = time.perf_counter() - start
        finally:
            gateway.close()
            front.stop()
            providers.stop()
            net.chain.close()
    g50, g95 = _percentiles(via_gateway)
    d50, d95 = _percentiles(direct)
    l50, l95 = _percentiles(loaded)
    total = clients * per_client
    return [
        f"| one request through the gateway, k = 5, quorum 3 | {g50 * 1000:.0f} | "
        f"{g95 * 1000:.0f} | {requests} | {g50 / d50:.0f} times the direct call |",
        f"| direct call to one provider (`POST /v1/answers`: model + EIP-712 signature) | "
        f"{d50 * 1000:.1f} | {d95 * 1000:.1f} | {requests} | 1 |",
        f"| {clients} concurrent clients, {per_client} each, requests through the gateway | "
        f"{l50 * 1000:.0f} | {l95 * 1000:.0f} | {total} | "
        f"throughput {total / wall:.2f} requests/s ({wall:.1f} s) |",
    ]


def main() -> None:
    gas_rows, first = gas_table()
    latency = latency_rows()
    gateway = gateway_rows()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = (
        "# Inference oracle benchmarks\n\n"
        f"Machine: {machine}. Command: `make bench` (`python benchmarks/bench_oracle.py`).\n\n"
        "## Gas as the redundancy k grows (embedded EVM)\n\n"
        "Every drawn provider answers and agrees; quorum = k // 2 + 1; medians of three "
        "requests, once every provider has been paid before (its stats slot is in use). The "
        "ratio is fulfil gas over the issue's 200,000 gas target (lower is better). A "
        f"provider's very first paid answer costs ~17,000 more (a zero to non-zero store): "
        f"k = 5 with five first-time providers took {first:,} gas.\n\n"
        "| k | quorum | request | selectProviders | fulfil | ratio to 200k |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(gas_rows) + "\n\n"
        "## Settlement latency (devnet, anvil)\n\n"
        "request → beacon fulfilment → selectProviders → five EIP-712 answers signed in "
        "process → fulfil, wall time per request in ms: the on-chain path alone.\n\n"
        "| path | p50 | p95 | requests |\n|---|---|---|---|\n" + "\n".join(latency) + "\n\n"
        "## Through the gateway (devnet, anvil)\n\n"
        "Five provider nodes (uvicorn servers, endpoints in their DID documents, a 4-8-3 "
        "MLP, VRF keys; the nodes fulfil beacon draws) and the gateway, all in this process "
        "beside anvil (one GIL, 2 cores: separate machines would do better); a block every "
        "0.1 s besides the transactions' own. Each call is a DID-signed `POST "
        "/v1/inference` that waits for the settled answer: signature check, input check, "
        "request, beacon draw, selection, five answers gathered over HTTP and verified, "
        "report. The baseline is a direct call to one provider's answer API for an open "
        "request (no quorum, no chain write). Milliseconds. Under load the single process "
        "is CPU-bound: a profile (py-spy) shows most time in web3.py's per-call ABI "
        "validation (it recomputes the 4-byte selector of every function of a contract, "
        "keccak each, on every call) and JSON-RPC round trips of polling; providers and "
        "the gateway as separate processes on separate machines do not share that CPU.\n\n"
        "| path | p50 | p95 | requests | ratio / throughput |\n|---|---|---|---|---|\n"
        + "\n".join(gateway)
        + "\n"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
