"""Secure aggregation: the server learns the sum of the surviving clients' updates, nothing else.

Bonawitz, Ivanov, Kreuter, Marcedone, McMahan, Patel, Ramage, Segal, Seth, "Practical
Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017, with the sparse
neighbour graph of SecAgg+ (Bell et al., CCS 2020). Four phases:

0. **Advertise keys** — each client makes two X25519 key pairs (one to encrypt shares, one
   to agree pairwise masks) and a 32-byte self-mask seed ``b``, and publishes the public
   keys and ``sha256(b)``.
1. **Share keys** — each client Shamir-shares its mask private key and ``b`` among its
   graph neighbours (threshold ``t``) and sends each neighbour its shares encrypted under
   their X25519 agreement.
2. **Masked input** — each client quantises its clipped update into Z_(2^32) and adds its
   self mask ``PRG(b)`` and, for every neighbour that shared keys, ``+PRG(s_ij)`` (lower id)
   or ``-PRG(s_ij)`` (higher id); pairwise masks cancel in the sum. A client masks with
   every neighbour the server routed a bundle from, readable or not (an unreadable bundle
   only means it holds no share of that neighbour), so both ends of a pair always agree.
3. **Unmask** — for each neighbour, a surviving client reveals its share of ``b`` if the
   neighbour sent a masked input, or of the neighbour's mask private key if it dropped out —
   never both. From ``t`` shares the server removes every survivor's self mask and the
   dropped clients' pairwise masks, and obtains the exact sum.

A client's keys may be derived from a long-term secret (:class:`SecAggKeys`), and its Shamir
coefficients from a keystream, so a restarted client reproduces the same messages byte for
byte.

Trust assumption: the server is honest-but-curious about the survivor list it announces
(in ledgerlearn the list is fixed by on-chain commitments, so it cannot tell different
clients different lists); fewer than ``t`` of any client's neighbours collude with it.
Under that, an individual update is hidden by its self mask until the round's sum is
public. Up to ``k - t`` of a client's ``k`` neighbours may drop out; beyond that
:class:`SecAggDropoutError` names who cannot be unmasked — the protocol never returns a
wrong sum.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from cryptography.exceptions import InvalidTag
from numpy.typing import NDArray

from ledgerlearn.exceptions import SecAggDropoutError, SecAggError
from ledgerlearn.learning.secagg._crypto import (
    derive_key,
    expand_mask,
    key_agreement,
    open_box,
    public_key,
    seal_box,
)
from ledgerlearn.learning.secagg._graph import neighbour_graph
from ledgerlearn.learning.secagg._quantize import Quantizer
from ledgerlearn.learning.secagg._shamir import PRIME, Share, combine, split

__all__ = [
    "AdvertiseKeys",
    "SecAggKeys",
    "SecAggClient",
    "SecAggConfig",
    "SecAggDropoutError",
    "SecAggError",
    "SecAggServer",
    "UnmaskShares",
]

_SHARE_BYTES = (PRIME.bit_length() + 7) // 8


@dataclass(frozen=True)
class SecAggConfig:
    """What every party of one round agrees on before it starts.

    Attributes
    ----------
    round_id
        Unique per round (e.g. task id and round number); bound into every key.
    participants
        Client ids selected for the round.
    seed
        Public randomness (the beacon's output) that fixes the neighbour graph.
    dimension
        Length of the flattened update.
    quantizer
        Clipping and quantisation.
    degree
        Neighbours per client (default ``O(log n)``; see :func:`neighbour_graph`).
    threshold
        Shares that recover a secret (default ``floor(k / 2) + 1``).
    """

    round_id: bytes
    participants: tuple[str, ...]
    seed: bytes
    dimension: int
    quantizer: Quantizer = field(default_factory=Quantizer)
    degree: int | None = None
    threshold: int | None = None

    def __post_init__(self) -> None:
        n = len(self.participants)
        if n < 2:
            raise SecAggError("secure aggregation needs at least 2 participants")
        if n > self.quantizer.max_clients():
            raise SecAggError(
                f"{n} clients may overflow 2^32 with {self.quantizer.bits}-bit values; "
                f"use at most {self.quantizer.max_clients()} or fewer bits"
            )
        if self.dimension < 1:
            raise SecAggError("dimension must be positive")
        k = len(self.graph[self.participants[0]])
        if not 1 <= self.share_threshold <= k:
            raise SecAggError(f"threshold {self.share_threshold} must be in [1, {k}]")

    @functools.cached_property
    def graph(self) -> dict[str, frozenset[str]]:
        """The neighbour graph derived from the seed (computed once)."""
        return neighbour_graph(self.participants, self.seed, self.degree)

    @functools.cached_property
    def _points(self) -> dict[str, int]:
        return {client: rank for rank, client in enumerate(sorted(self.participants), start=1)}

    @property
    def share_threshold(self) -> int:
        """``t``: shares needed to recover a client's secrets."""
        if self.threshold is not None:
            return self.threshold
        return len(self.graph[self.participants[0]]) // 2 + 1

    def point(self, client: str) -> int:
        """Return the Shamir x-coordinate of a client (its 1-based rank among participants)."""
        return self._points[client]


@dataclass(frozen=True, repr=False)
class SecAggKeys:
    """A client's secrets for one round: two X25519 private keys and the self-mask seed.

    Attributes
    ----------
    encryption_private
        Agrees the keys that seal share bundles.
    mask_private
        Agrees the pairwise mask seeds.
    seed
        The self-mask seed ``b``.
    sharing
        Keys the Shamir coefficients, so sharing the same secrets again gives the same bytes
        (a restarted client re-sealing its bundles never encrypts two plaintexts under one
        key and nonce).
    """

    encryption_private: bytes
    mask_private: bytes
    seed: bytes
    sharing: bytes

    @classmethod
    def generate(cls) -> SecAggKeys:
        """Return fresh keys from the operating system's CSPRNG."""
        return cls.derive(secrets.token_bytes(32), b"")

    @classmethod
    def derive(cls, secret: bytes, context: bytes) -> SecAggKeys:
        """Derive the keys of one round from a client's long-term secret with HKDF-SHA256.

        Parameters
        ----------
        secret
            At least 32 secret bytes only the client knows (e.g. its account key).
        context
            Binds the keys to one round (e.g. chain, coordinator, task and round); never
            reuse a context.

        Returns
        -------
        SecAggKeys
            The same keys for the same secret and context.
        """
        if len(secret) < 32:
            raise SecAggError("a secure-aggregation secret needs at least 32 bytes")
        return cls(
            derive_key(secret, "client-encryption-key", context),
            derive_key(secret, "client-mask-key", context),
            derive_key(secret, "client-self-mask-seed", context),
            derive_key(secret, "client-share-coefficients", context),
        )

    def __repr__(self) -> str:
        return "SecAggKeys(<secret>)"


@dataclass(frozen=True)
class AdvertiseKeys:
    """Phase 0: a client's public keys and its self-mask seed commitment."""

    client: str
    encryption_key: bytes
    mask_key: bytes
    seed_commitment: bytes


@dataclass(frozen=True)
class UnmaskShares:
    """Phase 3: the shares a surviving client reveals, per neighbour."""

    client: str
    seed_shares: dict[str, Share]
    key_shares: dict[str, Share]


def _pair(round_id: bytes, a: str, b: str) -> bytes:
    low, high = sorted((a, b))
    return round_id + b"\x00" + low.encode() + b"\x00" + high.encode()


def _int32(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _pairwise_mask(config: SecAggConfig, secret: bytes, a: str, b: str) -> NDArray[np.uint32]:
    return expand_mask(
        derive_key(secret, "pairwise-mask", _pair(config.round_id, a, b)), config.dimension
    )


class SecAggClient:
    """One client's side of a round; call the phases in order.

    Parameters
    ----------
    client
        This client's id.
    config
        The round's agreed settings.
    keys
        The round's secrets; fresh random ones by default. A client that must survive a
        restart derives them (:meth:`SecAggKeys.derive`) and replays the phases it already
        took part in from the public messages (:meth:`receive_adverts`, :meth:`open_inbox`).
    """

    def __init__(self, client: str, config: SecAggConfig, keys: SecAggKeys | None = None) -> None:
        if client not in config.participants:
            raise SecAggError(f"{client} is not a participant of this round")
        self.client = client
        self.config = config
        self.neighbours = config.graph[client]
        self._keys = keys or SecAggKeys.generate()
        self._adverts: dict[str, AdvertiseKeys] = {}
        self._held: dict[str, tuple[Share, Share]] = {}  # neighbour -> (key share, seed share)
        self._masked_with: frozenset[str] | None = None
        self._revealed = False
        self.unreadable: frozenset[str] = frozenset()
        """Neighbours whose share bundle failed authentication (set by :meth:`open_inbox`)."""

    @staticmethod
    def advert_for(client: str, keys: SecAggKeys) -> AdvertiseKeys:
        """Return a client's phase-0 message before the round's participants are known."""
        return AdvertiseKeys(
            client,
            public_key(keys.encryption_private),
            public_key(keys.mask_private),
            hashlib.sha256(keys.seed).digest(),
        )

    def advertise(self) -> AdvertiseKeys:
        """Phase 0: return the public keys to broadcast."""
        return self.advert_for(self.client, self._keys)

    def receive_adverts(self, adverts: Mapping[str, AdvertiseKeys]) -> list[str]:
        """Record the neighbours' phase-0 keys; return the neighbours that advertised.

        Raises
        ------
        SecAggDropoutError
            If fewer than ``t`` neighbours advertised keys.
        """
        present = sorted(n for n in self.neighbours if n in adverts)
        t = self.config.share_threshold
        if len(present) < t:
            raise SecAggDropoutError(
                f"{self.client}: only {len(present)} neighbours advertised keys, {t} needed"
            )
        self._adverts = {n: adverts[n] for n in present}
        return present

    def share_keys(self, adverts: Mapping[str, AdvertiseKeys]) -> dict[str, bytes]:
        """Phase 1: return one encrypted share bundle per neighbour that advertised.

        Raises
        ------
        SecAggDropoutError
            If fewer than ``t`` neighbours advertised keys.
        """
        present = self.receive_adverts(adverts)
        t = self.config.share_threshold
        points = [self.config.point(n) for n in present]
        context = self.config.round_id + b"\x00" + self.client.encode()
        key_shares = split(
            int.from_bytes(self._keys.mask_private, "big"),
            points,
            t,
            key=derive_key(self._keys.sharing, "shamir-mask-key", context),
        )
        seed_shares = split(
            int.from_bytes(self._keys.seed, "big"),
            points,
            t,
            key=derive_key(self._keys.sharing, "shamir-self-mask-seed", context),
        )
        boxes = {}
        for neighbour, key_share, seed_share in zip(present, key_shares, seed_shares, strict=True):
            plaintext = key_share[1].to_bytes(_SHARE_BYTES, "big") + seed_share[1].to_bytes(
                _SHARE_BYTES, "big"
            )
            boxes[neighbour] = seal_box(
                self._box_key(neighbour), plaintext, self._associated(self.client, neighbour)
            )
        return boxes

    def open_inbox(self, inbox: Mapping[str, bytes]) -> None:
        """Phase 2, first half: take the share bundles addressed to this client.

        The client masks with every sender in ``inbox`` (the server's routing, the same for
        both ends of a pair), so pairwise masks cancel. A bundle that fails authentication
        is noted in :attr:`unreadable` and its shares are simply not held: the client can
        then not help recover that sender, which its other neighbours do.

        Raises
        ------
        SecAggError
            If a bundle is not from a neighbour that advertised.
        SecAggDropoutError
            If fewer than ``t`` neighbours sent shares.
        """
        me = self.config.point(self.client)
        unreadable = set()
        for sender, box in sorted(inbox.items()):
            if sender not in self._adverts:
                raise SecAggError(
                    f"{self.client}: shares from {sender}, not an advertised neighbour"
                )
            try:
                plaintext = open_box(
                    self._box_key(sender), box, self._associated(sender, self.client)
                )
            except InvalidTag:
                unreadable.add(sender)
                continue
            if len(plaintext) != 2 * _SHARE_BYTES:
                unreadable.add(sender)
                continue
            key_y = int.from_bytes(plaintext[:_SHARE_BYTES], "big")
            seed_y = int.from_bytes(plaintext[_SHARE_BYTES:], "big")
            self._held[sender] = ((me, key_y), (me, seed_y))
        t = self.config.share_threshold
        if len(inbox) < t:
            raise SecAggDropoutError(
                f"{self.client}: only {len(inbox)} neighbours shared keys, {t} needed"
            )
        self.unreadable = frozenset(unreadable)
        self._masked_with = frozenset(inbox)

    def mask(self, update: NDArray[np.floating]) -> NDArray[np.uint32]:
        """Phase 2, second half: return the masked, quantised update.

        Raises
        ------
        SecAggError
            If the inbox was not opened, or the update has the wrong size or non-finite
            values.
        """
        return self._mask(self._vector(update))

    def _mask(self, vector: NDArray[np.float64]) -> NDArray[np.uint32]:
        if self._masked_with is None:
            raise SecAggError(f"{self.client}: open the inbox before masking")
        masked = self.config.quantizer.quantize(vector)
        masked += expand_mask(self._keys.seed, self.config.dimension)
        for neighbour in sorted(self._masked_with):
            secret = key_agreement(self._keys.mask_private, self._adverts[neighbour].mask_key)
            mask = _pairwise_mask(self.config, secret, self.client, neighbour)
            if self.client < neighbour:
                masked += mask
            else:
                masked -= mask
        return masked

    def masked_input(
        self, update: NDArray[np.floating], inbox: Mapping[str, bytes]
    ) -> NDArray[np.uint32]:
        """Phase 2: :meth:`open_inbox` then :meth:`mask`.

        Parameters
        ----------
        update
            The flattened update (clipped by the quantiser).
        inbox
            Share bundles addressed to this client, by sender.

        Returns
        -------
        numpy.ndarray
            The masked update, uniform in Z_(2^32) to anyone without the masks.
        """
        vector = self._vector(update)  # refuse a bad update before taking the inbox
        self.open_inbox(inbox)
        return self._mask(vector)

    def _vector(self, update: NDArray[np.floating]) -> NDArray[np.float64]:
        vector = np.asarray(update, dtype=np.float64).ravel()
        if vector.shape != (self.config.dimension,) or not np.all(np.isfinite(vector)):
            raise SecAggError(
                f"update must be {self.config.dimension} finite values, got {vector.shape}"
            )
        return vector

    def unmask(self, survivors: Collection[str]) -> UnmaskShares:
        """Phase 3: reveal, per neighbour, the seed share (survivor) or key share (dropped).

        Raises
        ------
        SecAggError
            If asked twice (a second survivor list could expose both secrets of a client),
            before phase 2, or with this client missing from the survivors.
        SecAggDropoutError
            If fewer than ``t`` neighbours survived.
        """
        if self._masked_with is None:
            raise SecAggError(f"{self.client}: unmask before masked input")
        if self._revealed:
            raise SecAggError(f"{self.client}: refusing a second unmask request for this round")
        alive = frozenset(survivors)
        if self.client not in alive:
            raise SecAggError(f"{self.client} is not in the survivor list it was sent")
        t = self.config.share_threshold
        if len(alive & self._masked_with) < t:
            raise SecAggDropoutError(
                f"{self.client}: only {len(alive & self._masked_with)} neighbours survived"
            )
        self._revealed = True
        held = self._masked_with & self._held.keys()
        seeds = {n: self._held[n][1] for n in held if n in alive}
        keys = {n: self._held[n][0] for n in held if n not in alive}
        return UnmaskShares(self.client, seeds, keys)

    def _box_key(self, neighbour: str) -> bytes:
        secret = key_agreement(
            self._keys.encryption_private, self._adverts[neighbour].encryption_key
        )
        return derive_key(
            secret, "share-encryption", _pair(self.config.round_id, self.client, neighbour)
        )

    def _associated(self, sender: str, recipient: str) -> bytes:
        return self.config.round_id + b"\x00" + sender.encode() + b"\x00" + recipient.encode()


class SecAggServer:
    """The aggregator's side: routes messages and unmasks the sum."""

    def __init__(self, config: SecAggConfig) -> None:
        self.config = config
        self.graph = config.graph
        self.adverts: dict[str, AdvertiseKeys] = {}
        self.routed: dict[str, dict[str, bytes]] = {}  # recipient -> sender -> box
        self.delivered: dict[str, frozenset[str]] = {}  # recipient -> senders it was given
        self.masked: dict[str, NDArray[np.uint32]] = {}

    def receive_advert(self, advert: AdvertiseKeys) -> None:
        """Phase 0: record a client's keys (first one wins)."""
        if advert.client not in self.config.participants:
            raise SecAggError(f"{advert.client} is not a participant of this round")
        self.adverts.setdefault(advert.client, advert)

    def receive_shares(self, sender: str, boxes: Mapping[str, bytes]) -> None:
        """Phase 1: route a client's share bundles to its neighbours."""
        if sender not in self.adverts:
            raise SecAggError(f"{sender} sent shares without advertising keys")
        for recipient, box in boxes.items():
            if recipient not in self.graph[sender]:
                raise SecAggError(f"{sender} addressed shares to {recipient}, not a neighbour")
            self.routed.setdefault(recipient, {})[sender] = box

    def inbox(self, client: str) -> dict[str, bytes]:
        """Hand ``client`` the share bundles addressed to it (once; it masks with exactly these)."""
        if client in self.delivered:
            raise SecAggError(f"{client} already collected its share bundles")
        boxes = dict(self.routed.get(client, {}))
        self.delivered[client] = frozenset(boxes)
        return boxes

    def receive_masked(self, client: str, masked: NDArray[np.uint32]) -> None:
        """Phase 2: record a masked input."""
        vector = np.asarray(masked)
        if vector.dtype != np.uint32 or vector.shape != (self.config.dimension,):
            raise SecAggError(
                f"masked input of {client} must be {self.config.dimension} uint32 values"
            )
        if client not in self.delivered:
            raise SecAggError(f"{client} sent a masked input without taking part in phase 1")
        self.masked.setdefault(client, vector)

    def survivors(self) -> list[str]:
        """Clients whose masked input arrived (the list sent out in phase 3)."""
        return sorted(self.masked)

    def aggregate(self, responses: Sequence[UnmaskShares]) -> tuple[NDArray[np.float64], int]:
        """Phase 3: unmask and return the float sum of the survivors' updates and their count.

        Raises
        ------
        SecAggDropoutError
            If some survivor's seed or some dropped client's key has fewer than ``t``
            shares, naming them.
        SecAggError
            If a reconstructed secret does not match what its owner advertised.
        """
        alive = self.survivors()
        t = self.config.share_threshold
        seed_shares: dict[str, list[Share]] = {}
        key_shares: dict[str, list[Share]] = {}
        for response in responses:
            if response.client not in self.masked:
                continue
            for about, share in response.seed_shares.items():
                seed_shares.setdefault(about, []).append(share)
            for about, share in response.key_shares.items():
                key_shares.setdefault(about, []).append(share)
        # who masked with whom: i was handed j's bundle -> i added PRG(s_ij) to its input
        dropped = sorted(
            j
            for j in self.adverts
            if j not in self.masked and any(j in self.delivered[i] for i in alive)
        )
        short = [c for c in alive if len(seed_shares.get(c, [])) < t] + [
            c for c in dropped if len(key_shares.get(c, [])) < t
        ]
        if short:
            raise SecAggDropoutError(
                f"cannot unmask: fewer than {t} shares for {', '.join(short)} "
                f"({len(alive)} of {len(self.config.participants)} clients survived)"
            )
        total = np.zeros(self.config.dimension, dtype=np.uint32)
        for client in alive:
            total += self.masked[client]
            seed = _int32(combine(seed_shares[client][:t]))
            if hashlib.sha256(seed).digest() != self.adverts[client].seed_commitment:
                raise SecAggError(f"the self-mask seed rebuilt for {client} does not match")
            total -= expand_mask(seed, self.config.dimension)
        for j in dropped:
            private = _int32(combine(key_shares[j][:t]))
            if public_key(private) != self.adverts[j].mask_key:
                raise SecAggError(f"the mask key rebuilt for dropped client {j} does not match")
            for i in alive:
                if j not in self.delivered[i]:
                    continue
                secret = key_agreement(private, self.adverts[i].mask_key)
                mask = _pairwise_mask(self.config, secret, i, j)
                if i < j:
                    total -= mask
                else:
                    total += mask
        return self.config.quantizer.dequantize_sum(total, len(alive)), len(alive)
