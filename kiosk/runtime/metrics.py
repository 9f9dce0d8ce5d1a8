"""A kiosk's Prometheus metrics (docs/metrics.md): what the lane did, on a local port.

The figures about travellers come from the local event log, the record the lane
commits before it opens the gate: every scrape reads the events written since
the last one (by seq) and counts them, so the metrics agree with the log by
construction and a lane that cannot write its log cannot report a transaction
it did not record. Gauges (sync backlog and lag, reference-data age, device
faults) are read at the scrape. Gate cycles come from the lane's snapshots.

Labels carry codes from closed vocabularies only (outcomes, lane states, face
outcomes, chip reasons, device names): never a document number, a name, or a
code the traveller must not be told (policy.codes.SENSITIVE_CODES). Anything
outside a vocabulary is counted as "other".
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import pairwise
from typing import Any, get_args

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border import BorderSync
from kiosk.clock import Clock, as_utc
from kiosk.config import Config
from kiosk.lane.machine import Lane
from kiosk.lane.reference_data import reference_age_h
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from kiosk.ports import FaceOutcome
from kiosk.store.event_log import readable_values, text_columns
from kiosk.store.models import OutboxEntry, TransactionEvent
from kiosk.store.reference import ReferenceStore

log = logging.getLogger(__name__)

OUTCOMES = frozenset({"admitted", "referred", "aborted"})
STAGES = frozenset(s.value for s in LaneState)
FACE_OUTCOMES = frozenset(get_args(FaceOutcome)) - {"match"}
CHIP_REASONS = frozenset({"chip_read_failed", "chip_not_genuine", "document_not_authentic"})
# The lane's error codes (kiosk.lane.machine._fail and the cancelled walk-away).
ERROR_CODES = frozenset({
    "timeout", "card_removed", "mrz_unreadable", "device_fault", "internal_error",
    "cancelled", "officer_close", "officer_reset",
})  # fmt: skip
# Officer commands the lane records (kiosk.lane.officer_commands) and their results.
COMMANDS = frozenset({"admit", "refuse", "manual", "reset", "close", "open"})
COMMAND_RESULTS = frozenset({"executed", "rejected", "failed"})
DEVICES = frozenset({"reader", "gate", "camera", "mrz"})
# Stage and transaction times: a chip read takes about a second, a face a few,
# a traveller who walks away the document timeout (60 s by default).
STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0, 120.0)
TAIL_BATCH = 500


def _code(value: str, vocabulary: frozenset[str]) -> str:
    return value if value in vocabulary else "other"


def stage_durations(stages: Mapping[str, str]) -> list[tuple[str, float]]:
    """(state, seconds in it) from the record's stamps (first entry of each state):
    each state lasts until the next one was first entered. The last state (the
    outcome) has no end on record and is left out. States entered in the same
    instant keep the record's order (the order the lane entered them)."""
    stamped = sorted(
        ((as_utc(datetime.fromisoformat(at)), state) for state, at in stages.items()),
        key=lambda pair: pair[0],
    )
    return [
        (state, max(0.0, (after - at).total_seconds()))
        for (at, state), (after, _next) in pairwise(stamped)
    ]


@dataclass(frozen=True)
class Observed:
    """What one event record contributes (kiosk.runtime.metrics counts these)."""

    outcome: str | None  # None: a follow-up to an event already counted
    transaction_s: float | None
    stages: list[tuple[str, float]]
    face_failures: list[str]
    chip_failures: list[str]
    error: str | None
    device: str | None
    command: tuple[str, str] | None = None  # an officer's (command, result)


