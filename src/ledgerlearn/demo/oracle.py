"""Demo section: inference through the oracle — five providers, one liar, a gateway, evidence.

Five provider nodes stake, register VRF keys, publish their HTTP endpoints in their DID
documents and serve the model governance just promoted (each verifies it against the
registry first); one of them lies. Governance sets a review threshold for the model. Two
clients — a did:key and a did:ethr identity — sign their calls to the gateway, which asks
the oracle; the beacon draws the providers, their signed answers are gathered and one
report settles each request on chain. The liar is outvoted and its deviation recorded, a
result above the threshold asks for review, and the evidence trail of one answer is
rebuilt from the chain and the store and verified.

Trust assumption: as each layer's; nothing here is mocked (the liar is a real provider
signing wrong answers).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from typing import Any

import httpx
import numpy as np
from web3.types import Wei

from ledgerlearn._http import HttpServer
from ledgerlearn.demo._context import DemoContext
from ledgerlearn.devnet import LocalProviders
from ledgerlearn.exceptions import OracleError
from ledgerlearn.gateway import Gateway, GatewayPolicy, gateway_app
from ledgerlearn.governance import Governance
from ledgerlearn.identity import EthrDidResolver, did_key_from_key, ethr_did
from ledgerlearn.keys import Ed25519Key, Secp256k1Key
from ledgerlearn.learning.datasets import load_dataset
from ledgerlearn.oracle import (
    VALUE_SCALE,
    OracleClient,
    RequestVerifier,
    sign_request,
)
from ledgerlearn.provenance import verify_inference
from ledgerlearn.storage import LocalContentStore

__all__ = ["section", "provider_keys"]

TOKEN = 10**18
REVIEW_AT = 0.5
"""Results of the median query (P(last class)) at or above this ask for review."""


def provider_keys() -> list[Secp256k1Key]:
    """Return the demo's five provider identities (deterministic: a rerun finds the same)."""
    return [
        Secp256k1Key.from_secret(hashlib.sha256(f"demo provider {i}".encode()).digest())
        for i in range(5)
    ]


