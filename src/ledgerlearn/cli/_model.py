"""``ledgerlearn model``: the model registry — create, grant, publish, inspect, verify, pull.

Reads need ``--backend rpc --rpc-url URL --manifest F``; writes also a signing key
(``--keystore`` or ``--dev-accounts --account N``), all given before the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlearn.cli._common import JsonOption, Session, group, reading, session
from ledgerlearn.cli._output import Output

__all__ = ["app"]

app = group("Model registry: publish, inspect, verify, pull.")


def _client(session: Session) -> Any:
    from ledgerlearn.registry import ModelRegistryClient

    return ModelRegistryClient(session.chain, session.deployment, session.store)


def _record_lines(record: Any, chain_id: int) -> str:
    data = record.to_json(chain_id)
    return "\n".join(f"  {k}: {v}" for k, v in data.items() if k != "signature")


@app.command("create")
def model_create(
    name: str,
    owner: Annotated[
        str | None, typer.Option(help="Owning identity (default: the signing account).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a model name; its owner identity may publish and grant roles."""
    with session() as s:
        model_id = _client(s).create_model(s.signer, name, owner=owner)
    Output(json_output).result(
        {"name": name, "modelId": "0x" + model_id.hex()}, f"model {name} created"
    )


@app.command("grant")
def model_grant(
    name: str,
    role: Annotated[str, typer.Argument(help="owner or publisher.")],
    identity: Annotated[str, typer.Argument(help="Address or did:ethr receiving the role.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the role away instead.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Grant (or --revoke) a per-model role; the signer must own the model."""
    with session() as s:
        _client(s).set_role(s.signer, name, role, identity, granted=not revoke)
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


@app.command("publish")
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
    with session() as s:
        record = _client(s).publish(
            s.signer,
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


@app.command("show")
def model_show(
    ref: Annotated[str, typer.Argument(help="NAME (the registry's view) or NAME@CHANNEL|VERSION.")],
    json_output: JsonOption = False,
) -> None:
    """Show a model's channels and versions, or one version's record."""
    with reading() as s:
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


@app.command("history")
def model_history(
    name: str,
    json_output: JsonOption = False,
) -> None:
    """List a model's events: versions, channel moves (with proposal and report), revocations."""
    with reading() as s:
        events = _client(s).history(name)
    lines = []
    for e in events:
        detail = {k: v for k, v in e.items() if k not in ("event", "block", "tx")}
        lines.append(f"block {e['block']:>6}  {e['event']}: {detail}")
    Output(json_output).result({"model": name, "events": events}, "\n".join(lines))


@app.command("lineage")
def model_lineage(
    ref: str,
    json_output: JsonOption = False,
) -> None:
    """Show a version's ancestry back to its root."""
    with reading() as s:
        records = _client(s).lineage(ref)
        data = [r.to_json(s.chain.chain_id) for r in records]
    human = " <- ".join(f"v{r['version']} ({r['status']})" for r in data)
    Output(json_output).result({"lineage": data}, human)


@app.command("verify")
def model_verify(
    ref: str,
    json_output: JsonOption = False,
) -> None:
    """Check a version's signature, manifest and weights against the chain; write nothing."""
    with reading() as s:
        report = _client(s).verify(ref)
        data = {
            "verified": True,
            **report.record.to_json(s.chain.chain_id),
            "checks": report.checks,
        }
    Output(json_output).result(data, "verified:\n" + "\n".join(f"  ✓ {c}" for c in report.checks))


@app.command("pull")
def model_pull(
    ref: str,
    destination: Annotated[Path, typer.Argument(help="Directory to create.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a non-empty destination.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Verify a version and write its weights and manifest into DESTINATION."""
    with reading() as s:
        result = _client(s).pull(ref, destination, force=force)
        data = {
            **result.report.record.to_json(s.chain.chain_id),
            "directory": str(result.directory),
            "weights": str(result.weights),
            "manifest": str(result.manifest),
            "checks": result.report.checks,
        }
    Output(json_output).result(data, f"{ref} verified and written to {result.directory}")