def observe(values: Mapping[str, Any]) -> Observed:
    """The metrics of one decoded event (kiosk.store.event_log.readable_values)."""
    checks = values.get("checks")
    if not isinstance(checks, dict):  # a field that decodes but is not an object
        checks = {}
    if values.get("outcome") == "officer":
        # An officer's command at this lane: not a traveller (the referral was counted).
        command = (
            _code(str(values.get("decision")), COMMANDS),
            _code(str(checks.get("result")), COMMAND_RESULTS),
        )
        gate = str(checks.get("detail", "")).startswith("gate:")
        return Observed(None, None, [], [], [], None, "gate" if gate else None, command)
    raw_reasons = values.get("reasons")
    reasons = [str(r) for r in raw_reasons] if isinstance(raw_reasons, list) else []
    error = str(values.get("error") or "") or None
    code = _code(error.split(":", 1)[0].strip(), ERROR_CODES) if error else None
    device = None
    if code == "device_fault" and error is not None:
        parts = error.split(":", 2)
        device = _code(parts[1].strip(), DEVICES) if len(parts) > 2 else "other"
    if "follows_event" in checks:
        # The gate failed after the admission was committed: a fault, not a traveller.
        return Observed(None, None, [], [], [], code, device)
    face: list[str] = []
    outcome = checks.get("face_outcome")
    if isinstance(outcome, str) and outcome != "match":
        face.append(_code(outcome, FACE_OUTCOMES))
    if str(checks.get("face_provenance", "")).startswith("refused"):
        face.append("provenance_refused")
    if checks.get("face_error"):
        face.append("no_reference_face")
    chip = [r for r in reasons if r in CHIP_REASONS]
    if code == "card_removed":
        chip.append("card_removed")
    ms = values.get("transaction_ms")
    ms = None if isinstance(ms, bool) else ms
    try:
        stages = stage_durations(values.get("stages") or {})
    except (TypeError, ValueError, AttributeError):  # stamps that are not times
        stages = []
    return Observed(
        _code(str(values.get("outcome")), OUTCOMES),
        ms / 1000.0 if isinstance(ms, int | float) else None,
        [(_code(s, STAGES), d) for s, d in stages],
        sorted(set(face)),
        sorted(set(chip)),
        code,
        device,
    )


