"""Dark glasses: the face analysis asks for them to come off only when it sees them
(issue 22: "remove your hat and sunglasses" showed to bare heads and empty cameras)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from devices.simulated.scenes import live_scene
from kiosk.face.detection import detect_faces
from kiosk.face.landmarks import find_landmarks
from kiosk.face.models import DlibModels
from kiosk.face.occlusion import eye_region
from kiosk.face.quality import QualityThresholds, assess_quality
from kiosk.face.reference import load_image_file
from tests.ci import unavailable
from tests.face.conftest import SHARED_FACES, Rgb, kiosk_frame

# Hand-labelled among the 48 photographs of ../shared/faces/calib-lfw with the darkest
# eye regions (docs/face.md): dark sunglasses, and bare eyes in deep shadow or squinting.
DARK_GLASSES = (
    "Bill_Paxton/Bill_Paxton_0002.jpg", "Fernando_Vargas/Fernando_Vargas_0002.jpg",
    "Fernando_Vargas/Fernando_Vargas_0003.jpg", "Heath_Ledger/Heath_Ledger_0002.jpg",
    "James_Cameron/James_Cameron_0001.jpg", "Kevin_Costner/Kevin_Costner_0002.jpg",
    "Melanie_Griffith/Melanie_Griffith_0001.jpg", "Mick_Jagger/Mick_Jagger_0002.jpg",
    "Pedro_Almodovar/Pedro_Almodovar_0003.jpg", "Richard_Gere/Richard_Gere_0003.jpg",
    "Sepp_Blatter/Sepp_Blatter_0001.jpg", "Sharon_Stone/Sharon_Stone_0001.jpg",
)  # fmt: skip
MISSED = "Susan_Sarandon/Susan_Sarandon_0004.jpg"  # lighter lenses: the eyes show
BARE_EYES_IN_SHADOW = (
    "Luis_Horna/Luis_Horna_0004.jpg", "Luis_Figo/Luis_Figo_0001.jpg",
    "Tommy_Haas/Tommy_Haas_0005.jpg", "Luis_Horna/Luis_Horna_0005.jpg",
    "David_Beckham/David_Beckham_0005.jpg", "Iain_Duncan_Smith/Iain_Duncan_Smith_0002.jpg",
    "Luis_Horna/Luis_Horna_0003.jpg", "Matt_Doherty/Matt_Doherty_0001.jpg",
    "Luis_Horna/Luis_Horna_0001.jpg", "Jose_Canseco/Jose_Canseco_0002.jpg",
    "Luis_Figo/Luis_Figo_0002.jpg", "Tommy_Haas/Tommy_Haas_0006.jpg",
    "Vince_Carter/Vince_Carter_0003.jpg", "Marcelo_Rios/Marcelo_Rios_0001.jpg",
    "John_Stockton/John_Stockton_0002.jpg", "James_Blake/James_Blake_0006.jpg",
    "Lleyton_Hewitt/Lleyton_Hewitt_0006.jpg", "Greg_Rusedski/Greg_Rusedski_0004.jpg",
)  # fmt: skip


def with_dark_glasses(frame: Rgb, models: DlibModels, tint: float) -> Rgb:
    """Dark lenses and a bridge drawn over the eyes the landmarks find."""
    box = detect_faces(frame, models)[0]
    p = find_landmarks(frame, box, models).points5
    left, right = p[0:2].mean(axis=0), p[2:4].mean(axis=0)
    iod = float(np.linalg.norm(right - left))
    mask = np.zeros(frame.shape[:2], np.float32)
    for c in (left, right):
        axes = (int(0.42 * iod), int(0.3 * iod))
        cv2.ellipse(mask, (int(c[0]), int(c[1] + 0.05 * iod)), axes, 0, 0, 360, 1.0, -1)
    cv2.line(mask, (int(left[0]), int(left[1])), (int(right[0]), int(right[1])), 1.0, 3)
    m = (0.92 * mask)[..., None]
    out = frame.astype(np.float32) * (1 - m) + np.float32(tint) * m
    return np.clip(out, 0, 255).astype(np.uint8)


def guidance(frame: Rgb, models: DlibModels) -> tuple[str, ...]:
    box = detect_faces(frame, models)[0]
    return assess_quality(frame, box, find_landmarks(frame, box, models)).guidance


@pytest.mark.parametrize("tint", [10.0, 25.0])
def test_dark_glasses_drawn_on_a_portrait_are_asked_off(
    astronaut_frame: Rgb, models: DlibModels, tint: float
) -> None:
    assert "hat_or_sunglasses" not in guidance(astronaut_frame, models)
    shaded = with_dark_glasses(astronaut_frame, models, tint)
    assert guidance(shaded, models)[0] == "hat_or_sunglasses"  # nothing more urgent


def test_the_simulated_travellers_are_never_asked_to_remove_glasses(models: DlibModels) -> None:
    for name, seed in (("collins", 1), ("hopper", 2)):
        for frame in live_scene(name, seed=seed)[::4]:
            rgb = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), dtype=np.uint8)
            assert "hat_or_sunglasses" not in guidance(rgb, models), name


def test_real_photographs_dark_glasses_flagged_and_shadowed_eyes_not(models: DlibModels) -> None:
    folder = SHARED_FACES.parent / "calib-lfw"
    if not folder.is_dir():
        unavailable("../shared/faces/calib-lfw is not available on this machine")
    t = QualityThresholds()

    def flagged(name: str) -> bool:
        rgb = load_image_file(folder / name)
        box = detect_faces(rgb, models)[0]
        eyes = eye_region(rgb, find_landmarks(rgb, box, models))
        assert eyes is not None, name
        return eyes.dark_glasses(t.max_eye_median_ratio, t.max_eye_bright_ratio)

    assert [n for n in DARK_GLASSES if not flagged(n)] == []
    assert [n for n in BARE_EYES_IN_SHADOW if flagged(n)] == []
    assert not flagged(MISSED)  # documented as missed: a change here needs docs/face.md


def test_a_face_too_far_to_judge_is_not_judged(astronaut: Rgb, models: DlibModels) -> None:
    far = kiosk_frame(astronaut, face_fraction=0.12)
    box = detect_faces(far, models, upsample=1)[0]
    report = assess_quality(far, box, find_landmarks(far, box, models))
    assert report.guidance[0] == "too_far" and report.eyes is None
