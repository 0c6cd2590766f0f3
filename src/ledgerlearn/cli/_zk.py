"""CLI for zk proofs of inference: ``zk setup|fetch|prove|verify``.

``setup`` builds a registered model version's circuit (EZKL: ONNX export, settings,
calibration, compiled circuit, local SRS, keys, Solidity verifier), deploys the verifier,
stores the files by CID and binds them to the version in the registry. ``fetch`` rebuilds
the circuit directory from the registry and the store, checking every hash and the
verifier's code. ``prove`` settles a proven request as a drawn provider. ``verify``
re-checks a settled proven answer from the chain and the store alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlearn.cli._common import JsonOption, Session, group, reading, session
from ledgerlearn.cli._output import Output

__all__ = ["app"]

app = group("zk proofs of inference (EZKL): circuits bound to model versions, proven answers.")


def _client(session: Session) -> Any:
    from ledgerlearn.registry import ModelRegistryClient

    return ModelRegistryClient(session.chain, session.deployment, session.store)


CircuitDirOption = Annotated[
    Path, typer.Option("--dir", help="The circuit directory (written by setup and fetch).")
]


def _version(session: Session, ref: str) -> tuple[str, int]:
    from ledgerlearn.registry import parse_model_ref

    record = _client(session).resolve(ref)
    return parse_model_ref(ref).name, int(record.version)


def _calibration(path: Path | None, features: int) -> Any:
    import numpy as np

    if path is None:
        # Without data, EZKL scales for standardised features; pass real rows for accuracy.
        return np.random.default_rng(0).normal(size=(16, features)).astype(np.float32)
    try:
        rows = np.asarray(json.loads(path.read_text())["x"], dtype=np.float32)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise typer.BadParameter(
            f'--calibration must be JSON {{"x": [[...], ...]}}: {exc}'
        ) from exc
    if rows.ndim != 2 or rows.shape[1] != features:
        raise typer.BadParameter(f"--calibration rows must have {features} values each")
    return rows


@app.command("setup")
def zk_setup(
    model: Annotated[str, typer.Argument(help="NAME@VERSION (or NAME@CHANNEL).")],
    directory: CircuitDirOption = Path("circuit"),
    calibration: Annotated[
        Path | None,
        typer.Option(help='JSON {"x": [[...], ...]} sample inputs for calibration.'),
    ] = None,
    srs: Annotated[
        Path | None,
        typer.Option(help="A ceremony SRS file; without it a local SRS is made (development)."),
    ] = None,
    weights: Annotated[
        str,
        typer.Option(
            help="How proofs bind the weights: 'hashed' (a public Poseidon commitment) or "
            "'fixed' (circuit constants the verifying key commits to; far fewer rows, for "
            "models whose hashed circuit is too large, e.g. a 784-input MLP)."
        ),
    ] = "hashed",
    json_output: JsonOption = False,
) -> None:
    """Build a version's circuit, deploy its verifier and bind both to it in the registry."""
    from ledgerlearn.oracle import load_network
    from ledgerlearn.verification import publish_circuit, setup_circuit
    from ledgerlearn.verification.proven import check_unbound
    from ledgerlearn.verification.zk import WEIGHTS

    if weights not in WEIGHTS:
        raise typer.BadParameter(f"--weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    out = Output(json_output)
    with session() as s:
        name, version = _version(s, model)
        registry = _client(s)
        check_unbound(registry, name, version)
        network, _ = load_network(registry, name, version)
        rows = _calibration(calibration, network.sizes[0])
        circuit = setup_circuit(network, rows, directory, srs=srs, log=out.info, weights=weights)
        binding = publish_circuit(s.chain, registry, s.signer, name, version, circuit)
    data = {
        "model": name,
        "version": version,
        "directory": str(directory),
        "logrows": circuit.logrows,
        "localSrs": circuit.local_srs,
        "verifier": binding.verifier,
        "weightCommitment": f"0x{binding.weight_commitment:064x}",
        "weights": circuit.weights,
        "manifestCid": binding.manifest_cid,
    }
    warning = (
        "\n  the SRS was generated here: development only; production needs a ceremony SRS"
        if circuit.local_srs
        else ""
    )
    out.result(
        data,
        f"circuit of {name}@{version} bound: verifier {binding.verifier}, "
        f"manifest {binding.manifest_cid}{warning}",
    )


@app.command("fetch")
def zk_fetch(
    model: Annotated[str, typer.Argument(help="NAME@VERSION (or NAME@CHANNEL).")],
    directory: CircuitDirOption = Path("circuit"),
    audit: Annotated[
        bool,
        typer.Option(
            "--audit",
            help="Also rebuild the circuit from the registered weights (ONNX export, then "
            "the verifying key) and refuse it if either differs.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Rebuild a version's circuit from the registry and the store, checking every hash."""
    from ledgerlearn.verification import fetch_circuit

    with reading() as s:
        name, version = _version(s, model)
        circuit = fetch_circuit(s.chain, _client(s), name, version, directory, audit=audit)
    checked = "verifier code checked" + (", rebuilt from the registered weights" if audit else "")
    Output(json_output).result(
        {"model": name, "version": version, "directory": str(directory), "audited": audit}
        | circuit.to_json(),
        f"circuit of {name}@{version} fetched to {directory} ({checked})",
    )


@app.command("prove")
def zk_prove(
    request_id: Annotated[int, typer.Argument(help="A proven request you were drawn for.")],
    directory: CircuitDirOption = Path("circuit"),
    provider: Annotated[
        str, typer.Option(help="The provider identity (default: the signing account).")
    ] = "",
    json_output: JsonOption = False,
) -> None:
    """Prove a request's inference and settle it on chain."""
    from ledgerlearn.oracle import OracleClient
    from ledgerlearn.verification import Circuit, prove_request

    circuit = Circuit.load(directory)
    with session() as s:
        oracle = OracleClient(s.chain, s.deployment)
        proof = prove_request(oracle, s.store, circuit, s.signer, request_id, provider=provider)
    Output(json_output).result(
        {"request": request_id, "label": proof.label, "proofBytes": len(proof.proof)},
        f"request {request_id} settled by proof: label {proof.label}",
    )


@app.command("verify")
def zk_verify(
    request_id: Annotated[int, typer.Argument(help="A fulfilled proven request.")],
    directory: CircuitDirOption = Path("circuit"),
    json_output: JsonOption = False,
) -> None:
    """Re-check a proven answer from the chain and the store; exit 92 if it does not hold."""
    from ledgerlearn.oracle import OracleClient
    from ledgerlearn.verification import Circuit, verify_proven_answer

    circuit = Circuit.load(directory)
    with reading() as s:
        proof = verify_proven_answer(
            OracleClient(s.chain, s.deployment), s.store, circuit, request_id
        )
    Output(json_output).result(
        {"request": request_id, "ok": True, "label": proof.label},
        f"request {request_id}: proof verifies for this circuit, input and label {proof.label}",
    )
