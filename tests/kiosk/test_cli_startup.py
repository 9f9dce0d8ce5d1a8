"""`egate --version` and `--help` stay fast: they import no heavy library, and the
static command table the lazy parser uses agrees with what the modules register."""

from __future__ import annotations

import json
import subprocess
import sys

from kiosk.cli.main import COMMAND_MODULES, COMMANDS, build_parser, command_name
from ui.cli import QT_COMMAND_MODULES, QT_COMMANDS

HEAVY = ("sqlalchemy", "alembic", "cv2", "dlib", "PySide6", "numpy", "cryptography", "smartcard")


def _modules_after(*argv: str) -> set[str]:
    code = (
        "import sys, json\n"
        "from ui.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_version_and_help_import_no_heavy_library() -> None:
    for argv in (("--version",), ("--help",), ()):
        loaded = _modules_after(*argv)
        assert not [m for m in HEAVY if m in loaded], argv


def test_a_command_imports_only_its_own_module() -> None:
    loaded = _modules_after("config", "check")
    assert "kiosk.cli.config_cmd" in loaded
    assert "kiosk.cli.border" not in loaded and "ui.commands.demo" not in loaded


def test_the_command_table_matches_the_modules() -> None:
    parser = build_parser(QT_COMMAND_MODULES)
    sub = next(a for a in parser._actions if a.dest == "command")
    registered = {
        name: action.help for name, action in zip(sub.choices, sub._choices_actions, strict=True)
    }  # type: ignore[attr-defined]
    table = {**COMMANDS, **QT_COMMANDS}
    assert {n: h for n, (_, h) in table.items()} == registered
    modules = {m for m, _ in table.values()}
    assert modules == set(COMMAND_MODULES) | set(QT_COMMAND_MODULES)


def test_command_name_skips_the_config_value() -> None:
    assert command_name(["--config", "x.toml", "doctor", "--json"]) == "doctor"
    assert command_name(["--version"]) is None
    assert command_name([]) is None
