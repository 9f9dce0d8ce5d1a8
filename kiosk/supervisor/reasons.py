"""Reason codes an officer picks for each action (plus free text), and how the
lane's states read on the overview."""

from __future__ import annotations

from typing import Final, Literal

from kiosk.lane.states import LaneState

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
    "liveness_inconclusive": "liveness could not be measured (too few frames or no "
    "measurable blink in the window); compare the photos and watch the traveller",
    "no_face": "no face seen at the camera",
    "multiple_faces": "more than one person at the camera",
    "no_reference_face": "no usable face in the passport photo",
    "camera_fault": "camera fault",
    "timeout": "no usable face in time",
}


def face_verdict(outcome: object, distance: float, threshold: float) -> str:
    """The officer's reading of a comparison: the outcome's text, else from the distance."""
    by_distance = "match" if distance <= threshold else "NO MATCH"
    if outcome in ("liveness_failed", "liveness_inconclusive"):
        return f"{FACE_OUTCOMES[outcome]}; comparison: {by_distance}"
    if isinstance(outcome, str) and outcome in FACE_OUTCOMES:
        return FACE_OUTCOMES[outcome]
    return by_distance


# Every lane state (kiosk.lane.states) as the overview shows it, spelled out one
# by one: a state added to the lane machine without a line here is "unknown" on the
# overview (and raises an alert) instead of passing for idle;
# tests/supervisor/test_overview.py fails on it.
OVERVIEW: Final[dict[LaneState, str]] = {
    LaneState.IDLE: "idle",
    LaneState.WAITING_FOR_DOCUMENT: "in_progress",
    LaneState.READING_CHIP: "in_progress",
    LaneState.VERIFYING_DOCUMENT: "in_progress",
    LaneState.CAPTURING_FACE: "in_progress",
    LaneState.DECIDING: "in_progress",
    LaneState.SCANNING_BOARDING_PASS: "in_progress",
    LaneState.RETURNING_DOCUMENT: "returning_document",
    LaneState.ADMITTED: "gate_open",
    LaneState.REFERRED: "waiting_for_officer",
    LaneState.ERROR: "error",  # device_fault when the lane names a device (below)
    LaneState.RESETTING: "in_progress",
    LaneState.DOCUMENT_LEFT: "passport_left",
}
OVERVIEW_STATES: Final[tuple[str, ...]] = (
    "idle",
    "in_progress",
    "returning_document",
    "gate_open",
    "waiting_for_officer",
    "passport_left",
    "device_fault",
    "error",
    "closed",
    "offline",
    "unknown",
)

# Alerts on the overview, most urgent first, with how loud they are: "alarm" (red,
# sound), "warning" (amber, sound once when it appears), "notice" (no sound).
ALERTS: Final[dict[str, str]] = {
    "watchlist": "alarm",
    "event_log_unavailable": "alarm",
    "device_fault": "alarm",
    "gate_held_open": "alarm",
    "offline": "alarm",
    "unknown_state": "alarm",
    # The border's alerts about a kiosk's log (issue 19, BORDER_ALERTS below).
    "log_rolled_back": "alarm",
    "log_forked": "alarm",
    "log_key_missing": "alarm",
    "log_key_mismatch": "alarm",
    "chain_break": "alarm",
    "event_id_taken": "alarm",
    "kiosk_held": "alarm",
    "chain_stopped": "alarm",
    "local_log_fault": "alarm",
    "log_diverged": "alarm",
    "outbox_fault": "warning",
    "push_refused": "warning",
    "entry_conflict": "warning",
    "border_alert": "warning",
    "error": "warning",
    "passport_left": "warning",
    "returning_document": "warning",
    "waiting_for_officer": "warning",
    "reference_data_stale": "warning",
    "sync_backlog": "notice",
    "log_key_rotated": "notice",
}
# kiosk_alerts.kind (the border: migrations b0002, b0005i; kiosk.border.chain) ->
# the overview alert. kiosk_logs.held_reason shows as kiosk_held and
# kiosk_chain_heads.stopped_at as chain_stopped until an administrator resumes.
BORDER_ALERTS: Final[dict[str, str]] = {
    "rollback": "log_rolled_back",
    "fork": "log_forked",
    "key_missing": "log_key_missing",
    "key_mismatch": "log_key_mismatch",
    "chain_break": "chain_break",
    "event_id_taken": "event_id_taken",
    "local_log": "local_log_fault",
    "diverged": "log_diverged",
    "outbox": "outbox_fault",
    "refused": "push_refused",
    "entry_conflict": "entry_conflict",
    "key_rotated": "log_key_rotated",
}


def border_alert_code(kind: str) -> str:
    """The overview alert of a border alert kind; a kind added later is never silent."""
    return BORDER_ALERTS.get(kind, "border_alert")


# The gate stays open this long for a traveller walking through; longer is held open.
GATE_HELD_S: Final = 15.0
# Taking the passport back takes seconds; longer means it lies forgotten.
RETURNING_ALERT_S: Final = 10.0


def overview_state(state: str, detail: str | None, in_service: bool, offline: bool) -> str:
    """The overview state (OVERVIEW_STATES) of a lane reporting `state`."""
    if offline:
        return "offline"
    if not in_service:
        return "closed"
    try:
        lane_state = LaneState(state)
    except ValueError:
        return "unknown"  # a newer kiosk, or a corrupt row: never "idle"
    shown = OVERVIEW[lane_state]
    if shown == "error" and (detail or "").startswith("error_device"):
        return "device_fault"
    return shown


def lane_alerts(
    shown: str,
    in_state_s: float,
    alarms: tuple[str, ...] = (),
    reference_age_h: float | None = None,
    stale_after_h: float = 24.0,
) -> list[str]:
    """The alerts (ALERTS codes, most urgent first) of a lane shown as `shown` for
    `in_state_s` seconds, with the lane's own alarms (e.g. event_log_unavailable)."""
    found = set(a for a in alarms if a in ALERTS)
    if shown in ("offline", "device_fault", "error", "waiting_for_officer", "passport_left"):
        found.add(shown)
    if shown == "unknown":
        found.add("unknown_state")
    if shown == "gate_open" and in_state_s > GATE_HELD_S:
        found.add("gate_held_open")
    if shown == "returning_document" and in_state_s > RETURNING_ALERT_S:
        found.add("returning_document")
    if reference_age_h is None or reference_age_h > stale_after_h:
        found.add("reference_data_stale")
    return [a for a in ALERTS if a in found]


# Admits after these referral reasons need the officer's own words, not only a code.
TYPED_REASON_NEEDED: Final = frozenset({"face_mismatch", "chip_not_genuine", "watchlist_hit"})
MIN_TYPED_REASON = 10


def needs_typed_reason(action: str, referral_reasons: tuple[str, ...] | list[str]) -> bool:
    return action == "admit" and bool(TYPED_REASON_NEEDED & set(referral_reasons))


def check_case_reason(
    action: str, code: str, text: str, referral_reasons: tuple[str, ...] | list[str]
) -> tuple[str, str]:
    """check_reason plus: an admit after face_mismatch, chip_not_genuine or watchlist_hit
    needs at least MIN_TYPED_REASON characters typed by the officer."""
    code, text = check_reason(action, code, text)
    if needs_typed_reason(action, referral_reasons) and len(text) < MIN_TYPED_REASON:
        raise ValueError(
            "admitting after "
            + ", ".join(sorted(TYPED_REASON_NEEDED & set(referral_reasons)))
            + f" needs the reason typed out (at least {MIN_TYPED_REASON} characters)"
        )
    return code, text


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
