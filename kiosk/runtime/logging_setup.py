"""One logging set-up for every command: JSON lines on stderr (journald keeps them).

Log lines never carry traveller data: the modules log event ids, states and reason
codes, and this formatter also masks anything shaped like an MRZ line, a document
number field or an inline image, so a careless message cannot leak one (a test runs
whole journeys at DEBUG and searches the output for the travellers' data).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Any, TextIO

_CHATTY = ("alembic", "sqlalchemy", "PIL", "matplotlib")  # noisy at debug
LEVELS = ("debug", "info", "warning", "error")

_MASKS = (
    (re.compile(r"[A-Z0-9<]{2,}<[A-Z0-9<]{20,}"), "<mrz>"),  # MRZ lines and fragments
    (
        re.compile(
            r"(?i)(document_number|surname|given_names|birth_date)(['\"]?\s*[:=]\s*['\"]?)[^,'\"}\s]+"
        ),
        r"\1\2<redacted>",
    ),
    (re.compile(r"[A-Za-z0-9+/]{200,}={0,2}"), "<binary>"),  # base64 images
    (re.compile(r"(\\x[0-9a-f]{2}){16,}"), "<binary>"),  # repr() of bytes
)


def redact(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info and record.exc_info[1] is not None:
            # The error in one line; the traceback only when debugging (it may show
            # local paths and data, and operators read these lines in the journal).
            exc = record.exc_info[1]
            entry["exception"] = redact(f"{type(exc).__name__}: {exc}")
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                entry["traceback"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "info", stream: TextIO | None = None) -> logging.Handler:
    """Install the JSON-lines handler on the root logger (replacing an earlier one)."""
    if level not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {LEVELS}")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "egate", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter())
    handler.egate = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # OpenCV prints its own warnings (a missing camera retried every second) on stderr,
    # outside these lines; our camera code reports faults itself.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    for chatty in _CHATTY:  # migrations announce themselves on every start
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    return handler
