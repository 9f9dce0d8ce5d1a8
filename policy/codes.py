"""The vocabulary of a decision: outcomes, legal bases and reason codes.

These strings are part of the public case/decision contract (docs/policy.md):
add codes freely, never rename one.
"""

from __future__ import annotations

from typing import Final, Literal

Outcome = Literal["admit", "refer"]
Direction = Literal["entry", "exit"]

# Legal basis of an admission.
BASES: Final[tuple[str, ...]] = (
    "citizen",
    "visa",
    "visa_exemption",
    "transit_72h",
    "transit_144h",
    "transit_240h",
)
TRANSIT_BASES: Final[tuple[str, ...]] = ("transit_72h", "transit_144h", "transit_240h")

# Every reason a case is referred, in the order they are reported.
REASON_CODES: Final[tuple[str, ...]] = (
    # integrity of the run itself
    "case_invalid",
    "no_policy_in_force",
    "reference_data_stale",
    # document and traveller checks
    "chip_read_failed",
    "document_not_authentic",
    "chip_not_genuine",
    "document_not_accepted",
    "document_expired",
    "face_mismatch",
    "liveness_failed",
    "watchlist_hit",
    "under_minimum_age",
    # entry basis
    "no_entry_basis",
    "nationality_not_eligible",
    "port_not_designated",
    "transit_not_third_country",
    "no_onward_journey",
    "onward_not_confirmed",
    "onward_not_verified",
    "transit_exceeds_limit",
    "document_expires_before_departure",
    # exit
    "no_entry_record",
    "overstay",
)

# Codes the traveller must never be told about (the officer sees them).
SENSITIVE_CODES: Final[frozenset[str]] = frozenset({"watchlist_hit"})

_ORDER: Final[dict[str, int]] = {code: i for i, code in enumerate(REASON_CODES)}


def ordered_reasons(codes: set[str] | frozenset[str] | list[str]) -> tuple[str, ...]:
    """Deduplicate and sort codes into the documented reporting order."""
    unknown = [c for c in codes if c not in _ORDER]
    if unknown:
        raise ValueError(f"unknown reason code(s): {', '.join(sorted(unknown))}")
    return tuple(sorted(set(codes), key=_ORDER.__getitem__))
