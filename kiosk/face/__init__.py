"""Face verification against the DG2 portrait: detection, quality, encoding,
liveness (ISO/IEC 30107 presentation attack detection) and threshold calibration.

The lane uses `FaceMatcher` (a kiosk.ports.FaceVerifier); see docs/face.md.
dlib is imported lazily by kiosk.face.models, so importing this package is cheap.
"""

from kiosk.face.errors import (
    FaceError,
    ModelsUnavailableError,
    MultipleFacesError,
    NoFaceError,
    UnreadableImageError,
)
from kiosk.face.matcher import (
    SHIPPED_THRESHOLD,
    FaceMatcher,
    GuidanceListener,
    MatcherSettings,
)
from kiosk.face.reference import decode_image, prepare_reference

__all__ = [
    "SHIPPED_THRESHOLD",
    "FaceError",
    "FaceMatcher",
    "GuidanceListener",
    "MatcherSettings",
    "ModelsUnavailableError",
    "MultipleFacesError",
    "NoFaceError",
    "UnreadableImageError",
    "decode_image",
    "prepare_reference",
]
