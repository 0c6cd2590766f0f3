"""CLI areas that act on a deployed protocol: ``did`` (did:ethr), ``model`` and ``gov``.

They need a lasting chain with a deployment manifest (``ledgerlearn chain up --deploy`` or
``ledgerlearn deploy``) and a signing key: ``--keystore`` (any chain) or ``--dev-accounts``
with ``--account N`` (development chains only).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlearn.cli._options import (
    AccountOption,
    BackendOption,
    DevAccountsOption,
    JsonOption,
    KeystoreOption,
    ManifestOption,
    PasswordFileOption,
    RpcOption,
    StoreRootOption,
)
from ledgerlearn.cli._output import Output
from ledgerlearn.exceptions import ConfigError, KeystoreError

__all__ = ["did_ethr_commands", "gov_app", "model_app"]

model_app = typer.Typer(
    help="Model registry: publish, inspect, verify, pull.", no_args_is_help=True
)
gov_app = typer.Typer(help="Governance: proposals, votes, the timelock.", no_args_is_help=True)


@dataclass
class ChainOptions:
    """Where the chain and deployment are, and who signs."""

    backend: str | None = None
    rpc_url: str | None = None
    manifest: Path | None = None
    keystore: Path | None = None
    password_file: Path | None = None
    dev_accounts: bool = False
    account: int = 0
    root: Path | None = None


@dataclass
class Session:
    """An open chain with its verified deployment, a signing key and the content store."""

    chain: Any
    deployment: Any
    key: Any
    store: Any


@contextmanager
def _session(opts: ChainOptions, *, need_key: bool = True) -> Iterator[Session]:
    from ledgerlearn.cli._app import _password, _settings
    from ledgerlearn.identity import Secp256k1Key, load_keystore
    from ledgerlearn.ledger import DeploymentManifest, open_chain
    from ledgerlearn.storage import LocalContentStore

    settings = _settings(
        backend=opts.backend,
        rpc_url=opts.rpc_url,
        keystore=opts.keystore,
        use_dev_accounts=opts.dev_accounts,
    )
    if settings.chain.backend == "embedded":
        raise ConfigError(
            "this command needs a lasting chain: run `ledgerlearn chain up --deploy` and pass "
            "--backend rpc --rpc-url URL (the embedded chain lives only inside one process)"
        )
    deployment = DeploymentManifest.load(opts.manifest or settings.deployment.manifest)
    keys: list[Secp256k1Key] = []
    if settings.chain.keystore is not None:
        loaded = load_keystore(settings.chain.keystore, _password(opts.password_file))
        if not isinstance(loaded, Secp256k1Key):
            raise KeystoreError(f"{settings.chain.keystore} holds an Ed25519 key; use secp256k1")
        keys = [loaded]
    with open_chain(settings.chain, keys=keys, expected_chain_id=deployment.chain_id) as chain:
        deployment.verify(chain)
        key = None
        if keys:
            key = keys[0]
        elif chain.accounts and opts.dev_accounts:
            if not 0 <= opts.account < len(chain.accounts):
                raise typer.BadParameter(f"--account must be 0..{len(chain.accounts) - 1}")
            key = chain.accounts[opts.account]
        if need_key and key is None:
            raise KeystoreError(
                "no signing key: pass --keystore FILE (or --dev-accounts --account N on a "
                "development chain)"
            )
        store = LocalContentStore(opts.root or settings.storage.root)
        yield Session(chain, deployment, key, store)


def _reading(
    backend: str | None, rpc_url: str | None, manifest: Path | None, root: Path | None = None
) -> AbstractContextManager[Session]:
    """Open a session that only reads (no signing key)."""
    options = ChainOptions(backend, rpc_url, manifest, None, None, False, 0, root)
    return _session(options, need_key=False)


def _options(
    backend: str | None,
    rpc_url: str | None,
    manifest: Path | None,
    keystore: Path | None,
    password_file: Path | None,
    dev_accounts: bool,
    account: int,
    root: Path | None = None,
) -> ChainOptions:
    return ChainOptions(
        backend, rpc_url, manifest, keystore, password_file, dev_accounts, account, root
    )


# --- did (did:ethr writes and resolution) ----------------------------------------------------


def did_ethr_commands(did_app: typer.Typer) -> None:
    """Add the did:ethr commands (resolve on chain, rotate, delegate, revoke) to ``did``.

    Parameters
    ----------
    did_app
        The ``did`` sub-app.
    """

    @did_app.command("rotate")
    def did_rotate(
        new_owner: Annotated[str, typer.Argument(help="Address of the new owner key.")],
        identity: Annotated[
            str | None, typer.Option(help="The identity (default: the signing account).")
        ] = None,
        backend: BackendOption = None,
        rpc_url: RpcOption = None,
        manifest: ManifestOption = None,
        keystore: KeystoreOption = None,
        password_file: PasswordFileOption = None,
        dev_accounts: DevAccountsOption = False,
        account: AccountOption = 0,
        json_output: JsonOption = False,
    ) -> None:
        """Rotate a did:ethr's owner key (0x000…0 deactivates the DID for good)."""
        from ledgerlearn.identity import EthrDidRegistry

        opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
        with _session(opts) as s:
            registry = EthrDidRegistry(s.chain, s.deployment.get_address("IdentityRegistry"))
            target = _address(identity, s) if identity else s.key.address
            receipt = registry.change_owner(s.key, target, new_owner)
            data = {
                "did": registry.did(target),
                "newOwner": new_owner,
                "block": int(receipt["blockNumber"]),
            }
        Output(json_output).result(
            data, f"{data['did']} is now owned by {new_owner} (block {data['block']})"
        )

    @did_app.command("delegate")
    def did_delegate(
        delegate: Annotated[str, typer.Argument(help="Address of the delegate key.")],
        delegate_type: Annotated[
            str, typer.Option("--type", help="veriKey (signs) or sigAuth (signs, authenticates).")
        ] = "veriKey",
        validity: Annotated[
            int, typer.Option(help="Seconds the delegate stays valid.")
        ] = 31_536_000,
        identity: Annotated[
            str | None, typer.Option(help="The identity (default: the signing account).")
        ] = None,
        backend: BackendOption = None,
        rpc_url: RpcOption = None,
        manifest: ManifestOption = None,
        keystore: KeystoreOption = None,
        password_file: PasswordFileOption = None,
        dev_accounts: DevAccountsOption = False,
        account: AccountOption = 0,
        json_output: JsonOption = False,
    ) -> None:
        """Add a delegate key to a did:ethr for a period."""
        from ledgerlearn.identity import EthrDidRegistry

        if delegate_type not in ("veriKey", "sigAuth"):
            raise typer.BadParameter("--type must be veriKey or sigAuth")
        opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
        with _session(opts) as s:
            registry = EthrDidRegistry(s.chain, s.deployment.get_address("IdentityRegistry"))
            target = _address(identity, s) if identity else s.key.address
            receipt = registry.add_delegate(
                s.key, target, delegate, delegate_type=delegate_type, validity=validity
            )
            data = {
                "did": registry.did(target),
                "delegate": delegate,
                "type": delegate_type,
                "validity": validity,
                "block": int(receipt["blockNumber"]),
            }
        Output(json_output).result(
            data, f"{delegate} is a {delegate_type} delegate of {data['did']} for {validity} s"
        )

    @did_app.command("revoke")
    def did_revoke(
        delegate: Annotated[str, typer.Argument(help="Address of the delegate key.")],
        delegate_type: Annotated[
            str, typer.Option("--type", help="veriKey or sigAuth.")
        ] = "veriKey",
        identity: Annotated[
            str | None, typer.Option(help="The identity (default: the signing account).")
        ] = None,
        backend: BackendOption = None,
        rpc_url: RpcOption = None,
        manifest: ManifestOption = None,
        keystore: KeystoreOption = None,
        password_file: PasswordFileOption = None,
        dev_accounts: DevAccountsOption = False,
        account: AccountOption = 0,
        json_output: JsonOption = False,
    ) -> None:
        """Revoke a delegate key of a did:ethr from this block on."""
        from ledgerlearn.identity import EthrDidRegistry

        opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
        with _session(opts) as s:
            registry = EthrDidRegistry(s.chain, s.deployment.get_address("IdentityRegistry"))
            target = _address(identity, s) if identity else s.key.address
            receipt = registry.revoke_delegate(s.key, target, delegate, delegate_type=delegate_type)
            data = {
                "did": registry.did(target),
                "revoked": delegate,
                "type": delegate_type,
                "block": int(receipt["blockNumber"]),
            }
        Output(json_output).result(
            data, f"{delegate} revoked from {data['did']} at block {data['block']}"
        )


