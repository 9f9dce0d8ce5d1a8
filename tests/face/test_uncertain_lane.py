"""A face comparison in the uncertain band refers the traveller; the gate stays shut
and the officer reads why (issue 25)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from kiosk.ports import FaceVerification
from kiosk.supervisor.reasons import FACE_OUTCOMES, face_verdict
from tests.workflow.fakes import Rig, run_traveller


def test_uncertain_comparison_refers_and_never_opens_the_gate(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    genuine = rig.face.verify

    def uncertain(reference: Any, camera: Any, budget_s: float) -> FaceVerification:
        verdict = genuine(reference, camera, budget_s)
        return replace(
            verdict, outcome="match_uncertain", match=False, distance=0.45, threshold=0.40
        )

    rig.face.verify = uncertain  # type: ignore[method-assign]
    run_traveller(rig)
    assert rig.states()[-1] == "referred"
    assert rig.gate.commands == [] and rig.gate.state == "closed"
    officer = rig.snapshots[-1].officer
    assert officer["reasons"] == ["face_mismatch"]
    event = rig.log.events()[0]
    assert event.checks["face_outcome"] == "match_uncertain"
    assert event.event_id in rig.images  # the officer compares this frame with the chip's
    text = face_verdict(event.checks["face_outcome"], 0.45, 0.40)
    assert text.startswith("UNCERTAIN") and "compare the photos" in text


def test_every_face_outcome_has_words_for_the_officer() -> None:
    from typing import get_args

    from kiosk.ports import FaceOutcome

    assert set(get_args(FaceOutcome)) == set(FACE_OUTCOMES)
    # Without an outcome (older records) the distance decides the words.
    assert face_verdict(None, 0.3, 0.4) == "match"
    assert face_verdict(None, 0.5, 0.4) == "NO MATCH"
    assert face_verdict("liveness_failed", 0.3, 0.4).endswith("comparison: match")
