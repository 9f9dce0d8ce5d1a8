"""Fleet metrics (issue 23, item 5): a lane runs travellers, the /metrics endpoint
is scraped over HTTP, and every figure matches the transactions it ran."""

from __future__ import annotations

import math
import socket
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from devices.errors import CardRemovedError, ChipError, DeviceFault
from kiosk.clock import FakeClock
from kiosk.config import ConfigError, parse_config
from kiosk.lane.events import OfficerCommand
from kiosk.lane.states import LaneState
from kiosk.ports import AuthenticityResult
from kiosk.runtime.metrics import (
    CHIP_REASONS,
    COMMANDS,
    ERROR_CODES,
    FACE_OUTCOMES,
    STAGES,
    KioskMetrics,
    MetricsServer,
    observe,
    stage_durations,
    start_kiosk_metrics,
)
from kiosk.store.models import OutboxEntry
from kiosk.store.reference import ReferenceStore
from policy.codes import SENSITIVE_CODES
from tests.workflow.fakes import Rig, run_traveller

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(url: str) -> tuple[str, Samples]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def back_to_idle(rig: Rig) -> None:
    """Whatever the outcome, the traveller leaves and the lane returns to idle."""
    lane = rig.lane
    if lane.state is LaneState.ADMITTED:
        rig.gate.walk_through()
        lane.run_pending()
    if rig.reader.present:
        rig.reader.remove()
        lane.run_pending()
    for _ in range(4):
        if lane.state is LaneState.IDLE:
            return
        rig.clock.advance(max(lane.config.timeouts.error_display_s,
                              lane.config.timeouts.result_display_s) + 0.1)
        lane.run_pending()
    assert lane.state is LaneState.IDLE, lane.state


def run_mix(rig: Rig, admits: int) -> dict[str, int]:
    """`admits` admitted travellers and one of each failure; what was run."""
    for _ in range(admits):
        run_traveller(rig)
        back_to_idle(rig)
    rig.face.match = False  # face mismatch: referred
    run_traveller(rig)
    back_to_idle(rig)
    rig.face.match = True
    rig.auth.result = AuthenticityResult(False, "signature_invalid", {})  # forged: referred
    run_traveller(rig)
    back_to_idle(rig)
    rig.auth.result = AuthenticityResult(True, None, {"verdict": "valid"})
    rig.watch = True  # watchlist: referred, the code never in a label
    run_traveller(rig)
    back_to_idle(rig)
    rig.watch = False
    rig.reader.fail = ChipError("BAC refused")  # chip read failed: referred
    run_traveller(rig)
    back_to_idle(rig)
    rig.reader.fail = DeviceFault("reader unplugged")  # error path
    run_traveller(rig)
    back_to_idle(rig)
    rig.reader.fail = CardRemovedError("pulled")  # error path
    run_traveller(rig)
    back_to_idle(rig)
    rig.reader.fail = None
    rig.gate.fail_next_open = True  # admitted on record, the gate never opened
    run_traveller(rig)
    back_to_idle(rig)
    return {"admitted": admits + 1, "referred": 4, "aborted": 2, "gate_cycles": admits}


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path, metrics={"port": free_port()})


