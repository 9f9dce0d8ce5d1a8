"""Facial landmarks (dlib 5-point, optionally 68-point) and the geometry read from them.

The 5-point model gives the two corners of each eye and the nose base; that is
enough for alignment, head-yaw and roll. Eye openness (blink, eyes closed)
needs the eyelid points of the 68-point model (iBUG 300-W numbering).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kiosk.face.detection import FaceBox, RgbImage
from kiosk.face.models import DlibModels

Points = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Landmarks:
    shape5: object  # dlib.full_object_detection, what the encoder aligns with
    points5: Points  # (5, 2): eye corners 0-1 and 2-3, nose base 4
    points68: Points | None = None  # (68, 2) when the 68-point model is enabled

    def eye_centres(self) -> tuple[Points, Points]:
        """(left-in-image, right-in-image) eye centres."""
        a = self.points5[0:2].mean(axis=0)
        b = self.points5[2:4].mean(axis=0)
        return (a, b) if a[0] <= b[0] else (b, a)

    def inter_ocular(self) -> float:
        left, right = self.eye_centres()
        return float(np.linalg.norm(right - left))

    def yaw_ratio(self) -> float:
        """Nose offset along the eye line, in inter-ocular distances (0 = frontal).

        The ratio is unchanged by moving, rotating or scaling a flat photo, and by
        the foreshortening of tilting it (a squash along or across the eye line):
        only a real head turning changes it (used by the head-turn challenge).
        """
        left, right = self.eye_centres()
        axis = right - left
        d = float(np.linalg.norm(axis))
        if d < 1e-6:
            return 0.0
        mid = (left + right) / 2.0
        return float(np.dot(self.points5[4] - mid, axis) / (d * d))

    def roll_degrees(self) -> float:
        left, right = self.eye_centres()
        return math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))

    def eye_aspect_ratio(self) -> float | None:
        """Mean eye aspect ratio (Soukupova and Cech 2016); None without 68 points."""
        if self.points68 is None:
            return None
        p = self.points68

        def ear(e: Points) -> float:
            vertical = np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4])
            horizontal = 2.0 * np.linalg.norm(e[0] - e[3])
            return float(vertical / horizontal) if horizontal > 1e-6 else 0.0

        return (ear(p[36:42]) + ear(p[42:48])) / 2.0


def _points(shape: object) -> Points:
    parts = shape.parts()  # type: ignore[attr-defined]
    return np.array([[pt.x, pt.y] for pt in parts], dtype=np.float64)


def find_landmarks(
    rgb: RgbImage, box: FaceBox, models: DlibModels, with68: bool = False
) -> Landmarks:
    rect = box.to_dlib()
    image = np.ascontiguousarray(rgb)
    points68 = None
    with models.lock:
        shape5 = models.shape5(image, rect)
        if with68 and models.shape68 is not None:
            points68 = _points(models.shape68(image, rect))
    return Landmarks(shape5=shape5, points5=_points(shape5), points68=points68)
