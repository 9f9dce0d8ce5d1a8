"""Presentation attack detection: passive cues and active challenges."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from devices.simulated.camera import SimulatedCamera
from devices.simulated.scenes import live_scene, printed_photo_scene
from kiosk.face.detection import FaceBox, detect_faces
from kiosk.face.landmarks import find_landmarks
from kiosk.face.liveness import FrameObservation, assess_liveness, detect_border, observe
from kiosk.face.models import DlibModels
from kiosk.simulation import synthetic_faces as synthetic

TEXTURE = np.random.default_rng(42).uniform(40, 200, (120, 160))
BASE_POINTS = np.array([[380.0, 180], [350, 181], [270, 180], [300, 181], [325, 240]])


def obs(
    t: float,
    shift: float = 0.0,
    yaw: float = 0.0,
    ear: float | None = None,
    border: bool = False,
    seed: int = 0,
) -> FrameObservation:
    rng = np.random.default_rng(seed)
    scene = np.roll(TEXTURE, round(shift), axis=1) + rng.normal(0, 0.5, TEXTURE.shape)
    thumb = np.clip(scene, 0, 255).astype(np.uint8)
    return FrameObservation(
        timestamp=t,
        box=FaceBox(240, 120, 420, 300),
        points5=BASE_POINTS + shift,
        inter_ocular=80.0,
        yaw_ratio=yaw,
        eye_aspect_ratio=ear,
        frame_width=640,
        thumb=thumb,
        border=border,
    )


def test_too_few_frames_is_inconclusive() -> None:
    assert assess_liveness([]).decision == "inconclusive"
    assert assess_liveness([obs(0.0), obs(0.1, 2.0)]).decision == "inconclusive"
    assert assess_liveness([obs(0.0), obs(0.05, 2), obs(0.1, 1)]).decision == "inconclusive"


def test_no_motion_is_an_attack() -> None:
    result = assess_liveness([obs(i * 0.1, seed=i) for i in range(8)])
    assert result.decision == "attack" and "no_motion" in result.reasons


def test_exposure_change_on_a_still_photo_is_not_motion() -> None:
    frames = [obs(i * 0.1, seed=i) for i in range(8)]
    brighter = [
        FrameObservation(
            **{
                **o.__dict__,
                "thumb": np.clip(o.thumb.astype(int) + 6 * i, 0, 255).astype(np.uint8),
            }
        )
        for i, o in enumerate(frames)
    ]
    assert assess_liveness(brighter).reasons == ("no_motion",)


def test_natural_motion_without_border_is_live() -> None:
    frames = [obs(i * 0.1, shift=float(np.sin(i)) * 3, seed=i) for i in range(8)]
    result = assess_liveness(frames)
    assert result.decision == "live", result
    assert result.metrics["landmark_motion"] > 0.012


def test_border_in_most_frames_is_an_attack() -> None:
    frames = [obs(i * 0.1, shift=i * 1.0, border=i % 4 != 0, seed=i) for i in range(8)]
    result = assess_liveness(frames)
    assert result.decision == "attack" and result.reasons == ("border_around_face",)


def test_head_turn_challenge() -> None:
    still_head = [obs(i * 0.1, shift=i % 2 * 2.0, seed=i) for i in range(10)]
    turned = [*still_head[:4], *(obs(0.4 + i * 0.1, i % 2 * 2.0, yaw=0.05 * i) for i in range(6))]
    assert assess_liveness(turned, "turn_left").decision == "live"
    assert assess_liveness(turned, "turn_right").reasons == ("challenge_not_met",)
    assert assess_liveness(still_head, "turn_left").decision == "attack"


def test_blink_challenge() -> None:
    ears = [0.31, 0.30, 0.32, 0.12, 0.10, 0.29, 0.31, 0.30]
    blink = [obs(i * 0.1, shift=i % 2 * 2.0, ear=e, seed=i) for i, e in enumerate(ears)]
    assert assess_liveness(blink, "blink").decision == "live"
    staring = [obs(i * 0.1, shift=i % 2 * 2.0, ear=0.3, seed=i) for i in range(8)]
    assert assess_liveness(staring, "blink").reasons == ("challenge_not_met",)
    unmeasured = [obs(i * 0.1, shift=i % 2 * 2.0, seed=i) for i in range(8)]
    result = assess_liveness(unmeasured, "blink")
    assert result.decision == "inconclusive" and result.reasons == ("blink_unmeasurable",)


@pytest.fixture(scope="module")
def sequences(models: DlibModels, astronaut: np.ndarray) -> dict[str, list[np.ndarray]]:
    return {
        "live": synthetic.live_sequence(astronaut, models, 8, seed=3),
        "framed": synthetic.framed_photo(astronaut, models, 8, seed=3),
        "screen": synthetic.screen_replay(astronaut, models, 8, seed=3),
        "replay": synthetic.photo_replay(astronaut, models, 8, seed=3),
        "blink": synthetic.live_sequence(astronaut, models, 8, seed=4, blink_at=(3, 4)),
    }


def _observations(frames: list[np.ndarray], models: DlibModels) -> list[FrameObservation]:
    out = []
    for i, bgr in enumerate(frames):
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        box = detect_faces(rgb, models)[0]
        out.append(observe(rgb, box, find_landmarks(rgb, box, models, with68=True), i / 10))
    return out


def test_border_detector_on_rendered_frames(
    sequences: dict[str, list[np.ndarray]], models: DlibModels
) -> None:
    for name, expected in (("live", False), ("framed", True), ("screen", True)):
        rgb = np.ascontiguousarray(sequences[name][0][:, :, ::-1])
        box = detect_faces(rgb, models)[0]
        assert detect_border(rgb, box) is expected, name


@pytest.mark.parametrize(
    ("name", "challenge", "decision"),
    [
        ("live", None, "live"),
        ("framed", None, "attack"),
        ("screen", None, "attack"),
        ("replay", None, "attack"),
        ("blink", "blink", "live"),
        ("live", "blink", "attack"),
    ],
)
def test_rendered_sequences(
    sequences: dict[str, list[np.ndarray]],
    models: DlibModels,
    name: str,
    challenge: str | None,
    decision: str,
) -> None:
    result = assess_liveness(_observations(sequences[name], models), challenge)  # type: ignore[arg-type]
    assert result.decision == decision, result


def _observed_one_loop_apart(
    models: DlibModels, frames: tuple[np.ndarray, ...], moving: bool, passes: int = 3
) -> list[FrameObservation]:
    """What liveness sees of a looping simulated scene when the face worker happens to
    take its frames exactly one loop apart (frames are published by hand: no thread)."""
    cam = SimulatedCamera(frames, fps=30.0, loop=True, moving=moving)
    seen = []
    for n in range(passes * len(frames)):
        cam._publish_next()
        frame = cam.latest()
        if n % len(frames) == 5 and frame is not None:
            rgb = np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB), dtype=np.uint8)
            box = detect_faces(rgb, models)[0]
            seen.append(observe(rgb, box, find_landmarks(rgb, box, models), n / 30.0))
    return seen


def test_a_simulated_person_sampled_one_loop_apart_still_moves(models: DlibModels) -> None:
    """A person never returns to the same pixels: before the camera shifted each pass of
    a moving scene, these frames were identical and a holder was referred as a photo."""
    seen = _observed_one_loop_apart(models, live_scene("hopper", seed=2), moving=True)
    assert len(seen) == 3
    assert assess_liveness(seen).decision == "live"


def test_a_simulated_print_stays_still_across_loops(models: DlibModels) -> None:
    print_ = printed_photo_scene("hopper")
    result = assess_liveness(_observed_one_loop_apart(models, print_, moving=False))
    assert result.decision == "attack" and "no_motion" in result.reasons
