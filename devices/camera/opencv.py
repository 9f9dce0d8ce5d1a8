"""An OpenCV capture source (device index, video file or stream URL) on its own thread.

The thread reads continuously so the newest frame is always at hand (a video
file plays at its own frame rate and loops); after
`max_failures` consecutive failed reads (unplugged camera, dropped stream) it
releases the device, reports a fault and reopens it every `reconnect_delay_s`
until frames flow again, then clears the fault.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol, cast

import cv2
import numpy as np
import numpy.typing as npt

from devices.camera.base import ThreadedCamera


class Capture(Protocol):
    """The part of cv2.VideoCapture the camera uses (so tests can inject a fake)."""

    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, Any]: ...

    def get(self, prop_id: int) -> float: ...

    def set(self, prop_id: int, value: float) -> bool: ...

    def release(self) -> None: ...


CaptureFactory = Callable[[int | str], Capture]


def parse_source(text: str) -> int | str:
    """Config's camera_source: a bare integer is a device index, anything else a path/URL."""
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else stripped


def _default_factory(source: int | str) -> Capture:
    return cast(Capture, cv2.VideoCapture(source))


class OpenCvCamera(ThreadedCamera):
    """devices.protocols.Camera over cv2.VideoCapture with reconnect and a fault state."""

    thread_name = "opencv-camera"

    def __init__(
        self,
        source: int | str,
        reconnect_delay_s: float = 1.0,
        max_failures: int = 5,
        capture_factory: CaptureFactory | None = None,
    ) -> None:
        super().__init__()
        self._source = source
        self._reconnect_delay_s = reconnect_delay_s
        self._max_failures = max_failures
        self._factory = capture_factory or _default_factory
        self.reconnects = 0

    def _open(self) -> Capture | None:
        try:
            cap = self._factory(self._source)
        except Exception as exc:  # a driver error must become a fault, not kill the thread
            self._set_fault(f"camera {self._source!r}: cannot open ({exc})")
            return None
        if not cap.isOpened():
            cap.release()
            self._set_fault(f"camera {self._source!r}: cannot open")
            return None
        return cap

    def _run(self) -> None:
        while not self._stop.is_set():
            cap = self._open()
            if cap is None:
                self._stop.wait(self._reconnect_delay_s)
                self.reconnects += 1
                continue
            try:
                self._pump(cap)
            finally:
                cap.release()
            if not self._stop.is_set():
                self._stop.wait(self._reconnect_delay_s)
                self.reconnects += 1

    def _pump(self, cap: Capture) -> None:
        # A file plays at its own rate; a live device paces itself by blocking in read().
        period = 0.0
        is_file = isinstance(self._source, str) and "://" not in self._source
        if is_file:
            fps = cap.get(cv2.CAP_PROP_FPS)
            period = 1.0 / fps if 1.0 <= fps <= 240.0 else 1.0 / 25.0
        failures = 0
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                ok, image = cap.read()
            except Exception:  # treat driver exceptions like failed reads
                ok, image = False, None
            if not ok or image is None or image.size == 0:
                if is_file and failures == 0:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # end of a video file: play it again
                failures += 1
                if failures >= self._max_failures:
                    self._set_fault(
                        f"camera {self._source!r}: no frames after {failures} reads; reconnecting"
                    )
                    return
                continue
            failures = 0
            pixels: npt.NDArray[np.uint8] = np.asarray(image, dtype=np.uint8)
            if pixels.ndim == 2:
                pixels = np.asarray(cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
            pixels.setflags(write=False)
            self._buffer.publish(pixels)
            self._fault = None
            if period:
                next_t += period
                delay = next_t - time.monotonic()
                if delay < -period:
                    next_t = time.monotonic()
                elif delay > 0:
                    self._stop.wait(delay)
