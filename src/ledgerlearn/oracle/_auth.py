"""Request authentication for the gateway: HTTP Message Signatures by DID keys.

Every gateway request is signed by its client's DID, following RFC 9421 (HTTP Message
Signatures) with the body bound by an RFC 9530 ``Content-Digest``. The covered components
are fixed: ``("@method" "@path" "content-digest")``, with parameters ``created``,
``expires``, ``nonce`` and ``keyid`` (the client's DID) and ``alg``:

* ``ed25519`` (RFC 9421 §3.3.6) for a ``did:key`` Ed25519 identity;
* ``ecdsa-secp256k1-eip191`` (ours; RFC 9421 allows application-defined algorithms) for a
  ``did:ethr`` identity or a secp256k1 ``did:key``: a recoverable ECDSA signature over the
  EIP-191 personal-message hash of the signature base, so any Ethereum wallet can sign.
  For ``did:ethr`` the recovered address must be an authentication key of the DID document
  at the chain's latest block (the owner, or a live ``sigAuth`` delegate).

:class:`RequestVerifier` refuses, each with its own reason: a request without the three
headers, a body that does not match its digest, a signature over other components, one not
yet valid, expired, or valid for longer than ``max_lifetime``, a nonce seen before (kept
until the signature expires, so replay protection needs no unbounded memory), and a
signature that does not verify for the DID. :class:`RateLimiter` (a token bucket per
identity) and :class:`Quota` (requests per identity per window) limit what one identity
can extract from a model.

Trust assumption: the client's DID key, and the chain for did:ethr keys. Nonces, buckets
and quotas live in the gateway's memory: several gateway replicas each enforce their own.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys import keys

from ledgerlearn.exceptions import AuthenticationError, LedgerLearnError, RateLimitError
from ledgerlearn.identity import (
    EthrDidResolver,
    did_key_from_key,
    did_key_public_key,
    parse_ethr_did,
)
from ledgerlearn.keys import Ed25519Key, Secp256k1Key, verify_ed25519

__all__ = [
    "COVERED",
    "Quota",
    "RateLimiter",
    "RequestVerifier",
    "content_digest",
    "sign_request",
]

COVERED = ('"@method"', '"@path"', '"content-digest"')
"""The components every request signature covers, in order."""

ALG_ED25519 = "ed25519"
ALG_SECP256K1 = "ecdsa-secp256k1-eip191"

_INPUT = re.compile(
    r"^sig1=\((?P<components>[^)]*)\)"
    r";created=(?P<created>\d+);expires=(?P<expires>\d+)"
    r';nonce="(?P<nonce>[A-Za-z0-9_-]{8,64})";keyid="(?P<keyid>did:[a-z0-9]+:[^"]{1,200})"'
    r';alg="(?P<alg>[a-z0-9-]+)"$'
)
_SIGNATURE = re.compile(r"^sig1=:(?P<value>[A-Za-z0-9+/=]+):$")


def content_digest(body: bytes) -> str:
    """Return the RFC 9530 ``Content-Digest`` value of ``body`` (sha-256)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _params(created: int, expires: int, nonce: str, keyid: str, alg: str) -> str:
    return (
        f'({" ".join(COVERED)});created={created};expires={expires};nonce="{nonce}"'
        f';keyid="{keyid}";alg="{alg}"'
    )


def _base(method: str, path: str, digest: str, params: str) -> bytes:
    """Return the RFC 9421 signature base for the fixed components."""
    return (
        f'"@method": {method.upper()}\n"@path": {path}\n"content-digest": {digest}\n'
        f'"@signature-params": {params}'
    ).encode()


