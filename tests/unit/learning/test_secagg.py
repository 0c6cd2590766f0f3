"""Secure aggregation: standard test vectors, Shamir, the seeded graph, and the protocol."""

from __future__ import annotations

import numpy as np
import pytest

from ledgerlearn.exceptions import SecAggDropoutError, SecAggError
from ledgerlearn.learning.secagg import (
    Quantizer,
    SecAggClient,
    SecAggConfig,
    SecAggKeys,
    SecAggServer,
    combine,
    default_degree,
    neighbour_graph,
    split,
)
from ledgerlearn.learning.secagg._crypto import expand_mask, key_agreement, public_key


def test_x25519_matches_rfc7748_section_6_1() -> None:
    # RFC 7748, section 6.1 (Alice and Bob)
    alice = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    bob = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    assert public_key(alice).hex() == (
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    )
    assert public_key(bob).hex() == (
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    )
    shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert key_agreement(alice, public_key(bob)).hex() == shared
    assert key_agreement(bob, public_key(alice)).hex() == shared
    with pytest.raises(ValueError, match="low-order"):
        key_agreement(alice, bytes(32))


def test_mask_is_the_chacha20_keystream_of_rfc8439_appendix_a1() -> None:
    # RFC 8439, appendix A.1, test vector #1: all-zero key, nonce and counter
    expected = bytes.fromhex(
        "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
        "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
    )
    assert expand_mask(bytes(32), 16).astype("<u4").tobytes() == expected


def test_shamir_recovers_from_any_threshold_subset_only() -> None:
    secret = int.from_bytes(bytes(range(32)), "big")
    shares = split(secret, [1, 2, 3, 4, 5, 6], threshold=4)
    assert combine(shares[:4]) == secret
    assert combine([shares[5], shares[1], shares[3], shares[0]]) == secret
    assert combine(shares) == secret
    assert combine(shares[:3]) != secret
    with pytest.raises(ValueError, match="threshold"):
        split(secret, [1, 2], threshold=3)
    with pytest.raises(ValueError, match="distinct"):
        split(secret, [1, 1, 2], threshold=2)


def test_neighbour_graph_is_a_seeded_harary_graph() -> None:
    clients = [f"0x{i:040x}" for i in range(40)]
    graph = neighbour_graph(clients, b"beacon output 1")
    k = default_degree(40)
    assert k == 2 * 6 + 2  # 2 * ceil(log2 40) + 2
    assert all(len(neighbours) == k for neighbours in graph.values())
    assert all(a in graph[b] for a in graph for b in graph[a])  # symmetric
    assert graph == neighbour_graph(list(reversed(clients)), b"beacon output 1")
    assert graph != neighbour_graph(clients, b"beacon output 2")
    assert default_degree(5) == 4  # small rounds: everyone is a neighbour
    with pytest.raises(ValueError, match="even"):
        neighbour_graph(clients, b"s", degree=5)


def _round(
    n: int, dimension: int = 300, **options: object
) -> tuple[SecAggConfig, dict[str, np.ndarray]]:
    rng = np.random.default_rng(n)
    clients = tuple(f"0x{i:040x}" for i in range(n))
    config = SecAggConfig(
        round_id=b"task 7 round 3",
        participants=clients,
        seed=b"beacon",
        dimension=dimension,
        quantizer=Quantizer(clip=0.5, bits=16),
        **options,  # type: ignore[arg-type]
    )
    updates = {c: rng.uniform(-0.6, 0.6, size=dimension) for c in clients}
    return config, updates


