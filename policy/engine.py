"""The decision engine: facts in (a case and the packs), decision out.

Pure: no I/O and no clock; the time of the check is the case's `now`. The kiosk
only ever admits or refers. Every rule that runs writes one plain-language line
to the trace, so the officer can see which rule produced which reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from policy.case import Case, Onward, parse_case
from policy.codes import TRANSIT_BASES, Outcome, ordered_reasons
from policy.counting import age_in_years, permitted_until
from policy.errors import NoPackInForce
from policy.messages import LANGUAGES, traveller_messages
from policy.pack import PolicyPack, TransitRule, select_pack

_SOURCES = {"api": "advance passenger information", "boarding_pass": "the boarding pass"}


@dataclass(frozen=True)
class Decision:
    decision: Outcome
    basis: str | None
    reasons: tuple[str, ...]
    permitted_until: datetime | None
    pack_id: str
    pack_version: str
    trace: tuple[str, ...]
    case_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented decision object (docs/policy.md)."""
        return {
            "decision": self.decision,
            "basis": self.basis,
            "reasons": list(self.reasons),
            "permitted_until": (self.permitted_until.isoformat() if self.permitted_until else None),
            "pack": {"id": self.pack_id, "version": self.pack_version},
            "trace": list(self.trace),
            "traveller_messages": {
                lang: traveller_messages(self.reasons, lang) for lang in LANGUAGES
            },
            "case_id": self.case_id,
        }


@dataclass
class _Run:
    case: Case
    pack: PolicyPack
    today: date
    reasons: set[str] = field(default_factory=set)
    trace: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.trace.append(text)

    def refer(self, code: str, text: str) -> None:
        self.reasons.add(code)
        self.trace.append(f"{text} -> refer ({code}).")

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.pack.tz).strftime("%Y-%m-%d %H:%M")


def _offset_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _reference_data(run: _Run, max_age_override: float | None) -> None:
    limit = run.pack.lane.reference_max_age_hours
    if max_age_override is not None:
        limit = min(limit, max_age_override)
    age = run.case.reference_age_hours
    if age is None:
        run.note("Reference data age was not given; its freshness was not checked.")
    elif math.isinf(age):
        run.refer(
            "reference_data_stale",
            "Reference data (trust store, watchlist, packs) has never been confirmed "
            "current with the border database",
        )
    elif age > limit:
        run.refer(
            "reference_data_stale",
            f"Reference data (trust store, watchlist, packs) is {age:.1f} h old, "
            f"older than the {limit:g} h allowed",
        )
    else:
        run.note(f"Reference data is {age:.1f} h old, within the {limit:g} h allowed.")


def _checks(run: _Run) -> None:
    c = run.case.checks
    if not c.chip_read:
        run.refer("chip_read_failed", "The passport chip could not be read")
    if c.document_authentic is True:
        run.note("Passive authentication: the chip data is signed by a trusted issuer.")
    else:
        why = "failed" if c.document_authentic is False else "was not reported"
        run.refer("document_not_authentic", f"Passive authentication {why}")
    if c.chip_genuine is None:
        run.note("The chip supports neither chip nor active authentication; nothing to verify.")
    elif c.chip_genuine:
        run.note("Chip/active authentication: the chip is genuine.")
    else:
        run.refer("chip_not_genuine", "Chip/active authentication failed (possible clone)")
    if c.face_match is True:
        run.note("Face verification: the live face matches the passport photo.")
    else:
        why = "does not match" if c.face_match is False else "was not verified against"
        run.refer("face_mismatch", f"The live face {why} the passport photo")
    if c.liveness is True:
        run.note("Liveness: a live person was presented.")
    else:
        why = "failed" if c.liveness is False else "was not reported"
        run.refer("liveness_failed", f"The liveness check {why}")
    if c.watchlist_hit is False:
        run.note("Watchlist: no hit.")
    elif c.watchlist_hit is True:
        run.refer("watchlist_hit", "Watchlist: the traveller matches an entry (do not disclose)")
    else:
        run.refer("watchlist_hit", "Watchlist: no result was reported, so a hit is not excluded")