def sign_request(
    key: Ed25519Key | Secp256k1Key,
    method: str,
    path: str,
    body: bytes,
    *,
    did: str | None = None,
    lifetime: int = 60,
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return the headers that authenticate one request as ``did``.

    Parameters
    ----------
    key
        The DID's key: Ed25519 (``ed25519``) or secp256k1 (``ecdsa-secp256k1-eip191``).
    method, path, body
        The request.
    did
        The identity; the key's ``did:key`` by default (pass a ``did:ethr`` for a chain
        identity whose owner or ``sigAuth`` delegate ``key`` is).
    lifetime
        Seconds the signature stays valid.
    now, nonce
        For tests; the current time and a fresh random nonce by default.

    Returns
    -------
    dict[str, str]
        ``Content-Digest``, ``Signature-Input`` and ``Signature``.
    """
    created = int(time.time() if now is None else now)
    keyid = did or did_key_from_key(key)
    alg = ALG_ED25519 if isinstance(key, Ed25519Key) else ALG_SECP256K1
    params = _params(created, created + lifetime, nonce or secrets.token_urlsafe(16), keyid, alg)
    digest = content_digest(body)
    base = _base(method, path, digest, params)
    if isinstance(key, Ed25519Key):
        signature = key.sign(base)
    else:
        signed = Account.sign_message(encode_defunct(primitive=base), key.account.key)
        signature = bytes(signed.signature)
    return {
        "Content-Digest": digest,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{base64.b64encode(signature).decode()}:",
    }


@dataclass
class RequestVerifier:
    """Checks request signatures and remembers nonces until their signatures expire.

    Parameters
    ----------
    resolver
        Resolves ``did:ethr`` identities; without one, only ``did:key`` is accepted.
    chain_id
        The chain ``did:ethr`` identities must name.
    max_lifetime
        Longest validity a signature may claim, in seconds.
    skew
        Clock difference tolerated for ``created``, in seconds.
    clock
        Returns the current time (tests pass their own).
    cache_seconds
        How long a resolved did:ethr document is reused (0: resolve on every request). A
        revoked ``sigAuth`` delegate can sign for up to this long after its revocation.
    """

    resolver: EthrDidResolver | None = None
    chain_id: int | None = None
    max_lifetime: int = 300
    skew: int = 30
    clock: Callable[[], float] = time.time
    cache_seconds: float = 0.0
    _documents: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict, init=False)
    _seen: set[tuple[str, str]] = field(default_factory=set, init=False)
    _expiry: list[tuple[int, str, str]] = field(default_factory=list, init=False)  # a heap
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> str:
        """Return the DID that signed this request.

        Raises
        ------
        AuthenticationError
            With the reason: unsigned, digest mismatch, wrong components, not yet valid or
            expired, lifetime too long, replayed nonce, or a signature that does not verify.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        missing = [
            h for h in ("content-digest", "signature-input", "signature") if h not in lowered
        ]
        if missing:
            raise AuthenticationError(
                f"unsigned request: missing {', '.join(missing)}; sign it with your DID key "
                "(RFC 9421, see docs/oracle.md)"
            )
        if lowered["content-digest"] != content_digest(body):
            raise AuthenticationError("Content-Digest does not match the body")
        found = _INPUT.match(lowered["signature-input"])
        signature_found = _SIGNATURE.match(lowered["signature"])
        if found is None or signature_found is None:
            raise AuthenticationError(
                'malformed Signature-Input or Signature; expected sig1=("@method" "@path" '
                '"content-digest");created=…;expires=…;nonce="…";keyid="did:…";alg="…"'
            )
        if tuple(found["components"].split()) != COVERED:
            raise AuthenticationError(f"the signature must cover exactly {' '.join(COVERED)}")
        created, expires = int(found["created"]), int(found["expires"])
        now = self.clock()
        if created > now + self.skew:
            raise AuthenticationError("the signature is not valid yet (created in the future)")
        if expires <= now:
            raise AuthenticationError("the signature has expired; sign the request again")
        if expires - created > self.max_lifetime:
            raise AuthenticationError(
                f"the signature is valid for {expires - created} s; at most {self.max_lifetime}"
            )
        keyid, alg, nonce = found["keyid"], found["alg"], found["nonce"]
        params = _params(created, expires, nonce, keyid, alg)
        base = _base(method, path, lowered["content-digest"], params)
        signature = base64.b64decode(signature_found["value"])
        self._check_signature(keyid, alg, base, signature)
        with self._lock:
            while self._expiry and self._expiry[0][0] <= now:  # expired signatures fail anyway
                _, old_did, old_nonce = heapq.heappop(self._expiry)
                self._seen.discard((old_did, old_nonce))
            if (keyid, nonce) in self._seen:
                raise AuthenticationError("replayed request: this nonce was already used")
            self._seen.add((keyid, nonce))
            heapq.heappush(self._expiry, (expires, keyid, nonce))
        return keyid

    def _check_signature(self, did: str, alg: str, base: bytes, signature: bytes) -> None:
        try:
            if did.startswith("did:key:"):
                kind, public = did_key_public_key(did)
                if kind == "ed25519" and alg == ALG_ED25519:
                    verify_ed25519(public, base, signature)
                    return
                if kind == "secp256k1" and alg == ALG_SECP256K1:
                    signer = _recover(base, signature)
                    owner = keys.PublicKey.from_compressed_bytes(public).to_checksum_address()
                    if signer == owner:
                        return
                raise AuthenticationError(f"signature does not verify for {did} ({alg})")
            if did.startswith("did:ethr:") and alg == ALG_SECP256K1:
                self._check_ethr(did, _recover(base, signature))
                return
        except AuthenticationError:
            raise
        except (LedgerLearnError, ValueError) as exc:
            raise AuthenticationError(f"signature does not verify for {did}: {exc}") from exc
        raise AuthenticationError(f"{did} cannot sign with {alg}; use did:key or did:ethr")

    def _check_ethr(self, did: str, signer: str) -> None:
        if self.resolver is None:
            raise AuthenticationError("this gateway accepts did:key identities only")
        parsed = parse_ethr_did(did)
        if self.chain_id is not None and parsed.chain_id != self.chain_id:
            raise AuthenticationError(f"{did} is not an identity on chain {self.chain_id}")
        document = self._document(did)
        methods = {m["id"]: m for m in document.get("verificationMethod", [])}
        allowed = set()
        for ref in document.get("authentication", []):
            method = methods.get(ref) if isinstance(ref, str) else ref
            account = (method or {}).get("blockchainAccountId", "")
            if account:
                allowed.add(account.rsplit(":", 1)[-1].lower())
        if signer.lower() not in allowed:
            raise AuthenticationError(
                f"{signer} is not an authentication key of {did} (owner or sigAuth delegate)"
            )

    def _document(self, did: str) -> dict[str, Any]:
        assert self.resolver is not None
        now = self.clock()
        cached = self._documents.get(did)
        if cached is not None and cached[0] > now:
            return cached[1]
        document = dict(self.resolver.resolve(did).document)
        if self.cache_seconds > 0:
            if len(self._documents) > 10_000:  # bounded: drop the stale ones
                self._documents = {k: v for k, v in self._documents.items() if v[0] > now}
            self._documents[did] = (now + self.cache_seconds, document)
        return document


