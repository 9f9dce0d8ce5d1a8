"""The chip photo's encoding in two helper processes (kiosk.face.reference_pool): the
same descriptor as FaceMatcher.encode_reference, a helper that fails costs only
time, and the lane's worker really uses its helpers."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from kiosk.face.matcher import FaceMatcher, MatcherSettings
from kiosk.face.reference_pool import encode_reference_split, serve_halves, splittable
from kiosk.face.worker import ProcessFaceVerifier

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _portrait() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())  # type: ignore[no-untyped-call]


def _thread_helper() -> tuple[queue.Queue[object], queue.Queue[object], threading.Thread]:
    """One helper on a thread serving both halves (the models' lock keeps dlib safe)."""
    requests: queue.Queue[object] = queue.Queue()
    results: queue.Queue[object] = queue.Queue()
    thread = threading.Thread(target=serve_halves, args=(requests, results), daemon=True)
    thread.start()
    assert results.get(timeout=60) == (0, "ready", None)
    return requests, results, thread


def test_split_encoding_is_encode_reference() -> None:
    # Without jitter dlib is deterministic: the halves must give the very same vector.
    matcher = FaceMatcher(MatcherSettings(reference_jitters=0))
    portrait = _portrait()
    requests, results, thread = _thread_helper()
    try:
        split = encode_reference_split(matcher, portrait, (requests, requests, results), 1)
    finally:
        requests.put(None)
        thread.join(10)
    whole = matcher.encode_reference(portrait)
    assert np.array_equal(split.descriptor, whole.descriptor)
    assert (split.box, split.faces) == (whole.box, whole.faces)


def test_a_failing_helper_only_costs_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import kiosk.face.reference_pool as fr

    monkeypatch.setattr(fr, "HELPER_TIMEOUT_S", 0.2)
    matcher = FaceMatcher(MatcherSettings(reference_jitters=0))
    portrait = _portrait()
    silent: queue.Queue[object] = queue.Queue()  # nobody serves it
    split = encode_reference_split(matcher, portrait, (silent, silent, queue.Queue()), 1)
    assert np.array_equal(split.descriptor, matcher.encode_reference(portrait).descriptor)
    # Answers left from an abandoned request are never taken for this one; a helper
    # that reports an error has its half encoded by the worker.
    stale: queue.Queue[object] = queue.Queue()
    stale.put((1, "image", np.zeros(128)))
    stale.put((2, "mirror", "RuntimeError: out of memory"))
    again = encode_reference_split(matcher, portrait, (silent, silent, stale), 2)
    assert np.array_equal(again.descriptor, split.descriptor)


def test_only_the_image_and_mirror_average_is_split() -> None:
    assert splittable(FaceMatcher())
    assert not splittable(FaceMatcher(MatcherSettings(mirror=False)))

    class Other(FaceMatcher):
        def encode_reference(self, reference_rgb):  # type: ignore[no-untyped-def]
            return super().encode_reference(reference_rgb)

    assert not splittable(Other())
    assert not splittable(object())


def test_the_worker_encodes_with_its_helper() -> None:
    from functools import partial

    from devices.simulated.camera import SimulatedCamera
    from devices.simulated.scenes import live_scene

    verifier = ProcessFaceVerifier(partial(FaceMatcher, MatcherSettings(reference_jitters=2)))
    camera = SimulatedCamera(live_scene("collins", seed=1), fps=30.0, loop=True, moving=True)
    camera.start()
    try:
        verifier.warm_up()
        assert len(verifier._helpers) == 2 and all(h.is_alive() for h in verifier._helpers)
        ticket = verifier.start_reference(_portrait())
        result = verifier.verify_prepared(ticket, camera, budget_s=5)
        assert result.outcome == "match", result
    finally:
        helpers = list(verifier._helpers)
        verifier.close()
        camera.stop()
    for helper in helpers:
        helper.join(timeout=5)  # close() already joined them: this only confirms
        assert not helper.is_alive()


def test_a_dead_helper_fails_the_verification_closed_and_is_restarted() -> None:
    from functools import partial

    from devices.simulated.camera import SimulatedCamera
    from devices.simulated.scenes import live_scene
    from kiosk.face.worker import FaceWorkerError

    verifier = ProcessFaceVerifier(partial(FaceMatcher, MatcherSettings(reference_jitters=2)))
    camera = SimulatedCamera(live_scene("collins", seed=1), fps=30.0, loop=True, moving=True)
    camera.start()
    try:
        verifier.warm_up()
        dead = verifier._helpers[1]
        dead.kill()
        dead.join(timeout=10)
        ticket = verifier.start_reference(_portrait())  # restarts worker and helpers
        assert dead not in verifier._helpers and len(verifier._helpers) == 2
        assert verifier.verify_prepared(ticket, camera, budget_s=5).outcome == "match"
        # Killed during a verification: an error (the lane's gate-closed path), not a hang.
        ticket = verifier.start_reference(_portrait())
        verifier._helpers[0].kill()
        with pytest.raises(FaceWorkerError, match="helper"):
            verifier.verify_prepared(ticket, camera, budget_s=5)
    finally:
        verifier.close()
        camera.stop()