def _document(run: _Run) -> None:
    d, lane = run.case.document, run.pack.lane
    accepted = any(
        d.document_code == code or (len(code) == 1 and d.document_code.startswith(code))
        for code in lane.document_codes
    )
    if accepted:
        run.note(f"Document code {d.document_code} is accepted at this lane.")
    else:
        run.refer(
            "document_not_accepted",
            f"Document code {d.document_code} is not one this lane accepts "
            f"({', '.join(lane.document_codes)})",
        )
    if d.expiry_date is None:
        run.refer("document_expired", "The document's expiry date is unknown")
    elif d.expiry_date < run.today:
        run.refer(
            "document_expired",
            f"The document expired on {d.expiry_date}, before today ({run.today})",
        )
    else:
        run.note(f"The document is valid today (expires {d.expiry_date}).")
    age = age_in_years(d.birth_date, run.today)
    minimum = lane.minimum_age_years
    if age is None:
        run.refer("under_minimum_age", "The birth date is unknown, so the minimum age is not shown")
    elif age < minimum:
        run.refer(
            "under_minimum_age", f"The traveller is {age}, under the lane minimum of {minimum}"
        )
    else:
        run.note(f"The traveller is {age}, at least the lane minimum of {minimum}.")


def _is_citizen(run: _Run) -> bool:
    d, lane = run.case.document, run.pack.lane
    if d.nationality in lane.citizen_nationalities and d.issuing_state == lane.home_state:
        run.note(f"Nationality {d.nationality} on a {lane.home_state} passport: a citizen.")
        return True
    return False


def _transit(run: _Run, rule: TransitRule) -> tuple[set[str], datetime]:
    """Check every transit condition; return the failed reasons and the stay's end."""
    case = run.case
    failed: set[str] = set()
    label = f"{rule.stay_hours}-hour transit"

    def fail(code: str, text: str) -> None:
        failed.add(code)
        run.note(f"{label}: {text} -> {code}.")

    nat = case.document.nationality
    group = rule.eligibility(nat, run.today)
    if group is not None:
        run.note(f"{label}: nationality {nat} is eligible (listed from {group.valid_from}).")
    else:
        later = rule.ever_eligible(nat)
        if later is not None and later.valid_from > run.today:
            fail(
                "nationality_not_eligible",
                f"nationality {nat} is eligible only from {later.valid_from}, "
                f"after today ({run.today})",
            )
        else:
            fail("nationality_not_eligible", f"nationality {nat} is not on the eligible list")

    if case.port in rule.entry_ports:
        run.note(f"{label}: {case.port} is a designated entry port.")
    else:
        fail("port_not_designated", f"{case.port} is not a designated entry port")

    until = permitted_until(case.now, rule.stay_hours, rule.counting, run.pack.tz)
    counted = (
        "from 00:00 of the day after entry"
        if rule.counting == "next_day_midnight"
        else "from the moment of entry"
    )
    confirmed = "" if rule.counting_confirmed else " (counting applied by analogy with 144 h)"
    run.note(
        f"{label}: {rule.stay_hours} h counted {counted}{confirmed}; "
        f"the traveller must leave before {run.local(until)} local time "
        f"(stay area: {rule.stay_area})."
    )
    _onward(run, rule, case.journey.onward, until, fail)
    return failed, until


