"""Choosing the traveller's face among the detections.

The traveller stands in front of the camera: the face that is large and
central wins. A second face of similar size (someone at the traveller's
shoulder) makes the frame unusable: "one person at a time". Small faces far
behind (the queue) are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kiosk.face.detection import FaceBox
from kiosk.face.errors import MultipleFacesError, NoFaceError

# A second face at least this fraction of the traveller's face width is "close".
CROWD_WIDTH_RATIO = 0.6
# HOG detections scoring below this are too often clothing or texture to be
# called a second person (true faces score about 0.5 to 3).
CROWD_MIN_SCORE = 0.3


def _score(box: FaceBox, width: int, height: int) -> float:
    cx, cy = box.centre
    off = math.hypot((cx - width / 2.0) / width, (cy - height / 2.0) / height)
    return box.area * (1.0 - min(off, 0.7))


def select_traveller(
    boxes: Sequence[FaceBox], width: int, height: int, crowd_ratio: float = CROWD_WIDTH_RATIO
) -> FaceBox:
    """The traveller's face; NoFaceError or MultipleFacesError when there is none or a crowd."""
    if not boxes:
        raise NoFaceError("no face found")
    # A weak detection only wins when nothing better was found.
    best = max(boxes, key=lambda b: (b.score >= CROWD_MIN_SCORE, _score(b, width, height)))
    close = [
        b
        for b in boxes
        if b is not best and b.width >= crowd_ratio * best.width and b.score >= CROWD_MIN_SCORE
    ]
    if close:
        raise MultipleFacesError(
            f"{len(close) + 1} faces of similar size: one person at a time", len(close) + 1
        )
    return best
