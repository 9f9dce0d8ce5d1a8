"""Helpers shared by every command: JSON output and errors, exit codes, config loading."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

from kiosk.config import Config, ConfigError, load_config
from kiosk.errors import CodedError
from kiosk.runtime.logging_setup import configure_logging

# Exit statuses (sysexits.h where one fits); docs/cli.md documents them.
EXIT_OK = 0
EXIT_FAILURE = 1  # the command ran and says no (invalid document, events missing ...)
EXIT_USAGE = 2  # bad arguments
EXIT_NO_PACK = 3  # policy: no pack in force
EX_DATAERR = 65  # the input is malformed (case, pack, passport, JSON/TOML too deep ...)
EX_NOINPUT = 66  # an input file cannot be read
EX_UNAVAILABLE = 69  # a service (border database, reader, pcscd) is unreachable
EX_SOFTWARE = 70  # an internal error: a bug, reported without a traceback
EX_IOERR = 74  # the local database or an output file cannot be used
EX_CONFIG = 78  # the configuration is invalid
EXIT_INTERRUPTED = 130  # Ctrl-C


class CommandError(CodedError):
    """A failure a command reports to its caller with a stable code and exit status."""

    def __init__(self, code: str, message: str, status: int = 2) -> None:
        super().__init__(code, message)
        self.status = status


def add_common_options(parser: argparse.ArgumentParser, json_flag: bool = True) -> None:
    """--config on every command (also accepted before the command) and --json."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="TOML config file (default: $EGATE_CONFIG, else embedded defaults)",
    )
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def print_json(data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str)
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        # A non-UTF-8 file name (surrogate escapes) or a non-UTF-8 terminal:
        # \u escapes keep the output valid JSON that decodes to the same text.
        text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=True, default=str)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def fail(error: CommandError, as_json: bool) -> NoReturn:
    if as_json:
        print_json({"error": {"code": error.code, "message": error.message}})
    else:  # one line: a wrapped driver message must not look like several errors
        print(f"egate: {error.code}: {safe_text(error.message, 4000)}", file=sys.stderr)
    raise SystemExit(error.status)


def display_name(text: str) -> str:
    """A command-line string (file names may hold undecodable bytes as surrogate
    escapes) as text any UTF-8 store or JSON accepts: raw bytes become \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def safe_text(value: object, limit: int = 500) -> str:
    """One line for a message: printable, bounded (a hostile input can be huge)."""
    text = " ".join(str(value).split())
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def config_from_args(args: argparse.Namespace) -> Config:
    """Load the config named by --config or EGATE_CONFIG, else the embedded defaults."""
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        raise CommandError("invalid_config", str(exc), status=78) from exc
    configure_logging(config.logging.level)
    return config
