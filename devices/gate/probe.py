"""Ask a gate controller for its state without taking charge of it (egate doctor).

Only STATUS is sent: a probe never opens or closes the barrier, so it is harmless
beside a running kiosk (whose own reader may consume the answer: then the probe
reports no answer, and the doctor's advice is to stop the kiosk service first).
"""

from __future__ import annotations

import time
from typing import Any

from devices.errors import DeviceFault
from devices.gate.protocol import FrameError, decode, encode


def controller_status(port: str, baudrate: int = 9600, timeout_s: float = 1.0) -> str:
    import serial  # pyserial

    link: Any = serial.Serial(port, baudrate=baudrate, timeout=0.1)
    try:
        seq = 900_000 + int(time.monotonic() * 1000) % 99_999  # apart from a kiosk's
        link.write(encode("STATUS", seq))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            line = link.readline()
            if not line:
                continue
            try:
                frame = decode(line)
            except FrameError:
                continue
            if frame.kind == "ACK" and frame.words[1:2] == (str(seq),) and len(frame.words) > 2:
                return frame.words[2]
        raise DeviceFault(f"no answer to STATUS within {timeout_s} s")
    finally:
        link.close()
