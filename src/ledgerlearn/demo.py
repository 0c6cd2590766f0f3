"""Demo: the deepest real flow the foundation supports, end to end on the embedded chain.

Starts py-evm in process, deploys the protocol, checks the manifest against the chain,
stores a model artifact in the local content store and reads it back verified, gives a
participant a did:key, lets the deployer grant that participant an allowance with an
EIP-712 permit signed off chain and accepted by the token contract, registers VRF keys
with the randomness beacon, requests randomness, fulfils it with an ECVRF proof the
contract verifies and picks a stake-weighted committee with it, and reads the token's
events through a resumable cursor. Then the registry story: a did:ethr identity with a
release key, two federatedly trained versions of a digits MLP, promotions and a rollback by
token votes through the timelock, and a verified pull (see :mod:`ledgerlearn._demo_registry`);
the training network (:mod:`ledgerlearn._demo_network`); and inference through the oracle:
five providers (one lying), a DID-authenticated gateway, a review threshold, and a verified
evidence trail (:mod:`ledgerlearn._demo_oracle`).

Trust assumption: as each layer's; nothing here is mocked.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledgerlearn._demo_network import network_section, private_config
from ledgerlearn._demo_oracle import oracle_section, provider_keys
from ledgerlearn._demo_registry import registry_section
from ledgerlearn._demo_verification import verification_section
from ledgerlearn.exceptions import ConfigError
from ledgerlearn.identity import Ed25519Key, did_key_from_key, resolve_did_key
from ledgerlearn.ledger import (
    Chain,
    DeploymentManifest,
    DevnetBackend,
    EventCursor,
    TokenParameters,
    deploy_protocol,
    sign_permit,
)
from ledgerlearn.randomness import BeaconClient, VrfKey, purpose_id, select
from ledgerlearn.storage import LocalContentStore, compute_cid
from ledgerlearn.training._network import NetworkConfig

__all__ = ["DemoReport", "run_demo"]


@dataclass
class DemoReport:
    """What the demo did, step by step, with the evidence of each step."""

    steps: list[dict[str, Any]] = field(default_factory=list)

    def add(self, title: str, **facts: Any) -> None:
        """Record a step.

        Parameters
        ----------
        title
            What was done.
        **facts
            Evidence (addresses, hashes, CIDs, counts).
        """
        self.steps.append({"step": title, **facts})


def _model_artifact(n_weights: int = 200_000) -> bytes:
    """Return a deterministic float32 weight vector (800 kB: four 256 KiB leaves)."""
    values = [((i * 2654435761) % 1_000_003) / 1_000_003 - 0.5 for i in range(n_weights)]
    return struct.pack(f"<{n_weights}f", *values)


def run_demo(
    workdir: Path,
    say: Callable[[str], None] = print,
    *,
    chain_backend: str = "embedded",
    processes: bool = False,
    network_rounds: int = 5,
    private: bool = False,
    verification: bool = True,
) -> DemoReport:
    """Run the foundation demo.

    Parameters
    ----------
    workdir
        Where the manifest, cursor state and content store go (created).
    say
        Progress printer.
    chain_backend
        ``embedded`` (default) or ``devnet`` (anvil in a child process).
    processes
        Run every training node as its own OS process (needs ``devnet``).
    network_rounds
        Rounds of the training network's task.
    private
        Train with secure aggregation and distributed client-level differential privacy
        (DP-FedAvg, epsilon 8 at delta 1e-5 over the task) instead of robust aggregation,
        and print the epsilon of every round.
    verification
        Run the verification section: an audit overturning a lying quorum, a zk-proven
        answer verified on chain, an optimistic dispute won by the honest party.

    Returns
    -------
    DemoReport
        Every step's evidence.
    """
    report = DemoReport()
    workdir.mkdir(parents=True, exist_ok=True)
    # The embedded chain starts empty on every run: a cursor position from an earlier run
    # would point past its events.
    (workdir / "cursor.json").unlink(missing_ok=True)
    if processes and chain_backend != "devnet":
        raise ConfigError("--processes needs --chain devnet (nodes in other processes need RPC)")
    with Chain(DevnetBackend() if chain_backend == "devnet" else None) as chain:
        deployer, participant = chain.accounts[0], chain.accounts[1]
        say(f"chain: embedded py-evm, chain id {chain.chain_id}, block {chain.block_number}")
        report.add("start chain", backend=chain.backend.name, chainId=chain.chain_id)

        manifest = deploy_protocol(chain, deployer, TokenParameters())
        manifest_path = manifest.save(workdir / "deployment.json")
        manifest.verify(chain)
        token_address = manifest.get_address("LedgerToken")
        say(f"deployed LedgerToken at {token_address} (block {manifest.deploy_block})")
        say(f"manifest {manifest_path} verified against on-chain code")
        report.add(
            "deploy protocol",
            manifest=str(manifest_path),
            contracts=manifest.to_json()["contracts"],
        )

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
        cursor = EventCursor(
            chain, token, workdir / "cursor.json", start_block=manifest.deploy_block
        )
        cursor.poll(lambda event: events.append(str(event["event"])))
        say(f"event cursor read {len(events)} events: {', '.join(events)}")
        report.add("read events", events=events, position=cursor.position.block)

        _randomness_section(chain, manifest, say, report)
        registry_section(chain, manifest, workdir, say, report)
        network_section(
            chain,
            manifest,
            workdir,
            say,
            report,
            private_config(network_rounds) if private else NetworkConfig(rounds=network_rounds),
            processes=processes,
        )
        oracle_section(chain, manifest, workdir, say, report)
        if verification:
            verification_section(
                chain,
                manifest,
                workdir,
                say,
                report,
                vrf_holders=[*chain.accounts[2:5], *provider_keys()],
            )
    return report


def _randomness_section(
    chain: Chain, manifest: DeploymentManifest, say: Callable[[str], None], report: DemoReport
) -> None:
    """Register VRF keys, request randomness, fulfil it on chain, pick a committee."""
    deployer = chain.accounts[0]
    beacon = BeaconClient.from_manifest(chain, manifest)
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
