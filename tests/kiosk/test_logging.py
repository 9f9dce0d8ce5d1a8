"""Logging: one JSON-lines set-up, and no traveller data in any line."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

from kiosk.runtime.logging_setup import configure_logging, redact
from kiosk.simulation.simulated_kiosk import traveller_mix

MRZ_LINE = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"


def test_redaction_masks_mrz_fields_and_images() -> None:
    assert MRZ_LINE not in redact(f"read {MRZ_LINE} from the page")
    assert "L898902C3" not in redact("document_number='L898902C3' refused")
    assert "L898902C3" not in redact('{"document_number": "L898902C3"}')
    assert "ERIKSSON" not in redact("surname=ERIKSSON")
    assert "<binary>" in redact("jpeg " + "QUJD" * 100)
    assert redact("lane 3 moved to capturing_face (reason face_mismatch)") == (
        "lane 3 moved to capturing_face (reason face_mismatch)"
    )


def test_lines_are_json_with_level_and_logger() -> None:
    stream = io.StringIO()
    handler = configure_logging("debug", stream)
    try:
        logging.getLogger("kiosk.test").warning("gate %s", "fault")
        try:
            raise ValueError(MRZ_LINE)
        except ValueError:
            logging.getLogger("kiosk.test").exception("boom")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "warning" and first["logger"] == "kiosk.test"
    assert first["message"] == "gate fault"
    assert second["exception"].startswith("ValueError: ")
    assert MRZ_LINE not in second["exception"] and MRZ_LINE not in second["traceback"]


def test_a_journey_at_debug_level_logs_no_traveller_data(tmp_path: Path) -> None:
    config = tmp_path / "debug.toml"
    config.write_text(
        f'[storage]\nlocal_url = "sqlite:///{tmp_path}/local.sqlite"\n[logging]\nlevel = "debug"\n'
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui.cli",
            "simulate",
            "lane",
            "--travellers",
            "3",
            "--seed",
            "2",
            "--ui",
            "none",
            "--json",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["travellers"] == 3
    # Every line is our JSON log, but for the command's own progress lines (ui/progress.py).
    lines = [line for line in out.stderr.splitlines()
             if line.strip() and not line.startswith("egate simulate lane [")]  # fmt: skip
    assert lines and all(json.loads(line)["level"] for line in lines)
    for t in traveller_mix(3, 2):
        for secret in (t.document_number, t.surname, t.given_names):
            assert secret not in out.stderr, secret
