"""The one error boundary every `egate` command runs inside.

Whatever a command raises ends as a clear one-line message on stderr (or
`{"error": {"code", "message"}}` on stdout with --json) and a documented exit
status (docs/cli.md), never a Python traceback. Known failures map to their
sysexits.h status; anything else is `internal_error` (70). EGATE_DEBUG=1 adds
the traceback for developers.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import NoReturn

from kiosk.cli.common import (
    EX_CONFIG,
    EX_DATAERR,
    EX_IOERR,
    EX_NOINPUT,
    EX_SOFTWARE,
    EX_UNAVAILABLE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CommandError,
    fail,
    safe_text,
)

DEBUG_ENV = "EGATE_DEBUG"


class UsageError(Exception):
    """Bad command-line arguments (raised by the parser instead of exiting)."""

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.usage = usage


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0", "false")


def classify(exc: BaseException) -> CommandError:
    """The CommandError a stray exception stands for (code, message, status)."""
    from sqlalchemy.exc import SQLAlchemyError

    from devices.errors import DeviceFault
    from kiosk.border.errors import BorderError
    from kiosk.config import ConfigError
    from kiosk.safe_files import UnsafeFileError
    from kiosk.store.database import StorageError

    text = safe_text(exc) or type(exc).__name__
    if isinstance(exc, UsageError):
        return CommandError("usage", text, EXIT_USAGE)
    if isinstance(exc, ConfigError):
        return CommandError("invalid_config", text, EX_CONFIG)
    if isinstance(exc, RecursionError):
        return CommandError("input_too_deep", "the input is nested too deeply", EX_DATAERR)
    if isinstance(exc, MemoryError):
        return CommandError("input_too_large", "the input is too large to process", EX_DATAERR)
    if isinstance(exc, StorageError):
        return CommandError("storage_error", text, EX_IOERR)
    if isinstance(exc, BorderError):
        return CommandError("border_unavailable", text, EX_UNAVAILABLE)
    if isinstance(exc, SQLAlchemyError):
        detail = safe_text(getattr(exc, "orig", None) or exc)
        return CommandError("database_error", f"{type(exc).__name__}: {detail}", EX_IOERR)
    if isinstance(exc, DeviceFault):
        return CommandError("device_fault", text, EX_UNAVAILABLE)
    if isinstance(exc, UnsafeFileError):
        if exc.output:
            return CommandError("invalid_output", text, EX_IOERR)
        return CommandError("invalid_input_file", text, EX_NOINPUT)
    if isinstance(exc, OSError):
        where = f"{safe_text(exc.filename)}: " if exc.filename else ""
        return CommandError("io_error", f"{where}{exc.strerror or text}", EX_IOERR)
    if isinstance(exc, ValueError | OverflowError):  # domain errors (policy, trust, LDS)
        return CommandError("invalid_input", f"{type(exc).__name__}: {text}", EX_DATAERR)
    return CommandError(
        "internal_error",
        f"{type(exc).__name__}: {text} (set {DEBUG_ENV}=1 for the traceback)",
        EX_SOFTWARE,
    )


class _ConciseStderr(logging.Handler):
    """Log records on stderr without tracebacks (unless EGATE_DEBUG): stands in
    for logging.lastResort, i.e. applies only where nothing configured logging."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = f"egate: {record.levelname.lower()}: {safe_text(record.getMessage(), 2000)}"
            if record.exc_info and record.exc_info[1] is not None:
                line += f" ({safe_text(record.exc_info[1])})"
                if _debug():
                    line += "\n" + "".join(traceback.format_exception(*record.exc_info))
            sys.stderr.write(line + "\n")
        except Exception:  # logging must never take the command down
            pass


_CONCISE = _ConciseStderr()


def _thread_failed(hook_args: threading.ExceptHookArgs) -> None:
    name = hook_args.thread.name if hook_args.thread else "?"
    value = hook_args.exc_value
    sys.stderr.write(f"egate: error: thread {name} stopped: {safe_text(value)}\n")
    if _debug() and value is not None:
        sys.stderr.write("".join(traceback.format_exception(value)))


def install_hooks() -> None:
    """Process-wide: concise log output and thread failures (the console script)."""
    logging.lastResort = _CONCISE
    threading.excepthook = _thread_failed
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):  # a non-UTF-8 file name must not crash a print
            reconfigure(errors="backslashreplace")


def run_guarded(command: Callable[[], int], as_json: bool | Callable[[], bool]) -> int:
    """Run `command`; every exception becomes a message and an exit status."""

    def json_wanted() -> bool:
        return as_json() if callable(as_json) else as_json

    if logging.lastResort is not _CONCISE:
        logging.lastResort = _CONCISE
    try:
        return command()
    except SystemExit:
        raise  # --help, --version, fail() itself
    except BrokenPipeError:  # output piped into `head` and the like
        _silence_stdout()
        return 0
    except (Exception, KeyboardInterrupt) as exc:
        _report(exc, json_wanted())


def _report(exc: BaseException, as_json: bool) -> NoReturn:
    if isinstance(exc, KeyboardInterrupt):
        error = CommandError("interrupted", "interrupted", EXIT_INTERRUPTED)
    elif isinstance(exc, CommandError):
        error = exc
    else:
        if _debug():
            traceback.print_exception(exc)
        if isinstance(exc, UsageError) and exc.usage and not as_json:
            sys.stderr.write(exc.usage)
        error = classify(exc)
    try:
        fail(error, as_json)
    except BrokenPipeError:  # nobody is reading the report any more
        _silence_stdout()
        raise SystemExit(error.status) from None


def _silence_stdout() -> None:
    # Python flushes stdout at exit; into a closed pipe that would print an error.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
