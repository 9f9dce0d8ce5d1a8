"""The supervisor station's model (Qt-free): sign-in, the lane overview, the
referral queue, case details, officer actions and the statistics.

Everything about travellers needs a signed-in officer of a role allowed to see
it; every call first applies the inactivity sign-out. Each action is an entry
in the border's hash-chained officer log (kiosk.supervisor.audit) and, when it
concerns a lane, a command the kiosk pulls; the kiosk logs the command in its
own event log when it carries it out.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, and_, case, delete, func, or_, select

from kiosk.border.models import (
    BorderEvent,
    BorderReferenceItem,
    KioskAlert,
    KioskChainHead,
    KioskLog,
)
from kiosk.border.station_tables import commands, kiosk_status, referral_images, referrals
from kiosk.clock import Clock, as_utc
from kiosk.errors import CodedError
from kiosk.supervisor.audit import actions
from kiosk.supervisor.officer_ops import OfficerOps, OpsRefused, officer_ops
from kiosk.supervisor.officers import Officer, OfficerDirectory
from kiosk.supervisor.reasons import (
    ALERTS,
    CASE_ACTIONS,
    LANE_COMMANDS,
    border_alert_code,
    check_reason,
    lane_alerts,
    overview_state,
)
from kiosk.supervisor.settings import StationSettings
from kiosk.supervisor.stats import Statistics, compute_statistics

CASE_ROLES = ("officer", "supervisor")
LANE_ROLES = ("officer", "supervisor", "maintenance")
STATS_ROLES = ("supervisor",)
STALE_REFERENCE_H = 24.0
PENDING_ALERT = 100
OPEN = ("open", "awaiting_second")


class StationError(CodedError):
    pass


@dataclass(frozen=True)
class LaneView:
    kiosk_id: str
    port: str
    lane: int
    direction: str
    state: str  # overview state (reasons.overview_state)
    step: str  # the lane's own state
    pending_events: int
    reference_age_h: float | None
    silent_s: float
    open_referrals: int
    alerts: tuple[str, ...]  # reasons.ALERTS codes, most urgent first
    in_state_s: float = 0.0  # since the lane entered its current state
    detail: str = ""  # the lane's message code (e.g. error_device_fault)
    # The border's unacknowledged alerts about this kiosk (acknowledge_alert).
    border_alerts: tuple[BorderAlert, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "alerts": list(self.alerts),
            "border_alerts": [a.as_json() for a in self.border_alerts],
        }


@dataclass(frozen=True)
class BorderAlert:
    """One unacknowledged kiosk_alerts row, as the supervisor sees it."""

    alert_id: int
    kind: str  # the border's kind (rollback, fork, key_missing, entry_conflict ...)
    code: str  # the overview alert (reasons.BORDER_ALERTS)
    detail: str
    raised_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "raised_at": self.raised_at.isoformat()}


@dataclass(frozen=True)
class ReferralSummary:
    referral_id: uuid.UUID
    kiosk_id: str
    port: str
    lane: int
    direction: str
    referred_at: datetime
    reasons: tuple[str, ...]
    watchlist: bool
    status: str
    # The referring lane still shows this referral (an admit can still open its gate).
    at_lane: bool = True
    # The last command sent for this case and the kiosk's answer (None: not yet).
    command: str | None = None
    command_result: str | None = None  # executed | rejected | failed
    command_detail: str = ""
    traveller: str = ""  # the holder's name as the document gives it

    @property
    def needs_officer(self) -> bool:
        """Still the officer's business: open, waiting for a second officer, or a
        command the kiosk has not carried out (pending, rejected or failed)."""
        return self.status in OPEN or self.command_result != "executed"

    @property
    def actionable(self) -> bool:
        """An officer can act: open, or reopened by a rejected or failed command
        (the border reopens it as the kiosk answers; the stand-in at the next action)."""
        return self.status == "open" or (
            self.status == "resolved" and self.command_result in ("rejected", "failed")
        )

    @property
    def shown_status(self) -> str:
        """One code for the state of the case, as the queue and the CLI show it."""
        if self.status in OPEN and self.command_result in ("rejected", "failed"):
            return f"command_{self.command_result}"  # reopened: the kiosk's answer shows
        if self.status in OPEN:
            return self.status
        if self.command_result is None:
            return "command_pending"
        if self.command_result == "executed":
            return "done"
        return f"command_{self.command_result}"

    def as_json(self) -> dict[str, Any]:
        return {
            "referral_id": str(self.referral_id),
            "kiosk_id": self.kiosk_id,
            "port": self.port,
            "lane": self.lane,
            "direction": self.direction,
            "referred_at": self.referred_at.isoformat(),
            "reasons": list(self.reasons),
            "watchlist": self.watchlist,
            "status": self.status,
            "shown_status": self.shown_status,
            "at_lane": self.at_lane,
            "command": self.command,
            "command_result": self.command_result,
            "command_detail": self.command_detail,
            "traveller": self.traveller,
        }


@dataclass(frozen=True)
class CaseView:
    summary: ReferralSummary
    case: dict[str, Any]
    chip_jpeg: bytes | None
    live_jpeg: bytes | None
    history: tuple[dict[str, Any], ...]
    watchlist_entry: dict[str, Any] | None = None

    @property
    def checks(self) -> dict[str, Any]:
        return dict(self.case.get("checks") or {})

    @property
    def document(self) -> dict[str, Any]:
        return dict(self.case.get("document") or {})

    @property
    def distance(self) -> float | None:
        value = self.checks.get("face_distance")
        return float(value) if isinstance(value, int | float) else None

    @property
    def threshold(self) -> float | None:
        value = self.checks.get("face_threshold")
        return float(value) if isinstance(value, int | float) else None

    def authentication(self) -> list[tuple[str, str, str]]:
        """(check, result, reason) for passive, chip and active authentication."""
        c = self.checks
        pa = c.get("document_authentic")
        return [
            ("Passive authentication", _yes_no(pa), str(c.get("authenticity_reason") or "")),
            ("Access control", str(c.get("access_control") or "none"), ""),
            ("Chip authentication", str(c.get("chip_authentication") or "not performed"), ""),
            ("Active authentication", str(c.get("active_authentication") or "not performed"), ""),
            ("Chip genuine", _yes_no(c.get("chip_genuine")), str(c.get("chip_error") or "")),
        ]

    def transit(self) -> dict[str, Any]:
        journey = self.case.get("journey") or {}
        onward = journey.get("onward") or {}
        return {
            "basis": self.case.get("basis"),
            "arrived_from": journey.get("arrived_from"),
            "onward_destination": onward.get("destination"),
            "onward_departure": onward.get("departure_time"),
            "onward_confirmed": onward.get("confirmed"),
            "permitted_until": self.case.get("permitted_until"),
        }

    def trace(self) -> list[str]:
        return [str(line) for line in self.case.get("trace") or [] if line]


def _yes_no(value: Any) -> str:
    return {True: "passed", False: "FAILED"}.get(value, "not checked")


@dataclass(frozen=True)
class ActionResult:
    status: str  # issued | awaiting_second
    action_id: uuid.UUID
    command_id: uuid.UUID | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "action_id": str(self.action_id),
            "command_id": str(self.command_id) if self.command_id else None,
        }


@dataclass
class _Session:
    officer: Officer
    last_activity: float
    token: bytes = b""  # the border's session (officer_ops); never shown or logged
    started: datetime = field(default_factory=lambda: datetime.min)


class Station:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        settings: StationSettings | None = None,
        directory: OfficerDirectory | None = None,
        image_retention_h: float = 24.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings or StationSettings()
        self.directory = directory or OfficerDirectory(engine, clock, self.settings)
        self.image_retention_h = image_retention_h
        self.ops: OfficerOps = officer_ops(engine, clock, self.settings)
        self._session: _Session | None = None

    # -- session ----------------------------------------------------------------------
    def sign_in(self, officer_id: str, secret: str) -> Officer:
        """The border checks the secret and counts failures (officer_ops); refused
        sign-ins are on its officer log with the id typed."""
        self._session = None
        try:
            signed = self.ops.sign_in(officer_id, secret)
        except OpsRefused as exc:
            raise StationError(exc.code, _REFUSALS.get(exc.code, exc.code)) from exc
        officer = Officer(signed.officer_id, signed.name, signed.role, signed.port)  # type: ignore[arg-type]
        self._session = _Session(officer, self.clock.monotonic(), signed.token, self.clock.now())
        return officer

    def sign_out(self, why: str = "sign_out") -> None:
        session, self._session = self._session, None
        if session is not None:
            self.ops.sign_out(session.token, why)

    @property
    def officer(self) -> Officer | None:
        self.check_idle()
        return self._session.officer if self._session else None

    def touch(self) -> None:
        """The officer did something (a key, a click): restart the idle timer."""
        if self._session is not None and not self.check_idle():
            self._session.last_activity = self.clock.monotonic()

    def check_idle(self) -> bool:
        """Sign out after idle_sign_out_s without activity; True when it did."""
        s = self._session
        if s is None:
            return False
        if self.clock.monotonic() - s.last_activity >= self.settings.idle_sign_out_s:
            self.sign_out("inactivity")
            return True
        return False

    def _require(self, roles: Sequence[str], activity: bool = True) -> Officer:
        """The signed-in officer if their role may do this. `activity`: the call
        is the officer's doing (a refresh timer's reads are not)."""
        if self.check_idle() or self._session is None:
            raise StationError("not_signed_in", "sign in first")
        officer = self._session.officer
        if officer.role not in roles:
            raise StationError("not_permitted", f"the {officer.role} role cannot do this")
        if activity:
            self._session.last_activity = self.clock.monotonic()
        return officer

    # -- overview ---------------------------------------------------------------------
    def lanes(self) -> list[LaneView]:
        officer = self._require(LANE_ROLES, activity=False)
        now = as_utc(self.clock.now())
        with self.engine.connect() as c:
            query = select(kiosk_status).order_by(
                kiosk_status.c.port, kiosk_status.c.lane, kiosk_status.c.kiosk_id
            )
            if officer.port:
                query = query.where(kiosk_status.c.port == officer.port)
            rows = c.execute(query).all()
            counts: dict[str, int] = dict(
                c.execute(
                    select(referrals.c.kiosk_id, func.count())
                    .where(referrals.c.status.in_(OPEN))
                    .group_by(referrals.c.kiosk_id)
                ).all()
            )
            watch = {
                r[0]
                for r in c.execute(
                    select(referrals.c.kiosk_id).where(
                        referrals.c.status.in_(OPEN), referrals.c.watchlist.is_(True)
                    )
                )
            }
            border = _border_alerts(c, officer.role != "maintenance")
        views = []
        for r in rows:
            silent = (now - as_utc(r.heartbeat_at)).total_seconds()
            offline = silent > self.settings.offline_after_s
            state = overview_state(r.state, r.detail, bool(r.in_service), offline)
            in_state = max(0.0, (now - as_utc(r.state_since)).total_seconds())
            # The lane's own alarms (event log unavailable ...) when its agent reports them.
            alarms = tuple(r._mapping.get("alarms") or ())
            alerts = lane_alerts(state, in_state, alarms, r.reference_age_h, STALE_REFERENCE_H)
            if r.kiosk_id in watch and officer.role != "maintenance":
                alerts.insert(0, "watchlist")
            if r.pending_events > PENDING_ALERT:
                alerts.append("sync_backlog")
            held, raised = border.get(r.kiosk_id, ((), ()))
            alerts = _by_urgency([*alerts, *held, *(a.code for a in raised)])
            views.append(
                LaneView(
                    r.kiosk_id,
                    r.port,
                    r.lane,
                    r.direction,
                    state,
                    r.state,
                    r.pending_events,
                    r.reference_age_h,
                    silent,
                    int(counts.get(r.kiosk_id, 0)),
                    tuple(dict.fromkeys(alerts)),
                    in_state,
                    r.detail or "",
                    raised,
                )
            )
        return views

    def acknowledge_alert(self, alert_id: int, text: str = "") -> ActionResult:
        """A supervisor acknowledges one of the border's kiosk alerts (officer log)."""
        self._require(STATS_ROLES)
        text = text.strip()[:1000]
        return self._act(lambda token: self.ops.ack_alert(token, int(alert_id), text))

    # -- queue and cases ----------------------------------------------------------------
    def queue(self) -> list[ReferralSummary]:
        """Every case that still needs the officer (ReferralSummary.needs_officer),
        oldest first: the same list as `egate referrals list`."""
        officer = self._require(CASE_ROLES, activity=False)
        self.purge_images()
        return open_referrals(self.engine, officer.port)

    def case(self, referral_id: uuid.UUID | str) -> CaseView:
        officer = self._require(CASE_ROLES)
        rid = _uuid(referral_id)
        with self.engine.connect() as c:
            row = c.execute(select(referrals).where(referrals.c.referral_id == rid)).first()
            if row is None or (officer.port and row.port != officer.port):
                raise StationError("unknown_referral", f"no referral {rid}")
            images = {
                r.kind: bytes(r.jpeg)
                for r in c.execute(
                    select(referral_images.c.kind, referral_images.c.jpeg).where(
                        referral_images.c.referral_id == rid,
                        referral_images.c.expires_at >= as_utc(self.clock.now()),
                    )
                )
            }
            acks = c.execute(
                select(commands).where(commands.c.referral_id == rid).order_by(commands.c.issued_at)
            ).all()
            entry = self._watchlist_entry(c, dict(row.details)) if row.watchlist else None
        history: list[dict[str, Any]] = [
            {
                "at": a.at.isoformat(),
                "what": a.kind,
                "officer": a.officer_id,
                "second_officer": a.second_officer_id,
                "reason": a.reason_code,
                "text": a.reason_text,
            }
            for a in actions(self.engine, rid)
        ]
        for k in acks:
            if k.acked_at is not None:
                history.append(
                    {
                        "at": as_utc(k.acked_at).isoformat(),
                        "what": f"kiosk {k.result}",
                        "officer": k.officer_id,
                        "second_officer": k.second_officer_id,
                        "reason": k.kind,
                        "text": k.result_detail or "",
                    }
                )
        history.sort(key=lambda h: str(h["at"]))
        with self.engine.connect() as c:
            current = _lane_referrals(c)
        last = acks[-1] if acks else None
        return CaseView(
            referral_summary(row, str(row.referral_id) in current, last),
            dict(row.details),
            images.get("chip"),
            images.get("live"),
            tuple(history),
            entry,
        )

    @staticmethod
    def _watchlist_entry(c: Any, case: dict[str, Any]) -> dict[str, Any] | None:
        doc = case.get("document") or {}
        state = str(doc.get("issuing_state", "")).upper()
        key = f"{state}:{str(doc.get('document_number', '')).upper()}"
        row = c.execute(
            select(BorderReferenceItem).where(
                BorderReferenceItem.kind == "watchlist", BorderReferenceItem.key == key
            )
        ).first()
        if row is None:
            return {"key": key, "provenance": "not in the border's watchlist (kiosk copy)"}
        item = row[0]
        return {
            "key": key,
            "provenance": item.provenance,
            "published_at": as_utc(item.published_at).isoformat(),
            "note": bytes(item.payload).decode("utf-8", "replace"),
        }

    # -- actions --------------------------------------------------------------------------
    # Each is one checked call into the border (officer_ops): it verifies the session,
    # role, port, the referral's state and kiosk and the two-officer rule, writes the
    # keyed officer log and the kiosk-signed command. Nothing here decides on its own.
    def resolve(
        self, referral_id: uuid.UUID | str, action: str, reason: str, text: str = ""
    ) -> ActionResult:
        """admit / refuse / manual for an open referral. An admit of a watchlist or
        chip_not_genuine case waits for a second, distinct officer (confirm())."""
        self._require(CASE_ROLES)
        if action not in CASE_ACTIONS:
            raise StationError("invalid_action", f"{action!r} is not one of {CASE_ACTIONS}")
        reason, text = self._reason(action, reason, text)
        rid = _uuid(referral_id)
        return self._act(lambda token: self.ops.resolve(token, rid, action, reason, text))

    def confirm(self, referral_id: uuid.UUID | str, officer_id: str, secret: str) -> ActionResult:
        """A second officer (never the one who asked) confirms a pending admit with
        their own secret; the command carries both ids."""
        self._require(CASE_ROLES)
        rid = _uuid(referral_id)
        return self._act(lambda token: self.ops.confirm(token, rid, officer_id, secret))

    def lane_command(self, kiosk_id: str, kind: str, reason: str, text: str = "") -> ActionResult:
        """reset / close / open a lane of the officer's port."""
        self._require(LANE_ROLES)
        if kind not in LANE_COMMANDS:
            raise StationError("invalid_action", f"{kind!r} is not one of {LANE_COMMANDS}")
        reason, text = self._reason(kind, reason, text)
        return self._act(lambda token: self.ops.lane_command(token, kiosk_id, kind, reason, text))

    def _act(self, call: Any) -> ActionResult:
        session = self._session
        assert session is not None
        try:
            answer = call(session.token)
        except OpsRefused as exc:
            if exc.code == "not_signed_in":
                self._session = None  # the border ended the session (idle, disabled)
            raise StationError(exc.code, _REFUSALS.get(exc.code, exc.code)) from exc
        command = answer.get("command_id")
        return ActionResult(
            str(answer["status"]),
            uuid.UUID(str(answer["action_id"])),
            uuid.UUID(str(command)) if command else None,
        )

    def _reason(self, kind: str, reason: str, text: str) -> tuple[str, str]:
        try:
            return check_reason(kind, reason, text)
        except ValueError as exc:
            raise StationError("invalid_reason", str(exc)) from exc

    def command_result(self, command_id: uuid.UUID) -> tuple[str | None, str | None]:
        """(result, detail) once the kiosk acknowledged the command, else (None, None)."""
        with self.engine.connect() as c:
            row = c.execute(
                select(commands.c.result, commands.c.result_detail).where(
                    commands.c.command_id == command_id
                )
            ).first()
        return (row[0], row[1]) if row else (None, None)

    def case_log(self, referral_id: uuid.UUID | str) -> list[dict[str, Any]]:
        """The officer-log entries of one case, oldest first, for the case view."""
        self._require(CASE_ROLES)
        return [a.as_json() for a in actions(self.engine, _uuid(referral_id))]

    def verify_log(self) -> dict[str, Any]:
        """The keyed officer log recomputed by the border: {valid, entries, first_bad_seq}."""
        self._require(LANE_ROLES, activity=False)
        return self.ops.verify_log()

    # -- housekeeping and statistics ---------------------------------------------------------
    def purge_images(self) -> int:
        """Delete referral images past their retention (set by the kiosk that sent them)."""
        with self.engine.begin() as c:
            result = c.execute(
                delete(referral_images).where(
                    referral_images.c.expires_at < as_utc(self.clock.now())
                )
            )
            return int(result.rowcount or 0)

    def statistics(self, start: datetime, end: datetime, group_by: str = "port") -> Statistics:
        officer = self._require(STATS_ROLES)
        return load_statistics(self.engine, start, end, group_by, officer.port)


