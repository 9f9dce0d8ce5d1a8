"""How long a real contactless chip takes: a timing profile for the simulated reader.

The emulator answers in microseconds; a passport on a reader does not. The profile
charges every APDU what the radio link and the chip would cost (docs/performance.md,
"Realistic devices"):

- transfer: ISO/IEC 14443-2 bit rates are fc/128 ... fc/16 with fc = 13.56 MHz,
  i.e. 106, 212, 424 or 848 kbit/s; ePassport readers usually settle at 424 or 848.
  A character costs 10 etu (ISO/IEC 14443-3 Type B: start bit, 8 data bits, stop bit;
  Type A spends 9, so 10 is the slower case). ISO/IEC 14443-4 carries an APDU in
  I-blocks of at most FSC bytes (256 for FSCI 8), each with a PCB byte and a 2-byte
  CRC, chained and acknowledged by 3-byte R-blocks, each exchange separated by the
  frame delay time (FDT, about 90 us) and the reader's turnaround;
- the reader: a USB CCID reader's per-APDU latency (a few milliseconds);
- the chip: secure messaging (MAC check, decryption and MAC of the answer) per
  protected APDU, and the public-key steps - PACE mapping and key agreement (one
  or two EC point multiplications each), BAC's EXTERNAL AUTHENTICATE, chip
  authentication's key agreement, active authentication's RSA signature.

The chip-side figures are assumptions of the order vendors publish for current
ePassport controllers (EC point multiplication on P-256 some 50-200 ms, an RSA-2048
private-key operation some 100-500 ms), not measurements of a particular passport;
they are fields, so a measured reader (benchmarks/chip_read.py on real passports)
can replace them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devices.icao9303.transport import Transport

SM_CLA = 0x0C  # secure messaging bits of CLA (ICAO Doc 9303 part 11)
# PACE GENERAL AUTHENTICATE data objects (inside tag 7C): which step it is.
PACE_STEP_TAGS = {0x80: "pace_nonce", 0x81: "pace_map", 0x83: "pace_agree", 0x85: "pace_auth"}


@dataclass(frozen=True)
class ContactlessProfile:
    """Per-APDU cost of a chip on a contactless reader. All times in seconds."""

    name: str = "iso14443-424k"
    bit_rate: int = 424_000  # bit/s, ISO/IEC 14443-2 fc/32
    bits_per_byte: int = 10  # etu per character, ISO/IEC 14443-3 Type B
    frame_size: int = 256  # FSC = FSD, ISO/IEC 14443-4 FSCI 8
    frame_overhead: int = 3  # PCB + CRC per I-block; an R-block is as long
    frame_gap_s: float = 0.0003  # FDT plus reader turnaround per frame exchanged
    reader_apdu_s: float = 0.003  # host <-> reader (USB CCID) per APDU
    sm_apdu_s: float = 0.004  # chip's secure-messaging work per protected APDU
    # Chip-side computation for the public-key steps, by kind (see chip_op()).
    op_s: dict[str, float] = field(default_factory=lambda: {
        "pace_nonce": 0.02,  # encrypt the nonce
        "pace_map": 0.15,  # ephemeral key pair and mapping (point multiplications)
        "pace_agree": 0.15,  # key pair on the mapped generator, shared secret
        "pace_auth": 0.02,  # authentication token (MAC)
        "bac": 0.05,  # EXTERNAL AUTHENTICATE: 3DES and session keys
        "ca": 0.15,  # chip authentication key agreement
        "aa": 0.35,  # INTERNAL AUTHENTICATE: RSA-2048 signature
    })  # fmt: skip

    def frames(self, length: int) -> int:
        """I-blocks needed to carry `length` bytes of APDU."""
        return max(1, math.ceil(length / (self.frame_size - self.frame_overhead)))

    def transfer_s(self, length: int) -> float:
        """Air time of `length` APDU bytes in one direction: I-blocks, plus one R-block
        acknowledging each chained block, plus the gap of every frame."""
        n = self.frames(length)
        on_air = length + n * self.frame_overhead + (n - 1) * self.frame_overhead
        return on_air * self.bits_per_byte / self.bit_rate + (2 * n - 1) * self.frame_gap_s

    def apdu_s(self, command: bytes, response: bytes) -> float:
        """What one exchange costs on a real reader and chip."""
        protected = len(command) > 0 and command[0] & SM_CLA == SM_CLA
        return (
            self.reader_apdu_s
            + self.transfer_s(len(command))
            + self.transfer_s(len(response))
            + (self.sm_apdu_s if protected else 0.0)
            + self.op_s.get(chip_op(command) or "", 0.0)
        )


def chip_op(command: bytes) -> str | None:
    """The public-key step a command asks of the chip, if any (by INS and P1-P2)."""
    if len(command) < 4:
        return None
    ins, p1, p2 = command[1], command[2], command[3]
    protected = command[0] & SM_CLA == SM_CLA
    if ins == 0x82:
        return "bac"
    if ins == 0x88:
        return "aa"
    if ins == 0x22 and (p1, p2) == (0x41, 0xA6):
        return "ca"  # MSE:SET KAT, CA v1
    if ins == 0x86:
        if protected:
            return "ca"  # CA v2 GENERAL AUTHENTICATE runs under secure messaging
        # Unprotected: a PACE step; the data field is 7C L <tag> ...
        data = command[5:] if len(command) > 7 else b""
        return PACE_STEP_TAGS.get(data[2]) if len(data) > 2 and data[0] == 0x7C else None
    return None


ISO14443_424K = ContactlessProfile()
ISO14443_106K = ContactlessProfile(name="iso14443-106k", bit_rate=106_000)
ISO14443_848K = ContactlessProfile(name="iso14443-848k", bit_rate=848_000)
PROFILES = {p.name: p for p in (ISO14443_106K, ISO14443_424K, ISO14443_848K)}


class TimedTransport:
    """A Transport that takes as long as `profile` says each exchange does.

    The emulator's own computing time counts towards it (it stands for the chip's);
    the rest is waited out. `modelled_s` adds up what the profile charged.
    """

    def __init__(
        self,
        inner: Transport,
        profile: ContactlessProfile,
        wait: Callable[[float], None] | None = None,
    ) -> None:
        self.inner = inner
        self.profile = profile
        self._wait = wait or threading.Event().wait
        self.modelled_s = 0.0
        self.exchanges: list[tuple[int, int, float]] = []  # command, response bytes, s

    @property
    def extended_length(self) -> bool:
        return self.inner.extended_length

    def transmit(self, apdu: bytes) -> bytes:
        started = time.monotonic()
        response = self.inner.transmit(apdu)
        cost = self.profile.apdu_s(apdu, response)
        self.modelled_s += cost
        self.exchanges.append((len(apdu), len(response), cost))
        left = cost - (time.monotonic() - started)
        if left > 0:
            self._wait(left)
        return response

    def close(self) -> None:
        self.inner.close()
