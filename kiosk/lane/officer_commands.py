"""An officer's command at the lane (supervisor station, kiosk.supervisor.agent).

The lane carries out a command only when the agent verified its MAC (the border's
HMAC with this kiosk's key, kiosk.supervisor.command_mac), it is addressed to this
kiosk and, for a case command, names the referral the lane is still showing.
An admit then opens the gate only for the referred traveller: the passport must
never have left the reader since the referral, the chip is read again with the
referral's own access key and must be the same chip (same document number and
issuing state, the same bytes in every file read -- EF.SOD included, whose
signature covers every data group -- and the same chip/active authentication
results), and a fresh face capture must match that chip's photo with frames newer
than the command. Anything else is `rejected` with a reason the station shows,
and the gate stays closed. Every command is in the event log before the gate moves.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from devices.errors import ChipDataError, ChipError, DeviceFault
from devices.protocols import ChipReadResult
from kiosk.lane.events import OfficerCommand
from kiosk.lane.records import lane_record
from kiosk.lane.states import LaneState
from kiosk.ports import CommandResult, FrameRef, verdict_problem

if TYPE_CHECKING:
    from kiosk.lane.machine import Lane, _Transaction

log = logging.getLogger(__name__)
CASE_COMMANDS = ("admit", "refuse", "manual")
LANE_COMMANDS = ("reset", "close", "open")
PASSPORT_LEFT = "passport_left_reader"
S = LaneState


def carry_out(lane: Lane, cmd: OfficerCommand) -> None:
    """Carry out an officer's command: only an authenticated one, addressed here;
    a case command only for the referral still shown, and an admit only after
    re-verifying the referred traveller. The command is in the event log before
    the gate moves; an unlogged one changes nothing."""
    tx, state = lane._tx, lane.machine.state
    result, detail = "executed", ""
    if cmd.authentication != "verified":
        result, detail = "rejected", f"command not authenticated: {cmd.authentication}"
    elif cmd.kiosk_id != lane.config.kiosk.id:
        result, detail = "rejected", "addressed to another kiosk"
    elif cmd.kind in CASE_COMMANDS:
        if state is not S.REFERRED or tx is None or tx.id != cmd.transaction_id:
            result, detail = "rejected", "not the referral in progress at this lane"
        elif cmd.kind == "admit":
            lane._notify(S.REFERRED, "look_at_camera", officer=lane.last_snapshot.officer)
            problem = admit_problem(lane, tx)
            if problem is not None:
                result, detail = "rejected", problem
                _renotify_referred(lane)
    elif cmd.kind not in LANE_COMMANDS:
        result, detail = "rejected", f"unknown command {cmd.kind!r}"
    case = tx if cmd.kind in CASE_COMMANDS and result == "executed" else None
    if not _log_command(lane, cmd, case, result, detail) and result == "executed":
        result, detail = "failed", "the event log is unavailable; nothing was done"
        held = lane._unlogged[-1]  # written later, as what happened: nothing
        lane._unlogged[-1] = replace(
            held, checks={**held.checks, "result": result, "detail": detail}, error=detail
        )
    elif result == "executed":
        result, detail = _execute(lane, cmd, tx, state)
    if result != "executed":
        log.warning("officer command %s %s: %s", cmd.kind, result, detail)
    lane._report(CommandResult(cmd.command_id, cmd.kind, result, detail, lane.clock.now()))
    if cmd.done is not None:
        cmd.done(result, detail)


def _renotify_referred(lane: Lane) -> None:
    last = lane.last_snapshot
    lane._notify(
        S.REFERRED, "see_officer", traveller_reasons=last.traveller_reasons, officer=last.officer
    )


def _execute(
    lane: Lane, cmd: OfficerCommand, tx: _Transaction | None, state: LaneState
) -> tuple[str, str]:
    if cmd.kind == "admit":
        try:
            lane.devices.gate.open()
        except DeviceFault as exc:
            detail = f"gate: {exc}"
            _log_command(lane, cmd, tx, "failed", detail)
            lane._fail("device_fault", detail)
            return "failed", detail
        lane.machine.move(S.ADMITTED, lane.clock.now())
        lane._state_since = lane.clock.monotonic()
        lane._notify(S.ADMITTED, "admitted", officer={"admitted_by": cmd.officer_id})
    elif cmd.kind in ("refuse", "manual"):
        lane._reset()  # the officer takes the traveller; the lane is free
    elif cmd.kind == "open":
        lane.in_service = True
        lane._notify(state, lane.last_snapshot.message)
    else:
        lane.in_service = cmd.kind != "close"
        if tx is not None or state not in (S.IDLE, S.ERROR):
            lane._fail("officer_" + cmd.kind, f"{cmd.kind} by officer {cmd.officer_id}")
        else:  # nothing to abort (an error screen is already up): say it changed
            lane._renotify()
    return "executed", ""


def _log_command(
    lane: Lane, cmd: OfficerCommand, tx: _Transaction | None, result: str, detail: str
) -> bool:
    now = lane.clock.now()
    lane._unlogged.append(lane_record(
        lane.config.kiosk,
        event_id=str(uuid.uuid4()),  # a re-delivered command is a new entry, never a clash
        started_at=cmd.issued_at or now, finished_at=now, outcome="officer",
        decision=cmd.kind[:8], reasons=[cmd.reason],
        document=tx.facts.summary() if tx and tx.facts else {},
        checks={"command_id": cmd.command_id, "officer_id": cmd.officer_id,
                "second_officer_id": cmd.second_officer_id,
                "transaction_id": cmd.transaction_id, "reason_text": cmd.text,
                "authentication": cmd.authentication, "result": result, "detail": detail},
        error=None if result == "executed" else detail,
    ))  # fmt: skip
    return lane.flush_log()


def chip_fingerprint(files: Mapping[str, bytes]) -> str:
    """One digest over what identifies the chip: its data groups and EF.SOD, which signs
    them (names and contents). Files read before access control (EF.CardAccess) are not
    signed and prove nothing (a second read once lost it: devices/icao9303/reader.py)."""
    h = hashlib.sha256()
    for name in sorted(n for n in files if n == "EF.SOD" or n.startswith("DG")):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def admit_problem(lane: Lane, tx: _Transaction) -> str | None:
    """Why the referred traveller cannot be admitted now; None when the passport on
    the reader is the referred chip and the face at the camera matches its photo."""
    if tx.passport_left or not lane.document_present:
        return f"{PASSPORT_LEFT}: the passport left the reader after the referral"
    if tx.chip is None or tx.facts is None or tx.access_key is None:
        return "no_chip: the referral has no chip read to compare with"
    try:
        again: ChipReadResult = lane.devices.reader.read(tx.access_key)
        facts = lane.services.document_facts(again.files)
    except (ChipError, ChipDataError, DeviceFault) as exc:
        return f"chip_reread_failed: the passport on the reader is not the referred one ({exc})"
    if (facts.document_number, facts.issuing_state) != (
        tx.facts.document_number, tx.facts.issuing_state,
    ):  # fmt: skip
        return "other_document: the passport on the reader is a different document"
    if chip_fingerprint(again.files) != chip_fingerprint(tx.chip.files):
        return "other_chip: the chip on the reader differs from the referred one"
    if (again.chip_authentication, again.active_authentication) != (
        tx.chip.chip_authentication, tx.chip.active_authentication,
    ):  # fmt: skip
        return "chip_authentication_changed: the chip's authentication differs from the referral"
    return face_problem(lane, again)


def face_problem(lane: Lane, chip: ChipReadResult) -> str | None:
    try:
        reference = lane.services.reference_face(chip.files)
    except (ChipError, ValueError) as exc:
        return f"no_reference_face: {exc}"
    mark = FrameRef.of(lane.devices.camera.latest())
    verdict = lane.services.face.verify(reference, lane.devices.camera, lane.config.timeouts.face_s)
    problem = verdict_problem(verdict, mark) if mark is not None else "the camera shows nothing"
    if problem is not None:
        return f"face_unverified: {problem}"
    if not verdict.match:
        return (
            f"face_mismatch: the face at the lane does not match the chip photo ({verdict.outcome})"
        )
    return None