def _onward(
    run: _Run,
    rule: TransitRule,
    onward: Onward | None,
    until: datetime,
    fail: Callable[[str, str], None],
) -> None:
    case, home = run.case, run.pack.lane.home_state
    if onward is None:
        fail("no_onward_journey", "no onward journey was found (API or boarding pass)")
        return
    src = f" (from {_SOURCES.get(onward.source, onward.source)})" if onward.source else ""
    flight = f"{onward.flight} " if onward.flight else ""
    run.note(
        f"Onward journey{src}: {flight}to {onward.destination or 'unknown'} from "
        f"{onward.departure_port or 'unknown port'} departing {run.local(onward.departure_time)}."
    )
    if onward.departure_time < case.now:
        fail("no_onward_journey", "the onward departure is earlier than the time of the check")
    if not onward.confirmed:
        fail("onward_not_confirmed", "the onward ticket has no confirmed date and seat")
    if onward.source == "boarding_pass" and not onward.verified:
        # Anyone can print a BCBP: without the carrier's signature (a key the
        # border distributes) it is a claim, not evidence of onward travel.
        fail(
            "onward_not_verified",
            "boarding pass shown, not verified (no carrier signature the border vouches "
            "for, no advance passenger information)",
        )

    origin, dest = case.journey.arrived_from, onward.destination
    if origin is None:
        fail("transit_not_third_country", "the country or region of arrival is unknown")
    elif origin == home:
        fail(
            "transit_not_third_country",
            f"the arrival is recorded as from {home}, not an international arrival",
        )
    if dest is None:
        fail("transit_not_third_country", "the onward destination is unknown")
    elif dest == home:
        fail("transit_not_third_country", f"the onward destination {dest} is not abroad")
    elif origin is not None and dest == origin:
        fail(
            "transit_not_third_country",
            f"arrived from {origin} and leaves for {dest}: the same country or region",
        )
    elif origin is not None:
        regions = " (a separate region)" if dest in rule.separate_regions else ""
        run.note(f"Third country: arrived from {origin}, leaves for {dest}{regions}.")

    if onward.departure_port is None:
        fail("port_not_designated", "the onward departure port is unknown")
    elif onward.departure_port not in rule.departure_ports:
        fail(
            "port_not_designated",
            f"departure from {onward.departure_port} is not from a designated port listed "
            f"in this pack ({', '.join(sorted(rule.departure_ports))})",
        )

    if onward.departure_time >= until:
        fail(
            "transit_exceeds_limit",
            f"departure at {run.local(onward.departure_time)} is not before {run.local(until)}",
        )
    expiry = case.document.expiry_date
    departure_day = onward.departure_time.astimezone(run.pack.tz).date()
    if expiry is None:
        fail(
            "document_expires_before_departure",
            "the document's expiry date is unknown, so validity until departure is not shown",
        )
    elif expiry < departure_day:
        fail(
            "document_expires_before_departure",
            f"the document expires on {expiry}, before the departure on {departure_day}",
        )


def _entry_basis(run: _Run) -> tuple[str | None, datetime | None]:
    case, pack = run.case, run.pack
    if _is_citizen(run):
        return "citizen", None
    nat = case.document.nationality
    visa = case.visa
    if visa is not None:
        if visa.valid_from <= run.today <= visa.valid_until:
            run.note(f"A visa valid {visa.valid_from} to {visa.valid_until} covers today.")
            return "visa", None
        run.note(f"The visa ({visa.valid_from} to {visa.valid_until}) is not valid today.")
    else:
        run.note("No visa was presented.")
    for ex in pack.visa_exemptions:
        if ex.covers(nat, run.today):
            until = permitted_until(case.now, ex.stay_days * 24, ex.counting, pack.tz)
            run.note(
                f"Visa exemption '{ex.name}' ({ex.kind}, from {ex.valid_from}) covers {nat}: "
                f"stay up to {ex.stay_days} days, leave before {run.local(until)}."
            )
            return "visa_exemption", until
    if pack.visa_exemptions:
        run.note(f"No visa-exemption arrangement in this pack covers {nat} today.")
    if pack.transit is None:
        run.note("This pack has no transit visa exemption.")
        run.refer("no_entry_basis", "No basis for entry was found")
        return None, None
    failed, until = _transit(run, pack.transit)
    if not failed:
        run.note(f"All {pack.transit.stay_hours}-hour transit conditions hold.")
        return pack.transit.basis, until
    run.reasons.update(failed)
    run.refer("no_entry_basis", "No basis for entry was found")
    return None, None


