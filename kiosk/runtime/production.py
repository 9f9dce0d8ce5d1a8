"""The production composition: a lane on the real devices the config names.

`egate kiosk` runs this (ui/commands/kiosk.py adds the locked-down traveller window).
Unlike kiosk.simulation.simulated_kiosk it builds no passports and no scenes: the PC/SC reader, the
camera, the MRZ source and the gate controller are the ones on the kiosk PC. A device
the config leaves "simulated" is refused here, so a production kiosk can never run on
a stand-in by accident.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from devices.camera.opencv import OpenCvCamera, parse_source
from devices.gate.serial_gate import SerialGate
from devices.icao9303.pcsc import pcsc_document_reader
from devices.mrz.sources import CameraMrzSource, SerialMrzSource
from devices.protocols import Camera, DocumentReader, MrzSource
from kiosk.border import BorderSync
from kiosk.clock import Clock, SystemClock
from kiosk.config import Config, ConfigError
from kiosk.lane.machine import Lane, LaneDevices
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.runtime.app import LocalStorage, build_services, start_sync
from kiosk.runtime.metrics import MetricsServer, start_kiosk_metrics
from kiosk.supervisor.agent import attach_supervisor

log = logging.getLogger(__name__)


@dataclass
class ProductionKiosk:
    config: Config
    storage: LocalStorage
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        d = self.config.devices
        simulated = [
            k for k in ("reader", "camera", "gate", "mrz_source") if getattr(d, k) != "real"
        ]
        if simulated:
            raise ConfigError(
                "egate kiosk drives real devices only; set devices."
                + ", devices.".join(simulated)
                + ' = "real" (egate demo runs the simulators)'
            )
        self.reader: DocumentReader = pcsc_document_reader(d.reader_name)
        self.camera: Camera = OpenCvCamera(parse_source(d.camera_source))
        self.page_camera: Camera | None = None
        self.serial_mrz: SerialMrzSource | None = None
        mrz: MrzSource
        if d.mrz_device == "serial":
            self.serial_mrz = SerialMrzSource.on_port(d.mrz_port, d.mrz_baud)
            mrz = self.serial_mrz
        else:
            if d.mrz_camera_source:
                self.page_camera = OpenCvCamera(parse_source(d.mrz_camera_source))
            mrz = CameraMrzSource(self.page_camera or self.camera)
        self.gate = SerialGate.on_port(
            d.gate_port,
            d.gate_baud,
            ack_timeout_s=d.gate_ack_timeout_s,
            lost_after_s=d.gate_link_lost_s,
        )
        self.services = build_services(self.config, self.storage, self.clock)
        self.lane = Lane(
            self.config,
            LaneDevices(self.reader, mrz, self.camera, self.gate),
            self.services,
            self.storage.events,
            self.clock,
        )
        self.lane.add_observer(StateLog())
        self.metrics: MetricsServer | None = None
        self.sync: BorderSync | None = None

    def start(self) -> None:
        """Cameras and readers first, then the gate (which closes itself on start)."""
        self.camera.start()
        if self.page_camera is not None:
            self.page_camera.start()
        if self.serial_mrz is not None:
            self.serial_mrz.start()
        self.gate.start()
        warm_up = getattr(self.services.face, "warm_up", None)
        if callable(warm_up):
            # The models load in the worker process while the welcome screen shows; a
            # traveller who arrives first waits inside verify (same lock), never fails.
            threading.Thread(
                target=_warm, args=(warm_up,), name="face-warm-up", daemon=True
            ).start()
        # Before the lane runs, so the first traveller is counted (docs/metrics.md).
        self.metrics = start_kiosk_metrics(
            self.config, self.storage.engine, self.storage.reference, self.lane, self.clock,
            sync=lambda: self.sync, faults=self.device_faults,
        )  # fmt: skip

    def connect(self, stop: threading.Event) -> None:
        """The border link: the outbox sync and the supervisor agent (status, referrals,
        officer commands), both until `stop`; nothing when the border is unreachable."""
        sync = start_sync(self.config, self.storage, stop)
        attach_supervisor(
            self.config, self.lane, self.storage.border, self.clock, stop,
            sync.pending if sync is not None else None,
        )  # fmt: skip
        self.sync = sync

    def device_faults(self) -> dict[str, str | None]:
        """Each device's standing fault (None: healthy), for the metrics."""
        faults = {"camera": self.camera.fault, "gate": self.gate.fault}
        if self.serial_mrz is not None:
            faults["mrz"] = self.serial_mrz.fault
        elif self.page_camera is not None:
            faults["mrz"] = self.page_camera.fault
        return faults

    def close(self) -> None:
        """Gate closed first; then every thread and the face worker process end."""
        self.lane.close_gate()
        if self.metrics is not None:
            self.metrics.close()
        self.gate.stop()
        if self.serial_mrz is not None:
            self.serial_mrz.stop()
        for camera in (self.camera, self.page_camera):
            if camera is not None:
                camera.stop()
        close = getattr(self.services.face, "close", None)
        if callable(close):
            close()


class StateLog:
    """Each lane state change as an info line (journald): what an engineer reads to
    follow a lane. States, message codes and whether a document lies on the reader
    (a passport taken from a referral changes no state, yet forbids an officer
    admit); never traveller data."""

    def __init__(self, level: int = logging.INFO) -> None:
        self._last: tuple[str, str, str] | None = None
        self._level = level

    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        document = "on reader" if snapshot.document_on_reader else "off reader"
        now = (snapshot.state.value, snapshot.message, document)
        if now != self._last:
            self._last = now
            log.log(self._level, "lane state %s (%s) document %s", *now)


def _warm(warm_up: Callable[[], None]) -> None:
    try:
        warm_up()
    except Exception:  # the lane reports the worker's failure with the first traveller
        log.exception("face worker did not warm up")