def load_statistics(
    engine: Engine,
    start: datetime,
    end: datetime,
    group_by: str = "port",
    port: str | None = None,
    *,
    tz: tzinfo = UTC,
    tz_name: str = "UTC",
) -> Statistics:
    t = BorderEvent.__table__
    cond = and_(t.c.finished_at >= as_utc(start), t.c.finished_at < as_utc(end))
    if port:
        cond = and_(cond, t.c.port == port)
    with engine.connect() as c:
        rows = c.execute(
            select(
                t.c.kiosk_id,
                t.c.port,
                t.c.lane,
                t.c.outcome,
                t.c.decision,
                t.c.reasons,
                t.c.stages,
                t.c.started_at,
                t.c.finished_at,
                t.c.transaction_ms,
                # Only an officer event's checks and an aborted one's error count:
                # a month of travellers' checks is most of the bytes otherwise.
                case((t.c.outcome == "officer", t.c.checks), else_=None).label("checks"),
                case((t.c.outcome == "aborted", t.c.error), else_=None).label("error"),
            ).where(cond)
        ).all()
    return compute_statistics(
        [dict(r._mapping) for r in rows], start, end, group_by, tz, tz_name, port
    )


# What the officer reads for a refusal code of the border.
_REFUSALS = {
    "invalid_credentials": "unknown officer id or wrong secret",
    "locked": "too many failed attempts; the account is locked for a while",
    "disabled": "this account is disabled",
    "not_signed_in": "the session has ended; sign in again",
    "not_permitted": "your role cannot do this",
    "unknown_referral": "no such referral at your port",
    "not_open": "the case is no longer open (another officer acted)",
    "same_officer": "the second officer must be someone else, not the one who asked",
    "nothing_to_confirm": "no admit is waiting for confirmation",
    "unknown_kiosk": "no such kiosk at your port",
    "kiosk_not_enrolled": "the kiosk has no command key (egate officers kiosk-key)",
    "invalid_action": "not an action of this case",
    "reason_needed": "admitting after face_mismatch, chip_not_genuine or watchlist_hit "
    "needs the reason typed out (at least 10 characters)",
    "unknown_alert": "no such alert at your port",
}


