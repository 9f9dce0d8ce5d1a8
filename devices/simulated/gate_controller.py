"""A gate controller's firmware, emulated on the far end of a serial link (a pty).

It speaks devices.gate.protocol exactly as the board is specified to (docs/gate.md):
acknowledges commands, closes by itself when the heartbeat stops for `watchdog_s`,
after one passage, and on a fault. Tests and `egate kiosk` on simulated hardware drive
SerialGate against it, so the real adapter's code path is what runs.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time

from devices.gate.protocol import FrameError, decode, encode


class GateControllerEmulator:
    def __init__(self, fd: int, watchdog_s: float = 1.0) -> None:
        self._fd = fd
        self._slave: int | None = None  # the pty's other end, when this emulator made it
        self.watchdog_s = watchdog_s
        self.state = "closed"
        self.mute = False  # stop answering: a hung controller
        self.refuse_open = False
        self.log: list[str] = []  # what the barrier did, in order
        self._last_valid = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="gate-firmware", daemon=True)

    @classmethod
    def on_pty(cls, watchdog_s: float = 1.0) -> tuple[GateControllerEmulator, str]:
        """An emulator on a new pty's master; returns it and the port name to open."""
        master, slave = os.openpty()
        name = os.ttyname(slave)
        emulator = cls(master, watchdog_s)
        emulator._slave = slave  # kept open so the port stays usable
        return emulator, name

    def start(self) -> None:
        self._last_valid = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        for fd in (self._fd, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)

    # -- the world around the barrier ---------------------------------------------------
    def walk_through(self) -> bool:
        """The passage sensor sees one traveller; the barrier closes behind them."""
        with self._lock:
            if self.state != "open":
                return False
            self._emit("EVT", "PASSED")
            self._set("closed", "passage")
            return True

    def tailgate(self) -> None:
        """A second person in the passage: the board faults and closes."""
        with self._lock:
            self._emit("EVT", "TAILGATE")
            self._set("closed", "tailgate")

    # -- firmware loop ------------------------------------------------------------------
    def _run(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self._fd, 1024)
                except OSError:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    self._on_line(line)
            with self._lock:
                if self.state == "open" and time.monotonic() - self._last_valid > self.watchdog_s:
                    self._set("closed", "watchdog")

    def _on_line(self, line: bytes) -> None:
        try:
            frame = decode(line)
        except FrameError:
            return  # a corrupted line is never obeyed
        with self._lock:
            self._last_valid = time.monotonic()
            if self.mute or len(frame.words) < 2:
                return
            verb, seq = frame.words[0], frame.words[1]
            if verb == "OPEN":
                if self.refuse_open:
                    self._emit("NAK", seq, "interlock")
                    return
                self._set("open", "command")
                self._emit("ACK", seq, "open")
            elif verb == "CLOSE":
                self._set("closed", "command")
                self._emit("ACK", seq, "closed")
            elif verb in ("PING", "STATUS"):
                self._emit("ACK", seq, self.state)
            else:
                self._emit("NAK", seq, "unknown")

    def _set(self, state: str, why: str) -> None:
        if state == self.state:
            return
        self.state = state
        self.log.append(f"{state}:{why}")
        if state == "closed" and why not in ("command",):
            self._emit("EVT", "CLOSED", why)

    def _emit(self, *words: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self._fd, encode(*words))
