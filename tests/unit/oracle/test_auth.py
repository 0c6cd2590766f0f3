"""Gateway request authentication (RFC 9421 signatures by DID keys), rate limits, quotas."""

from __future__ import annotations

import hashlib

import pytest

from ledgerlearn.exceptions import AuthenticationError, RateLimitError
from ledgerlearn.identity import EthrDidRegistry, EthrDidResolver, did_key_from_key, ethr_did
from ledgerlearn.keys import Ed25519Key, Secp256k1Key
from ledgerlearn.oracle import Quota, RateLimiter, RequestVerifier, sign_request
from tests.conftest import Deployment

NOW = 1_800_000_000.0
BODY = b'{"model": "digits@production", "input": {"x": [[0, 1, 2, 3]]}}'


def verifier(**kwargs: object) -> RequestVerifier:
    return RequestVerifier(clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def ed_key() -> Ed25519Key:
    return Ed25519Key.from_secret(hashlib.sha256(b"client").digest())


def test_a_did_key_request_verifies_once() -> None:
    key = ed_key()
    headers = sign_request(key, "POST", "/v1/inference", BODY, now=NOW)
    check = verifier()
    assert check.verify("POST", "/v1/inference", headers, BODY) == did_key_from_key(key)
    with pytest.raises(AuthenticationError, match="replayed"):
        check.verify("POST", "/v1/inference", headers, BODY)


def test_a_secp256k1_did_key_verifies() -> None:
    key = Secp256k1Key.from_secret(hashlib.sha256(b"wallet").digest())
    headers = sign_request(key, "GET", "/v1/requests/4", b"", now=NOW)
    assert verifier().verify("GET", "/v1/requests/4", headers, b"") == did_key_from_key(key)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: ({}, b), "unsigned request: missing content-digest"),
        (lambda h, b: (h, b + b" "), "Content-Digest does not match"),
        (
            lambda h, b: ({**h, "Signature-Input": h["Signature-Input"].replace("@path", "@x")}, b),
            "must cover exactly",
        ),
        (lambda h, b: ({**h, "Signature": "sig1=:AAAA:"}, b), "does not verify"),
        (lambda h, b: ({**h, "Signature": "nonsense"}, b), "malformed"),
    ],
)
def test_tampered_or_unsigned_requests_are_refused(change: object, reason: str) -> None:
    headers = sign_request(ed_key(), "POST", "/v1/inference", BODY, now=NOW)
    changed_headers, changed_body = change(headers, BODY)  # type: ignore[operator]
    with pytest.raises(AuthenticationError, match=reason):
        verifier().verify("POST", "/v1/inference", changed_headers, changed_body)


def test_the_signature_binds_method_and_path() -> None:
    headers = sign_request(ed_key(), "POST", "/v1/inference", BODY, now=NOW)
    with pytest.raises(AuthenticationError, match="does not verify"):
        verifier().verify("PUT", "/v1/inference", headers, BODY)
    with pytest.raises(AuthenticationError, match="does not verify"):
        verifier().verify("POST", "/v1/models/digits", headers, BODY)


def test_time_window_is_enforced() -> None:
    key = ed_key()
    late = sign_request(key, "POST", "/v1/inference", BODY, now=NOW - 120, lifetime=60)
    with pytest.raises(AuthenticationError, match="expired"):
        verifier().verify("POST", "/v1/inference", late, BODY)
    early = sign_request(key, "POST", "/v1/inference", BODY, now=NOW + 600)
    with pytest.raises(AuthenticationError, match="not valid yet"):
        verifier().verify("POST", "/v1/inference", early, BODY)
    forever = sign_request(key, "POST", "/v1/inference", BODY, now=NOW, lifetime=86_400)
    with pytest.raises(AuthenticationError, match="at most 300"):
        verifier().verify("POST", "/v1/inference", forever, BODY)