def section(
    ctx: DemoContext,
    *,
    model: str = "mnist-mlp",
    dataset: str = "mnist",
) -> None:
    """Run the inference part of the demo on ``model@production``.

    Parameters
    ----------
    ctx
        The demo's chain, deployment, directory, printer and report.
    model, dataset
        The promoted model and the dataset whose test images are asked about.
    """
    chain, manifest, workdir, say, report = ctx.parts()
    started = time.perf_counter()
    shutil.rmtree(workdir / "providers", ignore_errors=True)  # a fresh chain each run
    store = LocalContentStore(workdir / "store")
    deployer, member, gateway_account = chain.accounts[0], chain.accounts[1], chain.accounts[2]
    oracle = OracleClient(chain, manifest)
    token = oracle.token.functions
    keys = provider_keys()
    for key in keys:
        chain.sender(deployer).send({"to": key.address, "value": Wei(10 * 10**18)})
    for address in [*(k.address for k in keys), gateway_account.address]:
        chain.sender(deployer).transact(token.transfer(address, 2_000 * TOKEN))

    gov = Governance(chain, manifest, store)
    proposal = gov.propose_review_threshold(
        deployer,
        model,
        int(REVIEW_AT * VALUE_SCALE),
        description=f"Review {model} answers whose P(last class) is at least {REVIEW_AT}",
    )
    gov.pass_proposal(proposal, [deployer], deployer)
    say(
        f"governance: review threshold P ≥ {REVIEW_AT} for {model} set by proposal "
        f"{str(proposal)[:10]}… ({gov.status(proposal).state})"
    )

    providers = LocalProviders(
        chain,
        manifest,
        store,
        keys,
        [f"{model}@production"],
        workdir / "providers",
        stake=200 * TOKEN,
        report_after=30.0,
        dishonest={4},
    )
    nodes = providers.nodes
    assert nodes[0].provider is not None
    (loaded,) = nodes[0].provider.models.values()
    liar = nodes[4].address
    say(
        f"5 providers serve {model}@production = v{loaded.version} (sha256 "
        f"{loaded.artifact_sha256.hex()[:12]}…, verified against the registry), each "
        f"staked 200 LLT with a VRF key and an endpoint in its DID document; "
        f"{liar[:10]}… lies"
    )
    with contextlib.ExitStack() as running:
        running.enter_context(providers)  # with a block clock: the embedded chain mines only
        # on transactions, and seed blocks and deadlines count blocks
        gateway = Gateway(
            oracle,
            store,
            gateway_account,
            GatewayPolicy(deadline_blocks=2_000, fee=TOKEN, wait_seconds=120.0),
        )
        resolver = EthrDidResolver(chain, manifest)
        verifier = RequestVerifier(resolver=resolver, chain_id=chain.chain_id, cache_seconds=10)
        front = HttpServer(gateway_app(gateway, verifier)).start()
        running.callback(front.stop)
        say(f"gateway listening on {front.url}, paying 1 LLT per request, k=5, quorum 3")

        data = load_dataset(dataset)
        images = np.asarray(data.x_test, dtype=np.float32)
        labels = np.asarray(data.y_test)
        alice = Ed25519Key.from_secret(hashlib.sha256(b"demo client alice").digest())
        member_did = ethr_did(chain.chain_id, member.address)
        clients: list[tuple[Any, str | None, str]] = [
            (alice, None, did_key_from_key(alice)),
            (member, member_did, member_did),
        ]
        last = int(data.num_classes) - 1
        asks = [(int(i), "majority") for i in range(3)]
        asks.append((int(np.flatnonzero(labels == last)[0]), "median"))
        settled: list[dict[str, Any]] = []
        for n, (index, mode) in enumerate(asks):
            key, did, name = clients[n % 2]
            body = {
                "model": f"{model}@production",
                "input": {"x": [[round(float(v), 6) for v in images[index]]]},
                "mode": mode,
                "tolerance": 50_000 if mode == "median" else 0,
            }
            asked = time.perf_counter()
            answer = _ask(front.url, key, did, body)
            settled.append(answer)
            took = time.perf_counter() - asked
            shown = (
                f"label {answer['result']}"
                if mode == "majority"
                else f"P(digit {last}) = {answer['result']:.3f}"
            )
            say(
                f"  request {answer['requestId']} by {name[:24]}…: test image {index} "
                f"(true {int(labels[index])}) → {shown} ({answer['status']} in {took:.1f} s)"
            )

        stats = oracle.stats_of(liar)
        say(
            f"liar {liar[:10]}… outvoted: {stats['deviated']} of {stats['answered']} answers "
            f"recorded as deviating, fees earned {stats['fees'] / TOKEN:.2f} LLT; honest "
            + ", ".join(
                f"{n.address[:8]}… {oracle.stats_of(n.address)['fees'] / TOKEN:.2f}"
                for n in nodes[:4]
            )
        )
        reviews = [
            (answer["requestId"], str(event["args"]["reason"]))
            for answer in settled
            for event in oracle.events("ReviewRequested", requestId=answer["requestId"])
        ]
        say("review events: " + (", ".join(f"request {r} ({why})" for r, why in reviews) or "none"))

        gateway.close()
        front.stop()
        providers.stop()  # every request is settled: stop the providers and the clock
        chosen = settled[0]["requestId"]
        evidence, checks = verify_inference(chain, manifest, store, chosen)
        say(f"evidence trail of request {chosen}, from the chain and the store alone:")
        say(
            f"  model {evidence.model}@{evidence.version} sha256 {evidence.model_hash[:14]}… "
            f"published by {evidence.publisher[:10]}…, asked as {evidence.asked}"
        )
        for answer in evidence.answers:
            say(
                f"  {answer['provider'][:10]}… value {answer['value']} "
                f"{'agreed' if answer['agreed'] else 'deviated ' + str(answer['deviation'])}"
            )
        for check in checks:
            say(f"  {'✓' if check.ok else '✗'} {check.name}: {check.detail}")
        failed = [c.name for c in checks if not c.ok]
        say(
            ("evidence verified" if not failed else f"evidence FAILED: {', '.join(failed)}")
            + f"; inference section took {time.perf_counter() - started:.0f} s"
        )
        report.add(
            "inference oracle",
            requests=settled,
            liar=liar,
            liarStats=stats,
            reviews=reviews,
            evidence=evidence.to_json(),
            checks=[{"name": c.name, "ok": c.ok} for c in checks],
            seconds=round(time.perf_counter() - started, 1),
        )


def _ask(url: str, key: Any, did: str | None, body: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    headers = sign_request(key, "POST", "/v1/inference", raw, did=did)
    headers["content-type"] = "application/json"
    response = httpx.post(f"{url}/v1/inference", content=raw, headers=headers, timeout=180)
    if response.status_code != 200:
        raise OracleError(f"the gateway answered {response.status_code}: {response.text}")
    answer: dict[str, Any] = response.json()
    return answer
