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

from kiosk import __version__
from kiosk.cli.common import CommandError, fail

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
    "kiosk.cli.mrz",
    "kiosk.cli.doctor",
    "kiosk.cli.storage",
]

# Top-level command -> (module that registers it, the one-line help `egate --help` shows).
Commands = Mapping[str, tuple[str, str]]
COMMANDS: Commands = {
    "config": ("kiosk.cli.config_cmd", "check or show the configuration"),
    "policy": ("kiosk.cli.policy_cmd", "entry policy: evaluate cases, list policy packs"),
    "border": ("kiosk.cli.border", "border database: schema, roles, reference data, API"),
    "sync": ("kiosk.cli.border", "push the event outbox, pull reference data"),
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
}


def _parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:  # type: ignore[type-arg]
    parser = argparse.ArgumentParser(prog="egate", description="Self-service e-gate kiosk")
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


def main(
    argv: Sequence[str] | None = None,
    extra_modules: Sequence[str] = (),
    extra_commands: Commands | None = None,
) -> int:
    """Run a command. `extra_modules`/`extra_commands` let the ui package add its Qt
    commands (demo, simulate, kiosk) without the Qt-free core importing ui."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    commands: dict[str, tuple[str, str]] = {**COMMANDS, **(extra_commands or {})}
    known_modules = {module for module, _ in commands.values()}
    complete = all(m in known_modules for m in [*COMMAND_MODULES, *extra_modules])
    name = command_name(args_list)
    if name is None and complete:
        parser = _summary_parser(commands)
    elif name in commands and complete:
        parser = build_parser(only=[commands[name][0]])
    else:
        parser = build_parser(extra_modules)
    args = parser.parse_args(args_list)
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
