"""The egate gate-controller line protocol (docs/gate.md).

ASCII lines over a serial link, NMEA-style: `BODY*HH\n`, HH the XOR of BODY's bytes
in hex, so a corrupted line is dropped rather than obeyed.

    kiosk -> controller   OPEN <seq> | CLOSE <seq> | PING <seq> | STATUS <seq>
    controller -> kiosk   ACK <seq> <state> | NAK <seq> <reason>
                          EVT PASSED | EVT CLOSED <why> | EVT FAULT <code> | EVT TAILGATE

The controller closes the barrier by itself on a lost heartbeat (no valid line for its
watchdog period), after one passage, and on any fault: the kiosk can only ask to open.
"""

from __future__ import annotations

from dataclasses import dataclass


class FrameError(ValueError):
    """A line that is not a well-formed, correctly checksummed frame."""


def checksum(body: str) -> str:
    value = 0
    for byte in body.encode("ascii"):
        value ^= byte
    return f"{value:02X}"


def encode(*words: str | int) -> bytes:
    body = " ".join(str(w) for w in words)
    return f"{body}*{checksum(body)}\n".encode("ascii")


@dataclass(frozen=True)
class Frame:
    words: tuple[str, ...]

    @property
    def kind(self) -> str:
        return self.words[0]


def decode(line: bytes) -> Frame:
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise FrameError("not ASCII") from exc
    body, sep, given = text.rpartition("*")
    if not sep or not body:
        raise FrameError(f"no checksum in {text!r}")
    if checksum(body) != given.upper():
        raise FrameError(f"checksum mismatch in {text!r}")
    words = tuple(body.split())
    if not words:
        raise FrameError("empty frame")
    return Frame(words)