def _recover(base: bytes, signature: bytes) -> str:
    return str(Account.recover_message(encode_defunct(primitive=base), signature=signature))


@dataclass
class RateLimiter:
    """A token bucket per identity: ``rate`` requests per second, bursts up to ``burst``."""

    rate: float = 2.0
    burst: int = 10
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def take(self, identity: str) -> None:
        """Spend one token of ``identity``'s bucket.

        Raises
        ------
        RateLimitError
            With the seconds until a token is free.
        """
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(identity, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[identity] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimitError(f"{identity} is sending too fast; retry in {wait:.1f} s", wait)
            self._buckets[identity] = (tokens - 1.0, now)


@dataclass
class Quota:
    """At most ``limit`` requests per identity in each ``window`` seconds (fixed windows)."""

    limit: int = 1_000
    window: float = 86_400.0
    clock: Callable[[], float] = time.time
    _used: dict[str, tuple[int, int]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def spend(self, identity: str) -> int:
        """Count one request for ``identity``; return how many are left in the window.

        Raises
        ------
        RateLimitError
            When the window's quota is used up, with the seconds until the next window.
        """
        with self._lock:
            now = self.clock()
            current = int(now // self.window)
            window, used = self._used.get(identity, (current, 0))
            if window != current:
                window, used = current, 0
            if used >= self.limit:
                wait = (current + 1) * self.window - now
                raise RateLimitError(
                    f"{identity} used its {self.limit} requests for this period; "
                    f"the quota resets in {wait:.0f} s",
                    wait,
                )
            self._used[identity] = (window, used + 1)
            return self.limit - used - 1
