"""Encoding a still photograph: the DG2 portrait, or any image given to the CLI.

Stills differ from kiosk frames: any size, face anywhere, no time pressure
beyond a second. Detection runs on a copy at most `max_side` pixels long,
then upsampled once if that found nothing (small faces in large photos).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.face.detection import FaceBox, RgbImage, detect_faces
from kiosk.face.encoding import CHIP_PADDING, Descriptor, encode_face
from kiosk.face.models import DlibModels
from kiosk.face.reference import prepare_reference
from kiosk.face.selection import CROWD_MIN_SCORE, select_traveller

# One pass (dlib treats 0 and 1 alike): the threshold was calibrated on it, and ten
# jitters moved genuine and impostor distances alike by < 0.01 at 8.9x the cost
# (docs/face.md "Jitter 0 against 10").
REFERENCE_JITTERS = 0


@dataclass(frozen=True)
class StillSettings:
    jitters: int = REFERENCE_JITTERS  # random crops averaged by the dlib encoder
    mirror: bool = True  # average with the mirror image's descriptor
    prepare: bool = True  # upscale small photos, stretch washed-out ones
    max_side: int = 800
    padding: float = CHIP_PADDING  # must match the probes' (encoding.CHIP_PADDING)


REFERENCE_SETTINGS = StillSettings()


@dataclass(frozen=True)
class StillEncoding:
    descriptor: Descriptor
    box: FaceBox
    faces: int


def find_still_faces(rgb: RgbImage, models: DlibModels, max_side: int = 800) -> list[FaceBox]:
    boxes = detect_faces(rgb, models, max_side=max_side, upsample=0)
    if not boxes:
        boxes = detect_faces(rgb, models, max_side=max_side, upsample=1)
    return boxes


def encode_still(
    rgb: RgbImage, models: DlibModels, settings: StillSettings = REFERENCE_SETTINGS
) -> StillEncoding:
    """Descriptor of the one face in a photo; NoFaceError / MultipleFacesError otherwise."""
    image = prepare_reference(rgb) if settings.prepare else rgb
    boxes = find_still_faces(image, models, settings.max_side)
    h, w = image.shape[:2]
    box = select_traveller(boxes, w, h)
    descriptor = encode_face(
        image, box, models, settings.jitters, mirror=settings.mirror, padding=settings.padding
    )
    faces = sum(1 for b in boxes if b is box or b.score >= CROWD_MIN_SCORE)
    return StillEncoding(descriptor=descriptor, box=box, faces=faces)
