"""Fixtures of the face tests: public-domain portraits, dlib models, ../shared faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from kiosk.face.models import DlibModels, load_models
from tests.ci import unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_FACES = REPO_ROOT.parent / "shared" / "faces" / "dev"

Rgb = npt.NDArray[np.uint8]


@pytest.fixture(scope="session")
def models() -> DlibModels:
    return load_models(landmarks68=True)


@pytest.fixture(scope="session")
def astronaut() -> Rgb:
    """Eileen Collins, NASA portrait (public domain), shipped with scikit-image."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())  # type: ignore[no-untyped-call]


@pytest.fixture(scope="session")
def grace_hopper() -> Rgb:
    """Grace Hopper, US Navy portrait (public domain), shipped with matplotlib."""
    import matplotlib.cbook as cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB")))


def kiosk_frame(portrait: Rgb, face_fraction: float = 0.3) -> Rgb:
    """The portrait scaled and cropped into a 640x480 frame, face about mid-frame."""
    from kiosk.face.detection import detect_faces

    box = detect_faces(portrait, load_models(), max_side=2000, upsample=1)[0]
    scale = face_fraction * 640 / box.width
    cx, cy = box.centre
    m = np.array([[scale, 0, 320 - scale * cx], [0, scale, 216 - scale * cy]], dtype=np.float64)
    return np.asarray(
        cv2.warpAffine(portrait, m, (640, 480), borderMode=cv2.BORDER_REFLECT), dtype=np.uint8
    )


@pytest.fixture(scope="session")
def astronaut_frame(astronaut: Rgb) -> Rgb:
    return kiosk_frame(astronaut)


@pytest.fixture(scope="session")
def shared_faces() -> Path:
    if not (SHARED_FACES / "labels.csv").is_file():
        unavailable("../shared/faces/dev is not available on this machine")
    return SHARED_FACES


@pytest.fixture(scope="session")
def calib_ea() -> Path:
    """29 East Asian people with a group column (../shared/faces/calib-ea)."""
    folder = SHARED_FACES.parent / "calib-ea"
    if not (folder / "labels.csv").is_file():
        unavailable("../shared/faces/calib-ea is not available on this machine")
    return folder
