"""`egate supervisor`: the supervisor station; `--demo` adds a bank of simulated
kiosks producing traffic on the same (by default the embedded) border database."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args
from kiosk.config import border_url

# Demo accounts (printed at start-up); real ones come from `egate officers add`.
# Demo secrets follow the secret policy (kiosk.supervisor.secrets): 10+ characters,
# not digits only; the maintenance account serves the configured port.
DEMO_OFFICERS = (
    ("DEMO1", "Demo Officer One", "officer", "demo-one-1234"),
    ("DEMO2", "Demo Officer Two", "officer", "demo-two-5678"),
    ("SUP1", "Demo Supervisor", "supervisor", "demo-sup-0000"),
    ("MAINT1", "Demo Maintenance", "maintenance", "demo-maint-9999"),
)


def register(sub: Any) -> None:
    p = sub.add_parser("supervisor", help="the supervisor station (officers watch every lane)")
    add_common_options(p, json_flag=False)
    p.add_argument("--url", default=None, help="border database URL (default: storage.border_url)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="also run simulated kiosks producing traffic, with demo officers",
    )
    p.add_argument("--kiosks", type=int, default=12, help="simulated kiosks with --demo")
    p.add_argument(
        "--quit-after",
        type=float,
        default=0.0,
        metavar="S",
        help="close after S seconds (for smoke tests); 0 = run until closed",
    )
    p.add_argument(
        "--screenshots",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --demo: save a screenshot of every view into DIR, then quit",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kiosk.cli.supervisor import open_station_border
    from kiosk.clock import SystemClock
    from kiosk.supervisor.officers import OfficerDirectory, OfficerError
    from kiosk.supervisor.station import Station
    from ui.supervisor.window import SupervisorWindow

    config = config_from_args(args)
    if args.screenshots is not None and not args.demo:
        raise CommandError("invalid_argument", "--screenshots needs --demo")
    if not 1 <= args.kiosks <= 40:
        raise CommandError("invalid_argument", "--kiosks must be between 1 and 40")
    engine = open_station_border(args, config)
    clock = SystemClock()
    fleet = None
    if args.demo:
        from kiosk.supervisor.demo import DemoFleet

        directory = OfficerDirectory(engine, clock)
        known = {o.officer_id for o in directory.list()}
        for officer_id, name, role, pin in DEMO_OFFICERS:
            if officer_id not in known:
                try:
                    port = config.kiosk.port if role == "maintenance" else None
                    directory.add(officer_id, name, role, pin, port)
                except OfficerError as exc:
                    raise CommandError(exc.code, exc.message) from exc
        print(
            "demo officers: " + ", ".join(f"{o[0]} ({o[2]}) secret {o[3]}" for o in DEMO_OFFICERS),
            file=sys.stderr,
        )
        workdir = tempfile.TemporaryDirectory(prefix="egate-supervisor-demo-")
        fleet = DemoFleet(
            config, Path(workdir.name), args.url or border_url(config), count=args.kiosks
        )
    app = QApplication.instance() or QApplication([])
    station = Station(engine, clock, image_retention_h=config.privacy.referral_image_retention_h)
    window = SupervisorWindow(station)
    window.show()
    if fleet is not None:
        fleet.start()
    if args.screenshots is not None:
        from ui.supervisor.screens import ScreenTour

        tour = ScreenTour(window, args.screenshots, (DEMO_OFFICERS[2][0], DEMO_OFFICERS[2][3]))
        tour.start()
    if args.quit_after > 0:
        # exit(), not quit(): Qt 6 quit() closes every window of the process.
        QTimer.singleShot(int(args.quit_after * 1000), lambda: app.exit(0))
    try:
        status = app.exec()
    finally:
        window.close()
        if fleet is not None:
            fleet.stop()
            workdir.cleanup()
    return int(status)