def _by_urgency(codes: list[str]) -> list[str]:
    """Alert codes once each, watchlist first, then in ALERTS order."""
    seen = list(dict.fromkeys(codes))
    order = {code: i for i, code in enumerate(ALERTS)}
    return sorted(seen, key=lambda a: (a != "watchlist", order.get(a, len(order))))


def _border_alerts(
    c: Any, details: bool
) -> dict[str, tuple[tuple[str, ...], tuple[BorderAlert, ...]]]:
    """Per kiosk: the standing conditions the border holds against it (log held,
    chain stopped) and its unacknowledged kiosk_alerts rows (issue 19)."""
    held: dict[str, list[str]] = {}
    for (kiosk_id,) in c.execute(
        select(KioskLog.kiosk_id).where(KioskLog.held_reason.is_not(None))
    ):
        held.setdefault(kiosk_id, []).append("kiosk_held")
    for (kiosk_id,) in c.execute(
        select(KioskChainHead.kiosk_id).where(KioskChainHead.stopped_at.is_not(None))
    ):
        held.setdefault(kiosk_id, []).append("chain_stopped")
    raised: dict[str, list[BorderAlert]] = {}
    for a in c.execute(
        select(KioskAlert.__table__)
        .where(KioskAlert.acknowledged_at.is_(None))
        .order_by(KioskAlert.id)
    ):
        raised.setdefault(a.kiosk_id, []).append(
            BorderAlert(
                a.id,
                a.kind,
                border_alert_code(a.kind),
                a.detail if details else "",
                as_utc(a.raised_at),
            )
        )
    return {k: (tuple(held.get(k, ())), tuple(raised.get(k, ()))) for k in {*held, *raised}}


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise StationError("unknown_referral", f"{value!r} is not a referral id") from exc


