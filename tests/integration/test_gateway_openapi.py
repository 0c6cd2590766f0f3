"""Schemathesis fuzzes the gateway's OpenAPI document: no input makes it answer 5xx.

Two passes over every operation: one where an ASGI wrapper signs each generated request
with a DID key before it reaches the gateway (so the handlers, not only the authentication,
see the fuzzed bodies, paths and parameters), and one unsigned (every call must be refused
cleanly). The gateway runs on the embedded chain with a registered model; valid inference
calls really reach the oracle (no providers run, so they stay pending and are answered 202).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from ledgerlearn.gateway import Gateway, GatewayPolicy, gateway_app
from ledgerlearn.keys import Ed25519Key
from ledgerlearn.oracle import Quota, RateLimiter, RequestVerifier, sign_request
from tests.oracle_env import build_oracle_env
from tests.oracle_net import publish_mlp

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Signing:
    """ASGI wrapper: sign each request's method, path and body as a DID client would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.key = Ed25519Key.generate()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        signed = sign_request(self.key, scope["method"], scope["path"], body)
        kept = [(k, v) for k, v in scope["headers"] if k.decode().lower() not in _SIGNED]
        scope = {
            **scope,
            "headers": kept + [(k.lower().encode(), v.encode()) for k, v in signed.items()],
        }
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


_SIGNED = {"content-digest", "signature-input", "signature"}


def _gateway(tmp_path: Path) -> tuple[Any, Gateway]:
    env = build_oracle_env(tmp_path)
    version = publish_mlp(env, tmp_path)
    for key in env.providers[:5]:
        env.oracle.serve(key, "digits", version)
    gateway = Gateway(
        env.oracle,
        env.store,
        env.client,
        GatewayPolicy(fee=0, wait_seconds=0.0, retry_seconds=5.0),
    )
    app = gateway_app(
        gateway,
        RequestVerifier(),
        RateLimiter(rate=10_000, burst=10_000),
        Quota(limit=1_000_000),
    )
    return app, gateway


@pytest.fixture(scope="module")
def app_and_gateway(tmp_path_factory: pytest.TempPathFactory) -> Any:
    app, gateway = _gateway(tmp_path_factory.mktemp("openapi"))
    yield app, gateway
    gateway.close()
    gateway.chain.close()


def fuzz(app: Any, examples: int, check: Callable[[Any, Any], None]) -> int:
    """Run ``examples`` generated cases per operation through ``check``; return the count."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5, [op.label for op in operations]
    calls = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            check(case, case.call())

        run()
    return calls


@pytest.mark.slow
def test_signed_fuzzing_finds_no_server_error(app_and_gateway: Any) -> None:
    app, _ = app_and_gateway
    statuses: list[int] = []

    def check(case: Any, response: Any) -> None:
        not_a_server_error_check(case, response)
        statuses.append(response.status_code)

    assert fuzz(Signing(app), 60, check) >= 150
    assert {200, 202} & set(statuses), "no generated call got past validation"


@pytest.mark.slow
def test_unsigned_fuzzing_is_refused_cleanly(app_and_gateway: Any) -> None:
    app, _ = app_and_gateway

    def check(case: Any, response: Any) -> None:
        not_a_server_error_check(case, response)
        if case.path != "/v1/health":
            assert response.status_code in (401, 413, 422), response.text
            assert response.headers["content-type"] == ["application/problem+json"]

    fuzz(app, 15, check)


def not_a_server_error_check(case: Any, response: Any) -> None:
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
    case.validate_response(response, checks=[not_a_server_error])
