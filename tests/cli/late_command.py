"""A command module registered late, as other helpers' commands will be (test double)."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.common import add_common_options


def register(sub: Any) -> None:
    group = sub.add_parser("late", help="a command added after the hostile test was written")
    gsub = group.add_subparsers(dest="late_command", required=True)
    crash = gsub.add_parser("crash")
    add_common_options(crash)
    crash.set_defaults(func=_crash)


def _crash(args: argparse.Namespace) -> int:
    return {}["a bug"]  # type: ignore[no-any-return]