def test_scraped_metrics_match_the_transactions_the_lane_ran(rig: Rig) -> None:
    # An event from before the kiosk started is not this process's to count.
    run_traveller(rig)
    back_to_idle(rig)
    before, opened = len(rig.log.events()), rig.gate.opened_count
    server = start_kiosk_metrics(
        rig.lane.config, rig.log.engine, ReferenceStore(rig.log.engine), rig.lane, rig.clock
    )
    assert server is not None
    try:
        ran = run_mix(rig, admits=5)
        text, samples = scrape(server.url)
    finally:
        server.close()
    events = rig.log.events()[before:]
    travellers = [e for e in events if "follows_event" not in e.checks]
    assert len(travellers) == 5 + 1 + 4 + 2  # the mix, each on record once

    for outcome in ("admitted", "referred", "aborted"):
        assert value(samples, "egate_transactions_total", outcome=outcome) == ran[outcome]
        assert ran[outcome] == sum(e.outcome == outcome for e in travellers)
    assert value(samples, "egate_gate_cycles_total") == ran["gate_cycles"]
    assert ran["gate_cycles"] == rig.gate.opened_count - opened
    assert value(samples, "egate_face_failures_total", reason="mismatch") == 1
    for reason in ("chip_read_failed", "document_not_authentic", "card_removed"):
        assert value(samples, "egate_chip_failures_total", reason=reason) == 1
    assert value(samples, "egate_device_faults_total", device="reader") == 1
    assert value(samples, "egate_device_faults_total", device="gate") == 1
    assert value(samples, "egate_transaction_errors_total", code="card_removed") == 1

    # Stage histograms from the state stamps: the fake reader takes 0.2 s and the
    # fake face 0.5 s on the lane's clock, every time (a failed read too).
    reads = sum("reading_chip" in e.stages for e in travellers)
    assert reads == len(travellers)
    faces = sum("capturing_face" in e.stages and "deciding" in e.stages for e in travellers)
    assert value(samples, "egate_stage_seconds_count", stage="reading_chip") == reads
    assert value(samples, "egate_stage_seconds_sum", stage="reading_chip") == pytest.approx(
        0.2 * reads
    )
    assert value(samples, "egate_stage_seconds_count", stage="capturing_face") == faces
    assert value(samples, "egate_stage_seconds_sum", stage="capturing_face") == pytest.approx(
        0.5 * faces
    )
    timed = [e.transaction_ms for e in travellers if e.transaction_ms is not None]
    assert value(samples, "egate_transaction_seconds_count") == len(timed)
    assert value(samples, "egate_transaction_seconds_sum") == pytest.approx(sum(timed) / 1000)

    # Nothing was synced: every event of the log waits in the outbox; the lag is
    # the age of the oldest on the kiosk's clock.
    assert value(samples, "egate_sync_backlog_events") == len(rig.log.events())
    oldest = min(e.finished_at.replace(tzinfo=UTC) for e in rig.log.events())
    assert value(samples, "egate_sync_lag_seconds") == pytest.approx(
        (rig.clock.now() - oldest).total_seconds()
    )
    assert value(samples, "egate_sync_up") == 0  # no sync running
    assert value(samples, "egate_reference_data_age_seconds") == math.inf  # never synced

    # No traveller data and no code a traveller may not see, anywhere in the page.
    for secret in ("L898902C3", "ERIKSSON", "ANNA", "watchlist", "740812"):
        assert secret not in text


def test_counts_grow_between_scrapes_and_the_backlog_follows_the_outbox(rig: Rig) -> None:
    metrics = KioskMetrics(rig.lane.config, rig.log.engine, rig.clock)
    rig.lane.add_observer(metrics)
    server = MetricsServer(metrics, "127.0.0.1", 0)
    try:
        run_traveller(rig)
        back_to_idle(rig)
        _, first = scrape(server.url)
        run_traveller(rig)
        back_to_idle(rig)
        with rig.log.engine.begin() as c:
            c.execute(update(OutboxEntry).values(sent_at=datetime.now(UTC)))
        _, second = scrape(server.url)
    finally:
        server.close()
    assert value(first, "egate_transactions_total", outcome="admitted") == 1
    assert value(second, "egate_transactions_total", outcome="admitted") == 2  # counted once
    assert value(first, "egate_sync_backlog_events") == 1
    assert value(second, "egate_sync_backlog_events") == 0
    assert value(second, "egate_sync_lag_seconds") == 0


def test_reference_data_age_from_the_sync_heartbeat(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    store = ReferenceStore(rig.log.engine)
    store.put("border_sync", "last_pull", b"beat", "border:test")
    clock = FakeClock(datetime.now(UTC) + timedelta(hours=3))
    metrics = KioskMetrics(
        rig.lane.config, rig.log.engine, clock,
        age_h=lambda now: 3.0 if now == clock.now() else None,
    )  # fmt: skip
    samples = {s.name: s.value for m in metrics.collect() for s in m.samples}
    assert samples["egate_reference_data_age_seconds"] == pytest.approx(3 * 3600)
    assert samples["egate_reference_data_max_age_seconds"] == 24 * 3600


def test_metrics_off_by_default_and_a_taken_port_never_stops_the_lane(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    store = ReferenceStore(rig.log.engine)
    assert rig.lane.config.metrics.port == 0
    assert start_kiosk_metrics(rig.lane.config, rig.log.engine, store, rig.lane, rig.clock) is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = Rig(tmp_path / "busy", metrics={"port": port})
        assert start_kiosk_metrics(
            busy.lane.config, busy.log.engine, store, busy.lane, busy.clock
        ) is None
    run_traveller(busy)  # the lane runs on without its endpoint
    assert busy.lane.state is LaneState.ADMITTED


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"bind": "localhost; rm"}, "metrics.bind"),
        ({"port": 70000}, "metrics.port"),
        ({"port": 9464, "station_port": 9464}, "metrics.station_port"),
        ({"address": "0.0.0.0"}, "address"),
    ],
)
def test_bad_metrics_config_is_refused_by_name(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"metrics": section})


