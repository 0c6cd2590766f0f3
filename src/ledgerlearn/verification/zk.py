"""Zero-knowledge proofs of inference with EZKL (Halo2 over BN254 with KZG commitments).

A registered model is exported to ONNX (opset 18, weights inside the file, a fixed batch of
one, logits out) and turned into a circuit with EZKL: settings with the input *hashed*
(Poseidon) and the logits public, calibration on sample inputs, compiled circuit, SRS,
proving and verifying keys, and the Solidity verifier EZKL renders. The weights are bound in
one of two ways (``weights=``):

``"hashed"`` (default)
    The circuit hashes the weights too; a proof's public instances are ``[input hash, weight
    commitment, logits...]``: a verifier who holds the model version's weight commitment and
    the request's input hash checks that *these* weights gave *these* logits on *this*
    input. Poseidon costs about 42 rows per parameter, so a 784-32-10 MLP needs 2^21 rows,
    whose key setup does not fit in 24 GB.
``"fixed"``
    The weights are constants of the circuit, so the verifying key (which the verifier
    contract embeds) commits to them, and the weight commitment is the keccak256 of that
    key; a proof's instances are ``[input hash, logits...]``. The same MLP needs 2^15 rows.
    The verifier is then specific to one model version, which the registry binding is
    anyway; anyone re-running EZKL's setup on the stored circuit and SRS gets the same key.

The verifier contract is compiled here with the pinned solc-js (EZKL's own compile step
downloads a solc binary, which these machines cannot) and deployed like any contract; the
oracle's zk mode calls it. EZKL's asynchronous calls (``create_evm_verifier`` needs a
running event loop; others return awaitables in some versions) go through :func:`_run`.

References: EZKL (zkonduit/ezkl); Halo2 (Zcash); KZG, Kate, Zaverucha, Goldberg,
ASIACRYPT 2010; Poseidon, Grassi et al., USENIX Security 2021.

Trust assumption: soundness rests on the SRS. ``zk setup`` generates one locally with
EZKL's ``gen_srs`` because the ceremony SRS cannot be downloaded here; whoever generated
it knows its toxic waste and could forge proofs, so it is for development only — a
production deployment must pass a ceremony SRS (``--srs``, e.g. the perpetual powers of tau
files EZKL publishes) and record its hash. A local SRS is made once per size and machine
and kept in ``$LEDGERLEARN_SRS_CACHE`` (default ``~/.cache/ledgerlearn/srs``); reusing it
changes nothing in that trust: it was development-only when it was made.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import hashlib
import inspect
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import InvalidProofError, VerificationError, ZkToolchainError
from ledgerlearn.learning.models import MLP

__all__ = [
    "BN254_ORDER",
    "Circuit",
    "Proof",
    "WEIGHTS",
    "audit_circuit",
    "input_hash",
    "install_directory",
    "key_commitment",
    "prove",
    "setup_circuit",
    "verify_proof",
]

BN254_ORDER = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""The scalar field of BN254, in which every instance lives."""

OPSET = 18
"""The ONNX opset circuits are built from."""

_VERIFIER_CONTRACT = "Halo2Verifier"

WEIGHTS = ("hashed", "fixed")
"""How a circuit binds the weights: hashed into a public instance, or fixed in the key."""


_REPO_ENV = "EZKL_REPO_PATH"
_PRIVATE_REPO = "ledgerlearn-ezkl-"


def _private_repo() -> None:
    """Give this process its own ``EZKL_REPO_PATH`` unless the user chose one.

    EZKL caches range-check tables under ``$EZKL_REPO_PATH/cache`` (default ``~/.ezkl``),
    and it does so unsafely for concurrent processes: it takes an existing cache directory
    as a finished table, while another process may have created the directory and still be
    writing the table into it; a killed writer leaves a truncated table for good. Two
    provers, or a prover and an auditor, on one machine then fail or build a circuit from a
    partial table. A directory per process (removed at exit) costs recomputing the tables,
    which is milliseconds next to a key setup. A directory inherited from a parent
    ledgerlearn process (its name carries the parent's pid) is replaced too. EZKL reads the
    variable once per process, on first use, so this runs before any EZKL call.
    """
    current = os.environ.get(_REPO_ENV)
    if current is not None:
        name = Path(current).name
        if not name.startswith(_PRIVATE_REPO) or name.split("-")[2] == str(os.getpid()):
            return
    private = tempfile.mkdtemp(prefix=f"{_PRIVATE_REPO}{os.getpid()}-")
    atexit.register(shutil.rmtree, private, True)
    os.environ[_REPO_ENV] = private


