"""Reading boarding-pass barcodes (PDF417, Aztec, QR) from camera frames with zxing-cpp."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import zxingcpp

from devices.protocols import Camera
from policy.bcbp import BoardingPass, parse_bcbp
from policy.errors import BcbpError

# The symbologies IATA Resolution 792 allows for boarding passes. Kept as text and
# converted per call: a module-level zxingcpp.BarcodeFormats outlives the binding at
# interpreter exit and nanobind prints about 15 "leaked" lines on stderr.
BCBP_FORMATS = "PDF417,Aztec,QRCode"


def decode_barcodes(image: npt.NDArray[np.uint8]) -> list[str]:
    """Texts of the boarding-pass symbologies found in a grey or BGR image."""
    formats = zxingcpp.barcode_formats_from_str(BCBP_FORMATS)
    results = zxingcpp.read_barcodes(image, formats=formats, text_mode=zxingcpp.TextMode.Plain)
    return [r.text for r in results if r.valid and r.text]


class BoardingPassScanner:
    """Watches a camera until a well-formed BCBP shows up or the budget runs out."""

    def __init__(self, camera: Camera, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._camera = camera
        self._monotonic = monotonic
        self.rejected: list[str] = []  # why symbols seen were not boarding passes

    def scan(self, budget_s: float) -> BoardingPass | None:
        deadline = self._monotonic() + budget_s
        last_index = -1
        while True:
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                return None
            frame = self._camera.wait_frame(last_index, timeout=remaining)
            if frame is None:
                return None
            last_index = frame.index
            for text in decode_barcodes(frame.image):
                try:
                    return parse_bcbp(text)
                except BcbpError as exc:
                    self.rejected.append(str(exc))
