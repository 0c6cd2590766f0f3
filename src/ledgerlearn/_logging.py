"""Structured logs: one JSON object per line, for long-running processes.

Node logs are read by machines (log shippers, ``jq``, the process tests) as much as by
people, so each record is a JSON object with ``time`` (RFC 3339, UTC), ``level`` and
``logger``. A message that is itself a JSON object (the nodes log their events that way) is
merged into the record; any other message becomes its ``message`` field; an exception adds
``exception`` with the formatted traceback.

Trust assumption: none; this only formats what the process already logs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["JsonLineFormatter", "configure_json_logging"]

_RESERVED = ("time", "level", "logger")


class JsonLineFormatter(logging.Formatter):
    """Format each log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON object on one line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        message = record.getMessage()
        fields: Any = None
        if message.startswith("{"):
            try:
                fields = json.loads(message)
            except ValueError:
                fields = None
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in _RESERVED})
        else:
            entry["message"] = message
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_json_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send every log record at ``level`` or above to ``stream`` as JSON lines.

    Replaces handlers configured earlier (e.g. the CLI's plain default), so it can be
    called once a command knows it is a long-running process.

    Parameters
    ----------
    level
        The least severe level written.
    stream
        Where to write; standard error by default.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
