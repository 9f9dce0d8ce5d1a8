"""`egate scenario run FILE...`: QA scenarios (YAML) through the real lane and window."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from kiosk.cli.common import CommandError, print_json
from ui.progress import Progress


def register(sub: Any) -> None:
    group = sub.add_parser("scenario", help="play QA scenarios (YAML) through the lane")
    gsub = group.add_subparsers(dest="scenario_command", metavar="WHAT", required=True)
    run = gsub.add_parser("run", help="run scenario files; non-zero exit when any fails")
    run.add_argument("files", nargs="+", metavar="FILE")
    run.add_argument("--ui", choices=("offscreen", "none"), default="offscreen",
                     help="the real Qt traveller window offscreen (default), or no window")
    run.add_argument("--json", action="store_true", help="print the results as JSON")
    run.set_defaults(func=run_files)


def run_files(args: argparse.Namespace) -> int:
    from kiosk.runtime.app import open_storage
    from kiosk.simulation.scenario import (
        ScenarioError,
        ScenarioResult,
        ScreenProbe,
        SnapshotProbe,
        run_scenarios,
    )

    def make_probe() -> ScreenProbe:
        # Made after the kiosks have started their face workers: Qt's start-up
        # overlaps theirs (kiosk.simulation.scenario.run_scenarios).
        if args.ui == "offscreen":
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            from ui.scenario_probe import WindowProbe

            return WindowProbe()
        return SnapshotProbe()

    # Without --json the result lines on stdout are the progress off a terminal.
    bar = Progress("egate scenario run", len(args.files), lines=args.json)

    def progress(r: ScenarioResult) -> None:
        mark = "PASS" if r.passed else "FAIL"
        line = (f"{mark} {r.name} ({r.seconds:.1f} s)"
                f"{'' if r.passed else ': ' + str(r.failure)}")
        if not args.json:  # stdout carries the JSON, and only it, at the end
            print(line, flush=True)
        bar.advance(line)

    # Start-up (kiosk, face worker, window) takes seconds before the first result.
    bar.note(f"{len(args.files)} files, starting the simulated kiosk")
    with tempfile.TemporaryDirectory(prefix="egate-scenarios-") as tmp, bar:
        try:
            results = run_scenarios(list(args.files), make_probe, Path(tmp), open_storage,
                                    progress)
        except ScenarioError as exc:
            raise CommandError("bad_scenario", str(exc), status=65) from exc
    if args.json:
        print_json({"scenarios": [r.as_json() for r in results]})
    else:
        failed = sum(not r.passed for r in results)
        print(f"{len(results) - failed} of {len(results)} scenarios passed "
              f"in {bar.elapsed_s:.0f} s", flush=True)
    return 0 if all(r.passed for r in results) else 1
