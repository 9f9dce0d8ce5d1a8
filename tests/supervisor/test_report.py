"""Clearance statistics and the report against a hand-computed set of events."""

from __future__ import annotations

import csv
import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from kiosk.border.models import BorderEvent
from kiosk.cli.main import main
from kiosk.supervisor.report import csv_rows, write_report
from kiosk.supervisor.station import load_statistics
from kiosk.supervisor.stats import compute_statistics, median, p90
from tests.supervisor.conftest import StationBorder

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def event(
    kiosk: str,
    minute: float,
    outcome: str,
    ms: float | None,
    *,
    port: str = "CSX",
    lane: int = 1,
    reasons: tuple[str, ...] = (),
    chip_s: float = 2.0,
    face_s: float = 3.0,
    decision: str | None = None,
    checks: dict[str, Any] | None = None,
) -> dict[str, Any]:
    finished = T0 + timedelta(minutes=minute)
    start = finished - timedelta(seconds=chip_s + face_s + 1)
    stages = {
        "waiting_for_document": (start - timedelta(seconds=5)).isoformat(),
        "reading_chip": start.isoformat(),
        "capturing_face": (start + timedelta(seconds=chip_s)).isoformat(),
        "deciding": (start + timedelta(seconds=chip_s + face_s)).isoformat(),
    }
    return {
        "event_id": uuid.uuid4(),
        "kiosk_id": kiosk,
        "port": port,
        "lane": lane,
        "direction": "entry",
        "outcome": outcome,
        "decision": decision or ("admit" if outcome == "admitted" else "refer"),
        "basis": None,
        "reasons": list(reasons),
        "document": {},
        "checks": checks or {},
        "stages": stages if outcome != "officer" else {},
        "started_at": start,
        "finished_at": finished,
        "transaction_ms": ms,
        "chain_hash": "0" * 64,
    }


# 10 travellers and the rest, hand-counted:
#   08:xx  K1: admitted 4.0 s, 5.0 s, 6.0 s; referred (face_mismatch) 9.0 s
#          K2 (lane 2): admitted 3.0 s; referred (face_mismatch, liveness_failed) 10.0 s
#   09:xx  K1: admitted 4.0 s, 7.0 s; K3 at PEK: admitted 2.0 s, referred (watchlist_hit) 8.0 s
#   plus one aborted, one officer admit (executed), one event after the period.
EVENTS = [
    event("K1", 1, "admitted", 4000),
    event("K1", 2, "admitted", 5000),
    event("K1", 3, "admitted", 6000),
    event("K1", 4, "referred", 9000, reasons=("face_mismatch",)),
    event("K2", 5, "admitted", 3000, lane=2),
    event("K2", 6, "referred", 10000, lane=2, reasons=("face_mismatch", "liveness_failed")),
    event("K1", 61, "admitted", 4000),
    event("K1", 62, "admitted", 7000),
    event("K3", 63, "admitted", 2000, port="PEK"),
    event("K3", 64, "referred", 8000, port="PEK", reasons=("watchlist_hit",), chip_s=4.0),
    event("K1", 65, "aborted", None),
    event("K1", 66, "officer", None, decision="admit", checks={"result": "executed"}),
    event("K1", 130, "admitted", 1000),  # 10:10, outside [08:00, 10:00)
]


def _chain(events: list[dict[str, Any]]) -> None:
    """Each kiosk's events as its hash chain (the border refuses anything else)."""
    heads: dict[str, tuple[int, str]] = {}
    for e in events:
        seq, previous = heads.get(e["kiosk_id"], (0, "0" * 64))
        e["log_seq"], e["prev_hash"] = seq + 1, previous
        e["chain_hash"] = hashlib.sha256(f"{previous}{e['event_id']}".encode()).hexdigest()
        heads[e["kiosk_id"]] = (seq + 1, e["chain_hash"])


_chain(EVENTS)


