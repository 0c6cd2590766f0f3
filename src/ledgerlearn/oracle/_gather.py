"""Collecting answers: find drawn providers through their DID documents, ask, check, report.

A provider publishes its HTTP endpoint as an ERC-1056 service attribute
(``did/svc/InferenceProvider``), so its did:ethr document carries a service entry of type
:data:`SERVICE_TYPE`. :func:`gather_answers` resolves every provider drawn for a request,
asks each endpoint for its answer in parallel, and keeps only answers that name the provider
it asked and whose EIP-712 signature recovers to a key that provider authorised on chain;
every provider that gave nothing usable is listed with the reason. :func:`submit_report`
builds and sends the report: the gateway does this, and so can any drawn provider when the
gateway has not after a while — reporting is open to anyone because the contract checks it.

Trust assumption: endpoints and the network are untrusted (answers are verified here and
again on chain); DID documents are read from the chain.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from eth_utils import to_checksum_address

from ledgerlearn.identity import EthrDidRegistry, EthrDidResolver, attribute_name, ethr_did
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.oracle._answers import SignedAnswer, recover_answer_signer
from ledgerlearn.oracle._client import OracleClient, Report, build_report

__all__ = [
    "SERVICE_TYPE",
    "EndpointDirectory",
    "Gathered",
    "gather_answers",
    "provider_endpoint",
    "publish_endpoint",
    "submit_report",
]

SERVICE_TYPE = "InferenceProvider"
"""The DID service type under which a provider publishes its HTTP endpoint."""


def publish_endpoint(
    oracle: OracleClient,
    key: Secp256k1Key,
    url: str,
    *,
    identity: str | None = None,
    validity: int = 365 * 86400,
) -> None:
    """Publish ``url`` as the provider identity's ``InferenceProvider`` service entry."""
    identities = EthrDidRegistry(oracle.chain, oracle.deployment)
    identities.set_attribute(
        key,
        identity or key.address,
        attribute_name("svc", SERVICE_TYPE),
        url.rstrip("/").encode(),
        validity=validity,
    )


def provider_endpoint(resolver: EthrDidResolver, chain_id: int, provider: str) -> str | None:
    """Return the provider's ``InferenceProvider`` endpoint from its DID document, if any."""
    document = resolver.resolve(ethr_did(chain_id, provider)).document
    for service in document.get("service", []):
        if service.get("type") == SERVICE_TYPE:
            return str(service["serviceEndpoint"]).rstrip("/")
    return None


class EndpointDirectory:
    """Providers' endpoints from their DID documents, each kept for ``ttl`` seconds.

    Resolving a did:ethr document reads the identity's history from the chain; a gateway
    asking the same providers many times a second reads each endpoint once per ``ttl``
    (a provider that moves its endpoint is found again after at most that long).
    """

    def __init__(
        self,
        resolver: EthrDidResolver,
        chain_id: int,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.resolver, self.chain_id, self.ttl, self.clock = resolver, chain_id, ttl, clock
        self._known: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, provider: str) -> str | None:
        """Return ``provider``'s ``InferenceProvider`` endpoint, if it published one."""
        now = self.clock()
        with self._lock:
            known = self._known.get(provider)
        if known is not None and known[0] > now:
            return known[1]
        endpoint = provider_endpoint(self.resolver, self.chain_id, provider)
        with self._lock:
            self._known[provider] = (now + self.ttl, endpoint)
        return endpoint


@dataclass
class Gathered:
    """Verified answers by provider, and why each other drawn provider gave none."""

    answers: dict[str, SignedAnswer] = field(default_factory=dict)
    outputs: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def gather_answers(
    oracle: OracleClient,
    resolver: EthrDidResolver,
    request_id: int,
    *,
    timeout: float = 10.0,
    own: dict[str, SignedAnswer] | None = None,
    directory: EndpointDirectory | None = None,
) -> Gathered:
    """Ask every provider drawn for ``request_id`` for its answer and verify each.

    Parameters
    ----------
    oracle, resolver
        Chain access.
    request_id
        An open request.
    timeout
        Seconds per provider.
    own
        Answers already at hand (a reporting provider's own), not asked for again.
    directory
        Where endpoints are looked up (resolving each DID on every call by default).

    Returns
    -------
    Gathered
        Verified answers and the reason for every drawn provider without one.
    """
    request = oracle.get_request(request_id)
    registry_address = oracle.deployment.get_address("ModelRegistry")
    registry = oracle.chain.contract("ModelRegistry", registry_address)
    gathered = Gathered(answers=dict(own or {}))
    drawn = [to_checksum_address(p) for p in oracle.selected(request_id)]
    wanted = [p for p in drawn if p not in gathered.answers]

    def ask(provider: str) -> tuple[str, SignedAnswer | None, bytes, str]:
        if directory is not None:
            endpoint = directory(provider)
        else:
            endpoint = provider_endpoint(resolver, oracle.chain.chain_id, provider)
        if endpoint is None:
            return provider, None, b"", "no InferenceProvider service in its DID document"
        try:
            with httpx.Client(timeout=timeout) as http:
                response = http.post(f"{endpoint}/v1/answers", json={"requestId": request_id})
            if response.status_code != 200:
                detail = response.json().get("detail", response.text)
                return provider, None, b"", f"HTTP {response.status_code}: {detail}"
            body = response.json()
            answer = SignedAnswer.from_json(body["answer"])
            output = json.dumps(body["output"], sort_keys=True, separators=(",", ":")).encode()
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            return provider, None, b"", f"no usable answer from {endpoint}: {exc}"
        if answer.provider != provider:
            return provider, None, b"", f"the endpoint answered for {answer.provider}"
        if hashlib.sha256(output).digest() != answer.output_hash:
            return provider, None, b"", "its output does not hash to the signed output hash"
        signer = recover_answer_signer(
            oracle.domain, request_id, request.model_hash, request.input_hash, answer
        )
        if not oracle.chain.call(registry.functions.isSigner(provider, signer)):
            return provider, None, b"", f"signed by {signer}, not a key of the provider"
        return provider, answer, output, ""

    if wanted:
        with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
            for provider, answer, output, reason in pool.map(ask, wanted):
                if answer is None:
                    gathered.failures[provider] = reason
                else:
                    gathered.answers[provider] = answer
                    gathered.outputs[provider] = output
    return gathered


def submit_report(
    oracle: OracleClient, key: Secp256k1Key, gathered: Gathered, request_id: int
) -> Report:
    """Build the report from ``gathered`` and send it with ``key``; return the report.

    Raises
    ------
    ReportError
        Too few answers, or no agreeing quorum.
    """
    request = oracle.get_request(request_id)
    report = build_report(request, oracle.selected(request_id), list(gathered.answers.values()))
    oracle.fulfil(key, report)
    return report
