"""Plain words for the codes the station shows (lane states, alerts, referral
reasons, actions and their reasons, document fields) and local times with the
port's zone. English here, other languages through Qt translations (context
"Supervisor" in ui/translations/egate_*.ts); the code itself goes in a detail line.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Final

from PySide6.QtCore import QCoreApplication

from kiosk.supervisor.reasons import REASONS

CONTEXT = "Supervisor"

STATES: Final[dict[str, str]] = {
    "idle": "Idle",
    "in_progress": "Traveller in the lane",
    "returning_document": "Traveller taking the passport back",
    "gate_open": "Gate open",
    "waiting_for_officer": "Waiting for an officer",
    "passport_left": "Passport left on the reader",
    "device_fault": "Device fault",
    "error": "Error",
    "closed": "Closed",
    "offline": "Offline",
    "unknown": "Unknown state",
}

ALERTS: Final[dict[str, str]] = {
    "watchlist": "Watchlist hit",
    "event_log_unavailable": "Event log unavailable",
    "device_fault": "Device fault",
    "gate_held_open": "Gate held open",
    "offline": "Lane not reporting",
    "unknown_state": "Unknown lane state",
    "error": "Lane error",
    "passport_left": "Passport left on the reader",
    "returning_document": "Passport not taken back",
    "waiting_for_officer": "Traveller waiting for an officer",
    "reference_data_stale": "Reference data out of date",
    "sync_backlog": "Events not yet sent to the border",
    "log_rolled_back": "Log rolled back",
    "log_forked": "Log forked",
    "log_key_missing": "Log key missing",
    "log_key_mismatch": "Log key does not match",
    "chain_break": "Log chain broken at the border",
    "event_id_taken": "Event id used twice",
    "kiosk_held": "Border holds the kiosk's events",
    "chain_stopped": "Border stopped taking the kiosk's events",
    "local_log_fault": "Kiosk found its log faulty",
    "log_diverged": "Kiosk log differs from the border",
    "outbox_fault": "Kiosk outbox faulty",
    "push_refused": "Border refused the kiosk's events",
    "entry_conflict": "Conflicting entry records",
    "border_alert": "Border alert",
    "log_key_rotated": "Log key rotated",
}

# policy.codes.REASON_CODES
REFERRAL_REASONS: Final[dict[str, str]] = {
    "case_invalid": "The kiosk's case data was invalid",
    "no_policy_in_force": "No entry policy in force",
    "reference_data_stale": "Reference data out of date",
    "chip_read_failed": "The passport chip could not be read",
    "document_not_authentic": "The document's signature did not verify",
    "chip_not_genuine": "The chip may be a copy",
    "document_not_accepted": "Document type not accepted",
    "document_expired": "Document expired",
    "face_mismatch": "Face does not match the passport photo",
    "liveness_failed": "Not a live face",
    "watchlist_hit": "Watchlist hit",
    "under_minimum_age": "Under the minimum age for the kiosk",
    "no_entry_basis": "No basis for entry",
    "nationality_not_eligible": "Nationality not eligible",
    "port_not_designated": "Port not designated for this entry",
    "transit_not_third_country": "Onward journey not to a third country",
    "no_onward_journey": "No onward journey",
    "onward_not_confirmed": "Onward journey not confirmed",
    "transit_exceeds_limit": "Stay exceeds the transit limit",
    "document_expires_before_departure": "Document expires before departure",
    "no_entry_record": "No entry record",
    "overstay": "Overstay",
}

ACTIONS: Final[dict[str, str]] = {
    "admit": "Admit",
    "refuse": "Refuse",
    "manual": "Send to the manual desk",
    "reset": "Reset the lane",
    "close": "Close the lane",
    "open": "Open the lane",
}

SHOWN_STATUS: Final[dict[str, str]] = {
    "open": "Open",
    "awaiting_second": "Needs a second officer",
    "command_pending": "Sent, waiting for the kiosk",
    "command_rejected": "Kiosk rejected the command",
    "command_failed": "Kiosk could not carry it out",
    "done": "Done",
}

FIELDS: Final[dict[str, str]] = {
    "document_number": "Document number",
    "document_code": "Document type",
    "issuing_state": "Issuing state",
    "nationality": "Nationality",
    "surname": "Surname",
    "given_names": "Given names",
    "birth_date": "Date of birth",
    "sex": "Sex",
    "expiry_date": "Date of expiry",
    "basis": "Entry basis",
    "arrived_from": "Arrived from",
    "onward_destination": "Onward destination",
    "onward_departure": "Onward departure",
    "onward_confirmed": "Onward journey confirmed",
    "permitted_until": "Permitted to stay until",
}

# Fixed phrases of the station's pages.
PHRASES: Final[tuple[str, ...]] = (
    "Connection to the border database lost - retrying",
    "Connection to the border database restored",
    "Choose an action",
    "Choose a reason",
    "Carry out",
    "Cancel",
    "Confirm the action",
    "Traveller",
    "Action",
    "Reason",
    "Your words",
    "Kiosk",
    "Lane",
    "Referred at",
    "Waiting",
    "Reasons",
    "Status",
    "State",
    "Alerts",
    "Traveller left the lane",
    "Type the reason in your own words (at least 10 characters)",
    "Acknowledge the border alert",
    "No border alert on this lane",
    "Alert",
    "Detail",
    "yes",
    "no",
)


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def _word(table: dict[str, str], code: str) -> str:
    english = table.get(code)
    return tr(english) if english is not None else code


def state(code: str) -> str:
    return _word(STATES, code)


def alert(code: str) -> str:
    return _word(ALERTS, code)


def referral_reason(code: str) -> str:
    return _word(REFERRAL_REASONS, code)


def action(code: str) -> str:
    return _word(ACTIONS, code)


def shown_status(code: str) -> str:
    return _word(SHOWN_STATUS, code)


def field(code: str) -> str:
    return _word(FIELDS, code)


def action_reason(kind: str, code: str) -> str:
    return _word(REASONS.get(kind, {}), code)


def every_english() -> list[str]:
    """Every English string this module and reasons.REASONS translate."""
    out = [*STATES.values(), *ALERTS.values(), *REFERRAL_REASONS.values()]
    out += [*ACTIONS.values(), *SHOWN_STATUS.values(), *FIELDS.values(), *PHRASES]
    out += [label for kinds in REASONS.values() for label in kinds.values()]
    return list(dict.fromkeys(out))


def local_time(at: datetime, zone: tzinfo, seconds: bool = True) -> str:
    """`at` in the port's zone, the zone shown: "2026-12-16 09:52:58 CST (UTC+08:00)"."""
    local = at.astimezone(zone)
    offset = local.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name = local.tzname() or ""
    label = utc if name in ("", "UTC") or name.startswith(("+", "-")) else f"{name} ({utc})"
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + f" {label}"


def plain_value(value: object, zone: tzinfo) -> str:
    """A value for the case page: ISO dates and times in local words, booleans as yes/no."""
    if isinstance(value, bool):
        return tr("yes") if value else tr("no")
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return local_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), zone)
    return "" if value is None else str(value)
