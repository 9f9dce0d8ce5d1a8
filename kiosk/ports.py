"""Interfaces of the services the lane workflow consumes.

The workflow depends on these, not on the implementations, so each pipeline
(passive authentication, face verification, policy) can be deepened or
replaced without touching the state machine; tests inject small fakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from devices.protocols import Camera


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
    "mismatch",
    "no_face",
    "multiple_faces",
    "no_reference_face",
    "liveness_failed",
    "camera_fault",
    "timeout",
]
Liveness = Literal["live", "attack", "inconclusive", "not_checked"]


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


class FaceVerifier(Protocol):
    def verify(
        self, reference_rgb: npt.NDArray[np.uint8], camera: Camera, budget_s: float
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
    def evaluate(self, case: Mapping[str, Any]) -> PolicyDecision:
        """`case` follows the public case format of docs/policy.md."""
        ...
