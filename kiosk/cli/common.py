"""Helpers shared by every command: JSON output and errors, config loading."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

from kiosk.config import Config, ConfigError, load_config
from kiosk.logging_setup import configure_logging


class CommandError(Exception):
    """A failure a command reports to its caller with a stable code and exit status."""

    def __init__(self, code: str, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
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
    json.dump(data, sys.stdout, indent=2, sort_keys=False, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


def fail(error: CommandError, as_json: bool) -> NoReturn:
    if as_json:
        print_json({"error": {"code": error.code, "message": error.message}})
    else:
        print(f"egate: {error.code}: {error.message}", file=sys.stderr)
    raise SystemExit(error.status)


def config_from_args(args: argparse.Namespace) -> Config:
    """Load the config named by --config or EGATE_CONFIG, else the embedded defaults."""
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        raise CommandError("invalid_config", str(exc), status=78) from exc
    configure_logging(config.logging.level)
    return config
