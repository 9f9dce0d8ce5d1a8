"""The `egate` console script: the core's commands plus the Qt ones."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kiosk.cli.main import main as core_main

# Command -> (module, one-line help), so `egate --help` lists them without importing Qt.
QT_COMMANDS = {
    "demo": ("ui.commands.demo", "run the kiosk demo on simulated devices"),
    "simulate": ("ui.commands.simulate", "run simulated travellers through the lane"),
    "scenario": ("ui.commands.scenario", "play QA scenarios (YAML) through the lane"),
    "screenshots": ("ui.commands.screenshots", "render every traveller screen to PNG (offscreen)"),
    "kiosk": ("ui.commands.kiosk", "run the kiosk on its real devices (production)"),
    "supervisor": (
        "ui.commands.supervisor",
        "the supervisor station (officers watch every lane)",
    ),
}
QT_COMMAND_MODULES = tuple(dict.fromkeys(module for module, _ in QT_COMMANDS.values()))


def main(argv: Sequence[str] | None = None) -> int:
    return core_main(argv, extra_modules=QT_COMMAND_MODULES, extra_commands=QT_COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
