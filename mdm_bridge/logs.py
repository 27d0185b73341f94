"""Logging set-up: readable text for people, or one JSON object per line for log shippers.

Called once by the CLI at start-up. Secrets never reach a log line: values registered with
`SecretRedactor.register` are masked wherever they appear, and so is any `extra` field whose name
says it holds a secret (token, password, authorization…), whatever its value.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

REDACTED = "[redacted]"
_SECRET_FIELD = re.compile(r"secret|password|passwd|token|authorization|api_?key|credential", re.I)
# Attributes every LogRecord has; anything else on a record came from `extra=`.
# (uvicorn adds `color_message`, a terminal-coloured copy of the message.)
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}
)


class SecretRedactor(logging.Filter):
    """Masks known secret values and secret-named extra fields on every record it sees."""

    _secrets: ClassVar[set[str]] = set()

    @classmethod
    def register(cls, secret: str) -> None:
        if len(secret) >= 6:  # masking very short strings would shred ordinary text
            cls._secrets.add(secret)

    @classmethod
    def scrub(cls, text: str) -> str:
        for secret in cls._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        for key in extra_fields(record):
            value = record.__dict__[key]
            if _SECRET_FIELD.search(key):
                record.__dict__[key] = REDACTED
            elif isinstance(value, str):
                record.__dict__[key] = self.scrub(value)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def extra_fields(record: logging.LogRecord) -> list[str]:
    return [key for key in record.__dict__ if key not in _STANDARD_ATTRS]


class JsonFormatter(logging.Formatter):
    """One JSON object per event: time, level, logger, event text, then any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key in extra_fields(record):
            entry[key] = record.__dict__[key]
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{key}={record.__dict__[key]}" for key in extra_fields(record))
        return f"{line} {extras}" if extras else line


def configure_logging(
    *, log_format: Literal["text", "json"], level: str, secrets: tuple[str, ...] = ()
) -> None:
    """Route all logging (ours, uvicorn's, alembic's) through one redacting handler on stderr."""
    for secret in secrets:
        SecretRedactor.register(secret)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretRedactor())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # One line per vendor request, or per migration step, drowns what matters at INFO.
    quiet = logging.WARNING if level != "DEBUG" else logging.DEBUG
    for name in ("httpx", "alembic.runtime.migration", "apscheduler"):
        logging.getLogger(name).setLevel(quiet)
