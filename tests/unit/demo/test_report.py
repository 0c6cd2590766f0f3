"""The demo's report keeps Solidity enum members as labels, however deeply nested."""

from __future__ import annotations

import json

from ledgerlearn.demo import DemoReport
from ledgerlearn.ledger.enums import InferenceAuditsStatus, InferenceOracleMode


def test_enum_members_become_labels_in_the_report() -> None:
    report = DemoReport()
    status = InferenceAuditsStatus.OVERTURNED
    report.add("audit", status=status, requests=[{"mode": InferenceOracleMode.MEDIAN}], n=3)
    (step,) = report.steps
    assert step == {
        "step": "audit",
        "status": "overturned",
        "requests": [{"mode": "median"}],
        "n": 3,
    }
    assert json.loads(json.dumps(step))["status"] == "overturned"
