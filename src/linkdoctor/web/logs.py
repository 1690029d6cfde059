"""The log of ``linkdoctor serve``: one JSON object per line on stderr (JSON Lines), which log tooling
(journald, Loki, Vector, ``jq``) parses without a custom pattern.

Every line has ``ts`` (UTC, ISO 8601), ``level``, ``logger`` and ``msg``; the fields a call site passes in
``extra`` follow (a scan's ``event``, ``scan_id``, ``site`` and counts; an alert's ``event`` and
``alert_id``). uvicorn's access log becomes ``event: "request"`` with ``client``, ``method``, ``path``
and ``status``. At the default level (info) that is: HTTP requests, scans started and finished, partial or
failed with their counts, and alerts sent or failed.

>>> import json, logging
>>> record = logging.LogRecord("linkdoctor.monitor.scans", logging.INFO, "", 0, "scan %d done", (3,), None)
>>> record.scan_id = 3
>>> line = json.loads(JsonLines().format(record))
>>> line["level"], line["msg"], line["scan_id"]
('info', 'scan 3 done', 3)
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# The attributes every LogRecord has: anything else on a record came from ``extra``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()
    | {"message", "asctime", "taskName", "color_message"}
)
ACCESS_LOGGER = "uvicorn.access"


class JsonLines(logging.Formatter):
    """A record as one line of JSON: the time, level, logger and message, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            line |= {
                "event": "request",
                "client": client,
                "method": method,
                "path": path,
                "status": status,
            }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def log_config(level: str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for uvicorn's ``log_config``: uvicorn's loggers and linkdoctor's
    at ``level``, as JSON Lines on stderr."""
    upper = level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    logger = {"handlers": ["stderr"], "level": upper, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonLines"}},
        "handlers": {"stderr": handler},
        "loggers": dict.fromkeys(("uvicorn", "uvicorn.error", ACCESS_LOGGER, "linkdoctor"), logger),
    }
