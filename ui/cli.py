"""The `egate` console script: the core's commands plus the Qt ones (demo, simulate)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kiosk.cli.main import main as core_main

QT_COMMAND_MODULES = (
    "ui.commands.demo",
    "ui.commands.simulate",
    "ui.commands.scenario",
    "ui.commands.screenshots",
    "ui.commands.kiosk",
)


def main(argv: Sequence[str] | None = None) -> int:
    return core_main(argv, extra_modules=QT_COMMAND_MODULES)


if __name__ == "__main__":
    sys.exit(main())