def _exit_basis(run: _Run) -> tuple[str | None, datetime | None]:
    case, pack = run.case, run.pack
    if _is_citizen(run):
        return "citizen", None
    record = case.entry_record
    if record is None:
        run.refer("no_entry_record", "No entry record was found for this document")
        return None, None
    run.note(
        f"Entry record: entered {run.local(record.entry_time)} at {record.port or 'unknown'} "
        f"on basis {record.basis or 'unknown'}."
    )
    until = record.permitted_until
    if until is None and record.basis in TRANSIT_BASES:
        # A transit entry always has an end; recompute it rather than skip the check.
        hours = int(record.basis.removeprefix("transit_").removesuffix("h"))
        counting = pack.transit.counting if pack.transit else "next_day_midnight"
        until = permitted_until(record.entry_time, hours, counting, pack.tz)
        run.note(
            f"The entry record gives no end of stay; {hours} h from the entry time "
            f"end at {run.local(until)}."
        )
    if until is None:
        run.note("The entry record sets no end of stay, so there is no overstay to check.")
    elif case.now >= until:
        run.refer(
            "overstay",
            f"The permitted stay ended at {run.local(until)}; it is now {run.local(case.now)}",
        )
    else:
        run.note(f"Within the permitted stay (until {run.local(until)}).")
    if record.basis is not None and record.basis.startswith("transit_") and pack.transit:
        if case.port in pack.transit.departure_ports:
            run.note(f"{case.port} is a designated departure port for transit travellers.")
        else:
            run.refer(
                "port_not_designated",
                f"A transit traveller must leave from a designated port; {case.port} is not one",
            )
    return record.basis, until


def decide(
    case: Case, pack: PolicyPack, *, max_reference_age_hours: float | None = None
) -> Decision:
    """Evaluate a parsed case against one pack (already chosen as in force)."""
    today = case.now.astimezone(pack.tz).date()
    run = _Run(case=case, pack=pack, today=today)
    until_text = f" until {pack.effective_until}" if pack.effective_until else ""
    run.note(
        f"Policy pack {pack.id} version {pack.version} (in force from {pack.effective_from}"
        f"{until_text}) applies at {case.port} on {today} ({_offset_text(pack.utc_offset)}); "
        f"direction: {case.direction}."
    )
    _reference_data(run, max_reference_age_hours)
    _checks(run)
    _document(run)
    if case.direction == "entry":
        basis, until = _entry_basis(run)
    else:
        basis, until = _exit_basis(run)
    reasons = ordered_reasons(run.reasons)
    admit = not reasons and (basis is not None or case.direction == "exit")
    if admit:
        run.note(f"Decision: admit on basis {basis or 'entry record'}.")
    else:
        run.note(f"Decision: refer to an officer ({', '.join(reasons)}).")
    return Decision(
        decision="admit" if admit else "refer",
        basis=basis if admit else None,
        reasons=reasons,
        permitted_until=until if admit else None,
        pack_id=pack.id,
        pack_version=pack.version,
        trace=tuple(run.trace),
        case_id=case.case_id,
    )


def evaluate(
    case: Mapping[str, Any] | Case,
    packs: Iterable[PolicyPack],
    *,
    max_reference_age_hours: float | None = None,
) -> Decision:
    """Parse `case` if needed, pick the pack in force, and decide.

    Raises CaseError for a malformed case and NoPackInForce when no pack covers
    the port on the date of the check.
    """
    parsed = case if isinstance(case, Case) else parse_case(case)
    pack = select_pack(packs, parsed.port, parsed.now)
    if pack is None:
        raise NoPackInForce(
            f"no valid policy pack covers port {parsed.port} on {parsed.now.isoformat()}"
        )
    return decide(parsed, pack, max_reference_age_hours=max_reference_age_hours)
