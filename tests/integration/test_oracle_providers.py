"""Providers behind real HTTP servers on loopback, found through their DID documents (anvil)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ledgerlearn.identity import EthrDidResolver
from ledgerlearn.ledger import Chain, DevnetBackend
from ledgerlearn.oracle import (
    Mode,
    Provider,
    gather_answers,
    load_model,
    provider_app,
    provider_endpoint,
    publish_endpoint,
    submit_report,
)
from tests.oracle_env import build_oracle_env
from tests.oracle_net import ROW, publish_mlp, serving


@pytest.mark.slow
def test_answers_are_gathered_from_did_endpoints_and_any_provider_can_report(
    tmp_path: Path,
) -> None:
    with Chain(DevnetBackend()) as chain:
        env = build_oracle_env(tmp_path, chain)
        publish_mlp(env, tmp_path)
        for key in env.providers:
            env.oracle.serve(key, "digits", 3)
        model = load_model(env.registry, "digits", 3)
        payload = json.dumps({"x": [ROW]}).encode()
        spec = env.spec(
            version=3,
            mode=Mode.MAJORITY,
            input_sha256=hashlib.sha256(payload).digest(),
            input_cid=str(env.store.put(payload)),
        )
        request_id, drawn = env.drawn(spec)
        providers = {k.address: Provider(k, env.oracle, env.store, [model]) for k in drawn}
        impostor = drawn[1]  # its endpoint serves another provider's answers
        offline = drawn[4]  # publishes an endpoint nobody listens on
        with (
            serving(provider_app(providers[drawn[0].address])) as url0,
            serving(provider_app(providers[drawn[0].address])) as url_impostor,
            serving(provider_app(providers[drawn[2].address])) as url2,
            serving(provider_app(providers[drawn[3].address])) as url3,
        ):
            urls = {
                drawn[0].address: url0,
                impostor.address: url_impostor,
                drawn[2].address: url2,
                drawn[3].address: url3,
                offline.address: "http://127.0.0.1:9",
            }
            for key in drawn:
                publish_endpoint(env.oracle, key, urls[key.address])
            resolver = EthrDidResolver(chain, env.oracle.deployment)
            assert provider_endpoint(resolver, chain.chain_id, drawn[2].address) == url2
            gathered = gather_answers(env.oracle, resolver, request_id, timeout=3)
        assert sorted(gathered.answers) == sorted(k.address for k in (drawn[0], *drawn[2:4]))
        assert "answered for" in gathered.failures[impostor.address]
        assert "no usable answer" in gathered.failures[offline.address]
        # The gateway never reports: one of the drawn providers does.
        report = submit_report(env.oracle, drawn[2], gathered, request_id)
        settled = env.oracle.get_request(request_id)
        assert settled.status.label == "fulfilled" and settled.result == report.result
        (event,) = env.oracle.events("InferenceFulfilled", requestId=request_id)
        assert event["args"]["reporter"] == drawn[2].address
        assert int(event["args"]["agreeing"]) == 3
