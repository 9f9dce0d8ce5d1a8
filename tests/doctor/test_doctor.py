"""egate doctor: every check reports ok on a healthy kiosk and the right fault otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.simulated.pki import make_test_pki
from kiosk.config import Config, parse_config
from kiosk.runtime.doctor import Probes, run_checks
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore
from kiosk.trust.store import KIND_ANCHOR

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def real_config(tmp_path: Path, **devices: str) -> Config:
    return parse_config({
        "storage": {"local_url": f"sqlite:///{tmp_path}/local.sqlite"},
        "devices": {"reader": "real", "reader_name": "ACS", "camera": "real",
                    "gate": "real", "gate_port": "/dev/ttyGATE", "mrz_source": "real",
                    **devices},
    })  # fmt: skip


def healthy() -> Probes:
    return Probes(
        list_readers=lambda: ["ACS ACR1252 Dual Reader PICC 00 00"],
        camera_frame=lambda source, timeout: True,
        gate_status=lambda port, baud, timeout: "closed",
        serial_opens=lambda port, baud: None,
        face_models=lambda: None,
        disk_free=lambda path: 50 << 30,
        clock_synchronised=lambda: True,
        speech_voices=lambda: {"cmn-latn-pinyin", "en-gb", "ja", "ko", "ru"},
    )


def with_trust(config: Config, crl_days: int | None = None) -> None:
    store = ReferenceStore(open_local(config.storage.local_url))
    pki = make_test_pki("UTO")
    store.put(KIND_ANCHOR, "UTO", pki.csca_der(), "test")
    if crl_days is not None:
        store.put("crl", "UTO", pki.crl(now=NOW, next_update_days=crl_days), "test")


def by_name(results):  # type: ignore[no-untyped-def]
    return {r.check: r for r in results}


def test_a_healthy_kiosk_without_a_border_fails_only_there(tmp_path: Path) -> None:
    config = real_config(tmp_path)
    with_trust(config, 10)
    results = by_name(run_checks(config, healthy(), NOW))
    assert set(results) == {
        "config",
        "pcsc_reader",
        "camera",
        "mrz_source",
        "gate_controller",
        "face_models",
        "trust_store",
        "policy_pack",
        "border_database",
        "reference_pull",
        "disk_space",
        "clock",
        "speech",
    }
    not_ok = {k: r.status for k, r in results.items() if r.status != "ok"}
    # No PostgreSQL configured in this test: production cannot run (no stand-in).
    assert not_ok == {"border_database": "fail", "reference_pull": "fail"}
    assert all(r.fix is None for r in results.values() if r.status == "ok")


@pytest.mark.parametrize(
    ("check", "fault", "status"),
    [
        ("pcsc_reader", {"list_readers": lambda: []}, "fail"),
        (
            "pcsc_reader",
            {"list_readers": lambda: (_ for _ in ()).throw(OSError("no pcscd"))},
            "fail",
        ),
        ("camera", {"camera_frame": lambda s, t: False}, "fail"),
        ("mrz_source", {"camera_frame": lambda s, t: False}, "fail"),
        (
            "gate_controller",
            {"gate_status": lambda p, b, t: (_ for _ in ()).throw(TimeoutError("silent"))},
            "fail",
        ),
        ("gate_controller", {"gate_status": lambda p, b, t: "open"}, "warn"),
        (
            "face_models",
            {"face_models": lambda: (_ for _ in ()).throw(ImportError("dlib"))},
            "fail",
        ),
        ("disk_space", {"disk_free": lambda p: 50 << 20}, "fail"),
        ("disk_space", {"disk_free": lambda p: 1 << 30}, "warn"),
        ("clock", {"clock_synchronised": lambda: False}, "fail"),
        ("clock", {"clock_synchronised": lambda: None}, "warn"),
        ("speech", {"speech_voices": lambda: None}, "warn"),
        ("speech", {"speech_voices": lambda: {"en-gb", "ru"}}, "warn"),
    ],
)
def test_each_fault_is_reported_with_a_fix(tmp_path: Path, check: str, fault, status) -> None:  # type: ignore[no-untyped-def]
    config = real_config(tmp_path)
    with_trust(config, 10)
    probes = healthy()
    for attr, value in fault.items():
        setattr(probes, attr, value)
    result = by_name(run_checks(config, probes, NOW))[check]
    assert result.status == status, result
    assert result.fix


def test_serial_mrz_reader_port_is_checked(tmp_path: Path) -> None:
    config = real_config(tmp_path, mrz_device="serial", mrz_port="/dev/ttyMRZ")
    probes = healthy()

    def refuse(port: str, baud: int) -> None:
        raise OSError(f"could not open port {port}")

    probes.serial_opens = refuse
    result = by_name(run_checks(config, probes, NOW))["mrz_source"]
    assert result.status == "fail" and "/dev/ttyMRZ" in result.detail


def test_trust_store_empty_fails_and_stale_crl_warns(tmp_path: Path) -> None:
    config = real_config(tmp_path)
    assert by_name(run_checks(config, healthy(), NOW))["trust_store"].status == "fail"
    with_trust(config, -1)
    stale = by_name(run_checks(config, healthy(), NOW))["trust_store"]
    assert stale.status == "warn" and "next update" in stale.detail


def test_simulated_devices_are_warnings(tmp_path: Path) -> None:
    config = parse_config({"storage": {"local_url": f"sqlite:///{tmp_path}/local.sqlite"}})
    results = by_name(run_checks(config, healthy(), NOW))
    for check in ("pcsc_reader", "camera", "mrz_source", "gate_controller"):
        assert results[check].status == "warn"


def test_gate_probe_asks_the_controller_on_a_pty() -> None:
    pytest.importorskip("serial")
    from devices.gate.probe import controller_status
    from devices.simulated.gate_controller import GateControllerEmulator

    emulator, port = GateControllerEmulator.on_pty()
    emulator.start()
    try:
        assert controller_status(port, 9600, 2.0) == "closed"
        assert emulator.log == []  # a probe never moves the barrier
        emulator.mute = True
        with pytest.raises(Exception, match="no answer"):
            controller_status(port, 9600, 0.5)
    finally:
        emulator.stop()


def test_cli_exits_non_zero_on_a_fail(tmp_path: Path) -> None:
    """Run for real on this machine: reader and gate are configured but absent."""
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f"""
[devices]
reader = "real"
reader_name = "No Such Reader"
gate = "real"
gate_port = "{tmp_path}/no-such-tty"
[storage]
local_url = "sqlite:///{tmp_path}/local.sqlite"
""")
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "doctor", "--config", str(cfg), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    results = {r["check"]: r for r in json.loads(out.stdout)}
    assert results["gate_controller"]["status"] == "fail"
    assert results["pcsc_reader"]["status"] == "fail"
    assert results["trust_store"]["status"] == "fail"
    assert all(set(r) == {"check", "status", "detail", "fix"} for r in results.values())
