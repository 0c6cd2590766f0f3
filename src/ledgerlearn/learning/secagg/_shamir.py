"""Shamir secret sharing over the Mersenne prime field GF(2^521 - 1).

Shamir, "How to Share a Secret", CACM 22(11), 1979. A secret below the prime is the constant
term of a random polynomial of degree ``threshold - 1``; share ``x`` is the polynomial at
``x``; any ``threshold`` shares give the secret back by Lagrange interpolation at 0 and
fewer reveal nothing about it.

Trust assumption: coefficients come from the operating system's CSPRNG (``secrets``), or,
when the caller needs to reproduce a sharing bit for bit (a restarted node re-sealing the
same shares under the same keys), from a ChaCha20 keystream under a secret 32-byte key;
fewer than ``threshold`` colluding holders learn nothing. Shares are not authenticated
here — the protocol that carries them encrypts and authenticates them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

__all__ = ["PRIME", "Share", "combine", "split"]

PRIME = (1 << 521) - 1
"""2^521 - 1: large enough for a 256-bit key or seed, and prime."""

Share = tuple[int, int]
"""``(x, y)``: the holder's non-zero point and the polynomial's value there."""


def _field_elements(key: bytes) -> Iterator[int]:
    """Yield uniform elements of GF(PRIME) from the ChaCha20 keystream under ``key``.

    Each draw takes 66 bytes, keeps the low 521 bits and rejects values >= PRIME (odds
    2^-521), so there is no modulo bias.
    """
    stream = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    mask = (1 << PRIME.bit_length()) - 1
    while True:
        value = int.from_bytes(stream.update(bytes(66)), "big") & mask
        if value < PRIME:
            yield value


def split(
    secret: int, points: Sequence[int], threshold: int, *, key: bytes | None = None
) -> list[Share]:
    """Share ``secret`` so that any ``threshold`` of the shares recover it.

    Parameters
    ----------
    secret
        An integer in ``[0, PRIME)``.
    points
        Distinct non-zero x-coordinates, one per holder.
    threshold
        Shares needed to recover; ``1 <= threshold <= len(points)``.
    key
        If given, a secret 32-byte key whose ChaCha20 keystream supplies the coefficients
        (same key, same shares); by default the operating system's CSPRNG.

    Returns
    -------
    list[Share]
        One share per point, in the order given.

    Raises
    ------
    ValueError
        If the secret is out of range, a point repeats or is zero, or the threshold does
        not fit.
    """
    if not 0 <= secret < PRIME:
        raise ValueError("secret must be in [0, 2^521 - 1)")
    if len(set(points)) != len(points) or any(p % PRIME == 0 for p in points):
        raise ValueError("share points must be distinct and non-zero")
    if not 1 <= threshold <= len(points):
        raise ValueError(f"threshold {threshold} must be in [1, {len(points)}]")
    if key is None:
        randoms = [secrets.randbelow(PRIME) for _ in range(threshold - 1)]
    else:
        draws = _field_elements(key)
        randoms = [next(draws) for _ in range(threshold - 1)]
    coefficients = [secret, *randoms]
    shares = []
    for x in points:
        y = 0
        for coefficient in reversed(coefficients):  # Horner
            y = (y * x + coefficient) % PRIME
        shares.append((x % PRIME, y))
    return shares


def combine(shares: Sequence[Share]) -> int:
    """Recover the secret from ``threshold`` (or more) shares.

    With more shares than the threshold the result is still the secret; with fewer it is
    an unrelated number, which the caller detects by what the secret must open.

    Parameters
    ----------
    shares
        Shares with distinct x-coordinates.

    Returns
    -------
    int
        The polynomial's value at 0.

    Raises
    ------
    ValueError
        If no shares are given or two share a point.
    """
    if not shares:
        raise ValueError("no shares to combine")
    xs = [x for x, _ in shares]
    if len(set(xs)) != len(xs):
        raise ValueError("two shares have the same point")
    secret = 0
    for i, (xi, yi) in enumerate(shares):
        numerator, denominator = 1, 1
        for j, xj in enumerate(xs):
            if i != j:
                numerator = numerator * -xj % PRIME
                denominator = denominator * (xi - xj) % PRIME
        secret = (secret + yi * numerator * pow(denominator, -1, PRIME)) % PRIME
    return secret
