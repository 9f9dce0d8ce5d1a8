"""Boarding passes for simulated travellers: IATA BCBP (Resolution 792) strings
in a PDF417 symbol, held up to the simulated camera."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Leg:
    from_airport: str
    to_airport: str
    carrier: str
    flight_number: str
    day: date
    seat: str = "012A"
    pnr: str = "ABC123"


def bcbp(surname: str, given_names: str, legs: list[Leg]) -> str:
    """The mandatory items of an 'M' format BCBP, one block per leg, no conditional items."""
    if not 1 <= len(legs) <= 4:
        raise ValueError("a BCBP holds 1 to 4 legs")
    name = f"{surname}/{given_names}".upper()[:20].ljust(20)
    out = [f"M{len(legs)}{name}E"]
    for leg in legs:
        out.append(
            leg.pnr.ljust(7)
            + leg.from_airport
            + leg.to_airport
            + leg.carrier.ljust(3)
            + leg.flight_number.rjust(4, "0").ljust(5)
            + f"{leg.day.timetuple().tm_yday:03d}"
            + "Y"
            + leg.seat.rjust(4, "0")
            + "0001 "  # check-in sequence number
            + "1"
            + "00"
        )
    return "".join(out)


def boarding_pass_scene(text: str, width: int = 640, height: int = 480) -> tuple[Image, ...]:
    """A camera view of a printed pass: the PDF417 symbol on white paper."""
    symbol = np.asarray(
        zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.PDF417).to_image(scale=2),
        dtype=np.uint8,
    )
    frame = np.full((height, width, 3), 200, np.uint8)
    h, w = symbol.shape[:2]
    scale = min((width - 80) / w, (height - 160) / h, 1.0)
    sym = cv2.resize(symbol, (max(1, int(w * scale)), max(1, int(h * scale))),
                     interpolation=cv2.INTER_NEAREST)
    sh, sw = sym.shape[:2]
    y0, x0 = (height - sh) // 2, (width - sw) // 2
    frame[y0 - 30 : y0 + sh + 30, x0 - 30 : x0 + sw + 30] = 255
    frame[y0 : y0 + sh, x0 : x0 + sw] = sym[:, :, None] if sym.ndim == 2 else sym
    frame.setflags(write=False)
    return (frame,) * 6
