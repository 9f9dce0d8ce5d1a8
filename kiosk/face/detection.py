"""Face detection with dlib's HOG detector on a downscaled copy, boxes mapped back.

HOG cost grows with pixel count; a face at kiosk distance is 150-300 px wide
in a 640x480 frame, so detecting on a copy whose long side is `max_side`
loses nothing and saves most of the time. Landmarks and encodings are then
computed on the full-resolution image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.face.models import DlibModels

RgbImage = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class FaceBox:
    """A detected face in full-resolution pixel coordinates (right/bottom exclusive)."""

    left: int
    top: int
    right: int
    bottom: int
    score: float = 0.0

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)

    def to_dlib(self) -> object:
        import dlib

        return dlib.rectangle(self.left, self.top, self.right, self.bottom)


def detect_faces(
    rgb: RgbImage, models: DlibModels, max_side: int = 480, upsample: int = 0
) -> list[FaceBox]:
    """All frontal faces in `rgb`, largest first, in its own coordinates."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / float(max(h, w)))
    small = rgb
    if scale < 1.0:
        small = np.asarray(
            cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA),
            dtype=np.uint8,
        )
    with models.lock:
        rects, scores, _ = models.detector.run(np.ascontiguousarray(small), upsample, 0.0)
    boxes = []
    for rect, score in zip(rects, scores, strict=True):
        left = max(0, round(rect.left() / scale))
        top = max(0, round(rect.top() / scale))
        right = min(w, round((rect.right() + 1) / scale))
        bottom = min(h, round((rect.bottom() + 1) / scale))
        if right - left >= 8 and bottom - top >= 8:
            boxes.append(FaceBox(left, top, right, bottom, float(score)))
    boxes.sort(key=lambda b: b.area, reverse=True)
    return boxes