def _ezkl() -> Any:
    _private_repo()
    try:
        import ezkl
    except ImportError as exc:  # pragma: no cover - the zk extra is installed by make setup
        raise ZkToolchainError(
            "zk proofs need EZKL: pip install 'ledgerlearn[zk]' (make setup installs it)"
        ) from exc
    return ezkl


def _run(call: Callable[..., Any], *args: Any, what: str) -> Any:
    """Run one EZKL call, awaiting it in an event loop when it is asynchronous.

    EZKL's Python API mixes plain functions, functions returning awaitables and functions
    that need a running loop (``create_evm_verifier``); calling every one inside a
    coroutine covers the three. Its errors (``RuntimeError`` with the Rust message) become
    a :class:`VerificationError` naming the step.
    """

    async def inside_loop() -> Any:
        result = call(*args)
        return await result if inspect.isawaitable(result) else result

    try:
        return asyncio.run(inside_loop())
    except (RuntimeError, ValueError, OSError) as exc:
        raise VerificationError(f"EZKL {what} failed: {exc}") from exc


@contextlib.contextmanager
def _quiet(what: str) -> Iterator[None]:
    """Hold back what EZKL prints during a chatty step; show it only if the step fails.

    Calibration prints a table per scale it tries and logs an error for each it drops.
    EZKL's Rust code writes to file descriptors 1 and 2 and logs through the ``ezkl``
    Python logger, so both are redirected for the step. Calls are sequential within a
    process; other threads' output during the step lands in the held-back text, which is
    logged at debug level.
    """
    logger = logging.getLogger("ezkl")
    level = logger.level
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 1)
        os.dup2(held.fileno(), 2)
        logger.setLevel(logging.CRITICAL)
        try:
            yield
        except VerificationError as exc:
            raise VerificationError(f"{exc}\n{_tail(held)}") from exc
        finally:
            logger.setLevel(level)
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            logging.getLogger(__name__).debug("EZKL %s printed:\n%s", what, _tail(held))


def _tail(held: IO[bytes], limit: int = 4000) -> str:
    held.seek(0)
    return held.read().decode(errors="replace")[-limit:]


def _felt(hex_le: str) -> int:
    """Read a field element as EZKL prints it (32 bytes, little-endian hex)."""
    return int.from_bytes(bytes.fromhex(hex_le.removeprefix("0x")), "little")


def _signed(value: int) -> int:
    return value - BN254_ORDER if value > BN254_ORDER // 2 else value


