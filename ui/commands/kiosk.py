"""`egate kiosk`: the production lane - real devices, the traveller window alone, locked
down ([kiosk] lockdown, on by default); `egate kiosk pin-hash` makes the maintenance
PIN hash for the configuration.

Start-up order puts the welcome screen first: storage, devices, window, lane thread,
then (behind the screen) the face worker's model loading and the border sync. systemd
hears READY=1 when the window is up and WATCHDOG=1 while both the lane loop and the
GUI thread keep turning; SIGTERM closes the gate, then ends every thread and child
process (the face worker and multiprocessing's resource tracker).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args
from kiosk.config import Config, ConfigError

if TYPE_CHECKING:  # Qt and the devices are imported only once the kiosk runs
    from kiosk.runtime.production import ProductionKiosk
    from ui.bridge import LaneBridge
    from ui.traveller.lockdown import Lockdown
    from ui.traveller.window import TravellerWindow

log = logging.getLogger(__name__)


def _run_options(p: argparse.ArgumentParser) -> None:
    add_common_options(p, json_flag=False)
    p.add_argument("--quit-after", type=float, default=0.0, metavar="S",
                   help="stop after S seconds (tests, acceptance); 0 = run until stopped")
    p.add_argument("--report", metavar="FILE",
                   help="on exit, write start-up and run figures as JSON to FILE")
    p.set_defaults(func=run)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "kiosk",
        help="run the kiosk on its real devices (production)",
        description="The locked-down traveller window on the devices the config names.",
    )
    _run_options(p)
    gsub = p.add_subparsers(dest="kiosk_command", metavar="WHAT", required=False)
    _run_options(gsub.add_parser("run", help="the same as `egate kiosk` (the default)"))
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
    """End multiprocessing's resource-tracker process (it outlives a SIGTERM'd parent).

    Not while a named semaphore of this process is still in use (a face worker not
    closed, or another one in the same process, as in tests): the tracker would unlink
    it as "leaked", and its own finalizer would then print a sem_unlink
    FileNotFoundError traceback at exit. The tracker then ends with this process."""
    import gc
    from multiprocessing import resource_tracker, synchronize

    gc.collect()  # a queue dropped in a reference cycle frees its semaphores now
    live = [o for o in gc.get_objects()
            if isinstance(o, synchronize.SemLock)
            and getattr(getattr(o, "_semlock", None), "name", None)]
    if live:
        log.debug("resource tracker left running: %d semaphores in use", len(live))
        return
    tracker = resource_tracker._resource_tracker
    if getattr(tracker, "_pid", None) is not None:
        try:
            tracker._stop()  # type: ignore[attr-defined]  # CPython 3.11+ private API
        except Exception:
            log.exception("resource tracker did not stop")


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

    from kiosk.lane.machine import LaneRunner
    from kiosk.runtime.app import open_production_storage
    from kiosk.runtime.production import ProductionKiosk
    from kiosk.runtime.systemd import notify, watchdog_interval_s
    from ui.heartbeat import settle_heap

    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        # The border must answer now: production never runs on a stand-in.
        kiosk = ProductionKiosk(config, open_production_storage(config))
    except ConfigError as exc:
        raise CommandError("invalid_config", str(exc), status=78) from exc
    figures: dict[str, Any] = {}
    window, _bridge = _traveller_window(config, kiosk)
    runner = LaneRunner(kiosk.lane)
    stop_sync = threading.Event()
    try:
        kiosk.start()
    except Exception as exc:  # a dead gate link or camera: refuse to run, gate closed
        kiosk.close()
        message = f"kiosk devices did not start: {exc}"
        raise CommandError("device_fault", message, status=69) from exc
    lockdown = _show(window, config, lambda: app.exit(0))
    settle_heap()
    runner.start()

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

    def ready() -> None:
        figures["ready_ms"] = round(process_age_ms(), 1)
        notify("READY=1")
        print("egate kiosk: ready", flush=True)
        log.info("kiosk %s ready in %.0f ms", config.kiosk.id, figures["ready_ms"])
        kiosk.connect(stop_sync)  # border sync and the supervisor agent

    QTimer.singleShot(0, ready)  # runs once the event loop has painted the window
    interval = watchdog_interval_s()
    watchdog = QTimer()
    if interval:
        # The timer fires on the GUI thread; the lane thread proves itself by its beat.
        watchdog.timeout.connect(
            lambda: runner.alive(within_s=2 * interval) and notify("WATCHDOG=1")
        )
        watchdog.start(int(interval * 1000))
    if args.quit_after > 0:
        QTimer.singleShot(int(args.quit_after * 1000), lambda: app.exit(0))
    started = time.monotonic()
    try:
        status = int(app.exec())
    finally:
        notify("STOPPING=1")
        watch.stop()
        watchdog.stop()
        stop_sync.set()
        runner.stop()  # closes the gate
        kiosk.close()  # gate link, cameras, MRZ reader, face worker process
        if lockdown is not None:
            lockdown.uninstall()
        stop_resource_tracker()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print(f"egate kiosk: stopped, gate {kiosk.gate.state}", flush=True)
        figures["ran_s"] = round(time.monotonic() - started, 1)
        if args.report:
            from kiosk.safe_files import write_output

            write_output(args.report, json.dumps(figures).encode())
    return status


def _traveller_window(config: Config, kiosk: ProductionKiosk) -> tuple[TravellerWindow, LaneBridge]:
    """The traveller window, fed by the lane's snapshots and posting the traveller's
    touches to the lane; the bridge is returned so it lives as long as the window."""
    from kiosk.lane.events import ChangeLanguage, SkipBoardingPass, Start
    from ui.bridge import LaneBridge
    from ui.traveller.speech import SilentSpeaker, make_speaker
    from ui.traveller.window import TravellerWindow

    speaker = make_speaker(config.kiosk.speech, config.kiosk.speech_engine)
    if isinstance(speaker, SilentSpeaker):
        log.warning("speech off: %s", speaker.reason)
    window = TravellerWindow(config.kiosk.languages, kiosk.camera, speaker=speaker,
                             high_contrast=config.kiosk.high_contrast,
                             officer_desk=config.ui.officer_desk)
    lane = kiosk.lane
    bridge = LaneBridge()
    bridge.changed.connect(window.show_snapshot)
    lane.add_observer(bridge)
    window.start_requested.connect(lambda lang: lane.post(Start(lang)))
    window.start_again.connect(lambda lang: lane.post(Start(lang)))
    window.language_changed.connect(lambda lang: lane.post(ChangeLanguage(lang)))
    window.boarding_pass_skipped.connect(lambda: lane.post(SkipBoardingPass()))
    return window, bridge


def _show(window: TravellerWindow, config: Config, leave: Callable[[], None]) -> Lockdown | None:
    """Show the window: locked down (the maintenance PIN calls `leave`), full screen
    or windowed, as configured."""
    from ui.traveller.lockdown import Lockdown

    if config.kiosk.lockdown:
        lockdown = Lockdown(window, config.kiosk.maintenance_pin_hash, leave)
        lockdown.install(config.kiosk.screen)
        return lockdown
    if config.kiosk.fullscreen:
        window.showFullScreen()
    else:
        window.show()
    return None
