"""Exit codes: the one list of process exit statuses, each with its remedy.

The CLI maps every :class:`~ledgerlearn.exceptions.LedgerLearnError` to one of these codes
and prints the remedy under the error message, so a failing command always says what to do
next.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["REMEDIES", "ExitCode", "remedy"]


class ExitCode(IntEnum):
    """Process exit statuses of the ``ledgerlearn`` command."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    CONFIG = 3
    CHAIN = 10
    CHAIN_UNAVAILABLE = 11
    ANVIL_MISSING = 12
    CHAIN_MISMATCH = 13
    ARTIFACT = 14
    MANIFEST = 15
    TRANSACTION = 16
    TRANSACTION_TIMEOUT = 17
    STORAGE = 20
    INVALID_CID = 21
    CONTENT_NOT_FOUND = 22
    CONTENT_CORRUPTED = 23
    IDENTITY = 30
    KEYSTORE = 31
    KEYSTORE_PASSWORD = 32
    LEARNING = 40
    DATASET_MISSING = 41
    PRIVACY_BUDGET = 42
    REGISTRY = 50
    MODEL_NOT_FOUND = 51
    ARTIFACT_VERIFICATION = 52
    DESTINATION_EXISTS = 53
    GOVERNANCE = 60
    PROPOSAL_STATE = 61
    TRAINING = 70
    TASK_STATE = 71
    NODE = 72
    ORACLE = 80
    INVALID_INFERENCE_INPUT = 81
    EVIDENCE = 82
    VERIFICATION = 90
    ZK_TOOLCHAIN = 91
    INVALID_PROOF = 92
    INTERRUPTED = 130


REMEDIES: dict[ExitCode, str] = {
    ExitCode.OK: "nothing to do",
    ExitCode.INTERNAL: "this is a bug in ledgerlearn; rerun with --debug and report the traceback",
    ExitCode.USAGE: "see `ledgerlearn COMMAND --help` for the expected arguments",
    ExitCode.CONFIG: "fix the setting named above in {config} or its LEDGERLEARN_* "
    "variable (see README, Configuration)",
    ExitCode.CHAIN: "check the chain back end settings ([chain] in {config})",
    ExitCode.CHAIN_UNAVAILABLE: "start the node or fix [chain] rpc_url; for a local chain run "
    "`ledgerlearn chain up` in another terminal",
    ExitCode.ANVIL_MISSING: "run `make setup` (installs anvil through npm ci) or set "
    "LEDGERLEARN_CHAIN__ANVIL_PATH",
    ExitCode.CHAIN_MISMATCH: "point [chain] rpc_url at the manifest's chain, or deploy anew with "
    "`ledgerlearn deploy` for this chain",
    ExitCode.ARTIFACT: "run `make contracts` to rebuild the contract artifacts",
    ExitCode.MANIFEST: "check [deployment] manifest, or create one with `ledgerlearn deploy`",
    ExitCode.TRANSACTION: "read the revert reason above; the transaction changed nothing",
    ExitCode.TRANSACTION_TIMEOUT: "the transaction may still be mined: check its hash on the "
    "chain before sending again, or raise [chain] tx_timeout",
    ExitCode.STORAGE: "check [storage] root and its permissions",
    ExitCode.INVALID_CID: "pass a CIDv1 in base32 (it starts with 'b'), as printed by "
    "`ledgerlearn store put`",
    ExitCode.CONTENT_NOT_FOUND: "put the content first with `ledgerlearn store put`, or point "
    "[storage] root at the store that holds it",
    ExitCode.CONTENT_CORRUPTED: "the local copy is damaged: delete it and fetch or put the "
    "content again",
    ExitCode.IDENTITY: "check the DID or key given above",
    ExitCode.KEYSTORE: "check the keystore path; create one with `ledgerlearn did new --keystore "
    "FILE`",
    ExitCode.KEYSTORE_PASSWORD: "wrong keystore password: set LEDGERLEARN_KEYSTORE_PASSWORD or "
    "pass --password-file with the right one",
    ExitCode.LEARNING: "check the dataset, partition, rule and attack options "
    "(`ledgerlearn simulate --help`)",
    ExitCode.DATASET_MISSING: "install the dataset as the message says (`make setup` installs all "
    "of them)",
    ExitCode.PRIVACY_BUDGET: "allow a larger epsilon or delta, run fewer rounds, or sample fewer "
    "clients per round; `ledgerlearn privacy plan` says what a budget allows",
    ExitCode.REGISTRY: "check the model name, version and your identity's per-model role "
    "(`ledgerlearn model show NAME`)",
    ExitCode.MODEL_NOT_FOUND: "list what exists with `ledgerlearn model history NAME`; a channel "
    "points nowhere until governance promotes a version to it",
    ExitCode.ARTIFACT_VERIFICATION: "do not use this model: its bytes, manifest or signature do "
    "not match the chain; nothing was written — report it to the model's owners",
    ExitCode.DESTINATION_EXISTS: "choose an empty destination or pass --force to replace it",
    ExitCode.GOVERNANCE: "check the proposal's arguments; `ledgerlearn gov status ID` shows it",
    ExitCode.PROPOSAL_STATE: "the proposal is not in the state this step needs; `ledgerlearn gov "
    "status ID` says what comes next and when",
    ExitCode.TRAINING: "check the task spec, the node config and that the node's account is "
    "staked and joined (`ledgerlearn task status ID`)",
    ExitCode.TASK_STATE: "the task is not in the phase this step needs; `ledgerlearn task status "
    "ID` says what comes next and when",
    ExitCode.NODE: "check the node's TOML ([node] and its sections) and its state_dir; each "
    "node needs a state directory of its own",
    ExitCode.ORACLE: "check the request's model, version and parameters; `ledgerlearn evidence "
    "show ID` shows its state on chain",
    ExitCode.INVALID_INFERENCE_INPUT: "send an input the model accepts: the shape and dtype in "
    "its manifest (`ledgerlearn model show NAME`), within the size limit",
    ExitCode.EVIDENCE: "the evidence does not check out: the lines above say which hash or "
    "signature failed; do not rely on this answer",
    ExitCode.VERIFICATION: "check the circuit directory and the model given above (`ledgerlearn "
    "zk setup --help`)",
    ExitCode.ZK_TOOLCHAIN: "install the zk extra (pip install 'ledgerlearn[zk]', which `make "
    "setup` does) and Node's solc-js (`npm ci`), then rerun",
    ExitCode.INVALID_PROOF: "do not accept this answer: its proof does not verify for this "
    "model's weight commitment and this input",
    ExitCode.INTERRUPTED: "interrupted; rerun the command, it resumes safely",
}


def remedy(code: ExitCode, config: str = "ledgerlearn.toml") -> str:
    """Return the one-line remedy printed for ``code``.

    Parameters
    ----------
    code
        The exit code.
    config
        The settings file the failing command read (a node's or gateway's TOML under
        ``--config``); remedies that name a setting point there.

    Returns
    -------
    str
        What the user should do next.
    """
    return REMEDIES[code].replace("{config}", config)
