"""Face descriptors with dlib's ResNet model (128-d, Euclidean distance).

The encoder aligns the face from the 5-point landmarks into a 150x150 chip.
Averaging the descriptor of the image and its mirror image (and, for the
reference, of jittered crops) removes part of the pose and crop noise; the
calibration (docs/face.md) shows the effect on FNMR at FMR 0.1%.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kiosk.face.detection import FaceBox, RgbImage
from kiosk.face.landmarks import find_landmarks
from kiosk.face.models import DlibModels

Descriptor = npt.NDArray[np.float64]

# Margin around the landmarks in the aligned chip, as a fraction of the face
# (dlib's default is 0.25). The reference and every probe must use the same.
CHIP_PADDING = 0.25


def _descriptor(
    rgb: RgbImage, shape: object, models: DlibModels, jitters: int, padding: float
) -> Descriptor:
    with models.lock:
        vec = models.encoder.compute_face_descriptor(
            np.ascontiguousarray(rgb), shape, jitters, padding
        )
    return np.asarray(vec, dtype=np.float64)


def encode_face(
    rgb: RgbImage,
    box: FaceBox,
    models: DlibModels,
    jitters: int = 0,
    mirror: bool = True,
    shape5: object | None = None,
    padding: float = CHIP_PADDING,
) -> Descriptor:
    """The descriptor of the face in `box`; `mirror` adds the flipped image's."""
    if shape5 is None:
        shape5 = find_landmarks(rgb, box, models).shape5
    vec = _descriptor(rgb, shape5, models, jitters, padding)
    if not mirror:
        return vec
    w = rgb.shape[1]
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    fbox = FaceBox(w - box.right, box.top, w - box.left, box.bottom, box.score)
    fshape = find_landmarks(flipped, fbox, models).shape5
    return (vec + _descriptor(flipped, fshape, models, jitters, padding)) / 2.0


def face_distance(a: Descriptor, b: Descriptor) -> float:
    return float(np.linalg.norm(a - b))
