"""The chip photo's encoding split over two processes (kiosk.face_reference): the
same descriptor as FaceMatcher.encode_reference, a helper that fails costs only
time, and the lane's worker really uses the helper."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from kiosk.biometrics.matcher import FaceMatcher, MatcherSettings
from kiosk.face_process import ProcessFaceVerifier
from kiosk.face_reference import encode_reference_split, serve_mirror_halves, splittable

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _portrait() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())  # type: ignore[no-untyped-call]


def _thread_helper() -> tuple[queue.Queue[object], queue.Queue[object], threading.Thread]:
    requests: queue.Queue[object] = queue.Queue()
    results: queue.Queue[object] = queue.Queue()
    thread = threading.Thread(target=serve_mirror_halves, args=(requests, results), daemon=True)
    thread.start()
    assert results.get(timeout=60) == (0, "ready")
    return requests, results, thread


def test_split_encoding_is_encode_reference() -> None:
    # Without jitter dlib is deterministic: the halves must give the very same vector.
    matcher = FaceMatcher(MatcherSettings(reference_jitters=0))
    portrait = _portrait()
    requests, results, thread = _thread_helper()
    try:
        split = encode_reference_split(matcher, portrait, (requests, results), 1)
    finally:
        requests.put(None)
        thread.join(10)
    whole = matcher.encode_reference(portrait)
    assert np.array_equal(split.descriptor, whole.descriptor)
    assert (split.box, split.faces) == (whole.box, whole.faces)


def test_a_failing_helper_only_costs_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import kiosk.face_reference as fr

    monkeypatch.setattr(fr, "HELPER_TIMEOUT_S", 0.2)
    matcher = FaceMatcher(MatcherSettings(reference_jitters=0))
    portrait = _portrait()
    silent: queue.Queue[object] = queue.Queue()  # nobody serves it
    split = encode_reference_split(matcher, portrait, (silent, queue.Queue()), 1)
    assert np.array_equal(split.descriptor, matcher.encode_reference(portrait).descriptor)
    # An answer left from an abandoned request is never taken for this one.
    stale: queue.Queue[object] = queue.Queue()
    stale.put((1, np.zeros(128)))
    again = encode_reference_split(matcher, portrait, (silent, stale), 2)
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

    from devices.camera.simulated import SimulatedCamera
    from devices.simulated.scenes import live_scene

    verifier = ProcessFaceVerifier(partial(FaceMatcher, MatcherSettings(reference_jitters=2)))
    camera = SimulatedCamera(live_scene("collins", seed=1), fps=30.0, loop=True)
    camera.start()
    try:
        verifier.warm_up()
        assert verifier._helper is not None and verifier._helper.is_alive()
        ticket = verifier.start_reference(_portrait())
        result = verifier.verify_prepared(ticket, camera, budget_s=5)
        assert result.outcome == "match", result
    finally:
        helper = verifier._helper
        verifier.close()
        camera.stop()
    assert helper is not None
    helper.join(timeout=5)  # close() already joined it: this only confirms
    assert not helper.is_alive()
