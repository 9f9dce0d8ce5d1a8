"""Several camera frames of one data page: a per-character vote, and guidance.

A document camera sees the page many times a second; a character lost to glare or
motion in one frame is usually clear in the next. `vote` fuses the last few readings
position by position, but adds no guess: every position needs a strict majority of the
frames that found a zone of that layout, and the fused text is used only when every
check digit holds (Mrz.parse). `guidance` tells the traveller what to change when no
frame gave a valid reading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from devices.icao9303.mrz import Mrz, MrzError
from devices.mrz.layout import name_well_formed
from devices.mrz.reader import DOCUMENT_CODES, MrzReading, clear_enough

MIN_VOTES = 3  # two frames cannot outvote each other
GLARE_LEVEL = 250  # grey level counted as specular glare
GLARE_FRACTION = 0.02  # of the zone's pixels

MOVE = "move the data page into view, flat under the camera"
GLARE = "tilt the page a little: light is reflecting off the machine-readable zone"
STILL = "hold the page still and flat"


def vote(readings: Sequence[MrzReading]) -> Mrz | None:
    """The MRZ that a strict majority of the frames agrees on at every position, if its
    check digits all hold and the agreeing cells pass the reader's trust floors (the
    same unclear frame seen three times is still unclear); None otherwise."""
    groups: dict[tuple[str | None, tuple[int, ...]], list[MrzReading]] = {}
    for reading in readings:
        shape = tuple(len(line) for line in reading.lines)
        if reading.found and reading.lines and [len(s) for s in reading.cell_scores] == [*shape]:
            groups.setdefault((reading.layout, shape), []).append(reading)
    for group in groups.values():
        if len(group) < MIN_VOTES:
            continue
        fused: list[str] = []
        scores: list[list[float]] = []
        for i, line in enumerate(group[0].lines):
            row: list[str] = []
            row_scores: list[float] = []
            for j in range(len(line)):
                ch, count = Counter(r.lines[i][j] for r in group).most_common(1)[0]
                if 2 * count <= len(group):
                    return None
                row.append(ch)
                agreeing = [r.cell_scores[i][j] for r in group if r.lines[i][j] == ch]
                row_scores.append(float(np.mean(agreeing)))
            fused.append("".join(row))
            scores.append(row_scores)
        layout = group[0].layout
        if (
            not clear_enough(scores)
            or layout is None
            or not name_well_formed(layout, fused)
            or fused[0][0] not in DOCUMENT_CODES[layout]
        ):
            return None
        try:
            return Mrz.parse(fused)
        except MrzError:
            return None
    return None


def glare_on_zone(image: npt.NDArray[np.uint8], reading: MrzReading) -> bool:
    """A visible share of the located zone is blown out by a reflection."""
    if len(reading.quad) != 4:
        return False
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    mask = np.zeros(gray.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(np.array(reading.quad)).astype(np.int32)], 255)
    inside = gray[mask > 0]
    return bool(inside.size) and float(np.mean(inside >= GLARE_LEVEL)) > GLARE_FRACTION


def guidance(readings: Sequence[MrzReading], glare: bool) -> str:
    """What the traveller should change, from the frames that gave no valid reading."""
    if not any(reading.found for reading in readings):
        return MOVE
    return GLARE if glare else STILL