def resolve_ethr(
    did: str,
    block: int | None,
    opts: ChainOptions,
) -> dict[str, Any]:
    """Resolve a did:ethr on the configured chain (used by ``did resolve``).

    Parameters
    ----------
    did
        The DID.
    block
        Resolve as of this block (default: latest).
    opts
        Chain and manifest options.

    Returns
    -------
    dict
        ``didDocument`` and ``didDocumentMetadata``.
    """
    from ledgerlearn.identity import EthrDidResolver

    with _session(opts, need_key=False) as s:
        resolver = EthrDidResolver(s.chain, s.deployment.get_address("IdentityRegistry"))
        result = resolver.resolve(did, block=block if block is not None else "latest")
    return {"didDocument": result.document, "didDocumentMetadata": result.metadata}


def _address(identity: str, session: Session) -> str:
    from ledgerlearn.identity import address_of

    return address_of(identity, session.chain.chain_id)


# --- model -------------------------------------------------------------------------------------


def _client(session: Session) -> Any:
    from ledgerlearn.registry import ModelRegistryClient

    return ModelRegistryClient(session.chain, session.deployment, session.store)


def _record_lines(record: Any, chain_id: int) -> str:
    data = record.to_json(chain_id)
    return "\n".join(f"  {k}: {v}" for k, v in data.items() if k != "signature")


