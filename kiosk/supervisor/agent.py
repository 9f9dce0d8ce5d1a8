"""The kiosk's side of the supervisor station.

KioskAgent hears one lane -- its state changes (a LaneObserver) and its typed
events (a LaneEventSink: referral opened, command result) -- and, on its own
thread, keeps the kiosk's row in `kiosk_status` current (state, sync backlog,
reference-data age, the lane's alarms, a heartbeat), publishes each referral with its two images
(the chip photo and the frame the face decision used) and pulls the commands
addressed to this kiosk. It checks each command's MAC with the kiosk's command
key (kiosk.supervisor.command_mac) and its expiry, and hands it to the lane as
an OfficerCommand saying whether it is authentic; the lane logs every command
in its hash-chained event log, carries out only authentic ones (an admit only
after re-verifying the traveller) and reports the result, which the agent
writes back to the border database.

The lane thread never waits for the border database: the agent's callbacks
only store what they heard under a lock.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.station_tables import commands, kiosk_status, referral_images, referrals
from kiosk.clock import Clock, as_utc
from kiosk.config import Config, log_key_path
from kiosk.lane.events import OfficerCommand
from kiosk.lane.machine import Lane
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from kiosk.ports import CommandResult, ReferralOpened
from kiosk.supervisor import command_mac
from kiosk.supervisor.notify import COMMAND_CHANNEL, ChangeWaiter
from kiosk.supervisor.settings import AgentSettings

log = logging.getLogger(__name__)
S = LaneState


def chip_photo_jpeg(dg2: bytes) -> bytes | None:
    """The DG2 portrait re-encoded as JPEG (chips may hold JPEG 2000, which the
    station cannot show everywhere); None when DG2 has no usable image."""
    from PIL import Image

    from devices.icao9303.lds.dg2 import DataGroup2
    from kiosk.face.reference import decode_image

    try:
        rgb = decode_image(DataGroup2.parse(dg2).face.image_bytes)
    except Exception:  # a bad DG2 is the lane's problem; the officer sees no photo
        log.warning("chip photo could not be decoded for the station", exc_info=True)
        return None
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=90)
    return out.getvalue()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@dataclass
class _Case:
    transaction_id: str
    referred_at: datetime
    officer: Mapping[str, Any]
    dg2: bytes | None
    journey: Mapping[str, Any] | None
    frame: bytes | None = None


@dataclass
class _Ack:
    command_id: str
    result: str
    detail: str
    at: datetime


@dataclass
class _LaneSeen:
    state: str = "idle"
    detail: str = "welcome"
    transaction_id: str | None = None
    since: datetime | None = None
    in_service: bool = True
    changed: bool = True
    cases: dict[str, _Case] = field(default_factory=dict)
    acks: list[_Ack] = field(default_factory=list)


class KioskAgent:
    def __init__(
        self,
        lane: Lane,
        border: Engine,
        clock: Clock,
        settings: AgentSettings | None = None,
        pending_events: Callable[[], int] | None = None,
        command_key: bytes | None = None,
    ) -> None:
        self.lane = lane
        self.command_key = command_key  # None: no command is ever authentic
        self.border = border
        self.clock = clock
        self.settings = settings or AgentSettings()
        self.kiosk = lane.config.kiosk
        self._pending_events = pending_events or (lambda: 0)
        self._lock = threading.Lock()
        self._seen = _LaneSeen(since=clock.now())
        self._delivered: set[str] = set()  # command ids handed to the lane
        self._last_heartbeat: float | None = None
        self._alarms_sent: list[str] = []
        self.last_error: str | None = None
        self._waiter = ChangeWaiter(border, COMMAND_CHANNEL)
        lane.add_observer(self)
        lane.add_event_sink(self)

    # -- on the lane thread ------------------------------------------------------------
    def lane_event(self, event: ReferralOpened | CommandResult) -> None:
        with self._lock:
            if isinstance(event, ReferralOpened):
                self._seen.cases[event.transaction_id] = _Case(
                    event.transaction_id, self.clock.now(), dict(event.officer),
                    event.chip_photo, event.journey, event.frame_jpeg,
                )  # fmt: skip
            else:
                self._seen.acks.append(_Ack(event.command_id, event.result, event.detail, event.at))

    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        with self._lock:
            seen = self._seen
            if seen.state != snapshot.state.value or seen.in_service != self.lane.in_service:
                seen.since = self.clock.now()
            seen.state = snapshot.state.value
            seen.detail = snapshot.message
            seen.transaction_id = snapshot.transaction_id
            seen.in_service = self.lane.in_service
            seen.changed = True

    # -- on the agent thread -------------------------------------------------------------
    def run_once(self) -> None:
        """One cycle: status, referrals, acknowledgements, new commands. A border
        failure is logged and retried next cycle; nothing seen is dropped."""
        try:
            self._publish_referrals()
            self._publish_acks()
            self._publish_status()
            self._pull_commands()
            self.last_error = None
        except SQLAlchemyError as exc:
            self.last_error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            log.warning("supervisor link failed: %s", self.last_error)

    def _insert(self, table: Any) -> Any:
        dialect = self.border.dialect.name
        return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)

    def _publish_status(self) -> None:
        now_mono = self.clock.monotonic()
        with self._lock:
            seen = self._seen
            due = (
                seen.changed
                or self._last_heartbeat is None
                or now_mono - self._last_heartbeat >= self.settings.heartbeat_s
            )
            # The lane's own alarms (event log unavailable ...): a change is reported now.
            alarms = sorted(self.lane.alarms)
            due = due or alarms != self._alarms_sent
            if not due:
                return
            state, detail, since, in_service = seen.state, seen.detail, seen.since, seen.in_service
            transaction_id = seen.transaction_id
            seen.changed = False
        now = self.clock.now()
        reference_age = self.lane.services.reference_age_h(now)
        row = {
            "kiosk_id": self.kiosk.id,
            "port": self.kiosk.port,
            "lane": self.kiosk.lane,
            "direction": self.kiosk.direction,
            "state": state,
            "detail": detail,
            "transaction_id": transaction_id,
            "in_service": in_service,
            "pending_events": max(0, self._pending_events()),
            "reference_age_h": reference_age,
            "state_since": since or now,
            "heartbeat_at": now,
            "alarms": alarms,
        }
        stmt = self._insert(kiosk_status).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["kiosk_id"], set_={k: v for k, v in row.items() if k != "kiosk_id"}
        )
        try:
            with self.border.begin() as c:
                c.execute(stmt)
        except SQLAlchemyError:
            with self._lock:
                self._seen.changed = True  # try again next cycle
            raise
        self._last_heartbeat = now_mono
        self._alarms_sent = alarms

    def _publish_referrals(self) -> None:
        with self._lock:
            ready = list(self._seen.cases.values())
        for case in ready:
            self._publish_case(case)
            with self._lock:
                self._seen.cases.pop(case.transaction_id, None)

    def _publish_case(self, case: _Case) -> None:
        officer = _jsonable(dict(case.officer))
        reasons = list(officer.get("reasons") or [])
        checks = officer.get("checks") or {}
        watchlist = "watchlist_hit" in reasons or checks.get("watchlist_hit") is True
        rid = uuid.UUID(case.transaction_id)
        row = {
            "referral_id": rid,
            "kiosk_id": self.kiosk.id,
            "port": self.kiosk.port,
            "lane": self.kiosk.lane,
            "direction": self.kiosk.direction,
            "referred_at": case.referred_at,
            "reasons": reasons,
            "watchlist": watchlist,
            "details": {**officer, "journey": _jsonable(case.journey) if case.journey else None},
        }
        images: list[dict[str, Any]] = []
        retention = self.settings.image_retention_h
        if retention > 0:
            expires = as_utc(case.referred_at) + timedelta(hours=retention)
            chip = chip_photo_jpeg(case.dg2) if case.dg2 else None
            for kind, jpeg in (("chip", chip), ("live", case.frame)):
                if jpeg:
                    images.append(
                        {
                            "referral_id": rid,
                            "kind": kind,
                            "kiosk_id": self.kiosk.id,
                            "jpeg": jpeg,
                            "expires_at": expires,
                        }
                    )
        # Idempotent: a retry after a lost commit inserts nothing twice.
        with self.border.begin() as c:
            c.execute(self._insert(referrals).values(**row).on_conflict_do_nothing())
            for image in images:
                c.execute(self._insert(referral_images).values(**image).on_conflict_do_nothing())

    def _publish_acks(self) -> None:
        with self._lock:
            acks, self._seen.acks = self._seen.acks, []
        try:
            with self.border.begin() as c:
                for ack in acks:
                    c.execute(
                        update(commands)
                        .where(
                            commands.c.command_id == uuid.UUID(ack.command_id),
                            commands.c.kiosk_id == self.kiosk.id,
                        )
                        .values(acked_at=ack.at, result=ack.result, result_detail=ack.detail)
                    )
        except SQLAlchemyError:
            with self._lock:
                self._seen.acks[:0] = acks
            raise

    def _pull_commands(self) -> None:
        with self.border.connect() as c:
            rows = c.execute(
                select(commands)
                .where(commands.c.kiosk_id == self.kiosk.id, commands.c.acked_at.is_(None))
                .order_by(commands.c.issued_at)
            ).all()
        for row in rows:
            command_id = str(row.command_id)
            if command_id in self._delivered:
                continue  # handed over already; its acknowledgement is on its way
            self._delivered.add(command_id)
            authentication = self._authenticate(row)
            log.info("officer command %s (%s) authentication: %s", command_id, row.kind,
                     authentication)  # fmt: skip
            self.lane.post(
                OfficerCommand(
                    command_id=command_id,
                    kind=row.kind,
                    kiosk_id=row.kiosk_id,
                    transaction_id=str(row.referral_id) if row.referral_id else None,
                    officer_id=row.officer_id,
                    reason=row.reason_code,
                    text=row.reason_text,
                    second_officer_id=row.second_officer_id,
                    issued_at=row.issued_at,
                    authentication=authentication,
                )
            )

    def _authenticate(self, row: Any) -> str:
        """ "verified", or why the command is not to be carried out."""
        if self.command_key is None:
            return "no_command_key: this kiosk was not given a command key"
        if row.mac is None or row.expires_at is None:
            return "unsigned: the command carries no MAC"
        fields = command_mac.CommandFields(
            row.command_id, row.kiosk_id, row.kind, row.referral_id, row.officer_id,
            row.second_officer_id, row.reason_code, as_utc(row.issued_at), as_utc(row.expires_at),
        )  # fmt: skip
        if not command_mac.verify(self.command_key, fields, row.mac):
            return "bad_mac: the command was not issued by the border's officer functions"
        if as_utc(self.clock.now()) > as_utc(row.expires_at):
            return "expired: the command is past its expiry"
        return "verified"

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # the agent must outlive any single failure
                log.exception("supervisor agent cycle failed")
            if stop.is_set():
                break
            self._waiter.wait(self.settings.poll_s, stop)
        self._waiter.close()

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name="supervisor-agent", daemon=True
        )
        thread.start()
        return thread


def start_agent(
    lane: Lane,
    border: Engine | None,
    clock: Clock,
    stop: threading.Event,
    image_retention_h: float,
    pending_events: Callable[[], int] | None = None,
    command_key: bytes | None = None,
) -> KioskAgent | None:
    """Attach an agent to `lane` and run it until `stop` (None without a border
    database: the lane works offline, the station shows it offline)."""
    if border is None:
        return None
    agent = KioskAgent(
        lane,
        border,
        clock,
        AgentSettings(image_retention_h=image_retention_h),
        pending_events=pending_events,
        command_key=command_key,
    )
    agent.start(stop)
    return agent


def command_key_path(config: Config) -> Path:
    """The kiosk's command key: beside its log key (docs/supervisor.md, enrolment)."""
    return log_key_path(config).with_name("command.key")


