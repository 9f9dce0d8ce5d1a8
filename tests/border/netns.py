"""A kiosk in its own network namespace, joined to this one by a veth pair whose
link the test takes down and up (this machine's kernel has no netem, and a
link that is down drops packets without a reset, as a cut cable does).

The tests create and remove their own namespace and veth pair (root or
CAP_NET_ADMIN); where that is not allowed they skip, or fail under CI.
"""

from __future__ import annotations

import random
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.ci import unavailable


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


@dataclass(frozen=True)
class KioskNetns:
    name: str
    host_if: str  # this namespace's end of the veth pair
    host_addr: str  # where the kiosk reaches the border
    kiosk_addr: str

    def link(self, up: bool) -> None:
        _ip("link", "set", self.host_if, "up" if up else "down")

    def command(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]


@contextmanager
def kiosk_netns() -> Iterator[KioskNetns]:
    tag = uuid.uuid4().hex[:8]
    subnet = f"10.231.{random.randint(0, 255)}.{4 * random.randint(0, 63)}"
    base = subnet.rsplit(".", 1)
    host_addr, kiosk_addr = f"{base[0]}.{int(base[1]) + 1}", f"{base[0]}.{int(base[1]) + 2}"
    ns = KioskNetns(f"egk{tag}", f"egh{tag}", host_addr, kiosk_addr)
    kiosk_if = f"egv{tag}"
    try:
        _ip("netns", "add", ns.name)
    except (OSError, subprocess.CalledProcessError) as exc:
        unavailable(f"cannot create a network namespace (root or CAP_NET_ADMIN needed): {exc}")
    try:
        _ip("link", "add", ns.host_if, "type", "veth", "peer", "name", kiosk_if)
        _ip("link", "set", kiosk_if, "netns", ns.name)
        _ip("addr", "add", f"{host_addr}/30", "dev", ns.host_if)
        _ip("link", "set", ns.host_if, "up")
        _ip("netns", "exec", ns.name, "ip", "addr", "add", f"{kiosk_addr}/30", "dev", kiosk_if)
        _ip("netns", "exec", ns.name, "ip", "link", "set", kiosk_if, "up")
        _ip("netns", "exec", ns.name, "ip", "link", "set", "lo", "up")
        yield ns
    finally:
        subprocess.run(["ip", "link", "del", ns.host_if], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, timeout=30)
