"""Capture quality gate with guidance codes the UI shows and speaks.

The checks follow the capture conditions ISO/IEC 19794-5 asks of a frontal
portrait (face size and centring, frontal pose, exposure, focus, open eyes),
adapted to a live kiosk frame. Codes, in the order the traveller should fix
them: too_far, too_close, off_centre, looking_away, hat_or_sunglasses (raised
for dark glasses only: kiosk/face/occlusion.py), too_dark, blurred,
eyes_closed. Every check is a number compared with a threshold, so tests and
the calibration can reason about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import cv2
import numpy as np

from kiosk.face.detection import FaceBox, RgbImage
from kiosk.face.landmarks import Landmarks
from kiosk.face.occlusion import EyeRegion, eye_region

Guidance = Literal[
    "too_far",
    "too_close",
    "off_centre",
    "looking_away",
    "hat_or_sunglasses",
    "too_dark",
    "blurred",
    "eyes_closed",
]
# The order the traveller should fix them in: the Literal's own order.
GUIDANCE_ORDER: tuple[Guidance, ...] = get_args(Guidance)


@dataclass(frozen=True)
class QualityThresholds:
    min_face_fraction: float = 0.17  # face width / frame width (109 px at 640)
    max_face_fraction: float = 0.60
    max_centre_offset_x: float = 0.22  # face centre offset / frame width
    max_centre_offset_y: float = 0.25
    max_yaw_ratio: float = 0.28  # landmarks.yaw_ratio()
    max_roll_degrees: float = 25.0
    min_brightness: float = 55.0  # mean grey level of the face box
    min_sharpness: float = 12.0  # 1000 x Laplacian variance / grey variance, face at 128 px
    min_eye_aspect_ratio: float = 0.17  # below: eyes closed (68-point model only)
    # Dark glasses: eye region median AND 90th percentile below these shares of the
    # cheek's median (kiosk/face/occlusion.py; docs/face.md has the measurement).
    max_eye_median_ratio: float = 0.25
    max_eye_bright_ratio: float = 0.34


@dataclass(frozen=True)
class QualityReport:
    guidance: tuple[Guidance, ...]
    face_fraction: float
    centre_offset: tuple[float, float]
    yaw_ratio: float
    roll_degrees: float
    brightness: float
    sharpness: float
    eye_aspect_ratio: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    eyes: EyeRegion | None = None

    @property
    def usable(self) -> bool:
        return not self.guidance

    @property
    def primary(self) -> Guidance | None:
        return self.guidance[0] if self.guidance else None

    @property
    def score(self) -> float:
        """Higher is better; ranks usable frames for best-of-N."""
        frontal = max(0.0, 1.0 - abs(self.yaw_ratio) / 0.5)
        size = min(1.0, self.face_fraction / 0.3)
        focus = min(1.0, self.sharpness / 60.0)
        return frontal * 0.4 + size * 0.3 + focus * 0.3


def face_crop_gray(rgb: RgbImage, box: FaceBox, side: int = 128) -> np.ndarray:
    h, w = rgb.shape[:2]
    crop = rgb[max(0, box.top) : min(h, box.bottom), max(0, box.left) : min(w, box.right)]
    if crop.size == 0:
        return np.zeros((side, side), dtype=np.uint8)
    gray = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.resize(gray, (side, side), interpolation=cv2.INTER_AREA))


def assess_quality(
    rgb: RgbImage,
    box: FaceBox,
    landmarks: Landmarks,
    thresholds: QualityThresholds | None = None,
) -> QualityReport:
    t = thresholds or QualityThresholds()
    h, w = rgb.shape[:2]
    fraction = box.width / float(w)
    cx, cy = box.centre
    off_x = (cx - w / 2.0) / w
    off_y = (cy - h / 2.0) / h
    yaw = landmarks.yaw_ratio()
    roll = landmarks.roll_degrees()
    gray = face_crop_gray(rgb, box)
    brightness = float(gray.mean())
    # Laplacian energy relative to contrast, so a dim face is not also called blurred.
    lap_var = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    sharpness = 1000.0 * lap_var / max(float(gray.var()), 25.0)
    ear = landmarks.eye_aspect_ratio()
    touching = box.left <= 1 or box.top <= 1 or box.right >= w - 1 or box.bottom >= h - 1

    found: set[Guidance] = set()
    if fraction < t.min_face_fraction:
        found.add("too_far")
    if fraction > t.max_face_fraction or (touching and fraction > 0.4):
        found.add("too_close")
    elif abs(off_x) > t.max_centre_offset_x or abs(off_y) > t.max_centre_offset_y or touching:
        found.add("off_centre")
    if abs(yaw) > t.max_yaw_ratio or abs(roll) > t.max_roll_degrees:
        found.add("looking_away")
    eyes = eye_region(rgb, landmarks) if "too_far" not in found else None
    if eyes is not None and eyes.dark_glasses(t.max_eye_median_ratio, t.max_eye_bright_ratio):
        found.add("hat_or_sunglasses")
    if brightness < t.min_brightness:
        found.add("too_dark")
    if sharpness < t.min_sharpness:
        found.add("blurred")
    if ear is not None and ear < t.min_eye_aspect_ratio:
        found.add("eyes_closed")
    return QualityReport(
        guidance=tuple(g for g in GUIDANCE_ORDER if g in found),
        face_fraction=fraction,
        centre_offset=(off_x, off_y),
        yaw_ratio=yaw,
        roll_degrees=roll,
        brightness=brightness,
        sharpness=sharpness,
        eye_aspect_ratio=ear,
        eyes=eyes,
    )
