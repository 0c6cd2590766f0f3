"""Demo, foundation: the content store, a did:key, an EIP-712 permit, events, randomness.

Stores an 800 kB artifact and reads it back verified; gives a participant a did:key; has
the deployer sign an EIP-2612 permit off chain that the token accepts; reads the token's
events through a resumable cursor; registers three VRF keys with the beacon, requests
randomness, fulfils it with an ECVRF proof the contract verifies, and draws a
stake-weighted committee with the output, the same in Python and on chain.

Trust assumption: as each layer's; nothing here is mocked.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable

from ledgerlearn.demo._context import DemoContext, DemoReport
from ledgerlearn.identity import did_key_from_key, resolve_did_key
from ledgerlearn.keys import Ed25519Key
from ledgerlearn.ledger import Chain, DeploymentManifest, EventCursor
from ledgerlearn.randomness import BeaconClient, VrfKey, purpose_id, select
from ledgerlearn.staking import sign_permit
from ledgerlearn.storage import LocalContentStore, compute_cid

__all__ = ["section"]


def _model_artifact(n_weights: int = 200_000) -> bytes:
    """Return a deterministic float32 weight vector (800 kB: four 256 KiB leaves)."""
    values = [((i * 2654435761) % 1_000_003) / 1_000_003 - 0.5 for i in range(n_weights)]
    return struct.pack(f"<{n_weights}f", *values)


def section(ctx: DemoContext) -> None:
    """Run the foundation and randomness parts of the demo.

    Parameters
    ----------
    ctx
        The demo's chain, deployment, directory, printer and report.
    """
    chain, manifest, workdir, say, report = ctx.parts()
    deployer, participant = chain.accounts[0], chain.accounts[1]
    token_address = manifest.get_address("LedgerToken")
    store = LocalContentStore(workdir / "store")
    weights = _model_artifact()
    cid = store.put(weights)
    card = {"name": "demo-logreg", "format": "float32-le", "weights": cid, "size": len(weights)}
    card_cid = store.put(json.dumps(card, sort_keys=True).encode())
    assert store.get(cid) == weights and compute_cid(weights) == cid
    say(f"stored {len(weights):,} B of weights as {cid} (read back and verified)")
    say(f"stored model card as {card_cid}")
    report.add("store artifact", cid=cid, bytes=len(weights), modelCard=card_cid)

    identity = Ed25519Key.generate()
    did = did_key_from_key(identity)
    document = resolve_did_key(did)
    say(f"participant identity {did} ({len(document.verification_method or [])} keys)")
    report.add("create identity", did=did)

    token = chain.contract("LedgerToken", token_address)
    amount = 1_000 * 10**18
    deadline = 2**48
    permit = sign_permit(deployer, token, chain.chain_id, participant.address, amount, deadline)
    # The participant submits the deployer's off-chain signature and pays the gas.
    chain.sender(participant).transact(
        token.functions.permit(
            deployer.address,
            participant.address,
            amount,
            deadline,
            permit.v,
            permit.r,
            permit.s,
        )
    )
    chain.sender(participant).transact(
        token.functions.transferFrom(deployer.address, participant.address, amount)
    )
    balance = token.functions.balanceOf(participant.address).call()
    say(
        "EIP-712 permit signed off chain, accepted by the token: "
        f"participant holds {balance // 10**18} LLT"
    )
    report.add("permit and transfer", participant=participant.address, balance=balance)

    events: list[str] = []
    cursor = EventCursor(chain, token, workdir / "cursor.json", start_block=manifest.deploy_block)
    cursor.poll(lambda event: events.append(str(event["event"])))
    say(f"event cursor read {len(events)} events: {', '.join(events)}")
    report.add("read events", events=events, position=cursor.position.block)
    _randomness_section(chain, manifest, say, report)


def _randomness_section(
    chain: Chain, manifest: DeploymentManifest, say: Callable[[str], None], report: DemoReport
) -> None:
    """Register VRF keys, request randomness, fulfil it on chain, pick a committee."""
    deployer = chain.accounts[0]
    beacon = BeaconClient(chain, manifest)
    holders = chain.accounts[2:5]
    vrf_keys = {}
    for holder in holders:
        chain.sender(deployer).transact(
            beacon.token.functions.transfer(holder.address, beacon.minimum_bond)
        )
        vrf_key = VrfKey.derive(holder.unsafe_secret())
        vrf_keys[beacon.register_key(holder, vrf_key)] = (holder, vrf_key)
    say(f"registered {len(vrf_keys)} VRF keys (secp256k1, derived from each identity), bonded")
    request_id = beacon.request(deployer, purpose_id("round", 1, 1))
    seed = beacon.wait_for_seed(request_id)
    assigned = beacon.assigned_key(request_id)
    holder, vrf_key = vrf_keys[assigned]
    fulfilment = beacon.fulfil(holder, vrf_key, request_id)
    say(
        f"request {request_id.hex()[:16]}…: key {assigned} proved the VRF on seed "
        f"{seed.hex()[:16]}…; proof verified on chain ({fulfilment.gas_used:,} gas), "
        f"output {fulfilment.output.hex()[:16]}…"
    )
    candidates = [account.address for account in chain.accounts]
    stakes = [(i + 1) * 100 for i in range(len(candidates))]
    committee = select(fulfilment.output, candidates, stakes, 3)
    assert beacon.select_on_chain(fulfilment.output, stakes, 3) == [
        candidates.index(member) for member in committee
    ]
    members = ", ".join(member[:10] for member in committee)
    say(f"committee of 3 from 10 candidates weighted by stake: {members} (same on chain)")
    report.add(
        "randomness",
        requestId=request_id.hex(),
        seed=seed.hex(),
        keyIndex=assigned,
        output=fulfilment.output.hex(),
        fulfilGas=fulfilment.gas_used,
        committee=committee,
    )
