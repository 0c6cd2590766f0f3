"""Structured logs: every record is one JSON line; JSON messages merge into it."""

from __future__ import annotations

import io
import json
import logging

from ledgerlearn._logging import configure_json_logging


def _records(emit: list[tuple[str, str]], *, error: bool = False) -> list[dict[str, object]]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_json_logging(logging.INFO, stream)
    try:
        logger = logging.getLogger("ledgerlearn.test")
        for level, message in emit:
            getattr(logger, level)(message)
        if error:
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("failed")
    finally:
        root.handlers[:], root.level = saved
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_messages_merge_and_plain_ones_become_message() -> None:
    records = _records(
        [
            ("info", json.dumps({"event": "committed", "round": 2, "level": "forged"})),
            ("warning", "plain words"),
            ("debug", "below the level"),
            ("info", "{not json"),
        ]
    )
    assert len(records) == 3
    first, second, third = records
    assert first["event"] == "committed" and first["round"] == 2
    assert first["level"] == "info" and first["logger"] == "ledgerlearn.test"
    assert str(first["time"]).endswith("+00:00")
    assert second == {**second, "level": "warning", "message": "plain words"}
    assert third["message"] == "{not json"


def test_exceptions_carry_their_traceback() -> None:
    (record,) = _records([], error=True)
    assert record["level"] == "error" and record["message"] == "failed"
    assert "ValueError: boom" in str(record["exception"])
