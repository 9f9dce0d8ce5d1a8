"""systemd's notification protocol (sd_notify(3)) without libsystemd.

READY=1 once the traveller screen shows; WATCHDOG=1 while the lane loop and the GUI
thread both turn, so a hung kiosk is restarted by systemd (WatchdogSec in the unit)
and the gate controller's own watchdog closes the barrier meanwhile.
"""

from __future__ import annotations

import os
import socket


def notify(message: str) -> bool:
    """Send `message` to $NOTIFY_SOCKET; False when not run by systemd (or it failed)."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True


def watchdog_interval_s() -> float | None:
    """Half of WATCHDOG_USEC (systemd's advice), when the unit asks for a watchdog."""
    raw = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not raw.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(raw) / 2_000_000
