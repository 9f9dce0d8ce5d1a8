"""Chip reading figures: a virtual passport with a ~20 KB DG2, read in-process and via pcscd.

Prints, per path and chip configuration, the median ms per stage over N reads, the
APDU count, the READ BINARY count for DG2 and the bytes read. The pcscd rows need
pcscd with vsmartcard's vpcd driver; pcscd is started (and stopped) here if absent.

Run: .venv/bin/python benchmarks/chip_read.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.errors import DeviceFault
from devices.icao9303.pcsc import PcscTerminal, pcscd_running
from devices.icao9303.reader import ChipReadReport, ReaderOptions, read_chip
from devices.icao9303.transport import Transport
from devices.simulated.emulator import ChipEmulator, Misbehaviour
from devices.simulated.factory import DocumentSpec, default_face_jpeg, make_document
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import VirtualPassport
from devices.simulated.vpcd import VpcdCardServer

READER = "Virtual PCD 00 00"
STAGES = ("access", "read", "chip_authentication", "active_authentication", "total")


class CountingEmulator(ChipEmulator):
    """Counts READ BINARY commands (their INS travels in clear under SM)."""

    read_binaries = 0

    def process(self, apdu: bytes) -> bytes:
        if len(apdu) > 1 and apdu[1] in (0xB0, 0xB1):
            self.read_binaries += 1
        return super().process(apdu)


@dataclass
class Row:
    label: str
    medians: dict[str, float]
    apdus: int
    dg2_reads: int
    bytes_read: int
    block: int


def measure(
    label: str,
    vp: VirtualPassport,
    runs: int,
    connect: Callable[[ChipEmulator], tuple[Transport, Callable[[], None]]],
    misbehaviour: Misbehaviour | None = None,
    extended: bool = True,
) -> Row:
    samples: dict[str, list[float]] = {s: [] for s in STAGES}
    card = CountingEmulator.from_passport(vp, misbehaviour)
    transport, done = connect(card)
    options = ReaderOptions(extended_length=extended)
    report: ChipReadReport | None = None
    try:
        for _ in range(runs):
            card.power_on()
            report = read_chip(transport, vp.mrz_key(), options)
            for stage in STAGES:
                samples[stage].append(report.timings_ms[stage])
        # DG2 alone, to count its READ BINARY commands
        card.power_on()
        card.read_binaries = 0
        read_chip(transport, vp.mrz_key(), ReaderOptions(files=("DG2",), extended_length=extended))
        dg2_reads = card.read_binaries - 1  # minus the EF.CardAccess read
    finally:
        done()
    assert report is not None
    return Row(
        label,
        {s: statistics.median(v) for s, v in samples.items()},
        report.apdus,
        dg2_reads,
        report.bytes_read,
        report.block_size,
    )


def in_process(card: ChipEmulator) -> tuple[Transport, Callable[[], None]]:
    return InProcessTransport(card), lambda: None


def via_pcscd(card: ChipEmulator) -> tuple[Transport, Callable[[], None]]:
    server = VpcdCardServer(card)
    server.start()
    terminal = PcscTerminal(READER)
    deadline = time.monotonic() + 10
    while not terminal.card_present():
        if time.monotonic() > deadline:
            raise DeviceFault("the virtual card did not appear")
        time.sleep(0.05)
    transport = terminal.connect()

    def done() -> None:
        transport.close()
        server.stop()
        while terminal.card_present():
            time.sleep(0.05)

    return transport, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    face = default_face_jpeg(400, 65)
    vp = make_document(DocumentSpec(face_image=face))
    im = make_document(DocumentSpec(face_image=face, pace_mapping="IM"))
    cam = make_document(DocumentSpec(face_image=face, pace_mapping="CAM"))
    print(f"DG2 {len(vp.files['DG2'])} bytes; all files {sum(map(len, vp.files.values()))} bytes")
    configs: list[tuple[str, VirtualPassport, Misbehaviour | None, bool]] = [
        ("PACE, extended length (chip block 4096)", vp, None, True),
        ("PACE, short APDUs only", vp, None, False),
        ("PACE, chip refuses extended (6700)", vp, Misbehaviour(refuse_extended_length=True), True),
        ("PACE-IM (P-256), extended length", im, None, True),
        ("PACE-CAM (P-256; CA by CAM), extended length", cam, None, True),
    ]
    rows = [measure(f"in-process  {c}", p, args.runs, in_process, m, e) for c, p, m, e in configs]
    try:
        with pcscd_running(READER):
            rows += [
                measure(f"pcscd+vpcd  {c}", p, args.runs, via_pcscd, m, e) for c, p, m, e in configs
            ]
    except DeviceFault as exc:
        print(f"pcscd rows skipped: {exc}")
    head = " ".join(f"{s[:8]:>8}" for s in STAGES)
    print(f"median ms over {args.runs} reads; APDUs per full read; DG2 READ BINARYs")
    print(f"{'path / chip':58} {head} {'APDUs':>6} {'DG2 RB':>6} {'bytes':>6} {'block':>6}")
    for r in rows:
        cells = " ".join(f"{r.medians[s]:8.1f}" for s in STAGES)
        print(f"{r.label:58} {cells} {r.apdus:6d} {r.dg2_reads:6d} {r.bytes_read:6d} {r.block:6d}")


if __name__ == "__main__":
    main()
