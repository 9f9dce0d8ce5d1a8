"""The lane: drives one traveller transaction at a time through the state machine.

`Lane` is synchronous and single-threaded: events go into its queue (from any
thread) and `run_pending()` processes them on the caller's thread, so tests
drive it step by step with a FakeClock. `LaneRunner` runs it on a worker
thread for the kiosk and the demo; the GUI thread never does lane work.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from devices.errors import CardRemovedError, ChipError, DeviceFault
from devices.protocols import Camera, ChipReadResult, DocumentReader, Gate, MrzSource
from kiosk.clock import Clock
from kiosk.config import Config
from kiosk.ports import (
    AuthenticityResult,
    DocumentAuthenticator,
    EarlyReferenceVerifier,
    EntryPolicy,
    FaceVerification,
    FaceVerifier,
    FrameRef,
    PolicyDecision,
    ReferenceTicket,
    verdict_problem,
)
from kiosk.store.event_log import EventLog, EventRecord
from kiosk.workflow.events import (
    Cancel,
    DeviceFailed,
    DocumentPlaced,
    DocumentRemoved,
    GatePassed,
    LaneEvent,
    SkipBoardingPass,
    Start,
)
from kiosk.workflow.facts import DocumentFacts, build_case, chip_genuine
from kiosk.workflow.snapshot import LaneObserver, LaneSnapshot
from kiosk.workflow.states import LaneState, TransactionMachine
from policy.codes import SENSITIVE_CODES

log = logging.getLogger(__name__)
S = LaneState

# Reasons the traveller must never be told (the policy's list: an officer
# handles them in person).
SENSITIVE_REASONS = SENSITIVE_CODES

JourneyLookup = Callable[[DocumentFacts, datetime], Mapping[str, Any] | None]
ReferenceFace = Callable[[Mapping[str, bytes]], npt.NDArray[np.uint8]]
FactsReader = Callable[[Mapping[str, bytes]], DocumentFacts]
Watchlist = Callable[[DocumentFacts], bool]
ReferralImageSink = Callable[[str, bytes], None]
# Watches the camera for a boarding pass until it is found, the time is up or
# `skipped()` turns true; returns the case's journey object from it, or None.
BoardingPassStep = Callable[
    [DocumentFacts, Camera, float, Callable[[], bool], datetime], Mapping[str, Any] | None
]


@dataclass
class LaneDevices:
    reader: DocumentReader
    mrz: MrzSource
    camera: Camera
    gate: Gate


@dataclass
class LaneServices:
    authenticator: DocumentAuthenticator
    face: FaceVerifier
    policy: EntryPolicy
    document_facts: FactsReader
    reference_face: ReferenceFace
    journey: JourneyLookup
    watchlist: Watchlist
    referral_images: ReferralImageSink | None = None
    boarding_pass: BoardingPassStep | None = None
    # Run between travellers (e.g. purge referral images past their retention).
    housekeeping: Callable[[], object] | None = None
    # Hours since the reference data (trust store, watchlist, packs) was last
    # confirmed current with the border database; None when unknown.
    reference_age_h: Callable[[datetime], float | None] = lambda _now: None
    # Exit lanes: the traveller's entry record from the border database.
    entry_record: Callable[[DocumentFacts], Mapping[str, Any] | None] = lambda _facts: None


@dataclass
class _Transaction:
    id: str
    started_at: datetime
    started_mono: float
    language: str
    document_mono: float | None = None
    facts: DocumentFacts | None = None
    chip: ChipReadResult | None = None
    authenticity: AuthenticityResult | None = None
    face: FaceVerification | None = None
    decision: PolicyDecision | None = None
    reasons: tuple[str, ...] = ()
    checks: dict[str, Any] = field(default_factory=dict)
    transaction_ms: float | None = None
    logged: bool = False  # its event is written (or queued for writing)
    # Face (docs/face.md, "Frame provenance"): the camera's newest frame when the
    # document was presented (a verdict may rest only on newer ones), the DG2 face
    # and the encoding started for it.
    camera_mark: FrameRef | None = None
    reference: npt.NDArray[np.uint8] | None = None
    reference_error: str | None = None
    face_ticket: ReferenceTicket | None = None


class Lane:
    def __init__(
        self,
        config: Config,
        devices: LaneDevices,
        services: LaneServices,
        event_log: EventLog,
        clock: Clock,
    ) -> None:
        self.config = config
        self.devices = devices
        self.services = services
        self.event_log = event_log
        self.clock = clock
        self.machine = TransactionMachine()
        self._events: queue.Queue[LaneEvent] = queue.Queue()
        self._observers: list[LaneObserver] = []
        self._tx: _Transaction | None = None
        self._skip_boarding_pass = threading.Event()
        self._state_since = clock.monotonic()
        self._unlogged: list[EventRecord] = []
        self.last_snapshot = LaneSnapshot(S.IDLE, None, config.kiosk.languages[0], "welcome")
        devices.reader.set_listener(self._on_reader)
        devices.gate.set_listener(self._on_gate)

    # -- inputs ---------------------------------------------------------
    def post(self, event: LaneEvent) -> None:
        """Thread-safe: queue an event for run_pending()."""
        if isinstance(event, SkipBoardingPass):
            self._skip_boarding_pass.set()  # seen by a scan already under way
        self._events.put(event)

    def _on_reader(self, kind: str) -> None:
        self.post(DocumentPlaced() if kind == "placed" else DocumentRemoved())

    def _on_gate(self, kind: str) -> None:
        if kind == "passed":
            self.post(GatePassed())
        elif kind == "fault":
            self.post(DeviceFailed("gate", "gate reported a fault"))

    def add_observer(self, observer: LaneObserver) -> None:
        self._observers.append(observer)

    @property
    def state(self) -> LaneState:
        return self.machine.state

    # -- processing -------------------------------------------------------
    def run_pending(self, block_s: float = 0.0) -> None:
        """Process queued events, waiting up to block_s for the first; then check timeouts."""
        try:
            event: LaneEvent | None = self._events.get(timeout=block_s) if block_s > 0 else (
                self._events.get_nowait()
            )
        except queue.Empty:
            event = None
        while event is not None:
            self._guarded(lambda e=event: self._handle(e))  # type: ignore[misc]
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                event = None
        self._guarded(self._check_timeouts)

    def _guarded(self, step: Callable[[], None]) -> None:
        # Nothing a device or pipeline does may crash the lane or leave the gate open.
        try:
            step()
        except Exception as exc:
            log.exception("lane step failed")
            self._fail("internal_error", f"{type(exc).__name__}: {exc}")

    def _handle(self, event: LaneEvent) -> None:
        state = self.machine.state
        if isinstance(event, DeviceFailed):
            if state is not S.IDLE:
                self._fail("device_fault", f"{event.device}: {event.detail}")
            return
        if isinstance(event, Cancel):
            if state is S.WAITING_FOR_DOCUMENT and self._tx is not None:
                self._log(self._tx, "aborted", error="cancelled: the traveller left")
                self._reset()
            return
        if isinstance(event, Start) and state is S.IDLE:
            self._begin(event.language)
        elif isinstance(event, DocumentPlaced):
            if state is S.IDLE:
                self._begin(self.config.kiosk.languages[0])
                state = self.machine.state
            if state is S.WAITING_FOR_DOCUMENT:
                self._process_document()
        elif isinstance(event, GatePassed) and state is S.ADMITTED:
            self._reset()
        elif isinstance(event, DocumentRemoved) and state is S.REFERRED:
            self._reset()  # the referred traveller took the passport to the officer
        # A removal mid-read surfaces as CardRemovedError from the reader itself.

    def _check_timeouts(self) -> None:
        t = self.config.timeouts
        waited = self.clock.monotonic() - self._state_since
        state = self.machine.state
        if state is S.WAITING_FOR_DOCUMENT and waited > t.document_s:
            self._fail("timeout", "no document was presented in time")
        elif state is S.ADMITTED and waited > t.gate_passage_s:
            self._reset()  # the traveller did not walk through: close and start over
        elif state is S.REFERRED and waited > t.result_display_s:
            self._reset()

    # -- the transaction ---------------------------------------------------
    def _move(self, to: LaneState, message: str, **extra: Any) -> None:
        self.machine.move(to, self.clock.now())
        self._state_since = self.clock.monotonic()
        self._notify(to, message, **extra)

    def _notify(self, to: LaneState, message: str, **extra: Any) -> None:
        tx = self._tx
        # Between travellers the lane speaks the kiosk's first language again.
        idle_language = self.config.kiosk.languages[0]
        snapshot = LaneSnapshot(
            state=to,
            transaction_id=tx.id if tx else None,
            language=tx.language if tx else idle_language,
            message=message,
            **extra,
        )
        self.last_snapshot = snapshot
        for observer in list(self._observers):
            try:
                observer.lane_changed(snapshot)
            except Exception:
                log.exception("lane observer failed")

    def _begin(self, language: str) -> None:
        self.machine.reset_history()
        self._tx = _Transaction(
            id=str(uuid.uuid4()),
            started_at=self.clock.now(),
            started_mono=self.clock.monotonic(),
            language=language,
        )
        self._move(S.WAITING_FOR_DOCUMENT, "place_passport")

    def _process_document(self) -> None:
        tx = self._tx
        assert tx is not None
        tx.document_mono = self.clock.monotonic()
        tx.camera_mark = FrameRef.of(self.devices.camera.latest())
        self._move(S.READING_CHIP, "reading_chip")
        try:
            key = self.devices.mrz.read_mrz()
            tx.chip = self.devices.reader.read(key)
        except CardRemovedError as exc:
            self._fail("card_removed", str(exc) or "the document was removed during reading")
            return
        except ChipError as exc:
            self._decide_without_policy(("chip_read_failed",), f"chip read failed: {exc}")
            return
        except DeviceFault as exc:
            self._fail("device_fault", f"reader: {exc}")
            return
        try:
            tx.facts = self.services.document_facts(tx.chip.files)
        except ChipError as exc:
            # Reported as the policy's chip_read_failed (a code every screen knows);
            # the detail goes to the officer and the log.
            self._decide_without_policy(("chip_read_failed",), f"DG1 unusable: {exc}")
            return
        self._start_face_reference(tx)  # encodes while the document is checked

        self._move(S.VERIFYING_DOCUMENT, "verifying_document")
        now = self.clock.now()
        tx.authenticity = self.services.authenticator.authenticate(tx.chip.files, now)
        genuine = chip_genuine(tx.chip)
        watch = self.services.watchlist(tx.facts)
        tx.checks = {
            "document_authentic": tx.authenticity.valid,
            "authenticity_reason": tx.authenticity.reason,
            "access_control": tx.chip.access_control,
            "chip_authentication": tx.chip.chip_authentication,
            "active_authentication": tx.chip.active_authentication,
            "chip_genuine": genuine,
            "watchlist_hit": watch,
        }
        # The face is compared even when the document failed: the officer who takes
        # the referral sees every check, and no reason is reported for a check not made.
        self._capture_face(tx)
        self._decide(tx)

    def _start_face_reference(self, tx: _Transaction) -> None:
        """Decode the DG2 face and, where the verifier can, start encoding it now,
        so the encoding overlaps passive authentication and the step to the camera."""
        assert tx.chip is not None
        try:
            tx.reference = self.services.reference_face(tx.chip.files)
        except (ChipError, ValueError) as exc:
            tx.reference_error = f"no usable DG2 face: {exc}"
            return
        face = self.services.face
        if isinstance(face, EarlyReferenceVerifier):
            tx.face_ticket = face.start_reference(tx.reference)

    def _capture_face(self, tx: _Transaction) -> None:
        assert tx.chip is not None
        self._move(S.CAPTURING_FACE, "look_at_camera")
        if tx.reference is None and tx.reference_error is None:
            self._start_face_reference(tx)
        if tx.reference is None:
            tx.checks["face_error"] = tx.reference_error
            return
        # A camera that showed nothing when the document was presented is marked now.
        mark = tx.camera_mark or FrameRef.of(self.devices.camera.latest())
        # The whole wait for a usable face is bounded by timeouts.face_s; the
        # verifier's own best-of-N window is face.budget_s (set when it was built).
        face = self.services.face
        listen = getattr(face, "set_listener", None)
        if callable(listen):  # guidance (too far, hold still ...) for the screen
            listen(lambda code: self._notify(S.CAPTURING_FACE, "look_at_camera", guidance=code))
        budget = self.config.timeouts.face_s
        try:
            if tx.face_ticket is not None and isinstance(face, EarlyReferenceVerifier):
                verdict = face.verify_prepared(tx.face_ticket, self.devices.camera, budget)
            else:
                verdict = face.verify(tx.reference, self.devices.camera, budget)
        finally:
            tx.face_ticket = None  # one verification per encoding, never another's
            tx.reference = None  # the chip photo is kept no longer than needed
            if callable(listen):
                listen(None)
        tx.checks.update(
            face_match=verdict.match,
            face_outcome=verdict.outcome,
            face_distance=verdict.distance,
            face_threshold=verdict.threshold,
            face_frames=verdict.frames_used,
            liveness=verdict.liveness,
        )
        problem = (
            "the camera showed no frame before the capture" if mark is None
            else verdict_problem(verdict, mark)
        )
        if problem is not None:
            # Never act on frames that may be someone else's: the verdict is void,
            # the traveller is referred (gate closed) and no image is kept.
            log.error("face verdict refused: %s", problem)
            tx.checks.update(face_match=False, face_provenance=f"refused: {problem}")
            tx.face = None
            return
        assert verdict.provenance is not None
        tx.checks.update(
            face_provenance="ok",
            face_frame_indices=[f.index for f in verdict.provenance.used],
        )
        tx.face = verdict

    @staticmethod
    def _face_trusted(tx: _Transaction) -> bool:
        """Only a face verdict whose frames are this transaction's own may admit."""
        return tx.face is not None and tx.checks.get("face_provenance") == "ok"

    def _decide(self, tx: _Transaction) -> None:
        assert tx.facts is not None
        self._move(S.DECIDING, "deciding")
        now = self.clock.now()
        journey = self.services.journey(tx.facts, now)
        tx.decision = self._evaluate(tx, now, journey)
        step = self.services.boarding_pass
        if step is not None and "no_onward_journey" in tx.decision.reasons:
            # No advance passenger information: ask for the boarding pass, then
            # decide again with what it says.
            self._skip_boarding_pass.clear()
            self._move(S.SCANNING_BOARDING_PASS, "show_boarding_pass")
            scanned = step(
                tx.facts,
                self.devices.camera,
                self.config.timeouts.boarding_pass_s,
                self._skip_boarding_pass.is_set,
                now,
            )
            tx.checks["boarding_pass"] = "scanned" if scanned else "not_scanned"
            self._move(S.DECIDING, "deciding")
            if scanned:
                tx.decision = self._evaluate(tx, self.clock.now(), scanned)
        tx.reasons = tuple(tx.decision.reasons)
        if tx.decision.permitted_until:
            # Exit lanes check overstays against this (border database entry record).
            tx.checks["permitted_until"] = tx.decision.permitted_until
        tx.transaction_ms = self._elapsed_ms(tx)
        if tx.decision.decision == "admit" and not tx.reasons and self._face_trusted(tx):
            self._admit(tx)
        else:
            self._refer(tx)

    def _evaluate(
        self, tx: _Transaction, now: datetime, journey: Mapping[str, Any] | None
    ) -> PolicyDecision:
        assert tx.facts is not None
        exit_record = (
            self.services.entry_record(tx.facts) if self.config.kiosk.direction == "exit" else None
        )
        case = build_case(
            self.config,
            now,
            tx.facts,
            tx.checks,
            tx.face,
            journey,
            reference_age_h=self.services.reference_age_h(now),
            entry_record=exit_record,
        )
        return self.services.policy.evaluate(case)

    def _decide_without_policy(self, reasons: tuple[str, ...], detail: str) -> None:
        # No trustworthy facts to give the policy: refer, never admit.
        tx = self._tx
        assert tx is not None
        self._move(S.DECIDING, "deciding")
        tx.reasons = reasons
        tx.checks["chip_error"] = detail
        tx.transaction_ms = self._elapsed_ms(tx)
        self._refer(tx)

    def _elapsed_ms(self, tx: _Transaction) -> float:
        start = tx.document_mono if tx.document_mono is not None else tx.started_mono
        return (self.clock.monotonic() - start) * 1000.0

    def _officer_view(self, tx: _Transaction) -> dict[str, Any]:
        d = tx.decision
        return {
            "decision": d.decision if d else "refer",
            "basis": d.basis if d else None,
            "reasons": list(tx.reasons),
            "permitted_until": d.permitted_until if d else None,
            "trace": list(d.trace) if d else [tx.checks.get("chip_error", "")],
            "checks": dict(tx.checks),
            "document": tx.facts.summary() if tx.facts else {},
        }

    def _admit(self, tx: _Transaction) -> None:
        try:
            self.devices.gate.open()
        except DeviceFault as exc:
            self._fail("device_fault", f"gate: {exc}")
            return
        # Logged before anyone hears of it: an outcome on screen is already on record.
        self.machine.move(S.ADMITTED, self.clock.now())
        self._state_since = self.clock.monotonic()
        self._log(tx, "admitted")
        self._notify(S.ADMITTED, "admitted", officer=self._officer_view(tx))

    def _refer(self, tx: _Transaction) -> None:
        safe = tuple(r for r in tx.reasons if r not in SENSITIVE_REASONS)
        self.machine.move(S.REFERRED, self.clock.now())
        self._state_since = self.clock.monotonic()
        self._log(tx, "referred")
        self._notify(S.REFERRED, "see_officer", traveller_reasons=safe,
                     officer=self._officer_view(tx))
        frame = tx.face.best_frame_jpeg if tx.face else None
        if frame is not None and self.services.referral_images is not None:
            self.services.referral_images(tx.id, frame)

    def _fail(self, code: str, detail: str) -> None:
        """The error path: gate closed, transaction logged as aborted, back to idle."""
        self._close_gate()
        tx = self._tx
        state = self.machine.state
        if state is S.IDLE and tx is None:
            return
        if state not in (S.ERROR, S.RESETTING):
            self._move(S.ERROR, f"error_{code}")
        if tx is not None and not tx.logged:
            tx.checks["error"] = detail
            self._log(tx, "aborted", error=f"{code}: {detail}")
        if self.machine.state is S.RESETTING:
            self._tx = None
            self._move(S.IDLE, "welcome")
        else:
            self._reset()

    def close_gate(self) -> None:
        """Close the gate whatever the state (shutdown, last-resort error handling)."""
        self._close_gate()

    def _close_gate(self) -> None:
        try:
            self.devices.gate.close()
        except Exception:
            log.exception("gate did not acknowledge close")

    def _reset(self) -> None:
        self._move(S.RESETTING, "resetting")
        self._close_gate()
        self._tx = None
        if self.services.housekeeping is not None:
            try:
                self.services.housekeeping()
            except Exception:
                log.exception("housekeeping failed")
        self._move(S.IDLE, "welcome")

    def _log(self, tx: _Transaction, outcome: str, error: str | None = None) -> None:
        d = tx.decision
        record = EventRecord(
            event_id=tx.id,
            kiosk_id=self.config.kiosk.id,
            port=self.config.kiosk.port,
            lane=self.config.kiosk.lane,
            direction=self.config.kiosk.direction,
            started_at=tx.started_at,
            finished_at=self.clock.now(),
            stages=self.machine.stamps(),
            outcome=outcome,
            decision=d.decision if d else ("refer" if outcome == "referred" else None),
            basis=d.basis if d else None,
            reasons=list(tx.reasons),
            policy_pack=d.pack_id if d else None,
            policy_version=d.pack_version if d else None,
            document=tx.facts.summary() if tx.facts else {},
            checks=tx.checks,
            transaction_ms=tx.transaction_ms,
            error=error,
        )
        tx.logged = True
        self._unlogged.append(record)
        self.flush_log()

    def flush_log(self) -> bool:
        """Write records the database refused earlier; True when none is left.

        A transaction is never lost to a storage fault: it waits in memory (and
        the lane keeps working) until the local database takes it again.
        """
        while self._unlogged:
            try:
                self.event_log.append(self._unlogged[0])
            except Exception:
                log.exception("event log write failed; %d record(s) held", len(self._unlogged))
                return False
            self._unlogged.pop(0)
        return True


class LaneRunner:
    """Runs a Lane on a worker thread until stop()."""

    def __init__(self, lane: Lane, poll_s: float = 0.05) -> None:
        self.lane = lane
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lane", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.lane.run_pending(self.poll_s)
            except Exception:  # the lane guards its steps; this is the last resort
                log.exception("lane runner survived an unexpected error")
                self.lane.close_gate()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.lane.close_gate()  # a kiosk shutting down never leaves the gate open
