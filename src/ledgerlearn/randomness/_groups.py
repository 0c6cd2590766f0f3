"""Elliptic-curve groups for ECVRF: secp256k1 through libsecp256k1, P-256 in pure Python.

ECVRF needs point encoding (SEC1 compressed), decoding, addition, negation and scalar
multiplication. :class:`Secp256k1Group` does every multiplication in libsecp256k1
(coincurve), which is constant-time for secret scalars. :class:`WeierstrassGroup` is a plain
affine/Jacobian implementation used for the P-256 suite, whose role is to prove the generic
ECVRF code against RFC 9381's test vectors; it is **not** constant-time, so production keys
use secp256k1.

Trust assumption: none; all inputs are validated (points on the curve, not the identity).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import coincurve

__all__ = ["P256", "SECP256K1", "Group", "Point", "Secp256k1Group", "WeierstrassGroup"]


@dataclass(frozen=True, slots=True)
class Point:
    """An affine curve point; ``None`` coordinates are never used (the identity is invalid)."""

    x: int
    y: int


class Group(ABC):
    """A prime-order elliptic-curve group with SEC1 compressed encoding."""

    name: str
    p: int
    n: int
    a: int
    b: int
    g: Point

    @property
    def field_bytes(self) -> int:
        """Bytes of a field element (fLen)."""
        return (self.p.bit_length() + 7) // 8

    def is_on_curve(self, point: Point) -> bool:
        """Return whether ``point`` satisfies the curve equation.

        Parameters
        ----------
        point
            The point.

        Returns
        -------
        bool
            True for a valid affine point.
        """
        if not (0 <= point.x < self.p and 0 <= point.y < self.p):
            return False
        return (point.y * point.y - point.x**3 - self.a * point.x - self.b) % self.p == 0

    def encode(self, point: Point) -> bytes:
        """SEC1 compressed encoding (``point_to_string``).

        Parameters
        ----------
        point
            The point.

        Returns
        -------
        bytes
            ``02``/``03`` then x.
        """
        return bytes([2 + (point.y & 1)]) + point.x.to_bytes(self.field_bytes, "big")

    def decode(self, data: bytes) -> Point | None:
        """Decode a compressed point (``string_to_point``); ``None`` if invalid.

        Parameters
        ----------
        data
            ``fLen + 1`` bytes.

        Returns
        -------
        Point | None
            The point, or ``None`` if the bytes are not a point on the curve.
        """
        if len(data) != self.field_bytes + 1 or data[0] not in (2, 3):
            return None
        x = int.from_bytes(data[1:], "big")
        if x >= self.p:
            return None
        rhs = (x * x * x + self.a * x + self.b) % self.p
        y = pow(rhs, (self.p + 1) // 4, self.p)  # both curves have p = 3 mod 4
        if y * y % self.p != rhs:
            return None
        if (y & 1) != (data[0] & 1):
            y = self.p - y
        return Point(x, y)

    def _reduce(self, scalar: int) -> int:
        """Reduce a scalar modulo n, refusing multiples of n (they give the identity)."""
        scalar %= self.n
        if scalar == 0:
            raise ValueError("scalar multiple is the identity")
        return scalar

    @abstractmethod
    def mul(self, scalar: int, point: Point) -> Point:
        """Return ``scalar * point`` (scalar in ``[1, n-1]``)."""

    @abstractmethod
    def add(self, left: Point, right: Point) -> Point | None:
        """Return ``left + right``; ``None`` for the identity."""

    def base_mul(self, scalar: int) -> Point:
        """Return ``scalar * G``.

        Parameters
        ----------
        scalar
            In ``[1, n-1]``.

        Returns
        -------
        Point
            The product.
        """
        return self.mul(scalar, self.g)

    def neg(self, point: Point) -> Point:
        """Return ``-point``.

        Parameters
        ----------
        point
            The point.

        Returns
        -------
        Point
            Its negation.
        """
        return Point(point.x, (-point.y) % self.p)


class WeierstrassGroup(Group):
    """Short-Weierstrass arithmetic in Python integers (variable time).

    Parameters
    ----------
    name, p, n, a, b, gx, gy
        Curve name, field prime, group order, coefficients and generator.
    """

    def __init__(self, name: str, p: int, n: int, a: int, b: int, gx: int, gy: int) -> None:
        self.name, self.p, self.n, self.a, self.b = name, p, n, a, b
        self.g = Point(gx, gy)

    def add(self, left: Point, right: Point) -> Point | None:
        """Affine addition.

        Parameters
        ----------
        left, right
            Points.

        Returns
        -------
        Point | None
            The sum, ``None`` for the identity.
        """
        p = self.p
        if left.x == right.x:
            if (left.y + right.y) % p == 0:
                return None
            slope = (3 * left.x * left.x + self.a) * pow(2 * left.y, -1, p) % p
        else:
            slope = (right.y - left.y) * pow(right.x - left.x, -1, p) % p
        x = (slope * slope - left.x - right.x) % p
        return Point(x, (slope * (left.x - x) - left.y) % p)

    def mul(self, scalar: int, point: Point) -> Point:
        """Double-and-add in Jacobian coordinates.

        Parameters
        ----------
        scalar
            In ``[1, n-1]``.
        point
            The point.

        Returns
        -------
        Point
            ``scalar * point``.
        """
        scalar = self._reduce(scalar)
        p = self.p
        rx, ry, rz = 0, 1, 0  # identity
        px, py = point.x, point.y
        for bit in bin(scalar)[2:]:
            rx, ry, rz = self._double(rx, ry, rz)
            if bit == "1":
                rx, ry, rz = self._add_affine(rx, ry, rz, px, py)
        zinv = pow(rz, -1, p)
        return Point(rx * zinv * zinv % p, ry * zinv * zinv * zinv % p)

    def _double(self, x: int, y: int, z: int) -> tuple[int, int, int]:
        p = self.p
        if z == 0 or y == 0:
            return 0, 1, 0
        ysq = y * y % p
        s = 4 * x * ysq % p
        m = (3 * x * x + self.a * pow(z, 4, p)) % p
        nx = (m * m - 2 * s) % p
        ny = (m * (s - nx) - 8 * ysq * ysq) % p
        return nx, ny, 2 * y * z % p

    def _add_affine(self, x: int, y: int, z: int, px: int, py: int) -> tuple[int, int, int]:
        p = self.p
        if z == 0:
            return px, py, 1
        z2 = z * z % p
        u2 = px * z2 % p
        s2 = py * z2 * z % p
        if u2 == x:
            return self._double(x, y, z) if s2 == y else (0, 1, 0)
        h = (u2 - x) % p
        r = (s2 - y) % p
        h2 = h * h % p
        h3 = h * h2 % p
        nx = (r * r - h3 - 2 * x * h2) % p
        ny = (r * (x * h2 - nx) - y * h3) % p
        return nx, ny, h * z % p


class Secp256k1Group(Group):
    """secp256k1 with every multiplication and addition in libsecp256k1 (constant-time)."""

    name = "secp256k1"
    p = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    a = 0
    b = 7
    g = Point(
        0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
        0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
    )

    @staticmethod
    def _key(point: Point) -> coincurve.PublicKey:
        return coincurve.PublicKey.from_point(point.x, point.y)

    @staticmethod
    def _point(key: coincurve.PublicKey) -> Point:
        x, y = key.point()
        return Point(x, y)

    def mul(self, scalar: int, point: Point) -> Point:
        """``scalar * point`` in libsecp256k1.

        Parameters
        ----------
        scalar
            In ``[1, n-1]``.
        point
            The point.

        Returns
        -------
        Point
            The product.
        """
        scalar = self._reduce(scalar)
        return self._point(self._key(point).multiply(scalar.to_bytes(32, "big")))

    def base_mul(self, scalar: int) -> Point:
        """``scalar * G`` in libsecp256k1.

        Parameters
        ----------
        scalar
            In ``[1, n-1]``.

        Returns
        -------
        Point
            The product.
        """
        scalar = self._reduce(scalar)
        return self._point(coincurve.PublicKey.from_secret(scalar.to_bytes(32, "big")))

    def add(self, left: Point, right: Point) -> Point | None:
        """Sum in libsecp256k1.

        Parameters
        ----------
        left, right
            Points.

        Returns
        -------
        Point | None
            The sum, ``None`` for the identity.
        """
        if left.x == right.x and (left.y + right.y) % self.p == 0:
            return None
        return self._point(coincurve.PublicKey.combine_keys([self._key(left), self._key(right)]))


SECP256K1 = Secp256k1Group()

P256 = WeierstrassGroup(
    "P-256",
    p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    a=-3 % 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
