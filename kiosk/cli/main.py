"""Entry point of the `egate` console script."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kiosk import __version__
from kiosk.cli.common import CommandError, fail

# Each module exposes register(subparsers) and sets `func` on its parsers;
# `func(args) -> int` runs the command. Add a line here for a new group.
COMMAND_MODULES = [
    "kiosk.cli.config_cmd",
    "kiosk.cli.policy_cmd",
    "kiosk.cli.border",
    "kiosk.cli.log",
    "kiosk.cli.face",
    "kiosk.cli.trust",
    "kiosk.cli.passport",
    "kiosk.cli.chip",
]


def build_parser(extra_modules: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="egate", description="Self-service e-gate kiosk")
    parser.add_argument("--version", action="version", version=f"egate {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="TOML config file (default: $EGATE_CONFIG, else embedded defaults)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [*COMMAND_MODULES, *extra_modules]:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None, extra_modules: Sequence[str] = ()) -> int:
    """Run a command. `extra_modules` lets the ui package add its Qt commands
    (demo, simulate) without the Qt-free core importing ui."""
    parser = build_parser(extra_modules)
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        status: int = args.func(args)
    except CommandError as exc:
        fail(exc, as_json=bool(getattr(args, "json", False)))
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
