"""`egate simulate lane`: N simulated travellers through the real workflow."""

from __future__ import annotations

import argparse
import os
import threading
from dataclasses import replace
from typing import Any

from kiosk.border import BorderSync
from kiosk.cli.common import CommandError, add_common_options, config_from_args, print_json
from kiosk.config import ConfigError
from kiosk.lane.machine import LaneRunner
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from kiosk.runtime.app import open_storage
from kiosk.simulation.lane_driver import LaneFigures, drive
from kiosk.simulation.simulated_kiosk import DEVICE_TIMINGS, SimulatedKiosk, traveller_mix
from kiosk.supervisor.agent import attach_supervisor
from ui.progress import Progress

MAX_TRAVELLERS = 10_000


def register(sub: Any) -> None:
    group = sub.add_parser("simulate", help="run simulated travellers through the lane")
    gsub = group.add_subparsers(dest="simulate_command", metavar="WHAT", required=True)
    lane = gsub.add_parser("lane", help="N travellers through the real workflow")
    add_common_options(lane)
    lane.add_argument("--travellers", type=int, default=10, metavar="N")
    lane.add_argument("--ui", choices=("offscreen", "none"), default="none",
                      help="drive the real Qt traveller window offscreen, or no window")
    lane.add_argument("--seed", type=int, default=1, help="seed of the traveller mix")
    lane.add_argument("--devices", choices=sorted(DEVICE_TIMINGS), default="instant",
                      help="instant simulator, or realistic chip, camera and walk timings")
    lane.add_argument("--walk-s", type=float, default=None, metavar="S",
                      help="seconds from the reader to the camera (realistic: 1.5)")
    lane.set_defaults(func=run_lane)


def run_lane(args: argparse.Namespace) -> int:
    if not 1 <= args.travellers <= MAX_TRAVELLERS:  # each gets a passport made up front
        raise CommandError("bad_argument", f"--travellers must be 1 to {MAX_TRAVELLERS}")
    timing = DEVICE_TIMINGS[args.devices]
    if args.walk_s is not None:
        if not 0.0 <= args.walk_s <= 60.0:
            raise CommandError("bad_argument", "--walk-s must be 0 to 60 seconds")
        timing = replace(timing, walk_s=args.walk_s)
    config = config_from_args(args)
    bar = Progress("egate simulate lane", args.travellers)
    bar.note("starting the simulated kiosk (storage, face worker, passports)")
    storage = open_storage(config)
    try:
        kiosk = SimulatedKiosk(config, storage, timing=timing)
    except ConfigError as exc:
        raise CommandError("invalid_config", str(exc), status=78) from exc
    travellers = traveller_mix(args.travellers, args.seed)
    kiosk.prepare(travellers)  # passports are made before the clock runs
    if storage.border is not None:  # as a kiosk does at start: confirm reference data
        BorderSync(storage.engine, storage.border, config.kiosk.id).pull()
    kiosk.camera.start()
    extra: dict[str, Any] = {}
    bar.note(f"{len(travellers)} travellers' passports made")
    kiosk.lane.add_observer(_Outcomes(bar))
    # Wired as `egate kiosk` wires it: the station sees the simulated lane.
    stop_agent = threading.Event()
    attach_supervisor(config, kiosk.lane, storage.border, kiosk.clock, stop_agent)
    try:
        with bar:
            if args.ui == "none":
                figures = drive(kiosk, travellers, pump=lambda: kiosk.lane.run_pending(0.005))
            else:
                figures, extra = _run_offscreen(kiosk, travellers)
    finally:
        stop_agent.set()
        kiosk.close()
    logged = {e.event_id for e in storage.events.events()}
    events_logged = sum(1 for o in figures.outcomes if o["transaction_id"] in logged)
    result = figures.summary(events_logged)
    result.update(extra)
    if storage.border is not None:  # hand the run to the border database, as a kiosk does
        sync = BorderSync(storage.engine, storage.border, config.kiosk.id)
        result["sync"] = sync.run_once().as_json()
    if args.json:
        print_json(result)
    else:
        for key in ("travellers", "admitted", "referred", "events_logged",
                    "median_transaction_ms", "p95_transaction_ms"):
            print(f"{key}: {result[key]}")
        split = result["timing_ms"]
        for key in ("chip_io", "walk", "capture_window", "device", "overhead"):
            print(f"{key}_ms ({split['devices']}): median {split[key]['median']}, "
                  f"p95 {split[key]['p95']}")
        for m in result["mismatches"]:
            print(f"mismatch: traveller {m['index']} {m['traveller']}: {'; '.join(m['problems'])}")
    # Non-zero when a traveller went unlogged or ended otherwise than expected.
    return 0 if events_logged == figures.travellers and not result["mismatches"] else 1


class _Outcomes:
    """A lane observer: one progress step per traveller's outcome (any thread)."""

    ENDS = frozenset({LaneState.ADMITTED, LaneState.REFERRED, LaneState.ERROR})

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._last: LaneState | None = None

    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        state, previous, self._last = snapshot.state, self._last, snapshot.state
        if state in self.ENDS and state is not previous:
            self._bar.advance(f"traveller {state.value}")


def _run_offscreen(
    kiosk: SimulatedKiosk, travellers: list[Any]
) -> tuple[LaneFigures, dict[str, Any]]:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication

    from ui.bridge import LaneBridge
    from ui.heartbeat import Heartbeat, settle_heap
    from ui.traveller.window import TravellerWindow

    class _Done(QObject):
        finished = Signal()

    _app = QApplication.instance() or QApplication([])  # must stay referenced
    window = TravellerWindow(kiosk.config.kiosk.languages, kiosk.camera,
                             officer_desk=kiosk.config.ui.officer_desk)
    bridge = LaneBridge()
    bridge.changed.connect(window.show_snapshot)
    kiosk.lane.add_observer(bridge)
    window.show()
    beat = Heartbeat()
    runner = LaneRunner(kiosk.lane, poll_s=0.01)
    outcome: dict[str, Any] = {}

    # A local event loop, not app.exec(): quitting the application would leave
    # Qt's main thread flagged to quit and stop any later event loop (tests).
    loop = QEventLoop()
    done = _Done()
    done.finished.connect(loop.quit)  # queued onto the GUI thread

    def work() -> None:
        try:
            outcome["figures"] = drive(kiosk, travellers)
        except Exception as exc:
            outcome["error"] = exc
        finally:
            done.finished.emit()

    settle_heap()
    runner.start()
    beat.start()
    driver = threading.Thread(target=work, name="simulated-travellers")
    QTimer.singleShot(0, driver.start)
    loop.exec()
    driver.join()
    window.close()
    runner.stop()
    beat.stop()
    if "error" in outcome:
        raise CommandError("simulation_failed", str(outcome["error"]), status=1)
    screens = sorted({s.value for s in window.states_seen})
    return outcome["figures"], {
        "ui": "offscreen",
        "gui_max_stall_ms": round(beat.max_stall_ms, 1),
        "gui_max_gap_ms": round(beat.max_gap_ms, 1),
        "screens_shown": screens,
        "preview_frames_painted": window.face.preview.frames_painted,
    }
