"""The clearance report a port publishes (issue 18 item 11) and the report's
hostile inputs and outputs (issue 19 item 6): the PDF's text read back with
pdftotext and checked against figures computed by hand below."""

from __future__ import annotations

import csv
import os
import shutil
import stat
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.models import BorderEvent
from kiosk.cli.main import main
from tests.supervisor.test_report import _chain, event

# T0 = 2026-03-01 08:00 UTC = 16:00 in Asia/Shanghai (UTC+8). Port CSX, period
# the local days 1 and 2 March. By hand:
#   travellers 8 (admitted 4, referred 4) -> self-service 50.0 %
#   local days: 03-01 has 5 travellers, 3 admitted (60.0 %); 03-02 has 3, 1 (33.3 %)
#   (events 5 and 6 are both on 1 March in UTC: only local days split them)
#   clearance sorted 3 4 5 6 7 8 9 10 s -> median 6.50, p90 (8th) 10.00
#   aborted 4: cancelled, timeout, document_left (walk-aways: 3), device_fault
#   officer admits 1; per local hour: 16:00 -> 4, 23:00 -> 1, 00:00 -> 3
#   reasons: face_mismatch 2, liveness_failed 1, "$\frac{$" 1, "a" 1, invalid 1
HOSTILE_REASON = "$\\frac{$"


def events() -> list[dict[str, Any]]:
    out = [
        event("K1", 1, "admitted", 4000),
        event("K1", 2, "admitted", 6000),
        event("K1", 3, "referred", 9000, reasons=("face_mismatch",)),
        event("K2", 4, "referred", 10000, lane=2, reasons=("face_mismatch", "liveness_failed")),
        event("K1", 450, "admitted", 5000),  # 15:30 UTC = 23:30 local, 1 March
        event("K1", 510, "admitted", 3000),  # 16:30 UTC = 00:30 local, 2 March
        event("K1", 520, "referred", 8000, reasons=(HOSTILE_REASON,)),
        event("K1", 530, "referred", 7000),
        event("K1", 5, "aborted", None),
        event("K1", 6, "aborted", None),
        event("K2", 515, "aborted", None, lane=2),
        event("K2", 516, "aborted", None, lane=2),
        event("K1", 7, "officer", None, decision="admit", checks={"result": "executed"}),
    ]
    out[7]["reasons"] = [1, "a"]  # a broken row: not text
    for e in out:
        e["error"] = None  # every row has the key: executemany takes the first row's keys
    for e, error in zip(out[8:12], ("cancelled: the traveller left",
                                    "timeout: no document was presented in time",
                                    "document_left: the passport was not taken back",
                                    "device_fault: camera: gone"), strict=True):
        e["error"] = error
    _chain(out)
    return out


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/border.sqlite"
    engine = create_border_engine(url)
    migrate_border(engine)
    with engine.begin() as c:
        c.execute(insert(BorderEvent.__table__), events())
    engine.dispose()
    return url


def report(url: str, fmt: str, out: Path, *extra: str) -> int:
    return main(["report", "--url", url, "--from", "2026-03-01", "--to", "2026-03-02",
                 "--tz", "Asia/Shanghai", "--port", "CSX", "--format", fmt, "--out", str(out),
                 *extra])


def pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext (poppler-utils) is missing: ./dev installs it")
    done = subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=60)
    return " ".join(done.stdout.split())


