"""Inference audits: beacon-sampled re-execution of fulfilled requests by staked auditors.

A quorum of drawn providers can still agree on a wrong answer if they collude or share a
lazy shortcut. After a request is fulfilled, anyone opens its audit lottery; the randomness
beacon (RFC 9381 ECVRF, see :mod:`ledgerlearn.randomness`) answers *after* the answers were
signed, samples the request with the model's audit rate, and draws a panel of staked
auditors that were not drawn as its providers. Each auditor verifies the registered
artifact against the chain, re-runs it on the request's input exactly as an honest provider
does (:func:`ledgerlearn.oracle.compute_answer`) and posts its value. A quorum of verdicts
contradicting the result overturns it: the ``InferenceAudits`` contract slashes the signers
that agreed with it, refunds the requester and flags the request (status ``overturned``).

This is the spot-checking of Truebit (Teutsch and Reitwießner, 2017) applied to inference,
with panels drawn as in Algorand's sortition (Gilad et al., SOSP 2017): with audit rate
``r`` and slash amount ``s`` per signer, a lie pays off only if its gain exceeds ``r · s``.

Trust assumption: fewer than ``quorum`` members of a panel are dishonest, the beacon's
output is unbiased, and the model is deterministic at the oracle's value resolution (labels,
or probabilities rounded to 1e-6), so honest providers and honest auditors compute the same
value and an honest provider is never slashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils import to_checksum_address

from ledgerlearn.exceptions import AuditError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest
from ledgerlearn.ledger.enums import InferenceAuditsStatus
from ledgerlearn.oracle import LoadedModel, OracleClient, compute_answer
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import ContentStore
from ledgerlearn.verification._parameters import AuditParameters

__all__ = [
    "AuditClient",
    "AuditOutcome",
    "AuditView",
    "Auditor",
]


@dataclass(frozen=True, slots=True)
class AuditView:
    """An audit as the contract holds it."""

    request_id: int
    status: InferenceAuditsStatus
    auditors: int
    quorum: int
    verdicts: int
    deadline: int
    panel_hash: bytes


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """What :meth:`AuditClient.finalize` decided.

    Attributes
    ----------
    status
        ``confirmed``, ``overturned`` or ``inconclusive``.
    agreeing, contradicting
        Verdicts that agreed with the fulfilled result, and that contradicted it.
    corrected
        The auditors' result when overturned, else the fulfilled result.
    slashed
        Stake taken from each signer of the overturned result (token units).
    compensated
        Paid to the requester out of slashed stake (the fee it could not get back).
    missed
        Panel members that posted no verdict.
    """

    status: InferenceAuditsStatus
    agreeing: int
    contradicting: int
    corrected: int
    slashed: dict[str, int]
    compensated: int
    missed: tuple[str, ...]


class AuditClient(ContractClient):
    """Typed access to a deployment's ``InferenceAudits``.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The deployment manifest (InferenceAudits, InferenceOracle, ...).
    oracle
        An oracle client to share (its event caches); one is made if not given.
    """

    contract_name = "InferenceAudits"

    def __init__(
        self, chain: Chain, deployment: DeploymentManifest, oracle: OracleClient | None = None
    ) -> None:
        if "InferenceAudits" not in deployment.contracts:
            raise AuditError("this deployment has no InferenceAudits; redeploy the protocol")
        super().__init__(chain, deployment)
        self.oracle = oracle or OracleClient(chain, deployment)
        self._panels: dict[int, list[str]] = {}

    # --- views -------------------------------------------------------------------------

    def parameters(self) -> AuditParameters:
        """Return the rules new audits take."""
        raw = self._call(self.functions.parameters())
        return AuditParameters(*(int(v) for v in raw))

    def audit_rate(self, model: str) -> int:
        """Return the audit rate of ``model`` in basis points."""
        model_id = ModelRegistryClient.model_id(model)
        return int(self._call(self.functions.auditRate(model_id)))

    def auditors(self) -> list[str]:
        """Return the registered auditors."""
        return list(self._call(self.functions.auditors()))

    def is_auditor(self, address: str) -> bool:
        """Return whether ``address`` is in the auditor pool."""
        return self._call_bool(self.functions.isAuditor(to_checksum_address(address)))

    def get_audit(self, request_id: int) -> AuditView:
        """Return the audit of ``request_id`` (status ``none`` if never opened)."""
        raw = self._call(self.functions.getAudit(request_id))
        return AuditView(
            request_id=request_id,
            status=InferenceAuditsStatus(int(raw[0])),
            auditors=int(raw[1]),
            quorum=int(raw[2]),
            verdicts=int(raw[3]),
            deadline=int(raw[4]),
            panel_hash=bytes(raw[5]),
        )

    def verdict_of(self, request_id: int, auditor: str) -> tuple[bool, int, bytes]:
        """Return whether ``auditor`` posted on ``request_id``, its value and output hash."""
        posted, value, output = self._call(
            self.functions.verdictOf(request_id, to_checksum_address(auditor))
        )
        return bool(posted), int(value), bytes(output)

    def randomness_request_id(self, request_id: int) -> bytes:
        """Return the beacon request that samples ``request_id`` and draws its panel."""
        return bytes(self._call(self.functions.randomnessRequestId(request_id)))

    def panel(self, request_id: int) -> list[str]:
        """Return the auditors drawn for ``request_id`` (empty if none were drawn)."""
        if request_id not in self._panels:
            events = self._logs("AuditorsDrawn", requestId=request_id)
            if not events:
                return []
            self._panels[request_id] = list(events[0]["args"]["auditors"])
        return list(self._panels[request_id])

    # --- auditors ----------------------------------------------------------------------

    def join(self, key: Secp256k1Key, *, auditor: str = "") -> None:
        """Register identity ``auditor`` (default: ``key``'s) as an auditor."""
        who = to_checksum_address(auditor or key.address)
        self._transact(key, self.functions.join(who))

    def leave(self, key: Secp256k1Key, *, auditor: str = "") -> None:
        """Remove identity ``auditor`` (default: ``key``'s) from the auditor pool."""
        who = to_checksum_address(auditor or key.address)
        self._transact(key, self.functions.leave(who))

    # --- lifecycle ---------------------------------------------------------------------

    def open(self, key: Secp256k1Key, request_id: int) -> InferenceAuditsStatus:
        """Open ``request_id``'s audit lottery; return ``DRAWING`` or ``NOT_SAMPLED``."""
        receipt = self._transact(key, self.functions.open(request_id))
        if self._receipt_events("AuditNotSampled", receipt):
            return InferenceAuditsStatus.NOT_SAMPLED
        return InferenceAuditsStatus.DRAWING

    def draw(self, key: Secp256k1Key, request_id: int) -> list[str]:
        """Sample the request and draw its panel once the beacon answered.

        Returns the panel, empty when the request was not sampled or too few auditors were
        eligible (see :meth:`get_audit` for which).
        """
        selected = self.oracle.selected(request_id)
        receipt = self._transact(key, self.functions.draw(request_id, selected))
        events = self._receipt_events("AuditorsDrawn", receipt)
        if not events:
            return []
        self._panels[request_id] = list(events[0]["args"]["auditors"])
        return list(self._panels[request_id])

    def submit_verdict(
        self,
        key: Secp256k1Key,
        request_id: int,
        value: int,
        output_hash: bytes,
        *,
        auditor: str = "",
    ) -> None:
        """Post identity ``auditor``'s (default: ``key``'s) verdict on ``request_id``."""
        who = to_checksum_address(auditor or key.address)
        panel = self.panel(request_id)
        if who not in panel:
            raise AuditError(
                f"{who} is not on the panel of request {request_id} "
                f"(drawn: {', '.join(panel) or 'nobody yet'})"
            )
        function = self.functions.submitVerdict(request_id, who, panel, value, output_hash)
        self._transact(key, function)

    def finalize(self, key: Secp256k1Key, request_id: int) -> AuditOutcome:
        """Count the verdicts on ``request_id`` and settle the audit; return the outcome."""
        panel = self.panel(request_id)
        selected = self.oracle.selected(request_id)
        receipt = self._transact(key, self.functions.finalize(request_id, panel, selected))
        (done,) = self._receipt_events("AuditFinalized", receipt)
        slashed = {
            str(e["args"]["signer"]): int(e["args"]["amount"])
            for e in self._receipt_events("SignerSlashed", receipt)
        }
        paid = self._receipt_events("RequesterCompensated", receipt)
        missed = tuple(
            str(e["args"]["auditor"]) for e in self._receipt_events("AuditorMissed", receipt)
        )
        return AuditOutcome(
            status=InferenceAuditsStatus(int(done["args"]["status"])),
            agreeing=int(done["args"]["agreeing"]),
            contradicting=int(done["args"]["contradicting"]),
            corrected=int(done["args"]["corrected"]),
            slashed=slashed,
            compensated=int(paid[0]["args"]["amount"]) if paid else 0,
            missed=missed,
        )


class Auditor:
    """Re-executes the requests it is drawn to audit and posts its verdicts.

    Parameters
    ----------
    key
        The auditor identity's key (owner or ``sigAuth`` delegate).
    audits
        The audit client.
    store
        Where request inputs are read and the auditor's output documents written.
    models
        Models verified against the registry (:func:`ledgerlearn.oracle.load_model`).
    identity
        The auditor identity when ``key`` is a delegate.
    """

    def __init__(
        self,
        key: Secp256k1Key,
        audits: AuditClient,
        store: ContentStore,
        models: Sequence[LoadedModel],
        *,
        identity: str | None = None,
    ) -> None:
        self.key = key
        self.audits = audits
        self.store = store
        self.identity = to_checksum_address(identity or key.address)
        self.models = {(ModelRegistryClient.model_id(m.name), m.version): m for m in models}

    def compute(self, request_id: int) -> tuple[int, bytes]:
        """Re-run the request's model on its input; return the value and output document.

        Raises
        ------
        AuditError
            This auditor does not hold the request's model version, or its artifact hash
            differs from the one the request was made for.
        InvalidInferenceInputError
            The stored input does not hash to the request's input hash, or is malformed.
        """
        oracle = self.audits.oracle
        request = oracle.get_request(request_id)
        model = self.models.get((request.model_id, request.version))
        if model is None:
            raise AuditError(
                f"request {request_id} is for version {request.version} of a model this "
                "auditor did not load; load it with load_model and retry"
            )
        if model.artifact_sha256 != request.model_hash:
            raise AuditError(f"request {request_id} names another artifact than the one loaded")
        return compute_answer(model, oracle.read_input(self.store, request), request.mode)

    def audit(self, request_id: int) -> int:
        """Compute and post this auditor's verdict on ``request_id``; return its value.

        Idempotent: an auditor that already posted returns its posted value.

        Raises
        ------
        AuditError
            The auditor is not on the request's panel, or cannot compute the answer.
        """
        posted, value, _ = self.audits.verdict_of(request_id, self.identity)
        if posted:
            return value
        value, output = self.compute(request_id)
        self.store.put(output)
        self.audits.submit_verdict(
            self.key,
            request_id,
            value,
            hashlib.sha256(output).digest(),
            auditor=self.identity,
        )
        return value
