"""The ``ledgerlearn`` command: Typer app, one sub-app per area.

Every command takes ``--json``; every failure exits with a numbered code from
:mod:`ledgerlearn.exit_codes` and prints its remedy.
"""

from __future__ import annotations

import getpass
import logging
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.exceptions import TyperException

from ledgerlearn import __version__
from ledgerlearn.cli._options import (
    BackendOption,
    DevAccountsOption,
    JsonOption,
    KeystoreOption,
    ManifestOption,
    PasswordFileOption,
    RpcOption,
    StoreRootOption,
)
from ledgerlearn.cli._oracle import evidence_app, gateway_command
from ledgerlearn.cli._output import Output, print_error
from ledgerlearn.cli._privacy import privacy_app
from ledgerlearn.cli._registry import (
    ChainOptions,
    did_ethr_commands,
    gov_app,
    model_app,
    resolve_ethr,
)
from ledgerlearn.cli._training import node_app, stake_app, task_app
from ledgerlearn.cli._verification import zk_app
from ledgerlearn.config import Settings, load_settings
from ledgerlearn.exceptions import KeystoreError, LedgerLearnError
from ledgerlearn.exit_codes import ExitCode
from ledgerlearn.identity import (
    Ed25519Key,
    Secp256k1Key,
    did_key_document,
    did_key_from_key,
    ethr_did,
    load_keystore,
    save_keystore,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="ledgerlearn",
    help="Trustless machine learning on an EVM ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
chain_app = typer.Typer(help="Run or inspect a chain.", no_args_is_help=True)
store_app = typer.Typer(help="Content-addressed storage.", no_args_is_help=True)
did_app = typer.Typer(help="Decentralized identifiers.", no_args_is_help=True)
manifest_app = typer.Typer(help="Deployment manifests.", no_args_is_help=True)
vrf_app = typer.Typer(help="Verifiable random functions (ECVRF, RFC 9381).", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(store_app, name="store")
app.add_typer(did_app, name="did")
app.add_typer(manifest_app, name="manifest")
app.add_typer(vrf_app, name="vrf")
app.add_typer(model_app, name="model")
app.add_typer(gov_app, name="gov")
app.add_typer(stake_app, name="stake")
app.add_typer(task_app, name="task")
app.add_typer(node_app, name="node")
app.add_typer(evidence_app, name="evidence")
app.add_typer(privacy_app, name="privacy")
app.add_typer(zk_app, name="zk")
app.command("gateway")(gateway_command)
did_ethr_commands(did_app)


@dataclass
class _State:
    config: Path | None = None
    debug: bool = False


_state = _State()


@app.callback()
def _root(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML config file (default ./ledgerlearn.toml).")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Trustless machine learning on an EVM ledger."""
    _state.config = config
    _state.debug = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _settings(**chain: Any) -> Settings:
    overrides = {k: v for k, v in chain.items() if v not in (None, False)}
    return load_settings(_state.config, chain=overrides)


def _password(password_file: Path | None, confirm: bool = False) -> str:
    if password_file is not None:
        try:
            return password_file.read_text().rstrip("\n")
        except OSError as exc:
            raise KeystoreError(f"cannot read password file {password_file}: {exc}") from exc
    from_env = os.environ.get("LEDGERLEARN_KEYSTORE_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise KeystoreError(
            "no keystore password: set LEDGERLEARN_KEYSTORE_PASSWORD or pass --password-file"
        )
    password = getpass.getpass("keystore password: ")
    if confirm and getpass.getpass("repeat password: ") != password:
        raise KeystoreError("the two passwords differ")
    return password


def _signing_keys(settings: Settings, password_file: Path | None) -> list[Secp256k1Key]:
    if settings.chain.keystore is None:
        return []
    key = load_keystore(settings.chain.keystore, _password(password_file))
    if not isinstance(key, Secp256k1Key):
        raise KeystoreError(
            f"{settings.chain.keystore} holds an Ed25519 key; accounts are secp256k1"
        )
    return [key]


@app.command()
def version(json_output: JsonOption = False) -> None:
    """Print the ledgerlearn version."""
    Output(json_output).result({"version": __version__}, f"ledgerlearn {__version__}")


# --- chain -------------------------------------------------------------------------------


@chain_app.command("up")
def chain_up(
    port: Annotated[int, typer.Option(help="Loopback port to listen on.")] = 8545,
    block_time: Annotated[
        float | None, typer.Option(help="Seconds per block (default: automine).")
    ] = None,
    deploy: Annotated[
        bool, typer.Option("--deploy", help="Deploy the protocol and write the manifest.")
    ] = False,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run a devnet (anvil) in the foreground until interrupted."""
    from ledgerlearn.ledger import Chain, DevnetBackend

    out = Output(json_output)
    settings = _settings()
    backend = DevnetBackend(settings.chain.anvil_path, port=port, block_time=block_time)
    with Chain(backend) as chain:
        info: dict[str, Any] = {
            "rpcUrl": chain.rpc_url,
            "chainId": chain.chain_id,
            "devAccounts": [key.address for key in chain.accounts],
        }
        if deploy:
            deployed = _deploy_protocol(chain, settings)
            path = deployed.save(manifest or settings.deployment.manifest)
            info["manifest"] = str(path)
            info["contracts"] = deployed.to_json()["contracts"]
        out.result(
            info,
            f"devnet listening on [bold]{chain.rpc_url}[/] (chain id {chain.chain_id})\n"
            f"dev accounts (public test keys): {', '.join(info['devAccounts'][:3])}, ...\n"
            + (f"manifest: {info['manifest']}\n" if deploy else "")
            + "press Ctrl-C to stop",
        )
        sys.stdout.flush()
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        try:
            while (
                not stop["now"] and backend.process is not None and backend.process.poll() is None
            ):
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
    out.info("devnet stopped")


@chain_app.command("info")
def chain_info(
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    json_output: JsonOption = False,
) -> None:
    """Connect to the configured chain and print its id and height."""
    from ledgerlearn.ledger import open_chain

    settings = _settings(backend=backend, rpc_url=rpc_url)
    with open_chain(settings.chain) as chain:
        data = {
            "backend": chain.backend.name,
            "chainId": chain.chain_id,
            "blockNumber": chain.block_number,
            "rpcUrl": chain.rpc_url,
        }
    Output(json_output).result(
        data, f"{data['backend']}: chain id {data['chainId']}, block {data['blockNumber']}"
    )


def _deploy_protocol(chain: Any, settings: Settings) -> Any:
    from ledgerlearn.ledger import (
        BeaconParameters,
        GovernanceParameters,
        TokenParameters,
        deploy_protocol,
    )

    token = TokenParameters(
        initial_supply=settings.token.initial_supply * 10**18,
        max_supply=settings.token.max_supply * 10**18,
    )
    beacon = BeaconParameters(
        minimum_bond=settings.randomness.minimum_bond * 10**18,
        fulfilment_window=settings.randomness.fulfilment_window,
        unbonding_blocks=settings.randomness.unbonding_blocks,
    )
    g = settings.governance
    governance = GovernanceParameters(
        voting_delay=g.voting_delay,
        voting_period=g.voting_period,
        proposal_threshold=g.proposal_threshold * 10**18,
        quorum_fraction=g.quorum_fraction,
        late_quorum_extension=g.late_quorum_extension,
        timelock_delay=g.timelock_delay,
        guardian=g.guardian,
    )
    return deploy_protocol(chain, chain.accounts[0], token, beacon, governance)


@app.command()
def deploy(
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing manifest.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Deploy the protocol's contracts and write the deployment manifest."""
    from ledgerlearn.exceptions import InvalidManifestError
    from ledgerlearn.ledger import open_chain

    out = Output(json_output)
    settings = _settings(
        backend=backend, rpc_url=rpc_url, keystore=keystore, use_dev_accounts=dev_accounts
    )
    target = manifest or settings.deployment.manifest
    if target.exists() and not force:
        raise InvalidManifestError(
            f"{target} exists; pass --force to replace it or --manifest PATH"
        )
    keys = _signing_keys(settings, password_file)
    with open_chain(settings.chain, keys=keys) as chain:
        if not chain.accounts:
            raise KeystoreError(
                "no signing account: pass --keystore (or --dev-accounts on a development chain)"
            )
        if chain.backend.name == "embedded":
            out.info(
                "[yellow]note[/]: the embedded chain lives only in this process; use "
                "`ledgerlearn chain up` and --backend rpc for a lasting deployment"
            )
        deployed = _deploy_protocol(chain, settings)
        deployed.verify(chain)
        path = deployed.save(target)
    data = {"manifest": str(path), **deployed.to_json()}
    lines = [f"deployed to chain {deployed.chain_id}; manifest written to {path}"]
    lines += [
        f"  {name}: {rec['address']} (block {rec['block']})"
        for name, rec in data["contracts"].items()
    ]
    out.result(data, "\n".join(lines))


@manifest_app.command("verify")
def manifest_verify(
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check a manifest against the chain: chain id and the code at every address."""
    from ledgerlearn.ledger import DeploymentManifest, open_chain

    settings = _settings(backend=backend, rpc_url=rpc_url)
    path = manifest or settings.deployment.manifest
    loaded = DeploymentManifest.load(path)
    with open_chain(settings.chain, expected_chain_id=loaded.chain_id) as chain:
        loaded.verify(chain)
    Output(json_output).result(
        {"manifest": str(path), "verified": True, **loaded.to_json()},
        f"{path}: {len(loaded.contracts)} contract(s) verified on chain {loaded.chain_id}",
    )


# --- store -------------------------------------------------------------------------------


def _store(root: Path | None) -> Any:
    from ledgerlearn.storage import LocalContentStore

    return LocalContentStore(root or _settings().storage.root)


@store_app.command("put")
def store_put(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Store a file; print its CID."""
    store = _store(root)
    cid = store.put_file(path)
    Output(json_output).result({"cid": cid, "size": path.stat().st_size, "path": str(path)}, cid)


@store_app.command("get")
def store_get(
    cid: str,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file instead of stdout.")
    ] = None,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Fetch content by CID, verified; to a file or stdout."""
    store = _store(root)
    if output is not None:
        store.get_to_file(cid, output)
        Output(json_output).result(
            {"cid": cid, "path": str(output), "size": output.stat().st_size}, str(output)
        )
        return
    if json_output:
        raise typer.BadParameter("--json needs -o/--output (content goes to the file)")
    for chunk in store.iter_chunks(cid):
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


@store_app.command("cid")
def store_cid(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    json_output: JsonOption = False,
) -> None:
    """Print a file's CID without storing it (as `ipfs add -n --cid-version=1 --raw-leaves`)."""
    from ledgerlearn.storage import compute_file_cid

    with path.open("rb") as stream:
        layout = compute_file_cid(stream)
    Output(json_output).result(
        {"cid": layout.cid, "size": layout.size, "path": str(path)}, layout.cid
    )


# --- did ---------------------------------------------------------------------------------


@did_app.command("new")
def did_new(
    key_type: Annotated[str, typer.Option("--type", help="ed25519 or secp256k1.")] = "ed25519",
    method: Annotated[
        str, typer.Option(help="key (did:key) or ethr (did:ethr, secp256k1, needs --chain-id).")
    ] = "key",
    chain_id: Annotated[int | None, typer.Option(help="Chain id for did:ethr.")] = None,
    keystore: Annotated[
        Path | None, typer.Option("--keystore", help="Save the key, encrypted, to this file.")
    ] = None,
    password_file: PasswordFileOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create a key pair and print its did:key (the key is kept only if --keystore is given)."""
    if key_type not in ("ed25519", "secp256k1"):
        raise typer.BadParameter("--type must be ed25519 or secp256k1")
    key: Ed25519Key | Secp256k1Key = (
        Ed25519Key.generate() if key_type == "ed25519" else Secp256k1Key.generate()
    )
    did = did_key_from_key(key)
    if method == "ethr":
        if not isinstance(key, Secp256k1Key) or chain_id is None:
            raise typer.BadParameter("--method ethr needs --type secp256k1 and --chain-id")
        did = ethr_did(chain_id, key.address)
    elif method != "key":
        raise typer.BadParameter("--method must be key or ethr")
    data: dict[str, Any] = {"did": did, "type": key_type}
    if isinstance(key, Secp256k1Key):
        data["address"] = key.address
    if keystore is not None:
        save_keystore(key, keystore, _password(password_file, confirm=True))
        data["keystore"] = str(keystore)
    human = did + (
        f"\nkey saved (encrypted) to {keystore}"
        if keystore
        else "\nkey not saved: pass --keystore FILE to keep it"
    )
    Output(json_output).result(data, human)


@did_app.command("resolve")
def did_resolve(
    did: str,
    block: Annotated[
        int | None, typer.Option(help="did:ethr: resolve as of this block (default: latest).")
    ] = None,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Resolve a DID to its DID document (did:key locally, did:ethr from the chain)."""
    if did.startswith("did:ethr:"):
        result = resolve_ethr(
            did, block, ChainOptions(backend=backend, rpc_url=rpc_url, manifest=manifest)
        )
        Output(json_output).result(result)
        return
    document = did_key_document(did)
    Output(json_output).result(document)


# --- vrf ---------------------------------------------------------------------------------


def _vrf_key(keystore: Path, password_file: Path | None) -> Any:
    from ledgerlearn.randomness import VrfKey

    return VrfKey.derive(load_keystore(keystore, _password(password_file)).unsafe_secret())


def _hex(value: str, what: str) -> bytes:
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError as exc:
        raise typer.BadParameter(f"{what} must be hex") from exc


KeystoreArg = Annotated[
    Path, typer.Option("--keystore", help="Identity keystore the VRF key derives from.")
]


@vrf_app.command("key")
def vrf_key(
    keystore: KeystoreArg, password_file: PasswordFileOption = None, json_output: JsonOption = False
) -> None:
    """Print the VRF public key derived from an identity's keystore."""
    key = _vrf_key(keystore, password_file)
    data = {
        "suite": key.suite.name,
        "publicKey": key.public_key_bytes.hex(),
        "x": hex(key.public_key.x),
        "y": hex(key.public_key.y),
    }
    Output(json_output).result(data, key.public_key_bytes.hex())


@vrf_app.command("prove")
def vrf_prove(
    alpha: Annotated[str, typer.Argument(help="The input, hex.")],
    keystore: KeystoreArg,
    password_file: PasswordFileOption = None,
    json_output: JsonOption = False,
) -> None:
    """Prove the VRF on ALPHA; print the proof and the output."""
    key = _vrf_key(keystore, password_file)
    beta, pi = key.evaluate(_hex(alpha, "ALPHA"))
    data = {"publicKey": key.public_key_bytes.hex(), "pi": pi.hex(), "beta": beta.hex()}
    Output(json_output).result(data, f"pi   {pi.hex()}\nbeta {beta.hex()}")


@vrf_app.command("verify")
def vrf_verify(
    public_key: Annotated[str, typer.Argument(help="Compressed public key, hex.")],
    pi: Annotated[str, typer.Argument(help="The proof, hex.")],
    alpha: Annotated[str, typer.Argument(help="The input, hex.")],
    json_output: JsonOption = False,
) -> None:
    """Verify a proof; print the output (exit 30 if it does not verify)."""
    from ledgerlearn.randomness import SECP256K1_SHA256_TAI

    beta = SECP256K1_SHA256_TAI.verify(
        _hex(public_key, "PUBLIC_KEY"), _hex(pi, "PI"), _hex(alpha, "ALPHA")
    )
    Output(json_output).result({"valid": True, "beta": beta.hex()}, f"valid; beta {beta.hex()}")


# --- simulate ----------------------------------------------------------------------------


@app.command()
def simulate(
    dataset: Annotated[
        str, typer.Option(help="digits, mnist, fashion_mnist, churn or shakespeare.")
    ] = "mnist",
    partition: Annotated[
        str, typer.Option(help="iid, dirichlet:A, quantity:A or natural.")
    ] = "dirichlet:0.5",
    clients: Annotated[int, typer.Option(help="Number of clients.")] = 20,
    rule: Annotated[
        str | None, typer.Option(help="Aggregation rule spec, e.g. krum, nnm+median.")
    ] = None,
    attack: Annotated[
        str | None,
        typer.Option(
            help="NAME[=STRENGTH]:FRACTION, e.g. alie:0.2 (the paper's z) or alie=1.5:0.2."
        ),
    ] = None,
    rounds: Annotated[int, typer.Option(help="Rounds.")] = 30,
    model: Annotated[str, typer.Option(help="mlp, logreg, cnn or lstm (torch extra).")] = "mlp",
    epochs: Annotated[int, typer.Option(help="Local epochs.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Local batch size.")] = 32,
    learning_rate: Annotated[float, typer.Option(help="Local learning rate.")] = 0.05,
    proximal_mu: Annotated[float, typer.Option(help="FedProx mu (0 = FedAvg).")] = 0.0,
    momentum: Annotated[float, typer.Option(help="Client heavy-ball momentum.")] = 0.0,
    max_steps: Annotated[
        int | None,
        typer.Option(min=1, help="Stop local training after this many steps (1 = FedSGD)."),
    ] = None,
    dropout: Annotated[float, typer.Option(help="Per-round crash probability.")] = 0.0,
    max_train: Annotated[
        int | None, typer.Option(help="Use only this many training examples.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Root seed.")] = 0,
    workdir: Annotated[
        Path | None, typer.Option(help="Checkpoint and metrics.jsonl here; resumes if present.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Simulate federated training in process: clients, a rule, an attack, rounds."""
    from ledgerlearn.learning.attacks import make_attack
    from ledgerlearn.learning.models import TrainConfig
    from ledgerlearn.learning.simulation import DEFAULT_RULE, SimulationConfig, run_simulation

    attack_name, fraction = None, 0.0
    if attack:
        attack_name, _, share = attack.partition(":")
        try:
            fraction = float(share or 0.2)
            make_attack(attack_name)
        except ValueError as exc:
            raise typer.BadParameter(
                f"--attack is NAME[=STRENGTH]:FRACTION, e.g. alie:0.2 or alie=1.5:0.2 ({exc})"
            ) from exc
    try:
        local = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            proximal_mu=proximal_mu,
            momentum=momentum,
            max_steps=max_steps,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    config = SimulationConfig(
        dataset=dataset,
        partition=partition,
        clients=clients,
        rule=rule or DEFAULT_RULE,
        attack=attack_name,
        attack_fraction=fraction,
        rounds=rounds,
        model=model,
        local=local,
        dropout=dropout,
        max_train=max_train,
        seed=seed,
    )
    out = Output(json_output)
    try:
        result = run_simulation(config, workdir, progress=not json_output)
    except ValueError as exc:
        if isinstance(exc, LedgerLearnError):
            raise
        raise typer.BadParameter(str(exc)) from exc
    data = {
        "config": {**asdict(config), "local": asdict(config.local)},
        "finalAccuracy": result.final_accuracy,
        "rounds": [asdict(m) for m in result.rounds],
        "workdir": str(workdir) if workdir else None,
    }
    last = result.rounds[-1] if result.rounds else None
    human = (
        f"{len(result.rounds)} rounds; final test accuracy {result.final_accuracy:.4f}"
        + (f" (last round: {last.participants} updates aggregated)" if last else "")
        + (f"; metrics in {workdir / 'metrics.jsonl'}" if workdir else "")
    )
    out.result(data, human)


# --- demo --------------------------------------------------------------------------------


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo writes its files.")] = Path(
        ".ledgerlearn/demo"
    ),
    chain: Annotated[
        str, typer.Option("--chain", help="embedded (in this process) or devnet (anvil).")
    ] = "embedded",
    processes: Annotated[
        bool, typer.Option("--processes", help="Run each training node as its own process.")
    ] = False,
    network_rounds: Annotated[
        int, typer.Option("--network-rounds", min=1, help="Rounds of the training network.")
    ] = 5,
    private: Annotated[
        bool,
        typer.Option(
            "--private", help="Train with client-level DP (epsilon 8); print epsilon per round."
        ),
    ] = False,
    verification: Annotated[
        bool,
        typer.Option(
            "--verification/--no-verification",
            help="Run the verification section (audit, zk proof, optimistic dispute; ~2 min).",
        ),
    ] = True,
    json_output: JsonOption = False,
) -> None:
    """Run the end-to-end demo (embedded chain by default; --chain devnet --processes)."""
    from ledgerlearn.demo import run_demo

    if chain not in ("embedded", "devnet"):
        raise typer.BadParameter("--chain must be embedded or devnet")
    out = Output(json_output)
    report = run_demo(
        workdir,
        say=lambda line: out.info(f"[green]✓[/] {escape(line)}"),
        chain_backend=chain,
        processes=processes,
        network_rounds=network_rounds,
        private=private,
        verification=verification,
    )
    out.result({"steps": report.steps}, f"[bold]demo complete[/]: files in {workdir}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map every error to its exit code and remedy.

    Parameters
    ----------
    argv
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The process exit status.
    """
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    command = typer.main.get_command(app)
    try:
        # Without standalone mode, click returns a typer.Exit's code instead of raising it.
        returned = command.main(args=args, prog_name="ledgerlearn", standalone_mode=False)
        if isinstance(returned, int) and returned:
            return returned
    except LedgerLearnError as exc:
        if _state.debug:
            raise
        print_error(str(exc), exc.exit_code, as_json)
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except TyperException as exc:
        if as_json:
            print_error(exc.format_message(), ExitCode.USAGE, True)
        else:
            print_error(exc.format_message(), ExitCode.USAGE, False)
        return ExitCode.USAGE
    except (KeyboardInterrupt, typer.Abort):
        print_error("interrupted", ExitCode.INTERRUPTED, as_json)
        return ExitCode.INTERRUPTED
    return ExitCode.OK
