"""FaceMatcher end to end: real dlib models, simulated camera, every outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np
import pytest

from devices.protocols import Frame
from devices.simulated.camera import SimulatedCamera
from kiosk.config import FaceSection
from kiosk.face.matcher import FaceMatcher, MatcherSettings
from kiosk.face.models import DlibModels
from kiosk.ports import FaceVerification, FaceVerifier
from kiosk.simulation import synthetic_faces as synthetic

FAST = MatcherSettings(reference_jitters=1)


class SteppedCamera:
    """Hands out every frame in turn, in virtual time that is also the matcher's clock:
    however slow the analysis (both cores busy), liveness sees the sequence as
    recorded. A real-time camera drops the frames a slow matcher has no time for,
    and a 133 ms blink can fall between two analysed frames."""

    def __init__(self, frames: list[np.ndarray], fps: float = 30.0, loop: bool = True) -> None:
        self.frames, self.fps, self.loop = frames, fps, loop
        self.index = -1
        self.fault: str | None = None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def clock(self) -> float:
        return max(self.index, 0) / self.fps

    def latest(self) -> Frame | None:
        return None if self.index < 0 else self._frame(self.index)

    def wait_frame(self, after_index: int, timeout: float) -> Frame | None:
        self.index = max(self.index, after_index) + 1
        return self._frame(self.index)

    def _frame(self, index: int) -> Frame:
        # Without loop the last frame stays in view, as a camera keeps seeing the scene.
        at = index % len(self.frames) if self.loop else min(index, len(self.frames) - 1)
        return Frame(self.frames[at], index / self.fps, index)


_CURRENT = threading.local()  # the stepped camera `run` gave the calling thread


def _thread_clock() -> float:
    camera: SteppedCamera = _CURRENT.camera
    return camera.clock()


def stepped_matcher(
    settings: MatcherSettings = FAST, listener: Callable[[str], None] | None = None
) -> FaceMatcher:
    """A matcher whose clock is the virtual time of the camera `run` hands its thread:
    its verdict cannot depend on how busy the machine is (issue 24 item 6)."""
    return FaceMatcher(settings, listener=listener, clock=_thread_clock)


def run(
    matcher: FaceMatcher, reference: np.ndarray, frames: list[np.ndarray], budget: float = 4.0
) -> FaceVerification:
    cam = SteppedCamera(frames)
    _CURRENT.camera = cam
    return matcher.verify(reference, cam, budget)


def run_stepped(
    settings: MatcherSettings,
    reference: np.ndarray,
    frames: list[np.ndarray],
    listener: Callable[[str], None] | None = None,
) -> FaceVerification:
    cam = SteppedCamera(frames)
    return FaceMatcher(settings, listener=listener, clock=cam.clock).verify(reference, cam, 4.0)


@pytest.fixture(scope="module")
def live_astronaut(models: DlibModels, astronaut: np.ndarray) -> list[np.ndarray]:
    return synthetic.live_sequence(astronaut, models, 24, seed=11)


def test_is_a_face_verifier() -> None:
    verifier: FaceVerifier = FaceMatcher(FAST)
    assert callable(verifier.verify)


def test_same_person_matches_live(astronaut: np.ndarray, live_astronaut: list[np.ndarray]) -> None:
    heard: list[str] = []
    result = run(stepped_matcher(FAST, listener=heard.append), astronaut, live_astronaut)
    assert result.outcome == "match" and result.match
    assert result.liveness == "live"
    assert result.distance is not None and result.distance < result.threshold
    assert 1 <= result.frames_used <= 3
    assert "hold_still" in heard
    assert result.best_frame_jpeg is not None
    decoded = cv2.imdecode(np.frombuffer(result.best_frame_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape == (480, 640, 3)


def test_someone_else_is_a_mismatch(
    models: DlibModels, astronaut: np.ndarray, grace_hopper: np.ndarray
) -> None:
    frames = synthetic.live_sequence(grace_hopper, models, 24, seed=5)
    result = run(stepped_matcher(FAST), astronaut, frames)
    assert result.outcome == "mismatch" and not result.match
    assert result.distance is not None and result.distance > result.threshold


def test_printed_photo_replay_is_refused(models: DlibModels, astronaut: np.ndarray) -> None:
    result = run(stepped_matcher(FAST), astronaut, synthetic.photo_replay(astronaut, models, 10))
    assert result.outcome == "liveness_failed" and result.liveness == "attack"
    assert result.guidance == "no_motion"
    assert result.match  # the face itself does match: only liveness refuses it


def test_liveness_off_is_not_checked(
    astronaut: np.ndarray, live_astronaut: list[np.ndarray]
) -> None:
    matcher = stepped_matcher(MatcherSettings(reference_jitters=1, liveness="off"))
    result = run(matcher, astronaut, live_astronaut)
    assert result.outcome == "match" and result.liveness == "not_checked"


def test_empty_scene_is_no_face(astronaut: np.ndarray) -> None:
    heard: list[str] = []
    blank = [np.full((480, 640, 3), 90 + i, np.uint8) for i in range(5)]
    result = run(stepped_matcher(FAST, listener=heard.append), astronaut, blank, budget=0.8)
    assert result.outcome == "no_face" and not result.match and result.distance is None
    assert "no_face" in heard
    assert result.ms < 3000


def test_unusable_face_times_out_with_guidance(
    astronaut: np.ndarray, live_astronaut: list[np.ndarray]
) -> None:
    dark = [(f * 0.25).astype(np.uint8) for f in live_astronaut[:6]]
    result = run(stepped_matcher(FAST), astronaut, dark, budget=1.0)
    assert result.outcome == "timeout" and result.guidance == "too_dark"


def test_two_people_is_multiple_faces(
    astronaut: np.ndarray, live_astronaut: list[np.ndarray]
) -> None:
    pair = []
    for frame in live_astronaut[:6]:
        half = frame[:, 160:480]  # the face, 190 px wide, with a little room around it
        pair.append(np.ascontiguousarray(np.hstack([half, half[:, ::-1]])))
    result = run(stepped_matcher(FAST), astronaut, pair, budget=1.0)
    assert result.outcome == "multiple_faces"


def test_second_person_stepping_in_during_capture(
    astronaut: np.ndarray, live_astronaut: list[np.ndarray]
) -> None:
    frames = []
    for i, frame in enumerate(live_astronaut[:12]):
        half = frame[:, 160:480]
        pair = np.ascontiguousarray(np.hstack([half, half[:, ::-1]]))
        frames.extend([frame] * 3 if i < 2 else [pair])
    # Every frame in turn, in virtual time: on a loaded machine a real-time looping
    # camera let the matcher sample only the first person's frames (and decide
    # liveness_failed on them), so the answer depended on the load (issue 25).
    # The person at the shoulder stays for the rest of the capture: no loop back.
    frames.extend(frames[-10:] * 6)
    result = run_stepped(FAST, astronaut, frames)
    assert result.outcome == "multiple_faces" and not result.match


def test_warm_up_loads_models() -> None:
    matcher = FaceMatcher(FAST)
    matcher.warm_up()
    assert matcher.models.encoder is not None


def test_reference_without_a_face(live_astronaut: list[np.ndarray]) -> None:
    blank = np.full((320, 240, 3), 200, np.uint8)
    result = run(stepped_matcher(FAST), blank, live_astronaut)
    assert result.outcome == "no_reference_face" and result.guidance == "no_face"


def test_camera_fault(astronaut: np.ndarray, live_astronaut: list[np.ndarray]) -> None:
    cam = SimulatedCamera(live_astronaut, fps=30.0)
    cam.inject_fault("unplugged")
    cam.start()
    try:
        result = FaceMatcher(FAST).verify(astronaut, cam, 1.0)
    finally:
        cam.stop()
    assert result.outcome == "camera_fault" and result.guidance == "unplugged"


def test_listener_errors_do_not_break_verification(
    astronaut: np.ndarray, live_astronaut: list[np.ndarray]
) -> None:
    def broken(code: str) -> None:
        raise RuntimeError("UI gone")

    assert run(stepped_matcher(FAST, listener=broken), astronaut, live_astronaut).outcome == "match"


def test_reference_is_encoded_once(astronaut: np.ndarray) -> None:
    matcher = FaceMatcher(FAST)
    first = matcher.prepare_reference(astronaut)
    assert matcher.prepare_reference(astronaut.copy()) is first


def test_from_config_takes_the_face_section() -> None:
    face = FaceSection(threshold=0.42, budget_s=0.4, max_frames=5, liveness="off")
    matcher = FaceMatcher.from_config(face, reference_jitters=2)
    s = matcher.settings
    assert (s.threshold, s.collect_s, s.max_frames, s.liveness) == (0.42, 0.4, 5, "off")
    assert s.reference_jitters == 2


def test_concurrent_verifications_share_models(
    astronaut: np.ndarray, live_astronaut: list[np.ndarray]
) -> None:
    matcher = stepped_matcher()
    outcomes: list[str] = []

    def lane() -> None:
        outcomes.append(run(matcher, astronaut, live_astronaut).outcome)

    threads = [threading.Thread(target=lane) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # no wall-clock bound of our own: pytest-timeout stops a hang
    assert outcomes == ["match", "match"]


def test_blink_challenge(models: DlibModels, astronaut: np.ndarray) -> None:
    settings = MatcherSettings(
        reference_jitters=1,
        liveness="challenge",
        challenge="blink",
        landmarks68=True,
        challenge_s=1.2,
    )
    blinking = synthetic.live_sequence(astronaut, models, 24, seed=2, blink_at=(9, 10, 11, 12))
    heard: list[str] = []
    result = run_stepped(settings, astronaut, blinking, heard.append)
    assert (result.outcome, result.liveness) == ("match", "live"), result
    assert "blink" in heard
    staring = synthetic.live_sequence(astronaut, models, 24, seed=2)
    result = run_stepped(settings, astronaut, staring)
    assert (result.outcome, result.guidance) == ("liveness_failed", "challenge_not_met")


def test_head_turn_challenge_refuses_a_moving_print(
    models: DlibModels, astronaut: np.ndarray
) -> None:
    settings = MatcherSettings(reference_jitters=1, liveness="challenge", challenge_s=1.0)
    cutout = synthetic.cutout_photo(astronaut, models, 24, seed=3)  # passes the passive cues
    plain = stepped_matcher(MatcherSettings(reference_jitters=1))
    assert run(plain, astronaut, cutout).outcome == "match"
    result = run(stepped_matcher(settings), astronaut, cutout)
    assert (result.outcome, result.guidance) == ("liveness_failed", "challenge_not_met")


def test_blink_challenge_without_the_68_point_model_is_refused() -> None:
    with pytest.raises(ValueError, match="68-point"):
        FaceMatcher(MatcherSettings(liveness="challenge", challenge="blink"))


def test_approach_motion_does_not_count_as_liveness(
    models: DlibModels, astronaut: np.ndarray
) -> None:
    still = synthetic.photo_replay(astronaut, models, 40, seed=4)
    approach = []
    for i, scale in enumerate(np.linspace(0.3, 0.5, 8)):  # face still too small to use
        small = cv2.resize(still[i], None, fx=scale, fy=scale)
        canvas = np.full_like(still[i], 120)
        y, x = (480 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
        canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
        approach.extend([canvas] * 2)
    cam = SteppedCamera([*approach, *still], loop=False)
    result = FaceMatcher(FAST, clock=cam.clock).verify(astronaut, cam, 4.0)
    assert (result.outcome, result.guidance) == ("liveness_failed", "no_motion")


def test_between_the_thresholds_is_uncertain_and_never_a_match(
    astronaut: np.ndarray, live_astronaut: list[np.ndarray]
) -> None:
    """A distance above the strict admit threshold but within the uncertain one is
    referred for an officer to compare (issue 25): never `match`, never admitted."""
    # Liveness off: this is about the distance bands (liveness has its own tests).
    plain = replace(FAST, liveness="off")
    sure = run(stepped_matcher(plain), astronaut, live_astronaut)
    assert sure.outcome == "match" and sure.distance is not None
    # The same traveller, with the admit threshold moved below the measured distance.
    strict = replace(plain, threshold=0.01, uncertain_threshold=0.95)
    result = run(stepped_matcher(strict), astronaut, live_astronaut)
    assert result.outcome == "match_uncertain" and result.match is False
    assert result.distance is not None and 0.01 < result.distance <= 0.95
    assert result.threshold == 0.01  # the threshold reported is the admit threshold
    assert result.best_frame_jpeg is not None  # the officer compares this frame


def test_uncertain_threshold_comes_from_the_config() -> None:
    matcher = FaceMatcher.from_config(FaceSection(threshold=0.38, uncertain_threshold=0.5))
    assert (matcher.settings.threshold, matcher.settings.uncertain_threshold) == (0.38, 0.5)


# Issue 25 item 5: a capture that could not measure liveness (too few frames in the window
# on a starved machine, a blink the landmarks could not follow) is referred with its own
# outcome, never reported as an attack the traveller did not make.
@pytest.mark.parametrize(
    ("decision", "reason", "outcome"),
    [
        ("inconclusive", "too_few_frames", "liveness_inconclusive"),
        ("inconclusive", "blink_unmeasurable", "liveness_inconclusive"),
        ("attack", "no_motion", "liveness_failed"),
    ],
)
def test_liveness_that_could_not_be_measured_has_its_own_outcome(
    monkeypatch: pytest.MonkeyPatch,
    astronaut: np.ndarray,
    live_astronaut: list[np.ndarray],
    decision: str,
    reason: str,
    outcome: str,
) -> None:
    from kiosk.face import matcher as matcher_module
    from kiosk.face.liveness import LivenessResult

    monkeypatch.setattr(
        matcher_module,
        "assess_liveness",
        lambda *_args, **_kw: LivenessResult(decision, (reason,), {}),  # type: ignore[arg-type]
    )
    result = run_stepped(FAST, astronaut, live_astronaut)
    assert (result.outcome, result.liveness, result.guidance) == (outcome, decision, reason)
    assert result.match is True  # the comparison itself held: only liveness refers
