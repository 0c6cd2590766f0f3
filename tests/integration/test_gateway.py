"""The gateway over a running provider network (embedded chain, real HTTP servers).

Five provider nodes serve ``digits@3`` behind uvicorn; one lies. Clients sign every call
with a DID key. Faults: unsigned, tampered, expired and replayed calls; rate limits and
quotas; malformed, oversized and wrong-shaped inputs; unknown and revoked models; a
provider offline; the gateway gone after gathering the answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ledgerlearn._http import HttpServer
from ledgerlearn.gateway import Gateway, gateway_app
from ledgerlearn.keys import Ed25519Key
from ledgerlearn.oracle import Quota, RateLimiter, RequestVerifier, load_model, sign_request
from ledgerlearn.provenance import verify_inference
from tests.oracle_env import build_oracle_env
from tests.oracle_net import ROW, Net, provider_net

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    tmp = tmp_path_factory.mktemp("gateway")
    env = build_oracle_env(tmp)
    with provider_net(env, tmp, liars=1, report_after=2.0) as running:
        yield running
        running.env.chain.close()


@pytest.fixture(scope="module")
def gateway(net: Net) -> Iterator[Gateway]:
    gw = net.gateway()
    yield gw
    gw.close()


class Client:
    """Signs every call with one DID key."""

    def __init__(self, app: Any, key: Ed25519Key | None = None) -> None:
        self.http = TestClient(app)
        self.key = key or Ed25519Key.generate()

    def post(self, path: str, body: dict[str, Any] | bytes, **sign: Any) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = sign_request(self.key, "POST", path, raw, **sign)
        headers["content-type"] = "application/json"
        return self.http.post(path, content=raw, headers=headers)

    def get(self, path: str) -> Any:
        return self.http.get(path, headers=sign_request(self.key, "GET", path, b""))


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Client:
    return Client(gateway_app(gateway, RequestVerifier(), RateLimiter(rate=50, burst=200)))


def ask(net: Net, **changes: Any) -> dict[str, Any]:
    return {"model": f"digits@{net.version}", "input": {"x": [ROW]}, **changes}


def test_an_answer_settles_on_chain_and_the_liar_is_outvoted(
    net: Net, gateway: Gateway, client: Client
) -> None:
    response = client.post("/v1/inference", ask(net))
    assert response.status_code == 200, response.text
    body = response.json()
    honest = load_model(net.env.registry, "digits", net.version)
    expected = int(np.argmax(honest.run(np.asarray([ROW], np.float32))[0]))
    assert body["status"] == "fulfilled" and body["result"] == expected
    assert body["output"]["labels"] == [expected]

    status = client.get(f"/v1/requests/{body['requestId']}").json()
    liar = net.nodes[0].address
    by_provider = {a["provider"]: a for a in status["answers"]}
    assert by_provider[liar]["agreed"] is False and by_provider[liar]["deviation"] > 0
    assert sum(a["agreed"] for a in status["answers"]) >= 3
    assert status["evidence"]["model_hash"] == "0x" + honest.artifact_sha256.hex()
    assert net.env.oracle.stats_of(liar)["deviated"] >= 1
    _, checks = verify_inference(
        net.env.chain, net.env.oracle.deployment, net.env.store, body["requestId"]
    )
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


def test_unsigned_tampered_expired_and_replayed_calls_are_refused(net: Net, client: Client) -> None:
    raw = json.dumps(ask(net)).encode()
    unsigned = client.http.post("/v1/inference", content=raw)
    assert unsigned.status_code == 401
    assert unsigned.headers["content-type"] == PROBLEM
    assert unsigned.headers["www-authenticate"] == "Signature"
    assert "unsigned" in unsigned.json()["detail"]

    headers = sign_request(client.key, "POST", "/v1/inference", raw)
    tampered = client.http.post("/v1/inference", content=raw.replace(b"@", b"@1"), headers=headers)
    assert "Content-Digest" in tampered.json()["detail"]

    expired = client.post("/v1/inference", ask(net), now=time.time() - 600)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]

    path = f"/v1/models/digits/versions/{net.version}"
    headers = sign_request(client.key, "GET", path, b"")
    assert client.http.get(path, headers=headers).status_code == 200
    replayed = client.http.get(path, headers=headers)
    assert replayed.status_code == 401 and "replayed" in replayed.json()["detail"]
    other_path = client.http.get("/v1/models/digits", headers=headers)
    assert other_path.status_code == 401  # signed for another path


def test_rate_limits_and_quotas_answer_429_with_retry_after(gateway: Gateway) -> None:
    limited = Client(gateway_app(gateway, RequestVerifier(), RateLimiter(rate=0.01, burst=2)))
    codes = [limited.get("/v1/models/digits").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    metered = Client(gateway_app(gateway, RequestVerifier(), quota=Quota(limit=1)))
    assert metered.get("/v1/models/digits").status_code == 200
    refused = metered.get("/v1/models/digits")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "quota" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "status", "detail"),
    [
        ({"input": {"x": [[1.0, 2.0]]}}, 422, "takes 4"),
        ({"input": {"x": [ROW] * 65}}, 422, "input.x"),
        ({"input": {"x": []}}, 422, "input.x"),
        ({"model": "nothing@production"}, 404, "nothing"),
        ({"model": "digits@99"}, 404, "99"),
        ({"model": "digits; drop"}, 422, "model"),
        ({"mode": "mean"}, 422, "mode"),
        ({"extra": 1}, 422, "extra"),
    ],
)
def test_bad_requests_get_a_problem_naming_what_is_wrong(
    net: Net, client: Client, changes: dict[str, Any], status: int, detail: str
) -> None:
    before = net.env.oracle.chain.call(net.env.oracle.contract.functions.requestCount())
    response = client.post("/v1/inference", ask(net, **changes))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert detail in response.json()["detail"]
    after = net.env.oracle.chain.call(net.env.oracle.contract.functions.requestCount())
    assert after == before  # nothing was asked of the oracle, no fee spent


def test_non_finite_oversized_and_non_json_bodies(net: Net, client: Client) -> None:
    nan = json.dumps(ask(net)).replace("0.25", "NaN").encode()
    assert client.post("/v1/inference", nan).status_code == 422
    huge = b'{"model": "digits@3", "input": {"x": [[' + b"1.0," * 400_000 + b"1.0]]}}"
    oversized = client.post("/v1/inference", huge)
    assert oversized.status_code == 413 and oversized.headers["content-type"] == PROBLEM
    assert client.post("/v1/inference", b"not json").status_code == 422


def test_a_revoked_version_is_refused(net: Net, client: Client) -> None:
    net.env.registry.revoke(net.env.deployer, "digits", 2, "test: withdrawn")
    response = client.post("/v1/inference", ask(net, model="digits@2"))
    assert response.status_code == 409 and "revoked" in response.json()["detail"]


def test_without_wait_the_id_comes_back_and_can_be_polled(net: Net, client: Client) -> None:
    accepted = client.post("/v1/inference", ask(net, wait=False))
    assert accepted.status_code == 202
    location = accepted.headers["location"]
    assert location == f"/v1/requests/{accepted.json()['requestId']}"
    deadline = time.monotonic() + 120
    while (status := client.get(location).json())["status"] != "fulfilled":
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert "evidence" in status and len(status["answers"]) >= 3
    missing = client.get("/v1/requests/999999")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


def test_an_offline_provider_does_not_stop_the_quorum(
    net: Net, gateway: Gateway, client: Client
) -> None:
    offline = net.nodes[4]
    server = net.servers[offline.address]
    net.paused.add(offline.address)
    server.stop()
    try:
        response = client.post("/v1/inference", ask(net))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "fulfilled"
        recorded = {
            a["provider"] for a in client.get(f"/v1/requests/{body['requestId']}").json()["answers"]
        }
        assert offline.address not in recorded and len(recorded) == 4
    finally:
        assert offline.provider is not None
        from ledgerlearn.oracle import provider_app

        net.servers[offline.address] = HttpServer(
            provider_app(offline.provider), port=server.port
        ).start()
        net.paused.discard(offline.address)


def test_a_provider_reports_when_the_gateway_dies_after_gathering(net: Net) -> None:
    dying = net.gateway()
    dying.kill_after_gather = True  # it stops right after gathering, never reports
    outcome = dying.submit("did:key:test", f"digits@{net.version}", [ROW])
    deadline = time.monotonic() + 120
    while outcome.output is None:  # a quorum gathered
        assert time.monotonic() < deadline, "the gateway never gathered"
        time.sleep(0.2)
    dying.close()
    oracle = net.env.oracle
    while oracle.get_request(outcome.request_id).status.label != "fulfilled":
        assert time.monotonic() < deadline, "no provider reported"
        time.sleep(0.3)
    (event,) = oracle.events("InferenceFulfilled", requestId=outcome.request_id)
    drawn = set(oracle.selected(outcome.request_id))
    assert event["args"]["reporter"] in drawn
    assert event["args"]["reporter"] != dying.key.address


def test_a_node_drops_a_version_once_it_is_revoked(tmp_path: Path) -> None:
    env = build_oracle_env(tmp_path)
    with provider_net(env, tmp_path, block_seconds=3600) as running:
        node = running.nodes[0]
        assert node.provider is not None and node.provider.models
        running.stop.set()  # step it by hand from here
        time.sleep(0.5)
        env.registry.revoke(env.deployer, "digits", running.version, "test: withdrawn")
        node.step()
        assert not node.provider.models
        assert node.address not in env.oracle.providers_of("digits", running.version)
    env.chain.close()


def test_concurrent_requests_from_one_gateway_all_reach_the_oracle(
    net: Net, client: Client
) -> None:
    # Each request escrows a fee from the gateway's account; approvals must not race.
    from concurrent.futures import ThreadPoolExecutor

    clients = [Client(client.http.app) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda c: c.post("/v1/inference", ask(net, wait=False)), clients))
    assert [r.status_code for r in responses] == [202] * 4, [r.text for r in responses]
    assert len({r.json()["requestId"] for r in responses}) == 4
