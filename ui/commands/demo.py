"""`egate demo`: the traveller window and a simulator panel on simulated devices."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args
from kiosk.config import ConfigError
from kiosk.runtime.app import open_storage, start_sync


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the kiosk demo on simulated devices")
    add_common_options(p, json_flag=False)
    p.add_argument("--quit-after", type=float, default=0.0, metavar="S",
                   help="close after S seconds (for smoke tests); 0 = run until closed")
    p.set_defaults(func=run)


MAX_QUIT_AFTER_S = 86_400.0  # QTimer takes a 32-bit millisecond count


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.quit_after <= MAX_QUIT_AFTER_S:  # also refuses nan
        raise CommandError("bad_argument", f"--quit-after must be 0 to {MAX_QUIT_AFTER_S:g} s")
    config = config_from_args(args)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kiosk.lane.machine import LaneRunner
    from kiosk.simulation.simulated_kiosk import SimulatedKiosk
    from kiosk.supervisor.agent import attach_supervisor
    from ui.demo import DemoWindow
    from ui.heartbeat import settle_heap

    app = QApplication.instance() or QApplication([])
    try:
        kiosk = SimulatedKiosk(config, open_storage(config))
    except ConfigError as exc:
        raise CommandError("invalid_config", str(exc), status=78) from exc
    window = DemoWindow(kiosk)
    if config.kiosk.fullscreen:
        window.showFullScreen()
    else:
        window.show()
    if kiosk.storage.border is not None:  # confirm reference data before the first traveller
        from kiosk.border import BorderSync

        BorderSync(kiosk.storage.engine, kiosk.storage.border, config.kiosk.id).pull()
    runner = LaneRunner(kiosk.lane)
    settle_heap()
    stop_sync = threading.Event()
    # The supervisor station (egate supervisor) sees this lane and may command it.
    attach_supervisor(config, kiosk.lane, kiosk.storage.border, kiosk.clock, stop_sync)
    kiosk.camera.start()
    runner.start()
    start_sync(config, kiosk.storage, stop_sync)
    if args.quit_after > 0:
        QTimer.singleShot(int(args.quit_after * 1000), lambda: app.exit(0))  # not quit()
    try:
        status = app.exec()
    finally:
        stop_sync.set()
        runner.stop()
        kiosk.close()
    return int(status)