def _lane_referrals(c: Any) -> set[str]:
    """Referrals the lanes are showing right now (their traveller is still there)."""
    rows = c.execute(
        select(kiosk_status.c.transaction_id).where(kiosk_status.c.state == "referred")
    )
    return {str(r[0]) for r in rows if r[0]}


def open_referrals(engine: Engine, port: str | None = None) -> list[ReferralSummary]:
    """The cases that need an officer, oldest first, with whether the traveller is
    still at the lane and the kiosk's answer to the last command: the one source
    of the station's queue and `egate referrals list`."""
    last = (
        select(commands.c.referral_id, func.max(commands.c.issued_at).label("issued_at"))
        .where(commands.c.referral_id.is_not(None))
        .group_by(commands.c.referral_id)
        .subquery()
    )
    latest = (
        select(commands)
        .join(
            last,
            and_(
                commands.c.referral_id == last.c.referral_id,
                commands.c.issued_at == last.c.issued_at,
            ),
        )
        .subquery()
    )
    query = (
        select(
            referrals,
            latest.c.kind.label("command_kind"),
            latest.c.result.label("command_result"),
            latest.c.result_detail.label("command_detail"),
        )
        .outerjoin(latest, latest.c.referral_id == referrals.c.referral_id)
        .where(
            or_(
                referrals.c.status.in_(OPEN),
                and_(
                    latest.c.command_id.is_not(None),
                    or_(latest.c.result.is_(None), latest.c.result != "executed"),
                ),
            )
        )
        .order_by(referrals.c.referred_at, referrals.c.kiosk_id)
    )
    if port:
        query = query.where(referrals.c.port == port)
    with engine.connect() as c:
        rows = c.execute(query).all()
        current = _lane_referrals(c)
    return [
        referral_summary(
            r,
            str(r.referral_id) in current,
            _Last(r.command_kind, r.command_result, r.command_detail) if r.command_kind else None,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class _Last:
    kind: str
    result: str | None
    result_detail: str | None


def traveller_name(details: dict[str, Any]) -> str:
    doc = details.get("document") or {}
    parts = [str(doc.get(k) or "").strip() for k in ("given_names", "surname")]
    return " ".join(p for p in parts if p) or str(doc.get("name") or "")


def referral_summary(row: Any, at_lane: bool = True, last: Any = None) -> ReferralSummary:
    """`last`: the latest command for the referral (a commands row or _Last), if any."""
    return ReferralSummary(
        row.referral_id,
        row.kiosk_id,
        row.port,
        row.lane,
        row.direction,
        as_utc(row.referred_at),
        tuple(row.reasons),
        bool(row.watchlist),
        row.status,
        at_lane,
        last.kind if last is not None else None,
        last.result if last is not None else None,
        (last.result_detail or "") if last is not None else "",
        traveller_name(dict(row.details or {})),
    )
