"""`egate simulate lane` through the console entry point, as QA runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.store.verify import verify_log
from ui.cli import main


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    cfg = tmp_path / "egate.toml"
    cfg.write_text(f'[storage]\nlocal_url = "sqlite:///{tmp_path}/local.sqlite"\n')
    status = main(["simulate", "lane", "--config", str(cfg), "--json", *args])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    return out


def test_simulated_lane_logs_every_traveller(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(tmp_path, capsys, "--travellers", "6", "--seed", "3", "--ui", "none")
    assert out["travellers"] == 6 and out["events_logged"] == 6
    assert out["admitted"] + out["referred"] == 6
    outcomes = out["outcomes"]
    assert isinstance(outcomes, list)
    # Each sample traveller ends as the rules say it must.
    assert all(o["outcome"] == {"admit": "admitted", "refer": "referred"}[o["expected"]]
               for o in outcomes)
    assert isinstance(out["median_transaction_ms"], float)
    assert out["p95_transaction_ms"] >= out["median_transaction_ms"]  # type: ignore[operator]
    log = EventLog(open_local(f"sqlite:///{tmp_path}/local.sqlite"))
    assert log.count() == 6 and verify_log(log.engine, log.sealer).valid


def test_same_seed_gives_same_mix(tmp_path: Path) -> None:
    from kiosk.simulation.simulated_kiosk import traveller_mix

    assert traveller_mix(12, 5) == traveller_mix(12, 5)
    assert traveller_mix(12, 5) != traveller_mix(12, 6)


def test_offscreen_ui_runs_the_real_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(tmp_path, capsys, "--travellers", "3", "--seed", "1", "--ui", "offscreen")
    assert out["events_logged"] == 3
    assert out["ui"] == "offscreen"
    shown = out["screens_shown"]
    assert isinstance(shown, list) and "capturing_face" in shown and "idle" in shown
    assert out["preview_frames_painted"] > 0  # type: ignore[operator]


def test_bad_traveller_count_is_a_json_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "lane", "--travellers", "0", "--json"])
    assert exc.value.code == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "bad_argument"


def test_real_gate_without_a_driver_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "egate.toml"
    cfg.write_text(f'[storage]\nlocal_url = "sqlite:///{tmp_path}/l.sqlite"\n'
                   '[devices]\ngate = "real"\n')
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "lane", "--config", str(cfg), "--json"])
    assert exc.value.code == 78
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "invalid_config" and "devices.gate" in error["message"]
