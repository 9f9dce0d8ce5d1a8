"""`egate doctor`: check this kiosk PC's devices, data and connections."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.common import add_common_options, config_from_args, print_json

# Exit status when any check fails (warnings alone exit 0), documented in docs/cli.md.
CHECK_FAILED = 1


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check devices, trust store, policy, border database, disk and clock",
        description="One verdict per check (ok, warn, fail) with a fix for each problem.",
    )
    add_common_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.runtime.doctor import real_probes, run_checks

    config = config_from_args(args)
    results = run_checks(config, real_probes())
    if args.json:
        print_json([r.to_json() for r in results])
    else:
        width = max(len(r.check) for r in results)
        for r in results:
            print(f"{r.status.upper():4}  {r.check:{width}}  {r.detail}")
            if r.fix:
                print(f"{'':4}  {'':{width}}  fix: {r.fix}")
    return CHECK_FAILED if any(r.status == "fail" for r in results) else 0
