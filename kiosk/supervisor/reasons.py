"""Reason codes an officer picks for each action (plus free text), and how the
lane's states read on the overview."""

from __future__ import annotations

from typing import Final, Literal

ActionKind = Literal["admit", "refuse", "manual"]
LaneCommandKind = Literal["reset", "close", "open"]
CommandKind = Literal["admit", "refuse", "manual", "reset", "close", "open"]
CASE_ACTIONS: Final[tuple[ActionKind, ...]] = ("admit", "refuse", "manual")
LANE_COMMANDS: Final[tuple[LaneCommandKind, ...]] = ("reset", "close", "open")

# "other" always needs free text.
REASONS: Final[dict[str, dict[str, str]]] = {
    "admit": {
        "identity_confirmed": "Identity confirmed by the officer",
        "document_checked": "Document checked by hand and found genuine",
        "journey_confirmed": "Onward journey confirmed with the airline",
        "technical_fault": "Kiosk fault; traveller checked in person",
        "other": "Other (explain)",
    },
    "refuse": {
        "identity_not_confirmed": "Identity could not be confirmed",
        "document_invalid": "Document invalid or not genuine",
        "entry_conditions_not_met": "Entry conditions not met",
        "watchlist_confirmed": "Watchlist hit confirmed",
        "other": "Other (explain)",
    },
    "manual": {
        "interview_needed": "Needs an interview at the manual desk",
        "document_check": "Document needs a manual examination",
        "traveller_request": "The traveller asked for an officer",
        "technical_fault": "Kiosk fault",
        "other": "Other (explain)",
    },
    "reset": {
        "traveller_stuck": "Traveller stuck in the lane",
        "device_fault": "Device fault cleared",
        "other": "Other (explain)",
    },
    "close": {
        "maintenance": "Maintenance",
        "device_fault": "Device fault",
        "staffing": "No officer to supervise the lane",
        "other": "Other (explain)",
    },
    "open": {
        "maintenance_done": "Maintenance finished",
        "staffing": "Lane staffed again",
        "other": "Other (explain)",
    },
}

# The face comparison's outcome (kiosk.ports.FaceOutcome) in plain words for the
# officer, beside the two photos. Only "match" ever opened a gate.
FACE_OUTCOMES: Final[dict[str, str]] = {
    "match": "match",
    "match_uncertain": "UNCERTAIN: close, but not close enough to admit automatically "
    "(for faces this alike the model cannot rule out a different person); "
    "compare the photos yourself",
    "mismatch": "NO MATCH: probably a different person",
    "liveness_failed": "liveness check failed (photo, screen or no movement?)",
    "no_face": "no face seen at the camera",
    "multiple_faces": "more than one person at the camera",
    "no_reference_face": "no usable face in the passport photo",
    "camera_fault": "camera fault",
    "timeout": "no usable face in time",
}


def face_verdict(outcome: object, distance: float, threshold: float) -> str:
    """The officer's reading of a comparison: the outcome's text, else from the distance."""
    by_distance = "match" if distance <= threshold else "NO MATCH"
    if outcome == "liveness_failed":
        return f"{FACE_OUTCOMES['liveness_failed']}; comparison: {by_distance}"
    if isinstance(outcome, str) and outcome in FACE_OUTCOMES:
        return FACE_OUTCOMES[outcome]
    return by_distance


# Lane states (kiosk.workflow.states) as the overview shows them.
IN_PROGRESS = {
    "waiting_for_document",
    "reading_chip",
    "verifying_document",
    "capturing_face",
    "deciding",
    "scanning_boarding_pass",
    "resetting",
}


def overview_state(state: str, detail: str | None, in_service: bool, offline: bool) -> str:
    """idle, in_progress, waiting_for_officer, gate_open, device_fault, closed or offline."""
    if offline:
        return "offline"
    if not in_service:
        return "closed"
    if state == "referred":
        return "waiting_for_officer"
    if state == "admitted":
        return "gate_open"
    if state == "error":
        return "device_fault" if (detail or "").startswith("error_device") else "error"
    if state in IN_PROGRESS:
        return "in_progress"
    return "idle"


def check_reason(kind: str, code: str, text: str) -> tuple[str, str]:
    """(code, text) when `code` is in the list for `kind`; ValueError otherwise."""
    choices = REASONS.get(kind)
    if choices is None:
        raise ValueError(f"unknown action {kind!r}")
    if code not in choices:
        raise ValueError(f"{code!r} is not a reason for {kind} (have {', '.join(choices)})")
    text = text.strip()
    if code == "other" and not text:
        raise ValueError("reason 'other' needs an explanation")
    if len(text) > 1000:
        raise ValueError("the explanation is limited to 1000 characters")
    return code, text
