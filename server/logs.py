"""JSON logs. Only ids, methods, paths, codes and timings: never personal values, never SQL
parameters (the ORM's query log is held at WARNING so values cannot reach a log line)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from core.request_context import current_request_id

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


VALUE_CARRYING_LOGGERS = ("tortoise.db_client", "aiosqlite", "asyncpg", "httpx", "httpcore")
"""Libraries whose debug lines include SQL parameters or URLs, and so personal values."""


def hold_back_value_carrying_loggers() -> None:
    """Keep library loggers that print query values at WARNING, whatever the log level."""
    for name in VALUE_CARRYING_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    hold_back_value_carrying_loggers()
    logging.getLogger("uvicorn.access").disabled = True
