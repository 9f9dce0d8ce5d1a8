"""A barrier controller on a serial line (devices.gate.protocol), as devices.protocols.Gate.

Fail-closed from both ends: every command waits for its acknowledgement and a missing
or refused one is a fault; on any fault this side stops its heartbeat, so the
controller's own watchdog closes the barrier even if a close command is lost; and the
controller closes after one passage, so one opening admits one traveller.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

from devices.errors import DeviceFault
from devices.gate.protocol import Frame, FrameError, decode, encode
from devices.protocols import GateListener, GateState

log = logging.getLogger(__name__)


class Stream(Protocol):
    """The byte link to the controller (pyserial's Serial, or a pty in tests)."""

    def readline(self) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def close(self) -> None: ...


class SerialGate:
    def __init__(
        self,
        open_stream: Callable[[], Stream],
        *,
        ack_timeout_s: float = 0.5,
        heartbeat_s: float = 0.25,
        lost_after_s: float = 1.0,
    ) -> None:
        self._open_stream = open_stream
        self._ack_timeout_s = ack_timeout_s
        self._heartbeat_s = heartbeat_s
        self._lost_after_s = lost_after_s
        self._stream: Stream | None = None
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self._answers: dict[int, Frame] = {}
        self._waiting: set[int] = set()  # commands whose answer a caller waits for
        self._seq = itertools.count(1)
        self._state: GateState = "closed"
        self._fault: str | None = None
        self._listener: GateListener | None = None
        self._last_ack = 0.0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def on_port(cls, port: str, baudrate: int = 9600, **timing: float) -> SerialGate:
        def open_port() -> Stream:
            import serial  # pyserial: only a real lane needs it

            link: Any = serial.Serial(port, baudrate=baudrate, timeout=0.1, write_timeout=0.5)
            return link  # type: ignore[no-any-return]

        return cls(open_port, **timing)

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Open the link and close the barrier: a kiosk (re)starting never inherits open."""
        if self._stream is not None:
            return
        try:
            self._stream = self._open_stream()
        except Exception as exc:
            self._set_fault(f"gate controller link: {exc}")
            raise DeviceFault(self._fault or "gate controller link failed") from exc
        self._last_ack = time.monotonic()
        for target, name in ((self._read_loop, "gate-reader"), (self._heartbeat, "gate-heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.close()

    def stop(self) -> None:
        try:
            if self._stream is not None and self._fault is None:
                self._command("CLOSE")
        except DeviceFault:
            pass
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        if self._stream is not None:
            self._stream.close()

    # -- Gate protocol ----------------------------------------------------------------
    def set_listener(self, listener: GateListener | None) -> None:
        self._listener = listener

    @property
    def state(self) -> GateState:
        return self._state

    @property
    def fault(self) -> str | None:
        return self._fault

    def open(self) -> None:
        if self._stream is None:
            self.start()
        if self._fault is not None:
            raise DeviceFault(f"gate is faulted: {self._fault}")
        answer = self._command("OPEN")
        if answer.words[2:3] != ("open",):
            self._set_fault(f"controller did not confirm opening: {' '.join(answer.words)}")
            raise DeviceFault(self._fault or "gate did not open")
        self._state = "open"

    def close(self) -> None:
        self._state = "closed"  # what we ask for; a fault below overrides it
        answer = self._command("CLOSE")
        if answer.words[2:3] != ("closed",):
            self._set_fault(f"controller did not confirm closing: {' '.join(answer.words)}")
            raise DeviceFault(self._fault or "gate did not close")

    # -- link -------------------------------------------------------------------------
    def _command(self, verb: str) -> Frame:
        seq = next(self._seq)
        with self._cond:
            self._waiting.add(seq)
        try:
            self._send(verb, seq)
            deadline = time.monotonic() + self._ack_timeout_s
            with self._cond:
                while seq not in self._answers:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._set_fault(
                            f"no acknowledgement of {verb} within {self._ack_timeout_s} s"
                        )
                        raise DeviceFault(self._fault or "gate timed out")
                    self._cond.wait(remaining)
                answer = self._answers.pop(seq)
        finally:
            with self._cond:
                self._waiting.discard(seq)
                self._answers.pop(seq, None)
        if answer.kind == "NAK":
            self._set_fault(f"controller refused {verb}: {' '.join(answer.words[2:])}")
            raise DeviceFault(self._fault or "gate refused")
        return answer

    def _send(self, *words: str | int) -> None:
        stream = self._stream
        if stream is None:
            raise DeviceFault("gate controller link is not open")
        try:
            with self._write_lock:
                stream.write(encode(*words))
        except Exception as exc:
            self._set_fault(f"gate controller link: {exc}")
            raise DeviceFault(self._fault or "gate link failed") from exc

    def _read_loop(self) -> None:
        stream = self._stream
        assert stream is not None
        while not self._stop.is_set():
            try:
                line = stream.readline()
            except Exception as exc:  # cable pulled, port gone
                self._set_fault(f"gate controller link: {exc}")
                return
            if not line:
                continue
            try:
                frame = decode(line)
            except FrameError as exc:
                log.warning("gate controller sent a bad frame: %s", exc)
                continue
            self._on_frame(frame)

    def _on_frame(self, frame: Frame) -> None:
        if frame.kind in ("ACK", "NAK") and len(frame.words) >= 2 and frame.words[1].isdigit():
            seq = int(frame.words[1])
            with self._cond:
                self._last_ack = time.monotonic()
                if seq in self._waiting:  # heartbeat answers only refresh _last_ack
                    self._answers[seq] = frame
                    self._cond.notify_all()
            return
        if frame.kind != "EVT" or len(frame.words) < 2:
            log.warning("gate controller sent an unknown frame: %s", frame.words)
            return
        event = frame.words[1]
        if event == "PASSED":
            self._notify("passed")
        elif event == "CLOSED":
            self._state = "closed" if self._fault is None else "fault"
            self._notify("closed")
        elif event in ("FAULT", "TAILGATE"):
            self._set_fault(f"controller reported {' '.join(frame.words[1:])}")

    def _heartbeat(self) -> None:
        while not self._stop.wait(self._heartbeat_s):
            if self._fault is not None:
                return  # silence: the controller's watchdog closes the barrier
            if time.monotonic() - self._last_ack > self._lost_after_s:
                self._set_fault(f"controller silent for more than {self._lost_after_s} s")
                return
            try:
                self._send("PING", next(self._seq))
            except DeviceFault:
                return

    def _set_fault(self, message: str) -> None:
        first = self._fault is None
        self._fault = message
        self._state = "fault"
        if first:
            log.error("gate fault: %s", message)
            self._notify("fault")

    def _notify(self, kind: Literal["passed", "closed", "fault"]) -> None:
        listener = self._listener
        if listener is not None:
            listener(kind)
