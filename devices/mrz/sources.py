"""MRZ sources for real lanes: a camera looking at the data page, or a line reader.

Both implement devices.protocols.MrzSource. Neither guesses: without a reading whose
every check digit holds, `read_mrz` raises DeviceFault and the lane asks the traveller
to reposition the passport.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from devices.errors import DeviceFault, MrzUnreadable
from devices.icao9303.mrz import Mrz, MrzError
from devices.mrz import frames
from devices.mrz.layout import SHAPES
from devices.mrz.reader import MrzReading, read_image
from devices.protocols import Camera, MrzKey


class CameraMrzSource:
    """OCR of frames from a document camera (or the kiosk camera) until one is valid.

    Each frame is read on its own first; the last `history` readings are also fused by
    a per-character vote (devices/mrz/frames.py: strict majority at every position,
    every check digit must hold). Without a valid MRZ by the timeout, the DeviceFault
    says what the traveller should change (`guidance`: move the page into view, tilt it
    out of the glare, hold it still).
    """

    def __init__(
        self,
        camera: Camera,
        timeout_s: float = 4.0,
        history: int = 5,
        read: Callable[[Any], MrzReading] = read_image,
    ) -> None:
        self._camera = camera
        self._timeout_s = timeout_s
        self._read = read
        self._recent: deque[MrzReading] = deque(maxlen=max(history, 1))
        self._glare = False
        self.last_reading: MrzReading | None = None
        self.guidance: str | None = None

    def read_mrz(self) -> MrzKey:
        deadline = time.monotonic() + self._timeout_s
        latest = self._camera.latest()
        last_index = latest.index if latest is not None else -1
        self._recent.clear()
        self._glare = False
        self.guidance = None
        while (remaining := deadline - time.monotonic()) > 0:
            if self._camera.fault:
                raise DeviceFault(f"document camera: {self._camera.fault}")
            frame = self._camera.wait_frame(last_index, timeout=min(remaining, 0.5))
            if frame is None:
                continue
            last_index = frame.index
            reading = self._read(frame.image)
            self.last_reading = reading
            key = reading.mrz_key()
            if key is not None:
                return key
            self._recent.append(reading)
            if reading.found:
                self._glare = frames.glare_on_zone(frame.image, reading)
            fused = frames.vote(self._recent)
            if fused is not None:
                return fused.mrz_key()
        self.guidance = frames.guidance(self._recent, self._glare)
        raise MrzUnreadable(
            f"no valid machine-readable zone in view: reposition the data page ({self.guidance})",
            self.guidance,
        )


class LineStream(Protocol):
    """A serial port or any byte stream that delivers text lines (pyserial's Serial)."""

    def readline(self) -> bytes: ...

    def close(self) -> None: ...


class MrzLineAssembler:
    """Builds an MRZ from the lines a passport reader sends (CR, LF or CRLF separated).

    Readers differ: some send each line as it is scanned, some all lines at once, some
    prefix a status byte or wrap the block in STX/ETX. Anything that is not MRZ text is
    dropped; the newest complete TD1/TD2/TD3 block whose check digits hold wins.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []

    def feed(self, raw: str) -> Mrz | None:
        text = "".join(ch for ch in raw.upper() if ch.isalnum() or ch == "<")
        if not text:
            return None
        self._lines = [*self._lines, text][-3:]
        for count, width in sorted(set(SHAPES.values()), reverse=True):
            block = self._lines[-count:]
            if len(block) == count and all(len(line) == width for line in block):
                try:
                    mrz = Mrz.parse(block)
                except MrzError:
                    continue
                self._lines = []
                return mrz
        return None


class SerialMrzSource:
    """An MRZ line reader on a serial port (or a keyboard-wedge reader in serial mode).

    A background thread reads lines as the traveller swipes or lays the passport;
    `read_mrz` waits for the next complete, valid block.
    """

    def __init__(
        self,
        open_stream: Callable[[], LineStream],
        timeout_s: float = 10.0,
    ) -> None:
        self._open_stream = open_stream
        self._timeout_s = timeout_s
        self._assembler = MrzLineAssembler()
        self._latest: Mrz | None = None
        self._fault: str | None = None
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream: LineStream | None = None

    @classmethod
    def on_port(cls, port: str, baudrate: int = 9600, timeout_s: float = 10.0) -> SerialMrzSource:
        def open_port() -> LineStream:
            import serial  # pyserial; imported here so simulated lanes do not need it

            stream: Any = serial.Serial(port, baudrate=baudrate, timeout=0.5)
            return stream  # type: ignore[no-any-return]

        return cls(open_port, timeout_s)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mrz-serial", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._stream is not None:
            self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    @property
    def fault(self) -> str | None:
        return self._fault

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._stream = self._open_stream()
                self._fault = None
                while not self._stop.is_set():
                    raw = self._stream.readline()
                    if not raw:
                        continue
                    mrz = self._assembler.feed(raw.decode("ascii", errors="ignore"))
                    if mrz is not None:
                        with self._ready:
                            self._latest = mrz
                            self._ready.notify_all()
            except Exception as exc:  # a pulled cable, a port that vanished: retry
                self._fault = f"MRZ reader: {exc}"
                self._stop.wait(1.0)

    def read_mrz(self) -> MrzKey:
        self.start()
        deadline = time.monotonic() + self._timeout_s
        with self._ready:
            while self._latest is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if self._fault:  # the reader itself is gone
                        raise DeviceFault(self._fault)
                    raise MrzUnreadable("no MRZ received from the passport reader")
                self._ready.wait(remaining)
            mrz, self._latest = self._latest, None
        return mrz.mrz_key()
