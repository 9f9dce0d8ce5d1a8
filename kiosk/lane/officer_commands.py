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
from collections.abc import Mapping
from typing import TYPE_CHECKING

from devices.errors import ChipDataError, ChipError, DeviceFault
from devices.protocols import ChipReadResult
from kiosk.ports import FrameRef, verdict_problem

if TYPE_CHECKING:
    from kiosk.lane.machine import Lane, _Transaction

log = logging.getLogger(__name__)
CASE_COMMANDS = ("admit", "refuse", "manual")
LANE_COMMANDS = ("reset", "close", "open")
PASSPORT_LEFT = "passport_left_reader"


def chip_fingerprint(files: Mapping[str, bytes]) -> str:
    """One digest over every file read from the chip (names and contents)."""
    h = hashlib.sha256()
    for name in sorted(files):
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
