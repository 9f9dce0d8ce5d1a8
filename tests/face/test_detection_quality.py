"""Detection on a downscaled copy, traveller selection and the quality gate."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.face.detection import FaceBox, detect_faces
from kiosk.face.errors import MultipleFacesError, NoFaceError
from kiosk.face.landmarks import Landmarks, find_landmarks
from kiosk.face.matcher import FaceMatcher, MatcherSettings
from kiosk.face.models import DlibModels
from kiosk.face.quality import assess_quality
from kiosk.face.selection import select_traveller
from kiosk.simulation.synthetic_faces import close_eyes
from tests.face.conftest import kiosk_frame


def test_downscaled_detection_maps_boxes_back(
    models: DlibModels, astronaut_frame: np.ndarray
) -> None:
    full = detect_faces(astronaut_frame, models, max_side=640)
    small = detect_faces(astronaut_frame, models, max_side=320)
    assert len(full) == 1 and len(small) == 1
    a, b = full[0], small[0]
    tolerance = 0.2 * a.width  # HOG scale steps; a mapping bug would be off by 2x
    assert abs(a.left - b.left) < tolerance and abs(a.right - b.right) < tolerance
    assert abs(a.top - b.top) < tolerance and abs(a.bottom - b.bottom) < tolerance
    cx, cy = a.centre
    assert 250 < cx < 390 and 140 < cy < 300  # the face was placed mid-frame


def test_blank_frame_has_no_face(models: DlibModels) -> None:
    assert detect_faces(np.full((480, 640, 3), 128, np.uint8), models) == []


def test_selection_prefers_large_central_and_ignores_the_queue() -> None:
    traveller = FaceBox(250, 150, 400, 300, score=1.2)
    far_behind = FaceBox(20, 20, 70, 70, score=1.5)
    texture = FaceBox(200, 330, 330, 460, score=0.05)  # a weak hit on clothing
    assert select_traveller([texture, traveller], 640, 480) is traveller
    assert select_traveller([far_behind, traveller], 640, 480) is traveller
    with pytest.raises(NoFaceError):
        select_traveller([], 640, 480)


def test_two_similar_faces_are_one_person_too_many() -> None:
    with pytest.raises(MultipleFacesError) as info:
        select_traveller(
            [FaceBox(100, 150, 240, 290, 1.0), FaceBox(360, 150, 490, 280, 0.8)], 640, 480
        )
    assert info.value.code == "multiple_faces" and info.value.count == 2


def _grade(rgb: np.ndarray, models: DlibModels) -> tuple[str, ...]:
    box = detect_faces(rgb, models)[0]
    return assess_quality(rgb, box, find_landmarks(rgb, box, models, with68=True)).guidance


def test_a_face_too_small_for_the_fast_pass_still_gets_guidance(astronaut: np.ndarray) -> None:
    frame = kiosk_frame(astronaut, 0.1)
    matcher = FaceMatcher(MatcherSettings(landmarks68=False))
    assert detect_faces(frame, matcher.models, max_side=480) == []  # below the fast pass
    assert matcher.analyse_frame(frame).quality.guidance[0] == "too_far"


def test_good_frame_has_no_guidance(models: DlibModels, astronaut_frame: np.ndarray) -> None:
    assert _grade(astronaut_frame, models) == ()


def test_guidance_codes(
    models: DlibModels, astronaut: np.ndarray, astronaut_frame: np.ndarray
) -> None:
    assert _grade(kiosk_frame(astronaut, 0.15), models)[0] == "too_far"
    assert _grade(kiosk_frame(astronaut, 0.65), models)[0] == "too_close"
    shifted = np.asarray(
        cv2.warpAffine(
            astronaut_frame, np.array([[1, 0, 190], [0, 1, 0]], dtype=np.float64), (640, 480)
        ),
        dtype=np.uint8,
    )
    assert _grade(shifted, models)[0] == "off_centre"
    assert _grade((astronaut_frame * 0.25).astype(np.uint8), models) == ("too_dark",)
    blurred = np.asarray(cv2.GaussianBlur(astronaut_frame, (0, 0), 3.0), dtype=np.uint8)
    assert _grade(blurred, models) == ("blurred",)
    shut = kiosk_frame(close_eyes(astronaut, models))
    assert _grade(shut, models) == ("eyes_closed",)


def test_looking_away_from_the_landmark_geometry(
    models: DlibModels, astronaut_frame: np.ndarray
) -> None:
    box = detect_faces(astronaut_frame, models)[0]
    lm = find_landmarks(astronaut_frame, box, models)
    iod = lm.inter_ocular()
    turned = lm.points5.copy()
    turned[4, 0] += 0.4 * iod  # nose far towards one eye: head turned
    report = assess_quality(astronaut_frame, box, Landmarks(lm.shape5, turned))
    assert "looking_away" in report.guidance
    assert abs(Landmarks(lm.shape5, turned).yaw_ratio() - lm.yaw_ratio() - 0.4) < 0.01


def test_yaw_ratio_survives_moving_and_tilting_a_flat_photo(
    models: DlibModels, astronaut_frame: np.ndarray
) -> None:
    box = detect_faces(astronaut_frame, models)[0]
    lm = find_landmarks(astronaut_frame, box, models)
    left, right = lm.eye_centres()
    angle = np.arctan2(*(right - left)[::-1])
    c, s = np.cos(angle), np.sin(angle)
    to_eye_frame = np.array([[c, s], [-s, c]])
    for squash_along, squash_across in ((0.6, 1.0), (1.0, 0.5), (0.7, 0.8)):
        squash = np.diag([squash_along, squash_across])
        turn = np.array([[np.cos(0.4), -np.sin(0.4)], [np.sin(0.4), np.cos(0.4)]])
        m = 1.3 * turn @ to_eye_frame.T @ squash @ to_eye_frame
        moved = lm.points5 @ m.T + np.array([25.0, -14.0])
        assert abs(Landmarks(lm.shape5, moved).yaw_ratio() - lm.yaw_ratio()) < 1e-9


def test_models_are_safe_to_share_between_threads(
    models: DlibModels, astronaut_frame: np.ndarray
) -> None:
    # Unguarded, two threads in dlib's HOG detector at once abort the process.
    import threading

    found: list[int] = []

    def work() -> None:
        for _ in range(40):
            found.append(len(detect_faces(astronaut_frame, models, max_side=320)))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert found == [1] * 120
