"""`egate kiosk run`: the traveller window on the configured devices, locked down
([kiosk] lockdown, on by default), stopped cleanly by SIGTERM; `egate kiosk
pin-hash` makes the maintenance PIN hash for the configuration."""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import threading
from typing import Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args
from kiosk.config import ConfigError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    group = sub.add_parser("kiosk", help="run the traveller kiosk")
    gsub = group.add_subparsers(dest="kiosk_command", metavar="WHAT", required=True)
    run = gsub.add_parser("run", help="the traveller window on the configured devices")
    add_common_options(run, json_flag=False)
    run.add_argument("--quit-after", type=float, default=0.0, metavar="S",
                     help="stop after S seconds (smoke tests); 0 = until stopped")
    run.set_defaults(func=run_kiosk)
    pin = gsub.add_parser("pin-hash", help="hash a maintenance PIN (read from stdin)")
    pin.set_defaults(func=pin_hash)


def pin_hash(args: argparse.Namespace) -> int:
    from ui.traveller.lockdown import hash_pin

    pin = getpass.getpass("PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    try:
        print(hash_pin(pin))
    except ValueError as exc:
        raise CommandError("bad_argument", str(exc)) from exc
    return 0


def stop_resource_tracker() -> None:
    """End multiprocessing's resource-tracker process (it outlives a SIGTERM'd parent)."""
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker
    if getattr(tracker, "_pid", None) is not None:
        try:
            tracker._stop()  # type: ignore[attr-defined]  # CPython 3.11+ private API
        except Exception:
            log.exception("resource tracker did not stop")


def run_kiosk(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kiosk.app import open_storage, start_sync
    from kiosk.simulation import SimulatedKiosk
    from kiosk.workflow.events import ChangeLanguage, SkipBoardingPass, Start
    from kiosk.workflow.lane import LaneRunner
    from ui.bridge import LaneBridge
    from ui.heartbeat import settle_heap
    from ui.traveller.lockdown import Lockdown
    from ui.traveller.speech import SilentSpeaker, make_speaker
    from ui.traveller.window import TravellerWindow

    app = QApplication.instance() or QApplication([])
    try:
        kiosk = SimulatedKiosk(config, open_storage(config))
    except ConfigError as exc:
        raise CommandError("invalid_config", str(exc), status=78) from exc
    speaker = make_speaker(config.kiosk.speech)
    if isinstance(speaker, SilentSpeaker):
        print(f"egate kiosk: speech off ({speaker.reason})", file=sys.stderr, flush=True)
    window = TravellerWindow(config.kiosk.languages, kiosk.camera, speaker=speaker,
                             high_contrast=config.kiosk.high_contrast)
    lane = kiosk.lane
    bridge = LaneBridge()
    bridge.changed.connect(window.show_snapshot)
    lane.add_observer(bridge)
    window.start_requested.connect(lambda lang: lane.post(Start(lang)))
    window.start_again.connect(lambda lang: lane.post(Start(lang)))
    window.language_changed.connect(lambda lang: lane.post(ChangeLanguage(lang)))
    window.boarding_pass_skipped.connect(lambda: lane.post(SkipBoardingPass()))
    lockdown: Lockdown | None = None
    if config.kiosk.lockdown:
        lockdown = Lockdown(window, config.kiosk.maintenance_pin_hash, lambda: app.exit(0))
        lockdown.install(config.kiosk.screen)
    elif config.kiosk.fullscreen:
        window.showFullScreen()
    else:
        window.show()

    import faulthandler

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # stack dump for a stuck kiosk
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()  # acted on by the timer below, on the GUI thread

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    watch = QTimer()
    watch.setInterval(100)  # also lets Python run its signal handlers while Qt waits
    def tick() -> None:
        if stopping.is_set():
            # exit(), not quit(): Qt 6's quit() first asks every window to close,
            # and the locked-down window refuses.
            app.exit(0)

    watch.timeout.connect(tick)
    watch.start()
    warm_up = getattr(kiosk.services.face, "warm_up", None)
    if callable(warm_up):  # the face worker and its models, before the first traveller
        warm_up()
    runner = LaneRunner(lane)
    stop_sync = threading.Event()
    settle_heap()
    kiosk.camera.start()
    runner.start()
    start_sync(config, kiosk.storage, stop_sync)
    if args.quit_after > 0:
        QTimer.singleShot(int(args.quit_after * 1000), lambda: app.exit(0))
    print("egate kiosk: ready", flush=True)
    try:
        status = app.exec()
    finally:
        watch.stop()
        stop_sync.set()
        runner.stop()  # closes the gate
        kiosk.close()  # camera and face worker process
        if lockdown is not None:
            lockdown.uninstall()
        stop_resource_tracker()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print(f"egate kiosk: stopped, gate {kiosk.gate.state}", flush=True)
    return int(status)
