"""The lane acts only on a face verdict resting on its own transaction's frames
(docs/face.md, "Frame provenance"); the chip photo's encoding starts early."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.protocols import Frame
from kiosk.lane.states import LaneState
from kiosk.ports import FaceVerification, FrameProvenance, FrameRef, ReferenceTicket
from tests.workflow.fakes import FakeCamera, Rig, run_traveller


class ScriptedFace:
    """Decides on frames at the given offsets from the camera's frame at the call
    (0 and below: frames the camera had shown before the face step began)."""

    def __init__(self, match: bool, offsets: list[int], referral: int | None) -> None:
        self.match, self.offsets, self.referral = match, offsets, referral

    def verify(self, reference_rgb: Any, camera: Any, budget_s: float) -> FaceVerification:
        now = camera.latest().index
        camera.index = now + max([0, *self.offsets])  # the camera runs on meanwhile
        refs = tuple(FrameRef(now + o, float(now + o)) for o in self.offsets)
        referral = refs[self.referral] if self.referral is not None and refs else None
        return FaceVerification(
            "match" if self.match else "mismatch", self.match, "live",
            0.2 if self.match else 0.9, 0.5, len(refs), 10.0,
            best_frame_jpeg=b"jpeg" if referral else None,
            provenance=FrameProvenance(None, refs, refs, referral),
        )


def _event(rig: Rig) -> Any:
    return rig.log.events()[-1]


def test_a_verdict_on_frames_from_before_the_document_refers_gate_closed(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.face.stale = True  # a match, on a frame the camera showed before the passport
    run_traveller(rig)
    assert rig.states()[-1] == "referred"
    assert rig.gate.commands == [] and rig.gate.state == "closed"
    event = _event(rig)
    assert event.checks["face_provenance"].startswith("refused: frame 0")
    assert event.checks["face_match"] is False
    assert "face_mismatch" in event.reasons
    assert event.event_id not in rig.images  # never a picture of someone else


def test_a_verdict_without_provenance_refers_gate_closed(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.face.unnamed = True
    run_traveller(rig)
    assert rig.states()[-1] == "referred" and rig.gate.commands == []
    assert _event(rig).checks["face_provenance"] == "refused: the face verdict names no frames"


def test_an_accepted_verdict_is_logged_with_its_frames(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    run_traveller(rig)
    assert rig.states()[-1] == "admitted"
    event = _event(rig)
    assert event.checks["face_provenance"] == "ok"
    assert event.checks["face_frame_indices"] == [1]  # the camera showed 0 at the document


class BlindCamera(FakeCamera):
    """Shows no frame when asked for its newest (faulted, or not started)."""

    def latest(self) -> None:  # type: ignore[override]
        return None

    def wait_frame(self, after_index: int, timeout: float) -> Frame:
        self.index += 1
        return Frame(np.zeros((2, 2, 3), np.uint8), float(self.index), self.index)


def test_a_camera_that_showed_no_frame_before_the_capture_cannot_admit(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.lane.devices.camera = BlindCamera()
    run_traveller(rig)
    assert rig.states()[-1] == "referred" and rig.gate.commands == []


@settings(max_examples=40)
@given(st.lists(st.tuples(st.booleans(), st.lists(st.integers(-3, 3), max_size=4),
                          st.sampled_from([None, 0, -1])), min_size=1, max_size=4))
def test_no_transaction_acts_on_a_frame_from_before_its_document(
    script: list[tuple[bool, list[int], int | None]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(Path(tmp))
        for match, offsets, referral in script:
            rig.lane.services.face = ScriptedFace(match, offsets, referral)
            run_traveller(rig)
            event = _event(rig)
            fresh = all(o > 0 for o in offsets)
            if rig.lane.state is LaneState.ADMITTED:
                assert match and offsets and fresh
                assert event.checks["face_provenance"] == "ok"
                rig.gate.walk_through()
            else:
                assert rig.gate.state == "closed"
                if not fresh:
                    assert event.checks["face_provenance"].startswith("refused")
                    assert event.event_id not in rig.images
                rig.reader.present = False
                rig.reader.listener("removed")  # type: ignore[misc]
                rig.lane.run_pending()
                rig.clock.advance(rig.lane.config.timeouts.result_display_s + 0.1)
            rig.lane.run_pending()
            assert rig.lane.state is LaneState.IDLE
            if match and offsets and fresh:
                assert event.outcome == "admitted"


class EarlyFace:
    """An EarlyReferenceVerifier that records the order of what the lane asks."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.calls: list[str] = []
        self.tickets: list[ReferenceTicket] = []

    def start_reference(self, reference_rgb: Any) -> ReferenceTicket:
        self.calls.append(f"start {self.rig.lane.state.value}")
        ticket = ReferenceTicket(len(self.tickets) + 1, reference_rgb)
        self.tickets.append(ticket)
        return ticket

    def verify_prepared(
        self, ticket: ReferenceTicket, camera: Any, budget_s: float
    ) -> FaceVerification:
        self.calls.append(f"verify {ticket.id}")
        frame = FrameRef.of(camera.wait_frame(-1, 0.1))
        assert frame is not None
        return FaceVerification("match", True, "live", 0.2, 0.5, 1, 10.0,
                                provenance=FrameProvenance(None, (frame,), (frame,)))

    def verify(self, reference_rgb: Any, camera: Any, budget_s: float) -> FaceVerification:
        raise AssertionError("the lane must use the encoding it started")


def test_the_chip_photo_encoding_starts_before_passive_authentication(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    face = EarlyFace(rig)
    rig.lane.services.face = face
    seen: list[str] = []
    authenticate = rig.auth.authenticate

    def noting(files: Any, at: Any) -> Any:
        seen.extend(face.calls)
        return authenticate(files, at)

    rig.auth.authenticate = noting  # type: ignore[method-assign]
    for _ in range(2):
        run_traveller(rig)
        assert rig.states()[-1] == "admitted"
        rig.gate.walk_through()
        rig.lane.run_pending()
    # Started while reading the chip, before the document was checked; each
    # transaction verifies against its own ticket only.
    assert seen[:1] == ["start reading_chip"]
    assert face.calls == ["start reading_chip", "verify 1", "start reading_chip", "verify 2"]


class OddReferral:
    """A mismatch whose referral image is a frame it did not compare."""

    def verify(self, reference_rgb: Any, camera: Any, budget_s: float) -> FaceVerification:
        seen = FrameRef.of(camera.wait_frame(-1, 0.1))
        other = FrameRef.of(camera.wait_frame(-1, 0.1))
        assert seen is not None and other is not None
        return FaceVerification("mismatch", False, "live", 0.9, 0.5, 1, 10.0, b"jpeg",
                                provenance=FrameProvenance(None, (seen, other), (seen,), other))


def test_the_referral_image_must_be_a_frame_the_decision_compared(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.lane.services.face = OddReferral()
    run_traveller(rig)
    event = _event(rig)
    assert event.checks["face_provenance"] == "refused: the referral frame is not a frame compared"
    assert event.event_id not in rig.images
    # The lane's own verifier: the mismatch's image is kept, and it is its referral frame.
    rig2 = Rig(tmp_path / "b")
    rig2.face.match = False
    run_traveller(rig2)
    event = _event(rig2)
    assert event.checks["face_provenance"] == "ok" and event.checks["face_frame_indices"] == [1]
    assert rig2.images[event.event_id] == b"\xff\xd8jpeg"
