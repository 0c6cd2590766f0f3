"""The oracle network as OS processes: five `node run --role provider`, one `gateway`, anvil.

Clients sign with did:key and did:ethr identities; one request is left behind by a gateway
killed with SIGKILL, and the providers report it themselves. Every provider stops cleanly
on SIGTERM and logs JSON lines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledgerlearn._http import free_port
from ledgerlearn.identity import ethr_did
from ledgerlearn.keys import Ed25519Key
from ledgerlearn.ledger import Chain, DevnetBackend, dev_keys
from ledgerlearn.oracle import sign_request
from tests.oracle_env import build_oracle_env
from tests.oracle_net import ROW, publish_mlp


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLEARN_")}
    return subprocess.Popen(
        [sys.executable, "-m", "ledgerlearn.cli", *args],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
    )


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def _signed_post(url: str, key: Any, body: dict[str, Any], did: str | None = None) -> Any:
    raw = json.dumps(body).encode()
    headers = sign_request(key, "POST", "/v1/inference", raw, did=did)
    headers["content-type"] = "application/json"
    return httpx.post(f"{url}/v1/inference", content=raw, headers=headers, timeout=120)


@pytest.mark.slow
def test_provider_and_gateway_processes_settle_requests_and_survive_a_gateway_kill(
    tmp_path: Path,
) -> None:
    with Chain(DevnetBackend(block_time=0.5)) as chain:
        env = build_oracle_env(tmp_path, chain)
        version = publish_mlp(env, tmp_path)
        manifest = env.oracle.deployment.save(tmp_path / "deployment.json")
        addresses = [k.address for k in dev_keys(10)]
        common = (
            f'[chain]\nbackend = "rpc"\nrpc_url = "{chain.rpc_url}"\nuse_dev_accounts = true\n'
            f'[deployment]\nmanifest = "{manifest}"\n[storage]\nroot = "{tmp_path / "store"}"\n'
        )
        providers: dict[str, subprocess.Popen[bytes]] = {}
        urls = []
        for index, key in enumerate(env.providers[:5]):
            port = free_port()
            config = tmp_path / f"provider-{index}.toml"
            config.write_text(
                common + f'[node]\nrole = "provider"\nstate_dir = "{tmp_path / f"p{index}"}"\n'
                f"dev_account = {addresses.index(key.address)}\nstake = 100\n"
                "poll_seconds = 0.3\n"
                f'[node.provider]\nmodels = ["digits@{version}"]\nhttp_port = {port}\n'
                "report_after_seconds = 3\n"
            )
            log = tmp_path / f"provider-{index}.log"
            providers[key.address] = _start(["node", "run", "--config", str(config)], log)
            urls.append((f"http://127.0.0.1:{port}/v1/health", providers[key.address], log))
        gateway_port = free_port()
        gateway_config = tmp_path / "gateway.toml"
        gateway_config.write_text(
            common + f"[gateway]\nport = {gateway_port}\ndev_account = "
            f"{addresses.index(env.client.address)}\ndeadline_blocks = 300\nfee = 1\n"
        )
        gateway_log = tmp_path / "gateway.log"
        gateway = _start(["gateway", "--config", str(gateway_config)], gateway_log)
        gateway_url = f"http://127.0.0.1:{gateway_port}"
        try:
            for url, process, log in urls:
                _wait_http(url, process, log, 120)
            _wait_http(f"{gateway_url}/v1/health", gateway, gateway_log, 120)

            ask = {"model": f"digits@{version}", "input": {"x": [ROW]}}
            by_key = _signed_post(gateway_url, Ed25519Key.generate(), ask)
            assert by_key.status_code == 200, by_key.text
            assert by_key.json()["status"] == "fulfilled"
            did = ethr_did(chain.chain_id, env.outsider.address)
            by_ethr = _signed_post(gateway_url, env.outsider, ask, did=did)
            assert by_ethr.status_code == 200, by_ethr.text
            assert by_ethr.json()["result"] == by_key.json()["result"]

            left = _signed_post(gateway_url, Ed25519Key.generate(), {**ask, "wait": False})
            assert left.status_code == 202, left.text
            request_id = left.json()["requestId"]
            gateway.send_signal(signal.SIGKILL)
            gateway.wait()
            deadline = time.monotonic() + 120
            while env.oracle.get_request(request_id).status.label != "fulfilled":
                assert time.monotonic() < deadline, "no provider reported the orphaned request"
                time.sleep(0.5)
            (event,) = env.oracle.events("InferenceFulfilled", requestId=request_id)
            assert event["args"]["reporter"] in providers
        finally:
            if gateway.poll() is None:
                gateway.kill()
            for process in providers.values():
                process.terminate()
            codes = [process.wait(timeout=60) for process in providers.values()]
        assert codes == [0] * 5, [log.read_text()[-2000:] for _, _, log in urls]
        for _, _, log in urls:
            lines = [line for line in log.read_text().splitlines() if line.strip()]
            records = [json.loads(line) for line in lines]  # every line is JSON
            assert any(r.get("event") == "serving" for r in records)
