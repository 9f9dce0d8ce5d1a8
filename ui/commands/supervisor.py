"""`egate supervisor`: the supervisor station; `--demo` adds a bank of simulated
kiosks producing traffic on the same (by default the embedded) border database."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args
from kiosk.config import border_url, port_zone

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
        "--demo-officer-after",
        type=float,
        default=90.0,
        metavar="S",
        help="with --demo: a demo officer acts on referrals nobody handled for S seconds "
        "(0 = no demo officer)",
    )
    p.add_argument(
        "--demo-report",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --demo: on exit, write what the simulated traffic did as JSON to FILE",
    )
    p.add_argument(
        "--quit-after",
        type=float,
        default=0.0,
        metavar="S",
        help="close after S seconds (for smoke tests); 0 = run until closed",
    )
    p.add_argument(
        "--language",
        choices=("en", "zh_CN"),
        default="en",
        help="the station's language (reasons, fields and states in plain words)",
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
    from kiosk.runtime.station_metrics import start_station_metrics
    from kiosk.supervisor.station import Station
    from ui.commands.kiosk import stop_resource_tracker
    from ui.supervisor.window import SupervisorWindow

    config = config_from_args(args)
    if args.screenshots is not None and not args.demo:
        raise CommandError("invalid_argument", "--screenshots needs --demo")
    if not 1 <= args.kiosks <= 40:
        raise CommandError("invalid_argument", "--kiosks must be between 1 and 40")
    engine = open_station_border(args, config)
    clock = SystemClock()
    # From here on SIGTERM/SIGINT only set a flag: the orderly shutdown below then
    # stops the lanes and the face worker (a default SIGTERM would orphan it).
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    fleet = None
    metrics = None
    workdir: tempfile.TemporaryDirectory[str] | None = None
    try:
        if args.demo:
            workdir = tempfile.TemporaryDirectory(prefix="egate-supervisor-demo-")
            fleet = _demo_fleet(args, config, engine, clock, Path(workdir.name))
        app = QApplication.instance() or QApplication([])
        station = Station(
            engine, clock, image_retention_h=config.privacy.referral_image_retention_h
        )
        metrics = start_station_metrics(config, engine, clock, station.settings)
        if args.language != "en":
            from ui.i18n import Translations

            Translations().use(args.language)
        window = SupervisorWindow(station, zone=port_zone(config.kiosk.time_zone))
        window.show()
        if fleet is not None and not stopping.is_set():
            fleet.start()
        print("egate supervisor: ready", flush=True)
        if args.screenshots is not None:
            from ui.supervisor.screens import ScreenTour

            tour = ScreenTour(
                window, args.screenshots, (DEMO_OFFICERS[2][0], DEMO_OFFICERS[2][3])
            )
            tour.start()
        if args.quit_after > 0:
            # exit(), not quit(): Qt 6 quit() closes every window of the process.
            QTimer.singleShot(int(args.quit_after * 1000), lambda: app.exit(0))
        watch = QTimer()
        watch.setInterval(100)  # also lets Python run its signal handlers while Qt waits
        watch.timeout.connect(lambda: stopping.is_set() and app.exit(0))
        watch.start()
        status = 0 if stopping.is_set() else app.exec()
        watch.stop()
        window.close()
    finally:
        if metrics is not None:
            metrics.close()
        if fleet is not None:
            # Stops the lanes, agents, cameras and the shared face worker process.
            fleet.stop()
            if args.demo_report is not None:
                args.demo_report.write_text(json.dumps(fleet.summary(), indent=1))
        if workdir is not None:
            workdir.cleanup()
        stop_resource_tracker()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("egate supervisor: stopped", file=sys.stderr, flush=True)
    return int(status)


def _demo_fleet(
    args: argparse.Namespace, config: Any, engine: Any, clock: Any, workdir: Path
) -> Any:
    """Demo officers (printed), the simulated kiosks and, unless disabled, a demo
    officer acting on referrals nobody handled."""
    from kiosk.simulation.demo_fleet import DemoFleet
    from kiosk.supervisor.officers import OfficerDirectory, OfficerError
    from kiosk.supervisor.station import Station

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
    officer = None
    if args.demo_officer_after > 0:
        # A second station session, as a colleague at another desk would have.
        officer = Station(engine, clock)
        officer.sign_in(DEMO_OFFICERS[1][0], DEMO_OFFICERS[1][3])
    return DemoFleet(
        config,
        workdir,
        args.url or border_url(config),
        count=args.kiosks,
        officer=officer,
        officer_after_s=args.demo_officer_after,
        officer_login=(DEMO_OFFICERS[1][0], DEMO_OFFICERS[1][3]),
    )