class KioskMetrics(Collector):
    """The kiosk's collector: counts from the event log since start-up (Prometheus
    handles the reset of a restart), gauges read at each scrape.

    `pending`: the sync's outbox count is read here directly (no sync needed);
    `sync_ok`: whether the last sync cycle succeeded (None: no sync running);
    `age_h`: kiosk.lane.reference_data.reference_age_h bound to the store;
    `faults`: device name -> its standing fault (None when healthy)."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        clock: Clock,
        *,
        age_h: Callable[[datetime], float | None] | None = None,
        sync_ok: Callable[[], bool | None] | None = None,
        faults: Callable[[], Mapping[str, str | None]] | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.age_h = age_h
        self.sync_ok = sync_ok
        self.faults = faults
        self._lock = threading.Lock()
        self._mark = self._newest_seq()
        self._last_state: LaneState | None = None
        self.transactions = Counter(
            "egate_transactions", "Traveller transactions on record, by outcome",
            ["outcome"], registry=None,
        )  # fmt: skip
        self.transaction_seconds = Histogram(
            "egate_transaction_seconds",
            "Document on the reader to the decision (the event's transaction_ms)",
            buckets=STAGE_BUCKETS, registry=None,
        )  # fmt: skip
        self.stage_seconds = Histogram(
            "egate_stage_seconds", "Time in each lane state, from the event's state stamps",
            ["stage"], buckets=STAGE_BUCKETS, registry=None,
        )  # fmt: skip
        self.face_failures = Counter(
            "egate_face_failures", "Transactions whose face check failed, by reason",
            ["reason"], registry=None,
        )  # fmt: skip
        self.chip_failures = Counter(
            "egate_chip_failures", "Transactions whose chip or document check failed, by reason",
            ["reason"], registry=None,
        )  # fmt: skip
        self.errors = Counter(
            "egate_transaction_errors", "Transactions that took the error path, by code",
            ["code"], registry=None,
        )  # fmt: skip
        self.device_faults = Counter(
            "egate_device_faults", "Device faults that ended a transaction, by device",
            ["device"], registry=None,
        )  # fmt: skip
        self.officer_commands = Counter(
            "egate_officer_commands", "Officers' commands the lane recorded, by kind and result",
            ["command", "result"], registry=None,
        )  # fmt: skip
        self.gate_cycles = Counter(
            "egate_gate_cycles", "Gate openings for an admitted traveller", registry=None
        )
        self.unreadable = Counter(
            "egate_event_log_unreadable", "Events the metrics could not decode", registry=None
        )
        for outcome in sorted(OUTCOMES):  # present from the first scrape, at 0
            self.transactions.labels(outcome)

    # -- the lane's observer (gate cycles) ----------------------------------
    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        # The lane notifies ADMITTED only once the gate took the open command.
        if snapshot.state is LaneState.ADMITTED and self._last_state is not LaneState.ADMITTED:
            self.gate_cycles.inc()
        self._last_state = snapshot.state

    # -- the event log --------------------------------------------------------
    def _newest_seq(self) -> int:
        with self.engine.connect() as c:
            return int(c.scalar(select(func.max(TransactionEvent.seq))) or 0)

    def tail(self) -> int:
        """Count the events written since the last call; the number counted."""
        t = TransactionEvent.__table__
        counted = 0
        with self._lock:
            while True:
                with self.engine.connect() as c:
                    rows = c.execute(
                        select(t.c.seq, *text_columns(t))
                        .where(t.c.seq > self._mark)
                        .order_by(t.c.seq)
                        .limit(TAIL_BATCH)
                    ).all()
                for row in rows:
                    self._count(row)
                    self._mark = row.seq
                counted += len(rows)
                if len(rows) < TAIL_BATCH:
                    return counted

    def _count(self, row: Any) -> None:
        values = readable_values(row)
        if values is None:
            self.unreadable.inc()
            return
        seen = observe(values)
        if seen.error is not None:
            self.errors.labels(seen.error).inc()
        if seen.device is not None:
            self.device_faults.labels(seen.device).inc()
        if seen.command is not None:
            self.officer_commands.labels(*seen.command).inc()
        if seen.outcome is None:
            return
        self.transactions.labels(seen.outcome).inc()
        if seen.transaction_s is not None:
            self.transaction_seconds.observe(seen.transaction_s)
        for stage, seconds in seen.stages:
            self.stage_seconds.labels(stage).observe(seconds)
        for reason in seen.face_failures:
            self.face_failures.labels(reason).inc()
        for reason in seen.chip_failures:
            self.chip_failures.labels(reason).inc()

    # -- the scrape -------------------------------------------------------------
    def collect(self) -> Iterable[Metric]:
        try:
            self.tail()
            up = 1.0
        except SQLAlchemyError as exc:  # the figures stay as they were; the scrape says so
            log.warning("metrics: local event log unreadable: %s", exc)
            up = 0.0
        k = self.config.kiosk
        info = GaugeMetricFamily(
            "egate_kiosk_info", "This kiosk", labels=["kiosk_id", "port", "lane", "direction"]
        )
        info.add_metric([k.id, k.port, str(k.lane), k.direction], 1.0)
        yield info
        yield GaugeMetricFamily("egate_event_log_up", "The local event log answered", value=up)
        for metric in (
            self.transactions, self.transaction_seconds, self.stage_seconds,
            self.face_failures, self.chip_failures, self.errors, self.device_faults,
            self.officer_commands, self.gate_cycles, self.unreadable,
        ):  # fmt: skip
            yield from metric.collect()
        yield from self._gauges()

    def _gauges(self) -> Iterable[Metric]:
        now = as_utc(self.clock.now())
        try:
            backlog, oldest = self._outbox()
        except SQLAlchemyError as exc:
            log.warning("metrics: outbox unreadable: %s", exc)
        else:
            yield GaugeMetricFamily(
                "egate_sync_backlog_events", "Events in the outbox not yet at the border",
                value=backlog,
            )  # fmt: skip
            lag = 0.0 if oldest is None else max(0.0, (now - as_utc(oldest)).total_seconds())
            yield GaugeMetricFamily(
                "egate_sync_lag_seconds", "Age of the oldest event not yet at the border",
                value=lag,
            )  # fmt: skip
        if self.sync_ok is not None:
            ok = self.sync_ok()
            yield GaugeMetricFamily(
                "egate_sync_up", "The last sync cycle reached the border (0: failed or none)",
                value=1.0 if ok else 0.0,
            )  # fmt: skip
        if self.age_h is not None:
            try:
                age_h = self.age_h(now)
            except SQLAlchemyError as exc:
                log.warning("metrics: reference store unreadable: %s", exc)
            else:
                # Never synced: +Inf, so "older than the limit" holds (the lane refers).
                age = math.inf if age_h is None else age_h * 3600.0
                yield GaugeMetricFamily(
                    "egate_reference_data_age_seconds",
                    "Since the border last confirmed the reference data (+Inf: never)",
                    value=age,
                )  # fmt: skip
        yield GaugeMetricFamily(
            "egate_reference_data_max_age_seconds",
            "policy.reference_max_age_h: older reference data refers every traveller",
            value=self.config.policy.reference_max_age_h * 3600.0,
        )  # fmt: skip
        if self.faults is not None:
            faulted = GaugeMetricFamily(
                "egate_device_faulted", "1 while a device reports a fault", labels=["device"]
            )
            for device, fault in sorted(self.faults().items()):
                faulted.add_metric([_code(device, DEVICES)], 1.0 if fault else 0.0)
            yield faulted

    def _outbox(self) -> tuple[int, datetime | None]:
        o, e = OutboxEntry, TransactionEvent
        with self.engine.connect() as c:
            count, oldest = c.execute(
                select(func.count(), func.min(e.finished_at))
                .select_from(o)
                .join(e, e.event_id == o.event_id)
                .where(o.sent_at.is_(None))
            ).one()
        if isinstance(oldest, str):  # SQLite may hand the text back
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)  # stored as UTC (EventLog.append)
        return int(count or 0), oldest


class MetricsServer:
    """The /metrics endpoint on bind:port (0: a free port, for tests), one daemon thread."""

    def __init__(self, collector: Collector, bind: str, port: int) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self._httpd, self._thread = start_http_server(port, addr=bind, registry=self.registry)
        self.address: tuple[str, int] = self._httpd.server_address[:2]  # type: ignore[assignment]

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}/metrics"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5.0)


def serve(collector: Collector, bind: str, port: int, what: str) -> MetricsServer | None:
    """Start the endpoint; None when it cannot bind (logged): metrics never stop a lane."""
    try:
        server = MetricsServer(collector, bind, port)
    except OSError as exc:
        log.error("%s metrics endpoint on %s:%d did not start: %s", what, bind, port, exc)
        return None
    log.info("%s metrics on %s", what, server.url)
    return server


def sync_ok(sync: Callable[[], BorderSync | None]) -> bool:
    """The last cycle of the running sync reached the border (False: none yet)."""
    running = sync()
    last = running.last_result if running is not None else None
    return last is not None and last.error is None


def start_kiosk_metrics(
    config: Config,
    engine: Engine,
    reference: ReferenceStore,
    lane: Lane,
    clock: Clock,
    *,
    sync: Callable[[], BorderSync | None] = lambda: None,
    faults: Callable[[], Mapping[str, str | None]] | None = None,
) -> MetricsServer | None:
    """The kiosk's endpoint when metrics.port is set (the production kiosk and
    tests compose it the same way); None when off or not bound. `sync`: the
    background sync once there is one (the endpoint starts before the lane
    runs, so it counts the first traveller; the border link comes later)."""
    if config.metrics.port == 0:
        return None
    collector = KioskMetrics(
        config, engine, clock,
        age_h=partial(reference_age_h, reference), sync_ok=partial(sync_ok, sync), faults=faults,
    )  # fmt: skip
    lane.add_observer(collector)
    return serve(collector, config.metrics.bind, config.metrics.port, "kiosk")
