"""Entry point of the `egate` console script.

Command modules import heavy libraries (SQLAlchemy, Alembic, OpenCV, dlib, Qt), so the
parser is built lazily: `--version` and `--help` import none of them, and a command
imports only its own module. COMMANDS names every top-level command; a module in
COMMAND_MODULES that COMMANDS does not name still works, through a full parser build.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence
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
    "kiosk.cli.log",
    "kiosk.cli.face",
    "kiosk.cli.trust",
    "kiosk.cli.passport",
    "kiosk.cli.chip",
    "kiosk.cli.mrz",
    "kiosk.cli.doctor",
    "kiosk.cli.storage",
    "kiosk.cli.supervisor",
]

# Top-level command -> (module that registers it, the one-line help `egate --help` shows).
Commands = Mapping[str, tuple[str, str]]
COMMANDS: Commands = {
    "config": ("kiosk.cli.config_cmd", "check or show the configuration"),
    "policy": ("kiosk.cli.policy_cmd", "entry policy: evaluate cases, list policy packs"),
    "border": ("kiosk.cli.border", "border database: schema, roles, reference data, API"),
    "sync": ("kiosk.cli.border", "push the event outbox, pull reference data"),
    "log": ("kiosk.cli.log", "the local event log: verify, enrol its key"),
    "face": ("kiosk.cli.face", "face verification tools (compare, calibrate)"),
    "trust": ("kiosk.cli.trust", "manage trusted CSCA certificates, master lists, CRLs"),
    "passport": ("kiosk.cli.passport", "make, read and verify ePassports"),
    "chip": ("kiosk.cli.chip", "ePassport chip emulation"),
    "mrz": ("kiosk.cli.mrz", "machine-readable zone tools"),
    "doctor": (
        "kiosk.cli.doctor",
        "check devices, trust store, policy, border database, disk and clock",
    ),
    "storage": ("kiosk.cli.storage", "local database maintenance (migrate, purge)"),
    "officers": ("kiosk.cli.supervisor", "manage supervisor-station officer accounts"),
    "referrals": ("kiosk.cli.supervisor", "open referrals of the supervisor station"),
    "report": ("kiosk.cli.supervisor", "clearance statistics as CSV, PNG or PDF"),
}


class _Parser(argparse.ArgumentParser):
    """Usage errors go through the error boundary (JSON with --json) instead of
    argparse's own exit; subcommand parsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", usage=self.format_usage())


def _parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:  # type: ignore[type-arg]
    parser = _Parser(prog="egate", description="Self-service e-gate kiosk")
    parser.add_argument("--version", action="version", version=f"egate {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="TOML config file (default: $EGATE_CONFIG, else embedded defaults)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser, sub


def build_parser(
    extra_modules: Sequence[str] = (), *, only: Sequence[str] | None = None
) -> argparse.ArgumentParser:
    """The parser with every command module registered, or just the modules in `only`."""
    parser, sub = _parser()
    modules = [*COMMAND_MODULES, *extra_modules]
    for name in dict.fromkeys(modules if only is None else only):
        importlib.import_module(name).register(sub)
    return parser


def _summary_parser(commands: Commands) -> argparse.ArgumentParser:
    """`egate --help`: every command listed, none imported."""
    parser, sub = _parser()
    for name, (_, help_text) in commands.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def command_name(argv: Sequence[str]) -> str | None:
    """The first positional word (the command), skipping --config's value."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--config":
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def _lazy_parser(
    argv: Sequence[str], extra_modules: Sequence[str], commands: Commands
) -> argparse.ArgumentParser:
    """Only the module of the command asked for; the summary for --help and --version."""
    known_modules = {module for module, _ in commands.values()}
    complete = all(m in known_modules for m in [*COMMAND_MODULES, *extra_modules])
    name = command_name(argv)
    if not complete:
        return build_parser(extra_modules)
    if name is None:
        return _summary_parser(commands)
    if name in commands:
        return build_parser(only=[commands[name][0]])
    return build_parser(extra_modules)


def main(
    argv: Sequence[str] | None = None,
    extra_modules: Sequence[str] = (),
    extra_commands: Commands | None = None,
) -> int:
    """Run a command. `extra_modules`/`extra_commands` let the ui package add its Qt
    commands (demo, simulate, kiosk) without the Qt-free core importing ui."""
    if argv is None:  # the console script: this process is ours
        install_hooks()
        argv = sys.argv[1:]
    argv = list(argv)
    commands: dict[str, tuple[str, str]] = {**COMMANDS, **(extra_commands or {})}
    wants_json = {"json": "--json" in argv}

    def command() -> int:
        # Inside the boundary: a module that fails to import is reported too.
        parser = _lazy_parser(argv, extra_modules, commands)
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
