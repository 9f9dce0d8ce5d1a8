"""The chip photo's encoding on both cores, beside the capture (docs/performance.md).

FaceMatcher.encode_reference averages the jittered descriptor of the DG2 face and
of its mirror image: two equal halves of about 0.8 s each on an idle core. dlib
holds the GIL, so the halves run in two helper processes while the face worker
goes on analysing camera frames; the worker needs the descriptor only when the
capture window has closed (FaceMatcher.verify_template reads `template.descriptor`
after collecting). The steps are encode_reference's (kiosk.face.stills.
encode_still) in pieces; tests/kiosk/test_face_reference.py checks the result is
the same descriptor, so a change of encoder there fails a test, not the lane.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from typing import Any

import numpy as np

from kiosk.face.detection import FaceBox, RgbImage
from kiosk.face.encoding import Descriptor, encode_face
from kiosk.face.matcher import FaceMatcher, ReferenceTemplate
from kiosk.face.models import DlibModels, load_models
from kiosk.face.reference import prepare_reference
from kiosk.face.selection import CROWD_MIN_SCORE, select_traveller
from kiosk.face.stills import StillSettings, find_still_faces

# A helper that reports an error has its half encoded by the worker at once. One
# that is merely slow is waited for: encoding its half again here would add load
# exactly when the machine is short of it. A dead helper is the parent's to see
# (ProcessFaceVerifier restarts worker and helpers; the verification past its
# deadline fails closed); this bound is only a last resort.
HELPER_TIMEOUT_S = 120.0
HALVES = ("image", "mirror")
# The helpers yield the CPU to the traveller screen, the lane and the capture: two
# busy encoders on a 2-core kiosk must not stall the GUI thread (ui/heartbeat.py).
HELPER_NICENESS = 5

# The FaceMatcher.encode_reference this split reproduces: another one (a subclass,
# a new encoder) is encoded whole, as before.
_SPLITTABLE = FaceMatcher.encode_reference

# (request queue of the image half's helper, of the mirror half's, shared results)
Helpers = tuple[Any, Any, Any]


def splittable(verifier: object) -> bool:
    """True for a FaceMatcher whose reference is the image and mirror average."""
    return (
        isinstance(verifier, FaceMatcher)
        and type(verifier).encode_reference is _SPLITTABLE
        and verifier.settings.mirror
    )


def serve_halves(requests: Any, results: Any) -> None:
    """A helper process: encode each (id, half, image, box, jitters, padding) sent."""
    with contextlib.suppress(OSError):  # not allowed: full priority costs the screen a little
        os.nice(HELPER_NICENESS)
    models = load_models()
    results.put((0, "ready", None))
    while True:
        request = requests.get()
        if request is None:
            return
        request_id, half, image, box, jitters, padding = request
        try:
            answer: Any = encode_face(image, box, models, jitters, mirror=False, padding=padding)
        except Exception as exc:  # the worker then encodes the half itself
            answer = f"{type(exc).__name__}: {exc}"
        results.put((request_id, half, answer))


def _mirrored(image: RgbImage, box: FaceBox) -> tuple[RgbImage, FaceBox]:
    w = image.shape[1]
    flipped = np.ascontiguousarray(image[:, ::-1])
    return flipped, FaceBox(w - box.right, box.top, w - box.left, box.bottom, box.score)


class PendingReference:
    """A chip photo whose halves the helpers are encoding; `descriptor` waits for them.

    Duck-types ReferenceTemplate for FaceMatcher.verify_template."""

    def __init__(
        self, request_id: int, parts: dict[str, tuple[RgbImage, FaceBox]], box: FaceBox,
        faces: int, models: DlibModels, settings: StillSettings, results: Any,
    ) -> None:
        self.request_id = request_id
        self.box, self.faces = box, faces
        self._parts, self._models, self._settings = parts, models, settings
        self._results = results
        self._descriptor: Descriptor | None = None

    @property
    def descriptor(self) -> Descriptor:
        if self._descriptor is None:
            halves = self._collect()
            s = self._settings
            for half in HALVES:
                if half not in halves:  # helper failed or silent: encode it here
                    image, box = self._parts[half]
                    halves[half] = encode_face(
                        image, box, self._models, s.jitters, mirror=False, padding=s.padding
                    )
            self._descriptor = (halves["image"] + halves["mirror"]) / 2.0
        return self._descriptor

    def _collect(self) -> dict[str, Descriptor]:
        got: dict[str, Descriptor] = {}
        failed: set[str] = set()
        deadline = time.monotonic() + HELPER_TIMEOUT_S
        while len(got) + len(failed) < len(HALVES):
            try:
                answered, half, payload = self._results.get(
                    timeout=max(0.0, deadline - time.monotonic())
                )
            except queue.Empty:
                break
            if answered != self.request_id:
                continue  # a half of an earlier, abandoned reference
            if isinstance(payload, np.ndarray):
                got[half] = payload
            else:
                failed.add(half)
        return got

    def template(self) -> ReferenceTemplate:
        return ReferenceTemplate(self.descriptor, self.box, self.faces)


def start_reference_split(
    matcher: FaceMatcher, reference_rgb: RgbImage, helpers: Helpers, request_id: int
) -> PendingReference:
    """Find the DG2 face (raises NoFaceError / MultipleFacesError as encode_reference
    does) and hand its two halves to the helpers; returns at once."""
    s = matcher.settings
    settings = StillSettings(jitters=s.reference_jitters, mirror=True)
    models = matcher.models
    image = prepare_reference(reference_rgb) if settings.prepare else reference_rgb
    boxes = find_still_faces(image, models, settings.max_side)
    h, w = image.shape[:2]
    box = select_traveller(boxes, w, h)
    parts = {"image": (image, box), "mirror": _mirrored(image, box)}
    for half, requests in zip(HALVES, helpers[:2], strict=True):
        part_image, part_box = parts[half]
        requests.put((request_id, half, part_image, part_box, settings.jitters, settings.padding))
    faces = sum(1 for b in boxes if b is box or b.score >= CROWD_MIN_SCORE)
    return PendingReference(request_id, parts, box, faces, models, settings, helpers[2])


def encode_reference_split(
    matcher: FaceMatcher, reference_rgb: RgbImage, helpers: Helpers, request_id: int
) -> ReferenceTemplate:
    """FaceMatcher.encode_reference with both halves encoded by the helpers."""
    return start_reference_split(matcher, reference_rgb, helpers, request_id).template()
