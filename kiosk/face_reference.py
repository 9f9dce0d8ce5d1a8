"""The chip photo's encoding split over both cores (docs/performance.md, "Overhead").

FaceMatcher.encode_reference averages the jittered descriptor of the DG2 face and
of its mirror image: two equal halves of about 0.8 s each on an idle core. dlib
holds the GIL, so the halves need two processes: the face worker encodes the
image itself while a helper process encodes the mirror half. The steps are
FaceMatcher.encode_reference's (kiosk.biometrics.stills.encode_still), called
in two pieces; tests/kiosk/test_face_reference.py checks that the split gives
the same descriptor, so a change of encoder there fails the test, not the lane.
"""

from __future__ import annotations

import queue
from typing import Any

import numpy as np

from kiosk.biometrics.detection import FaceBox, RgbImage
from kiosk.biometrics.encoding import Descriptor, encode_face
from kiosk.biometrics.matcher import FaceMatcher, ReferenceTemplate
from kiosk.biometrics.models import load_models
from kiosk.biometrics.reference import prepare_reference
from kiosk.biometrics.selection import CROWD_MIN_SCORE, select_traveller
from kiosk.biometrics.stills import StillSettings, find_still_faces

# The helper answers within this or the worker encodes the mirror half itself.
HELPER_TIMEOUT_S = 30.0

# The FaceMatcher.encode_reference this split reproduces: another one (a subclass,
# a new encoder) is encoded whole, as before.
_SPLITTABLE = FaceMatcher.encode_reference


def splittable(verifier: object) -> bool:
    """True for a FaceMatcher whose reference is the image and mirror average."""
    return (
        isinstance(verifier, FaceMatcher)
        and type(verifier).encode_reference is _SPLITTABLE
        and verifier.settings.mirror
    )


def serve_mirror_halves(requests: Any, results: Any) -> None:
    """The helper process: encode each (id, image, box, jitters, padding) it is sent."""
    models = load_models()
    results.put((0, "ready"))
    while True:
        request = requests.get()
        if request is None:
            return
        request_id, image, box, jitters, padding = request
        try:
            answer: Any = encode_face(image, box, models, jitters, mirror=False, padding=padding)
        except Exception as exc:  # the worker then encodes the half itself
            answer = f"{type(exc).__name__}: {exc}"
        results.put((request_id, answer))


def _mirrored(image: RgbImage, box: FaceBox) -> tuple[RgbImage, FaceBox]:
    w = image.shape[1]
    flipped = np.ascontiguousarray(image[:, ::-1])
    return flipped, FaceBox(w - box.right, box.top, w - box.left, box.bottom, box.score)


def _helper_answer(results: Any, request_id: int) -> Descriptor | None:
    """The helper's mirror half for `request_id`, or None (late, failed or gone)."""
    while True:
        try:
            answered, payload = results.get(timeout=HELPER_TIMEOUT_S)
        except queue.Empty:
            return None
        if answered != request_id:
            continue  # an earlier reference's half, abandoned
        return payload if isinstance(payload, np.ndarray) else None


def encode_reference_split(
    matcher: FaceMatcher, reference_rgb: RgbImage, helper: tuple[Any, Any], request_id: int
) -> ReferenceTemplate:
    """FaceMatcher.encode_reference with the mirror half encoded by the helper.

    Raises NoFaceError / MultipleFacesError as encode_reference does.
    """
    s = matcher.settings
    settings = StillSettings(jitters=s.reference_jitters, mirror=True)
    models = matcher.models
    image = prepare_reference(reference_rgb) if settings.prepare else reference_rgb
    boxes = find_still_faces(image, models, settings.max_side)
    h, w = image.shape[:2]
    box = select_traveller(boxes, w, h)
    flipped, fbox = _mirrored(image, box)
    requests, results = helper
    requests.put((request_id, flipped, fbox, settings.jitters, settings.padding))
    own = encode_face(image, box, models, settings.jitters, mirror=False, padding=settings.padding)
    mirror = _helper_answer(results, request_id)
    if mirror is None:
        mirror = encode_face(
            flipped, fbox, models, settings.jitters, mirror=False, padding=settings.padding
        )
    faces = sum(1 for b in boxes if b is box or b.score >= CROWD_MIN_SCORE)
    return ReferenceTemplate((own + mirror) / 2.0, box, faces)