def test_the_pdf_states_period_port_zone_and_the_hand_computed_figures(
    url: str, tmp_path: Path
) -> None:
    out = tmp_path / "clearance.pdf"
    assert report(url, "pdf", out, "--group-by", "lane") == 0
    text = pdf_text(out)
    assert "2026-03-01 00:00 to 2026-03-03 00:00 (Asia/Shanghai, UTC+0800), port CSX" in text
    # Group, travellers, admitted, referred, officer admits, aborted, walk-aways,
    # self-service, median, p90.
    assert "All 8 4 4 1 4 3 50.0 % 6.50 10.00" in text
    assert "CSX lane 1 7 4 3 1 2 2 57.1 % 6.00 9.00" in text  # 3 4 5 6 7 8 9: p90 7th
    assert "CSX lane 2 1 0 1 0 2 1 0.0 % 10.00 10.00" in text
    assert "cancelled 1 yes" in text and "device_fault 1" in text
    assert "document_left 1 yes" in text and "timeout 1 yes" in text
    assert "2026-03-01 5 3 60.0 %" in text and "2026-03-02 3 1 33.3 %" in text
    for title in ("Travellers per hour (Asia/Shanghai)", "Clearance time per stage",
                  "Self-service ratio per day (Asia/Shanghai)", "Referral reasons"):
        assert title in text
    assert HOSTILE_REASON in text  # drawn literally, not as mathtext
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_csv_and_png_carry_the_same_figures(url: str, tmp_path: Path) -> None:
    out = tmp_path / "clearance.csv"
    assert report(url, "csv", out) == 0
    with out.open(newline="") as f:
        rows = {(g, m): v for g, m, v in list(csv.reader(f))[1:]}
    assert rows[("report", "time_zone")] == "Asia/Shanghai"
    assert rows[("report", "from")] == "2026-03-01T00:00:00+08:00"
    assert rows[("report", "port")] == "CSX"
    assert rows[("all", "travellers")] == "8" and rows[("all", "walk_aways")] == "3"
    assert rows[("all", "aborted_device_fault")] == "1"
    assert rows[("all", "clearance_overall_median_s")] == "6.5000"
    assert rows[("all", "clearance_overall_p90_s")] == "10.0000"
    assert rows[("all", "self_service_ratio_2026-03-01")] == "0.6000"
    assert rows[("all", "self_service_ratio_2026-03-02")] == "0.3333"
    assert rows[("all", "throughput_2026-03-01T16:00:00+08:00")] == "4"
    assert rows[("all", "throughput_2026-03-01T23:00:00+08:00")] == "1"
    assert rows[("all", "throughput_2026-03-02T00:00:00+08:00")] == "3"
    assert rows[("all", "referrals_face_mismatch")] == "2"
    assert rows[("all", "referrals_(invalid reason)")] == "1"
    assert rows[("all", f"referrals_{HOSTILE_REASON}")] == "1"
    png = tmp_path / "clearance.png"
    assert report(url, "png", png) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_formula_cells_are_quoted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/b.sqlite"
    engine = create_border_engine(url)
    migrate_border(engine)
    rows = [event("=HYPERLINK(\"http://x\")", 1, "admitted", 4000),
            event("@SUM(A1)", 2, "referred", 5000, reasons=("=cmd|' /C calc'!A0",))]
    _chain(rows)
    with engine.begin() as c:
        c.execute(insert(BorderEvent.__table__), rows)
    out = tmp_path / "r.csv"
    assert main(["report", "--url", url, "--from", "2026-03-01", "--to", "2026-03-01",
                 "--format", "csv", "--out", str(out), "--group-by", "kiosk"]) == 0
    with out.open(newline="") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'@SUM(A1)" in cells


def test_hostile_reasons_render_in_every_format(url: str, tmp_path: Path) -> None:
    """Reasons [1, "a"] and "$\\frac{$": exit 70 and a left rep.pdf.part on main."""
    for fmt in ("csv", "png", "pdf"):
        assert report(url, fmt, tmp_path / f"rep.{fmt}") == 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_station_statistics_take_broken_rows(url: str) -> None:
    from datetime import datetime

    from kiosk.supervisor.report import charts
    from kiosk.supervisor.station import load_statistics

    engine = create_border_engine(url)
    start = datetime.fromisoformat("2026-02-28T16:00:00+00:00")
    stats = load_statistics(engine, start, start + timedelta(days=2))
    assert stats.overall.reasons["(invalid reason)"] == 1
    charts(stats).savefig(os.devnull, format="png")  # what the station draws


def test_output_only_to_regular_files(url: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link.pdf"
    link.symlink_to("/etc/egate-not-here.pdf")
    for target, why in ((fifo, "FIFO"), (link, "symbolic link"), (Path("/dev/full"), "/dev")):
        with pytest.raises(SystemExit) as done:
            report(url, "pdf", target)
        assert done.value.code == 74
        assert why in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.path.islink(link)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
