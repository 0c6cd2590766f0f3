"""Demo: the deepest real flow the foundation supports, end to end on the embedded chain.

Starts py-evm in process, deploys the protocol, checks the manifest against the chain,
stores a model artifact in the local content store and reads it back verified, gives a
participant a did:key, lets the deployer grant that participant an allowance with an
EIP-712 permit signed off chain and accepted by the token contract, registers VRF keys
with the randomness beacon, requests randomness, fulfils it with an ECVRF proof the
contract verifies and picks a stake-weighted committee with it, and reads the token's
events through a resumable cursor (:mod:`.foundation`). Then the registry story: a
did:ethr identity with a release key, two federatedly trained versions of a digits MLP,
promotions and a rollback by token votes through the timelock, and a verified pull
(:mod:`.registry`); the training network (:mod:`.network`); inference through the oracle:
five providers (one lying), a DID-authenticated gateway, a review threshold, and a verified
evidence trail (:mod:`.oracle`); and verification of work: an audit, a zk proof, an
optimistic dispute (:mod:`.verification`). Each section is a module with one ``section``
function over a :class:`DemoContext`.

Trust assumption: as each layer's; nothing here is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ledgerlearn.demo import foundation, network, oracle, registry
from ledgerlearn.demo import verification as verification_demo
from ledgerlearn.demo._context import DemoContext, DemoReport
from ledgerlearn.devnet import NetworkConfig
from ledgerlearn.exceptions import ConfigError
from ledgerlearn.ledger import Chain, DevnetBackend
from ledgerlearn.protocol import TokenParameters, deploy_protocol

__all__ = ["DemoContext", "DemoReport", "run_demo"]


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
        deployer = chain.accounts[0]
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

        ctx = DemoContext(chain, manifest, workdir, say, report)
        foundation.section(ctx)
        registry.section(ctx)
        network.section(
            ctx,
            network.private_config(network_rounds)
            if private
            else NetworkConfig(rounds=network_rounds),
            processes=processes,
        )
        oracle.section(ctx)
        if verification:
            verification_demo.section(
                ctx, vrf_holders=[*chain.accounts[2:5], *oracle.provider_keys()]
            )
    return report
