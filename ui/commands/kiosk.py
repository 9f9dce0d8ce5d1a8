"""`egate kiosk`: the production lane - real devices, the traveller window alone.

Start-up order puts the welcome screen first: storage, devices, window, lane thread,
then (behind the screen) the face worker's model loading and the border sync. systemd
hears READY=1 when the window is up and WATCHDOG=1 while both the lane loop and the
GUI thread keep turning; SIGTERM closes the gate, then ends every thread and child.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args
from kiosk.config import ConfigError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "kiosk",
        help="run the kiosk on its real devices (production)",
        description="The locked-down traveller window on the devices the config names.",
    )
    add_common_options(p, json_flag=False)
    p.add_argument(
        "--quit-after",
        type=float,
        default=0.0,
        metavar="S",
        help="stop after S seconds (tests, acceptance); 0 = run until stopped",
    )
    p.add_argument(
        "--report", metavar="FILE", help="on exit, write start-up and run figures as JSON to FILE"
    )
    p.set_defaults(func=run)


def process_age_ms() -> float:
    """Milliseconds since this process was started (Linux /proc), for cold-start figures."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return (uptime - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000
    except (OSError, ValueError, IndexError):
        return float("nan")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kiosk.app import open_storage, start_sync
    from kiosk.production import ProductionKiosk
    from kiosk.systemd import notify, watchdog_interval_s
    from kiosk.workflow.events import SkipBoardingPass, Start
    from kiosk.workflow.lane import LaneRunner
    from ui.bridge import LaneBridge
    from ui.traveller.window import TravellerWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        kiosk = ProductionKiosk(config, open_storage(config))
    except ConfigError as exc:
        raise CommandError("invalid_config", str(exc), status=78) from exc
    figures: dict[str, Any] = {}
    window = TravellerWindow(config.kiosk.languages, kiosk.camera)
    bridge = LaneBridge()
    bridge.changed.connect(window.show_snapshot)
    kiosk.lane.add_observer(bridge)
    window.start_requested.connect(lambda lang: kiosk.lane.post(Start(lang)))
    window.boarding_pass_skipped.connect(lambda: kiosk.lane.post(SkipBoardingPass()))
    runner = LaneRunner(kiosk.lane)
    stop_sync = threading.Event()
    try:
        kiosk.start()
    except Exception as exc:  # a dead gate link or camera: refuse to run with the gate closed
        kiosk.close()
        raise CommandError(
            "device_fault", f"kiosk devices did not start: {exc}", status=69
        ) from exc
    if config.kiosk.fullscreen:
        window.showFullScreen()
    else:
        window.show()
    runner.start()

    def ready() -> None:
        figures["ready_ms"] = round(process_age_ms(), 1)
        notify("READY=1")
        log.info("kiosk %s ready in %.0f ms", config.kiosk.id, figures["ready_ms"])
        start_sync(config, kiosk.storage, stop_sync)

    QTimer.singleShot(0, ready)  # runs once the event loop has painted the window
    interval = watchdog_interval_s()
    watchdog = QTimer()
    if interval:
        # The timer fires on the GUI thread; the lane thread proves itself by its beat.
        watchdog.timeout.connect(
            lambda: runner.alive(within_s=2 * interval) and notify("WATCHDOG=1")
        )
        watchdog.start(int(interval * 1000))
    # Python handles SIGTERM only when it runs: a short timer lets it in under Qt.
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    pulse = QTimer()
    pulse.timeout.connect(lambda: None)
    pulse.start(200)
    if args.quit_after > 0:
        QTimer.singleShot(int(args.quit_after * 1000), app.quit)
    started = time.monotonic()
    try:
        status = int(app.exec())
    finally:
        notify("STOPPING=1")
        stop_sync.set()
        runner.stop()
        kiosk.close()
        figures["ran_s"] = round(time.monotonic() - started, 1)
        if args.report:
            with open(args.report, "w") as f:
                json.dump(figures, f)
    return status