def attach_supervisor(
    config: Config,
    lane: Lane,
    border: Engine | None,
    clock: Clock,
    stop: threading.Event,
    pending_events: Callable[[], int] | None = None,
) -> KioskAgent | None:
    """The one way `egate kiosk`, `egate demo` and the simulator connect a lane to the
    supervisor station. A kiosk without its command key still reports (the officer
    sees it) but carries out no command. The SQLite stand-in (one machine, no roles)
    provisions its own key."""
    if border is None:
        return None
    return start_agent(lane, border, clock, stop, config.privacy.referral_image_retention_h,
                       pending_events, command_key(config, border, clock))  # fmt: skip


def command_key(config: Config, border: Engine, clock: Clock) -> bytes | None:
    """The kiosk's command key from its file; on the SQLite stand-in one is made when
    missing. None (commands refused, logged) when a real kiosk was not enrolled."""
    path = command_key_path(config)
    key = command_mac.read_key(path)
    if key is None and border.dialect.name == "sqlite":
        from kiosk.supervisor.officer_ops import provision_command_key

        key = provision_command_key(border, config.kiosk.id, clock)
        command_mac.write_key(path, key)
    if key is None:
        log.error("no command key at %s: officer commands will be refused (egate officers "
                  "kiosk-key)", path)  # fmt: skip
    return key
