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
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from devices.errors import (
    CardRemovedError,
    ChipDataError,
    ChipError,
    DeviceFault,
    MrzUnreadable,
)
from devices.protocols import (
    Camera,
    ChipReadResult,
    DocumentReader,
    EarlyFileReader,
    Gate,
    MrzKey,
    MrzSource,
)
from kiosk.clock import Clock
from kiosk.config import Config
from kiosk.decision.policy_adapter import case_invalid
from kiosk.lane.events import (
    Cancel,
    ChangeLanguage,
    DeviceFailed,
    DocumentPlaced,
    DocumentRemoved,
    GatePassed,
    LaneEvent,
    OfficerCommand,
    SkipBoardingPass,
    Start,
)
from kiosk.lane.facts import DocumentFacts, anti_cloning, build_case
from kiosk.lane.officer_commands import carry_out
from kiosk.lane.records import lane_record
from kiosk.lane.snapshot import LaneObserver, LaneSnapshot
from kiosk.lane.states import LaneState, TransactionMachine
from kiosk.ports import (
    AuthenticityResult,
    CommandResult,
    DocumentAuthenticator,
    EarlyReferenceVerifier,
    EntryPolicy,
    FaceVerification,
    FaceVerifier,
    FrameRef,
    LaneEventSink,
    PolicyDecision,
    ReferenceTicket,
    ReferralOpened,
    verdict_problem,
)
from kiosk.store.event_log import EventLog, EventRecord
from policy.codes import SENSITIVE_CODES
from policy.errors import CaseError
from policy.messages import language_for_nationality

# Reasons the document decides on its own (with the nationality and the date): no
# face and no boarding pass can lift them, so the traveller is referred without
# those steps (issue 22). Journey-dependent reasons are not here.
DOCUMENT_REFERRALS = frozenset({
    "document_not_authentic", "chip_not_genuine", "document_not_accepted", "document_expired",
    "nationality_not_eligible", "under_minimum_age",
})
FACE_REASONS = frozenset({"face_mismatch", "liveness_failed"})

log = logging.getLogger(__name__)
S = LaneState