@dataclass(frozen=True, slots=True)
class Proof:
    """A proof of one inference and its public instances.

    Attributes
    ----------
    proof
        The Halo2 proof bytes the verifier contract takes.
    instances
        ``[input hash, weight commitment, logits...]`` as field elements, without the weight
        commitment when ``weights_in_key``.
    output_scale
        Logits are fixed point with this many fractional bits.
    weights_in_key
        The circuit's weights are constants its verifying key commits to (``"fixed"``).
    """

    proof: bytes
    instances: tuple[int, ...]
    output_scale: int
    weights_in_key: bool = False

    @property
    def input_hash(self) -> int:
        """Poseidon hash of the quantised input."""
        return self.instances[0]

    @property
    def weight_commitment(self) -> int | None:
        """Poseidon hash of the quantised weights; ``None`` when the key commits to them."""
        return None if self.weights_in_key else self.instances[1]

    @property
    def logit_instances(self) -> tuple[int, ...]:
        """The logits as field elements (the instances after the commitments)."""
        return self.instances[1 if self.weights_in_key else 2 :]

    @property
    def logits(self) -> tuple[float, ...]:
        """The proven logits, as floats."""
        return tuple(_signed(v) / 2**self.output_scale for v in self.logit_instances)

    @property
    def label(self) -> int:
        """The proven class (argmax of the logits)."""
        return int(np.argmax(self.logits))

    def to_json(self) -> dict[str, Any]:
        """Return a JSON object (hex strings) that :meth:`from_json` reads back."""
        return {
            "proof": "0x" + self.proof.hex(),
            "instances": [f"0x{v:064x}" for v in self.instances],
            "outputScale": self.output_scale,
            "weightsInKey": self.weights_in_key,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proof:
        """Read :meth:`to_json`'s object.

        Raises
        ------
        InvalidProofError
            If a field is missing or not hex, or an instance is outside the field.
        """
        try:
            proof = bytes.fromhex(str(data["proof"]).removeprefix("0x"))
            instances = tuple(int(str(v), 16) for v in data["instances"])
            scale = int(data["outputScale"])
            in_key = data.get("weightsInKey", False)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidProofError(
                f"not a proof object ({exc}): expected proof, instances, outputScale"
            ) from exc
        if not isinstance(in_key, bool):
            raise InvalidProofError(f"weightsInKey must be true or false, got {in_key!r}")
        least = 2 if in_key else 3
        if len(instances) < least or any(not 0 <= v < BN254_ORDER for v in instances):
            raise InvalidProofError(
                f"a proof needs >= {least} instances, each below the BN254 order"
            )
        return cls(proof, instances, scale, in_key)


@dataclass(frozen=True, slots=True)
class Circuit:
    """A model's circuit: the files EZKL needs, in one directory, and what they commit to.

    Attributes
    ----------
    directory
        Holds ``model.onnx``, ``settings.json``, ``model.compiled``, ``kzg.srs``,
        ``vk.key``, ``pk.key``, ``Verifier.sol`` and ``circuit.json`` (this record).
    features
        Input width.
    classes
        Number of logits.
    logrows
        The circuit has ``2**logrows`` rows.
    weight_commitment
        Poseidon hash of the quantised weights (the proof's second instance), or with
        ``weights="fixed"`` the keccak256 of ``vk.key``, which commits to them.
    srs_sha256
        Hash of the SRS the keys were made with.
    local_srs
        True when the SRS was generated here (development only).
    weights
        ``"hashed"`` or ``"fixed"`` (see the module docstring).
    """

    directory: Path
    features: int
    classes: int
    logrows: int
    weight_commitment: int
    srs_sha256: str
    local_srs: bool
    weights: str = "hashed"

    @property
    def weights_in_key(self) -> bool:
        """True when the verifying key, not a public instance, commits to the weights."""
        return self.weights == "fixed"

    @property
    def output_scale(self) -> int:
        """Fractional bits of the proven logits (from ``settings.json``)."""
        settings = json.loads(self.path("settings.json").read_text())
        return int(settings["model_output_scales"][0])

    @property
    def instance_count(self) -> int:
        """How many public instances a proof of this circuit has."""
        return (1 if self.weights_in_key else 2) + self.classes

    def path(self, name: str) -> Path:
        """Return the path of one of the circuit's files."""
        return self.directory / name

    @classmethod
    def load(cls, directory: str | Path) -> Circuit:
        """Read a circuit written by :func:`setup_circuit`.

        Raises
        ------
        VerificationError
            If ``circuit.json`` or a file it needs is missing.
        """
        root = Path(directory)
        record = root / "circuit.json"
        if not record.is_file():
            raise VerificationError(
                f"{root} holds no circuit (circuit.json missing); run `ledgerlearn zk setup`"
            )
        data = json.loads(record.read_text())
        circuit = cls(
            directory=root,
            features=int(data["features"]),
            classes=int(data["classes"]),
            logrows=int(data["logrows"]),
            weight_commitment=int(data["weightCommitment"], 16),
            srs_sha256=str(data["srsSha256"]),
            local_srs=bool(data["localSrs"]),
            weights=str(data.get("weights", "hashed")),
        )
        if circuit.weights not in WEIGHTS:
            raise VerificationError(
                f"circuit {root} binds its weights as {circuit.weights!r}; expected one of "
                f"{', '.join(WEIGHTS)}"
            )
        missing = [n for n in _FILES if not circuit.path(n).is_file()]
        if missing:
            raise VerificationError(
                f"circuit {root} lacks {', '.join(missing)}; run `ledgerlearn zk setup` again"
            )
        return circuit

    def to_json(self) -> dict[str, Any]:
        """Return the ``circuit.json`` record."""
        return {
            "features": self.features,
            "classes": self.classes,
            "logrows": self.logrows,
            "weightCommitment": f"0x{self.weight_commitment:064x}",
            "srsSha256": self.srs_sha256,
            "localSrs": self.local_srs,
            "weights": self.weights,
        }


_FILES = (
    "model.onnx",
    "settings.json",
    "model.compiled",
    "kzg.srs",
    "vk.key",
    "pk.key",
    "Verifier.sol",
)


def _write_input(path: Path, x: NDArray[np.generic], features: int) -> None:
    row = np.asarray(x, dtype=np.float32).reshape(-1)
    if row.size != features or not np.all(np.isfinite(row)):
        raise VerificationError(
            f"a circuit input must be {features} finite numbers, got {row.size} values"
        )
    path.write_text(json.dumps({"input_data": [[float(v) for v in row]]}))


def _step(say: Callable[[str], None], what: str, call: Callable[..., Any], *args: Any) -> Any:
    """Run one EZKL step (:func:`_run`), refuse a ``False`` result, log its duration."""
    started = time.perf_counter()
    result = _run(call, *args, what=what)
    if result is False:
        raise VerificationError(f"EZKL {what} reported failure")
    say(f"{what}: {time.perf_counter() - started:.1f} s")
    return result


def _compile_and_setup(
    ezkl: Any, onnx: Path, settings: Path, srs: Path, out: Path, say: Callable[[str], None]
) -> None:
    """Compile ``onnx`` with ``settings`` and generate its keys with ``srs`` into ``out``.

    Writes ``model.compiled``, ``vk.key`` and ``pk.key``: the steps a circuit's setup and
    its audit (:func:`audit_circuit`) share.
    """
    compiled = str(out / "model.compiled")
    _step(say, "compile_circuit", ezkl.compile_circuit, str(onnx), compiled, str(settings))
    _step(say, "setup", ezkl.setup, compiled, str(out / "vk.key"), str(out / "pk.key"), str(srs))


def setup_circuit(
    model: MLP,
    calibration: NDArray[np.generic],
    directory: str | Path,
    *,
    srs: str | Path | None = None,
    log: Callable[[str], None] | None = None,
    weights: str = "hashed",
) -> Circuit:
    """Build a model's circuit, keys and verifier; write them to ``directory``.

    Parameters
    ----------
    model
        The model (an MLP or logistic regression) with its final weights.
    calibration
        ``(n, features)`` sample inputs: EZKL picks fixed-point scales and lookup ranges
        that hold for them.
    directory
        Where the files go (created; an existing circuit there is replaced atomically:
        everything is built in a temporary sibling and renamed in one step).
    srs
        A ceremony SRS file with at least ``logrows`` rows; ``None`` uses this machine's
        local one, made once per size (development only, see the module's trust
        assumption).
    log
        Called with a line per step and its duration.
    weights
        ``"hashed"`` (a public Poseidon commitment) or ``"fixed"`` (constants the verifying
        key commits to; for models whose hashed circuit is too large, see the module
        docstring).

    Returns
    -------
    Circuit
        The circuit record.

    Raises
    ------
    VerificationError
        If a step fails (the message names it), the SRS is too small or ``weights`` is
        neither ``"hashed"`` nor ``"fixed"``.
    ZkToolchainError
        If EZKL is not installed.
    """
    if weights not in WEIGHTS:
        raise VerificationError(
            f"weights must be one of {', '.join(WEIGHTS)} (how the circuit binds them), "
            f"got {weights!r}"
        )
    ezkl = _ezkl()
    say = log or (lambda _line: None)
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    samples = np.asarray(calibration, dtype=np.float32).reshape(len(calibration), -1)
    features, classes = model.sizes[0], model.sizes[-1]
    if samples.shape[1] != features or len(samples) == 0:
        raise VerificationError(
            f"calibration inputs must be (n, {features}) with n >= 1, got {samples.shape}"
        )
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        step = functools.partial(_step, say)
        model.export_onnx(work / "model.onnx", OPSET, output="logits", batch=1)
        args = ezkl.PyRunArgs()
        args.input_visibility = "hashed"
        args.param_visibility = weights
        args.output_visibility = "public"
        path = {name: str(work / name) for name in (*_FILES, "calibration.json", "w.json")}
        step("gen_settings", ezkl.gen_settings, path["model.onnx"], path["settings.json"], args)
        (work / "calibration.json").write_text(
            json.dumps({"input_data": [[float(v) for v in row] for row in samples]})
        )
        with _quiet("calibrate_settings"):
            step(
                "calibrate_settings",
                ezkl.calibrate_settings,
                path["calibration.json"],
                path["model.onnx"],
                path["settings.json"],
                "resources",
            )
        settings = json.loads((work / "settings.json").read_text())
        logrows = int(settings["run_args"]["logrows"])
        local = srs is None
        if srs is None:
            shutil.copyfile(_local_srs(ezkl, logrows, step), work / "kzg.srs")
        else:
            shutil.copyfile(srs, work / "kzg.srs")
        _compile_and_setup(
            ezkl, work / "model.onnx", work / "settings.json", work / "kzg.srs", work, say
        )
        _write_input(work / "w.json", samples[0], features)
        witness = step(
            "gen_witness",
            ezkl.gen_witness,
            path["w.json"],
            path["model.compiled"],
            str(work / "witness.json"),
        )
        if weights == "hashed":
            commitment = _felt(witness["processed_params"]["poseidon_hash"][0])
        else:
            commitment = key_commitment(work / "vk.key")
        try:
            step(
                "create_evm_verifier",
                ezkl.create_evm_verifier,
                path["vk.key"],
                path["settings.json"],
                path["Verifier.sol"],
                str(work / "Verifier.abi"),
                path["kzg.srs"],
            )
        except VerificationError as exc:
            # EZKL renders Verifier.sol, then compiles it with a solc it downloads through
            # svm, which fails offline; the rendered source is what we need.
            if not _verifier_rendered(work / "Verifier.sol") or "svm" not in str(exc):
                raise
            say("create_evm_verifier: rendered (EZKL's solc download skipped; solc-js compiles)")
        for scratch in ("calibration.json", "w.json", "witness.json", "Verifier.abi"):
            (work / scratch).unlink(missing_ok=True)
        srs_sha = hashlib.sha256((work / "kzg.srs").read_bytes()).hexdigest()
        circuit = Circuit(work, features, classes, logrows, commitment, srs_sha, local, weights)
        atomic_write_bytes(work / "circuit.json", json.dumps(circuit.to_json(), indent=1).encode())
        install_directory(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Circuit.load(target)


def _local_srs(ezkl: Any, logrows: int, step: Callable[..., Any]) -> Path:
    """Return this machine's development SRS of ``2^logrows`` rows, making it once.

    Generating one takes 10 to 20 s at 2^15 rows and four times that at 2^17; every local
    circuit of the same size shares it. Processes that need it at the same time wait for
    one to write it (a lock file), and it appears under its name only when complete.
    """
    import fcntl

    cache = Path(
        os.environ.get("LEDGERLEARN_SRS_CACHE") or Path.home() / ".cache" / "ledgerlearn" / "srs"
    )
    cache.mkdir(parents=True, exist_ok=True)
    made = cache / f"kzg{logrows}.srs"
    with open(cache / f".kzg{logrows}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not made.is_file():
            partial = cache / f".kzg{logrows}.{os.getpid()}.partial"
            step("gen_srs (local, development only)", ezkl.gen_srs, str(partial), logrows)
            os.replace(partial, made)
    return made


def audit_circuit(model: MLP, circuit: Circuit) -> None:
    """Check that ``circuit`` was built from ``model``'s weights, by rebuilding it.

    The circuit's files are trusted only as far as this goes: the ONNX export of the
    registered model must be byte for byte the circuit's ``model.onnx``; compiled with the
    circuit's settings, then through EZKL's key generation with the circuit's SRS, it must
    give the circuit's ``vk.key`` (the key the verifier contract embeds; a proof from any
    other circuit fails against it). The compiled file itself is not compared: EZKL
    serialises it in hash-map order, so it differs between runs, while the key it generates
    does not. Together with the check that the deployed verifier is the
    one ``Verifier.sol`` compiles to (:func:`ledgerlearn.verification.proven.fetch_circuit`)
    this ties the on-chain verifier to the registered weights, for hashed and fixed weights
    alike. It costs one key setup (seconds at 2^15 rows, a minute at 2^17).

    Parameters
    ----------
    model
        The registered model version (loaded and checked against the registry).
    circuit
        The circuit bound to it.

    Raises
    ------
    VerificationError
        Naming the first file that the model does not rebuild.
    """
    if (model.sizes[0], model.sizes[-1]) != (circuit.features, circuit.classes):
        raise VerificationError(
            f"the circuit is for {circuit.features} inputs and {circuit.classes} classes; "
            f"the model has {model.sizes[0]} and {model.sizes[-1]}"
        )
    ezkl = _ezkl()
    scratch = Path(tempfile.mkdtemp(prefix="zk-audit-"))
    try:
        model.export_onnx(scratch / "model.onnx", OPSET, output="logits", batch=1)
        if (scratch / "model.onnx").read_bytes() != circuit.path("model.onnx").read_bytes():
            raise VerificationError(
                "the circuit's model.onnx is not the ONNX export of the registered weights"
            )
        _compile_and_setup(
            ezkl,
            scratch / "model.onnx",
            circuit.path("settings.json"),
            circuit.path("kzg.srs"),
            scratch,
            lambda _line: None,
        )
        if (scratch / "vk.key").read_bytes() != circuit.path("vk.key").read_bytes():
            raise VerificationError(
                "the circuit's vk.key is not the key the registered weights generate with its "
                "settings and SRS: its verifier may accept proofs of another circuit"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def key_commitment(vk: Path) -> int:
    """Return the keccak256 of a verifying key file, as an integer.

    This is the weight commitment of a ``weights="fixed"`` circuit: its key commits to the
    weights, and the verifier contract embeds the key.
    """
    from eth_utils import keccak

    return int.from_bytes(keccak(vk.read_bytes()), "big")


def install_directory(work: Path, target: Path) -> None:
    """Put the finished directory ``work`` at ``target``, replacing any directory there.

    The old directory is renamed aside first and removed only after ``work`` took its
    place, so a reader never finds a half-written circuit, and a crash leaves either the
    old or the new one (plus, at worst, a hidden ``.NAME.old-*`` sibling to delete).
    """
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{time.time_ns()}")
        target.rename(retired)
        work.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        work.rename(target)


def _verifier_rendered(path: Path) -> bool:
    return path.is_file() and f"contract {_VERIFIER_CONTRACT}" in path.read_text()


def input_hash(circuit: Circuit, x: NDArray[np.generic]) -> int:
    """Return the circuit's Poseidon hash of ``x`` (what a proof for ``x`` must carry).

    Parameters
    ----------
    circuit
        The circuit.
    x
        One input.

    Returns
    -------
    int
        The first public instance of any proof over ``x``.
    """
    scratch = Path(tempfile.mkdtemp(prefix="zk-witness-"))
    try:
        return _witness(circuit, x, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _witness(circuit: Circuit, x: NDArray[np.generic], scratch: Path) -> int:
    """Write ``scratch/witness.json`` for ``x``; return the input's hash."""
    _write_input(scratch / "input.json", x, circuit.features)
    witness = _run(
        _ezkl().gen_witness,
        str(scratch / "input.json"),
        str(circuit.path("model.compiled")),
        str(scratch / "witness.json"),
        what="gen_witness",
    )
    return _felt(witness["processed_inputs"]["poseidon_hash"][0])


def prove(circuit: Circuit, x: NDArray[np.generic]) -> Proof:
    """Prove one inference of the circuit's model on ``x``.

    Parameters
    ----------
    circuit
        The circuit.
    x
        One input of ``circuit.features`` numbers.

    Returns
    -------
    Proof
        The proof with its instances (input hash, weight commitment, logits).

    Raises
    ------
    VerificationError
        If the input has the wrong size or EZKL fails.
    """
    ezkl = _ezkl()
    scratch = Path(tempfile.mkdtemp(prefix="zk-prove-"))
    try:
        _witness(circuit, x, scratch)
        proof_path = scratch / "proof.json"
        _run(
            ezkl.prove,
            str(scratch / "witness.json"),
            str(circuit.path("model.compiled")),
            str(circuit.path("pk.key")),
            str(proof_path),
            str(circuit.path("kzg.srs")),
            what="prove",
        )
        data = json.loads(proof_path.read_text())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Proof(
        proof=bytes.fromhex(data["hex_proof"].removeprefix("0x")),
        instances=tuple(_felt(v) for v in data["instances"][0]),
        output_scale=circuit.output_scale,
        weights_in_key=circuit.weights_in_key,
    )


def verify_proof(circuit: Circuit, proof: Proof, x: NDArray[np.generic] | None = None) -> None:
    """Check a proof off chain: bound to this circuit's weights (and ``x``), and valid.

    Parameters
    ----------
    circuit
        The circuit of the model version the answer claims.
    proof
        The proof.
    x
        The request's input; when given, the proof must be over it.

    Raises
    ------
    InvalidProofError
        If the proof commits to other weights or another input, or does not verify.
    """
    if proof.weights_in_key != circuit.weights_in_key:
        raise InvalidProofError(
            f"the proof is for a circuit with {'fixed' if proof.weights_in_key else 'hashed'} "
            f"weights; this model version's circuit has {circuit.weights} weights"
        )
    if not circuit.weights_in_key and proof.weight_commitment != circuit.weight_commitment:
        raise InvalidProofError(
            f"the proof is for weights {proof.weight_commitment:#x}, not this model version's "
            f"{circuit.weight_commitment:#x}"
        )
    if len(proof.instances) != circuit.instance_count:
        raise InvalidProofError(
            f"the proof has {len(proof.instances)} instances; this circuit's have "
            f"{circuit.instance_count}"
        )
    if x is not None:
        expected = input_hash(circuit, x)
        if proof.input_hash != expected:
            raise InvalidProofError(
                f"the proof is over input {proof.input_hash:#x}, not this request's {expected:#x}"
            )
    ezkl = _ezkl()
    scratch = Path(tempfile.mkdtemp(prefix="zk-verify-"))
    try:
        path = scratch / "proof.json"
        path.write_text(
            json.dumps(
                {
                    "protocol": None,
                    "instances": [[v.to_bytes(32, "little").hex() for v in proof.instances]],
                    "proof": list(proof.proof),
                    "hex_proof": "0x" + proof.proof.hex(),
                    "split": None,
                    "pretty_public_inputs": None,
                    "timestamp": None,
                    "version": None,
                }
            )
        )
        try:
            valid = _run(
                ezkl.verify,
                str(path),
                str(circuit.path("settings.json")),
                str(circuit.path("vk.key")),
                str(circuit.path("kzg.srs")),
                what="verify",
            )
        except VerificationError as exc:
            raise InvalidProofError(f"the proof does not verify: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if valid is not True:
        raise InvalidProofError("the proof does not verify against this circuit's key")
