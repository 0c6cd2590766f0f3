"""Reading a round's secure-aggregation messages: a trainer's neighbour-only read agrees."""

from __future__ import annotations

import hashlib

import numpy as np

from ledgerlearn.learning.secagg import SecAggClient, SecAggConfig
from ledgerlearn.training._secagg import (
    encode_advert,
    encode_masked,
    encode_shares,
    encode_unmask,
    load_messages,
)


def _posted(blobs: dict[str, bytes], raw: bytes) -> tuple[bytes, str]:
    cid = f"cid-{len(blobs)}"
    blobs[cid] = raw
    return hashlib.sha256(raw).digest(), cid


def test_a_trainer_reading_its_neighbours_gets_the_verdicts_of_a_full_read() -> None:
    clients = tuple(f"0x{i:040x}" for i in range(30))
    config = SecAggConfig(
        round_id=b"task 1 round 1", participants=clients, seed=b"beacon", dimension=50
    )
    first = clients[0]
    assert len(config.graph[first]) < len(clients) - 1  # sparse: the read is a subset
    parties = {c: SecAggClient(c, config) for c in clients}
    blobs: dict[str, bytes] = {}
    commits = {c: _posted(blobs, encode_advert(p.advertise())) for c, p in parties.items()}
    adverts = {c: p.advertise() for c, p in parties.items()}
    posts: dict[int, dict[str, tuple[bytes, str]]] = {1: {}, 2: {}, 3: {}}
    silent = clients[3]  # posts nothing after its advert
    for c, p in parties.items():
        if c != silent:
            posts[1][c] = _posted(blobs, encode_shares(c, p.share_keys(adverts)))
    neighbour = min(config.graph[first] - {silent})
    # A neighbour's share message fails its hash.
    posts[1][neighbour] = (bytes(32), posts[1][neighbour][1])
    everyone = load_messages(config, commits, posts, blobs.__getitem__, upto=1)
    rng = np.random.default_rng(0)
    for c, p in parties.items():
        if c in everyone.shares:
            p.receive_adverts(everyone.adverts)
            p.open_inbox(everyone.inbox(c))
            posts[2][c] = _posted(blobs, encode_masked(p.mask(rng.uniform(-1, 1, 50))))
    full = load_messages(config, commits, posts, blobs.__getitem__, upto=2)
    for c, p in parties.items():
        if c in full.survivors:
            posts[3][c] = _posted(blobs, encode_unmask(p.unmask(full.survivors)))
    full = load_messages(config, commits, posts, blobs.__getitem__, upto=3)
    assert neighbour in full.problems and silent in full.problems
    for reader in clients:
        senders = {reader, *config.graph[reader]}
        part = load_messages(config, commits, posts, blobs.__getitem__, senders=senders)
        assert part.adverts == {s: a for s, a in full.adverts.items() if s in senders}
        assert part.shares == {s: b for s, b in full.shares.items() if s in senders}
        assert part.inbox(reader) == full.inbox(reader)
        assert part.survivors == [s for s in full.survivors if s in senders]
        assert part.unmask == {s: u for s, u in full.unmask.items() if s in senders}
        assert part.problems == {s: w for s, w in full.problems.items() if s in senders}
