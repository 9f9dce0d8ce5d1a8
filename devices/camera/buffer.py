"""The newest-frame hand-over shared by every camera implementation.

Only the latest frame is kept: a slow consumer (the face pipeline) must see the
present, never a backlog, and the preview must never wait for the matcher.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from devices.protocols import Frame


class FrameBuffer:
    """Thread-safe holder of the newest frame with a wait-for-newer primitive."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._next_index = 0

    def publish(self, image: npt.NDArray[np.uint8], timestamp: float | None = None) -> Frame:
        frame = Frame(
            image=image,
            timestamp=self._clock() if timestamp is None else timestamp,
            index=self._next_index,
        )
        with self._cond:
            self._next_index += 1
            self._latest = frame
            self._cond.notify_all()
        return frame

    def latest(self) -> Frame | None:
        with self._cond:
            return self._latest

    def wait_frame(self, after_index: int, timeout: float) -> Frame | None:
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while self._latest is None or self._latest.index <= after_index:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._latest

    @property
    def next_index(self) -> int:
        """The index the next published frame will carry."""
        with self._cond:
            return self._next_index

    def forget(self) -> None:
        """Drop the newest frame (a fault: what was seen before it is not the present).
        Indices keep counting, so a later frame is always newer than any before."""
        with self._cond:
            self._latest = None
            self._cond.notify_all()

    def wake_all(self) -> None:
        """Let waiters re-check (used when a camera stops or faults)."""
        with self._cond:
            self._cond.notify_all()
