"""Loading of the dlib models shipped by the package face_recognition_models.

face_recognition calls quit() (exit status 0, no message) when that package is
missing, so nothing here imports face_recognition: we import
face_recognition_models ourselves and raise ModelsUnavailableError instead.
dlib's HOG detector, its 5-point shape predictor and the ResNet encoder are
under permissive terms; the 68-point predictor was trained on iBUG 300-W,
whose terms exclude commercial use, so it is loaded only on request
(blink liveness, eyes-closed guidance) and matching never depends on it.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from kiosk.face.errors import ModelsUnavailableError


@dataclass(frozen=True)
class DlibModels:
    detector: Any  # dlib.fhog_object_detector (HOG + linear SVM, frontal faces)
    shape5: Any  # dlib.shape_predictor, 5 points: eye corners and nose base
    encoder: Any  # dlib.face_recognition_model_v1 (ResNet, 128-d descriptor)
    shape68: Any | None  # dlib.shape_predictor, 68 points (iBUG 300-W; non-commercial)
    # dlib's detector and network keep scratch state per object: two threads using
    # one of them at once abort the process. Every call into dlib holds this lock.
    lock: threading.RLock = field(default_factory=threading.RLock, compare=False, repr=False)


_lock = threading.Lock()
_cache: dict[bool, DlibModels] = {}


def _model_paths() -> tuple[str, str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkg_resources deprecation notice
            import face_recognition_models as frm
    except Exception as exc:  # ImportError, or pkg_resources missing inside it
        raise ModelsUnavailableError(
            f"face models unavailable: cannot import face_recognition_models ({exc})"
        ) from exc
    return (
        str(frm.pose_predictor_five_point_model_location()),
        str(frm.face_recognition_model_location()),
        str(frm.pose_predictor_model_location()),
    )


def load_models(landmarks68: bool = False) -> DlibModels:
    """The process-wide dlib models (loaded once; about 0.5 s the first time)."""
    with _lock:
        cached = _cache.get(landmarks68)
        if cached is not None:
            return cached
        try:
            import dlib
        except ImportError as exc:
            raise ModelsUnavailableError(f"dlib is not installed ({exc})") from exc
        shape5_path, encoder_path, shape68_path = _model_paths()
        base = _cache.get(not landmarks68)
        try:
            detector = base.detector if base else dlib.get_frontal_face_detector()
            shape5 = base.shape5 if base else dlib.shape_predictor(shape5_path)
            encoder = base.encoder if base else dlib.face_recognition_model_v1(encoder_path)
            shape68 = None
            if landmarks68:
                shape68 = dlib.shape_predictor(shape68_path)
        except RuntimeError as exc:  # dlib's error for a missing or corrupt model file
            raise ModelsUnavailableError(f"cannot load dlib model ({exc})") from exc
        lock = base.lock if base else threading.RLock()
        models = DlibModels(detector, shape5, encoder, shape68, lock)
        _cache[landmarks68] = models
        return models