@model_app.command("create")
def model_create(
    name: str,
    owner: Annotated[
        str | None, typer.Option(help="Owning identity (default: the signing account).")
    ] = None,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Create a model name; its owner identity may publish and grant roles."""
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        model_id = _client(s).create_model(s.key, name, owner=owner)
    Output(json_output).result(
        {"name": name, "modelId": "0x" + model_id.hex()}, f"model {name} created"
    )


@model_app.command("grant")
def model_grant(
    name: str,
    role: Annotated[str, typer.Argument(help="owner or publisher.")],
    identity: Annotated[str, typer.Argument(help="Address or did:ethr receiving the role.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the role away instead.")] = False,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Grant (or --revoke) a per-model role; the signer must own the model."""
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        _client(s).set_role(s.key, name, role, identity, granted=not revoke)
    verb = "revoked from" if revoke else "granted to"
    Output(json_output).result(
        {"name": name, "role": role, "identity": identity, "granted": not revoke},
        f"{role} of {name} {verb} {identity}",
    )


def _json_option(value: str | None, what: str, default: Any) -> Any:
    if value is None:
        return default
    source = value
    if value.startswith("@"):
        source = Path(value[1:]).read_text()
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{what} must be JSON (or @FILE): {exc}") from exc


@model_app.command("publish")
def model_publish(
    name: str,
    weights: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    license: Annotated[str, typer.Option(help="SPDX licence identifier.")] = "Apache-2.0",
    framework: Annotated[str, typer.Option(help="numpy, torch, onnx ...")] = "numpy",
    architecture: Annotated[
        str | None, typer.Option(help='JSON (or @FILE), e.g. {"name": "mlp"}.')
    ] = None,
    inputs: Annotated[str | None, typer.Option(help="JSON list of input tensor specs.")] = None,
    outputs: Annotated[str | None, typer.Option(help="JSON list of output tensor specs.")] = None,
    preprocessing: Annotated[str | None, typer.Option(help="JSON preprocessing.")] = None,
    card: Annotated[
        str | None,
        typer.Option(help="Model card JSON: summary, training, evaluation, dataManifests."),
    ] = None,
    parent: Annotated[int, typer.Option(help="Parent version (0 = root).")] = 0,
    publisher: Annotated[
        str | None, typer.Option(help="Publishing identity (default: the signer).")
    ] = None,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Store weights + manifest, sign the manifest, register a new version."""
    from ledgerlearn.registry import ModelCard

    card_data = _json_option(card, "--card", {})
    model_card = ModelCard(
        summary=str(card_data.get("summary", "")),
        training=dict(card_data.get("training", {})),
        evaluation={k: float(v) for k, v in dict(card_data.get("evaluation", {})).items()},
        data_manifests=list(card_data.get("dataManifests", [])),
    )
    opts = _options(
        backend, rpc_url, manifest, keystore, password_file, dev_accounts, account, root
    )
    with _session(opts) as s:
        record = _client(s).publish(
            s.key,
            name,
            weights,
            framework=framework,
            architecture=_json_option(architecture, "--architecture", {"name": name}),
            inputs=_json_option(inputs, "--inputs", []),
            outputs=_json_option(outputs, "--outputs", []),
            preprocessing=_json_option(preprocessing, "--preprocessing", {}),
            license=license,
            card=model_card,
            parent_version=parent,
            publisher=publisher,
        )
        data = record.to_json(s.chain.chain_id)
    Output(json_output).result(
        data,
        f"published {name}@{record.version}\n"
        + "\n".join(f"  {k}: {v}" for k, v in data.items() if k != "signature"),
    )


@model_app.command("show")
def model_show(
    ref: Annotated[str, typer.Argument(help="NAME (the registry's view) or NAME@CHANNEL|VERSION.")],
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a model's channels and versions, or one version's record."""
    with _reading(backend, rpc_url, manifest) as s:
        client = _client(s)
        if "@" not in ref:
            view = client.view(ref)
            lines = [
                f"{view['name']} ({view['versionCount']} versions)"
                + (" [PAUSED]" if view["paused"] else "")
            ]
            lines += [f"  channel {c} -> v{v}" for c, v in view["channels"].items()]
            lines += [
                f"  v{v['version']}: {v['status']} (parent v{v['parentVersion']}) "
                f"sha256 {v['artifactSha256'][:16]}…"
                for v in view["versions"]
            ]
            Output(json_output).result(view, "\n".join(lines))
            return
        record = client.resolve(ref)
        Output(json_output).result(
            record.to_json(s.chain.chain_id),
            f"{ref} = {record.model}@{record.version}\n" + _record_lines(record, s.chain.chain_id),
        )


@model_app.command("history")
def model_history(
    name: str,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """List a model's events: versions, channel moves (with proposal and report), revocations."""
    with _reading(backend, rpc_url, manifest) as s:
        events = _client(s).history(name)
    lines = []
    for e in events:
        detail = {k: v for k, v in e.items() if k not in ("event", "block", "tx")}
        lines.append(f"block {e['block']:>6}  {e['event']}: {detail}")
    Output(json_output).result({"model": name, "events": events}, "\n".join(lines))


@model_app.command("lineage")
def model_lineage(
    ref: str,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a version's ancestry back to its root."""
    with _reading(backend, rpc_url, manifest) as s:
        records = _client(s).lineage(ref)
        data = [r.to_json(s.chain.chain_id) for r in records]
    human = " <- ".join(f"v{r['version']} ({r['status']})" for r in data)
    Output(json_output).result({"lineage": data}, human)


@model_app.command("verify")
def model_verify(
    ref: str,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check a version's signature, manifest and weights against the chain; write nothing."""
    with _reading(backend, rpc_url, manifest, root) as s:
        report = _client(s).verify(ref)
        data = {
            "verified": True,
            **report.record.to_json(s.chain.chain_id),
            "checks": report.checks,
        }
    Output(json_output).result(data, "verified:\n" + "\n".join(f"  ✓ {c}" for c in report.checks))


@model_app.command("pull")
def model_pull(
    ref: str,
    destination: Annotated[Path, typer.Argument(help="Directory to create.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a non-empty destination.")
    ] = False,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Verify a version and write its weights and manifest into DESTINATION."""
    with _reading(backend, rpc_url, manifest, root) as s:
        result = _client(s).pull(ref, destination, force=force)
        data = {
            **result.report.record.to_json(s.chain.chain_id),
            "directory": str(result.directory),
            "weights": str(result.weights),
            "manifest": str(result.manifest),
            "checks": result.report.checks,
        }
    Output(json_output).result(data, f"{ref} verified and written to {result.directory}")


# --- gov -----------------------------------------------------------------------------------------


def _governance(session: Session) -> Any:
    from ledgerlearn.governance import Governance

    return Governance(session.chain, session.deployment, session.store)


def _status_human(status: Any) -> str:
    v = status.votes
    return (
        f"proposal {status.proposal_id}\n  state: {status.state}\n"
        f"  {status.description.splitlines()[0]}\n"
        f"  votes: for {v['for']}, against {v['against']}, abstain {v['abstain']} "
        f"(quorum {status.quorum})\n  voting blocks {status.snapshot}..{status.deadline}"
        + (f", eta {status.eta}" if status.eta else "")
        + f"\n  next: {status.next_step}"
    )


@gov_app.command("delegate")
def gov_delegate(
    to: Annotated[str | None, typer.Argument(help="Delegatee (default: yourself).")] = None,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Delegate your token votes (needed once before your tokens can vote)."""
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        gov = _governance(s)
        gov.delegate(s.key, to)
        votes = gov.votes(to or s.key.address)
    Output(json_output).result(
        {"delegatee": to or s.key.address, "votes": str(votes)},
        f"votes delegated; {to or s.key.address} now has {votes} votes",
    )


def _proposed(proposal_id: int, session: Session, json_output: bool) -> None:
    status = _governance(session).status(proposal_id)
    Output(json_output).result(status.to_json(), _status_human(status))


@gov_app.command("propose-promotion")
def gov_propose_promotion(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION to promote.")],
    report: Annotated[str, typer.Option("--report", help="CID of the evaluation report.")],
    channel: Annotated[str, typer.Option(help="Channel to move.")] = "production",
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Propose pointing a channel at a version, citing an evaluation report."""
    from ledgerlearn.registry import parse_model_ref

    parsed = parse_model_ref(ref)
    if parsed.version is None:
        raise typer.BadParameter("REF must name a version: NAME@VERSION")
    opts = _options(
        backend, rpc_url, manifest, keystore, password_file, dev_accounts, account, root
    )
    with _session(opts) as s:
        pid = _governance(s).propose_promotion(
            s.key, parsed.name, parsed.version, evaluation_report=report, channel=channel
        )
        _proposed(pid, s, json_output)


@gov_app.command("propose-rollback")
def gov_propose_rollback(
    name: str,
    channel: Annotated[str, typer.Option(help="Channel to move back.")] = "production",
    to_version: Annotated[
        int | None, typer.Option(help="Version to return to (default: the previous one).")
    ] = None,
    report: Annotated[
        str | None, typer.Option("--report", help="Report CID (default: the one cited before).")
    ] = None,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    root: StoreRootOption = None,
    json_output: JsonOption = False,
) -> None:
    """Propose pointing a channel back at its previous version."""
    opts = _options(
        backend, rpc_url, manifest, keystore, password_file, dev_accounts, account, root
    )
    with _session(opts) as s:
        pid = _governance(s).propose_rollback(
            s.key, name, channel=channel, to_version=to_version, evaluation_report=report
        )
        _proposed(pid, s, json_output)


@gov_app.command("propose-parameter")
def gov_propose_parameter(
    parameter: Annotated[str, typer.Argument(help="e.g. voting_period, timelock_delay.")],
    value: str,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Propose changing a governance parameter."""
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        pid = _governance(s).propose_parameter_change(s.key, parameter, value)
        _proposed(pid, s, json_output)


def _proposal_id(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError as exc:
        raise typer.BadParameter("PROPOSAL_ID is the decimal id `gov status` prints") from exc


@gov_app.command("vote")
def gov_vote(
    proposal_id: str,
    support: Annotated[str, typer.Argument(help="for, against or abstain.")] = "for",
    reason: Annotated[str, typer.Option(help="Reason, recorded on chain.")] = "",
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Vote on an active proposal."""
    if support not in ("for", "against", "abstain"):
        raise typer.BadParameter("SUPPORT must be for, against or abstain")
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        weight = _governance(s).vote(s.key, _proposal_id(proposal_id), support, reason=reason)
    Output(json_output).result(
        {"proposalId": proposal_id, "support": support, "weight": str(weight)},
        f"voted {support} with {weight} votes",
    )


@gov_app.command("queue")
def gov_queue(
    proposal_id: str,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Queue a succeeded proposal in the timelock."""
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        eta = _governance(s).queue(s.key, _proposal_id(proposal_id))
    Output(json_output).result(
        {"proposalId": proposal_id, "eta": eta}, f"queued; executable after timestamp {eta}"
    )


@gov_app.command("execute")
def gov_execute(
    proposal_id: str,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    keystore: KeystoreOption = None,
    password_file: PasswordFileOption = None,
    dev_accounts: DevAccountsOption = False,
    account: AccountOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Execute a queued proposal whose timelock delay has passed."""
    opts = _options(backend, rpc_url, manifest, keystore, password_file, dev_accounts, account)
    with _session(opts) as s:
        gov = _governance(s)
        gov.execute(s.key, _proposal_id(proposal_id))
        status = gov.status(_proposal_id(proposal_id))
    Output(json_output).result(status.to_json(), _status_human(status))


@gov_app.command("status")
def gov_status(
    proposal_id: Annotated[str | None, typer.Argument(help="Default: list every proposal.")] = None,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a proposal's state, votes and next step (or list all proposals)."""
    with _reading(backend, rpc_url, manifest) as s:
        gov = _governance(s)
        ids = [_proposal_id(proposal_id)] if proposal_id else gov.proposal_ids()
        statuses = [gov.status(pid) for pid in ids]
    if proposal_id:
        Output(json_output).result(statuses[0].to_json(), _status_human(statuses[0]))
    else:
        Output(json_output).result(
            {"proposals": [st.to_json() for st in statuses]},
            "\n".join(_status_human(st) for st in statuses) or "no proposals yet",
        )


@gov_app.command("advance")
def gov_advance(
    blocks: Annotated[int, typer.Option(help="Blocks to mine.")] = 0,
    seconds: Annotated[int, typer.Option(help="Seconds to move the clock.")] = 0,
    backend: BackendOption = None,
    rpc_url: RpcOption = None,
    manifest: ManifestOption = None,
    json_output: JsonOption = False,
) -> None:
    """Mine blocks and move time on a development chain (to reach vote ends and ETAs)."""
    with _reading(backend, rpc_url, manifest) as s:
        if blocks:
            s.chain.mine(blocks)
        if seconds:
            s.chain.advance_time(seconds)
        data = {"block": s.chain.block_number, "timestamp": s.chain.timestamp()}
    Output(json_output).result(data, f"head is block {data['block']} at {data['timestamp']}")