def _run(
    config: SecAggConfig,
    updates: dict[str, np.ndarray],
    silent: set[str] = frozenset(),  # type: ignore[assignment]
    drop_after_shares: set[str] = frozenset(),  # type: ignore[assignment]
    drop_before_unmask: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[np.ndarray, int]:
    server = SecAggServer(config)
    clients = {c: SecAggClient(c, config) for c in config.participants if c not in silent}
    for client in clients.values():
        server.receive_advert(client.advertise())
    for name, client in clients.items():
        server.receive_shares(name, client.share_keys(server.adverts))
    for name, client in clients.items():
        if name not in drop_after_shares:
            server.receive_masked(name, client.masked_input(updates[name], server.inbox(name)))
    survivors = server.survivors()
    responses = [
        clients[name].unmask(survivors) for name in survivors if name not in drop_before_unmask
    ]
    return server.aggregate(responses)


def _expected(config: SecAggConfig, updates: dict[str, np.ndarray], who: list[str]) -> np.ndarray:
    q = config.quantizer
    total = sum((q.quantize(updates[c]) for c in who), np.zeros(config.dimension, np.uint32))
    return q.dequantize_sum(total, len(who))


def test_sum_is_exact_without_dropouts() -> None:
    config, updates = _round(12)
    total, count = _run(config, updates)
    assert count == 12
    assert np.array_equal(total, _expected(config, updates, list(config.participants)))
    clipped = sum(np.clip(u, -0.5, 0.5) for u in updates.values())
    assert np.max(np.abs(total - clipped)) <= 12 * 0.5 / config.quantizer.levels + 1e-12


def test_sum_of_survivors_is_exact_with_dropouts_in_every_phase() -> None:
    config, updates = _round(30)  # sparse: 12 neighbours each, threshold 7
    assert len(config.graph[config.participants[0]]) == 12 < 29
    silent = {config.participants[0]}
    after_shares = {config.participants[5], config.participants[17]}
    before_unmask = {config.participants[9], config.participants[22]}
    total, count = _run(config, updates, silent, after_shares, before_unmask)
    alive = [c for c in config.participants if c not in silent | after_shares]
    assert count == len(alive) == 27
    assert np.array_equal(total, _expected(config, updates, alive))


def test_too_many_dropouts_fail_explicitly() -> None:
    config, updates = _round(8)  # complete graph: 7 neighbours, threshold 4
    gone = set(config.participants[1:5])
    with pytest.raises(SecAggDropoutError):
        _run(config, updates, drop_after_shares=gone)
    config, updates = _round(8)
    with pytest.raises(SecAggDropoutError, match="fewer than 4 shares"):
        _run(config, updates, drop_before_unmask=set(config.participants[:5]))


def _after_key_sharing(config: SecAggConfig) -> tuple[SecAggServer, dict[str, SecAggClient]]:
    """Run phases 0 and 1 for every participant."""
    server = SecAggServer(config)
    clients = {c: SecAggClient(c, config) for c in config.participants}
    for client in clients.values():
        server.receive_advert(client.advertise())
    for name, client in clients.items():
        server.receive_shares(name, client.share_keys(server.adverts))
    return server, clients


def test_masked_inputs_hide_updates_and_second_unmasks_are_refused() -> None:
    config, updates = _round(6, dimension=20_000)
    server, clients = _after_key_sharing(config)
    first = config.participants[0]
    masked = clients[first].masked_input(updates[first], server.inbox(first))
    # uniform over 2^32: the mean is 2^31 within a few standard errors
    assert abs(masked.astype(np.float64).mean() / 2**32 - 0.5) < 0.01
    assert not np.array_equal(masked, config.quantizer.quantize(updates[first]))
    clients[first].unmask(config.participants)
    with pytest.raises(SecAggError, match="second unmask"):
        clients[first].unmask(config.participants[1:])
    with pytest.raises(SecAggError, match="not a participant"):
        SecAggClient("0xmallory", config)


def test_a_forged_bundle_costs_its_shares_not_the_sum() -> None:
    config, updates = _round(8)  # complete graph: 7 neighbours, threshold 4
    server, clients = _after_key_sharing(config)
    victim, forger = config.participants[:2]
    inbox = server.inbox(victim)
    tampered = dict(inbox)
    tampered[forger] = bytes([inbox[forger][0] ^ 1]) + inbox[forger][1:]
    server.receive_masked(victim, clients[victim].masked_input(updates[victim], tampered))
    assert clients[victim].unreadable == {forger}
    for name in config.participants[1:]:
        server.receive_masked(name, clients[name].masked_input(updates[name], server.inbox(name)))
    responses = [clients[c].unmask(server.survivors()) for c in config.participants]
    assert forger not in responses[0].seed_shares  # the victim holds no share of the forger
    total, count = server.aggregate(responses)
    assert count == 8
    assert np.array_equal(total, _expected(config, updates, list(config.participants)))
    with pytest.raises(SecAggError, match="not an advertised neighbour"):
        SecAggClient(victim, config).open_inbox({forger: inbox[forger]})


def test_derived_keys_replay_a_round_bit_for_bit() -> None:
    config, updates = _round(5, dimension=64)
    context = b"chain 1 task 7 round 3"
    keys = {c: SecAggKeys.derive(c.encode() * 2, context) for c in config.participants}
    assert SecAggKeys.derive(b"x" * 32, context) == SecAggKeys.derive(b"x" * 32, context)
    assert SecAggKeys.derive(b"x" * 32, context) != SecAggKeys.derive(b"x" * 32, b"other")
    assert "secret" in repr(keys[config.participants[0]])
    with pytest.raises(SecAggError, match="32 bytes"):
        SecAggKeys.derive(b"short", context)

    def phase_one() -> tuple[dict[str, dict[str, bytes]], dict[str, SecAggClient]]:
        clients = {c: SecAggClient(c, config, keys[c]) for c in config.participants}
        adverts = {c: SecAggClient.advert_for(c, keys[c]) for c in config.participants}
        assert all(clients[c].advertise() == adverts[c] for c in clients)
        return {c: clients[c].share_keys(adverts) for c in clients}, clients

    bundles, _ = phase_one()
    again, clients = phase_one()  # a restarted client seals exactly the same bytes
    assert bundles == again
    first = config.participants[0]
    inbox = {s: b[first] for s, b in bundles.items() if first in b}
    masked = clients[first].masked_input(updates[first], inbox)
    restarted = SecAggClient(first, config, keys[first])
    restarted.receive_adverts({c: SecAggClient.advert_for(c, keys[c]) for c in keys})
    restarted.open_inbox(inbox)
    assert np.array_equal(restarted.mask(updates[first]), masked)
    assert restarted.unmask(config.participants) == clients[first].unmask(config.participants)


def test_seeded_shamir_sharing_is_reproducible_and_still_a_sharing() -> None:
    key = bytes(range(32))
    secret = 2**255 + 12345
    shares = split(secret, [1, 2, 3, 4, 5], 3, key=key)
    assert shares == split(secret, [1, 2, 3, 4, 5], 3, key=key)
    assert shares != split(secret, [1, 2, 3, 4, 5], 3, key=bytes(32))
    assert combine(shares[2:]) == secret
    assert combine(shares[:2]) != secret


def test_configuration_errors_name_the_fix() -> None:
    with pytest.raises(SecAggError, match="overflow 2\\^32"):
        SecAggConfig(
            round_id=b"r",
            participants=("a", "b", "c"),
            seed=b"s",
            dimension=1,
            quantizer=Quantizer(bits=31),  # 2 x (2^31 - 1) is the most 2^32 holds
        )
    with pytest.raises(SecAggError, match="at least 2"):
        SecAggConfig(round_id=b"r", participants=("a",), seed=b"s", dimension=1)
    config, _ = _round(4, dimension=10)
    client = SecAggClient(config.participants[0], config)
    with pytest.raises(SecAggError, match="10 finite values"):
        client.masked_input(np.full(10, np.nan), {})


def test_a_single_masked_update_is_indistinguishable_from_uniform() -> None:
    from scipy import stats

    config, updates = _round(6, dimension=200_000)
    server, clients = _after_key_sharing(config)
    target = config.participants[0]
    masked = clients[target].masked_input(updates[target], server.inbox(target))
    plain = config.quantizer.quantize(updates[target])

    def uniformity(words: np.ndarray) -> tuple[float, float]:
        bins = np.bincount((words >> np.uint32(24)).astype(np.int64), minlength=256)
        chi2 = stats.chisquare(bins).pvalue
        ks = stats.kstest(words.astype(np.float64) / 2.0**32, "uniform").pvalue
        return float(chi2), float(ks)

    chi2, ks = uniformity(masked)
    assert chi2 > 1e-3 and ks > 1e-3  # the masked words look uniform on 32 bits
    plain_chi2, plain_ks = uniformity(plain)
    assert plain_chi2 < 1e-12 and plain_ks < 1e-12  # the same test sees the plain update
    # Low bits too: a mask that only randomised the top byte would fail here.
    low = np.bincount((masked & np.uint32(0xFF)).astype(np.int64), minlength=256)
    assert stats.chisquare(low).pvalue > 1e-3
