"""Structured JSON logs. Log records carry ids, routes and statuses; never tokens or content.

Only an allow-list of `extra` fields is emitted, so a careless `extra={"body": ...}` cannot leak.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_ALLOWED_EXTRA = (
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "error_type",
    "account_id",
    "evidence_id",  # opaque ids, so an operator can find the file or job a failure names
    "export_id",
    "event",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in _ALLOWED_EXTRA:
            value = getattr(record, key, None)
            if value is not None:
                doc[key] = value if isinstance(value, int | float | bool) else str(value)
        return json.dumps(doc, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would repeat ours with the query string; ours is the one.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
