"""What every camera shares: a capture thread publishing into a FrameBuffer,
and the Camera protocol's read side with fault masking."""

from __future__ import annotations

import threading

from devices.camera.buffer import FrameBuffer
from devices.protocols import Frame


class ThreadedCamera:
    """Base of the cameras: subclasses implement `_run()` (the capture loop, which
    publishes into `self._buffer` until `self._stop` is set) and name the thread."""

    thread_name = "camera"

    def __init__(self) -> None:
        self._buffer = FrameBuffer()
        self._fault: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _set_fault(self, message: str) -> None:
        """Report a fault; the frame from before it is forgotten, so that no reader
        takes it for a current one once the fault clears."""
        self._fault = message
        self._buffer.forget()

    def _run(self) -> None:
        raise RuntimeError(f"{type(self).__name__} must define its capture loop")

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._buffer.wake_all()
        if self._thread is not None:
            self._thread.join(timeout=3.0)
            self._thread = None

    def latest(self) -> Frame | None:
        return None if self._fault else self._buffer.latest()

    def wait_frame(self, after_index: int, timeout: float) -> Frame | None:
        if self._fault:
            return None
        frame = self._buffer.wait_frame(after_index, timeout)
        return None if self._fault else frame

    @property
    def fault(self) -> str | None:
        return self._fault