# Reasons the traveller must never be told (the policy's list: an officer
# handles them in person).
SENSITIVE_REASONS = SENSITIVE_CODES
# The local event log refuses writes: no admission can be put on record.
ALARM_EVENT_LOG = "event_log_unavailable"

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
    offered_language: str | None = None  # from the passport's nationality
    document_mono: float | None = None
    facts: DocumentFacts | None = None
    chip: ChipReadResult | None = None
    authenticity: AuthenticityResult | None = None
    # The typed results the policy case is built from (tx.checks has them for the log).
    chip_genuine: bool | None = None
    watchlist_hit: bool = False
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
    # For an officer's admit (kiosk.lane.officer_commands): the key the chip was
    # read with, the journey looked up, and whether the passport left the reader
    # since the referral (which closes the admit window for good).
    access_key: MrzKey | None = None
    journey: Mapping[str, Any] | None = None
    passport_left: bool = False
    chip_io_ms: float | None = None  # the reader's read call: device-bound time
    face_attempt: int = 1  # the try at the camera under way (face.attempts)
    # Exit lanes: the entry record, looked up once (the policy may be asked twice).
    entry_record: Mapping[str, Any] | None = None
    entry_record_read: bool = False
    early_dg2: bytes | None = None  # the DG2 whose encoding began during the read


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
        self._sinks: list[LaneEventSink] = []
        self._tx: _Transaction | None = None
        self._skip_boarding_pass = threading.Event()
        self._state_since = clock.monotonic()
        self._unlogged: list[EventRecord] = []
        self._alarms: dict[str, str] = {}
        self.in_service = True  # False while an officer has closed the lane
        self._language = config.kiosk.languages[0]
        # Follows the reader's placed/removed events in the order they are handled.
        self._document_present = self._reader_has_document()
        self.last_snapshot = LaneSnapshot(
            S.IDLE, None, self._language, "welcome", direction=config.kiosk.direction
        )
        devices.reader.set_listener(self._on_reader)
        if isinstance(devices.reader, EarlyFileReader):
            devices.reader.set_file_listener(self._on_chip_file)
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

    def add_event_sink(self, sink: LaneEventSink) -> None:
        """Typed lane events (a referral opened, a command's result) for the agent."""
        self._sinks.append(sink)

    def _report(self, event: ReferralOpened | CommandResult) -> None:
        for sink in list(self._sinks):
            try:
                sink.lane_event(event)
            except Exception:
                log.exception("lane event sink failed")

    @property
    def document_present(self) -> bool:
        """A document is on the reader now (the events so far and the reader agree)."""
        return self._document_present and self._reader_has_document()

    def remove_observer(self, observer: LaneObserver) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

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
        if isinstance(event, OfficerCommand):
            carry_out(self, event)
            return
        if not self.in_service and isinstance(event, Start | DocumentPlaced):
            return  # closed by an officer: no new traveller
        if isinstance(event, DeviceFailed):
            if state not in (S.IDLE, S.DOCUMENT_LEFT):
                self._fail("device_fault", f"{event.device}: {event.detail}")
            return
        if isinstance(event, Cancel):
            if state is S.WAITING_FOR_DOCUMENT and self._tx is not None:
                self._log(self._tx, "aborted", error="cancelled: the traveller left")
                self._reset()
            elif state is S.ERROR:
                self._reset()  # "start again" touched: no need to wait out the screen
            return
        if isinstance(event, ChangeLanguage):
            self._change_language(event.language)
        elif isinstance(event, Start):
            if state is S.ERROR and not self._document_present:
                self._reset()
                state = self.machine.state
            if state is S.IDLE:
                self._begin(event.language)
            elif state is S.DOCUMENT_LEFT:
                self._renotify()  # the left passport must be taken first
        elif isinstance(event, DocumentPlaced):
            self._document_present = True
            if state is S.IDLE:
                self._begin(self._language)
                state = self.machine.state
            if state is S.WAITING_FOR_DOCUMENT:
                self._process_document()
            elif state in (S.REFERRED, S.ERROR):
                self._renotify()  # observers (station, journal) see a document is back
        elif isinstance(event, DocumentRemoved):
            # A removal mid-read surfaces as CardRemovedError from the reader itself.
            self._document_present = False
            self._document_taken(state)
        elif isinstance(event, GatePassed) and state is S.ADMITTED:
            self._reset()

    def _document_taken(self, state: LaneState) -> None:
        if state is S.RETURNING_DOCUMENT and self._tx is not None:
            self._admit(self._tx)  # the passport is back in hand: now the gate opens
        elif state is S.REFERRED:
            if self._tx is not None:
                self._tx.passport_left = True  # no officer admit for this referral now
            # The referral text stays result_display_s from now, readable on the way.
            self._state_since = self.clock.monotonic()
            self._renotify()
        elif state is S.ERROR:
            self._renotify()
        elif state is S.DOCUMENT_LEFT:
            self._move(S.IDLE, "welcome")

    def _change_language(self, language: str) -> None:
        if language not in self.config.kiosk.languages:
            log.warning("language %r is not offered by this lane", language)
            return
        self._language = language
        if self._tx is not None:
            self._tx.language = language
        self._renotify()

    def _renotify(self) -> None:
        last = self.last_snapshot
        self._notify(last.state, last.message, traveller_reasons=last.traveller_reasons,
                     guidance=last.guidance, officer=last.officer, attempt=last.attempt)

    def _reader_has_document(self) -> bool:
        try:
            return bool(self.devices.reader.document_present())
        except Exception:
            log.exception("reader presence check failed")
            return False

    def _deadline_s(self, state: LaneState) -> float | None:
        """How long the traveller has in `state` (shown as a countdown)."""
        t = self.config.timeouts
        return {
            S.WAITING_FOR_DOCUMENT: t.document_s,
            S.CAPTURING_FACE: t.face_s,
            S.SCANNING_BOARDING_PASS: t.boarding_pass_s,
            S.RETURNING_DOCUMENT: t.document_return_s,
            S.ADMITTED: t.gate_passage_s,
            S.ERROR: t.error_display_s,
            S.REFERRED: t.document_return_s if self._document_present else t.result_display_s,
        }.get(state)

    def _check_timeouts(self) -> None:
        """The inactivity timeout of every step a traveller can stall in; each ends
        on the welcome screen (or the passport-left screen) with the data gone."""
        t = self.config.timeouts
        waited = self.clock.monotonic() - self._state_since
        state = self.machine.state
        if state is S.WAITING_FOR_DOCUMENT and waited > t.document_s:
            self._fail("timeout", "no document was presented in time")
        elif state is S.RETURNING_DOCUMENT and waited > t.document_return_s:
            # Admitted but the passport was never taken: the gate stays closed.
            tx = self._tx
            if tx is not None and not tx.logged:
                self._log(tx, "aborted", error="document_left: the passport was not taken back")
            self._reset()
        elif state is S.ADMITTED and waited > t.gate_passage_s:
            self._reset()  # the traveller did not walk through: close and start over
        elif state is S.REFERRED:
            limit = t.document_return_s if self._document_present else t.result_display_s
            if waited > limit:
                self._reset()
        elif state is S.ERROR and waited > t.error_display_s:
            self._reset()

    # -- the transaction ---------------------------------------------------
    def _move(self, to: LaneState, message: str, **extra: Any) -> None:
        self.machine.move(to, self.clock.now())
        self._state_since = self.clock.monotonic()
        self._notify(to, message, **extra)

    def _notify(self, to: LaneState, message: str, **extra: Any) -> None:
        tx = self._tx
        # Between travellers the lane speaks the kiosk's first language again (_reset).
        snapshot = LaneSnapshot(
            state=to,
            transaction_id=tx.id if tx else None,
            language=tx.language if tx else self._language,
            message=message,
            document_on_reader=self._document_present,
            offered_language=tx.offered_language if tx else None,
            direction=self.config.kiosk.direction,
            deadline_s=self._deadline_s(to),
            steps=self._steps(),
            **extra,
        )
        self.last_snapshot = snapshot
        for observer in list(self._observers):
            try:
                observer.lane_changed(snapshot)
            except Exception:
                log.exception("lane observer failed")

    def _steps(self) -> tuple[str, ...]:
        """The step indicator's plan: the boarding-pass step wherever this lane may ask
        for one (shown as done when a traveller's journey is already known)."""
        if self.services.boarding_pass is not None:
            return ("passport", "face", "boarding_pass", "gate")
        return ("passport", "face", "gate")

    def _begin(self, language: str) -> None:
        if language in self.config.kiosk.languages:
            self._language = language
        language = self._language
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
            tx.access_key = key
            read_from = self.clock.monotonic()
            tx.chip = self.devices.reader.read(key)
            tx.chip_io_ms = (self.clock.monotonic() - read_from) * 1000.0
        except CardRemovedError as exc:
            self._fail("card_removed", str(exc) or "the document was removed during reading")
            return
        except (ChipError, ChipDataError) as exc:  # wrong answers or malformed files
            self._decide_without_policy(("chip_read_failed",), f"chip read failed: {exc}")
            return
        except MrzUnreadable as exc:  # the page, not the device: lay it again
            self._fail("mrz_unreadable", f"MRZ: {exc}")
            return
        except DeviceFault as exc:
            self._fail("device_fault", f"reader: {exc}")
            return
        try:
            tx.facts = self.services.document_facts(tx.chip.files)
        except (ChipError, ChipDataError) as exc:
            # Reported as the policy's chip_read_failed (a code every screen knows);
            # the detail goes to the officer and the log.
            self._decide_without_policy(("chip_read_failed",), f"DG1 unusable: {exc}")
            return
        tx.offered_language = language_for_nationality(
            tx.facts.nationality, self.config.kiosk.languages
        )
        self._start_face_reference(tx)  # encodes while the document is checked

        self._move(S.VERIFYING_DOCUMENT, "verifying_document")
        now = self.clock.now()
        tx.authenticity = self.services.authenticator.authenticate(tx.chip.files, now)
        genuine = anti_cloning(tx.chip)
        watch = self.services.watchlist(tx.facts)
        tx.chip_genuine, tx.watchlist_hit = genuine.genuine, bool(watch)
        tx.checks = {
            "document_authentic": tx.authenticity.valid,
            "authenticity_reason": tx.authenticity.reason,
            "access_control": tx.chip.access_control,
            "chip_authentication": tx.chip.chip_authentication,
            "active_authentication": tx.chip.active_authentication,
            "chip_genuine": genuine.genuine,
            "chip_genuine_reason": genuine.reason,
            "watchlist_hit": watch,
            "chip_io_ms": round(tx.chip_io_ms or 0.0, 1),  # the timing split (simulate lane)
        }
        if self._document_refers(tx):
            # Referred whatever the face or a boarding pass would show: the traveller
            # is not made to do those steps first. The face is still compared where
            # the officer station wants one for such referrals (face.for_document_referrals).
            if self.config.face.for_document_referrals:
                self._capture_face(tx)
            else:
                tx.face_ticket, tx.reference = None, None  # the chip photo is not needed
                tx.checks["face_capture"] = "skipped: the document decides a referral"
            self._decide(tx, document_refers=True)
            return
        # The face is compared even when the document failed: the officer who takes
        # the referral sees every check, and no reason is reported for a check not made.
        self._capture_face(tx)
        self._decide(tx)

    def _document_refers(self, tx: _Transaction) -> bool:
        """Does the policy refer this document before any face or journey is known?
        Only reasons no later step can lift count (DOCUMENT_REFERRALS)."""
        early = self._evaluate(tx, self.clock.now(), None)
        return early.decision == "refer" and bool(DOCUMENT_REFERRALS & set(early.reasons))

    def _on_chip_file(self, name: str, raw: bytes) -> None:
        """DG2 is read first (devices.icao9303.reader early_files): start encoding its
        face while the rest of the chip is read. Nothing is decided on it until the
        read is complete and the same DG2 is among the files passive authentication
        checks (_start_face_reference)."""
        tx = self._tx
        if name != "DG2" or tx is None or self.machine.state is not S.READING_CHIP:
            return
        if not isinstance(self.services.face, EarlyReferenceVerifier):
            return
        try:
            tx.reference = self.services.reference_face({"DG2": raw})
        except (ChipError, ValueError):
            tx.reference = None  # reported after the read, by the usual path
            return
        tx.early_dg2 = raw
        tx.face_ticket = self.services.face.start_reference(tx.reference)

    def _start_face_reference(self, tx: _Transaction) -> None:
        """Decode the DG2 face and, where the verifier can, start encoding it now,
        so the encoding overlaps passive authentication and the step to the camera
        (unless it began during the read, on this very DG2)."""
        assert tx.chip is not None
        if tx.face_ticket is not None and tx.early_dg2 == tx.chip.files.get("DG2"):
            return
        tx.face_ticket, tx.early_dg2 = None, None
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
            listen(lambda code: self._notify(S.CAPTURING_FACE, "look_at_camera", guidance=code,
                                             attempt=tx.face_attempt))
        budget = self.config.timeouts.face_s
        try:
            for attempt in range(1, self.config.face.attempts + 1):
                if tx.face_ticket is not None and isinstance(face, EarlyReferenceVerifier):
                    ticket, tx.face_ticket = tx.face_ticket, None  # one verification each
                    verdict = face.verify_prepared(ticket, self.devices.camera, budget)
                else:
                    verdict = face.verify(tx.reference, self.devices.camera, budget)
                tx.checks["face_attempts"] = attempt
                tx.face_attempt = attempt
                if verdict.outcome != "no_face" or attempt == self.config.face.attempts:
                    break
                # Nobody at the camera: another try with a fresh countdown, asking the
                # traveller to step in front of it (never a referral for an empty camera
                # at the first try).
                self._state_since = self.clock.monotonic()
                tx.face_attempt = attempt + 1
                self._notify(S.CAPTURING_FACE, "look_at_camera", guidance="no_face",
                             attempt=tx.face_attempt)
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

    def _decide(self, tx: _Transaction, document_refers: bool = False) -> None:
        assert tx.facts is not None
        self._move(S.DECIDING, "deciding")
        now = self.clock.now()
        journey = self.services.journey(tx.facts, now)
        tx.journey = journey
        tx.decision = self._evaluate(tx, now, journey)
        step = self.services.boarding_pass
        if step is not None and not document_refers and (
            "no_onward_journey" in tx.decision.reasons
        ):
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
                tx.journey = scanned
                tx.decision = self._evaluate(tx, self.clock.now(), scanned)
        tx.reasons = tuple(tx.decision.reasons)
        if document_refers and tx.face is None and not self.config.face.for_document_referrals:
            # No reason for a check not made: the officer sees the document's reasons.
            tx.reasons = tuple(r for r in tx.reasons if r not in FACE_REASONS)
        if tx.decision.permitted_until:
            # Exit lanes check overstays against this (border database entry record).
            tx.checks["permitted_until"] = tx.decision.permitted_until
        tx.transaction_ms = self._elapsed_ms(tx)
        if document_refers:
            self._refer(tx)  # never an admission on this path, whatever was stripped
        elif tx.decision.decision == "admit" and not tx.reasons and self._face_trusted(tx):
            self._return_document(tx)
        else:
            self._refer(tx)

    def _evaluate(
        self, tx: _Transaction, now: datetime, journey: Mapping[str, Any] | None
    ) -> PolicyDecision:
        assert tx.facts is not None
        if self.config.kiosk.direction == "exit" and not tx.entry_record_read:
            tx.entry_record, tx.entry_record_read = self.services.entry_record(tx.facts), True
        exit_record = tx.entry_record
        try:
            case = build_case(
                self.config,
                now,
                tx.facts,
                document_authentic=tx.authenticity is not None and bool(tx.authenticity.valid),
                chip_genuine=tx.chip_genuine,
                watchlist_hit=tx.watchlist_hit,
                face=tx.face,
                journey=journey,
                reference_age_h=self.services.reference_age_h(now),
                entry_record=exit_record,
            )
        except CaseError as exc:
            return case_invalid(exc)
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
        # The gate opens only on an outcome already on record: the admitted event
        # is committed to the local log first. A log that refuses it refers the
        # traveller with the gate closed and raises the event-log alarm.
        at = self.clock.now()
        if not self._log(tx, "admitted", entering=(S.ADMITTED, at)):
            self._unlogged = [r for r in self._unlogged if r.event_id != tx.id]
            tx.checks["policy_decision"] = {
                "decision": "admit", "basis": tx.decision.basis if tx.decision else None,
            }
            tx.checks["alarm"] = ALARM_EVENT_LOG
            self._refer(tx)
            return
        self.machine.move(S.ADMITTED, at)
        self._state_since = self.clock.monotonic()
        try:
            self.devices.gate.open()
        except DeviceFault as exc:
            # The admission is on record but the traveller cannot pass: a second
            # event says so (the log is append-only), then the error path.
            self._log_follow_up(tx, f"device_fault: gate: {exc}")
            self._fail("device_fault", f"gate: {exc}")
            return
        officer = self._officer_view(tx)
        if self.alarms:  # an older record still held: the officer must know
            officer["alarms"] = dict(self.alarms)
        self._notify(S.ADMITTED, "admitted", officer=officer)

    def _refer(self, tx: _Transaction) -> None:
        safe = tuple(r for r in tx.reasons if r not in SENSITIVE_REASONS)
        self.machine.move(S.REFERRED, self.clock.now())
        self._state_since = self.clock.monotonic()
        self._log(tx, "referred")
        officer = self._officer_view(tx)
        if self.alarms:
            officer["alarms"] = dict(self.alarms)
        self._notify(S.REFERRED, "see_officer", traveller_reasons=safe, officer=officer)
        frame = tx.face.best_frame_jpeg if tx.face else None
        if frame is not None and self.services.referral_images is not None:
            self.services.referral_images(tx.id, frame)
        self._report(ReferralOpened(
            transaction_id=tx.id, at=self.clock.now(), officer=officer,
            chip_photo=tx.chip.files.get("DG2") if tx.chip else None, frame_jpeg=frame,
            journey=tx.journey,
        ))  # fmt: skip

    def _return_document(self, tx: _Transaction) -> None:
        """Admitted: "take your passport" first; the gate opens once it is taken."""
        self._move(S.RETURNING_DOCUMENT, "take_passport")
        if not self._document_present:
            self._admit(tx)

    def _fail(self, code: str, detail: str) -> None:
        """The error path: gate closed, transaction logged as aborted, the error
        screen (with the way forward) for timeouts.error_display_s, then idle."""
        self._close_gate()
        tx = self._tx
        state = self.machine.state
        if state in (S.IDLE, S.DOCUMENT_LEFT) and tx is None:
            return
        if state not in (S.ERROR, S.RESETTING):
            self._move(S.ERROR, f"error_{code}")
        if tx is not None and not tx.logged:
            tx.checks["error"] = detail
            self._log(tx, "aborted", error=f"{code}: {detail}")
        # The error screen needs none of the traveller's data: drop it now.
        self._tx = None
        if self.machine.state is S.RESETTING:
            self._finish_reset()

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
        self._finish_reset()

    def _finish_reset(self) -> None:
        self._tx = None
        self._language = self.config.kiosk.languages[0]
        if self._document_present:
            self._move(S.DOCUMENT_LEFT, "passport_left")
        else:
            self._move(S.IDLE, "welcome")

    def _log(
        self,
        tx: _Transaction,
        outcome: str,
        error: str | None = None,
        entering: tuple[LaneState, datetime] | None = None,
    ) -> bool:
        """Commit the transaction's event; True when it is in the local log now
        (False: it is held in memory for flush_log and the alarm is up).
        `entering`: the state the lane moves to once the event is on record."""
        d = tx.decision
        stages = self.machine.stamps()
        if entering is not None:
            stages.setdefault(entering[0].value, entering[1].isoformat())
        referred_admit = outcome == "referred" and d is not None and d.decision == "admit"
        record = self._record(
            tx,
            event_id=tx.id,
            stages=stages,
            outcome=outcome,
            decision="refer" if referred_admit else (
                d.decision if d else ("refer" if outcome == "referred" else None)
            ),
            basis=None if referred_admit else (d.basis if d else None),
            checks=dict(tx.checks),
            error=error,
        )
        tx.logged = True
        self._unlogged.append(record)
        self.flush_log()
        return all(r.event_id != record.event_id for r in self._unlogged)

    def _log_follow_up(self, tx: _Transaction, error: str) -> None:
        # A second event for a transaction already on record (append-only log).
        self._unlogged.append(self._record(
            tx, event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"egate:follow-up:{tx.id}")),
            stages=self.machine.stamps(), outcome="aborted",
            checks={**tx.checks, "follows_event": tx.id}, error=error,
        ))  # fmt: skip
        self.flush_log()

    def _record(
        self,
        tx: _Transaction,
        *,
        event_id: str,
        stages: dict[str, str],
        outcome: str,
        checks: dict[str, Any],
        error: str | None,
        decision: str | None = None,
        basis: str | None = None,
    ) -> EventRecord:
        """A traveller's event: the transaction's document, reasons, pack and timing."""
        return lane_record(
            self.config.kiosk, event_id=event_id, started_at=tx.started_at,
            finished_at=self.clock.now(), stages=stages, outcome=outcome, decision=decision,
            basis=basis, reasons=tx.reasons, pack=tx.decision,
            document=tx.facts.summary() if tx.facts else {}, checks=checks,
            transaction_ms=tx.transaction_ms, error=error,
        )  # fmt: skip

    @property
    def alarms(self) -> dict[str, str]:
        """Faults an officer must see now (code -> detail); empty when none."""
        return dict(self._alarms)

    def flush_log(self) -> bool:
        """Write records the database refused earlier; True when none is left.

        A record the database refuses waits in memory (and is retried before the
        next one) with the event-log alarm up until the local database takes it;
        meanwhile no traveller is admitted, since no admission can be committed.
        """
        held: list[EventRecord] = []
        for record in self._unlogged:
            try:
                self.event_log.append(record)
            except Exception as exc:
                held.append(record)
                detail = f"{type(exc).__name__}: {exc}"[:500]
                self._alarms[ALARM_EVENT_LOG] = detail
        self._unlogged = held
        if held:
            log.critical(
                "ALARM %s: local event log write failed; %d record(s) held in memory: %s",
                ALARM_EVENT_LOG, len(held), self._alarms[ALARM_EVENT_LOG],
            )  # fmt: skip
            return False
        if self._alarms.pop(ALARM_EVENT_LOG, None) is not None:
            log.warning("alarm %s cleared: the local event log took every record", ALARM_EVENT_LOG)
        return True


class LaneRunner:
    """Runs a Lane on a worker thread until stop()."""

    def __init__(self, lane: Lane, poll_s: float = 0.05) -> None:
        self.lane = lane
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lane", daemon=True)
        self.last_beat = time.monotonic()  # each loop turn: the service watchdog's evidence

    def start(self) -> None:
        self._thread.start()

    def alive(self, within_s: float) -> bool:
        """The lane thread turned its loop within `within_s` seconds."""
        return self._thread.is_alive() and time.monotonic() - self.last_beat < within_s

    def _run(self) -> None:
        while not self._stop.is_set():
            self.last_beat = time.monotonic()
            try:
                self.lane.run_pending(self.poll_s)
            except Exception:  # the lane guards its steps; this is the last resort
                log.exception("lane runner survived an unexpected error")
                self.lane.close_gate()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.lane.close_gate()  # a kiosk shutting down never leaves the gate open
