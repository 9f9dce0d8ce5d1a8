"""Entry point of the `egate` console script."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from kiosk import __version__
from kiosk.cli.boundary import UsageError, install_hooks, run_guarded
from kiosk.cli.common import EXIT_USAGE

# Each module exposes register(subparsers) and sets `func` on its parsers;
# `func(args) -> int` runs the command. Add a line here for a new group.
COMMAND_MODULES = [
    "kiosk.cli.config_cmd",
    "kiosk.cli.policy_cmd",
    "kiosk.cli.border",
    "kiosk.cli.face",
    "kiosk.cli.trust",
    "kiosk.cli.passport",
    "kiosk.cli.chip",
]


class _Parser(argparse.ArgumentParser):
    """Usage errors go through the error boundary (JSON with --json) instead of
    argparse's own exit; subcommand parsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", usage=self.format_usage())


def build_parser(extra_modules: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = _Parser(prog="egate", description="Self-service e-gate kiosk")
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
    if argv is None:  # the console script: this process is ours
        install_hooks()
        argv = sys.argv[1:]
    argv = list(argv)
    wants_json = {"json": "--json" in argv}

    def command() -> int:
        parser = build_parser(extra_modules)  # inside: a module that fails to import too
        args = parser.parse_args(argv)
        wants_json["json"] = bool(getattr(args, "json", False))
        if not hasattr(args, "func"):
            parser.print_help()
            return EXIT_USAGE
        status: int = args.func(args)
        return status

    # One error boundary for every command: a clear message (JSON with --json)
    # and a documented exit status, never a traceback (kiosk/cli/boundary.py).
    return run_guarded(command, as_json=lambda: wants_json["json"])


if __name__ == "__main__":
    sys.exit(main())
