"""Interfaces of the services the lane workflow consumes.

The workflow depends on these, not on the implementations, so each pipeline
(passive authentication, face verification, policy) can be deepened or
replaced without touching the state machine; tests inject small fakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from devices.protocols import Camera, Frame
from policy.case import Case


@dataclass(frozen=True)
class AuthenticityResult:
    """Outcome of passive authentication (ICAO 9303-11 5.1)."""

    valid: bool
    reason: str | None  # e.g. "hash_mismatch_dg1", "unknown_csca"
    detail: Mapping[str, Any] = field(default_factory=dict)  # JSON-safe verdict


class DocumentAuthenticator(Protocol):
    def authenticate(self, files: Mapping[str, bytes], at: datetime) -> AuthenticityResult: ...


FaceOutcome = Literal[
    "match",
    "match_uncertain",  # between the admit and the uncertain threshold: refer, never admit
    "mismatch",
    "no_face",
    "multiple_faces",
    "no_reference_face",
    "liveness_failed",  # the capture shows a presentation attack (photo, screen, no motion)
    # Liveness could not be measured (too few frames in the window, a blink not measurable):
    # refer, and say so; not an attack, and not another check's failure.
    "liveness_inconclusive",
    "camera_fault",
    "timeout",
]
Liveness = Literal["live", "attack", "inconclusive", "not_checked"]


@dataclass(frozen=True)
class FrameRef:
    """One camera frame, named by the camera's own sequence number and capture time."""

    index: int
    captured: float  # the camera's monotonic capture time, seconds

    @classmethod
    def of(cls, frame: Frame | None) -> FrameRef | None:
        return None if frame is None else cls(frame.index, frame.timestamp)

    def after(self, mark: FrameRef | None) -> bool:
        """True when this frame was captured after `mark` (None: no earlier frame known)."""
        return mark is None or (self.index > mark.index and self.captured > mark.captured)


@dataclass(frozen=True)
class FrameProvenance:
    """Which camera frames a face verdict rests on (docs/face.md, "Frame provenance").

    `seen` holds every frame the verdict looked at (liveness included), `used` the
    frames whose descriptors were compared with the chip photo, `referral` the frame
    in best_frame_jpeg; `after` is the camera's newest frame when the verification
    was asked for: every other frame must be newer.
    """

    after: FrameRef | None
    seen: tuple[FrameRef, ...] = ()
    used: tuple[FrameRef, ...] = ()
    referral: FrameRef | None = None

    def frames(self) -> tuple[FrameRef, ...]:
        return self.seen + self.used + ((self.referral,) if self.referral else ())

    def problem(self, mark: FrameRef | None) -> str | None:
        """Why these frames cannot be trusted for a transaction whose camera showed
        `mark` when the document was presented; None when they can."""
        for ref in self.frames():
            if not ref.after(mark) or not ref.after(self.after):
                return f"frame {ref.index} was captured before the transaction"
        if not set(self.used) <= set(self.seen):
            return "a frame compared was not among the frames seen"
        if self.referral is not None and self.referral not in self.used:
            return "the referral frame is not a frame compared"
        return None


@dataclass(frozen=True)
class FaceVerification:
    outcome: FaceOutcome
    match: bool
    liveness: Liveness
    distance: float | None
    threshold: float
    frames_used: int
    ms: float
    best_frame_jpeg: bytes | None = None  # kept only for a referral
    guidance: str | None = None
    # The frames the verdict rests on; the lane refuses a verdict without it.
    provenance: FrameProvenance | None = None


def verdict_problem(face: FaceVerification, mark: FrameRef | None) -> str | None:
    """Why the lane must not act on `face` (camera showed `mark` at the document's
    presentation); None when its frames are this transaction's own."""
    p = face.provenance
    if p is None:
        return "the face verdict names no frames"
    problem = p.problem(mark)
    if problem is not None:
        return problem
    if face.match and not p.used:
        return "a match compared no frame"
    if face.best_frame_jpeg is not None and p.referral is None:
        return "the referral image names no frame"
    return None


class FaceVerifier(Protocol):
    def verify(
        self, reference_rgb: npt.NDArray[np.uint8], camera: Camera, budget_s: float
    ) -> FaceVerification: ...


@dataclass(frozen=True, eq=False)
class ReferenceTicket:
    """A chip photo whose encoding has started, for one transaction only.

    The encoding is never reused: a ticket is good for one verification, and a
    newer ticket supersedes it (the verifier then encodes `image` afresh).
    """

    id: int
    image: npt.NDArray[np.uint8]


@runtime_checkable
class EarlyReferenceVerifier(FaceVerifier, Protocol):
    """A FaceVerifier that starts encoding the chip photo before the traveller is
    at the camera (as soon as DG2 is parsed), overlapping passive authentication."""

    def start_reference(self, reference_rgb: npt.NDArray[np.uint8]) -> ReferenceTicket: ...

    def verify_prepared(
        self, ticket: ReferenceTicket, camera: Camera, budget_s: float
    ) -> FaceVerification: ...


@dataclass(frozen=True)
class PolicyDecision:
    decision: Literal["admit", "refer"]
    basis: str | None
    reasons: tuple[str, ...]
    permitted_until: str | None
    pack_id: str
    pack_version: str
    trace: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


class EntryPolicy(Protocol):
    def evaluate(self, case: Case) -> PolicyDecision:
        """`case`: the typed policy case (its JSON form is docs/policy.md's)."""
        ...


# -- what the lane reports (kiosk.lane.machine -> kiosk.supervisor.agent) ------------
@dataclass(frozen=True)
class ReferralOpened:
    """The lane referred a traveller: the officer view of the decision, the chip's DG2
    and the frame the face decision used (None when there is none)."""

    transaction_id: str
    at: datetime
    officer: Mapping[str, Any]
    chip_photo: bytes | None  # DG2 as read
    frame_jpeg: bytes | None
    journey: Mapping[str, Any] | None


@dataclass(frozen=True)
class CommandResult:
    """What the lane did with an officer's command: executed, rejected or failed."""

    command_id: str
    kind: str
    result: str
    detail: str
    at: datetime


class LaneEventSink(Protocol):
    """Hears typed lane events on the lane thread; must return at once (store only)."""

    def lane_event(self, event: ReferralOpened | CommandResult) -> None: ...