def test_figures_match_the_hand_computed_ones() -> None:
    s = compute_statistics(EVENTS, T0, T0 + timedelta(hours=2), "port")
    o = s.overall
    assert (o.travellers, o.admitted, o.referred, o.aborted, o.officer_admitted) == (10, 7, 3, 1, 1)
    assert o.per_hour == {"2026-03-01T08:00:00+00:00": 6, "2026-03-01T09:00:00+00:00": 4}
    assert o.self_service_ratio == pytest.approx(0.7)
    # overall clearance sorted: 2 3 4 4 5 6 7 8 9 10 -> median (5+6)/2, p90 = 9th value
    overall = o.clearance()["overall"]
    assert (overall["median_s"], overall["p90_s"]) == (5.5, 9.0)
    # reading_chip lasts chip_s: nine at 2 s, one at 4 s -> median 2, p90 (9th) 2
    chip = o.clearance()["reading_chip"]
    assert (chip["median_s"], chip["p90_s"]) == (2.0, 2.0)
    assert o.clearance()["capturing_face"]["median_s"] == 3.0
    assert o.clearance()["deciding"]["median_s"] == 1.0  # to finished_at
    assert o.referral_rate() == {"face_mismatch": 0.2, "liveness_failed": 0.1, "watchlist_hit": 0.1}
    assert set(s.groups) == {"CSX", "PEK"}
    assert s.groups["PEK"].travellers == 2 and s.groups["PEK"].self_service_ratio == 0.5
    lanes = compute_statistics(EVENTS, T0, T0 + timedelta(hours=2), "lane").groups
    assert {k: g.travellers for k, g in lanes.items()} == {
        "CSX lane 1": 6,
        "CSX lane 2": 2,
        "PEK lane 1": 2,
    }
    kiosks = compute_statistics(EVENTS, T0, T0 + timedelta(hours=2), "kiosk").groups
    assert kiosks["K1"].clearance()["overall"]["median_s"] == 5.5  # 4 4 5 6 7 9


def test_percentiles_by_nearest_rank() -> None:
    assert p90([1.0]) == 1.0 and p90([]) is None and median([]) is None
    assert p90([float(v) for v in range(1, 11)]) == 9.0
    assert p90([float(v) for v in range(1, 12)]) == 10.0  # ceil(9.9) = 10th


def test_report_files_from_the_border_database(sborder: StationBorder, tmp_path: Path) -> None:
    with sborder.owner.begin() as c:
        c.execute(insert(BorderEvent.__table__), EVENTS)
    stats = load_statistics(sborder.station, T0, T0 + timedelta(hours=2), "kiosk")
    assert stats.overall.travellers == 10 and stats.overall.clearance()["overall"]["p90_s"] == 9.0
    rows = {(g, m): v for g, m, v in csv_rows(stats)[1:]}
    assert rows[("all", "self_service_ratio")] == "0.7000"
    assert rows[("K1", "clearance_overall_median_s")] == "5.5000"
    assert rows[("all", "referral_rate_face_mismatch")] == "0.2000"
    for fmt, magic in (("png", b"\x89PNG"), ("pdf", b"%PDF")):
        out = tmp_path / f"r.{fmt}"
        write_report(stats, fmt, out)
        assert out.read_bytes()[:4] == magic
    # The PDF a port publishes: a summary table page and a charts page.
    assert len(re.findall(rb"/Type\s*/Page(?!s)", (tmp_path / "r.pdf").read_bytes())) == 2


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/b.sqlite"
    from kiosk.border.database import create_border_engine, migrate_border

    engine = create_border_engine(url)
    migrate_border(engine)
    with engine.begin() as c:
        c.execute(insert(BorderEvent.__table__), EVENTS)
    out = tmp_path / "report.csv"
    assert (
        main(
            [
                "report",
                "--url",
                url,
                "--from",
                "2026-03-01T08:00:00+00:00",
                "--to",
                "2026-03-01T10:00:00Z",
                "--format",
                "csv",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with out.open() as f:
        rows = list(csv.reader(f))
    assert ["all", "travellers", "10"] in rows and ["PEK", "travellers", "2"] in rows
    pdf = tmp_path / "report.pdf"
    assert (
        main(
            [
                "report",
                "--url",
                url,
                "--from",
                "2026-03-01",
                "--to",
                "2026-03-01",
                "--format",
                "pdf",
                "--out",
                str(pdf),
                "--json",
            ]
        )
        == 0
    )
    assert pdf.read_bytes()[:4] == b"%PDF" and not pdf.with_name("report.pdf.part").exists()
    with pytest.raises(SystemExit) as bad:
        main(
            [
                "report",
                "--url",
                url,
                "--from",
                "2026-03-02",
                "--to",
                "2026-03-01",
                "--format",
                "csv",
                "--out",
                str(out),
            ]
        )
    assert bad.value.code == 2
    assert "--to must be after --from" in capsys.readouterr().err


def test_a_group_is_made_once_not_once_per_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every group holds a counter per hour of the period: made for each event (as
    setdefault's argument once was), a month's statistics spent most of its time there."""
    from kiosk.supervisor import stats

    made: list[int] = []

    class Counting(stats.GroupStats):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(stats, "GroupStats", Counting)
    s = compute_statistics(EVENTS * 20, T0, T0 + timedelta(hours=2), "port")
    assert set(s.groups) == {"CSX", "PEK"} and s.overall.travellers == 200
    assert len(made) == 3  # overall, CSX, PEK