def test_labels_come_from_closed_vocabularies() -> None:
    seen = observe({
        "outcome": "ERIKSSON", "reasons": ["watchlist_hit", "chip_read_failed", "L898902C3"],
        "checks": {"face_outcome": "L898902C3"}, "error": "device_fault: L898902C3: x",
        "stages": {"L898902C3": "2026-03-01T02:30:00+00:00",
                   "deciding": "2026-03-01T02:30:01+00:00"},
        "transaction_ms": 10.0,
    })  # fmt: skip
    assert seen.outcome == "other"
    assert seen.chip_failures == ["chip_read_failed"]
    assert seen.face_failures == ["other"]
    assert seen.device == "other"
    assert seen.stages == [("other", 1.0)]
    labelled = CHIP_REASONS | FACE_OUTCOMES | ERROR_CODES | COMMANDS | STAGES
    assert not labelled & SENSITIVE_CODES  # no label value the traveller may not see


@pytest.mark.parametrize(
    "fields",
    [
        {"checks": ["not", "an", "object"]},
        {"stages": ["waiting_for_document"]},
        {"stages": {"reading_chip": "yesterday"}},
        {"stages": {"reading_chip": 12}},
        {"reasons": "chip_read_failed"},
        {"error": 42},
        {"transaction_ms": True},
    ],
)
def test_a_malformed_event_is_counted_without_breaking_the_scrape(
    fields: dict[str, Any],
) -> None:
    event = {"outcome": "referred", "reasons": [], "checks": {}, "stages": {},
             "error": None, "transaction_ms": None, **fields}  # fmt: skip
    seen = observe(event)
    assert seen.outcome == "referred"
    assert seen.chip_failures == [] and seen.transaction_s is None


def test_stage_durations_follow_the_stamps_in_time_order() -> None:
    stamps = {
        "waiting_for_document": "2026-03-01T02:30:00+00:00",
        "admitted": "2026-03-01T02:30:05+00:00",
        "returning_document": "2026-03-01T02:30:05+00:00",
        "reading_chip": "2026-03-01T02:30:01.500000+00:00",
        "deciding": "2026-03-01T02:30:04+00:00",
    }
    assert stage_durations(stamps) == [
        ("waiting_for_document", 1.5), ("reading_chip", 2.5), ("deciding", 1.0),
        ("admitted", 0.0),  # same instant: the record's order, not the alphabet's
    ]


def test_an_officer_s_command_is_counted_as_a_command_not_a_traveller(rig: Rig) -> None:
    metrics = KioskMetrics(rig.lane.config, rig.log.engine, rig.clock)
    rig.lane.add_observer(metrics)
    rig.face.match = False
    run_traveller(rig)  # referred
    tx = rig.lane.last_snapshot.transaction_id
    rig.lane.post(OfficerCommand(
        "c1", "refuse", rig.lane.config.kiosk.id, tx, "A1", "document_checked",
        authentication="verified",
    ))  # fmt: skip
    rig.lane.post(OfficerCommand(
        "c2", "admit", rig.lane.config.kiosk.id, "not-this-one", "A1", "document_checked",
        authentication="verified",
    ))  # fmt: skip
    rig.lane.run_pending()
    assert [e.outcome for e in rig.log.events()] == ["referred", "officer", "officer"]
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for m in metrics.collect() for s in m.samples
    }  # fmt: skip
    assert value(samples, "egate_transactions_total", outcome="referred") == 1
    assert value(samples, "egate_transactions_total", outcome="other") == 0
    assert value(samples, "egate_officer_commands_total", command="refuse", result="executed") == 1
    assert value(samples, "egate_officer_commands_total", command="admit", result="rejected") == 1
    assert value(samples, "egate_transaction_errors_total", code="other") == 0
    assert value(samples, "egate_gate_cycles_total") == 0