def test_did_ethr_accepts_the_owner_and_sigauth_delegates_only(deployment: Deployment) -> None:
    chain = deployment.chain
    registry = deployment.manifest.get_address("IdentityRegistry")
    resolver = EthrDidResolver.at(chain, registry)
    owner = deployment.alice
    did = ethr_did(chain.chain_id, owner.address)
    check = RequestVerifier(resolver=resolver, chain_id=chain.chain_id)
    headers = sign_request(owner, "POST", "/v1/inference", BODY, did=did)
    assert check.verify("POST", "/v1/inference", headers, BODY) == did
    hot = Secp256k1Key.from_secret(hashlib.sha256(b"hot key").digest())
    refused = sign_request(hot, "POST", "/v1/inference", BODY, did=did)
    with pytest.raises(AuthenticationError, match="not an authentication key"):
        check.verify("POST", "/v1/inference", refused, BODY)
    identities = EthrDidRegistry.at(chain, registry)
    identities.add_delegate(owner, owner.address, hot.address, delegate_type="sigAuth")
    allowed = sign_request(hot, "POST", "/v1/inference", BODY, did=did)
    assert check.verify("POST", "/v1/inference", allowed, BODY) == did
    identities.revoke_delegate(owner, owner.address, hot.address, delegate_type="sigAuth")
    again = sign_request(hot, "POST", "/v1/inference", BODY, did=did)
    with pytest.raises(AuthenticationError, match="not an authentication key"):
        check.verify("POST", "/v1/inference", again, BODY)
    other_chain = RequestVerifier(resolver=resolver, chain_id=1)
    with pytest.raises(AuthenticationError, match="not an identity on chain 1"):
        other_chain.verify(
            "POST",
            "/v1/inference",
            sign_request(owner, "POST", "/v1/inference", BODY, did=did),
            BODY,
        )
    key_only = RequestVerifier()
    with pytest.raises(AuthenticationError, match="did:key identities only"):
        key_only.verify(
            "POST",
            "/v1/inference",
            sign_request(owner, "POST", "/v1/inference", BODY, did=did),
            BODY,
        )


def test_rate_limit_refills_and_quota_resets() -> None:
    clock = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: clock[0])
    for _ in range(3):
        limiter.take("did:key:a")
    with pytest.raises(RateLimitError, match="too fast") as raised:
        limiter.take("did:key:a")
    assert raised.value.retry_after == pytest.approx(0.5)
    limiter.take("did:key:b")  # per identity
    clock[0] += 0.5
    limiter.take("did:key:a")
    quota = Quota(limit=2, window=100.0, clock=lambda: clock[0])
    assert [quota.spend("did:key:a"), quota.spend("did:key:a")] == [1, 0]
    with pytest.raises(RateLimitError, match="resets in"):
        quota.spend("did:key:a")
    clock[0] = 100.0
    assert quota.spend("did:key:a") == 1


def test_did_ethr_documents_are_cached_for_cache_seconds(deployment: Deployment) -> None:
    chain = deployment.chain
    registry = deployment.manifest.get_address("IdentityRegistry")
    owner = deployment.alice
    did = ethr_did(chain.chain_id, owner.address)
    now = [NOW]
    check = RequestVerifier(
        resolver=EthrDidResolver.at(chain, registry),
        chain_id=chain.chain_id,
        clock=lambda: now[0],
        cache_seconds=10,
    )
    hot = Secp256k1Key.from_secret(hashlib.sha256(b"cached hot key").digest())
    identities = EthrDidRegistry.at(chain, registry)
    identities.add_delegate(owner, owner.address, hot.address, delegate_type="sigAuth")

    def signed() -> dict[str, str]:
        return sign_request(hot, "POST", "/v1/inference", BODY, did=did, now=now[0])

    assert check.verify("POST", "/v1/inference", signed(), BODY) == did
    identities.revoke_delegate(owner, owner.address, hot.address, delegate_type="sigAuth")
    # Within the cache window the revoked delegate still verifies (documented bound) ...
    assert check.verify("POST", "/v1/inference", signed(), BODY) == did
    now[0] += 11  # ... and not after it.
    with pytest.raises(AuthenticationError, match="not an authentication key"):
        check.verify("POST", "/v1/inference", signed(), BODY)
